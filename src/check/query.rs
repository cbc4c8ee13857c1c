//! A query against the checked model (the flags of `kpi eval`, or a
//! target's KPI, member dimension and segment): whether each KPI can take
//! the dimensions, segments, periods and comparison asked of it.

use std::collections::HashMap;

use super::diagnostics as diag;
use super::ir::{DatasetId, KpiId, KpiKind, Model, SchemaState, TimeBasis};
use super::{dimension_on, KpiNames, Scope};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::period::{Grain, Period};
use crate::span::{Span, Spanned};
use crate::spec::model as m;
use crate::time::Date;

/// What to evaluate (the flags of `kpi eval`).
#[derive(Clone, Debug)]
pub struct Query {
    /// KPI names; empty for every KPI, in spec order.
    pub kpis: Vec<String>,
    /// Dimensions, named as given (`rep`, `reps.team`, `team`).
    pub by: Vec<String>,
    pub grain: Grain,
    /// Inclusive range of days (`--from/--to` or `--period`).
    pub range: Option<Period>,
    pub segments: Vec<String>,
    /// `--compare`: add each KPI's value in an earlier period, and the change.
    pub compare: Option<Compare>,
    /// Without a grain, the grain of which the range is the start of one
    /// period (a target's quarter up to its as-of date), so that time
    /// functions look back in periods of it. `None`: the grain of which
    /// the range is one whole period, if any (`--period 2025-Q1`).
    pub range_grain: Option<Grain>,
    /// The first day of earlier periods read so that `prev`, `rolling`,
    /// to-date forms and comparisons see history before the range. Set by
    /// the planner; those periods are not output.
    pub history: Option<Date>,
}

/// What `--compare` compares each period with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    /// The period before.
    Previous,
    /// The same period a year earlier.
    Year,
    /// `N` periods earlier.
    Periods(u32),
}

impl Default for Query {
    fn default() -> Self {
        Query {
            kpis: Vec::new(),
            by: Vec::new(),
            grain: Grain::All,
            range: None,
            segments: Vec::new(),
            compare: None,
            range_grain: None,
            history: None,
        }
    }
}

impl Query {
    /// Whether the query has periods (a grain or a range).
    pub fn has_periods(&self) -> bool {
        self.grain != Grain::All || self.range.is_some()
    }
}

/// Every error of a query whose KPIs are named: unknown KPIs, dimensions
/// and segments the KPIs cannot take, periods of KPIs without a time
/// column, a comparison without periods. Diagnostics name the flags.
pub fn check_query(model: &Model, query: &Query) -> Diagnostics {
    let mut diags = Diagnostics::new();
    if query.compare.is_some() && !query.has_periods() {
        diags.push(diag::compare_needs_periods());
    }
    let mut outputs = Vec::new();
    for (n, id) in query.kpis.iter().zip(model.kpi_ids(&query.kpis)) {
        match id {
            Some(id) => outputs.push(id),
            None => diags.push(diag::unknown_query_kpi(n, model)),
        }
    }
    diags.extend(output_clash(model, query, &outputs));
    let bases = model.bases_beneath(&outputs);
    diags.extend(query_refusals(model, query, &bases));
    if query.has_periods() {
        for &b in bases.iter().filter(|&&b| timeless(model, b)) {
            let k = &model.kpis[b];
            diags.push(diag::no_time_column(&k.name, k.span));
        }
    }
    diags
}

/// Two columns of the output under one name: the `--by` dimensions, the
/// period (with periods), each KPI (every KPI when none is named) and,
/// under `--compare`, the columns beside it.
fn output_clash(model: &Model, query: &Query, outputs: &[KpiId]) -> Option<Diagnostic> {
    // (name, what it is, the flag that brings it)
    let mut columns: Vec<(String, String, Option<&str>)> = Vec::new();
    for d in &query.by {
        columns.push((d.clone(), format!("the dimension `{d}`"), Some("--by")));
    }
    if query.has_periods() {
        columns.push(("period".into(), "the period of each row".into(), Some("--grain")));
    }
    let kpis: Vec<&str> = match outputs {
        [] if query.kpis.is_empty() => model.kpis.iter().map(|k| k.name.as_str()).collect(),
        _ => outputs
            .iter()
            .filter_map(|&k| model.kpis.get(k))
            .map(|k| k.name.as_str())
            .collect(),
    };
    for k in kpis {
        columns.push((k.to_string(), format!("KPI `{k}`"), None));
        if query.compare.is_some() {
            for suffix in ["_compare", "_change", "_change_pct"] {
                let what = format!("the `--compare` column of KPI `{k}`");
                columns.push((format!("{k}{suffix}"), what, Some("--compare")));
            }
        }
    }
    // The first column whose name comes again, and where it first comes
    // again: through an index of names, as a query of every KPI has
    // thousands of columns (four for each under `--compare`).
    let mut seen: HashMap<&str, (usize, Option<usize>)> = HashMap::with_capacity(columns.len());
    for (j, (name, _, _)) in columns.iter().enumerate() {
        seen.entry(name.as_str())
            .and_modify(|(_, again)| *again = again.or(Some(j)))
            .or_insert((j, None));
    }
    let (i, j) = seen
        .into_values()
        .filter_map(|(i, again)| Some((i, again?)))
        .min()?;
    let ((name, first, flag), (_, second, other)) = (columns.get(i)?, columns.get(j)?);
    let clash = diag::output_column_clash(name, first, second);
    Some(match flag.or(*other) {
        Some(flag) => clash.from_command_line(flag),
        None => clash,
    })
}

/// The query with every KPI that fits it when it names none (LANGUAGE.md
/// §4), and a `kpi::left_out` warning for each of the others. Nothing fits:
/// the query itself is wrong, and the errors of the first KPI say why.
pub fn with_fitting_kpis(model: &Model, query: &Query) -> Result<(Query, Vec<Diagnostic>), Vec<Diagnostic>> {
    if !query.kpis.is_empty() {
        return Ok((query.clone(), Vec::new()));
    }
    let (fit, left_out, first_refusal) = fitting_of(model, query, 0..model.kpis.len());
    if fit.is_empty() && !first_refusal.is_empty() {
        return Err(first_refusal);
    }
    let query = Query {
        kpis: fit,
        ..query.clone()
    };
    Ok((query, left_out))
}

/// Of the KPIs `ids`, the names of those that fit the query (its `--by`,
/// `--segment`s and periods), a `kpi::left_out` warning for each of the
/// others, and the errors of the first refused.
pub fn fitting_of(
    model: &Model,
    query: &Query,
    ids: impl IntoIterator<Item = KpiId>,
) -> (Vec<String>, Vec<Diagnostic>, Vec<Diagnostic>) {
    let mut fit = Vec::new();
    let mut left_out = Vec::new();
    let mut first_refusal = Vec::new();
    for k in ids {
        let name = &model.kpis[k].name;
        let refused = kpi_refusals(model, query, k);
        match refused.first() {
            None => fit.push(name.clone()),
            Some(why) => {
                left_out.push(diag::left_out(name, why));
                if first_refusal.is_empty() {
                    first_refusal = refused;
                }
            }
        }
    }
    (fit, left_out, first_refusal)
}

/// Why the KPI `k` cannot take the query's `--by` dimensions, `--segment`s
/// and periods (nothing when it can); the diagnostics name the flags.
pub fn kpi_refusals(model: &Model, query: &Query, k: KpiId) -> Vec<Diagnostic> {
    let bases = model.bases_beneath(&[k]);
    let mut refused: Vec<Diagnostic> = query_refusals(model, query, &bases)
        .into_iter()
        .filter(Diagnostic::is_error)
        .collect();
    if query.has_periods() && bases.iter().any(|&b| timeless(model, b)) {
        // Named as the flag that asked for periods.
        let flag = match (query.grain, query.range) {
            (crate::period::Grain::All, Some(_)) => "--from/--to or --period",
            _ => "--grain",
        };
        refused.push(diag::timeless(&model.kpis[k].name, flag));
    }
    refused
}

fn timeless(model: &Model, kpi: KpiId) -> bool {
    matches!(
        model.kpis[kpi].kind,
        KpiKind::Base {
            time: TimeBasis::None,
            ..
        }
    )
}

/// Why the query's `--by` dimensions and `--segment`s do not apply to the
/// base KPIs `bases` (nothing when they do); the diagnostics name the flags.
fn query_refusals(model: &Model, query: &Query, bases: &[KpiId]) -> Vec<Diagnostic> {
    let names = |v: &[String]| -> Vec<m::Name> {
        v.iter()
            .map(|d| Spanned::new(d.clone(), Span::default()))
            .collect()
    };
    refusals(model, bases, &names(&query.by), &names(&query.segments), false)
        .into_sorted()
        .into_iter()
        .map(on_flags)
        .collect()
}

/// Names from the command line have no place in a spec file: their
/// diagnostics name the flag instead.
fn on_flags(d: Diagnostic) -> Diagnostic {
    let flag = match d.code {
        "kpi::dimension_missing" | "kpi::unknown_dimension" | "kpi::unusable_column" => "--by",
        "kpi::unknown_segment" | "kpi::segment_column_missing" => "--segment",
        _ => return d,
    };
    d.from_command_line(flag)
}

/// Checks that `dims` and `segments` can be applied to each of `kpis`
/// (`--by`, `--segment`, a target's `by` and `segment`). With
/// `data_decides` (a spec checked without its data), a name a dataset's
/// unread data may have is taken; a query refuses what the schema it
/// knows lacks, and leaves the KPI out.
pub(crate) fn refusals(
    model: &Model,
    kpis: &[KpiId],
    dims: &[m::Name],
    segments: &[m::Name],
    data_decides: bool,
) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let names = KpiNames::default();
    let closed = model.closed();
    let sc = Scope {
        datasets: &model.datasets,
        segments: &model.segments,
        closed: &closed,
        kpis: &[],
        kpi_names: &names,
    };
    for &k in kpis {
        let Some(km) = model.kpis.get(k) else { continue };
        for &ds in &km.datasets {
            for dim in dims {
                if dimension_on(&sc, ds, &dim.value) {
                    if let Some((dataset, words)) = unusable_column(model, ds, &dim.value) {
                        diags.push(diag::unusable_column(dim.span, dataset, &dim.value, words));
                    }
                } else if let Some((dataset, column)) = data_decides
                    .then(|| unread_holder(model, &closed, (ds, &km.datasets), &dim.value))
                    .flatten()
                {
                    // Its data, not read, may have it: said as a measure's
                    // undeclared name is.
                    diags.push(super::diagnostics::undeclared_column(dim.span, column, dataset));
                } else {
                    diags.push(diag::dimension_missing(
                        dim.span,
                        &dim.value,
                        &model.datasets[ds].name,
                        &km.name,
                    ));
                }
            }
            for seg in segments {
                segment_refusal(model, (ds, &km.datasets), &km.name, seg, data_decides, &mut diags);
            }
        }
    }
    diags
}

/// The dataset whose unread data may hold the dimension `name` of dataset
/// `ds` (one of the datasets `beside` it beneath a KPI), and the column it
/// would be: `ds` itself for a plain name, the looked-up dataset for
/// `teams.manager`.
fn unread_holder<'a>(
    model: &'a Model,
    closed: &[bool],
    (ds, beside): (DatasetId, &[DatasetId]),
    name: &'a str,
) -> Option<(&'a str, &'a str)> {
    let (holder, column) = match name.split_once('.') {
        Some((q, c)) => {
            let l = model.datasets[ds]
                .lookups
                .iter()
                .find(|l| model.datasets.get(l.dataset).is_some_and(|x| x.name == q))?;
            (l.dataset, c)
        }
        None => (ds, name),
    };
    let closed = closed.get(holder).copied().unwrap_or(false);
    super::unread_may_have(&model.datasets, holder, beside, closed, column)
        .then(|| (model.datasets[holder].name.as_str(), column))
}

/// The dataset and the words of a column named `name` on dataset `ds` (or
/// a dataset it looks up) that KPIs cannot group by: a time of day, a list.
fn unusable_column<'a>(model: &'a Model, ds: DatasetId, name: &str) -> Option<(&'a str, &'static str)> {
    let d = model.datasets.get(ds)?;
    if d.dimensions.iter().any(|x| x.name == name) {
        return None;
    }
    let words_in = |x: &'a super::ir::DatasetModel, column: &str| {
        x.columns.iter().find_map(|(n, t)| match t {
            super::types::Type::Unusable(words) if n == column => Some((x.name.as_str(), *words)),
            _ => None,
        })
    };
    let looked_up = || d.lookups.iter().filter_map(|l| model.datasets.get(l.dataset));
    words_in(d, name).or_else(|| match name.split_once('.') {
        Some((q, c)) => looked_up().filter(|x| x.name == q).find_map(|x| words_in(x, c)),
        None => looked_up().find_map(|x| words_in(x, name)),
    })
}

fn segment_refusal(
    model: &Model,
    (ds, beside): (DatasetId, &[DatasetId]),
    kpi: &str,
    seg: &m::Name,
    data_decides: bool,
    diags: &mut Diagnostics,
) {
    let Some(s) = model.segments.iter().find(|s| s.name == seg.value) else {
        diags.push(diag::unknown_segment(
            seg.span,
            &seg.value,
            model.segments.iter().map(|s| s.name.as_str()),
        ));
        return;
    };
    // An open schema: the data decides at run time; a name its unread
    // data may have is said as undeclared.
    let d = &model.datasets[ds];
    if d.schema == SchemaState::Open {
        return;
    }
    let Some((_, missing)) = s.missing.iter().find(|(x, _)| *x == ds) else {
        return;
    };
    if data_decides
        && super::unread_may_have(
            &model.datasets,
            ds,
            beside,
            d.schema == SchemaState::Read,
            missing,
        )
    {
        diags.push(super::diagnostics::undeclared_column(seg.span, missing, &d.name));
        return;
    }
    // A column of a looked-up dataset is written with its dataset's name.
    let looked_up = d
        .lookups
        .iter()
        .filter_map(|l| model.datasets.get(l.dataset))
        .find(|x| x.names().any(|n| n == missing.as_str()));
    diags.push(diag::segment_column_missing(
        seg.span,
        &seg.value,
        missing,
        &d.name,
        kpi,
        looked_up.map(|x| x.name.as_str()),
    ));
}
