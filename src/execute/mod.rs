//! Stage 5, execute: run a plan. An engine runs its units (one frame of
//! aggregated parts each); then, shared by every engine, the complete time
//! spine (every period × every group) is laid, empty periods filled, stocks
//! summed, and base and derived KPIs computed from the aggregated frames
//! (never by re-scanning), nested aggregates and `--compare` included.

mod accumulate;
mod chunks;
mod compare;
mod data_dates;
mod day_flags;
mod days;
mod diagnostics;
pub use diagnostics::evaluation_error;
pub mod engine;
mod explain;
mod funnel;
mod groups;
mod lookups;
mod nested;
mod parts;
mod polars_engine;
mod ranges;
mod spine;
mod sql_engine;
mod stocks;

pub use data_dates::{
    data_range, data_ranges, data_spans, latest_date, latest_dates, latest_of, today, DataSpans,
};
pub use engine::{Engine, UnitFrames};
pub use explain::{describe, describe_funnel};
pub use funnel::{evaluate_funnels, is_funnel, FunnelEvaluation, MEASURES as FUNNEL_MEASURES};
pub use lookups::{unmatched_keys as unmatched_lookup_keys, unmatched_keys_of as unmatched_lookup_keys_of};
pub use polars_engine::Polars;
pub use ranges::{evaluate_ranges, ranges_are_cheap};
pub use sql_engine::{Auto, Sql};

use polars::prelude::*;

use crate::check::ir::Model;
use crate::check::query::with_fitting_kpis;
use crate::data::{self, SourceInfo};
use crate::diagnostic::Diagnostic;
use crate::period::Grain;
use crate::period::Period;
use crate::plan::{self, Nest, Plan, Query, UnitTime};

pub(crate) const PERIOD: &str = "__period";
pub(crate) const ROWS: &str = "__rows";
pub(crate) const ONE: &str = "__one";

/// The result of `kpi eval`: one row per group and period.
#[derive(Debug)]
pub struct Evaluation {
    /// Columns: the `--by` dimensions as named, `period` (with a grain), then each KPI.
    pub frame: DataFrame,
    pub dims: Vec<String>,
    pub period: bool,
    /// KPI names, in output order.
    pub kpis: Vec<String>,
    /// Each KPI is followed by its `_compare`, `_change` and `_change_pct` columns.
    pub compare: bool,
    /// Rows whose time value was null and so belong to no period.
    pub left_out: u64,
    /// What the data did to the numbers: non-finite values read as null, overflows.
    pub warnings: Vec<Diagnostic>,
}

/// A left join on group keys, in the left frame's row order (the spine's
/// order, which windows and the output rely on, survives every join). A
/// null dimension value is a group of its own (LANGUAGE.md §4), so on these
/// keys null matches null; lookups keep SQL's rule instead (a null key
/// finds no row).
pub(crate) fn key_join() -> JoinArgs {
    let mut args = JoinArgs::new(JoinType::Left);
    args.nulls_equal = true;
    args.maintain_order = MaintainOrderJoin::Left;
    args
}

/// Which Polars engine runs the units' queries. The in-memory engine is the
/// default: its sums are added in row order, so the same data gives the same
/// numbers to the last digit on every run. `KPI_STREAMING=1` chooses the
/// streaming engine, for data larger than memory: it reads files in batches
/// and aggregates as rows arrive, in whatever order the batches finish, so
/// sums of fractional numbers may differ in their last digits between runs.
pub(crate) fn polars_engine() -> polars::prelude::Engine {
    match streaming() {
        true => polars::prelude::Engine::Streaming,
        false => polars::prelude::Engine::InMemory,
    }
}

/// Whether `KPI_STREAMING` chooses the streaming engine.
pub(crate) fn streaming() -> bool {
    matches!(
        std::env::var("KPI_STREAMING").as_deref(),
        Ok("1" | "true" | "yes")
    )
}

/// Several queries at once: scans they share are read once.
pub(crate) fn collect_all(lfs: Vec<LazyFrame>) -> PolarsResult<Vec<DataFrame>> {
    collect_all_with(lfs, polars_engine())
}

/// [`collect_all`] on the streaming engine, whatever `KPI_STREAMING` says:
/// for queries whose answer does not depend on the order rows arrive in
/// (a column's least and greatest values), read a batch at a time rather
/// than whole columns at once.
pub(crate) fn collect_all_streaming(lfs: Vec<LazyFrame>) -> PolarsResult<Vec<DataFrame>> {
    collect_all_with(lfs, polars::prelude::Engine::Streaming)
}

fn collect_all_with(lfs: Vec<LazyFrame>, engine: polars::prelude::Engine) -> PolarsResult<Vec<DataFrame>> {
    let plans: Vec<DslPlan> = lfs.into_iter().map(|lf| lf.logical_plan).collect();
    LazyFrame::collect_all_with_engine(plans, engine, OptFlags::default())
}

pub(crate) fn dim_col(i: usize) -> String {
    format!("__d{i}")
}

pub(crate) fn polars_error(e: PolarsError) -> Vec<Diagnostic> {
    vec![diagnostics::evaluation_error(&e.to_string())]
}

/// Evaluates a query over the spec's data: Polars over its files, SQL
/// through ADBC where a dataset is on a connection.
pub fn evaluate(model: &Model, query: &Query) -> Result<Evaluation, Vec<Diagnostic>> {
    evaluate_with(&Auto, model, query)
}

/// Checks, plans and runs a query, its units run by `engine`. A query that
/// names no KPI evaluates every KPI that can take it; the others are named
/// in a `kpi::left_out` warning.
pub fn evaluate_with(
    engine: &dyn Engine,
    model: &Model,
    query: &Query,
) -> Result<Evaluation, Vec<Diagnostic>> {
    let (query, left_out) = with_fitting_kpis(model, query)?;
    let plan = plan::plan(model, &query)?;
    let mut ev = execute(engine, &plan)?;
    ev.warnings.splice(0..0, left_out);
    Ok(ev)
}

/// Runs a plan: the output rows in spine order, history before the range
/// left out, each KPI's comparison beside it under `--compare`.
pub fn execute(engine: &dyn Engine, plan: &Plan) -> Result<Evaluation, Vec<Diagnostic>> {
    let (model, query) = (&*plan.model, &plan.query);
    spine::range_fits(query, &model.calendar)?;
    // Under `--grain all` the range compared with is planned beside it.
    let (frame, earlier) = match &plan.compare {
        Some(earlier) => {
            let (now, then) = run_compared(engine, plan, earlier)?;
            (now, Some(then))
        }
        None => (run(engine, plan)?, None),
    };
    let names: Vec<String> = frame.kpis.iter().map(|k| model.kpis[*k].name.clone()).collect();
    let mut lf = frame.lf;
    if let Some(c) = query.compare {
        lf = compare::add(plan, c, lf, earlier, &frame.periods, &names)?;
    }
    // Periods before the range were read for history only.
    if let Some(first) = plan.first {
        lf = lf.filter(col(PERIOD).gt_eq(crate::compile::date_lit(first.0)));
    }
    let labelled = frame.period && plan.labelled;
    let out = lf
        .select(output_columns(query, &names, labelled))
        .collect()
        .map_err(polars_error)?;
    let mut warnings = frame.warnings;
    warnings.extend(range_not_a_period(plan));
    let out = finite_values(out, &names, &mut warnings).map_err(polars_error)?;
    Ok(Evaluation {
        frame: out,
        dims: query.by.clone(),
        period: labelled,
        kpis: names,
        compare: query.compare.is_some(),
        left_out: frame.left_out,
        warnings,
    })
}

/// Time functions of KPIs asked over a range without a grain that was not
/// evaluated at a grain of its own ([`plan::plan`]): said, as their nulls
/// and windows are not those of any period.
fn range_not_a_period(plan: &Plan) -> Option<Diagnostic> {
    let (model, query) = (&*plan.model, &plan.query);
    let range = query
        .range
        .filter(|_| query.grain == Grain::All && plan.depth == 0)?;
    let looking_back = model.looking_back();
    let kpis: Vec<&str> = (plan.outputs.iter())
        .filter(|k| looking_back[**k])
        .map(|k| model.kpis[*k].name.as_str())
        .collect();
    let fiscal_year_start = model.calendar.fiscal_year_start;
    (!kpis.is_empty()).then(|| diagnostics::range_not_a_period(&kpis, range, fiscal_year_start))
}

/// Whether output rows carry a period label: only under a grain (LANGUAGE.md
/// §8). Under `--grain all` a range is one period, the query's own.
pub(super) fn labelled(has_periods: bool, grain: Grain) -> bool {
    has_periods && grain != Grain::All
}

/// Output columns: dimensions as named, the period label, the KPIs (each
/// followed by its comparison columns under `--compare`).
fn output_columns(query: &Query, names: &[String], period: bool) -> Vec<Expr> {
    let mut select: Vec<Expr> = query
        .by
        .iter()
        .enumerate()
        .map(|(i, name)| col(dim_col(i).as_str()).alias(name.as_str()))
        .collect();
    if period {
        select.push(col("period"));
    }
    for n in names {
        select.push(col(n.as_str()).cast(DataType::Float64));
        if query.compare.is_some() {
            select.extend(compare::SUFFIXES.iter().map(|s| {
                let c = format!("{n}{s}");
                col(c.as_str()).cast(DataType::Float64)
            }));
        }
    }
    select
}

/// KPI values that came out non-finite (a product of huge numbers, say) are
/// reported and shown as null, never as `inf` or `NaN`.
fn finite_values(
    frame: DataFrame,
    kpis: &[String],
    warnings: &mut Vec<Diagnostic>,
) -> PolarsResult<DataFrame> {
    let mut fixes = Vec::new();
    for c in frame.columns() {
        let Ok(x) = c.f64() else { continue };
        let bad = count_values(x, |v| !v.is_finite());
        if bad == 0 {
            continue;
        }
        let name = c.name().to_string();
        if let Some(k) = kpis.iter().find(|k| **k == name) {
            warnings.push(diagnostics::overflow(k, bad as u64));
        }
        let e = col(name.as_str());
        fixes.push(
            when(e.clone().is_finite())
                .then(e)
                .otherwise(lit(NULL))
                .alias(name.as_str()),
        );
    }
    if fixes.is_empty() {
        return Ok(frame);
    }
    frame.lazy().with_columns(fixes).collect()
}

/// How many values (nulls aside) of `x` satisfy `test`. The buffers are
/// read first whole, nulls' slots included, since most columns hold no
/// value that does: only then are the nulls told apart.
pub(crate) fn count_values(x: &Float64Chunked, test: impl Fn(f64) -> bool) -> usize {
    x.downcast_iter()
        .filter(|a| a.values().iter().any(|&v| test(v)))
        .map(|a| a.non_null_values_iter().filter(|&v| test(v)).count())
        .sum()
}

/// A plan's results before output: the spine sorted by group and period,
/// with every part, nested aggregate and KPI column.
pub(crate) struct Frame {
    pub lf: LazyFrame,
    /// Whether `__period` and `period` are columns.
    pub period: bool,
    /// The periods of the spine, history included.
    pub periods: Vec<Period>,
    /// The KPIs asked for, in output order.
    pub kpis: Vec<usize>,
    pub left_out: u64,
    pub warnings: Vec<Diagnostic>,
}

/// Runs a plan into its frame.
pub(crate) fn run(engine: &dyn Engine, plan: &Plan) -> Result<Frame, Vec<Diagnostic>> {
    let gathered = gather(engine, plan)?;
    lay(plan, gathered, None, &Outer::default())
}

/// A plan and the earlier range it is compared with (`--compare` under
/// `--grain all`), each over the groups of both: a group with no rows in
/// one range has the values of no rows there (a count 0), so a rep who
/// sold only last quarter shows this quarter's 0 beside last quarter's
/// number, and one new this quarter compares with 0, never with nothing.
pub(crate) fn run_compared(
    engine: &dyn Engine,
    plan: &Plan,
    earlier: &Plan,
) -> Result<(Frame, Frame), Vec<Diagnostic>> {
    let (now, then) = (gather(engine, plan)?, gather(engine, earlier)?);
    let dims = plan.query.by.len();
    let groups = |g: &Gathered| spine::groups_of(&g.frames(), dims).map_err(polars_error);
    let (now_groups, then_groups) = (groups(&now)?, groups(&then)?);
    Ok((
        lay(plan, now, Some(&then_groups), &Outer::default())?,
        lay(earlier, then, Some(&now_groups), &Outer::default())?,
    ))
}

/// A plan's aggregated frames before the spine: each unit's parts (and a
/// stock's ends) and each nested aggregate's values.
struct Gathered<'p> {
    units: Vec<UnitFrames>,
    nests: Vec<(&'p Nest, DataFrame)>,
    left_out: u64,
    warnings: Vec<Diagnostic>,
}

impl Gathered<'_> {
    /// The frames of parts, the units' and the nested aggregates' (a
    /// stock's ends are laid on the spine beside them).
    fn frames(&self) -> Vec<&DataFrame> {
        self.units
            .iter()
            .map(|u| &u.parts)
            .chain(self.nests.iter().map(|(_, f)| f))
            .collect()
    }
}

/// Runs a plan's units and nested aggregates.
fn gather<'p>(engine: &dyn Engine, plan: &'p Plan) -> Result<Gathered<'p>, Vec<Diagnostic>> {
    let query = &plan.query;
    let keys = spine::key_names(plan);
    // The engine runs every unit: one frame of parts per unit (and the ends
    // of a stock under a grain).
    let units = engine.run_units(plan)?;
    let (units, mut warnings) = data_warnings(units).map_err(polars_error)?;
    if plan.depth == 0 {
        warnings.extend(read_findings(plan));
    }
    let (units, left_out) = spine::without_periodless_rows(units, query).map_err(polars_error)?;
    // Nested aggregates, each from its own plan grouped by its members too.
    let inner = plan
        .nests
        .iter()
        .map(|n| gather(engine, &n.plan))
        .collect::<Result<Vec<_>, _>>()?;
    // Without a range, each member has every period of the output's spine,
    // not only those of its own KPIs' data: `count(per owner)` beside
    // `quota` counts the reps in the months that only quotas reach, and
    // the value of one KPI never depends on the others asked with it.
    // (Only members need it: a query without nests skips it.)
    let outer = match inner.is_empty() {
        true => Outer::default(),
        false => {
            let mut frames: Vec<&DataFrame> = units.iter().map(|u| &u.parts).collect();
            frames.extend(inner.iter().flat_map(Gathered::frames));
            let ends: Vec<&DataFrame> = units.iter().filter_map(|u| u.ends.as_ref()).collect();
            Outer {
                range: spine::data_range(&frames, &ends, query, &plan.model.calendar),
                counted: crate::plan::periods_that_count(&plan.model, plan),
            }
        }
    };
    let mut nests = Vec::new();
    for (n, gathered) in plan.nests.iter().zip(inner) {
        let with_rows = match plan.first {
            Some(first) => {
                nested::members_with_rows(&n.plan, &gathered.frames(), first).map_err(polars_error)?
            }
            None => None,
        };
        let mut members = lay(&n.plan, gathered, None, &outer)?;
        if let (Some(first), Some(m)) = (plan.first, with_rows) {
            members.lf = nested::only_members_with_rows(members.lf, m, first, n.plan.query.by.len());
        }
        // Its datasets are often the outer query's: their warnings once.
        for w in members.warnings {
            if !warnings.contains(&w) {
                warnings.push(w);
            }
        }
        let outer_keys: Vec<String> = keys.iter().filter(|k| *k != ONE).cloned().collect();
        let f = nested::aggregate(&n.plan.model, &n.nest, members.lf, &outer_keys)
            .with_column(lit(1i32).alias(ONE))
            .collect()
            .map_err(polars_error)?;
        nests.push((&n.nest, f));
    }
    Ok(Gathered {
        units,
        nests,
        left_out,
        warnings,
    })
}

/// The most values (rows × columns, parts included) a result may hold:
/// about 10 GB laid out. Every period for every group multiplies fast
/// (`--by deal_id --grain day` over a million deals and three years is a
/// billion rows), and a run past memory is killed without a word.
pub const MAX_RESULT_VALUES: usize = 1_000_000_000;

/// An error when the spine, with a value for every part and KPI, would
/// hold more than [`MAX_RESULT_VALUES`].
fn within_bounds(plan: &Plan, spine: &spine::Spine) -> Result<(), Vec<Diagnostic>> {
    let groups = spine.groups.height();
    let periods = if spine.with_period { spine.periods.len() } else { 1 };
    let rows = groups.saturating_mul(periods);
    let parts: usize = plan.units.iter().map(|u| u.parts.len()).sum();
    let columns = plan.query.by.len() + 2 + parts + plan.outputs.len();
    match rows.saturating_mul(columns) > MAX_RESULT_VALUES {
        true => Err(vec![diagnostics::result_too_large(
            rows, groups, periods, columns,
        )]),
        false => Ok(()),
    }
}

/// What the members of a nested aggregate take from the query around it.
#[derive(Default)]
struct Outer {
    /// Without a range, the periods of the outer query's data: each member
    /// has each of them.
    range: Option<Period>,
    /// The periods whose rows make a member (see
    /// [`crate::plan::periods_that_count`]): those the outer query's values
    /// read, so a rep with a quota only in the month `--compare` or `prev`
    /// reads is a member there.
    counted: Option<Vec<crate::time::Date>>,
}

/// The spine of a plan's frames (and of `groups`, besides), with every
/// part, nested aggregate and KPI on it; a nested aggregate's members with
/// what they take from the query around them (`outer`).
fn lay(
    plan: &Plan,
    gathered: Gathered,
    groups: Option<&DataFrame>,
    outer: &Outer,
) -> Result<Frame, Vec<Diagnostic>> {
    let model = &*plan.model;
    let query = &match outer.range {
        Some(range) => std::borrow::Cow::Owned(Query {
            range: Some(range),
            ..plan.query.clone()
        }),
        None => std::borrow::Cow::Borrowed(&plan.query),
    };
    let keys = spine::key_names(plan);
    let mut frames = gathered.frames();
    frames.extend(groups);
    let units = &gathered.units;
    let ends: Vec<&DataFrame> = units.iter().filter_map(|u| u.ends.as_ref()).collect();
    let periods = match (crate::plan::periods_that_count(model, plan), &outer.counted) {
        (Some(own), Some(around)) => Some(own.into_iter().chain(around.iter().copied()).collect()),
        (own, around) => own.or_else(|| around.clone()),
    };
    let counted = match periods {
        Some(periods) => Some(counted_groups(plan, &gathered, groups, &periods).map_err(polars_error)?),
        None => None,
    };
    let spine = spine::Spine::lay(&frames, &ends, counted.as_deref(), query, &model.calendar)?;
    within_bounds(plan, &spine)?;
    // Stocks: running sums of starts minus ends along their own spine.
    let mut unit_frames: Vec<LazyFrame> = Vec::new();
    for (u, frames) in plan.units.iter().zip(gathered.units) {
        unit_frames.push(match (&u.time, query.grain) {
            (UnitTime::Stock { .. }, g) if g != Grain::All => {
                stocks::stock_levels(u, frames, &spine, &keys, &model.calendar).map_err(polars_error)?
            }
            _ => frames.parts.lazy(),
        });
    }
    // Nested aggregates and units onto the spine; then derived KPIs in dependency order.
    let out = spine::onto_spine(&spine, gathered.nests, unit_frames, plan, &keys).map_err(polars_error)?;
    let out = spine::derived_kpis(out, plan, &keys, &spine).map_err(polars_error)?;
    Ok(Frame {
        lf: out,
        period: spine.with_period,
        periods: spine.periods,
        kpis: plan.outputs.clone(),
        left_out: gathered.left_out,
        warnings: gathered.warnings,
    })
}

/// The frames whose groups are the output's when history before the range
/// is read: each flow's and nested aggregate's rows in the periods that
/// count (`periods`: those the output's values are computed from), every
/// stock's (a level in the range counts rows from any earlier day), and
/// the groups of the range compared with.
fn counted_groups(
    plan: &Plan,
    gathered: &Gathered,
    groups: Option<&DataFrame>,
    periods: &[crate::time::Date],
) -> PolarsResult<Vec<DataFrame>> {
    let days: Vec<i32> = periods.iter().map(|d| d.0).collect();
    let days = Series::new(PERIOD.into(), days);
    let in_periods = |df: &DataFrame| {
        df.clone()
            .lazy()
            .filter(
                col(PERIOD)
                    .cast(DataType::Int32)
                    .is_in(lit(days.clone()).implode(false), false),
            )
            .collect()
    };
    let mut out = Vec::new();
    for (u, frames) in plan.units.iter().zip(&gathered.units) {
        match u.time {
            UnitTime::Stock { .. } => {
                out.push(frames.parts.clone());
                out.extend(frames.ends.clone());
            }
            _ => out.push(in_periods(&frames.parts)?),
        }
    }
    for (_, f) in &gathered.nests {
        out.push(in_periods(f)?);
    }
    out.extend(groups.cloned());
    Ok(out)
}

/// What reading the files found, once per dataset read: rows skipped
/// (`on_error: skip`) and a glob's files that are copies of each other.
fn read_findings(plan: &Plan) -> Vec<Diagnostic> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for u in &plan.units {
        if !seen.contains(&u.dataset) {
            seen.push(u.dataset);
            let src = SourceInfo::from_model(&plan.model.datasets[u.dataset]);
            out.extend(data::skipped_rows(&src));
            out.extend(data::files::identical_files(&src));
        }
    }
    out
}

pub(crate) use crate::plan::NON_FINITE;

/// Takes the non-finite counts out of the unit frames (reported once per
/// source column). An aggregate that overflowed (a sum beyond ±1.8e308)
/// becomes NaN, not null: a null sum would be filled as an empty 0, while
/// NaN survives the fills and every KPI above it, and the output says so.
fn data_warnings(units: Vec<UnitFrames>) -> PolarsResult<(Vec<UnitFrames>, Vec<Diagnostic>)> {
    let mut counts: std::collections::BTreeMap<(String, String), u64> = Default::default();
    let mut out = Vec::with_capacity(units.len());
    for u in units {
        let parts = finite_parts(u.parts, &mut counts)?;
        let ends = u.ends.map(|e| finite_parts(e, &mut counts)).transpose()?;
        out.push(UnitFrames { parts, ends });
    }
    let warnings = counts
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|((ds, c), n)| data::diagnostics::non_finite_read(&ds, &c, n))
        .collect();
    Ok((out, warnings))
}

/// One frame of parts with its non-finite counts taken out (the largest
/// count of each source column kept in `counts`) and infinities as NaN.
fn finite_parts(
    df: DataFrame,
    counts: &mut std::collections::BTreeMap<(String, String), u64>,
) -> PolarsResult<DataFrame> {
    let mut drop = Vec::new();
    let mut fixes = Vec::new();
    for c in df.columns() {
        let name = c.name().to_string();
        if let Some(key) = name.strip_prefix(NON_FINITE) {
            let n = c.cast(&DataType::UInt64)?.u64()?.sum().unwrap_or(0);
            if let Some((ds, column)) = key.split_once(':') {
                let e = counts.entry((ds.to_string(), column.to_string())).or_default();
                *e = (*e).max(n);
            }
            drop.push(name);
        } else if let Ok(x) = c.f64() {
            if count_values(x, f64::is_infinite) > 0 {
                let e = col(name.as_str());
                fixes.push(
                    when(e.clone().is_infinite())
                        .then(lit(f64::NAN))
                        .otherwise(e)
                        .alias(name.as_str()),
                );
            }
        }
    }
    if drop.is_empty() && fixes.is_empty() {
        return Ok(df);
    }
    df.lazy().drop(cols(drop)).with_columns(fixes).collect()
}
