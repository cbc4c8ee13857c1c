//! CSV as people get it (LANGUAGE.md §2a): the `read:` options, types
//! inferred from the whole file (a `12.5` after row 10,000 still makes the
//! column a number), dates in a declared format, datetimes with UTC offsets
//! converted to a declared zone, Latin-1 and Windows-1252 files, globs whose
//! files must agree, and rows that cannot be read either refused with their
//! place or skipped and counted.
//!
//! A source's [`Layout`] (its files, the schema the reader is given, the
//! conversions after it, its blank records, its pieces) is worked out once
//! per process and cached: every scan of the source then reads with that
//! schema and infers nothing. A file on disk is read in pieces on the cores
//! (`csv_pieces`) where it can be, its types inferred there too
//! (`csv_inference`); otherwise by Polars' reader, and the rows it makes of
//! blank lines dropped. What a text column's values look like is guessed
//! from a sample (`csv_guess`), verified here on every value, and each
//! column converted to its type by an expression (`csv_conversion`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use polars::prelude::*;

use super::csv_conversion::{declared_conversion, not_in_utc, unconverted, Conversion, NumberForm};
use super::csv_guess::{
    case_twin, date_hint, guess, later_datetimes, leading_zeros, nine_in_ten, padded_twin,
};
use super::csv_pieces::Pieces;
use super::diagnostics as diag;
use super::files::Shape;
use super::SourceInfo;
use crate::check::types::Type;
use crate::diagnostic::Diagnostic;
use crate::spec::model::{Encoding, OnError};

/// Values sampled to guess whether a text column holds dates or numbers;
/// the guess is then verified over the whole column.
const SAMPLE: usize = 1_000;

/// How one CSV source is read.
#[derive(Clone, Debug)]
pub struct Layout {
    pub files: Vec<PathBuf>,
    /// Transcoded contents of each file, for encodings other than UTF-8.
    text: Option<Arc<Vec<Vec<u8>>>>,
    /// What the reader is given: every column, as text where a conversion follows.
    read_schema: SchemaRef,
    conversions: Vec<(String, Conversion)>,
    /// With `on_error: skip`: rows left out (ragged, or a value its column
    /// cannot hold), as record indices counted across the files.
    pub skipped: Vec<u64>,
    /// Record index → (file, line) for messages.
    starts: Vec<u64>,
    /// Blank records (empty, or only white space), by record index: the
    /// reader makes each a row of nulls, dropped after it.
    blank: Vec<u64>,
    /// Text columns that would have been dates or numbers but for one value.
    pub near_misses: Vec<NearMiss>,
    /// Text columns of dates written in another format than `%Y-%m-%d`,
    /// with the `date_format` that reads them (or the two that would).
    pub date_hints: Vec<(String, Vec<String>)>,
    /// Text columns of numbers written with `,` between thousands, when
    /// `read.thousands` does not say so.
    pub thousands_hints: Vec<String>,
    /// Text columns of amounts written with a currency symbol, when
    /// `read.currency` does not name one: the symbol, and the other
    /// options their numbers need.
    pub currency_hints: Vec<(String, (String, &'static str))>,
    /// Text columns of numbers written with `%` (`45%`), when
    /// `read.percent` does not say so.
    pub percent_hints: Vec<String>,
    /// Integer columns nobody declared whose values are written with
    /// leading zeros (codes: ZIP codes, account numbers), with one of them.
    pub leading_zeros: Vec<(String, String)>,
    /// Text columns nobody declared with a value that has spaces around it
    /// beside the same value without (`won ` and `won`), with the first.
    pub padded: Vec<(String, String)>,
    /// Text columns nobody declared with a value in two cases (`Won` and
    /// `won`), with the two.
    pub case_twins: Vec<(String, (String, String))>,
    /// Header names given to more than one column, with how many: the
    /// first of them is the one read by that name.
    pub repeated: Vec<(String, usize)>,
    /// Files on disk cut into pieces read on the cores, where they can be.
    pieces: Option<Arc<Pieces>>,
}

/// A column read as text because of one value: what it looked like, and where the value is.
#[derive(Clone, Debug)]
pub struct NearMiss {
    pub column: String,
    pub looked_like: Type,
    pub value: String,
    pub file: PathBuf,
    pub line: u64,
}

type CacheKey = String;

fn cache() -> &'static Mutex<HashMap<CacheKey, Arc<Layout>>> {
    static CACHE: std::sync::OnceLock<Mutex<HashMap<CacheKey, Arc<Layout>>>> = std::sync::OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The layout of a CSV source, worked out once per process.
pub fn layout(src: &SourceInfo) -> Result<Arc<Layout>, Diagnostic> {
    let key = format!("{:?}|{:?}|{:?}", src.path, src.read, src.declared);
    if let Some(l) = cache().lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(l);
    }
    let l = Arc::new(work_out(src)?);
    if let Ok(mut c) = cache().lock() {
        c.insert(key, l.clone());
    }
    Ok(l)
}

/// A lazy scan of the source with every column as its type; `in_pieces`:
/// read in pieces on the cores where it can be (not a scan the streaming
/// engine can run).
pub fn scan(src: &SourceInfo, in_pieces: bool) -> Result<LazyFrame, Diagnostic> {
    let l = layout(src)?;
    scan_of(src, &l, in_pieces)
}

/// About how many records each piece of the source has, where it is read
/// in pieces.
pub fn piece_records(src: &SourceInfo) -> Result<Option<Vec<usize>>, Diagnostic> {
    Ok(layout(src)?.pieces.as_ref().map(|p| p.records()))
}

/// The pieces `from..to` of the source (see [`piece_records`]), with every
/// column as its type.
pub fn scan_pieces(src: &SourceInfo, from: usize, to: usize) -> Result<LazyFrame, Diagnostic> {
    let l = layout(src)?;
    let pieces = l.pieces.as_ref().ok_or_else(|| {
        let e = polars_err!(ComputeError: "the file is not read in pieces");
        read_error(src, &l, &e)
    })?;
    super::csv_pieces::scan(Arc::new(pieces.part(from, to))).map_err(|e| read_error(src, &l, &e))
}

/// [`scan`] of a worked-out layout.
fn scan_of(src: &SourceInfo, l: &Layout, in_pieces: bool) -> Result<LazyFrame, Diagnostic> {
    let skip = skips(src);
    if let (Some(pieces), true) = (&l.pieces, in_pieces) {
        return super::csv_pieces::scan(pieces.clone()).map_err(|e| read_error(src, l, &e));
    }
    // Rows skipped, and the reader's rows of blank records.
    let mut dropped: Vec<u64> = l.skipped.iter().chain(&l.blank).copied().collect();
    dropped.sort_unstable();
    dropped.dedup();
    let mut lf =
        read(src, l, Some(l.read_schema.clone()), !dropped.is_empty()).map_err(|e| read_error(src, l, &e))?;
    if !dropped.is_empty() {
        let dropped = Series::new("dropped".into(), dropped);
        lf = lf
            .filter(
                col(ROW)
                    .cast(DataType::UInt64)
                    .is_in(lit(dropped).implode(false), false)
                    .not(),
            )
            .drop(cols([ROW]));
    }
    let casts = conversions(l, !skip);
    Ok(if casts.is_empty() {
        lf
    } else {
        lf.with_columns(casts.into_iter().map(|(_, e)| e).collect::<Vec<_>>())
    })
}

/// Each converted column from its text (`strict`: a value that does not
/// convert is an error).
fn conversions(l: &Layout, strict: bool) -> Vec<(String, Expr)> {
    l.conversions
        .iter()
        .map(|(c, conv)| (c.clone(), conv.expr(c, strict).alias(c.as_str())))
        .collect()
}

/// A scan with declared and converted columns left as text (to find values
/// that contradict a declared type).
pub fn scan_text(src: &SourceInfo) -> Result<LazyFrame, Diagnostic> {
    let l = layout(src)?;
    read(src, &l, Some(l.read_schema.clone()), false).map_err(|e| read_error(src, &l, &e))
}

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
fn first_unconverted(
    src: &SourceInfo,
    l: &Layout,
    columns: &[(&str, &Conversion)],
) -> PolarsResult<Vec<Option<(String, u64)>>> {
    first_where(src, l, &unconverted_checks(columns))
}

/// Each column with the test of a value its conversion rejects.
fn unconverted_checks<'a>(columns: &[(&'a str, &Conversion)]) -> Vec<(&'a str, Expr)> {
    columns
        .iter()
        .map(|(c, conv)| (*c, unconverted(c, conv)))
        .collect()
}

/// For each column, the first value that its test (`bad`) holds for and
/// its record index, in one pass.
fn first_where(
    src: &SourceInfo,
    l: &Layout,
    checks: &[(&str, Expr)],
) -> PolarsResult<Vec<Option<(String, u64)>>> {
    let df = read(src, l, Some(l.read_schema.clone()), true)?
        .select(first_where_aggregates(checks))
        .collect()?;
    Ok((0..checks.len()).map(|i| super::first_bad(&df, i)).collect())
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
fn first_where_in_pieces(
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
        // Blank records' rows are rows of nulls: never unconverted.
        let df = df
            .lazy()
            .with_row_index(ROW, Some(0))
            .select(first_where_aggregates(checks))
            .collect()?;
        Ok((0..checks.len())
            .map(|i| super::first_bad(&df, i).map(|(v, row)| (v, first + row)))
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
fn first_where_in(
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

/// Where a record (counted across the files from 0) is: (file, line).
pub fn place_of(l: &Layout, record: u64) -> (PathBuf, u64) {
    places_of(l, &[record]).remove(0)
}

/// The file and line of each of `records` (indices across the files), the
/// files read again for their lines: only for messages.
pub fn places_of(l: &Layout, records: &[u64]) -> Vec<(PathBuf, u64)> {
    // Files are read in order; `starts` holds each file's first record.
    let in_file: Vec<(usize, u64)> = records
        .iter()
        .map(|&r| {
            let i = l.starts.iter().rposition(|s| *s <= r).unwrap_or(0);
            (i, r - l.starts.get(i).copied().unwrap_or(0))
        })
        .collect();
    let mut out: Vec<(PathBuf, u64)> = in_file
        .iter()
        .map(|&(i, r)| (l.files.get(i).cloned().unwrap_or_default(), r + 2))
        .collect();
    let mut files: Vec<usize> = in_file.iter().map(|(i, _)| *i).collect();
    files.sort_unstable();
    files.dedup();
    for f in files {
        let at: Vec<usize> = (0..in_file.len()).filter(|&k| in_file[k].0 == f).collect();
        let wanted: Vec<u64> = at.iter().map(|&k| in_file[k].1).collect();
        let lines = match (&l.text, l.files.get(f)) {
            (Some(texts), _) => super::files::record_lines(texts.get(f).map_or(&[][..], |t| &t[..]), &wanted),
            (None, Some(path)) => {
                std::fs::File::open(path).and_then(|file| super::files::record_lines(file, &wanted))
            }
            (None, None) => continue,
        };
        // Unreadable now: the line its index would have.
        if let Ok(lines) = lines {
            for (k, line) in at.into_iter().zip(lines) {
                out[k].1 = line;
            }
        }
    }
    out
}

const ROW: &str = "__record";

/// The reader over every file of the layout, with `schema` (none: inferred
/// from the whole file), all quoting and null rules of the options.
fn read(src: &SourceInfo, l: &Layout, schema: Option<SchemaRef>, row_index: bool) -> PolarsResult<LazyFrame> {
    let all: Vec<usize> = (0..l.files.len()).collect();
    read_files(src, l, &all, schema, row_index)
}

/// The reader over the files `which` (indices into the layout's files).
fn read_files(
    src: &SourceInfo,
    l: &Layout,
    which: &[usize],
    schema: Option<SchemaRef>,
    row_index: bool,
) -> PolarsResult<LazyFrame> {
    let parse = parse_options(src, row_index);
    let mut frames = Vec::new();
    match &l.text {
        None => {
            for f in which.iter().filter_map(|&i| l.files.get(i)) {
                let lf = LazyCsvReader::new(PlRefPath::new(f.to_string_lossy().into_owned()))
                    .with_has_header(true)
                    .with_separator(parse.separator)
                    .with_null_values(parse.null_values.clone())
                    .with_missing_is_null(parse.missing_is_null)
                    .with_truncate_ragged_lines(parse.truncate_ragged_lines)
                    .with_infer_schema_length(None)
                    .with_try_parse_dates(false)
                    .with_schema(schema.clone())
                    .finish()?;
                frames.push(lf);
            }
        }
        Some(texts) => {
            for t in which.iter().filter_map(|&i| texts.get(i)) {
                let df = CsvReadOptions::default()
                    .with_has_header(true)
                    .with_parse_options(parse.clone())
                    .with_infer_schema_length(None)
                    .with_schema(schema.clone())
                    .into_reader_with_file_handle(std::io::Cursor::new(t.as_slice()))
                    .finish()?;
                frames.push(df.lazy());
            }
        }
    }
    let lf = match frames.len() {
        1 => frames.pop().unwrap_or_default(),
        _ => concat(frames, UnionArgs::default())?,
    };
    Ok(if row_index {
        lf.with_row_index(ROW, None)
    } else {
        lf
    })
}

/// The parsing options of the source's `read:` options (`truncated`:
/// records with more fields than the header are cut to its length).
fn parse_options(src: &SourceInfo, truncated: bool) -> CsvParseOptions {
    let opts = &src.read;
    let separator = opts.delimiter.as_ref().map_or(b',', |d| d.value as u8);
    let nulls: Vec<PlSmallStr> = opts.null_values.iter().map(|n| n.value.as_str().into()).collect();
    CsvParseOptions::default()
        .with_separator(separator)
        .with_null_values((!nulls.is_empty()).then_some(NullValues::AllColumns(nulls)))
        .with_missing_is_null(true)
        .with_truncate_ragged_lines(truncated)
}

impl Layout {
    /// The files (and their transcoded texts), nothing worked out yet.
    fn of_files(files: Vec<PathBuf>, text: Option<Arc<Vec<Vec<u8>>>>) -> Layout {
        Layout {
            files,
            text,
            read_schema: Arc::new(Schema::default()),
            conversions: Vec::new(),
            skipped: Vec::new(),
            starts: Vec::new(),
            blank: Vec::new(),
            near_misses: Vec::new(),
            date_hints: Vec::new(),
            repeated: Vec::new(),
            thousands_hints: Vec::new(),
            currency_hints: Vec::new(),
            percent_hints: Vec::new(),
            leading_zeros: Vec::new(),
            padded: Vec::new(),
            case_twins: Vec::new(),
            pieces: None,
        }
    }
}

/// Files, header agreement, whole-file inference and the conversions.
fn work_out(src: &SourceInfo) -> Result<Layout, Diagnostic> {
    if let Some(z) = &src.read.timezone {
        if !matches!(TimeZone::opt_try_new(Some(z.value.as_str())), Ok(Some(_))) {
            return Err(diag::invalid_timezone(z.span, &z.value));
        }
    }
    let files = super::files::expand(src)?;
    let text = transcoded(src, &files)?;
    let separator = src.read.delimiter.as_ref().map_or(',', |d| d.value);
    let header = super::files::agreeing_header(src, &files, text.as_deref().map(|t| &t[..]), separator)?;
    let mut layout = Layout::of_files(files, text);
    // Columns without a name (spreadsheets' empty columns) are no one's.
    for (i, name) in header.iter().enumerate().filter(|(_, h)| !h.trim().is_empty()) {
        let n = header.iter().filter(|h| *h == name).count();
        if n > 1 && !header[..i].contains(name) {
            layout.repeated.push((name.clone(), n));
        }
    }
    // Every file's shape, checked now to count its records for places in
    // messages, find its blank ones and where to cut it; what is wrong
    // with it is said after the other checks.
    let texts = layout.text.as_deref().map(|t| &t[..]);
    let shapes = super::files::shapes(&layout.files, texts, separator);
    layout.starts = match starts_of(&shapes) {
        Some(starts) => starts,
        None => record_starts(&layout).map_err(|e| read_error(src, &layout, &e))?,
    };
    layout.blank = shapes
        .iter()
        .zip(&layout.starts)
        .flat_map(|(shape, start)| {
            shape
                .iter()
                .flat_map(move |s| s.blank.iter().map(move |b| start + b))
        })
        .collect();
    // Declared columns are read as text; the others' types are inferred
    // from every row, in pieces where the files can be cut.
    let declared_text: Schema = src
        .declared
        .iter()
        .filter(|(n, _)| header.iter().any(|h| h == n))
        .map(|(n, _)| Field::new(n.as_str().into(), DataType::String))
        .collect();
    let all_declared = all_declared(src, &header);
    let mut text = text_pieces(src, &layout, &header, &shapes);
    let seen = match &text {
        Some(pieces) => seen_in_pieces(src, pieces, &header, all_declared.is_some()),
        None => Ok(None),
    };
    // A piece the parser cannot read: Polars' reader reads the files, and
    // says why.
    let seen = seen.unwrap_or_else(|_| {
        text = None;
        None
    });
    let inferred = match (all_declared, &seen) {
        (Some(schema), _) => schema,
        (None, Some((_, seen))) => merged(seen.schemas(&header), &declared_text),
        (None, None) => {
            let inferred = infer(src, &layout, &declared_text).map_err(|e| read_error(src, &layout, &e))?;
            let inferred = dots_between_thousands(src, inferred);
            long_integers_as_text(src, &mut layout, inferred).map_err(|e| read_error(src, &layout, &e))?
        }
    };
    let mut read_schema = inferred.clone();
    for (n, _) in &src.declared {
        if read_schema.contains(n) {
            read_schema.with_column(n.as_str().into(), DataType::String);
        }
    }
    layout.read_schema = Arc::new(read_schema);
    // Text columns nobody declared: dates, datetimes, decimal-comma numbers?
    let undeclared: Vec<String> = inferred
        .iter()
        .filter(|(n, dt)| **dt == DataType::String && !src.declared.iter().any(|(d, _)| d == n.as_str()))
        .map(|(n, _)| n.to_string())
        .collect();
    let sampled: Vec<String> = src
        .declared
        .iter()
        .filter(|(n, t)| *t == Type::Datetime && inferred.contains(n))
        .map(|(n, _)| n.clone())
        .chain(undeclared.iter().cloned())
        .collect();
    let samples = match &seen {
        Some((columns, seen)) => columns
            .iter()
            .zip(&seen.samples)
            .filter_map(|(&k, values)| Some((header.get(k)?.clone(), values.clone())))
            .filter(|(n, _)| sampled.contains(n))
            .collect(),
        None => samples(src, &layout, &sampled).map_err(|e| read_error(src, &layout, &e))?,
    };
    let none = Vec::new();
    for (n, t) in &src.declared {
        if inferred.contains(n) {
            let sample = samples.get(n).unwrap_or(&none);
            if let Some(conv) = declared_conversion(src, sample, *t) {
                layout.conversions.push((n.clone(), conv));
            }
        }
    }
    let (found, near_misses) = detect(src, &layout, text.as_ref(), &undeclared, &samples)
        .map_err(|e| read_error(src, &layout, &e))?;
    // Text columns of dates in another format: say which `date_format`.
    if src.read.date_format.is_none() || src.read.datetime_format.is_none() {
        let left_text = undeclared
            .iter()
            .filter(|c| !found.iter().any(|(f, _)| f == *c) && !near_misses.iter().any(|m| m.column == **c));
        layout.date_hints = left_text
            .filter_map(|c| Some((c.clone(), date_hint(src, samples.get(c)?)?)))
            .collect();
    }
    // Text columns left text, with their samples: which option reads them,
    // one value in two spellings?
    let texts: Vec<(&String, &Vec<String>)> = undeclared
        .iter()
        .filter(|c| !found.iter().any(|(f, _)| f == *c))
        .filter_map(|c| Some((c, samples.get(c)?)))
        .collect();
    hint_options(src, &mut layout, &texts);
    layout.near_misses = near_misses;
    if let Some((columns, seen)) = &seen {
        layout.leading_zeros = leading_zeros(src, &inferred, &header, columns, &seen.samples);
    }
    let valueless = undeclared
        .iter()
        .filter(|c| samples.get(*c).is_none_or(|v| v.iter().all(String::is_empty)))
        .map(|c| (c.clone(), Conversion::NoValues));
    let found: Vec<(String, Conversion)> = found.into_iter().chain(valueless).collect();
    for (n, conv) in found {
        Arc::make_mut(&mut layout.read_schema).with_column(n.as_str().into(), DataType::String);
        layout.conversions.push((n, conv));
    }
    in_utc_unless_zoned(src, &mut layout, text.as_ref())?;
    malformed_records(src, layout, shapes)
}

/// The read options that would turn text columns into what their values
/// look like (a currency, percents, `,` between thousands), and values
/// written two ways (padded, another case): said as hints, never guessed.
fn hint_options(src: &SourceInfo, layout: &mut Layout, texts: &[(&String, &Vec<String>)]) {
    // Amounts with a currency symbol: say the option.
    if src.read.currency.is_none() {
        layout.currency_hints = texts
            .iter()
            .filter_map(|(c, v)| Some(((*c).clone(), super::money::symbol_of(v)?)))
            .collect();
    }
    // Those whose values hold `mark` and are numbers as `more` writes them.
    let read_with = |more: NumberForm, mark: char| -> Vec<String> {
        texts
            .iter()
            .filter(|(_, v)| {
                v.iter().any(|x| x.contains(mark))
                    && nine_in_ten(v.iter().map(|x| x.trim()), |x| more.reads(x))
            })
            .map(|(c, _)| (*c).clone())
            .collect()
    };
    // Percents (`45%`), numbers with `,` between thousands: say the option.
    if !src.read.percent {
        let more = NumberForm {
            percent: true,
            ..NumberForm::of(src)
        };
        layout.percent_hints = read_with(more, '%');
    }
    if src.read.thousands.is_none() && !src.read.decimal_comma {
        let more = NumberForm {
            thousands: Some(','),
            ..NumberForm::of(src)
        };
        layout.thousands_hints = read_with(more, ',');
    }
    layout.padded = texts
        .iter()
        .filter_map(|(c, v)| Some(((*c).clone(), padded_twin(v)?)))
        .collect();
    layout.case_twins = texts
        .iter()
        .filter_map(|(c, v)| Some(((*c).clone(), case_twin(v)?)))
        .collect();
}

/// Datetimes with UTC offsets and no `read.timezone`: a column whose every
/// offset is UTC's (`Z`, `+00:00`) holds UTC's times, as a Parquet column
/// in UTC does; one with another offset is an error naming the first, as
/// nothing says in which zone its days count.
fn in_utc_unless_zoned(
    src: &SourceInfo,
    layout: &mut Layout,
    text: Option<&Pieces>,
) -> Result<(), Diagnostic> {
    let unzoned: Vec<usize> = (0..layout.conversions.len())
        .filter(|&i| layout.conversions[i].1.needs_zone())
        .collect();
    if unzoned.is_empty() {
        return Ok(());
    }
    let checks: Vec<(&str, Expr)> = unzoned
        .iter()
        .map(|&i| {
            let c = layout.conversions[i].0.as_str();
            (c, not_in_utc(c))
        })
        .collect();
    let found = first_where_in(src, layout, text, &checks).map_err(|e| read_error(src, layout, &e))?;
    for (i, bad) in unzoned.into_iter().zip(found) {
        if let Some((value, row)) = bad {
            let (file, line) = place_of(layout, row);
            let (column, path) = (&layout.conversions[i].0, file.display().to_string());
            return Err(diag::timezone_needed(
                src.span,
                &src.name,
                column,
                (&value, &path, line),
            ));
        }
        layout.conversions[i].1.take_utc();
    }
    Ok(())
}

/// Whether records that cannot be read are skipped (`on_error: skip`).
fn skips(src: &SourceInfo) -> bool {
    src.read
        .on_error
        .as_ref()
        .is_some_and(|o| o.value == OnError::Skip)
}

/// The first record index of each file from the files' shapes; none if a
/// file could not be read.
fn starts_of(shapes: &[Option<Shape>]) -> Option<Vec<u64>> {
    let mut n = 0;
    let mut starts = Vec::with_capacity(shapes.len());
    for shape in shapes {
        starts.push(n);
        n += shape.as_ref()?.records;
    }
    Some(starts)
}

/// Files in another encoding than UTF-8, read and transcoded once: the
/// `encoding` read option's, and files that start with UTF-16's byte order
/// mark whatever it says (Excel's "Unicode Text" export), with the others
/// of their glob as they are.
fn transcoded(
    src: &SourceInfo,
    files: &[std::path::PathBuf],
) -> Result<Option<Arc<Vec<Vec<u8>>>>, Diagnostic> {
    let failed = |f: &std::path::PathBuf, e: std::io::Error| {
        diag::data_error(src.span, &src.name, &f.display().to_string(), &e.to_string())
    };
    let e = match src.read.encoding.as_ref().map(|e| e.value) {
        None | Some(Encoding::Utf8) => {
            let mut utf16 = false;
            for f in files {
                utf16 |= utf16_order(&super::files::first_bytes(f, 2).map_err(|e| failed(f, e))?).is_some();
            }
            if !utf16 {
                return Ok(None);
            }
            Encoding::Utf8
        }
        Some(e) => e,
    };
    let read = |f: &std::path::PathBuf| {
        std::fs::read(f)
            .map(|b| match utf16_order(&b) {
                Some(little) => from_utf16(&b[2..], little),
                None if e == Encoding::Utf8 => b,
                None => transcode(&b, e),
            })
            .map_err(|e| failed(f, e))
    };
    Ok(Some(Arc::new(
        files.iter().map(read).collect::<Result<Vec<_>, _>>()?,
    )))
}

/// Whether `bytes` start with UTF-16's byte order mark: little-endian
/// (`FF FE`, as Windows writes it) or big-endian (`FE FF`).
pub(super) fn utf16_order(bytes: &[u8]) -> Option<bool> {
    match bytes {
        [0xFF, 0xFE, ..] => Some(true),
        [0xFE, 0xFF, ..] => Some(false),
        _ => None,
    }
}

/// UTF-16 text as UTF-8; a unit that is no character (an unpaired
/// surrogate, an odd last byte) as U+FFFD, as a text editor shows it.
fn from_utf16(bytes: &[u8], little: bool) -> Vec<u8> {
    let units = bytes.chunks(2).map(|p| match (p, little) {
        ([a, b], true) => u16::from_le_bytes([*a, *b]),
        ([a, b], false) => u16::from_be_bytes([*a, *b]),
        _ => 0xFFFD,
    });
    char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect::<String>()
        .into_bytes()
}

/// Rows the reader cannot read: skipped and counted under `on_error:
/// skip`, otherwise the first one is an error.
fn malformed_records(
    src: &SourceInfo,
    mut layout: Layout,
    shapes: Vec<Option<Shape>>,
) -> Result<Layout, Diagnostic> {
    if skips(src) {
        let ragged = shapes.iter().zip(&layout.starts).flat_map(|(shape, start)| {
            shape
                .iter()
                .flat_map(move |s| s.ragged_rows.iter().map(move |r| start + r))
        });
        let ragged: Vec<u64> = ragged.collect();
        layout.skipped =
            unreadable_records(src, &layout, ragged).map_err(|e| read_error(src, &layout, &e))?;
        return Ok(layout);
    }
    super::files::first_problem(src, &layout.files, &shapes)?;
    let cuts: Vec<Vec<super::files::Cut>> = shapes
        .into_iter()
        .map(|s| s.map(|s| s.cuts).unwrap_or_default())
        .collect();
    if layout.text.is_none() {
        let (schema, parse) = (layout.read_schema.clone(), parse_options(src, false));
        let cut = (&layout.files[..], &None, &cuts[..], super::csv_pieces::PIECE);
        let rows = (&layout.starts[..], &layout.blank[..]);
        let pieces = Pieces::new(cut, rows, schema, parse, conversions(&layout, true));
        layout.pieces = pieces.map_err(|e| read_error(src, &layout, &e))?.map(Arc::new);
    }
    Ok(layout)
}

/// With every column of the header declared (no name twice, none holding
/// a quote, which the reader keeps doubled in a name), the schema [`infer`]
/// would give: each column as text, to be converted to its declared type.
/// The reader's inference reads every row on one thread (about 0.9 s of
/// 2.2 for a file of a million deals) for types the declarations replace.
fn all_declared(src: &SourceInfo, header: &[String]) -> Option<Schema> {
    let distinct: std::collections::HashSet<&String> = header.iter().collect();
    let declared = |h: &String| !h.contains('"') && src.declared.iter().any(|(n, _)| n == h);
    (distinct.len() == header.len() && header.iter().all(declared)).then(|| {
        header
            .iter()
            .map(|h| Field::new(h.as_str().into(), DataType::String))
            .collect()
    })
}

/// The schema the reader infers from every row of every file; where files
/// disagree (an integer column in one, a float in another) the wider type.
fn infer(src: &SourceInfo, l: &Layout, declared_text: &Schema) -> PolarsResult<Schema> {
    let files = (0..l.files.len())
        .map(|i| Ok((*read_files(src, l, &[i], None, false)?.collect_schema()?).clone()))
        .collect::<PolarsResult<Vec<Schema>>>()?;
    Ok(merged(files, declared_text))
}

/// The reader's types with its float columns made text where a decimal
/// comma puts a dot between thousands (`1.000`, which the reader reads as
/// 1.0), to be guessed and converted as the columns read in pieces are
/// ([`super::csv_inference::seen`]).
fn dots_between_thousands(src: &SourceInfo, mut inferred: Schema) -> Schema {
    if src.read.decimal_comma {
        for (_, dt) in inferred.iter_mut() {
            if *dt == DataType::Float64 {
                *dt = DataType::String;
            }
        }
    }
    inferred
}

/// The reader's types with its integer columns that hold an integer too
/// long for 64 bits made text, as they are read in pieces
/// ([`super::csv_inference::field_type`]): the reader types such a column
/// an integer, then cannot read it.
fn long_integers_as_text(src: &SourceInfo, layout: &mut Layout, inferred: Schema) -> PolarsResult<Schema> {
    let integers: Vec<String> = inferred
        .iter()
        .filter(|(n, dt)| dt.is_integer() && !src.declared.iter().any(|(d, _)| d == n.as_str()))
        .map(|(n, _)| n.to_string())
        .collect();
    if integers.is_empty() {
        return Ok(inferred);
    }
    let mut as_text = inferred.clone();
    for n in &integers {
        as_text.with_column(n.as_str().into(), DataType::String);
    }
    layout.read_schema = Arc::new(as_text);
    let checks: Vec<(&str, Expr)> = integers
        .iter()
        .map(|n| {
            let text = col(n.as_str()).str().strip_chars(lit(NULL));
            let long = text
                .clone()
                .neq(lit(""))
                .and(text.cast(DataType::Int64).is_null());
            (n.as_str(), long)
        })
        .collect();
    let found = first_where(src, layout, &checks)?;
    let mut schema = inferred;
    for (n, long) in integers.iter().zip(found) {
        if long.is_some() {
            schema.with_column(n.as_str().into(), DataType::String);
        }
    }
    Ok(schema)
}

/// One schema of the files' schemas: each column of the wider type of its
/// files', declared ones (`declared_text`) as text.
fn merged(files: impl IntoIterator<Item = Schema>, declared_text: &Schema) -> Schema {
    let mut merged: Option<Schema> = None;
    for mut s in files {
        for (n, dt) in declared_text.iter() {
            if s.contains(n) {
                s.with_column(n.clone(), dt.clone());
            }
        }
        merged = Some(match merged {
            None => s,
            Some(mut m) => {
                for (n, dt) in s.iter() {
                    let wider = match m.get(n) {
                        Some(a) => super::csv_inference::wider(a, dt),
                        None => DataType::String,
                    };
                    m.with_column(n.clone(), wider);
                }
                m
            }
        });
    }
    merged.unwrap_or_default()
}

/// What the source's columns as text in `pieces` say: every column's types
/// and first values, or, with every column declared, the first values of
/// the datetime ones (none: nothing read). Each with the columns' indices.
fn seen_in_pieces(
    src: &SourceInfo,
    pieces: &Pieces,
    header: &[String],
    all_declared: bool,
) -> PolarsResult<Option<(Vec<usize>, super::csv_inference::Seen)>> {
    let sampled: Vec<usize> = match all_declared {
        false => (0..header.len()).collect(),
        true => src
            .declared
            .iter()
            .filter(|(_, t)| *t == Type::Datetime)
            .filter_map(|(n, _)| header.iter().position(|h| h == n))
            .collect(),
    };
    if all_declared && sampled.is_empty() {
        return Ok(None);
    }
    let seen = super::csv_inference::seen(pieces, &sampled, (!all_declared, src.read.decimal_comma), SAMPLE)?;
    Ok(Some((sampled, seen)))
}

/// Every column of the files as text, in pieces, to infer their types and
/// sample and check their values: for files that can be cut whose header
/// names are the reader's (no name twice or holding a quote). Ragged
/// records (read under `on_error: skip`) are cut to the header's length
/// or made whole with nulls, as the reader's inference takes them.
fn text_pieces(src: &SourceInfo, l: &Layout, header: &[String], shapes: &[Option<Shape>]) -> Option<Pieces> {
    let distinct: std::collections::HashSet<&String> = header.iter().collect();
    if distinct.len() != header.len() || header.iter().any(|h| h.contains('"')) {
        return None;
    }
    let cuts: Vec<Vec<super::files::Cut>> = shapes
        .iter()
        .map(|s| s.as_ref().map(|s| s.cuts.clone()))
        .collect::<Option<_>>()?;
    let text: Schema = header
        .iter()
        .map(|h| Field::new(h.as_str().into(), DataType::String))
        .collect();
    let cut = (&l.files[..], &l.text, &cuts[..], super::csv_pieces::PIECE);
    let rows = (&l.starts[..], &l.blank[..]);
    Pieces::new(
        cut,
        rows,
        Arc::new(text),
        parse_options(src, skips(src)),
        Vec::new(),
    )
    .ok()
    .flatten()
}

/// The first non-null values of each column, as text, in one pass.
fn samples(src: &SourceInfo, l: &Layout, columns: &[String]) -> PolarsResult<HashMap<String, Vec<String>>> {
    if columns.is_empty() {
        return Ok(HashMap::new());
    }
    let firsts: Vec<Expr> = columns
        .iter()
        .map(|c| {
            col(c.as_str())
                .cast(DataType::String)
                .drop_nulls()
                .head(Some(SAMPLE))
                .implode(false)
        })
        .collect();
    let df = read(src, l, Some(l.read_schema.clone()), false)?
        .select(firsts)
        .collect()?;
    let mut out = HashMap::new();
    for c in columns {
        let values = df
            .column(c)?
            .list()?
            .get_as_series(0)
            .map(|s| {
                s.str()
                    .map(|x| x.iter().flatten().map(str::to_string).collect())
                    .unwrap_or_default()
            })
            .unwrap_or_default();
        out.insert(c.clone(), values);
    }
    Ok(out)
}

/// Text columns whose every value is a date, a datetime or (with
/// `decimal_comma`) a number: guessed on a sample, verified on all rows.
fn detect(
    src: &SourceInfo,
    l: &Layout,
    text: Option<&Pieces>,
    columns: &[String],
    samples: &HashMap<String, Vec<String>>,
) -> PolarsResult<Detected> {
    let zone = src.read.timezone.as_ref().map(|z| z.value.clone());
    let mut guesses = Vec::new();
    for c in columns {
        let Some(values) = samples.get(c).filter(|v| !v.is_empty()) else {
            continue;
        };
        if let Some(g) = guess(values, src, zone.clone()) {
            guesses.push((c.clone(), g));
        }
    }
    let (mut found, mut near) = verified(src, l, text, guesses)?;
    // A column of dates whose first value with a time of day comes after
    // the sample: datetimes, its dates at midnight (verified again).
    let later: Vec<(String, Conversion)> = near
        .iter()
        .filter(|n| n.looked_like == Type::Date)
        .filter_map(|n| Some((n.column.clone(), later_datetimes(&n.value, zone.clone())?)))
        .collect();
    if !later.is_empty() {
        let (times, _) = verified(src, l, text, later)?;
        near.retain(|n| !times.iter().any(|(c, _)| c == &n.column));
        found.extend(times);
    }
    Ok((found, near))
}

/// The `guesses` that every value of their column fits, and the first
/// value of each other.
fn verified(
    src: &SourceInfo,
    l: &Layout,
    text: Option<&Pieces>,
    guesses: Vec<(String, Conversion)>,
) -> PolarsResult<Detected> {
    if guesses.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    // Verified on every row: a value that does not convert keeps the column
    // text, and is remembered to explain why. In the same pass, numbers
    // the reader left text for an integer too long for 64 bits (an
    // identifier, as a rule) stay text as it does, without a word: as
    // floats two such values would become one.
    let columns: Vec<(&str, &Conversion)> = guesses.iter().map(|(c, g)| (c.as_str(), g)).collect();
    let plain_numbers: Vec<usize> = (0..columns.len())
        .filter(|&i| matches!(columns[i].1, Conversion::Number(form) if form.is_plain()))
        .collect();
    let mut checks = unconverted_checks(&columns);
    checks.extend(
        plain_numbers
            .iter()
            .map(|&i| (columns[i].0, long_integer(columns[i].0))),
    );
    let mut bad = first_where_in(src, l, text, &checks)?;
    let mut long = vec![false; columns.len()];
    for (&i, hit) in plain_numbers.iter().zip(bad.split_off(columns.len())) {
        long[i] = hit.is_some();
    }
    let mut found = Vec::new();
    let mut near = Vec::new();
    for (((c, g), bad), long) in guesses.into_iter().zip(bad).zip(long) {
        if long {
            continue;
        }
        match bad {
            Some((value, row)) => {
                let (file, line) = place_of(l, row);
                near.push(NearMiss {
                    column: c,
                    looked_like: g.ty(),
                    value,
                    file,
                    line,
                });
            }
            None => found.push((c, g)),
        }
    }
    Ok((found, near))
}

/// A value of a text column that is an integer too long for 64 bits.
fn long_integer(column: &str) -> Expr {
    let text = col(column).str().strip_chars(lit(NULL));
    text.clone()
        .str()
        .contains(lit(r"^[+-]?[0-9]{19,}$"), true)
        .and(text.cast(DataType::Int64).is_null())
}

/// Columns that convert, and near misses.
type Detected = (Vec<(String, Conversion)>, Vec<NearMiss>);

/// The first record index of each file (for places in messages).
fn record_starts(l: &Layout) -> PolarsResult<Vec<u64>> {
    let mut starts = Vec::with_capacity(l.files.len());
    let mut n = 0u64;
    for i in 0..l.files.len() {
        starts.push(n);
        if i + 1 < l.files.len() {
            n += match &l.text {
                Some(t) => super::files::count_records(&t[i]),
                None => super::files::count_records(&std::fs::read(&l.files[i])?),
            };
        }
    }
    Ok(starts)
}

/// With `on_error: skip`: the `ragged` records and records holding a value
/// that their column's type cannot hold.
fn unreadable_records(src: &SourceInfo, l: &Layout, ragged: Vec<u64>) -> PolarsResult<Vec<u64>> {
    let mut out = ragged;
    let mut bad: Option<Expr> = None;
    for (c, conv) in &l.conversions {
        let b = unconverted(c, conv);
        bad = Some(match bad {
            Some(x) => x.or(b),
            None => b,
        });
    }
    if let Some(bad) = bad {
        let df = read(src, l, Some(l.read_schema.clone()), true)?
            .filter(bad)
            .select([col(ROW).cast(DataType::UInt64)])
            .collect()?;
        if let Ok(rows) = df.column(ROW).and_then(|c| c.u64().cloned()) {
            out.extend(rows.iter().flatten());
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// Latin-1 maps bytes to the first 256 code points; Windows-1252 differs in 0x80–0x9F.
fn transcode(bytes: &[u8], e: Encoding) -> Vec<u8> {
    const CP1252: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}',
        '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
    ];
    let text: String = bytes
        .iter()
        .map(|&b| match (e, b) {
            (Encoding::Windows1252, 0x80..=0x9f) => CP1252[(b - 0x80) as usize],
            _ => b as char,
        })
        .collect();
    text.into_bytes()
}

/// A read failure, said with its file and place.
pub fn read_error(src: &SourceInfo, l: &Layout, e: &PolarsError) -> Diagnostic {
    let message = e.to_string();
    let lower = message.to_lowercase();
    if l.text.is_none() && (lower.contains("utf-8") || lower.contains("utf8")) {
        for f in &l.files {
            if let Some((line, column)) = std::fs::read(f)
                .ok()
                .and_then(|b| super::files::first_invalid_utf8(&b))
            {
                return diag::not_utf8(src.span, &src.name, &f.display().to_string(), line, column);
            }
        }
    }
    let separator = src.read.delimiter.as_ref().map_or(',', |d| d.value);
    if let Some(d) = super::files::malformed(src, &l.files, l.text.as_deref().map(|t| &t[..]), separator) {
        return d;
    }
    let path = match l.files.as_slice() {
        [one] => one.display().to_string(),
        _ => src.path_str(),
    };
    diag::data_error(src.span, &src.name, &path, &message)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every column declared: the reader's schema without its inference is
    /// the one its inference gives (names as the reader reads them, quoted,
    /// holding the separator, with a line end of `\r\n`; each column
    /// text). A column not declared, a name twice or a name with a quote
    /// goes to the reader's inference.
    #[test]
    fn all_declared_columns_skip_inference_for_the_same_schema() {
        let dir = std::env::temp_dir().join(format!("kpi-csv-declared-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("d.csv");
        std::fs::write(
            &path,
            "\"id\",amount,\"when, local\",note\r\na,1.5,2024-01-02,\"x, y\"\r\nb,,2024-01-03,\r\n",
        )
        .unwrap();
        let declared = [
            ("id", Type::String),
            ("amount", Type::Number),
            ("when, local", Type::Date),
            ("note", Type::String),
        ];
        let src = |declared: &[(&str, Type)]| csv_source(path.clone(), declared, Default::default());
        let all = src(&declared);
        let files = vec![path.clone()];
        let header = super::super::files::agreeing_header(&all, &files, None, ',').unwrap();
        let layout = Layout::of_files(files, None);
        let as_text: Schema = declared
            .iter()
            .map(|(n, _)| Field::new((*n).into(), DataType::String))
            .collect();
        let inferred = infer(&all, &layout, &as_text).unwrap();
        assert_eq!(all_declared(&all, &header), Some(inferred));
        assert_eq!(all_declared(&src(&declared[..3]), &header), None);
        let twice = ["id", "id"].map(String::from);
        assert_eq!(all_declared(&all, &twice), None);
        // A doubled quote in a name: the reader names it otherwise.
        let quoted = src(&[("say \"hi\"", Type::String)]);
        assert_eq!(all_declared(&quoted, &["say \"hi\"".to_string()]), None);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A CSV text of columns `n`, `t`, `d` drawn from `next`: quoted
    /// separators, line ends and quotes, empty fields, null texts, blank
    /// lines, white space, CRLF, a byte-order mark, no last line end, and
    /// now and then a value its declared type cannot hold.
    /// A CSV source named `d` at `path` (a file or a glob), its columns
    /// `declared`, read with `read`.
    fn csv_source(
        path: PathBuf,
        declared: &[(&str, Type)],
        read: crate::spec::model::ReadOptions,
    ) -> SourceInfo {
        SourceInfo {
            name: "d".into(),
            path,
            format: crate::spec::model::Format::Csv,
            declared: declared.iter().map(|(n, t)| (n.to_string(), *t)).collect(),
            declared_at: Vec::new(),
            span: Default::default(),
            read,
        }
    }

    /// `read:` options with `NA` as null.
    fn na_is_null() -> crate::spec::model::ReadOptions {
        crate::spec::model::ReadOptions {
            null_values: vec![crate::spec::model::Text {
                value: "NA".into(),
                span: Default::default(),
            }],
            ..Default::default()
        }
    }

    /// The file `c{case}_0.csv` in `dir`, or the glob of a case's files.
    fn case_path(dir: &std::path::Path, case: usize, files: usize) -> PathBuf {
        match files {
            1 => dir.join(format!("c{case}_0.csv")),
            _ => dir.join(format!("c{case}_*.csv")),
        }
    }

    fn random_csv(next: &mut impl FnMut(usize) -> usize) -> String {
        const N: [&str; 8] = ["1", "2.5", "-3", "", "NA", " 4 ", "1e3", "7"];
        const T: [&str; 8] = [
            "x",
            "\"a,b\"",
            "\"q\"\"q\"",
            "\"line\nbreak\"",
            "",
            "NA",
            " sp ",
            "\"\"",
        ];
        const D: [&str; 6] = ["2024-01-02", "", "NA", "2023-12-31", " 2024-02-29 ", "2024-03-04"];
        let end = ["\n", "\r\n"][next(2)];
        let mut text = String::from(["", "\u{feff}"][usize::from(next(8) == 0)]);
        text.push_str(&format!("n,t,d{end}"));
        for _ in 0..next(14) {
            match next(12) {
                0 => text.push_str(end),
                1 => text.push_str(&format!("  {end}")),
                2 if next(6) == 0 => text.push_str(&format!("abc,x,2024-01-01{end}")),
                3 if next(6) == 0 => text.push_str(&format!("1,x,2024-13-01{end}")),
                _ => text.push_str(&format!("{},{},{}{end}", N[next(8)], T[next(8)], D[next(6)])),
            }
        }
        if next(3) == 0 {
            let kept = text.trim_end_matches(['\r', '\n']).len();
            text.truncate(kept);
        }
        text
    }

    /// Read in pieces cut at every record, or a few records apart, or
    /// whole, a source has the rows and values of Polars' reader over its
    /// files (both fail where one does): every column, a few, none (rows
    /// counted), over one file and over two.
    #[test]
    fn pieces_read_what_the_reader_reads() {
        let dir = std::env::temp_dir().join(format!("kpi-csv-pieces-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut next = crate::testing::random_below(11);
        let (mut compared, mut failed) = (0, 0);
        for case in 0..300 {
            let names: Vec<PathBuf> = (0..1 + case % 2)
                .map(|k| dir.join(format!("c{case}_{k}.csv")))
                .collect();
            let texts: Vec<String> = names.iter().map(|_| random_csv(&mut next)).collect();
            for (f, t) in names.iter().zip(&texts) {
                std::fs::write(f, t).unwrap();
            }
            let declared = [("n", Type::Number), ("t", Type::String), ("d", Type::Date)];
            let path = case_path(&dir, case, names.len());
            let src = csv_source(path, &declared[..1 + case % 3], na_is_null());
            let Ok(l) = work_out(&src) else { continue };
            let reader = scan_of(&src, &l, false).unwrap();
            // A row for each record but the header and blank ones.
            let records: usize = texts
                .iter()
                .map(|t| super::super::files::data_records(t.as_bytes()))
                .sum();
            let rows = reader.clone().select([col("t")]).collect().unwrap().height();
            assert_eq!(rows, records, "{texts:?}");
            for least in [1, 20, 1 << 20] {
                let cuts: Vec<Vec<super::super::files::Cut>> = texts
                    .iter()
                    .map(|t| super::super::files::every_cut(t.as_bytes(), b','))
                    .collect();
                let parse = parse_options(&src, false);
                let made = Pieces::new(
                    (&l.files, &None, &cuts, least),
                    (&l.starts, &l.blank),
                    l.read_schema.clone(),
                    parse,
                    conversions(&l, true),
                );
                let Some(pieces) = made.unwrap() else {
                    assert!(l.pieces.is_none(), "{texts:?}");
                    continue;
                };
                let ours = super::super::csv_pieces::scan(Arc::new(pieces)).unwrap();
                let few = [col("d"), col("n")];
                for (a, b) in [
                    (ours.clone(), reader.clone()),
                    (
                        ours.clone().select(few.clone()),
                        reader.clone().select(few.clone()),
                    ),
                    (ours.clone().select([col("t")]), reader.clone().select([col("t")])),
                    // No column asked; the reader's rows counted from a column.
                    (
                        ours.clone().select([len().cast(DataType::UInt64)]),
                        reader
                            .clone()
                            .select([col("t").len().cast(DataType::UInt64).alias("len")]),
                    ),
                ] {
                    match (a.collect(), b.collect()) {
                        (Ok(a), Ok(b)) => {
                            assert!(a.equals_missing(&b), "{texts:?} by {least}:\n{a}\n{b}");
                            compared += 1;
                        }
                        (Err(_), Err(_)) => failed += 1,
                        (a, b) => panic!("{texts:?} by {least}: {a:?}\n{b:?}"),
                    }
                }
            }
        }
        // Both kinds of case were met.
        assert!(compared > 1_000 && failed > 10, "{compared} {failed}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A file of three columns whose values are each drawn from three of
    /// many spellings of numbers, booleans, texts and nulls (quoted or
    /// not), so that columns are often of one type and sometimes of two;
    /// now and then a ragged record. With the same file where each `""`
    /// is written as nothing (an empty value, which it means) and the
    /// integer too long for 64 bits as a word (kpi reads it as text).
    fn random_typed_csv(next: &mut impl FnMut(usize) -> usize) -> (String, String) {
        const LONG: &str = "99999999999999999999";
        const V: [&str; 26] = [
            "1",
            "-2",
            "007",
            "2.5",
            ".5",
            "1e3",
            "inf",
            "NaN",
            "true",
            "FALSE",
            "x",
            "\"3\"",
            "\"\"",
            "",
            "NA",
            "\"NA\"",
            " 4 ",
            LONG,
            "+1",
            "1.",
            "\"a,b\"",
            "\"q\"\"q\"",
            "-",
            "-.5",
            "\"1.5\"",
            "\"\"\"\"",
        ];
        let end = ["\n", "\r\n"][next(2)];
        let kinds: Vec<[&str; 3]> = (0..3).map(|_| [V[next(26)], V[next(26)], V[next(26)]]).collect();
        let mut rows: Vec<Vec<&str>> = Vec::new();
        for _ in 0..next(30) {
            match next(15) {
                0 => rows.push(Vec::new()),
                // Ragged: a field short, or one too many.
                1 if next(4) == 0 => rows.push(vec![kinds[0][0], kinds[1][0]]),
                2 if next(4) == 0 => rows.push(vec![kinds[0][0], kinds[1][0], kinds[2][0], "9"]),
                _ => {
                    // Mostly each column's first spelling, now and then another.
                    let row: Vec<&str> = kinds
                        .iter()
                        .map(|k| {
                            let of = if next(4) == 0 { 3 } else { 1 };
                            k[next(of)]
                        })
                        .collect();
                    rows.push(row);
                }
            }
        }
        let cut = next(3) == 0;
        let text = |reference: bool| {
            let mut text = format!("a,b,c{end}");
            for row in &rows {
                let row: Vec<&str> = row
                    .iter()
                    .map(|v| match (*v, reference) {
                        ("\"\"", true) => "",
                        (LONG, true) => "L99999999999999999999",
                        (v, _) => v,
                    })
                    .collect();
                text.push_str(&row.join(","));
                text.push_str(end);
            }
            if cut {
                let kept = text.trim_end_matches(['\r', '\n']).len();
                text.truncate(kept);
            }
            text
        };
        (text(false), text(true))
    }

    /// Read as text in pieces cut at every record, or a few records
    /// apart, or whole, a source's columns have the types Polars' reader
    /// infers from its files (each file's, then the wider of the files')
    /// and the sample of values the reader gives, but for `""`, which is
    /// an empty value (the reader's are taken of the files with nothing
    /// there instead); where one fails, so does the other. Files on disk
    /// and transcoded from Latin-1, ragged records refused or skipped.
    #[test]
    fn types_inferred_in_pieces_are_the_readers() {
        let dir = std::env::temp_dir().join(format!("kpi-csv-infer-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("ref")).unwrap();
        let mut next = crate::testing::random_below(3);
        let (mut compared, mut failed, mut kinds) = (0, 0, std::collections::HashSet::new());
        let (mut transcoded, mut skipping) = (0, 0);
        for case in 0..600 {
            let names: Vec<String> = (0..1 + case % 2).map(|k| format!("c{case}_{k}.csv")).collect();
            let texts: Vec<(String, String)> = names.iter().map(|_| random_typed_csv(&mut next)).collect();
            for (f, (t, reference)) in names.iter().zip(&texts) {
                std::fs::write(dir.join(f), t).unwrap();
                std::fs::write(dir.join("ref").join(f), reference).unwrap();
            }
            // The reference read as UTF-8 (the texts are ASCII): the
            // reader infers a file's types lazily, a text's by reading it.
            let source = |dir: &std::path::Path, latin: bool| {
                let read = crate::spec::model::ReadOptions {
                    encoding: latin
                        .then_some(crate::span::Spanned::new(Encoding::Latin1, Default::default())),
                    on_error: (case % 5 == 0)
                        .then_some(crate::span::Spanned::new(OnError::Skip, Default::default())),
                    ..na_is_null()
                };
                csv_source(case_path(dir, case, names.len()), &[], read)
            };
            let (src, reference) = (source(&dir, case % 3 == 2), source(&dir.join("ref"), false));
            let (Ok(l), Ok(l_ref)) = (work_out(&src), work_out(&reference)) else {
                continue;
            };
            // The reader's samples, where it can read the file with the
            // types it infers (a 20-digit integer it cannot).
            let theirs = infer(&reference, &l_ref, &Schema::default()).map(|schema| {
                let columns: Vec<String> = schema.iter_names().map(|n| n.to_string()).collect();
                let sample = samples(&reference, &l_ref, &columns).ok();
                (schema, sample)
            });
            // The layout's own inference, in pieces of its size.
            if let Ok((schema, _)) = &theirs {
                assert_eq!(&*l.read_schema, schema, "{texts:?}");
            }
            let header = ["a", "b", "c"].map(String::from);
            let text: Schema = header
                .iter()
                .map(|h| Field::new(h.as_str().into(), DataType::String))
                .collect();
            transcoded += usize::from(l.text.is_some());
            skipping += usize::from(skips(&src));
            for least in [1, 20, 1 << 20] {
                let cuts: Vec<Vec<super::super::files::Cut>> = texts
                    .iter()
                    .map(|(t, _)| super::super::files::every_cut(t.as_bytes(), b','))
                    .collect();
                let made = Pieces::new(
                    (&l.files, &l.text, &cuts, least),
                    (&l.starts, &l.blank),
                    Arc::new(text.clone()),
                    parse_options(&src, skips(&src)),
                    Vec::new(),
                );
                // No line end after the header: not read in pieces.
                let Some(pieces) = made.unwrap() else { continue };
                let ours = super::super::csv_inference::seen(&pieces, &[0, 1, 2], (true, false), SAMPLE);
                match (&theirs, ours) {
                    (Ok((schema, sample)), Ok(seen)) => {
                        let files = seen.schemas(&header);
                        assert_eq!(&merged(files, &Schema::default()), schema, "{texts:?} by {least}");
                        // Samples are taken of text columns.
                        for (h, values) in header.iter().zip(&seen.samples) {
                            if let (Some(sample), Some(DataType::String)) = (sample, schema.get(h)) {
                                let sample: Vec<String> =
                                    sample[h].iter().map(|v| v.replace("L9", "9")).collect();
                                assert_eq!(values, &sample, "{texts:?} by {least}");
                            }
                        }
                        kinds.extend(schema.iter_values().cloned());
                        compared += 1;
                    }
                    (Err(_), Err(_)) => failed += 1,
                    (a, b) => panic!(
                        "{texts:?} by {least}: {:?}\n{:?}",
                        a.as_ref().map(|a| &a.0),
                        b.map(|b| b.types)
                    ),
                }
            }
        }
        // Columns of each type were met, and both kinds of case.
        assert!(
            compared > 900 && transcoded > 100 && skipping > 50,
            "{compared} {failed} {transcoded} {skipping}"
        );
        assert_eq!(kinds.len(), 4, "{kinds:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The first value a conversion rejects, and its record, found in
    /// pieces (cut at every record, a few records apart, whole) are the
    /// ones found by the reader, blank and quoted lines before it or not.
    #[test]
    fn first_unconverted_values_in_pieces_are_the_readers() {
        let dir = std::env::temp_dir().join(format!("kpi-csv-unconverted-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut next = crate::testing::random_below(7);
        let date = Conversion::Date {
            format: "%Y-%m-%d".into(),
        };
        let number = Conversion::Number(NumberForm::default());
        let columns = [("d", &date), ("t", &number)];
        let (mut found, mut compared) = (0, 0);
        for case in 0..300 {
            let names: Vec<PathBuf> = (0..1 + case % 2)
                .map(|k| dir.join(format!("c{case}_{k}.csv")))
                .collect();
            let texts: Vec<String> = names.iter().map(|_| random_csv(&mut next)).collect();
            for (f, t) in names.iter().zip(&texts) {
                std::fs::write(f, t).unwrap();
            }
            let path = case_path(&dir, case, names.len());
            let src = csv_source(
                path,
                &[("d", Type::String), ("t", Type::String)],
                Default::default(),
            );
            let Ok(l) = work_out(&src) else { continue };
            let Ok(theirs) = first_unconverted(&src, &l, &columns) else {
                continue;
            };
            let text: Schema = ["n", "t", "d"]
                .iter()
                .map(|h| Field::new((*h).into(), DataType::String))
                .collect();
            for least in [1, 20, 1 << 20] {
                let cuts: Vec<Vec<super::super::files::Cut>> = texts
                    .iter()
                    .map(|t| super::super::files::every_cut(t.as_bytes(), b','))
                    .collect();
                let made = Pieces::new(
                    (&l.files, &None, &cuts, least),
                    (&l.starts, &l.blank),
                    Arc::new(text.clone()),
                    parse_options(&src, false),
                    Vec::new(),
                );
                let Some(pieces) = made.unwrap() else { continue };
                let ours = first_where_in_pieces(&pieces, &unconverted_checks(&columns)).unwrap();
                assert_eq!(ours, theirs, "{texts:?} by {least}");
                found += ours.iter().flatten().count();
                compared += 1;
            }
        }
        // Columns with a value rejected were met, many times.
        assert!(compared > 500 && found > 300, "{compared} {found}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A line of white space is no record: it does not make the first
    /// column text (the reader's inference would).
    #[test]
    fn a_line_of_spaces_does_not_make_a_column_text() {
        let dir = std::env::temp_dir().join(format!("kpi-csv-spaces-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("d.csv");
        std::fs::write(&path, "n,t\n1,a\n   \n2.5,b\n").unwrap();
        let src = csv_source(path.clone(), &[], Default::default());
        let l = work_out(&src).unwrap();
        assert_eq!(l.read_schema.get("n"), Some(&DataType::Float64));
        let df = scan_of(&src, &l, true).unwrap().collect().unwrap();
        assert_eq!(
            df.column("n").unwrap().f64().unwrap().to_vec(),
            [Some(1.0), Some(2.5)]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Two scans of one file's pieces collected together, as two units of
    /// a query are, finish (each piece's conversion asks Polars' pool for
    /// work while the scans hold its threads) and read every row.
    #[test]
    fn two_scans_of_pieces_collected_together_finish() {
        let dir = std::env::temp_dir().join(format!("kpi-csv-two-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("d.csv");
        // n is 1..=200, t is "x" on every third row, d a day of January.
        let mut text = String::from("n,t,d\n");
        for i in 1..=200 {
            let t = if i % 3 == 0 { "x" } else { "y" };
            text.push_str(&format!("{i},{t},2025-01-{:02}\n", 1 + i % 28));
        }
        std::fs::write(&path, &text).unwrap();
        let declared = [("n", Type::Number), ("t", Type::String), ("d", Type::Date)];
        let src = csv_source(path.clone(), &declared, Default::default());
        let l = work_out(&src).unwrap();
        let cuts = vec![super::super::files::every_cut(text.as_bytes(), b',')];
        let pieces = Pieces::new(
            (&l.files, &None, &cuts, 1),
            (&l.starts, &l.blank),
            l.read_schema.clone(),
            parse_options(&src, false),
            conversions(&l, true),
        )
        .unwrap()
        .map(Arc::new)
        .unwrap();
        let (send, recv) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let scan = || super::super::csv_pieces::scan(pieces.clone()).unwrap();
            // Two conversions in each (numbers and dates), asked of the pool at once.
            let sum = scan().select([col("n").sum(), col("d").max()]);
            let xs = scan()
                .filter(col("t").eq(lit("x")))
                .select([col("n").count().cast(DataType::Float64), col("d").min()]);
            // Each on a thread of the pool, as Polars runs two plans at once.
            let (a, b) = polars_core::runtime::RAYON.join(|| sum.collect(), || xs.collect());
            let _ = send.send(a.and_then(|a| Ok(vec![a, b?])));
        });
        let frames = recv
            .recv_timeout(std::time::Duration::from_secs(120))
            .expect("two scans of one file's pieces did not finish")
            .unwrap();
        let first = |df: &DataFrame| {
            df.columns()[0]
                .cast(&DataType::Float64)
                .unwrap()
                .f64()
                .unwrap()
                .get(0)
        };
        // 1 + … + 200, and the 66 multiples of 3.
        assert_eq!(first(&frames[0]), Some(20_100.0));
        assert_eq!(first(&frames[1]), Some(66.0));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn windows_1252_and_latin_1() {
        assert_eq!(
            String::from_utf8(transcode(b"caf\xe9 \x80", Encoding::Windows1252)).unwrap(),
            "café €"
        );
        assert_eq!(
            String::from_utf8(transcode(b"caf\xe9", Encoding::Latin1)).unwrap(),
            "café"
        );
    }
}
