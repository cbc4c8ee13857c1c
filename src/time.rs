//! Civil dates and times: days (or microseconds) since 1970-01-01, the
//! representation Polars and Arrow use for `Date` and `Datetime[us]`, so a
//! value crosses into a query as an integer. The calendar arithmetic is
//! chrono's (proleptic Gregorian, ISO 8601 weeks).

use std::fmt;

use chrono::{Datelike, Months, NaiveDate};

/// A calendar date, as days since 1970-01-01.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub i32);

/// A date and time of day, as microseconds since 1970-01-01T00:00:00 (no time zone).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime(pub i64);

pub const MICROS_PER_DAY: i64 = 86_400_000_000;

impl Date {
    fn of(d: NaiveDate) -> Date {
        Date(d.to_epoch_days())
    }

    fn naive(self) -> NaiveDate {
        // Out of chrono's range (±262,000 years): the nearest representable day.
        NaiveDate::from_epoch_days(self.0).unwrap_or(if self.0 < 0 {
            NaiveDate::MIN
        } else {
            NaiveDate::MAX
        })
    }

    /// `None` for an impossible date such as 2025-02-30.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        NaiveDate::from_ymd_opt(year, month, day).map(Date::of)
    }

    pub fn ymd(self) -> (i32, u32, u32) {
        let d = self.naive();
        (d.year(), d.month(), d.day())
    }

    pub fn year(self) -> i32 {
        self.naive().year()
    }

    pub fn month(self) -> u32 {
        self.naive().month()
    }

    /// ISO weekday: Monday 1 … Sunday 7.
    pub fn weekday(self) -> u32 {
        self.naive().weekday().number_from_monday()
    }

    pub fn add_days(self, n: i32) -> Date {
        Date(self.0.saturating_add(n))
    }

    /// The same day `n` months later, clamped to the month's last day.
    pub fn add_months(self, n: i32) -> Date {
        let d = self.naive();
        let moved = if n >= 0 {
            d.checked_add_months(Months::new(n.unsigned_abs()))
        } else {
            d.checked_sub_months(Months::new(n.unsigned_abs()))
        };
        moved.map_or(self, Date::of)
    }

    /// ISO 8601 week-numbering year and week.
    pub fn iso_week(self) -> (i32, u32) {
        let w = self.naive().iso_week();
        (w.year(), w.week())
    }

    /// Monday of ISO week `week` of `year`.
    pub fn from_iso_week(year: i32, week: u32) -> Option<Date> {
        NaiveDate::from_isoywd_opt(year, week, chrono::Weekday::Mon).map(Date::of)
    }

    /// `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let y = s.get(0..4)?.parse().ok()?;
        let m = s.get(5..7)?.parse().ok()?;
        let d = s.get(8..10)?.parse().ok()?;
        Date::from_ymd(y, m, d)
    }

    /// The days a date written otherwise than `YYYY-MM-DD` may mean, as
    /// people write dates: `20250115`; `01/15/2025` or `1/15/25` (month
    /// first, as in the US) or `15.01.2025` (day first, as in Europe), read as the
    /// only order that names a day; both when both do (`01/02/2025`: the
    /// month-first reading first). None when it is no date either way.
    pub fn meant(s: &str) -> Vec<Date> {
        let s = s.trim();
        let number = |t: &str| {
            t.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| t.parse::<u32>().ok())
                .flatten()
        };
        if s.len() == 8 {
            let ymd = (
                s.get(..4).and_then(number),
                s.get(4..6).and_then(number),
                s.get(6..).and_then(number),
            );
            if let (Some(y), Some(m), Some(d)) = ymd {
                return Date::from_ymd(y as i32, m, d).into_iter().collect();
            }
        }
        let parts: Vec<&str> = s.split(['/', '.', '-']).collect();
        let [a, b, y] = parts[..] else { return Vec::new() };
        // A year of two digits as a `%y` date format reads it (chrono's
        // rule): 00–69 are 2000–2069, 70–99 are 1970–1999 (`1/15/25`,
        // Excel's short date).
        let year = match y.len() {
            4 => number(y),
            2 => number(y).map(|y| if y < 70 { 2000 + y } else { 1900 + y }),
            _ => None,
        };
        let (Some(a), Some(b), Some(y)) = (number(a), number(b), year) else {
            return Vec::new();
        };
        let day_first = s.contains('.');
        let readings = match day_first {
            true => [(b, a), (a, b)],
            false => [(a, b), (b, a)],
        };
        let mut out: Vec<Date> = Vec::new();
        for (m, d) in readings {
            if let Some(date) = Date::from_ymd(y as i32, m, d).filter(|d| !out.contains(d)) {
                out.push(date);
            }
        }
        out
    }

    pub fn at_midnight(self) -> DateTime {
        DateTime(i64::from(self.0) * MICROS_PER_DAY)
    }
}

/// "Did you mean …?" for a date written as people write dates (see
/// [`Date::meant`]); `None` when it is no date either way.
pub fn meant_date_help(s: &str) -> Option<String> {
    match Date::meant(s)[..] {
        [one] => Some(format!("did you mean `{one}`?")),
        [a, b] => Some(format!(
            "did you mean `{a}` or `{b}`? (the order of month and day cannot be told)"
        )),
        _ => None,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl DateTime {
    /// `YYYY-MM-DDTHH:MM[:SS[.ffffff]]` (a space may stand for the `T`).
    pub fn parse(s: &str) -> Option<DateTime> {
        let date = Date::parse(s.get(0..10)?)?;
        let rest = s.get(10..)?;
        if rest.is_empty() {
            return Some(date.at_midnight());
        }
        let rest = rest.strip_prefix('T').or_else(|| rest.strip_prefix(' '))?;
        let mut parts = rest.splitn(3, ':');
        let h: i64 = parse_2(parts.next()?)?;
        let mi: i64 = parse_2(parts.next()?)?;
        let (sec, micros) = match parts.next() {
            None => (0, 0),
            Some(s) => {
                let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
                let sec: i64 = parse_2(whole)?;
                if !frac.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 9 {
                    return None;
                }
                let padded = format!("{frac:0<6}");
                (sec, padded.get(0..6)?.parse::<i64>().ok()?)
            }
        };
        if h > 23 || mi > 59 || sec > 59 {
            return None;
        }
        let secs = h * 3600 + mi * 60 + sec;
        Some(DateTime(date.at_midnight().0 + secs * 1_000_000 + micros))
    }

    pub fn date(self) -> Date {
        Date(self.0.div_euclid(MICROS_PER_DAY) as i32)
    }
}

fn parse_2(s: &str) -> Option<i64> {
    if s.len() != 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let date = self.date();
        let micros = self.0.rem_euclid(MICROS_PER_DAY);
        let secs = micros / 1_000_000;
        let frac = micros % 1_000_000;
        write!(
            f,
            "{date}T{:02}:{:02}:{:02}",
            secs / 3600,
            (secs / 60) % 60,
            secs % 60
        )?;
        // Milliseconds or microseconds, as `kpi eval` writes the values of
        // its outputs (chrono's `%.f`): `.250`, `.000250`.
        match frac {
            0 => {}
            _ if frac % 1000 == 0 => write!(f, ".{:03}", frac / 1000)?,
            _ => write!(f, ".{frac:06}")?,
        }
        Ok(())
    }
}

pub fn days_in_month(year: i32, month: u32) -> u32 {
    let first = NaiveDate::from_ymd_opt(year, month, 1);
    let next = first.and_then(|d| d.checked_add_months(Months::new(1)));
    match (first, next) {
        (Some(a), Some(b)) => (b - a).num_days() as u32,
        _ => 0,
    }
}

/// 52 or 53.
pub fn iso_weeks_in_year(year: i32) -> u32 {
    // December 28th is always in the year's last ISO week.
    NaiveDate::from_ymd_opt(year, 12, 28).map_or(52, |d| d.iso_week().week())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_written_as_people_write_them_are_read_both_ways() {
        let meant = |s: &str| Date::meant(s).iter().map(Date::to_string).collect::<Vec<_>>();
        assert_eq!(meant("20250115"), ["2025-01-15"]);
        assert_eq!(meant("01/15/2025"), ["2025-01-15"]);
        assert_eq!(meant("15/01/2025"), ["2025-01-15"]);
        assert_eq!(meant("15.01.2025"), ["2025-01-15"]);
        assert_eq!(meant("01/02/2025"), ["2025-01-02", "2025-02-01"]);
        assert_eq!(meant("01.02.2025"), ["2025-02-01", "2025-01-02"]);
        assert_eq!(meant("05/05/2025"), ["2025-05-05"]);
        assert_eq!(meant("1/15/25"), ["2025-01-15"]);
        assert_eq!(meant("15.01.99"), ["1999-01-15"]);
        assert_eq!(meant("15.01.69"), ["2069-01-15"]);
        assert_eq!(meant("15.01.70"), ["1970-01-15"]);
        assert!(meant("1/15/025").is_empty());
        assert!(meant("13/13/2025").is_empty());
        assert!(meant("2025/01/15").is_empty());
        assert!(meant("20251315").is_empty());
        assert!(meant("soon").is_empty());
    }

    #[test]
    fn civil_round_trip() {
        for (y, m, d, days) in [(1970, 1, 1, 0), (2000, 2, 29, 11_016), (2025, 1, 31, 20_119)] {
            let date = Date::from_ymd(y, m, d).unwrap();
            assert_eq!(date.0, days);
            assert_eq!(date.ymd(), (y, m, d));
        }
        assert_eq!(Date::from_ymd(2025, 2, 29), None);
    }

    #[test]
    fn every_day_of_two_centuries_round_trips() {
        let (first, last) = (
            Date::parse("1900-01-01").unwrap(),
            Date::parse("2100-12-31").unwrap(),
        );
        let mut weekday = first.weekday();
        for n in first.0..=last.0 {
            let (y, m, d) = Date(n).ymd();
            assert_eq!(Date::from_ymd(y, m, d), Some(Date(n)));
            assert_eq!(Date(n).weekday(), weekday);
            weekday = weekday % 7 + 1;
        }
        // 1900 is not a leap year, 2000 is.
        assert_eq!(days_in_month(1900, 2), 28);
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(
            Date::parse("2025-01-31").unwrap().add_months(1),
            Date::parse("2025-02-28").unwrap()
        );
        assert_eq!(
            Date::parse("2024-03-31").unwrap().add_months(-1),
            Date::parse("2024-02-29").unwrap()
        );
    }

    #[test]
    fn iso_weeks() {
        // 2020 has 53 ISO weeks; 2021-01-03 still belongs to 2020-W53.
        assert_eq!(Date::parse("2021-01-03").unwrap().iso_week(), (2020, 53));
        assert_eq!(Date::parse("2021-01-04").unwrap().iso_week(), (2021, 1));
        assert_eq!(Date::parse("2024-12-30").unwrap().iso_week(), (2025, 1));
        assert_eq!(iso_weeks_in_year(2020), 53);
        assert_eq!(iso_weeks_in_year(2025), 52);
        assert_eq!(Date::from_iso_week(2025, 1), Date::parse("2024-12-30"));
    }

    #[test]
    fn datetimes() {
        let t = DateTime::parse("2025-01-31T09:30:15.25").unwrap();
        assert_eq!(t.to_string(), "2025-01-31T09:30:15.250");
        let t = DateTime::parse("2025-01-31T09:30:15.00025").unwrap();
        assert_eq!(t.to_string(), "2025-01-31T09:30:15.000250");
        let t = DateTime::parse("2025-01-31T09:30:15").unwrap();
        assert_eq!(t.to_string(), "2025-01-31T09:30:15");
        assert_eq!(DateTime::parse("2025-01-31T24:00"), None);
    }
}
