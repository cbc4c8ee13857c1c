//! How far before the range a query must read. `prev(k, 2)` in the first
//! month of a range needs the two months before it, `rolling(k, 3)` the two
//! before, `ytd(k)` the start of the (fiscal) year and `--compare year` the
//! year before: those periods are computed and then left out of the output.

use super::{Compare, Plan};
use crate::check::functions::TimeFn;
use crate::check::ir::{KpiKind, Model, TExpr, TKind};
use crate::period::{self, Period};
use crate::period::{Calendar, Grain};
use crate::time::Date;

/// The first period a comparison needs for `p`.
pub fn compare_period(p: Period, c: Compare, grain: Grain, cal: &Calendar) -> Option<Period> {
    match c {
        Compare::Previous => Some(period::back(p, 1, grain, cal)),
        Compare::Periods(n) => Some(period::back(p, n, grain, cal)),
        Compare::Year => period::same_period_last_year(p, grain, cal),
    }
}

/// The start of the span (`year`, `quarter`, `month`) a period's to-date window begins at.
fn to_date_start(p: Period, span: Grain, grain: Grain, cal: &Calendar) -> Period {
    if period::rank(grain) >= period::rank(span) {
        return p;
    }
    // A week belongs to the span holding its fourth day.
    let day = if grain == Grain::Week {
        p.start.add_days(3)
    } else {
        p.start
    };
    let span_start = period::period_of(day, span, cal).start;
    let first = period::period_of(span_start, grain, cal);
    // The week holding the span's first day belongs to the span before
    // when its fourth day comes earlier: the span's first week is the next.
    if grain == Grain::Week && first.start.add_days(3) < span_start {
        return period::period_of(first.end.add_days(1), grain, cal);
    }
    first
}

/// The first day to read, when earlier periods than the range's are needed.
pub fn history(model: &Model, plan: &Plan) -> Option<Date> {
    let q = &plan.query;
    let r = q.range?;
    if q.grain == Grain::All {
        return q.history;
    }
    let (grain, cal) = (q.grain, &model.calendar);
    let first = period::period_of(q.history.map_or(r.start, |h| h.min(r.start)), grain, cal);
    let mut need: Vec<Option<Period>> = vec![None; model.kpis.len()];
    let earlier = |a: Option<Period>, b: Period| Some(a.map_or(b, |a| a.min(b)));
    let start = match q.compare.and_then(|c| compare_period(first, c, grain, cal)) {
        Some(c) => c.min(first),
        None => first,
    };
    for &k in &plan.outputs {
        need[k] = Some(start);
    }
    for &k in plan.derived.iter().rev() {
        let (Some(p), KpiKind::Derived { measure }) = (need[k], &model.kpis[k].kind) else {
            continue;
        };
        let mut refs = Vec::new();
        needs(measure, p, grain, cal, &mut refs);
        for (j, at) in refs {
            need[j] = earlier(need[j], at);
        }
    }
    let earliest = need.iter().flatten().min().copied().unwrap_or(first);
    (earliest.start < r.start).then_some(earliest.start)
}

/// The KPIs an expression reads, each with the first period it needs.
fn needs(e: &TExpr, p: Period, grain: Grain, cal: &Calendar, out: &mut Vec<(usize, Period)>) {
    match &e.kind {
        TKind::Kpi(k) => out.push((*k, p)),
        TKind::Time { func, kpi, n, every } => {
            let at = match func {
                TimeFn::Prev | TimeFn::Diff | TimeFn::Growth => match every {
                    Some(unit) => period::calendar_back(p, *unit, grain, cal).unwrap_or(p),
                    None => period::back(p, *n, grain, cal),
                },
                TimeFn::Rolling => period::back(p, n.saturating_sub(1), grain, cal),
                TimeFn::Cumulative => p,
                TimeFn::Ytd => to_date_start(p, Grain::Year, grain, cal),
                TimeFn::Qtd => to_date_start(p, Grain::Quarter, grain, cal),
                TimeFn::Mtd => to_date_start(p, Grain::Month, grain, cal),
            };
            out.push((*kpi, at.min(p)));
        }
        _ => e.for_each_child(|c| needs(c, p, grain, cal, out)),
    }
}
