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
    let mut columns: Vec<(usize, &str)> = Vec::new();
    for c in &compared {
        if !columns.contains(&(c.dataset, c.column.as_str())) {
            columns.push((c.dataset, c.column.as_str()));
        }
    }
    for (ds, column) in columns {
        let d = &model.datasets[ds];
        let Some(values) = values_of(model, ds, column) else {
            continue;
        };
        for c in compared
            .iter()
            .filter(|c| c.dataset == ds && c.column == column)
            .filter(|c| values.binary_search(&c.text).is_err())
        {
            out.push(not_in_data(c, &d.name, &values));
        }
    }
    out
}

/// The distinct values of a text column, sorted; none when it has too
/// many or cannot be read (reading errors are said elsewhere). A dataset
/// on a connection is asked with one `SELECT DISTINCT`.
fn values_of(model: &Model, ds: usize, column: &str) -> Option<Vec<String>> {
    let d = &model.datasets[ds];
    let found = match &d.remote {
        Some(r) => {
            let c = model.connections.get(r.connection)?;
            let sql = crate::sql::distinct_values_sql(model, ds, column, c.dialect, MOST_VALUES + 1);
            let df = super::adbc::query(c, &sql).ok()?;
            df.column("v")
                .ok()?
                .cast(&DataType::String)
                .ok()?
                .str()
                .ok()?
                .clone()
        }
        None => {
            let df = super::scan(&SourceInfo::from_model(d))
                .ok()?
                .select([col(column)
                    .cast(DataType::String)
                    .drop_nulls()
                    .unique()
                    .head(Some(MOST_VALUES + 1))])
                .collect()
                .ok()?;
            df.column(column).ok()?.str().ok()?.clone()
        }
    };
    if found.len() > MOST_VALUES {
        return None;
    }
    let mut values: Vec<String> = found.iter().flatten().map(str::to_string).collect();
    values.sort();
    Some(values)
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
