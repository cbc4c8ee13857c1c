//! Diagnostics of evaluation.

use crate::check::ir::{KpiKind, Model, TExpr, TKind};
use crate::diagnostic::Diagnostic;
use crate::plan::{Plan, UnitTime};
use crate::spec::model::Grain;

pub fn evaluation_error(message: &str) -> Diagnostic {
    let first = message.lines().next().unwrap_or(message);
    Diagnostic::error("kpi::evaluation_error", format!("evaluation failed: {first}"))
        .help("run `kpi check --data` to find problems in the data; this may also be a bug in kpi")
}

fn not_yet(e: &TExpr, what: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::not_supported",
        format!("{what} cannot be evaluated by this version of kpi yet"),
    )
    .at(e.span, "not evaluated yet")
    .help("`kpi check` accepts it; evaluation will follow in a later version")
}

fn find(e: &TExpr, out: &mut Vec<Diagnostic>) {
    match &e.kind {
        TKind::Agg { per, func, .. } if !per.is_empty() => {
            out.push(not_yet(
                e,
                &format!("nested aggregation `{}(… per …)`", func.name()),
            ));
            return;
        }
        TKind::Time { func, .. } if func.reaggregates() => {
            out.push(not_yet(e, &format!("`{}`", func.name())));
            return;
        }
        _ => {}
    }
    e.for_each_child(|c| find(c, out));
}

/// What this version cannot evaluate, and KPIs without a time column asked for periods.
pub fn unsupported(model: &Model, plan: &Plan) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut kpis: Vec<usize> = plan.derived.clone();
    for u in &plan.units {
        kpis.extend(u.outputs.iter().map(|o| o.kpi));
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
    for k in kpis {
        match &model.kpis[k].kind {
            KpiKind::Base { measure, .. } | KpiKind::Derived { measure } => find(measure, &mut out),
        }
    }
    out
}
