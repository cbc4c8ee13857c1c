//! The columns and types of a spec's datasets, for the checker: read from
//! files, or asked of the database for datasets on a connection.

use polars::prelude::*;

use super::{
    adbc, diagnostics, malformed_row, near_misses, non_finite_counts, schema, skipped_rows, type_of,
    validate_types, SourceInfo,
};
use crate::check::types::Type;
use crate::diagnostic::Diagnostic;
use crate::spec::model::Spec;
/// The schema of every source that can be read (nothing is validated; a
/// source that cannot be read is left out, to be reported if it is used).
pub fn readable_schemas(spec: &Spec) -> ReadSchemas {
    let mut read = ReadSchemas::default();
    for src in SourceInfo::from_spec(spec) {
        match schema(&src) {
            Ok(cols) => {
                read.notes.extend(near_misses(&src));
                read.notes.extend(super::empty_rows(&src));
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
/// (a query for no rows, whose Arrow schema has the types), and what they
/// say: with `report`, a source that cannot be read and a declared column
/// the table lacks are diagnostics; without, such a dataset stays open and
/// only why it could not be read is given. A declared type the database
/// contradicts is said either way (the last list): evaluated so, a number
/// of seconds declared a datetime read as no time at all in SQLite.
pub fn remote_schemas(
    spec: &Spec,
    report: bool,
) -> (crate::check::DataSchemas, Vec<Diagnostic>, Vec<Diagnostic>) {
    let mut out = crate::check::DataSchemas::new();
    let mut diags = Vec::new();
    let mut contradicted = Vec::new();
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
                }
                contradicted.extend(remote_type_conflicts(d, &cols, c.dialect));
                out.insert(d.name.value.clone(), cols);
            }
            Err(e) => {
                let table = t.table.as_ref().map(|x| x.value.as_str());
                diags.push(super::read_failed(e, (&d.name.value, t.span), &c, table));
            }
        }
    }
    (out, diags, contradicted)
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
            .map(|col| {
                // A query's column typed by no value (SQLite's, for no
                // rows) has a type the query does not say.
                let ty = match col.dtype() {
                    DataType::Null => Type::Unknown,
                    dt => type_of(dt),
                };
                (col.name().to_string(), ty)
            })
            .collect()
    };
    // A query for no rows, whose Arrow schema has the types.
    let of_no_rows = || adbc::query(c, &crate::sql::schema_sql(relation, c.dialect)).map(from_frame);
    match (c.dialect, relation) {
        (Dialect::Sqlite, Relation::Table(t)) => {
            let parts = crate::sql::table_parts(t);
            let (schema, table) = match parts.as_slice() {
                [schema, table] => (schema.as_str(), table.as_str()),
                [table] => ("main", table.as_str()),
                _ => ("main", t.as_str()),
            };
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

/// Declared columns whose type the database's column cannot hold (a
/// datetime declared `date` is its date, as in files). SQLite
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
                (Type::Datetime, Type::Date) | (Type::Date, Type::Datetime) | (Type::String, _)
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

/// The declared columns of a source that its columns `cols` (as read)
/// lack, of those `asked`.
fn missing_declared(
    src: &SourceInfo,
    cols: &[(String, Type)],
    asked: impl Fn(&str) -> bool,
) -> Vec<Diagnostic> {
    src.declared
        .iter()
        .filter(|(n, _)| asked(n) && !cols.iter().any(|(c, _)| c == n))
        .map(|(n, t)| {
            diagnostics::declared_column_missing(src.declared_at(n), &src.name, &src.path_str(), n, *t)
        })
        .collect()
}

/// The declared columns of a source that its data lacks, of those a failed
/// query named (`failure`: the reader's message, which names a column it
/// could not find in quotes).
pub fn missing_declared_named(src: &SourceInfo, failure: &str) -> Vec<Diagnostic> {
    match schema(src) {
        Ok(cols) => missing_declared(src, &cols, |n| failure.contains(&format!("\"{n}\""))),
        Err(_) => Vec::new(),
    }
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
                diags.extend(missing_declared(&src, &cols, |_| true));
                let contradicted = validate_types(&src);
                // Values that cannot be read are not counted: the reader's
                // own failure on them would say the same thing again.
                let counted = contradicted.is_empty();
                diags.extend(contradicted);
                diags.extend(skipped_rows(&src));
                diags.extend(super::files::identical_files(&src));
                diags.extend(super::empty_rows(&src));
                diags.extend(near_misses(&src));
                match non_finite_counts(&src) {
                    Ok(found) => diags.extend(found.iter().map(|(c, n)| {
                        diagnostics::non_finite_values(src.span, &src.name, &src.path_str(), c, *n, false)
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
