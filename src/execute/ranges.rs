//! One query over many ranges, in one scan per unit. Target status asks
//! each KPI for several ranges at once (each target's period to date, the
//! one before, its baseline, last year's): rather than a scan per range,
//! each row is flagged for every range it falls in and each part is
//! aggregated once per range, blanked where the flag is off. The result is
//! split into the frames the engine would have given each range's plan,
//! and each plan goes on through the shared code as usual.

use std::cell::RefCell;

use polars::prelude::*;

use super::chunks::Rows;
use super::day_flags::{active_on_day, day_within};
use super::days::days_since_1970;
use super::engine::{Engine, UnitFrames};
use super::lookups::Lookups;
use super::parts::part_aggs;
use super::polars_engine::{
    aggregate, by_hand_query, check_rows, dataset_order, grouping, run_reads, unit_rows, units_and_reads,
    Grouping, UnitQuery,
};
use super::{dim_col, execute, polars_error, Auto, Evaluation, ONE, PERIOD, ROWS};
use crate::check::ir::{Model, TExpr, TKind};
use crate::check::query::with_fitting_kpis;
use crate::check::types::Type;
use crate::compile::{self, Cx};
use crate::diagnostic::Diagnostic;
use crate::period::{Grain, Period};
use crate::plan::{self, Plan, Query, Unit, UnitTime};
use crate::syntax::ast::BinaryOp;

/// Evaluates `query` (its grain and range aside) over each of `ranges`,
/// as a whole (`Grain::All`): one evaluation per range, in order.
pub fn evaluate_ranges(
    model: &Model,
    query: &Query,
    ranges: &[Period],
) -> Result<Vec<Evaluation>, Vec<Diagnostic>> {
    let (query, left_out) = with_fitting_kpis(model, query)?;
    let plans = ranges
        .iter()
        .map(|r| {
            let q = Query {
                grain: Grain::All,
                range: Some(*r),
                ..query.clone()
            };
            plan::plan(model, &q)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = match plans.first() {
        Some(first) if plans.len() > 1 && plans.iter().all(batchable) => {
            let frames = run_batched(first, ranges)?;
            plans
                .iter()
                .zip(frames)
                .map(|(p, f)| execute(&Ready(RefCell::new(Some(f))), p))
                .collect::<Result<Vec<_>, _>>()?
        }
        _ => plans
            .iter()
            .map(|p| execute(&Auto, p))
            .collect::<Result<Vec<_>, _>>()?,
    };
    for ev in &mut out {
        ev.warnings.splice(0..0, left_out.iter().cloned());
    }
    Ok(out)
}

/// Whether one range more costs [`evaluate_ranges`] little for `query`:
/// its data is read once for all ranges (not once per range), and grouped
/// by hand, where each part costs a loop over its range's rows only
/// (under Polars' group-by, each part of each range is a pass over every
/// row read).
pub fn ranges_are_cheap(model: &Model, query: &Query) -> bool {
    let Ok((query, _)) = with_fitting_kpis(model, query) else {
        return false;
    };
    let q = Query {
        grain: Grain::All,
        ..query
    };
    plan::plan(model, &q)
        .is_ok_and(|p| batchable(&p) && p.units.iter().all(|u| matches!(grouping(u), Grouping::ByHand)))
}

/// Plans whose units can share a scan across ranges: every unit on files,
/// no nested aggregates, no history read before the range, and the range
/// its one period (not evaluated at a grain for its time functions, which
/// may read no history in one range and some in the next: the year to
/// date of a fiscal year's first month, then of its second).
fn batchable(plan: &Plan) -> bool {
    plan.query.grain == Grain::All
        && plan.nests.is_empty()
        && plan.query.history.is_none()
        && plan.query.compare.is_none()
        && plan.on_connections().0.is_empty()
}

/// Unit frames already computed, handed to the shared code as an engine's.
struct Ready(RefCell<Option<Vec<UnitFrames>>>);

impl Engine for Ready {
    fn run_units(&self, _plan: &Plan) -> Result<Vec<UnitFrames>, Vec<Diagnostic>> {
        self.0
            .borrow_mut()
            .take()
            .ok_or_else(|| polars_error(PolarsError::NoData("unit frames already taken".into())))
    }
}

/// The day numbers of a unit's time columns: a flow's time, or a stock's
/// start and end.
const FROM_DAY: &str = "__from_day";
const TO_DAY: &str = "__to_day";

fn flag(i: usize) -> String {
    format!("__range{i}")
}

fn part_in(name: &str, i: usize) -> String {
    format!("{name}\u{1f}{i}")
}

fn rows_in(i: usize) -> String {
    format!("{ROWS}\u{1f}{i}")
}

/// The units of `plan` over every range: for each range, the frames its
/// own plan would have had from the engine.
fn run_batched(plan: &Plan, ranges: &[Period]) -> Result<Vec<Vec<UnitFrames>>, Vec<Diagnostic>> {
    let lookups = Lookups::read(plan)?;
    check_rows(plan)?;
    let model = &*plan.model;
    let query = |u: &Unit, read: Rows| -> Result<UnitQuery, Vec<Diagnostic>> {
        let rows = unit_rows(model, &lookups, u, read)?;
        let how = grouping(u);
        Ok(match &u.time {
            UnitTime::None => aggregate(model, u, rows, false, how, Grain::All),
            // Each row's days are computed once, for the flags of every range.
            UnitTime::Flow(t) => {
                let rows = rows.with_column(days_since_1970(col(t)).alias(FROM_DAY));
                let flags = ranges
                    .iter()
                    .map(|r| day_within(col(FROM_DAY), r.start, r.end))
                    .collect();
                flagged(model, u, rows, flags, how)
            }
            UnitTime::Stock { from, to, at_start } => {
                let mut rows = rows.with_column(days_since_1970(col(from)).alias(FROM_DAY));
                if let Some(to) = to {
                    rows = rows.with_column(days_since_1970(col(to)).alias(TO_DAY));
                }
                // Active at the range's end, or (`at: start`) the day before it starts.
                let flags = ranges
                    .iter()
                    .map(|r| {
                        let day = if *at_start { r.start.add_days(-1) } else { r.end };
                        active_on_day(col(FROM_DAY), to.as_ref().map(|_| col(TO_DAY)), day)
                    })
                    .collect();
                flagged(model, u, rows, flags, how)
            }
        })
    };
    // Dataset by dataset, the units of one collected together: those
    // grouped by hand chunk by chunk (a long Parquet file), as `kpi eval`
    // reads them, the others whole.
    let mut frames: Vec<Option<DataFrame>> = plan.units.iter().map(|_| None).collect();
    for d in dataset_order(plan.units.iter().map(|u| u.dataset)) {
        for (_, units, reads) in units_and_reads(plan, d)? {
            if units.is_empty() {
                continue;
            }
            let build = |read: Rows| units.iter().map(|&i| query(&plan.units[i], read)).collect();
            for (&i, f) in units.iter().zip(run_reads(plan, &reads, &build)?) {
                frames[i] = Some(f);
            }
        }
    }
    let frames = frames.into_iter().flatten();
    let mut out: Vec<Vec<UnitFrames>> = ranges.iter().map(|_| Vec::new()).collect();
    for (u, df) in plan.units.iter().zip(frames) {
        for (i, r) in ranges.iter().enumerate() {
            let parts = match u.time {
                UnitTime::None => df.clone(),
                _ => one_range(u, df.clone(), i, *r).map_err(polars_error)?,
            };
            out[i].push(UnitFrames { parts, ends: None });
        }
    }
    Ok(out)
}

/// One group-by of a unit's rows with every part once per range, each
/// over the rows its range's flag keeps; rows in no range are dropped first.
fn flagged(model: &Model, u: &Unit, rows: LazyFrame, flags: Vec<Expr>, how: Grouping) -> UnitQuery {
    let n = flags.len();
    let named: Vec<Expr> = flags
        .into_iter()
        .enumerate()
        .map(|(i, f)| f.fill_null(lit(false)).alias(flag(i).as_str()))
        .collect();
    // The flags are columns first, then filtered on: written out twice,
    // Polars' common-subexpression pass mixed up their lengths.
    let any = crate::compile::any_of((0..n).map(|i| col(flag(i).as_str())).collect());
    let rows = rows.with_columns(named).filter(any);
    let cx = Cx::rows(model, Some(u.dataset));
    let mut parts = Vec::new();
    let mut counts = Vec::new();
    for i in 0..n {
        let in_range = TExpr {
            kind: TKind::Column {
                dataset: u.dataset,
                name: flag(i),
            },
            ty: Type::Bool,
            span: Default::default(),
        };
        for p in &u.parts {
            let mut q = p.clone();
            q.name = part_in(&p.name, i);
            q.filter = Some(match q.filter.take() {
                Some(f) => TExpr {
                    span: f.span,
                    ty: Type::Bool,
                    kind: TKind::Binary(BinaryOp::And, Box::new(f), Box::new(in_range.clone())),
                },
                None => in_range.clone(),
            });
            parts.push(q);
        }
        counts.push((flag(i), rows_in(i)));
    }
    let dims: Vec<Expr> = (0..u.dims.len()).map(|i| col(dim_col(i).as_str())).collect();
    let aggs = part_aggs(&cx, &parts);
    if how == Grouping::ByHand {
        let counts = counts.iter().map(|(f, n)| (Some(f.clone()), n.clone())).collect();
        if let Some(q) = by_hand_query(rows.clone(), dims.clone(), u.dims.len(), None, &aggs, counts) {
            return q;
        }
    }
    // Always a group-by (on a constant without dimensions): as a plain
    // select, Polars' common-subexpression pass computed a repeated
    // aggregate as a column beside the rows and failed on its length.
    let rows = aggs.add_columns(rows);
    let mut keys = dims;
    let rows = if keys.is_empty() {
        keys.push(col(ONE));
        rows.with_column(lit(1i32).alias(ONE))
    } else {
        rows
    };
    let mut all = aggs.whole();
    all.extend(counts.into_iter().map(|(f, n)| {
        col(f.as_str())
            .cast(IDX_DTYPE)
            .sum()
            .cast(DataType::UInt64)
            .alias(n.as_str())
    }));
    UnitQuery {
        lf: rows.group_by(keys).agg(all).with_columns(aggs.copies),
        by_hand: None,
    }
}

/// Range `i`'s frame of a unit, as the engine gives it: groups with rows
/// in the range, keyed by the range's first day.
fn one_range(u: &Unit, df: DataFrame, i: usize, r: Period) -> PolarsResult<DataFrame> {
    let mut select: Vec<Expr> = (0..u.dims.len()).map(|d| col(dim_col(d).as_str())).collect();
    select.push(compile::date_lit(r.start.0).alias(PERIOD));
    select.extend(
        u.parts
            .iter()
            .map(|p| col(part_in(&p.name, i).as_str()).alias(p.name.as_str())),
    );
    select.push(col(rows_in(i).as_str()).alias(ROWS));
    select.push(lit(1i32).alias(ONE));
    df.lazy()
        .filter(col(rows_in(i).as_str()).gt(lit(0u64)))
        .select(select)
        .collect()
}
