//! Reading datasets with Polars: scans, schemas, declared-type and lookup-key
//! validation. The only module besides `compile` and `execute` that knows Polars.

pub mod adbc;
pub mod csv;
mod csv_conversion;
mod csv_guess;
mod csv_inference;
mod csv_pieces;
pub(crate) mod diagnostics;
pub mod files;
mod finite;
pub mod keys;
mod money;
mod ndjson;
mod values;
pub use values::texts_not_in_data;

pub use diagnostics::is_group_hint_about;
use finite::finite_only;
pub use finite::non_finite_flag;
use keys::{KeyIndex, Repeated};

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::check::format_of;
use crate::check::ir::{DatasetModel, LookupModel, Model};
use crate::check::types::Type;
use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::spec::model::{ColumnType, Format, OnError, ReadOptions, Spec};

/// Where and how a dataset is read.
#[derive(Clone, Debug)]
pub struct SourceInfo {
    pub name: String,
    pub path: PathBuf,
    pub format: Format,
    pub declared: Vec<(String, Type)>,
    /// Where each declared column is declared (the source when unknown).
    pub declared_at: Vec<Span>,
    /// The `source:` field, for diagnostics.
    pub span: Span,
    /// The dataset's `read:` options.
    pub read: ReadOptions,
}

impl SourceInfo {
    pub fn from_model(d: &DatasetModel) -> SourceInfo {
        SourceInfo {
            name: d.name.clone(),
            path: d.source.clone(),
            format: d.format,
            declared: d.declared.clone(),
            declared_at: vec![d.source_span; d.declared.len()],
            span: d.source_span,
            read: d.read.clone(),
        }
    }

    /// Sources of a spec before it is checked (for `kpi check --data`).
    pub fn from_spec(spec: &Spec) -> Vec<SourceInfo> {
        spec.datasets
            .iter()
            .filter_map(|d| {
                let src = d.source.as_ref()?;
                Some(SourceInfo {
                    name: d.name.value.clone(),
                    path: d
                        .source_path()
                        .and_then(Result::ok)
                        .unwrap_or_else(|| d.base_dir.join(&src.value)),
                    format: d
                        .format
                        .as_ref()
                        .map(|f| f.value)
                        .or_else(|| format_of(&src.value))?,
                    declared: d
                        .columns
                        .iter()
                        .map(|(n, t)| (n.value.clone(), Type::from(t.value)))
                        .collect(),
                    declared_at: d.columns.iter().map(|(_, t)| t.span).collect(),
                    span: src.span,
                    read: d.read.clone(),
                })
            })
            .collect()
    }

    /// Where a declared column is declared (the source when unknown).
    pub fn declared_at(&self, column: &str) -> Span {
        self.declared
            .iter()
            .position(|(c, _)| c == column)
            .and_then(|i| self.declared_at.get(i))
            .copied()
            .unwrap_or(self.span)
    }

    pub(crate) fn is_glob(&self) -> bool {
        self.path.to_string_lossy().contains(['*', '?', '['])
    }

    pub(crate) fn path_str(&self) -> String {
        self.path.to_string_lossy().into_owned()
    }
}

pub fn dtype_of(t: Type) -> DataType {
    match t {
        Type::Number => DataType::Float64,
        Type::String | Type::Null | Type::Unknown | Type::Unusable(_) => DataType::String,
        Type::Bool => DataType::Boolean,
        Type::Date => DataType::Date,
        Type::Datetime => DataType::Datetime(TimeUnit::Microseconds, None),
    }
}

pub fn type_of(dt: &DataType) -> Type {
    match dt {
        // Dictionary-encoded texts (pandas' categoricals in Parquet) are
        // read as texts: see `as_kpi_reads`.
        DataType::String | DataType::Categorical(..) | DataType::Enum(..) => Type::String,
        DataType::Boolean => Type::Bool,
        DataType::Date => Type::Date,
        DataType::Datetime(..) => Type::Datetime,
        // Polars holds decimals of up to 38 digits (BigQuery's BIGNUMERIC
        // has 76); wider ones fail when their values are read.
        DataType::Decimal(digits, _) if *digits > 38 => Type::Unusable("a decimal of more than 38 digits"),
        dt if dt.is_numeric() => Type::Number,
        DataType::Time => Type::Unusable("a time of day"),
        DataType::Duration(_) => Type::Unusable("a duration"),
        DataType::Binary | DataType::BinaryOffset => Type::Unusable("bytes"),
        DataType::List(_) => Type::Unusable("a list"),
        DataType::Struct(_) => Type::Unusable("a struct"),
        DataType::Null => Type::Unknown,
        _ => Type::Unusable("of a type kpi does not know"),
    }
}

pub fn column_type_of(t: Type) -> Option<ColumnType> {
    Some(match t {
        Type::Number => ColumnType::Number,
        Type::String => ColumnType::String,
        Type::Bool => ColumnType::Bool,
        Type::Date => ColumnType::Date,
        Type::Datetime => ColumnType::Datetime,
        Type::Null | Type::Unknown | Type::Unusable(_) => return None,
    })
}

/// Why a CSV source cannot be read (a malformed row, an unclosed quote, a
/// damaged header, …), if it cannot: its layout is worked out once per run,
/// and that is where the files are checked.
pub fn malformed_row(src: &SourceInfo) -> Option<Diagnostic> {
    match src.format {
        Format::Csv => csv::layout(src).err(),
        _ => None,
    }
}

/// With `on_error: skip`, the rows of a CSV source that were skipped, said once.
pub fn skipped_rows(src: &SourceInfo) -> Option<Diagnostic> {
    if src.format != Format::Csv
        || !src
            .read
            .on_error
            .as_ref()
            .is_some_and(|o| o.value == OnError::Skip)
    {
        return None;
    }
    let l = csv::layout(src).ok()?;
    if l.skipped.is_empty() {
        return None;
    }
    let lines: Vec<u64> = csv::places_of(&l, &l.skipped)
        .into_iter()
        .map(|(_, line)| line)
        .collect();
    let path = match l.files.as_slice() {
        [one] => one.display().to_string(),
        _ => src.path_str(),
    };
    Some(diagnostics::rows_skipped(
        &src.name,
        &path,
        l.skipped.len(),
        &lines,
    ))
}

/// A reading error of a Parquet or NDJSON source.
fn read_error(src: &SourceInfo, e: &PolarsError) -> Diagnostic {
    diagnostics::data_error(src.span, &src.name, &src.path_str(), &e.to_string())
}

/// A lazy scan with every column as its type: declared columns as declared,
/// the others as read (non-finite numbers as null).
pub fn scan(src: &SourceInfo) -> Result<LazyFrame, Diagnostic> {
    scan_on(src, Engine::InMemory)
}

/// [`scan`] for queries collected by `engine`: Polars' streaming engine
/// runs only Polars' own readers, so CSV files are not read in pieces
/// there (see `csv_pieces`).
pub fn scan_on(src: &SourceInfo, engine: Engine) -> Result<LazyFrame, Diagnostic> {
    if src.format == Format::Csv && crate::spec::model::is_object_url(&src.path_str()) {
        return Err(diagnostics::csv_in_object_storage(src.span, &src.name));
    }
    let lf = match src.format {
        Format::Csv => csv::scan(src, engine != Engine::Streaming)?,
        _ => declared_types(src, scan_other(src)?)?,
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
    for file in file_scans(src)? {
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
/// (see `csv_pieces`); none for other datasets.
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
    let Some(path) = files::expand(src)?.into_iter().nth(file) else {
        return Err(read_error(src, &PolarsError::NoData("no such file".into())));
    };
    let lf = declared_types(src, file_scan(src, &path)?)?;
    with_finite_only(src, lf)
}

/// Parquet and NDJSON as stored (a glob must match something).
fn scan_other(src: &SourceInfo) -> Result<LazyFrame, Diagnostic> {
    together(src, file_scans(src)?)
}

/// The files of a glob as one frame. NDJSON files are joined by column
/// name, each column of the type that holds every file's values (one
/// file's records may lack a field, or have only nulls in it); Parquet
/// files must have the same columns.
fn together(src: &SourceInfo, mut frames: Vec<LazyFrame>) -> Result<LazyFrame, Diagnostic> {
    let by_name = src.format == Format::Ndjson;
    let args = UnionArgs {
        diagonal: by_name,
        to_supertypes: by_name,
        ..UnionArgs::default()
    };
    match frames.len() {
        1 => Ok(frames.pop().unwrap_or_default()),
        _ => concat(frames, args).map_err(|e| read_error(src, &e)),
    }
}

/// Each file of a Parquet or NDJSON dataset as stored, in the order read.
fn file_scans(src: &SourceInfo) -> Result<Vec<LazyFrame>, Diagnostic> {
    files::expand(src)?.iter().map(|p| file_scan(src, p)).collect()
}

/// One file of a Parquet or NDJSON dataset as stored.
fn file_scan(src: &SourceInfo, path: &Path) -> Result<LazyFrame, Diagnostic> {
    if src.format == Format::Ndjson {
        return ndjson::with_dates(src, ndjson_texts(src, path)?, &*ndjson_dates(src)?);
    }
    if let Some((column, ty)) = unreadable_parquet_column(path) {
        let path = path.display().to_string();
        return Err(diagnostics::unreadable_column_type(
            src.span, &src.name, &path, &column, &ty,
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
            .and_then(|lf| as_kpi_reads(lf, zone.as_deref()))
    })
    .map_err(|why| diagnostics::unreadable_file_types(src.span, &src.name, &shown, &why))?
    .map_err(|e| match crate::spec::model::is_object_url(&shown) {
        true => diagnostics::object_store_error(src.span, &src.name, &shown, src.is_glob(), &e.to_string()),
        false => read_error(src, &e),
    })
}

/// The text fields of an NDJSON source that are dates, and those one value
/// kept from being dates (see [`ndjson::dates`]).
fn ndjson_dates(src: &SourceInfo) -> Result<Arc<ndjson::Dates>, Diagnostic> {
    let files = files::expand(src)?;
    let texts = |f: &Path| ndjson_texts(src, f);
    let all = || {
        together(
            src,
            files
                .iter()
                .map(|f| ndjson_texts(src, f))
                .collect::<Result<_, _>>()?,
        )
    };
    ndjson::dates(src, &files, &texts, &all)
}

/// UTF-8's byte order mark, which Windows tools write before a file's text.
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Whether a file starts with [`BOM`].
fn starts_with_bom(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 3];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && head == BOM
}

/// One NDJSON file of a dataset with its types from every record, as for
/// CSV (LANGUAGE.md §2a), dates still texts.
fn ndjson_texts(src: &SourceInfo, path: &Path) -> Result<LazyFrame, Diagnostic> {
    let inferred =
        ndjson::schema(path).map_err(|why| read_error(src, &polars_err!(ComputeError: "{why}")))?;
    // The reader takes a byte order mark (Windows tools write one) for the
    // first record's first character: such a file is read from memory
    // without it (NDJSON files are exports, not warehouses).
    let reader = match starts_with_bom(path) {
        true => {
            let mut bytes = std::fs::read(path).map_err(|e| read_error(src, &e.into()))?;
            bytes.drain(..BOM.len());
            let sources = ScanSources::Buffers(Arc::from([polars_buffer::Buffer::from(bytes)]));
            LazyJsonLineReader::new_with_sources(sources)
        }
        false => LazyJsonLineReader::new(PlRefPath::new(path.to_string_lossy().into_owned())),
    };
    match inferred {
        Some(schema) => reader.with_schema(Some(Arc::new(schema))),
        None => reader.with_infer_schema_length(None),
    }
    .finish()
    .map_err(|e| read_error(src, &e))
}

/// A Parquet file's columns as KPIs read them:
/// - dictionary-encoded texts (pandas' categoricals, which Polars reads as
///   categoricals) as plain texts: KPIs compare and group them as texts,
///   and two files of one glob may number the same text differently;
/// - times in a zone (instants) as the wall-clock time of `zone`
///   (`read.timezone`), else of their own zone, as CSV's datetimes with an
///   offset are read: their dates are that zone's, and they compare with
///   datetime literals (Polars refuses to compare a zoned time with one).
fn as_kpi_reads(mut lf: LazyFrame, zone: Option<&str>) -> PolarsResult<LazyFrame> {
    let schema = lf.collect_schema()?;
    let zone = zone.and_then(|z| TimeZone::opt_try_new(Some(z)).ok().flatten());
    let casts: Vec<Expr> = schema
        .iter()
        .filter_map(|(n, dt)| match dt {
            DataType::Categorical(..) | DataType::Enum(..) => Some(col(n.clone()).cast(DataType::String)),
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

/// A column of the local Parquet file at `path` whose type Polars cannot
/// hold, with that type: Polars stops the process when it converts such a
/// file's schema, whether the column is read or not. Files it cannot open
/// (in object storage, say) are left to the reader.
fn unreadable_parquet_column(path: &Path) -> Option<(String, String)> {
    let mut file = std::fs::File::open(path).ok()?;
    let metadata = polars_parquet::arrow::read::read_metadata(&mut file).ok()?;
    let schema = polars_parquet::arrow::read::infer_schema(&metadata).ok()?;
    let unreadable = schema
        .iter_values()
        .find(|f| !readable_arrow(&f.dtype))
        .map(|f| (f.name.to_string(), arrow_type_words(&f.dtype)));
    unreadable
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

/// Parquet or NDJSON columns converted to their declared types (dates stored as text, say).
fn declared_types(src: &SourceInfo, lf: LazyFrame) -> Result<LazyFrame, Diagnostic> {
    let schema = lf.clone().collect_schema().map_err(|e| read_error(src, &e))?;
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
            let opts = StrptimeOptions {
                format: declared_format(src, *t),
                strict: true,
                cache: true,
                ..Default::default()
            };
            Some(match (have, t) {
                (DataType::String, Type::Date) => col(n.as_str()).str().to_date(opts),
                (DataType::String, Type::Datetime) => {
                    col(n.as_str())
                        .str()
                        .to_datetime(Some(TimeUnit::Microseconds), None, opts, lit("raise"))
                }
                _ => col(n.as_str()).strict_cast(dtype_of(*t)),
            })
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
fn scan_text(src: &SourceInfo) -> Result<LazyFrame, Diagnostic> {
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
    let mut lf = scan(src)?;
    let schema = lf.collect_schema().map_err(|e| read_error(src, &e))?;
    Ok(schema
        .iter()
        .filter(|(n, _)| !n.starts_with("__nonfinite__"))
        .map(|(n, dt)| (n.to_string(), type_of(dt)))
        .collect())
}

/// Finds the first value of each declared column that its type cannot hold.
pub fn validate_types(src: &SourceInfo) -> Vec<Diagnostic> {
    if src.format == Format::Csv {
        return csv_contradictions(src);
    }
    let checked: Vec<&(String, Type)> = src
        .declared
        .iter()
        .filter(|(_, t)| !matches!(t, Type::String | Type::Unknown | Type::Null))
        .collect();
    if checked.is_empty() {
        return Vec::new();
    }
    let lf = match scan_text(src) {
        Ok(lf) => lf,
        Err(d) => return vec![d],
    };
    let mut lf = lf;
    let schema = match lf.collect_schema() {
        Ok(s) => s,
        Err(e) => return vec![read_error(src, &e)],
    };
    let mut aggs = Vec::new();
    let mut names = Vec::new();
    for (n, t) in checked {
        if schema.get(n.as_str()) != Some(&DataType::String) {
            continue;
        }
        let c = col(n.as_str());
        let text = c.clone().str().strip_chars(lit(NULL));
        let parsed = match t {
            Type::Number => text.clone().cast(DataType::Float64),
            Type::Bool => text.clone().str().to_lowercase().is_in(
                lit(Series::new("b".into(), ["true", "false"])).implode(false),
                false,
            ),
            Type::Date => text.clone().str().to_date(StrptimeOptions {
                format: declared_format(src, *t),
                strict: false,
                ..Default::default()
            }),
            _ => text.clone().str().to_datetime(
                Some(TimeUnit::Microseconds),
                None,
                StrptimeOptions {
                    format: declared_format(src, *t),
                    strict: false,
                    ..Default::default()
                },
                lit("null"),
            ),
        };
        let bad = if *t == Type::Bool {
            text.clone().is_not_null().and(parsed.not())
        } else {
            text.clone()
                .is_not_null()
                .and(text.clone().neq(lit("")))
                .and(parsed.is_null())
        };
        aggs.push(c.filter(bad.clone()).first().alias(format!("v{}", names.len())));
        aggs.push(
            col("__row")
                .filter(bad)
                .first()
                .alias(format!("r{}", names.len())),
        );
        names.push((n.clone(), *t));
    }
    if names.is_empty() {
        return Vec::new();
    }
    let df = match lf.clone().with_row_index("__row", None).select(aggs).collect() {
        Ok(df) => df,
        Err(e) => {
            return match unguessable_dates(src, lf, &names) {
                found if found.is_empty() => vec![read_error(src, &e)],
                found => found,
            }
        }
    };
    let mut out = Vec::new();
    for (i, (n, t)) in names.iter().enumerate() {
        if let Some((value, row)) = first_bad(&df, i) {
            out.push(record_contradicts(src, n, *t, &value, row));
        }
    }
    out
}

/// The `read:` format of a declared date or datetime column, if any
/// (without one the engine works the format out from the first value).
fn declared_format(src: &SourceInfo, t: Type) -> Option<PlSmallStr> {
    let format = match t {
        Type::Date => src.read.date_format.as_ref(),
        Type::Datetime => src.read.datetime_format.as_ref(),
        _ => None,
    };
    format.map(|f| f.value.as_str().into())
}

/// Declared date and datetime columns without a `read:` format whose first
/// value the engine finds no format for (`20250131`, `Jan 31, 2025`): that
/// value, with its record, as the contradiction (it fails every read).
fn unguessable_dates(src: &SourceInfo, lf: LazyFrame, columns: &[(String, Type)]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (n, t) in columns {
        if !matches!(t, Type::Date | Type::Datetime) || declared_format(src, *t).is_some() {
            continue;
        }
        let text = col(n.as_str()).str().strip_chars(lit(NULL));
        let first = lf
            .clone()
            .with_row_index("__row", None)
            .filter(text.clone().is_not_null().and(text.neq(lit(""))))
            .select([col(n.as_str()).alias("v0"), col("__row").alias("r0")])
            .slice(0, 1)
            .collect();
        let parses = |value: &str| {
            let opts = StrptimeOptions {
                strict: false,
                ..Default::default()
            };
            let v = col("v").str();
            let parsed = match t {
                Type::Date => v.to_date(opts),
                _ => v.to_datetime(Some(TimeUnit::Microseconds), None, opts, lit("null")),
            };
            df!("v" => [value])
                .and_then(|df| df.lazy().select([parsed]).collect())
                .is_ok()
        };
        let Some((value, row)) = first.ok().and_then(|df| first_bad(&df, 0)) else {
            continue;
        };
        if !parses(&value) {
            out.push(record_contradicts(src, n, *t, &value, row));
        }
    }
    out
}

/// Record `row` (from 0) of a Parquet or NDJSON source holds `value`,
/// which the declared type `t` of `column` cannot: an NDJSON record is a
/// line, a Parquet one a row (CSV names its lines itself).
fn record_contradicts(src: &SourceInfo, column: &str, t: Type, value: &str, row: u64) -> Diagnostic {
    let place = match src.format {
        Format::Ndjson => format!("line {}", row + 1),
        _ => format!("row {}", row + 1),
    };
    diagnostics::declared_type_contradicted(
        src.declared_at(column),
        &src.name,
        src.format,
        &format!("`{}` {place}", src.path_str()),
        column,
        t,
        value,
    )
}

/// A CSV source's values that its declared types (with the `read:` formats) cannot hold.
fn csv_contradictions(src: &SourceInfo) -> Vec<Diagnostic> {
    match csv::contradictions(src) {
        Ok(found) => found
            .into_iter()
            .map(|c| {
                diagnostics::declared_type_contradicted(
                    src.declared_at(&c.column),
                    &src.name,
                    src.format,
                    &format!("`{}` line {}", c.file.display(), c.line),
                    &c.column,
                    c.ty,
                    &c.value,
                )
            })
            .collect(),
        Err(d) => vec![d],
    }
}

/// The first rejected value and its row, from the columns `v{i}` and `r{i}`
/// of a one-row frame of first-bad-value aggregates.
pub(crate) fn first_bad(df: &DataFrame, i: usize) -> Option<(String, u64)> {
    let first = |name: String| {
        df.column(&name)
            .ok()
            .and_then(|c| c.get(0).ok())
            .map(|v| v.into_static())
    };
    let value = first(format!("v{i}"))?.get_str().map(str::to_string)?;
    let row = first(format!("r{i}"))?.extract::<u64>()?;
    Some((value, row))
}

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

/// The column of looked-up rows holding their key as text.
pub const LOOKUP_KEY: &str = "__key";

/// A value as text, as dimension values, `concat` and lookup keys write
/// it: a whole number without a fraction (`2025`, not `2025.0`, whether it
/// was read as an integer or a float, and as SQL writes it), another
/// number in its shortest form that reads back the same (`2.5`), a time
/// to the second (`2025-03-31 09:30:00`, as databases write it), anything
/// else as Polars casts it (`2025-03-31`, `true`).
pub fn as_text(e: Expr) -> Expr {
    e.map_with_fmt_str(
        |c: Column| match c.dtype() {
            // A decimal's own text, without its scale's trailing zeros
            // (`3.1000000000` is 3.1); through a double, a long scale
            // would show the double's error (2000000000.2500002).
            DataType::Decimal(..) => {
                let text = c.cast(&DataType::String)?;
                let text: StringChunked = text.str()?.iter().map(|v| v.map(decimal_text)).collect();
                Ok(text.with_name(c.name().clone()).into_column())
            }
            DataType::Float32 | DataType::Float64 => {
                let x = c.cast(&DataType::Float64)?;
                let text: StringChunked = x.f64()?.iter().map(|v| v.map(number_text)).collect();
                Ok(text.with_name(c.name().clone()).into_column())
            }
            // As databases write one: seconds, a fraction only when there is one.
            DataType::Datetime(..) => Ok(c
                .as_materialized_series()
                .datetime()?
                .to_string("%Y-%m-%d %H:%M:%S%.f")?
                .into_column()),
            _ => c.cast(&DataType::String),
        },
        |_, f| Ok(Field::new(f.name().clone(), DataType::String)),
        "as_text",
    )
}

/// A decimal's text (`-3.1000`) as [`number_text`] writes numbers: `-3.1`.
fn decimal_text(s: &str) -> String {
    let trimmed = match s.contains('.') {
        true => s.trim_end_matches('0').trim_end_matches('.'),
        false => s,
    };
    match trimmed {
        "-0" => "0".to_string(),
        t => t.to_string(),
    }
}

/// A number as text: whole numbers below 10^18 (a 64-bit integer holds
/// them, as it does in every database) without a fraction, others in
/// Rust's shortest round-trip form.
pub fn number_text(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e18 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
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

/// The schema of every source that can be read (nothing is validated; a
/// source that cannot be read is left out, to be reported if it is used).
pub fn readable_schemas(spec: &Spec) -> ReadSchemas {
    let mut read = ReadSchemas::default();
    for src in SourceInfo::from_spec(spec) {
        match schema(&src) {
            Ok(cols) => {
                read.notes.extend(near_misses(&src));
                read.schemas.insert(src.name.clone(), cols);
            }
            Err(why) => read.unread.push(why),
        }
    }
    read
}

/// The schemas of the sources that could be read, what the data says of
/// how they are read, and why the others could not be.
#[derive(Default)]
pub struct ReadSchemas {
    pub schemas: crate::check::DataSchemas,
    pub notes: Vec<Diagnostic>,
    pub unread: Vec<Diagnostic>,
}

/// The columns of datasets on connections, read through their connections
/// (a query for no rows, whose Arrow schema has the types). With
/// `report`, a source that cannot be read and a declared column the table
/// lacks are diagnostics; without, such a dataset stays open and only why
/// it could not be read is given.
pub fn remote_schemas(spec: &Spec, report: bool) -> (crate::check::DataSchemas, Vec<Diagnostic>) {
    let mut out = crate::check::DataSchemas::new();
    let mut diags = Vec::new();
    for d in &spec.datasets {
        let Some(t) = &d.table else { continue };
        let Some(c) = spec
            .connections
            .iter()
            .find(|c| c.name.value == t.connection.value)
            .and_then(crate::check::connections::resolve)
        else {
            continue;
        };
        let relation = match (&t.table, &t.query) {
            (Some(table), _) => crate::check::ir::Relation::Table(table.value.clone()),
            (None, Some(q)) => crate::check::ir::Relation::query(&q.value),
            (None, None) => continue,
        };
        match remote_columns(&c, &relation) {
            Ok(cols) => {
                if report {
                    for (n, ty) in &d.columns {
                        if !cols.iter().any(|(c, _)| *c == n.value) {
                            let path = crate::check::connections::describe(t);
                            diags.push(diagnostics::declared_column_missing(
                                ty.span,
                                &d.name.value,
                                &path,
                                &n.value,
                                Type::from(ty.value),
                            ));
                        }
                    }
                    diags.extend(remote_type_conflicts(d, &cols, c.dialect));
                }
                out.insert(d.name.value.clone(), cols);
            }
            Err(e) => diags.push(diagnostics::of_dataset(e, &d.name.value, t.span)),
        }
    }
    (out, diags)
}

/// The columns of a table or query on connection `c`, with their types: a
/// query for no rows, whose Arrow schema has them; for SQLite, whose
/// driver types a column by the values it holds (none, for no rows), a
/// table's declared types, and a query's first rows.
fn remote_columns(
    c: &crate::check::ir::ConnectionModel,
    relation: &crate::check::ir::Relation,
) -> Result<Vec<(String, Type)>, Diagnostic> {
    use crate::check::ir::Relation;
    use crate::spec::model::Dialect;
    use crate::sql::dialect::Spelling;
    let from_frame = |df: DataFrame| -> Vec<(String, Type)> {
        df.columns()
            .iter()
            .map(|col| (col.name().to_string(), type_of(col.dtype())))
            .collect()
    };
    // A query for no rows, whose Arrow schema has the types.
    let of_no_rows = || adbc::query(c, &crate::sql::schema_sql(relation, c.dialect)).map(from_frame);
    match (c.dialect, relation) {
        (Dialect::Sqlite, Relation::Table(t)) => {
            let (schema, table) = t.rsplit_once('.').unwrap_or(("main", t));
            let sql = format!(
                "SELECT name, type FROM pragma_table_info({}, {})",
                c.dialect.string(table),
                c.dialect.string(schema)
            );
            let df = adbc::query(c, &sql)?;
            let texts = |name: &str| -> Vec<String> {
                df.column(name)
                    .ok()
                    .and_then(|x| {
                        x.str()
                            .ok()
                            .map(|s| s.iter().map(|v| v.unwrap_or("").to_string()).collect())
                    })
                    .unwrap_or_default()
            };
            let names = texts("name");
            if names.is_empty() {
                // No such table: the database says so.
                return of_no_rows();
            }
            Ok(names
                .into_iter()
                .zip(texts("type"))
                .map(|(n, decl)| (n, sqlite_declared_type(&decl)))
                .collect())
        }
        (Dialect::Sqlite, Relation::Query(_)) => {
            adbc::query(c, &crate::sql::sample_sql(relation, c.dialect, 1000)).map(from_frame)
        }
        _ => of_no_rows(),
    }
}

/// The type of a SQLite column declared `decl`: dates and times by their
/// names (SQLite keeps them as texts), then SQLite's own affinity rules.
fn sqlite_declared_type(decl: &str) -> Type {
    let d = decl.to_ascii_uppercase();
    let has = |w: &str| d.contains(w);
    if has("DATETIME") || has("TIMESTAMP") {
        Type::Datetime
    } else if has("DATE") {
        Type::Date
    } else if has("BOOL") {
        Type::Bool
    } else if has("INT") || has("REAL") || has("FLOA") || has("DOUB") || has("NUM") || has("DEC") {
        Type::Number
    } else if has("CHAR") || has("CLOB") || has("TEXT") {
        Type::String
    } else {
        Type::Unknown
    }
}

/// Declared columns whose type the database's column cannot hold. SQLite
/// keeps dates and times as texts and booleans as 0 and 1: a text column
/// may be declared a date or datetime, a number column a bool.
fn remote_type_conflicts(
    d: &crate::spec::model::Dataset,
    cols: &[(String, Type)],
    dialect: crate::spec::model::Dialect,
) -> Vec<Diagnostic> {
    let sqlite = dialect == crate::spec::model::Dialect::Sqlite;
    let mut out = Vec::new();
    for (n, declared) in &d.columns {
        let declared = Type::from(declared.value);
        let Some((_, found)) = cols.iter().find(|(c, _)| *c == n.value) else {
            continue;
        };
        let fits = *found == declared
            || matches!(found, Type::Unknown)
            || matches!(
                (declared, found),
                (Type::Datetime, Type::Date) | (Type::String, _)
            )
            || (sqlite
                && matches!(
                    (declared, found),
                    (Type::Date | Type::Datetime, Type::String) | (Type::Bool, Type::Number)
                ));
        if !fits {
            out.push(diagnostics::remote_type_mismatch(
                n.span,
                &d.name.value,
                &n.value,
                declared,
                *found,
            ));
        }
    }
    out
}

/// What the data says of how a source is read, as warnings: text columns
/// of a CSV or NDJSON source that one value kept from being dates or
/// numbers; CSV text columns of dates in a format not declared, or of
/// numbers with thousands separators not declared; CSV header names given
/// to two columns.
pub fn near_misses(src: &SourceInfo) -> Vec<Diagnostic> {
    let mixed = |m: &csv::NearMiss| {
        diagnostics::mixed_column(
            src.span,
            &src.name,
            &m.file.display().to_string(),
            &m.column,
            m.looked_like,
            &m.value,
            m.line,
        )
    };
    if src.format == Format::Ndjson {
        return match ndjson_dates(src) {
            Ok(dates) => dates
                .near_misses
                .iter()
                .map(mixed)
                .chain(dates.hints.iter().map(|(column, formats)| {
                    diagnostics::date_format_needed(src.span, &src.name, column, formats)
                }))
                .collect(),
            Err(_) => Vec::new(),
        };
    }
    if src.format != Format::Csv {
        return Vec::new();
    }
    let Ok(l) = csv::layout(src) else {
        return Vec::new();
    };
    l.near_misses
        .iter()
        .map(mixed)
        .chain(
            l.date_hints.iter().map(|(column, formats)| {
                diagnostics::date_format_needed(src.span, &src.name, column, formats)
            }),
        )
        .chain(
            l.thousands_hints
                .iter()
                .map(|column| diagnostics::thousands_needed(src.span, &src.name, column)),
        )
        .chain(l.currency_hints.iter().map(|(column, (symbol, options))| {
            diagnostics::currency_needed(src.span, &src.name, column, symbol, options)
        }))
        .chain(
            l.percent_hints
                .iter()
                .map(|column| diagnostics::percent_needed(src.span, &src.name, column)),
        )
        .chain(
            l.padded
                .iter()
                .map(|(column, example)| diagnostics::padded_values(src.span, &src.name, column, example)),
        )
        .chain(
            l.case_twins
                .iter()
                .map(|(column, (a, b))| diagnostics::case_variants(src.span, &src.name, column, a, b)),
        )
        .chain(
            l.leading_zeros
                .iter()
                .map(|(column, example)| diagnostics::leading_zeros(src.span, &src.name, column, example)),
        )
        .chain(l.repeated.iter().map(|(column, n)| {
            diagnostics::repeated_column(src.span, &src.name, &src.path_str(), column, *n)
        }))
        .collect()
}

/// Reads every dataset's schema; sources that cannot be read are reported.
pub fn schemas(spec: &Spec) -> (crate::check::DataSchemas, Vec<Diagnostic>) {
    let mut out = crate::check::DataSchemas::new();
    let mut diags = Vec::new();
    for src in SourceInfo::from_spec(spec) {
        if let Some(d) = malformed_row(&src) {
            diags.push(d);
            continue;
        }
        match schema(&src) {
            Ok(cols) => {
                for (i, (n, t)) in src.declared.iter().enumerate() {
                    if !cols.iter().any(|(c, _)| c == n) {
                        let at = src.declared_at.get(i).copied().unwrap_or(src.span);
                        diags.push(diagnostics::declared_column_missing(
                            at,
                            &src.name,
                            &src.path_str(),
                            n,
                            *t,
                        ));
                    }
                }
                let contradicted = validate_types(&src);
                // Values that cannot be read are not counted: the reader's
                // own failure on them would say the same thing again.
                let counted = contradicted.is_empty();
                diags.extend(contradicted);
                diags.extend(skipped_rows(&src));
                diags.extend(near_misses(&src));
                match non_finite_counts(&src) {
                    Ok(found) => diags.extend(found.iter().map(|(c, n)| {
                        diagnostics::non_finite_values(src.span, &src.name, &src.path_str(), c, *n)
                    })),
                    Err(d) if counted => diags.push(d),
                    Err(_) => {}
                }
                out.insert(src.name.clone(), cols);
            }
            Err(d) => diags.push(d),
        }
    }
    (out, diags)
}

/// Whether a path looks like a data file we can read.
pub fn readable(path: &Path) -> bool {
    format_of(&path.to_string_lossy()).is_some()
}

/// Writes generated tables as Parquet files, each whole or not at all.
pub fn write_parquet(tables: &[crate::generate::Table], dir: &Path) -> Result<(), String> {
    use crate::generate::Column as G;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    for t in tables {
        let columns: Vec<Column> = t
            .columns
            .iter()
            .map(|(name, c)| {
                let name: PlSmallStr = (*name).into();
                let s = match c {
                    G::Str(v) => Series::new(name, v.as_slice()),
                    G::Num(v) => Series::new(name, v.as_slice()),
                    G::Date(v) => Series::new(name, v.iter().map(|d| d.map(|d| d.0)).collect::<Vec<_>>())
                        .cast(&DataType::Date)
                        .unwrap_or_else(|_| Series::new_empty("".into(), &DataType::Date)),
                    G::DateTime(v) => Series::new(name, v.iter().map(|d| d.map(|d| d.0)).collect::<Vec<_>>())
                        .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
                        .unwrap_or_else(|_| Series::new_empty("".into(), &DataType::Date)),
                };
                s.into_column()
            })
            .collect();
        let mut df = DataFrame::new_infer_height(columns).map_err(|e| e.to_string())?;
        let path = dir.join(format!("{}.parquet", t.name));
        crate::report::write_output(&path, |f| {
            ParquetWriter::new(f)
                .finish(&mut df)
                .map(|_| ())
                .map_err(|e| std::io::Error::other(e.to_string()))
        })
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}
