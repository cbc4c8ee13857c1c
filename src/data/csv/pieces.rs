//! A CSV source read in pieces on the cores. Each file is cut where its
//! shape check found records beginning, each piece is read into its own
//! buffer and parsed by Polars' own chunk parser (the one its CSV reader
//! runs), and the pieces' rows are joined in file order.
//!
//! Polars' reader finds where to cut a file by counting its lines on one
//! thread first (a fifth of the work of reading 5M deals as CSV) and maps
//! the whole file, which counts in the process's memory; the cuts are
//! known here from the check that every file goes through, and a piece's
//! bytes are let go once it is parsed. The rows are the reader's: the same
//! parser over the same bytes with the same options, cut between records.

use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use polars::io::csv::read::_csv_read_internal::{
    cast_columns, prepare_csv_schema, read_chunk, validate_utf8, NullValuesCompiled,
};
use polars::prelude::*;

use super::shape::Cut;

/// The least bytes of a piece: few pieces' overhead, enough of them to
/// spread over the cores.
pub const PIECE: usize = 8 << 20;

/// One piece of a file: its bytes `from..to`, about `records` records,
/// the first of them the source's record `first` (counted across files).
#[derive(Clone, Copy, Debug)]
struct Piece {
    file: usize,
    from: usize,
    to: usize,
    records: usize,
    first: u64,
}

/// Each file's text, where files were transcoded to UTF-8 in memory.
pub type Texts = Option<Arc<Vec<Vec<u8>>>>;

/// A CSV source cut into pieces, read as a Polars scan that reads only the
/// columns asked for.
#[derive(Clone)]
pub struct Pieces {
    files: Vec<PathBuf>,
    /// The files' texts where they were transcoded (read from memory).
    texts: Texts,
    pieces: Vec<Piece>,
    /// The schema the reader is given, every column of the header.
    read: SchemaRef,
    /// Columns converted from their text, each piece's own (the text of a
    /// whole column is never held), and the schema they make.
    conversions: Vec<(String, Expr)>,
    schema: SchemaRef,
    /// The schema the parser fills (types it cannot parse as text), and
    /// the columns then cast to the read schema's types.
    parsed: SchemaRef,
    to_cast: Vec<Field>,
    parse: CsvParseOptions,
    null_values: Option<NullValuesCompiled>,
    /// Records dropped, by record index: blank ones (rows of nulls to the
    /// parser) and, in the text inference reads under `on_error: skip`,
    /// the ragged ones to be skipped.
    dropped: Vec<u64>,
}

impl std::fmt::Debug for Pieces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pieces")
            .field("files", &self.files)
            .field("pieces", &self.pieces)
            .finish()
    }
}

impl Pieces {
    /// The pieces of `files` (or of their transcoded `texts`) by their
    /// `cuts` (the first just after the header), each of `least` bytes or more but the last of a file, read
    /// with the `read` schema and `parse` options, then `conversions`
    /// (column, expression) made, the `dropped` records left out (`starts`:
    /// each file's first record index); none if a file has no cut (no line
    /// end after its header) or its header is blank, which the reader may
    /// take otherwise.
    pub fn new(
        (files, texts, cuts, least): (&[PathBuf], &Texts, &[Vec<Cut>], usize),
        (starts, dropped): (&[u64], &[u64]),
        read: SchemaRef,
        parse: CsvParseOptions,
        conversions: Vec<(String, Expr)>,
    ) -> PolarsResult<Option<Pieces>> {
        if files.len() != cuts.len() || files.len() != starts.len() {
            return Ok(None);
        }
        let mut pieces = Vec::new();
        for (file, (cuts, &start)) in cuts.iter().zip(starts).enumerate() {
            let Some(first) = cuts.first() else {
                return Ok(None);
            };
            let len = match (texts, files.get(file)) {
                (Some(texts), _) => texts.get(file).map_or(0, Vec::len),
                (None, Some(path)) => std::fs::metadata(path)?.len() as usize,
                (None, None) => return Ok(None),
            };
            // Whether the header (its line end included) is only white space.
            if bytes_of((files, texts), file, 0, first.at)?
                .iter()
                .all(u8::is_ascii_whitespace)
            {
                return Ok(None);
            }
            pieces.extend(pieces_of((file, start), cuts, len, least));
        }
        let schema = DataFrame::empty_with_schema(&read)
            .lazy()
            .with_columns(conversions.iter().map(|(_, e)| e.clone()).collect::<Vec<_>>())
            .collect_schema()?;
        let (mut parsed, mut to_cast) = (read.clone(), Vec::new());
        prepare_csv_schema(&mut parsed, &mut to_cast)?;
        let null_values = parse
            .null_values
            .clone()
            .map(|n| n.compile(&parsed))
            .transpose()?;
        Ok(Some(Pieces {
            files: files.to_vec(),
            texts: texts.clone(),
            pieces,
            read,
            conversions,
            schema,
            parsed,
            to_cast,
            parse,
            null_values,
            dropped: dropped.to_vec(),
        }))
    }

    /// How many files the pieces are cut from.
    pub fn files(&self) -> usize {
        self.files.len()
    }

    /// The index of a column of the schema the pieces are read with.
    pub fn text_column(&self, name: &str) -> PolarsResult<usize> {
        self.read.try_index_of(name)
    }

    /// About how many records each piece has.
    pub fn records(&self) -> Vec<usize> {
        self.pieces.iter().map(|p| p.records).collect()
    }

    /// The pieces `from..to` alone, as a source of their own.
    pub fn part(&self, from: usize, to: usize) -> Pieces {
        Pieces {
            pieces: self.pieces.get(from..to).unwrap_or_default().to_vec(),
            ..self.clone()
        }
    }

    /// The rows of the columns at `projection` (indices into the schema,
    /// in order) of one piece, converted if `convert`.
    fn read(&self, piece: Piece, projection: &[usize], convert: bool) -> PolarsResult<DataFrame> {
        let df = self.without_dropped(self.parsed(piece, projection)?, piece.first)?;
        let converted: Vec<Expr> = self
            .conversions
            .iter()
            .filter(|(c, _)| convert && df.schema().contains(c))
            .map(|(_, e)| e.clone())
            .collect();
        match converted.is_empty() {
            true => Ok(df),
            false => df.lazy().with_columns(converted).collect(),
        }
    }

    /// The parser's rows of the columns at `projection` of one piece, a
    /// row for each record, blank ones too.
    fn parsed(&self, piece: Piece, projection: &[usize]) -> PolarsResult<DataFrame> {
        let bytes = bytes_of((&self.files, &self.texts), piece.file, piece.from, piece.to)?;
        // As the reader does: text columns must be UTF-8.
        if self.parsed.iter_fields().any(|f| f.dtype().is_string()) && !validate_utf8(&bytes) {
            polars_bail!(ComputeError: "invalid utf-8 sequence");
        }
        let mut df = read_chunk(
            &bytes,
            &self.parse,
            &self.parsed,
            false,
            projection,
            0,
            piece.records,
            self.null_values.as_ref(),
            usize::MAX,
            bytes.len(),
            Some(0),
        )?;
        cast_columns(&mut df, &self.to_cast, false, false)?;
        Ok(df)
    }

    /// `each` of every piece's parsed rows of the columns at `projection`
    /// (a row for each record, blank ones too; nothing converted) and the
    /// piece's first record index, with the piece's file, in order.
    pub fn each_parsed<T: Send>(
        &self,
        projection: &[usize],
        each: impl Fn(DataFrame, u64) -> PolarsResult<T> + Sync,
    ) -> PolarsResult<Vec<(usize, T)>> {
        self.each_piece(|p| Ok((p.file, each(self.parsed(p, projection)?, p.first)?)))
    }

    /// The rows of a piece whose first row is record `first`, the rows of
    /// its records to drop left out.
    pub fn without_dropped(&self, df: DataFrame, first: u64) -> PolarsResult<DataFrame> {
        let end = first + df.height() as u64;
        let from = self.dropped.partition_point(|&b| b < first);
        let to = self.dropped.partition_point(|&b| b < end);
        let Some(dropped) = self.dropped.get(from..to).filter(|b| !b.is_empty()) else {
            return Ok(df);
        };
        let mut keep = vec![true; df.height()];
        for &b in dropped {
            if let Some(k) = keep.get_mut((b - first) as usize) {
                *k = false;
            }
        }
        df.filter(&BooleanChunked::from_slice("keep".into(), &keep))
    }

    /// `read` of every piece, in order, as jobs of Polars' thread pool.
    /// The scan runs inside Polars' execution, often on a thread of that
    /// pool while another scan holds the other threads; a piece's
    /// conversion asks the pool for work again. Threads of our own
    /// waiting on it there left no pool thread free to run it (two scans
    /// of one file, for two units, hung); as the pool's jobs, a thread
    /// that waits runs the jobs waiting for it.
    fn each_piece<T: Send>(&self, read: impl Fn(Piece) -> PolarsResult<T> + Sync) -> PolarsResult<Vec<T>> {
        let slots: Vec<Mutex<Option<PolarsResult<T>>>> =
            self.pieces.iter().map(|_| Mutex::new(None)).collect();
        polars_core::runtime::RAYON.scope(|s| {
            for (&piece, slot) in self.pieces.iter().zip(&slots) {
                let read = &read;
                s.spawn(move |_| {
                    let frame = read(piece);
                    if let Ok(mut slot) = slot.lock() {
                        *slot = Some(frame);
                    }
                });
            }
        });
        slots
            .into_iter()
            .map(|slot| {
                slot.into_inner()
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| Err(polars_err!(ComputeError: "a piece of the file was not read")))
            })
            .collect()
    }
}

impl AnonymousScan for Pieces {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn scan(&self, args: AnonymousScanArgs) -> PolarsResult<DataFrame> {
        let names: Vec<PlSmallStr> = match &args.with_columns {
            Some(c) => c.to_vec(),
            None => self.schema.iter_names().cloned().collect(),
        };
        let mut projection = names
            .iter()
            .map(|n| self.read.try_index_of(n))
            .collect::<PolarsResult<Vec<usize>>>()?;
        projection.sort_unstable();
        projection.dedup();
        // No column asked (rows counted): the first is parsed for the count.
        let (parsed, convert): (&[usize], bool) = match projection.is_empty() {
            true => (&[0], false),
            false => (&projection, true),
        };
        let frames = self.each_piece(|p| self.read(p, parsed, convert))?;
        let df = match frames.len() {
            0 => DataFrame::empty_with_schema(&self.schema),
            _ => polars_core::utils::accumulate_dataframes_vertical_unchecked(frames),
        };
        if names.is_empty() {
            return Ok(DataFrame::empty_with_height(df.height()));
        }
        df.select(names)
    }

    fn schema(&self, _infer_schema_length: Option<usize>) -> PolarsResult<SchemaRef> {
        Ok(self.schema.clone())
    }

    fn allows_projection_pushdown(&self) -> bool {
        true
    }
}

/// The scan of a source's pieces.
pub fn scan(pieces: Arc<Pieces>) -> PolarsResult<LazyFrame> {
    let schema = pieces.schema.clone();
    LazyFrame::anonymous_scan(
        pieces,
        ScanArgsAnonymous {
            schema: Some(schema),
            name: "csv",
            ..ScanArgsAnonymous::default()
        },
    )
}

/// The bytes `from..to` of the `file`th file, from its text if it has one.
fn bytes_of(
    (files, texts): (&[PathBuf], &Texts),
    file: usize,
    from: usize,
    to: usize,
) -> std::io::Result<Vec<u8>> {
    if let Some(texts) = texts {
        let text = texts.get(file).and_then(|t| t.get(from..to));
        return text.map(<[u8]>::to_vec).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "a piece past the end of its text",
            )
        });
    }
    let path = files
        .get(file)
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "a piece of a file not read"))?;
    let mut bytes = vec![0; to.saturating_sub(from)];
    std::fs::File::open(path)?.read_exact_at(&mut bytes, from as u64)?;
    Ok(bytes)
}

/// The body of a file of `len` bytes, whose first record is the source's
/// record `start`, cut at `cuts` into pieces of at least `least` bytes,
/// each with about how many records it has.
fn pieces_of((file, start_row): (usize, u64), cuts: &[Cut], len: usize, least: usize) -> Vec<Piece> {
    let mut out = Vec::new();
    let Some(&first) = cuts.first() else {
        return out;
    };
    let mut start = first;
    for &cut in cuts.iter().skip(1) {
        if cut.at - start.at >= least {
            out.push(Piece {
                file,
                from: start.at,
                to: cut.at,
                records: cut.ends - start.ends,
                first: start_row + (start.ends - first.ends) as u64,
            });
            start = cut;
        }
    }
    // The last piece's records, at the rate of those before it.
    let (bytes, records) = (start.at - first.at, start.ends - first.ends);
    let rest = len.saturating_sub(start.at);
    out.push(Piece {
        file,
        first: start_row + (start.ends - first.ends) as u64,
        from: start.at,
        to: len.max(start.at),
        records: match bytes {
            0 => rest / 32 + 1,
            _ => rest * records / bytes + 1,
        },
    });
    out
}
