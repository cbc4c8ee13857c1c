//! Stage 5a, compile: typed trees → Polars expressions, through builders
//! only. Nothing here can fail on user input: every user error was caught
//! by `check` or `plan`.

mod once;
mod rolling;
mod window;

use polars::prelude::*;

pub use window::{Window, Windows};

use crate::check::arithmetic;
use crate::check::constant;
use crate::check::functions::{AggFn, RowFn, TimeFn};
use crate::check::ir::{DatasetId, Literal, Model, TExpr, TKind};
use crate::check::types::Type;
use crate::data::by_value;
use crate::period::{Calendar, Grain, WeekStart};
use crate::plan::Part;
use crate::syntax::ast::{BinaryOp, UnaryOp};

/// The column a looked-up column is joined as: `reps.team`.
pub fn lookup_column(model: &Model, ds: DatasetId, name: &str) -> String {
    format!("{}.{name}", model.datasets[ds].name)
}

/// Where compiled expressions run.
pub struct Cx<'a> {
    pub model: &'a Model,
    /// The dataset whose rows are read (its own columns are plain names).
    pub dataset: Option<DatasetId>,
    /// The group columns of the spine, within which `prev`, `diff` and
    /// `growth` shift (derived KPIs over a spine sorted by period).
    pub groups: &'a [String],
    /// The spine that re-aggregating time functions window over.
    pub windows: Option<&'a Windows<'a>>,
    /// Set while compiling the inside of `rolling`, `cumulative` or a to-date form.
    pub window: Option<Window>,
}

impl<'a> Cx<'a> {
    /// Expressions over the rows of `dataset`.
    pub fn rows(model: &'a Model, dataset: Option<DatasetId>) -> Self {
        Cx {
            model,
            dataset,
            groups: &[],
            windows: None,
            window: None,
        }
    }

    /// Expressions over a spine sorted by period within `groups`.
    pub fn spine(model: &'a Model, groups: &'a [String], windows: Option<&'a Windows<'a>>) -> Self {
        Cx {
            model,
            dataset: None,
            groups,
            windows,
            window: None,
        }
    }
}

fn f64_lit(x: f64) -> Expr {
    lit(x)
}

fn null_f64() -> Expr {
    lit(NULL).cast(DataType::Float64)
}

pub fn date_lit(days: i32) -> Expr {
    lit(days).cast(DataType::Date)
}

fn datetime_dtype() -> DataType {
    DataType::Datetime(TimeUnit::Microseconds, None)
}

/// A date or datetime as microseconds since the epoch, in a float.
fn micros(e: Expr, t: Type) -> Expr {
    let dt = if t == Type::Date {
        e.cast(DataType::Date).cast(datetime_dtype())
    } else {
        e.cast(datetime_dtype())
    };
    dt.cast(DataType::Int64).cast(DataType::Float64)
}

/// Polars' interval for the unit of `date_trunc` (checked to be a literal grain).
fn truncation_every(unit: Option<&TExpr>) -> &'static str {
    use crate::keyword::Keyword;
    let grain = match unit.map(|e| &e.kind) {
        Some(TKind::Lit(Literal::String(u))) => Grain::parse(u),
        _ => None,
    };
    match grain {
        Some(Grain::Week) => "1w",
        Some(Grain::Month) => "1mo",
        Some(Grain::Quarter) => "1q",
        Some(Grain::Year) => "1y",
        _ => "1d",
    }
}

/// Numbers are computed as floats, so integer columns divide exactly.
fn num(e: Expr) -> Expr {
    e.cast(DataType::Float64)
}

/// Whether any of `xs` is true (false for none), in SQL's three values:
/// the `or`s paired level by level, so a list of thousands (`stage in
/// [...]`) is a tree a dozen deep, not a chain thousands deep, which
/// Polars' planning took seconds and gigabytes over (quadratic in its
/// depth: 1.3 s at 1,000 values, 50 s at 5,000).
pub fn any_of(mut xs: Vec<Expr>) -> Expr {
    while xs.len() > 1 {
        let mut pairs = Vec::with_capacity(xs.len().div_ceil(2));
        let mut it = xs.into_iter();
        while let Some(a) = it.next() {
            pairs.push(match it.next() {
                Some(b) => a.or(b),
                None => a,
            });
        }
        xs = pairs;
    }
    xs.pop().unwrap_or(lit(false))
}

/// `a / b`, null when `b` is zero (never inf or NaN).
pub fn safe_div(a: Expr, b: Expr) -> Expr {
    by_value::binary(num(a), num(b), "divide", |x, y| (y != 0.0).then(|| x / y))
}

impl Cx<'_> {
    /// A row-level expression (also the post-aggregation expressions, whose
    /// names are parts and KPIs).
    pub fn expr(&self, e: &TExpr) -> Expr {
        if e.ty == Type::Number && !matches!(e.kind, TKind::Lit(_)) {
            if let Some(v) = constant::value(e) {
                return v.map_or_else(null_f64, f64_lit);
            }
        }
        once::folded(self.computed(e))
    }

    /// `e` computed from its parts (`expr` gives a constant as its value).
    fn computed(&self, e: &TExpr) -> Expr {
        match &e.kind {
            TKind::Lit(l) => literal(l),
            TKind::Column { dataset, name } => match self.dataset {
                Some(d) if d != *dataset => col(lookup_column(self.model, *dataset, name).as_str()),
                _ => col(name.as_str()),
            },
            TKind::Kpi(k) if self.window.is_some() => self.inline(*k),
            TKind::Kpi(k) => col(self.model.kpis[*k].name.as_str()),
            TKind::Part(name) => self.windowed_part(name),
            TKind::Unary(UnaryOp::Neg, a) => f64_lit(0.0) - num(self.expr(a)),
            TKind::Unary(UnaryOp::Not, a) => self.typed(a, DataType::Boolean).not(),
            TKind::Binary(op, a, b) => self.binary(*op, a, b),
            TKind::In { expr, list, negated } => {
                let x = self.expr(expr);
                let any = any_of(
                    list.iter()
                        .map(|i| self.compare(BinaryOp::Eq, x.clone(), expr.ty, self.expr(i), i.ty))
                        .collect(),
                );
                if *negated {
                    any.not()
                } else {
                    any
                }
            }
            TKind::Between { expr, low, high } => {
                let x = self.expr(expr);
                self.compare(BinaryOp::Ge, x.clone(), expr.ty, self.expr(low), low.ty)
                    .and(self.compare(BinaryOp::Le, x, expr.ty, self.expr(high), high.ty))
            }
            TKind::IsNull { expr, negated } => {
                let x = self.expr(expr);
                if *negated {
                    x.is_not_null()
                } else {
                    x.is_null()
                }
            }
            TKind::If { branches, otherwise } => {
                let cast = |x: Expr, t: Type| match e.ty {
                    Type::Number => num(x),
                    Type::Datetime if t == Type::Date => x.cast(datetime_dtype()),
                    _ => x,
                };
                // Nested from the last branch, so the first true condition wins.
                branches
                    .iter()
                    .rev()
                    .fold(cast(self.expr(otherwise), otherwise.ty), |rest, (c, v)| {
                        when(self.typed(c, DataType::Boolean))
                            .then(cast(self.expr(v), v.ty))
                            .otherwise(rest)
                    })
            }
            TKind::Row { func, args } => self.row(*func, args),
            TKind::Time {
                func,
                kpi,
                every: Some(unit),
                ..
            } => {
                let name = &self.model.kpis[*kpi].name;
                let earlier = col(every_column(name, *unit).as_str());
                match func {
                    TimeFn::Diff => num(col(name.as_str())) - num(earlier),
                    TimeFn::Growth => safe_div(col(name.as_str()), earlier) - f64_lit(1.0),
                    _ => earlier,
                }
            }
            TKind::Time { func, kpi, n, .. }
                if matches!(func, TimeFn::Prev | TimeFn::Diff | TimeFn::Growth) =>
            {
                shifted_kpi(&self.model.kpis[*kpi].name, *n, self.groups, *func)
            }
            TKind::Time { func, kpi, n, .. } => self.reaggregate(*func, *kpi, *n),
            // Aggregates are planned into parts, nested ones into columns.
            TKind::Agg { .. } => null_f64(),
        }
    }

    /// A row filter (`where`, a segment, an aggregate's condition), as
    /// booleans even where it is a column with no value at all.
    pub fn condition(&self, e: &TExpr) -> Expr {
        once::folded(self.typed(e, DataType::Boolean))
    }

    /// `e` compiled, as `dtype` where it has no type of its own: a column
    /// with no value at all (nulls of no type, which any use takes: an
    /// export in which no deal has closed yet), which Polars' date, text
    /// and logical functions refuse.
    fn typed(&self, e: &TExpr, dtype: DataType) -> Expr {
        match e.ty {
            Type::Null | Type::Unknown => self.expr(e).cast(dtype),
            _ => self.expr(e),
        }
    }

    fn binary(&self, op: BinaryOp, a: &TExpr, b: &TExpr) -> Expr {
        if matches!(op, BinaryOp::And | BinaryOp::Or) {
            let (x, y) = (self.typed(a, DataType::Boolean), self.typed(b, DataType::Boolean));
            return if op == BinaryOp::And { x.and(y) } else { x.or(y) };
        }
        let (x, y) = (self.expr(a), self.expr(b));
        match op {
            BinaryOp::Add => num(x) + num(y),
            BinaryOp::Sub => num(x) - num(y),
            BinaryOp::Mul => num(x) * num(y),
            // By a number other than 0 known before reading: no test.
            BinaryOp::Div if matches!(constant::value(b), Some(Some(v)) if v != 0.0) => {
                crate::data::divide(num(x), num(y))
            }
            BinaryOp::Div => safe_div(x, y),
            BinaryOp::Rem => by_value::binary(num(x), num(y), "remainder", arithmetic::remainder_as_written),
            _ => self.compare(op, x, a.ty, y, b.ty),
        }
    }

    /// A comparison; a date against a datetime is taken at midnight.
    fn compare(&self, op: BinaryOp, x: Expr, xt: Type, y: Expr, yt: Type) -> Expr {
        let (x, y) = match (xt, yt) {
            (Type::Date, Type::Datetime) => (x.cast(datetime_dtype()), y),
            (Type::Datetime, Type::Date) => (x, y.cast(datetime_dtype())),
            (Type::Number, _) | (_, Type::Number) => (num(x), num(y)),
            _ => (x, y),
        };
        match op {
            BinaryOp::Eq => x.eq(y),
            BinaryOp::Ne => x.neq(y),
            BinaryOp::Lt => x.lt(y),
            BinaryOp::Le => x.lt_eq(y),
            BinaryOp::Gt => x.gt(y),
            _ => x.gt_eq(y),
        }
    }

    fn row(&self, f: RowFn, args: &[TExpr]) -> Expr {
        let a = |i: usize| args.get(i).map_or(lit(NULL), |e| self.expr(e));
        let text = |i: usize| args.get(i).map_or(lit(NULL), |e| self.typed(e, DataType::String));
        let day = |i: usize| args.get(i).map_or(lit(NULL), |e| self.typed(e, DataType::Date));
        let between = |unit: f64| {
            let ty = |i: usize| args.get(i).map_or(Type::Unknown, |e| e.ty);
            crate::data::divide(micros(a(1), ty(1)) - micros(a(0), ty(0)), f64_lit(unit))
        };
        match f {
            RowFn::Abs => num(a(0)).abs(),
            RowFn::Round => self.round(args),
            RowFn::Floor => num(a(0)).floor(),
            RowFn::Ceil => num(a(0)).ceil(),
            // No real value (the root or logarithm of a negative number): null.
            RowFn::Sqrt => by_value::unary(num(a(0)), "sqrt", |x| (x >= 0.0).then(|| x.sqrt())),
            RowFn::Ln => by_value::unary(num(a(0)), "ln", |x| (x > 0.0).then(|| x.ln())),
            // Exact at powers of ten (`log10(1000)` is 3), as SQL's; a
            // quotient of natural logarithms gives 2.9999999999999996.
            RowFn::Log10 => by_value::unary(num(a(0)), "log10", |x| (x > 0.0).then(|| x.log10())),
            RowFn::Exp => num(a(0)).exp(),
            // The double nearest the power, as SQL's `POWER` gives (Polars
            // multiplies `x · x · x` for a whole exponent, rounding twice).
            RowFn::Pow => by_value::binary(num(a(0)), num(a(1)), "pow", |x, y| {
                let none = (x < 0.0 && y != y.floor()) || (x == 0.0 && y < 0.0);
                (!none).then(|| x.powf(y))
            }),
            RowFn::Least | RowFn::Greatest => {
                let xs: Vec<Expr> = args.iter().map(|e| self.expr(e)).collect();
                let h = if f == RowFn::Least {
                    polars::lazy::dsl::min_horizontal(xs)
                } else {
                    polars::lazy::dsl::max_horizontal(xs)
                };
                h.unwrap_or_else(|_| lit(NULL))
            }
            RowFn::Coalesce => {
                let xs: Vec<Expr> = args.iter().map(|e| self.expr(e)).collect();
                coalesce(&xs)
            }
            RowFn::Lower => text(0).str().to_lowercase(),
            RowFn::Upper => text(0).str().to_uppercase(),
            RowFn::Trim => text(0).str().strip_chars(lit(NULL)),
            RowFn::Length => text(0).str().len_chars().cast(DataType::Float64),
            RowFn::Contains => text(0).str().contains_literal(text(1)),
            RowFn::StartsWith => text(0).str().starts_with(text(1)),
            RowFn::EndsWith => text(0).str().ends_with(text(1)),
            RowFn::Concat => {
                let xs: Vec<Expr> = args.iter().map(|e| crate::data::as_text(self.expr(e))).collect();
                concat_str(xs, "", false)
            }
            RowFn::Year => day(0).dt().year().cast(DataType::Float64),
            RowFn::Quarter => day(0).dt().quarter().cast(DataType::Float64),
            RowFn::Month => day(0).dt().month().cast(DataType::Float64),
            RowFn::Week => day(0).dt().week().cast(DataType::Float64),
            RowFn::Day => day(0).dt().day().cast(DataType::Float64),
            RowFn::Weekday => day(0).dt().weekday().cast(DataType::Float64),
            // A text's date is the ISO day it starts with (`2025-01-31`,
            // `2025-1-5`, the day of `2025-01-31T09:30`); other text is null
            // (Polars' own guess of a format fails the whole column when
            // its first value fits none, and `%Y` alone reads `25-01-15` as
            // the year 25). The SQL of `crate::sql::iso_day` reads the same.
            RowFn::Date => match args.first().map(|e| e.ty) {
                Some(Type::String) => {
                    // Spaces around it are trimmed, as SQL's `TRIM` does (not tabs).
                    let text = a(0).str().strip_chars(lit(" "));
                    let day = text.clone().str().to_date(StrptimeOptions {
                        format: Some("%Y-%m-%d".into()),
                        strict: false,
                        exact: false,
                        ..Default::default()
                    });
                    // The year 0 is no year in SQL's calendar.
                    let shaped = text.str().contains(lit(crate::sql::ISO_DAY_SHAPE), true);
                    let dated = shaped.and(day.clone().dt().year().gt(lit(0)));
                    when(dated).then(day).otherwise(lit(NULL).cast(DataType::Date))
                }
                _ => a(0).cast(DataType::Date),
            },
            RowFn::DateTrunc => day(0).dt().truncate(lit(truncation_every(args.get(1)))),
            RowFn::DaysBetween => between(86_400e6),
            RowFn::HoursBetween => between(3_600e6),
            RowFn::MinutesBetween => between(60e6),
        }
    }

    /// `round(x)`, `round(x, digits)`: half away from zero, as the number
    /// is written (see [`arithmetic::round_as_written`]).
    fn round(&self, args: &[TExpr]) -> Expr {
        let x = args.first().map_or(null_f64(), |e| num(self.expr(e)));
        match args.get(1) {
            None => round_as_written(x, RoundScale::Digits(0), None),
            Some(d) => match constant::value(d) {
                Some(Some(d)) => round_as_written(x, RoundScale::Digits(arithmetic::whole_digits(d)), None),
                Some(None) => null_f64(),
                None => round_as_written(x, RoundScale::PerRow, Some(num(self.expr(d)))),
            },
        }
    }

    /// One aggregate part, in a group-by.
    pub fn part(&self, p: &Part) -> Expr {
        let filter = p.filter.as_ref().map(|c| self.expr(c));
        let value = self.part_value(p, filter.as_ref());
        aggregate_part(p, filter, value).alias(p.name.as_str())
    }

    /// What a part aggregates, row by row: its argument (a number where the
    /// function does arithmetic), kept on the rows of its filter and blanked
    /// on the rest (every aggregate skips nulls). Blanking rather than
    /// filtering inside the aggregation: the streaming engine aggregates
    /// this form as the rows arrive, where a filter would make it gather
    /// every group first.
    pub fn part_value(&self, p: &Part, filter: Option<&Expr>) -> Expr {
        let arithmetic = matches!(
            p.func,
            AggFn::Sum | AggFn::Avg | AggFn::Median | AggFn::Quantile | AggFn::Stddev
        );
        let x = p.arg.as_ref().map_or(lit(NULL), |e| {
            let x = self.expr(e);
            match e.ty {
                _ if arithmetic => num(x),
                Type::Bool => num(x),
                // A datetime KPI's value counts microseconds: a Parquet
                // column may hold milliseconds or nanoseconds.
                Type::Datetime => x.cast(datetime_dtype()),
                _ => x,
            }
        });
        once::folded(match filter {
            Some(c) => when(c.clone()).then(x).otherwise(lit(NULL)),
            None => x,
        })
    }
}

/// The aggregation of a part over its row values (see [`Cx::part_value`]);
/// `filter` is used alone by a count of rows.
pub fn aggregate_part(p: &Part, filter: Option<Expr>, value: Expr) -> Expr {
    match p.func {
        // Counts are integer sums, turned into numbers once per group.
        AggFn::Count if p.arg.is_none() => match filter {
            Some(c) => c.cast(IDX_DTYPE).sum().cast(DataType::Float64),
            None => len().cast(DataType::Float64),
        },
        AggFn::Count => value.count().cast(DataType::Float64),
        // Distinct values, not counting null (a blanked row) as one.
        AggFn::CountDistinct => {
            value.clone().n_unique().cast(DataType::Float64)
                - value.null_count().gt(lit(0)).cast(DataType::Float64)
        }
        AggFn::Sum => value.sum(),
        AggFn::Avg => value.mean(),
        AggFn::Median => value.median(),
        AggFn::Quantile => value.quantile(f64_lit(p.param.unwrap_or(0.5)), QuantileMethod::Linear),
        AggFn::Min => value.min(),
        AggFn::Max => value.max(),
        AggFn::Stddev => {
            let spread = value.clone().std(1);
            zero_for_equal_values(value.clone().min().eq(value.max()), spread)
        }
    }
}

/// The spread `spread` of values, 0 where they are all equal (`equal`):
/// a standard deviation worked out from a mean that rounds (eleven rows
/// of 0.05 average 0.049999999999999996) is a residue such as 7.3e-18,
/// and `1 / stddev(x)` would read 1.4e17 where it divides by zero. With
/// fewer than two values the spread stays null. The same rule is written
/// in every SQL dialect.
fn zero_for_equal_values(equal: Expr, spread: Expr) -> Expr {
    when(equal).then(spread.clone() * lit(0.0)).otherwise(spread)
}

/// How `round` scales a number by its digits: by a power of ten known
/// before reading (a constant number of digits) or read from each row.
#[derive(Clone, Copy)]
enum RoundScale {
    Digits(i32),
    PerRow,
}

/// [`arithmetic::round_as_written`] of each row's number: to `digits`
/// decimals, or (`PerRow`) to the digits beside it in the row.
fn round_as_written(x: Expr, scale: RoundScale, digits: Option<Expr>) -> Expr {
    match (scale, digits) {
        (RoundScale::PerRow, Some(d)) => {
            by_value::binary_total(x, d, "round", |x, d| round_value(x, RoundScale::PerRow, d))
        }
        _ => by_value::unary_total(x, "round", move |x| round_value(x, scale, 0.0)),
    }
}

/// One number rounded as it is written ([`arithmetic::round_by_power`]);
/// digits read from a row are [`arithmetic::whole_digits`] of them.
fn round_value(x: f64, scale: RoundScale, row_digits: f64) -> f64 {
    match scale {
        RoundScale::Digits(d) => arithmetic::round_as_written(x, d),
        RoundScale::PerRow => {
            arithmetic::round_by_power(x, 10f64.powf(row_digits.trunc().clamp(-30.0, 30.0)), true)
        }
    }
}

fn literal(l: &Literal) -> Expr {
    match l {
        Literal::Number(n) => f64_lit(*n),
        Literal::String(s) => lit(s.clone()),
        Literal::Bool(b) => lit(*b),
        Literal::Null => lit(NULL),
        Literal::Date(d) => date_lit(d.0),
        Literal::DateTime(d) => lit(d.0).cast(datetime_dtype()),
    }
}

/// The first day of the period that holds each value of `t` (a date or datetime).
///
/// A period key is computed for every row read, so the usual grains are
/// plain arithmetic on days since 1970 and the day of the month or year
/// (calendar truncation through date objects was a fifth of a large
/// evaluation); quarters and fiscal years truncate.
pub fn period_start(t: Expr, grain: Grain, cal: &Calendar) -> Expr {
    let d = t.cast(DataType::Date);
    let days = || d.clone().cast(DataType::Int32);
    let back = |n: Expr| (days() - n + lit(1i32)).cast(DataType::Date);
    let shifted = |every: &str| {
        let months = cal.fiscal_year_start as i32 - 1;
        if months == 0 {
            d.clone().dt().truncate(lit(every))
        } else {
            d.clone()
                .dt()
                .offset_by(lit(format!("-{months}mo")))
                .dt()
                .truncate(lit(every))
                .dt()
                .offset_by(lit(format!("{months}mo")))
        }
    };
    match grain {
        Grain::Day | Grain::All => d.clone(),
        Grain::Week => {
            // 1970-01-01 was a Thursday: 3 days after a Monday, 4 after a Sunday.
            let after = match cal.week_start {
                WeekStart::Monday => 3,
                WeekStart::Sunday => 4,
            };
            // Shifted by whole weeks so the remainder is never negative.
            let into = (days() + lit(after + 7 * 400_000)) % lit(7i32);
            (days() - into).cast(DataType::Date)
        }
        Grain::Month => back(d.clone().dt().day().cast(DataType::Int32)),
        Grain::Year if cal.fiscal_year_start == 1 => back(d.clone().dt().ordinal_day().cast(DataType::Int32)),
        Grain::Quarter => shifted("1q"),
        Grain::Year => shifted("1y"),
    }
}

/// The spine column holding a KPI's value one calendar `unit` earlier
/// (joined by the executor).
pub fn every_column(kpi: &str, unit: Grain) -> String {
    use crate::spec::model::Keyword;
    format!("__{kpi}__{}_before", unit.as_str())
}

/// `prev(k, n)` over a complete, sorted spine, per group.
pub fn shifted_kpi(name: &str, n: u32, groups: &[String], func: TimeFn) -> Expr {
    let k = col(name);
    let prev = per_group(k.clone().shift(lit(n as i64)), groups);
    match func {
        TimeFn::Diff => num(k) - num(prev),
        TimeFn::Growth => safe_div(k, prev) - f64_lit(1.0),
        _ => prev,
    }
}

/// `e` evaluated within each group (a window), or over the whole frame.
pub fn per_group(e: Expr, groups: &[String]) -> Expr {
    if groups.is_empty() {
        return e;
    }
    let by: Vec<Expr> = groups.iter().map(|g| col(g.as_str())).collect();
    e.clone().over(by).unwrap_or(e)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::period::period_of;
    use crate::time::Date;

    /// The arithmetic period keys equal the calendar's, every day of
    /// 1900–2100, for every grain, week start and some fiscal years.
    #[test]
    fn period_keys_match_the_calendar_every_day() {
        let first = Date::parse("1900-01-01").unwrap().0;
        let last = Date::parse("2100-12-31").unwrap().0;
        let days: Vec<i32> = (first..=last).collect();
        let df = df!("d" => &days).unwrap();
        for week_start in [WeekStart::Monday, WeekStart::Sunday] {
            for fiscal_year_start in [1u32, 4, 11] {
                let cal = Calendar {
                    week_start,
                    fiscal_year_start,
                    ..Calendar::default()
                };
                for grain in [Grain::Week, Grain::Month, Grain::Quarter, Grain::Year] {
                    let got = df
                        .clone()
                        .lazy()
                        .select([period_start(col("d").cast(DataType::Date), grain, &cal)
                            .cast(DataType::Int32)
                            .alias("p")])
                        .collect()
                        .unwrap();
                    let got = got.column("p").unwrap().i32().unwrap().clone();
                    for (d, p) in days.iter().zip(got.iter()) {
                        let want = period_of(Date(*d), grain, &cal).start.0;
                        assert_eq!(
                            p,
                            Some(want),
                            "{grain:?} {week_start:?} fiscal {fiscal_year_start}: day {d}"
                        );
                    }
                }
            }
        }
    }
}
