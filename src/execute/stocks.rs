//! Stock KPIs under a grain (`active:`): the level at each period is the
//! running sum of starts minus ends, along the unit's own spine from its
//! first event, so history before the range counts.

use polars::prelude::*;

use super::spine::{periods_frame, Spine};
use super::{key_join, UnitFrames, PERIOD, ROWS};
use crate::compile;
use crate::period::{self, Calendar};
use crate::plan::{Unit, UnitTime};
use crate::time::Date;

/// A stock unit's parts at each spine period: starts minus ends, summed
/// from the first period with data (`at: start` takes the previous period's level).
pub(super) fn stock_levels(
    u: &Unit,
    frames: UnitFrames,
    spine: &Spine,
    keys: &[String],
    cal: &Calendar,
) -> PolarsResult<LazyFrame> {
    let (starts, ends) = (frames.parts, frames.ends);
    let at_start = matches!(u.time, UnitTime::Stock { at_start: true, .. });
    let names: Vec<String> = u.parts.iter().map(|p| p.name.clone()).collect();
    let Some(last) = spine.periods.last() else {
        // No period at all: no row has a start (or every row ends before
        // it starts), and nothing else reaches the spine. No levels then,
        // but the parts' columns all the same, for the KPIs above them.
        let mut sel: Vec<Expr> = keys.iter().map(|k| col(k.as_str())).collect();
        sel.extend(names.iter().map(|n| col(n.as_str()).cast(DataType::Float64)));
        return Ok(starts.lazy().select(sel).slice(0, 0));
    };
    let spine = own_spine(&starts, spine, last, cal)?;
    let on: Vec<Expr> = keys.iter().map(|k| col(k.as_str())).collect();
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
    let levels = level_exprs(&names, &dims, at_start);
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

/// The unit's own spine: every group × every period from its first event
/// (or the range's first period, if earlier) to the range's last, so
/// history before the range counts.
fn own_spine(
    starts: &DataFrame,
    spine: &Spine,
    last: &period::Period,
    cal: &Calendar,
) -> PolarsResult<LazyFrame> {
    let (periods, grain) = (&spine.periods, spine.grain);
    let range_start = periods.first().map_or(last.start, |p| p.start);
    let first = starts
        .column(PERIOD)
        .ok()
        .and_then(|c| c.cast(&DataType::Int32).ok())
        .and_then(|c| c.i32().ok().and_then(|x| x.min()))
        .map_or(range_start, Date)
        .min(range_start);
    let own: Vec<period::Period> = period::periods_between(first, last.start, grain, cal).collect();
    let own_frame = periods_frame(&own, grain, cal)?
        .unwrap_or_default()
        .lazy()
        .select([col(PERIOD)]);
    Ok(spine.groups.clone().lazy().cross_join(own_frame, None))
}

/// Each part's level: the running sum, per group, of its starts minus its
/// ends (`part__end`); taken at the start, the level of the period before.
fn level_exprs(names: &[String], dims: &[String], at_start: bool) -> Vec<Expr> {
    names
        .iter()
        .map(|n| {
            let net =
                col(n.as_str()).fill_null(lit(0.0)) - col(format!("{n}__end").as_str()).fill_null(lit(0.0));
            let level = compile::per_group(net.cum_sum(false), dims);
            let level = if at_start {
                compile::per_group(level.shift(lit(1)), dims).fill_null(lit(0.0))
            } else {
                level
            };
            level.alias(n.as_str())
        })
        .collect()
}
