//! Long Parquet and CSV datasets read in chunks: runs of rows, one after
//! another, each added to the units' hand-written group-bys
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
    /// The pieces `from..to` of a CSV dataset read in pieces, about `rows`
    /// rows.
    Pieces { from: usize, to: usize, rows: usize },
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
/// unless it is Parquet or CSV with more rows than one chunk. Parquet
/// chunks are runs of rows of one file each, files in the order they are
/// read (slicing across files would read every file before the slice);
/// CSV chunks are runs of the pieces it is read in (not under the
/// streaming engine, which reads CSV by Polars' reader).
pub(crate) fn of_dataset(model: &Model, dataset: usize) -> Result<Vec<Rows>, Vec<Diagnostic>> {
    let Some(size) = chunk_rows() else {
        return Ok(vec![Rows::All]);
    };
    let src = SourceInfo::from_model(&model.datasets[dataset]);
    if let Some(pieces) = data::csv_piece_records(&src).map_err(|d| vec![d])? {
        return Ok(match super::streaming() {
            true => vec![Rows::All],
            false => of_pieces(&pieces, size),
        });
    }
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

/// Runs of pieces of at least `size` records each (about), in order; every
/// row at once if that is one run.
fn of_pieces(records: &[usize], size: u64) -> Vec<Rows> {
    let mut chunks = Vec::new();
    let (mut from, mut rows) = (0, 0);
    for (k, &n) in records.iter().enumerate() {
        rows += n;
        if rows as u64 >= size {
            chunks.push(Rows::Pieces {
                from,
                to: k + 1,
                rows,
            });
            (from, rows) = (k + 1, 0);
        }
    }
    if from < records.len() {
        chunks.push(Rows::Pieces {
            from,
            to: records.len(),
            rows,
        });
    }
    match chunks.len() {
        0 | 1 => vec![Rows::All],
        _ => chunks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_make_runs_of_a_chunk_or_more() {
        let runs = |records: &[usize], size| -> Vec<(usize, usize, usize)> {
            of_pieces(records, size)
                .into_iter()
                .map(|r| match r {
                    Rows::Pieces { from, to, rows } => (from, to, rows),
                    _ => (0, 0, 0),
                })
                .collect()
        };
        assert_eq!(runs(&[4, 4, 4, 4, 1], 8), [(0, 2, 8), (2, 4, 8), (4, 5, 1)]);
        assert_eq!(runs(&[9, 2, 7], 8), [(0, 1, 9), (1, 3, 9)]);
        // One run is every row at once.
        assert_eq!(of_pieces(&[3, 4], 8), [Rows::All]);
        assert_eq!(of_pieces(&[], 8), [Rows::All]);
    }
}
