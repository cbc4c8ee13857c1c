//! Lowering of base KPIs into units: one scan and one group-by per dataset
//! and time basis, each aggregate a part column (LANGUAGE.md §9).

use super::{BaseOutput, Part, Unit, UnitTime};
use crate::check::functions::AggFn;
use crate::check::ir::*;
use crate::check::query::Query;
use crate::check::types::Type;
use crate::span::Span;
use crate::syntax::ast::BinaryOp;

/// The units of the base KPIs `bases`, in order: each KPI joins the unit
/// of its dataset and time basis.
pub(super) fn lower(model: &Model, query: &Query, bases: &[KpiId]) -> Vec<Unit> {
    let mut units: Vec<Unit> = Vec::new();
    for &k in bases {
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
        let utime = unit_time(time);
        let idx = match units
            .iter()
            .position(|u| u.dataset == *dataset && u.time == utime)
        {
            Some(i) => i,
            None => {
                units.push(Unit {
                    dataset: *dataset,
                    time: utime,
                    parts: Vec::new(),
                    outputs: Vec::new(),
                    dims: query.by.iter().map(|d| dimension(model, *dataset, d)).collect(),
                    filters: segment_filters(model, *dataset, &query.segments),
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
    for u in &mut units {
        u.lookups = lookups_used(model, u);
    }
    units
}

fn unit_time(time: &TimeBasis) -> UnitTime {
    match time {
        TimeBasis::Column(c) => UnitTime::Flow(c.clone()),
        TimeBasis::Active { from, to, at_start } => UnitTime::Stock {
            from: from.clone(),
            to: to.clone(),
            at_start: *at_start,
        },
        TimeBasis::None => UnitTime::None,
    }
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

/// The lookup of dataset `ds` (its index in `lookups`) that the `--by`
/// dimension `name` reads, as the plan resolves it (`dimension`): `reps.team`, or
/// `team` when only a lookup has it; `None` for the dataset's own.
pub fn lookup_of_dimension(model: &Model, ds: DatasetId, name: &str) -> Option<usize> {
    match dimension(model, ds, name).kind {
        TKind::Column { dataset, .. } if dataset != ds => model
            .datasets
            .get(ds)?
            .lookups
            .iter()
            .position(|l| l.dataset == dataset),
        _ => None,
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
