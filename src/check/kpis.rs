//! KPIs: the dependency order of derived KPIs (cycles reported once),
//! each measure typed on its dataset or over other KPIs, time bases.

use super::*;

/// KPI names a derived measure refers to, with the place of each reference.
pub(super) fn references(e: &Expr, names: &KpiNames, out: &mut Vec<(usize, Span)>) {
    if let ExprKind::Name(n) = &e.kind {
        if n.qualifier.is_none() {
            if let Some(i) = names.get(&n.ident.name) {
                out.push((i, n.ident.span));
            }
        }
    }
    e.for_each_child(|c| references(c, names, out));
}

pub(super) fn kpis(
    spec: &Spec,
    model: &mut Model,
    closed: &[bool],
    kpi_names: &KpiNames,
    infos: &mut [Option<KpiInfo>],
    diags: &mut Diagnostics,
) {
    let n = spec.kpis.len();
    // Dependencies of derived KPIs, and cycles among them.
    let deps: Vec<Vec<(usize, Span)>> = spec
        .kpis
        .iter()
        .map(|k| {
            let mut out = Vec::new();
            if k.dataset.is_none() {
                if let Some(e) = k.measure.as_ref().and_then(|f| f.expr.as_ref()) {
                    references(e, kpi_names, &mut out);
                }
            }
            out
        })
        .collect();
    let (order, mut in_cycle) = toposort(&deps, kpi_names, diags);
    // Said of the lowest KPI too deep in each chain; those above it fail too.
    for (id, depth) in too_deep(&deps, &order) {
        if depth == MAX_DERIVED_DEPTH + 1 {
            diags.push(diag::kpis_too_deep(
                spec.kpis[id].name.span,
                &spec.kpis[id].name.value,
                depth,
            ));
        }
        in_cycle[id] = true;
    }
    let mut built: Vec<Option<KpiModel>> = vec![None; n];
    for &id in &order {
        if in_cycle[id] {
            continue;
        }
        let k = &spec.kpis[id];
        let km = {
            let sc = scope(model, closed, kpi_names, infos);
            kpi(k, model, &sc, &built, diags)
        };
        if let Some(km) = km {
            infos[id] = Some(KpiInfo {
                name: km.name.clone(),
                ty: km.ty,
                datasets: km.datasets.clone(),
            });
            built[id] = Some(km);
        }
    }
    // Keep ids aligned with the spec: a KPI that failed keeps a placeholder.
    model.kpis = built
        .into_iter()
        .enumerate()
        .map(|(i, km)| km.unwrap_or_else(|| placeholder(&spec.kpis[i])))
        .collect();
    model.order = order;
}

pub(super) fn placeholder(k: &m::Kpi) -> KpiModel {
    let span = k.name.span;
    KpiModel {
        name: k.name.value.clone(),
        title: k.display_title(),
        description: None,
        unit: None,
        decimals: None,
        direction: k.direction(),
        indicator: None,
        owner: None,
        tags: Vec::new(),
        kind: KpiKind::Derived {
            measure: TExpr {
                kind: TKind::Lit(Literal::Null),
                ty: Type::Unknown,
                span,
            },
        },
        ty: Type::Unknown,
        additivity: Additivity::NonAdditive,
        recombinable: false,
        stock: false,
        datasets: Vec::new(),
        span,
        measure_text: String::new(),
    }
}

/// How many derived KPIs may stand one on another. Each is a step of the
/// evaluation's plan, which Polars reads recursively: 20,000 overflowed
/// the stack. Generous for any spec written by hand.
pub const MAX_DERIVED_DEPTH: usize = 256;

/// The derived KPIs deeper than [`MAX_DERIVED_DEPTH`], each with its
/// depth: a derived KPI over base KPIs alone is 1 deep, one over it 2.
fn too_deep(deps: &[Vec<(usize, Span)>], order: &[usize]) -> Vec<(usize, usize)> {
    let mut depth = vec![0usize; deps.len()];
    let mut out = Vec::new();
    for &id in order {
        if deps[id].is_empty() {
            continue;
        }
        depth[id] = 1 + deps[id].iter().map(|(d, _)| depth[*d]).max().unwrap_or(0);
        if depth[id] > MAX_DERIVED_DEPTH {
            out.push((id, depth[id]));
        }
    }
    out
}

/// Dependency order; KPIs on a cycle are reported once per cycle and flagged.
pub(super) fn toposort(
    deps: &[Vec<(usize, Span)>],
    names: &KpiNames,
    diags: &mut Diagnostics,
) -> (Vec<usize>, Vec<bool>) {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let n = deps.len();
    let mut mark = vec![Mark::New; n];
    let mut order = Vec::with_capacity(n);
    let mut in_cycle = vec![false; n];
    for root in 0..n {
        if mark[root] != Mark::New {
            continue;
        }
        // Iterative DFS: (node, next dependency index).
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        mark[root] = Mark::Active;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&(dep, span)) = deps[node].get(*next) {
                *next += 1;
                match mark[dep] {
                    Mark::New => {
                        mark[dep] = Mark::Active;
                        stack.push((dep, 0));
                    }
                    Mark::Active => {
                        let from = stack.iter().position(|(x, _)| *x == dep).unwrap_or(0);
                        let mut cycle: Vec<String> = stack[from..]
                            .iter()
                            .map(|(x, _)| names.name(*x).to_string())
                            .collect();
                        cycle.push(names.name(dep).to_string());
                        for (x, _) in &stack[from..] {
                            in_cycle[*x] = true;
                        }
                        diags.push(diag::kpi_cycle(span, &cycle));
                    }
                    Mark::Done => {}
                }
            } else {
                mark[node] = Mark::Done;
                order.push(node);
                stack.pop();
            }
        }
    }
    // Anything that depends on a cycle cannot be typed either.
    for &id in &order {
        if deps[id].iter().any(|(d, _)| in_cycle[*d]) {
            in_cycle[id] = true;
        }
    }
    (order, in_cycle)
}

/// What a KPI's measure is, once typed.
pub(super) struct Measured {
    kind: KpiKind,
    additivity: Additivity,
    recombinable: bool,
    stock: bool,
    datasets: Vec<DatasetId>,
}

pub(super) fn kpi(
    k: &m::Kpi,
    model: &Model,
    sc: &Scope,
    built: &[Option<KpiModel>],
    diags: &mut Diagnostics,
) -> Option<KpiModel> {
    let field = k.measure.as_ref()?;
    let e = field.expr.as_ref()?;
    let measured = match &k.dataset {
        Some(ds_name) => {
            let Some(ds) = model.dataset_id(&ds_name.value) else {
                diags.push(diag::unknown_dataset(
                    ds_name.span,
                    &ds_name.value,
                    model.datasets.iter().map(|d| d.name.as_str()),
                ));
                return None;
            };
            base_kpi(k, e, field.span, ds, model, sc, diags)
        }
        None => derived_kpi(k, e, sc, built, diags),
    };
    let ty = match &measured.kind {
        KpiKind::Base { measure, .. } | KpiKind::Derived { measure } => measure.ty,
    };
    if ty == Type::String {
        diags.push(diag::text_measure(field.span, &k.name.value));
    }
    let measure = match &measured.kind {
        KpiKind::Base { measure, .. } | KpiKind::Derived { measure } => measure,
    };
    if let (Some(m::Unit::Percent), Some(at)) = (k.unit.as_ref().map(|u| u.value), times_hundred(measure)) {
        diags.push(diag::percent_times_hundred(at, &k.name.value));
    }
    if let (Some(unit), Some((counted, at))) = (k.unit.as_ref(), time_unit_counted(measure)) {
        if [m::Unit::Days, m::Unit::Hours, m::Unit::Minutes].contains(&unit.value) && unit.value != counted {
            diags.push(diag::time_unit_mismatch(at, &k.name.value, unit.value, counted));
        }
    }
    Some(KpiModel {
        name: k.name.value.clone(),
        title: k.display_title(),
        description: k.description.as_ref().map(|t| t.value.clone()),
        unit: k.unit.as_ref().map(|u| u.value),
        decimals: k.decimals.as_ref().map(|d| d.value),
        direction: k.direction(),
        indicator: k.indicator.as_ref().map(|i| i.value),
        owner: k.owner.as_ref().map(|t| t.value.clone()),
        tags: k.tags.iter().map(|t| t.value.clone()).collect(),
        kind: measured.kind,
        ty,
        additivity: measured.additivity,
        recombinable: measured.recombinable,
        stock: measured.stock,
        datasets: measured.datasets,
        span: k.name.span,
        measure_text: field.text.clone(),
    })
}

/// The literal 100 that a measure's value is multiplied by, if any: `a / b
/// * 100`, `100 * a / b`, also inside `round(…)` or the numerator of a
/// division (never a divisor: `a / (b * 100)` is not a percent made points).
fn times_hundred(e: &TExpr) -> Option<Span> {
    let hundred =
        |x: &TExpr| matches!(x.kind, TKind::Lit(Literal::Number(n)) if n == 100.0).then_some(x.span);
    match &e.kind {
        TKind::Binary(BinaryOp::Mul, a, b) => hundred(a)
            .or_else(|| hundred(b))
            .or_else(|| times_hundred(a))
            .or_else(|| times_hundred(b)),
        TKind::Binary(BinaryOp::Div, a, _) => times_hundred(a),
        TKind::Row {
            func: functions::RowFn::Round,
            args,
        } => args.first().and_then(times_hundred),
        _ => None,
    }
}

/// The unit a measure that aggregates a `*_between` function as it is
/// (`avg(minutes_between(a, b))`, nothing converting it) counts in, and
/// where the function is named.
fn time_unit_counted(e: &TExpr) -> Option<(m::Unit, Span)> {
    let TKind::Agg { arg: Some(arg), .. } = &e.kind else {
        return None;
    };
    let TKind::Row { func, .. } = &arg.kind else {
        return None;
    };
    let unit = match func {
        functions::RowFn::DaysBetween => m::Unit::Days,
        functions::RowFn::HoursBetween => m::Unit::Hours,
        functions::RowFn::MinutesBetween => m::Unit::Minutes,
        _ => return None,
    };
    Some((unit, arg.span))
}

/// A KPI over the rows of dataset `ds`: its measure, `where`, and time basis.
pub(super) fn base_kpi(
    k: &m::Kpi,
    e: &Expr,
    measure_span: Span,
    ds: DatasetId,
    model: &Model,
    sc: &Scope,
    diags: &mut Diagnostics,
) -> Measured {
    let mut ec = ExprChecker {
        scope: sc,
        dataset: Some(ds),
        owner: &k.name.value,
        row_what: "a `where`",
        diags,
    };
    let measure = ec.check(e, Ctx::Measure);
    let filter = k.filter.as_ref().and_then(|f| f.expr.as_ref()).map(|w| {
        let t = ec.check(w, Ctx::Row);
        if !t.ty.is_bool() {
            ec.diags.push(diag::where_not_bool(t.span, t.ty));
        }
        t
    });
    let time = time_basis(k, ds, model, sc.closed, diags);
    let stock = matches!(time, TimeBasis::Active { .. });
    if stock && !sums_and_counts(&measure) {
        diags.push(diag::stock_not_recombinable(measure_span));
    }
    let additivity = if stock {
        Additivity::NonAdditive
    } else {
        base_additivity(&measure)
    };
    let recombinable = !stock && aggregates_recombine(&measure);
    Measured {
        kind: KpiKind::Base {
            dataset: ds,
            measure,
            filter,
            time,
        },
        additivity,
        recombinable,
        stock,
        datasets: vec![ds],
    }
}

/// A KPI computed from other KPIs' values.
pub(super) fn derived_kpi(
    k: &m::Kpi,
    e: &Expr,
    sc: &Scope,
    built: &[Option<KpiModel>],
    diags: &mut Diagnostics,
) -> Measured {
    let name = &k.name.value;
    for (key, span) in [
        ("where", k.filter.as_ref().map(|f| f.span)),
        ("time", k.time.as_ref().map(|t| t.span)),
        ("active", k.active.as_ref().map(|a| a.span)),
        ("at", k.at.as_ref().map(|a| a.span)),
    ] {
        if let Some(s) = span {
            diags.push(diag::needs_dataset(s, key, name));
        }
    }
    let mut ec = ExprChecker {
        scope: sc,
        dataset: None,
        owner: name,
        row_what: "a `where`",
        diags,
    };
    let measure = ec.check(e, Ctx::Derived);
    let mut refs = Vec::new();
    measure.kpis(&mut refs);
    ec.nests_without_kpis(e, &refs);
    let under: Vec<&KpiModel> = refs
        .iter()
        .filter_map(|r| built.get(*r).and_then(Option::as_ref))
        .collect();
    let mut datasets: Vec<DatasetId> = Vec::new();
    for d in under.iter().flat_map(|u| &u.datasets) {
        if !datasets.contains(d) {
            datasets.push(*d);
        }
    }
    check_reaggregation(&measure, built, diags);
    let stock = under.iter().any(|u| u.stock);
    let additivity = if stock {
        Additivity::NonAdditive
    } else {
        derived_additivity(&measure, built)
    };
    let recombinable = !stock && under.iter().all(|u| u.recombinable) && !has_time_or_per(&measure);
    Measured {
        kind: KpiKind::Derived { measure },
        additivity,
        recombinable,
        stock,
        datasets,
    }
}

pub(super) fn time_basis(
    k: &m::Kpi,
    ds: DatasetId,
    model: &Model,
    closed: &[bool],
    diags: &mut Diagnostics,
) -> TimeBasis {
    if let (Some(t), Some(a)) = (&k.time, &k.active) {
        diags.push(diag::time_and_active(a.span.to(t.span), &k.name.value));
    }
    if let Some(a) = &k.active {
        time_column(model, closed, ds, &a.from, diags);
        if let Some(to) = &a.to {
            time_column(model, closed, ds, to, diags);
        }
        let at_start = k.at.as_ref().is_some_and(|x| x.value == m::At::Start);
        return TimeBasis::Active {
            from: a.from.value.clone(),
            to: a.to.as_ref().map(|t| t.value.clone()),
            at_start,
        };
    }
    if let Some(at) = &k.at {
        diags.push(diag::at_without_active(at.span));
    }
    if let Some(t) = &k.time {
        time_column(model, closed, ds, t, diags);
        return TimeBasis::Column(t.value.clone());
    }
    match &model.datasets[ds].time {
        Some(t) => TimeBasis::Column(t.clone()),
        None => TimeBasis::None,
    }
}
