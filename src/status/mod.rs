//! Target status (LANGUAGE.md §6): for each target instance (per period of a
//! recurring target, per member of a `by` target), the actual value to the
//! as-of date, the target value (absolute, or a change from a baseline), and
//! the status of [`assess::assess`]. The A check of `kpi check --data`,
//! which reads the same values, is `achievable`'s.

mod achievable;
pub mod assess;

use std::collections::HashMap;
use std::rc::Rc;

use serde::Serialize;

use crate::check::ir::{
    Additivity, DatasetId, Goal, KpiId, KpiKind, Model, TargetModel, TargetTime, TimeBasis,
};
use crate::diagnostic::Diagnostic;
use crate::execute::{self, Evaluation};
use crate::period::{self, Period};
use crate::period::{Calendar, Grain};
use crate::plan::Query;
use crate::spec::model::{ChangeKind, Pacing};
use crate::time::Date;
pub use achievable::{achievability, Achievability};
use assess::{Assessment, Phase, Status};

/// One row of `kpi status`.
#[derive(Clone, Debug, Serialize)]
pub struct StatusRow {
    pub target: String,
    pub kpi: String,
    pub segment: Option<String>,
    /// The member of a `by` target ("each rep").
    pub member: Option<String>,
    pub period: String,
    #[serde(serialize_with = "raw_number")]
    pub actual: Option<f64>,
    #[serde(serialize_with = "raw_number")]
    pub target_value: Option<f64>,
    #[serde(serialize_with = "raw_number")]
    pub baseline: Option<f64>,
    #[serde(serialize_with = "raw_number")]
    pub progress: Option<f64>,
    #[serde(serialize_with = "raw_number")]
    pub expected: Option<f64>,
    #[serde(serialize_with = "raw_number")]
    pub projected: Option<f64>,
    #[serde(serialize_with = "raw_number")]
    pub gap: Option<f64>,
    pub status: Status,
    pub trend: assess::Trend,
    /// Whether the trend is an improvement for the KPI's direction (a
    /// falling sales cycle is); `None` when flat.
    pub improving: Option<bool>,
    /// Why the row was computed differently than asked (seasonal pacing without history).
    pub note: Option<String>,
}

/// A number of a row as `kpi eval`'s JSON writes numbers: to 15
/// significant digits (`0.1 + 0.2` is `0.3`), never `-0`.
pub fn raw_number<S: serde::Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match x {
        Some(x) => s.serialize_some(&crate::report::table::raw_number(*x)),
        None => s.serialize_none(),
    }
}

/// A KPI's value per member (`None`: the one row of a target without `by`,
/// or the group of rows without a member). Shared, not copied, by every
/// instance that reads it: a `by` target over reps has thousands.
type Values = Rc<HashMap<Option<String>, Option<f64>>>;

/// What a value is asked by: (KPI, by, segment, period, the grain its
/// time functions look back in: [`looking_back`]).
type Key = (KpiId, Option<String>, Option<String>, Period, Option<Grain>);

/// A target's KPI, breakdown, segment and the grain its time functions
/// look back in.
type Group = (KpiId, Option<String>, Option<String>, Option<Grain>);

/// KPIs evaluated together (one scan of each dataset for all their
/// periods, where they can share one), with the same breakdown and segment
/// and, under a breakdown, the same [`member_sources`].
struct Pool {
    by: Option<String>,
    segment: Option<String>,
    /// The grain the KPIs' time functions look back in ([`looking_back`]).
    range_grain: Option<Grain>,
    /// Under a breakdown, what the members are drawn from ([`member_sources`]).
    sources: Vec<(DatasetId, TimeBasis)>,
    /// Whether a range more costs its KPIs little ([`execute::ranges_are_cheap`]).
    cheap_ranges: bool,
    periods: Vec<Period>,
    kpis: Vec<KpiId>,
}

impl Pool {
    /// Whether a KPI asked `periods` under `by` and `segment` joins this
    /// pool. Where a range costs each part only a loop over the rows in
    /// that range, while a pool costs a scan of every row, KPIs are pooled
    /// whatever their periods (each is then also evaluated over the other
    /// KPIs' periods), up to [`MAX_POOLED_RANGES`]. Otherwise a range more
    /// would cost every part a pass over every row, or a scan, so only KPIs
    /// asked the same periods are.
    fn takes(
        &self,
        (by, segment, range_grain): (&Option<String>, &Option<String>, Option<Grain>),
        sources: &[(DatasetId, TimeBasis)],
        cheap_ranges: bool,
        periods: &[Period],
    ) -> bool {
        self.by == *by
            && self.segment == *segment
            && self.range_grain == range_grain
            && self.sources.len() == sources.len()
            && sources.iter().all(|s| self.sources.contains(s))
            && self.cheap_ranges == cheap_ranges
            && match cheap_ranges {
                true => {
                    let new = periods.iter().filter(|p| !self.periods.contains(p)).count();
                    self.periods.len() + new <= MAX_POOLED_RANGES
                }
                false => self.periods == periods,
            }
    }
}

/// The most ranges one pool is evaluated over. Each part of each range has
/// a filter column (a bit per row of a chunk) while the chunk is added, so
/// a pool of many KPIs over many ranges would hold thousands of them; a
/// status file rarely asks more than a dozen ranges under one breakdown.
const MAX_POOLED_RANGES: usize = 32;

/// A KPI's value in each period, in time order.
type Series = Vec<Option<f64>>;

/// Evaluations already made in this run.
#[derive(Default)]
struct Cache {
    values: HashMap<Key, Values>,
    /// While set, `values` only writes down what it is asked (and answers
    /// nothing), so that everything can then be evaluated in few scans.
    asked: Option<Vec<Key>>,
    /// The first and last dates in the data beneath each KPI, where already read.
    ranges: HashMap<KpiId, (Date, Date)>,
    /// A KPI's value per period over the whole data, by grain and segment
    /// (`None`: it could not be evaluated).
    history: HashMap<(KpiId, Grain, Option<String>), Option<Series>>,
    /// Which KPIs look back ([`Model::looking_back`]), once worked out.
    looking_back: Option<Vec<bool>>,
}

impl Cache {
    /// Evaluates what was written down while asking: the ranges asked of
    /// each KPI with one `by` and segment, with the other KPIs of its
    /// [`Pool`].
    fn answer_asked(&mut self, model: &Model) -> Result<(), Vec<Diagnostic>> {
        let asked = self.asked.take().unwrap_or_default();
        // Per (KPI, by, segment, grain looked back in): the periods asked.
        let mut groups: Vec<(Group, Vec<Period>)> = Vec::new();
        for (kpi, by, segment, p, range_grain) in asked {
            if self
                .values
                .contains_key(&(kpi, by.clone(), segment.clone(), p, range_grain))
            {
                continue;
            }
            let key = (kpi, by, segment, range_grain);
            match groups.iter_mut().find(|g| g.0 == key) {
                Some(g) if g.1.contains(&p) => {}
                Some(g) => g.1.push(p),
                None => groups.push((key, vec![p])),
            }
        }
        let mut pools: Vec<Pool> = Vec::new();
        for ((kpi, by, segment, range_grain), mut periods) in groups {
            periods.sort();
            let cheap_ranges = execute::ranges_are_cheap(model, &query_of(model, &[kpi], &by, &segment));
            let sources = match by {
                Some(_) => member_sources(model, kpi),
                None => Vec::new(),
            };
            match pools
                .iter_mut()
                .find(|x| x.takes((&by, &segment, range_grain), &sources, cheap_ranges, &periods))
            {
                Some(pool) => {
                    pool.kpis.push(kpi);
                    pool.periods.extend(periods);
                    pool.periods.sort();
                    pool.periods.dedup();
                }
                None => pools.push(Pool {
                    by,
                    segment,
                    range_grain,
                    sources,
                    cheap_ranges,
                    periods,
                    kpis: vec![kpi],
                }),
            }
        }
        let evaluate = |pool: &Pool| {
            let query = Query {
                range_grain: pool.range_grain,
                ..query_of(model, &pool.kpis, &pool.by, &pool.segment)
            };
            execute::evaluate_ranges(model, &query, &pool.periods)
        };
        // Pools over files are evaluated side by side, one per core: alone,
        // a pool keeps both cores busy only part of the time (a file's last
        // columns, finding each row's group and the last steps run on one).
        // Over connections one after the other, as `kpi report`'s pieces.
        let evaluated = match model.has_connections() {
            true => pools.iter().map(evaluate).collect::<Result<Vec<_>, _>>()?,
            false => crate::cores::each_on_cores(pools.iter().collect(), evaluate, |panic| {
                vec![execute::evaluation_error(&format!(
                    "a target's evaluation failed unexpectedly ({panic})"
                ))]
            })?,
        };
        for (pool, evs) in pools.iter().zip(evaluated) {
            for (p, ev) in pool.periods.iter().zip(&evs) {
                for &k in &pool.kpis {
                    let v = values_of(ev, &model.kpis[k].name, pool.by.as_deref());
                    let key = (k, pool.by.clone(), pool.segment.clone(), *p, pool.range_grain);
                    self.values.insert(key, v);
                }
            }
        }
        Ok(())
    }
}

/// What the members of a `by` target on `kpi` are drawn from: the rows of
/// each dataset under each time basis beneath it (a unit of the plan each),
/// whatever the KPIs' filters. An evaluation's groups are those of all its
/// KPIs' units, so only KPIs of the same sources share one under a
/// breakdown: pooled with a KPI on another time column, a target would list
/// the reps with rows there, at 0.
fn member_sources(model: &Model, kpi: KpiId) -> Vec<(DatasetId, TimeBasis)> {
    let mut sources = Vec::new();
    for b in model.bases_beneath(&[kpi]) {
        if let KpiKind::Base { dataset, time, .. } = &model.kpis[b].kind {
            let source = (*dataset, time.clone());
            if !sources.contains(&source) {
                sources.push(source);
            }
        }
    }
    sources
}

/// The query of `kpis` under a target's breakdown and segment.
fn query_of(model: &Model, kpis: &[KpiId], by: &Option<String>, segment: &Option<String>) -> Query {
    Query {
        kpis: kpis.iter().map(|k| model.kpis[*k].name.clone()).collect(),
        by: by.iter().cloned().collect(),
        segments: segment.iter().cloned().collect(),
        ..Query::default()
    }
}

/// Evaluates a target's KPI over a period, per member when it has `by`:
/// a period of `grain` (the target's) or the start of one.
fn values(
    model: &Model,
    t: &TargetModel,
    p: Period,
    grain: Option<Grain>,
    cache: &mut Cache,
) -> Result<Values, Vec<Diagnostic>> {
    let key = (
        t.kpi,
        t.by.clone(),
        t.segment.clone(),
        p,
        looking_back(model, t, grain, cache),
    );
    if let Some(asked) = &mut cache.asked {
        if !asked.contains(&key) {
            asked.push(key);
        }
        return Ok(Values::default());
    }
    if let Some(v) = cache.values.get(&key) {
        return Ok(v.clone());
    }
    let v = evaluate_values(model, t, p, key.4)?;
    cache.values.insert(key, v.clone());
    Ok(v)
}

/// The grain a target's time functions look back in: its period's, so
/// that a quarter's year-over-year growth up to the as-of date is against
/// last year's quarter and a year to date starts with the year. `None`
/// for a KPI without time functions, whose value over a range is the
/// same at any grain (its ranges then share scans with other grains').
fn looking_back(model: &Model, t: &TargetModel, grain: Option<Grain>, cache: &mut Cache) -> Option<Grain> {
    let looking_back = cache.looking_back.get_or_insert_with(|| model.looking_back());
    grain.filter(|_| looking_back.get(t.kpi) == Some(&true))
}

fn evaluate_values(
    model: &Model,
    t: &TargetModel,
    p: Period,
    range_grain: Option<Grain>,
) -> Result<Values, Vec<Diagnostic>> {
    let query = Query {
        grain: Grain::All,
        range: Some(p),
        range_grain,
        ..query_of(model, &[t.kpi], &t.by, &t.segment)
    };
    let ev: Evaluation = execute::evaluate(model, &query)?;
    Ok(values_of(&ev, &model.kpis[t.kpi].name, t.by.as_deref()))
}

/// A KPI's value per member (the `by` column's value) in an evaluation.
fn values_of(ev: &Evaluation, kpi: &str, by: Option<&str>) -> Values {
    let cell = |column: &str, i: usize| ev.frame.column(column).ok().and_then(|c| c.get(i).ok());
    (0..ev.frame.height())
        .map(|i| {
            let member = by.and_then(|b| cell(b, i).and_then(|v| v.get_str().map(str::to_string)));
            let value = cell(kpi, i)
                .and_then(|v| v.extract::<f64>())
                .filter(|x| x.is_finite());
            (member, value)
        })
        .collect::<HashMap<_, _>>()
        .into()
}

fn lookup(values: &Values, member: &Option<String>) -> Option<f64> {
    values.get(member).copied().flatten()
}

/// The periods of a target shown at `as_of`: its own (if it overlaps a
/// `range` asked), or for a recurring target the one holding `as_of` and
/// the one before it, or, asked for a `range`, each of its periods that
/// overlaps the range (the summer's months of a monthly target).
fn instances(
    t: &TargetModel,
    as_of: Date,
    range: Option<Period>,
    cal: &Calendar,
) -> Vec<(Period, Option<Grain>)> {
    match (t.time, range) {
        (TargetTime::Every(every), Some(r)) => period::periods_between(r.start, r.end, every, cal)
            .map(|p| (p, Some(every)))
            .collect(),
        (TargetTime::Every(every), None) => {
            let current = period::period_of(as_of, every, cal);
            let before = period::period_of(current.start.add_days(-1), every, cal);
            vec![(before, Some(every)), (current, Some(every))]
        }
        // A range keeps the targets whose period overlaps it.
        (TargetTime::Fixed { period, .. }, Some(r)) if period.end < r.start || r.end < period.start => {
            Vec::new()
        }
        (TargetTime::Fixed { period, grain }, _) => vec![(period, grain)],
    }
}

fn label(p: Period, grain: Option<Grain>, cal: &Calendar) -> String {
    match grain {
        Some(g) if g != Grain::All => period::label(p, g, cal),
        _ => format!("{}..{}", p.start, p.end),
    }
}

/// The status of every target (or of those named) at `as_of` (default: the
/// latest date in the data beneath each target's KPI, never later than today).
pub fn status(
    model: &Model,
    names: &[String],
    as_of: Option<Date>,
) -> Result<Vec<StatusRow>, Vec<Diagnostic>> {
    status_with_latest(model, names, as_of, std::collections::HashMap::new())
}

/// The targets a status shows, by name, in the spec's order: those of
/// `names` (every target when none) on one of `segments` (on any segment,
/// or none, when no segment is given). A page or a status of a segment
/// shows no target measured outside it.
pub fn targets_on(model: &Model, names: &[String], segments: &[String]) -> Vec<String> {
    (model.targets.iter())
        .filter(|t| names.is_empty() || names.contains(&t.name))
        .filter(|t| segments.is_empty() || t.segment.as_ref().is_some_and(|s| segments.contains(s)))
        .map(|t| t.name.clone())
        .collect()
}

/// [`status`], with the latest date in the data beneath some KPIs already
/// known (by KPI id): those are not read again.
pub fn status_with_latest(
    model: &Model,
    names: &[String],
    as_of: Option<Date>,
    latest: std::collections::HashMap<KpiId, Date>,
) -> Result<Vec<StatusRow>, Vec<Diagnostic>> {
    status_over(model, names, as_of, None, latest)
}

/// [`status`] of the periods of each target that overlap `range`: a
/// recurring target's every period there, from the first with data beneath
/// its KPI; a target of one period when that period overlaps the range.
pub fn status_over(
    model: &Model,
    names: &[String],
    as_of: Option<Date>,
    range: Option<Period>,
    mut latest: std::collections::HashMap<KpiId, Date>,
) -> Result<Vec<StatusRow>, Vec<Diagnostic>> {
    let targets: Vec<&TargetModel> = model
        .targets
        .iter()
        .filter(|t| names.is_empty() || names.contains(&t.name))
        .collect();
    let firsts = read_dates(model, &targets, as_of, range, &mut latest)?;
    let instances: Vec<Instance> = targets
        .iter()
        .flat_map(|t| {
            let as_of = as_of
                .or_else(|| latest.get(&t.kpi).copied())
                .unwrap_or_else(execute::today);
            let first = firsts
                .get(&t.kpi)
                .copied()
                .filter(|_| matches!(t.time, TargetTime::Every(_)));
            instances(t, as_of, range, &model.calendar)
                .into_iter()
                .filter(move |(p, _)| first.is_none_or(|f| p.end >= f))
                .map(move |(p, grain)| Instance { t, p, grain, as_of })
        })
        .collect();
    // First what every instance needs, then all of it in few scans, then the rows.
    let mut cache = Cache {
        asked: Some(Vec::new()),
        ..Cache::default()
    };
    for i in &instances {
        i.inputs(model, &mut cache)?;
    }
    cache.answer_asked(model)?;
    let mut rows = Vec::new();
    for i in &instances {
        rows.extend(i.rows(model, &mut cache)?);
    }
    Ok(rows)
}

/// The dates in the data beneath the targets' KPIs, read once for all:
/// into `latest`, the latest of each KPI not already known (without an
/// as-of date); given back, with a range, the first beneath each recurring
/// target's KPI: its periods in the range start there, as one before the
/// data has nothing to judge (a monthly target over 2020 is not twelve
/// misses when the data starts in 2023).
fn read_dates(
    model: &Model,
    targets: &[&TargetModel],
    as_of: Option<Date>,
    range: Option<Period>,
    latest: &mut std::collections::HashMap<KpiId, Date>,
) -> Result<std::collections::HashMap<KpiId, Date>, Vec<Diagnostic>> {
    let needs_last = |t: &TargetModel| as_of.is_none() && !latest.contains_key(&t.kpi);
    let needs_first = |t: &TargetModel| range.is_some() && matches!(t.time, TargetTime::Every(_));
    let mut names: Vec<String> = Vec::new();
    for t in targets.iter().filter(|t| needs_last(t) || needs_first(t)) {
        let name = &model.kpis[t.kpi].name;
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    let mut firsts = std::collections::HashMap::new();
    if names.is_empty() {
        return Ok(firsts);
    }
    let recurring: Vec<KpiId> = targets.iter().filter(|t| needs_first(t)).map(|t| t.kpi).collect();
    for (name, (first, last)) in execute::data_ranges(model, &names)? {
        let Some(id) = model.kpi_id(&name) else { continue };
        if as_of.is_none() {
            latest.entry(id).or_insert(last);
        }
        if recurring.contains(&id) {
            firsts.insert(id, first);
        }
    }
    Ok(firsts)
}

/// One period of a target at an as-of date.
struct Instance<'a> {
    t: &'a TargetModel,
    p: Period,
    grain: Option<Grain>,
    as_of: Date,
}

/// What an instance's rows are computed from, per member.
struct Inputs {
    phase: Phase,
    actuals: Values,
    previous: Values,
    baselines: Option<Values>,
    /// Seasonal pacing: last year's values to the same day, and over the whole period.
    shares: Option<(Values, Values)>,
}

impl Instance<'_> {
    fn phase(&self) -> Phase {
        let (p, as_of) = (self.p, self.as_of);
        if as_of < p.start {
            Phase::NotStarted
        } else if as_of >= p.end {
            Phase::Over
        } else {
            Phase::InProgress(f64::from(as_of.0 - p.start.0 + 1) / f64::from(p.days()))
        }
    }

    fn inputs(&self, model: &Model, cache: &mut Cache) -> Result<Inputs, Vec<Diagnostic>> {
        let (t, p, cal) = (self.t, self.p, &model.calendar);
        let additive = model.kpis[t.kpi].additivity == Additivity::Additive;
        let phase = self.phase();
        // Seasonal pacing: the share of last year's same period reached by
        // the same day; linear when there is no such history.
        let shares = if t.pacing == Pacing::Seasonal && additive && matches!(phase, Phase::InProgress(_)) {
            let last = period::year_before(p, self.grain, cal);
            let partial = Period {
                start: last.start,
                end: period::same_day_a_year_before(self.as_of, p, last, self.grain),
            };
            Some((
                values(model, t, partial, self.looking_back_in(cal), cache)?,
                values(model, t, last, self.looking_back_in(cal), cache)?,
            ))
        } else {
            None
        };
        let actuals = self.values_to_date(model, p, cache)?;
        let previous = self.values_to_date(model, period::previous(p, self.grain, cal), cache)?;
        let baselines = match t.goal {
            Goal::Value(_) => None,
            Goal::Change { baseline, .. } => {
                Some(self.values_to_date(model, baseline.of(p, self.grain, cal), cache)?)
            }
        };
        Ok(Inputs {
            phase,
            actuals,
            previous,
            baselines,
            shares,
        })
    }

    /// The grain the target's time functions look back in: its period's,
    /// or for a period of dates that is one whole quarter (`{from:
    /// 2025-07-01, to: 2025-09-30}`), that one's, in progress too.
    fn looking_back_in(&self, cal: &Calendar) -> Option<Grain> {
        self.grain.or_else(|| period::grain_of(self.p, cal))
    }

    /// The target's values over `p` up to the as-of date: a status as of a
    /// day reads no data after it, so the actual counts what had come by
    /// then, as do the previous period and the baseline of a period not yet
    /// started (as when the data ends that day); a period after it is empty.
    fn values_to_date(&self, model: &Model, p: Period, cache: &mut Cache) -> Result<Values, Vec<Diagnostic>> {
        if p.start > self.as_of {
            return Ok(Values::default());
        }
        let p = Period {
            start: p.start,
            end: p.end.min(self.as_of),
        };
        values(model, self.t, p, self.looking_back_in(&model.calendar), cache)
    }

    /// A row per member: every one seen now, before, or in the baseline.
    fn rows(&self, model: &Model, cache: &mut Cache) -> Result<Vec<StatusRow>, Vec<Diagnostic>> {
        let inputs = self.inputs(model, cache)?;
        // In order, the group of rows without a member last, as in `eval`;
        // sorted once rather than kept in order while each map's members go
        // in (a thousand reps in three maps, for each period of each target).
        let mut members: Vec<&Option<String>> = [&inputs.actuals, &inputs.previous]
            .into_iter()
            .chain(&inputs.baselines)
            .flat_map(|values| values.keys())
            .collect();
        members.sort_unstable();
        members.dedup();
        // Members that are all numbers come by value (2 before 10), as
        // `eval`'s groups do.
        let value = |m: &Option<String>| m.as_deref().and_then(|t| t.trim().parse::<f64>().ok());
        if members.iter().all(|m| m.is_none() || value(m).is_some()) {
            members.sort_by(|a, b| {
                value(a)
                    .partial_cmp(&value(b))
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
        }
        if let Some(at) = members.iter().position(|m| m.is_none()) {
            let none = members.remove(at);
            members.push(none);
        }
        if members.is_empty() && self.t.by.is_none() {
            members.push(&None);
        }
        let period = label(self.p, self.grain, &model.calendar);
        Ok(members
            .into_iter()
            .map(|m| self.row(model, &inputs, m.clone(), &period))
            .collect())
    }

    fn row(&self, model: &Model, inputs: &Inputs, member: Option<String>, period: &str) -> StatusRow {
        let (t, km) = (self.t, &model.kpis[self.t.kpi]);
        let additive = km.additivity == Additivity::Additive;
        let started = inputs.phase != Phase::NotStarted;
        let actual = lookup(&inputs.actuals, &member).or(Some(0.0).filter(|_| started && additive));
        // A member absent from the baseline period had no rows there: an
        // additive KPI's value of no rows is 0, as for the actual and trend.
        let baseline = inputs
            .baselines
            .as_ref()
            .and_then(|b| lookup(b, &member).or(Some(0.0).filter(|_| additive)));
        let target_value = match t.goal {
            Goal::Value(v) => Some(v),
            Goal::Change { change, .. } => baseline.map(|b| match change.kind {
                // A share of the baseline's size, so `+10%` rises from a
                // negative baseline too (-1,000 → -900).
                ChangeKind::Relative => b + change.amount * b.abs(),
                ChangeKind::Points | ChangeKind::Absolute => b + change.amount,
            }),
        };
        let row = StatusRow {
            target: t.name.clone(),
            kpi: km.name.clone(),
            segment: t.segment.clone(),
            member: member.clone(),
            period: period.to_string(),
            actual,
            target_value,
            baseline,
            progress: None,
            expected: None,
            projected: None,
            gap: None,
            // Without a target value (a `change` whose baseline has none)
            // nothing can be met: judged like a ratio with no value.
            status: match inputs.phase {
                Phase::NotStarted => Status::Upcoming,
                Phase::InProgress(_) => Status::OffTrack,
                Phase::Over => Status::Missed,
            },
            trend: assess::Trend::Flat,
            improving: None,
            note: None,
        };
        // A member absent from the previous period had no rows there: an
        // additive KPI was 0, as its actual is when it has no rows to date.
        let before = lookup(&inputs.previous, &member).or(Some(0.0).filter(|_| additive));
        let Some(tv) = target_value else {
            // The value moved all the same. Only a ratio or an average lacks
            // a baseline value (an additive KPI's is 0), so its actual is
            // what compares, as when it has a target.
            let trend = assess::trend(actual, before);
            return StatusRow {
                trend,
                improving: assess::improving(km.direction, trend),
                note: Some("no baseline value: no target value".to_string()),
                ..row
            };
        };
        let (phase, note) = self.paced(inputs, &member);
        let a: Assessment = assess::assess(km.direction, additive, tv, actual, phase, t.tolerance);
        let now = if additive { a.projected.or(actual) } else { actual };
        let trend = assess::trend(now, before);
        StatusRow {
            progress: a.progress,
            expected: a.expected,
            projected: a.projected,
            gap: a.gap,
            status: a.status,
            trend,
            improving: assess::improving(km.direction, trend),
            note,
            ..row
        }
    }

    /// The phase with seasonal pacing applied, and why it fell back to linear.
    fn paced(&self, inputs: &Inputs, member: &Option<String>) -> (Phase, Option<String>) {
        match (&inputs.shares, inputs.phase) {
            (Some((partial, full)), Phase::InProgress(_)) => {
                // A share of 0 projects nothing and one of 1 the actual
                // itself: a year earlier that says no more than linear pace.
                let why = match (lookup(partial, member), lookup(full, member)) {
                    (Some(a), Some(b)) if b > 0.0 && a > 0.0 && a < b => {
                        return (Phase::InProgress(a / b), None)
                    }
                    (_, Some(b)) if b > 0.0 => {
                        "a year earlier, none or all of the period's value came by this day"
                    }
                    _ => "no history a year earlier",
                };
                (inputs.phase, Some(format!("{why}: paced linearly")))
            }
            _ => (inputs.phase, None),
        }
    }
}
