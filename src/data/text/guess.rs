//! What a text column's values look like, from a sample of them: dates
//! and datetimes in ISO 8601 or as spreadsheets and CRMs export them,
//! numbers the reader left as text, and codes and spellings that make one
//! value two (leading zeros, padded values, one value in two cases).
//! Guesses are verified on every value by the reader's caller.

use std::collections::HashMap;

use polars::prelude::*;

use super::conversion::{Conversion, NumberForm};
use crate::data::SourceInfo;

/// What a sample of text values look like, if nine in ten or more look
/// alike. The guess is then verified on every value: one that does not fit
/// keeps the column text, and is named (`kpi::mixed_column`).
pub(crate) fn guess(values: &[String], src: &SourceInfo, zone: Option<String>) -> Option<Conversion> {
    let mostly = |ok: &dyn Fn(&str) -> bool| nine_in_ten(values.iter().map(|v| v.trim()), ok);
    // Without declared formats only ISO 8601 is guessed: a column whose
    // values do not start `YYYY-` is no date, and needs no parsing to say so.
    let custom = src.read.date_format.is_some() || src.read.datetime_format.is_some();
    let form = NumberForm::of(src);
    // Separators that make a plain number read otherwise (`1.234`).
    let separators = src.read.decimal_comma || src.read.thousands.is_some();
    // Numbers the reader left as text: spaces around some (read trimmed),
    // or a value that is no number (`N/A`), which is then named.
    if !separators && mostly(&is_plain_number) {
        return Some(Conversion::Number(NumberForm::default()));
    }
    if !custom && form.is_plain() && !mostly(&starts_like_iso_date) {
        return None;
    }
    let date_format = src
        .read
        .date_format
        .as_ref()
        .map_or("%Y-%m-%d", |f| f.value.as_str());
    let is_day = |v: &str| chrono::NaiveDate::parse_from_str(v, date_format).is_ok();
    let is_datetime = |v: &str| match &src.read.datetime_format {
        Some(f) => parses_datetime(v, &f.value),
        None => looks_like_datetime(v),
    };
    let fitting: Vec<String> = values.iter().filter(|v| is_datetime(v.trim())).cloned().collect();
    if fitting.is_empty() && mostly(&is_day) {
        return Some(Conversion::Date {
            format: date_format.to_string(),
        });
    }
    // Datetimes, some perhaps written as their date alone (midnight, as
    // exports write it: in the date part of a `datetime_format`), in the
    // format most of the sample has.
    let day_alone = match &src.read.datetime_format {
        Some(f) if src.read.date_format.is_none() => super::conversion::day_part(&f.value),
        _ => None,
    };
    let is_day_alone = |v: &str| match &day_alone {
        Some(day) => chrono::NaiveDate::parse_from_str(v, day).is_ok(),
        None => is_day(v),
    };
    let dt = match &src.read.datetime_format {
        _ if fitting.is_empty() || !mostly(&|v| is_datetime(v) || is_day_alone(v)) => None,
        Some(f) => Some((f.value.clone(), f.value.contains("%z") || f.value.contains("%:z"))),
        None => datetime_format(&fitting),
    };
    if let Some((format, offset)) = dt {
        return Some(Conversion::Datetime { format, offset, zone });
    }
    // Numbers written with a decimal comma (thousands then dots), with the
    // thousands separator, the currency symbol or the `%` the `read:`
    // options name.
    if !form.is_plain() && mostly(&|v| form.reads(v)) {
        return Some(Conversion::Number(form));
    }
    None
}

/// No character between thousands.
pub(crate) const NO_SEPARATOR: char = '\u{0}';

/// Dates as spreadsheets and CRMs export them: day and month in either
/// order with slashes, or dots or dashes, or the year first with slashes;
/// a month's name (`05-Jan-2025`, `Jan 5, 2025`, `5 January 2025`); a
/// year of two digits (`1/15/25`, as Excel writes short dates).
const DATE_FORMATS: [&str; 17] = [
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%d.%m.%Y",
    "%m/%d/%y",
    "%d/%m/%y",
    "%d.%m.%y",
    "%m-%d-%Y",
    "%d-%m-%Y",
    "%Y/%m/%d",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%d %b %Y",
    "%b %d %Y",
    "%b %d, %Y",
    "%d %B %Y",
    "%B %d %Y",
    "%B %d, %Y",
];

/// The times that follow such a date in a datetime (`1/5/2025 10:30 AM`).
const TIME_FORMATS: [&str; 4] = ["%H:%M", "%H:%M:%S", "%I:%M %p", "%I:%M:%S %p"];

/// The formats a text column's sample of dates is written in, unless the
/// `read:` option for them is given already (CSV and NDJSON alike).
pub(crate) fn date_hint(src: &SourceInfo, values: &[String]) -> Option<Vec<String>> {
    let formats = date_formats(values)?;
    let option = match formats.first().is_some_and(|f| is_datetime_format(f)) {
        true => &src.read.datetime_format,
        false => &src.read.date_format,
    };
    option.is_none().then_some(formats)
}

/// The format options (of the common ones) that read nine in ten or more
/// of a text column's sample: `date_format`s, or `datetime_format`s for
/// dates with a time (both day orders where every day is 12 or less).
pub(crate) fn date_formats(values: &[String]) -> Option<Vec<String>> {
    let values: Vec<&str> = values
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .collect();
    // Most text columns are told apart without parsing: 6 to 30 bytes, a
    // digit among them.
    let date_like = |v: &str| (6..=30).contains(&v.len()) && v.bytes().any(|b| b.is_ascii_digit());
    if !nine_in_ten(values.iter().copied(), date_like) {
        return None;
    }
    let reads =
        |f: &str, parses: &dyn Fn(&str, &str) -> bool| nine_in_ten(values.iter().copied(), |v| parses(v, f));
    let date = |v: &str, f: &str| {
        chrono::NaiveDate::parse_from_str(v, f).is_ok_and(|d| year_in_full(f, v, chrono::Datelike::year(&d)))
    };
    let fitting = fitting_formats(DATE_FORMATS.map(str::to_string).to_vec(), |f| reads(f, &date));
    if !fitting.is_empty() {
        return Some(fitting);
    }
    let datetime = |v: &str, f: &str| {
        chrono::NaiveDateTime::parse_from_str(v, f)
            .is_ok_and(|d| year_in_full(f, v, chrono::Datelike::year(&d)))
    };
    let datetimes = DATE_FORMATS
        .into_iter()
        .flat_map(|d| TIME_FORMATS.into_iter().map(move |t| format!("{d} {t}")))
        .collect();
    let fitting = fitting_formats(datetimes, |f| reads(f, &datetime));
    (!fitting.is_empty()).then_some(fitting)
}

/// Whether `value`, read in `format` as a day of `year`, writes that year
/// in four digits where the format's `%Y` asks for them: `%Y` also reads
/// `25` of `1/15/25`, as the year 25 (which `%y` reads as 2025).
pub(crate) fn year_in_full(format: &str, value: &str, year: i32) -> bool {
    !format.contains("%Y") || year >= 1000 || value.contains(&format!("{year:04}"))
}

/// The `formats` that read the values; a full month name's (`%B`, which
/// reads `Jan` too) only when its abbreviation's (`%b`) does not.
fn fitting_formats(formats: Vec<String>, reads: impl Fn(&str) -> bool) -> Vec<String> {
    let mut fitting: Vec<String> = Vec::new();
    for f in formats {
        let short = f.replace("%B", "%b");
        if !fitting.contains(&short) && reads(&f) {
            fitting.push(f);
        }
    }
    fitting
}

/// Whether a format reads a time of day as well as a date.
pub(crate) fn is_datetime_format(format: &str) -> bool {
    ["%H", "%I", "%M", "%T", "%R"].iter().any(|t| format.contains(t))
}

/// Whether one or more, and nine in ten or more, of `values` are `ok`.
/// Stops at the first value too many that is not: most columns are told
/// apart by their first few values.
pub(crate) fn nine_in_ten<'a>(
    values: impl ExactSizeIterator<Item = &'a str>,
    ok: impl Fn(&str) -> bool,
) -> bool {
    let of = values.len();
    let allowed = of / 10;
    let mut failed = 0;
    for v in values {
        if !ok(v) {
            failed += 1;
            if failed > allowed {
                return false;
            }
        }
    }
    of > failed
}

/// A number as CSV writes one (`-12`, `3.5`, `1e6`; not `inf` or `NaN`,
/// nor `+49`, which is more often a dialling code than a number), or a
/// negative one in parentheses as accounting formats write it (`(300.00)`:
/// a column of amounts with many refunds is still a column of amounts).
fn is_plain_number(v: &str) -> bool {
    let v = match v.strip_prefix('(').and_then(|v| v.strip_suffix(')')) {
        Some(inner) if inner.starts_with('-') => return false,
        Some(inner) => inner,
        None => v,
    };
    !v.starts_with('+')
        && v.bytes().any(|b| b.is_ascii_digit())
        && v.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
        && v.parse::<f64>().is_ok()
}

/// `YYYY-…`: four digits and a dash, as every ISO 8601 date starts (or a
/// date written without its zeros, `2025-1-5`, as some exports do).
fn starts_like_iso_date(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() >= 8 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-'
}

/// A value of one of the ISO 8601 datetime shapes.
pub(crate) fn looks_like_datetime(v: &str) -> bool {
    datetime_format(&[v.to_string()]).is_some()
}

/// The ISO 8601 shapes of datetimes, each with the precision of its time
/// of day, the date and the time apart by `T` (or a space, read as the
/// `T`: see [`with_iso_t`]); each is written with or without a UTC offset
/// ([`OFFSETS`]).
pub(crate) const DATETIME_FORMATS: [(&str, Precision); 3] = [
    ("%Y-%m-%dT%H:%M:%S", Precision::Second),
    (ISO_ANY_PRECISION, Precision::Fraction),
    ("%Y-%m-%dT%H:%M", Precision::Minute),
];

/// The UTC offsets of [`DATETIME_FORMATS`], as the suffixes of their
/// formats, and whether each is one.
const OFFSETS: [(&str, bool); 3] = [("", false), ("%:z", true), ("%z", true)];

/// The precision and offset suffix of a format [`datetime_format`] gives;
/// none for any other format (a `datetime_format` of the spec's own).
pub(crate) fn iso_shape(format: &str) -> Option<(Precision, &'static str)> {
    OFFSETS.iter().find_map(|&(suffix, _)| {
        let base = format.strip_suffix(suffix)?;
        let (_, precision) = DATETIME_FORMATS.iter().find(|(f, _)| *f == base)?;
        Some((*precision, suffix))
    })
}

/// The one format every value has: (format, whether it carries an offset);
/// none for no values. Values of several ISO 8601 precisions with the same
/// kind of offset (`09:30` beside `09:30:15` and `09:30:15.250`) have the
/// one that reads all of them once a time to the minute is given its
/// seconds ([`ISO_ANY_PRECISION`]): ISO 8601 allows each, and an export
/// that leaves out zero seconds, or rows edited by hand, mix them.
pub(crate) fn datetime_format(values: &[String]) -> Option<(String, bool)> {
    if values.is_empty() {
        return None;
    }
    for (base, _) in DATETIME_FORMATS {
        for (suffix, offset) in OFFSETS {
            let format = format!("{base}{suffix}");
            if values
                .iter()
                .all(|v| parses_datetime(&with_iso_t(v.trim()), &format))
            {
                return Some((format, offset));
            }
        }
    }
    OFFSETS.into_iter().find_map(|(suffix, offset)| {
        values
            .iter()
            .all(|v| {
                let v = with_iso_t(v.trim());
                DATETIME_FORMATS
                    .iter()
                    .any(|(base, _)| parses_datetime(&v, &format!("{base}{suffix}")))
            })
            .then(|| (format!("{ISO_ANY_PRECISION}{suffix}"), offset))
    })
}

/// The ISO 8601 format that reads a datetime to the second or to a
/// fraction of it, and one to the minute given its seconds.
pub(crate) const ISO_ANY_PRECISION: &str = "%Y-%m-%dT%H:%M:%S%.f";

/// How finely an ISO 8601 datetime gives its time of day.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub(crate) enum Precision {
    Minute,
    Second,
    Fraction,
}

/// The precision of an ISO 8601 datetime's time of day (its offset
/// aside); none for a value with no time of day or an odd one.
pub(crate) fn precision_of(v: &str) -> Option<Precision> {
    let v = v.trim();
    let b = v.as_bytes();
    // Most values are padded: told by their bytes 10, 13, 16 and 19.
    if b.len() >= 16 && matches!(b[10], b'T' | b' ') && b[13] == b':' {
        match (b.get(16), b.get(19)) {
            (Some(b':'), Some(b'.')) => return Some(Precision::Fraction),
            (Some(b':'), Some(c)) if !c.is_ascii_digit() => return Some(Precision::Second),
            (Some(b':'), None) => return Some(Precision::Second),
            (Some(c), _) if c.is_ascii_digit() || *c == b':' => {}
            _ => return Some(Precision::Minute),
        }
    }
    let time = v
        .get(8..)
        .and_then(|rest| rest.find(['T', ' ']).map(|at| &rest[at + 1..]))?;
    let clock = time.split(['Z', '+', '-', ' ']).next().unwrap_or(time);
    match (clock.matches(':').count(), clock.contains('.')) {
        (1, false) => Some(Precision::Minute),
        (2, false) => Some(Precision::Second),
        (2, true) => Some(Precision::Fraction),
        _ => None,
    }
}

/// A column of dates whose first time of day, `value`, comes after the
/// values its type was guessed from: datetimes in [`datetime_format`]'s
/// format of `value` (their dates at midnight); later values to another
/// precision are read as any column's are ([`precision_of`]).
pub(crate) fn later_datetimes(value: &str, zone: Option<String>) -> Option<Conversion> {
    let (format, offset) = datetime_format(&[value.to_string()])?;
    Some(Conversion::Datetime { format, offset, zone })
}

/// `2025-01-31 09:30` as `2025-01-31T09:30`: ISO 8601 allows either, and
/// one export (or one test's rows) may hold both.
pub(crate) fn with_iso_t(v: &str) -> std::borrow::Cow<'_, str> {
    match (v.get(..10), v.get(10..)) {
        (Some(date), Some(rest)) if rest.starts_with(' ') => format!("{date}T{}", &rest[1..]).into(),
        _ => v.into(),
    }
}

/// An ISO 8601 datetime of any of [`DATETIME_FORMATS`]' shapes written in
/// the one shape that reads them all (`2025-01-31 09:30` as
/// `2025-01-31T09:30:00`, an offset kept): a test's rows, written by hand,
/// may give one value to the minute and the next to the second.
pub(crate) fn iso_datetime_text(v: &str) -> Option<String> {
    let (format, offset) = datetime_format(&[v.to_string()])?;
    let v = with_iso_t(v.trim());
    Some(match offset {
        false => chrono::NaiveDateTime::parse_from_str(&v, &format)
            .ok()?
            .format("%Y-%m-%dT%H:%M:%S%.f")
            .to_string(),
        true => {
            let utc = utc_as_offset(&v);
            chrono::DateTime::parse_from_str(&utc, &format)
                .ok()?
                .format("%Y-%m-%dT%H:%M:%S%.f%:z")
                .to_string()
        }
    })
}

/// A datetime's UTC written as an offset: `Z` (ISO 8601) and ` UTC` (as
/// BigQuery exports its timestamps, `2025-01-31 09:30:00 UTC`) as `+00:00`.
pub(crate) fn utc_as_offset(v: &str) -> std::borrow::Cow<'_, str> {
    match v.strip_suffix('Z').or_else(|| v.strip_suffix(" UTC")) {
        Some(rest) => format!("{rest}+00:00").into(),
        None => v.into(),
    }
}

/// Whether `v` is a datetime in `format`, `Z` or ` UTC` read as the offset
/// `+00:00` where the format ends with one.
pub(crate) fn parses_datetime(v: &str, format: &str) -> bool {
    let v = match format.ends_with('z') {
        true => utc_as_offset(v),
        false => v.into(),
    };
    if format.contains('z') {
        chrono::DateTime::parse_from_str(&v, format).is_ok()
    } else {
        chrono::NaiveDateTime::parse_from_str(&v, format).is_ok()
    }
}

/// `1.234,50`, `-12,5`, `7`: digits, dots between groups of three, a comma before decimals.
/// `1,234.50`, `-12.5`, `7`: digits, `thousands` between groups of three,
/// `decimal_mark` before decimals.
pub(crate) fn is_grouped_number(v: &str, thousands: char, decimal_mark: char) -> bool {
    let v = v.strip_prefix('-').unwrap_or(v);
    let (int, frac) = v.split_once(decimal_mark).unwrap_or((v, ""));
    let groups: Vec<&str> = int.split(thousands).collect();
    !int.is_empty()
        && frac.chars().all(|c| c.is_ascii_digit())
        && groups
            .iter()
            .all(|g| !g.is_empty() && g.chars().all(|c| c.is_ascii_digit()))
        && groups.iter().skip(1).all(|g| g.len() == 3)
        && (groups.len() == 1 || groups[0].len() <= 3)
}

// Spellings that make one value two, and codes that numbers lose.

/// A value with spaces around it whose trimmed form is also a value
/// (`won ` beside `won`): one value in two spellings, two groups and a
/// comparison that misses one. Free text with a stray space is no such
/// case.
pub(crate) fn padded_twin(values: &[String]) -> Option<String> {
    let plain: std::collections::HashSet<&str> = values.iter().map(String::as_str).collect();
    values
        .iter()
        .find(|v| v.trim() != v.as_str() && !v.trim().is_empty() && plain.contains(v.trim()))
        .cloned()
}

/// Two values that differ only in their letters' case (`Won`, `won`), the
/// first seen first: one value in two spellings, as [`padded_twin`].
pub(crate) fn case_twin(values: &[String]) -> Option<(String, String)> {
    let mut seen: HashMap<String, &String> = HashMap::new();
    for v in values {
        match seen.get(&v.to_lowercase()) {
            Some(first) if *first != v => return Some(((*first).clone(), v.clone())),
            Some(_) => {}
            None => {
                seen.insert(v.to_lowercase(), v);
            }
        }
    }
    None
}

/// Integer columns nobody declared whose sampled values (`samples`, of
/// the header's columns at `columns`) include one written with a leading
/// zero: read as numbers, `00123` is 123 in every group label.
pub(crate) fn leading_zeros(
    src: &SourceInfo,
    inferred: &Schema,
    header: &[String],
    columns: &[usize],
    samples: &[Vec<String>],
) -> Vec<(String, String)> {
    let zero_padded = |v: &str| {
        let digits = v.strip_prefix('-').unwrap_or(v);
        digits.len() > 1 && digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit())
    };
    undeclared_of(src, inferred, header, columns, samples, DataType::is_integer)
        .filter_map(|(name, values)| {
            let example = values.iter().find(|v| zero_padded(v.trim()))?;
            Some((name.clone(), example.clone()))
        })
        .collect()
}

/// The columns nobody declared whose inferred type `is`, with the values
/// sampled of each.
fn undeclared_of<'a>(
    src: &'a SourceInfo,
    inferred: &'a Schema,
    header: &'a [String],
    columns: &'a [usize],
    samples: &'a [Vec<String>],
    is: fn(&DataType) -> bool,
) -> impl Iterator<Item = (&'a String, &'a Vec<String>)> + 'a {
    columns.iter().zip(samples).filter_map(move |(&k, values)| {
        let name = header.get(k)?;
        let typed = inferred.get(name.as_str()).is_some_and(is);
        let declared = src.declared.iter().any(|(d, _)| d == name);
        (typed && !declared).then_some((name, values))
    })
}

/// Float columns nobody declared of a `;`-separated file whose every value
/// is written as `.` between thousands writes it (`12.500`, `3.200`, `750`:
/// a dot followed by groups of three digits, none of more than three digits
/// before it): read with `.` as the decimal point, as they are, 12.500 is
/// 12.5. With an example of each.
pub(crate) fn dotted_thousands(
    src: &SourceInfo,
    inferred: &Schema,
    header: &[String],
    columns: &[usize],
    samples: &[Vec<String>],
) -> Vec<(String, String)> {
    let semicolons = src.read.delimiter.as_ref().is_some_and(|d| d.value == ';');
    if !semicolons || src.read.decimal_comma || src.read.thousands.is_some() {
        return Vec::new();
    }
    let grouped = |v: &str| {
        let digits = v.strip_prefix('-').unwrap_or(v);
        let mut groups = digits.split('.');
        let head = groups.next().unwrap_or("");
        (1..=3).contains(&head.len())
            && head.bytes().all(|b| b.is_ascii_digit())
            && groups.all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
    };
    undeclared_of(src, inferred, header, columns, samples, DataType::is_float)
        .filter_map(|(name, values)| {
            let values: Vec<&str> = values
                .iter()
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
                .collect();
            let dotted: Vec<&&str> = values.iter().filter(|v| v.contains('.')).collect();
            let all = dotted.len() >= 2 && values.iter().all(|v| grouped(v));
            dotted
                .first()
                .filter(|_| all)
                .map(|d| (name.clone(), d.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_datetimes_of_any_shape_are_written_in_one() {
        for (v, want) in [
            ("2025-01-11 08:00", "2025-01-11T08:00:00"),
            ("2025-01-11T08:00:30", "2025-01-11T08:00:30"),
            ("2025-01-11 08:00:30.25", "2025-01-11T08:00:30.250"),
            ("2025-01-11T08:00Z", "2025-01-11T08:00:00+00:00"),
            ("2025-01-11T08:00:00-05:00", "2025-01-11T08:00:00-05:00"),
        ] {
            assert_eq!(iso_datetime_text(v).as_deref(), Some(want), "{v}");
        }
        for v in [
            "2025-01-11",
            "01/11/2025 08:00",
            "08:00",
            "2025-01-11 25:00",
            "soon",
        ] {
            assert_eq!(iso_datetime_text(v), None, "{v}");
        }
    }

    #[test]
    fn decimal_comma_numbers() {
        for ok in ["1.234,50", "-12,5", "7", "1.234.567", "0,01", "999"] {
            assert!(is_grouped_number(ok, '.', ','), "{ok}");
        }
        for bad in ["1,234.50", "12.34", "abc", "", "1.23,4", "1..234"] {
            assert!(!is_grouped_number(bad, '.', ','), "{bad}");
        }
    }

    #[test]
    fn plain_numbers_are_what_csv_writes() {
        for v in [
            "7", "-12", "3.5", ".5", "1e6", "-2.5E-3", "007", "(300.00)", "(7)",
        ] {
            assert!(is_plain_number(v), "{v}");
        }
        for v in [
            "", "+49", "N/A", "inf", "NaN", "1,5", "$7", "1.2.3", "555-1234", "e", "-", "(-3)", "()", "(7",
        ] {
            assert!(!is_plain_number(v), "{v}");
        }
    }

    #[test]
    fn numbers_with_thousands_separators() {
        for ok in ["1,234.50", "-12.5", "7", "1,234,567", "0.01", "999", "12 345,6"] {
            let (sep, mark) = if ok.contains(' ') { (' ', ',') } else { (',', '.') };
            assert!(is_grouped_number(ok, sep, mark), "{ok}");
        }
        for bad in ["1.234,50", "1,23", "12,34.5", "abc", "", "1,,234", "1,2345"] {
            assert!(!is_grouped_number(bad, ',', '.'), "{bad}");
        }
    }

    #[test]
    fn datetime_shapes() {
        let v = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            datetime_format(&v(&["2025-01-31T23:30:00-05:00", "2025-02-01T00:10:00+01:00"])),
            Some(("%Y-%m-%dT%H:%M:%S%:z".into(), true))
        );
        // A space reads as the `T`, in one value or all of them.
        assert_eq!(
            datetime_format(&v(&["2025-01-31 23:30:00", "2025-02-01T00:10:00"])),
            Some(("%Y-%m-%dT%H:%M:%S".into(), false))
        );
        assert_eq!(with_iso_t("2025-01-31 23:30"), "2025-01-31T23:30");
        assert_eq!(with_iso_t("2025-01-31"), "2025-01-31");
        assert_eq!(
            datetime_format(&v(&["2025-01-31T23:30:00Z"])),
            Some(("%Y-%m-%dT%H:%M:%S%:z".into(), true))
        );
        assert_eq!(datetime_format(&v(&["2025-01-31", "x"])), None);
        // To the minute beside to the second: the format that reads both
        // (a time to the minute given its seconds); offsets must agree.
        assert_eq!(
            datetime_format(&v(&["2025-01-31 09:30", "2025-01-31T09:30:15.5"])),
            Some(("%Y-%m-%dT%H:%M:%S%.f".to_string(), false))
        );
        assert_eq!(
            datetime_format(&v(&["2025-01-31T09:30Z", "2025-01-31T09:30:15+01:00"])),
            Some(("%Y-%m-%dT%H:%M:%S%.f%:z".to_string(), true))
        );
        assert_eq!(
            datetime_format(&v(&["2025-01-31T09:30Z", "2025-01-31T09:30:15"])),
            None
        );
        assert_eq!(datetime_format(&[]), None);
        let precisions = [
            ("2025-01-31T09:30", Some(Precision::Minute)),
            ("2025-01-31 9:30", Some(Precision::Minute)),
            ("2025-01-31T09:30Z", Some(Precision::Minute)),
            ("2025-01-31T09:30-05:00", Some(Precision::Minute)),
            ("2025-01-31T09:30:00", Some(Precision::Second)),
            ("2025-01-31 09:30:00+01:00", Some(Precision::Second)),
            ("2025-1-31 9:30:00", Some(Precision::Second)),
            ("2025-01-31 09:30:00.5+01:00", Some(Precision::Fraction)),
            ("2025-01-31T9:30:00.250", Some(Precision::Fraction)),
            ("2025-01-31", None),
            ("09:30", None),
            ("", None),
            ("2025-01-31T0930", None),
        ];
        for (v, want) in precisions {
            assert_eq!(precision_of(v), want, "{v}");
        }
    }

    /// Every value of a datetime column is looked at: none makes it panic,
    /// whatever its bytes (characters of several bytes where the ISO
    /// shape has its separators and digits), and every value the guess
    /// reads as an ISO datetime has a precision, so that a batch holding
    /// it is read in the precision it needs.
    #[test]
    fn every_datetime_the_guess_reads_has_a_precision() {
        let pool = [
            "T",
            " ",
            "9",
            "09",
            ":",
            "30",
            ".",
            "250",
            "Z",
            "+01:00",
            "-05",
            "-",
            "é",
            "€",
            "",
            "2025-1-31",
        ];
        let mut next = crate::testing::random_below(0x2545_f491_4f6c_dd1d);
        let mut read = 0;
        for _ in 0..20_000 {
            // An ISO datetime to the minute, second or fraction, perhaps
            // with an offset, then perhaps one piece replaced by another.
            let mut v = vec!["2025-01-31", ["T", " "][next(2)], "09", ":", "30"];
            match next(3) {
                0 => {}
                1 => v.extend([":", "15"]),
                _ => v.extend([":", "15", ".", "250"]),
            }
            v.push(["", "Z", "+01:00", "-0500"][next(4)]);
            if next(2) == 0 {
                let at = next(v.len());
                v[at] = pool[next(pool.len())];
            }
            let v = v.concat();
            let precision = precision_of(&v);
            if datetime_format(std::slice::from_ref(&v)).is_some() {
                read += 1;
                assert!(precision.is_some(), "{v}");
            }
        }
        assert!(read > 10_000, "{read}");
    }
}
