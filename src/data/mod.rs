//! Reading datasets with Polars: scans, schemas, declared-type and lookup-key
//! validation. The only module besides `compile` and `execute` that knows Polars.
//!
//! A dataset's files become one lazy scan in `reading` (CSV as people write
//! it in `csv` and the `csv_*` modules beside it, NDJSON in `ndjson`);
//! `columns` gives the checker every dataset's columns and types, from
//! files or through a connection (`adbc`); `validate` is what the rows say
//! to `kpi check --data` (values a declared type cannot hold, records that
//! cannot be read, almost-dates); `lookup` proves a lookup's keys unique.
//! This module holds what they share: a source's description and the
//! mapping between `kpi`'s types and Polars'.

pub mod adbc;
pub mod by_value;
mod columns;
pub mod csv;
pub(crate) mod diagnostics;
pub mod files;
mod finite;
mod intervals;
pub mod keys;
mod kinds;
mod lookup;
mod ndjson;
mod nulls;
mod objects;
mod reading;
mod tables;
mod text;
mod validate;
mod values;
pub use intervals::reversed_intervals;
pub use nulls::with_null_columns;
pub use tables::read_failed;
pub use values::texts_not_in_data;

pub use columns::{missing_declared_named, readable_schemas, remote_schemas, schemas, ReadSchemas};
pub use lookup::{key_index, lookup_rows, lookup_schema, many_to_one, repeated_key, validate_lookups};
use reading::{absent_fields, declared_text_dates, ndjson_dates, read_error, scan_text};
pub use reading::{
    csv_piece_records, non_finite_counts, parquet_rows, scan, scan_csv_pieces, scan_file, scan_on, schema,
};
pub(crate) use validate::first_bad;
pub use validate::{empty_rows, malformed_row, near_misses, skipped_rows, validate_types};

pub use diagnostics::is_group_hint_about;
pub use finite::{non_finite_flag, remote_non_finite};
pub(crate) use text::guess::iso_datetime_text;

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::check::format_of;
use crate::check::ir::DatasetModel;
use crate::check::types::Type;
use crate::span::Span;
use crate::spec::model::{ColumnType, Format, ReadOptions, Spec};

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
            declared_at: d.declared_at.clone(),
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
        // A column with no value at all (nulls of no type, which any use
        // takes): `coalesce(closed_at, @2025-01-01)` is a date.
        DataType::Null => Type::Null,
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

/// UTF-8's byte order mark, which Windows tools write before a file's text.
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

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

/// `x / y` for numbers, row by row, each quotient the double nearest
/// the true one, as SQL and Rust divide. Polars divides a column by a
/// single number as a product with its reciprocal, a unit in the last
/// place off (`3430 / 100` gives 34.300000000000004, so `round(34.3, 2)`
/// was not 34.3 and `cost / 100` printed 34.300000000000004 as a
/// dimension value). Worked out value by value ([`by_value`]).
pub fn divide(x: Expr, y: Expr) -> Expr {
    by_value::binary_total(x, y, "divide", |x, y| x / y)
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
