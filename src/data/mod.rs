//! Reading datasets with Polars: scans, schemas, declared-type and lookup-key
//! validation. The only module besides `compile` and `execute` that knows Polars.

mod diagnostics;

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::check::format_of;
use crate::check::ir::{DatasetModel, Model};
use crate::check::types::Type;
use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::spec::model::{ColumnType, Format, Spec};

/// Rows sampled to infer CSV column types.
const INFER_ROWS: usize = 10_000;

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
                    path: d.base_dir.join(&src.value),
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
                })
            })
            .collect()
    }

    fn is_glob(&self) -> bool {
        self.path.to_string_lossy().contains(['*', '?', '['])
    }

    fn path_str(&self) -> String {
        self.path.to_string_lossy().into_owned()
    }
}

pub fn dtype_of(t: Type) -> DataType {
    match t {
        Type::Number => DataType::Float64,
        Type::String | Type::Null | Type::Unknown => DataType::String,
        Type::Bool => DataType::Boolean,
        Type::Date => DataType::Date,
        Type::Datetime => DataType::Datetime(TimeUnit::Microseconds, None),
    }
}

pub fn type_of(dt: &DataType) -> Type {
    match dt {
        DataType::String => Type::String,
        DataType::Boolean => Type::Bool,
        DataType::Date => Type::Date,
        DataType::Datetime(..) => Type::Datetime,
        dt if dt.is_primitive_numeric() => Type::Number,
        _ => Type::Unknown,
    }
}

pub fn column_type_of(t: Type) -> Option<ColumnType> {
    Some(match t {
        Type::Number => ColumnType::Number,
        Type::String => ColumnType::String,
        Type::Bool => ColumnType::Bool,
        Type::Date => ColumnType::Date,
        Type::Datetime => ColumnType::Datetime,
        Type::Null | Type::Unknown => return None,
    })
}

fn check_exists(src: &SourceInfo) -> Result<(), Diagnostic> {
    if !src.is_glob() && !src.path.exists() {
        return Err(diagnostics::source_not_found(
            src.span,
            &src.name,
            &src.path_str(),
        ));
    }
    Ok(())
}

/// The first CSV line whose number of fields differs from the header's:
/// (line number, fields in the header, fields on the line). Quotes are honoured.
pub fn first_ragged_line(path: &Path) -> Option<(usize, usize, usize)> {
    use std::io::BufRead;
    let file = std::fs::File::open(path).ok()?;
    let mut expected = None;
    let mut in_quotes = false;
    let mut fields = 1;
    let mut start_line = 1;
    for (i, line) in std::io::BufReader::new(file).split(b'\n').enumerate() {
        let line = line.ok()?;
        if !in_quotes {
            fields = 1;
            start_line = i + 1;
        }
        for &b in &line {
            match b {
                b'"' => in_quotes = !in_quotes,
                b',' if !in_quotes => fields += 1,
                _ => {}
            }
        }
        if in_quotes {
            continue;
        }
        let blank = line.iter().all(|b| b.is_ascii_whitespace());
        match expected {
            None => expected = Some(fields),
            Some(_) if blank => {}
            Some(n) if n != fields => return Some((start_line, n, fields)),
            Some(_) => {}
        }
    }
    None
}

/// A malformed CSV row of a source, if it has one.
pub fn malformed_row(src: &SourceInfo) -> Option<Diagnostic> {
    if src.format != Format::Csv || src.is_glob() {
        return None;
    }
    let (line, want, got) = first_ragged_line(&src.path)?;
    Some(diagnostics::malformed_row(
        src.span,
        &src.name,
        &src.path_str(),
        line,
        want,
        got,
    ))
}

/// A reading error, located to the line when the cause is a malformed CSV row.
fn read_error(src: &SourceInfo, e: &PolarsError) -> Diagnostic {
    if src.format == Format::Csv && !src.is_glob() {
        if let Some((line, want, got)) = first_ragged_line(&src.path) {
            return diagnostics::malformed_row(src.span, &src.name, &src.path_str(), line, want, got);
        }
    }
    diagnostics::data_error(src.span, &src.name, &src.path_str(), &e.to_string())
}

/// A lazy scan with declared columns read as their declared types.
pub fn scan(src: &SourceInfo) -> Result<LazyFrame, Diagnostic> {
    scan_with(src, false)
}

/// `raw`: declared columns are read as text (to find values that contradict them).
fn scan_with(src: &SourceInfo, raw: bool) -> Result<LazyFrame, Diagnostic> {
    check_exists(src)?;
    let path = PlRefPath::new(src.path_str());
    let err = |e: PolarsError| read_error(src, &e);
    let lf = match src.format {
        Format::Csv => {
            // Dates and times are read as text and converted below: the CSV
            // reader's own date parsing re-reads its format for every value.
            let overwrite: Schema = src
                .declared
                .iter()
                .map(|(n, t)| {
                    let text = raw || t.is_temporal();
                    Field::new(
                        n.as_str().into(),
                        if text { DataType::String } else { dtype_of(*t) },
                    )
                })
                .collect();
            LazyCsvReader::new(path)
                .with_has_header(true)
                .with_infer_schema_length(Some(INFER_ROWS))
                // Inferring dates parses every text value through a format
                // string (slow): a dataset that declares its columns says
                // which are dates; one that does not is inferred.
                .with_try_parse_dates(!raw && src.declared.is_empty())
                .with_missing_is_null(true)
                .with_glob(src.is_glob())
                .with_dtype_overwrite(Some(Arc::new(overwrite)))
                .finish()
                .map_err(err)?
        }
        Format::Parquet => LazyFrame::scan_parquet(path, ScanArgsParquet::default()).map_err(err)?,
        Format::Ndjson => LazyJsonLineReader::new(path)
            .with_infer_schema_length(std::num::NonZeroUsize::new(INFER_ROWS))
            .finish()
            .map_err(err)?,
    };
    if raw {
        return Ok(lf);
    }
    // Convert text to declared dates and times (CSV above; Parquet or NDJSON that store them as text).
    let schema = lf.clone().collect_schema().map_err(err)?;
    let casts: Vec<Expr> = src
        .declared
        .iter()
        .filter_map(|(n, t)| {
            let have = schema.get(n.as_str())?;
            if type_of(have) == *t {
                return None;
            }
            let opts = StrptimeOptions {
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
    Ok(if casts.is_empty() {
        lf
    } else {
        lf.with_columns(casts)
    })
}

/// Column names and types as evaluation will see them.
pub fn schema(src: &SourceInfo) -> Result<Vec<(String, Type)>, Diagnostic> {
    let mut lf = scan(src)?;
    let schema = lf.collect_schema().map_err(|e| read_error(src, &e))?;
    Ok(schema
        .iter()
        .map(|(n, dt)| (n.to_string(), type_of(dt)))
        .collect())
}

/// Finds the first value of each declared column that its type cannot hold.
pub fn validate_types(src: &SourceInfo) -> Vec<Diagnostic> {
    let checked: Vec<&(String, Type)> = src
        .declared
        .iter()
        .filter(|(_, t)| !matches!(t, Type::String | Type::Unknown | Type::Null))
        .collect();
    if checked.is_empty() {
        return Vec::new();
    }
    let lf = match scan_with(src, true) {
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
                strict: false,
                ..Default::default()
            }),
            _ => text.clone().str().to_datetime(
                Some(TimeUnit::Microseconds),
                None,
                StrptimeOptions {
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
    let df = match lf.with_row_index("__row", None).select(aggs).collect() {
        Ok(df) => df,
        Err(e) => return vec![read_error(src, &e)],
    };
    let mut out = Vec::new();
    for (i, (n, t)) in names.iter().enumerate() {
        let value = df
            .column(&format!("v{i}"))
            .ok()
            .and_then(|s| s.get(0).ok())
            .and_then(|v| v.get_str().map(str::to_string));
        let row = df
            .column(&format!("r{i}"))
            .ok()
            .and_then(|s| s.get(0).ok())
            .and_then(|v| v.extract::<u64>());
        if let (Some(value), Some(row)) = (value, row) {
            // CSV lines count the header; other formats count records.
            let line = if src.format == Format::Csv {
                row + 2
            } else {
                row + 1
            };
            let at = src
                .declared
                .iter()
                .position(|(c, _)| c == n)
                .and_then(|i| src.declared_at.get(i))
                .copied();
            out.push(diagnostics::declared_type_contradicted(
                at.unwrap_or(src.span),
                &src.name,
                &src.path_str(),
                n,
                *t,
                &value,
                line,
            ));
        }
    }
    out
}

/// Lookups must be many-to-one: a key that repeats on the looked-up side
/// would multiply rows.
pub fn validate_lookups(model: &Model) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for d in &model.datasets {
        for l in &d.lookups {
            let target = &model.datasets[l.dataset];
            let src = SourceInfo::from_model(target);
            let lf = match scan(&src) {
                Ok(lf) => lf,
                Err(e) => {
                    out.push(e);
                    continue;
                }
            };
            let dup = lf
                .group_by([col(l.right.as_str())])
                .agg([len().alias("n")])
                .filter(col("n").gt(lit(1)))
                .sort(["n"], SortMultipleOptions::default().with_order_descending(true))
                .limit(1)
                .collect();
            match dup {
                Ok(df) if df.height() > 0 => {
                    let key = df
                        .column(&l.right)
                        .ok()
                        .and_then(|s| s.get(0).ok())
                        .map(|v| v.to_string());
                    let n = df
                        .column("n")
                        .ok()
                        .and_then(|s| s.get(0).ok())
                        .and_then(|v| v.extract::<u64>());
                    out.push(diagnostics::duplicate_lookup_key(
                        l.span,
                        &d.name,
                        &target.name,
                        &l.right,
                        key.as_deref().unwrap_or("?"),
                        n.unwrap_or(2),
                    ));
                }
                Ok(_) => {}
                Err(e) => out.push(diagnostics::data_error(
                    src.span,
                    &src.name,
                    &src.path_str(),
                    &e.to_string(),
                )),
            }
        }
    }
    out
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
                diags.extend(validate_types(&src));
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
        crate::report::write_atomic(&path, |f| {
            ParquetWriter::new(f)
                .finish(&mut df)
                .map(|_| ())
                .map_err(|e| std::io::Error::other(e.to_string()))
        })
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}
