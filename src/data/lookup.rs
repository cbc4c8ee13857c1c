//! Lookups: the looked-up side's rows by key, and the proof that each key
//! is there once (a repeated key would multiply the rows that join it).

use polars::prelude::*;

use super::keys::{KeyIndex, Repeated};
use super::{adbc, as_text, diagnostics, read_error, scan, SourceInfo, LOOKUP_KEY};
use crate::check::ir::{DatasetModel, LookupModel, Model};
use crate::diagnostic::Diagnostic;
/// Lookups must be many-to-one: a key that repeats on the looked-up side
/// would multiply rows.
pub fn validate_lookups(model: &Model) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for d in &model.datasets {
        for l in &d.lookups {
            match many_to_one(model, d, l) {
                Ok(()) => {}
                Err(e) => out.push(e),
            }
        }
    }
    out
}

/// A lookup is many-to-one: no key of the looked-up dataset appears twice
/// (asked of the database for a dataset on a connection).
pub fn many_to_one(model: &Model, d: &DatasetModel, l: &LookupModel) -> Result<(), Diagnostic> {
    let target = &model.datasets[l.dataset];
    let Some(r) = target.remote.as_ref() else {
        let rows = lookup_rows(target, &l.right, &[])?;
        return match key_index(target, &rows)? {
            Ok(_) => Ok(()),
            Err(r) => Err(repeated_key(model, d, l, &r)),
        };
    };
    let c = &model.connections[r.connection];
    let sql = crate::sql::duplicate_key_sql(model, l.dataset, &l.right, c.dialect);
    let found = adbc::query(c, &sql)?;
    if found.height() == 0 {
        return Ok(());
    }
    let cell = |name: &str| found.column(name).ok().and_then(|s| s.get(0).ok());
    let key = cell("k").map(|v| v.to_string());
    let n = cell("n").and_then(|v| v.extract::<u64>());
    Err(diagnostics::duplicate_lookup_key(
        l.span,
        &d.name,
        &target.name,
        &l.right,
        key.as_deref().unwrap_or("?"),
        n.unwrap_or(2),
    ))
}

/// The looked-up rows of a file dataset: its key `key` as text (column
/// [`LOOKUP_KEY`]) and `columns` as read.
pub fn lookup_rows(target: &DatasetModel, key: &str, columns: &[String]) -> Result<DataFrame, Diagnostic> {
    let src = SourceInfo::from_model(target);
    lookup_scan(&src, key, columns)?
        .collect()
        .map_err(|e| read_error(&src, &e))
}

/// The schema of [`lookup_rows`], nothing read but what gives the types.
pub fn lookup_schema(target: &DatasetModel, key: &str, columns: &[String]) -> Result<Schema, Diagnostic> {
    let src = SourceInfo::from_model(target);
    lookup_scan(&src, key, columns)?
        .collect_schema()
        .map(|s| s.as_ref().clone())
        .map_err(|e| read_error(&src, &e))
}

fn lookup_scan(src: &SourceInfo, key: &str, columns: &[String]) -> Result<LazyFrame, Diagnostic> {
    let mut take = vec![as_text(col(key)).alias(LOOKUP_KEY)];
    take.extend(columns.iter().map(|c| col(c.as_str())));
    Ok(scan(src)?.select(take))
}

/// The index of the keys of looked-up rows read by [`lookup_rows`] from
/// `target`, or the key repeated most if one repeats.
pub fn key_index(target: &DatasetModel, rows: &DataFrame) -> Result<Result<KeyIndex, Repeated>, Diagnostic> {
    let failed = |e: PolarsError| read_error(&SourceInfo::from_model(target), &e);
    let keys = rows.column(LOOKUP_KEY).and_then(|c| c.str()).map_err(failed)?;
    KeyIndex::of(keys).map_err(failed)
}

/// Lookup `l` of `d` refused: key `r` repeats.
pub fn repeated_key(model: &Model, d: &DatasetModel, l: &LookupModel, r: &Repeated) -> Diagnostic {
    diagnostics::duplicate_lookup_key(
        l.span,
        &d.name,
        &model.datasets[l.dataset].name,
        &l.right,
        &format!("{:?}", r.key),
        r.times,
    )
}
