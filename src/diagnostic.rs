//! Diagnostics are data: built without source text, rendered at the edge
//! (see [`crate::report::diagnostics`]).

use crate::span::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A place in a file with a short message under it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
    /// The primary label points at what is wrong; others give context.
    pub primary: bool,
}

/// One finding about a spec or its data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable code, e.g. `kpi::unknown_column`. Documented in `docs/diagnostics.md`.
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub labels: Vec<Label>,
    pub help: Option<String>,
    /// For findings that have no place in a spec file (a missing path, an unreadable file).
    pub path: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            labels: Vec::new(),
            help: None,
            path: None,
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    /// The primary label: what is wrong.
    pub fn at(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            message: label.into(),
            primary: true,
        });
        self
    }

    /// A secondary label: context such as "first defined here".
    pub fn also(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            message: label.into(),
            primary: false,
        });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn with_path(mut self, path: impl Into<String>) -> Diagnostic {
        self.path = Some(path.into());
        self
    }

    /// The finding is about a command-line flag (`--by`, `--segment`), not
    /// a place in a spec: labels on names that came from the flag (they
    /// carry no span) are dropped and the flag is named instead.
    pub fn from_command_line(mut self, flag: &str) -> Diagnostic {
        self.labels.retain(|l| l.span != Span::default());
        self.path = Some(flag.to_string());
        self
    }

    pub fn primary_span(&self) -> Option<Span> {
        self.labels
            .iter()
            .find(|l| l.primary)
            .or(self.labels.first())
            .map(|l| l.span)
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Diagnostics collected across a stage; never stops at the first.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new() -> Diagnostics {
        Diagnostics::default()
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    pub fn extend(&mut self, ds: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(ds);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.items.len() - self.error_count()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.items.iter()
    }

    /// Sorted by file and position, duplicates removed.
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.items.sort_by(|a, b| {
            let ka = (a.primary_span(), a.path.as_deref());
            let kb = (b.primary_span(), b.path.as_deref());
            ka.cmp(&kb)
                .then(a.severity.cmp(&b.severity))
                .then(a.code.cmp(b.code))
        });
        self.items.dedup();
        self.items
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

/// Edit distance, for "did you mean" suggestions: Levenshtein's, with two
/// adjacent letters swapped counted as one edit.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows: two letters swapped (`kpsi` for `kpis`) are one edit,
    // as a typist makes them, not two.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 0..a.len() {
        cur[0] = i + 1;
        for j in 0..b.len() {
            let cost = usize::from(a[i] != b[j]);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            if i > 0 && j > 0 && a[i] == b[j - 1] && a[i - 1] == b[j] {
                cur[j + 1] = cur[j + 1].min(before[j - 1] + 1);
            }
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// A count as messages write it, its thousands grouped: `988,760,871`.
pub fn count(n: usize) -> String {
    grouped(&n.to_string())
}

/// `n` of `noun`, as messages write it: `1 row`, `2,345 rows`.
pub fn counted(n: u64, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        n => format!("{} {noun}s", grouped(&n.to_string())),
    }
}

/// Digits (or `inf`, `NaN`: ASCII, so cut anywhere) with a `,` between
/// each three from the right, as tables and messages write numbers.
pub fn grouped(int: &str) -> String {
    let mut out = String::with_capacity(int.len() + int.len() / 3);
    let head = match int.len() % 3 {
        0 => 3.min(int.len()),
        n => n,
    };
    out.push_str(&int[..head]);
    for group in int.as_bytes()[head..].chunks(3) {
        out.push(',');
        out.extend(group.iter().map(|&b| b as char));
    }
    out
}

/// The codes of the warnings docs/diagnostics.md documents: those
/// `kpi check --allow` takes.
pub fn warning_codes() -> Vec<&'static str> {
    let docs = include_str!("../docs/diagnostics.md");
    let mut out = Vec::new();
    let mut heading: Option<&str> = None;
    for line in docs.lines() {
        if let Some(code) = line.strip_prefix("## `").and_then(|l| l.strip_suffix('`')) {
            heading = Some(code);
        } else if line.starts_with("*warning.*") {
            out.extend(heading.take());
        } else if !line.trim().is_empty() {
            heading = None;
        }
    }
    out
}

/// The closest candidate, if it is close enough to be a likely typo: a few
/// edits away, one name a prefix of the other (`closed` for `closed_at`),
/// or the name with a letter or two left out (`amnt` for `amount`).
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    let lower = name.to_lowercase();
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .filter_map(|c| {
            let cl = c.to_lowercase();
            let d = edit_distance(&lower, &cl);
            let prefix =
                lower.len() >= 3 && cl.len() >= 3 && (cl.starts_with(&lower) || lower.starts_with(&cl));
            let letters_left_out = lower.len() >= 3 && d <= 2 && is_subsequence(&lower, &cl);
            (d <= limit || prefix || letters_left_out).then_some((d, c))
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Whether `name` is one slip of the keyboard from another of `names`: a
/// letter added, left out or changed, two swapped, or another case
/// (`amout`, `ammount`, `Amount` for `amount`). Without data, a name a
/// dataset's `columns:` leave out may be a column of its file: only such a
/// slip of a declared name is taken for a typo of it, while one further
/// off (`closed` beside `closed_at`, `lead_id` beside `deal_id`) may be a
/// column the declarations leave out, for the data to say.
pub fn is_slip_of<'a>(name: &str, names: impl IntoIterator<Item = &'a str>) -> bool {
    let lower = name.to_lowercase();
    lower.chars().count() >= 3
        && names
            .into_iter()
            .any(|c| c != name && edit_distance(&lower, &c.to_lowercase()) <= 1)
}

/// Whether `short`'s letters are all in `long`, in order.
fn is_subsequence(short: &str, long: &str) -> bool {
    let mut rest = long.chars();
    short.chars().all(|c| rest.any(|l| l == c))
}

/// `help` text for a near miss, or a fallback listing what exists.
pub fn suggestion<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str> + Clone,
    what: &str,
) -> String {
    if let Some(c) = did_you_mean(name, candidates.clone()) {
        return format!("did you mean `{c}`?");
    }
    let mut all: Vec<&str> = candidates.into_iter().collect();
    all.sort_unstable();
    all.dedup();
    if all.is_empty() {
        return format!("no {what} is defined here");
    }
    let shown: Vec<String> = all.iter().take(12).map(|c| format!("`{c}`")).collect();
    let more = if all.len() > 12 { ", …" } else { "" };
    // "KPI or funnel" → "KPIs or funnels".
    let plural: Vec<String> = what.split(" or ").map(|w| format!("{w}s")).collect();
    format!("known {}: {}{more}", plural.join(" or "), shown.join(", "))
}

#[cfg(test)]
mod tests {
    use super::{did_you_mean, edit_distance, is_slip_of, warning_codes};

    /// By hand: a swap of two neighbours is one edit; other edits as
    /// Levenshtein counts them.
    #[test]
    fn a_swap_of_two_letters_is_one_edit() {
        for (a, b, d) in [
            ("kpsi", "kpis", 1),
            ("amuont", "amount", 1),
            ("ab", "ba", 1),
            ("abc", "cab", 2),
            ("kitten", "sitting", 3),
            ("", "abc", 3),
            ("owner", "owner", 0),
            ("ca", "abc", 3),
        ] {
            assert_eq!(edit_distance(a, b), d, "{a} → {b}");
            assert_eq!(edit_distance(b, a), d, "{b} → {a}");
        }
        assert_eq!(did_you_mean("kpsi", ["kpis", "tests"]), Some("kpis"));
    }

    /// A name with a letter or two left out is a near miss; three, or a
    /// name of two letters, is not.
    #[test]
    fn a_name_missing_a_letter_or_two_is_suggested() {
        assert_eq!(did_you_mean("amnt", ["amount", "stage"]), Some("amount"));
        assert_eq!(did_you_mean("amt", ["amount"]), None);
        assert_eq!(did_you_mean("stg", ["stage"]), Some("stage"));
        assert_eq!(did_you_mean("am", ["amount"]), None);
    }

    /// One slip of the keyboard from a name is a typo of it; a name
    /// further off, one of two letters, or the name itself is not.
    #[test]
    fn a_slip_is_one_edit_from_a_name() {
        for slip in ["amout", "ammount", "amuont", "amoumt", "Amount"] {
            assert!(is_slip_of(slip, ["stage", "amount"]), "{slip}");
        }
        for other in ["closed", "lead_id", "amt", "amount_usd", "id", "amount"] {
            assert!(
                !is_slip_of(other, ["amount", "closed_at", "deal_id", "ix"]),
                "{other}"
            );
        }
    }

    /// The documented warnings, which `kpi check --allow` takes: warnings only.
    #[test]
    fn the_documented_warnings_are_warnings_only() {
        let codes = warning_codes();
        for w in [
            "kpi::lookup_unmatched",
            "kpi::undeclared_column",
            "kpi::percent_times_100",
            "kpi::empty_rows",
        ] {
            assert!(codes.contains(&w), "{w}");
        }
        for e in ["kpi::unknown_column", "kpi::yaml_syntax", "kpi::smart"] {
            assert!(!codes.contains(&e), "{e}");
        }
        assert!(codes.len() > 30, "{}", codes.len());
    }
}
