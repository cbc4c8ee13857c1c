//! Diagnostics of evaluation.

use crate::check::ir::Model;
use crate::diagnostic::Diagnostic;
use crate::plan::{Plan, UnitTime};
use crate::spec::model::Grain;

pub fn evaluation_error(message: &str) -> Diagnostic {
    let first = message.lines().next().unwrap_or(message);
    Diagnostic::error("kpi::evaluation_error", format!("evaluation failed: {first}"))
        .help("run `kpi check --data` to find problems in the data; this may also be a bug in kpi")
}

pub fn compare_needs_periods() -> Diagnostic {
    Diagnostic::error(
        "kpi::compare_needs_periods",
        "`--compare` needs periods to compare, but the query has no grain and no range",
    )
    .help("add `--grain month` (or another grain), or a range such as `--period 2025-Q1`")
}

/// KPIs without a time column asked for periods.
pub fn unsupported(model: &Model, plan: &Plan) -> Vec<Diagnostic> {
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

/// A value beyond ±1.8e308: a sum of huge values, or a product of them. It is
/// shown as null, so it is said, never left silent. `rows` 0: an aggregate
/// part beneath the KPI overflowed.
pub fn overflow(kpi: &str, rows: u64) -> Diagnostic {
    let message = match rows {
        0 => format!("an aggregate beneath KPI `{kpi}` overflowed (beyond ±1.8e308) and is shown as null"),
        1 => format!("KPI `{kpi}` overflowed (beyond ±1.8e308) in 1 row; it is shown as null"),
        n => format!("KPI `{kpi}` overflowed (beyond ±1.8e308) in {n} rows; they are shown as null"),
    };
    Diagnostic::warning("kpi::overflow", message)
        .help("the data holds numbers too large to add up; check their unit (cents, a stray exponent)")
}
