//! `date(text)` in SQL: the ISO day a text starts with (`2025-01-31`,
//! `2025-1-5`, the day of `2025-01-31T09:30`), null for any other text, as
//! files read it. The databases' own casts differ from that and from each
//! other: PostgreSQL's fails the whole query on a text of no date, and
//! reads `25-01-15` as a day of 2025; SQLite's moves `2025-02-30` to
//! March; Spark's reads `2025` as its first day. So the text's year, month
//! and day are taken apart here, the day checked against its month, and
//! the date made of them only when it is one.

use super::dialect::Spelling;
use crate::spec::model::Dialect;

/// The shape of a text that starts with an ISO day: four digits of year,
/// one or two of month and of day, then its end or a time of day.
pub const SHAPE: &str = "^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([T ]|$)";

/// Each part of the day, as a pattern whose one group is that part.
const YEAR: &str = "^([0-9]{4})";
const MONTH: &str = "^[0-9]{4}-([0-9]{1,2})";
const DAY: &str = "^[0-9]{4}-[0-9]{1,2}-([0-9]{1,2})";

/// The date `text` (a text expression) starts with, or null.
pub fn parse_date(d: Dialect, text: &str) -> String {
    // Spaces trimmed, not tabs or line ends (BigQuery's and Snowflake's
    // `TRIM` of one argument trims every kind of white space).
    let t = match d {
        Dialect::BigQuery | Dialect::Snowflake => format!("TRIM({text}, ' ')"),
        _ => format!("TRIM({text})"),
    };
    let (y, m, d_) = (part(d, &t, YEAR), part(d, &t, MONTH), part(d, &t, DAY));
    let rem = |a: &str, b: u32| match d {
        Dialect::BigQuery => format!("MOD({a}, {b})"),
        _ => format!("({a} % {b})"),
    };
    let leap = format!(
        "({} = 0 AND ({} <> 0 OR {} = 0))",
        rem(&y, 4),
        rem(&y, 100),
        rem(&y, 400)
    );
    let days = format!("CASE WHEN {m} IN (4, 6, 9, 11) THEN 30 WHEN {m} = 2 THEN CASE WHEN {leap} THEN 29 ELSE 28 END ELSE 31 END");
    let make = match d {
        Dialect::Snowflake => format!("DATE_FROM_PARTS({y}, {m}, {d_})"),
        Dialect::BigQuery => format!("DATE({y}, {m}, {d_})"),
        Dialect::Sqlite => format!("date(printf('%04d-%02d-%02d', {y}, {m}, {d_}))"),
        Dialect::Postgres | Dialect::DuckDb | Dialect::Spark => format!("make_date({y}, {m}, {d_})"),
    };
    // Nested, so that no database makes a date of parts it has not checked
    // (the order in which `AND` is evaluated is the database's choice).
    format!(
        "CASE WHEN {} THEN CASE WHEN {y} >= 1 AND {m} BETWEEN 1 AND 12 AND {d_} BETWEEN 1 AND {days} THEN {make} END END",
        shaped(d, &t)
    )
}

/// Whether the text `t` has the [`SHAPE`] of an ISO day.
fn shaped(d: Dialect, t: &str) -> String {
    let shape = d.string(SHAPE);
    match d {
        Dialect::Postgres => format!("{t} ~ {shape}"),
        Dialect::DuckDb => format!("regexp_matches({t}, {shape})"),
        Dialect::Spark => format!("{t} RLIKE {shape}"),
        Dialect::BigQuery => format!("REGEXP_CONTAINS({t}, {shape})"),
        // Snowflake's patterns match the whole text.
        Dialect::Snowflake => format!(
            "REGEXP_LIKE({t}, {})",
            d.string("[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([T ].*)?")
        ),
        // SQLite has no regular expressions: its patterns, each number of
        // digits of month and day, at the end or before a time.
        Dialect::Sqlite => {
            let year = "[0-9][0-9][0-9][0-9]";
            let digits = ["[0-9]", "[0-9][0-9]"];
            let mut globs = Vec::new();
            for m in digits {
                for day in digits {
                    for end in ["", "[T ]*"] {
                        globs.push(format!("{t} GLOB '{year}-{m}-{day}{end}'"));
                    }
                }
            }
            format!("({})", globs.join(" OR "))
        }
    }
}

/// The integer of the text `t` that `pattern`'s one group matches.
fn part(d: Dialect, t: &str, pattern: &str) -> String {
    let p = d.string(pattern);
    match d {
        Dialect::Postgres => format!("CAST(substring({t} from {p}) AS INTEGER)"),
        Dialect::DuckDb => format!("CAST(regexp_extract({t}, {p}, 1) AS INTEGER)"),
        Dialect::Spark => format!("CAST(regexp_extract({t}, {p}, 1) AS INT)"),
        Dialect::Snowflake => format!("CAST(REGEXP_SUBSTR({t}, {p}, 1, 1, 'e', 1) AS INTEGER)"),
        Dialect::BigQuery => format!("CAST(REGEXP_EXTRACT({t}, {p}) AS INT64)"),
        // A text's leading digits are its integer in SQLite: the year's
        // of the whole text, the month's after the first `-`, the day's
        // after the second.
        Dialect::Sqlite => match pattern {
            YEAR => format!("CAST({t} AS INTEGER)"),
            MONTH => format!("CAST(substr({t}, 6) AS INTEGER)"),
            _ => format!("CAST(substr({t}, 6 + instr(substr({t}, 6), '-')) AS INTEGER)"),
        },
    }
}
