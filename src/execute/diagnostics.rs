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

/// A KPI value that is not a finite number: an aggregate beyond ±1.8e308
/// (a sum of huge values), a product of huge values, or a row function
/// without a value (`sqrt` of a negative number). It is shown as null, and
/// said, never left silent.
pub fn overflow(kpi: &str, rows: u64) -> Diagnostic {
    let rows = if rows == 1 {
        "1 row".to_string()
    } else {
        format!("{rows} rows")
    };
    Diagnostic::warning(
        "kpi::overflow",
        format!("KPI `{kpi}` is not a finite number in {rows} (an overflow beyond ±1.8e308, or a row function with no value such as the root of a negative number); shown as null"),
    )
    .help("check the data's unit (cents, a stray exponent) and the KPI's row functions")
}
