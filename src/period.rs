//! Periods and their labels (LANGUAGE.md §4): `2025-01-31`, `2025-W05`,
//! `2025-01`, `2025-Q1`, `2025`, and with a fiscal year not starting in
//! January, `FY2025-Q1` and `FY2025` (named by the calendar year they end in).

use crate::keyword::keyword;
use crate::span::Span;
use crate::time::Date;

keyword!(
    /// The first day of a week (`monday`: ISO weeks).
    WeekStart, "week start", { "monday" => Monday, "sunday" => Sunday });
keyword!(
    /// Time bucket of evaluation.
    Grain, "grain", {
        "day" => Day, "week" => Week, "month" => Month, "quarter" => Quarter, "year" => Year, "all" => All });

/// How periods are cut: the first day of a week and the first month of the
/// fiscal year (LANGUAGE.md §4).
#[derive(Clone, Debug)]
pub struct Calendar {
    pub week_start: WeekStart,
    /// Month 1–12 that starts the fiscal year.
    pub fiscal_year_start: u32,
    pub span: Span,
}

impl Default for Calendar {
    fn default() -> Self {
        Calendar {
            week_start: WeekStart::Monday,
            fiscal_year_start: 1,
            span: Span::default(),
        }
    }
}

/// A span of whole days, both ends inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    pub start: Date,
    pub end: Date,
}

impl Period {
    pub fn days(self) -> i32 {
        self.end.0 - self.start.0 + 1
    }

    pub fn contains(self, d: Date) -> bool {
        self.start <= d && d <= self.end
    }
}

fn fiscal(cal: &Calendar) -> bool {
    cal.fiscal_year_start != 1
}

/// The period of `grain` that holds `d`.
pub fn period_of(d: Date, grain: Grain, cal: &Calendar) -> Period {
    let (y, m, _) = d.ymd();
    let first = |y: i32, m: u32| Date::from_ymd(y, m, 1).unwrap_or(d);
    match grain {
        Grain::Day | Grain::All => Period { start: d, end: d },
        Grain::Week => {
            let back = match cal.week_start {
                WeekStart::Monday => d.weekday() as i32 - 1,
                WeekStart::Sunday => d.weekday() as i32 % 7,
            };
            let start = d.add_days(-back);
            Period {
                start,
                end: start.add_days(6),
            }
        }
        Grain::Month => {
            let start = first(y, m);
            Period {
                start,
                end: start.add_months(1).add_days(-1),
            }
        }
        Grain::Quarter => {
            let fy = cal.fiscal_year_start;
            // Months since the fiscal year started, then back to the quarter start.
            let offset = (m as i32 - fy as i32).rem_euclid(12);
            let start = first(y, m).add_months(-(offset % 3));
            Period {
                start,
                end: start.add_months(3).add_days(-1),
            }
        }
        Grain::Year => {
            let fy = cal.fiscal_year_start;
            let offset = (m as i32 - fy as i32).rem_euclid(12);
            let start = first(y, m).add_months(-offset);
            Period {
                start,
                end: start.add_months(12).add_days(-1),
            }
        }
    }
}

/// How many days after a week's first day its Thursday falls: the day the
/// week's ISO label is of, and so the day that places the week in a year,
/// quarter or month (the fourth day of a Monday week, the fifth of a Sunday
/// week), so a week labelled `2026-W01` is in 2026 whichever day it starts.
pub fn thursday_offset(cal: &Calendar) -> i32 {
    match cal.week_start {
        WeekStart::Monday => 3,
        WeekStart::Sunday => 4,
    }
}

/// The day that places a period in a longer span: a week's Thursday, any
/// other period's first day.
pub fn anchor_day(p: Period, grain: Grain, cal: &Calendar) -> Date {
    if grain == Grain::Week {
        p.start.add_days(thursday_offset(cal))
    } else {
        p.start
    }
}

/// The label of the period of `grain` starting at `start`.
pub fn label(p: Period, grain: Grain, cal: &Calendar) -> String {
    let (y, m, _) = p.start.ymd();
    match grain {
        Grain::Day => p.start.to_string(),
        Grain::Week => {
            // A Sunday-start week takes the ISO label of its Monday.
            let monday = match cal.week_start {
                WeekStart::Monday => p.start,
                WeekStart::Sunday => p.start.add_days(1),
            };
            let (wy, w) = monday.iso_week();
            format!("{wy:04}-W{w:02}")
        }
        Grain::Month => format!("{y:04}-{m:02}"),
        Grain::Quarter if fiscal(cal) => {
            let (fy, q) = fiscal_quarter(p.start, cal);
            format!("FY{fy:04}-Q{q}")
        }
        Grain::Quarter => format!("{y:04}-Q{}", (m - 1) / 3 + 1),
        Grain::Year if fiscal(cal) => format!("FY{:04}", p.end.year()),
        Grain::Year => format!("{y:04}"),
        Grain::All => "all".to_string(),
    }
}

fn fiscal_quarter(d: Date, cal: &Calendar) -> (i32, u32) {
    let year = period_of(d, Grain::Year, cal);
    let (_, m, _) = d.ymd();
    let offset = (m as i32 - cal.fiscal_year_start as i32).rem_euclid(12) as u32;
    (year.end.year(), offset / 3 + 1)
}

/// Parses a period label into its grain and days. `None` when it is not a label
/// or names no real period (`2025-Q5`, `2025-W54`, `2025-02-30`).
pub fn parse_label(s: &str, cal: &Calendar) -> Option<(Grain, Period)> {
    read_label(s, cal).ok()
}

/// The label `s` was likely meant to be, written as labels are: letters
/// in capitals (`2025-q1`, `fy2025`), months, weeks and days in two digits
/// (`2025-1`, `2025-W5`, `2025-1-5`), parts joined by `-` (`2025 Q3`,
/// `2025/08`, `2025Q3`), the year first (`Q3 2025`, `08/2025`); `None`
/// when that names no period either, or `s` already is a label.
pub fn meant_label(s: &str) -> Option<String> {
    let mut upper = s.trim().to_ascii_uppercase().replace([' ', '/', '_', '.'], "-");
    // `2025Q3`, `2025W05`: the dash left out.
    let dash_left_out = match (upper.get(..4), upper.get(4..)) {
        (Some(year), Some(rest)) => digits(year, 4).is_some() && rest.starts_with(['Q', 'W']),
        _ => false,
    };
    if dash_left_out {
        upper.insert(4, '-');
    }
    let mut parts: Vec<&str> = upper.split('-').filter(|p| !p.is_empty()).collect();
    // `Q3-2025`, `08-2025`: the year last.
    if let [first, year] = parts[..] {
        if digits(year, 4).is_some() && digits(first, 4).is_none() && !first.starts_with("FY") {
            parts.swap(0, 1);
        }
    }
    let padded: Vec<String> = parts
        .into_iter()
        .enumerate()
        .map(|(i, part)| match (i, part.strip_prefix('W')) {
            (0, _) => part.to_string(),
            (_, Some(week)) if week.len() == 1 => format!("W0{week}"),
            _ if part.len() == 1 && part.bytes().all(|b| b.is_ascii_digit()) => format!("0{part}"),
            _ => part.to_string(),
        })
        .collect();
    let meant = padded.join("-");
    (meant != s.trim() && read_label(&meant, &Calendar::default()).is_ok()).then_some(meant)
}

/// The help for `s`, not a period label: the label meant when it nearly is
/// one, and how labels are written.
pub fn label_help(s: &str) -> String {
    const LABELS: &str =
        "write a period as 2025, 2025-Q3, 2025-08, 2025-W33, 2025-08-15, FY2025 or FY2025-Q1";
    let upper = s.to_ascii_uppercase();
    match meant_label(s) {
        Some(meant) => format!("did you mean `{meant}`? {LABELS}"),
        // Half years are no grain: their days are a range.
        None if upper.contains("H1") || upper.contains("H2") => format!(
            "a half year is no period label but a range of days: `{{from: 2025-01-01, to: 2025-06-30}}` in a spec, `--from 2025-01-01 --to 2025-06-30` on the command line; {LABELS}"
        ),
        None => LABELS.to_string(),
    }
}

/// Why `s`, written in the shape of a period label, names no period
/// (`2025-W53`: 2025 has 52 ISO weeks; `2025-02-29`: February 2025 has 28
/// days); `None` for a label that names one, or text of no label's shape.
pub fn why_not_a_label(s: &str) -> Option<String> {
    read_label(s, &Calendar::default()).err().flatten()
}

/// Why a text is not a period label: of no label's shape (`None`), or of
/// one that names no period, said.
type NotALabel = Option<String>;

/// A period label's grain and days, or why it is none: one reading for
/// [`parse_label`] and [`why_not_a_label`].
fn read_label(s: &str, cal: &Calendar) -> Result<(Grain, Period), NotALabel> {
    let s = s.trim();
    // `n` digits, else no label's shape.
    let number = |t: &str, n: usize| -> Result<u32, NotALabel> {
        digits(t, n).and_then(|d| d.parse().ok()).ok_or(None)
    };
    let quarters = || Some("a year has four quarters, Q1 to Q4".to_string());
    if let Some(rest) = s.strip_prefix("fy").or_else(|| s.strip_prefix("Fy")) {
        number(rest.split("-Q").next().unwrap_or_default(), 4)?;
        return Err(Some(format!("fiscal years are written FY{rest}")));
    }
    if let Some(rest) = s.strip_prefix("FY") {
        let (year, q) = match rest.split_once("-Q") {
            Some((y, q)) => (y, Some(q)),
            None => (rest, None),
        };
        let fy = number(year, 4)? as i32;
        // FY named by the calendar year it ends in.
        let start_year = if cal.fiscal_year_start == 1 { fy } else { fy - 1 };
        let start = Date::from_ymd(start_year, cal.fiscal_year_start, 1).ok_or(None)?;
        return match q {
            None => Ok((
                Grain::Year,
                Period {
                    start,
                    end: start.add_months(12).add_days(-1),
                },
            )),
            Some(q) => {
                let q = number(q, 1)? as i32;
                if !(1..=4).contains(&q) {
                    return Err(quarters());
                }
                let qs = start.add_months((q - 1) * 3);
                Ok((
                    Grain::Quarter,
                    Period {
                        start: qs,
                        end: qs.add_months(3).add_days(-1),
                    },
                ))
            }
        };
    }
    if let Some((y, q)) = s.split_once("-Q") {
        let (y, q) = (number(y, 4)? as i32, number(q, 1)?);
        if !(1..=4).contains(&q) {
            return Err(quarters());
        }
        let start = Date::from_ymd(y, (q - 1) * 3 + 1, 1).ok_or(None)?;
        return Ok((
            Grain::Quarter,
            Period {
                start,
                end: start.add_months(3).add_days(-1),
            },
        ));
    }
    if let Some((y, w)) = s.split_once("-W") {
        let (y, w) = (number(y, 4)? as i32, number(w, 2)?);
        let monday = Date::from_iso_week(y, w).ok_or_else(|| {
            let weeks = crate::time::iso_weeks_in_year(y);
            (w == 0 || w > weeks).then(|| format!("{y} has {weeks} ISO weeks, W01 to W{weeks}"))
        })?;
        let start = match cal.week_start {
            WeekStart::Monday => monday,
            WeekStart::Sunday => monday.add_days(-1),
        };
        return Ok((
            Grain::Week,
            Period {
                start,
                end: start.add_days(6),
            },
        ));
    }
    let months = || Some("months are 01 to 12".to_string());
    match s.len() {
        4 => {
            let y = number(s, 4)? as i32;
            let start = Date::from_ymd(y, 1, 1).ok_or(None)?;
            let end = Date::from_ymd(y, 12, 31).ok_or(None)?;
            Ok((Grain::Year, Period { start, end }))
        }
        7 => {
            let (y, m) = s.split_once('-').ok_or(None)?;
            let (y, m) = (number(y, 4)? as i32, number(m, 2)?);
            let start =
                Date::from_ymd(y, m, 1).ok_or_else(|| (!(1..=12).contains(&m)).then(months).flatten())?;
            Ok((
                Grain::Month,
                Period {
                    start,
                    end: start.add_months(1).add_days(-1),
                },
            ))
        }
        10 => match Date::parse(s) {
            Some(d) => Ok((Grain::Day, Period { start: d, end: d })),
            None => Err(why_no_day(s)),
        },
        _ => Err(None),
    }
}

/// Why `YYYY-MM-DD` digits name no day: its month, or its day past the
/// month's last.
fn why_no_day(s: &str) -> NotALabel {
    let number = |t: &str, n: usize| -> Option<u32> { digits(t, n)?.parse().ok() };
    let (y, m, d) = match s.split('-').collect::<Vec<_>>()[..] {
        [y, m, d] => (number(y, 4)? as i32, number(m, 2)?, number(d, 2)?),
        _ => return None,
    };
    if !(1..=12).contains(&m) {
        return Some("months are 01 to 12".to_string());
    }
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let days = crate::time::days_in_month(y, m);
    (d == 0 || d > days).then(|| format!("{} {y} has {days} days", MONTHS[m as usize - 1]))
}

/// The periods of `grain` from the one holding `from` to the one holding
/// `to`, in order.
pub fn periods_between(
    from: Date,
    to: Date,
    grain: Grain,
    cal: &Calendar,
) -> impl Iterator<Item = Period> + '_ {
    let next = move |p: &Period| Some(period_of(p.end.add_days(1), grain, cal));
    std::iter::successors(Some(period_of(from, grain, cal)), next).take_while(move |p| p.start <= to)
}

/// `n` periods of `grain` before `p`.
pub fn back(p: Period, n: u32, grain: Grain, cal: &Calendar) -> Period {
    (0..n).fold(p, |p, _| period_of(p.start.add_days(-1), grain, cal))
}

/// The same span one period earlier: the previous period of its grain, or a
/// range shifted back by its own length.
pub fn previous(p: Period, grain: Option<Grain>, cal: &Calendar) -> Period {
    match grain {
        Some(g) if g != Grain::All && g != Grain::Day => period_of(p.start.add_days(-1), g, cal),
        _ => {
            let len = p.days();
            Period {
                start: p.start.add_days(-len),
                end: p.start.add_days(-1),
            }
        }
    }
}

/// The same span a year earlier (29 February falls back to the 28th).
pub fn year_earlier(p: Period) -> Period {
    Period {
        start: p.start.add_months(-12),
        end: p.end.add_months(-12),
    }
}

/// The period a year before `p`, a period of `grain` when it has one: the
/// same month, quarter or ISO week number a year earlier (February 2024 with
/// its 29th for February 2025); the same dates a year earlier for a range,
/// or for a week 53 that the year before lacks.
pub fn year_before(p: Period, grain: Option<Grain>, cal: &Calendar) -> Period {
    grain
        .and_then(|g| same_period_last_year(p, g, cal))
        .unwrap_or_else(|| year_earlier(p))
}

/// The day of `last` (the period a year before `p`, of `grain`) as far into
/// it as `day` is into `p`: the same date a year earlier, the same weekday
/// of a week.
pub fn same_day_a_year_before(day: Date, p: Period, last: Period, grain: Option<Grain>) -> Date {
    match grain {
        Some(Grain::Week) => last.start.add_days(day.0 - p.start.0),
        _ => day.add_months(-12),
    }
}

/// The period of `grain` a year before `p`: the same month, quarter or
/// (fiscal) year; the same ISO week number, which week 53 may not have.
pub fn same_period_last_year(p: Period, grain: Grain, cal: &Calendar) -> Option<Period> {
    match grain {
        Grain::All => Some(year_earlier(p)),
        Grain::Day => Some(period_of(p.start.add_months(-12), grain, cal)),
        Grain::Week => {
            let (y, w) = anchor_day(p, grain, cal).iso_week();
            let monday = Date::from_iso_week(y - 1, w)?;
            Some(period_of(monday.add_days(3), grain, cal))
        }
        _ => Some(period_of(p.start.add_months(-12), grain, cal)),
    }
}

/// Grains from the shortest (`day`) to the longest (`all`).
pub fn rank(g: Grain) -> u8 {
    match g {
        Grain::Day => 0,
        Grain::Week => 1,
        Grain::Month => 2,
        Grain::Quarter => 3,
        Grain::Year => 4,
        Grain::All => 5,
    }
}

/// The period of `grain` one calendar `unit` before `p` (`prev(k, "year")`):
/// the same month, quarter or ISO week a year earlier, the month three
/// months earlier, … `None` when a period of `grain` is longer than `unit`.
pub fn calendar_back(p: Period, unit: Grain, grain: Grain, cal: &Calendar) -> Option<Period> {
    if grain == Grain::All || unit == Grain::All || rank(grain) > rank(unit) {
        return None;
    }
    if grain == unit {
        return Some(back(p, 1, grain, cal));
    }
    let months = match unit {
        Grain::Year => return same_period_last_year(p, grain, cal),
        Grain::Quarter => 3,
        Grain::Month => 1,
        // A week before a day.
        _ => return Some(period_of(p.start.add_days(-7), grain, cal)),
    };
    Some(period_of(
        anchor_day(p, grain, cal).add_months(-months),
        grain,
        cal,
    ))
}

/// The grain of which a range is exactly one period, if any.
pub fn grain_of(p: Period, cal: &Calendar) -> Option<Grain> {
    [Grain::Year, Grain::Quarter, Grain::Month, Grain::Week, Grain::Day]
        .into_iter()
        .find(|g| period_of(p.start, *g, cal) == p)
}

fn digits(s: &str, n: usize) -> Option<&str> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit())).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_nearly_written_are_told_their_label() {
        assert_eq!(meant_label("2025-q1").as_deref(), Some("2025-Q1"));
        assert_eq!(meant_label("fy2026-q4").as_deref(), Some("FY2026-Q4"));
        assert_eq!(meant_label("2025-w5").as_deref(), Some("2025-W05"));
        assert_eq!(meant_label("2025-1").as_deref(), Some("2025-01"));
        assert_eq!(meant_label("2025-1-5").as_deref(), Some("2025-01-05"));
        assert_eq!(meant_label(" 2025-01 ").as_deref(), None);
        assert_eq!(meant_label("2025-Q1"), None);
        assert_eq!(meant_label("2025-q5"), None);
        assert_eq!(meant_label("2025-2-30"), None);
        assert_eq!(meant_label("soon"), None);
        // Other separators, the dash left out, the year last.
        assert_eq!(meant_label("2025 Q3").as_deref(), Some("2025-Q3"));
        assert_eq!(meant_label("2025q3").as_deref(), Some("2025-Q3"));
        assert_eq!(meant_label("2025/08").as_deref(), Some("2025-08"));
        assert_eq!(meant_label("Q3 2025").as_deref(), Some("2025-Q3"));
        assert_eq!(meant_label("q3-2025").as_deref(), Some("2025-Q3"));
        assert_eq!(meant_label("8/2025").as_deref(), Some("2025-08"));
        assert_eq!(meant_label("2025/8/15").as_deref(), Some("2025-08-15"));
        assert_eq!(meant_label("W5 2025").as_deref(), Some("2025-W05"));
        // A US date has three parts, its year last: no guess.
        assert_eq!(meant_label("08/15/2025"), None);
        assert_eq!(meant_label("2025-H1"), None);
        assert_eq!(meant_label("20€5Q3"), None);
        assert!(label_help("2025-H1").contains("`--from 2025-01-01 --to 2025-06-30`"));
    }

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    /// A label of a period's shape that names none says why: weeks past a
    /// year's last (52 or 53), quarters past four, months past twelve, days
    /// past a month's last (leap years counted), a lowercase `fy`; text of
    /// no label's shape, and real labels, have no reason.
    #[test]
    fn a_label_that_names_no_period_says_why() {
        for (label, why) in [
            ("2025-W53", "2025 has 52 ISO weeks, W01 to W52"),
            ("2026-W54", "2026 has 53 ISO weeks, W01 to W53"),
            ("2026-W00", "2026 has 53 ISO weeks, W01 to W53"),
            ("2025-Q5", "a year has four quarters, Q1 to Q4"),
            ("FY2025-Q0", "a year has four quarters, Q1 to Q4"),
            ("2025-13", "months are 01 to 12"),
            ("2025-00-10", "months are 01 to 12"),
            ("2025-02-29", "February 2025 has 28 days"),
            ("2024-02-30", "February 2024 has 29 days"),
            ("2100-02-29", "February 2100 has 28 days"),
            ("2025-09-31", "September 2025 has 30 days"),
            ("fy2025", "fiscal years are written FY2025"),
        ] {
            assert_eq!(why_not_a_label(label).as_deref(), Some(why), "{label}");
        }
        let cal = Calendar::default();
        for fine in [
            "2026-W53",
            "2024-02-29",
            "2025-Q4",
            "FY2025-Q1",
            "2025-12",
            "2025",
        ] {
            assert!(parse_label(fine, &cal).is_some(), "{fine}");
            assert_eq!(why_not_a_label(fine), None, "{fine}");
        }
        for shapeless in ["banana", "2025-H1", "25-Q1", "2025-W5", "2025-1-1", "FY25"] {
            assert_eq!(why_not_a_label(shapeless), None, "{shapeless}");
        }
    }

    #[test]
    fn labels_round_trip() {
        let cal = Calendar::default();
        for (label_text, grain) in [
            ("2025-01-31", Grain::Day),
            ("2025-W05", Grain::Week),
            ("2020-W53", Grain::Week),
            ("2025-01", Grain::Month),
            ("2025-Q3", Grain::Quarter),
            ("2025", Grain::Year),
        ] {
            let (g, p) = parse_label(label_text, &cal).unwrap();
            assert_eq!(g, grain);
            assert_eq!(label(p, g, &cal), label_text);
            assert_eq!(period_of(p.start, g, &cal), p);
        }
        // Years before 1000 (a sentinel `0001-01-01` in a warehouse's
        // table) keep four digits, as ISO 8601 and day labels write them.
        for (label_text, grain) in [
            ("0001", Grain::Year),
            ("0001-01", Grain::Month),
            ("0999-Q4", Grain::Quarter),
        ] {
            let (g, p) = parse_label(label_text, &cal).unwrap();
            assert_eq!((g, label(p, g, &cal)), (grain, label_text.to_string()));
        }
        assert!(parse_label("2025-Q5", &cal).is_none());
        assert!(parse_label("2025-W53", &cal).is_none());
    }

    #[test]
    fn fiscal_years_end_in_their_name() {
        let cal = Calendar {
            fiscal_year_start: 7,
            ..Calendar::default()
        };
        let (_, fy) = parse_label("FY2025", &cal).unwrap();
        assert_eq!((fy.start, fy.end), (d("2024-07-01"), d("2025-06-30")));
        let (_, q1) = parse_label("FY2025-Q1", &cal).unwrap();
        assert_eq!((q1.start, q1.end), (d("2024-07-01"), d("2024-09-30")));
        let q = period_of(d("2025-02-10"), Grain::Quarter, &cal);
        assert_eq!(label(q, Grain::Quarter, &cal), "FY2025-Q3");
        assert_eq!(
            label(period_of(d("2025-07-01"), Grain::Year, &cal), Grain::Year, &cal),
            "FY2026"
        );
    }
}
