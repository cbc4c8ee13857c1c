//! CSV as people get it (LANGUAGE.md §2a): the `read:` options, types
//! inferred from the whole file (a `12.5` after row 10,000 still makes the
//! column a number), dates in a declared format, datetimes with UTC offsets
//! converted to a declared zone, Latin-1 and Windows-1252 files, globs whose
//! files must agree, and rows that cannot be read either refused with their
//! place or skipped and counted.
//!
//! A source's [`Layout`] (its files, the schema the reader is given, the
//! conversions after it, its blank records, its pieces) is worked out once
//! per process (`work_out`) and cached: every scan of the source then
//! reads with that schema and infers nothing. A file on disk is read in
//! pieces on the cores (`pieces`) where it can be, its types inferred there
//! too (`inference`); otherwise by Polars' reader, and the rows it makes of
//! blank lines dropped. Files in another encoding are transcoded once
//! (`encoding`). What a text column's values look like is guessed from a
//! sample (`data::text::guess`), verified on every value, and each column
//! converted to its type by an expression (`data::text::conversion`); a
//! declared column's values that its type cannot hold are found by
//! `contradictions`.

mod contradictions;
mod encoding;
mod inference;
mod pieces;
mod shape;
mod work_out;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use polars::prelude::*;

use super::diagnostics as diag;
use super::text::conversion::Conversion;
use super::SourceInfo;
use crate::check::types::Type;
use crate::diagnostic::Diagnostic;
use crate::spec::model::OnError;
pub use contradictions::{contradictions, Contradiction};
pub(crate) use encoding::utf16_order;
use pieces::Pieces;
use work_out::work_out;

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
    /// Records of the header's number of empty fields (`,,`), by record
    /// index: rows of nulls, kept, and said by `kpi check --data`.
    pub empty_rows: Vec<u64>,
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
    /// Float columns of a `;`-separated file written as `.` between
    /// thousands writes them (`12.500`), with an example.
    pub dotted_thousands: Vec<(String, String)>,
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
    pieces::scan(Arc::new(pieces.part(from, to))).map_err(|e| read_error(src, &l, &e))
}

/// [`scan`] of a worked-out layout.
fn scan_of(src: &SourceInfo, l: &Layout, in_pieces: bool) -> Result<LazyFrame, Diagnostic> {
    let skip = skips(src);
    if let (Some(pieces), true) = (&l.pieces, in_pieces) {
        return pieces::scan(pieces.clone()).map_err(|e| read_error(src, l, &e));
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
            (Some(texts), _) => shape::record_lines(texts.get(f).map_or(&[][..], |t| &t[..]), &wanted),
            (None, Some(path)) => {
                std::fs::File::open(path).and_then(|file| shape::record_lines(file, &wanted))
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
    // Under `on_error: skip` records with more fields than the header are
    // cut to its length (they are dropped by their index where rows are
    // read, and sampled as the pieces sample them): the reader stops at
    // them otherwise, whatever `ignore_errors` says.
    let parse = parse_options(src, row_index || skips(src));
    // Under `on_error: skip` the types were inferred without the records
    // to skip (a footer's `"Confidential Information"` under `amount`):
    // their values may not parse, and those rows are dropped after the
    // read; every other value parses, as inference saw.
    let ignore_errors = skips(src);
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
                    .with_ignore_errors(ignore_errors)
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
                    .with_ignore_errors(ignore_errors)
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
            empty_rows: Vec::new(),
            near_misses: Vec::new(),
            date_hints: Vec::new(),
            repeated: Vec::new(),
            thousands_hints: Vec::new(),
            currency_hints: Vec::new(),
            percent_hints: Vec::new(),
            leading_zeros: Vec::new(),
            dotted_thousands: Vec::new(),
            padded: Vec::new(),
            case_twins: Vec::new(),
            pieces: None,
        }
    }
}

/// Whether records that cannot be read are skipped (`on_error: skip`).
fn skips(src: &SourceInfo) -> bool {
    src.read
        .on_error
        .as_ref()
        .is_some_and(|o| o.value == OnError::Skip)
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
    if let Some(d) = shape::malformed(src, &l.files, l.text.as_deref().map(|t| &t[..]), separator) {
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
    use super::contradictions::{first_unconverted, first_where_in_pieces, unconverted_checks};
    use super::encoding::transcode;
    use super::work_out::{all_declared, infer, merged, samples, SAMPLE};
    use super::*;
    use crate::data::text::conversion::NumberForm;
    use crate::spec::model::Encoding;

    /// Every column declared: the reader's schema without its inference is
    /// the one its inference gives (names as the reader reads them, quoted,
    /// holding the separator, with a line end of `\r\n`; each column
    /// text). A column not declared, a name twice or a name with a quote
    /// goes to the reader's inference.
    #[test]
    fn all_declared_columns_skip_inference_for_the_same_schema() {
        let dir = crate::testing::temp_dir("csv-declared");
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
        let header = shape::agreeing_header(&all, &files, None, ',').unwrap();
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

    /// The random CSV files of case `case` (one or two), written in `dir`:
    /// their paths and texts.
    fn random_case(
        dir: &std::path::Path,
        case: usize,
        next: &mut impl FnMut(usize) -> usize,
    ) -> (Vec<PathBuf>, Vec<String>) {
        let names: Vec<PathBuf> = (0..1 + case % 2)
            .map(|k| dir.join(format!("c{case}_{k}.csv")))
            .collect();
        let texts: Vec<String> = names.iter().map(|_| random_csv(&mut *next)).collect();
        for (f, t) in names.iter().zip(&texts) {
            std::fs::write(f, t).unwrap();
        }
        (names, texts)
    }

    /// Read in pieces cut at every record, or a few records apart, or
    /// whole, a source has the rows and values of Polars' reader over its
    /// files (both fail where one does): every column, a few, none (rows
    /// counted), over one file and over two.
    #[test]
    fn pieces_read_what_the_reader_reads() {
        let dir = crate::testing::temp_dir("csv-pieces");
        let mut next = crate::testing::random_below(11);
        let (mut compared, mut failed) = (0, 0);
        for case in 0..300 {
            let (names, texts) = random_case(&dir, case, &mut next);
            let declared = [("n", Type::Number), ("t", Type::String), ("d", Type::Date)];
            let path = case_path(&dir, case, names.len());
            let src = csv_source(path, &declared[..1 + case % 3], na_is_null());
            let Ok(l) = work_out(&src) else { continue };
            let reader = scan_of(&src, &l, false).unwrap();
            // A row for each record but the header and blank ones.
            let records: usize = texts.iter().map(|t| shape::data_records(t.as_bytes())).sum();
            let rows = reader.clone().select([col("t")]).collect().unwrap().height();
            assert_eq!(rows, records, "{texts:?}");
            for least in [1, 20, 1 << 20] {
                let cuts: Vec<Vec<shape::Cut>> = texts
                    .iter()
                    .map(|t| shape::every_cut(t.as_bytes(), b','))
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
                let ours = pieces::scan(Arc::new(pieces)).unwrap();
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
        let dir = crate::testing::temp_dir("csv-infer");
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
                let sample = samples(&reference, &l_ref, &columns, None).ok();
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
                let cuts: Vec<Vec<shape::Cut>> = texts
                    .iter()
                    .map(|(t, _)| shape::every_cut(t.as_bytes(), b','))
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
                let ours = inference::seen(&pieces, &[0, 1, 2], (true, false), SAMPLE);
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
        let dir = crate::testing::temp_dir("csv-unconverted");
        let mut next = crate::testing::random_below(7);
        let date = Conversion::Date {
            format: "%Y-%m-%d".into(),
        };
        let number = Conversion::Number(NumberForm::default());
        let columns = [("d", &date), ("t", &number)];
        let (mut found, mut compared) = (0, 0);
        for case in 0..300 {
            let (names, texts) = random_case(&dir, case, &mut next);
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
                let cuts: Vec<Vec<shape::Cut>> = texts
                    .iter()
                    .map(|t| shape::every_cut(t.as_bytes(), b','))
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
        let dir = crate::testing::temp_dir("csv-spaces");
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
        let dir = crate::testing::temp_dir("csv-two");
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
        let cuts = vec![shape::every_cut(text.as_bytes(), b',')];
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
            let scan = || pieces::scan(pieces.clone()).unwrap();
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
