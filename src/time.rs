//! Civil dates and times without a calendar library: days since 1970-01-01
//! in the proleptic Gregorian calendar.

use std::fmt;

/// A calendar date, as days since 1970-01-01.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub i32);

/// A date and time of day, as microseconds since 1970-01-01T00:00:00 (no time zone).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime(pub i64);

pub const MICROS_PER_DAY: i64 = 86_400_000_000;

impl Date {
    /// `None` for an impossible date such as 2025-02-30.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        // Howard Hinnant's days_from_civil.
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = month as i32;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i32 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Some(Date(era * 146_097 + doe - 719_468))
    }

    pub fn ymd(self) -> (i32, u32, u32) {
        let z = self.0 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let y = yoe + era * 400;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        (if m <= 2 { y + 1 } else { y }, m, d)
    }

    pub fn year(self) -> i32 {
        self.ymd().0
    }

    pub fn month(self) -> u32 {
        self.ymd().1
    }

    /// ISO weekday: Monday 1 … Sunday 7.
    pub fn weekday(self) -> u32 {
        // 1970-01-01 was a Thursday.
        ((self.0 + 3).rem_euclid(7) + 1) as u32
    }

    pub fn add_days(self, n: i32) -> Date {
        Date(self.0.saturating_add(n))
    }

    /// The same day `n` months later, clamped to the month's last day.
    pub fn add_months(self, n: i32) -> Date {
        let (y, m, d) = self.ymd();
        let total = y * 12 + (m as i32 - 1) + n;
        let (ny, nm) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u32);
        let nd = d.min(days_in_month(ny, nm));
        Date::from_ymd(ny, nm, nd).unwrap_or(self)
    }

    /// ISO 8601 week-numbering year and week.
    pub fn iso_week(self) -> (i32, u32) {
        let thursday = self.add_days(4 - self.weekday() as i32);
        let year = thursday.year();
        let jan1 = Date::from_ymd(year, 1, 1).unwrap_or(thursday);
        (year, ((thursday.0 - jan1.0) / 7 + 1) as u32)
    }

    /// Monday of ISO week `week` of `year`.
    pub fn from_iso_week(year: i32, week: u32) -> Option<Date> {
        let jan4 = Date::from_ymd(year, 1, 4)?;
        let week1 = jan4.add_days(1 - jan4.weekday() as i32);
        let weeks = iso_weeks_in_year(year);
        if week == 0 || week > weeks {
            return None;
        }
        Some(week1.add_days((week as i32 - 1) * 7))
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

    pub fn at_midnight(self) -> DateTime {
        DateTime(i64::from(self.0) * MICROS_PER_DAY)
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
        if frac != 0 {
            let s = format!("{frac:06}");
            write!(f, ".{}", s.trim_end_matches('0'))?;
        }
        Ok(())
    }
}

pub fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// 52 or 53.
pub fn iso_weeks_in_year(year: i32) -> u32 {
    let p = |y: i32| (y + y.div_euclid(4) - y.div_euclid(100) + y.div_euclid(400)).rem_euclid(7);
    if p(year) == 4 || p(year - 1) == 3 {
        53
    } else {
        52
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(t.to_string(), "2025-01-31T09:30:15.25");
        assert_eq!(DateTime::parse("2025-01-31T24:00"), None);
    }
}
