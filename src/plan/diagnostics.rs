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
