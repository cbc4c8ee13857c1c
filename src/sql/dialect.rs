//! What differs between the SQL of PostgreSQL, DuckDB, Snowflake, BigQuery,
//! Spark and SQLite: quoting, types, date arithmetic, and a few functions.
//! The shared printer (`super`) asks the dialect for these and nothing else.
//!
//! SQLite has no date types: dates and times are texts (`2025-01-31`,
//! `2025-01-31 09:30:00`), read through its `date()` and `datetime()`,
//! which also make one form of `…T09:30` and `… 09:30:00.000`; they compare
//! as texts, in order.

use crate::spec::model::Dialect;
use crate::time::{Date, DateTime};

/// The SQL spelling of each dialect's pieces.
pub trait Spelling {
    /// A quoted identifier: never pasted, always escaped.
    fn ident(self, name: &str) -> String;
    /// A string literal, escaped for the dialect.
    fn string(self, text: &str) -> String;
    fn double_type(self) -> &'static str;
    fn text_type(self) -> &'static str;
    fn int_type(self) -> &'static str;
    fn timestamp_type(self) -> &'static str;
    fn date_lit(self, d: Date) -> String;
    fn timestamp_lit(self, t: DateTime) -> String;
    /// `d` (a date) plus `n` (an integer expression) days, a date.
    fn add_days(self, d: &str, n: &str) -> String;
    /// `d` plus `n` months (clamped to the month's end), a date.
    fn add_months(self, d: &str, n: &str) -> String;
    /// The first day of `d`'s month, a date.
    fn month_start(self, d: &str) -> String;
    /// ISO weekday, Monday 1 … Sunday 7.
    fn iso_weekday(self, d: &str) -> String;
    /// ISO week number.
    fn iso_week(self, d: &str) -> String;
    /// Microseconds since 1970-01-01 of a date or datetime, a number.
    fn epoch_micros(self, t: &str) -> String;
    /// The exact (interpolated) quantile `q` of `x`, an aggregate.
    fn quantile(self, x: &str, q: f64) -> String;
    fn log10(self, x: &str) -> String;
    fn pow(self, x: &str, y: &str) -> String;
    fn contains(self, a: &str, b: &str) -> String;
    fn starts_with(self, a: &str, b: &str) -> String;
    fn ends_with(self, a: &str, b: &str) -> String;
    /// A date or datetime expression as a date.
    fn to_date(self, x: &str) -> String;
    /// A date or datetime column as the day of its rows: PostgreSQL's and
    /// DuckDB's `infinity` and `-infinity` are no day (null).
    fn column_day(self, x: &str) -> String;
    /// A date or datetime expression as a datetime (a date at midnight).
    fn to_timestamp(self, x: &str) -> String;
    /// A date with no value.
    fn null_date(self) -> String;
    /// A part of a date: `YEAR`, `QUARTER`, `MONTH` or `DAY`, a number.
    fn extract(self, part: &str, d: &str) -> String;
    /// The smallest (`least`) or largest of values none of which is null.
    fn extreme_of(self, least: bool, xs: &[String]) -> String;
    /// A column of type `ty` as the printer reads it: a number that is not
    /// finite (NaN, ±infinity) is null, as in files.
    fn column_value(self, column: String, ty: crate::check::types::Type) -> String;
    /// `x`, a number, or null where it is NaN or infinite.
    fn finite(self, x: &str) -> String;
    /// Whether a number column's `x` holds a value at all: not null, nor
    /// (in SQLite) an empty text, an empty field as in files.
    fn has_value(self, x: &str) -> String;
    /// A boolean as text, as files write it (`true`, `false`).
    fn bool_text(self, x: &str) -> String;
    /// A text `x` compared by its bytes, as files compare texts, whatever
    /// the column's or the database's collation.
    fn byte_order(self, x: &str) -> String;
    /// A double that is not whole, `x`, as text in its shortest form
    /// (`0.4950000000000001`), as files write it.
    fn fraction_text(self, x: &str) -> String;
    /// The minimum or maximum `agg` of dates or datetimes (`ty`) as it comes
    /// back: the database's own date or time, or where it has none the
    /// number kpi computes one as (days, or microseconds, since 1970).
    fn temporal_extreme(self, agg: String, ty: crate::check::types::Type) -> String;
    /// The statement that makes a session count zoned datetimes (an
    /// instant: PostgreSQL's `timestamptz`, DuckDB's `TIMESTAMPTZ`) in UTC,
    /// where the session has a zone of its own.
    fn utc_session(self) -> Option<&'static str>;
}

fn quoted(name: &str, q: char) -> String {
    let doubled: String = name
        .chars()
        .flat_map(|c| if c == q { vec![q, q] } else { vec![c] })
        .collect();
    format!("{q}{doubled}{q}")
}

/// `'…'` with `'` doubled, and `\` escaped where the dialect reads backslash escapes.
fn literal(text: &str, backslash: bool) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\'' if backslash => out.push_str("\\'"),
            '\'' => out.push_str("''"),
            '\\' if backslash => out.push_str("\\\\"),
            '\n' if backslash => out.push_str("\\n"),
            '\r' if backslash => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

impl Spelling for Dialect {
    fn ident(self, name: &str) -> String {
        match self {
            Dialect::BigQuery | Dialect::Spark => quoted(name, '`'),
            Dialect::Postgres | Dialect::DuckDb | Dialect::Snowflake | Dialect::Sqlite => quoted(name, '"'),
        }
    }

    fn string(self, text: &str) -> String {
        literal(
            text,
            matches!(self, Dialect::Snowflake | Dialect::BigQuery | Dialect::Spark),
        )
    }

    fn double_type(self) -> &'static str {
        match self {
            Dialect::Postgres => "DOUBLE PRECISION",
            Dialect::Snowflake => "FLOAT",
            Dialect::BigQuery => "FLOAT64",
            Dialect::DuckDb | Dialect::Spark => "DOUBLE",
            Dialect::Sqlite => "REAL",
        }
    }

    fn text_type(self) -> &'static str {
        match self {
            Dialect::Postgres | Dialect::Sqlite => "TEXT",
            Dialect::BigQuery | Dialect::Spark => "STRING",
            Dialect::DuckDb | Dialect::Snowflake => "VARCHAR",
        }
    }

    fn int_type(self) -> &'static str {
        match self {
            Dialect::BigQuery => "INT64",
            _ => "INTEGER",
        }
    }

    fn timestamp_type(self) -> &'static str {
        match self {
            Dialect::Snowflake => "TIMESTAMP_NTZ",
            Dialect::BigQuery => "DATETIME",
            _ => "TIMESTAMP",
        }
    }

    fn date_lit(self, d: Date) -> String {
        match self {
            Dialect::Sqlite => format!("'{d}'"),
            Dialect::Postgres => format!("DATE '{}'", postgres_era(d, d.to_string())),
            _ => format!("DATE '{d}'"),
        }
    }

    fn timestamp_lit(self, t: DateTime) -> String {
        let text = t.to_string().replace('T', " ");
        match self {
            Dialect::BigQuery => format!("DATETIME '{text}'"),
            Dialect::Sqlite => format!("'{text}'"),
            Dialect::Postgres => format!("TIMESTAMP '{}'", postgres_era(t.date(), text)),
            _ => format!("TIMESTAMP '{text}'"),
        }
    }

    fn add_days(self, d: &str, n: &str) -> String {
        let n = format!("CAST({n} AS {})", self.int_type());
        match self {
            Dialect::Postgres => format!("CAST({d} + {n} AS DATE)"),
            Dialect::DuckDb => format!("CAST({d} + to_days({n}) AS DATE)"),
            Dialect::Snowflake => format!("DATEADD(day, {n}, {d})"),
            Dialect::BigQuery => format!("DATE_ADD({d}, INTERVAL {n} DAY)"),
            Dialect::Spark => format!("date_add({d}, {n})"),
            Dialect::Sqlite => format!("date({d}, printf('%+d days', {n}))"),
        }
    }

    fn add_months(self, d: &str, n: &str) -> String {
        let n = format!("CAST({n} AS {})", self.int_type());
        match self {
            Dialect::Postgres => format!("CAST({d} + {n} * INTERVAL '1 month' AS DATE)"),
            Dialect::DuckDb => format!("CAST({d} + to_months({n}) AS DATE)"),
            Dialect::Snowflake => format!("DATEADD(month, {n}, {d})"),
            Dialect::BigQuery => format!("DATE_ADD({d}, INTERVAL {n} MONTH)"),
            Dialect::Spark => format!("add_months({d}, {n})"),
            // Not clamped (31 January plus a month is 3 March): the printer
            // adds months to the first of a month only.
            Dialect::Sqlite => format!("date({d}, printf('%+d months', {n}))"),
        }
    }

    fn month_start(self, d: &str) -> String {
        match self {
            Dialect::Postgres | Dialect::DuckDb => format!("CAST(DATE_TRUNC('month', {d}) AS DATE)"),
            Dialect::Snowflake => format!("DATE_TRUNC('MONTH', {d})"),
            Dialect::BigQuery => format!("DATE_TRUNC({d}, MONTH)"),
            Dialect::Spark => format!("trunc({d}, 'MM')"),
            Dialect::Sqlite => format!("date({d}, 'start of month')"),
        }
    }

    fn iso_weekday(self, d: &str) -> String {
        match self {
            Dialect::Postgres => format!("EXTRACT(ISODOW FROM {d})"),
            Dialect::DuckDb => format!("isodow({d})"),
            Dialect::Snowflake => format!("DAYOFWEEKISO({d})"),
            Dialect::BigQuery => format!("(MOD(EXTRACT(DAYOFWEEK FROM {d}) + 5, 7) + 1)"),
            Dialect::Spark => format!("(weekday({d}) + 1)"),
            // %w: Sunday 0 … Saturday 6.
            Dialect::Sqlite => format!("((CAST(strftime('%w', {d}) AS INTEGER) + 6) % 7 + 1)"),
        }
    }

    fn iso_week(self, d: &str) -> String {
        match self {
            Dialect::Postgres => format!("EXTRACT(WEEK FROM {d})"),
            Dialect::DuckDb => format!("week({d})"),
            Dialect::Snowflake => format!("WEEKISO({d})"),
            Dialect::BigQuery => format!("EXTRACT(ISOWEEK FROM {d})"),
            Dialect::Spark => format!("weekofyear({d})"),
            Dialect::Sqlite => format!("CAST(strftime('%V', {d}) AS INTEGER)"),
        }
    }

    fn epoch_micros(self, t: &str) -> String {
        let ts = self.to_timestamp(t);
        match self {
            Dialect::Postgres => format!("(EXTRACT(EPOCH FROM {ts}) * 1000000)"),
            Dialect::DuckDb => format!("epoch_us({ts})"),
            Dialect::Snowflake => format!("DATE_PART(EPOCH_MICROSECOND, {ts})"),
            Dialect::BigQuery => format!("UNIX_MICROS(TIMESTAMP({ts}))"),
            Dialect::Spark => format!("unix_micros(CAST({t} AS TIMESTAMP))"),
            // Its `datetime()` drops a fraction of a second.
            Dialect::Sqlite => format!("ROUND(unixepoch({t}, 'subsec') * 1000000)"),
        }
    }

    fn quantile(self, x: &str, q: f64) -> String {
        match self {
            Dialect::Postgres | Dialect::Snowflake => {
                format!("PERCENTILE_CONT({q}) WITHIN GROUP (ORDER BY {x})")
            }
            Dialect::DuckDb => format!("quantile_cont({x}, {q})"),
            Dialect::Spark => format!("percentile({x}, {q})"),
            // Refused when the spec is checked (no exact aggregate form).
            Dialect::BigQuery | Dialect::Sqlite => "NULL".to_string(),
        }
    }

    fn log10(self, x: &str) -> String {
        match self {
            Dialect::Postgres => format!("LOG({x})"),
            Dialect::Snowflake => format!("LOG(10, {x})"),
            _ => format!("LOG10({x})"),
        }
    }

    fn pow(self, x: &str, y: &str) -> String {
        match self {
            Dialect::BigQuery => format!("POW({x}, {y})"),
            _ => format!("POWER({x}, {y})"),
        }
    }

    fn contains(self, a: &str, b: &str) -> String {
        match self {
            Dialect::DuckDb => format!("contains({a}, {b})"),
            Dialect::Snowflake => format!("CONTAINS({a}, {b})"),
            Dialect::Spark | Dialect::Sqlite => format!("(instr({a}, {b}) > 0)"),
            Dialect::Postgres | Dialect::BigQuery => format!("(STRPOS({a}, {b}) > 0)"),
        }
    }

    fn starts_with(self, a: &str, b: &str) -> String {
        match self {
            Dialect::Snowflake => format!("STARTSWITH({a}, {b})"),
            Dialect::Spark => format!("startswith({a}, {b})"),
            Dialect::Sqlite => format!("(substr({a}, 1, length({b})) = {b})"),
            _ => format!("STARTS_WITH({a}, {b})"),
        }
    }

    fn ends_with(self, a: &str, b: &str) -> String {
        match self {
            Dialect::Postgres => format!("(RIGHT({a}, LENGTH({b})) = {b})"),
            Dialect::Snowflake => format!("ENDSWITH({a}, {b})"),
            Dialect::Spark => format!("endswith({a}, {b})"),
            // `substr(a, -0)` is not the empty end; an empty `b` ends
            // every text but a null one.
            Dialect::Sqlite => {
                format!("(substr({a}, -length({b})) = {b} OR (length({b}) = 0 AND {a} IS NOT NULL))")
            }
            Dialect::DuckDb | Dialect::BigQuery => format!("ENDS_WITH({a}, {b})"),
        }
    }

    fn to_date(self, x: &str) -> String {
        match self {
            Dialect::Sqlite => format!("date({x})"),
            _ => format!("CAST({x} AS DATE)"),
        }
    }

    fn column_day(self, x: &str) -> String {
        let day = self.to_date(x);
        match self {
            Dialect::Postgres | Dialect::DuckDb => format!("CASE WHEN isfinite({day}) THEN {day} END"),
            _ => day,
        }
    }

    fn to_timestamp(self, x: &str) -> String {
        match self {
            Dialect::Sqlite => format!("datetime({x})"),
            _ => format!("CAST({x} AS {})", self.timestamp_type()),
        }
    }

    fn null_date(self) -> String {
        match self {
            Dialect::Sqlite => "NULL".to_string(),
            _ => "CAST(NULL AS DATE)".to_string(),
        }
    }

    fn extract(self, part: &str, d: &str) -> String {
        match (self, part) {
            (Dialect::Sqlite, "QUARTER") => format!("((CAST(strftime('%m', {d}) AS INTEGER) + 2) / 3)"),
            (Dialect::Sqlite, _) => {
                let f = match part {
                    "YEAR" => "%Y",
                    "MONTH" => "%m",
                    _ => "%d",
                };
                format!("CAST(strftime('{f}', {d}) AS INTEGER)")
            }
            _ => format!("EXTRACT({part} FROM {d})"),
        }
    }

    fn extreme_of(self, least: bool, xs: &[String]) -> String {
        let name = match (self, least) {
            // SQLite's many-argument MIN and MAX are its LEAST and GREATEST.
            (Dialect::Sqlite, true) => "MIN",
            (Dialect::Sqlite, false) => "MAX",
            (_, true) => "LEAST",
            (_, false) => "GREATEST",
        };
        format!("{name}({})", xs.join(", "))
    }

    fn column_value(self, column: String, ty: crate::check::types::Type) -> String {
        use crate::check::types::Type;
        match (self, ty) {
            (_, Type::Number) => self.finite(&column),
            // A date or time of `infinity` (an end that never comes, in
            // PostgreSQL and DuckDB) is no date or time: null, as a
            // non-finite number is; read as one it was the year 5874897.
            (Dialect::Postgres | Dialect::DuckDb, Type::Date) => {
                let day = self.to_date(&column);
                format!("CASE WHEN isfinite({day}) THEN {day} END")
            }
            (Dialect::Postgres | Dialect::DuckDb, Type::Datetime) => {
                format!("CASE WHEN isfinite({column}) THEN {column} END")
            }
            // A text column may hold another type the database reads as
            // text (a `uuid`, an `ENUM`, a `char(n)`), which its functions
            // and comparisons do not take as text: `lower(uuid)` is no
            // function, and `uuid = 'abc'` is an error, not false.
            (Dialect::Postgres | Dialect::DuckDb, Type::String) => {
                format!("CAST({column} AS {})", self.text_type())
            }
            (Dialect::Sqlite, Type::Date) => format!("date({column})"),
            (Dialect::Sqlite, Type::Datetime) => format!("datetime({column})"),
            // A column declared `date` may hold datetimes (a warehouse's
            // `TIMESTAMP`): each is its date, as in files.
            (_, Type::Date) => self.to_date(&column),
            _ => column,
        }
    }

    fn has_value(self, x: &str) -> String {
        match self {
            Dialect::Sqlite => format!("{x} IS NOT NULL AND trim({x}) <> ''"),
            _ => format!("{x} IS NOT NULL"),
        }
    }

    fn finite(self, x: &str) -> String {
        let double = format!("CAST({x} AS {})", self.double_type());
        match self {
            // NaN equals NaN in these three, unlike IEEE.
            Dialect::Postgres => {
                format!("CASE WHEN {double} IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE {x} END")
            }
            Dialect::Snowflake => format!(
                "CASE WHEN {double} IN ('NaN'::FLOAT, 'inf'::FLOAT, '-inf'::FLOAT) THEN NULL ELSE {x} END"
            ),
            Dialect::Spark => {
                format!("CASE WHEN isnan({double}) OR abs({double}) = double('inf') THEN NULL ELSE {x} END")
            }
            Dialect::DuckDb => format!("CASE WHEN isfinite({double}) THEN {x} END"),
            Dialect::BigQuery => format!("IF(IS_NAN({double}) OR IS_INF({double}), NULL, {x})"),
            // SQLite keeps no NaN (it stores a null); 9e999 reads as its
            // infinity. A column of any type holds any value there: a text
            // in a number column is read as the number it writes, and is
            // no number otherwise (SQLite's own cast made `abc` 0, counted
            // and averaged), nor is an empty text (`.import`'s empty field).
            Dialect::Sqlite => format!(
                "CASE WHEN typeof({x}) IN ('integer', 'real') THEN CASE WHEN abs({x}) = 9e999 THEN NULL ELSE {x} END \
                 WHEN typeof({x}) = 'text' AND trim({x}) GLOB '*[0-9]*' AND trim({x}) NOT GLOB '*[^0-9.eE+-]*' \
                 THEN CAST(trim({x}) AS REAL) END"
            ),
        }
    }

    fn temporal_extreme(self, agg: String, ty: crate::check::types::Type) -> String {
        use crate::check::types::Type;
        match (self, ty) {
            // SQLite's dates are texts.
            (Dialect::Sqlite, Type::Date) => {
                format!("CAST((julianday({agg}) - 2440587.5) AS {})", self.double_type())
            }
            (Dialect::Sqlite, Type::Datetime) => self.epoch_micros(&agg),
            _ => agg,
        }
    }

    fn utc_session(self) -> Option<&'static str> {
        match self {
            Dialect::Postgres => Some("SET TIME ZONE 'UTC'"),
            Dialect::DuckDb => Some("SET TimeZone = 'UTC'"),
            Dialect::Snowflake => Some("ALTER SESSION SET TIMEZONE = 'UTC'"),
            Dialect::Spark => Some("SET spark.sql.session.timeZone = UTC"),
            // BigQuery's sessions are in UTC; SQLite has no zones.
            Dialect::BigQuery | Dialect::Sqlite => None,
        }
    }

    fn bool_text(self, x: &str) -> String {
        match self {
            Dialect::Sqlite => format!("CASE WHEN {x} THEN 'true' WHEN NOT {x} THEN 'false' END"),
            _ => format!("CAST({x} AS {})", self.text_type()),
        }
    }

    fn byte_order(self, x: &str) -> String {
        match self {
            // PostgreSQL orders texts by the database's collation, often a
            // language's (`en_US.UTF-8`: `apple` < `Banana`); "C" is by
            // bytes. The others order by bytes unless a column says not.
            Dialect::Postgres => format!("({x} COLLATE \"C\")"),
            _ => x.to_string(),
        }
    }

    fn fraction_text(self, x: &str) -> String {
        match self {
            // SQLite's own text of a double has 15 digits, or 17 when 15
            // do not read back as it (`0.49500000000000011`): the fewest
            // of 15, 16 and 17 that do is the shortest form.
            Dialect::Sqlite => {
                let digits = |n: u8| format!("printf('%!.{n}g', {x})");
                let reads_back = |n: u8| format!("CAST({} AS REAL) = {x}", digits(n));
                // (`printf` writes a null as `0.0`.)
                format!(
                    "CASE WHEN {} THEN {} WHEN {} THEN {} WHEN {x} IS NOT NULL THEN {} END",
                    reads_back(15),
                    digits(15),
                    reads_back(16),
                    digits(16),
                    digits(17)
                )
            }
            // Spark writes a double in Java's notation from 10^7 (`2.5E7`)
            // and a decimal with its scale's zeros (`0.10`). Java's `%f` of
            // a double writes the shortest form's digits then zeros, which
            // are cut; 40 places hold every digit from 10^-18, and from
            // 10^18 the digits it writes are no longer the shortest form's.
            Dialect::Spark => format!(
                "CASE WHEN ABS({x}) >= 1e-18 AND ABS({x}) < 1e18 THEN regexp_replace(format_string('%.40f', CAST({x} AS DOUBLE)), '[.]?0+$', '') ELSE CAST({x} AS STRING) END"
            ),
            _ => format!("CAST({x} AS {})", self.text_type()),
        }
    }
}

/// `text` (a date or a timestamp written from `day`) as PostgreSQL reads
/// it: it has no year 0, so a day before 0001-01-01 (the day before a range
/// from the first day there is, where `at: start` takes its level) is
/// written in its years BC, 0000-12-31 as `0001-12-31 BC`.
fn postgres_era(day: Date, text: String) -> String {
    let year = day.year();
    // The month, day and time follow the year's digits (after its sign).
    let rest = text.get(1..).and_then(|t| t.find('-')).map(|i| &text[i + 1..]);
    match (year < 1, rest) {
        (true, Some(rest)) => format!("{:04}{rest} BC", 1 - year),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_and_strings_are_escaped_never_pasted() {
        assert_eq!(Dialect::Postgres.ident(r#"a"b"#), r#""a""b""#);
        assert_eq!(Dialect::BigQuery.ident("a`b"), "`a``b`");
        assert_eq!(Dialect::Postgres.string("O'Brien \\ x"), "'O''Brien \\ x'");
        assert_eq!(Dialect::Spark.string("O'Brien \\ x"), "'O\\'Brien \\\\ x'");
        assert_eq!(Dialect::Snowflake.string("a\\'; DROP"), "'a\\\\\\'; DROP'");
    }

    /// PostgreSQL has no year 0: the days before 0001-01-01 are written in
    /// their years BC (year 0, a leap year, is 1 BC; year -1 is 2 BC); other dialects and
    /// later days as they are.
    #[test]
    fn days_before_the_first_year_are_written_bc_for_postgresql() {
        let day = |s: &str| Date::parse(s).unwrap();
        let first = day("0001-01-01");
        assert_eq!(Dialect::Postgres.date_lit(first), "DATE '0001-01-01'");
        assert_eq!(
            Dialect::Postgres.date_lit(first.add_days(-1)),
            "DATE '0001-12-31 BC'"
        );
        assert_eq!(
            Dialect::Postgres.date_lit(first.add_days(-367)),
            "DATE '0002-12-31 BC'"
        );
        assert_eq!(Dialect::DuckDb.date_lit(first.add_days(-1)), "DATE '0000-12-31'");
        let stamp = DateTime::parse("0001-01-01T00:00:00").unwrap();
        assert_eq!(
            Dialect::Postgres.timestamp_lit(DateTime(stamp.0 - 1_000_000)),
            "TIMESTAMP '0001-12-31 23:59:59 BC'"
        );
    }
}
