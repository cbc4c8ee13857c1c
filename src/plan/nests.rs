//! Nested aggregation, `agg(expr per dim [where cond])`: the inner
//! expression is evaluated per member of `dim` inside each output group and
//! period (a query grouped by the output dimensions and `dim`), then
//! aggregated across the members. The inner expression and condition become
//! hidden KPIs of that query; the outer aggregate becomes a column of the
//! spine that the KPI's measure reads.

use std::borrow::Cow;

use crate::check::functions::AggFn;
use crate::check::ir::{Additivity, KpiId, KpiKind, KpiModel, Model, TExpr, TKind};
use crate::check::query::Query;
use crate::check::types::Type;

/// One nested aggregate, computed into a spine column.
#[derive(Clone, Debug)]
pub struct Nest {
    pub column: String,
    pub host: KpiId,
    pub func: AggFn,
    pub param: Option<f64>,
    pub per: Vec<String>,
    /// The hidden KPI giving each member's value (none for `count(per d)` of a derived KPI).
    pub inner: Option<String>,
    /// The hidden KPI giving each member's condition.
    pub filter: Option<String>,
    pub inner_ty: Type,
    /// `count(per d)` of a base KPI (no condition) counts members with rows.
    pub count_rows: bool,
    /// In a derived KPI whose nest names no KPI itself (`count(per owner)`),
    /// the KPIs of the host whose members it takes.
    pub members_of: Vec<String>,
}

impl Nest {
    /// The hidden KPIs its inner query evaluates.
    pub fn kpis(&self) -> Vec<String> {
        let own = self.inner.iter().chain(self.filter.iter());
        own.chain(self.members_of.iter()).cloned().collect()
    }
}

/// The model with every nested aggregate replaced by a column, and the
/// model (the original plus hidden KPIs) that the inner queries evaluate.
/// `depth` keeps the columns of nests within nests apart. A model whose
/// KPIs `asked` (those a query needs) have no nested aggregate is neither
/// copied nor rewritten: a plan for each of a thousand targets looked
/// through every KPI of the spec.
pub fn rewrite<'m>(
    model: Cow<'m, Model>,
    depth: usize,
    asked: &[bool],
) -> (Cow<'m, Model>, Option<Model>, Vec<Nest>) {
    let nested = model
        .kpis
        .iter()
        .zip(asked)
        .any(|(k, &asked)| asked && has_nest(k));
    if !nested {
        return (model, None, Vec::new());
    }
    let model = model.into_owned();
    let mut outer = model.clone();
    let mut inner = model.clone();
    let mut nests = Vec::new();
    for k in 0..outer.kpis.len() {
        let host = model.kpis[k].clone();
        let named_by_host = named_kpis(&model, &host);
        let measure = match &mut outer.kpis[k].kind {
            KpiKind::Base { measure, .. } | KpiKind::Derived { measure } => measure,
        };
        replace(measure, &mut |e| {
            let TKind::Agg {
                func,
                arg,
                param,
                filter,
                per,
            } = &e.kind
            else {
                return None;
            };
            if per.is_empty() {
                return None;
            }
            let j = nests.len();
            let column = format!("__nest{depth}_{j}");
            // `count(per d)` of a base KPI counts members with rows; with a
            // condition, every member of the spine is asked it (one with no
            // rows in a period has 0 for its sums and counts there).
            let count_rows = arg.is_none() && filter.is_none() && matches!(host.kind, KpiKind::Base { .. });
            let value = match (arg, count_rows) {
                (Some(a), _) => Some((**a).clone()),
                (None, true) => Some(TExpr {
                    kind: TKind::Agg {
                        func: AggFn::Count,
                        arg: None,
                        param: None,
                        filter: None,
                        per: Vec::new(),
                    },
                    ty: Type::Number,
                    span: e.span,
                }),
                (None, false) => None,
            };
            let inner_ty = value.as_ref().map_or(Type::Number, |v| v.ty);
            // A derived KPI's nest that names no KPI (`count(per owner)`)
            // has the members of the KPIs beside it.
            let mut own = Vec::new();
            arg.iter().chain(filter.iter()).for_each(|e| e.kpis(&mut own));
            let members_of = match host.kind {
                KpiKind::Derived { .. } if own.is_empty() => named_by_host.clone(),
                _ => Vec::new(),
            };
            let mut hidden = |name: String, measure: TExpr| {
                inner.order.push(inner.kpis.len());
                inner.kpis.push(hidden_kpi(&host, name.clone(), measure));
                name
            };
            let inner_name = value.map(|v| hidden(column.clone(), v));
            let filter_name = filter
                .as_deref()
                .map(|w| hidden(format!("{column}_where"), w.clone()));
            nests.push(Nest {
                column: column.clone(),
                host: k,
                func: *func,
                param: *param,
                per: per.clone(),
                inner: inner_name,
                filter: filter_name,
                inner_ty,
                count_rows,
                members_of,
            });
            Some(TExpr {
                kind: TKind::Part(column),
                ty: e.ty,
                span: e.span,
            })
        });
    }
    (Cow::Owned(outer), Some(inner), nests)
}

/// The names of the KPIs a derived KPI's measure names (none for a base KPI).
fn named_kpis(model: &Model, k: &KpiModel) -> Vec<String> {
    let KpiKind::Derived { measure } = &k.kind else {
        return Vec::new();
    };
    let mut ids = Vec::new();
    measure.kpis(&mut ids);
    ids.iter()
        .filter_map(|i| model.kpis.get(*i))
        .map(|k| k.name.clone())
        .collect()
}

fn has_nest(k: &KpiModel) -> bool {
    fn walk(e: &TExpr) -> bool {
        let mut found = matches!(&e.kind, TKind::Agg { per, .. } if !per.is_empty());
        e.for_each_child(|c| found |= walk(c));
        found
    }
    match &k.kind {
        KpiKind::Base { measure, .. } | KpiKind::Derived { measure } => walk(measure),
    }
}

/// A KPI like `host` (same dataset, filter and time) measuring `measure`.
fn hidden_kpi(host: &KpiModel, name: String, measure: TExpr) -> KpiModel {
    let kind = match &host.kind {
        KpiKind::Base {
            dataset,
            filter,
            time,
            ..
        } => KpiKind::Base {
            dataset: *dataset,
            measure: measure.clone(),
            filter: filter.clone(),
            time: time.clone(),
        },
        KpiKind::Derived { .. } => KpiKind::Derived {
            measure: measure.clone(),
        },
    };
    KpiModel {
        name,
        kind,
        ty: measure.ty,
        additivity: Additivity::NonAdditive,
        recombinable: false,
        ..host.clone()
    }
}

fn replace(e: &mut TExpr, f: &mut impl FnMut(&TExpr) -> Option<TExpr>) {
    if let Some(r) = f(e) {
        *e = r;
        return;
    }
    e.for_each_child_mut(|c| replace(c, f));
}

/// The query of a nested aggregate's members: the outer query's groups and
/// the `per` dimensions.
pub fn nest_query(query: &Query, nest: &Nest) -> Query {
    let mut by = query.by.clone();
    by.extend(nest.per.iter().filter(|p| !query.by.contains(p)).cloned());
    Query {
        kpis: nest.kpis(),
        by,
        compare: None,
        ..query.clone()
    }
}
