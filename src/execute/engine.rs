//! The engine seam: what runs the units of a plan. An engine scans each
//! unit's dataset, filters, groups and aggregates its parts, and returns one
//! frame of parts per unit; everything after (the spine, stocks, derived
//! KPIs, windows, nesting, `--compare`, funnels, status) is shared code that
//! every engine's frames flow through, so the numbers come from one place.
//!
//! Polars over local files is the first engine ([`Polars`]); an engine that
//! receives a unit as data (a SQL printer, say) needs only the plan.

use polars::prelude::{DataFrame, DslPlan, LazyFrame, OptFlags};

use crate::check::ir::Model;
use crate::diagnostic::Diagnostic;
use crate::plan::{Plan, Query};

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
    fn run_units(
        &self,
        model: &Model,
        plan: &Plan,
        query: &Query,
    ) -> Result<Vec<UnitFrames>, Vec<Diagnostic>>;
}

/// Polars over the datasets' files: every unit compiled to a lazy query,
/// all of them collected together so that shared scans are read once.
pub struct Polars;

impl Engine for Polars {
    fn run_units(
        &self,
        model: &Model,
        plan: &Plan,
        query: &Query,
    ) -> Result<Vec<UnitFrames>, Vec<Diagnostic>> {
        super::validate_lookups(model, plan)?;
        super::check_rows(model, plan)?;
        let (lazy, layout) = super::unit_queries(model, plan, query)?;
        let plans: Vec<DslPlan> = lazy.into_iter().map(|lf| lf.logical_plan).collect();
        let frames =
            LazyFrame::collect_all_with_engine(plans, polars::prelude::Engine::Auto, OptFlags::default())
                .map_err(|e| super::explain_failure(model, plan, e))?;
        let mut frames = frames.into_iter();
        let mut out = Vec::with_capacity(layout.len());
        for l in &layout {
            let Some(parts) = frames.next() else { break };
            let ends = match l {
                super::Layout::Stock { with_ends: true } => frames.next(),
                _ => None,
            };
            out.push(UnitFrames { parts, ends });
        }
        Ok(out)
    }
}
