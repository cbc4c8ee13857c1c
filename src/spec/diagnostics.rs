//! Diagnostics of loading: files, YAML shape, keys and names.

use crate::diagnostic::{suggestion, Diagnostic};
use crate::span::{Span, Spanned};

/// `near`: a spec file or folder beside the path, named as it nearly is
/// (`kpis.yaml` where the default `kpis` folder was looked for).
pub fn spec_not_found(path: &str, near: Option<&str>) -> Diagnostic {
    let help = match near {
        Some(near) => format!("there is `{near}`: pass it with --spec {near}"),
        None => {
            "pass a spec file or folder with --spec, set KPI_SPEC, or run where ./kpis exists".to_string()
        }
    };
    Diagnostic::error("kpi::spec_not_found", format!("spec `{path}` does not exist"))
        .with_path(path)
        .help(help)
}

pub fn unreadable_file(path: &str, error: &str) -> Diagnostic {
    Diagnostic::error("kpi::unreadable_file", format!("cannot read `{path}`: {error}"))
        .with_path(path)
        .help("check that the file exists and is readable")
}

pub fn binary_file(path: &str) -> Diagnostic {
    Diagnostic::error("kpi::binary_file", format!("`{path}` is a binary file, not YAML"))
        .with_path(path)
        .help("remove it from the spec folder or give it another extension")
}

pub fn not_utf8(span: Span) -> Diagnostic {
    Diagnostic::error("kpi::not_utf8", "file is not valid UTF-8")
        .at(span, "invalid byte here")
        .help("save the file as UTF-8")
}

pub fn empty_file(path: &str) -> Diagnostic {
    Diagnostic::warning("kpi::empty_file", format!("`{path}` defines nothing"))
        .with_path(path)
        .help("add definitions or delete the file")
}

pub fn empty_spec(path: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::empty_spec",
        format!("spec `{path}` defines no KPIs and no funnels"),
    )
    .with_path(path)
    .help("a spec needs at least one entry under `kpis:` or `funnels:`")
}

pub fn wrong_type(span: Span, expected: &str, found: &str) -> Diagnostic {
    Diagnostic::error("kpi::wrong_type", format!("expected {expected}, found {found}"))
        .at(span, format!("expected {expected}"))
        .help(format!("write {expected} here"))
}

/// `won:` followed by its own `fields` written at its level, the first at
/// `first`: with nothing under it (`empty`), or after keys that are.
pub fn keys_not_indented(
    name: &Spanned<String>,
    first: Span,
    what: &str,
    fields: &[&str],
    empty: bool,
) -> Diagnostic {
    let listed = |suffix: &str| {
        let all: Vec<String> = fields.iter().map(|f| format!("`{f}{suffix}`")).collect();
        match all.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => String::new(),
        }
    };
    let (verb, them, belongs) = match fields.len() {
        1 => ("is", "it", "the definition it belongs to"),
        _ => ("are", "them", "the definition they belong to"),
    };
    let (message, label, help) = match empty {
        true => (
            format!(
                "{what} `{}` has nothing under it: {} after it {verb} written beside it, not under it",
                name.value,
                listed("")
            ),
            "nothing under this name",
            format!(
                "indent {} under `{}:` (two spaces more than its name), or write {them} in braces: `{}: {{…}}`",
                listed(":"),
                name.value,
                name.value
            ),
        ),
        false => (
            format!(
                "{} after {what} `{}` {verb} written beside it, not under it",
                listed(""),
                name.value
            ),
            belongs,
            format!("indent {} under `{}:` as its other keys are", listed(":"), name.value),
        ),
    };
    Diagnostic::error("kpi::wrong_type", message)
        .at(first, format!("read as a {what} of its own"))
        .also(name.span, label)
        .help(help)
}

pub fn unknown_key(span: Span, key: &str, what: &str, known: &[&str]) -> Diagnostic {
    Diagnostic::error("kpi::unknown_key", format!("unknown key `{key}` in {what}"))
        .at(span, "unknown key")
        .help(suggestion(key, known.iter().copied(), "key"))
}

/// A YAML file of the spec whose keys (`keys`, the first at `span`) are
/// all another tool's: its unknown keys, said once, as a file that is no
/// spec's.
pub fn not_a_spec_file(span: Span, path: &str, keys: &[&str]) -> Diagnostic {
    let mut shown: Vec<String> = keys.iter().take(4).map(|k| format!("`{k}`")).collect();
    if keys.len() > 4 {
        shown.push("…".to_string());
    }
    Diagnostic::error(
        "kpi::unknown_key",
        format!(
            "unknown keys in a spec file: none of the keys of `{path}` ({}) is a spec's, so it is no spec file",
            shown.join(", ")
        ),
    )
    .at(span, "not a key of a spec")
    .help("kpi reads every .yaml and .yml file of a spec folder (hidden folders aside): give the spec a folder of its own (`kpis/`) and point --spec at it, or move this file out of the spec's folder")
}

pub fn duplicate_key(span: Span, first: Span, key: &str) -> Diagnostic {
    Diagnostic::error("kpi::duplicate_key", format!("key `{key}` is given twice"))
        .at(span, "given again here")
        .also(first, "first given here")
        .help("remove one of them")
}

pub fn missing_key(span: Span, key: &str, what: &str, example: &str) -> Diagnostic {
    Diagnostic::error("kpi::missing_key", format!("{what} has no `{key}`"))
        .at(span, format!("`{key}` is required"))
        .help(format!("add `{key}`, e.g. `{example}`"))
}

pub fn invalid_name(span: Span, name: &str) -> Diagnostic {
    let rule = "names are lower case: a letter, then letters, digits or `_`";
    Diagnostic::error("kpi::invalid_name", format!("`{name}` is not a valid name"))
        .at(span, "invalid name")
        .help(match snake_case(name) {
            Some(named) => format!("{rule}: `{named}`"),
            None => format!("{rule} (e.g. `win_rate`)"),
        })
}

/// `name` written as a name: `WinRate`, `win-rate` and `Win Rate` are
/// `win_rate`; none for a name that does not start with a letter.
pub(crate) fn snake_case(name: &str) -> Option<String> {
    let mut out = String::new();
    let mut last: Option<char> = None;
    for c in name.chars() {
        if c.is_ascii_uppercase() && last.is_some_and(|l| l.is_ascii_lowercase() || l.is_ascii_digit()) {
            out.push('_');
        }
        match c {
            c if c.is_ascii_alphanumeric() => out.push(c.to_ascii_lowercase()),
            _ if !out.is_empty() && !out.ends_with('_') => out.push('_'),
            _ => {}
        }
        last = Some(c);
    }
    let out = out.trim_end_matches('_').to_string();
    out.starts_with(|c: char| c.is_ascii_lowercase()).then_some(out)
}

pub fn duplicate_name(span: Span, first: Span, what: &str, name: &str) -> Diagnostic {
    Diagnostic::error("kpi::duplicate_name", format!("{what} `{name}` is defined twice"))
        .at(span, "defined again here")
        .also(first, "first defined here")
        .help(format!("rename or remove one of the two {what}s"))
}

/// A target with a recurrence (`every`) and another time (`other`: a fixed
/// period, or a second recurrence written as the period).
pub fn period_conflict(every: Span, other: (Span, &str), help: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::target_period_conflict",
        "a target has either `period` or `every`, not both",
    )
    .at(every, "recurrence")
    .also(other.0, other.1)
    .help(help)
}

pub fn kpi_and_funnel(funnel: Span, kpi: Span, name: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::duplicate_name",
        format!("`{name}` names both a KPI and a funnel"),
    )
    .at(funnel, "the funnel")
    .also(kpi, "the KPI")
    .help("rename one of them: `kpi eval` and `kpi report` take KPIs and funnels by name")
}

pub fn invalid_value(span: Span, value: &str, what: &str, allowed: &[&str]) -> Diagnostic {
    let help = match crate::diagnostic::did_you_mean(value, allowed.iter().copied()) {
        Some(c) => format!("did you mean `{c}`? expected one of: {}", allowed.join(", ")),
        None => format!("expected one of: {}", allowed.join(", ")),
    };
    Diagnostic::error("kpi::invalid_value", format!("`{value}` is not a valid {what}"))
        .at(span, format!("unknown {what}"))
        .help(help)
}

/// `what` with its article: "a number", "a tolerance such as 10%".
pub fn invalid_number(span: Span, value: &str, what: &str) -> Diagnostic {
    Diagnostic::error("kpi::invalid_number", format!("`{value}` is not {what}"))
        .at(span, format!("expected {what}"))
        .help(match in_full(value) {
            Some(full) => format!("write it in full: `{full}` (`_` may group the digits)"),
            None => format!("write {what} here"),
        })
}

/// A number written as a spreadsheet or a report shows it (`1.2M`,
/// `500k`, `$1,200`, `1,250,000.50`), written in full with `_` between
/// thousands; `None` for a value that is none of those.
fn in_full(value: &str) -> Option<String> {
    let v = value.trim();
    let (minus, v) = match v.strip_prefix('-') {
        Some(rest) => ("-", rest.trim_start()),
        None => ("", v),
    };
    let unsigned = v.trim_start_matches(['$', '€', '£', '¥']).trim();
    let currency = unsigned.len() != v.len();
    let (minus, unsigned) = match unsigned.strip_prefix('-') {
        Some(rest) if minus.is_empty() => ("-", rest),
        _ => (minus, unsigned),
    };
    let (digits, times) = match unsigned.char_indices().last()? {
        (i, 'k' | 'K') => (&unsigned[..i], 1e3),
        (i, 'm' | 'M') => (&unsigned[..i], 1e6),
        (i, 'b' | 'B') => (&unsigned[..i], 1e9),
        _ => (unsigned, 1.0),
    };
    let (whole, fraction) = digits.trim().split_once('.').unwrap_or((digits.trim(), ""));
    let groups: Vec<&str> = whole.split(',').collect();
    let grouped_by_three =
        groups.len() > 1 && (1..=3).contains(&groups[0].len()) && groups[1..].iter().all(|g| g.len() == 3);
    if !(currency || times != 1.0 || grouped_by_three) || (groups.len() > 1 && !grouped_by_three) {
        return None;
    }
    let plain = format!("{}.{fraction}", groups.concat());
    if !plain.bytes().all(|b| b.is_ascii_digit() || b == b'.') || plain == "." {
        return None;
    }
    let n = plain.parse::<f64>().ok().filter(|n| n.is_finite())? * times;
    if n >= 1e15 {
        return None;
    }
    let text = match times == 1.0 {
        true => plain.trim_end_matches('.').to_string(),
        false if n.fract() == 0.0 => format!("{}", n as u64),
        false => return None,
    };
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut out = crate::diagnostic::grouped(int).replace(',', "_");
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    Some(format!("{minus}{out}"))
}

/// A plain YAML value written as a number with `,` between thousands
/// (`2,000`, `-1,234.50`): YAML reads it as a text. The number as YAML
/// reads it (`2_000`), `None` for any other text.
pub fn thousands_written(text: &str) -> Option<String> {
    let plain_digits = text
        .trim_start_matches('-')
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b',' || b == b'.');
    in_full(text).filter(|_| text.contains(',') && plain_digits)
}

/// A test row's value written with `,` between thousands, read as a text.
pub fn number_with_separators(span: Span, text: &str, number: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::invalid_number",
        format!("`{text}` is a text to YAML, not a number: it has no thousands separators"),
    )
    .at(span, "a text")
    .help(format!(
        "write the number as `{number}` (`_` may group the digits); quote it, `\"{text}\"`, if the column holds texts"
    ))
}

/// `{amount: 1,000}`: in braces, the number `1` and a `what` (a column,
/// a key) `000`.
pub fn number_split_by_comma(span: Span, written: &str, what: &str) -> Diagnostic {
    let plain = written.replace(char::is_whitespace, "");
    let number = thousands_written(&plain).unwrap_or_else(|| plain.replace(',', ""));
    let (first, rest) = written.split_once(',').unwrap_or((written, ""));
    let columns: Vec<String> = rest.split(',').map(|d| format!("`{}`", d.trim())).collect();
    let (named, them) = match columns.len() {
        1 => (format!("a {what}"), "it"),
        _ => (format!("{what}s"), "them"),
    };
    Diagnostic::error(
        "kpi::invalid_number",
        format!(
            "`{written}` in braces is the number `{}`, then {named} {} with no value: YAML splits {them} at the comma",
            first.trim(),
            columns.join(", ")
        ),
    )
    .at(span, "YAML splits this at its commas")
    .help(format!("write the number without commas: `{number}` (`_` may group the digits)"))
}

pub fn unsupported_version(span: Span, value: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::unsupported_version",
        format!("spec version `{value}` is not supported"),
    )
    .at(span, "unsupported version")
    .help("this tool reads version 1; write `version: 1` or leave it out")
}

pub fn duplicate_calendar(span: Span, first: Span) -> Diagnostic {
    Diagnostic::error("kpi::duplicate_calendar", "a spec has at most one `calendar`")
        .at(span, "second calendar")
        .also(first, "first calendar")
        .help("keep one `calendar:` section across all files of the spec")
}

pub fn invalid_change(span: Span, value: &str) -> Diagnostic {
    let forms = r#"a relative change "+15%", a percentage-point change "+5pp", or an absolute change "-2""#;
    let v = value.trim();
    // `15%`, `5pp`, `0.15`: a change without its sign, which says whether
    // the KPI is to rise or fall.
    let help = match v.starts_with(|c: char| c.is_ascii_digit()) {
        true => {
            let fraction = v
                .parse::<f64>()
                .ok()
                .filter(|f| *f > 0.0 && *f < 1.0)
                .map(|f| (f * 1e11).round() / 1e9)
                .map(|pct| format!(r#"; a rise of {pct}% is "+{pct}%""#))
                .unwrap_or_default();
            format!(r#"a change says its direction: "+{v}" to rise, "-{v}" to fall{fraction}"#)
        }
        false => format!("write {forms}"),
    };
    Diagnostic::error("kpi::invalid_change", format!("`{value}` is not a valid change"))
        .at(span, "expected a signed change")
        .help(help)
}

pub fn invalid_date(span: Span, value: &str) -> Diagnostic {
    let meant = crate::time::meant_date_help(value)
        .map(|m| format!("{m} "))
        .unwrap_or_default();
    Diagnostic::error("kpi::invalid_date", format!("`{value}` is not a valid date"))
        .at(span, "expected YYYY-MM-DD")
        .help(format!("{meant}write dates as YYYY-MM-DD, e.g. 2025-07-01"))
}

pub fn invalid_currency(span: Span, found: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::invalid_currency",
        format!("`{found}` cannot be a currency symbol: it would take a digit, a space, a sign or a number's separators with it"),
    )
    .at(span, "not a currency symbol")
    .help("write the symbol alone, quoted: `currency: \"$\"`, `currency: \"€\"`, `currency: \"USD\"`")
}

pub fn invalid_thousands(span: Span, found: &str, decimal_mark: char) -> Diagnostic {
    Diagnostic::error(
        "kpi::invalid_thousands",
        format!("`{found}` cannot stand between thousands: one character is, other than a digit, a sign or the decimal mark `{decimal_mark}`"),
    )
    .at(span, "one character expected")
    .help("write it quoted: `thousands: \",\"` for `1,234.50`, or `\".\"` with `decimal_comma: true` for `1.234,50`")
}

pub fn invalid_delimiter(span: Span, found: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::invalid_delimiter",
        format!("`{found}` is not a delimiter: a delimiter is one character"),
    )
    .at(span, "one character expected")
    .help("write it quoted: `delimiter: \";\"`, or `\"\\t\"` for a tab")
}

#[cfg(test)]
mod tests {
    use super::{in_full, snake_case, thousands_written};

    #[test]
    fn names_of_other_styles_are_written_as_names() {
        assert_eq!(snake_case("WinRate").as_deref(), Some("win_rate"));
        assert_eq!(snake_case("win-rate").as_deref(), Some("win_rate"));
        assert_eq!(snake_case("Win Rate (%)").as_deref(), Some("win_rate"));
        assert_eq!(snake_case("ARR").as_deref(), Some("arr"));
        assert_eq!(snake_case("q3Revenue").as_deref(), Some("q3_revenue"));
        assert_eq!(snake_case("__x").as_deref(), Some("x"));
        // No letter first: no name to offer.
        assert_eq!(snake_case("2x"), None);
        assert_eq!(snake_case("%"), None);
        assert_eq!(snake_case("é"), None);
    }

    #[test]
    fn spreadsheet_suffixes_are_written_in_full() {
        assert_eq!(in_full("1.2M").as_deref(), Some("1_200_000"));
        assert_eq!(in_full("500k").as_deref(), Some("500_000"));
        assert_eq!(in_full("-2B").as_deref(), Some("-2_000_000_000"));
        assert_eq!(in_full("999").as_deref(), None);
        // Not a whole number once written in full, or no number at all.
        assert_eq!(in_full("1.2345k"), None);
        assert_eq!(in_full("M"), None);
        assert_eq!(in_full("$1,200").as_deref(), Some("1_200"));
        assert_eq!(in_full("-$1,250,000.50").as_deref(), Some("-1_250_000.50"));
        assert_eq!(in_full("€ 1.5M").as_deref(), Some("1_500_000"));
        assert_eq!(in_full("$-40").as_deref(), Some("-40"));
        assert_eq!(in_full("12,5"), None);
        assert_eq!(in_full("1,2345"), None);
        assert_eq!(in_full("$"), None);
        assert_eq!(in_full("$abc"), None);
        assert_eq!(in_full("1,000.5.5"), None);
    }

    #[test]
    fn numbers_with_thousands_separators_are_told_apart_from_texts() {
        assert_eq!(thousands_written("2,000").as_deref(), Some("2_000"));
        assert_eq!(thousands_written("-1,234.50").as_deref(), Some("-1_234.50"));
        assert_eq!(thousands_written("2000"), None);
        assert_eq!(thousands_written("$2,000"), None);
        assert_eq!(thousands_written("2,000k"), None);
        assert_eq!(thousands_written("12,5"), None);
        assert_eq!(thousands_written("a,b"), None);
        assert_eq!(in_full("twoM"), None);
    }
}
