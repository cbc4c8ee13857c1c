//! What differs between the SQL of PostgreSQL, DuckDB, Snowflake, BigQuery
//! and Spark: quoting, types, date arithmetic, and a few functions. The
//! shared printer (`super`) asks the dialect for these and nothing else.

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
    /// `round(x, digits)`, half away from zero.
    fn round(self, x: &str, digits: u32) -> String;
    fn contains(self, a: &str, b: &str) -> String;
    fn starts_with(self, a: &str, b: &str) -> String;
    fn ends_with(self, a: &str, b: &str) -> String;
    /// A date from a string; null (not an error) where it does not parse, when the dialect can.
    fn parse_date(self, x: &str) -> String;
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
            _ => quoted(name, '"'),
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
        }
    }

    fn text_type(self) -> &'static str {
        match self {
            Dialect::Postgres => "TEXT",
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
        format!("DATE '{d}'")
    }

    fn timestamp_lit(self, t: DateTime) -> String {
        let text = t.to_string().replace('T', " ");
        match self {
            Dialect::BigQuery => format!("DATETIME '{text}'"),
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
        }
    }

    fn month_start(self, d: &str) -> String {
        match self {
            Dialect::Postgres | Dialect::DuckDb => format!("CAST(DATE_TRUNC('month', {d}) AS DATE)"),
            Dialect::Snowflake => format!("DATE_TRUNC('MONTH', {d})"),
            Dialect::BigQuery => format!("DATE_TRUNC({d}, MONTH)"),
            Dialect::Spark => format!("trunc({d}, 'MM')"),
        }
    }

    fn iso_weekday(self, d: &str) -> String {
        match self {
            Dialect::Postgres => format!("EXTRACT(ISODOW FROM {d})"),
            Dialect::DuckDb => format!("isodow({d})"),
            Dialect::Snowflake => format!("DAYOFWEEKISO({d})"),
            Dialect::BigQuery => format!("(MOD(EXTRACT(DAYOFWEEK FROM {d}) + 5, 7) + 1)"),
            Dialect::Spark => format!("(weekday({d}) + 1)"),
        }
    }

    fn iso_week(self, d: &str) -> String {
        match self {
            Dialect::Postgres => format!("EXTRACT(WEEK FROM {d})"),
            Dialect::DuckDb => format!("week({d})"),
            Dialect::Snowflake => format!("WEEKISO({d})"),
            Dialect::BigQuery => format!("EXTRACT(ISOWEEK FROM {d})"),
            Dialect::Spark => format!("weekofyear({d})"),
        }
    }

    fn epoch_micros(self, t: &str) -> String {
        let ts = format!("CAST({t} AS {})", self.timestamp_type());
        match self {
            Dialect::Postgres => format!("(EXTRACT(EPOCH FROM {ts}) * 1000000)"),
            Dialect::DuckDb => format!("epoch_us({ts})"),
            Dialect::Snowflake => format!("DATE_PART(EPOCH_MICROSECOND, {ts})"),
            Dialect::BigQuery => format!("UNIX_MICROS(TIMESTAMP({ts}))"),
            Dialect::Spark => format!("unix_micros(CAST({t} AS TIMESTAMP))"),
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
            Dialect::BigQuery => "NULL".to_string(),
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

    fn round(self, x: &str, digits: u32) -> String {
        match self {
            // ROUND of a double rounds half to even in PostgreSQL; NUMERIC rounds half away.
            Dialect::Postgres => format!("ROUND(CAST({x} AS NUMERIC), {digits})"),
            _ => format!("ROUND({x}, {digits})"),
        }
    }

    fn contains(self, a: &str, b: &str) -> String {
        match self {
            Dialect::DuckDb => format!("contains({a}, {b})"),
            Dialect::Snowflake => format!("CONTAINS({a}, {b})"),
            Dialect::Spark => format!("(instr({a}, {b}) > 0)"),
            Dialect::Postgres | Dialect::BigQuery => format!("(STRPOS({a}, {b}) > 0)"),
        }
    }

    fn starts_with(self, a: &str, b: &str) -> String {
        match self {
            Dialect::Snowflake => format!("STARTSWITH({a}, {b})"),
            Dialect::Spark => format!("startswith({a}, {b})"),
            _ => format!("STARTS_WITH({a}, {b})"),
        }
    }

    fn ends_with(self, a: &str, b: &str) -> String {
        match self {
            Dialect::Postgres => format!("(RIGHT({a}, LENGTH({b})) = {b})"),
            Dialect::Snowflake => format!("ENDSWITH({a}, {b})"),
            Dialect::Spark => format!("endswith({a}, {b})"),
            Dialect::DuckDb | Dialect::BigQuery => format!("ENDS_WITH({a}, {b})"),
        }
    }

    fn parse_date(self, x: &str) -> String {
        match self {
            Dialect::DuckDb => format!("TRY_CAST({x} AS DATE)"),
            Dialect::Snowflake => format!("TRY_TO_DATE({x})"),
            Dialect::BigQuery => format!("SAFE_CAST({x} AS DATE)"),
            Dialect::Spark => format!("to_date({x})"),
            Dialect::Postgres => format!("CAST({x} AS DATE)"),
        }
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
}
