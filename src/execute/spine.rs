//! The spine every engine's unit frames are joined onto: every group ×
//! every period, empty periods filled, base KPIs from their parts, then
//! derived KPIs (time functions as windows, calendar offsets as joins).

use polars::prelude::*;
use polars_arrow::array::{Array, PrimitiveArray};
use polars_arrow::bitmap::MutableBitmap;
use polars_arrow::datatypes::ArrowDataType;

use super::{dim_col, key_join, UnitFrames, ONE, PERIOD, ROWS};
use crate::check::functions::AggFn;
use crate::check::ir::KpiKind;
use crate::compile::{self, Cx};
use crate::diagnostic::Diagnostic;
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
    /// Every group seen in any unit's result, sorted (nulls last).
    pub groups: DataFrame,
    /// The periods, history included.
    pub periods: Vec<Period>,
    /// Whether `__period` and `period` are columns.
    pub with_period: bool,
    pub grain: Grain,
}

impl Spine {
    /// The spine of the groups in `frames` and in stocks' `ends` (or in
    /// `counted`, when history before the range is read) over the query's
    /// periods.
    pub fn lay(
        frames: &[&DataFrame],
        ends: &[&DataFrame],
        counted: Option<&[DataFrame]>,
        query: &Query,
        cal: &Calendar,
    ) -> Result<Spine, Vec<Diagnostic>> {
        let periods = spine_periods(frames, ends, query, cal).map_err(|d| vec![d])?;
        let all: Vec<&DataFrame> = match counted {
            Some(c) => c.iter().collect(),
            None => frames.iter().chain(ends).copied().collect(),
        };
        let groups = all_groups(&all, query.by.len())
            .and_then(LazyFrame::collect)
            .map_err(super::polars_error)?;
        let period_frame = periods_frame(&periods, query.grain, cal).map_err(super::polars_error)?;
        let frame = match &period_frame {
            Some(p) => in_order_cross_join(groups.clone().lazy(), p.clone().lazy()),
            None => groups.clone().lazy(),
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
/// A unit's parts are placed by hand rather than by a join: each unit
/// frame row's place on the spine is found once ([`places_on_spine`]),
/// then each part column is laid along the spine with its empty value in
/// one pass. A join would gather every part column through nullable row
/// numbers and fill its nulls after, which cost more than the rest of the
/// spine together with 30 KPIs by owner and month.
pub(super) fn onto_spine(
    spine: &Spine,
    nest_frames: Vec<(&Nest, DataFrame)>,
    unit_frames: Vec<LazyFrame>,
    plan: &Plan,
    keys: &[String],
) -> PolarsResult<LazyFrame> {
    let model = &*plan.model;
    let on: Vec<Expr> = keys.iter().map(|k| col(k.as_str())).collect();
    let mut out = spine.frame.clone();
    for (nest, f) in nest_frames {
        out = out.join(f.lazy(), on.clone(), on.clone(), key_join());
        if matches!(nest.func, AggFn::Sum | AggFn::Count) {
            out = out.with_column(col(nest.column.as_str()).fill_null(lit(0.0)));
        }
    }
    let mut out = out.collect()?;
    let cx = Cx::rows(model, None);
    let mut fills = Vec::new();
    let mut values = Vec::new();
    for (u, f) in plan.units.iter().zip(unit_frames) {
        let f = f.collect()?;
        let on = places_on_spine(spine, &f, plan.query.by.len())?;
        // Each part a fresh column the length of the spine: made side by side.
        let columns = u
            .parts
            .iter()
            .map(|p| Ok((p, f.column(p.name.as_str())?)))
            .collect::<PolarsResult<Vec<_>>>()?;
        let laid = crate::cores::on_cores(columns, |(p, c)| laid_on_spine(c, &on, p.zero_when_empty()))?;
        let mut laid_columns = Vec::with_capacity(laid.len());
        for (p, (column, filled)) in u.parts.iter().zip(laid) {
            laid_columns.push(column);
            if p.zero_when_empty() && !filled {
                fills.push(col(p.name.as_str()).fill_null(lit(0.0)));
            }
        }
        // Added together: each column added alone looked up its name among
        // all before it (a spec of thousands of KPIs was quadratic).
        out.hstack_mut(&laid_columns)?;
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

/// Where each row of a unit frame goes on the spine.
struct OnSpine {
    /// The spine's length.
    len: usize,
    /// Each frame row's spine row, or [`OnSpine::OFF`].
    places: Vec<IdxSize>,
}

impl OnSpine {
    /// A frame row whose group or period is not on the spine.
    const OFF: IdxSize = IdxSize::MAX;

    /// For each spine row, its row in the frame (`None`: the frame has no
    /// row of that group and period).
    fn rows(&self) -> Vec<Option<IdxSize>> {
        let mut rows = vec![None; self.len];
        for (row, &at) in self.places.iter().enumerate() {
            if at != Self::OFF {
                rows[at as usize] = Some(row as IdxSize);
            }
        }
        rows
    }
}

/// Each row of `frame`'s place on the spine. The spine is its sorted
/// groups, each with every period in order, so a frame row's place is its
/// group's number times the number of periods, plus its period's: each
/// looked up, where a join of the spine's keys with the frame's cost more
/// than the rest of the spine for one KPI by owner and month. A frame's
/// keys are unique: it is grouped by them.
fn places_on_spine(spine: &Spine, frame: &DataFrame, dims: usize) -> PolarsResult<OnSpine> {
    let texts = |df: &DataFrame| -> PolarsResult<Vec<StringChunked>> {
        (0..dims)
            .map(|d| {
                Ok(df
                    .column(dim_col(d).as_str())?
                    .cast(&DataType::String)?
                    .str()?
                    .rechunk()
                    .into_owned())
            })
            .collect()
    };
    let (spine_dims, frame_dims) = (texts(&spine.groups)?, texts(frame)?);
    let mut numbers: PlHashMap<Vec<Option<&str>>, usize> = PlHashMap::default();
    for g in 0..spine.groups.height() {
        numbers.insert(spine_dims.iter().map(|c| c.get(g)).collect(), g);
    }
    let days = match spine.with_period {
        true => Some(
            frame
                .column(PERIOD)?
                .cast(&DataType::Date)?
                .date()?
                .physical()
                .rechunk()
                .into_owned(),
        ),
        false => None,
    };
    let width = if spine.with_period { spine.periods.len() } else { 1 };
    let len = spine.groups.height() * width;
    let mut taken = vec![false; len];
    let mut places = Vec::with_capacity(frame.height());
    // A frame's rows of one group often come together: the last group
    // found is tried first.
    let (mut key, mut last_key) = (Vec::with_capacity(dims), Vec::with_capacity(dims));
    let mut last_group = None;
    for row in 0..frame.height() {
        key.clear();
        key.extend(frame_dims.iter().map(|c| c.get(row)));
        let group = match last_group {
            Some(g) if key == last_key => Some(g),
            _ => numbers.get(key.as_slice()).copied().inspect(|&g| {
                std::mem::swap(&mut key, &mut last_key);
                last_group = Some(g);
            }),
        };
        let period = match &days {
            None => Some(0),
            Some(days) => days
                .get(row)
                .and_then(|day| spine.periods.binary_search_by_key(&day, |p| p.start.0).ok()),
        };
        let Some(at) = group.zip(period).map(|(g, p)| g * width + p) else {
            places.push(OnSpine::OFF);
            continue;
        };
        if std::mem::replace(&mut taken[at], true) {
            polars_bail!(ComputeError: "a unit frame has two rows of one group and period");
        }
        places.push(at as IdxSize);
    }
    Ok(OnSpine { len, places })
}

/// A part column laid along the spine. Numbers of sums and counts (`zero`)
/// are 0 where the group had no row, or a null; other parts are null there.
/// Also says whether the empty rows were filled here (float columns), or
/// are still null.
///
/// Float columns are scattered: each frame row's value written at its
/// place. Gathering each spine row's value from the frame instead reads the
/// frame's column in random order, which was about 2.5 times slower.
fn laid_on_spine(column: &Column, on: &OnSpine, zero: bool) -> PolarsResult<(Column, bool)> {
    let name = column.name().clone();
    let Ok(x) = column.f64() else {
        let idx: IdxCa = on.rows().into_iter().collect();
        return Ok((column.take(&idx)?, false));
    };
    let mut values = vec![0.0; on.len];
    let mut valid = (!zero).then(|| MutableBitmap::from_len_zeroed(on.len));
    let mut row = 0;
    for a in x.downcast_iter() {
        let Some(places) = on.places.get(row..row + a.len()) else {
            polars_bail!(ComputeError: "a part column is longer than its frame");
        };
        row += a.len();
        for (i, &at) in places.iter().enumerate() {
            if at == OnSpine::OFF || !a.is_valid(i) {
                continue;
            }
            values[at as usize] = a.value(i);
            if let Some(valid) = &mut valid {
                valid.set(at as usize, true);
            }
        }
    }
    let laid = PrimitiveArray::new(ArrowDataType::Float64, values.into(), valid.map(Into::into));
    Ok((Float64Chunked::with_chunk(name, laid).into_column(), true))
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
    for level in derived_levels(plan) {
        let mut level_values = Vec::with_capacity(level.len());
        for (k, measure) in level {
            out = with_calendar_refs(out, measure, (model, keys, spine, grain), &mut joined)?;
            level_values.push(over_spine.expr(measure).alias(model.kpis[k].name.as_str()));
        }
        out = out.with_columns(level_values);
    }
    Ok(out)
}

/// The plan's derived KPIs by level, each with its measure: those over
/// base KPIs alone first, then those over the first, and so on. A level is
/// added in one step: a step per KPI made a plan as deep as the KPIs are
/// many, which Polars' optimizer took in quadratic time and memory (2,000
/// derived KPIs: 2.4 s and 1 GB).
fn derived_levels<'a>(plan: &'a Plan<'a>) -> Vec<Vec<(usize, &'a crate::check::ir::TExpr)>> {
    let model = &*plan.model;
    let mut level_of: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    let mut levels: Vec<Vec<(usize, &crate::check::ir::TExpr)>> = Vec::new();
    // In dependency order: what a KPI reads has its level already.
    for &k in &plan.derived {
        let KpiKind::Derived { measure } = &model.kpis[k].kind else {
            continue;
        };
        let mut reads = Vec::new();
        measure.kpis(&mut reads);
        let level = reads
            .iter()
            .filter_map(|r| level_of.get(r))
            .max()
            .map_or(0, |l| l + 1);
        level_of.insert(k, level);
        if levels.len() <= level {
            levels.resize_with(level + 1, Vec::new);
        }
        levels[level].push((k, measure));
    }
    levels
}

/// `out` with each KPI value `measure` reads a calendar unit earlier
/// (`prev(k, "year")`), joined once per KPI and unit (`joined`).
fn with_calendar_refs(
    mut out: LazyFrame,
    measure: &crate::check::ir::TExpr,
    (model, keys, spine, grain): (&crate::check::ir::Model, &[String], &Spine, Grain),
    joined: &mut Vec<String>,
) -> PolarsResult<LazyFrame> {
    let (periods, cal) = (&spine.periods, &model.calendar);
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
            crate::data::with_null_columns(out, vec![(name.clone(), DataType::Float64)])
        };
        joined.push(name);
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

/// Without a range (and under a grain), the periods a spine of `frames`
/// spans, from the first period of the data to the last, as one range.
pub(super) fn data_range(
    frames: &[&DataFrame],
    ends: &[&DataFrame],
    query: &Query,
    cal: &Calendar,
) -> Option<Period> {
    if query.range.is_some() || query.grain == Grain::All {
        return None;
    }
    let periods = spine_periods(frames, ends, query, cal).ok()?;
    Some(Period {
        start: periods.first()?.start,
        end: periods.last()?.end,
    })
}

/// Periods of the range, or without one from the first to the last period
/// of `frames` (the data); a stock's ends (`ends`) lengthen it up to
/// today's period only: a contract's end date in the future is a plan, not
/// history (as `--grain all` takes a stock's level at today at the latest).
fn spine_periods(
    frames: &[&DataFrame],
    ends: &[&DataFrame],
    query: &Query,
    cal: &Calendar,
) -> Result<Vec<Period>, Diagnostic> {
    let grain = query.grain;
    if grain == Grain::All {
        return Ok(query.range.into_iter().collect());
    }
    let (first, last) = match query.range {
        Some(r) => (query.history.map_or(r.start, |h| h.min(r.start)), r.end),
        None => {
            let bounds = |frames: &[&DataFrame]| {
                frames
                    .iter()
                    .filter_map(|df| {
                        let days = df.column(PERIOD).ok()?.cast(&DataType::Int32).ok()?;
                        let days = days.i32().ok()?;
                        Some((days.min()?, days.max()?))
                    })
                    .reduce(|(a, b), (c, d)| (a.min(c), b.max(d)))
            };
            let today = period::period_of(super::today(), grain, cal).start.0;
            let ends = bounds(ends).map(|(_, last)| last.min(today));
            match bounds(frames) {
                Some((a, b)) => (Date(a), Date(ends.map_or(b, |e| b.max(e)))),
                None => return Ok(Vec::new()),
            }
        }
    };
    let periods: Vec<Period> = period::periods_between(first, last, grain, cal)
        .take(MAX_PERIODS + 1)
        .collect();
    match periods.len() > MAX_PERIODS {
        true => Err(super::diagnostics::too_many_periods(
            first,
            last,
            grain,
            MAX_PERIODS,
            query.range.is_none(),
        )),
        false => Ok(periods),
    }
}

/// A range of more than [`MAX_PERIODS`] periods is refused before any data
/// is read: the periods before it that a comparison reads are worked out
/// one by one, which for millions of days took longer than the refusal.
pub(super) fn range_fits(query: &Query, cal: &Calendar) -> Result<(), Vec<Diagnostic>> {
    let Some(r) = query.range.filter(|_| query.grain != Grain::All) else {
        return Ok(());
    };
    match period::periods_between(r.start, r.end, query.grain, cal).nth(MAX_PERIODS) {
        Some(_) => Err(vec![super::diagnostics::too_many_periods(
            r.start,
            r.end,
            query.grain,
            MAX_PERIODS,
            false,
        )]),
        None => Ok(()),
    }
}

/// The most periods a spine may have: 2,700 years of days. More is nearly
/// always a placeholder date in the data (1900-01-01, 9999-12-31) or a
/// mistyped range, and a spine cut short would drop the values beyond it.
const MAX_PERIODS: usize = 1_000_000;

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

/// Every group in `frames` (`__d0`… columns), sorted.
pub(super) fn groups_of(frames: &[&DataFrame], dims: usize) -> PolarsResult<DataFrame> {
    all_groups(frames, dims)?.collect()
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
        .collect()?;
    let keys = group_order(&all, &names)?;
    let options = ascending(keys.len());
    Ok(all
        .lazy()
        .sort_by_exprs(keys, options)
        .with_column(lit(1i32).alias(ONE)))
}

/// Sort keys that put groups in order: a dimension of numbers (as texts
/// here) by their value, so that 2 comes before 10, then by its text; any
/// other by its text (dates, as ISO text, sort in time).
pub(super) fn group_order(frame: &DataFrame, dims: &[String]) -> PolarsResult<Vec<Expr>> {
    let mut keys = Vec::new();
    for n in dims {
        if only_numbers(frame.column(n.as_str())?)? {
            keys.push(col(n.as_str()).cast(DataType::Float64));
        }
        keys.push(col(n.as_str()));
    }
    Ok(keys)
}

/// Every one of `n` keys ascending, nulls last, ties kept in order.
pub(super) fn ascending(n: usize) -> SortMultipleOptions {
    SortMultipleOptions::default()
        .with_order_descending_multi(vec![false; n])
        .with_nulls_last(true)
        .with_maintain_order(true)
}

/// Whether every value of a text column (nulls aside, and one at least)
/// reads as a number.
fn only_numbers(c: &Column) -> PolarsResult<bool> {
    let values = c.len() - c.null_count();
    let numbers = c.cast(&DataType::Float64)?;
    Ok(values > 0 && numbers.len() - numbers.null_count() == values)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Groups `a`, `b` and null (sorted, null last) by three months: each
    /// frame row found at group × 3 + month, whatever the frame's order; a
    /// row of a month off the spine, and spine rows without a frame row,
    /// left out.
    #[test]
    fn each_frame_row_is_found_at_its_group_and_period() {
        let cal = Calendar::default();
        let jan = period::period_of(Date(20_089), Grain::Month, &cal);
        let feb = period::period_of(jan.end.add_days(1), Grain::Month, &cal);
        let mar = period::period_of(feb.end.add_days(1), Grain::Month, &cal);
        let apr = period::period_of(mar.end.add_days(1), Grain::Month, &cal);
        let groups = df!("__d0" => [Some("a"), Some("b"), None], ONE => [1i32, 1, 1]).unwrap();
        let spine = Spine {
            frame: groups.clone().lazy(),
            groups,
            periods: vec![jan, feb, mar],
            with_period: true,
            grain: Grain::Month,
        };
        let starts = |ps: &[Period]| -> Vec<i32> { ps.iter().map(|p| p.start.0).collect() };
        let frame = df!(
            "__d0" => [None, Some("b"), Some("a"), Some("a"), Some("b")],
            PERIOD => starts(&[feb, jan, mar, jan, apr]),
        )
        .unwrap()
        .lazy()
        .with_column(col(PERIOD).cast(DataType::Date))
        .collect()
        .unwrap();
        let rows = places_on_spine(&spine, &frame, 1).unwrap().rows();
        // a: Jan (row 3, right after a's March), Mar (row 2); b: Jan (row 1);
        // null: Feb (row 0); b's April is off the spine.
        let want = [Some(3), None, Some(2), Some(1), None, None, None, Some(0), None];
        assert_eq!(rows, want.map(|r: Option<IdxSize>| r));

        let twice = df!("__d0" => ["a", "a"], PERIOD => starts(&[jan, jan]))
            .unwrap()
            .lazy()
            .with_column(col(PERIOD).cast(DataType::Date))
            .collect()
            .unwrap();
        assert!(places_on_spine(&spine, &twice, 1).is_err());
    }

    /// Values scattered to their places: a null, a row off the spine and
    /// spine rows without a frame row are 0 for sums and counts and null
    /// otherwise, across two chunks.
    #[test]
    fn parts_are_laid_at_their_places_with_their_empty_value() {
        let on = OnSpine {
            len: 5,
            places: vec![3, OnSpine::OFF, 0, 4],
        };
        let mut x = Float64Chunked::new("x".into(), [Some(1.5), Some(9.0)]);
        x.append(&Float64Chunked::new("x".into(), [None, Some(-2.0)]))
            .unwrap();
        let column = x.into_column();
        let laid = |zero| {
            let (c, filled) = laid_on_spine(&column, &on, zero).unwrap();
            assert!(filled);
            c.f64().unwrap().iter().collect::<Vec<_>>()
        };
        assert_eq!(
            laid(true),
            [Some(0.0), Some(0.0), Some(0.0), Some(1.5), Some(-2.0)]
        );
        assert_eq!(laid(false), [None, None, None, Some(1.5), Some(-2.0)]);
        assert_eq!(on.rows(), [Some(2), None, None, Some(0), Some(3)]);
    }
}
