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
    let span_start = period::period_of(period::anchor_day(p, grain, cal), span, cal).start;
    let first = period::period_of(span_start, grain, cal);
    // The week holding the span's first day belongs to the span before
    // when its Thursday comes earlier: the span's first week is the next.
    if period::anchor_day(first, grain, cal) < span_start {
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
        // A cumulative value starts in the range: it needs nothing earlier.
        reads(measure, p, p, grain, cal, &mut refs);
        for (j, from, _) in refs {
            need[j] = earlier(need[j], from);
        }
    }
    let earliest = need.iter().flatten().min().copied().unwrap_or(first);
    (earliest.start < r.start).then_some(earliest.start)
}

/// The KPIs an expression reads at period `p`, each over a span of
/// periods (`from` to `to`; one period when they are equal): `prev(k, 2)`
/// reads the period two back, `diff` that one and `p`, `rolling(k, 3)` the
/// three up to `p`, `cumulative` those from `first` (the range's first
/// period), the to-date forms those from the start of their span.
fn reads(
    e: &TExpr,
    p: Period,
    first: Period,
    grain: Grain,
    cal: &Calendar,
    out: &mut Vec<(usize, Period, Period)>,
) {
    match &e.kind {
        TKind::Kpi(k) => out.push((*k, p, p)),
        TKind::Time { func, kpi, n, every } => {
            let back = || match every {
                Some(unit) => period::calendar_back(p, *unit, grain, cal).unwrap_or(p),
                None => period::back(p, *n, grain, cal),
            };
            let from = match func {
                TimeFn::Prev => back(),
                TimeFn::Diff | TimeFn::Growth => {
                    out.push((*kpi, p, p));
                    back()
                }
                TimeFn::Rolling => period::back(p, n.saturating_sub(1), grain, cal),
                TimeFn::Cumulative => first,
                TimeFn::Ytd => to_date_start(p, Grain::Year, grain, cal),
                TimeFn::Qtd => to_date_start(p, Grain::Quarter, grain, cal),
                TimeFn::Mtd => to_date_start(p, Grain::Month, grain, cal),
            }
            .min(p);
            let to = match func {
                TimeFn::Prev | TimeFn::Diff | TimeFn::Growth => from,
                _ => p,
            };
            out.push((*kpi, from, to));
        }
        _ => e.for_each_child(|c| reads(c, p, first, grain, cal, out)),
    }
}

/// The periods whose rows make a group one of the output's, when periods
/// before the range are read: the range's own, and those a comparison or a
/// time function reads from them. `prev(k, 12)` by month reads the month a
/// year back, not the eleven between: a rep with deals only in those is in
/// no value of the output, and no row of it. `None`: nothing before the
/// range is read.
pub fn periods_that_count(model: &Model, plan: &Plan) -> Option<Vec<Date>> {
    let (q, cal) = (&plan.query, &model.calendar);
    plan.first?;
    let (r, grain) = (q.range?, q.grain);
    let first = period::period_of(r.start, grain, cal);
    let mut out = Counted::default();
    for p in period::periods_between(r.start, r.end, grain, cal) {
        let compared = q.compare.and_then(|c| compare_period(p, c, grain, cal));
        for at in std::iter::once(p).chain(compared) {
            for &k in &plan.outputs {
                counted(model, k, at, first, grain, &mut out);
            }
        }
    }
    Some(out.periods.into_iter().collect())
}

/// Adds the periods KPI `k` at `p` is computed from to `out`, through the
/// KPIs it is derived from (`first`: the range's first period).
fn counted(model: &Model, k: usize, p: Period, first: Period, grain: Grain, out: &mut Counted) {
    if !out.seen.insert((k, p.start)) {
        return;
    }
    out.periods.insert(p.start);
    let KpiKind::Derived { measure } = &model.kpis[k].kind else {
        return;
    };
    let cal = &model.calendar;
    let mut refs = Vec::new();
    reads(measure, p, first, grain, cal, &mut refs);
    for (j, from, to) in refs {
        for at in period::periods_between(from.start, to.start, grain, cal) {
            counted(model, j, at, first, grain, out);
        }
    }
}

/// The periods counted so far, and the (KPI, period) pairs already followed.
#[derive(Default)]
struct Counted {
    periods: std::collections::BTreeSet<Date>,
    seen: std::collections::HashSet<(usize, Date)>,
}
