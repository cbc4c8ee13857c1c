//! The engines of a plan whose datasets live in different places. Units of
//! datasets on a connection become one SQL statement each, printed for the
//! connection's dialect and run through ADBC; units of files run on
//! Polars. Their frames of parts then flow through the same shared code.

use polars::prelude::*;

use super::engine::{Engine, UnitFrames};
use super::polars_engine::Polars;
use super::{dim_col, ONE, PERIOD, ROWS};
use crate::check::ir::{ConnectionModel, Model};
use crate::diagnostic::Diagnostic;
use crate::plan::{Plan, UnitTime};
use crate::time::Date;

/// Polars for files, SQL through ADBC for datasets on a connection.
pub struct Auto;

impl Engine for Auto {
    fn run_units(&self, plan: &Plan) -> Result<Vec<UnitFrames>, Vec<Diagnostic>> {
        let (on_connections, on_files) = plan.on_connections();
        if on_connections.is_empty() {
            return Polars.run_units(plan);
        }
        let mut out: Vec<Option<UnitFrames>> = (0..plan.units.len()).map(|_| None).collect();
        if !on_files.is_empty() {
            for (i, frames) in on_files
                .iter()
                .zip(Polars.run_units(&plan.with_units(&on_files))?)
            {
                out[*i] = Some(frames);
            }
        }
        for &i in &on_connections {
            out[i] = Some(Sql.run_unit(plan, i)?);
        }
        Ok(out.into_iter().flatten().collect())
    }
}

/// Units of datasets on a connection, as SQL through ADBC.
pub struct Sql;

impl Engine for Sql {
    fn run_units(&self, plan: &Plan) -> Result<Vec<UnitFrames>, Vec<Diagnostic>> {
        (0..plan.units.len()).map(|i| self.run_unit(plan, i)).collect()
    }
}

impl Sql {
    fn run_unit(&self, plan: &Plan, i: usize) -> Result<UnitFrames, Vec<Diagnostic>> {
        let model = &*plan.model;
        let unit = &plan.units[i];
        let Some(c) = connection_of(model, unit.dataset) else {
            return Err(vec![super::diagnostics::evaluation_error(
                "a unit on files reached the SQL engine",
            )]);
        };
        validate_lookups(plan, i)?;
        let moment = match crate::sql::needs_bounds(plan, i) {
            true => Some(stock_moment(plan, i, c)?),
            false => crate::sql::range_moment(plan, i),
        };
        let statements = crate::sql::unit_sql(plan, i, c.dialect, moment);
        if let Some(span) = statements.too_long {
            return Err(vec![crate::check::diagnostics::sql_too_long(
                span,
                crate::keyword::Keyword::as_str(c.dialect),
            )]);
        }
        let run = |sql: &str| {
            let df = unit_query(plan, i, c, sql)?;
            normalized(df, unit.dims.len()).map_err(super::polars_error)
        };
        Ok(UnitFrames {
            parts: run(&statements.parts)?,
            ends: statements.ends.as_deref().map(run).transpose()?,
        })
    }
}

/// Runs one of unit `i`'s statements; a failure is its dataset's.
fn unit_query(plan: &Plan, i: usize, c: &ConnectionModel, sql: &str) -> Result<DataFrame, Vec<Diagnostic>> {
    let ds = &plan.model.datasets[plan.units[i].dataset];
    let table = match ds.remote.as_ref().map(|r| &r.relation) {
        Some(crate::check::ir::Relation::Table(t)) => Some(t.as_str()),
        _ => None,
    };
    crate::data::adbc::query(c, sql)
        .map_err(|d| vec![crate::data::read_failed(d, (&ds.name, ds.source_span), c, table)])
}

fn connection_of(model: &Model, ds: usize) -> Option<&ConnectionModel> {
    let r = model.datasets[ds].remote.as_ref()?;
    model.connections.get(r.connection)
}

/// The day a stock is taken at under `--grain all` with no range: the last
/// date in its data (never later than today), or the day before the first
/// for `at: start`.
fn stock_moment(plan: &Plan, i: usize, c: &ConnectionModel) -> Result<Date, Vec<Diagnostic>> {
    let today = super::today();
    let (first, last) = remote_bounds(plan, i, c)?.unwrap_or((today, today));
    Ok(match plan.units[i].time {
        UnitTime::Stock { at_start: true, .. } => first.add_days(-1),
        _ => last.min(today),
    })
}

/// The first and last dates of a unit on a connection, asked of the database.
pub(crate) fn remote_bounds(
    plan: &Plan,
    i: usize,
    c: &ConnectionModel,
) -> Result<Option<(Date, Date)>, Vec<Diagnostic>> {
    let df = unit_query(plan, i, c, &crate::sql::bounds_sql(plan, i, c.dialect))?;
    let day = |name: &str| -> Option<Date> {
        let dtype = df.column(name).ok()?.dtype().clone();
        let days = df
            .clone()
            .lazy()
            .select([as_date(col(name), &dtype).cast(DataType::Int32)])
            .collect()
            .ok()?;
        let first = days.columns().first()?.i32().ok()?.iter().next().flatten();
        first.map(Date)
    };
    Ok(day("lo").zip(day("hi")))
}

/// The connection of a unit's dataset, if it is on one.
pub(crate) fn unit_connection<'a>(plan: &'a Plan, i: usize) -> Option<&'a ConnectionModel> {
    connection_of(&plan.model, plan.units[i].dataset)
}

/// A lookup must be many-to-one before it is joined (the same check and
/// diagnostic as for files, asked of the database).
fn validate_lookups(plan: &Plan, i: usize) -> Result<(), Vec<Diagnostic>> {
    let model = &*plan.model;
    let ds = &model.datasets[plan.units[i].dataset];
    for &li in &plan.units[i].lookups {
        crate::data::many_to_one(model, ds, &ds.lookups[li]).map_err(|d| vec![d])?;
    }
    Ok(())
}

/// A date column of a database's result as a date: SQLite's are texts
/// (`2025-01-31`), the others' dates already.
fn as_date(e: Expr, dtype: &DataType) -> Expr {
    match dtype {
        DataType::String => e.str().to_date(StrptimeOptions {
            format: Some("%Y-%m-%d".into()),
            strict: false,
            ..Default::default()
        }),
        _ => e.cast(DataType::Date),
    }
}

/// The columns of a unit frame as the engine seam promises them: group
/// keys as text, the period as a date, parts as numbers (or as read, for
/// the minimum and maximum of text and dates), rows as an unsigned count.
fn normalized(df: DataFrame, dims: usize) -> PolarsResult<DataFrame> {
    let mut fixes: Vec<Expr> = (0..dims)
        .map(|i| col(dim_col(i).as_str()).cast(DataType::String))
        .collect();
    if let Ok(period) = df.column(PERIOD) {
        fixes.push(as_date(col(PERIOD), period.dtype()));
    }
    fixes.push(col(ROWS).cast(DataType::UInt64));
    fixes.push(col(ONE).cast(DataType::Int32));
    for c in df.columns() {
        let numeric = c.dtype().is_primitive_numeric() || c.dtype().is_decimal();
        if numeric && !c.name().starts_with("__") {
            fixes.push(col(c.name().as_str()).cast(DataType::Float64));
        }
        // Times in microseconds, as files are read: the maximum of DuckDB's
        // `TIMESTAMP_NS` came back in nanoseconds and was read as
        // microseconds (a date in the year 57068).
        if let DataType::Datetime(unit, zone) = c.dtype() {
            if *unit != TimeUnit::Microseconds {
                let micros = DataType::Datetime(TimeUnit::Microseconds, zone.clone());
                fixes.push(col(c.name().as_str()).cast(micros));
            }
        }
    }
    df.lazy().with_columns(fixes).collect()
}
