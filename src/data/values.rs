//! `kpi check --data`: texts a spec compares columns with that no row of
//! the data holds (see [`crate::check::literals`]), in files or asked of
//! the database.

use polars::prelude::*;

use super::SourceInfo;
use crate::check::ir::Model;
use crate::check::literals::{texts_compared, TextCompared};
use crate::diagnostic::{did_you_mean, Diagnostic};

/// Columns with more distinct values than this (identifiers, free text)
/// are not looked through: texts compared with them are rare, and their
/// values would cost more memory than the check is worth.
const MOST_VALUES: usize = 10_000;

/// A warning for each text compared with a column that no row of the
/// column holds, with the value it most likely means.
pub fn texts_not_in_data(model: &Model) -> Vec<Diagnostic> {
    let compared = texts_compared(model);
    let mut out = Vec::new();
    for (ds, d) in model.datasets.iter().enumerate() {
        let mut columns: Vec<&str> = Vec::new();
        for c in compared.iter().filter(|c| c.dataset == ds) {
            if !columns.contains(&c.column.as_str()) {
                columns.push(&c.column);
            }
        }
        if columns.is_empty() {
            continue;
        }
        for (column, values) in columns.iter().zip(values_of(model, ds, &columns)) {
            let Some(values) = values else { continue };
            let missing = |c: &&TextCompared| {
                c.dataset == ds && c.column == *column && values.binary_search(&c.text).is_err()
            };
            out.extend(
                compared
                    .iter()
                    .filter(missing)
                    .map(|c| not_in_data(c, &d.name, &values)),
            );
        }
    }
    out
}

/// Each column's distinct values, sorted; none for a column with too many
/// or that cannot be read (reading errors are said elsewhere). Files are
/// read once for all the columns; a dataset on a connection is asked one
/// `SELECT DISTINCT` a column.
fn values_of(model: &Model, ds: usize, columns: &[&str]) -> Vec<Option<Vec<String>>> {
    let d = &model.datasets[ds];
    let found: Vec<Option<StringChunked>> = match &d.remote {
        Some(r) => columns
            .iter()
            .map(|column| {
                let c = model.connections.get(r.connection)?;
                let sql = crate::sql::distinct_values_sql(model, ds, column, c.dialect, MOST_VALUES + 1);
                let v = super::adbc::query(c, &sql)
                    .ok()?
                    .column("v")
                    .ok()?
                    .cast(&DataType::String)
                    .ok()?;
                Some(v.str().ok()?.clone())
            })
            .collect(),
        None => {
            let distinct = |c: &&str| {
                col(*c)
                    .cast(DataType::String)
                    .drop_nulls()
                    .unique()
                    .head(Some(MOST_VALUES + 1))
                    .implode(false)
            };
            let select: Vec<Expr> = columns.iter().map(distinct).collect();
            let df = super::scan(&SourceInfo::from_model(d))
                .ok()
                .and_then(|lf| lf.select(select).collect().ok());
            columns
                .iter()
                .map(|c| {
                    Some(
                        df.as_ref()?
                            .column(c)
                            .ok()?
                            .list()
                            .ok()?
                            .get_as_series(0)?
                            .str()
                            .ok()?
                            .clone(),
                    )
                })
                .collect()
        }
    };
    let sorted = |v: StringChunked| {
        let mut values: Vec<String> = v.iter().flatten().map(str::to_string).collect();
        values.sort();
        values
    };
    found
        .into_iter()
        .map(|v| v.filter(|v| v.len() <= MOST_VALUES).map(sorted))
        .collect()
}

fn not_in_data(c: &TextCompared, dataset: &str, values: &[String]) -> Diagnostic {
    let (text, column) = (&c.text, &c.column);
    // The same text in another case, or with spaces around it, first.
    let same = values
        .iter()
        .find(|v| v.trim().eq_ignore_ascii_case(text.trim()) || v.to_lowercase() == text.to_lowercase());
    let near = same
        .map(String::as_str)
        .or_else(|| did_you_mean(text, values.iter().map(String::as_str)));
    let help = match near {
        Some(v) => format!("did you mean `\"{v}\"`? Texts are compared exactly, case and spaces included"),
        None => {
            let shown: Vec<String> = values.iter().take(8).map(|v| format!("`\"{v}\"`")).collect();
            let more = if values.len() > 8 { ", …" } else { "" };
            match shown.is_empty() {
                true => format!("`{column}` has no value in the data"),
                false => format!("its values: {}{more}", shown.join(", ")),
            }
        }
    };
    Diagnostic::warning(
        "kpi::text_not_in_data",
        format!("no row of dataset `{dataset}` has `{column}` equal to `\"{text}\"`"),
    )
    .at(c.span, format!("not a value of `{column}`"))
    .help(help)
}
