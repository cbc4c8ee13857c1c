//! Funnels: per group and period, each step's count (rows meeting its
//! condition and every earlier one), the conversion from the step before
//! and from the first step, and the leakage. Each step is a hidden count
//! KPI of the funnel's dataset, so all steps share one scan and one group-by.

use polars::prelude::*;

use super::{dim_col, evaluate_frame, polars_error, PERIOD};
use crate::check::functions::AggFn;
use crate::check::ir::{Additivity, KpiKind, KpiModel, Model, TExpr, TKind};
use crate::check::types::Type;
use crate::compile::{self, safe_div};
use crate::diagnostic::Diagnostic;
use crate::plan::{self, Query};
use crate::spec::model::{Direction, Unit};
use crate::syntax::ast::BinaryOp;

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
pub const MEASURES: [(&str, Unit); 4] = [
    ("count", Unit::Count),
    ("conversion", Unit::Percent),
    ("conversion_from_start", Unit::Percent),
    ("leakage", Unit::Percent),
];

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
        let Some(steps) = step_model(model, name) else {
            continue;
        };
        let (fp, m, kpis) = steps?;
        let sub = Query {
            kpis: kpis.clone(),
            compare: None,
            ..query.clone()
        };
        let frame = evaluate_frame(&super::engine::Polars, &m, &sub, 0)?;
        left_out += frame.left_out;
        warnings.extend(frame.warnings);
        with_period = frame.period;
        let mut lf = frame.lf;
        if let Some(first) = frame.first {
            lf = lf.filter(col(PERIOD).gt_eq(compile::date_lit(first.0)));
        }
        for (i, (step, _)) in fp.steps.iter().enumerate() {
            let count = col(kpis[i].as_str());
            let conversion = match i {
                0 => lit(NULL).cast(DataType::Float64),
                _ => safe_div(count.clone(), col(kpis[i - 1].as_str())),
            };
            let mut sel: Vec<Expr> = (0..query.by.len())
                .map(|d| col(dim_col(d).as_str()).alias(query.by[d].as_str()))
                .collect();
            if frame.period {
                sel.push(col(PERIOD));
                sel.push(col("period"));
            }
            sel.extend([
                lit(fi as u32).alias("__funnel"),
                lit(i as u32).alias("__step"),
                lit(name.clone()).alias("funnel"),
                lit(step.clone()).alias("step"),
                count.clone().cast(DataType::Float64).alias("count"),
                conversion.clone().alias("conversion"),
                safe_div(count, col(kpis[0].as_str())).alias("conversion_from_start"),
                (lit(1.0) - conversion).alias("leakage"),
            ]);
            parts.push(lf.clone().select(sel));
        }
    }
    if parts.is_empty() {
        return Ok(FunnelEvaluation {
            frame: DataFrame::empty(),
            left_out,
            warnings,
        });
    }
    let mut order: Vec<String> = query.by.clone();
    if with_period {
        order.push(PERIOD.to_string());
    }
    order.extend(["__funnel".to_string(), "__step".to_string()]);
    let mut out: Vec<Expr> = query.by.iter().map(|d| col(d.as_str())).collect();
    if with_period {
        out.push(col("period"));
    }
    out.extend(["funnel", "step"].map(col));
    out.extend(MEASURES.iter().map(|(c, _)| col(*c)));
    let frame = concat(parts, UnionArgs::default())
        .map_err(polars_error)?
        .sort(
            order.iter().map(String::as_str).collect::<Vec<_>>(),
            SortMultipleOptions::default().with_nulls_last(true),
        )
        .select(out)
        .collect()
        .map_err(polars_error)?;
    Ok(FunnelEvaluation {
        frame,
        left_out,
        warnings,
    })
}

/// The model of a funnel's steps: one hidden KPI per step counting the rows
/// of every condition up to it (so all steps are one scan and one group-by),
/// with their names. `None`: no funnel has that name.
#[allow(clippy::type_complexity)] // (plan, model, step KPIs): used together, once
pub(crate) fn step_model(
    model: &Model,
    name: &str,
) -> Option<Result<(crate::plan::FunnelPlan, Model, Vec<String>), Vec<Diagnostic>>> {
    let fp = plan::funnel(model, name)?;
    let mut m = model.clone();
    let mut kpis = Vec::new();
    let mut condition: Option<TExpr> = None;
    for (i, (_, cond)) in fp.steps.iter().enumerate() {
        condition = match (condition, cond) {
            (Some(a), Some(b)) => Some(TExpr {
                span: b.span,
                ty: Type::Bool,
                kind: TKind::Binary(BinaryOp::And, Box::new(a), Box::new(b.clone())),
            }),
            (a, b) => a.or_else(|| b.clone()),
        };
        let kpi = format!("__step{i}");
        m.order.push(m.kpis.len());
        m.kpis.push(step_kpi(&fp, &kpi, condition.clone()));
        kpis.push(kpi);
    }
    Some(Ok((fp, m, kpis)))
}

/// The hidden KPI counting a step's rows.
fn step_kpi(fp: &plan::FunnelPlan, name: &str, condition: Option<TExpr>) -> KpiModel {
    let span = condition.as_ref().map(|c| c.span).unwrap_or_default();
    let measure = TExpr {
        kind: TKind::Agg {
            func: AggFn::Count,
            arg: None,
            param: None,
            filter: condition.map(Box::new),
            per: Vec::new(),
        },
        ty: Type::Number,
        span,
    };
    KpiModel {
        name: name.to_string(),
        title: name.to_string(),
        description: None,
        unit: Some(Unit::Count),
        decimals: None,
        direction: Direction::Up,
        indicator: None,
        owner: None,
        tags: Vec::new(),
        kind: KpiKind::Base {
            dataset: fp.dataset,
            measure,
            filter: None,
            time: fp.time.clone(),
        },
        ty: Type::Number,
        additivity: Additivity::Additive,
        recombinable: true,
        stock: false,
        datasets: vec![fp.dataset],
        span,
        measure_text: String::new(),
    }
}

impl FunnelEvaluation {
    /// The rows as an engine-independent table, formatted by measure.
    pub fn table(&self) -> crate::report::table::ResultTable {
        super::frame_table(&self.frame, measure_format)
    }

    /// Writes the frame as Parquet (raw values; counts as integers).
    pub fn write_parquet(&self, path: &std::path::Path) -> std::io::Result<()> {
        super::write_frame(&self.frame, measure_format, path)
    }
}

fn measure_format(column: &str) -> Option<crate::report::table::NumberFormat> {
    MEASURES
        .iter()
        .find(|(m, _)| *m == column)
        .map(|(_, u)| crate::report::table::NumberFormat::new(Some(*u), None))
}
