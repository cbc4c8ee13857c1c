//! The first and last dates of the data beneath a plan or a KPI: the
//! range of a stock under `--grain all`, the default as-of date of targets
//! and reports. Units on files read each time column of each dataset once,
//! however many units share it; units on a connection ask their database.

use polars::prelude::*;

use super::parts::index_in;
use super::polars_engine::explain_failure;
use crate::check::ir::Model;
use crate::data::{self, SourceInfo};
use crate::diagnostic::Diagnostic;
use crate::plan::{self, Plan, Query, UnitTime};
use crate::time::Date;

/// The earliest and latest dates in the data beneath the plan (the range of
/// stock KPIs under `--grain all`), never later than today.
pub(crate) fn data_bounds(plan: &Plan) -> Result<(Date, Date), Vec<Diagnostic>> {
    Ok(first_and_last(&units_bounds(plan)?))
}

/// The first and last days of units' bounds, the last never later than
/// today (and today when no unit has a date); the first is the last when
/// none has.
fn first_and_last(bounds: &[Option<(i32, i32)>]) -> (Date, Date) {
    or_today(span(bounds))
}

/// A span of days, or today's alone without one.
fn or_today(span: Option<(Date, Date)>) -> (Date, Date) {
    span.unwrap_or((today(), today()))
}

/// The first and last of `bounds` (the last never later than today; none
/// without any).
fn span(bounds: &[Option<(i32, i32)>]) -> Option<(Date, Date)> {
    let earliest = bounds.iter().flatten().map(|b| b.0).min()?;
    let latest = bounds.iter().flatten().map(|b| b.1).max()?;
    Some((Date(earliest), Date(latest).min(today())))
}

/// The first and last days of each unit's time columns (`None`: no time, or
/// no rows). Units on files are read in one pass: each time column of each
/// dataset once, however many units share it.
fn units_bounds(plan: &Plan) -> Result<Vec<Option<(i32, i32)>>, Vec<Diagnostic>> {
    /// Where a unit's bounds come from.
    enum From {
        /// Its database, already asked.
        Database(Option<(i32, i32)>),
        /// These (dataset, time column) pairs, read below.
        Columns(Vec<usize>),
    }
    let mut columns: Vec<(usize, &String)> = Vec::new();
    let mut units = Vec::with_capacity(plan.units.len());
    for (i, u) in plan.units.iter().enumerate() {
        if let Some(c) = super::sql_engine::unit_connection(plan, i) {
            let remote = super::sql_engine::remote_bounds(plan, i, c)?;
            units.push(From::Database(remote.map(|(lo, hi)| (lo.0, hi.0))));
            continue;
        }
        let cols: Vec<&String> = match &u.time {
            UnitTime::Flow(t) => vec![t],
            UnitTime::Stock { from, to, .. } => std::iter::once(from).chain(to.iter()).collect(),
            UnitTime::None => Vec::new(),
        };
        let at = cols
            .into_iter()
            .map(|c| index_in(&mut columns, (u.dataset, c)))
            .collect();
        units.push(From::Columns(at));
    }
    let read = column_bounds(plan, &columns)?;
    Ok(units
        .into_iter()
        .map(|u| match u {
            From::Database(b) => b,
            From::Columns(at) => {
                let known: Vec<(i32, i32)> = at
                    .iter()
                    .filter_map(|&k| read.get(k).copied().flatten())
                    .collect();
                let lo = known.iter().map(|b| b.0).min();
                let hi = known.iter().map(|b| b.1).max();
                lo.zip(hi)
            }
        })
        .collect())
}

/// The first and last days of each (dataset, time column), one column
/// after another. Read together (one streaming query of every column), a
/// value that failed in one left the others' readers running, and the
/// reads that then find the value to name now and then panicked on
/// Polars' threads or waited for them forever.
fn column_bounds(
    plan: &Plan,
    columns: &[(usize, &String)],
) -> Result<Vec<Option<(i32, i32)>>, Vec<Diagnostic>> {
    let mut frames = Vec::with_capacity(columns.len());
    for (d, c) in columns {
        let src = SourceInfo::from_model(&plan.model.datasets[*d]);
        let lf = data::scan_on(&src, polars::prelude::Engine::Streaming).map_err(|d| vec![d])?;
        let day = super::days::days_since_1970(col(c.as_str()));
        let query = lf.select([day.clone().min().alias("min"), day.max().alias("max")]);
        let frame = super::collect_all_streaming(vec![query]).map_err(|e| explain_failure(plan, e))?;
        frames.extend(frame);
    }
    let edge = |df: &DataFrame, name: &str| -> Option<i32> {
        let c = df.column(name).ok()?.cast(&DataType::Int32).ok()?;
        let first = c.i32().ok()?.iter().next().flatten();
        first
    };
    Ok(frames
        .iter()
        .map(|df| edge(df, "min").zip(edge(df, "max")))
        .collect())
}

/// The latest date in the data beneath each of `kpis` (never later than
/// today), every unit read once: what `latest_date` gives for each.
pub fn latest_dates(
    model: &Model,
    kpis: &[String],
) -> Result<std::collections::HashMap<String, Date>, Vec<Diagnostic>> {
    Ok(latest_of(&data_spans(model, kpis)?))
}

/// The latest date of each KPI of `spans` (today for one without dated rows).
pub fn latest_of(spans: &DataSpans) -> std::collections::HashMap<String, Date> {
    spans
        .iter()
        .map(|(k, span)| (k.clone(), or_today(*span).1))
        .collect()
}

/// The first and last dates in the data beneath each of `kpis` (the last
/// never later than today), every unit read once: what `data_range` gives
/// for each.
pub fn data_ranges(
    model: &Model,
    kpis: &[String],
) -> Result<std::collections::HashMap<String, (Date, Date)>, Vec<Diagnostic>> {
    let spans = data_spans(model, kpis)?;
    Ok(spans.into_iter().map(|(k, span)| (k, or_today(span))).collect())
}

/// Each KPI's first and last dates, `None` without dated rows.
pub type DataSpans = std::collections::HashMap<String, Option<(Date, Date)>>;

/// [`data_ranges`], with `None` for a KPI with no dated rows beneath it
/// (where `data_ranges` gives today).
pub fn data_spans(model: &Model, kpis: &[String]) -> Result<DataSpans, Vec<Diagnostic>> {
    let query = Query {
        kpis: kpis.to_vec(),
        ..Query::default()
    };
    let plan = plan::plan(model, &query)?;
    let bounds = units_bounds(&plan)?;
    let mut out = std::collections::HashMap::new();
    for name in kpis {
        let Some(id) = model.kpi_id(name) else { continue };
        let bases = model.bases_beneath(&[id]);
        let beneath: Vec<Option<(i32, i32)>> = plan
            .units
            .iter()
            .zip(&bounds)
            .filter(|(u, _)| u.outputs.iter().any(|o| bases.contains(&o.kpi)))
            .map(|(_, b)| *b)
            .collect();
        out.insert(name.clone(), span(&beneath));
    }
    Ok(out)
}

pub fn today() -> Date {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Date((secs / 86_400) as i32)
}

/// The latest date in the data beneath a KPI, never later than today (the
/// default as-of date of its targets).
pub fn latest_date(model: &Model, kpi: &str) -> Result<Date, Vec<Diagnostic>> {
    data_range(model, kpi).map(|(_, last)| last)
}

/// The first and last dates in the data beneath a KPI (the last never later than today).
pub fn data_range(model: &Model, kpi: &str) -> Result<(Date, Date), Vec<Diagnostic>> {
    let query = Query {
        kpis: vec![kpi.to_string()],
        ..Query::default()
    };
    let plan = plan::plan(model, &query)?;
    data_bounds(&plan)
}
