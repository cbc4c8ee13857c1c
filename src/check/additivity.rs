//! Additivity: whether a KPI sums across periods (and so paces linearly),
//! and whether its rolling and to-date forms recombine from parts.

use super::*;

pub(super) fn is_const(e: &TExpr) -> bool {
    match &e.kind {
        TKind::Lit(_) => true,
        TKind::Unary(_, x) => is_const(x),
        TKind::Binary(_, a, b) => is_const(a) && is_const(b),
        _ => false,
    }
}

/// A sum or count, or sums and differences of them, scaled by constants.
pub(super) fn base_additivity(e: &TExpr) -> Additivity {
    fn add(e: &TExpr) -> bool {
        match &e.kind {
            TKind::Agg {
                func: AggFn::Sum | AggFn::Count,
                per,
                ..
            } => per.is_empty(),
            TKind::Binary(BinaryOp::Add | BinaryOp::Sub, a, b) => add(a) && add(b),
            TKind::Binary(BinaryOp::Mul, a, b) => (add(a) && is_const(b)) || (is_const(a) && add(b)),
            TKind::Binary(BinaryOp::Div, a, b) => add(a) && is_const(b),
            TKind::Unary(UnaryOp::Neg, a) => add(a),
            _ => false,
        }
    }
    if add(e) {
        Additivity::Additive
    } else {
        Additivity::NonAdditive
    }
}

pub(super) fn derived_additivity(e: &TExpr, built: &[Option<KpiModel>]) -> Additivity {
    fn add(e: &TExpr, built: &[Option<KpiModel>]) -> bool {
        let of = |id: &KpiId| {
            built
                .get(*id)
                .and_then(Option::as_ref)
                .is_some_and(|k| k.additivity == Additivity::Additive)
        };
        match &e.kind {
            TKind::Kpi(id) => of(id),
            TKind::Time {
                func: functions::TimeFn::Prev | functions::TimeFn::Diff,
                kpi,
                ..
            } => of(kpi),
            TKind::Binary(BinaryOp::Add | BinaryOp::Sub, a, b) => add(a, built) && add(b, built),
            TKind::Binary(BinaryOp::Mul, a, b) => {
                (add(a, built) && is_const(b)) || (is_const(a) && add(b, built))
            }
            TKind::Binary(BinaryOp::Div, a, b) => add(a, built) && is_const(b),
            TKind::Unary(UnaryOp::Neg, a) => add(a, built),
            _ => false,
        }
    }
    if add(e, built) {
        Additivity::Additive
    } else {
        Additivity::NonAdditive
    }
}

pub(super) fn sums_and_counts(e: &TExpr) -> bool {
    match &e.kind {
        TKind::Agg { func, per, .. } => {
            per.is_empty() && matches!(func, AggFn::Sum | AggFn::Count | AggFn::Avg)
        }
        TKind::Lit(_) => true,
        TKind::Unary(_, a) => sums_and_counts(a),
        TKind::Binary(_, a, b) => sums_and_counts(a) && sums_and_counts(b),
        _ => false,
    }
}

pub(super) fn aggregates_recombine(e: &TExpr) -> bool {
    if let TKind::Agg { func, per, .. } = &e.kind {
        return func.recombinable() && per.is_empty();
    }
    let mut ok = true;
    e.for_each_child(|c| ok &= aggregates_recombine(c));
    ok
}

pub(super) fn has_time_or_per(e: &TExpr) -> bool {
    match &e.kind {
        TKind::Time { .. } => true,
        TKind::Agg { per, .. } if !per.is_empty() => true,
        _ => {
            let mut found = false;
            e.for_each_child(|c| found |= has_time_or_per(c));
            found
        }
    }
}

/// Why KPI `k` cannot be re-aggregated over periods, in its own terms:
/// the aggregate or `per` of its measure, or the KPI beneath it that
/// cannot (`depth` bounds the walk down a chain of derived KPIs).
fn not_recombinable_why(k: &KpiModel, built: &[Option<KpiModel>], depth: usize) -> String {
    if k.stock {
        return "it is a stock KPI, a level at a moment rather than a flow".to_string();
    }
    let measure = match &k.kind {
        KpiKind::Base { measure, .. } | KpiKind::Derived { measure } => measure,
    };
    if let Some(why) = first_unrecombinable(measure) {
        return why;
    }
    let mut refs = Vec::new();
    measure.kpis(&mut refs);
    let beneath = refs
        .iter()
        .filter_map(|r| built.get(*r).and_then(Option::as_ref))
        .find(|u| !u.recombinable);
    match beneath {
        Some(u) if depth < 32 => {
            let beneath = not_recombinable_why(u, built, depth + 1);
            let beneath = beneath.strip_prefix("it ").unwrap_or(&beneath);
            format!("it is built on `{}`, which {beneath}", u.name)
        }
        _ => "it is built on KPIs that cannot be re-aggregated".to_string(),
    }
}

/// The first aggregate of `e` whose parts do not add up across periods
/// (`median`, …), or its first `per` or time function, in words.
fn first_unrecombinable(e: &TExpr) -> Option<String> {
    match &e.kind {
        TKind::Agg { func, per, .. } if !per.is_empty() => {
            Some(format!("it aggregates `{}` per {}", func.name(), per.join(", ")))
        }
        TKind::Agg { func, .. } if !func.recombinable() => Some(format!(
            "it uses `{}`, whose value over several periods is not made of theirs",
            func.name()
        )),
        TKind::Time { func, .. } => Some(format!("it uses the time function `{}`", func.name())),
        _ => {
            let mut found = None;
            e.for_each_child(|c| {
                if found.is_none() {
                    found = first_unrecombinable(c);
                }
            });
            found
        }
    }
}

pub(super) fn check_reaggregation(e: &TExpr, built: &[Option<KpiModel>], diags: &mut Diagnostics) {
    if let TKind::Time { func, kpi, .. } = &e.kind {
        if func.reaggregates() {
            if let Some(k) = built.get(*kpi).and_then(Option::as_ref) {
                if !k.recombinable {
                    let why = not_recombinable_why(k, built, 0);
                    diags.push(diag::not_recombinable(e.span, func.name(), &k.name, &why));
                }
            }
        }
    }
    e.for_each_child(|c| check_reaggregation(c, built, diags));
}
