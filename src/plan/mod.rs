//! Stage 4, plan: which datasets to read, grouped how, computing which
//! aggregates. Free of Polars: `compile` turns a plan into queries.
//!
//! All base KPIs on one dataset with the same time basis form one *unit*:
//! one scan and one group-by, whatever their number (LANGUAGE.md §9). Each
//! aggregate of a measure becomes a *part* column of that group-by; the
//! measure is then computed from its parts after the time spine is complete,
//! so empty periods give `sum`/`count` 0 and ratios null, and averages are
//! recombinable (an `avg` is planned as a sum part over a count part).

mod diagnostics;
mod history;

pub use history::{compare_period, history};

use crate::check::functions::AggFn;
use crate::check::ir::*;
use crate::check::types::Type;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::period::Period;
use crate::span::Span;
use crate::spec::model::Grain;
use crate::syntax::ast::{BinaryOp, Ident, Name};

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
    /// The first day of earlier periods read so that `prev`, `rolling`,
    /// to-date forms and comparisons see history before the range. Set by
    /// the executor; those periods are not output.
    pub history: Option<crate::time::Date>,
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
            history: None,
        }
    }
}

/// How a unit places rows in time.
#[derive(Clone, Debug, PartialEq)]
pub enum UnitTime {
    Flow(String),
    Stock {
        from: String,
        to: Option<String>,
        at_start: bool,
    },
    None,
}

/// One aggregate column of a unit's group-by.
#[derive(Clone, Debug)]
pub struct Part {
    pub name: String,
    pub func: AggFn,
    pub arg: Option<TExpr>,
    pub filter: Option<TExpr>,
    pub param: Option<f64>,
}

impl Part {
    /// Sums and counts of no rows are 0; other aggregates are null.
    pub fn zero_when_empty(&self) -> bool {
        matches!(self.func, AggFn::Sum | AggFn::Count | AggFn::CountDistinct)
    }
}

/// A base KPI's value, computed from part columns.
#[derive(Clone, Debug)]
pub struct BaseOutput {
    pub kpi: KpiId,
    pub post: TExpr,
}

#[derive(Clone, Debug)]
pub struct Unit {
    pub dataset: DatasetId,
    pub time: UnitTime,
    pub parts: Vec<Part>,
    pub outputs: Vec<BaseOutput>,
    /// Each query dimension as a row expression on this dataset.
    pub dims: Vec<TExpr>,
    /// Segment conditions, and-ed, pushed into the scan.
    pub filters: Vec<TExpr>,
    /// Lookups (indices into the dataset's `lookups`) the unit needs.
    pub lookups: Vec<usize>,
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub query: Query,
    /// Requested KPIs, in output order.
    pub outputs: Vec<KpiId>,
    /// Derived KPIs to compute, in dependency order.
    pub derived: Vec<KpiId>,
    pub units: Vec<Unit>,
}

/// Plans a query; every mistake in it (unknown KPI, dimension or segment) is
/// a diagnostic.
pub fn plan(model: &Model, query: &Query) -> Result<Plan, Vec<Diagnostic>> {
    let mut diags = Diagnostics::new();
    let outputs: Vec<KpiId> = if query.kpis.is_empty() {
        (0..model.kpis.len()).collect()
    } else {
        query
            .kpis
            .iter()
            .filter_map(|n| match model.kpi_id(n) {
                Some(id) => Some(id),
                None => {
                    diags.push(diagnostics::unknown_kpi(n, model));
                    None
                }
            })
            .collect()
    };
    let needed = needed_by(model, &outputs);
    let order: Vec<KpiId> = model.order.iter().copied().filter(|k| needed[*k]).collect();
    let bases: Vec<KpiId> = order
        .iter()
        .copied()
        .filter(|k| matches!(model.kpis[*k].kind, KpiKind::Base { .. }))
        .collect();
    diags.extend(query_refusals(model, query, &bases));
    if diags.has_errors() {
        return Err(diags.into_sorted());
    }

    let mut units: Vec<Unit> = Vec::new();
    for &k in &bases {
        let km = &model.kpis[k];
        let KpiKind::Base {
            dataset,
            measure,
            filter,
            time,
        } = &km.kind
        else {
            continue;
        };
        let utime = match time {
            TimeBasis::Column(c) => UnitTime::Flow(c.clone()),
            TimeBasis::Active { from, to, at_start } => UnitTime::Stock {
                from: from.clone(),
                to: to.clone(),
                at_start: *at_start,
            },
            TimeBasis::None => UnitTime::None,
        };
        let idx = match units
            .iter()
            .position(|u| u.dataset == *dataset && u.time == utime)
        {
            Some(i) => i,
            None => {
                let dims = query.by.iter().map(|d| dimension(model, *dataset, d)).collect();
                let filters = segment_filters(model, *dataset, &query.segments);
                units.push(Unit {
                    dataset: *dataset,
                    time: utime,
                    parts: Vec::new(),
                    outputs: Vec::new(),
                    dims,
                    filters,
                    lookups: Vec::new(),
                });
                units.len() - 1
            }
        };
        let unit = &mut units[idx];
        let mut n = 0;
        let post = split_parts(measure, filter.as_ref(), &km.name, &mut n, &mut unit.parts);
        unit.outputs.push(BaseOutput { kpi: k, post });
    }
    if diags.has_errors() {
        return Err(diags.into_sorted());
    }
    for u in &mut units {
        u.lookups = lookups_used(model, u);
    }
    let derived = order
        .iter()
        .copied()
        .filter(|k| matches!(model.kpis[*k].kind, KpiKind::Derived { .. }))
        .collect();
    let plan = Plan {
        query: query.clone(),
        outputs,
        derived,
        units,
    };
    // A query with periods over KPIs that have no time column.
    let timeless = diagnostics::no_time_column(model, &plan);
    if !timeless.is_empty() {
        return Err(timeless);
    }
    Ok(plan)
}

/// Of every KPI, those that can take the query's dimensions and segments,
/// by name, and a `kpi::left_out` warning for each of the others
/// (LANGUAGE.md §4). Nothing fits: the query itself is wrong, and the
/// errors of the first KPI say why.
pub fn fitting_kpis(model: &Model, query: &Query) -> Result<(Vec<String>, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut fit = Vec::new();
    let mut left_out = Vec::new();
    let mut first_refusal = Vec::new();
    for (k, km) in model.kpis.iter().enumerate() {
        let bases = bases_beneath(model, &[k]);
        let mut refused: Vec<Diagnostic> = query_refusals(model, query, &bases)
            .into_iter()
            .filter(Diagnostic::is_error)
            .collect();
        // Periods asked of a KPI with no time column beneath it.
        let periods = query.grain != Grain::All || query.range.is_some();
        if periods
            && bases.iter().any(|&b| {
                matches!(
                    model.kpis[b].kind,
                    KpiKind::Base {
                        time: TimeBasis::None,
                        ..
                    }
                )
            })
        {
            refused.push(diagnostics::timeless(&km.name));
        }
        match refused.first() {
            None => fit.push(km.name.clone()),
            Some(why) => {
                left_out.push(diagnostics::left_out(&km.name, why));
                if first_refusal.is_empty() {
                    first_refusal = refused;
                }
            }
        }
    }
    if fit.is_empty() && !first_refusal.is_empty() {
        return Err(first_refusal);
    }
    Ok((fit, left_out))
}

/// Why the query's `--by` dimensions and `--segment`s do not apply to the
/// base KPIs `bases` (nothing when they do); the diagnostics name the flags.
fn query_refusals(model: &Model, query: &Query, bases: &[KpiId]) -> Vec<Diagnostic> {
    let names = |v: &[String]| -> Vec<crate::spec::model::Name> {
        v.iter()
            .map(|d| crate::span::Spanned::new(d.clone(), Span::default()))
            .collect()
    };
    let closed = vec![true; model.datasets.len()];
    crate::check::check_query(model, &closed, bases, &names(&query.by), &names(&query.segments))
        .into_sorted()
        .into_iter()
        .map(on_flags)
        .collect()
}

/// Every KPI the `outputs` need, themselves included.
fn needed_by(model: &Model, outputs: &[KpiId]) -> Vec<bool> {
    let mut needed = vec![false; model.kpis.len()];
    let mut stack = outputs.to_vec();
    while let Some(k) = stack.pop() {
        if std::mem::replace(&mut needed[k], true) {
            continue;
        }
        if let KpiKind::Derived { measure } = &model.kpis[k].kind {
            let mut refs = Vec::new();
            measure.kpis(&mut refs);
            stack.extend(refs);
        }
    }
    needed
}

/// The base KPIs beneath `kpis`.
fn bases_beneath(model: &Model, kpis: &[KpiId]) -> Vec<KpiId> {
    let needed = needed_by(model, kpis);
    (0..model.kpis.len())
        .filter(|&k| needed[k] && matches!(model.kpis[k].kind, KpiKind::Base { .. }))
        .collect()
}

/// Names from the command line have no place in a spec file: their
/// diagnostics name the flag instead.
fn on_flags(d: Diagnostic) -> Diagnostic {
    let flag = match d.code {
        "kpi::dimension_missing" | "kpi::unknown_dimension" => "--by",
        "kpi::unknown_segment" | "kpi::segment_column_missing" => "--segment",
        _ => return d,
    };
    d.from_command_line(flag)
}

/// Replaces each aggregate of a measure with a part column; the KPI's `where`
/// joins each aggregate's own filter.
fn split_parts(
    e: &TExpr,
    kpi_filter: Option<&TExpr>,
    kpi: &str,
    n: &mut usize,
    parts: &mut Vec<Part>,
) -> TExpr {
    let mut add = |func: AggFn,
                   arg: Option<TExpr>,
                   filter: Option<TExpr>,
                   param: Option<f64>,
                   parts: &mut Vec<Part>| {
        let name = format!("{kpi}__p{}", *n);
        *n += 1;
        parts.push(Part {
            name: name.clone(),
            func,
            arg,
            filter,
            param,
        });
        TExpr {
            kind: TKind::Part(name),
            ty: Type::Number,
            span: e.span,
        }
    };
    let and = |a: Option<TExpr>, b: Option<&TExpr>| -> Option<TExpr> {
        match (a, b) {
            (Some(a), Some(b)) => Some(TExpr {
                span: a.span,
                ty: Type::Bool,
                kind: TKind::Binary(BinaryOp::And, Box::new(a), Box::new(b.clone())),
            }),
            (Some(a), None) => Some(a),
            (None, Some(b)) => Some(b.clone()),
            (None, None) => None,
        }
    };
    match &e.kind {
        TKind::Agg {
            func,
            arg,
            param,
            filter,
            per,
        } if per.is_empty() => {
            let filter = and(filter.as_deref().cloned(), kpi_filter);
            let arg = arg.as_deref().cloned();
            if *func == AggFn::Avg {
                // avg = sum / count, so it can be recombined across periods.
                let sum = add(AggFn::Sum, arg.clone(), filter.clone(), None, parts);
                let count = add(AggFn::Count, arg, filter, None, parts);
                return TExpr {
                    kind: TKind::Binary(BinaryOp::Div, Box::new(sum), Box::new(count)),
                    ty: Type::Number,
                    span: e.span,
                };
            }
            let mut t = add(*func, arg, filter, *param, parts);
            t.ty = e.ty;
            t
        }
        _ => {
            let mut out = e.clone();
            map_children(&mut out, &mut |c| split_parts(c, kpi_filter, kpi, n, parts));
            out
        }
    }
}

fn map_children(e: &mut TExpr, f: &mut impl FnMut(&TExpr) -> TExpr) {
    match &mut e.kind {
        TKind::Unary(_, a) => **a = f(a),
        TKind::Binary(_, a, b) => {
            **a = f(a);
            **b = f(b);
        }
        TKind::Row { args, .. } => {
            for a in args.iter_mut() {
                *a = f(a);
            }
        }
        TKind::If { branches, otherwise } => {
            for (c, v) in branches.iter_mut() {
                *c = f(c);
                *v = f(v);
            }
            **otherwise = f(otherwise);
        }
        TKind::In { expr, list, .. } => {
            **expr = f(expr);
            for a in list.iter_mut() {
                *a = f(a);
            }
        }
        TKind::Between { expr, low, high } => {
            **expr = f(expr);
            **low = f(low);
            **high = f(high);
        }
        TKind::IsNull { expr, .. } => **expr = f(expr),
        _ => {}
    }
}

/// A `--by` dimension as a row expression on `ds`: a dimension, a column, or
/// a looked-up column (`reps.team`, or `team` when one lookup has it).
fn dimension(model: &Model, ds: DatasetId, name: &str) -> TExpr {
    let d = &model.datasets[ds];
    let unknown = TExpr {
        kind: TKind::Lit(Literal::Null),
        ty: Type::String,
        span: Span::default(),
    };
    if let Some(dim) = d.dimensions.iter().find(|x| x.name == name) {
        return dim.expr.clone();
    }
    if let Some((_, t)) = d.columns.iter().find(|(c, _)| c == name) {
        return TExpr {
            kind: TKind::Column {
                dataset: ds,
                name: name.to_string(),
            },
            ty: *t,
            span: Span::default(),
        };
    }
    let lookups = d.lookups.iter().map(|l| (l.dataset, &model.datasets[l.dataset]));
    let found = match name.split_once('.') {
        Some((q, c)) => lookups
            .filter(|(_, x)| x.name == q)
            .find_map(|(id, x)| x.columns.iter().find(|(n, _)| n == c).map(|(_, t)| (id, c, *t))),
        None => lookups
            .filter_map(|(id, x)| {
                x.columns
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, t)| (id, name, *t))
            })
            .next(),
    };
    match found {
        Some((id, c, t)) => TExpr {
            kind: TKind::Column {
                dataset: id,
                name: c.to_string(),
            },
            ty: t,
            span: Span::default(),
        },
        // Only when the dataset's schema is open; the data decides at run time.
        None => TExpr {
            kind: TKind::Column {
                dataset: ds,
                name: name.to_string(),
            },
            ty: Type::Unknown,
            ..unknown
        },
    }
}

/// Segment conditions typed on `ds`.
/// The segments' conditions on a dataset, as check typed them (a segment
/// that does not apply there was refused when the query was checked).
fn segment_filters(model: &Model, ds: DatasetId, segments: &[String]) -> Vec<TExpr> {
    segments
        .iter()
        .filter_map(|name| model.segments.iter().find(|s| s.name == *name))
        .filter_map(|s| s.on.iter().find(|(d, _)| *d == ds).map(|(_, e)| e.clone()))
        .collect()
}

impl Unit {
    /// Every column the unit's expressions read, as (dataset, name).
    pub fn columns(&self) -> Vec<(DatasetId, String)> {
        let mut cols = Vec::new();
        for p in &self.parts {
            for e in p.arg.iter().chain(p.filter.iter()) {
                e.columns(&mut cols);
            }
        }
        for e in self.dims.iter().chain(self.filters.iter()) {
            e.columns(&mut cols);
        }
        cols
    }
}

/// Lookups whose columns a unit reads.
fn lookups_used(model: &Model, u: &Unit) -> Vec<usize> {
    let cols = u.columns();
    let d = &model.datasets[u.dataset];
    let mut out: Vec<usize> = d
        .lookups
        .iter()
        .enumerate()
        .filter(|(_, l)| cols.iter().any(|(ds, _)| *ds == l.dataset))
        .map(|(i, _)| i)
        .collect();
    out.dedup();
    out
}

/// A name for `Name` lookups built from text (`--by` values).
pub fn name_of(text: &str) -> Name {
    let ident = |s: &str| Ident {
        name: s.to_string(),
        span: Span::default(),
    };
    match text.split_once('.') {
        Some((q, c)) => Name {
            qualifier: Some(ident(q)),
            ident: ident(c),
        },
        None => Name {
            qualifier: None,
            ident: ident(text),
        },
    }
}

/// A funnel with its step conditions typed on its dataset.
#[derive(Clone, Debug)]
pub struct FunnelPlan {
    pub name: String,
    pub dataset: DatasetId,
    pub time: TimeBasis,
    /// Each step's name and condition (on top of every earlier step's).
    pub steps: Vec<(String, Option<TExpr>)>,
}

/// Types the steps of the funnel `name`; `None` when the spec has no such funnel.
pub fn funnel(model: &Model, name: &str) -> Option<FunnelPlan> {
    let f = model.funnels.iter().find(|f| f.name == name)?;
    Some(FunnelPlan {
        name: f.name.clone(),
        dataset: f.dataset,
        time: f.time.clone(),
        steps: f.steps.clone(),
    })
}
