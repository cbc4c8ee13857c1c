//! Re-aggregating time functions: `rolling`, `cumulative`, `ytd`, `qtd`,
//! `mtd`. A KPI is re-aggregated exactly by windowing the parts it is made
//! of (sums and counts are summed, minima and maxima taken again) over the
//! sorted spine and computing the KPI from the windowed parts: a rolling win
//! rate is won / closed over the window, never an average of monthly rates.

use std::collections::HashMap;

use polars::prelude::*;

use super::rolling::Fold;
use super::{period_start, Cx};
use crate::check::functions::{AggFn, TimeFn};
use crate::check::ir::{KpiId, TExpr};
use crate::period::{Calendar, Grain};
use crate::time::Date;

/// What windows need to know about the spine they run over.
pub struct Windows<'a> {
    pub grain: Grain,
    pub cal: &'a Calendar,
    /// The column holding each row's period start.
    pub period: &'a str,
    /// Where `cumulative` starts: the first day asked for.
    pub start: Option<Date>,
    /// Each KPI's value in part columns (base KPIs) or other KPIs (derived).
    pub values: &'a [Option<TExpr>],
    /// The aggregate behind each part column.
    pub parts: &'a HashMap<String, AggFn>,
}

/// A re-aggregating time function being compiled: parts are windowed, KPIs inlined.
#[derive(Clone, Copy)]
pub struct Window {
    pub func: TimeFn,
    pub n: u32,
}

impl Cx<'_> {
    /// `func(kpi)` over the spine.
    pub(super) fn reaggregate(&self, func: TimeFn, kpi: KpiId, n: u32) -> Expr {
        let Some(w) = self.windows else {
            return lit(NULL).cast(DataType::Float64);
        };
        // One period holds the whole range: every window is the period itself.
        if w.grain == Grain::All {
            return col(self.model.kpis[kpi].name.as_str());
        }
        let inner = Cx {
            window: Some(Window { func, n }),
            ..*self
        };
        inner.inline(kpi)
    }

    /// A KPI's value computed from windowed parts.
    pub(super) fn inline(&self, kpi: KpiId) -> Expr {
        match self
            .windows
            .and_then(|w| w.values.get(kpi))
            .and_then(Option::as_ref)
        {
            Some(v) => self.expr(v),
            None => lit(NULL).cast(DataType::Float64),
        }
    }

    /// A part column over the current window.
    pub(super) fn windowed_part(&self, name: &str) -> Expr {
        let (Some(w), Some(win)) = (self.windows, self.window) else {
            return col(name);
        };
        let Some(agg) = w.parts.get(name) else {
            return lit(NULL).cast(DataType::Float64);
        };
        let x = col(name).cast(DataType::Float64);
        let kind = match agg {
            AggFn::Min => Fold::Min,
            AggFn::Max => Fold::Max,
            _ => Fold::Sum,
        };
        match win.func {
            TimeFn::Rolling => super::rolling::rolling(x, self.groups, win.n, kind),
            TimeFn::Cumulative => {
                let by = self.groups.iter().map(|g| col(g.as_str())).collect();
                let Some(s) = w.start else {
                    return kind.running(x, by);
                };
                // A period before the range (read for `prev` or `--compare`)
                // has no running total yet: null, as before the data's first
                // period, never a 0 that reads as "nothing sold".
                let inside = col(w.period).gt_eq(super::date_lit(s.0));
                let masked = when(inside.clone()).then(x).otherwise(kind.identity());
                when(inside)
                    .then(kind.running(masked, by))
                    .otherwise(lit(NULL).cast(DataType::Float64))
            }
            TimeFn::Ytd | TimeFn::Qtd | TimeFn::Mtd => {
                let span = match win.func {
                    TimeFn::Ytd => Grain::Year,
                    TimeFn::Qtd => Grain::Quarter,
                    _ => Grain::Month,
                };
                // A period as long as the span or longer is its own to-date window.
                if crate::period::rank(w.grain) >= crate::period::rank(span) {
                    return x;
                }
                // A week belongs to the span of its Thursday, the day its label is of.
                let p = col(w.period).cast(DataType::Date);
                let p = if w.grain == Grain::Week {
                    let days = crate::period::thursday_offset(w.cal);
                    p.dt().offset_by(lit(format!("{days}d")))
                } else {
                    p
                };
                let mut by: Vec<Expr> = self.groups.iter().map(|g| col(g.as_str())).collect();
                by.push(period_start(p, span, w.cal));
                kind.running(x, by)
            }
            TimeFn::Prev | TimeFn::Diff | TimeFn::Growth => x,
        }
    }
}

impl Fold {
    /// What a row outside the window contributes.
    fn identity(&self) -> Expr {
        match self {
            Fold::Sum => lit(0.0),
            Fold::Min => lit(f64::INFINITY),
            Fold::Max => lit(f64::NEG_INFINITY),
        }
    }

    /// The running fold within each of `by` (the spine is sorted by period).
    /// A period with no value (a minimum of no rows) leaves the running
    /// value as it was, as rows outside the window do.
    fn running(&self, x: Expr, by: Vec<Expr>) -> Expr {
        let x = x.fill_null(self.identity());
        let run = match self {
            Fold::Sum => x.cum_sum(false),
            Fold::Min => x.cum_min(false),
            Fold::Max => x.cum_max(false),
        };
        let run = if by.is_empty() {
            run
        } else {
            run.clone().over(by).unwrap_or(run)
        };
        match self {
            Fold::Sum => run,
            // No value in the window yet: null, as min and max of no rows.
            _ => when(run.clone().is_infinite())
                .then(lit(NULL).cast(DataType::Float64))
                .otherwise(run),
        }
    }
}
