//! Diagnostics about data files.

use crate::check::types::Type;
use crate::diagnostic::{counted, grouped, Diagnostic};
use crate::span::Span;
use crate::spec::model::Format;
use crate::syntax::print::written_name;

/// `nearby`: what is there instead (a file of a close name, or the first
/// folder on the way that does not exist), said first in the help.
pub fn source_not_found(span: Span, dataset: &str, path: &str, nearby: Option<String>) -> Diagnostic {
    let rule = match path.starts_with("~/") || path.contains("/~/") {
        // As in YAML everywhere, no shell reads the spec to expand it.
        true => {
            "`~` is not the home folder in a spec: write `${HOME}/…`, or a path relative to the spec file"
        }
        false => "paths are relative to the spec file that names them",
    };
    Diagnostic::error(
        "kpi::source_not_found",
        format!("source of dataset `{dataset}` does not exist: `{path}`"),
    )
    .at(span, "no such file")
    .help(match nearby {
        // "did you mean `deals.csv`? Paths are …"
        Some(nearby) if nearby.ends_with('?') => {
            let mut chars = rule.chars();
            let first: String = chars.next().into_iter().flat_map(char::to_uppercase).collect();
            format!("{nearby} {first}{}", chars.as_str())
        }
        Some(nearby) => format!("{nearby}; {rule}"),
        None => rule.to_string(),
    })
}

/// A source in object storage the reader could not read: a missing
/// object, a glob that lists none, or the store out of reach.
pub fn object_store_error(span: Span, dataset: &str, path: &str, is_glob: bool, error: &str) -> Diagnostic {
    let credentials = credentials_of(path);
    // Polars adds advice for its Python users.
    let error = error
        .split("; note: if you are using Python")
        .next()
        .unwrap_or(error);
    if error.contains("failed to retrieve first file") || (is_glob && error.contains("not found")) {
        return no_objects(span, dataset, path);
    }
    // The status as the store says it: a bare `404` also turns up in the
    // time a request took (`in 404.2ms`), which is no missing object.
    if error.contains("not found") || error.contains("404 Not Found") {
        return Diagnostic::error(
            "kpi::source_not_found",
            format!("source of dataset `{dataset}` does not exist: `{path}`"),
        )
        .at(span, "no such object")
        .help(format!("check the bucket and the key; {credentials}"));
    }
    let first = error.lines().next().unwrap_or(error);
    Diagnostic::error(
        "kpi::data_error",
        format!("cannot read dataset `{dataset}` from `{path}`: {first}"),
    )
    .at(span, "while reading this source")
    .help(format!("check that the store is reachable; {credentials}"))
}

/// A glob in object storage that lists no object.
pub fn no_objects(span: Span, dataset: &str, path: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::no_files",
        format!("the source of dataset `{dataset}` is a glob that matches no object: `{path}`"),
    )
    .at(span, "matches nothing")
    .help(format!(
        "check the bucket and the pattern; {}",
        credentials_of(path)
    ))
}

/// Where the credentials and the endpoint of the store of `path` come from.
fn credentials_of(path: &str) -> String {
    format!(
        "credentials and the endpoint come from the store's usual variables ({})",
        store_variables(path)
    )
}

/// The environment variables that reach the store of an object URL.
fn store_variables(path: &str) -> &'static str {
    let scheme = path.split("://").next().unwrap_or("");
    match scheme {
        "gs" | "gcs" => "GOOGLE_APPLICATION_CREDENTIALS, GOOGLE_SERVICE_ACCOUNT, GOOGLE_SERVICE_ACCOUNT_KEY, …",
        "az" | "azure" | "abfs" | "abfss" => {
            "AZURE_STORAGE_ACCOUNT_NAME, AZURE_STORAGE_ACCOUNT_KEY, AZURE_STORAGE_SAS_TOKEN, AZURE_STORAGE_USE_EMULATOR, …"
        }
        _ => "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL, …",
    }
}

pub fn data_error(span: Span, dataset: &str, path: &str, error: &str) -> Diagnostic {
    // The store, not the file's text, failed (an NDJSON object as a Parquet one).
    if crate::spec::model::is_object_url(path) && error.contains("object-store error") {
        let is_glob = path.contains(['*', '?', '[']);
        return object_store_error(span, dataset, path, is_glob, error);
    }
    let first = error.lines().next().unwrap_or(error);
    Diagnostic::error(
        "kpi::data_error",
        format!("cannot read dataset `{dataset}` from `{path}`: {first}"),
    )
    .at(span, "while reading this source")
    .help(data_error_help(path, first))
}

/// What to look at when a file cannot be read, by what the reader said
/// and the kind of file.
fn data_error_help(path: &str, error: &str) -> &'static str {
    let ext = std::path::Path::new(path)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if error.contains("Is a directory") {
        "`source:` names a folder: name its files with a glob (`deals/*.csv`)"
    } else if ext == "parquet" || error.starts_with("parquet:") {
        "the file is no whole Parquet file (cut short while copied or written, or another format under this name): write it again, or give `format:` for what it holds"
    } else if matches!(ext.as_str(), "ndjson" | "jsonl" | "json") && utf16(path) {
        "the file is UTF-16 (it starts with UTF-16's byte order mark), and NDJSON is read as UTF-8 (JSON's own encoding): save it as UTF-8"
    } else if matches!(ext.as_str(), "ndjson" | "jsonl" | "json") {
        "each line must be one JSON object: fix the line named, or give `format:` for what the file holds"
    } else {
        "check the file's format, header and delimiter; declare column types under `columns:`"
    }
}

/// Whether a local file starts with a UTF-16 byte order mark (CSV is
/// transcoded by it; NDJSON, whose encoding is UTF-8, is not).
fn utf16(path: &str) -> bool {
    !crate::spec::model::is_object_url(path)
        && super::files::first_bytes(std::path::Path::new(path), 2)
            .is_ok_and(|b| super::csv::utf16_order(&b).is_some())
}

/// A column of a type kpi cannot read (Polars has no type for it).
pub fn unreadable_column_type(span: Span, dataset: &str, path: &str, column: &str, ty: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::unreadable_column_type",
        format!("column `{column}` of `{path}` (dataset `{dataset}`) is {ty}, which kpi cannot read"),
    )
    .at(span, "while reading this source")
    .help("write the column as a number, text, boolean, date or datetime (cast it where the file is written)")
}

/// A Parquet file in object storage with a column of a type Polars cannot
/// convert (`why`: its words), found as its schema was read.
pub fn unreadable_file_types(span: Span, dataset: &str, path: &str, why: &str) -> Diagnostic {
    let ty = why
        .split_once("import from `")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map_or_else(
            || why.lines().next().unwrap_or(why).to_string(),
            |(ty, _)| format!("`{ty}`"),
        );
    Diagnostic::error(
        "kpi::unreadable_column_type",
        format!("`{path}` (dataset `{dataset}`) has a column of a type kpi cannot read: {ty}"),
    )
    .at(span, "while reading this source")
    .help("write the column as a number, text, boolean, date or datetime (cast it where the file is written)")
}

/// `found_at`: the file and its line or row (`` `d.csv` line 3 ``);
/// `source_format`: whose `read:` options may read the value otherwise.
pub fn declared_type_contradicted(
    span: Span,
    dataset: &str,
    source_format: Format,
    found_at: &str,
    column: &str,
    ty: Type,
    value: &str,
) -> Diagnostic {
    // A date in a format of its own (`01/31/2025`), or Unix time as logs
    // and APIs export instants: the option that reads it.
    let (written_as, unix) = match ty {
        Type::Date | Type::Datetime => (date_format_of(value), unix_seconds(value)),
        _ => (None, None),
    };
    let no_value = may_mean_no_value(value);
    let value = &*shown(value);
    contradicted(span, dataset, found_at, column, ty, value).help(match (ty, written_as, unix) {
        // Exports joined end to end (`cat jan.csv feb.csv`) repeat the header.
        _ if value == column && source_format == Format::Csv => "that line repeats the header: files joined end to end keep each one's header line; remove the repeated ones, or read the files as a glob (`source: exports/*.csv`), or skip such rows with `read: {on_error: skip}`".to_string(),
        // Exports often write dates with a time of day (`2025-01-10 00:00:00`).
        (Type::Date, _, _) if has_time_of_day(value) => format!("the values have a time of day: declare `{column}: datetime` (its periods are its days, as for a date), or fix the value"),
        (_, Some((option, format)), _) => format!("`{value}` is a date written `{format}`: if the column's dates are written so, say it with `read: {{{option}: \"{format}\"}}` under the dataset"),
        (_, _, Some(instant)) => format!("`{value}` reads as seconds since 1970 ({instant}): if the column holds such times, say it with `read: {{datetime_format: \"%s\"}}` under the dataset (and declare `{column}: datetime`)"),
        (Type::Bool, _, _) => format!("a bool is true or false (in CSV also yes/no, y/n, t/f or 1/0, in any case): fix the value in the data, or declare `{column}` with the type the data has"),
        // A word for no value (`n/a`, `-`) in CSV or NDJSON: the option that reads it so.
        (Type::Number, _, _) if source_format != Format::Parquet && no_value => format!("if `{value}` means no value, list it in `read: {{null_values: [{}]}}` under the dataset; otherwise fix it in the data (or skip such rows with `read: {{on_error: skip}}`)", yaml_text(value)),
        _ => format!("fix the value in the data, or declare `{column}` with the type the data has"),
    })
}

/// The instant a whole number of 9 or 10 digits is as seconds since 1970
/// (from 1973 to 2286: Unix time as logs and APIs write it), as UTC.
fn unix_seconds(value: &str) -> Option<String> {
    let digits = value.trim();
    if !(9..=10).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seconds: i64 = digits.parse().ok()?;
    Some(format!("{} UTC", crate::time::DateTime(seconds * 1_000_000)))
}

/// A value of the data as a message quotes it: whole, or its first
/// characters and `…` when it is long (a field of a malformed file may
/// hold a whole page, which a message repeated three times).
fn shown(value: &str) -> std::borrow::Cow<'_, str> {
    const LONGEST: usize = 60;
    match value.char_indices().nth(LONGEST) {
        Some((cut, _)) => format!("{}…", &value[..cut]).into(),
        None => value.into(),
    }
}

/// Whether a value is short enough to be a word for no value, which the
/// help may suggest listing in `null_values`.
fn may_mean_no_value(value: &str) -> bool {
    value.chars().count() <= 20
}

/// `rows` of `dataset` whose stock interval ends (`to`) before it starts
/// (`from`), as KPI `kpi` reads it.
pub fn interval_reversed(
    span: Span,
    dataset: &str,
    kpi: &str,
    from: &str,
    to: &str,
    rows: u64,
) -> Diagnostic {
    let (ends, starts, is, them) = match rows {
        1 => ("ends", "it starts", "it is", "it"),
        _ => ("end", "they start", "they are", "them"),
    };
    Diagnostic::warning(
        "kpi::interval_reversed",
        format!("{} of dataset `{dataset}` {ends} before {starts} (`{to}` before `{from}`): {is} never active, so `{kpi}` never counts {them}", counted(rows, "row")),
    )
    .at(span, format!("`{kpi}` is active from `{from}` to `{to}`"))
    .help(format!("fix those rows where the data is written (a start and an end swapped, a year mistyped); `count(where {to} < {from})` on `{dataset}` counts them"))
}

/// A declared column whose stored type cannot hold its declared one
/// (numbers declared `date`, dates declared `number`), at its first value.
pub fn declared_over_stored(
    span: Span,
    dataset: &str,
    found_at: &str,
    column: &str,
    ty: Type,
    stored: &str,
    value: &str,
) -> Diagnostic {
    let help = match ty {
        Type::Date | Type::Datetime => format!("`{column}` is stored as {stored}, not as dates or texts (cast to dates, numbers count days or microseconds from 1970: 20250131 would be a day of the year 57413): store the dates as dates, or as texts (`2025-01-31`), or declare `{column}` with the type the data has"),
        Type::Bool if !stored.starts_with("date") => format!("`{column}` is stored as {stored}: as a bool it may hold 0 and 1 only; fix the value, or declare `{column}: number`"),
        _ => format!("`{column}` is stored as {stored}: declare it `date` or `datetime` (a KPI counts the days between two dates with `days_between`)"),
    };
    contradicted(span, dataset, found_at, column, ty, &shown(value)).help(help)
}

/// `kpi::declared_type_contradicted` at the declaration, its help to come.
fn contradicted(
    span: Span,
    dataset: &str,
    found_at: &str,
    column: &str,
    ty: Type,
    value: &str,
) -> Diagnostic {
    Diagnostic::error(
        "kpi::declared_type_contradicted",
        format!("column `{column}` of dataset `{dataset}` is declared {ty}, but {found_at} holds `{value}`"),
    )
    .at(span, format!("`{column}` is not {ty} here"))
}

/// The `read:` option and format a value is a date (or datetime) in, of
/// the common formats, when it is one (both day orders being possible, the
/// first).
fn date_format_of(value: &str) -> Option<(&'static str, String)> {
    let format = super::text::guess::date_formats(&[value.to_string()])?
        .into_iter()
        .next()?;
    let option = match super::text::guess::is_datetime_format(&format) {
        true => "datetime_format",
        false => "date_format",
    };
    Some((option, format))
}

/// Whether a value is a day with a time of day (`2025-01-10 00:00:00`,
/// `2025-01-10T08:00`), as written where a date was declared.
fn has_time_of_day(value: &str) -> bool {
    let v = value.trim().as_bytes();
    let day = v.len() > 10
        && v[..10].iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    day && matches!(v[10], b' ' | b'T') && v.get(11..13).is_some_and(|h| h.iter().all(u8::is_ascii_digit))
}

pub fn remote_type_mismatch(
    span: Span,
    dataset: &str,
    column: &str,
    declared: Type,
    found: Type,
) -> Diagnostic {
    Diagnostic::error(
        "kpi::declared_type_contradicted",
        format!("column `{column}` of dataset `{dataset}` is declared {declared}, but the database's column is {found}"),
    )
    .at(span, format!("`{column}` is {found} in the database"))
    .help(match found {
        Type::Unusable(_) => format!("cast `{column}` to a {declared} in a `query:` source"),
        _ => format!("declare `{column}: {found}`, or cast it in a `query:` source"),
    })
}

/// A declared type over a column stored in a form KPIs cannot compute
/// with (a time of day declared `number`, say): converting it would give
/// values in a unit nobody chose.
pub fn declared_over_unusable(
    span: Span,
    dataset: &str,
    path: &str,
    column: &str,
    declared: Type,
    found: &str,
) -> Diagnostic {
    Diagnostic::error(
        "kpi::declared_type_contradicted",
        format!("column `{column}` of dataset `{dataset}` is declared {declared}, but `{path}` holds {found} there"),
    )
    .at(span, format!("`{column}` is {found} in the file"))
    .help(format!("write `{column}` as a {declared} where the file is written"))
}

pub fn declared_column_missing(span: Span, dataset: &str, path: &str, column: &str, ty: Type) -> Diagnostic {
    Diagnostic::error(
        "kpi::declared_column_missing",
        format!("column `{column}` ({ty}) of dataset `{dataset}` is not in `{path}`"),
    )
    .at(span, format!("no column `{column}`"))
    .help("remove the declaration or fix the column name (names are case-sensitive)")
}

/// A declared field that no record of an NDJSON source holds: JSON writers
/// leave out fields without a value, so it is read as nulls, but a
/// misspelt declaration reads so too.
pub fn declared_field_absent(span: Span, dataset: &str, path: &str, column: &str, ty: Type) -> Diagnostic {
    Diagnostic::warning(
        "kpi::declared_field_absent",
        format!("field `{column}` ({ty}) of dataset `{dataset}` is in no record of `{path}`: read as nulls"),
    )
    .at(span, format!("no record has `{column}`"))
    .help("JSON exports leave out fields without a value, so this may be right; if not, fix the name (names are case-sensitive)")
}

/// Two fields of an NDJSON source whose names differ only in case, each
/// with values and no record with both: one field spelt two ways, whose
/// values KPIs would read apart (`sum(amount)` leaves out the `Amount`s).
pub fn field_spelt_two_ways(
    span: Span,
    dataset: &str,
    path: &str,
    one: (&str, u64),
    other: (&str, u64),
) -> Diagnostic {
    let records = |n: u64| counted(n, "record");
    let (a, b) = (written_name(one.0), written_name(other.0));
    let joined = crate::spec::diagnostics::snake_case(one.0)
        .map_or_else(|| "joined".to_string(), |n| format!("{n}_all"));
    Diagnostic::warning(
        "kpi::field_spelt_two_ways",
        format!(
            "fields `{}` ({}) and `{}` ({}) of dataset `{dataset}` differ only in case, and no record of `{path}` holds both: one field spelt two ways, read apart",
            one.0,
            records(one.1),
            other.0,
            records(other.1)
        ),
    )
    .at(span, "read from here")
    .help(format!(
        "a computed dimension joins them for KPIs to read (`{joined}: coalesce({a}, {b})` under `dimensions:`, then `sum({joined})`); or write the field one way where the file is made"
    ))
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
        format!(
            "lookup of `{looked_up}` from `{dataset}` is not many-to-one: key `{key}` = {} appears {} times",
            shown(value),
            grouped(&count.to_string())
        ),
    )
    .at(span, "this join would multiply rows")
    .help(format!(
        "make `{key}` unique in `{looked_up}`, or look up a deduplicated dataset"
    ))
}

/// Rows of `dataset` whose lookup key `left` no row of `looked_up` holds
/// in `right`: `rows` of them, `keys` the keys with the most (and how many
/// rows each), `likely` the looked-up key the first probably means.
#[allow(clippy::too_many_arguments)]
pub fn lookup_unmatched(
    span: Span,
    dataset: &str,
    left: &str,
    looked_up: &str,
    right: &str,
    rows: u64,
    keys: &[(String, u64)],
    likely: Option<&str>,
) -> Diagnostic {
    let (verb, its) = match rows {
        1 => ("finds", "its"),
        _ => ("find", "their"),
    };
    let by = match left == right {
        true => format!("`{left}`"),
        false => format!("`{left}` (as its `{right}`)"),
    };
    let named: Vec<String> = keys
        .iter()
        .map(|(k, n)| {
            let k = match k.is_empty() {
                true => "an empty text".to_string(),
                false => format!("`{}`", shown(k)),
            };
            match n {
                1 => k,
                n => format!("{k} ({})", counted(*n, "row")),
            }
        })
        .collect();
    let help = match (likely, keys.first()) {
        // Files converted from CSV often hold "" where CSV had no value.
        (_, Some((key, _))) if key.is_empty() => format!(
            "if an empty text means no `{left}`, a computed dimension can say so (`if {left} == \"\" then null else {left}`) and the lookup join on it; otherwise add the missing rows to `{looked_up}`"
        ),
        (Some(likely), Some((key, _))) => format!(
            "did you mean `{likely}`? A computed dimension can mend the spelling (`if {left} == \"{key}\" then \"{likely}\" else {left}`) and the lookup join on it; otherwise add the missing rows to `{looked_up}`"
        ),
        _ => format!("add the missing rows to `{looked_up}`, or mend the keys of `{dataset}` with a computed dimension the lookup joins on"),
    };
    Diagnostic::warning(
        "kpi::lookup_unmatched",
        format!(
            "{} of `{dataset}` {verb} no row of `{looked_up}` by {its} {by}: {}; {its} `{looked_up}.…` columns are null",
            counted(rows, "row"),
            named.join(", ")
        ),
    )
    .at(span, "no looked-up row for some keys")
    .help(help)
}

pub fn malformed_row(
    span: Span,
    dataset: &str,
    path: &str,
    (line, footer): (usize, bool),
    want: usize,
    got: usize,
) -> Diagnostic {
    let skip = "`read: {on_error: skip}` skips the rows that cannot be read, and says how many";
    let help = if footer {
        format!("from line {line} to its end the file holds no rows of its table (a report export's footer?): delete those lines, or {skip}")
    } else {
        format!("fix the row: a missing or extra comma, or an unclosed quote; or {skip}")
    };
    Diagnostic::error(
        "kpi::malformed_row",
        format!("`{path}` line {line} has {got} fields, but its header has {want} (dataset `{dataset}`)"),
    )
    .at(span, format!("malformed row at line {line}"))
    .help(help)
}

/// `in_sqlite`: texts that are no number are counted too (SQLite's columns
/// hold values of any type).
pub fn non_finite_values(
    span: Span,
    dataset: &str,
    path: &str,
    column: &str,
    count: u64,
    in_sqlite: bool,
) -> Diagnostic {
    let what = if in_sqlite {
        "NaN or ±inf, or a text that is no number"
    } else {
        "NaN or ±inf"
    };
    Diagnostic::warning(
        "kpi::non_finite_values",
        format!(
            "column `{column}` of dataset `{dataset}` holds {} ({what}) in `{path}`; they are read as null",
            counted(count, "non-finite value")
        ),
    )
    .at(span, "read from here")
    .help("aggregates skip them like any null; clean the source if they stand for real values")
}

/// Non-finite values met while evaluating, per column (no position: they
/// are in the data, not the spec).
pub fn non_finite_read(dataset: &str, column: &str, count: u64) -> Diagnostic {
    Diagnostic::warning(
        "kpi::non_finite_values",
        format!(
            "column `{column}` of dataset `{dataset}` held {} (NaN or ±inf, or in SQLite a text that is no number), read as null",
            counted(count, "non-finite value")
        ),
    )
    .help("aggregates skip them like any null; `kpi check --data` counts them over the whole source")
}

pub fn glob_matches_nothing(span: Span, dataset: &str, glob: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::no_files",
        format!("the source of dataset `{dataset}` is a glob that matches no file: `{glob}`"),
    )
    .at(span, "matches nothing")
    .help("paths are relative to the spec file; check the folder and the pattern")
}

pub fn identical_files(span: Span, dataset: &str, first: &str, copy: &str) -> Diagnostic {
    Diagnostic::warning(
        "kpi::identical_files",
        format!("the files `{first}` and `{copy}` of dataset `{dataset}` are byte for byte the same: each of their rows counts twice"),
    )
    .at(span, "matches both")
    .help("remove the copy, or narrow the glob to the files meant")
}

pub fn headers_differ(span: Span, dataset: &str, first: &str, other: &str, column: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::headers_differ",
        format!("the files of dataset `{dataset}` have different headers: `{first}` and `{other}` ({column})"),
    )
    .at(span, "one glob, two layouts")
    .help("every file of a glob must have the same columns in the same order; split it into two datasets otherwise")
}

/// Parquet files of one glob without the same columns.
pub fn columns_differ(span: Span, dataset: &str, first: &str, other: &str, column: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::headers_differ",
        format!("the files of dataset `{dataset}` have different columns: `{first}` and `{other}` (`{column}` is in one of them only)"),
    )
    .at(span, "one glob, two layouts")
    .help("every Parquet file of a glob must have the same columns, in any order; split it into two datasets otherwise")
}

/// Files of one glob that hold values of two kinds in one column (a
/// number in one, a list in the other), each file with its kind.
pub fn kinds_differ(
    span: Span,
    dataset: &str,
    first: (&str, &str),
    other: (&str, &str),
    column: &str,
) -> Diagnostic {
    Diagnostic::error(
        "kpi::headers_differ",
        format!(
            "the files of dataset `{dataset}` hold different kinds of value in `{column}`: {} in `{}`, {} in `{}`",
            first.1, first.0, other.1, other.0
        ),
    )
    .at(span, "one glob, two layouts")
    .help("a column holds one kind of value in every file of a glob: fix the file that differs, or split the glob into two datasets")
}

pub fn empty_source(span: Span, dataset: &str, path: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::empty_source",
        format!("`{path}` (dataset `{dataset}`) is empty: it has no header line"),
    )
    .at(span, "read from here")
    .help("a CSV source starts with a header line naming its columns")
}

/// An NDJSON source whose files hold no record, and no declared column
/// says what its rows would hold.
pub fn no_records(span: Span, dataset: &str, path: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::no_records",
        format!("`{path}` (dataset `{dataset}`) holds no record, so nothing says which columns it has"),
    )
    .at(span, "read from here")
    .help("declare its columns under `columns:` (an export of no rows is then a dataset with no rows), or check that the export wrote its records")
}

pub fn blank_header_line(span: Span, dataset: &str, path: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::blank_header_line",
        format!("`{path}` (dataset `{dataset}`) starts with a blank line where its header should be"),
    )
    .at(span, "read from here")
    .help("remove the blank lines above the header: a CSV source's first line names its columns")
}

/// A CSV file that starts with Excel's `sep=X` line: `delimiter` is the
/// one `read:` gives (`,` by default).
pub fn excel_separator_line(
    span: Span,
    dataset: &str,
    path: &str,
    said: char,
    delimiter: char,
) -> Diagnostic {
    let shown = match said {
        '\t' => "\\t".to_string(),
        c => c.to_string(),
    };
    let help = match said == delimiter {
        true => "remove that first line: the header must be the first line".to_string(),
        false => format!(
            "remove that first line (the header must be the first line) and add `read: {{delimiter: \"{shown}\"}}` to the dataset"
        ),
    };
    Diagnostic::error(
        "kpi::excel_separator_line",
        format!("`{path}` (dataset `{dataset}`) starts with Excel's `sep={shown}` line, not its header"),
    )
    .at(span, "read from here")
    .help(help)
}

pub fn wrong_delimiter(span: Span, dataset: &str, path: &str, used: char, seen: char) -> Diagnostic {
    let show = |c: char| {
        if c == '\t' {
            "\\t".to_string()
        } else {
            c.to_string()
        }
    };
    Diagnostic::error(
        "kpi::wrong_delimiter",
        format!(
            "the header of `{path}` (dataset `{dataset}`) is one column when split at `{}`, and it holds `{}`",
            show(used),
            show(seen)
        ),
    )
    .at(span, "read from here")
    .help(format!("the file looks `{}`-delimited: add `read: {{delimiter: \"{}\"}}` to the dataset", show(seen), show(seen)))
}

/// `fields`: the line's fields, each a column the header is to name.
pub fn header_looks_like_data(
    span: Span,
    dataset: &str,
    path: &str,
    (line, fields, separator): (&str, usize, char),
) -> Diagnostic {
    // Exports without a header (Redshift's UNLOAD, Hive, `COPY … TO` without
    // `HEADER`) are the usual cause: a header line of that many names mends it.
    let names: Vec<String> = (1..=fields.min(4)).map(|i| format!("column{i}")).collect();
    let more = if fields > 4 {
        format!("{separator}…")
    } else {
        String::new()
    };
    Diagnostic::error(
        "kpi::header_looks_like_data",
        format!(
            "line 1 of `{path}` (dataset `{dataset}`) looks like a row of data, not a header: `{}`",
            shown(line)
        ),
    )
    .at(span, "read from here")
    .help(format!(
        "a CSV source starts with a header line naming its columns: add a first line naming its {fields} columns as the spec names them (`{}{more}`), or export the file with its header",
        names.join(&separator.to_string())
    ))
}

pub fn unclosed_quote(span: Span, dataset: &str, path: &str, line: usize) -> Diagnostic {
    Diagnostic::error(
        "kpi::unclosed_quote",
        format!("`{path}` line {line} (dataset `{dataset}`) opens a quote that never closes"),
    )
    .at(span, "read from here")
    .help("close the quote; a quote inside a quoted field is written twice (`\"\"`)")
}

pub fn not_utf8(span: Span, dataset: &str, path: &str, line: usize, column: usize) -> Diagnostic {
    Diagnostic::error(
        "kpi::not_utf8_data",
        format!("`{path}` (dataset `{dataset}`) is not UTF-8: line {line}, column {column} holds a byte UTF-8 does not have"),
    )
    .at(span, "read from here")
    .help("declare the file's encoding: `read: {encoding: windows-1252}` (or `latin-1`), or save it as UTF-8")
}

/// Datetimes with offsets other than UTC's (`value`, in `path` at `line`),
/// and no zone their days count in.
pub fn timezone_needed(
    span: Span,
    dataset: &str,
    column: &str,
    (value, path, line): (&str, &str, u64),
) -> Diagnostic {
    Diagnostic::error(
        "kpi::timezone_needed",
        format!("column `{column}` of dataset `{dataset}` holds datetimes with UTC offsets other than UTC's (`{path}` line {line} holds `{value}`), and no time zone says which day they fall on"),
    )
    .at(span, "read from here")
    .help(format!(
        "declare the zone whose dates count: `read: {{timezone: {}}}` (or `UTC`)",
        zone_of_offset(value).unwrap_or("Europe/Berlin")
    ))
}

/// A zone whose clocks are at the UTC offset `value` ends with, in winter
/// or in summer (`-05:00`: New York's winter), as an example to name;
/// none for an offset no large city keeps.
fn zone_of_offset(value: &str) -> Option<&'static str> {
    const ZONES: [(&str, &str); 14] = [
        ("-0800", "America/Los_Angeles"),
        ("-0700", "America/Los_Angeles"),
        ("-0600", "America/Chicago"),
        ("-0500", "America/New_York"),
        ("-0400", "America/New_York"),
        ("-0300", "America/Sao_Paulo"),
        ("+0100", "Europe/Berlin"),
        ("+0200", "Europe/Berlin"),
        ("+0300", "Europe/Moscow"),
        ("+0530", "Asia/Kolkata"),
        ("+0800", "Asia/Singapore"),
        ("+0900", "Asia/Tokyo"),
        ("+1000", "Australia/Sydney"),
        ("+1100", "Australia/Sydney"),
    ];
    let v = value.trim();
    let sign = v.rfind(['+', '-'])?;
    let offset: String = v[sign..].chars().filter(|c| *c != ':').collect();
    ZONES.iter().find(|(o, _)| *o == offset).map(|(_, z)| *z)
}

pub fn rows_skipped(dataset: &str, path: &str, n: usize, lines: &[u64]) -> Diagnostic {
    let shown: Vec<String> = lines.iter().take(5).map(u64::to_string).collect();
    let more = if lines.len() > 5 { ", …" } else { "" };
    let were = if n == 1 { "was" } else { "were" };
    let lines_ = if lines.len() == 1 { "line" } else { "lines" };
    Diagnostic::warning(
        "kpi::rows_skipped",
        format!(
            "{} of `{path}` (dataset `{dataset}`) could not be read and {were} skipped ({lines_} {}{more})",
            counted(n as u64, "row"),
            shown.join(", ")
        ),
    )
    .help("`read: {on_error: skip}` skips them; `kpi check --data` without it names the first one and why")
}

/// Rows of a CSV source whose every field is empty (`,,`): `count` of
/// them, at `lines` (the first few).
pub fn empty_rows(span: Span, dataset: &str, path: &str, count: usize, lines: &[String]) -> Diagnostic {
    let shown: Vec<&str> = lines.iter().take(5).map(String::as_str).collect();
    let more = if count > shown.len() { ", …" } else { "" };
    let (have, line) = match count {
        1 => ("has", "line"),
        _ => ("have", "lines"),
    };
    Diagnostic::warning(
        "kpi::empty_rows",
        format!(
            "{} of `{path}` (dataset `{dataset}`) {have} no value in any column ({line} {}{more}); `count()` counts them",
            counted(count as u64, "row"),
            shown.join(", ")
        ),
    )
    .at(span, "rows of nulls")
    .help("a spreadsheet saved as CSV writes `,,` for a row it once formatted: remove them from the file, or count what has a value (`count(deal_id)`)")
}

pub fn invalid_timezone(span: Span, zone: &str) -> Diagnostic {
    Diagnostic::error("kpi::invalid_timezone", format!("`{zone}` is not a time zone"))
        .at(span, "unknown zone")
        .help("use an IANA zone name such as `Europe/Berlin`, `America/New_York` or `UTC`")
}

/// A column read as text because one value (found on a line) is not what
/// the rest are.
pub fn mixed_column(
    span: Span,
    dataset: &str,
    path: &str,
    column: &str,
    ty: Type,
    (value, line): (&str, u64),
    format: Format,
) -> Diagnostic {
    // A date in another format than the rest (`1/15/25` where `%Y` reads
    // four digits): the option that reads it.
    let written_as = match ty {
        Type::Date | Type::Datetime => date_format_of(value),
        _ => None,
    };
    let value = &*shown(value);
    Diagnostic::warning(
        "kpi::mixed_column",
        format!("column `{column}` of dataset `{dataset}` is read as text: its values are {ty}s but `{path}` line {line} holds `{value}`"),
    )
    .at(span, format!("`{column}` is text"))
    .help(match (says_no_value(value), format) {
        (false, _) if let Some((option, written)) = &written_as => format!("`{value}` is a {ty} written `{written}`: if the column's values are written so, say it with `read: {{{option}: \"{written}\"}}` under the dataset; otherwise fix the value"),
        // R's `NA`, Excel's `#N/A`: the word for no value of the tool that wrote the file.
        (true, Format::Ndjson) => format!("`{value}` is how the tool that wrote the file says no value: JSON's is `null`, which reads as one; declare `{column}: string` to keep the column text"),
        (true, _) => format!("`{value}` is how the tool that wrote the file says no value: `read: {{null_values: [{}]}}` under the dataset reads it as no value in every column, texts included (an empty field already is)", yaml_text(value.trim())),
        (false, Format::Ndjson) => format!("fix the value (`null` where it means nothing), or declare `{column}: {ty}` under `columns:` to have such records refused, or `{column}: string` to keep it text"),
        (false, _) => format!("fix the value (a value that means nothing can go in `read: {{null_values: [...]}}`), or declare `{column}: {ty}` under `columns:` to have such rows refused (or skipped with `read: {{on_error: skip}}`), or `{column}: string` to keep it text"),
    })
}

/// A text as YAML writes it in a spec: in double quotes, or in single
/// quotes where it holds a backslash or a double quote (in double quotes
/// `"\N"` is an escape, the character NEL, not MySQL's word for null).
fn yaml_text(text: &str) -> String {
    match text.contains(['\\', '"']) {
        true => format!("'{}'", text.replace('\'', "''")),
        false => format!("\"{text}\""),
    }
}

/// Words that tools write for no value: R's and pandas' `NA`, Excel's
/// `#N/A`, databases' `NULL`, Python's `None`, MySQL's and PostgreSQL's
/// dumps' `\N`, and the like.
fn says_no_value(value: &str) -> bool {
    const WORDS: [&str; 13] = [
        "na", "n/a", "#n/a", "null", "none", "nil", "-", "--", "?", "nan", "<na>", "missing", "\\n",
    ];
    WORDS.contains(&value.trim().to_ascii_lowercase().as_str())
}

/// A text column of numbers written with `,` between thousands.
pub fn thousands_needed(span: Span, dataset: &str, column: &str) -> Diagnostic {
    Diagnostic::warning(
        "kpi::thousands_needed",
        format!("column `{column}` of dataset `{dataset}` is read as text: its values are numbers written with `,` between thousands (`1,234.50`)"),
    )
    .at(span, format!("`{column}` is text"))
    .help("say so: `read: {thousands: \",\"}` under the dataset")
}

pub fn percent_needed(span: Span, dataset: &str, column: &str) -> Diagnostic {
    Diagnostic::warning(
        "kpi::percent_needed",
        format!("column `{column}` of dataset `{dataset}` is read as text: its values are percents (`45%`)"),
    )
    .at(span, format!("`{column}` is text"))
    .help("say so: `read: {percent: true}` under the dataset (`45%` is then 0.45, as in an expression)")
}

pub fn currency_needed(span: Span, dataset: &str, column: &str, symbol: &str, options: &str) -> Diagnostic {
    Diagnostic::warning(
        "kpi::currency_needed",
        format!("column `{column}` of dataset `{dataset}` is read as text: its values are amounts written with `{symbol}`"),
    )
    .at(span, format!("`{column}` is text"))
    .help(format!("say so: `read: {{currency: \"{symbol}\"{options}}}` under the dataset"))
}

/// The codes of the warnings about what a column's values do to the groups
/// it makes (one value in two spellings, codes that lost their zeros).
const GROUP_HINTS: [&str; 3] = ["kpi::padded_values", "kpi::case_variants", "kpi::leading_zeros"];

/// How those warnings begin: with the column they are about (then its
/// dataset).
fn column_of(column: &str) -> String {
    format!("column `{column}` of dataset")
}

/// Whether `d` says what `column`'s values do to its groups: a run that
/// groups by that column, where the groups show it, says it too.
pub fn is_group_hint_about(d: &Diagnostic, column: &str) -> bool {
    GROUP_HINTS.contains(&d.code) && d.message.starts_with(&format!("{} ", column_of(column)))
}

/// A text column with values that have spaces around them: comparisons
/// see the spaces, so `stage == "won"` misses `won `.
pub fn padded_values(span: Span, dataset: &str, column: &str, example: &str) -> Diagnostic {
    Diagnostic::warning(
        "kpi::padded_values",
        format!("{} `{dataset}` has `{}` beside `{}`: the spaces around a value make it another value in comparisons and groups", column_of(column), shown(example), shown(example.trim())),
    )
    .at(span, format!("`{column}` has padded values"))
    .help(format!("trim them where the file is written, or compare `trim({column})` (as a dimension: `{column}_trimmed: trim({column})`)"))
}

/// A text column with one value in two cases: comparisons and groups
/// tell them apart.
pub fn case_variants(span: Span, dataset: &str, column: &str, first: &str, other: &str) -> Diagnostic {
    Diagnostic::warning(
        "kpi::case_variants",
        format!("{} `{dataset}` has `{}` beside `{}`: letters' case makes them two values in comparisons and groups", column_of(column), shown(other), shown(first)),
    )
    .at(span, format!("`{column}` has one value in two cases"))
    .help(format!("write them alike where the file is written, or compare `lower({column})` (as a dimension: `{column}_lower: lower({column})`)"))
}

/// An integer column of values written with leading zeros: codes that
/// lose their zeros as numbers.
/// A float column of a `;`-separated file written as `.` between thousands
/// writes it (`12.500`), read with `.` as the decimal point.
pub fn dotted_thousands(span: Span, dataset: &str, column: &str, example: &str) -> Diagnostic {
    let read = example
        .parse::<f64>()
        .map_or_else(|_| example.to_string(), |x| x.to_string());
    Diagnostic::warning(
        "kpi::dotted_thousands",
        format!("{} `{dataset}` is read with `.` as the decimal point, but every value is written as `.` between thousands writes it, as `;`-separated exports do (`{example}` is read as {read})", column_of(column)),
    )
    .at(span, format!("`{example}` is {read}"))
    .help("if `.` separates thousands here, say `read: {decimal_comma: true}` (`12.500` is then 12500 and `1,5` is 1.5); if they are decimals, `kpi check --allow dotted_thousands` accepts them")
}

pub fn leading_zeros(span: Span, dataset: &str, column: &str, example: &str) -> Diagnostic {
    Diagnostic::warning(
        "kpi::leading_zeros",
        format!("{} `{dataset}` is read as numbers, but its values are written with leading zeros (`{example}`), which numbers lose", column_of(column)),
    )
    .at(span, format!("`{column}` is a number"))
    .help(format!("if `{column}` holds codes (account numbers, ZIP codes), declare `{column}: string` under `columns:` to keep them as written"))
}

/// A header that names two columns alike: KPIs read the first.
pub fn repeated_column(span: Span, dataset: &str, path: &str, column: &str, n: usize) -> Diagnostic {
    Diagnostic::warning(
        "kpi::repeated_column",
        format!("the header of `{path}` (dataset `{dataset}`) names {n} columns `{column}`; `{column}` is the first of them"),
    )
    .at(span, format!("{n} columns `{column}`"))
    .help(format!("rename the others where the file is written (they are read as `{column}_duplicated_0`, …)"))
}

/// A text column of dates (or datetimes) in a format `read.date_format`
/// (`read.datetime_format`) does not say.
pub fn date_format_needed(span: Span, dataset: &str, column: &str, formats: &[String]) -> Diagnostic {
    let first = formats.first().map_or("%m/%d/%Y", String::as_str);
    let (what, option) = match super::text::guess::is_datetime_format(first) {
        true => ("datetimes", "datetime_format"),
        false => ("dates", "date_format"),
    };
    let also = match formats.get(1) {
        Some(other) => format!(" (or `{other}`: its days are all 12 or less, so the order cannot be told)"),
        None => String::new(),
    };
    Diagnostic::warning(
        "kpi::date_format_needed",
        format!("column `{column}` of dataset `{dataset}` is read as text: its values are {what} written `{first}`{also}"),
    )
    .at(span, format!("`{column}` is text"))
    .help(format!("say how its {what} are written: `read: {{{option}: \"{first}\"}}` under the dataset"))
}

pub fn driver_not_found(c: &crate::check::ir::ConnectionModel, file: &str) -> Diagnostic {
    let package = crate::check::connections::DRIVERS
        .iter()
        .find(|(n, _, _)| *n == c.driver)
        .map_or("the driver's package", |(_, _, p)| p);
    let found = match package.starts_with("pip ") {
        true => ", where Python installs packages",
        false => "",
    };
    Diagnostic::error(
        "kpi::driver_not_found",
        format!("connection `{}`: the ADBC driver `{}` ({file}) was not found", c.name, c.driver),
    )
    .at(c.span, "driver not found")
    .help(format!(
        "install it ({package}{found}), or put the library's folder in KPI_ADBC_PATH, or give `driver:` its path"
    ))
}

pub fn driver_not_loaded(c: &crate::check::ir::ConnectionModel, why: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::driver_not_found",
        format!(
            "connection `{}`: the ADBC driver `{}` could not be loaded: {why}",
            c.name, c.driver
        ),
    )
    .at(c.span, "driver not loaded")
    .help("check that the file is an ADBC driver library built for this machine")
}

pub fn connection_failed(c: &crate::check::ir::ConnectionModel, why: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::connection_failed",
        format!("cannot connect to `{}`: {}", c.name, why.trim()),
    )
    .at(c.span, "connection failed")
    .help("check the URI and credentials in the environment, and that the database is reachable")
}

pub fn database_file_missing(c: &crate::check::ir::ConnectionModel, path: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::connection_failed",
        format!("connection `{}`: there is no database file `{path}`", c.name),
    )
    .at(c.span, "no such database file")
    .help("a relative `uri` is found from the folder of the spec file that defines the connection; kpi opens databases that exist and makes none")
}

pub fn connection_variable_unset(c: &crate::check::ir::ConnectionModel, var: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::unset_variable",
        format!("connection `{}` needs `${{{var}}}`, which is not set", c.name),
    )
    .at(c.span, format!("`{var}` is not set"))
    .help(format!("set {var} in the environment"))
}

pub fn query_failed(c: &crate::check::ir::ConnectionModel, why: &str, sql: &str) -> Diagnostic {
    let first = why.trim().lines().next().unwrap_or("");
    // PostgreSQL stops the whole statement where a double's arithmetic
    // leaves its range; files and the other databases give the row null.
    let out_of_range = ["out of range: overflow", "out of range: underflow"]
        .iter()
        .any(|m| first.contains(m));
    let help = match out_of_range {
        true => format!(
            "a number went beyond what a double holds (±1.8e308, or for `exp` and `pow` too near 0), and the database stops the statement there, where files give that row no value (`kpi::overflow`): look for products of large values, `exp` or `pow` in the dataset's KPIs, or a column in the wrong unit; the statement was: {sql}"
        ),
        false => format!("the statement was: {sql}"),
    };
    Diagnostic::error(
        "kpi::query_failed",
        format!("the query on `{}` failed: {first}", c.name),
    )
    .at(c.span, "query failed")
    .help(help)
}

/// Whether a database's failure says a table is not there, in the words
/// of PostgreSQL and DuckDB, SQLite, and Spark.
pub fn table_not_found(message: &str) -> bool {
    ["does not exist", "no such table", "not found", "NOT_FOUND"]
        .iter()
        .any(|m| message.contains(m))
}

/// How the help of a table not found in its case begins (a table's
/// nearest names are not said beside it).
pub const CASE_COUNTS: &str = "kpi quotes each part";

/// A failed statement of one dataset, pointed at the dataset's source: a
/// table that is not there, or a query the database refuses, is the
/// dataset's to mend, and the connection is only where it ran.
/// A table the database does not find, named in another case than the
/// database folds a name made without quotes to (lower case in
/// PostgreSQL and DuckDB, upper case in Snowflake), is most often such a
/// table: the help says so, and how to name it.
pub fn of_dataset(
    mut d: Diagnostic,
    dataset: &str,
    source: Span,
    table: Option<(&str, crate::spec::model::Dialect)>,
) -> Diagnostic {
    use crate::spec::model::Dialect;
    if d.code != "kpi::query_failed" {
        return d;
    }
    let missing = table_not_found(&d.message);
    // A name written in quotes is meant as written.
    let table = table.filter(|(t, _)| !t.contains(['"', '`']));
    let folded = match table {
        Some((t, Dialect::Postgres | Dialect::DuckDb)) => Some(("lower", t.to_lowercase())),
        Some((t, Dialect::Snowflake)) => Some(("upper", t.to_uppercase())),
        _ => None,
    };
    if let Some((case, name)) = folded.filter(|(_, name)| missing && table.is_some_and(|(t, _)| t != name)) {
        let statement = d.help.take().unwrap_or_default();
        d.help = Some(format!(
            "{CASE_COUNTS} of a table's name, so its case counts; a table made without quotes has its name in {case} case there (`{name}`); {statement}"
        ));
    }
    d.message = format!("dataset `{dataset}`: {}", d.message);
    for l in &mut d.labels {
        l.primary = false;
        l.message = "on this connection".to_string();
    }
    d.at(source, "this source cannot be read")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offsets_zone_is_one_whose_clocks_keep_it() {
        assert_eq!(
            zone_of_offset("2025-01-31T23:30:00-05:00"),
            Some("America/New_York")
        );
        assert_eq!(zone_of_offset("2025-01-31 23:30:00+0530"), Some("Asia/Kolkata"));
        assert_eq!(zone_of_offset("2025-01-31T23:30:00+01:00"), Some("Europe/Berlin"));
        assert_eq!(zone_of_offset("2025-01-31T23:30:00+04:45"), None);
    }

    #[test]
    fn a_date_with_a_time_of_day_is_told_apart() {
        assert!(has_time_of_day("2025-01-10 00:00:00") && has_time_of_day("2025-01-12T08:00"));
        assert!(
            !has_time_of_day("2025-01-10")
                && !has_time_of_day("10/01/2025 08:00")
                && !has_time_of_day("2025-01-10 ")
        );
    }

    /// A store out of reach whose message times a request at 404 ms is
    /// not a missing object (a test failed now and then on it); the
    /// store's own 404 is.
    #[test]
    fn a_missing_object_is_told_by_the_stores_status() {
        let code =
            |error: &str| object_store_error(Span::default(), "d", "s3://b/deals.parquet", false, error).code;
        let away = "object-store error: Generic S3 error: Error performing HEAD http://127.0.0.1:9/b/deals.parquet in 404.52ms, after 2 retries - Connection refused";
        assert_eq!(code(away), "kpi::data_error");
        let missing = "object-store error: Error performing HEAD http://127.0.0.1:54330/b/deals.parquet in 3ms - Server returned non-2xx status code: 404 Not Found";
        assert_eq!(code(missing), "kpi::source_not_found");
    }
}
