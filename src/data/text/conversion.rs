//! From a CSV (or NDJSON) column's text to its type: numbers as the
//! `read:` options write them (decimal comma, thousands, currency, `%`),
//! booleans as exports write them, dates and datetimes in their format,
//! those with UTC offsets in the zone their days count in. Each is a
//! Polars expression over the text, strict where a value that does not
//! convert is an error, and the test of a value that does not convert.

use polars::prelude::*;

use super::guess::{
    datetime_format, is_grouped_number, iso_shape, looks_like_datetime, precision_of, Precision,
    DATETIME_FORMATS, ISO_ANY_PRECISION, NO_SEPARATOR,
};
use crate::check::types::Type;
use crate::data::SourceInfo;

/// How a text column's numbers are written, from the `read:` options.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct NumberForm {
    pub(crate) decimal_comma: bool,
    /// Removed before the number is read (`read.thousands`).
    pub(crate) thousands: Option<char>,
    /// Removed first, with the spaces beside it (`read.currency`).
    pub(crate) currency: Option<String>,
    /// A value written with `%` is its hundredth (`read.percent`).
    pub(crate) percent: bool,
}

impl NumberForm {
    /// As the `read:` options of `src` say.
    pub(crate) fn of(src: &SourceInfo) -> NumberForm {
        NumberForm {
            decimal_comma: src.read.decimal_comma,
            thousands: src.read.thousands.as_ref().map(|t| t.value),
            currency: src.read.currency.as_ref().map(|c| c.value.clone()),
            percent: src.read.percent,
        }
    }

    /// Whether the options say more than a plain number (`-12.5`, `1e6`).
    pub(crate) fn is_plain(&self) -> bool {
        *self == NumberForm::default()
    }

    /// A value as a plain number's text: without its currency symbol, its
    /// `%` and the spaces beside them (`$ 1,200` → `1,200`; `-$300` →
    /// `-300`; `45 %` → `45`).
    fn bare<'v>(&self, v: &'v str) -> std::borrow::Cow<'v, str> {
        let mut marks: Vec<&str> = self.currency.iter().map(String::as_str).collect();
        if self.percent {
            marks.push("%");
        }
        match marks.iter().any(|m| v.contains(m)) {
            true => {
                let bare = marks.iter().fold(v.to_string(), |t, m| t.replace(m, ""));
                std::borrow::Cow::Owned(bare.trim().to_string())
            }
            false => std::borrow::Cow::Borrowed(v),
        }
    }

    /// Whether `v` is a number as these options write one (a negative one
    /// perhaps in parentheses, as accounting formats write it: `(300.00)`,
    /// `$(1,200.50)`).
    pub(crate) fn reads(&self, v: &str) -> bool {
        let sep = self
            .thousands
            .or(self.decimal_comma.then_some('.'))
            .unwrap_or(NO_SEPARATOR);
        let decimal_mark = if self.decimal_comma { ',' } else { '.' };
        let bare = self.bare(v);
        let bare = bare
            .strip_prefix('(')
            .and_then(|b| b.strip_suffix(')'))
            .unwrap_or(&bare);
        is_grouped_number(bare.trim(), sep, decimal_mark)
    }

    /// The number of the text column `text` (already trimmed).
    pub(crate) fn expr(&self, text: Expr, strict: bool) -> Expr {
        // The spaces beside a mark go with it, inside parentheses too:
        // `(2.25 €)` is `(2.25)`, whose space before the `)` would
        // otherwise be taken for one between thousands (`thousands: " "`).
        let marked = |text: Expr, mark: &str| {
            let beside = format!(r"\s*{}\s*", escaped(mark));
            text.str()
                .replace_all(lit(beside), lit(""), false)
                .str()
                .strip_chars(lit(NULL))
        };
        let mut bare = text.clone();
        if let Some(c) = &self.currency {
            bare = marked(bare, c);
        }
        if self.percent {
            bare = marked(bare, "%");
        }
        let decimal_mark = if self.decimal_comma { ',' } else { '.' };
        for sep in self
            .thousands
            .into_iter()
            .chain(self.decimal_comma.then_some('.'))
        {
            bare = misgrouped_unread(bare, sep, decimal_mark);
        }
        if let Some(t) = self.thousands {
            bare = bare.str().replace_all(lit(t.to_string()), lit(""), true);
        }
        if self.decimal_comma {
            bare = bare
                .str()
                .replace_all(lit("."), lit(""), true)
                .str()
                .replace(lit(","), lit("."), true);
        }
        let x = match self.is_plain() {
            // Plain numbers are cast at once unless a batch holds one in
            // parentheses: a test of each value's first byte, not the
            // string work of the parentheses on every value.
            true => per_batch(
                bare,
                (DataType::Float64, Years::AsRead),
                "numbers",
                move |texts, at| {
                    let (mut parenthesised, mut empty) = (false, false);
                    for v in texts.iter().flatten() {
                        parenthesised |= v.starts_with('(');
                        empty |= v.is_empty();
                    }
                    let at = if empty { no_empty(at) } else { at };
                    match parenthesised {
                        true => accounting(at, strict),
                        false => as_number(at, strict),
                    }
                },
            ),
            false => accounting(no_empty(bare), strict),
        };
        match self.percent {
            true => when(text.str().contains_literal(lit("%")))
                .then(crate::data::divide(x.clone(), lit(100.0)))
                .otherwise(x),
            false => x,
        }
    }
}

/// The numbers of `bare` (numbers' texts without their formatting), a
/// negative one perhaps in parentheses as accounting formats write it:
/// `(300.00)` is -300.
fn accounting(bare: Expr, strict: bool) -> Expr {
    let parenthesised = bare
        .clone()
        .str()
        .starts_with(lit("("))
        .and(bare.clone().str().ends_with(lit(")")));
    let inside = bare
        .clone()
        .str()
        .strip_prefix(lit("("))
        .str()
        .strip_suffix(lit(")"));
    let x = when(parenthesised.clone())
        .then(inside.str().strip_chars(lit(NULL)))
        .otherwise(bare);
    let x = as_number(x, strict);
    when(parenthesised).then(-x.clone()).otherwise(x)
}

/// Values in which `sep` does not stand between thousands (`1.5` with a
/// decimal comma, `1,5` with `thousands: ","`) made texts no cast reads:
/// they are no numbers so written, and with the separator removed they
/// would be read ten or a hundred times too large.
fn misgrouped_unread(bare: Expr, sep: char, decimal_mark: char) -> Expr {
    let grouped = format!(
        r"^\(?\s*-?\s*[0-9]{{1,3}}({}[0-9]{{3}})+({}[0-9]*)?\s*\)?$",
        escaped(&sep.to_string()),
        escaped(&decimal_mark.to_string())
    );
    let has_sep = bare.clone().str().contains_literal(lit(sep.to_string()));
    let misgrouped = has_sep.and(bare.clone().str().contains(lit(grouped), true).not());
    when(misgrouped).then(bare.clone() + lit("?")).otherwise(bare)
}

/// `text` as a regular expression that matches it alone: its ASCII
/// punctuation escaped (`$`, `.`), other characters (`€`) as they are.
fn escaped(text: &str) -> String {
    text.chars()
        .map(|c| match c.is_ascii_punctuation() {
            true => format!("\\{c}"),
            false => c.to_string(),
        })
        .collect()
}

/// Numbers' texts as numbers; `strict`: one that is no number is an error.
fn as_number(texts: Expr, strict: bool) -> Expr {
    match strict {
        true => texts.strict_cast(DataType::Float64),
        false => texts.cast(DataType::Float64),
    }
}

/// `text` converted a batch at a time: `convert` looks at a batch's texts
/// and gives the expression, over the batch's column, that converts it,
/// run on that batch alone (`dtype`: what it gives; `what` names the step
/// in a plan). The test is a pass over the texts that can spare every
/// value the string work a few of them need.
fn per_batch(
    text: Expr,
    (dtype, years): (DataType, Years),
    what: &'static str,
    convert: impl Fn(&StringChunked, Expr) -> Expr + Send + Sync + 'static,
) -> Expr {
    text.map_with_fmt_str(
        move |c: Column| {
            let name = c.name().clone();
            let texts = c.str()?.clone();
            let converted = convert(&texts, col(name.clone()));
            let frame = DataFrame::new_infer_height(vec![c])?;
            let out = frame.lazy().select([converted.alias(name.clone())]).collect()?;
            let out = out.column(name.as_str())?.clone();
            match years {
                Years::AsRead => Ok(out),
                Years::FourDigits { strict } => without_short_years(&texts, out, strict),
            }
        },
        move |_, f| Ok(Field::new(f.name().clone(), dtype.clone())),
        what,
    )
}

/// What a conversion does with the years it reads.
#[derive(Clone, Copy)]
enum Years {
    AsRead,
    /// The format reads a year of four digits (`%Y`): one before 1000 not
    /// written so does not convert (`strict`: is an error).
    FourDigits {
        strict: bool,
    },
}

impl Years {
    fn of(format: &str, strict: bool) -> Years {
        match format.contains("%Y") {
            true => Years::FourDigits { strict },
            false => Years::AsRead,
        }
    }
}

/// `out` (the dates or datetimes of `texts`) without the values whose
/// year, before 1000, is not written in four digits in their text: `%Y`
/// reads `1/15/25` as the year 25 (the format wanted `%y`), and a year
/// mistyped `25-02-03` too; such rows fell in no period asked for, and
/// the range from the year 25 made two thousand years of empty periods.
/// They do not convert, as a text of no date does; `0001-01-01`, the "no
/// start" some systems write, is kept. `strict`: such a value is an error.
fn without_short_years(texts: &StringChunked, out: Column, strict: bool) -> PolarsResult<Column> {
    const DAY_1000: i64 = -354_285; // 1000-01-01, in days since 1970-01-01
    let per_day: i64 = match out.dtype() {
        DataType::Date => 1,
        DataType::Datetime(TimeUnit::Microseconds, _) => 86_400_000_000,
        DataType::Datetime(TimeUnit::Milliseconds, _) => 86_400_000,
        DataType::Datetime(TimeUnit::Nanoseconds, _) => 86_400_000_000_000,
        _ => return Ok(out),
    };
    // Days as 32-bit, instants as 64-bit integers, looked at without a copy.
    let physical = out.to_physical_repr();
    let least = match physical.dtype() {
        DataType::Int32 => physical.i32()?.min().map(i64::from),
        _ => physical.i64()?.min(),
    };
    let first = DAY_1000 * per_day;
    if least.is_none_or(|least| least >= first) {
        return Ok(out);
    }
    let physical = physical.cast(&DataType::Int64)?;
    let values = physical.i64()?;
    let written = |v: i64, t: &str| {
        let year = chrono::DateTime::from_timestamp(v.div_euclid(per_day) * 86_400, 0)
            .map(|d| chrono::Datelike::year(&d));
        year.is_some_and(|y| y >= 0 && super::guess::year_in_full("%Y", t, y))
    };
    let keep: BooleanChunked = values
        .iter()
        .zip(texts.iter())
        .map(|(v, t)| match (v, t) {
            (Some(v), Some(t)) if v < first => written(v, t),
            _ => true,
        })
        .collect();
    if strict && !keep.all() {
        polars_bail!(ComputeError: "a year of fewer than four digits read by `%Y`");
    }
    let out = out.as_materialized_series();
    let none = Series::full_null(out.name().clone(), out.len(), out.dtype());
    Ok(out.zip_with(&keep, &none)?.into_column())
}

/// From text to a column's type.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Conversion {
    Number(NumberForm),
    Bool,
    Date {
        format: String,
    },
    /// `offset`: the values carry UTC offsets, converted to `zone`. A value
    /// that is a date alone, in the format's own date part ([`day_part`]),
    /// is that day's midnight: exports write a time of midnight so.
    Datetime {
        format: String,
        offset: bool,
        zone: Option<String>,
    },
    /// Dates declared, written as datetimes (`2025-01-31 00:00:00`, as
    /// exports write dates; `2025-01-31T23:30:00-05:00`): the date of each
    /// as the datetime conversion reads it, in the `read.timezone` zone
    /// where they carry offsets.
    DateOf(Box<Conversion>),
    /// A column with no value at all (every field empty, or no records):
    /// nulls of no type, which any use of the column takes, where text
    /// would make a time column or a sum a type error.
    NoValues,
}

impl Conversion {
    /// Datetimes with UTC offsets, and no zone yet their days count in.
    pub(crate) fn needs_zone(&self) -> bool {
        match self {
            Conversion::DateOf(times) => times.needs_zone(),
            _ => matches!(
                self,
                Conversion::Datetime {
                    offset: true,
                    zone: None,
                    ..
                }
            ),
        }
    }

    /// Datetimes with UTC offsets counted in UTC: every offset is UTC's.
    pub(crate) fn take_utc(&mut self) {
        match self {
            Conversion::Datetime { zone, .. } => {
                zone.get_or_insert_with(|| "UTC".to_string());
            }
            Conversion::DateOf(times) => times.take_utc(),
            _ => {}
        }
    }

    pub(crate) fn ty(&self) -> Type {
        match self {
            Conversion::Number(_) => Type::Number,
            Conversion::Bool => Type::Bool,
            Conversion::Date { .. } | Conversion::DateOf(_) => Type::Date,
            Conversion::Datetime { .. } => Type::Datetime,
            Conversion::NoValues => Type::Null,
        }
    }

    /// The converted column; `strict`: a value that does not convert is an error.
    pub(crate) fn expr(&self, column: &str, strict: bool) -> Expr {
        let text = col(column).str().strip_chars(lit(NULL));
        match self {
            Conversion::Number(form) => form.expr(text, strict),
            Conversion::Bool => {
                // Each value as `1` or `0`, any other text made one that no
                // cast reads (`yes?`), so that a strict cast names it.
                let lower = text.clone().str().to_lowercase();
                let any_of = |words: &[&str]| {
                    words
                        .iter()
                        .map(|w| lower.clone().eq(lit(*w)))
                        .reduce(Expr::or)
                        .unwrap_or(lit(false))
                };
                let digit = when(any_of(&TRUE_WORDS))
                    .then(lit("1"))
                    .when(any_of(&FALSE_WORDS))
                    .then(lit("0"))
                    .when(text.clone().eq(lit("")))
                    .then(lit(NULL).cast(DataType::String))
                    .otherwise(text + lit("?"));
                let flag = match strict {
                    true => digit.strict_cast(DataType::UInt8),
                    false => digit.cast(DataType::UInt8),
                };
                flag.cast(DataType::Boolean)
            }
            Conversion::Date { format } => {
                let opts = opts_of(format, strict);
                per_batch(
                    text,
                    (DataType::Date, Years::of(format, strict)),
                    "dates",
                    move |texts, at| without_empty(texts, at).str().to_date(opts.clone()),
                )
            }
            // A column of nulls as long as the others: a literal null is
            // one value, which a comparison with a number left one row long.
            Conversion::NoValues => col(column).cast(DataType::Null),
            Conversion::DateOf(times) => times.expr(column, strict).dt().date(),
            Conversion::Datetime { format, .. } => {
                let times = self.clone();
                let dtype = (
                    DataType::Datetime(TimeUnit::Microseconds, None),
                    Years::of(format, strict),
                );
                let Some(day) = day_part(format) else {
                    return per_batch(text, dtype, "times", move |texts, at| {
                        times.time_of_day(without_empty(texts, at), strict)
                    });
                };
                // A column (a batch of it) with a date alone among its
                // values takes them apart; one without is parsed once (a
                // failed parse of every datetime as a date more than
                // doubled the time to read them).
                // ISO 8601 values to the minute, the second or a fraction
                // of it read together (a batch of a column whose first
                // values had one precision), those to the minute given
                // `:00`; a batch in the format's own precision as it is.
                let any_precision = self.any_precision();
                per_batch(text, dtype, "datetimes", move |texts, at| {
                    // One pass over the batch's texts tells all three.
                    let (mut alone, mut minutes, mut finer, mut empty) = (false, false, false, false);
                    for v in texts.iter().flatten() {
                        empty |= v.is_empty();
                        alone |= !v.is_empty() && !v.contains(':');
                        if let (Some((_, own)), Some(p)) = (&any_precision, precision_of(v)) {
                            minutes |= p == Precision::Minute;
                            finer |= p > *own;
                        }
                    }
                    let at = if empty { no_empty(at) } else { at };
                    let (times, at) = match &any_precision {
                        Some((wider, own)) if finer || (minutes && *own > Precision::Minute) => {
                            (wider, if minutes { with_seconds(at) } else { at })
                        }
                        _ => (&times, at),
                    };
                    match alone {
                        true => times.with_dates_alone(at, &day, strict),
                        false => times.time_of_day(at, strict),
                    }
                })
            }
        }
    }

    /// Datetimes of an ISO 8601 format as the format to any precision
    /// reads them (its offset kept), with the precision of the format's
    /// own: none for any other format.
    fn any_precision(&self) -> Option<(Conversion, Precision)> {
        let Conversion::Datetime { format, offset, zone } = self else {
            return None;
        };
        let (own, suffix) = iso_shape(format)?;
        let wider = Conversion::Datetime {
            format: format!("{ISO_ANY_PRECISION}{suffix}"),
            offset: *offset,
            zone: zone.clone(),
        };
        Some((wider, own))
    }

    /// The datetimes of `text`, its values without a `:` dates alone, in
    /// the format `day`, at midnight; the rest as [`Self::time_of_day`]
    /// reads them. Each parse sees only its own values (nulls in place of
    /// the others), so that a strict one fails on a value of its own.
    fn with_dates_alone(&self, text: Expr, day: &str, strict: bool) -> Expr {
        let alone = text.clone().str().contains_literal(lit(":")).not();
        let nothing = || lit(NULL).cast(DataType::String);
        let midnight = when(alone.clone())
            .then(text.clone())
            .otherwise(nothing())
            .str()
            .to_date(opts_of(day, strict));
        let times = when(alone).then(nothing()).otherwise(text);
        coalesce(&[
            self.time_of_day(times, strict),
            midnight.cast(DataType::Datetime(TimeUnit::Microseconds, None)),
        ])
    }

    /// The datetimes of `text` (a [`Conversion::Datetime`]'s), in the
    /// format with its time of day: naive, in the zone where they carry
    /// offsets.
    fn time_of_day(&self, text: Expr, strict: bool) -> Expr {
        let ambiguous = lit(if strict { "raise" } else { "null" });
        match self {
            Conversion::Datetime {
                format,
                offset: false,
                ..
            } => iso_t(text, format).str().to_datetime(
                Some(TimeUnit::Microseconds),
                None,
                opts_of(format, strict),
                ambiguous,
            ),
            Conversion::Datetime {
                format,
                offset: true,
                zone,
            } => {
                // `Z` and ` UTC` are the offset +00:00 (`utc_as_offset`).
                let text = iso_t(text, format)
                    .str()
                    .replace(lit("(Z| UTC)$"), lit("+00:00"), false);
                let utc = text.str().to_datetime(
                    Some(TimeUnit::Microseconds),
                    Some(TimeZone::UTC),
                    opts_of(format, strict),
                    ambiguous,
                );
                let zone = zone.as_deref().unwrap_or("UTC");
                let local = match TimeZone::opt_try_new(Some(zone)) {
                    Ok(Some(tz)) => utc.dt().convert_time_zone(tz),
                    _ => utc,
                };
                local
                    .dt()
                    .replace_time_zone(None, lit("raise"), NonExistent::Raise)
            }
            _ => lit(NULL),
        }
    }
}

/// ISO 8601 datetimes written to the minute given their seconds
/// (`2025-01-31 09:30+01:00` as `2025-01-31 09:30:00+01:00`); other values
/// as they are.
fn with_seconds(text: Expr) -> Expr {
    let minute = r"^([0-9]{4}-[0-9]{1,2}-[0-9]{1,2}[T ][0-9]{1,2}:[0-9]{2})([^:0-9.].*)?$";
    text.str().replace(lit(minute), lit("${1}:00${2}"), false)
}

/// A batch's texts `at`, an empty one (a quoted `""` of an export that
/// quotes every field, or spaces alone) as no value: a date or a time has
/// no empty form to parse, and the strict parse refused it. A batch
/// without one is left as it is (a pass over its lengths, not a
/// comparison of every value).
fn without_empty(texts: &StringChunked, at: Expr) -> Expr {
    match texts.iter().flatten().any(str::is_empty) {
        true => no_empty(at),
        false => at,
    }
}

/// The texts `text`, an empty one as no value.
fn no_empty(text: Expr) -> Expr {
    when(text.clone().eq(lit("")))
        .then(lit(NULL).cast(DataType::String))
        .otherwise(text)
}

/// How a text is parsed in `format`: exactly, strictly or to null.
fn opts_of(format: &str, strict: bool) -> StrptimeOptions {
    StrptimeOptions {
        format: Some(format.into()),
        strict,
        exact: true,
        cache: true,
    }
}

/// The date part of a datetime format: what comes before its time of day,
/// without the `T` or space between (`%Y-%m-%d` of `%Y-%m-%dT%H:%M:%S`,
/// `%m/%d/%Y` of `%m/%d/%Y %I:%M %p`); none where the time comes first,
/// the date part names no year, month and day, or a `:` does not tell a
/// time of day from a date alone.
pub(crate) fn day_part(format: &str) -> Option<String> {
    let time = ["%H", "%I", "%T", "%R"]
        .iter()
        .filter_map(|t| format.find(t))
        .min()?;
    let day = format[..time].trim_end_matches([' ', 'T']);
    let whole =
        ["%Y", "%d"].iter().all(|d| day.contains(d)) && ["%m", "%b", "%B"].iter().any(|m| day.contains(m));
    // A time of day written with a `:` (`%H:%M`; `%T` and `%R` are so).
    let told_apart = !day.contains(':') && [":", "%T", "%R"].iter().any(|t| format[time..].contains(t));
    (whole && told_apart).then(|| day.to_string())
}

/// Values of an ISO format with `T` ([`DATETIME_FORMATS`]) with a space in
/// its place read as with the `T` ([`with_iso_t`]); other formats (a
/// declared `datetime_format`) as they are.
fn iso_t(text: Expr, format: &str) -> Expr {
    if !DATETIME_FORMATS.iter().any(|(f, _)| format.starts_with(f)) {
        return text;
    }
    // The first space of a trimmed ISO value is the one between date and time.
    text.str().replace(lit(" "), lit("T"), true)
}

/// A value of the column that is neither empty nor converted.
pub(crate) fn unconverted(column: &str, conv: &Conversion) -> Expr {
    let text = col(column);
    text.clone()
        .is_not_null()
        .and(text.str().strip_chars(lit(NULL)).neq(lit("")))
        .and(conv.expr(column, false).is_null())
}

/// A value of a text column of datetimes whose offset, after its time of
/// day, is not UTC's (`+01:00`, `-0500`). Values without an offset, or
/// that are no datetime, are left to the conversion.
pub(crate) fn not_in_utc(column: &str) -> Expr {
    let text = col(column).str().strip_chars(lit(NULL));
    let offset = r"[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?\s*[+-][0-9]{2}(:?[0-9]{2})?$";
    text.clone()
        .str()
        .contains(lit(offset), true)
        .and(text.str().contains(lit(r"[+-]00(:?00)?$"), true).not())
}

/// How a declared `bool` column's values are written (in any case): as
/// exporting tools write them (`TRUE`, `yes`, PostgreSQL's `t`, a
/// checkbox's `1`).
const TRUE_WORDS: [&str; 5] = ["true", "t", "yes", "y", "1"];

const FALSE_WORDS: [&str; 5] = ["false", "f", "no", "n", "0"];

/// How a declared column is converted from text; text stays text.
pub(crate) fn declared_conversion(src: &SourceInfo, sample: &[String], t: Type) -> Option<Conversion> {
    Some(match t {
        Type::Number => Conversion::Number(NumberForm::of(src)),
        Type::Bool => Conversion::Bool,
        Type::Date => match &src.read.date_format {
            Some(f) => Conversion::Date {
                format: f.value.clone(),
            },
            // ISO 8601 datetimes among the first values: their dates (an
            // export's dates at midnight, or instants whose day counts in
            // the `read.timezone` zone), as a Parquet or database column
            // of datetimes declared `date` is read.
            None if sample.iter().any(|v| looks_like_datetime(v.trim())) => {
                Conversion::DateOf(Box::new(declared_conversion(src, sample, Type::Datetime)?))
            }
            None => Conversion::Date {
                format: "%Y-%m-%d".to_string(),
            },
        },
        Type::Datetime => {
            let (format, offset) = match &src.read.datetime_format {
                Some(f) => (f.value.clone(), f.value.contains("%z") || f.value.contains("%:z")),
                // Guessed from the column's first values that are datetimes
                // (one that is not is then named); verified when read.
                None => {
                    let fitting: Vec<String> = sample
                        .iter()
                        .filter(|v| looks_like_datetime(v.trim()))
                        .cloned()
                        .collect();
                    // None among them: to the second, fractions allowed.
                    datetime_format(&fitting).unwrap_or((ISO_ANY_PRECISION.to_string(), false))
                }
            };
            Conversion::Datetime {
                format,
                offset,
                zone: src.read.timezone.as_ref().map(|z| z.value.clone()),
            }
        }
        Type::String | Type::Null | Type::Unknown | Type::Unusable(_) => return None,
    })
}

/// The columns of `lf` declared `date` or `datetime` that it holds as
/// texts (NDJSON's fields, Parquet's text columns), each with the
/// conversion a CSV column declared so takes, a datetime's format guessed
/// from its first `sample` rows (`schema`: `lf`'s, as its caller has it).
pub(crate) fn declared_text_conversions(
    src: &SourceInfo,
    lf: LazyFrame,
    schema: &Schema,
    sample: u32,
) -> PolarsResult<Vec<(String, Conversion)>> {
    let dated: Vec<(&String, Type)> = src
        .declared
        .iter()
        .filter(|(n, t)| matches!(t, Type::Date | Type::Datetime) && schema.get(n) == Some(&DataType::String))
        .map(|(n, t)| (n, *t))
        .collect();
    if dated.is_empty() {
        return Ok(Vec::new());
    }
    let first = lf
        .select(dated.iter().map(|(c, _)| col(c.as_str())).collect::<Vec<_>>())
        .slice(0, sample)
        .collect()?;
    let values = |c: &str| -> Vec<String> {
        let values = first.column(c).ok().and_then(|v| v.str().ok().cloned());
        values.map_or(Vec::new(), |v| v.iter().flatten().map(str::to_string).collect())
    };
    Ok(dated
        .into_iter()
        .filter_map(|(c, t)| Some((c.clone(), declared_conversion(src, &values(c), t)?)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_date_part_of_a_datetime_format() {
        for (format, day) in [
            ("%Y-%m-%dT%H:%M:%S", Some("%Y-%m-%d")),
            ("%Y-%m-%dT%H:%M:%S%.f%:z", Some("%Y-%m-%d")),
            ("%m/%d/%Y %I:%M %p", Some("%m/%d/%Y")),
            ("%d %b %Y %R", Some("%d %b %Y")),
            ("%H:%M %d.%m.%Y", None),
            ("%m/%d %H:%M", None),
            ("%Y-%m-%d %Hh", None),
            ("%Y-%m-%d %H%M", None),
            ("%Y%m%d %T", Some("%Y%m%d")),
        ] {
            assert_eq!(day_part(format).as_deref(), day, "{format}");
        }
    }
}
