//! The first value of a column that a test holds for, with its place: a
//! declared column's value its type cannot hold (what `kpi check --data`
//! says), an offset that needs a zone. One pass over the source's text,
//! in pieces where it is read in pieces.

use std::path::PathBuf;

use polars::prelude::*;

use super::pieces::Pieces;
use super::{layout, place_of, read, read_error, skips, Layout, ROW};
use crate::check::types::Type;
use crate::data::text::conversion::{unconverted, Conversion};
use crate::data::SourceInfo;
use crate::diagnostic::Diagnostic;

/// A declared column's first value that its type cannot hold.
pub struct Contradiction {
    pub column: String,
    pub ty: Type,
    pub value: String,
    pub file: PathBuf,
    pub line: u64,
}

/// The first value of each declared column that its declared type (with
/// the `read:` formats) cannot hold.
pub fn contradictions(src: &SourceInfo) -> Result<Vec<Contradiction>, Diagnostic> {
    let l = layout(src)?;
    // Under `on_error: skip` such values are rows skipped, and said so
    // (`kpi::rows_skipped`), as evaluation reads them: not a contradiction.
    if skips(src) {
        return Ok(Vec::new());
    }
    let declared: Vec<&(String, Conversion)> = l
        .conversions
        .iter()
        .filter(|(c, _)| src.declared.iter().any(|(d, _)| d == c))
        .collect();
    if declared.is_empty() {
        return Ok(Vec::new());
    }
    let columns: Vec<(&str, &Conversion)> = declared.iter().map(|(c, conv)| (c.as_str(), conv)).collect();
    let found = first_unconverted(src, &l, &columns).map_err(|e| read_error(src, &l, &e))?;
    Ok(declared
        .iter()
        .zip(found)
        .filter_map(|((c, conv), bad)| {
            let (value, row) = bad?;
            let (file, line) = place_of(&l, row);
            Some(Contradiction {
                column: c.clone(),
                ty: conv.ty(),
                value,
                file,
                line,
            })
        })
        .collect())
}

/// For each column, the first value that its conversion rejects and its
/// record index, in one pass.
pub(super) fn first_unconverted(
    src: &SourceInfo,
    l: &Layout,
    columns: &[(&str, &Conversion)],
) -> PolarsResult<Vec<Option<(String, u64)>>> {
    first_where(src, l, &unconverted_checks(columns))
}

/// Each column with the test of a value its conversion rejects.
pub(super) fn unconverted_checks<'a>(columns: &[(&'a str, &Conversion)]) -> Vec<(&'a str, Expr)> {
    columns
        .iter()
        .map(|(c, conv)| (*c, unconverted(c, conv)))
        .collect()
}

/// For each column, the first value that its test (`bad`) holds for and
/// its record index, in one pass.
pub(super) fn first_where(
    src: &SourceInfo,
    l: &Layout,
    checks: &[(&str, Expr)],
) -> PolarsResult<Vec<Option<(String, u64)>>> {
    let df = read(src, l, Some(l.read_schema.clone()), true)?
        .select(first_where_aggregates(checks))
        .collect()?;
    Ok((0..checks.len())
        .map(|i| crate::data::first_bad(&df, i))
        .collect())
}

/// Each column's first value its test holds for (`v{i}`) and that value's
/// row (`r{i}`, from the row index).
fn first_where_aggregates(checks: &[(&str, Expr)]) -> Vec<Expr> {
    let mut aggs = Vec::new();
    for (i, (c, bad)) in checks.iter().enumerate() {
        aggs.push(
            col(*c)
                .filter(bad.clone())
                .first()
                .alias(format!("v{i}").as_str()),
        );
        aggs.push(
            col(ROW)
                .filter(bad.clone())
                .first()
                .cast(DataType::UInt64)
                .alias(format!("r{i}").as_str()),
        );
    }
    aggs
}

/// [`first_where`] over the source's columns as text in pieces.
pub(super) fn first_where_in_pieces(
    pieces: &Pieces,
    checks: &[(&str, Expr)],
) -> PolarsResult<Vec<Option<(String, u64)>>> {
    let mut projection = checks
        .iter()
        .map(|(c, _)| pieces.text_column(c))
        .collect::<PolarsResult<Vec<usize>>>()?;
    projection.sort_unstable();
    projection.dedup();
    let found = pieces.each_parsed(&projection, |df, first| {
        // Blank records' rows are rows of nulls, never unconverted; records
        // to skip are no values of the columns. Each row keeps its place.
        let df = pieces.without_dropped(df.with_row_index(ROW.into(), Some(0))?, first)?;
        let df = df.lazy().select(first_where_aggregates(checks)).collect()?;
        Ok((0..checks.len())
            .map(|i| crate::data::first_bad(&df, i).map(|(v, row)| (v, first + row)))
            .collect::<Vec<_>>())
    })?;
    let mut out = vec![None; checks.len()];
    for (_, piece) in found {
        for (slot, bad) in out.iter_mut().zip(piece) {
            if slot.is_none() {
                *slot = bad;
            }
        }
    }
    Ok(out)
}

/// [`first_where`] in pieces where the source is read in pieces.
pub(super) fn first_where_in(
    src: &SourceInfo,
    l: &Layout,
    text: Option<&Pieces>,
    checks: &[(&str, Expr)],
) -> PolarsResult<Vec<Option<(String, u64)>>> {
    match text {
        Some(pieces) => first_where_in_pieces(pieces, checks),
        None => first_where(src, l, checks),
    }
}
