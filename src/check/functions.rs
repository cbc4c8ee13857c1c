//! Built-in functions (LANGUAGE.md §3): row functions, aggregates and time
//! functions, with their arities.

/// A function applied to each row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RowFn {
    /// `abs(-2)` → 2
    Abs,
    /// `round(x)`, `round(x, 2)`
    Round,
    Floor,
    Ceil,
    Sqrt,
    /// natural logarithm
    Ln,
    Log10,
    Exp,
    /// `pow(x, 2)`
    Pow,
    /// `least(a, b, …)`
    Least,
    Greatest,
    /// first non-null argument
    Coalesce,
    Lower,
    Upper,
    Trim,
    /// characters in a string
    Length,
    /// `contains(name, "Corp")`
    Contains,
    StartsWith,
    EndsWith,
    /// `concat(a, "-", b)`: a string
    Concat,
    Year,
    /// 1–4
    Quarter,
    Month,
    /// ISO week number
    Week,
    Day,
    /// ISO weekday, Monday 1 … Sunday 7
    Weekday,
    /// the date of a datetime, or a date parsed from a string
    Date,
    /// `date_trunc(x, "month")`
    DateTrunc,
    /// `days_between(a, b)` is `b - a` in days
    DaysBetween,
    HoursBetween,
    MinutesBetween,
}

/// An aggregate over the rows of a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AggFn {
    /// `count()` rows, `count(x)` non-null values
    Count,
    CountDistinct,
    Sum,
    Avg,
    Median,
    /// `quantile(x, 0.9)`
    Quantile,
    Min,
    Max,
    Stddev,
}

/// A function over a KPI's series of periods (derived KPIs only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeFn {
    /// `prev(k[, n])`: the value n periods earlier
    Prev,
    /// `diff(k[, n])` = `k - prev(k, n)`
    Diff,
    /// `growth(k[, n])` = `k / prev(k, n) - 1`
    Growth,
    /// `rolling(k, n)`: k re-aggregated over the trailing n periods
    Rolling,
    /// `cumulative(k)`: from the start of the range
    Cumulative,
    /// `ytd(k)`: within the (fiscal) year
    Ytd,
    Qtd,
    Mtd,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    Row(RowFn),
    Agg(AggFn),
    Time(TimeFn),
}

pub const ROW_FUNCTIONS: &[(&str, RowFn, usize, Option<usize>)] = &[
    ("abs", RowFn::Abs, 1, Some(1)),
    ("round", RowFn::Round, 1, Some(2)),
    ("floor", RowFn::Floor, 1, Some(1)),
    ("ceil", RowFn::Ceil, 1, Some(1)),
    ("sqrt", RowFn::Sqrt, 1, Some(1)),
    ("ln", RowFn::Ln, 1, Some(1)),
    ("log10", RowFn::Log10, 1, Some(1)),
    ("exp", RowFn::Exp, 1, Some(1)),
    ("pow", RowFn::Pow, 2, Some(2)),
    ("least", RowFn::Least, 2, None),
    ("greatest", RowFn::Greatest, 2, None),
    ("coalesce", RowFn::Coalesce, 1, None),
    ("lower", RowFn::Lower, 1, Some(1)),
    ("upper", RowFn::Upper, 1, Some(1)),
    ("trim", RowFn::Trim, 1, Some(1)),
    ("length", RowFn::Length, 1, Some(1)),
    ("contains", RowFn::Contains, 2, Some(2)),
    ("starts_with", RowFn::StartsWith, 2, Some(2)),
    ("ends_with", RowFn::EndsWith, 2, Some(2)),
    ("concat", RowFn::Concat, 1, None),
    ("year", RowFn::Year, 1, Some(1)),
    ("quarter", RowFn::Quarter, 1, Some(1)),
    ("month", RowFn::Month, 1, Some(1)),
    ("week", RowFn::Week, 1, Some(1)),
    ("day", RowFn::Day, 1, Some(1)),
    ("weekday", RowFn::Weekday, 1, Some(1)),
    ("date", RowFn::Date, 1, Some(1)),
    ("date_trunc", RowFn::DateTrunc, 2, Some(2)),
    ("days_between", RowFn::DaysBetween, 2, Some(2)),
    ("hours_between", RowFn::HoursBetween, 2, Some(2)),
    ("minutes_between", RowFn::MinutesBetween, 2, Some(2)),
];

pub const AGGREGATES: &[(&str, AggFn, usize, Option<usize>)] = &[
    ("count", AggFn::Count, 0, Some(1)),
    ("count_distinct", AggFn::CountDistinct, 1, Some(1)),
    ("sum", AggFn::Sum, 1, Some(1)),
    ("avg", AggFn::Avg, 1, Some(1)),
    ("median", AggFn::Median, 1, Some(1)),
    ("quantile", AggFn::Quantile, 2, Some(2)),
    ("min", AggFn::Min, 1, Some(1)),
    ("max", AggFn::Max, 1, Some(1)),
    ("stddev", AggFn::Stddev, 1, Some(1)),
];

pub const TIME_FUNCTIONS: &[(&str, TimeFn, usize, Option<usize>)] = &[
    ("prev", TimeFn::Prev, 1, Some(2)),
    ("diff", TimeFn::Diff, 1, Some(2)),
    ("growth", TimeFn::Growth, 1, Some(2)),
    ("rolling", TimeFn::Rolling, 2, Some(2)),
    ("cumulative", TimeFn::Cumulative, 1, Some(1)),
    ("ytd", TimeFn::Ytd, 1, Some(1)),
    ("qtd", TimeFn::Qtd, 1, Some(1)),
    ("mtd", TimeFn::Mtd, 1, Some(1)),
];

/// The builtin, and its least and most arguments (`None`: any number).
pub fn lookup(name: &str) -> Option<(Builtin, usize, Option<usize>)> {
    if let Some((_, f, lo, hi)) = ROW_FUNCTIONS.iter().find(|(n, ..)| *n == name) {
        return Some((Builtin::Row(*f), *lo, *hi));
    }
    if let Some((_, f, lo, hi)) = AGGREGATES.iter().find(|(n, ..)| *n == name) {
        return Some((Builtin::Agg(*f), *lo, *hi));
    }
    TIME_FUNCTIONS
        .iter()
        .find(|(n, ..)| *n == name)
        .map(|(_, f, lo, hi)| (Builtin::Time(*f), *lo, *hi))
}

pub fn all_names() -> impl Iterator<Item = &'static str> + Clone {
    ROW_FUNCTIONS
        .iter()
        .map(|f| f.0)
        .chain(AGGREGATES.iter().map(|f| f.0))
        .chain(TIME_FUNCTIONS.iter().map(|f| f.0))
}

impl AggFn {
    pub fn name(self) -> &'static str {
        AGGREGATES.iter().find(|f| f.1 == self).map_or("", |f| f.0)
    }

    /// Can be recombined exactly from per-period parts (for rolling and to-date forms).
    pub fn recombinable(self) -> bool {
        !matches!(
            self,
            AggFn::Median | AggFn::Quantile | AggFn::CountDistinct | AggFn::Stddev
        )
    }
}

impl TimeFn {
    pub fn name(self) -> &'static str {
        TIME_FUNCTIONS.iter().find(|f| f.1 == self).map_or("", |f| f.0)
    }

    /// Re-aggregates the KPI over several periods.
    pub fn reaggregates(self) -> bool {
        matches!(
            self,
            TimeFn::Rolling | TimeFn::Cumulative | TimeFn::Ytd | TimeFn::Qtd | TimeFn::Mtd
        )
    }
}

/// Whether a dialect computes an aggregate exactly. BigQuery has exact
/// medians and quantiles only as window functions (`PERCENTILE_CONT`); as
/// aggregates it has `APPROX_QUANTILES`, which kpi never uses silently.
/// SQLite has neither, nor a standard deviation.
pub fn exact_in(f: AggFn, dialect: crate::spec::model::Dialect) -> bool {
    use crate::spec::model::Dialect;
    !matches!(
        (f, dialect),
        (AggFn::Median | AggFn::Quantile, Dialect::BigQuery)
            | (AggFn::Median | AggFn::Quantile | AggFn::Stddev, Dialect::Sqlite)
    )
}
