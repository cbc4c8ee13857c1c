//! `--compare previous|year|N`: beside each KPI, its value in the earlier
//! period, the change and the relative change, without declaring new KPIs.

use polars::prelude::*;

use super::{dim_col, evaluate_frame, polars_error, values_earlier, ONE};
use crate::check::ir::Model;
use crate::compile;
use crate::diagnostic::Diagnostic;
use crate::period::{self, Period};
use crate::plan::{compare_period, Compare, Query};
use crate::spec::model::Grain;

/// The columns added after each KPI.
pub const SUFFIXES: [&str; 3] = ["_compare", "_change", "_change_pct"];

/// Adds the comparison columns of every KPI in `names` to a query's frame.
#[allow(clippy::too_many_arguments)] // the engine, the query and the frame it extends
pub fn add(
    engine: &dyn super::engine::Engine,
    model: &Model,
    query: &Query,
    c: Compare,
    lf: LazyFrame,
    periods: &[Period],
    names: &[String],
) -> Result<LazyFrame, Vec<Diagnostic>> {
    let cal = &model.calendar;
    let dims: Vec<String> = (0..query.by.len()).map(dim_col).collect();
    let renamed = |lf: LazyFrame| {
        let mut sel: Vec<Expr> = dims.iter().map(|d| col(d.as_str())).collect();
        sel.push(col(ONE));
        sel.extend(
            names
                .iter()
                .map(|n| col(n.as_str()).alias(format!("{n}_compare").as_str())),
        );
        lf.select(sel)
    };
    let mut on: Vec<Expr> = dims.iter().map(|d| col(d.as_str())).collect();
    on.push(col(ONE));
    let joined = match (query.grain, query.range) {
        // The range is the one period: evaluate the earlier range beside it.
        (Grain::All, Some(r)) => {
            let g = period::grain_of(r, cal);
            let earlier = match c {
                Compare::Previous => period::previous(r, g, cal),
                Compare::Periods(n) => (0..n).fold(r, |p, _| period::previous(p, g, cal)),
                Compare::Year => period::year_earlier(r),
            };
            let sub = Query {
                range: Some(earlier),
                compare: None,
                history: None,
                ..query.clone()
            };
            let before = evaluate_frame(engine, model, &sub, 0)?;
            lf.join(renamed(before.lf), on.clone(), on, super::key_join())
        }
        _ => {
            let mut groups = dims.clone();
            groups.push(ONE.to_string());
            let columns: Vec<(String, String)> = names
                .iter()
                .map(|n| (n.clone(), format!("{n}_compare")))
                .collect();
            let back = |p| compare_period(p, c, query.grain, cal);
            values_earlier(lf, periods, back, &groups, &columns).map_err(polars_error)?
        }
    };
    let changes: Vec<Expr> = names
        .iter()
        .flat_map(|n| {
            let (now, then) = (col(n.as_str()), col(format!("{n}_compare").as_str()));
            [
                (now.clone().cast(DataType::Float64) - then.clone().cast(DataType::Float64))
                    .alias(format!("{n}_change").as_str()),
                (compile::safe_div(now, then) - lit(1.0)).alias(format!("{n}_change_pct").as_str()),
            ]
        })
        .collect();
    Ok(joined.with_columns(changes))
}
