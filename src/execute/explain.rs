//! `kpi explain`: the Polars plan of each unit of a query, after Polars'
//! optimizer, with the inner queries of nested aggregates and the steps of
//! funnels.

use super::chunks::{self, Rows};
use super::lookups::Lookups;
use super::polars_engine::{grouping, stock_bounds, unit_queries, Grouping, Layout};
use super::polars_error;
use crate::check::ir::Model;
use crate::diagnostic::Diagnostic;
use crate::keyword::Keyword;
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
        .map(|(title, text)| (fp.titled(&title), text))
        .collect())
}

fn describe_plan(plan: &Plan) -> Result<Vec<(String, String)>, Vec<Diagnostic>> {
    let model = &*plan.model;
    let (on_connections, on_files) = plan.on_connections();
    let mut out = Vec::new();
    if !on_files.is_empty() {
        out.extend(polars_plans(&plan.with_units(&on_files))?);
    }
    for i in on_connections {
        out.extend(sql_statements(plan, i));
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

/// Polars' optimized plan of each unit on files; a unit grouped by hand
/// shows the query of its first chunk, which gives the rows' keys and
/// part inputs.
fn polars_plans(plan: &Plan) -> Result<Vec<(String, String)>, Vec<Diagnostic>> {
    let lookups = Lookups::describe(plan)?;
    let bounds = stock_bounds(plan)?;
    let mut reads: Vec<(usize, Vec<Rows>)> = Vec::new();
    let mut out = Vec::new();
    for (i, u) in plan.units.iter().enumerate() {
        let how = grouping(u);
        let (read, note) = match how {
            Grouping::Polars => (Rows::All, String::new()),
            Grouping::ByHand => {
                if !reads.iter().any(|(d, _)| *d == u.dataset) {
                    reads.push((u.dataset, chunks::of_dataset(&plan.model, u.dataset)?));
                }
                let of = reads
                    .iter()
                    .find(|(d, _)| *d == u.dataset)
                    .map_or(&[][..], |(_, r)| r.as_slice());
                match of {
                    [first @ Rows::Chunk { len, .. }, ..] => (
                        *first,
                        format!(
                            " — grouped by hand, in {} chunks of at most {len} rows (the first shown)",
                            of.len()
                        ),
                    ),
                    [first @ Rows::Pieces { rows, .. }, ..] => (
                        *first,
                        format!(
                            " — grouped by hand, in {} chunks of about {rows} rows (the first shown)",
                            of.len()
                        ),
                    ),
                    _ => (Rows::All, " — grouped by hand".to_string()),
                }
            }
        };
        let (queries, layout) = unit_queries(plan, &lookups, &[i], bounds, read, how)?;
        let ends = matches!(layout.first(), Some(Layout::Stock { .. }));
        for (k, q) in queries.into_iter().enumerate() {
            let mut text = q.lf.describe_optimized_plan().map_err(polars_error)?;
            if let Some(g) = &q.by_hand {
                text = format!("{}{text}", g.describe());
            }
            let what = match (ends, k) {
                (true, 0) => " — starts",
                (true, _) => " — ends",
                _ => "",
            };
            out.push((format!("{}{what}{note}", plan.unit_title(i)), text));
        }
    }
    Ok(out)
}

/// The SQL a unit on a connection runs.
fn sql_statements(plan: &Plan, i: usize) -> Vec<(String, String)> {
    let model = &*plan.model;
    let Some(c) = model.datasets[plan.units[i].dataset]
        .remote
        .as_ref()
        .and_then(|r| model.connections.get(r.connection))
    else {
        return Vec::new();
    };
    let title = format!(
        "{} — SQL on `{}` ({})",
        plan.unit_title(i),
        c.name,
        c.dialect.as_str()
    );
    let s = crate::sql::unit_sql_by_itself(plan, i, c.dialect, super::today());
    if s.too_long.is_some() {
        let why = format!(
            "(not printed: a row expression's SQL would pass {} MiB)",
            crate::sql::MAX_EXPRESSION_SQL >> 20
        );
        return vec![(title, why)];
    }
    let mut out = vec![(title.clone(), s.parts)];
    out.extend(s.ends.map(|e| (format!("{title} — ends"), e)));
    out
}
