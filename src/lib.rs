//! `kpi`: a declarative, typed KPI definition language for sales data.
//!
//! | stage   | module      | does                                                        |
//! |---------|-------------|-------------------------------------------------------------|
//! | load    | [`spec`]    | YAML files → typed spec with spans                          |
//! | parse   | [`syntax`]  | expression text → AST (grammar in `grammar/kpi.pest`)       |
//! | check   | [`check`]   | names, types, levels, additivity, KPI graph, SMART targets |
//! | plan    | [`plan`]    | a query → units: one scan and one group-by per dataset and time basis |
//! | execute | `execute`   | an engine runs the units (`execute::engine`, Polars over files via `compile` and `data`); the spine, stocks, derived KPIs, windows, nesting, `--compare` and funnels are shared |
//! | report  | [`report`]  | diagnostics for people, JSON, GitHub, SARIF; result tables; output files |
//!
//! Everything the command line does is a function here; [`check_path`] runs
//! the front half in one call, [`check_path_with`] reads the data's schemas
//! too, as commands that evaluate do.

pub mod check;
#[cfg(feature = "eval")]
pub mod compile;
#[cfg(feature = "eval")]
mod cores;
#[cfg(feature = "eval")]
pub mod data;
pub mod diagnostic;
pub mod diff;
#[cfg(feature = "eval")]
pub mod execute;
pub mod generate;
pub mod keyword;
pub mod panics;
pub mod period;
pub mod plan;
pub mod report;
pub mod source;
pub mod span;
pub mod spec;
#[cfg(feature = "eval")]
pub mod spec_test;
pub mod sql;
#[cfg(feature = "eval")]
pub mod status;
pub mod syntax;
#[cfg(test)]
mod testing;
pub mod time;

use std::path::Path;

use diagnostic::Diagnostic;
use source::SourceMap;

/// Drops Polars' own warnings, which it prints on stderr in its words
/// (`UserWarning: '(default_)region' not set; polars will try to get it
/// from bucket` when an `s3://` source names no region): they speak of
/// Polars, not of the spec or its data; what matters of them reaches the
/// user as kpi's diagnostics.
pub fn quiet_engine_warnings() {
    #[cfg(feature = "eval")]
    polars_core::error::set_warning_function(|_, _| {});
}

/// Codes for a spec that cannot be read at all (exit code 2).
pub const UNREADABLE: &[&str] = &[
    "kpi::spec_not_found",
    "kpi::unreadable_file",
    "kpi::binary_file",
    "kpi::not_utf8",
];

/// Everything `kpi check` learns about a spec.
#[derive(Debug)]
pub struct CheckOutcome {
    pub spec: spec::Spec,
    pub sources: SourceMap,
    pub checked: check::Checked,
    /// Sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
    /// Why sources could not be read when their schemas were read for a
    /// command that evaluates: such a dataset has its declared columns
    /// only, and these say why when a name it may hold is asked for.
    pub unread: Vec<Diagnostic>,
}

impl CheckOutcome {
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }

    /// 0 clean or warnings only, 1 errors (or warnings when denied), 2 unreadable spec.
    /// Leaves out the warnings of `codes` (`kpi::lookup_unmatched`): what a
    /// team has looked at and accepts, so that `--deny-warnings` still
    /// stops on any other. Errors are never left out.
    pub fn allow(&mut self, codes: &[&str]) {
        self.diagnostics
            .retain(|d| d.is_error() || !codes.contains(&d.code));
    }

    pub fn exit_code(&self, deny_warnings: bool) -> u8 {
        if self.diagnostics.iter().any(|d| UNREADABLE.contains(&d.code)) {
            2
        } else if self.errors() > 0 || (deny_warnings && self.warnings() > 0) {
            1
        } else {
            0
        }
    }

    /// The diagnostics as `--format json` prints them, followed by one
    /// `kpi::smart` entry per target carrying its S/M/A/R/T verdict.
    pub fn to_json(&self) -> String {
        let mut items: Vec<serde_json::Value> = self
            .diagnostics
            .iter()
            .filter_map(|d| serde_json::to_value(report::diagnostics::locate(d, &self.sources)).ok())
            .collect();
        for (t, v) in self.spec.targets.iter().zip(&self.checked.targets) {
            let mark = |b: Option<bool>| match b {
                Some(true) => "✓",
                Some(false) => "✗",
                None => "–",
            };
            let d = Diagnostic::warning("kpi::smart", "").at(t.name.span, "");
            let Ok(mut value) = serde_json::to_value(report::diagnostics::locate(&d, &self.sources)) else {
                continue;
            };
            value["severity"] = "info".into();
            value["message"] = format!(
                "target `{}`: S {} M {} A {} R {} T {}",
                v.target,
                mark(Some(v.specific)),
                mark(Some(v.measurable)),
                mark(v.achievable),
                mark(Some(v.relevant)),
                mark(Some(v.time_bound))
            )
            .into();
            value["smart"] = serde_json::to_value(v).unwrap_or_default();
            items.push(value);
        }
        serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".into())
    }

    pub fn summary(&self) -> String {
        let (e, w) = (self.errors(), self.warnings());
        let plural = |n: usize, s: &str| format!("{n} {s}{}", if n == 1 { "" } else { "s" });
        if e + w == 0 {
            let funnels = match self.spec.funnels.len() {
                0 => String::new(),
                n => format!(", {}", plural(n, "funnel")),
            };
            format!(
                "ok: {}, {}, {}, {}{funnels}",
                plural(self.spec.kpis.len(), "KPI"),
                plural(self.spec.datasets.len(), "dataset"),
                plural(self.spec.segments.len(), "segment"),
                plural(self.spec.targets.len(), "target")
            )
        } else {
            format!("{}, {}", plural(e, "error"), plural(w, "warning"))
        }
    }
}

/// How much of the data a check reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataAccess {
    /// None: the spec alone (`kpi check`).
    None,
    /// Each source's schema (Parquet metadata, CSV header and inference),
    /// so that datasets without `columns:` are known before a query is
    /// checked. A source that cannot be read stays open: evaluation reports
    /// it if a query reads it. This is what commands that evaluate use.
    Schemas,
    /// Schemas, declared types against every value, non-finite numbers,
    /// lookup keys and target achievability (`kpi check --data`).
    Full,
}

/// Loads and checks the spec at `path` (file or folder). With `data`, each
/// dataset's source is read for its schema and validated.
pub fn check_path(path: &Path, data: bool) -> CheckOutcome {
    let access = if data { DataAccess::Full } else { DataAccess::None };
    check_loaded_with(spec::load(path), access)
}

/// Loads and checks the spec at `path`, reading as much data as `access` says.
pub fn check_path_with(path: &Path, access: DataAccess) -> CheckOutcome {
    check_loaded_with(spec::load(path), access)
}

/// Checks an already loaded spec.
pub fn check_loaded(loaded: spec::Loaded, data: bool) -> CheckOutcome {
    let access = if data { DataAccess::Full } else { DataAccess::None };
    check_loaded_with(loaded, access)
}

/// Checks an already loaded spec, reading as much data as `access` says.
pub fn check_loaded_with(loaded: spec::Loaded, access: DataAccess) -> CheckOutcome {
    let spec::Loaded {
        spec,
        sources,
        mut diagnostics,
    } = loaded;
    let mut unread = Vec::new();
    let checked = match access {
        DataAccess::None => check::check(&spec, None),
        // A spec that does not load has nothing worth reading.
        _ if diagnostics.has_errors() => check::check(&spec, None),
        DataAccess::Schemas => check_with_schemas(&spec, &mut diagnostics, &mut unread),
        DataAccess::Full => check_with_data(&spec, &mut diagnostics),
    };
    // A name of a section or a definition that could not be read is no
    // finding of its own: the definition's error says what is wrong. The
    // checker knows the name only as missing, so it is matched by the
    // message every unknown name has ("no KPI is named `won`").
    let unreadable = |d: &diagnostic::Diagnostic| {
        let (what, section) = match d.code {
            "kpi::unknown_connection" => ("connection", "connections"),
            "kpi::unknown_dataset" => ("dataset", "datasets"),
            "kpi::unknown_segment" => ("segment", "segments"),
            "kpi::unknown_kpi" => ("KPI", "kpis"),
            _ => return false,
        };
        spec.unreadable_sections.contains(&section)
            || spec
                .unreadable_definitions
                .iter()
                .any(|(w, name)| *w == what && d.message == format!("no {what} is named `{name}`"))
    };
    diagnostics.extend(checked.diagnostics.iter().filter(|d| !unreadable(d)).cloned());
    CheckOutcome {
        spec,
        sources,
        checked,
        diagnostics: diagnostics.into_sorted(),
        unread,
    }
}

#[cfg(feature = "eval")]
fn check_with_schemas(
    spec: &spec::Spec,
    diagnostics: &mut diagnostic::Diagnostics,
    unread: &mut Vec<Diagnostic>,
) -> check::Checked {
    let mut read = data::readable_schemas(spec);
    diagnostics.extend(read.notes);
    let (remote, why, contradicted) = data::remote_schemas(spec, false);
    diagnostics.extend(contradicted);
    read.schemas.extend(remote);
    unread.extend(read.unread);
    unread.extend(why);
    check::check(spec, Some(&read.schemas))
}

#[cfg(feature = "eval")]
fn check_with_data(spec: &spec::Spec, diagnostics: &mut diagnostic::Diagnostics) -> check::Checked {
    let (mut schemas, found) = data::schemas(spec);
    diagnostics.extend(found);
    let (remote, found, contradicted) = data::remote_schemas(spec, true);
    schemas.extend(remote);
    diagnostics.extend(found);
    diagnostics.extend(contradicted);
    let mut checked = check::check(spec, Some(&schemas));
    diagnostics.extend(data::validate_lookups(&checked.model));
    diagnostics.extend(data::remote_non_finite(&checked.model));
    if checked.diagnostics.has_errors() || diagnostics.has_errors() {
        return checked;
    }
    diagnostics.extend(data::texts_not_in_data(&checked.model));
    diagnostics.extend(data::reversed_intervals(&checked.model));
    diagnostics.extend(execute::unmatched_lookup_keys(&checked.model));
    // A is judged only against data: achievable unless warned otherwise,
    // unknown where the data has no history to judge by.
    let a = status::achievability(&checked.model);
    for v in &mut checked.targets {
        let warned = a
            .found
            .iter()
            .any(|(t, d)| *t == v.target && d.code == "kpi::target_not_achievable");
        v.achievable = a.judged.contains(&v.target).then_some(!warned);
    }
    diagnostics.extend(a.found.into_iter().map(|(_, d)| d));
    checked
}

#[cfg(not(feature = "eval"))]
fn check_with_schemas(
    spec: &spec::Spec,
    _: &mut diagnostic::Diagnostics,
    _: &mut Vec<Diagnostic>,
) -> check::Checked {
    check::check(spec, None)
}

#[cfg(not(feature = "eval"))]
fn check_with_data(spec: &spec::Spec, diagnostics: &mut diagnostic::Diagnostics) -> check::Checked {
    diagnostics.push(
        Diagnostic::error("kpi::no_evaluation", "this build of kpi cannot read data")
            .help("build with the default `eval` feature to use --data"),
    );
    check::check(spec, None)
}
