//! A table the database does not find: the tables it has, for a "did you
//! mean". The failure is the database's own words (`relation "dealz" does
//! not exist`); the names it has are asked for only then.

use crate::check::ir::ConnectionModel;
use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::spec::model::Dialect;

/// `d`, a failed read of dataset `dataset` (its `source`, its `table` if
/// it names one) on `c`, said of the dataset (`diagnostics::of_dataset`),
/// with the connection's tables near that name in its help when the
/// database said it has no such table.
pub fn read_failed(
    d: Diagnostic,
    (dataset, source): (&str, Span),
    c: &ConnectionModel,
    table: Option<&str>,
) -> Diagnostic {
    let d = super::diagnostics::of_dataset(d, dataset, source, table.map(|t| (t, c.dialect)));
    near_missing(d, c, table)
}

/// `d` with the connection's tables near `table` in its help (or those it
/// has, when none is near), when the database said it has no such table
/// and the help does not already name it in the database's case.
fn near_missing(mut d: Diagnostic, c: &ConnectionModel, table: Option<&str>) -> Diagnostic {
    let missing = super::diagnostics::table_not_found(&d.message);
    let Some(table) = table.filter(|_| missing && d.code == "kpi::query_failed") else {
        return d;
    };
    if d.help
        .as_deref()
        .is_some_and(|h| h.starts_with(super::diagnostics::CASE_COUNTS))
    {
        return d;
    }
    let Some((tables, default)) = tables_of(c, table) else {
        return d;
    };
    let statement = d.help.take().unwrap_or_default();
    d.help = Some(format!("{} ({statement})", near(table, &tables, default)));
    d
}

/// "Did you mean" the table nearest `wanted` among `tables` ((schema,
/// name) pairs; a name in the `default` schema may be written alone): of
/// the schema it names, by name (a long schema's name shared by all made
/// every name near), or of any schema when that one has no table; else
/// the tables of its schema (a warehouse has thousands), or the schemas
/// there are when it has none.
fn near(wanted: &str, tables: &[(String, String)], default: &str) -> String {
    let (schema, name) = wanted.rsplit_once('.').unwrap_or((default, wanted));
    let written = |n: &str| match wanted.contains('.') {
        true => format!("{schema}.{n}"),
        false => n.to_string(),
    };
    let mut of_schema: Vec<&str> = tables
        .iter()
        .filter(|(s, _)| s == schema)
        .map(|(_, n)| n.as_str())
        .collect();
    if let Some(near) = crate::diagnostic::did_you_mean(name, of_schema.iter().copied()) {
        return format!("did you mean `{}`?", written(near));
    }
    if !of_schema.is_empty() {
        of_schema.sort_unstable();
        return format!("the tables of `{schema}`: {}", listed(&of_schema, "none"));
    }
    let everywhere: Vec<String> = tables.iter().map(|(s, n)| format!("{s}.{n}")).collect();
    if let Some(near) = crate::diagnostic::did_you_mean(wanted, everywhere.iter().map(String::as_str)) {
        return format!("did you mean `{near}`?");
    }
    let mut schemas: Vec<&str> = tables.iter().map(|(s, _)| s.as_str()).collect();
    schemas.sort_unstable();
    schemas.dedup();
    format!(
        "no table is in a schema `{schema}`; the schemas: {}",
        listed(&schemas, "none")
    )
}

/// Up to twelve names in backticks, `…` after them when there are more,
/// or `none` when there are none.
fn listed(names: &[&str], none: &str) -> String {
    if names.is_empty() {
        return none.to_string();
    }
    let shown: Vec<String> = names.iter().take(12).map(|n| format!("`{n}`")).collect();
    let more = if names.len() > 12 { ", …" } else { "" };
    format!("{}{more}", shown.join(", "))
}

/// The connection's tables and views, (schema, name), with the schema a
/// name without one is found in; none where the database cannot be asked
/// (BigQuery lists the tables of one dataset at a time) or does not answer.
fn tables_of(c: &ConnectionModel, wanted: &str) -> Option<(Vec<(String, String)>, &'static str)> {
    let (sql, default) = match c.dialect {
        Dialect::Postgres => (
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')".to_string(),
            "public",
        ),
        Dialect::DuckDb => (
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema <> 'information_schema'".to_string(),
            "main",
        ),
        Dialect::Snowflake => (
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema <> 'INFORMATION_SCHEMA'".to_string(),
            "PUBLIC",
        ),
        Dialect::Sqlite => (
            "SELECT 'main' AS table_schema, name AS table_name FROM sqlite_master WHERE type IN ('table', 'view')".to_string(),
            "main",
        ),
        // Spark lists one schema's tables: the one the name gives, or the current one.
        Dialect::Spark => {
            let schema = wanted.rsplit_once('.').map(|(s, _)| s);
            let sql = match schema {
                Some(s) => format!("SHOW TABLES IN {}", crate::sql::dialect::Spelling::ident(c.dialect, s)),
                None => "SHOW TABLES".to_string(),
            };
            (sql, "default")
        }
        Dialect::BigQuery => return None,
    };
    let df = super::adbc::query(c, &sql).ok()?;
    let columns = df.columns();
    let text = |i: usize| -> Option<Vec<Option<String>>> {
        let col = columns.get(i)?.cast(&polars::prelude::DataType::String).ok()?;
        Some(col.str().ok()?.iter().map(|v| v.map(str::to_string)).collect())
    };
    // SHOW TABLES gives (namespace, tableName, isTemporary).
    let (schemas, names) = (text(0)?, text(1)?);
    let tables = schemas
        .into_iter()
        .zip(names)
        .filter_map(|(schema, name)| {
            let schema = schema
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| default.to_string());
            Some((schema, name?))
        })
        .collect();
    Some((tables, default))
}
