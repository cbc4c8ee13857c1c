//! Connections (`connections:`) and datasets whose rows are in a database:
//! drivers known or given by path, a SQL dialect for each, environment
//! variables that are set, lookups that stay on one connection, and KPIs
//! that each dialect computes exactly.

use super::*;
use crate::spec::model::{Connection, Dialect, Keyword, TableSource};

/// The driver short names `driver:` takes, with their SQL dialect (none:
/// the connection must say `dialect:`) and the package that ships each.
pub const DRIVERS: &[(&str, Option<Dialect>, &str)] = &[
    (
        "postgresql",
        Some(Dialect::Postgres),
        "pip install adbc-driver-postgresql",
    ),
    (
        "duckdb",
        Some(Dialect::DuckDb),
        "DuckDB's libduckdb (npm @duckdb/node-bindings-linux-x64, or DuckDB's release)",
    ),
    (
        "snowflake",
        Some(Dialect::Snowflake),
        "pip install adbc-driver-snowflake",
    ),
    (
        "bigquery",
        Some(Dialect::BigQuery),
        "pip install adbc-driver-bigquery",
    ),
    ("spark", Some(Dialect::Spark), "pip install adbc-driver-spark"),
    ("flightsql", None, "pip install adbc-driver-flightsql"),
    ("sqlite", Some(Dialect::Sqlite), "pip install adbc-driver-sqlite"),
];

/// Whether `driver:` names a library file rather than a short name.
pub fn is_driver_path(driver: &str) -> bool {
    driver.contains('/')
        || driver.contains('\\')
        || [".so", ".dylib", ".dll"].iter().any(|e| driver.ends_with(e))
}

/// The dialect a driver library's file name tells: DuckDB's `libduckdb`,
/// or `libadbc_driver_NAME` of a driver with one dialect (not FlightSQL's,
/// which serves many).
fn dialect_of_library(path: &str) -> Option<Dialect> {
    let file = path.rsplit(['/', '\\']).next()?;
    let stem = file.split('.').next()?;
    let name = match stem {
        "libduckdb" | "duckdb" => "duckdb",
        _ => stem
            .strip_prefix("libadbc_driver_")
            .or_else(|| stem.strip_prefix("adbc_driver_"))?,
    };
    DRIVERS
        .iter()
        .find(|(n, _, _)| *n == name)
        .and_then(|(_, d, _)| *d)
}

/// The connection as the checked model holds it; `None` for one with errors.
pub fn resolve(c: &Connection) -> Option<ConnectionModel> {
    connection_model(c, &mut Diagnostics::new())
}

pub(super) fn connections(spec: &Spec, model: &mut Model, diags: &mut Diagnostics) {
    for c in &spec.connections {
        if let Some(m) = connection_model(c, diags) {
            unset_variables(c, diags);
            written_secrets(c, diags);
            model.connections.push(m);
        }
    }
}

/// A connection with its driver and dialect resolved (what fails is said).
fn connection_model(c: &Connection, diags: &mut Diagnostics) -> Option<ConnectionModel> {
    let driver = c.driver.as_ref()?;
    let dialect = dialect_of(c, driver, diags)?;
    Some(ConnectionModel {
        name: c.name.value.clone(),
        driver: driver.value.clone(),
        uri: c.uri.as_ref().map(|u| u.value.clone()),
        dialect,
        options: c
            .options
            .iter()
            .map(|(k, v)| (k.value.clone(), v.value.clone()))
            .collect(),
        span: c.name.span,
        base_dir: c.base_dir.clone(),
    })
}

/// The connection's dialect: as given, or the driver's.
fn dialect_of(c: &Connection, driver: &crate::spec::model::Text, diags: &mut Diagnostics) -> Option<Dialect> {
    if let Some(d) = &c.dialect {
        return Some(d.value);
    }
    if is_driver_path(&driver.value) {
        let known = dialect_of_library(&driver.value);
        if known.is_none() {
            diags.push(diag::no_dialect(driver.span, &c.name.value, &driver.value));
        }
        return known;
    }
    match DRIVERS.iter().find(|(n, _, _)| *n == driver.value) {
        Some((_, Some(d), _)) => Some(*d),
        Some((name, None, _)) => {
            diags.push(diag::no_dialect(driver.span, &c.name.value, name));
            None
        }
        None => {
            diags.push(diag::unknown_driver(
                driver.span,
                &driver.value,
                DRIVERS.iter().map(|(n, _, _)| *n),
            ));
            None
        }
    }
}

/// `${VAR}` in the URI or options that the environment does not set: a
/// warning naming the variable (never its value).
fn unset_variables(c: &Connection, diags: &mut Diagnostics) {
    let texts = c.uri.iter().chain(c.options.iter().map(|(_, v)| v));
    for t in texts {
        if let Err(e) = crate::spec::env::expand_env(&t.value) {
            diags.push(diag::connection_variable(t.span, &c.name.value, &e));
        }
    }
}

/// A password written in the URI, or a secret option (a password, token
/// or key) written as its value: a warning, since the spec goes to git.
fn written_secrets(c: &Connection, diags: &mut Diagnostics) {
    if let Some(uri) = c
        .uri
        .as_ref()
        .filter(|u| !crate::spec::env::password_spans(&u.value).is_empty())
    {
        diags.push(diag::secret_in_spec(
            uri.span,
            &c.name.value,
            "its URI holds a password",
        ));
    }
    let written = c
        .options
        .iter()
        .filter(|(k, v)| crate::spec::env::is_secret_option(&k.value) && !v.value.contains("${"));
    for (k, v) in written {
        let what = format!("its option `{}` is written in the spec", k.value);
        diags.push(diag::secret_in_spec(v.span, &c.name.value, &what));
    }
}

/// A dataset's table or query, on a connection the spec defines.
pub(super) fn remote_source(
    t: &TableSource,
    spec: &Spec,
    model: &Model,
    diags: &mut Diagnostics,
) -> Option<RemoteSource> {
    let Some(connection) = model
        .connections
        .iter()
        .position(|c| c.name == t.connection.value)
    else {
        // A connection that failed its own check was reported there.
        if !spec
            .connections
            .iter()
            .any(|c| c.name.value == t.connection.value)
        {
            diags.push(diag::unknown_connection(
                t.connection.span,
                &t.connection.value,
                spec.connections.iter().map(|c| c.name.value.as_str()),
            ));
        }
        return None;
    };
    let relation = match (&t.table, &t.query) {
        (Some(table), _) => Relation::Table(table.value.clone()),
        (None, Some(q)) => Relation::query(&q.value),
        (None, None) => return None,
    };
    Some(RemoteSource { connection, relation })
}

/// `format:` and `read:` are about files; on a table they do nothing.
pub(super) fn no_file_options(d: &m::Dataset, diags: &mut Diagnostics) {
    if let Some(f) = &d.format {
        diags.push(diag::file_option_on_table(f.span, "format", &d.name.value));
    }
    if d.read != crate::spec::model::ReadOptions::default() {
        diags.push(diag::file_option_on_table(d.name.span, "read", &d.name.value));
    }
}

/// `connection.table` or `connection: query`, for listings.
pub fn describe(t: &TableSource) -> String {
    match (&t.table, &t.query) {
        (Some(table), _) => format!("{}.{}", t.connection.value, table.value),
        (None, Some(q)) => format!("{}: {}", t.connection.value, q.value),
        (None, None) => t.connection.value.clone(),
    }
}

/// Where each unit will run: a lookup stays on its dataset's connection
/// (or among files), and each base KPI on a connection uses only what its
/// dialect computes exactly.
pub(super) fn where_they_run(model: &Model, diags: &mut Diagnostics) {
    let place = |d: &DatasetModel| d.remote.as_ref().map(|r| r.connection);
    for d in &model.datasets {
        for l in &d.lookups {
            let target = &model.datasets[l.dataset];
            if place(d) != place(target) {
                diags.push(diag::lookup_across_sources(l.span, &d.name, &target.name));
            }
        }
    }
    for k in &model.kpis {
        let KpiKind::Base { dataset, measure, .. } = &k.kind else {
            continue;
        };
        let Some(remote) = &model.datasets[*dataset].remote else {
            continue;
        };
        let c = &model.connections[remote.connection];
        let place = format!("connection `{}`", c.name);
        diags.extend(inexact_aggregates(measure, c.dialect, &place));
    }
}

/// Aggregates a dialect has only in an approximate form are refused, never
/// approximated. `place` says why the dialect is asked.
pub fn inexact_aggregates(e: &TExpr, dialect: Dialect, place: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if let TKind::Agg { func, per, .. } = &e.kind {
        let exact = crate::check::functions::exact_in(*func, dialect);
        // Across `per` members the outer aggregate runs after the query, in kpi.
        if !exact && per.is_empty() {
            out.push(diag::not_exact_in_dialect(
                e.span,
                func.name(),
                dialect.as_str(),
                place,
            ));
        }
    }
    e.for_each_child(|x| out.extend(inexact_aggregates(x, dialect, place)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_library_named_for_its_database_tells_the_dialect() {
        let of = dialect_of_library;
        assert_eq!(
            of("/opt/adbc/libadbc_driver_postgresql.so"),
            Some(Dialect::Postgres)
        );
        assert_eq!(of("drivers/libduckdb.so"), Some(Dialect::DuckDb));
        assert_eq!(of("libadbc_driver_snowflake.dylib"), Some(Dialect::Snowflake));
        assert_eq!(of("C:\\adbc\\adbc_driver_sqlite.dll"), Some(Dialect::Sqlite));
        // FlightSQL serves many databases; an unknown library says nothing.
        assert_eq!(of("/opt/libadbc_driver_flightsql.so"), None);
        assert_eq!(of("/opt/libmydb_adbc.so"), None);
    }
}
