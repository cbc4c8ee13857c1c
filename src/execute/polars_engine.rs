//! The Polars engine: each unit of a plan compiled to a lazy query over the
//! dataset's files (scan, lookups, segment filters, dimensions, period
//! bucketing, one group-by of all its parts), all collected together so
//! that shared scans are read once.

use polars::prelude::*;

use super::accumulate::{GroupBy, Output, Periods, Reduce, MAX_DIMS};
use super::chunks::{self, Rows};
use super::engine::{Engine, UnitFrames};
use super::lookups::Lookups;
use super::parts::{by_hand_fits, index_in, part_aggs, PartAggs};
use super::{dim_col, polars_error, NON_FINITE, ONE, PERIOD, ROWS};
use crate::check::ir::Model;
use crate::compile::{self, Cx};
use crate::data::{self, SourceInfo};
use crate::diagnostic::Diagnostic;
use crate::period::{self, Grain};
use crate::plan::{Plan, Query, Unit, UnitTime};
use crate::time::Date;

/// Polars over the datasets' files: every unit compiled to a lazy query,
/// those over one dataset collected together so that shared scans are read
/// once.
pub struct Polars;

impl Engine for Polars {
    fn run_units(&self, plan: &Plan) -> Result<Vec<UnitFrames>, Vec<Diagnostic>> {
        let lookups = Lookups::read(plan)?;
        check_rows(plan)?;
        let bounds = stock_bounds(plan)?;
        let mut out: Vec<Option<UnitFrames>> = plan.units.iter().map(|_| None).collect();
        // One dataset after another: memory holds the columns of one
        // dataset (or one chunk of it) at a time. Measured over 1M deals,
        // 3M leads and 5M activities by owner and month, going dataset by
        // dataset cut peak memory by a quarter to two fifths.
        for d in dataset_order(plan.units.iter().map(|u| u.dataset)) {
            for (how, units, reads) in units_and_reads(plan, d)? {
                for (f, i) in run_grouped(plan, &lookups, &units, how, &reads, bounds)?
                    .into_iter()
                    .zip(units)
                {
                    out[i] = Some(f);
                }
            }
        }
        Ok(out.into_iter().flatten().collect())
    }
}

/// How a unit's rows are grouped.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Grouping {
    /// By Polars' group-by: every row read at once (or streamed).
    Polars,
    /// By the hand-written group-by ([`super::accumulate`]), chunk by chunk.
    ByHand,
}

/// The hand-written group-by takes counts, sums, minimums and maximums of
/// units with a few dimensions, on the in-memory engine (the streaming
/// engine aggregates as it reads, and would otherwise gather every row).
pub(crate) fn grouping(u: &Unit) -> Grouping {
    if super::streaming() || u.dims.len() > MAX_DIMS || !by_hand_fits(&u.parts) {
        Grouping::Polars
    } else {
        Grouping::ByHand
    }
}

/// Units grouped one way, and the reads they take.
pub(crate) type UnitsAndReads = (Grouping, Vec<usize>, Vec<Rows>);

/// The units of dataset `d`, by how they are grouped, each with the reads
/// it takes: every row at once for Polars' group-by, the dataset's chunks
/// for the hand-written one.
pub(crate) fn units_and_reads(plan: &Plan, d: usize) -> Result<[UnitsAndReads; 2], Vec<Diagnostic>> {
    let units = (0..plan.units.len()).filter(|&i| plan.units[i].dataset == d);
    let (by_hand, by_polars): (Vec<usize>, Vec<usize>) =
        units.partition(|&i| grouping(&plan.units[i]) == Grouping::ByHand);
    let chunks = match by_hand.is_empty() {
        true => Vec::new(),
        false => chunks::of_dataset(&plan.model, d)?,
    };
    Ok([
        (Grouping::Polars, by_polars, vec![Rows::All]),
        (Grouping::ByHand, by_hand, chunks),
    ])
}

/// The datasets in the order they first appear.
pub(crate) fn dataset_order(datasets: impl Iterator<Item = usize>) -> Vec<usize> {
    let mut order = Vec::new();
    for d in datasets {
        index_in(&mut order, d);
    }
    order
}

/// Units of one dataset grouped one way: their queries for each of
/// `reads` (every row, or the dataset's chunks) collected together, so a
/// scan they share is read once.
fn run_grouped(
    plan: &Plan,
    lookups: &Lookups,
    units: &[usize],
    how: Grouping,
    reads: &[Rows],
    bounds: Option<(Date, Date)>,
) -> Result<Vec<UnitFrames>, Vec<Diagnostic>> {
    if units.is_empty() {
        return Ok(Vec::new());
    }
    let layout: Vec<Layout> = units
        .iter()
        .map(|&i| layout_of(&plan.units[i], plan.query.grain))
        .collect();
    let frames = run_reads(plan, reads, &|read| {
        unit_queries(plan, lookups, units, bounds, read, how).map(|(queries, _)| queries)
    })?;
    Ok(unit_frames(&layout, frames))
}

/// One read's frames, and the group-bys of the queries grouped by hand.
type Collected = (Vec<DataFrame>, Vec<Option<GroupBy>>);

/// The frames of unit queries built by `build` for each of `reads` (the
/// whole dataset, or its chunks in file order), one per query. Queries of
/// one read are collected together, so a scan they share is read once;
/// each frame of a query grouped by hand is added to its group-by (made by
/// the first read), read after read, while the next read is collected on
/// another thread (one read ahead), so Polars' reading and the hand-written
/// group-by overlap. Queries grouped by Polars take a single read.
pub(crate) fn run_reads(
    plan: &Plan,
    reads: &[Rows],
    build: &(dyn Fn(Rows) -> Result<Vec<UnitQuery>, Vec<Diagnostic>> + Sync),
) -> Result<Vec<DataFrame>, Vec<Diagnostic>> {
    let Some((&first, rest)) = reads.split_first() else {
        return Ok(Vec::new());
    };
    let collect = |read: Rows| -> Result<Collected, Vec<Diagnostic>> {
        let (lazy, groups): (Vec<LazyFrame>, Vec<Option<GroupBy>>) =
            build(read)?.into_iter().map(|q| (q.lf, q.by_hand)).unzip();
        let frames = super::collect_all(lazy).map_err(|e| explain_failure(plan, e))?;
        Ok((frames, groups))
    };
    let (frames, mut groups) = collect(first)?;
    // Each query's frame so far: Polars' result, or nothing (grouped by hand).
    let mut results: Vec<Option<DataFrame>> = Vec::with_capacity(frames.len());
    for (f, g) in frames.into_iter().zip(groups.iter_mut()) {
        match g {
            Some(g) => {
                g.add(&f).map_err(polars_error)?;
                results.push(None);
            }
            None => results.push(Some(f)),
        }
    }
    if !rest.is_empty() {
        if results.iter().any(Option::is_some) {
            return Err(polars_error(PolarsError::ComputeError(
                "a unit grouped by Polars was read in chunks".into(),
            )));
        }
        std::thread::scope(|s| {
            let (tx, rx) = std::sync::mpsc::sync_channel(1);
            s.spawn(move || {
                for &read in rest {
                    let frames = collect(read).map(|(f, _)| f);
                    let failed = frames.is_err();
                    // The receiver stops at the first failure, and so do we.
                    if tx.send(frames).is_err() || failed {
                        break;
                    }
                }
            });
            for frames in rx {
                for (f, g) in frames?.iter().zip(groups.iter_mut()) {
                    if let Some(g) = g {
                        g.add(f).map_err(polars_error)?;
                    }
                }
            }
            Ok::<(), Vec<Diagnostic>>(())
        })?;
    }
    results
        .into_iter()
        .zip(groups)
        .map(|(r, g)| match (r, g) {
            (Some(f), _) => Ok(f),
            (None, Some(g)) => g.finish().map_err(polars_error),
            (None, None) => Err(polars_error(by_hand_missing())),
        })
        .collect()
}

fn by_hand_missing() -> PolarsError {
    PolarsError::ComputeError("a unit grouped by hand has no group-by".into())
}

/// Query frames as unit frames: a stock with ends has two.
fn unit_frames(layout: &[Layout], frames: Vec<DataFrame>) -> Vec<UnitFrames> {
    let mut frames = frames.into_iter();
    let mut out = Vec::with_capacity(layout.len());
    for l in layout {
        let Some(parts) = frames.next() else { break };
        let ends = match l {
            Layout::Stock { with_ends: true } => frames.next(),
            _ => None,
        };
        out.push(UnitFrames { parts, ends });
    }
    out
}

/// The range a stock takes its moment from under `--grain all` (the
/// query's, else the data's dates); `None` when no stock needs one.
pub(crate) fn stock_bounds(plan: &Plan) -> Result<Option<(Date, Date)>, Vec<Diagnostic>> {
    let needed = plan.query.grain == Grain::All
        && plan
            .units
            .iter()
            .any(|u| matches!(u.time, UnitTime::Stock { .. }));
    if !needed {
        return Ok(None);
    }
    Ok(Some(match plan.query.range {
        Some(r) => (r.start, r.end),
        None => super::data_dates::data_bounds(plan)?,
    }))
}

/// A unit's query: the result of Polars' group-by, or (grouped by hand)
/// its rows' keys and part inputs, with the group-by they go into.
pub(crate) struct UnitQuery {
    pub lf: LazyFrame,
    pub by_hand: Option<GroupBy>,
}

/// The queries of some of a plan's units (`units`: their indices), reading
/// `read` of their dataset: one per flow unit, and for a stock unit under a
/// grain, one for its starts and one for its ends.
pub(crate) fn unit_queries(
    plan: &Plan,
    lookups: &Lookups,
    units: &[usize],
    bounds: Option<(Date, Date)>,
    read: Rows,
    how: Grouping,
) -> Result<(Vec<UnitQuery>, Vec<Layout>), Vec<Diagnostic>> {
    let mut queries = Vec::new();
    let mut layout = Vec::new();
    for &i in units {
        queries.extend(unit_query(plan, lookups, &plan.units[i], bounds, read, how)?);
        layout.push(layout_of(&plan.units[i], plan.query.grain));
    }
    Ok((queries, layout))
}

/// The queries of one unit.
fn unit_query(
    plan: &Plan,
    lookups: &Lookups,
    u: &Unit,
    bounds: Option<(Date, Date)>,
    read: Rows,
    how: Grouping,
) -> Result<Vec<UnitQuery>, Vec<Diagnostic>> {
    let (model, query) = (&*plan.model, &plan.query);
    let grain = query.grain;
    let base = unit_rows(model, lookups, u, read)?;
    let group = |rows: LazyFrame, period: bool| aggregate(model, u, rows, period, how, grain);
    Ok(match (&u.time, grain) {
        // Under `--grain all` a stock is taken at the end of the range (`at:
        // start`: the day before it starts).
        (UnitTime::Stock { from, to, at_start }, Grain::All) => {
            let moment = bounds.map_or(
                Date(0),
                |(first, last)| if *at_start { first.add_days(-1) } else { last },
            );
            let rows = base.filter(active_on(from, to.as_ref(), moment));
            vec![match query.range {
                Some(r) => group(rows.with_column(compile::date_lit(r.start.0).alias(PERIOD)), true),
                None => group(rows, false),
            }]
        }
        (UnitTime::Stock { from, to, at_start }, _) => {
            // Starts bucketed by the period of `from`, ends by that of `to`
            // (of the rows `bucketed_stock_rows` keeps), within the range's days.
            let base = base.filter(bucketed_stock_rows(from, to.as_ref()));
            let days = crate::plan::StockDays::of(query, &model.calendar, *at_start);
            let bucketed = |c: &str, rows: LazyFrame| {
                let (rows, day) = stock_days(rows.filter(col(c).is_not_null()), c, days);
                let key = period_key(day, grain, &model.calendar, how);
                group(rows.with_column(key.alias(PERIOD)), true)
            };
            let mut q = vec![bucketed(from, base.clone())];
            q.extend(to.as_ref().map(|to| bucketed(to, base)));
            q
        }
        (UnitTime::Flow(t), _) => {
            let (rows, key) = flow(model, base, t, query, how);
            vec![match key {
                Some(k) => group(rows.with_column(k.alias(PERIOD)), true),
                None => group(rows, false),
            }]
        }
        (UnitTime::None, _) => vec![group(base, false)],
    })
}

/// The period of each row from its time column `t`: the period's first day
/// for Polars' group-by, the day itself for the hand-written one (which
/// puts each distinct day in its period once).
fn period_key(t: Expr, grain: Grain, cal: &crate::period::Calendar, how: Grouping) -> Expr {
    match how {
        Grouping::Polars => compile::period_start(t, grain, cal),
        Grouping::ByHand => super::days::days_since_1970(t),
    }
}

/// A flow: rows in the range (and whole periods of history before it),
/// and the period key of each, from its time column `t`. Rows without a
/// time value are kept, with no period, to be counted and left out.
fn flow(model: &Model, base: LazyFrame, t: &str, query: &Query, how: Grouping) -> (LazyFrame, Option<Expr>) {
    let (grain, cal) = (query.grain, &model.calendar);
    let time = col(t);
    let mut rows = base;
    if let Some(r) = query.range {
        let mut inside = within(t, r.start, r.end);
        // History: whole periods before the range's first one.
        if let (Some(h), true) = (query.history, grain != Grain::All) {
            let first = period::period_of(r.start, grain, cal).start;
            inside = inside.or(within(t, h, first.add_days(-1)));
        }
        rows = rows.filter(time.clone().is_null().or(inside));
    }
    let key = match (grain, query.range) {
        (Grain::All, None) => None,
        (Grain::All, Some(r)) => Some(
            when(time.clone().is_null())
                .then(lit(NULL).cast(DataType::Date))
                .otherwise(compile::date_lit(r.start.0)),
        ),
        _ => Some(period_key(time, grain, cal, how)),
    };
    (rows, key)
}

/// A time column as days since 1970. Compared with plain integers: a date
/// literal repeated across many expressions (one per range of a batched
/// status query) was taken by Polars' common-subexpression pass for a
/// column of one row. The days are the date's own integers
/// (`to_physical`), not a copy of them. Range filters use it, Polars' own
/// cast, as they are pushed into scans; the group-by's keys and the days
/// behind a batched status query's flags use
/// [`super::days::days_since_1970`], which is faster on datetimes.
fn day_number(t: Expr) -> Expr {
    t.cast(DataType::Date).to_physical()
}

/// Rows whose time column `t` falls on `first`..=`last`.
pub(crate) fn within(t: &str, first: Date, last: Date) -> Expr {
    let d = day_number(col(t));
    d.clone().gt_eq(lit(first.0)).and(d.lt_eq(lit(last.0)))
}

/// Rows active on `day`: started by then, not yet ended (`to` after it, or none).
pub(crate) fn active_on(from: &str, to: Option<&String>, day: Date) -> Expr {
    let m = lit(day.0);
    let active = day_number(col(from)).lt_eq(m.clone());
    match to {
        Some(to) => {
            let t = day_number(col(to));
            active.and(t.clone().is_null().or(t.gt(m)))
        }
        None => active,
    }
}

/// A stock's rows up to the range's last day, and the day each is
/// bucketed by (see [`crate::plan::StockDays`]).
fn stock_days(rows: LazyFrame, c: &str, days: Option<crate::plan::StockDays>) -> (LazyFrame, Expr) {
    let Some(days) = days else {
        return (rows, col(c));
    };
    let rows = rows.filter(day_number(col(c)).lt_eq(lit(days.last.0)));
    let Some((first, start)) = days.moved else {
        return (rows, col(c));
    };
    let d = day_number(col(c));
    let before = d.clone().gt_eq(lit(first.0)).and(d.lt(lit(start.0)));
    let day = when(before)
        .then(compile::date_lit(first.0 - 1))
        .otherwise(col(c).cast(DataType::Date));
    (rows, day)
}

/// Rows whose start and end are bucketed: with a start, and without an
/// end or with one on or after the start's day. A row that ends the day
/// it starts (a deal closed the day it was opened) is never active, but
/// its start and end fall in one period and cancel there, while its date
/// is still the data's (the spine reaches its period, its group is a
/// group). A row without a start, or ending before it (a data error), is
/// left out: its end alone would lower every later level.
fn bucketed_stock_rows(from: &str, to: Option<&String>) -> Expr {
    let started = col(from).is_not_null();
    match to {
        Some(t) => started.and(
            col(t)
                .is_null()
                .or(day_number(col(t)).gt_eq(day_number(col(from)))),
        ),
        None => started,
    }
}

pub(crate) enum Layout {
    Flow,
    Stock { with_ends: bool },
}

/// A unit's layout: a stock under a grain has its starts and its ends.
fn layout_of(u: &Unit, grain: Grain) -> Layout {
    match (&u.time, grain) {
        (UnitTime::Stock { to, .. }, g) if g != Grain::All => Layout::Stock {
            with_ends: to.is_some(),
        },
        _ => Layout::Flow,
    }
}

/// The rows of a unit (`read`: all, or one chunk): scanned, looked up,
/// filtered by segments, with its dimensions.
pub(crate) fn unit_rows(
    model: &Model,
    lookups: &Lookups,
    u: &Unit,
    read: Rows,
) -> Result<LazyFrame, Vec<Diagnostic>> {
    let ds = &model.datasets[u.dataset];
    let src = SourceInfo::from_model(ds);
    let lf = match read {
        Rows::All => data::scan_on(&src, super::polars_engine()),
        Rows::Chunk { file, offset, len } => data::scan_file(&src, file).map(|lf| lf.slice(offset, len)),
        Rows::Pieces { from, to, .. } => data::scan_csv_pieces(&src, from, to),
    }
    .map_err(|d| vec![d])?;
    let mut lf = lookups.join(model, u, lf).map_err(polars_error)?;
    let cx = Cx::rows(model, Some(u.dataset));
    for f in &u.filters {
        lf = lf.filter(cx.condition(f));
    }
    let dims: Vec<Expr> = u
        .dims
        .iter()
        .enumerate()
        .map(|(i, d)| data::as_text(cx.expr(d)).alias(dim_col(i).as_str()))
        .collect();
    if !dims.is_empty() {
        lf = lf.with_columns(dims);
    }
    Ok(lf)
}

/// A unit's rows grouped (by its dimensions, and `period` when it has
/// one) with all its parts: by Polars' group-by, or as the rows' keys and
/// inputs for the hand-written one.
pub(crate) fn aggregate(
    model: &Model,
    u: &Unit,
    rows: LazyFrame,
    period: bool,
    how: Grouping,
    grain: Grain,
) -> UnitQuery {
    let cx = Cx::rows(model, Some(u.dataset));
    let non_finite = non_finite_flags(model, u, &rows);
    let parts = part_aggs(&cx, &u.parts);
    let mut keys: Vec<Expr> = (0..u.dims.len()).map(|i| col(dim_col(i).as_str())).collect();
    if period {
        keys.push(col(PERIOD));
    }
    if how == Grouping::ByHand {
        let mut counts = vec![(None, ROWS.to_string())];
        counts.extend(
            non_finite
                .iter()
                .map(|(flag, name)| (Some(flag.clone()), name.clone())),
        );
        let periods = period.then(|| Periods::new(grain, model.calendar.clone()));
        if let Some(q) = by_hand_query(rows.clone(), keys.clone(), u.dims.len(), periods, &parts, counts) {
            return q;
        }
    }
    let rows = parts.add_columns(rows);
    let mut aggs = parts.whole();
    aggs.push(len().cast(DataType::UInt64).alias(ROWS));
    aggs.extend(non_finite.into_iter().map(|(flag, name)| {
        col(flag.as_str())
            .cast(DataType::UInt64)
            .sum()
            .alias(name.as_str())
    }));
    let grouped = if keys.is_empty() {
        rows.select(aggs)
    } else {
        rows.group_by(keys).agg(aggs)
    };
    UnitQuery {
        lf: grouped
            .with_columns(parts.copies)
            .with_column(lit(1i32).alias(ONE)),
        by_hand: None,
    }
}

/// A hand-written group-by's query: the rows' `keys` (the `dims`
/// dimensions, then the period when `periods` is given) and part inputs,
/// and the group-by they go into, with `counts` (flag column, name) beside
/// the parts: rows where the flag holds, or every row without one. `rows`
/// are without the parts' columns. `None` when a part is not for the
/// hand-written group-by.
pub(crate) fn by_hand_query(
    rows: LazyFrame,
    keys: Vec<Expr>,
    dims: usize,
    periods: Option<Periods>,
    parts: &PartAggs,
    counts: Vec<(Option<String>, String)>,
) -> Option<UnitQuery> {
    let (mut outputs, inputs) = parts.by_hand()?;
    let rows = parts.add_filters(rows);
    let has_rows = !keys.is_empty() || parts.inputs_read_rows() || counts.iter().any(|(f, _)| f.is_some());
    let mut select = keys;
    select.extend(inputs);
    for (flag, name) in counts {
        if let Some(f) = &flag {
            select.push(col(f.as_str()));
        }
        outputs.push(Output {
            name,
            reduce: Reduce::Rows,
            input: None,
            filter: flag,
            float: false,
        });
    }
    // A select that reads no column (none at all, or constants alone:
    // `sum(1)`) is one row, not one per row read: count the rows of any
    // column beside it.
    if !has_rows {
        let first = rows.clone().collect_schema().ok()?.get_at_index(0)?.0.clone();
        select.push(col(first).is_null().alias("__row"));
    }
    Some(UnitQuery {
        lf: rows.select(select),
        by_hand: Some(GroupBy::new(dims, periods, outputs, parts.copies.clone())),
    })
}

/// The non-finite flags of the float columns a unit reads, and the name
/// their count goes by: (flag column, count name).
fn non_finite_flags(model: &Model, u: &Unit, rows: &LazyFrame) -> Vec<(String, String)> {
    let Ok(schema) = rows.clone().collect_schema() else {
        return Vec::new();
    };
    let mut out: Vec<(String, String)> = Vec::new();
    for (d, c) in u.columns() {
        let read = if d == u.dataset {
            c.clone()
        } else {
            compile::lookup_column(model, d, &c)
        };
        let flag = data::non_finite_flag(&read);
        if out.iter().any(|(f, _)| *f == flag) || !schema.contains(&flag) {
            continue;
        }
        out.push((flag, format!("{NON_FINITE}{}:{c}", model.datasets[d].name)));
    }
    out
}

/// A CSV row with a missing field would be read as nulls: refuse it instead.
pub(crate) fn check_rows(plan: &Plan) -> Result<(), Vec<Diagnostic>> {
    let model = &*plan.model;
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

/// A failed query: find the precise cause in the data when there is one.
pub(crate) fn explain_failure(plan: &Plan, e: PolarsError) -> Vec<Diagnostic> {
    let model = &*plan.model;
    let mut out = Vec::new();
    let failure = e.to_string();
    for u in &plan.units {
        let src = SourceInfo::from_model(&model.datasets[u.dataset]);
        match data::malformed_row(&src) {
            Some(d) => out.push(d),
            None => out.extend(data::validate_types(&src)),
        }
        // A declared column the query reads that the data lacks (`kpi
        // check --data` says so of every declared column).
        out.extend(data::missing_declared_named(&src, &failure));
    }
    out.dedup_by(|a, b| a.code == b.code && a.message == b.message);
    if out.is_empty() {
        out = polars_error(e);
    }
    out
}
