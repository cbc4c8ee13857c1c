//! `kpi explain`: the Polars plan of each unit of a query, after Polars'
//! optimizer, with the inner queries of nested aggregates and the steps of
//! funnels.

use super::polars_engine::{unit_queries, Layout};
use super::polars_error;
use crate::check::ir::Model;
use crate::diagnostic::Diagnostic;
use crate::plan::{self, Plan, Query};

/// Polars' optimized plan of each unit of a query, the inner queries of
/// nested aggregates after them: (title, plan).
pub fn describe(model: &Model, query: &Query) -> Result<Vec<(String, String)>, Vec<Diagnostic>> {
    describe_plan(&plan::plan(model, query)?)
}

/// The plans of a funnel's steps: one unit counts every step.
pub fn describe_funnel(
    model: &Model,
    name: &str,
    query: &Query,
) -> Result<Vec<(String, String)>, Vec<Diagnostic>> {
    let Some(fp) = plan::plan_funnel(model, name, query) else {
        return Ok(Vec::new());
    };
    let fp = fp?;
    Ok(describe_plan(&fp.plan)?
        .into_iter()
        .map(|(title, text)| {
            // The hidden step KPIs by their step names, last first (`__step1` is in `__step10`).
            let title = fp
                .steps
                .iter()
                .rev()
                .fold(title, |t, (step, kpi)| t.replace(kpi.as_str(), step));
            (format!("funnel {name}: {title}"), text)
        })
        .collect())
}

fn describe_plan(plan: &Plan) -> Result<Vec<(String, String)>, Vec<Diagnostic>> {
    let model = &*plan.model;
    let (lazy, layout) = unit_queries(plan)?;
    let mut out = Vec::new();
    let mut queries = lazy.into_iter();
    for (u, l) in plan.units.iter().zip(&layout) {
        let kpis: Vec<&str> = u
            .outputs
            .iter()
            .map(|o| model.kpis[o.kpi].name.as_str())
            .collect();
        let ends = matches!(l, Layout::Stock { with_ends: true });
        for part in 0..if ends { 2 } else { 1 } {
            let Some(lf) = queries.next() else { break };
            let text = lf.describe_optimized_plan().map_err(polars_error)?;
            let what = match (l, part) {
                (Layout::Stock { .. }, 0) => " — starts",
                (Layout::Stock { .. }, _) => " — ends",
                _ => "",
            };
            let title = format!("{} ({}){what}", model.datasets[u.dataset].name, kpis.join(", "));
            out.push((title, text));
        }
    }
    // Each nested aggregate's inner query, grouped by its members too.
    for n in &plan.nests {
        let host = &model.kpis[n.nest.host].name;
        for (title, text) in describe_plan(&n.plan)? {
            out.push((format!("{host}, per {}: {title}", n.nest.per.join(", ")), text));
        }
    }
    Ok(out)
}
