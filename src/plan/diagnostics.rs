//! Diagnostics of a query.

use crate::check::ir::Model;
use crate::spec::model::Grain;

use super::{Plan, UnitTime};
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

/// KPIs without a time column asked for periods.
pub fn no_time_column(model: &Model, plan: &Plan) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for u in &plan.units {
        if u.time == UnitTime::None && (plan.query.grain != Grain::All || plan.query.range.is_some()) {
            for o in &u.outputs {
                let k = &model.kpis[o.kpi];
                out.push(
                    Diagnostic::error("kpi::no_time_column", format!("KPI `{}` has no time column, so it has no periods", k.name))
                        .at(k.span, "no `time` here or on its dataset")
                        .help("give the KPI or its dataset a `time:` column, or evaluate it with `--grain all` and no range"),
                );
            }
        }
    }
    out
}

/// Periods asked of a KPI with no time column beneath it (the reason it is left out).
pub fn timeless(kpi: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::no_time_column",
        format!("`{kpi}` has no time column beneath it, so it has no periods"),
    )
    .with_path("--grain")
    .help("give the KPI or its dataset a `time:` column, or evaluate it with `--grain all` and no range")
}
