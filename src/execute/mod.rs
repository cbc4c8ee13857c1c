//! Stage 5b, execute: run the units of a plan together, lay the complete
//! time spine (every period × every group), fill empty periods, and compute
//! base and derived KPIs from the aggregated frames (never by re-scanning).

mod compare;
mod diagnostics;
pub mod engine;
mod funnel;
mod nested;

pub use funnel::{evaluate_funnels, is_funnel, FunnelEvaluation};

use polars::prelude::*;

use crate::check::functions::AggFn;
use crate::check::ir::{KpiKind, Model};
use crate::compile::{self, Cx};
use crate::data::{self, SourceInfo};
use crate::diagnostic::Diagnostic;
use crate::period::{self, Period};
use crate::plan::{self, Plan, Query, Unit, UnitTime};
use crate::report::table::NumberFormat;
use crate::spec::model::Grain;
use crate::time::Date;

pub(crate) const PERIOD: &str = "__period";
const ROWS: &str = "__rows";
pub(crate) const ONE: &str = "__one";

/// The result of `kpi eval`: one row per group and period.
#[derive(Debug)]
pub struct Evaluation {
    /// Columns: the `--by` dimensions as named, `period` (with a grain), then each KPI.
    pub frame: DataFrame,
    pub dims: Vec<String>,
    pub period: bool,
    /// KPI names, in output order.
    pub kpis: Vec<String>,
    /// Each KPI is followed by its `_compare`, `_change` and `_change_pct` columns.
    pub compare: bool,
    /// Rows whose time value was null and so belong to no period.
    pub left_out: u64,
    /// What the data did to the numbers: non-finite values read as null, overflows.
    pub warnings: Vec<Diagnostic>,
}

/// A left join on group keys. A null dimension value is a group of its own
/// (LANGUAGE.md §4), so on these keys null matches null; lookups keep SQL's
/// rule instead (a null key finds no row).
pub(crate) fn key_join() -> JoinArgs {
    let mut args = JoinArgs::new(JoinType::Left);
    args.nulls_equal = true;
    args
}

pub(crate) fn dim_col(i: usize) -> String {
    format!("__d{i}")
}

pub(crate) fn polars_error(e: PolarsError) -> Vec<Diagnostic> {
    vec![diagnostics::evaluation_error(&e.to_string())]
}

/// Evaluates a query over the spec's data, with Polars over its files.
pub fn evaluate(model: &Model, query: &Query) -> Result<Evaluation, Vec<Diagnostic>> {
    evaluate_with(&engine::Polars, model, query)
}

/// Evaluates a query, its units run by `engine`.
pub fn evaluate_with(
    engine: &dyn engine::Engine,
    model: &Model,
    query: &Query,
) -> Result<Evaluation, Vec<Diagnostic>> {
    if query.compare.is_some() && query.grain == Grain::All && query.range.is_none() {
        return Err(vec![diagnostics::compare_needs_periods()]);
    }
    // Every KPI: those that can take the dimensions and segments.
    let (query, left_out) = match query.kpis.is_empty() {
        true => {
            let (kpis, left_out) = plan::fitting_kpis(model, query)?;
            (
                &Query {
                    kpis,
                    ..query.clone()
                },
                left_out,
            )
        }
        false => (query, Vec::new()),
    };
    let mut frame = evaluate_frame(engine, model, query, 0)?;
    frame.warnings.splice(0..0, left_out);
    let names: Vec<String> = frame.kpis.iter().map(|k| model.kpis[*k].name.clone()).collect();
    let mut lf = frame.lf;
    if let Some(c) = query.compare {
        lf = compare::add(engine, model, query, c, lf, &frame.periods, &names)?;
    }
    // Periods before the range were read for history only.
    if let Some(first) = frame.first {
        lf = lf.filter(col(PERIOD).gt_eq(compile::date_lit(first.0)));
    }
    if query.compare.is_some() {
        // Joins do not keep the order of the spine.
        lf = in_spine_order(lf, query.by.len(), frame.period);
    }
    // Output columns: dimensions as named, the period label, the KPIs.
    let mut select: Vec<Expr> = query
        .by
        .iter()
        .enumerate()
        .map(|(i, name)| col(dim_col(i).as_str()).alias(name.as_str()))
        .collect();
    if frame.period {
        select.push(col("period"));
    }
    for n in &names {
        select.push(col(n.as_str()).cast(DataType::Float64));
        if query.compare.is_some() {
            select.extend(compare::SUFFIXES.iter().map(|s| {
                let c = format!("{n}{s}");
                col(c.as_str()).cast(DataType::Float64)
            }));
        }
    }
    let out = lf.select(select).collect().map_err(polars_error)?;
    let mut warnings = frame.warnings;
    let out = finite_values(out, &names, &mut warnings).map_err(polars_error)?;
    Ok(Evaluation {
        frame: out,
        dims: query.by.clone(),
        period: frame.period,
        kpis: names,
        compare: query.compare.is_some(),
        left_out: frame.left_out,
        warnings,
    })
}

/// KPI values that came out non-finite (a product of huge numbers, say) are
/// reported and shown as null, never as `inf` or `NaN`.
fn finite_values(
    frame: DataFrame,
    kpis: &[String],
    warnings: &mut Vec<Diagnostic>,
) -> PolarsResult<DataFrame> {
    let mut fixes = Vec::new();
    for c in frame.columns() {
        let Ok(x) = c.f64() else { continue };
        let bad = x.iter().flatten().filter(|v| !v.is_finite()).count();
        if bad == 0 {
            continue;
        }
        let name = c.name().to_string();
        if let Some(k) = kpis.iter().find(|k| **k == name) {
            warnings.push(diagnostics::overflow(k, bad as u64));
        }
        let e = col(name.as_str());
        fixes.push(
            when(e.clone().is_finite())
                .then(e)
                .otherwise(lit(NULL))
                .alias(name.as_str()),
        );
    }
    if fixes.is_empty() {
        return Ok(frame);
    }
    frame.lazy().with_columns(fixes).collect()
}

/// A query's results before output: the spine sorted by group and period,
/// with every part, nested aggregate and KPI column.
pub(crate) struct Frame {
    pub lf: LazyFrame,
    /// Whether `__period` and `period` are columns.
    pub period: bool,
    /// The periods of the spine, history included.
    pub periods: Vec<Period>,
    /// The first period to output, when history before it was read.
    pub first: Option<Date>,
    /// The KPIs asked for, in output order.
    pub kpis: Vec<usize>,
    pub left_out: u64,
    pub warnings: Vec<Diagnostic>,
}

/// Evaluates a query into its frame; `depth` counts nested aggregations around it.
pub(crate) fn evaluate_frame(
    engine: &dyn engine::Engine,
    model: &Model,
    query: &Query,
    depth: usize,
) -> Result<Frame, Vec<Diagnostic>> {
    let (model, inner_model, nests) = nested::rewrite(model, depth);
    let model = &model;
    let plan = plan::plan(model, query)?;
    let mut query = query.clone();
    query.history = plan::history(model, &plan);
    let first = match (query.history, query.range) {
        (Some(_), Some(r)) if query.grain != Grain::All => {
            Some(period::period_of(r.start, query.grain, &model.calendar).start)
        }
        _ => None,
    };
    let query = &query;
    let cal = &model.calendar;
    let grain = query.grain;
    let keys = key_names(&plan);

    // 1. The engine runs every unit: one frame of parts per unit (and the
    //    ends of a stock under a grain).
    let units = engine.run_units(model, &plan, query)?;
    let shape: Vec<bool> = units.iter().map(|u| u.ends.is_some()).collect();
    let frames: Vec<DataFrame> = units
        .into_iter()
        .flat_map(|u| std::iter::once(u.parts).chain(u.ends))
        .collect();

    // 2. Non-finite values and overflowed sums are counted and reported;
    //    rows with no period are counted, then dropped.
    let (frames, mut warnings) = data_warnings(frames).map_err(polars_error)?;
    if depth == 0 {
        let mut seen = Vec::new();
        for u in &plan.units {
            if !seen.contains(&u.dataset) {
                seen.push(u.dataset);
                warnings.extend(data::skipped_rows(&SourceInfo::from_model(
                    &model.datasets[u.dataset],
                )));
            }
        }
    }
    let (mut frames, left_out) = without_periodless_rows(frames, query).map_err(polars_error)?;

    // 3. Nested aggregates, each from its own query grouped by its members.
    let mut nest_frames = Vec::new();
    for nest in needed_nests(&nests, &plan) {
        let sub = nest_query(query, nest);
        let members = evaluate_frame(engine, &inner_model, &sub, depth + 1)?;
        warnings.extend(members.warnings);
        let outer_keys: Vec<String> = keys.iter().filter(|k| *k != ONE).cloned().collect();
        let f = nested::aggregate(&inner_model, nest, members.lf, &outer_keys)
            .with_column(lit(1i32).alias(ONE))
            .collect()
            .map_err(polars_error)?;
        nest_frames.push((nest, f));
    }
    let all_frames: Vec<&DataFrame> = frames.iter().chain(nest_frames.iter().map(|(_, f)| f)).collect();

    // 4. The spine: every group × every period of the range.
    let periods = spine_periods(&all_frames, query, cal)?;
    let groups = all_groups(&all_frames, plan.query.by.len()).map_err(polars_error)?;
    let period_frame = periods_frame(&periods, grain, cal).map_err(polars_error)?;
    let spine = match &period_frame {
        Some(p) => groups.clone().cross_join(p.clone().lazy(), None),
        None => groups.clone(),
    };

    // 5. Stocks: running sums of starts minus ends along their own spine.
    let mut unit_frames: Vec<LazyFrame> = Vec::new();
    let mut it = std::mem::take(&mut frames).into_iter();
    for (u, with_ends) in plan.units.iter().zip(shape) {
        let Some(first) = it.next() else { break };
        let ends = if with_ends { it.next() } else { None };
        match (&u.time, grain) {
            (UnitTime::Stock { .. }, g) if g != Grain::All => unit_frames.push(
                stock_levels(u, first, ends, &periods, &groups, &keys, grain, cal).map_err(polars_error)?,
            ),
            _ => unit_frames.push(first.lazy()),
        }
    }

    // 6. Join nested aggregates and every unit onto the spine; empty sums and counts are 0.
    let out = onto_spine(spine, nest_frames, unit_frames, model, &plan, &keys);
    // 7. Derived KPIs, in dependency order, over the sorted spine.
    let with_period = period_frame.is_some();
    let out = derived_kpis(out, model, &plan, query, &keys, &periods, with_period).map_err(polars_error)?;
    Ok(Frame {
        lf: out,
        period: period_frame.is_some(),
        periods,
        first,
        kpis: plan.outputs.clone(),
        left_out,
        warnings,
    })
}

/// Rows with no period (a null time value) are counted, then dropped, when
/// the query has periods.
fn without_periodless_rows(frames: Vec<DataFrame>, query: &Query) -> PolarsResult<(Vec<DataFrame>, u64)> {
    let mut left_out = 0u64;
    let frames = frames
        .into_iter()
        .map(|df| {
            if query.grain == Grain::All && query.range.is_none() {
                return Ok(df);
            }
            if df.column(PERIOD).is_err() {
                return Ok(df);
            }
            let nulls = df
                .clone()
                .lazy()
                .filter(col(PERIOD).is_null())
                .select([col(ROWS).sum()])
                .collect()?;
            left_out += nulls
                .column(ROWS)
                .ok()
                .and_then(|c| c.get(0).ok())
                .and_then(|v| v.extract::<u64>())
                .unwrap_or(0);
            df.lazy().filter(col(PERIOD).is_not_null()).collect()
        })
        .collect::<PolarsResult<_>>()?;
    Ok((frames, left_out))
}

/// The spine with every nested aggregate and unit joined on; empty sums
/// and counts are 0, and each base KPI is computed from its parts.
fn onto_spine(
    spine: LazyFrame,
    nest_frames: Vec<(&nested::Nest, DataFrame)>,
    unit_frames: Vec<LazyFrame>,
    model: &Model,
    plan: &Plan,
    keys: &[String],
) -> LazyFrame {
    let on: Vec<Expr> = keys.iter().map(|k| col(k.as_str())).collect();
    let mut out = spine;
    for (nest, f) in nest_frames {
        out = out.join(f.lazy(), on.clone(), on.clone(), key_join());
        if matches!(nest.func, AggFn::Sum | AggFn::Count) {
            out = out.with_column(col(nest.column.as_str()).fill_null(lit(0.0)));
        }
    }
    let cx = Cx::rows(model, None);
    for (u, f) in plan.units.iter().zip(unit_frames) {
        let mut take = on.clone();
        take.extend(u.parts.iter().map(|p| col(p.name.as_str())));
        let f = f.select(take);
        out = out.join(f, on.clone(), on.clone(), key_join());
        let fills: Vec<Expr> = u
            .parts
            .iter()
            .filter(|p| p.zero_when_empty())
            .map(|p| col(p.name.as_str()).fill_null(lit(0.0)))
            .collect();
        if !fills.is_empty() {
            out = out.with_columns(fills);
        }
        let values: Vec<Expr> = u
            .outputs
            .iter()
            .map(|o| cx.expr(&o.post).alias(model.kpis[o.kpi].name.as_str()))
            .collect();
        out = out.with_columns(values);
    }
    out
}

/// Derived KPIs in dependency order over the sorted spine: time functions
/// as windows over parts, calendar offsets (`prev(k, "year")`) as joins.
fn derived_kpis(
    out: LazyFrame,
    model: &Model,
    plan: &Plan,
    query: &Query,
    keys: &[String],
    periods: &[Period],
    with_period: bool,
) -> PolarsResult<LazyFrame> {
    let (grain, cal) = (query.grain, &model.calendar);
    let mut out = in_spine_order(out, plan.query.by.len(), with_period);
    let groups_cols: Vec<String> = (0..plan.query.by.len()).map(dim_col).collect();
    let mut values: Vec<Option<crate::check::ir::TExpr>> = vec![None; model.kpis.len()];
    let mut parts = std::collections::HashMap::new();
    for u in &plan.units {
        for o in &u.outputs {
            values[o.kpi] = Some(o.post.clone());
        }
        for p in &u.parts {
            parts.insert(p.name.clone(), p.func);
        }
    }
    for &k in &plan.derived {
        if let KpiKind::Derived { measure } = &model.kpis[k].kind {
            values[k] = Some(measure.clone());
        }
    }
    let windows = compile::Windows {
        grain,
        cal,
        period: PERIOD,
        start: query.range.map(|r| period::period_of(r.start, grain, cal).start),
        values: &values,
        parts: &parts,
    };
    let over_spine = Cx::spine(model, &groups_cols, Some(&windows));
    let mut joined: Vec<String> = Vec::new();
    for &k in &plan.derived {
        let KpiKind::Derived { measure } = &model.kpis[k].kind else {
            continue;
        };
        for (kpi, unit) in calendar_refs(measure) {
            let name = compile::every_column(&model.kpis[kpi].name, unit);
            if joined.contains(&name) {
                continue;
            }
            out = if keys.iter().any(|k| k == PERIOD) {
                let groups: Vec<String> = keys.iter().filter(|k| *k != PERIOD).cloned().collect();
                let column = [(model.kpis[kpi].name.clone(), name.clone())];
                let back = |p| period::calendar_back(p, unit, grain, cal);
                values_earlier(out, periods, back, &groups, &column)?
            } else {
                out.with_column(lit(NULL).cast(DataType::Float64).alias(name.as_str()))
            };
            out = in_spine_order(out, plan.query.by.len(), with_period);
            joined.push(name);
        }
        out = out.with_column(over_spine.expr(measure).alias(model.kpis[k].name.as_str()));
    }
    Ok(out)
}

/// Sorted by group, then period: the order `prev`, windows and output rely on.
fn in_spine_order(lf: LazyFrame, dims: usize, period: bool) -> LazyFrame {
    let mut by: Vec<String> = (0..dims).map(dim_col).collect();
    if period {
        by.push(PERIOD.to_string());
    }
    if by.is_empty() {
        return lf;
    }
    lf.sort(
        by.iter().map(String::as_str).collect::<Vec<_>>(),
        SortMultipleOptions::default().with_nulls_last(true),
    )
}

/// `prev(k, "year")` and the like in an expression: (KPI, unit).
fn calendar_refs(e: &crate::check::ir::TExpr) -> Vec<(usize, Grain)> {
    let mut out = Vec::new();
    fn walk(e: &crate::check::ir::TExpr, out: &mut Vec<(usize, Grain)>) {
        if let crate::check::ir::TKind::Time {
            kpi, every: Some(u), ..
        } = &e.kind
        {
            out.push((*kpi, *u));
        }
        e.for_each_child(|c| walk(c, out));
    }
    walk(e, &mut out);
    out
}

/// Adds each `(column, alias)`: the column's value in an earlier period of
/// the same group, `earlier` mapping each spine period to that period (none:
/// null). The values are joined from the frame itself; `groups` are its keys
/// other than the period.
pub(crate) fn values_earlier(
    lf: LazyFrame,
    periods: &[Period],
    earlier: impl Fn(Period) -> Option<Period>,
    groups: &[String],
    columns: &[(String, String)],
) -> PolarsResult<LazyFrame> {
    const SRC: &str = "__earlier";
    let (from, to): (Vec<i32>, Vec<i32>) = periods
        .iter()
        .filter_map(|p| earlier(*p).map(|e| (p.start.0, e.start.0)))
        .unzip();
    let map = DataFrame::new_infer_height(vec![
        Series::new(PERIOD.into(), from)
            .cast(&DataType::Date)?
            .into_column(),
        Series::new(SRC.into(), to).cast(&DataType::Date)?.into_column(),
    ])?;
    let mut right: Vec<Expr> = groups.iter().map(|k| col(k.as_str())).collect();
    right.push(col(PERIOD).alias(SRC));
    right.extend(columns.iter().map(|(c, a)| col(c.as_str()).alias(a.as_str())));
    let before = lf.clone().select(right);
    let mut on: Vec<Expr> = groups.iter().map(|k| col(k.as_str())).collect();
    on.push(col(SRC));
    Ok(lf
        .join(map.lazy(), [col(PERIOD)], [col(PERIOD)], key_join())
        .join(before, on.clone(), on, key_join())
        .drop(cols([SRC])))
}

/// The queries of a plan's units: one per flow unit, and for a stock unit
/// under a grain, one for its starts and one for its ends.
pub(crate) fn unit_queries(
    model: &Model,
    plan: &Plan,
    query: &Query,
) -> Result<(Vec<LazyFrame>, Vec<Layout>), Vec<Diagnostic>> {
    let cal = &model.calendar;
    let grain = query.grain;
    let mut lazy = Vec::new();
    let mut layout = Vec::new();
    // Under `--grain all` a stock is taken at the end of the range (`at: start`:
    // the day before it starts); the range defaults to the data's dates.
    let bounds = if grain == Grain::All
        && plan
            .units
            .iter()
            .any(|u| matches!(u.time, UnitTime::Stock { .. }))
    {
        Some(match query.range {
            Some(r) => (r.start, r.end),
            None => data_bounds(model, plan)?,
        })
    } else {
        None
    };
    for u in &plan.units {
        let base = unit_rows(model, u)?;
        match (&u.time, grain) {
            (UnitTime::Stock { from, to, at_start }, Grain::All) => {
                let moment = bounds.map_or(
                    Date(0),
                    |(first, last)| if *at_start { first.add_days(-1) } else { last },
                );
                let m = compile::date_lit(moment.0);
                let f = col(from.as_str()).cast(DataType::Date);
                let mut active = f.lt_eq(m.clone());
                if let Some(to) = to {
                    let t = col(to.as_str()).cast(DataType::Date);
                    active = active.and(t.clone().is_null().or(t.gt(m)));
                }
                let rows = base.filter(active);
                match query.range {
                    // The range is one period: key the result by it, like flows.
                    Some(r) => {
                        let rows = rows.with_column(compile::date_lit(r.start.0).alias(PERIOD));
                        lazy.push(aggregate(model, u, rows, Some(PERIOD)));
                    }
                    None => lazy.push(aggregate(model, u, rows, None)),
                }
                layout.push(Layout::Flow);
            }
            (UnitTime::Stock { from, to, .. }, _) => {
                let starts = base.clone().filter(col(from.as_str()).is_not_null());
                let starts =
                    starts.with_column(compile::period_start(col(from.as_str()), grain, cal).alias(PERIOD));
                lazy.push(aggregate(model, u, starts, Some(PERIOD)));
                match to {
                    Some(to) => {
                        let ends = base.filter(col(to.as_str()).is_not_null());
                        let ends = ends
                            .with_column(compile::period_start(col(to.as_str()), grain, cal).alias(PERIOD));
                        lazy.push(aggregate(model, u, ends, Some(PERIOD)));
                        layout.push(Layout::Stock { with_ends: true });
                    }
                    None => layout.push(Layout::Stock { with_ends: false }),
                }
            }
            (UnitTime::Flow(t), _) => {
                let t = col(t.as_str());
                let mut rows = base;
                if let Some(r) = query.range {
                    let d = t.clone().cast(DataType::Date);
                    let mut inside = d
                        .clone()
                        .gt_eq(compile::date_lit(r.start.0))
                        .and(d.clone().lt_eq(compile::date_lit(r.end.0)));
                    // History: whole periods before the range's first one.
                    if let (Some(h), true) = (query.history, grain != Grain::All) {
                        let first = period::period_of(r.start, grain, cal).start;
                        inside = inside.or(d
                            .clone()
                            .gt_eq(compile::date_lit(h.0))
                            .and(d.lt(compile::date_lit(first.0))));
                    }
                    rows = rows.filter(t.clone().is_null().or(inside));
                }
                let key = match (grain, query.range) {
                    (Grain::All, None) => None,
                    (Grain::All, Some(r)) => Some(
                        when(t.is_null())
                            .then(lit(NULL).cast(DataType::Date))
                            .otherwise(compile::date_lit(r.start.0)),
                    ),
                    _ => Some(compile::period_start(t, grain, cal)),
                };
                match key {
                    Some(k) => lazy.push(aggregate(
                        model,
                        u,
                        rows.with_column(k.alias(PERIOD)),
                        Some(PERIOD),
                    )),
                    None => lazy.push(aggregate(model, u, rows, None)),
                }
                layout.push(Layout::Flow);
            }
            (UnitTime::None, _) => {
                lazy.push(aggregate(model, u, base, None));
                layout.push(Layout::Flow);
            }
        }
    }
    Ok((lazy, layout))
}

pub(crate) enum Layout {
    Flow,
    Stock { with_ends: bool },
}

/// Group keys every unit frame carries: the dimensions, the period (if any) and a constant.
fn key_names(plan: &Plan) -> Vec<String> {
    let mut keys: Vec<String> = (0..plan.query.by.len()).map(dim_col).collect();
    if plan.query.grain != Grain::All || plan.query.range.is_some() {
        keys.push(PERIOD.to_string());
    }
    keys.push(ONE.to_string());
    keys
}

/// The rows of a unit: scanned, looked up, filtered by segments, with its dimensions.
pub fn unit_rows(model: &Model, u: &Unit) -> Result<LazyFrame, Vec<Diagnostic>> {
    let ds = &model.datasets[u.dataset];
    let mut lf = data::scan(&SourceInfo::from_model(ds)).map_err(|d| vec![d])?;
    let cx = Cx::rows(model, Some(u.dataset));
    let used = u.columns();
    for &li in &u.lookups {
        let l = &ds.lookups[li];
        let target = &model.datasets[l.dataset];
        let right = data::scan(&SourceInfo::from_model(target)).map_err(|d| vec![d])?;
        let mut take = vec![col(l.right.as_str()).cast(DataType::String).alias("__key")];
        for (d, c) in &used {
            if *d == l.dataset {
                take.push(col(c.as_str()).alias(compile::lookup_column(model, *d, c).as_str()));
            }
        }
        // The key may be a computed dimension (e.g. a cleaned-up name).
        let left = match ds.dimensions.iter().find(|x| x.name == l.left) {
            Some(dim) => cx.expr(&dim.expr),
            None => col(l.left.as_str()),
        };
        lf = lf.with_column(left.cast(DataType::String).alias("__lkey")).join(
            right.select(take),
            [col("__lkey")],
            [col("__key")],
            JoinArgs::new(JoinType::Left),
        );
    }
    for f in &u.filters {
        lf = lf.filter(cx.expr(f));
    }
    let dims: Vec<Expr> = u
        .dims
        .iter()
        .enumerate()
        .map(|(i, d)| cx.expr(d).cast(DataType::String).alias(dim_col(i).as_str()))
        .collect();
    if !dims.is_empty() {
        lf = lf.with_columns(dims);
    }
    Ok(lf)
}

/// One group-by of a unit's rows, with all its parts.
fn aggregate(model: &Model, u: &Unit, rows: LazyFrame, period: Option<&str>) -> LazyFrame {
    let cx = Cx::rows(model, Some(u.dataset));
    let mut aggs: Vec<Expr> = u.parts.iter().map(|p| cx.part(p)).collect();
    aggs.push(len().cast(DataType::UInt64).alias(ROWS));
    aggs.extend(non_finite_counts(model, u, &rows));
    let mut keys: Vec<Expr> = (0..u.dims.len()).map(|i| col(dim_col(i).as_str())).collect();
    if let Some(p) = period {
        keys.push(col(p));
    }
    let grouped = if keys.is_empty() {
        rows.select(aggs)
    } else {
        rows.group_by(keys).agg(aggs)
    };
    grouped.with_column(lit(1i32).alias(ONE))
}

/// Marks a column of a unit frame that counts non-finite values of one
/// source column: `__nf:` dataset, a unit separator, column.
const NON_FINITE: &str = "__nf:";

/// Sums of the non-finite flags of the float columns a unit reads.
fn non_finite_counts(model: &Model, u: &Unit, rows: &LazyFrame) -> Vec<Expr> {
    let Ok(schema) = rows.clone().collect_schema() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for (d, c) in u.columns() {
        let read = if d == u.dataset {
            c.clone()
        } else {
            compile::lookup_column(model, d, &c)
        };
        let flag = data::non_finite_flag(&read);
        if seen.contains(&flag) || !schema.contains(&flag) {
            continue;
        }
        let name = format!("{NON_FINITE}{}\u{1f}{c}", model.datasets[d].name);
        out.push(
            col(flag.as_str())
                .cast(DataType::UInt64)
                .sum()
                .alias(name.as_str()),
        );
        seen.push(flag);
    }
    out
}

/// Takes the non-finite counts out of the unit frames (reported once per
/// source column). An aggregate that overflowed (a sum beyond ±1.8e308)
/// becomes NaN, not null: a null sum would be filled as an empty 0, while
/// NaN survives the fills and every KPI above it, and the output says so.
fn data_warnings(frames: Vec<DataFrame>) -> PolarsResult<(Vec<DataFrame>, Vec<Diagnostic>)> {
    let mut counts: std::collections::BTreeMap<(String, String), u64> = Default::default();
    let mut out = Vec::with_capacity(frames.len());
    for df in frames {
        let mut drop = Vec::new();
        let mut fixes = Vec::new();
        for c in df.columns() {
            let name = c.name().to_string();
            if let Some(key) = name.strip_prefix(NON_FINITE) {
                let n = c.cast(&DataType::UInt64)?.u64()?.sum().unwrap_or(0);
                if let Some((ds, column)) = key.split_once('\u{1f}') {
                    let e = counts.entry((ds.to_string(), column.to_string())).or_default();
                    *e = (*e).max(n);
                }
                drop.push(name);
            } else if let Ok(x) = c.f64() {
                if x.iter().flatten().any(|v| v.is_infinite()) {
                    let e = col(name.as_str());
                    fixes.push(
                        when(e.clone().is_infinite())
                            .then(lit(f64::NAN))
                            .otherwise(e)
                            .alias(name.as_str()),
                    );
                }
            }
        }
        out.push(if drop.is_empty() && fixes.is_empty() {
            df
        } else {
            df.lazy().drop(cols(drop)).with_columns(fixes).collect()?
        });
    }
    let warnings = counts
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|((ds, c), n)| data::diagnostics::non_finite_read(&ds, &c, n))
        .collect();
    Ok((out, warnings))
}

/// Periods of the range, or from the first to the last period in the data.
fn spine_periods(
    frames: &[&DataFrame],
    query: &Query,
    cal: &crate::spec::model::Calendar,
) -> Result<Vec<Period>, Vec<Diagnostic>> {
    let grain = query.grain;
    if grain == Grain::All {
        return Ok(match query.range {
            Some(r) => vec![Period {
                start: r.start,
                end: r.end,
            }],
            None => Vec::new(),
        });
    }
    let (first, last) = match query.range {
        Some(r) => (query.history.map_or(r.start, |h| h.min(r.start)), r.end),
        None => {
            let mut lo: Option<i32> = None;
            let mut hi: Option<i32> = None;
            for df in frames {
                let Ok(c) = df.column(PERIOD) else { continue };
                let Ok(days) = c.cast(&DataType::Int32) else {
                    continue;
                };
                let Ok(days) = days.i32() else { continue };
                if let Some(m) = days.min() {
                    lo = Some(lo.map_or(m, |x| x.min(m)));
                }
                if let Some(m) = days.max() {
                    hi = Some(hi.map_or(m, |x| x.max(m)));
                }
            }
            match (lo, hi) {
                (Some(a), Some(b)) => (Date(a), Date(b)),
                _ => return Ok(Vec::new()),
            }
        }
    };
    let mut out = Vec::new();
    let mut p = period::period_of(first, grain, cal);
    while p.start <= last && out.len() < 1_000_000 {
        out.push(p);
        p = period::period_of(p.end.add_days(1), grain, cal);
    }
    Ok(out)
}

/// `__period` (the first day) and `period` (the label) of every spine period.
fn periods_frame(
    periods: &[Period],
    grain: Grain,
    cal: &crate::spec::model::Calendar,
) -> PolarsResult<Option<DataFrame>> {
    if grain == Grain::All && periods.is_empty() {
        return Ok(None);
    }
    let starts: Vec<i32> = periods.iter().map(|p| p.start.0).collect();
    let labels: Vec<String> = periods
        .iter()
        .map(|p| {
            if grain == Grain::All {
                format!("{}..{}", p.start, p.end)
            } else {
                period::label(*p, grain, cal)
            }
        })
        .collect();
    let df = DataFrame::new_infer_height(vec![
        Series::new(PERIOD.into(), starts)
            .cast(&DataType::Date)?
            .into_column(),
        Series::new("period".into(), labels).into_column(),
    ])?;
    Ok(Some(df))
}

/// Every group that appears in any unit's result.
fn all_groups(frames: &[&DataFrame], dims: usize) -> PolarsResult<LazyFrame> {
    let names: Vec<String> = (0..dims).map(dim_col).collect();
    if dims == 0 {
        return Ok(df!(ONE => [1i32])?.lazy());
    }
    if frames.is_empty() {
        let empty: Vec<Column> = names
            .iter()
            .map(|n| Column::new_empty(n.as_str().into(), &DataType::String))
            .collect();
        return Ok(DataFrame::new_infer_height(empty)?
            .lazy()
            .with_column(lit(1i32).alias(ONE)));
    }
    let parts: Vec<LazyFrame> = frames
        .iter()
        .map(|df| {
            (*df).clone().lazy().select(
                names
                    .iter()
                    .map(|n| col(n.as_str()).cast(DataType::String))
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    let all = concat(parts, UnionArgs::default())?
        .unique_stable(None, UniqueKeepStrategy::First)
        .with_column(lit(1i32).alias(ONE));
    Ok(all)
}

/// A stock unit's parts at each spine period: starts minus ends, summed
/// from the first period with data (`at: start` takes the previous period's level).
#[allow(clippy::too_many_arguments)]
fn stock_levels(
    u: &Unit,
    starts: DataFrame,
    ends: Option<DataFrame>,
    periods: &[Period],
    groups: &LazyFrame,
    keys: &[String],
    grain: Grain,
    cal: &crate::spec::model::Calendar,
) -> PolarsResult<LazyFrame> {
    let at_start = matches!(u.time, UnitTime::Stock { at_start: true, .. });
    let Some(last) = periods.last() else {
        return Ok(groups.clone().with_column(lit(NULL).alias(PERIOD)));
    };
    // The unit's own spine starts at its first event, so history before the range counts.
    let first = starts
        .column(PERIOD)
        .ok()
        .and_then(|c| c.cast(&DataType::Int32).ok())
        .and_then(|c| c.i32().ok().and_then(|x| x.min()))
        .map_or(periods[0].start, Date)
        .min(periods[0].start);
    let mut own = Vec::new();
    let mut p = period::period_of(first, grain, cal);
    while p.start <= last.start {
        own.push(p);
        p = period::period_of(p.end.add_days(1), grain, cal);
    }
    let own_frame = periods_frame(&own, grain, cal)?
        .unwrap_or_default()
        .lazy()
        .select([col(PERIOD)]);
    let spine = groups.clone().cross_join(own_frame, None);
    let on: Vec<Expr> = keys.iter().map(|k| col(k.as_str())).collect();
    let names: Vec<String> = u.parts.iter().map(|p| p.name.clone()).collect();
    let mut lf = spine.join(
        starts.lazy().drop(cols([ROWS])),
        on.clone(),
        on.clone(),
        key_join(),
    );
    if let Some(ends) = ends {
        let renamed: Vec<Expr> = names
            .iter()
            .map(|n| col(n.as_str()).alias(format!("{n}__end").as_str()))
            .collect();
        let mut sel: Vec<Expr> = keys.iter().map(|k| col(k.as_str())).collect();
        sel.extend(renamed);
        lf = lf.join(ends.lazy().select(sel), on.clone(), on, key_join());
    }
    let dims: Vec<String> = keys.iter().filter(|k| *k != PERIOD).cloned().collect();
    lf = lf.sort([PERIOD], SortMultipleOptions::default());
    let levels: Vec<Expr> = names
        .iter()
        .map(|n| {
            let net =
                col(n.as_str()).fill_null(lit(0.0)) - col(format!("{n}__end").as_str()).fill_null(lit(0.0));
            let level = compile::per_group(net.cum_sum(false), &dims);
            let level = if at_start {
                compile::per_group(level.shift(lit(1)), &dims).fill_null(lit(0.0))
            } else {
                level
            };
            level.alias(n.as_str())
        })
        .collect();
    let has_ends = lf
        .clone()
        .collect_schema()
        .map(|s| names.iter().all(|n| s.contains(&format!("{n}__end"))))
        .unwrap_or(false);
    if !has_ends {
        let zeros: Vec<Expr> = names
            .iter()
            .map(|n| lit(0.0).alias(format!("{n}__end").as_str()))
            .collect();
        lf = lf.with_columns(zeros);
    }
    let mut sel: Vec<Expr> = keys.iter().map(|k| col(k.as_str())).collect();
    sel.extend(levels);
    Ok(lf.select(sel))
}

/// A CSV row with a missing field would be read as nulls: refuse it instead.
pub(crate) fn check_rows(model: &Model, plan: &Plan) -> Result<(), Vec<Diagnostic>> {
    let mut seen = Vec::new();
    for u in &plan.units {
        let lookups = u
            .lookups
            .iter()
            .map(|&l| model.datasets[u.dataset].lookups[l].dataset);
        for ds in std::iter::once(u.dataset).chain(lookups) {
            if seen.contains(&ds) {
                continue;
            }
            seen.push(ds);
            if let Some(d) = data::malformed_row(&SourceInfo::from_model(&model.datasets[ds])) {
                return Err(vec![d]);
            }
        }
    }
    Ok(())
}

/// Lookups must be many-to-one before they are joined.
pub(crate) fn validate_lookups(model: &Model, plan: &Plan) -> Result<(), Vec<Diagnostic>> {
    let mut sub = model.clone();
    for d in &mut sub.datasets {
        d.lookups.clear();
    }
    for u in &plan.units {
        for &li in &u.lookups {
            let l = model.datasets[u.dataset].lookups[li].clone();
            if !sub.datasets[u.dataset]
                .lookups
                .iter()
                .any(|x| x.dataset == l.dataset && x.left == l.left)
            {
                sub.datasets[u.dataset].lookups.push(l);
            }
        }
    }
    let found = data::validate_lookups(&sub);
    if found.is_empty() {
        Ok(())
    } else {
        Err(found)
    }
}

/// The earliest and latest dates in the data beneath the plan (the range of
/// stock KPIs under `--grain all`), never later than today.
fn data_bounds(model: &Model, plan: &Plan) -> Result<(Date, Date), Vec<Diagnostic>> {
    let mut latest: Option<i32> = None;
    let mut earliest: Option<i32> = None;
    for u in &plan.units {
        let cols: Vec<&String> = match &u.time {
            UnitTime::Flow(t) => vec![t],
            UnitTime::Stock { from, to, .. } => std::iter::once(from).chain(to.iter()).collect(),
            UnitTime::None => continue,
        };
        let src = SourceInfo::from_model(&model.datasets[u.dataset]);
        let lf = data::scan(&src).map_err(|d| vec![d])?;
        let mut aggs: Vec<Expr> = Vec::new();
        for (i, c) in cols.iter().enumerate() {
            let d = col(c.as_str()).cast(DataType::Date);
            aggs.push(d.clone().max().alias(format!("max{i}").as_str()));
            aggs.push(d.min().alias(format!("min{i}").as_str()));
        }
        let df = lf.select(aggs).collect().map_err(polars_error)?;
        for c in df.columns() {
            let Some(v) = c
                .cast(&DataType::Int32)
                .ok()
                .and_then(|v| v.i32().ok().and_then(|x| x.max()))
            else {
                continue;
            };
            if c.name().starts_with("max") {
                latest = Some(latest.map_or(v, |x| x.max(v)));
            } else {
                earliest = Some(earliest.map_or(v, |x| x.min(v)));
            }
        }
    }
    let today = today();
    let last = latest.map_or(today, |d| Date(d).min(today));
    Ok((earliest.map_or(last, Date), last))
}

pub fn today() -> Date {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Date((secs / 86_400) as i32)
}

/// A failed query: find the precise cause in the data when there is one.
pub(crate) fn explain_failure(model: &Model, plan: &Plan, e: PolarsError) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for u in &plan.units {
        let src = SourceInfo::from_model(&model.datasets[u.dataset]);
        match data::malformed_row(&src) {
            Some(d) => out.push(d),
            None => out.extend(data::validate_types(&src)),
        }
    }
    if out.is_empty() {
        out = polars_error(e);
    }
    out
}

/// Polars' optimized plan of each unit of a query (for `kpi explain`), the
/// inner queries of nested aggregates after them: (title, plan).
pub fn describe(model: &Model, query: &Query) -> Result<Vec<(String, String)>, Vec<Diagnostic>> {
    describe_at(model, query, 0)
}

/// The plans of a funnel's steps: one unit counts every step.
pub fn describe_funnel(
    model: &Model,
    name: &str,
    query: &Query,
) -> Result<Vec<(String, String)>, Vec<Diagnostic>> {
    let Some(steps) = funnel::step_model(model, name) else {
        return Ok(Vec::new());
    };
    let (fp, m, kpis) = steps?;
    let names: Vec<&str> = fp.steps.iter().map(|(s, _)| s.as_str()).collect();
    let sub = Query {
        kpis,
        compare: None,
        ..query.clone()
    };
    let described = describe_at(&m, &sub, 0)?;
    Ok(described
        .into_iter()
        .map(|(title, text)| {
            // The hidden step KPIs by their step names, last first (`__step1` is in `__step10`).
            let title = (0..names.len())
                .rev()
                .fold(title, |t, i| t.replace(&format!("__step{i}"), names[i]));
            (format!("funnel {name}: {title}"), text)
        })
        .collect())
}

fn describe_at(model: &Model, query: &Query, depth: usize) -> Result<Vec<(String, String)>, Vec<Diagnostic>> {
    let (model, inner_model, nests) = nested::rewrite(model, depth);
    let plan = plan::plan(&model, query)?;
    let (lazy, layout) = unit_queries(&model, &plan, query)?;
    let mut out = Vec::new();
    let mut queries = lazy.into_iter();
    for (u, l) in plan.units.iter().zip(&layout) {
        let kpis: Vec<&str> = u
            .outputs
            .iter()
            .map(|o| model.kpis[o.kpi].name.as_str())
            .collect();
        let n = match l {
            Layout::Stock { with_ends: true } => 2,
            _ => 1,
        };
        for part in 0..n {
            let Some(lf) = queries.next() else { break };
            let text = lf.describe_optimized_plan().map_err(polars_error)?;
            let what = match (l, part) {
                (Layout::Stock { .. }, 0) => " — starts",
                (Layout::Stock { .. }, _) => " — ends",
                _ => "",
            };
            out.push((
                format!("{} ({}){what}", model.datasets[u.dataset].name, kpis.join(", ")),
                text,
            ));
        }
    }
    // Each nested aggregate's inner query, grouped by its members too.
    for nest in needed_nests(&nests, &plan) {
        let sub = nest_query(query, nest);
        let host = &model.kpis[nest.host].name;
        for (title, text) in describe_at(&inner_model, &sub, depth + 1)? {
            out.push((format!("{host}, per {}: {title}", nest.per.join(", ")), text));
        }
    }
    Ok(out)
}

/// The nested aggregates of KPIs the plan computes.
fn needed_nests<'a>(nests: &'a [nested::Nest], plan: &Plan) -> impl Iterator<Item = &'a nested::Nest> {
    let needed: Vec<usize> = plan
        .derived
        .iter()
        .copied()
        .chain(plan.units.iter().flat_map(|u| u.outputs.iter().map(|o| o.kpi)))
        .collect();
    nests.iter().filter(move |n| needed.contains(&n.host))
}

/// The query of a nested aggregate's members: the outer query's groups and
/// the `per` dimensions.
fn nest_query(query: &Query, nest: &nested::Nest) -> Query {
    let mut by = query.by.clone();
    by.extend(nest.per.iter().filter(|p| !query.by.contains(p)).cloned());
    Query {
        kpis: nest.kpis(),
        by,
        compare: None,
        ..query.clone()
    }
}

impl Evaluation {
    /// The rows as an engine-independent table, with each KPI's unit.
    pub fn table(&self, model: &Model) -> crate::report::table::ResultTable {
        frame_table(&self.frame, |c| self.format_of(model, c))
    }

    /// How a column of the frame reads: a KPI by its unit; beside it under
    /// `--compare`, the earlier value and the change by the same unit (the
    /// change of a percentage in points), the relative change in percent.
    fn format_of(&self, model: &Model, column: &str) -> Option<NumberFormat> {
        use crate::spec::model::Unit;
        let kpi = |c: &str| {
            model
                .kpi_id(c)
                .filter(|_| self.kpis.iter().any(|k| k == c))
                .map(|k| NumberFormat {
                    count: is_count(&model.kpis[k].kind),
                    ..NumberFormat::new(model.kpis[k].unit, model.kpis[k].decimals)
                })
        };
        if !self.compare || self.kpis.iter().any(|k| k == column) {
            return kpi(column);
        }
        if let Some(k) = column.strip_suffix("_change_pct") {
            return kpi(k).map(|_| NumberFormat::new(Some(Unit::Percent), Some(1)));
        }
        if let Some(k) = column.strip_suffix("_change") {
            return kpi(k).map(|f| NumberFormat {
                points: f.unit == Some(Unit::Percent),
                ..f
            });
        }
        column.strip_suffix("_compare").and_then(kpi)
    }

    /// Writes the frame as Parquet (raw values; counts as integers).
    pub fn write_parquet(&self, model: &Model, path: &std::path::Path) -> std::io::Result<()> {
        write_frame(&self.frame, |c| self.format_of(model, c), path)
    }
}

/// Whether a KPI is a plain count of rows or values (a whole number).
fn is_count(kind: &KpiKind) -> bool {
    use crate::check::ir::TKind;
    matches!(
        kind,
        KpiKind::Base { measure, .. } if matches!(
            &measure.kind,
            TKind::Agg { func: AggFn::Count | AggFn::CountDistinct, per, .. } if per.is_empty()
        )
    )
}

/// A frame as a table; `format_of` gives how each number column reads
/// (`None`: a text column).
pub(crate) fn frame_table(
    frame: &DataFrame,
    format_of: impl Fn(&str) -> Option<NumberFormat>,
) -> crate::report::table::ResultTable {
    use crate::report::table::{Cell, ResultTable};
    let columns: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|c| c.to_string())
        .filter(|c| !c.starts_with("__"))
        .collect();
    let formats = columns.iter().map(|c| format_of(c)).collect::<Vec<_>>();
    let mut rows = vec![Vec::with_capacity(columns.len()); frame.height()];
    for (name, f) in columns.iter().zip(&formats) {
        let Ok(c) = frame.column(name) else { continue };
        for (i, row) in rows.iter_mut().enumerate() {
            let v = c.get(i).ok();
            row.push(match f {
                Some(_) => Cell::Number(v.and_then(|v| v.extract::<f64>()).filter(|x| x.is_finite())),
                None => Cell::Text(v.and_then(|v| v.get_str().map(str::to_string))),
            });
        }
    }
    ResultTable {
        columns,
        formats,
        rows,
    }
}

/// Writes a frame as Parquet, whole or not at all: count columns whose
/// values are all whole numbers as integers. `period` stays the label, as
/// in every format (a week, quarter or fiscal period is no single date).
pub(crate) fn write_frame(
    frame: &DataFrame,
    format_of: impl Fn(&str) -> Option<NumberFormat>,
    path: &std::path::Path,
) -> std::io::Result<()> {
    let mut select = Vec::new();
    for c in frame.columns() {
        let name = c.name().as_str();
        let whole = format_of(name).is_some_and(|f| f.integer())
            && c.f64()
                .is_ok_and(|x| x.iter().flatten().all(crate::report::table::is_whole));
        select.push(if whole {
            col(name).cast(DataType::Int64)
        } else {
            col(name)
        });
    }
    let mut df = frame
        .clone()
        .lazy()
        .select(select)
        .collect()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    crate::report::write_output(path, |f| {
        ParquetWriter::new(f)
            .finish(&mut df)
            .map(|_| ())
            .map_err(|e| std::io::Error::other(e.to_string()))
    })
}

/// The latest date in the data beneath a KPI, never later than today (the
/// default as-of date of its targets).
pub fn latest_date(model: &Model, kpi: &str) -> Result<Date, Vec<Diagnostic>> {
    data_range(model, kpi).map(|(_, last)| last)
}

/// The first and last dates in the data beneath a KPI (the last never later than today).
pub fn data_range(model: &Model, kpi: &str) -> Result<(Date, Date), Vec<Diagnostic>> {
    let query = Query {
        kpis: vec![kpi.to_string()],
        ..Query::default()
    };
    let plan = plan::plan(model, &query)?;
    data_bounds(model, &plan)
}
