//! Units whose parts are partly for the hand-written group-by (counts,
//! sums, minimums, maximums) and partly not (`count_distinct`, `median`,
//! …): each is run as two units over the same rows, the first grouped by
//! hand (chunk by chunk on long files) and the second by Polars, and their
//! frames are joined back on the group keys. Without the split, one
//! `count_distinct` beside the sums of a large dataset sent every part to
//! Polars' group-by over the whole file.

use polars::prelude::*;

use super::engine::UnitFrames;
use super::parts::by_hand_fits;
use super::polars_engine::{grouping, Grouping};
use super::{dim_col, key_join, PERIOD};
use crate::plan::{Plan, Unit};

/// The plan with each mixed unit split in two, and for each unit of
/// `plan`, the units of the new plan it became (one, or two: by hand, then
/// the rest).
pub(crate) fn split<'a>(plan: &'a Plan<'_>) -> (Plan<'a>, Vec<Vec<usize>>) {
    let mut units: Vec<Unit> = Vec::with_capacity(plan.units.len());
    let mut pieces = Vec::with_capacity(plan.units.len());
    for u in &plan.units {
        let (hand, rest): (Vec<_>, Vec<_>) = u
            .parts
            .iter()
            .cloned()
            .partition(|p| by_hand_fits(std::slice::from_ref(p)));
        let whole = Unit {
            parts: hand.clone(),
            ..u.clone()
        };
        if hand.is_empty() || rest.is_empty() || grouping(&whole) == Grouping::Polars {
            pieces.push(vec![units.len()]);
            units.push(u.clone());
        } else {
            pieces.push(vec![units.len(), units.len() + 1]);
            units.push(whole);
            units.push(Unit {
                parts: rest,
                ..u.clone()
            });
        }
    }
    let mut out = plan.with_units(&[]);
    out.units = units;
    (out, pieces)
}

/// The frames of `plan`'s units from those of its split plan.
pub(crate) fn join(
    plan: &Plan,
    split: &Plan,
    pieces: &[Vec<usize>],
    frames: Vec<UnitFrames>,
) -> PolarsResult<Vec<UnitFrames>> {
    let mut frames: Vec<Option<UnitFrames>> = frames.into_iter().map(Some).collect();
    let mut out = Vec::with_capacity(pieces.len());
    for (u, at) in plan.units.iter().zip(pieces) {
        let mut take = |i: usize| {
            frames
                .get_mut(i)
                .and_then(Option::take)
                .ok_or_else(|| PolarsError::NoData("a split unit has no frame".into()))
        };
        match at.as_slice() {
            [hand, rest] => {
                let names: Vec<String> = split.units[*rest].parts.iter().map(|p| p.name.clone()).collect();
                let (h, r) = (take(*hand)?, take(*rest)?);
                let ends = match (h.ends, r.ends) {
                    (Some(he), Some(re)) => Some(beside(he, re, u.dims.len(), &names)?),
                    _ => None,
                };
                out.push(UnitFrames {
                    parts: beside(h.parts, r.parts, u.dims.len(), &names)?,
                    ends,
                });
            }
            _ => out.push(take(at.first().copied().unwrap_or(usize::MAX))?),
        }
    }
    Ok(out)
}

/// The `names` columns of `rest` beside `hand`, matched on the group keys
/// (the same groups in both: the same rows grouped by the same keys).
fn beside(hand: DataFrame, rest: DataFrame, dims: usize, names: &[String]) -> PolarsResult<DataFrame> {
    let mut keys: Vec<String> = (0..dims).map(dim_col).collect();
    if hand.get_column_names().iter().any(|c| c.as_str() == PERIOD) {
        keys.push(PERIOD.to_string());
    }
    let picked: Vec<Expr> = keys.iter().chain(names).map(|c| col(c.as_str())).collect();
    let rest = rest.lazy().select(picked);
    if keys.is_empty() {
        // One group each.
        let mut out = hand;
        out.hstack_mut(rest.collect()?.columns())?;
        return Ok(out);
    }
    let on: Vec<Expr> = keys.iter().map(|c| col(c.as_str())).collect();
    hand.lazy().join(rest, on.clone(), on, key_join()).collect()
}
