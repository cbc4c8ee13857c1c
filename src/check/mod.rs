//! Stage 3, check: resolve names, assign types and levels, classify
//! additivity, order the KPI graph, score targets. Reports every problem,
//! sorted, without cascades: a broken name becomes an unknown type that
//! fits anywhere.

pub mod diagnostics;
mod expr;
pub mod functions;
pub mod ir;
pub mod query;
mod targets;
pub mod types;

use std::collections::HashMap;

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::span::Span;
use crate::spec::model::{self as m, Format, Spec};
use crate::syntax::ast::{BinaryOp, Expr, ExprKind, Name, UnaryOp};
use diagnostics as diag;
pub use expr::{Ctx, ExprChecker, Found, KpiInfo, KpiNames, Scope};
use functions::AggFn;
use ir::*;
pub use targets::SmartVerdict;
use types::Type;

/// Column names and types read from each dataset's data (`kpi check --data`).
pub type DataSchemas = HashMap<String, Vec<(String, Type)>>;

/// The result of checking: the model (usable when there are no errors),
/// everything found, and each target's SMART verdict.
#[derive(Debug, Default)]
pub struct Checked {
    pub model: Model,
    pub diagnostics: Diagnostics,
    pub targets: Vec<SmartVerdict>,
}

/// Checks a loaded spec. With `data`, columns come from the data as well as
/// from `columns:` declarations, and unknown columns are always errors.
pub fn check(spec: &Spec, data: Option<&DataSchemas>) -> Checked {
    let mut diags = Diagnostics::new();
    let mut model = Model {
        calendar: spec.calendar.clone().unwrap_or_default(),
        ..Model::default()
    };
    let closed = datasets(spec, data, &mut model, &mut diags);
    let kpi_names = KpiNames::new(spec.kpis.iter().map(|k| k.name.value.clone()).collect());
    let mut infos: Vec<Option<KpiInfo>> = vec![None; spec.kpis.len()];
    dimensions(spec, &mut model, &closed, &kpi_names, &infos, &mut diags);
    segments(spec, &mut model, &closed, &kpi_names, &infos, &mut diags);
    kpis(spec, &mut model, &closed, &kpi_names, &mut infos, &mut diags);
    let verdicts = targets::check_targets(spec, &mut model, &mut diags);
    funnels(spec, &mut model, &closed, &kpi_names, &infos, &mut diags);
    model.tests = tests(spec, &model, &mut diags);
    Checked {
        model,
        diagnostics: diags,
        targets: verdicts,
    }
}

fn datasets(
    spec: &Spec,
    data: Option<&DataSchemas>,
    model: &mut Model,
    diags: &mut Diagnostics,
) -> Vec<bool> {
    let mut closed = Vec::new();
    for d in &spec.datasets {
        let declared: Vec<(String, Type)> = d
            .columns
            .iter()
            .map(|(n, t)| (n.value.clone(), Type::from(t.value)))
            .collect();
        let mut columns = declared.clone();
        let from_data = data.and_then(|s| s.get(&d.name.value));
        if let Some(cols) = from_data {
            for (n, t) in cols {
                if !columns.iter().any(|(c, _)| c == n) {
                    columns.push((n.clone(), *t));
                }
            }
        }
        closed.push(from_data.is_some());
        let schema = match (from_data, declared.is_empty()) {
            (Some(_), _) => SchemaState::Read,
            (None, false) => SchemaState::Declared,
            (None, true) => SchemaState::Open,
        };
        let source_text = d.source.as_ref().map(|s| s.value.clone()).unwrap_or_default();
        let source = match d.source_path() {
            Some(Ok(p)) => p,
            Some(Err(e)) => {
                if let Some(s) = &d.source {
                    diags.push(diag::source_variable(s.span, &d.name.value, &e));
                }
                d.base_dir.join(&source_text)
            }
            None => d.base_dir.join(&source_text),
        };
        let format = match &d.format {
            Some(f) => f.value,
            None => match format_of(&source_text) {
                Some(f) => f,
                None => {
                    if let Some(s) = &d.source {
                        diags.push(diag::unknown_format(s.span, &s.value));
                    }
                    Format::Csv
                }
            },
        };
        model.datasets.push(DatasetModel {
            name: d.name.value.clone(),
            source,
            source_text,
            format,
            time: d.time.as_ref().map(|t| t.value.clone()),
            columns,
            declared,
            schema,
            dimensions: Vec::new(),
            lookups: Vec::new(),
            span: d.name.span,
            source_span: d.source.as_ref().map_or(d.name.span, |s| s.span),
            read: d.read.clone(),
        });
    }
    // Lookups and time columns, once every dataset's columns are known.
    let names: Vec<String> = model.datasets.iter().map(|d| d.name.clone()).collect();
    for (id, d) in spec.datasets.iter().enumerate() {
        for l in &d.lookups {
            let Some(target) = names.iter().position(|n| *n == l.dataset.value) else {
                diags.push(diag::unknown_dataset(
                    l.dataset.span,
                    &l.dataset.value,
                    names.iter().map(String::as_str),
                ));
                continue;
            };
            if target == id {
                diags.push(diag::lookup_self(l.dataset.span, &l.dataset.value));
                continue;
            }
            // The left key may be a computed dimension (defined below, checked later).
            if !d.dimensions.iter().any(|(n, _)| n.value == l.left.value) {
                column_must_exist(model, &closed, id, &l.left, diags);
            }
            column_must_exist(model, &closed, target, &l.right, diags);
            model.datasets[id].lookups.push(LookupModel {
                dataset: target,
                left: l.left.value.clone(),
                right: l.right.value.clone(),
                span: l.span,
            });
        }
        if let Some(t) = &d.time {
            time_column(model, &closed, id, t, diags);
        }
    }
    closed
}

pub fn format_of(path: &str) -> Option<Format> {
    let lower = path.to_ascii_lowercase();
    if lower.ends_with(".csv") {
        Some(Format::Csv)
    } else if lower.ends_with(".parquet") || lower.ends_with(".pq") {
        Some(Format::Parquet)
    } else if lower.ends_with(".ndjson") || lower.ends_with(".jsonl") {
        Some(Format::Ndjson)
    } else {
        None
    }
}

fn scope<'a>(
    model: &'a Model,
    closed: &'a [bool],
    kpi_names: &'a KpiNames,
    infos: &'a [Option<KpiInfo>],
) -> Scope<'a> {
    Scope {
        datasets: &model.datasets,
        closed,
        kpis: infos,
        kpi_names,
    }
}

fn plain_name(n: &m::Name) -> Name {
    Name {
        qualifier: None,
        ident: crate::syntax::ast::Ident {
            name: n.value.clone(),
            span: n.span,
        },
    }
}

/// Reports a missing column; returns its type when known.
fn column_must_exist(
    model: &Model,
    closed: &[bool],
    ds: DatasetId,
    col: &m::Name,
    diags: &mut Diagnostics,
) -> Option<Type> {
    let names = KpiNames::default();
    let infos: Vec<Option<KpiInfo>> = Vec::new();
    let sc = scope(model, closed, &names, &infos);
    let (found, err) = sc.find(ds, &plain_name(col));
    if let Some(e) = err {
        diags.push(e);
    }
    match found {
        Found::Column(_, _, t) => Some(t),
        Found::Dimension(e) => Some(e.ty),
        Found::Undeclared(_) | Found::Missing => None,
    }
}

fn time_column(model: &Model, closed: &[bool], ds: DatasetId, col: &m::Name, diags: &mut Diagnostics) {
    if let Some(t) = column_must_exist(model, closed, ds, col, diags) {
        if !t.is_temporal() && t != Type::Unknown && t != Type::Null {
            diags.push(diag::time_not_temporal(col.span, &col.value, t));
        }
    }
}

fn dimensions(
    spec: &Spec,
    model: &mut Model,
    closed: &[bool],
    kpi_names: &KpiNames,
    infos: &[Option<KpiInfo>],
    diags: &mut Diagnostics,
) {
    for (id, d) in spec.datasets.iter().enumerate() {
        for (name, field) in &d.dimensions {
            let Some(e) = &field.expr else { continue };
            let t = {
                let sc = scope(model, closed, kpi_names, infos);
                let mut ec = ExprChecker {
                    scope: &sc,
                    dataset: Some(id),
                    owner: &d.name.value,
                    row_what: "a dimension",
                    diags,
                };
                ec.check(e, Ctx::Row)
            };
            model.datasets[id].dimensions.push(Dimension {
                name: name.value.clone(),
                expr: t,
            });
        }
    }
}

/// Whether every name of `e` can be resolved on `ds` (quietly).
fn resolves_on(sc: &Scope, ds: DatasetId, e: &Expr) -> Result<(), Name> {
    for n in e.names() {
        let (found, err) = sc.find(ds, n);
        if matches!(found, Found::Missing) || err.as_ref().is_some_and(|d| d.code == "kpi::undeclared_column")
        {
            return Err(n.clone());
        }
    }
    Ok(())
}

fn segments(
    spec: &Spec,
    model: &mut Model,
    closed: &[bool],
    kpi_names: &KpiNames,
    infos: &[Option<KpiInfo>],
    diags: &mut Diagnostics,
) {
    let sc = scope(model, closed, kpi_names, infos);
    let mut out = Vec::new();
    for s in &spec.segments {
        let mut seg = SegmentModel {
            name: s.name.value.clone(),
            title: s.title.as_ref().map(|t| t.value.clone()),
            description: s.description.as_ref().map(|t| t.value.clone()),
            span: s.name.span,
            on: Vec::new(),
            missing: Vec::new(),
        };
        let Some(e) = s.filter.as_ref().and_then(|f| f.expr.as_ref()) else {
            out.push(seg);
            continue;
        };
        // Typed on every dataset it resolves on, for queries to apply; its
        // mistakes are reported once, below, on its home dataset.
        for ds in 0..model.datasets.len() {
            match resolves_on(&sc, ds, e) {
                Ok(()) => {
                    let mut quiet = Diagnostics::new();
                    let mut ec = ExprChecker {
                        scope: &sc,
                        dataset: Some(ds),
                        owner: &s.name.value,
                        row_what: "a segment",
                        diags: &mut quiet,
                    };
                    let t = ec.check(e, Ctx::Row);
                    if !quiet.has_errors() && (t.ty.is_bool() || t.ty == Type::Unknown) {
                        seg.on.push((ds, t));
                    }
                }
                Err(n) => seg.missing.push((ds, n.ident.name.clone())),
            }
        }
        out.push(seg);
        // A segment is not tied to one dataset: check it where it resolves.
        let home = (0..model.datasets.len()).find(|&ds| resolves_on(&sc, ds, e).is_ok());
        match home {
            Some(ds) => {
                let mut ec = ExprChecker {
                    scope: &sc,
                    dataset: Some(ds),
                    owner: &s.name.value,
                    row_what: "a segment",
                    diags,
                };
                let t = ec.check(e, Ctx::Row);
                if !t.ty.is_bool() {
                    diags.push(diag::where_not_bool(t.span, t.ty));
                }
            }
            None => {
                // Where some dataset has an open schema, the names may be there.
                let open = (0..model.datasets.len())
                    .find(|&ds| !closed[ds] && model.datasets[ds].declared.is_empty());
                match open {
                    Some(ds) => {
                        let mut ec = ExprChecker {
                            scope: &sc,
                            dataset: Some(ds),
                            owner: &s.name.value,
                            row_what: "a segment",
                            diags,
                        };
                        let t = ec.check(e, Ctx::Row);
                        if !t.ty.is_bool() {
                            diags.push(diag::where_not_bool(t.span, t.ty));
                        }
                    }
                    None => {
                        let first_bad =
                            (0..model.datasets.len()).find_map(|ds| resolves_on(&sc, ds, e).err());
                        if let Some(n) = first_bad.or_else(|| e.names().first().map(|n| (*n).clone())) {
                            diags.push(diag::unresolved_in_segment(
                                n.span(),
                                &s.name.value,
                                &n.ident.name,
                            ));
                        }
                        reject_aggregates(e, "a segment", diags);
                    }
                }
            }
        }
    }
    model.segments = out;
}

fn reject_aggregates(e: &Expr, what: &str, diags: &mut Diagnostics) {
    if let ExprKind::Call(c) = &e.kind {
        if functions::AGGREGATES.iter().any(|a| a.0 == c.func.name) {
            diags.push(diag::aggregate_in_row_context(e.span, what));
            return;
        }
    }
    e.for_each_child(|c| reject_aggregates(c, what, diags));
}

/// KPI names a derived measure refers to, with the place of each reference.
fn references(e: &Expr, names: &KpiNames, out: &mut Vec<(usize, Span)>) {
    if let ExprKind::Name(n) = &e.kind {
        if n.qualifier.is_none() {
            if let Some(i) = names.get(&n.ident.name) {
                out.push((i, n.ident.span));
            }
        }
    }
    e.for_each_child(|c| references(c, names, out));
}

fn kpis(
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
    let (order, in_cycle) = toposort(&deps, kpi_names, diags);
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

fn placeholder(k: &m::Kpi) -> KpiModel {
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

/// Dependency order; KPIs on a cycle are reported once per cycle and flagged.
fn toposort(
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

fn kpi(
    k: &m::Kpi,
    model: &Model,
    sc: &Scope,
    built: &[Option<KpiModel>],
    diags: &mut Diagnostics,
) -> Option<KpiModel> {
    let name = &k.name.value;
    let field = k.measure.as_ref()?;
    let e = field.expr.as_ref()?;
    let (kind, ty, additivity, recombinable, stock, datasets) = match &k.dataset {
        Some(ds_name) => {
            let Some(ds) = model.dataset_id(&ds_name.value) else {
                diags.push(diag::unknown_dataset(
                    ds_name.span,
                    &ds_name.value,
                    model.datasets.iter().map(|d| d.name.as_str()),
                ));
                return None;
            };
            let mut ec = ExprChecker {
                scope: sc,
                dataset: Some(ds),
                owner: name,
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
                diags.push(diag::stock_not_recombinable(field.span));
            }
            let additivity = if stock {
                Additivity::NonAdditive
            } else {
                base_additivity(&measure)
            };
            let recombinable = !stock && aggregates_recombine(&measure);
            let ty = measure.ty;
            (
                KpiKind::Base {
                    dataset: ds,
                    measure,
                    filter,
                    time,
                },
                ty,
                additivity,
                recombinable,
                stock,
                vec![ds],
            )
        }
        None => {
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
            let under: Vec<&KpiModel> = refs
                .iter()
                .filter_map(|r| built.get(*r).and_then(Option::as_ref))
                .collect();
            let mut datasets: Vec<DatasetId> = Vec::new();
            for u in &under {
                for d in &u.datasets {
                    if !datasets.contains(d) {
                        datasets.push(*d);
                    }
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
            let ty = measure.ty;
            (
                KpiKind::Derived { measure },
                ty,
                additivity,
                recombinable,
                stock,
                datasets,
            )
        }
    };
    Some(KpiModel {
        name: name.clone(),
        title: k.display_title(),
        description: k.description.as_ref().map(|t| t.value.clone()),
        unit: k.unit.as_ref().map(|u| u.value),
        decimals: k.decimals.as_ref().map(|d| d.value),
        direction: k.direction(),
        indicator: k.indicator.as_ref().map(|i| i.value),
        owner: k.owner.as_ref().map(|t| t.value.clone()),
        tags: k.tags.iter().map(|t| t.value.clone()).collect(),
        kind,
        ty,
        additivity,
        recombinable,
        stock,
        datasets,
        span: k.name.span,
        measure_text: field.text.clone(),
    })
}

fn time_basis(
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

fn is_const(e: &TExpr) -> bool {
    match &e.kind {
        TKind::Lit(_) => true,
        TKind::Unary(_, x) => is_const(x),
        TKind::Binary(_, a, b) => is_const(a) && is_const(b),
        _ => false,
    }
}

/// A sum or count, or sums and differences of them, scaled by constants.
fn base_additivity(e: &TExpr) -> Additivity {
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

fn derived_additivity(e: &TExpr, built: &[Option<KpiModel>]) -> Additivity {
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

fn sums_and_counts(e: &TExpr) -> bool {
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

fn aggregates_recombine(e: &TExpr) -> bool {
    if let TKind::Agg { func, per, .. } = &e.kind {
        return func.recombinable() && per.is_empty();
    }
    let mut ok = true;
    e.for_each_child(|c| ok &= aggregates_recombine(c));
    ok
}

fn has_time_or_per(e: &TExpr) -> bool {
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

fn check_reaggregation(e: &TExpr, built: &[Option<KpiModel>], diags: &mut Diagnostics) {
    if let TKind::Time { func, kpi, .. } = &e.kind {
        if func.reaggregates() {
            if let Some(k) = built.get(*kpi).and_then(Option::as_ref) {
                if !k.recombinable {
                    let why = if k.stock {
                        "it is a stock KPI, a level at a moment rather than a flow"
                    } else {
                        "it is built on median, quantile, count_distinct, stddev, nested aggregation or time functions"
                    };
                    diags.push(diag::not_recombinable(e.span, func.name(), &k.name, why));
                }
            }
        }
    }
    e.for_each_child(|c| check_reaggregation(c, built, diags));
}

/// Whether `name` is a column, dimension or looked-up column of `ds`
/// (`teams.manager`, or `manager` when only one lookup has it).
pub fn dimension_on(sc: &Scope, ds: DatasetId, name: &str) -> bool {
    let Some(d) = sc.datasets.get(ds) else {
        return false;
    };
    let open = !sc.closed.get(ds).copied().unwrap_or(false) && d.declared.is_empty();
    if open || sc.has_name(ds, name) {
        return true;
    }
    let lookups = d.lookups.iter().filter_map(|l| sc.datasets.get(l.dataset));
    match name.split_once('.') {
        Some((q, c)) => lookups
            .filter(|x| x.name == q)
            .any(|x| x.columns.iter().any(|(n, _)| n == c)),
        None => {
            lookups
                .filter(|x| x.columns.iter().any(|(n, _)| n == name))
                .count()
                == 1
        }
    }
}

fn funnels(
    spec: &Spec,
    model: &mut Model,
    closed: &[bool],
    kpi_names: &KpiNames,
    infos: &[Option<KpiInfo>],
    diags: &mut Diagnostics,
) {
    let mut out = Vec::new();
    let sc = scope(model, closed, kpi_names, infos);
    for f in &spec.funnels {
        let Some(ds_name) = &f.dataset else {
            diags.push(crate::spec::diagnostics::missing_key(
                f.name.span,
                "dataset",
                &format!("funnel `{}`", f.name.value),
                "dataset: leads",
            ));
            continue;
        };
        let Some(ds) = model.dataset_id(&ds_name.value) else {
            diags.push(diag::unknown_dataset(
                ds_name.span,
                &ds_name.value,
                model.datasets.iter().map(|d| d.name.as_str()),
            ));
            continue;
        };
        if let Some(t) = &f.time {
            time_column(model, closed, ds, t, diags);
        }
        let mut seen: Vec<&m::Name> = Vec::new();
        let mut steps = Vec::new();
        for step in &f.steps {
            if let Some(first) = seen.iter().find(|n| n.value == step.name.value) {
                diags.push(diag::duplicate_step(step.name.span, first.span, &step.name.value));
            }
            seen.push(&step.name);
            let condition = step.filter.as_ref().and_then(|w| w.expr.as_ref()).map(|e| {
                let mut ec = ExprChecker {
                    scope: &sc,
                    dataset: Some(ds),
                    owner: &f.name.value,
                    row_what: "a funnel step",
                    diags,
                };
                let t = ec.check(e, Ctx::Row);
                if !t.ty.is_bool() {
                    diags.push(diag::where_not_bool(t.span, t.ty));
                }
                t
            });
            steps.push((step.name.value.clone(), condition));
        }
        let time = match f
            .time
            .as_ref()
            .map(|t| t.value.clone())
            .or_else(|| model.datasets[ds].time.clone())
        {
            Some(t) => TimeBasis::Column(t),
            None => TimeBasis::None,
        };
        out.push(FunnelModel {
            name: f.name.value.clone(),
            title: f.title.as_ref().map(|t| t.value.clone()),
            description: f.description.as_ref().map(|d| d.value.clone()),
            dataset: ds,
            time,
            steps,
        });
    }
    model.funnels = out;
}

fn tests(spec: &Spec, model: &Model, diags: &mut Diagnostics) -> Vec<TestModel> {
    let kpi_names = || spec.kpis.iter().map(|k| k.name.value.as_str());
    let mut out = Vec::new();
    for t in &spec.tests {
        match (&t.kpi, &t.target) {
            (Some(k), _) if spec.kpi(&k.value).is_none() => {
                diags.push(diag::unknown_kpi(k.span, &k.value, kpi_names()))
            }
            (_, Some(tg)) if !spec.targets.iter().any(|x| x.name.value == tg.value) => diags.push(
                Diagnostic::error(
                    "kpi::unknown_target",
                    format!("no target is named `{}`", tg.value),
                )
                .at(tg.span, "unknown target")
                .help(crate::diagnostic::suggestion(
                    &tg.value,
                    spec.targets.iter().map(|x| x.name.value.as_str()),
                    "target",
                )),
            ),
            (None, None) => diags.push(crate::spec::diagnostics::missing_key(
                t.name.span,
                "kpi",
                &format!("test `{}`", t.name.value),
                "kpi: win_rate",
            )),
            _ => {}
        }
        for (ds, rows, _) in &t.data {
            let Some(id) = model.dataset_id(&ds.value) else {
                diags.push(diag::unknown_dataset(
                    ds.span,
                    &ds.value,
                    model.datasets.iter().map(|d| d.name.as_str()),
                ));
                continue;
            };
            let d = &model.datasets[id];
            if d.declared.is_empty() {
                continue;
            }
            for row in rows {
                for (col, _) in row {
                    if !d.columns.iter().any(|(c, _)| *c == col.value) {
                        diags.push(diag::unknown_column(
                            col.span,
                            &col.value,
                            &d.name,
                            d.columns.iter().map(|(c, _)| c.as_str()),
                        ));
                    }
                }
            }
        }
        out.push(test_model(t, &model.calendar));
    }
    out
}

/// A test with its period resolved (an invalid label was reported where it was read).
fn test_model(t: &m::Test, cal: &crate::period::Calendar) -> TestModel {
    let range = t.period.as_ref().and_then(|p| match &p.value {
        m::PeriodSpec::Label(l) => crate::period::parse_label(l, cal).map(|(_, p)| p),
        m::PeriodSpec::Range { from, to } => Some(crate::period::Period {
            start: *from,
            end: *to,
        }),
    });
    let names = |v: &[m::Name]| v.iter().map(|n| n.value.clone()).collect();
    TestModel {
        name: t.name.value.clone(),
        span: t.name.span,
        kpi: t.kpi.as_ref().map(|k| k.value.clone()),
        target: t.target.as_ref().map(|k| k.value.clone()),
        grain: t.grain.as_ref().map_or(crate::period::Grain::All, |g| g.value),
        by: names(&t.by),
        segments: names(&t.segment),
        range,
        as_of: t.as_of.as_ref().map(|d| d.value),
        data: t
            .data
            .iter()
            .map(|(d, rows, _)| (d.value.clone(), rows.clone()))
            .collect(),
        expect: t.expect.clone(),
        status: t.status.as_ref().map(|s| s.value),
        tolerance: t.tolerance.as_ref().map(|x| x.value),
    }
}
