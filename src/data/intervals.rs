//! `kpi check --data`: rows of a stock KPI's dataset that end before they
//! start (`ended_at` before `started_at`: dates swapped, or a year mistyped).
//! Such a row is never active, so it adds nothing to any level, silently.
//! Files are read; a database is asked (one `COUNT(*)`).

use polars::prelude::*;

use super::{diagnostics, SourceInfo};
use crate::check::ir::{KpiKind, Model, TimeBasis};
use crate::diagnostic::Diagnostic;

/// A warning for each stock interval (`active: {from, to}`) of a dataset
/// with rows whose end comes before their start, at the first KPI that
/// reads it so.
pub fn reversed_intervals(model: &Model) -> Vec<Diagnostic> {
    let mut seen: Vec<(usize, &str, &str)> = Vec::new();
    let mut out = Vec::new();
    for k in &model.kpis {
        let KpiKind::Base {
            dataset,
            time: TimeBasis::Active {
                from, to: Some(to), ..
            },
            ..
        } = &k.kind
        else {
            continue;
        };
        let d = &model.datasets[*dataset];
        if seen.contains(&(*dataset, from, to)) {
            continue;
        }
        seen.push((*dataset, from, to));
        let found = match d
            .remote
            .as_ref()
            .and_then(|r| model.connections.get(r.connection))
        {
            Some(c) => asked(
                c,
                &crate::sql::reversed_intervals_sql(model, *dataset, from, to, c.dialect),
            ),
            None => ending_before_start(&SourceInfo::from_model(d), from, to),
        };
        if let Some(rows) = found.filter(|n| *n > 0) {
            out.push(diagnostics::interval_reversed(
                k.span, &d.name, &k.name, from, to, rows,
            ));
        }
    }
    out
}

/// The count a database gives for `sql` (its column `n`); `None` when it
/// cannot be asked (said elsewhere).
fn asked(c: &crate::check::ir::ConnectionModel, sql: &str) -> Option<u64> {
    let found = super::adbc::query(c, sql).ok()?;
    let n = found.column("n").ok()?.cast(&DataType::Float64).ok()?;
    n.f64().ok()?.get(0).map(|n| n as u64)
}

/// How many rows of `src` have `to` before `from` (dates as their
/// midnight beside datetimes); `None` when they cannot be read (said
/// elsewhere).
fn ending_before_start(src: &SourceInfo, from: &str, to: &str) -> Option<u64> {
    let instant = |c: &str| col(c).cast(DataType::Datetime(TimeUnit::Microseconds, None));
    let reversed = instant(to)
        .lt(instant(from))
        .cast(DataType::UInt64)
        .sum()
        .alias("n");
    let df = super::scan(src).ok()?.select([reversed]).collect().ok()?;
    df.column("n").ok()?.get(0).ok()?.extract::<u64>()
}
