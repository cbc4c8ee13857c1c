//! SMART checks of targets (LANGUAGE.md §6) that need no data: S, M, R, T.

use serde::Serialize;

use super::diagnostics as diag;
use super::ir::Model;
use super::types::Type;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::period;
use crate::span::Span;
use crate::spec::model::{Baseline, Keyword, PeriodSpec, Spec, Target};

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

pub fn check_targets(
    spec: &Spec,
    model: &Model,
    closed: &[bool],
    diags: &mut Diagnostics,
) -> Vec<SmartVerdict> {
    spec.targets
        .iter()
        .map(|t| check_target(spec, model, closed, t, diags))
        .collect()
}

fn check_target(
    spec: &Spec,
    model: &Model,
    closed: &[bool],
    t: &Target,
    diags: &mut Diagnostics,
) -> SmartVerdict {
    let before = diags.len();
    let mut v = SmartVerdict {
        target: t.name.value.clone(),
        specific: true,
        measurable: true,
        achievable: None,
        relevant: true,
        time_bound: true,
    };
    // S: a defined KPI, segment and dimension.
    let kpi = match &t.kpi {
        None if t.has("kpi") => None,
        None => {
            diags.push(crate::spec::diagnostics::missing_key(
                t.name.span,
                "kpi",
                &format!("target `{}`", t.name.value),
                "kpi: won_revenue",
            ));
            v.specific = false;
            None
        }
        Some(k) => match model.kpi_id(&k.value) {
            Some(id) => Some((id, k)),
            None => {
                diags.push(diag::unknown_kpi(
                    k.span,
                    &k.value,
                    model.kpis.iter().map(|x| x.name.as_str()),
                ));
                v.specific = false;
                None
            }
        },
    };
    if let Some(s) = &t.segment {
        if spec.segment(&s.value).is_none() {
            diags.push(diag::unknown_segment(
                s.span,
                &s.value,
                spec.segments.iter().map(|x| x.name.value.as_str()),
            ));
            v.specific = false;
        }
    }
    if let Some((id, _)) = kpi {
        let dims: Vec<_> = t.by.iter().cloned().collect();
        let segs: Vec<_> = t
            .segment
            .iter()
            .filter(|s| spec.segment(&s.value).is_some())
            .cloned()
            .collect();
        let found = super::check_query(model, closed, &[id], &dims, &segs);
        if !found.is_empty() {
            v.specific = false;
        }
        diags.extend(found);
    }
    // M: a numeric KPI and a level or a change to reach.
    if let Some((id, k)) = kpi {
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
            v.measurable = false;
        }
    }
    match (&t.value, &t.change) {
        (None, None) if !t.has("value") && !t.has("change") => {
            diags.push(
                Diagnostic::error(
                    "kpi::target_no_value",
                    format!("target `{}` has neither `value` nor `change`", t.name.value),
                )
                .at(t.name.span, "nothing to measure against")
                .help("add `value: 1_000_000` (a level) or `change: \"+15%\"` (relative to a baseline)"),
            );
            v.measurable = false;
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
            v.measurable = false;
        }
        _ => {}
    }
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
    // T: a period or a recurrence.
    match (&t.period, &t.every) {
        (None, None) if t.has("period") || t.has("every") => {}
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
            v.time_bound = false;
        }
        (Some(p), Some(e)) => {
            diags.push(
                Diagnostic::error(
                    "kpi::target_period_conflict",
                    "a target has either `period` or `every`, not both",
                )
                .at(e.span, "recurrence")
                .also(p.span, "fixed period")
                .help("use `period` for one period and `every` for a recurring target"),
            );
            v.time_bound = false;
        }
        (Some(p), None) => match &p.value {
            PeriodSpec::Label(label) => {
                if period::parse_label(label, &model.calendar).is_none() {
                    diags.push(invalid_period(p.span, label));
                    v.time_bound = false;
                }
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
                    v.time_bound = false;
                }
            }
        },
        (None, Some(e)) => {
            if !matches!(
                e.value,
                crate::spec::model::Grain::Week
                    | crate::spec::model::Grain::Month
                    | crate::spec::model::Grain::Quarter
                    | crate::spec::model::Grain::Year
            ) {
                diags.push(crate::spec::diagnostics::invalid_value(
                    e.span,
                    e.value.as_str(),
                    "recurrence",
                    &["week", "month", "quarter", "year"],
                ));
                v.time_bound = false;
            }
        }
    }
    if let Some(tol) = &t.tolerance {
        if !(0.0..=1.0).contains(&tol.value) {
            diags.push(
                Diagnostic::error("kpi::invalid_tolerance", "tolerance must be between 0% and 100%")
                    .at(tol.span, "out of range")
                    .help("write the band as a percentage of the target, e.g. `tolerance: 10%`"),
            );
        }
    }
    // R: the goal it serves.
    if t.objective.is_none() {
        diags.push(
            Diagnostic::warning(
                "kpi::target_no_objective",
                format!("target `{}` has no `objective`", t.name.value),
            )
            .at(t.name.span, "why does this target matter?")
            .help("add `objective:` naming the business goal it serves (the R of SMART)"),
        );
        v.relevant = false;
    }
    // Errors above that were not about a criterion still make it unspecific.
    let _ = before;
    v
}

fn invalid_period(span: Span, label: &str) -> Diagnostic {
    Diagnostic::error("kpi::invalid_period", format!("`{label}` is not a valid period"))
        .at(span, "no such period")
        .help("write a period as 2025, 2025-Q3, 2025-08, 2025-W33, 2025-08-15, FY2025 or FY2025-Q1")
}
