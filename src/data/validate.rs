//! What `kpi check --data` (and `eval`) finds in a dataset's rows: values a
//! declared type cannot hold, records the reader cannot read or skipped,
//! dates in a format nothing says, and text columns that are almost dates
//! or numbers, each named with its file and line.

use std::path::PathBuf;

use polars::prelude::*;

use super::{
    absent_fields, csv, declared_text_dates, diagnostics, ndjson_dates, read_error, scan_text, text,
    SourceInfo,
};
use crate::check::types::Type;
use crate::diagnostic::Diagnostic;
use crate::spec::model::{Format, OnError};
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

/// Rows of a CSV source whose every field is empty (`,,`), said once.
pub fn empty_rows(src: &SourceInfo) -> Option<Diagnostic> {
    if src.format != Format::Csv {
        return None;
    }
    let l = csv::layout(src).ok()?;
    if l.empty_rows.is_empty() {
        return None;
    }
    let first: Vec<u64> = l.empty_rows.iter().take(5).copied().collect();
    let places = csv::places_of(&l, &first);
    let one_file = l.files.len() == 1;
    let path = match places.first() {
        Some((file, _)) if one_file => file.display().to_string(),
        _ => src.path_str(),
    };
    // Lines of a glob's files named with their file.
    let lines: Vec<String> = places
        .iter()
        .map(|(file, line)| match one_file {
            true => line.to_string(),
            false => format!("{}:{line}", file.display()),
        })
        .collect();
    Some(diagnostics::empty_rows(
        src.span,
        &src.name,
        &path,
        l.empty_rows.len(),
        &lines,
    ))
}

/// Finds the first value of each declared column that its type cannot hold.
pub fn validate_types(src: &SourceInfo) -> Vec<Diagnostic> {
    if src.format == Format::Csv {
        return csv_contradictions(src);
    }
    let stored = stored_contradictions(src);
    if !stored.is_empty() {
        return stored;
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
    // Declared dates and datetimes held as texts (NDJSON's, Parquet's
    // text columns) convert as CSV's do.
    let dates = match declared_text_dates(src, &lf, &schema) {
        Ok(d) => d,
        Err(d) => return vec![d],
    };
    let mut aggs = Vec::new();
    let mut names = Vec::new();
    for (n, t) in checked {
        if schema.get(n.as_str()) != Some(&DataType::String) {
            continue;
        }
        // Numbers and bools as a CSV column declared so reads them.
        let conv = match dates.iter().find(|(c, _)| c == n) {
            Some((_, conv)) => Some(conv.clone()),
            None => text::conversion::declared_conversion(src, &[], *t),
        };
        let Some(conv) = conv else { continue };
        let bad = text::conversion::unconverted(n, &conv);
        let c = col(n.as_str());
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

/// The values of a column stored as `have` (Parquet's types, NDJSON's
/// numbers and booleans) that the declared type `t` cannot hold, whatever
/// they are: numbers and booleans are no dates (a cast would take
/// 20250131 for as many days after 1970), dates no numbers or booleans,
/// and numbers other than 0 and 1 no booleans. `None`: a cast holds them.
pub(super) fn stored_contradiction(have: &DataType, t: Type, c: Expr) -> Option<Expr> {
    let number = have.is_primitive_numeric() || matches!(have, DataType::Decimal(..));
    match t {
        Type::Date | Type::Datetime if number || have.is_bool() => Some(c.is_not_null()),
        Type::Number | Type::Bool if matches!(have, DataType::Date | DataType::Datetime(..)) => {
            Some(c.is_not_null())
        }
        Type::Bool if number => Some(
            c.clone()
                .is_not_null()
                .and(c.clone().neq(lit(0)))
                .and(c.neq(lit(1))),
        ),
        _ => None,
    }
}

/// A stored type in an analyst's words.
fn stored_words(have: &DataType) -> String {
    match have {
        t if t.is_integer() => "integers".into(),
        t if t.is_float() => "floats".into(),
        DataType::Decimal(..) => "decimals".into(),
        DataType::Boolean => "booleans".into(),
        DataType::Date => "dates".into(),
        DataType::Datetime(..) => "datetimes".into(),
        t => t.to_string(),
    }
}

/// The first value of each declared column of a Parquet or NDJSON source
/// that its stored type cannot hold as declared ([`stored_contradiction`]),
/// named with its file and record.
pub(super) fn stored_contradictions(src: &SourceInfo) -> Vec<Diagnostic> {
    let Ok(mut lf) = super::reading::scan_other(src) else {
        return Vec::new();
    };
    let Ok(schema) = lf.collect_schema() else {
        return Vec::new();
    };
    let (mut aggs, mut names) = (Vec::new(), Vec::new());
    for (n, t) in &src.declared {
        let c = || col(n.as_str());
        let Some(have) = schema.get(n.as_str()) else {
            continue;
        };
        let Some(bad) = stored_contradiction(have, *t, c()) else {
            continue;
        };
        let i = names.len();
        aggs.push(
            c().filter(bad.clone())
                .first()
                .cast(DataType::String)
                .alias(format!("v{i}")),
        );
        aggs.push(col("__row").filter(bad).first().alias(format!("r{i}")));
        names.push((n, *t, stored_words(have)));
    }
    if names.is_empty() {
        return Vec::new();
    }
    let df = match lf.with_row_index("__row", None).select(aggs).collect() {
        Ok(df) => df,
        Err(e) => return vec![read_error(src, &e)],
    };
    names
        .into_iter()
        .enumerate()
        .filter_map(|(i, (n, t, have))| {
            let (value, row) = first_bad(&df, i)?;
            Some(diagnostics::declared_over_stored(
                src.declared_at(n),
                &src.name,
                &record_place(src, row),
                n,
                t,
                &have,
                &value,
            ))
        })
        .collect()
}

/// Fields of an NDJSON source whose names differ only in case, each with
/// values, that no record holds together: one field spelt two ways by
/// the files' writer (CSV columns of such names are both in every row).
fn fields_spelt_two_ways(src: &SourceInfo) -> Vec<Diagnostic> {
    let Ok(mut lf) = super::reading::scan_other(src) else {
        return Vec::new();
    };
    let Ok(schema) = lf.collect_schema() else {
        return Vec::new();
    };
    let names: Vec<&PlSmallStr> = schema.iter_names().collect();
    let mut pairs = Vec::new();
    for (i, a) in names.iter().enumerate() {
        for b in &names[i + 1..] {
            if a.to_lowercase() == b.to_lowercase() {
                pairs.push((a.to_string(), b.to_string()));
            }
        }
    }
    if pairs.is_empty() {
        return Vec::new();
    }
    let has = |n: &str| col(n).is_not_null();
    let mut aggs = Vec::new();
    for (k, (a, b)) in pairs.iter().enumerate() {
        aggs.push(has(a).sum().alias(format!("a{k}")));
        aggs.push(has(b).sum().alias(format!("b{k}")));
        aggs.push(has(a).and(has(b)).sum().alias(format!("ab{k}")));
    }
    let Ok(df) = lf.select(aggs).collect() else {
        return Vec::new();
    };
    let count = |name: String| df.column(&name).ok()?.get(0).ok()?.extract::<u64>();
    pairs
        .iter()
        .enumerate()
        .filter_map(|(k, (a, b))| {
            let (na, nb, both) = (
                count(format!("a{k}"))?,
                count(format!("b{k}"))?,
                count(format!("ab{k}"))?,
            );
            (na > 0 && nb > 0 && both == 0).then(|| {
                diagnostics::field_spelt_two_ways(src.span, &src.name, &src.path_str(), (a, na), (b, nb))
            })
        })
        .collect()
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
    diagnostics::declared_type_contradicted(
        src.declared_at(column),
        &src.name,
        src.format,
        &record_place(src, row),
        column,
        t,
        value,
    )
}

/// Where record `row` (from 0) of a Parquet or NDJSON source is, in the
/// words of a reader of its files: the file of a glob that holds it, and
/// its line there (blank lines are no record but count as lines) or its
/// row. Files that cannot be read again are named by the source's path.
fn record_place(src: &SourceInfo, row: u64) -> String {
    let unit = match src.format {
        Format::Ndjson => "line",
        _ => "row",
    };
    let found = super::files::expand(src)
        .ok()
        .and_then(|files| file_of_record(src, &files, row));
    match found {
        Some((file, n)) => format!("`{}` {unit} {n}", file.display()),
        None => format!("`{}` {unit} {}", src.path_str(), row + 1),
    }
}

/// The file of a source's `files`, read one after another, that holds
/// record `row` (from 0), and the record's line (NDJSON) or row there, from 1.
fn file_of_record(src: &SourceInfo, files: &[PathBuf], mut row: u64) -> Option<(PathBuf, u64)> {
    let parquet_rows = super::parquet_rows(src).ok()?;
    for (i, file) in files.iter().enumerate() {
        let within = match &parquet_rows {
            Some(rows) => {
                let rows = *rows.get(i)?;
                if row < rows {
                    Ok(row + 1)
                } else {
                    Err(rows)
                }
            }
            None => super::ndjson::line_of_record(file, row).ok()?,
        };
        match within {
            Ok(n) => return Some((file.clone(), n)),
            Err(records) => row -= records,
        }
    }
    None
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
            (&m.value, m.line),
            src.format,
        )
    };
    if src.format == Format::Ndjson {
        let absent = absent_fields(src).unwrap_or_default().into_iter().map(|(n, t)| {
            let at = src.declared_at(&n);
            diagnostics::declared_field_absent(at, &src.name, &src.path_str(), &n, t)
        });
        return match ndjson_dates(src) {
            Ok(dates) => dates
                .near_misses
                .iter()
                .map(mixed)
                .chain(dates.hints.iter().map(|(column, formats)| {
                    diagnostics::date_format_needed(src.span, &src.name, column, formats)
                }))
                .chain(absent)
                .chain(fields_spelt_two_ways(src))
                .collect(),
            Err(_) => absent.chain(fields_spelt_two_ways(src)).collect(),
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
        .chain(
            l.dotted_thousands
                .iter()
                .map(|(column, example)| diagnostics::dotted_thousands(src.span, &src.name, column, example)),
        )
        .chain(l.repeated.iter().map(|(column, n)| {
            diagnostics::repeated_column(src.span, &src.name, &src.path_str(), column, *n)
        }))
        .collect()
}
