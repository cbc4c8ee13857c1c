//! Funnels: per group and period, each step's count (rows meeting its
//! condition and every earlier one), the conversion from the step before
//! and from the first step, and the leakage. Each step is a hidden count
//! KPI of the funnel's dataset, so all steps share one scan and one group-by.

use polars::prelude::*;

use super::{dim_col, polars_error, run, Auto, PERIOD};
use crate::check::ir::Model;
use crate::compile::{self, safe_div};
use crate::diagnostic::Diagnostic;
use crate::plan::{self, FunnelPlan, Query};

/// The steps of funnels, one row per group, period and step.
#[derive(Debug)]
pub struct FunnelEvaluation {
    /// Columns: the `--by` dimensions, `period` (with a grain), `funnel`,
    /// `step`, `count`, `conversion`, `conversion_from_start`, `leakage`.
    pub frame: DataFrame,
    pub left_out: u64,
    /// Non-finite values read as null (funnels count rows, so nothing overflows).
    pub warnings: Vec<Diagnostic>,
}

/// The output columns holding numbers, with their units.
pub use crate::check::ir::FUNNEL_MEASURES as MEASURES;

/// Whether the spec has a funnel of this name.
pub fn is_funnel(model: &Model, name: &str) -> bool {
    model.funnels.iter().any(|f| f.name == name)
}

/// Evaluates the funnels `names` (every funnel when empty) by the query's
/// dimensions, grain, range and segments.
pub fn evaluate_funnels(
    model: &Model,
    names: &[String],
    query: &Query,
) -> Result<FunnelEvaluation, Vec<Diagnostic>> {
    let names: Vec<String> = if names.is_empty() {
        model.funnels.iter().map(|f| f.name.clone()).collect()
    } else {
        names.to_vec()
    };
    let mut parts = Vec::new();
    let mut left_out = 0;
    let mut warnings = Vec::new();
    let mut with_period = false;
    for (fi, name) in names.iter().enumerate() {
        let Some(fp) = plan::plan_funnel(model, name, query) else {
            continue;
        };
        let fp = fp?;
        let frame = run(&Auto, &fp.plan)?;
        left_out += frame.left_out;
        warnings.extend(frame.warnings);
        with_period = super::labelled(frame.period, query.grain);
        let mut lf = frame.lf;
        if let Some(first) = fp.plan.first {
            lf = lf.filter(col(PERIOD).gt_eq(compile::date_lit(first.0)));
        }
        for i in 0..fp.steps.len() {
            parts.push(lf.clone().select(step_columns(&fp, fi, i, query, with_period)));
        }
    }
    if parts.is_empty() {
        return Ok(FunnelEvaluation {
            frame: DataFrame::empty(),
            left_out,
            warnings,
        });
    }
    let frame = in_output_order(parts, query, with_period)
        .and_then(LazyFrame::collect)
        .map_err(polars_error)?;
    Ok(FunnelEvaluation {
        frame,
        left_out,
        warnings,
    })
}

/// The output columns of step `i` of funnel number `fi`: its count, the
/// conversion from the step before and from the first, and the leakage.
fn step_columns(fp: &FunnelPlan, fi: usize, i: usize, query: &Query, period: bool) -> Vec<Expr> {
    let kpi = |j: usize| col(fp.steps[j].1.as_str());
    let count = kpi(i);
    let conversion = match i {
        0 => lit(NULL).cast(DataType::Float64),
        _ => safe_div(count.clone(), kpi(i - 1)),
    };
    let mut sel: Vec<Expr> = (0..query.by.len())
        .map(|d| col(dim_col(d).as_str()).alias(query.by[d].as_str()))
        .collect();
    if period {
        sel.push(col(PERIOD));
        sel.push(col("period"));
    }
    sel.extend([
        lit(fi as u32).alias("__funnel"),
        lit(i as u32).alias("__step"),
        lit(fp.name.clone()).alias("funnel"),
        lit(fp.steps[i].0.clone()).alias("step"),
        count.clone().cast(DataType::Float64).alias("count"),
        conversion.clone().alias("conversion"),
        safe_div(count, kpi(0)).alias("conversion_from_start"),
        (lit(1.0) - conversion).alias("leakage"),
    ]);
    sel
}

/// Every funnel's steps, sorted by group, period, funnel and step.
fn in_output_order(parts: Vec<LazyFrame>, query: &Query, with_period: bool) -> PolarsResult<LazyFrame> {
    let all = concat(parts, UnionArgs::default())?.collect()?;
    // Groups in the order of the KPIs' (numbers by value).
    let mut order = super::spine::group_order(&all, &query.by)?;
    if with_period {
        order.push(col(PERIOD));
    }
    order.extend([col("__funnel"), col("__step")]);
    let mut out: Vec<Expr> = query.by.iter().map(|d| col(d.as_str())).collect();
    if with_period {
        out.push(col("period"));
    }
    out.extend(["funnel", "step"].map(col));
    out.extend(MEASURES.iter().map(|(c, _)| col(*c)));
    let options = super::spine::ascending(order.len());
    Ok(all.lazy().sort_by_exprs(order, options).select(out))
}
