//! A dataset's files as one lazy scan: CSV, Parquet and NDJSON files (a
//! glob's files together), their columns as `kpi` reads them (declared
//! types, dates found in text, non-finite numbers as null), read whole, in
//! chunks of rows or in pieces; and the schema a scan gives.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::prelude::*;

use super::finite::{finite_only, non_finite_flag};
use super::{csv, diagnostics, dtype_of, files, ndjson, text, type_of, SourceInfo, BOM};
use crate::check::types::Type;
use crate::diagnostic::Diagnostic;
use crate::spec::model::Format;
/// A reading error of a Parquet or NDJSON source.
pub(super) fn read_error(src: &SourceInfo, e: &PolarsError) -> Diagnostic {
    diagnostics::data_error(src.span, &src.name, &src.path_str(), &e.to_string())
}

/// A lazy scan with every column as its type: declared columns as declared,
/// the others as read (non-finite numbers as null).
pub fn scan(src: &SourceInfo) -> Result<LazyFrame, Diagnostic> {
    scan_on(src, Engine::InMemory)
}

/// [`scan`] for queries collected by `engine`: Polars' streaming engine
/// runs only Polars' own readers, so CSV files are not read in pieces
/// there (see `csv::pieces`).
pub fn scan_on(src: &SourceInfo, engine: Engine) -> Result<LazyFrame, Diagnostic> {
    let lf = match src.format {
        Format::Csv => csv::scan(src, engine != Engine::Streaming)?,
        _ => declared_types(src, scan_other(src)?, true)?,
    };
    with_finite_only(src, lf)
}

/// `lf` with non-finite numbers as null (see [`finite_only`]).
fn with_finite_only(src: &SourceInfo, lf: LazyFrame) -> Result<LazyFrame, Diagnostic> {
    let schema = lf.clone().collect_schema().map_err(|e| read_error(src, &e))?;
    Ok(finite_only(lf, &schema))
}

/// The number of rows of each file of a Parquet dataset, in the order they
/// are read, from the files' footers (`None` for other formats, whose rows
/// are known only by reading them).
pub fn parquet_rows(src: &SourceInfo) -> Result<Option<Vec<u64>>, Diagnostic> {
    if src.format != Format::Parquet {
        return Ok(None);
    }
    let mut rows = Vec::new();
    for file in file_scans(src)?.1 {
        let counted = file
            .select([len().cast(DataType::UInt64).alias("rows")])
            .collect()
            .map_err(|e| read_error(src, &e))?;
        let n = counted
            .column("rows")
            .ok()
            .and_then(|c| c.u64().ok().and_then(|c| c.iter().next().flatten()));
        rows.push(n.unwrap_or(0));
    }
    Ok(Some(rows))
}

/// About how many records each piece of a CSV dataset read in pieces has
/// (see `csv::pieces`); none for other datasets.
pub fn csv_piece_records(src: &SourceInfo) -> Result<Option<Vec<usize>>, Diagnostic> {
    match src.format {
        Format::Csv if !crate::spec::model::is_object_url(&src.path_str()) => csv::piece_records(src),
        _ => Ok(None),
    }
}

/// The pieces `from..to` of a CSV dataset read in pieces, as [`scan`] gives
/// the whole dataset.
pub fn scan_csv_pieces(src: &SourceInfo, from: usize, to: usize) -> Result<LazyFrame, Diagnostic> {
    with_finite_only(src, csv::scan_pieces(src, from, to)?)
}

/// One file of a Parquet or NDJSON dataset (`file`: its place in the order
/// the files are read), as [`scan`] gives the whole dataset.
pub fn scan_file(src: &SourceInfo, file: usize) -> Result<LazyFrame, Diagnostic> {
    let files = files::expand(src)?;
    let Some(path) = files.get(file) else {
        return Err(read_error(src, &PolarsError::NoData("no such file".into())));
    };
    let mut lf = file_scan(src, path)?;
    // Each column of the type the glob's files join to: a file of
    // integers read alone beside one of floats would keep 3 for 3.7 in
    // the maximum, and count 3 and 3.0 as two values.
    if files.len() > 1 {
        let joined = joined_schema(src, &files)?;
        let own = lf.collect_schema().map_err(|e| read_error(src, &e))?;
        let casts: Vec<Expr> = own
            .iter()
            .filter_map(|(n, t)| {
                let wider = joined.get(n).filter(|&w| w != t)?;
                Some(col(n.clone()).cast(wider.clone()))
            })
            .collect();
        if !casts.is_empty() {
            lf = lf.with_columns(casts);
        }
    }
    let lf = declared_types(src, lf, true)?;
    with_finite_only(src, lf)
}

/// The schema the files of a glob join to ([`together`]), worked out once
/// while the files are unchanged: each chunk of each file asks it.
fn joined_schema(src: &SourceInfo, files: &[PathBuf]) -> Result<SchemaRef, Diagnostic> {
    type Stamped = Vec<(PathBuf, Option<(std::time::SystemTime, u64)>)>;
    static CACHE: std::sync::OnceLock<std::sync::Mutex<HashMap<Stamped, SchemaRef>>> =
        std::sync::OnceLock::new();
    let key: Stamped = files.iter().map(|f| (f.clone(), files::modified(f))).collect();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(found) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(found);
    }
    let joined = scan_other(src)?
        .collect_schema()
        .map_err(|e| read_error(src, &e))?;
    if let Ok(mut c) = cache.lock() {
        c.insert(key, joined.clone());
    }
    Ok(joined)
}

/// Parquet and NDJSON as stored, declared types not applied (a glob must
/// match something).
pub(super) fn scan_other(src: &SourceInfo) -> Result<LazyFrame, Diagnostic> {
    let (files, frames) = file_scans(src)?;
    together(src, &files, frames)
}

/// The files of a glob as one frame, their columns joined by name, each
/// of the type that holds every file's values (integers in one file and
/// floats in another are numbers). An NDJSON file's records may lack a
/// field, or have only nulls in it; Parquet files have the same columns,
/// in any order.
fn together(
    src: &SourceInfo,
    files: &[PathBuf],
    mut frames: Vec<LazyFrame>,
) -> Result<LazyFrame, Diagnostic> {
    if frames.len() == 1 {
        return Ok(frames.pop().unwrap_or_default());
    }
    let schemas: Vec<_> = frames.iter_mut().map(|f| f.collect_schema().ok()).collect();
    if src.format != Format::Ndjson {
        if let Some(d) = columns_differ(src, files, &schemas) {
            return Err(d);
        }
    }
    let args = UnionArgs {
        diagonal: true,
        to_supertypes: true,
        ..UnionArgs::default()
    };
    let mut joined = concat(frames, args).map_err(|e| read_error(src, &e))?;
    match joined.collect_schema() {
        Ok(_) => Ok(joined),
        // The reader says "failed to determine supertype of i64 and
        // list[i64]": the field and the files are named instead.
        Err(e) => Err(match super::kinds::files_unjoinable(files, &schemas) {
            Some((column, (one, kind), (other, other_kind))) => diagnostics::kinds_differ(
                src.span,
                &src.name,
                (&other.display().to_string(), other_kind),
                (&one.display().to_string(), kind),
                &column,
            ),
            None => read_error(src, &e),
        }),
    }
}

/// Parquet files of one glob whose columns are not the same (in any
/// order), as the first file and one other, with a column only one has.
fn columns_differ(src: &SourceInfo, files: &[PathBuf], schemas: &[Option<SchemaRef>]) -> Option<Diagnostic> {
    let first = schemas.first()?.as_ref()?;
    let only = |a: &SchemaRef, b: &SchemaRef| a.iter_names().find(|n| !b.contains(n)).cloned();
    for (i, other) in schemas.iter().enumerate().skip(1) {
        let Some(other) = other else { continue };
        let Some(column) = only(first, other).or_else(|| only(other, first)) else {
            continue;
        };
        return Some(diagnostics::columns_differ(
            src.span,
            &src.name,
            &files.first()?.display().to_string(),
            &files.get(i)?.display().to_string(),
            &column,
        ));
    }
    None
}

/// Each file of a Parquet or NDJSON dataset, and its scan as stored, in
/// the order read (NDJSON files without a record left out: a source of
/// none is one empty scan of no file).
fn file_scans(src: &SourceInfo) -> Result<(Vec<PathBuf>, Vec<LazyFrame>), Diagnostic> {
    if src.format != Format::Ndjson {
        let files = files::expand(src)?;
        let frames = files
            .iter()
            .map(|p| file_scan(src, p))
            .collect::<Result<_, _>>()?;
        return Ok((files, frames));
    }
    let files = ndjson_files(src)?;
    if files.is_empty() {
        return no_records(src).map(|empty| (files, vec![empty]));
    }
    // The dates are the source's, worked out once for all its files.
    let dates = dates_of(src, &files)?;
    let frames = files
        .iter()
        .map(|p| ndjson::with_dates(src, ndjson_texts(src, p)?, &dates))
        .collect::<Result<_, _>>()?;
    Ok((files, frames))
}

/// The files of an NDJSON dataset that hold a record. A file without one
/// (empty, or blank lines: an export of no rows) is a valid NDJSON file
/// that adds no rows; the reader would stop at it, unable to type it.
fn ndjson_files(src: &SourceInfo) -> Result<Vec<PathBuf>, Diagnostic> {
    // A file that cannot be opened (an object that cannot be fetched) is
    // left to the reader, which says what is wrong with it.
    let empty = |f: &PathBuf| matches!(ndjson::has_records(f), Ok(false));
    Ok(files::expand(src)?.into_iter().filter(|f| !empty(f)).collect())
}

/// A dataset whose files hold no record: no rows, of its declared
/// columns; without declared columns nothing says what it holds.
fn no_records(src: &SourceInfo) -> Result<LazyFrame, Diagnostic> {
    if src.declared.is_empty() {
        return Err(diagnostics::no_records(src.span, &src.name, &src.path_str()));
    }
    let columns: Vec<Column> = src
        .declared
        .iter()
        .map(|(name, t)| Column::new_empty(name.as_str().into(), &dtype_of(*t)))
        .collect();
    DataFrame::new(0, columns)
        .map(DataFrame::lazy)
        .map_err(|e| read_error(src, &e))
}

/// One file of a Parquet or NDJSON dataset as stored.
fn file_scan(src: &SourceInfo, path: &Path) -> Result<LazyFrame, Diagnostic> {
    if src.format == Format::Ndjson {
        return ndjson::with_dates(src, ndjson_texts(src, path)?, &*ndjson_dates(src)?);
    }
    let fields = parquet_fields(path, src.is_glob());
    if let Some((file, column, ty)) = fields.unreadable {
        return Err(diagnostics::unreadable_column_type(
            src.span, &src.name, &file, &column, &ty,
        ));
    }
    let shown = path.display().to_string();
    let path = PlRefPath::new(path.to_string_lossy().into_owned());
    // Polars stops the process on a type it cannot convert when it reads
    // the schema; local files were checked above, others (in object
    // storage) are caught here.
    let zone = src.read.timezone.as_ref().map(|z| z.value.clone());
    crate::panics::quietly(|| {
        LazyFrame::scan_parquet(path, ScanArgsParquet::default())
            .and_then(|lf| as_kpi_reads(lf, zone.as_deref(), &fields.date64))
    })
    .map_err(|why| diagnostics::unreadable_file_types(src.span, &src.name, &shown, &why))?
    .map_err(|e| match crate::spec::model::is_object_url(&shown) {
        true => diagnostics::object_store_error(src.span, &src.name, &shown, src.is_glob(), &e.to_string()),
        false => read_error(src, &e),
    })
}

/// The text fields of an NDJSON source that are dates, and those one value
/// kept from being dates (see [`ndjson::dates`]).
pub(super) fn ndjson_dates(src: &SourceInfo) -> Result<Arc<ndjson::Dates>, Diagnostic> {
    dates_of(src, &ndjson_files(src)?)
}

/// [`ndjson_dates`] of the source's `files` that hold a record.
fn dates_of(src: &SourceInfo, files: &[PathBuf]) -> Result<Arc<ndjson::Dates>, Diagnostic> {
    if files.is_empty() {
        return Ok(Arc::new(ndjson::Dates::none()));
    }
    let texts = |f: &Path| ndjson_texts(src, f);
    let all = || {
        together(
            src,
            files,
            files
                .iter()
                .map(|f| ndjson_texts(src, f))
                .collect::<Result<_, _>>()?,
        )
    };
    ndjson::dates(src, files, &texts, &all)
}

/// One NDJSON file of a dataset with its types from every record, as for
/// CSV (LANGUAGE.md §2a), dates still texts.
fn ndjson_texts(src: &SourceInfo, path: &Path) -> Result<LazyFrame, Diagnostic> {
    let inferred =
        ndjson::schema(path).map_err(|why| read_error(src, &polars_err!(ComputeError: "{why}")))?;
    let in_memory = ndjson_in_memory(path).map_err(|e| read_error(src, &e.into()))?;
    let reader = match in_memory {
        Some(text) => LazyJsonLineReader::new_with_sources(ScanSources::Buffers(Arc::from([text]))),
        None => LazyJsonLineReader::new(PlRefPath::new(path.to_string_lossy().into_owned())),
    };
    match inferred {
        Some(schema) => reader.with_schema(Some(Arc::new(schema))),
        None => reader.with_infer_schema_length(None),
    }
    .finish()
    .map_err(|e| read_error(src, &e))
}

/// The text of an NDJSON file that the reader reads from memory (`None`:
/// from the file): a gzipped file's, decompressed; an object's, fetched;
/// and a file's that starts with a byte order mark (Windows tools write
/// one), which the reader takes for the first record's first character,
/// without it (NDJSON files are exports, not warehouses).
fn ndjson_in_memory(path: &Path) -> std::io::Result<Option<polars_buffer::Buffer<u8>>> {
    let text = match ndjson::held(path)? {
        Some(text) => polars_buffer::Buffer::from_owner(text),
        None if super::files::first_bytes(path, BOM.len() as u64).is_ok_and(|head| head == BOM) => {
            polars_buffer::Buffer::from(std::fs::read(path)?)
        }
        None => return Ok(None),
    };
    Ok(Some(match text.starts_with(BOM) {
        true => text.sliced(BOM.len()..),
        false => text,
    }))
}

/// A Parquet file's columns as KPIs read them (`date64`: its columns of
/// Arrow's `date64`):
/// - dictionary-encoded texts (pandas' categoricals, which Polars reads as
///   categoricals) as plain texts: KPIs compare and group them as texts,
///   and two files of one glob may number the same text differently;
/// - times in a zone (instants) as the wall-clock time of `zone`
///   (`read.timezone`), else of their own zone, as CSV's datetimes with an
///   offset are read: their dates are that zone's, and they compare with
///   datetime literals (Polars refuses to compare a zoned time with one);
/// - Arrow's `date64` (a day as its first millisecond, which pyarrow
///   writes for Python dates), which Polars reads as a datetime, as dates.
pub(super) fn as_kpi_reads(
    mut lf: LazyFrame,
    zone: Option<&str>,
    date64: &[String],
) -> PolarsResult<LazyFrame> {
    let schema = lf.collect_schema()?;
    let zone = zone.and_then(|z| TimeZone::opt_try_new(Some(z)).ok().flatten());
    let casts: Vec<Expr> = schema
        .iter()
        .filter_map(|(n, dt)| match dt {
            DataType::Categorical(..) | DataType::Enum(..) => Some(col(n.clone()).cast(DataType::String)),
            DataType::Datetime(_, None) if date64.iter().any(|d| d == n.as_str()) => {
                Some(col(n.clone()).cast(DataType::Date))
            }
            DataType::Datetime(_, Some(_)) => {
                let t = match &zone {
                    Some(z) => col(n.clone()).dt().convert_time_zone(z.clone()),
                    None => col(n.clone()),
                };
                Some(t.dt().replace_time_zone(None, lit("raise"), NonExistent::Raise))
            }
            _ => None,
        })
        .collect();
    Ok(if casts.is_empty() {
        lf
    } else {
        lf.with_columns(casts)
    })
}

/// What the Arrow schema of a Parquet file (on disk, or an object's
/// footer) says that Polars' own reading of it does not.
#[derive(Clone, Default)]
struct ParquetFields {
    /// A file with a column whose type Polars cannot hold, the column and
    /// that type: Polars stops the process when it converts such a file's
    /// schema, whether the column is read or not.
    unreadable: Option<(String, String, String)>,
    /// Columns of Arrow's `date64`, which Polars reads as datetimes.
    date64: Vec<String>,
}

/// [`ParquetFields`] of the file at `path`, from its footer; of an
/// object, or of each object of a `glob`, from the footers fetched. Files
/// it cannot open are left to the reader.
fn parquet_fields(path: &Path, glob: bool) -> ParquetFields {
    let shown = path.to_string_lossy();
    if !crate::spec::model::is_object_url(&shown) {
        let mut file = std::fs::File::open(path).ok();
        let metadata = file
            .as_mut()
            .and_then(|f| polars_parquet::arrow::read::read_metadata(f).ok());
        return fields_of(metadata.map(|m| (shown.into_owned(), m)).into_iter());
    }
    // An object's, once per run: a command scans a source several times.
    type Kept = HashMap<PathBuf, ParquetFields>;
    static KEPT: std::sync::OnceLock<std::sync::Mutex<Kept>> = std::sync::OnceLock::new();
    let kept = KEPT.get_or_init(Default::default);
    if let Some(fields) = kept.lock().ok().and_then(|k| k.get(path).cloned()) {
        return fields;
    }
    let urls = match glob {
        true => super::objects::list(&shown).unwrap_or_default(),
        false => vec![shown.into_owned()],
    };
    let footers = object_footers(&urls);
    let fields = fields_of(urls.into_iter().zip(footers).filter_map(|(u, m)| Some((u, m?))));
    if let Ok(mut k) = kept.lock() {
        k.insert(path.to_path_buf(), fields.clone());
    }
    fields
}

/// [`ParquetFields`] of files' footers `metadata`, each with its file: a
/// column of `date64` in any of them, the first type kpi cannot read.
fn fields_of(
    metadata: impl Iterator<Item = (String, polars_parquet::parquet::metadata::FileMetadata)>,
) -> ParquetFields {
    let mut fields = ParquetFields::default();
    for (file, m) in metadata {
        let Ok(schema) = polars_parquet::arrow::read::infer_schema(&m) else {
            continue;
        };
        if fields.unreadable.is_none() {
            fields.unreadable = schema
                .iter_values()
                .find(|f| !readable_arrow(&f.dtype))
                .map(|f| (file.clone(), f.name.to_string(), arrow_type_words(&f.dtype)));
        }
        for f in schema.iter_values() {
            let name = f.name.to_string();
            if f.dtype == polars_arrow::datatypes::ArrowDataType::Date64 && !fields.date64.contains(&name) {
                fields.date64.push(name);
            }
        }
    }
    fields
}

/// The metadata of each Parquet object of `urls` (none where it cannot be
/// fetched or read), from their last 64 KiB fetched side by side, or as
/// many bytes as the length before an object's closing `PAR1` says.
fn object_footers(urls: &[String]) -> Vec<Option<polars_parquet::parquet::metadata::FileMetadata>> {
    const TAIL: usize = 1 << 16;
    let tails = super::objects::tails_of(urls, TAIL);
    urls.iter()
        .zip(tails)
        .map(|(url, tail)| {
            let mut tail = tail.ok()?;
            let at = tail.len().checked_sub(8)?;
            let length = u32::from_le_bytes(tail.get(at..at + 4)?.try_into().ok()?) as usize;
            if length + 8 > tail.len() {
                tail = super::objects::tails_of(std::slice::from_ref(url), length + 8)
                    .pop()?
                    .ok()?;
            }
            polars_parquet::arrow::read::read_metadata(&mut std::io::Cursor::new(tail)).ok()
        })
        .collect()
}

/// An Arrow type kpi cannot read, in words.
fn arrow_type_words(dt: &polars_arrow::datatypes::ArrowDataType) -> String {
    use polars_arrow::datatypes::ArrowDataType as A;
    match dt {
        A::Int128 | A::UInt128 => "a 128-bit integer".into(),
        A::Float16 => "a half-precision float".into(),
        A::Interval(_) => "an interval".into(),
        A::FixedSizeList(..) => "a fixed-size list".into(),
        A::Union(..) => "a union".into(),
        A::Dictionary(_, values, _) => format!("a dictionary of {}", arrow_type_words(values)),
        A::Extension(..) => "an extension type".into(),
        A::List(f) | A::LargeList(f) | A::Map(f, _) => format!("a list of {}", arrow_type_words(&f.dtype)),
        A::Struct(fields) => match fields.iter().find(|f| !readable_arrow(&f.dtype)) {
            Some(f) => format!("a struct whose `{}` is {}", f.name, arrow_type_words(&f.dtype)),
            None => "a struct".into(),
        },
        other => format!("{other:?}"),
    }
}

/// Whether Polars, as built here, converts an Arrow type: numbers
/// (decimals and small integers too), texts, bytes, booleans, dates and
/// times, and lists and structs of those. Not 128-bit integers, half
/// floats, intervals, fixed-size lists, unions, dictionaries of anything
/// but texts, or extensions.
fn readable_arrow(dt: &polars_arrow::datatypes::ArrowDataType) -> bool {
    use polars_arrow::datatypes::ArrowDataType as A;
    match dt {
        A::Null
        | A::Boolean
        | A::Int8
        | A::Int16
        | A::Int32
        | A::Int64
        | A::UInt8
        | A::UInt16
        | A::UInt32
        | A::UInt64
        | A::Float32
        | A::Float64
        | A::Utf8
        | A::LargeUtf8
        | A::Utf8View
        | A::Binary
        | A::LargeBinary
        | A::BinaryView
        | A::FixedSizeBinary(_)
        | A::Date32
        | A::Date64
        | A::Time32(_)
        | A::Time64(_)
        | A::Duration(_)
        | A::Decimal(..)
        | A::Decimal32(..)
        | A::Decimal64(..)
        | A::Decimal256(..) => true,
        A::Timestamp(_, zone) => TimeZone::opt_try_new(zone.clone()).is_ok(),
        A::List(f) | A::LargeList(f) | A::Map(f, _) => readable_arrow(&f.dtype),
        // Texts numbered in a dictionary (pandas' categoricals).
        A::Dictionary(_, values, _) => matches!(values.as_ref(), A::Utf8 | A::LargeUtf8 | A::Utf8View),
        A::Struct(fields) => fields.iter().all(|f| readable_arrow(&f.dtype)),
        _ => false,
    }
}

/// The columns of `lf` declared `date` or `datetime` that it holds as
/// texts, each with the conversion a CSV column declared so takes (offsets
/// included, a datetime's format from its first values): NDJSON's fields
/// (JSON has no dates) and a Parquet file's text columns.
pub(super) fn declared_text_dates(
    src: &SourceInfo,
    lf: &LazyFrame,
    schema: &Schema,
) -> Result<Vec<(String, text::conversion::Conversion)>, Diagnostic> {
    match src.format {
        Format::Ndjson => {
            let dates = ndjson_dates(src)?;
            let declared = src
                .declared
                .iter()
                .filter_map(|(n, _)| Some((n.clone(), dates.declared(n)?.clone())));
            Ok(declared.collect())
        }
        Format::Parquet => text::conversion::declared_text_conversions(src, lf.clone(), schema, 1_000)
            .map_err(|e| read_error(src, &e)),
        _ => Ok(Vec::new()),
    }
}

/// The declared fields of an NDJSON source that no record holds (none for
/// other formats, whose columns are in their header or schema).
pub fn absent_fields(src: &SourceInfo) -> Result<Vec<(String, Type)>, Diagnostic> {
    if src.format != Format::Ndjson || src.declared.is_empty() {
        return Ok(Vec::new());
    }
    let schema = scan_other(src)?
        .collect_schema()
        .map_err(|e| read_error(src, &e))?;
    Ok(absent_from(src, &schema))
}

/// The declared columns of an NDJSON source that `schema` lacks.
fn absent_from(src: &SourceInfo, schema: &Schema) -> Vec<(String, Type)> {
    match src.format {
        Format::Ndjson => src
            .declared
            .iter()
            .filter(|(n, _)| !schema.contains(n))
            .cloned()
            .collect(),
        _ => Vec::new(),
    }
}

/// Parquet or NDJSON columns converted to their declared types (dates
/// stored as text, say). A declared NDJSON field that no record holds is
/// nulls of its type: JSON writers leave out fields without a value, so a
/// field no record has a value in may be in none (said as a warning,
/// [`super::validate::near_misses`]). With `refuse_stored`, a stored type
/// the declared one cannot hold is an error ([`super::validate::stored_contradiction`]).
fn declared_types(src: &SourceInfo, lf: LazyFrame, refuse_stored: bool) -> Result<LazyFrame, Diagnostic> {
    let schema = lf.clone().collect_schema().map_err(|e| read_error(src, &e))?;
    let absent = absent_from(src, &schema)
        .into_iter()
        .map(|(n, t)| (n, dtype_of(t)));
    let lf = super::nulls::with_null_columns(lf, absent.collect());
    // A stored type the declared one cannot hold is said, never cast
    // (numbers cast to dates are days since 1970).
    let stored = |(n, t): &(String, Type)| {
        let have = schema.get(n.as_str())?;
        super::validate::stored_contradiction(have, *t, col(n.as_str()))
    };
    if refuse_stored && src.declared.iter().any(|d| stored(d).is_some()) {
        if let Some(d) = super::validate::stored_contradictions(src).into_iter().next() {
            return Err(d);
        }
    }
    let text_dates = declared_text_dates(src, &lf, &schema)?;
    let mut unusable = None;
    let casts: Vec<Expr> = src
        .declared
        .iter()
        .filter_map(|(n, t)| {
            let have = schema.get(n.as_str())?;
            match type_of(have) {
                same if same == *t => return None,
                // Bytes declared as text are texts an old writer did not mark as such.
                Type::Unusable(_) if matches!(have, DataType::Binary) && *t == Type::String => {}
                Type::Unusable(found) => {
                    unusable.get_or_insert((n.clone(), *t, found));
                    return None;
                }
                _ => {}
            }
            if let Some((_, conv)) = text_dates.iter().find(|(c, _)| c == n) {
                return Some(conv.expr(n, true).alias(n.as_str()));
            }
            Some(
                match (have, t) {
                    // Texts as a CSV column declared so reads them (spaces
                    // around and an empty text no value; a negative number in
                    // parentheses, the `read:` options' marks; the words of a
                    // bool in any case; dates in the declared format), as
                    // `kpi check --data` checks them.
                    (DataType::String, _) => {
                        text::conversion::declared_conversion(src, &[], *t)?.expr(n, true)
                    }
                    _ => col(n.as_str()).strict_cast(dtype_of(*t)),
                }
                .alias(n.as_str()),
            )
        })
        .collect();
    if let Some((column, declared, found)) = unusable {
        let at = src.declared_at(&column);
        return Err(diagnostics::declared_over_unusable(
            at,
            &src.name,
            &src.path_str(),
            &column,
            declared,
            found,
        ));
    }
    Ok(if casts.is_empty() {
        lf
    } else {
        lf.with_columns(casts)
    })
}

/// The scan with declared columns as text, to find values that contradict them.
pub(super) fn scan_text(src: &SourceInfo) -> Result<LazyFrame, Diagnostic> {
    match src.format {
        Format::Csv => csv::scan_text(src),
        _ => scan_other(src),
    }
}

/// How many non-finite values each float column of a source holds: (column, count), counts above 0.
pub fn non_finite_counts(src: &SourceInfo) -> Result<Vec<(String, u64)>, Diagnostic> {
    let mut lf = scan(src)?;
    let schema = lf.collect_schema().map_err(|e| read_error(src, &e))?;
    let columns: Vec<String> = schema
        .iter_names()
        .filter_map(|n| n.strip_prefix("__nonfinite__").map(str::to_string))
        .collect();
    if columns.is_empty() {
        return Ok(Vec::new());
    }
    let sums: Vec<Expr> = columns
        .iter()
        .map(|c| col(non_finite_flag(c).as_str()).cast(DataType::UInt64).sum())
        .collect();
    let df = lf.select(sums).collect().map_err(|e| read_error(src, &e))?;
    Ok(columns
        .into_iter()
        .zip(df.columns())
        .filter_map(|(c, v)| {
            let n = v.get(0).ok()?.extract::<u64>()?;
            (n > 0).then_some((c, n))
        })
        .collect())
}

/// Column names and types as evaluation will see them.
pub fn schema(src: &SourceInfo) -> Result<Vec<(String, Type)>, Diagnostic> {
    // Values a declared type contradicts are `validate_types`' to name:
    // here the columns are as declared, so that the spec checks against them.
    let mut lf = match src.format {
        Format::Csv => scan(src)?,
        _ => with_finite_only(src, declared_types(src, scan_other(src)?, false)?)?,
    };
    let schema = lf.collect_schema().map_err(|e| read_error(src, &e))?;
    Ok(schema
        .iter()
        .filter(|(n, _)| !n.starts_with("__nonfinite__"))
        .map(|(n, dt)| (n.to_string(), type_of(dt)))
        .collect())
}
