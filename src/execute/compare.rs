//! `--compare previous|year|N`: beside each KPI, its value in the earlier
//! period, the change and the relative change, without declaring new KPIs.

use polars::prelude::*;

use super::spine::values_earlier;
use super::{dim_col, polars_error, Frame, ONE};
use crate::compile;
use crate::diagnostic::Diagnostic;
use crate::period::Period;
use crate::plan::{compare_period, Compare, Plan};

/// The columns added after each KPI.
pub const SUFFIXES: [&str; 3] = ["_compare", "_change", "_change_pct"];

/// Adds the comparison columns of every KPI in `names` to a query's frame.
/// `earlier` is the frame of the range before under `--grain all` (see
/// [`super::run_compared`]); under a grain the earlier periods are on the
/// spine already.
pub fn add(
    plan: &Plan,
    c: Compare,
    lf: LazyFrame,
    earlier: Option<Frame>,
    periods: &[Period],
    names: &[String],
) -> Result<LazyFrame, Vec<Diagnostic>> {
    let (query, cal) = (&plan.query, &plan.model.calendar);
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
    let joined = match earlier {
        Some(before) => lf.join(renamed(before.lf), on.clone(), on, super::key_join()),
        None => {
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
