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
    span: Span,
}

impl<'n> Fields<'n> {
    /// The keys written, whatever their values.
    pub(super) fn written(&self) -> crate::spec::model::WrittenKeys {
        crate::spec::model::WrittenKeys(self.entries.iter().map(|(k, _, _)| k.to_string()).collect())
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
}

impl Reader<'_> {
    fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
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
        for (k, v) in entries {
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
                self.push(match other_tools_key(key, known) {
                    Some(ours) => unknown.help(format!("other tools' `{key}` are `{ours}` here")),
                    None => unknown,
                });
                continue;
            }
            out.push((key, k.span, v));
        }
        Some(Fields {
            entries: out,
            span: node.span,
        })
    }

    /// A `NAME: definition` mapping; names are validated.
    fn definitions<'n>(&mut self, node: &'n Node, what: &str) -> Vec<(Name, &'n Node)> {
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
        out
    }

    pub(super) fn file_root(&mut self, root: &Node, spec: &mut Spec, calendar_span: &mut Option<Span>) {
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
        if let Some(n) = f.get("connections") {
            for (name, def) in self.definitions(n, "connection") {
                if let Some(c) = self.connection(name, def) {
                    spec.connections.push(c);
                }
            }
        }
        if let Some(n) = f.get("datasets") {
            for (name, def) in self.definitions(n, "dataset") {
                if let Some(d) = self.dataset(name, def) {
                    spec.datasets.push(d);
                }
            }
        }
        if let Some(n) = f.get("segments") {
            for (name, def) in self.definitions(n, "segment") {
                if let Some(s) = self.segment(name, def) {
                    spec.segments.push(s);
                }
            }
        }
        if let Some(n) = f.get("kpis") {
            for (name, def) in self.definitions(n, "KPI") {
                if let Some(k) = self.kpi(name, def) {
                    spec.kpis.push(k);
                }
            }
        }
        if let Some(n) = f.get("targets") {
            for (name, def) in self.definitions(n, "target") {
                if let Some(t) = self.target(name, def) {
                    spec.targets.push(t);
                }
            }
        }
        if let Some(n) = f.get("funnels") {
            for (name, def) in self.definitions(n, "funnel") {
                if let Some(x) = self.funnel(name, def) {
                    spec.funnels.push(x);
                }
            }
        }
        if let Some(n) = f.get("tests") {
            for (name, def) in self.definitions(n, "test") {
                if let Some(t) = self.test(name, def) {
                    spec.tests.push(t);
                }
            }
        }
    }
}

/// The key of a spec file that other semantic layers' name for it means
/// (MetricFlow's `metrics` and `semantic_models`, Cube's `cubes`, LookML's
/// `explores`), when that key is one of `known` here.
fn other_tools_key(key: &str, known: &[&str]) -> Option<&'static str> {
    let ours = match key.to_ascii_lowercase().as_str() {
        "metrics" | "measures" | "kpi" | "metric" => "kpis",
        "semantic_models" | "models" | "cubes" | "tables" | "sources" | "views" | "explores" | "dataset" => {
            "datasets"
        }
        "filters" | "segment" => "segments",
        "goals" | "objectives" | "target" => "targets",
        _ => return None,
    };
    known.contains(&ours).then_some(ours)
}
