//! Decoding YAML nodes into the typed spec: each section's reader reports
//! every shape error (unknown keys with a did-you-mean, wrong types,
//! invalid names and values) and keeps what it can.

mod datasets;
mod kpis;
mod scalars;
mod targets;

#[cfg(feature = "eval")]
pub(crate) use scalars::parse_number;
use scalars::*;
pub use scalars::{is_valid_name, parse_change};

use std::path::Path;

use super::diagnostics as diag;
use super::keys::*;
use super::model::*;
use super::yaml::{Node, NodeKind};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::span::{Span, Spanned};
use crate::syntax::{self, Rebase, ScalarStyle};
use crate::time::Date;

/// The keys of a mapping, checked against the known ones.
pub(super) struct Fields<'n> {
    entries: Vec<(&'n str, Span, &'n Node)>,
    /// Known keys given under another tool's name (`file` for `source`).
    renamed: Vec<&'static str>,
    span: Span,
}

impl<'n> Fields<'n> {
    /// The keys written, whatever their values, and those written under
    /// another tool's name (reported there, as keys of invalid values are).
    pub(super) fn written(&self) -> crate::spec::model::WrittenKeys {
        let keys = self
            .entries
            .iter()
            .map(|(k, _, _)| *k)
            .chain(self.renamed.iter().copied());
        crate::spec::model::WrittenKeys(keys.map(str::to_string).collect())
    }

    pub(super) fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, _, v)| *v)
    }
}

pub(super) struct Reader<'a> {
    pub text: &'a str,
    pub base_dir: &'a Path,
    pub diags: &'a mut Diagnostics,
    /// Names of definitions left out where they were reported (`won:`
    /// with its keys beside it, not under it).
    pub left_out: Vec<String>,
}

impl Reader<'_> {
    fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// A required key of the mapping `f` that is missing, unless it was
    /// given under another tool's name (then said as that unknown key).
    fn missing_key(&mut self, f: &Fields, span: Span, key: &str, what: &str, example: &str) {
        if !f.renamed.contains(&key) {
            self.push(diag::missing_key(span, key, what, example));
        }
    }

    /// A mapping with known keys; unknown and repeated keys are reported.
    fn fields<'n>(&mut self, node: &'n Node, what: &str, known: &[&str]) -> Option<Fields<'n>> {
        let NodeKind::Map(entries) = &node.kind else {
            self.push(diag::wrong_type(
                node.span,
                &format!("a mapping for {what}"),
                node.describe(),
            ));
            return None;
        };
        let mut out: Vec<(&'n str, Span, &'n Node)> = Vec::new();
        let mut renamed = Vec::new();
        let split = self.numbers_split_by_commas(entries, "key");
        for ((k, v), split) in entries.iter().zip(split) {
            if split {
                continue;
            }
            let Some((key, _)) = k.as_scalar() else {
                self.push(diag::wrong_type(k.span, "a key", k.describe()));
                continue;
            };
            if let Some((_, first, _)) = out.iter().find(|(x, _, _)| *x == key) {
                self.push(diag::duplicate_key(k.span, *first, key));
                continue;
            }
            if !known.contains(&key) {
                let unknown = diag::unknown_key(k.span, key, what, known);
                let ours = other_tools_key(key, known);
                renamed.extend(ours);
                self.push(match (ours, typed_measure(entries)) {
                    // LookML's and Cube's `type: sum` beside `sql: amount`.
                    (Some("measure"), Some((how, what, measure))) => unknown.help(format!(
                        "other tools' `{how}` and `{what}` are one `measure` here: `measure: {measure}`"
                    )),
                    (Some(ours), _) => unknown.help(match key.ends_with('s') {
                        true => format!("other tools' `{key}` are `{ours}` here"),
                        false => format!("other tools' `{key}` is `{ours}` here"),
                    }),
                    // Compose files' extension keys, which hold anchors to share.
                    (None, _) if key.starts_with("x-") => unknown.help(
                        "a spec has no extension keys: to share settings, anchor them on a definition (`won: &base`) and merge them into others (`<<: *base`)",
                    ),
                    (None, _) => unknown,
                });
                continue;
            }
            out.push((key, k.span, v));
        }
        Some(Fields {
            entries: out,
            renamed,
            span: node.span,
        })
    }

    /// A `NAME: definition` mapping; names are validated. `keys`: those a
    /// definition holds, to tell a definition whose keys were written at
    /// its own level rather than under it.
    fn definitions<'n>(&mut self, node: &'n Node, what: &str, keys: &[&str]) -> Vec<(Name, &'n Node)> {
        if node.is_null() {
            return Vec::new();
        }
        let NodeKind::Map(entries) = &node.kind else {
            // `- name: won` as other tools list definitions: the name is the key here.
            let named = match &node.kind {
                NodeKind::Seq(items) => match items.first().map(|i| &i.kind) {
                    Some(NodeKind::Map(fields)) => fields
                        .iter()
                        .find(|(k, _)| k.as_scalar().is_some_and(|(k, _)| k == "name"))
                        .and_then(|(_, v)| v.as_scalar()),
                    _ => None,
                },
                _ => None,
            };
            let wrong = diag::wrong_type(
                node.span,
                &format!("a mapping of {what} names to definitions"),
                node.describe(),
            );
            self.push(match named {
                Some((name, _)) => wrong.help(format!(
                    "each {what} is named by its key, not by `name:`: write `{name}:` with the definition under it, as in `{name}: {{…}}`"
                )),
                None => wrong,
            });
            return Vec::new();
        };
        let mut out: Vec<(Name, &'n Node)> = Vec::new();
        let mut seen: std::collections::HashMap<&str, Span> = std::collections::HashMap::new();
        for (k, v) in entries {
            let Some((key, _)) = k.as_scalar() else {
                self.push(diag::wrong_type(k.span, &format!("a {what} name"), k.describe()));
                continue;
            };
            if let Some(first) = seen.get(key) {
                self.push(diag::duplicate_key(k.span, *first, key));
                continue;
            }
            seen.insert(key, k.span);
            if !is_valid_name(key) {
                self.push(diag::invalid_name(k.span, key));
            }
            out.push((Spanned::new(key.to_string(), k.span), v));
        }
        self.without_unindented(out, what, keys)
    }

    /// `won:` with nothing under it, then its own keys at its level
    /// (`dataset: d`, `measure: count()`), or a key of `won` after its
    /// others but not indented as they are (`where: …`): one error that
    /// says to indent them, where each key read as a definition of its own
    /// had its own error ("expected a mapping for KPI `dataset`"). Those
    /// entries are left out, and so is an empty `won`.
    fn without_unindented<'n>(
        &mut self,
        definitions: Vec<(Name, &'n Node)>,
        what: &str,
        keys: &[&str],
    ) -> Vec<(Name, &'n Node)> {
        let mut dropped = vec![false; definitions.len()];
        for (i, (name, node)) in definitions.iter().enumerate() {
            let empty = node.is_null();
            if !(empty || matches!(node.kind, NodeKind::Map(_))) || dropped[i] {
                continue;
            }
            let run: Vec<&Name> = definitions[i + 1..]
                .iter()
                .take_while(|(key, value)| {
                    keys.contains(&key.value.as_str()) && !matches!(value.kind, NodeKind::Map(_))
                })
                .map(|(key, _)| key)
                .collect();
            let Some(first) = run.first() else {
                continue;
            };
            let fields: Vec<&str> = run.iter().map(|k| k.value.as_str()).collect();
            self.push(diag::keys_not_indented(name, first.span, what, &fields, empty));
            dropped[i + 1..=i + run.len()].fill(true);
            // A definition with nothing under it is said here, not again.
            if empty {
                self.left_out.push(name.value.clone());
                dropped[i] = true;
            }
        }
        definitions
            .into_iter()
            .zip(dropped)
            .filter(|(_, dropped)| !dropped)
            .map(|(definition, _)| definition)
            .collect()
    }

    /// One file of the spec (`name`, as shown), read into `spec`.
    pub(super) fn file_root(
        &mut self,
        name: &str,
        root: &Node,
        spec: &mut Spec,
        calendar_span: &mut Option<Span>,
    ) {
        if let Some(d) = foreign_file(root, name) {
            self.push(d);
            return;
        }
        let Some(f) = self.fields(root, "a spec file", TOP_KEYS) else {
            return;
        };
        if let Some(v) = f.get("version") {
            let text = v.as_scalar().map(|(s, _)| s.to_string()).unwrap_or_default();
            if text != "1" {
                self.push(diag::unsupported_version(v.span, &text));
            }
        }
        if let Some(c) = f.get("calendar") {
            match calendar_span {
                Some(first) => self.push(diag::duplicate_calendar(c.span, *first)),
                None => {
                    *calendar_span = Some(c.span);
                    spec.calendar = self.calendar(c);
                }
            }
        }
        // The sections of definitions: every top-level key but these two.
        for &section in TOP_KEYS.iter().filter(|k| !matches!(**k, "version" | "calendar")) {
            if f.get(section)
                .is_some_and(|n| !n.is_null() && !matches!(n.kind, NodeKind::Map(_)))
            {
                spec.unreadable_sections.push(section);
            }
        }
        let mut unreadable = Vec::new();
        spec.connections.extend(self.section(
            &f,
            "connection",
            CONNECTION_KEYS,
            &mut unreadable,
            Self::connection,
        ));
        spec.datasets
            .extend(self.section(&f, "dataset", DATASET_KEYS, &mut unreadable, Self::dataset));
        spec.segments
            .extend(self.section(&f, "segment", SEGMENT_KEYS, &mut unreadable, Self::segment));
        spec.kpis
            .extend(self.section(&f, "KPI", KPI_KEYS, &mut unreadable, Self::kpi));
        spec.targets
            .extend(self.section(&f, "target", TARGET_KEYS, &mut unreadable, Self::target));
        spec.funnels
            .extend(self.section(&f, "funnel", FUNNEL_KEYS, &mut unreadable, Self::funnel));
        spec.tests
            .extend(self.section(&f, "test", TEST_KEYS, &mut unreadable, Self::test));
        spec.unreadable_definitions.extend(unreadable);
    }

    /// The definitions of one section of a file (`kpis`, named by what
    /// each is, `KPI`), each decoded by `decode`; the names of those that
    /// could not be read, reported where they are, go to `unreadable`.
    fn section<T>(
        &mut self,
        f: &Fields,
        what: &'static str,
        keys: &[&str],
        unreadable: &mut Vec<(&'static str, String)>,
        decode: impl Fn(&mut Self, Name, &Node) -> Option<T>,
    ) -> Vec<T> {
        let Some(n) = f.get(section_of(what)) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (name, def) in self.definitions(n, what, keys) {
            let named = name.value.clone();
            match decode(self, name, def) {
                Some(t) => out.push(t),
                None => unreadable.push((what, named)),
            }
        }
        unreadable.extend(self.left_out.drain(..).map(|name| (what, name)));
        out
    }
}

/// The top-level key of the definitions named by `what` (`KPI` → `kpis`).
fn section_of(what: &str) -> &'static str {
    match what {
        "connection" => "connections",
        "dataset" => "datasets",
        "segment" => "segments",
        "KPI" => "kpis",
        "target" => "targets",
        "funnel" => "funnels",
        _ => "tests",
    }
}

/// The key here that other semantic layers' and BI tools' name for it
/// means (MetricFlow's `metrics`, `semantic_models` and `filter`, Cube's
/// `cubes` and `sql_table`, LookML's `explores` and `label`), when that
/// key is one of `known`: the same word means another key elsewhere
/// (`target` is `targets` at the top and a target's `value`).
/// A file of the spec folder that is another tool's (a Compose file, a
/// CI workflow): none of its keys is a spec's, another semantic layer's
/// word for one or a misspelling of one, so it is said once as not a
/// spec file rather than once per key (`services` unknown, `version:
/// "3"` unsupported).
fn foreign_file(root: &Node, path: &str) -> Option<Diagnostic> {
    let NodeKind::Map(entries) = &root.kind else {
        return None;
    };
    let keys: Vec<(&str, Span)> = entries
        .iter()
        .filter_map(|(k, _)| k.as_scalar().map(|(key, _)| (key, k.span)))
        .collect();
    // A misspelt key (`kpsi`) is a spec's, to be told its spelling.
    let ours = |key: &str| {
        TOP_KEYS.contains(&key)
            || other_tools_key(key, TOP_KEYS).is_some()
            || crate::diagnostic::did_you_mean(key, TOP_KEYS.iter().copied()).is_some()
    };
    let first = keys.iter().find(|(key, _)| *key != "version")?;
    if keys.len() < entries.len() || keys.iter().any(|(key, _)| *key != "version" && ours(key)) {
        return None;
    }
    let names: Vec<&str> = keys.iter().map(|(key, _)| *key).collect();
    Some(diag::not_a_spec_file(first.1, path, &names))
}

/// The measure that other tools' `type: sum` and `sql: amount` (LookML,
/// Cube; MetricFlow's `agg` and `expr`) in one mapping say, with the two
/// keys: (`type`, `sql`, `sum(amount)`).
fn typed_measure(entries: &[(Node, Node)]) -> Option<(&str, &str, String)> {
    let value = |names: &[&str]| {
        entries.iter().find_map(|(k, v)| {
            let (key, _) = k.as_scalar()?;
            let (value, _) = v.as_scalar()?;
            names.contains(&key).then(|| (key, value.trim().to_string()))
        })
    };
    let (how, aggregate) = value(&["type", "agg", "aggregation"])?;
    let aggregate = match aggregate.to_ascii_lowercase().as_str() {
        "sum" => "sum",
        "count" => "count",
        "count_distinct" | "countd" | "distinct_count" => "count_distinct",
        "average" | "avg" | "mean" => "avg",
        "min" => "min",
        "max" => "max",
        "median" => "median",
        _ => return None,
    };
    let (what, column) = value(&["sql", "expr", "expression"])?;
    let column = column.strip_prefix("${TABLE}.").unwrap_or(&column);
    let measure = match (aggregate, column) {
        ("count", "" | "1" | "*") => "count()".to_string(),
        _ => format!("{aggregate}({column})"),
    };
    Some((how, what, measure))
}

fn other_tools_key(key: &str, known: &[&str]) -> Option<&'static str> {
    const OTHERS: &[(&[&str], &str)] = &[
        (&["metrics", "measures", "kpi", "metric"], "kpis"),
        (
            &[
                "semantic_models",
                "models",
                "cubes",
                "tables",
                "sources",
                "views",
                "explores",
                "dataset",
            ],
            "datasets",
        ),
        (&["filters", "segment"], "segments"),
        (&["goals", "objectives", "target"], "targets"),
        (&["filter", "condition", "sql_where"], "where"),
        (
            &[
                "formula",
                "expression",
                "expr",
                "calculation",
                "calc",
                "aggregation",
                "agg",
                "type_params",
                "sql",
                "type",
            ],
            "measure",
        ),
        (
            &["label", "name", "display_name", "caption", "friendly_name"],
            "title",
        ),
        (&["label", "step", "stage", "title"], "name"),
        (&["higher_is_better", "polarity", "better"], "direction"),
        (
            &[
                "time_column",
                "timestamp",
                "time_dimension",
                "agg_time_dimension",
                "date_column",
            ],
            "time",
        ),
        (
            &[
                "table",
                "file",
                "path",
                "sql_table",
                "sql_table_name",
                "url",
                "location",
            ],
            "source",
        ),
        (&["joins", "join", "relationships", "relations"], "lookups"),
        (&["dimension"], "dimensions"),
        (&["column", "fields", "schema", "types"], "columns"),
        (&["options", "csv", "csv_options", "read_options"], "read"),
        (&["target", "goal", "amount", "threshold_value"], "value"),
        (
            &[
                "deadline",
                "due",
                "due_date",
                "timeframe",
                "time_period",
                "date_range",
            ],
            "period",
        ),
        (
            &["frequency", "recurrence", "repeat", "cadence", "recurring"],
            "every",
        ),
        (&["threshold", "margin", "band"], "tolerance"),
        (&["metric", "measure"], "kpi"),
        (&["goal_description", "purpose", "why", "rationale"], "objective"),
        (&["type", "kind", "engine", "adapter"], "driver"),
        (&["url", "dsn", "connection_string", "host"], "uri"),
    ];
    let lower = key.to_ascii_lowercase();
    OTHERS
        .iter()
        .find(|(others, ours)| others.contains(&lower.as_str()) && known.contains(ours))
        .map(|(_, ours)| *ours)
}
