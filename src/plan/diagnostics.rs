//! Diagnostics of a query.

use crate::check::ir::Model;
use crate::diagnostic::{suggestion, Diagnostic};

pub fn unknown_kpi(name: &str, model: &Model) -> Diagnostic {
    Diagnostic::error("kpi::unknown_kpi", format!("no KPI is named `{name}`")).help(suggestion(
        name,
        model.kpis.iter().map(|k| k.name.as_str()),
        "KPI",
    ))
}

/// A KPI left out of an evaluation of every KPI, with the reason.
pub fn left_out(kpi: &str, why: &Diagnostic) -> Diagnostic {
    let flag = why.path.as_deref().unwrap_or("the query");
    Diagnostic::warning("kpi::left_out", format!("`{kpi}` is left out: {}", why.message))
        .with_path(flag)
        .help(format!(
            "name KPIs to evaluate only those; `{kpi}` cannot take {flag} as given"
        ))
}
