//! Diagnostics about data files.

use crate::check::types::Type;
use crate::diagnostic::Diagnostic;
use crate::span::Span;

pub fn source_not_found(span: Span, dataset: &str, path: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::source_not_found",
        format!("source of dataset `{dataset}` does not exist: `{path}`"),
    )
    .at(span, "no such file")
    .help("paths are relative to the spec file that names them")
}

pub fn data_error(span: Span, dataset: &str, path: &str, error: &str) -> Diagnostic {
    let first = error.lines().next().unwrap_or(error);
    Diagnostic::error(
        "kpi::data_error",
        format!("cannot read dataset `{dataset}` from `{path}`: {first}"),
    )
    .at(span, "while reading this source")
    .help("check the file's format, header and delimiter; declare column types under `columns:`")
}

pub fn declared_type_contradicted(
    span: Span,
    dataset: &str,
    path: &str,
    column: &str,
    ty: Type,
    value: &str,
    line: u64,
) -> Diagnostic {
    Diagnostic::error(
        "kpi::declared_type_contradicted",
        format!("column `{column}` of dataset `{dataset}` is declared {ty}, but `{path}` line {line} holds `{value}`"),
    )
    .at(span, format!("`{column}` is not {ty} here"))
    .help(format!("fix the value in the data, or declare `{column}` with the type the data has"))
}

pub fn declared_column_missing(span: Span, dataset: &str, path: &str, column: &str, ty: Type) -> Diagnostic {
    Diagnostic::error(
        "kpi::declared_column_missing",
        format!("column `{column}` ({ty}) of dataset `{dataset}` is not in `{path}`"),
    )
    .at(span, format!("no column `{column}`"))
    .help("remove the declaration or fix the column name (names are case-sensitive)")
}

pub fn duplicate_lookup_key(
    span: Span,
    dataset: &str,
    looked_up: &str,
    key: &str,
    value: &str,
    count: u64,
) -> Diagnostic {
    Diagnostic::error(
        "kpi::duplicate_lookup_key",
        format!("lookup of `{looked_up}` from `{dataset}` is not many-to-one: key `{key}` = {value} appears {count} times"),
    )
    .at(span, "this join would multiply rows")
    .help(format!("make `{key}` unique in `{looked_up}`, or look up a deduplicated dataset"))
}

pub fn malformed_row(
    span: Span,
    dataset: &str,
    path: &str,
    line: usize,
    want: usize,
    got: usize,
) -> Diagnostic {
    Diagnostic::error(
        "kpi::malformed_row",
        format!("`{path}` line {line} has {got} fields, but its header has {want} (dataset `{dataset}`)"),
    )
    .at(span, format!("malformed row at line {line}"))
    .help("fix the row: a missing or extra comma, or an unclosed quote")
}
