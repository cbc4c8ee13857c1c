//! Target status (LANGUAGE.md §6): for each target instance (per period of a
//! recurring target, per member of a `by` target), the actual value to the
//! as-of date, the target value (absolute, or a change from a baseline), and
//! the status of [`assess::assess`].

pub mod assess;

use serde::Serialize;

use crate::check::ir::{Additivity, Model};
use crate::diagnostic::Diagnostic;
use crate::execute::{self, Evaluation};
use crate::period::{self, Period};
use crate::plan::Query;
use crate::spec::model::{Baseline, ChangeKind, Grain, PeriodSpec, Spec, Target};
use crate::time::Date;
use assess::{Assessment, Phase, Status};

/// One row of `kpi status`.
#[derive(Clone, Debug, Serialize)]
pub struct StatusRow {
    pub target: String,
    pub kpi: String,
    pub segment: Option<String>,
    /// The member of a `by` target ("each rep").
    pub member: Option<String>,
    pub period: String,
    pub actual: Option<f64>,
    pub target_value: Option<f64>,
    pub baseline: Option<f64>,
    pub progress: Option<f64>,
    pub expected: Option<f64>,
    pub projected: Option<f64>,
    pub gap: Option<f64>,
    pub status: Status,
    pub trend: assess::Trend,
    /// Whether the trend is an improvement for the KPI's direction (a
    /// falling sales cycle is); `None` when flat.
    pub improving: Option<bool>,
    /// Why the row was computed differently than asked (seasonal pacing without history).
    pub note: Option<String>,
}

type Values = Vec<(Option<String>, Option<f64>)>;

/// Evaluations already made in this run, by (KPI, by, segment, period).
#[derive(Default)]
struct Cache(std::collections::HashMap<(String, Option<String>, Option<String>, Period), Values>);

/// Evaluates one KPI over a period, per member when `by` is given.
fn values(model: &Model, t: &Target, p: Period, cache: &mut Cache) -> Result<Values, Vec<Diagnostic>> {
    let key = (
        t.kpi.as_ref().map(|k| k.value.clone()).unwrap_or_default(),
        t.by.as_ref().map(|b| b.value.clone()),
        t.segment.as_ref().map(|s| s.value.clone()),
        p,
    );
    if let Some(v) = cache.0.get(&key) {
        return Ok(v.clone());
    }
    let v = evaluate_values(model, t, p)?;
    cache.0.insert(key, v.clone());
    Ok(v)
}

fn evaluate_values(model: &Model, t: &Target, p: Period) -> Result<Values, Vec<Diagnostic>> {
    let kpi = t.kpi.as_ref().map(|k| k.value.clone()).unwrap_or_default();
    let query = Query {
        kpis: vec![kpi.clone()],
        by: t.by.iter().map(|b| b.value.clone()).collect(),
        grain: Grain::All,
        range: Some(p),
        segments: t.segment.iter().map(|s| s.value.clone()).collect(),
        ..Query::default()
    };
    let ev: Evaluation = execute::evaluate(model, &query)?;
    let member = t.by.as_ref().map(|b| b.value.clone());
    let mut out = Vec::new();
    for i in 0..ev.frame.height() {
        let m = member.as_ref().and_then(|b| {
            ev.frame
                .column(b)
                .ok()
                .and_then(|c| c.get(i).ok())
                .and_then(|v| v.get_str().map(str::to_string))
        });
        let v = ev
            .frame
            .column(&kpi)
            .ok()
            .and_then(|c| c.get(i).ok())
            .and_then(|v| v.extract::<f64>())
            .filter(|x| x.is_finite());
        out.push((m, v));
    }
    Ok(out)
}

fn lookup(values: &[(Option<String>, Option<f64>)], member: &Option<String>) -> Option<f64> {
    values.iter().find(|(m, _)| m == member).and_then(|(_, v)| *v)
}

/// The periods a target covers at `as_of`: its period, or for a recurring
/// target the period holding `as_of` and the one before it.
fn instances(t: &Target, as_of: Date, cal: &crate::spec::model::Calendar) -> Vec<(Period, Option<Grain>)> {
    if let Some(every) = &t.every {
        let current = period::period_of(as_of, every.value, cal);
        let before = period::period_of(current.start.add_days(-1), every.value, cal);
        return vec![(before, Some(every.value)), (current, Some(every.value))];
    }
    match t.period.as_ref().map(|p| &p.value) {
        Some(PeriodSpec::Label(l)) => period::parse_label(l, cal)
            .map(|(g, p)| vec![(p, Some(g))])
            .unwrap_or_default(),
        Some(PeriodSpec::Range { from, to }) => vec![(
            Period {
                start: *from,
                end: *to,
            },
            None,
        )],
        None => Vec::new(),
    }
}

fn label(p: Period, grain: Option<Grain>, cal: &crate::spec::model::Calendar) -> String {
    match grain {
        Some(g) if g != Grain::All => period::label(p, g, cal),
        _ => format!("{}..{}", p.start, p.end),
    }
}

/// The status of every target (or of those named) at `as_of` (default: the
/// latest date in the data beneath each target's KPI, never later than today).
pub fn status(
    spec: &Spec,
    model: &Model,
    names: &[String],
    as_of: Option<Date>,
) -> Result<Vec<StatusRow>, Vec<Diagnostic>> {
    let cal = &model.calendar;
    let mut rows = Vec::new();
    let mut cache = Cache::default();
    let mut latest: std::collections::HashMap<String, Date> = std::collections::HashMap::new();
    for t in &spec.targets {
        if !names.is_empty() && !names.contains(&t.name.value) {
            continue;
        }
        let Some(kpi_name) = t.kpi.as_ref().map(|k| k.value.clone()) else {
            continue;
        };
        let Some(k) = model.kpi_id(&kpi_name) else {
            continue;
        };
        let km = &model.kpis[k];
        let additive = km.additivity == Additivity::Additive;
        let as_of = match as_of {
            Some(d) => d,
            None => match latest.get(&kpi_name) {
                Some(d) => *d,
                None => {
                    let d = execute::latest_date(model, &kpi_name)?;
                    latest.insert(kpi_name.clone(), d);
                    d
                }
            },
        };
        let tolerance = t.tolerance.as_ref().map_or(0.1, |x| x.value);
        for (p, grain) in instances(t, as_of, cal) {
            let linear = f64::from(as_of.0 - p.start.0 + 1) / f64::from(p.days());
            let phase = if as_of < p.start {
                Phase::NotStarted
            } else if as_of >= p.end {
                Phase::Over
            } else {
                Phase::InProgress(linear)
            };
            // Seasonal pacing: the share of last year's same period reached by
            // the same day; linear when there is no such history.
            let seasonal = t
                .pacing
                .as_ref()
                .is_some_and(|x| x.value == crate::spec::model::Pacing::Seasonal);
            let shares = if seasonal && additive && matches!(phase, Phase::InProgress(_)) {
                let last = period::year_earlier(p);
                let partial = Period {
                    start: last.start,
                    end: as_of.add_months(-12),
                };
                Some((
                    values(model, t, partial, &mut cache)?,
                    values(model, t, last, &mut cache)?,
                ))
            } else {
                None
            };
            let to_date = Period {
                start: p.start,
                end: p.end.min(as_of),
            };
            let actuals = if phase == Phase::NotStarted {
                Vec::new()
            } else {
                values(model, t, to_date, &mut cache)?
            };
            let prev = values(model, t, period::previous(p, grain, cal), &mut cache)?;
            let baselines = match (&t.change, t.baseline.as_ref().map(|b| &b.value)) {
                (None, _) => None,
                (Some(_), None | Some(Baseline::Previous)) => Some(prev.clone()),
                (Some(_), Some(Baseline::SameLastYear)) => {
                    Some(values(model, t, period::year_earlier(p), &mut cache)?)
                }
                (Some(_), Some(Baseline::Period(l))) => match period::parse_label(l, cal) {
                    Some((_, bp)) => Some(values(model, t, bp, &mut cache)?),
                    None => None,
                },
            };
            // Members: every one seen now, before, or in the baseline.
            let mut members: Vec<Option<String>> = Vec::new();
            for (m, _) in actuals
                .iter()
                .chain(prev.iter())
                .chain(baselines.iter().flatten())
            {
                if !members.contains(m) {
                    members.push(m.clone());
                }
            }
            if members.is_empty() && t.by.is_none() {
                members.push(None);
            }
            members.sort();
            for member in members {
                let actual = lookup(&actuals, &member).or(if phase == Phase::NotStarted {
                    None
                } else {
                    Some(0.0).filter(|_| additive)
                });
                let baseline = baselines.as_ref().map(|b| lookup(b, &member));
                let target_value = match (&t.value, &t.change) {
                    (Some(v), _) => Some(v.value),
                    (None, Some(c)) => baseline.flatten().map(|b| match c.value.kind {
                        ChangeKind::Relative => b * (1.0 + c.value.amount),
                        ChangeKind::Points | ChangeKind::Absolute => b + c.value.amount,
                    }),
                    (None, None) => None,
                };
                let Some(tv) = target_value else {
                    rows.push(StatusRow {
                        target: t.name.value.clone(),
                        kpi: kpi_name.clone(),
                        segment: t.segment.as_ref().map(|s| s.value.clone()),
                        member,
                        period: label(p, grain, cal),
                        actual,
                        target_value: None,
                        baseline: baseline.flatten(),
                        progress: None,
                        expected: None,
                        projected: None,
                        gap: None,
                        status: if phase == Phase::NotStarted {
                            Status::Upcoming
                        } else {
                            Status::OffTrack
                        },
                        trend: assess::Trend::Flat,
                        improving: None,
                        note: Some("no baseline value: no target value".to_string()),
                    });
                    continue;
                };
                let mut note = None;
                let phase = match (&shares, phase) {
                    (Some((partial, full)), Phase::InProgress(_)) => {
                        match (lookup(partial, &member), lookup(full, &member)) {
                            (Some(a), Some(b)) if b > 0.0 && a > 0.0 && a < b => Phase::InProgress(a / b),
                            _ => {
                                note = Some("no history a year earlier: paced linearly".to_string());
                                phase
                            }
                        }
                    }
                    _ => phase,
                };
                let a: Assessment = assess::assess(km.direction, additive, tv, actual, phase, tolerance);
                let now = if additive { a.projected.or(actual) } else { actual };
                let trend = assess::trend(now, lookup(&prev, &member));
                rows.push(StatusRow {
                    target: t.name.value.clone(),
                    kpi: kpi_name.clone(),
                    segment: t.segment.as_ref().map(|s| s.value.clone()),
                    member: member.clone(),
                    period: label(p, grain, cal),
                    actual,
                    target_value: Some(tv),
                    baseline: baseline.flatten(),
                    progress: a.progress,
                    expected: a.expected,
                    projected: a.projected,
                    gap: a.gap,
                    status: a.status,
                    trend,
                    improving: assess::improving(km.direction, trend),
                    note,
                });
            }
        }
    }
    Ok(rows)
}

/// The A of SMART (`kpi check --data`): warns when a target asks for a larger
/// change from its baseline than the KPI ever made between consecutive
/// periods of the same length, and prints both numbers.
pub fn achievability(spec: &Spec, model: &Model) -> Vec<Diagnostic> {
    let cal = &model.calendar;
    let mut out = Vec::new();
    let mut cache = Cache::default();
    for t in &spec.targets {
        let Some(kpi) = t.kpi.as_ref().and_then(|k| model.kpi_id(&k.value)) else {
            continue;
        };
        if t.by.is_some() {
            continue;
        }
        let km = &model.kpis[kpi];
        if let Some(d) = missing_baseline(model, t, &mut cache) {
            out.push(d);
            continue;
        }
        let (p, grain) = match (&t.every, t.period.as_ref().map(|p| &p.value)) {
            (Some(e), _) => match execute::latest_date(model, &km.name) {
                Ok(d) => (period::period_of(d, e.value, cal), e.value),
                Err(_) => continue,
            },
            (None, Some(PeriodSpec::Label(l))) => match period::parse_label(l, cal) {
                Some((g, p)) => (p, g),
                None => continue,
            },
            _ => continue,
        };
        if grain == Grain::Day || grain == Grain::All {
            continue;
        }
        // The history: the KPI per period of the target's length.
        let query = Query {
            kpis: vec![km.name.clone()],
            grain,
            segments: t.segment.iter().map(|s| s.value.clone()).collect(),
            ..Query::default()
        };
        let Ok(ev) = execute::evaluate(model, &query) else {
            continue;
        };
        let series: Vec<Option<f64>> = (0..ev.frame.height())
            .map(|i| {
                ev.frame
                    .column(&km.name)
                    .ok()
                    .and_then(|c| c.get(i).ok())
                    .and_then(|v| v.extract::<f64>())
            })
            .collect();
        let relative = !matches!(
            t.change.as_ref().map(|c| c.value.kind),
            Some(ChangeKind::Points | ChangeKind::Absolute)
        );
        let up = km.direction == crate::spec::model::Direction::Up;
        let steps: Vec<f64> = series
            .windows(2)
            .filter_map(|w| match (w[0], w[1]) {
                (Some(a), Some(b)) if relative && a != 0.0 => Some(b / a - 1.0),
                (Some(a), Some(b)) if !relative => Some(b - a),
                _ => None,
            })
            .map(|s| if up { s } else { -s })
            .collect();
        let Some(largest) = steps.iter().copied().reduce(f64::max) else {
            continue;
        };
        // The change the target requires from its baseline.
        let baseline_period = match t.baseline.as_ref().map(|b| &b.value) {
            Some(Baseline::SameLastYear) => period::year_earlier(p),
            Some(Baseline::Period(l)) => match period::parse_label(l, cal) {
                Some((_, bp)) => bp,
                None => continue,
            },
            _ => period::previous(p, Some(grain), cal),
        };
        let Ok(base) = values(model, t, baseline_period, &mut cache) else {
            continue;
        };
        let Some(baseline) = lookup(&base, &None) else {
            continue;
        };
        if relative && baseline == 0.0 && t.value.is_some() {
            continue;
        }
        let required = match (&t.value, &t.change) {
            (Some(v), _) if relative => v.value / baseline - 1.0,
            (Some(v), _) => v.value - baseline,
            (None, Some(c)) => c.value.amount,
            _ => continue,
        };
        let required = if up { required } else { -required };
        if required > largest + 1e-12 {
            // Both as improvements: a rise for `up` KPIs, a fall for `down` ones.
            let points = matches!(t.change.as_ref().map(|c| c.value.kind), Some(ChangeKind::Points));
            let show = |x: f64| {
                if relative {
                    format!("{:.1}%", x * 100.0)
                } else if points {
                    format!("{:.1}pp", x * 100.0)
                } else {
                    format!("{x:.4}")
                }
            };
            let span = t
                .value
                .as_ref()
                .map(|v| v.span)
                .or(t.change.as_ref().map(|c| c.span))
                .unwrap_or(t.name.span);
            out.push(
                Diagnostic::warning(
                    "kpi::target_not_achievable",
                    format!(
                        "target `{}` needs an improvement of {} on its baseline, but `{}` never improved by more than {} from one period to the next",
                        t.name.value,
                        show(required),
                        km.name,
                        show(largest)
                    ),
                )
                .at(span, format!("needs {} better", show(required)))
                .help("a target beyond anything the history shows is rarely Achievable; lower it or explain it in `objective`"),
            );
        }
    }
    out
}

/// A `change` needs a baseline value: an error when its period has no data.
fn missing_baseline(model: &Model, t: &Target, cache: &mut Cache) -> Option<Diagnostic> {
    let change = t.change.as_ref()?;
    let cal = &model.calendar;
    let (first, as_of) = execute::data_range(model, &t.kpi.as_ref()?.value).ok()?;
    let (p, grain) = instances(t, as_of, cal).pop()?;
    let bp = match t.baseline.as_ref().map(|b| &b.value) {
        Some(Baseline::SameLastYear) => period::year_earlier(p),
        Some(Baseline::Period(l)) => period::parse_label(l, cal)?.1,
        _ => period::previous(p, grain, cal),
    };
    // Outside the data's dates a sum would read 0: that is no data, not a zero.
    let outside = bp.end < first || bp.start > as_of;
    let base = values(model, t, bp, cache).ok()?;
    if !outside && base.iter().any(|(_, v)| v.is_some()) {
        return None;
    }
    let span = t.baseline.as_ref().map_or(change.span, |b| b.span);
    Some(
        Diagnostic::error(
            "kpi::target_no_baseline",
            format!(
                "target `{}` is a change from {}..{}, but the KPI has no value there",
                t.name.value, bp.start, bp.end
            ),
        )
        .at(span, "no data in the baseline period")
        .help("choose a baseline period with data (`baseline: 2025-Q1`), or state the goal as a `value`"),
    )
}
