//! Stage 3, check: resolve names, assign types and levels, classify
//! additivity, order the KPI graph, score targets. Reports every problem,
//! sorted, without cascades: a broken name becomes an unknown type that
//! fits anywhere.

mod additivity;
pub mod arithmetic;
pub mod connections;
pub mod constant;
mod datasets;
pub mod diagnostics;
mod expr;
pub mod functions;
pub mod ir;
mod kpis;
pub mod literals;
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

use additivity::*;
pub use datasets::format_of;
use datasets::*;
use kpis::*;

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
    check_with(spec, data, false)
}

/// Checks a loaded spec with the columns of `data` typed, a name they do
/// not hold being still a column of no known type: `kpi test` types the
/// KPIs by its rows, which hold only some columns.
pub fn check_open(spec: &Spec, data: &DataSchemas) -> Checked {
    check_with(spec, Some(data), true)
}

fn check_with(spec: &Spec, data: Option<&DataSchemas>, open: bool) -> Checked {
    let mut diags = Diagnostics::new();
    let mut model = Model {
        calendar: spec.calendar.clone().unwrap_or_default(),
        ..Model::default()
    };
    connections::connections(spec, &mut model, &mut diags);
    let closed = datasets(spec, data, open, &mut model, &mut diags);
    let kpi_names = KpiNames::new(spec.kpis.iter().map(|k| k.name.value.clone()).collect());
    let mut infos: Vec<Option<KpiInfo>> = vec![None; spec.kpis.len()];
    dimensions(spec, &mut model, &closed, &kpi_names, &infos, &mut diags);
    segments(spec, &mut model, &closed, &kpi_names, &infos, &mut diags);
    kpis(spec, &mut model, &closed, &kpi_names, &mut infos, &mut diags);
    connections::where_they_run(&model, &mut diags);
    let verdicts = targets::check_targets(spec, &mut model, &mut diags);
    funnels(spec, &mut model, &closed, &kpi_names, &infos, &mut diags);
    model.tests = tests(spec, &model, &mut diags);
    Checked {
        model,
        diagnostics: diags,
        targets: verdicts,
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
        segments: &model.segments,
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
        // A segment is not tied to one dataset: check it where it resolves,
        // or, where some dataset's data was not read, where the names may
        // be (an open schema, or undeclared names its `columns:` leave out).
        let home = (0..model.datasets.len())
            .find(|&ds| resolves_on(&sc, ds, e).is_ok())
            .or_else(|| (0..model.datasets.len()).find(|&ds| !closed[ds] && may_resolve_on(&sc, ds, e)));
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
                let first_bad = (0..model.datasets.len()).find_map(|ds| resolves_on(&sc, ds, e).err());
                if let Some(n) = first_bad.or_else(|| e.names().first().map(|n| (*n).clone())) {
                    let known = model.datasets.iter().flat_map(|d| d.names());
                    let meant = crate::diagnostic::did_you_mean(&n.ident.name, known);
                    diags.push(diag::unresolved_in_segment(
                        n.span(),
                        &s.name.value,
                        &n.ident.name,
                        meant,
                    ));
                }
                reject_aggregates(e, "a segment", diags);
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

/// Whether `name`, which dataset `d` does not know, may still be one of
/// its columns: its data was not read (`columns:` declares some columns,
/// or none), and the name is no slip of one it knows (`amout` for
/// `amount`, [`crate::diagnostic::is_slip_of`]). The same rule as a
/// measure's names, which are then warned of as undeclared
/// (`kpi::undeclared_column`).
pub(crate) fn may_be_column(d: &DatasetModel, closed: bool, name: &str) -> bool {
    !closed && (d.declared.is_empty() || !crate::diagnostic::is_slip_of(name, d.names()))
}

/// Whether dataset `ds`, whose data was not read, may have a column
/// `name` that the spec does not give it ([`may_be_column`]), where it
/// stands beside the datasets `beside` (those beneath one KPI): not when
/// one of them names it (a declared column, a dimension, a declared
/// column of a lookup), since a name `deals` has and `leads` does not
/// declare is one `leads` lacks (LANGUAGE.md §4: a segment on a derived
/// KPI over both); a name no dataset beneath gives is the data's to say,
/// whatever datasets the KPI does not read declare.
pub(crate) fn unread_may_have(
    datasets: &[DatasetModel],
    ds: DatasetId,
    beside: &[DatasetId],
    closed: bool,
    name: &str,
) -> bool {
    let names_it = |d: &DatasetModel| {
        let own = |d: &DatasetModel, n: &str| {
            d.declared.iter().any(|(c, _)| c == n) || d.dimensions.iter().any(|x| x.name == n)
        };
        own(d, name)
            || d.lookups.iter().filter_map(|l| datasets.get(l.dataset)).any(|x| {
                own(x, name)
                    || name
                        .split_once('.')
                        .is_some_and(|(q, c)| x.name == q && own(x, c))
            })
    };
    let named_beside = beside
        .iter()
        .filter(|&&i| i != ds)
        .filter_map(|&i| datasets.get(i))
        .any(names_it);
    !named_beside && datasets.get(ds).is_some_and(|d| may_be_column(d, closed, name))
}

/// Whether `name` is a column, dimension or looked-up column of `ds`
/// (`teams.manager`, or `manager` when only one lookup has it); an open
/// schema (no `columns:`, data not read) takes any name.
pub fn dimension_on(sc: &Scope, ds: DatasetId, name: &str) -> bool {
    let Some(d) = sc.datasets.get(ds) else {
        return false;
    };
    let closed = sc.closed.get(ds).copied().unwrap_or(false);
    let open = !closed && d.declared.is_empty();
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

/// How many steps a funnel may have.
pub const MAX_FUNNEL_STEPS: usize = 64;

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
        // Each step's condition holds those of the steps before it, so a
        // funnel's plan grows with the square of its steps (600 steps took
        // 22 GB): far beyond the stages of any sales funnel. (Those within
        // the bound are checked still, and kept for what names the funnel.)
        if let Some(step) = f.steps.get(MAX_FUNNEL_STEPS) {
            diags.push(diag::funnel_too_long(
                step.name.span,
                &f.name.value,
                f.steps.len(),
                MAX_FUNNEL_STEPS,
            ));
        }
        let mut seen: Vec<&m::Name> = Vec::new();
        let mut steps = Vec::new();
        for step in f.steps.iter().take(MAX_FUNNEL_STEPS) {
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
            title: f.title.as_ref().map_or_else(
                || crate::spec::model::humanise(&f.name.value),
                |t| t.value.clone(),
            ),
            description: f.description.as_ref().map(|d| d.value.clone()),
            dataset: ds,
            time,
            steps,
        });
    }
    model.funnels = out;
}

fn tests(spec: &Spec, model: &Model, diags: &mut Diagnostics) -> Vec<TestModel> {
    let closed = model.closed();
    let kpi_names = || spec.kpis.iter().map(|k| k.name.value.as_str());
    let mut out = Vec::new();
    for t in &spec.tests {
        let is_funnel = |name: &str| spec.funnels.iter().any(|f| f.name.value == name);
        match (&t.kpi, &t.funnel, &t.target) {
            (Some(k), _, _) if spec.kpi(&k.value).is_none() => {
                let unknown = diag::unknown_kpi(k.span, &k.value, kpi_names());
                diags.push(match is_funnel(&k.value) {
                    true => unknown.help(format!(
                        "`{0}` is a funnel: a test names it `funnel: {0}`",
                        k.value
                    )),
                    false => unknown,
                })
            }
            (_, Some(f), _) if !is_funnel(&f.value) => diags.push(diag::unknown_funnel(
                f.span,
                &f.value,
                spec.funnels.iter().map(|x| x.name.value.as_str()),
                spec.kpi(&f.value).is_some(),
            )),
            (_, _, Some(tg)) if !spec.targets.iter().any(|x| x.name.value == tg.value) => diags.push(
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
            // A `kpi:`, `funnel:` or `target:` written with an invalid value was reported where it was read.
            (None, None, None) if !["kpi", "funnel", "target"].iter().any(|k| t.keys.has(k)) => {
                diags.push(crate::spec::diagnostics::missing_key(
                    t.name.span,
                    "kpi",
                    &format!("test `{}`", t.name.value),
                    "kpi: win_rate",
                ))
            }
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
            let closed = closed.get(id).copied().unwrap_or(false);
            for row in rows {
                for (col, _) in row {
                    // Rows may hold the data's other columns, as the data does.
                    if !d.columns.iter().any(|(c, _)| *c == col.value)
                        && !may_be_column(d, closed, &col.value)
                    {
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
        keys_of_its_kind(t, diags);
        if let Some(p) = &t.period {
            targets::period_names_days(p, &model.calendar, diags);
        }
        if let Some(id) = t.kpi.as_ref().and_then(|k| model.kpi_id(&k.value)) {
            test_query_fits(model, t, id, diags);
            expected_columns(model, t, diags);
            expected_periods(model, t, diags);
        } else if t.funnel.as_ref().is_some_and(|f| is_funnel(&f.value)) {
            expected_columns(model, t, diags);
            expected_periods(model, t, diags);
        }
        out.push(test_model(t, &model.calendar));
    }
    out
}

/// A test is of one kind: a KPI or funnel test (`kpi` or `funnel`,
/// evaluated by `grain`, `by`, `segment` and `period`, compared with
/// `expect` within `tolerance`) or a target test (`target`, its `status`
/// as of `as_of`, for a `member`). A key of another kind would be
/// ignored, so it is an error; so is a tolerance that is not 0%–100%.
fn keys_of_its_kind(t: &m::Test, diags: &mut Diagnostics) {
    let target_test = t.kpi.is_none() && t.funnel.is_none() && t.target.is_some();
    let spans: [(&str, Option<Span>); 9] = [
        (
            "target",
            (t.target.as_ref())
                .filter(|_| t.kpi.is_some() || t.funnel.is_some())
                .map(|n| n.span),
        ),
        (
            "funnel",
            t.funnel.as_ref().filter(|_| t.kpi.is_some()).map(|n| n.span),
        ),
        ("grain", t.grain.as_ref().map(|g| g.span)),
        ("period", t.period.as_ref().map(|p| p.span)),
        (
            "expect",
            t.expect.first().and_then(|r| r.first()).map(|(c, _)| c.span),
        ),
        ("tolerance", t.tolerance.as_ref().map(|x| x.span)),
        ("as_of", t.as_of.as_ref().map(|d| d.span)),
        ("status", t.status.as_ref().map(|x| x.span)),
        ("member", t.member.as_ref().map(|x| x.span)),
    ];
    let of_kpi_tests = ["grain", "period", "expect", "tolerance"];
    for (key, span) in spans {
        let Some(span) = span else { continue };
        let for_kpis = of_kpi_tests.contains(&key);
        let misplaced = match key {
            "target" | "funnel" => true,
            _ => for_kpis == target_test,
        };
        if !misplaced {
            continue;
        }
        let this = match (&t.kpi, &t.funnel) {
            (Some(_), _) => "a KPI",
            (None, Some(_)) => "a funnel",
            (None, None) => "a target",
        };
        let kind = match key {
            "target" => "target",
            "funnel" => "funnel",
            _ if target_test => "KPI or funnel",
            _ => "target",
        };
        diags.push(
            Diagnostic::error(
                "kpi::key_of_other_test",
                format!("`{key}` is a key of a {kind} test, but test `{}` tests {this}", t.name.value),
            )
            .at(span, "not used by this test")
            .help("a KPI test (`kpi:`) or funnel test (`funnel:`) compares `expect` rows, by `grain`, `by`, `segment` and `period`; a target test (`target:`) states `status` as of `as_of`, for a `member`: split them into two tests"),
        );
    }
    for dims in [&t.by, &t.segment] {
        if let (true, Some(first)) = (target_test, dims.first()) {
            diags.push(
                Diagnostic::error(
                    "kpi::key_of_other_test",
                    format!(
                        "`by` and `segment` are keys of a KPI or funnel test, but test `{}` tests a target",
                        t.name.value
                    ),
                )
                .at(first.span, "not used by this test")
                .help(
                    "a target test takes its target's own `by` and `segment`; test one member with `member:`",
                ),
            );
        }
    }
    if let Some(tol) = t.tolerance.as_ref().filter(|x| !(0.0..=1.0).contains(&x.value)) {
        diags.push(
            Diagnostic::error("kpi::invalid_tolerance", "tolerance must be between 0% and 100%")
                .at(tol.span, "out of range")
                .help("a test's tolerance is relative to the expected value, e.g. `tolerance: 0.1%`"),
        );
    }
}

/// A KPI test's `by` dimensions and segments fit its KPI, as a target's
/// do. A dimension that is a column of the test's own rows is theirs to
/// have (the rows replace the dataset). Where rows replace the datasets a
/// name would come from (every dataset beneath the KPI; for `teams.manager`
/// the looked-up `teams`), they are all the data there is, so a name
/// neither declared nor in them is missing; otherwise the unread data may
/// hold it, and `kpi test` says.
fn test_query_fits(model: &Model, t: &m::Test, kpi: KpiId, diags: &mut Diagnostics) {
    let replaced = |dataset: &str| t.data.iter().any(|(ds, _, _)| ds.value == dataset);
    let in_rows = |name: &str| {
        let (dataset, column) = match name.split_once('.') {
            Some((d, c)) => (Some(d), c),
            None => (None, name),
        };
        t.data.iter().any(|(ds, rows, _)| {
            dataset.is_none_or(|d| d == ds.value)
                && rows.iter().any(|r| r.iter().any(|(c, _)| c.value == column))
        })
    };
    let beneath: Vec<&DatasetModel> = model.kpis[kpi]
        .datasets
        .iter()
        .map(|&d| &model.datasets[d])
        .collect();
    let kpi_rows = beneath.iter().all(|d| replaced(&d.name));
    let every_row = kpi_rows
        && beneath.iter().all(|d| {
            d.lookups
                .iter()
                .all(|l| replaced(&model.datasets[l.dataset].name))
        });
    let mut found = Diagnostics::new();
    for dim in t.by.iter().filter(|d| !in_rows(&d.value)) {
        let rows_are_all = match dim.value.split_once('.') {
            Some((dataset, _)) => replaced(dataset),
            None => kpi_rows,
        };
        found.extend(query::refusals(
            model,
            &[kpi],
            std::slice::from_ref(dim),
            &[],
            !rows_are_all,
        ));
    }
    found.extend(query::refusals(model, &[kpi], &[], &t.segment, !every_row));
    diags.extend(found.into_iter().filter(Diagnostic::is_error));
}

/// Each column of a KPI test's expected rows is a `by` dimension, `period`
/// or a KPI; of a funnel test's, a `by` dimension, `period`, `step` or a
/// measure of its steps (`count`, `conversion`, …): any other name is
/// never in the result, and would fail the test with the row's other
/// values unread. A warning: it fails one test, and the rest of the spec
/// evaluates as written.
fn expected_columns(model: &Model, t: &m::Test, diags: &mut Diagnostics) {
    // The values an expected row may hold, what one is, and what they are.
    let (values, what, them): (Vec<&str>, &str, &str) = match t.funnel {
        Some(_) => (
            ["step"]
                .into_iter()
                .chain(crate::check::ir::FUNNEL_MEASURES.iter().map(|(m, _)| *m))
                .collect(),
            "`step`, a measure of the funnel's steps",
            "`step` and the measures `count`, `conversion`, `conversion_from_start` and `leakage`",
        ),
        None => (
            model.kpis.iter().map(|k| k.name.as_str()).collect(),
            "a KPI",
            "KPIs",
        ),
    };
    let mut said: Vec<&str> = Vec::new();
    for row in &t.expect {
        for (c, _) in row {
            let name = c.value.as_str();
            let known = name == "period" || t.by.iter().any(|d| d.value == name) || values.contains(&name);
            if known || said.contains(&name) {
                continue;
            }
            said.push(name);
            let columns = (t.by.iter().map(|d| d.value.as_str()))
                .chain(["period"])
                .chain(values.iter().copied());
            diags.push(
                Diagnostic::warning(
                    "kpi::unknown_expected_column",
                    format!("expected column `{name}` is neither {what}, a `by` dimension of the test, nor `period`"),
                )
                .at(c.span, "not in the result")
                .help(match crate::diagnostic::did_you_mean(name, columns) {
                    Some(near) => format!("did you mean `{near}`?"),
                    None => format!(
                        "an expected row holds the test's `by` dimensions, `period` and {them}: add `{name}` to the test's `by:`, or remove it"
                    ),
                }),
            );
        }
    }
}

/// Each `period` of a KPI test's expected rows is a label of the test's
/// grain, spelled as the result spells it (`2025-01` by month, `FY2025` by
/// year in a fiscal calendar): one that names no period, a period of
/// another grain or another spelling matches no row of the result. A
/// warning, as the test fails: a spec whose calendar turns fiscal still
/// evaluates while its tests' labels are brought along.
fn expected_periods(model: &Model, t: &m::Test, diags: &mut Diagnostics) {
    use crate::keyword::Keyword;
    let Some(grain) = t
        .grain
        .as_ref()
        .map(|g| g.value)
        .filter(|g| *g != crate::period::Grain::All)
    else {
        return;
    };
    for (_, v) in t.expect.iter().flatten().filter(|(c, _)| c.value == "period") {
        let text = match &v.value {
            m::Value::String(s) => s.clone(),
            m::Value::Number(n) if n.fract() == 0.0 => format!("{n}"),
            _ => continue,
        };
        let why = match crate::period::parse_label(&text, &model.calendar) {
            Some((g, p)) if g == grain => {
                // The spec's calendar spells it: `FY2025` for a fiscal year.
                let label = crate::period::label(p, g, &model.calendar);
                if label == text {
                    continue;
                }
                format!(
                    "the result labels periods by {} as the spec's calendar does, such as `{label}`",
                    g.as_str()
                )
            }
            Some((g, _)) => format!(
                "a label by {}, but test `{}` is by {}",
                g.as_str(),
                t.name.value,
                grain.as_str()
            ),
            None => crate::period::why_not_a_label(&text).unwrap_or_else(|| "not a period label".to_string()),
        };
        diags.push(
            Diagnostic::warning("kpi::expected_period_unmatched", format!("expected period `{text}`: {why}"))
                .at(v.span, "matches no row")
                .help("write an expected row's period as the result labels it: 2025, 2025-Q3, 2025-08, 2025-W33 or 2025-08-15, by the test's grain"),
        );
    }
}

/// A test with its period resolved (an invalid one was reported above).
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
        funnel: t.funnel.as_ref().map(|f| f.value.clone()),
        target: t.target.as_ref().map(|k| k.value.clone()),
        grain: t.grain.as_ref().map_or(crate::period::Grain::All, |g| g.value),
        by: names(&t.by),
        segments: names(&t.segment),
        range,
        as_of: t.as_of.as_ref().map(|d| d.value),
        member: t.member.as_ref().map(|m| m.value.clone()),
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
