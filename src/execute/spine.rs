//! The spine every engine's unit frames are joined onto: every group ×
//! every period, empty periods filled, base KPIs from their parts, then
//! derived KPIs (time functions as windows, calendar offsets as joins).

use polars::prelude::*;

use super::{dim_col, key_join, UnitFrames, ONE, PERIOD, ROWS};
use crate::check::functions::AggFn;
use crate::check::ir::KpiKind;
use crate::compile::{self, Cx};
use crate::period::{self, Calendar, Grain, Period};
use crate::plan::{Nest, Plan, Query};
use crate::time::Date;

/// Rows with no period (a null time value) are counted, then dropped, when
/// the query has periods.
pub(super) fn without_periodless_rows(
    units: Vec<UnitFrames>,
    query: &Query,
) -> PolarsResult<(Vec<UnitFrames>, u64)> {
    let mut left_out = 0u64;
    let mut keep = |df: DataFrame| -> PolarsResult<DataFrame> {
        // Most data has a time value on every row: nothing to filter.
        let nulls = df.column(PERIOD).map_or(0, |c| c.null_count());
        if !query.has_periods() || nulls == 0 {
            return Ok(df);
        }
        // Hand-written group-bys put the groups without a period last.
        let dated = df.height() - nulls;
        if df.column(PERIOD)?.slice(dated as i64, nulls).null_count() == nulls {
            left_out += rows_in(df.slice(dated as i64, nulls))?;
            return Ok(df.slice(0, dated));
        }
        left_out += rows_in(df.clone().lazy().filter(col(PERIOD).is_null()).collect()?)?;
        df.lazy().filter(col(PERIOD).is_not_null()).collect()
    };
    let mut out = Vec::with_capacity(units.len());
    for u in units {
        let parts = keep(u.parts)?;
        let ends = u.ends.map(&mut keep).transpose()?;
        out.push(UnitFrames { parts, ends });
    }
    Ok((out, left_out))
}

/// The rows a unit frame's groups count.
fn rows_in(df: DataFrame) -> PolarsResult<u64> {
    let total = df.lazy().select([col(ROWS).sum()]).collect()?;
    Ok(total
        .column(ROWS)
        .ok()
        .and_then(|c| c.get(0).ok())
        .and_then(|v| v.extract::<u64>())
        .unwrap_or(0))
}

/// Every group × every period of the query: the rows of the output.
pub(super) struct Spine {
    /// Groups × periods (`__d0`…, `__period`, `period`, `__one`).
    pub frame: LazyFrame,
    /// Every group seen in any unit's result.
    pub groups: LazyFrame,
    /// The periods, history included.
    pub periods: Vec<Period>,
    /// Whether `__period` and `period` are columns.
    pub with_period: bool,
    pub grain: Grain,
}

impl Spine {
    /// The spine of the groups in `frames` over the query's periods.
    pub fn lay(frames: &[&DataFrame], query: &Query, cal: &Calendar) -> PolarsResult<Spine> {
        let periods = spine_periods(frames, query, cal);
        let groups = all_groups(frames, query.by.len())?;
        let period_frame = periods_frame(&periods, query.grain, cal)?;
        let frame = match &period_frame {
            Some(p) => in_order_cross_join(groups.clone(), p.clone().lazy()),
            None => groups.clone(),
        };
        Ok(Spine {
            frame,
            groups,
            periods,
            with_period: period_frame.is_some(),
            grain: query.grain,
        })
    }
}

/// Every row of `left` with every row of `right`, left-major: sorted groups
/// with sorted periods give the spine in its order.
fn in_order_cross_join(left: LazyFrame, right: LazyFrame) -> LazyFrame {
    let mut args = JoinArgs::new(JoinType::Cross);
    args.maintain_order = MaintainOrderJoin::LeftRight;
    left.join(right, Vec::<Expr>::new(), Vec::<Expr>::new(), args)
}

/// The spine with every nested aggregate and unit joined on; empty sums
/// and counts are 0, and each base KPI is computed from its parts.
///
/// A unit's parts are placed by hand rather than by a join: each spine
/// row's row in the unit frame is found once (a join of the keys alone),
/// then each part column is laid along the spine with its empty value in
/// one pass. A join would gather every part column through nullable row
/// numbers and fill its nulls after, which cost more than the rest of the
/// spine together with 30 KPIs by owner and month.
pub(super) fn onto_spine(
    spine: LazyFrame,
    nest_frames: Vec<(&Nest, DataFrame)>,
    unit_frames: Vec<LazyFrame>,
    plan: &Plan,
    keys: &[String],
) -> PolarsResult<LazyFrame> {
    let model = &*plan.model;
    let on: Vec<Expr> = keys.iter().map(|k| col(k.as_str())).collect();
    let mut out = spine;
    for (nest, f) in nest_frames {
        out = out.join(f.lazy(), on.clone(), on.clone(), key_join());
        if matches!(nest.func, AggFn::Sum | AggFn::Count) {
            out = out.with_column(col(nest.column.as_str()).fill_null(lit(0.0)));
        }
    }
    let mut out = out.collect()?;
    let spine_keys = out.select(keys.iter().map(String::as_str))?;
    let cx = Cx::rows(model, None);
    let mut fills = Vec::new();
    let mut values = Vec::new();
    for (u, f) in plan.units.iter().zip(unit_frames) {
        let f = f.collect()?;
        let rows = rows_on_spine(&spine_keys, &f, keys)?;
        // Each part a fresh column the length of the spine: made side by side.
        let columns = u
            .parts
            .iter()
            .map(|p| Ok((p, f.column(p.name.as_str())?)))
            .collect::<PolarsResult<Vec<_>>>()?;
        let laid = crate::cores::on_cores(columns, |(p, c)| laid_on_spine(c, &rows, p.zero_when_empty()))?;
        for (p, (column, filled)) in u.parts.iter().zip(laid) {
            out.with_column(column)?;
            if p.zero_when_empty() && !filled {
                fills.push(col(p.name.as_str()).fill_null(lit(0.0)));
            }
        }
        values.extend(
            u.outputs
                .iter()
                .map(|o| cx.expr(&o.post).alias(model.kpis[o.kpi].name.as_str())),
        );
    }
    let mut out = out.lazy();
    if !fills.is_empty() {
        out = out.with_columns(fills);
    }
    Ok(out.with_columns(values))
}

/// For each spine row, its row in `frame` (`None`: the frame has no row of
/// that group and period). A frame's keys are unique: it is grouped by them.
fn rows_on_spine(
    spine_keys: &DataFrame,
    frame: &DataFrame,
    keys: &[String],
) -> PolarsResult<Vec<Option<IdxSize>>> {
    const ROW: &str = "__frame_row";
    let frame_keys = frame
        .select(keys.iter().map(String::as_str))?
        .with_row_index(ROW.into(), None)?;
    let on: Vec<Expr> = keys.iter().map(|k| col(k.as_str())).collect();
    let joined = spine_keys
        .clone()
        .lazy()
        .join(frame_keys.lazy(), on.clone(), on, key_join())
        .select([col(ROW)])
        .collect()?;
    if joined.height() != spine_keys.height() {
        polars_bail!(ComputeError: "a unit frame has two rows of one group and period");
    }
    Ok(joined.column(ROW)?.idx()?.iter().collect())
}

/// A part column laid along the spine (`rows`: each spine row's row in the
/// column). Numbers of sums and counts (`zero`) are 0 where the group had no
/// row, or a null; other parts are null there. Also says whether the empty
/// rows were filled here (float columns), or are still null.
fn laid_on_spine(column: &Column, rows: &[Option<IdxSize>], zero: bool) -> PolarsResult<(Column, bool)> {
    let name = column.name().clone();
    let Ok(x) = column.f64() else {
        let idx: IdxCa = rows.iter().copied().collect();
        return Ok((column.take(&idx)?, false));
    };
    // Read from one array (its buffer alone when it has no nulls). A frame
    // without rows may have no chunk at all, and rechunking none fails.
    let x = match x.chunks().len() {
        0 | 1 => std::borrow::Cow::Borrowed(x),
        _ => x.rechunk(),
    };
    let laid = match x.downcast_iter().next() {
        Some(a) if zero && a.validity().is_none() => {
            let v = a.values().as_slice();
            let laid: Vec<f64> = rows.iter().map(|r| r.map_or(0.0, |i| v[i as usize])).collect();
            Float64Chunked::from_vec(name, laid)
        }
        Some(a) => lay(rows, zero, name, |i| a.get(i)),
        None => lay(rows, zero, name, |_| None),
    };
    Ok((laid.into_column(), true))
}

/// `rows` of a column read by `value` (by row number): where a row is
/// missing or null, 0 if `zero`, else null.
fn lay(
    rows: &[Option<IdxSize>],
    zero: bool,
    name: PlSmallStr,
    value: impl Fn(usize) -> Option<f64>,
) -> Float64Chunked {
    let at = |r: &Option<IdxSize>| r.and_then(|i| value(i as usize));
    match zero {
        true => rows.iter().map(|r| Some(at(r).unwrap_or(0.0))).collect_ca(name),
        false => rows.iter().map(at).collect_ca(name),
    }
}

/// Derived KPIs in dependency order over the sorted spine: time functions
/// as windows over parts, calendar offsets (`prev(k, "year")`) as joins.
pub(super) fn derived_kpis(
    mut out: LazyFrame,
    plan: &Plan,
    keys: &[String],
    spine: &Spine,
) -> PolarsResult<LazyFrame> {
    let (model, query) = (&*plan.model, &plan.query);
    let periods = &spine.periods;
    let (grain, cal) = (query.grain, &model.calendar);
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
            joined.push(name);
        }
        out = out.with_column(over_spine.expr(measure).alias(model.kpis[k].name.as_str()));
    }
    Ok(out)
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

/// Group keys every unit frame carries: the dimensions, the period (if any) and a constant.
pub(super) fn key_names(plan: &Plan) -> Vec<String> {
    let mut keys: Vec<String> = (0..plan.query.by.len()).map(dim_col).collect();
    if plan.query.grain != Grain::All || plan.query.range.is_some() {
        keys.push(PERIOD.to_string());
    }
    keys.push(ONE.to_string());
    keys
}

/// Periods of the range, or from the first to the last period in the data.
fn spine_periods(frames: &[&DataFrame], query: &Query, cal: &Calendar) -> Vec<Period> {
    let grain = query.grain;
    if grain == Grain::All {
        return query.range.into_iter().collect();
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
                _ => return Vec::new(),
            }
        }
    };
    let mut out = Vec::new();
    let mut p = period::period_of(first, grain, cal);
    while p.start <= last && out.len() < 1_000_000 {
        out.push(p);
        p = period::period_of(p.end.add_days(1), grain, cal);
    }
    out
}

/// `__period` (the first day) and `period` (the label) of every spine period.
pub(super) fn periods_frame(
    periods: &[Period],
    grain: Grain,
    cal: &Calendar,
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
        .unique(None, UniqueKeepStrategy::Any)
        .sort(
            names.clone(),
            SortMultipleOptions::default().with_nulls_last(true),
        )
        .with_column(lit(1i32).alias(ONE));
    Ok(all)
}
