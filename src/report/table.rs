//! KPI results as people and programs read them: numbers formatted by unit
//! for people and as raw values for programs, a result as a table of cells,
//! and the cells every text format is written from (`text` writes them).

use std::fmt::Write as _;

use super::text::TextFormat;
use crate::check::types::Type;
use crate::spec::model::Unit;

/// A value of an output cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(Option<String>),
    Number(Option<f64>),
}

/// How a number column reads.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct NumberFormat {
    pub unit: Option<Unit>,
    pub decimals: Option<u32>,
    /// A change of a percentage, in percentage points (`+5.0 pp`).
    pub points: bool,
    /// A count whatever its unit (its measure is `count` or `count_distinct`).
    pub count: bool,
}

impl NumberFormat {
    pub fn new(unit: Option<Unit>, decimals: Option<u32>) -> NumberFormat {
        NumberFormat {
            unit,
            decimals,
            points: false,
            count: false,
        }
    }

    /// Counts are whole numbers: written as integers in JSON and Parquet.
    pub fn integer(&self) -> bool {
        (self.count || self.unit == Some(Unit::Count)) && !self.points
    }

    pub fn format(&self, x: Option<f64>) -> String {
        match (x, self.points) {
            (Some(x), true) => {
                let d = self.decimals.unwrap_or(1) as usize;
                let sign = if x > 0.0 { "+" } else { "" };
                format!("{sign}{} pp", thousands(x * 100.0, d))
            }
            _ => format_value(x, self.unit, self.decimals),
        }
    }

    /// The format of a whole column of `values`: a number without a unit
    /// or decimals takes two decimals when any of its values has a
    /// fraction and none otherwise, the same for every row, so that
    /// `2,000.00` stands above `1,200.50` (by value it read `2,000`).
    pub fn for_column(self, mut values: impl Iterator<Item = f64>) -> NumberFormat {
        let unitless = matches!(self.unit, None | Some(Unit::Number));
        if !unitless || self.decimals.is_some() || self.points {
            return self;
        }
        let fraction = values.any(|x| x.is_finite() && x.fract() != 0.0);
        NumberFormat {
            decimals: Some(if fraction { 2 } else { 0 }),
            ..self
        }
    }

    /// A difference of two values as people read it, signed: `+1,235`,
    /// `-0.30` (`+0` for none).
    pub fn format_difference(&self, delta: f64) -> String {
        let d = self.format(Some(delta));
        match d.starts_with('-') {
            true => d,
            false => format!("+{d}"),
        }
    }
}

/// A float as CSV and JSON carry it: the shortest text that reads back as
/// the value rounded to 15 significant digits, so `0.1 + 0.2` is `0.3`,
/// not `0.30000000000000004` (noise of the arithmetic, not of the data);
/// a whole number up to 2^53 as itself.
pub fn raw_number(x: f64) -> f64 {
    if x == 0.0 {
        // -0 (a negative value rounded to nothing) is written 0.
        return 0.0;
    }
    if is_exact_whole(x) {
        return x;
    }
    format!("{x:.14e}").parse().unwrap_or(x)
}

/// A whole number a double holds exactly with every smaller one (up to
/// 2^53): counts, sums of whole amounts and ids, most values, which are
/// their own digits. Rounded to 15 digits, a 16-digit id (`max(order_id)`)
/// read `1234567890123460` where the table showed `…456`.
fn is_exact_whole(x: f64) -> bool {
    x.fract() == 0.0 && x.abs() <= 9_007_199_254_740_992.0
}

/// Writes [`raw_number`] as `{}` writes it, without making it: whole
/// numbers (most values) as integers, several times faster than a float's
/// shortest digits, and others as their 15 significant digits without
/// trailing zeros, which is what `{}` writes of the number they read as
/// (any 15 digits read back as themselves), without reading them.
pub(super) fn write_raw_number(out: &mut String, x: f64) {
    if x == 0.0 {
        // -0 (a negative value rounded to nothing) is written 0.
        out.push('0');
        return;
    }
    if is_exact_whole(x) {
        let _ = write!(out, "{}", x as i64);
        return;
    }
    // On the stack: `-d.dddddddddddddde-308` is 22 bytes.
    let mut text = [0u8; 32];
    let mut at = std::io::Cursor::new(&mut text[..]);
    let written =
        std::io::Write::write_fmt(&mut at, format_args!("{x:.14e}")).map(|()| at.position() as usize);
    let digits = written
        .ok()
        .and_then(|len| std::str::from_utf8(&text[..len]).ok())
        .and_then(|s| {
            let (mantissa, exponent) = s.split_once('e')?;
            Some((mantissa, exponent.parse::<i32>().ok()?))
        });
    // Near the largest float, 15 digits may read as infinity.
    let Some((mantissa, exponent)) = digits.filter(|_| x.abs() < 1e308) else {
        let _ = write!(out, "{}", raw_number(x));
        return;
    };
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    out.push_str(sign);
    if exponent < 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-exponent - 1) as usize));
        out.push_str(digits);
        return;
    }
    let whole = exponent as usize + 1;
    if digits.len() <= whole {
        out.push_str(digits);
        out.extend(std::iter::repeat_n('0', whole - digits.len()));
    } else {
        out.push_str(&digits[..whole]);
        out.push('.');
        out.push_str(&digits[whole..]);
    }
}

/// How many units of a date or datetime KPI's computed value (days, or
/// microseconds, since 1970) make a day; `None` for a KPI of another type.
pub fn units_per_day(ty: Type) -> Option<f64> {
    match ty {
        Type::Date => Some(1.0),
        Type::Datetime => Some(crate::time::MICROS_PER_DAY as f64),
        _ => None,
    }
}

/// A date or datetime KPI's computed value as its day or instant; `None`
/// for a KPI of another type.
pub fn temporal_text(ty: Type, x: f64) -> Option<String> {
    match ty {
        Type::Date => Some(crate::time::Date(x as i32).to_string()),
        Type::Datetime => Some(crate::time::DateTime(x as i64).to_string()),
        _ => None,
    }
}

/// Rows of an evaluation, independent of the engine that computed them.
#[derive(Clone, Debug)]
pub struct ResultTable {
    pub columns: Vec<String>,
    /// How each number column reads (`None` for dimensions and periods).
    pub formats: Vec<Option<NumberFormat>>,
    pub rows: Vec<Vec<Cell>>,
}

/// `1234567.8` → `1,234,568` (with `decimals` digits after the point),
/// rounded as `round` rounds: half away from zero, as the number is
/// written (`2.5` shows `3`, where `{:.0}` rounds the double to even, `2`).
pub fn thousands(x: f64, decimals: usize) -> String {
    let x = crate::check::arithmetic::round_as_written(x, decimals.min(30) as i32);
    // A whole number (counts, sums of whole amounts: most cells) has these
    // digits exactly; `{:.N}` finds them through its exact float algorithm,
    // which for many took its slow bignum path (half a terminal table's time).
    let s = if x.fract() == 0.0 && x.abs() < 1e15 {
        let mut s = (x.abs() as u64).to_string();
        if decimals > 0 {
            s.push('.');
            s.extend(std::iter::repeat_n('0', decimals));
        }
        s
    } else {
        format!("{:.*}", decimals, x.abs())
    };
    let (int, frac) = s
        .split_once('.')
        .map_or((s.as_str(), None), |(i, f)| (i, Some(f)));
    let mut out = String::with_capacity(s.len() + int.len() / 3 + 1);
    // No sign on a value that rounds to zero.
    if x < 0.0 && s.bytes().any(|c| c.is_ascii_digit() && c != b'0') {
        out.push('-');
    }
    out.push_str(&crate::diagnostic::grouped(int));
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// How far a percentage is from its target as a person reads it: in
/// points (`6.7 pp`; `6.7%` reads as a share of the target). `None` for a
/// KPI of another unit, whose gap reads as its values do.
pub fn format_gap(x: Option<f64>, unit: Option<Unit>, decimals: Option<u32>) -> Option<String> {
    match (x, unit) {
        (Some(x), Some(Unit::Percent)) => Some(format!(
            "{} pp",
            thousands(x * 100.0, decimals.unwrap_or(1) as usize)
        )),
        _ => None,
    }
}

/// A number as a person reads it, by the KPI's unit.
pub fn format_value(x: Option<f64>, unit: Option<Unit>, decimals: Option<u32>) -> String {
    let Some(x) = x else { return "–".to_string() };
    let d = |default: u32| decimals.unwrap_or(default) as usize;
    match unit {
        Some(Unit::Percent) => format!("{}%", thousands(x * 100.0, d(1))),
        Some(Unit::Currency) | Some(Unit::Count) => thousands(x, d(0)),
        Some(Unit::Days) | Some(Unit::Hours) | Some(Unit::Minutes) => thousands(x, d(1)),
        Some(Unit::Ratio) => thousands(x, d(2)),
        Some(Unit::Number) | None => {
            if decimals.is_none() && x.fract() == 0.0 {
                thousands(x, 0)
            } else {
                thousands(x, d(2))
            }
        }
    }
}

impl ResultTable {
    /// A terminal table; with many KPIs, several tables of at most
    /// `MAX_COLUMNS` KPIs each, every one repeating the dimensions and period.
    pub fn to_table(&self) -> String {
        self.written(|w| super::text::write_table(self, w))
    }

    /// One table that wraps its text columns to fit `width` characters (a terminal's).
    pub fn to_table_width(&self, width: u16) -> String {
        let mut t = super::text::comfy(self);
        t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
        t.set_width(width);
        format!("{t}\n")
    }

    pub fn to_markdown(&self) -> String {
        self.written(|w| super::text::write_markdown(self, w))
    }

    /// What `write` writes, as text.
    fn written(&self, write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>) -> String {
        let mut out = Vec::new();
        // Writing into memory does not fail, and writes texts only.
        match write(&mut out) {
            Ok(()) => String::from_utf8(out).unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    pub fn to_csv(&self) -> String {
        self.text(TextFormat::Csv)
    }

    pub fn to_json(&self) -> String {
        self.text(TextFormat::Json)
    }

    pub fn to_ndjson(&self) -> String {
        self.text(TextFormat::Ndjson)
    }

    fn text(&self, format: TextFormat) -> String {
        self.written(|w| super::text::write_text(self, format, w))
    }

    /// The cells of `cells` as a table of their own.
    pub fn from_cells(cells: &impl Cells) -> ResultTable {
        let all: Vec<usize> = (0..cells.columns().len()).collect();
        ResultTable::picked(cells, &all)
    }

    /// The columns `pick` of `cells` as a table of their own.
    pub(super) fn picked(cells: &impl Cells, pick: &[usize]) -> ResultTable {
        ResultTable {
            columns: pick.iter().map(|&i| cells.columns()[i].clone()).collect(),
            formats: pick.iter().map(|&i| cells.formats()[i]).collect(),
            rows: (0..cells.height())
                .map(|r| {
                    pick.iter()
                        .map(|&c| match cells.cell(r, c) {
                            CellRef::Text(t) => Cell::Text(t.map(str::to_string)),
                            CellRef::Number(x) => Cell::Number(x),
                        })
                        .collect()
                })
                .collect(),
        }
    }
}

/// A cell as the text formats read it, borrowed from where it is kept.
#[derive(Clone, Copy, Debug)]
pub enum CellRef<'a> {
    Text(Option<&'a str>),
    Number(Option<f64>),
}

/// A result that every text format (tables, Markdown, CSV, JSON, NDJSON)
/// is written from cell by cell: a table of cells, or an evaluation's
/// columns read where they are.
pub trait Cells {
    fn columns(&self) -> &[String];
    /// How each number column reads (`None` for dimensions and periods).
    fn formats(&self) -> &[Option<NumberFormat>];
    fn height(&self) -> usize;
    fn cell(&self, row: usize, column: usize) -> CellRef<'_>;
}

impl Cells for ResultTable {
    fn columns(&self) -> &[String] {
        &self.columns
    }

    fn formats(&self) -> &[Option<NumberFormat>] {
        &self.formats
    }

    fn height(&self) -> usize {
        self.rows.len()
    }

    fn cell(&self, row: usize, column: usize) -> CellRef<'_> {
        match self.rows.get(row).and_then(|r| r.get(column)) {
            Some(Cell::Text(t)) => CellRef::Text(t.as_deref()),
            Some(Cell::Number(x)) => CellRef::Number(*x),
            None => CellRef::Text(None),
        }
    }
}

/// A float that is a whole number an i64 holds exactly. Tested through
/// the integer it truncates to: `fract` calls the C library's `trunc`
/// for every value of every column written.
pub fn is_whole(x: f64) -> bool {
    x.abs() < 9.007_199_254_740_992e15 && (x as i64) as f64 == x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_by_unit() {
        assert_eq!(
            format_value(Some(1_234_567.4), Some(Unit::Currency), None),
            "1,234,567"
        );
        assert_eq!(format_value(Some(0.23456), Some(Unit::Percent), None), "23.5%");
        assert_eq!(format_value(Some(-1234.5), Some(Unit::Number), None), "-1,234.50");
        assert_eq!(format_value(Some(12.26), Some(Unit::Days), None), "12.3");
        assert_eq!(format_value(None, Some(Unit::Count), None), "–");
        assert_eq!(format_value(Some(999.0), Some(Unit::Count), None), "999");
        // Halves away from zero, as written, as `round` does.
        assert_eq!(format_value(Some(-2.5), Some(Unit::Currency), None), "-3");
        assert_eq!(format_value(Some(2.5), Some(Unit::Count), None), "3");
        assert_eq!(format_value(Some(1.005), Some(Unit::Number), None), "1.01");
        assert_eq!(
            format_value(Some(0.12345), Some(Unit::Percent), Some(2)),
            "12.35%"
        );
    }

    /// Whole numbers up to 2^53 are themselves (-0 is 0); others
    /// (fractions, larger and non-finite values) round as their text of 15
    /// significant digits reads.
    #[test]
    fn raw_numbers_are_their_fifteen_digits() {
        let by_text = |x: f64| -> f64 {
            match x.fract() == 0.0 && x.abs() <= 2f64.powi(53) {
                true => x + 0.0,
                false => format!("{x:.14e}").parse().unwrap_or(x),
            }
        };
        for x in numbers() {
            let (ours, theirs) = (raw_number(x), by_text(x));
            assert!(
                ours.to_bits() == theirs.to_bits() || (ours.is_nan() && theirs.is_nan()),
                "{x}: {ours} {theirs}"
            );
        }
    }

    /// A 16-digit id is itself in CSV and JSON, as in the table (it read
    /// `1234567890123460`); beyond 2^53 doubles are 15 digits again.
    #[test]
    fn whole_numbers_up_to_two_to_the_53_are_written_whole() {
        let written = |x: f64| {
            let mut s = String::new();
            write_raw_number(&mut s, x);
            s
        };
        assert_eq!(written(1_234_567_890_123_456.0), "1234567890123456");
        assert_eq!(written(-9_007_199_254_740_991.0), "-9007199254740991");
        assert_eq!(written(2f64.powi(53)), "9007199254740992");
        assert_eq!(written(2f64.powi(53) + 2.0), "9007199254740990");
        assert_eq!(written(1e15 + 0.5), "1000000000000000");
    }

    /// CSV's numbers are the text of their raw numbers.
    #[test]
    fn raw_numbers_are_written_as_their_text() {
        for x in numbers()
            .into_iter()
            .chain([1e300, -1e300, 1.5e-7, -2.5e-300, 123.456e20])
        {
            let mut ours = String::new();
            write_raw_number(&mut ours, x);
            assert_eq!(ours, format!("{}", raw_number(x)), "{x:e}");
        }
    }

    /// Thousands separators as the plain way puts them: a comma before
    /// every third digit from the point, a minus only where a digit is not 0.
    #[test]
    fn thousands_are_grouped_by_three() {
        let plain = |x: f64, d: usize| {
            let x = crate::check::arithmetic::round_as_written(x, d as i32);
            let s = format!("{:.*}", d, x.abs());
            let (int, frac) = s
                .split_once('.')
                .map_or((s.as_str(), None), |(i, f)| (i, Some(f)));
            let mut out = String::new();
            for (i, c) in int.chars().enumerate() {
                if i > 0 && (int.len() - i) % 3 == 0 {
                    out.push(',');
                }
                out.push(c);
            }
            if let Some(f) = frac {
                out.push('.');
                out.push_str(f);
            }
            if x < 0.0 && out.chars().any(|c| c.is_ascii_digit() && c != '0') {
                out.insert(0, '-');
            }
            out
        };
        assert_eq!(thousands(-1234567.891, 2), "-1,234,567.89");
        assert_eq!(thousands(-0.001, 1), "0.0");
        for x in numbers() {
            for d in [0, 1, 2] {
                assert_eq!(thousands(x, d), plain(x, d), "{x:e} with {d} decimals");
            }
        }
    }

    /// Whole numbers around every power of ten, fractions, extremes, non-finite values.
    fn numbers() -> Vec<f64> {
        let mut values = vec![
            0.0,
            -0.0,
            0.1 + 0.2,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            1e-300,
        ];
        for k in 0..16 {
            let p = 10f64.powi(k);
            values.extend([p, p - 1.0, p + 1.0, -p, p + 0.5, p * 1.000_000_000_000_001]);
        }
        values.extend([
            999_999_999_999_999.0,
            1e15 + 1.0,
            1_234_567_890_123_456.0,
            9_007_199_254_740_993.0,
        ]);
        let mut bits = crate::testing::random_bits(1);
        for _ in 0..100_000 {
            let seed = bits();
            let r = (seed >> 11) as f64 / (1u64 << 53) as f64;
            values.extend([
                (r * 1e6).round(),
                r * 1e6,
                (r * 1e17).round(),
                -(r * 1e4).round() / 4.0,
                r / 3.0 * 10f64.powi((seed % 40) as i32 - 20),
            ]);
        }
        values
    }

    #[test]
    fn whole_numbers_are_those_an_integer_holds_exactly() {
        let whole = [0.0, -0.0, 3.0, -3.0, 1e15, 9_007_199_254_740_991.0, -9e15];
        let not = [
            2.5,
            -2.5,
            0.1,
            -1e-300,
            9_007_199_254_740_992.0,
            1e300,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        for x in whole {
            assert!(is_whole(x), "{x}");
        }
        for x in not {
            assert!(!is_whole(x), "{x}");
        }
    }
}
