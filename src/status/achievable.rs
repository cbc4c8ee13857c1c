//! The A of SMART (`kpi check --data`): whether a target asks for more
//! than the KPI's history has ever done between consecutive periods of the
//! target's length, and whether a `change` has a baseline at all.

use super::{instances, lookup, query_of, values, Cache, Series};
use crate::check::ir::{Additivity, DatasetId, Goal, KpiId, Model, TargetModel, TargetTime};
use crate::diagnostic::Diagnostic;
use crate::execute;
use crate::period::{self, Grain, Period};
use crate::plan::{self, Query, UnitTime};
use crate::spec::model::{ChangeKind, Direction};
use crate::time::Date;

/// What the A of SMART found: each diagnostic with the name of its
/// target, and the targets the data could judge at all.
#[derive(Debug, Default)]
pub struct Achievability {
    pub found: Vec<(String, Diagnostic)>,
    /// Targets with a history to judge them by: two consecutive whole
    /// periods of their length and a baseline value. The others (a year's
    /// target over data of one whole year, a `{from, to}` range, a target
    /// per member) are neither achievable nor not: unknown.
    pub judged: Vec<String>,
}

/// The A of SMART (`kpi check --data`): warns when a target asks for a larger
/// change from its baseline than the KPI ever made between consecutive
/// periods of the same length, and prints both numbers. A `change` whose
/// baseline period has no data is an error.
pub fn achievability(model: &Model) -> Achievability {
    let mut out = Achievability::default();
    let mut cache = Cache::default();
    let judged: Vec<&TargetModel> = model.targets.iter().filter(|t| t.by.is_none()).collect();
    // The dates beneath every target's KPI, in one read of each time
    // column; a KPI they miss (an error) is read on its own.
    let mut names: Vec<String> = Vec::new();
    for t in &judged {
        let name = &model.kpis[t.kpi].name;
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    if !names.is_empty() {
        for (name, range) in execute::data_ranges(model, &names).unwrap_or_default() {
            cache.ranges.extend(model.kpi_id(&name).map(|id| (id, range)));
        }
    }
    read_histories(model, &judged, &mut cache);
    // What the checks below ask of single periods, written down first and
    // then evaluated in few scans, as `kpi status` does.
    cache.asked = Some(Vec::new());
    for t in &judged {
        missing_baseline(model, t, &mut cache);
        beyond_history(model, t, &mut cache);
    }
    if cache.answer_asked(model).is_err() {
        // Each is then evaluated alone, and its error ignored as before.
        cache.values.clear();
    }
    for t in judged {
        let found = match missing_baseline(model, t, &mut cache) {
            Some(d) => Some(Some(d)),
            None => beyond_history(model, t, &mut cache),
        };
        if let Some(found) = found {
            out.judged.push(t.name.clone());
            out.found.extend(found.map(|d| (t.name.clone(), d)));
        }
    }
    out
}

/// The target's period (the current one of a recurring target) and its
/// grain; `None` for a `{from, to}` range, which has no grain to compare by.
fn judged_period(model: &Model, t: &TargetModel, cache: &Cache) -> Option<(Period, Grain)> {
    let (p, grain) = match t.time {
        TargetTime::Every(g) => {
            let (_, d) = data_range(model, t.kpi, cache)?;
            (period::period_of(d, g, &model.calendar), g)
        }
        TargetTime::Fixed { period, grain } => (period, grain?),
    };
    (grain != Grain::Day && grain != Grain::All).then_some((p, grain))
}

/// The first and last dates in the data beneath a KPI.
fn data_range(model: &Model, kpi: KpiId, cache: &Cache) -> Option<(Date, Date)> {
    match cache.ranges.get(&kpi) {
        Some(r) => Some(*r),
        None => execute::data_range(model, &model.kpis[kpi].name).ok(),
    }
}

/// Reads into `cache` the history of the targets' KPIs that can share an
/// evaluation: KPIs read from the same units (datasets and time columns)
/// under one grain and segment. Evaluated together, their periods are
/// still those each has alone (the first to the last period of those
/// units' rows). Any other KPI's history is read when it is asked.
fn read_histories(model: &Model, targets: &[&TargetModel], cache: &mut Cache) {
    type Batch = ((Grain, Option<String>, Vec<(DatasetId, UnitTime)>), Vec<KpiId>);
    let mut batches: Vec<Batch> = Vec::new();
    for t in targets {
        let Some((_, grain)) = judged_period(model, t, cache) else {
            continue;
        };
        let Some(units) = units_read(model, t.kpi, grain, &t.segment) else {
            continue;
        };
        let key = (grain, t.segment.clone(), units);
        match batches.iter_mut().find(|b| b.0 == key) {
            Some(b) if b.1.contains(&t.kpi) => {}
            Some(b) => b.1.push(t.kpi),
            None => batches.push((key, vec![t.kpi])),
        }
    }
    for ((grain, segment, _), kpis) in batches.into_iter().filter(|b| b.1.len() > 1) {
        // Should the evaluation fail, each is evaluated alone when asked.
        let Some(series) = history_series(model, &kpis, grain, &segment) else {
            continue;
        };
        for (k, s) in kpis.into_iter().zip(series) {
            cache.history.insert((k, grain, segment.clone()), Some(s));
        }
    }
}

/// The units a KPI is read from under `grain` and `segment`; `None` when
/// it has nested aggregates, which are read by plans of their own.
fn units_read(
    model: &Model,
    kpi: KpiId,
    grain: Grain,
    segment: &Option<String>,
) -> Option<Vec<(DatasetId, UnitTime)>> {
    let plan = plan::plan(model, &history_query(model, &[kpi], grain, segment)).ok()?;
    plan.nests
        .is_empty()
        .then(|| plan.units.iter().map(|u| (u.dataset, u.time.clone())).collect())
}

/// The query of `kpis` per period of `grain` over the whole data.
fn history_query(model: &Model, kpis: &[KpiId], grain: Grain, segment: &Option<String>) -> Query {
    Query {
        grain,
        ..query_of(model, kpis, &None, segment)
    }
}

/// Each KPI's value per period of `grain`, over the whole data.
fn history_series(
    model: &Model,
    kpis: &[KpiId],
    grain: Grain,
    segment: &Option<String>,
) -> Option<Vec<Series>> {
    let ev = execute::evaluate(model, &history_query(model, kpis, grain, segment)).ok()?;
    kpis.iter()
        .map(|k| {
            let column = ev.frame.column(&model.kpis[*k].name).ok()?;
            Some(
                (0..ev.frame.height())
                    .map(|i| column.get(i).ok().and_then(|v| v.extract::<f64>()))
                    .collect(),
            )
        })
        .collect()
}

/// A target beyond the largest improvement between consecutive periods.
/// `None` when there is no history to judge by; `Some(None)` when the
/// target is within it.
fn beyond_history(model: &Model, t: &TargetModel, cache: &mut Cache) -> Option<Option<Diagnostic>> {
    let km = &model.kpis[t.kpi];
    let (p, grain) = judged_period(model, t, cache)?;
    let series = cache
        .history
        .entry((t.kpi, grain, t.segment.clone()))
        .or_insert_with(|| history_series(model, &[t.kpi], grain, &t.segment).and_then(|mut s| s.pop()))
        .clone()?;
    let change = match t.goal {
        Goal::Change { change, .. } => Some(change),
        Goal::Value(_) => None,
    };
    let relative = !matches!(
        change.map(|c| c.kind),
        Some(ChangeKind::Points | ChangeKind::Absolute)
    );
    let series = whole_periods(model, t.kpi, grain, cache, series);
    let up = km.direction == Direction::Up;
    let largest = largest_improvement(&series, relative, up)?;
    // The change the target requires from its baseline.
    let baseline_period = match t.goal {
        Goal::Change { baseline, .. } => baseline.of(p, Some(grain), &model.calendar),
        Goal::Value(_) => value_baseline(model, t.kpi, p, grain, cache)?,
    };
    let base = values(model, t, baseline_period, Some(grain), cache).ok()?;
    let baseline = lookup(&base, &None)?;
    let required = match t.goal {
        Goal::Value(v) if relative => {
            if baseline == 0.0 {
                return None;
            }
            (v - baseline) / baseline.abs()
        }
        Goal::Value(v) => v - baseline,
        Goal::Change { change, .. } => change.amount,
    };
    let required = if up { required } else { -required };
    if required <= largest + 1e-12 {
        return Some(None);
    }
    // Both as improvements: a rise for `up` KPIs, a fall for `down` ones.
    let points = matches!(change.map(|c| c.kind), Some(ChangeKind::Points));
    let show = |x: f64| improvement_text(x, relative, points);
    Some(Some(
        Diagnostic::warning(
            "kpi::target_not_achievable",
            match largest > 0.0 {
                true => format!(
                    "target `{}` needs an improvement of {} on its baseline, but `{}` never improved by more than {} from one period to the next",
                    t.name,
                    show(required),
                    km.name,
                    show(largest)
                ),
                false => format!(
                    "target `{}` needs an improvement of {} on its baseline, but `{}` never improved from one period to the next (its best change: {})",
                    t.name,
                    show(required),
                    km.name,
                    show(largest)
                ),
            },
        )
        .at(t.goal_span, format!("needs {} better", show(required)))
        .help("a target beyond anything the history shows is rarely Achievable; lower it or explain it in `objective`"),
    ))
}

/// The largest improvement from one period to the next of `series` (a
/// rise for an `up` KPI, a fall for a `down` one), relative to the period
/// before or in the KPI's units; none without two consecutive values.
fn largest_improvement(series: &[Option<f64>], relative: bool, up: bool) -> Option<f64> {
    series
        .windows(2)
        .filter_map(|w| match (w[0], w[1]) {
            (Some(a), Some(b)) if relative && a != 0.0 => Some((b - a) / a.abs()),
            (Some(a), Some(b)) if !relative => Some(b - a),
            _ => None,
        })
        .map(|s| if up { s } else { -s })
        .reduce(f64::max)
}

/// An improvement as the message says it: a percent, percentage points,
/// or a number with up to four decimals, as many as it has (100, 9.5).
fn improvement_text(x: f64, relative: bool, points: bool) -> String {
    if relative {
        format!("{}%", crate::report::table::thousands(x * 100.0, 1))
    } else if points {
        format!("{}pp", crate::report::table::thousands(x * 100.0, 1))
    } else {
        let s = crate::report::table::thousands(x, 4);
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// The period a value target's required change is measured from: the one
/// before the target's, or for a sum or count the last one before it that
/// the data covers whole (`None`: none does). The data of a target set for
/// next quarter ends inside this one, whose few weeks would read as a rise
/// the target does not ask for (as [`whole_periods`] leaves such periods
/// out of the history).
fn value_baseline(model: &Model, kpi: KpiId, p: Period, grain: Grain, cache: &Cache) -> Option<Period> {
    let cal = &model.calendar;
    let mut before = period::previous(p, Some(grain), cal);
    if model.kpis[kpi].additivity != Additivity::Additive {
        return Some(before);
    }
    let (first, last) = data_range(model, kpi, cache)?;
    while before.end > last {
        before = period::previous(before, Some(grain), cal);
    }
    (before.start >= first).then_some(before)
}

/// A history without the periods the data covers only in part, for a sum
/// or count: its first when the data starts after that period's first day,
/// its last when the data ends before that period's last day (the period
/// `kpi status` calls in progress). A few days of a month would read as a
/// rise or a fall the KPI never made. Other KPIs (ratios, averages, levels)
/// are not biased by a short period, and keep every one.
fn whole_periods(model: &Model, kpi: KpiId, grain: Grain, cache: &Cache, series: Series) -> Series {
    if model.kpis[kpi].additivity != Additivity::Additive {
        return series;
    }
    let Some((first, last)) = data_range(model, kpi, cache) else {
        return series;
    };
    let cal = &model.calendar;
    let head = usize::from(period::period_of(first, grain, cal).start < first);
    let tail = usize::from(period::period_of(last, grain, cal).end > last);
    let end = series.len().saturating_sub(tail).max(head);
    series.get(head..end).map(<[_]>::to_vec).unwrap_or_default()
}

/// A `change` needs a baseline value: an error when its period has no data.
fn missing_baseline(model: &Model, t: &TargetModel, cache: &mut Cache) -> Option<Diagnostic> {
    let Goal::Change { baseline, .. } = t.goal else {
        return None;
    };
    let cal = &model.calendar;
    let (first, as_of) = data_range(model, t.kpi, cache)?;
    let (p, grain) = instances(t, as_of, None, cal).pop()?;
    let bp = baseline.of(p, grain, cal);
    // Outside the data's dates a sum would read 0: that is no data, not a zero.
    let outside = bp.end < first || bp.start > as_of;
    let base = values(model, t, bp, grain, cache).ok()?;
    if !outside && base.iter().any(|(_, v)| v.is_some()) {
        return None;
    }
    Some(
        Diagnostic::error(
            "kpi::target_no_baseline",
            format!(
                "target `{}` is a change from {}..{}, but the KPI has no value there",
                t.name, bp.start, bp.end
            ),
        )
        .at(
            t.baseline_span.unwrap_or(t.goal_span),
            "no data in the baseline period",
        )
        .help("choose a baseline period with data (`baseline: 2025-Q1`), or state the goal as a `value`"),
    )
}
