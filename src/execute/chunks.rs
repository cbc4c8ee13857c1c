//! Long Parquet datasets read in chunks: runs of rows, one after another,
//! each added to the units' hand-written group-bys
//! ([`super::accumulate`]) in file order. Memory holds the columns of one
//! chunk, not of the whole file, and the numbers are those of one pass over
//! every row.

use polars::prelude::*;

use crate::check::ir::Model;
use crate::data::{self, SourceInfo};
use crate::diagnostic::Diagnostic;

/// Rows per chunk unless `KPI_CHUNK_ROWS` says otherwise.
const CHUNK_ROWS: u64 = 1 << 20;

/// Which rows of its dataset a unit's query reads.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Rows {
    /// Every row.
    All,
    /// `len` rows from `offset` of the dataset's file number `file`.
    Chunk { file: usize, offset: i64, len: IdxSize },
}

/// Rows per chunk: `KPI_CHUNK_ROWS` (0 turns chunks off), else the default.
fn chunk_rows() -> Option<u64> {
    let rows = std::env::var("KPI_CHUNK_ROWS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(CHUNK_ROWS);
    (rows > 0).then_some(rows)
}

/// The chunks a dataset is read in by hand-written group-bys: `[Rows::All]`
/// unless it is Parquet with more rows than one chunk. Chunks are runs of
/// rows of one file each, files in the order they are read (slicing across
/// files would read every file before the slice).
pub(crate) fn of_dataset(model: &Model, dataset: usize) -> Result<Vec<Rows>, Vec<Diagnostic>> {
    let Some(size) = chunk_rows() else {
        return Ok(vec![Rows::All]);
    };
    let src = SourceInfo::from_model(&model.datasets[dataset]);
    let files = data::parquet_rows(&src).map_err(|d| vec![d])?.unwrap_or_default();
    if files.iter().sum::<u64>() <= size {
        return Ok(vec![Rows::All]);
    }
    let len = IdxSize::try_from(size).unwrap_or(IdxSize::MAX);
    let mut chunks = Vec::new();
    for (file, &rows) in files.iter().enumerate() {
        for offset in (0..rows).step_by(len as usize) {
            chunks.push(Rows::Chunk {
                file,
                offset: offset as i64,
                len,
            });
        }
    }
    Ok(chunks)
}
