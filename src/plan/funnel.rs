//! A funnel lowered into one plan: each step is a hidden count KPI of the
//! funnel's dataset (rows meeting its condition and every earlier one), so
//! all steps share one scan and one group-by.

use std::borrow::Cow;

use super::{plan_at, Plan, Query};
use crate::check::functions::AggFn;
use crate::check::ir::{Additivity, FunnelModel, KpiKind, KpiModel, Model, TExpr, TKind};
use crate::check::types::Type;
use crate::diagnostic::Diagnostic;
use crate::spec::model::{Direction, Unit};
use crate::syntax::ast::BinaryOp;

/// A funnel's plan: its step names, and the hidden KPI counting each.
#[derive(Clone, Debug)]
pub struct FunnelPlan {
    pub name: String,
    /// Each step's name and the hidden KPI that counts it.
    pub steps: Vec<(String, String)>,
    pub plan: Plan<'static>,
}

impl FunnelPlan {
    /// A title of its plan's (`leads (__step0, __step1)`) in the funnel's
    /// words: `funnel lead_funnel: leads (created, contacted)`.
    pub fn titled(&self, title: &str) -> String {
        // Last first: `__step1` is in `__step10`.
        let title = self
            .steps
            .iter()
            .rev()
            .fold(title.to_string(), |t, (step, kpi)| t.replace(kpi.as_str(), step));
        format!("funnel {}: {title}", self.name)
    }
}

/// Plans the funnel `name` by the query's dimensions, grain, range and
/// segments; `None` when the spec has no such funnel. A dimension or
/// segment the funnel's dataset cannot take is an error here.
pub fn plan_funnel(model: &Model, name: &str, query: &Query) -> Option<Result<FunnelPlan, Vec<Diagnostic>>> {
    let f = model.funnels.iter().find(|f| f.name == name)?;
    let mut m = steps_model(model);
    let mut steps = Vec::new();
    let mut condition: Option<TExpr> = None;
    for (i, (step, cond)) in f.steps.iter().enumerate() {
        condition = match (condition, cond) {
            (Some(a), Some(b)) => Some(TExpr {
                span: b.span,
                ty: Type::Bool,
                kind: TKind::Binary(BinaryOp::And, Box::new(a), Box::new(b.clone())),
            }),
            (a, b) => a.or_else(|| b.clone()),
        };
        let kpi = format!("__step{i}");
        m.order.push(m.kpis.len());
        m.kpis.push(step_kpi(f, &kpi, condition.clone()));
        steps.push((step.clone(), kpi));
    }
    let sub = Query {
        kpis: steps.iter().map(|(_, k)| k.clone()).collect(),
        compare: None,
        ..query.clone()
    };
    // The steps share their dataset and time: a query that one does not
    // fit fits none, and is said once, of the funnel, not of each hidden
    // step KPI (`__step0`).
    let first = Query {
        kpis: sub.kpis.iter().take(1).cloned().collect(),
        ..sub.clone()
    };
    let found = crate::check::query::check_query(&m, &first);
    if found.has_errors() {
        let hidden = format!("beneath `{}`", first.kpis.concat());
        let of = format!("of funnel `{}`", f.name);
        let said = found.into_sorted().into_iter().map(|d| Diagnostic {
            message: d.message.replace(&hidden, &of),
            ..d
        });
        return Some(Err(said.collect()));
    }
    let plan = plan_at(Cow::Owned(m), &sub, 0);
    Some(Ok(FunnelPlan {
        name: f.name.clone(),
        steps,
        plan,
    }))
}

/// The model a funnel's steps are planned in: what their counts read (the
/// calendar, connections, datasets and segments) and none of the spec's
/// KPIs, funnels, targets or tests. A copy of the whole model for each
/// funnel made a page of a thousand funnels take seconds.
fn steps_model(model: &Model) -> Model {
    Model {
        calendar: model.calendar.clone(),
        connections: model.connections.clone(),
        datasets: model.datasets.clone(),
        segments: model.segments.clone(),
        ..Model::default()
    }
}

/// The hidden KPI counting a step's rows.
fn step_kpi(f: &FunnelModel, name: &str, condition: Option<TExpr>) -> KpiModel {
    let span = condition.as_ref().map(|c| c.span).unwrap_or_default();
    let measure = TExpr {
        kind: TKind::Agg {
            func: AggFn::Count,
            arg: None,
            param: None,
            filter: condition.map(Box::new),
            per: Vec::new(),
        },
        ty: Type::Number,
        span,
    };
    KpiModel {
        name: name.to_string(),
        title: name.to_string(),
        description: None,
        unit: Some(Unit::Count),
        decimals: None,
        direction: Direction::Up,
        indicator: None,
        owner: None,
        tags: Vec::new(),
        kind: KpiKind::Base {
            dataset: f.dataset,
            measure,
            filter: None,
            time: f.time.clone(),
        },
        ty: Type::Number,
        additivity: Additivity::Additive,
        recombinable: true,
        stock: false,
        datasets: vec![f.dataset],
        span,
        measure_text: String::new(),
    }
}
