//! SMART checks of targets (LANGUAGE.md §6) that need no data: S, M, R, T.

use serde::Serialize;

use super::diagnostics as diag;
use super::ir::{BaselinePeriod, Goal, KpiId, Model, TargetModel, TargetTime};
use super::types::Type;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::period::{self, Calendar, Grain, Period};
use crate::span::{Span, Spanned};
use crate::spec::model::{Baseline, ChangeKind, Keyword, Pacing, PeriodSpec, Spec, Target, Unit};

/// How a target scores on each SMART criterion. `achievable` is `None`
/// until checked against data.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct SmartVerdict {
    pub target: String,
    pub specific: bool,
    pub measurable: bool,
    pub achievable: Option<bool>,
    pub relevant: bool,
    pub time_bound: bool,
}

/// Checks every target: each gets a SMART verdict, and each that checks
/// clean joins the model, resolved.
pub fn check_targets(spec: &Spec, model: &mut Model, diags: &mut Diagnostics) -> Vec<SmartVerdict> {
    let mut verdicts = Vec::new();
    for t in &spec.targets {
        let errors = diags.iter().filter(|d| d.is_error()).count();
        let (verdict, kpi) = check_target(spec, model, t, diags);
        let clean = diags.iter().filter(|d| d.is_error()).count() == errors;
        if let (true, Some(kpi)) = (clean, kpi) {
            if let Some(resolved) = resolve(t, kpi, &model.calendar) {
                model.targets.push(resolved);
            }
        }
        verdicts.push(verdict);
    }
    verdicts
}

/// The S, M, R and T of one target; its KPI when that exists.
fn check_target(
    spec: &Spec,
    model: &Model,
    t: &Target,
    diags: &mut Diagnostics,
) -> (SmartVerdict, Option<KpiId>) {
    let kpi = target_kpi(model, t, diags);
    let verdict = SmartVerdict {
        target: t.name.value.clone(),
        specific: specific(spec, model, t, kpi, diags),
        measurable: measurable(model, t, kpi, diags),
        achievable: None,
        time_bound: time_bound(model, t, diags),
        relevant: relevant(t, diags),
    };
    (verdict, kpi)
}

/// The target's KPI, reported when missing or unknown.
fn target_kpi(model: &Model, t: &Target, diags: &mut Diagnostics) -> Option<KpiId> {
    let Some(k) = &t.kpi else {
        // A `kpi:` written with an invalid value was reported where it was read.
        if !t.keys.has("kpi") {
            diags.push(crate::spec::diagnostics::missing_key(
                t.name.span,
                "kpi",
                &format!("target `{}`", t.name.value),
                "kpi: won_revenue",
            ));
        }
        return None;
    };
    let id = model.kpi_id(&k.value);
    if id.is_none() {
        diags.push(diag::unknown_kpi(
            k.span,
            &k.value,
            model.kpis.iter().map(|x| x.name.as_str()),
        ));
    }
    id
}

/// S: a defined KPI, segment and dimension that fit together.
fn specific(spec: &Spec, model: &Model, t: &Target, kpi: Option<KpiId>, diags: &mut Diagnostics) -> bool {
    let mut ok = kpi.is_some();
    let segment = t.segment.as_ref().filter(|s| {
        let known = spec.segment(&s.value).is_some();
        if !known {
            diags.push(diag::unknown_segment(
                s.span,
                &s.value,
                spec.segments.iter().map(|x| x.name.value.as_str()),
            ));
            ok = false;
        }
        known
    });
    if let Some(id) = kpi {
        let dims: Vec<_> = t.by.iter().cloned().collect();
        let segs: Vec<_> = segment.into_iter().cloned().collect();
        let found = super::query::refusals(model, &[id], &dims, &segs, true);
        ok &= found.is_empty();
        diags.extend(found);
    }
    ok
}

/// M: a numeric KPI and one level or change to reach.
fn measurable(model: &Model, t: &Target, kpi: Option<KpiId>, diags: &mut Diagnostics) -> bool {
    let mut ok = true;
    if let (Some(id), Some(k)) = (kpi, &t.kpi) {
        let ty = model.kpis[id].ty;
        if !matches!(ty, Type::Number | Type::Unknown | Type::Null) {
            diags.push(
                Diagnostic::error(
                    "kpi::target_not_numeric",
                    format!("KPI `{}` is {ty}, so a target cannot measure it", k.value),
                )
                .at(k.span, format!("{ty} KPI"))
                .help("targets need a KPI whose value is a number"),
            );
            ok = false;
        }
    }
    match (&t.value, &t.change) {
        (None, None) if !t.keys.has("value") && !t.keys.has("change") => {
            diags.push(
                Diagnostic::error(
                    "kpi::target_no_value",
                    format!("target `{}` has neither `value` nor `change`", t.name.value),
                )
                .at(t.name.span, "nothing to measure against")
                .help("add `value: 1_000_000` (a level) or `change: \"+15%\"` (relative to a baseline)"),
            );
            ok = false;
        }
        (Some(a), Some(b)) => {
            diags.push(
                Diagnostic::error(
                    "kpi::target_value_conflict",
                    "a target has either `value` or `change`, not both",
                )
                .at(b.span, "second goal")
                .also(a.span, "first goal")
                .help("keep the absolute `value` or the relative `change`"),
            );
            ok = false;
        }
        _ => {}
    }
    if let Some(id) = kpi {
        percent_written_as_number(model, t, id, diags);
    }
    baseline_fits(model, t, diags);
    if let Some(tol) = &t.tolerance {
        if !(0.0..=1.0).contains(&tol.value) {
            diags.push(
                Diagnostic::error("kpi::invalid_tolerance", "tolerance must be between 0% and 100%")
                    .at(tol.span, "out of range")
                    .help("write the band as a percentage of the target, e.g. `tolerance: 10%`"),
            );
        }
    }
    ok
}

/// A percent KPI's values are fractions (a win rate of 25% is 0.25): a
/// level written as a number above 1 (`value: 25`) asks for more than 100%,
/// and a change in the KPI's own unit above 1 (`change: "+5"`) for more
/// than 100 points: almost always a percent written without its `%` (or
/// points without `pp`). Written `2500%` or `+500pp`, it is taken as meant.
fn percent_written_as_number(model: &Model, t: &Target, kpi: KpiId, diags: &mut Diagnostics) {
    let k = &model.kpis[kpi];
    if k.unit != Some(Unit::Percent) {
        return;
    }
    // As raw outputs write numbers: 25, 0.25, and 110 for 1.1 × 100.
    let plain = |x: f64| crate::report::table::raw_number(x).to_string();
    let signed = |x: f64| match x < 0.0 {
        true => plain(x),
        false => format!("+{}", plain(x)),
    };
    let (span, asked, help) = match (&t.value, &t.change) {
        (Some(v), _) if !t.value_in_percent && v.value.abs() > 1.0 => (
            v.span,
            format!("{}%", crate::report::table::thousands(v.value * 100.0, 0)),
            format!(
                "a percent KPI's values are fractions: write `value: {n}%` (or {}) for {n} percent; write `{}%` if that is meant",
                plain(v.value / 100.0),
                plain(v.value * 100.0),
                n = plain(v.value),
            ),
        ),
        (_, Some(c)) if c.value.kind == ChangeKind::Absolute && c.value.amount.abs() > 1.0 => (
            c.span,
            format!("{} points", signed(c.value.amount * 100.0)),
            format!(
                "a percent KPI's values are fractions: write `change: \"{n}pp\"` for {n} points, or `\"{n}%\"` relative to the baseline",
                n = signed(c.value.amount),
            ),
        ),
        _ => return,
    };
    diags.push(
        Diagnostic::warning(
            "kpi::percent_as_number",
            format!(
                "target `{}` asks `{}`, a percent, for {asked}: written as a number",
                t.name.value, k.name
            ),
        )
        .at(span, asked)
        .help(help),
    );
}

/// A `baseline` belongs to a `change` and names a period.
fn baseline_fits(model: &Model, t: &Target, diags: &mut Diagnostics) {
    if let (Some(b), None) = (&t.baseline, &t.change) {
        diags.push(
            Diagnostic::warning(
                "kpi::baseline_without_change",
                "`baseline` only applies to a `change`",
            )
            .at(b.span, "ignored")
            .help("remove `baseline`, or state the goal as a `change`"),
        );
    }
    if let Some(b) = &t.baseline {
        if let Baseline::Period(label) = &b.value {
            if period::parse_label(label, &model.calendar).is_none() {
                diags
                    .push(invalid_period(b.span, label).help(
                        "a baseline is `previous`, `same_last_year` or a period label such as 2025-Q2",
                    ));
            }
        }
    }
}

/// T: a period or a recurrence.
fn time_bound(model: &Model, t: &Target, diags: &mut Diagnostics) -> bool {
    match (&t.period, &t.every) {
        // Written with an invalid value: reported where it was read.
        (None, None) if t.keys.has("period") || t.keys.has("every") => true,
        (None, None) => {
            diags.push(
                Diagnostic::error(
                    "kpi::target_no_period",
                    format!("target `{}` has no `period` or `every`", t.name.value),
                )
                .at(t.name.span, "not time-bound")
                .help(
                    "add `period: 2025-Q3`, `period: {from: 2025-07-01, to: 2025-09-30}` or `every: month`",
                ),
            );
            false
        }
        (Some(p), Some(e)) => {
            diags.push(crate::spec::diagnostics::period_conflict(
                e.span,
                (p.span, "fixed period"),
                "use `period` for one period and `every` for a recurring target",
            ));
            false
        }
        (Some(p), None) => period_names_days(p, &model.calendar, diags),
        (None, Some(e)) => {
            let ok = matches!(e.value, Grain::Week | Grain::Month | Grain::Quarter | Grain::Year);
            if !ok {
                diags.push(crate::spec::diagnostics::invalid_value(
                    e.span,
                    e.value.as_str(),
                    "recurrence",
                    &["week", "month", "quarter", "year"],
                ));
            }
            ok
        }
    }
}

/// R: the goal it serves.
fn relevant(t: &Target, diags: &mut Diagnostics) -> bool {
    if t.objective.is_some() {
        return true;
    }
    diags.push(
        Diagnostic::warning(
            "kpi::target_no_objective",
            format!("target `{}` has no `objective`", t.name.value),
        )
        .at(t.name.span, "why does this target matter?")
        .help("add `objective:` naming the business goal it serves (the R of SMART)"),
    );
    false
}

/// A target that checked clean, with its period, baseline and goal resolved.
fn resolve(t: &Target, kpi: KpiId, cal: &Calendar) -> Option<TargetModel> {
    let time = match (&t.every, t.period.as_ref().map(|p| &p.value)) {
        (Some(e), _) => TargetTime::Every(e.value),
        (None, Some(PeriodSpec::Label(l))) => {
            let (grain, period) = period::parse_label(l, cal)?;
            TargetTime::Fixed {
                period,
                grain: Some(grain),
            }
        }
        (None, Some(PeriodSpec::Range { from, to })) => TargetTime::Fixed {
            period: Period {
                start: *from,
                end: *to,
            },
            grain: None,
        },
        (None, None) => return None,
    };
    let goal = match (&t.value, &t.change) {
        (Some(v), _) => Goal::Value(v.value),
        (None, Some(c)) => Goal::Change {
            change: c.value,
            baseline: match t.baseline.as_ref().map(|b| &b.value) {
                None | Some(Baseline::Previous) => BaselinePeriod::Previous,
                Some(Baseline::SameLastYear) => BaselinePeriod::SameLastYear,
                Some(Baseline::Period(l)) => BaselinePeriod::Fixed(period::parse_label(l, cal)?.1),
            },
        },
        (None, None) => return None,
    };
    let text = |x: &Option<crate::spec::model::Text>| x.as_ref().map(|x| x.value.clone());
    Some(TargetModel {
        name: t.name.value.clone(),
        kpi,
        segment: t.segment.as_ref().map(|s| s.value.clone()),
        by: t.by.as_ref().map(|b| b.value.clone()),
        time,
        goal,
        tolerance: t.tolerance.as_ref().map_or(0.1, |x| x.value),
        pacing: t.pacing.as_ref().map_or(Pacing::Linear, |p| p.value),
        objective: text(&t.objective),
        owner: text(&t.owner),
        description: text(&t.description),
        span: t.name.span,
        goal_span: t
            .value
            .as_ref()
            .map(|v| v.span)
            .or(t.change.as_ref().map(|c| c.span))
            .unwrap_or(t.name.span),
        baseline_span: t.baseline.as_ref().map(|b| b.span),
    })
}

/// Whether a `period:` (of a target or a test) names days: a label of a
/// real period, or a range that does not end before it starts; said where
/// it does not.
pub(super) fn period_names_days(p: &Spanned<PeriodSpec>, cal: &Calendar, diags: &mut Diagnostics) -> bool {
    match &p.value {
        PeriodSpec::Label(label) => {
            let ok = period::parse_label(label, cal).is_some();
            if !ok {
                diags.push(invalid_period(p.span, label));
            }
            ok
        }
        PeriodSpec::Range { from, to } => {
            if from > to {
                diags.push(
                    Diagnostic::error(
                        "kpi::period_reversed",
                        format!("period starts ({from}) after it ends ({to})"),
                    )
                    .at(p.span, "`from` is after `to`")
                    .help("swap `from` and `to`"),
                );
            }
            from <= to
        }
    }
}

/// A period label that names no period, with why when its shape says
/// (`2025-W53`: 2025 has 52 ISO weeks).
fn invalid_period(span: Span, label: &str) -> Diagnostic {
    let message = match period::why_not_a_label(label) {
        Some(why) => format!("`{label}` is not a valid period: {why}"),
        None => format!("`{label}` is not a valid period"),
    };
    Diagnostic::error("kpi::invalid_period", message)
        .at(span, "no such period")
        .help(period::label_help(label))
}
