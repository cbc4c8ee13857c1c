//! Stage 4, plan: the only lowering of a checked query. Free of any
//! engine: `execute` runs a plan, and an engine (Polars over files, or a
//! SQL printer) needs nothing but the plan to run its units.
//!
//! All base KPIs on one dataset with the same time basis form one *unit*:
//! one scan and one group-by, whatever their number (LANGUAGE.md §9). Each
//! aggregate of a measure becomes a *part* column of that group-by; the
//! measure is then computed from its parts after the time spine is complete,
//! so empty periods give `sum`/`count` 0 and ratios null, and averages are
//! recombinable (an `avg` is planned as a sum part over a count part).

mod funnel;
mod history;
mod nests;
mod units;
pub use units::lookup_of_dimension;

use std::borrow::Cow;

pub use crate::check::query::{Compare, Query};
pub use funnel::{plan_funnel, FunnelPlan};
pub use history::{compare_period, history, periods_that_count};
pub use nests::Nest;

use crate::check::functions::AggFn;
use crate::check::ir::*;
use crate::diagnostic::Diagnostic;
use crate::period::{self, Grain};
use crate::time::Date;

/// Marks a column of a unit frame, from any engine, that counts the
/// non-finite values of one source column: `__nf:dataset:column` (a
/// dataset's name has no colon).
pub const NON_FINITE: &str = "__nf:";

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

/// The days a stock under a grain counts, for a query with a range: the
/// levels of its periods are taken within the range, as the rows of a
/// flow's first and last periods hold only the range's days.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StockDays {
    /// Starts and ends after this day (the range's last) are left out: the
    /// last period's level at its end is the level on this day, and a row
    /// that starts later makes no group.
    pub last: Date,
    /// `at: start` with a range starting inside a period: starts and ends
    /// on the period's days before the range (`.0` to the day before `.1`)
    /// are counted in the period before it, so the first period's level is
    /// that of the day before the range starts.
    pub moved: Option<(Date, Date)>,
}

impl StockDays {
    pub fn of(query: &Query, cal: &crate::period::Calendar, at_start: bool) -> Option<StockDays> {
        let r = query.range?;
        let first = period::period_of(r.start, query.grain, cal).start;
        Some(StockDays {
            last: r.end,
            moved: (at_start && first < r.start).then_some((first, r.start)),
        })
    }
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

/// A query lowered for execution, free of any engine's types: the units
/// (one scan and group-by each), the derived KPIs over the spine, the
/// nested aggregates' own plans, the history read before the range and the
/// comparison's plan. An engine runs the units; everything else is shared.
#[derive(Clone, Debug)]
pub struct Plan<'m> {
    /// The model the plan reads: the checked one, or a copy in which each
    /// nested aggregate is a column of the spine.
    pub model: Cow<'m, Model>,
    /// The query, its history (the first day read) set.
    pub query: Query,
    /// Requested KPIs, in output order.
    pub outputs: Vec<KpiId>,
    /// Derived KPIs to compute, in dependency order.
    pub derived: Vec<KpiId>,
    pub units: Vec<Unit>,
    /// The first period to output, when history before it is read.
    pub first: Option<Date>,
    /// Each nested aggregate the outputs need, with the plan of its members.
    pub nests: Vec<NestPlan>,
    /// `--compare` of a range without a grain: the same query over the earlier range.
    pub compare: Option<Box<Plan<'m>>>,
    /// How many nested aggregations this plan is inside (0: the query asked).
    pub depth: usize,
    /// Whether output rows carry a period label: under a grain, not under
    /// `--grain all`, whose range may be evaluated at a grain all the same
    /// ([`plan`]).
    pub labelled: bool,
}

/// A nested aggregate and the plan of the query of its members.
#[derive(Clone, Debug)]
pub struct NestPlan {
    pub nest: Nest,
    pub plan: Plan<'static>,
}

/// Plans a checked query: every mistake in it (an unknown KPI, a dimension,
/// segment or period a KPI cannot take) is a diagnostic here, so execution
/// meets only data errors. A query naming no KPI plans every KPI.
pub fn plan<'m>(model: &'m Model, query: &Query) -> Result<Plan<'m>, Vec<Diagnostic>> {
    let found = crate::check::query::check_query(model, query);
    if found.has_errors() {
        return Err(found.into_sorted());
    }
    let Some(grain) = range_grain(model, query) else {
        return Ok(plan_at(Cow::Borrowed(model), query, 0));
    };
    let mut plan = plan_at(
        Cow::Borrowed(model),
        &Query {
            grain,
            ..query.clone()
        },
        0,
    );
    plan.labelled = false;
    Ok(plan)
}

/// The grain a range without one is evaluated at when its KPIs have time
/// functions: that of which the range is one period (`--period 2025-Q1`)
/// or, given by [`Query::range_grain`], the start of one (a target's
/// quarter up to its as-of date). Its time functions then look back in
/// periods of that grain, as under `--grain quarter`: the range's
/// `growth(k, "year")` is against the same quarter a year earlier and its
/// `ytd(k)` runs from the start of the year, where the range as a period
/// of its own has no earlier period and is every window.
fn range_grain(model: &Model, query: &Query) -> Option<Grain> {
    let r = query.range.filter(|_| query.grain == Grain::All)?;
    let cal = &model.calendar;
    let starts_one = |g: &Grain| {
        let p = period::period_of(r.start, *g, cal);
        *g != Grain::All && p.start == r.start && r.end <= p.end
    };
    let grain = query
        .range_grain
        .filter(starts_one)
        .or_else(|| period::grain_of(r, cal))?;
    let kpis: Vec<KpiId> = model.kpi_ids(&query.kpis).into_iter().flatten().collect();
    model.looks_back(&kpis).then_some(grain)
}

/// Lowers a query `depth` nested aggregations deep.
fn plan_at<'m>(model: Cow<'m, Model>, query: &Query, depth: usize) -> Plan<'m> {
    let asked = model.clone();
    let outputs = |model: &Model| -> Vec<KpiId> {
        match query.kpis.is_empty() {
            true => (0..model.kpis.len()).collect(),
            false => model.kpi_ids(&query.kpis).into_iter().flatten().collect(),
        }
    };
    // Nested aggregates are looked for in the KPIs the query needs alone.
    let needed = model.needed_by(&outputs(&model));
    let (model, inner, nests) = nests::rewrite(model, depth, &needed);
    let outputs = outputs(&model);
    let needed = model.needed_by(&outputs);
    let order: Vec<KpiId> = model.order.iter().copied().filter(|k| needed[*k]).collect();
    let is_base = |k: &KpiId| matches!(model.kpis[*k].kind, KpiKind::Base { .. });
    let bases: Vec<KpiId> = order.iter().copied().filter(is_base).collect();
    let derived: Vec<KpiId> = order.iter().copied().filter(|k| !is_base(k)).collect();
    let units = units::lower(&model, query, &bases);
    let mut plan = Plan {
        model,
        query: query.clone(),
        outputs,
        derived,
        units,
        first: None,
        nests: Vec::new(),
        compare: None,
        depth,
        labelled: query.grain != Grain::All,
    };
    plan.query.history = history(&plan.model, &plan);
    plan.first = match (plan.query.history, query.range) {
        (Some(_), Some(r)) if query.grain != Grain::All => {
            Some(period::period_of(r.start, query.grain, &plan.model.calendar).start)
        }
        _ => None,
    };
    if let Some(inner) = inner {
        let computed = plan.computed();
        plan.nests = nests
            .into_iter()
            .filter(|n| computed.contains(&n.host))
            // A nest with no KPI to evaluate (the checker refuses it,
            // `kpi::nest_without_members`) would plan every KPI again,
            // itself among them, without end.
            .filter(|n| !n.kpis().is_empty())
            .map(|nest| {
                let sub = nests::nest_query(&plan.query, &nest);
                let plan = plan_at(Cow::Owned(inner.clone()), &sub, depth + 1);
                NestPlan { nest, plan }
            })
            .collect();
    }
    plan.compare = compare_plan(asked, query).map(Box::new);
    plan
}

/// `--compare` of a range without a grain: the range is the one period, so
/// the earlier range is a query of its own.
fn compare_plan<'m>(model: Cow<'m, Model>, query: &Query) -> Option<Plan<'m>> {
    let (c, r) = (query.compare?, query.range?);
    if query.grain != Grain::All {
        return None;
    }
    let cal = &model.calendar;
    let g = period::grain_of(r, cal);
    let earlier = match c {
        Compare::Previous => period::previous(r, g, cal),
        Compare::Periods(n) => (0..n).fold(r, |p, _| period::previous(p, g, cal)),
        Compare::Year => period::year_before(r, g, cal),
    };
    let sub = Query {
        range: Some(earlier),
        compare: None,
        history: None,
        ..query.clone()
    };
    Some(plan_at(model, &sub, 0))
}

impl Plan<'_> {
    /// The KPIs the plan computes: its units' base KPIs and its derived ones.
    pub fn computed(&self) -> Vec<KpiId> {
        self.derived
            .iter()
            .copied()
            .chain(self.units.iter().flat_map(|u| u.outputs.iter().map(|o| o.kpi)))
            .collect()
    }

    /// Which units read datasets on a connection (`true`) or files.
    /// What unit `i` is called: its dataset and KPIs.
    pub fn unit_title(&self, i: usize) -> String {
        let u = &self.units[i];
        let kpis: Vec<&str> = u
            .outputs
            .iter()
            .map(|o| self.model.kpis[o.kpi].name.as_str())
            .collect();
        format!("{} ({})", self.model.datasets[u.dataset].name, kpis.join(", "))
    }

    pub fn on_connections(&self) -> (Vec<usize>, Vec<usize>) {
        (0..self.units.len()).partition(|&i| self.model.datasets[self.units[i].dataset].remote.is_some())
    }

    /// The plan of some of its units alone (no nested or compare plans),
    /// for the engine that runs them.
    pub fn with_units(&self, units: &[usize]) -> Plan<'_> {
        Plan {
            model: Cow::Borrowed(&*self.model),
            query: self.query.clone(),
            outputs: self.outputs.clone(),
            derived: self.derived.clone(),
            units: units.iter().map(|&i| self.units[i].clone()).collect(),
            first: self.first,
            nests: Vec::new(),
            compare: None,
            depth: self.depth,
            labelled: self.labelled,
        }
    }

    /// Whether rows are bucketed by period (a grain or a range).
    pub fn has_periods(&self) -> bool {
        self.query.has_periods()
    }
}
