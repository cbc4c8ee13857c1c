//! The engine seam: what runs the units of a plan. An engine scans each
//! unit's dataset, filters, groups and aggregates its parts, and returns one
//! frame of parts per unit; everything after (the spine, stocks, derived
//! KPIs, windows, nesting, `--compare`, funnels, status) is shared code that
//! every engine's frames flow through, so the numbers come from one place.
//!
//! Polars over local files is the first engine ([`super::Polars`]); an
//! engine that receives a unit as data (a SQL printer, say) needs only the
//! plan: each [`crate::plan::Unit`] names its dataset (source, format, read
//! options in `plan.model`), row filters, dimensions, lookups, time basis
//! and parts, and `plan.query` its grain, range and history.

use polars::prelude::DataFrame;

use crate::diagnostic::Diagnostic;
use crate::plan::Plan;

/// What an engine returns for one unit of a plan. Columns: the group keys
/// `__d0`, `__d1`, … (text, one per `--by` dimension), `__period` (a date:
/// the first day of the row's period) when the query has a grain or a range,
/// one column per part of the unit (named as the plan names it), `__rows`
/// (rows aggregated, an unsigned integer) and `__one` (the constant 1).
#[derive(Debug)]
pub struct UnitFrames {
    /// The parts by group and period; for a stock unit under a grain, of
    /// its starts, bucketed by the period of its `from` column.
    pub parts: DataFrame,
    /// For a stock unit under a grain that has a `to` column: the same
    /// parts of its ends, bucketed by the period of `to`.
    pub ends: Option<DataFrame>,
}

/// Runs the units of a plan.
pub trait Engine {
    /// One [`UnitFrames`] per unit of `plan`, in the plan's order. Data
    /// errors (unreadable files, duplicate lookup keys) are diagnostics.
    fn run_units(&self, plan: &Plan) -> Result<Vec<UnitFrames>, Vec<Diagnostic>>;
}
