//! Row expressions in SQL: columns, literals, operators and row functions
//! of the typed plan, printed for a dialect so that they give the numbers
//! and texts they give over files (null for a division by zero, `round`
//! and `%` as the number is written, numbers as text in their shortest
//! form).

use super::dialect::Spelling;
use super::Printer;
use crate::check::arithmetic;
use crate::check::constant;
use crate::check::functions::RowFn;
use crate::check::ir::{Literal, TExpr, TKind};
use crate::check::types::Type;
use crate::period::{Calendar, Grain};
use crate::spec::model::Dialect;
use crate::syntax::ast::{BinaryOp, UnaryOp};

/// How `round` scales a number by its digits: a number of digits known
/// before the query, or one read from each row (its SQL).
enum RoundScale {
    Digits(i32),
    PerRow(String),
}

impl Printer<'_> {
    /// A value of type `ty` as text, as kpi writes it over files
    /// ([`crate::data::as_text`] there): a whole number without a fraction.
    pub(super) fn text(&self, sql: &str, ty: Type) -> String {
        let d = self.d;
        match ty {
            // Any other number through a double, whose text is its
            // shortest form: a NUMERIC's or DECIMAL's keeps its scale's
            // zeros (`0.10`). Spark's is written out from the number as it
            // is (`Spelling::fraction_text`).
            Type::Number => format!(
                "CASE WHEN {sql} = FLOOR({sql}) AND ABS({sql}) < 1e18 THEN CAST(CAST({sql} AS {}) AS {}) ELSE {} END",
                match d {
                    Dialect::BigQuery => "INT64",
                    _ => "BIGINT",
                },
                d.text_type(),
                match d {
                    Dialect::Spark => d.fraction_text(sql),
                    _ => d.fraction_text(&self.double(sql)),
                },
            ),
            Type::Bool => d.bool_text(sql),
            // A zoned datetime (an instant) as its wall-clock time in the
            // session's zone, UTC, without the offset (`… 23:30:00+00`),
            // as files write it; a time without a zone stays as it is.
            Type::Datetime => format!("CAST({} AS {})", d.to_timestamp(sql), d.text_type()),
            // A date (of a column declared `date` that holds datetimes too).
            Type::Date => format!("CAST({} AS {})", d.to_date(sql), d.text_type()),
            // A text column read as text already (see `column_value`).
            Type::String if sql.starts_with("CAST(") && sql.ends_with(&format!(" AS {})", d.text_type())) => {
                sql.to_string()
            }
            _ => format!("CAST({sql} AS {})", d.text_type()),
        }
    }

    /// The unit's own table, aliased `t`.
    pub(super) fn own(&self, column: &str) -> String {
        format!("{}.{}", self.d.ident("t"), self.d.ident(column))
    }

    pub(super) fn double(&self, x: &str) -> String {
        format!("CAST({x} AS {})", self.d.double_type())
    }

    fn number_literal(&self, v: f64) -> String {
        self.double(&format!("{v:e}"))
    }

    /// The whole digits of a number of digits read from each row, as
    /// [`arithmetic::whole_digits`] takes them (truncated, at most ±30).
    fn whole_digits(&self, d: &str) -> String {
        let whole = format!("(SIGN({d}) * FLOOR(ABS({d})))");
        format!("(CASE WHEN {whole} > 30 THEN 30 WHEN {whole} < -30 THEN -30 ELSE {whole} END)")
    }

    /// `x % y` in the same arithmetic as on files
    /// ([`arithmetic::remainder_as_written`]): the dialects' own remainders
    /// differ (Spark's `%` is C's `fmod`), and none sees 0.05's multiples.
    /// The quotient is truncated as `SIGN(q) * FLOOR(ABS(q))`, as Spark's
    /// `TRUNC` truncates only dates.
    fn remainder_as_written(&self, x: &str, y: &str) -> String {
        let q = format!("({x} / NULLIF({y}, 0))");
        format!(
            "(CASE WHEN ABS({q} - ROUND({q})) <= ABS({q}) * {} THEN {} ELSE {x} - {y} * SIGN({q}) * FLOOR(ABS({q})) END)",
            self.number_literal(arithmetic::TOLERANCE),
            self.number_literal(0.0)
        )
    }

    /// `round`, in the same arithmetic as on files ([`arithmetic::round_as_written`]):
    /// a dialect's own `ROUND` of a double rounds 1.005 to 1.0 (half to
    /// even in PostgreSQL), or its binary value (SQLite). Worked out on the
    /// size of `x` scaled, its sign put back at the end, so that `x` and
    /// the digits are written as few times as the arithmetic allows.
    fn round_as_written(&self, x: &str, scale: &RoundScale) -> String {
        let size = self.scaled(&format!("ABS({x})"), scale, false);
        let tolerance = format!(
            "(CASE WHEN {size} < {} THEN {size} * {} ELSE 0 END)",
            self.number_literal(arithmetic::TOLERANCE_BELOW),
            self.number_literal(arithmetic::TOLERANCE)
        );
        let magnitude = self.scaled(&format!("FLOOR({size} + 0.5 + {tolerance})"), scale, true);
        format!(
            "(CASE WHEN {size} >= {} THEN {x} ELSE SIGN({x}) * {magnitude} END)",
            self.number_literal(arithmetic::NO_FRACTION_FROM),
        )
    }

    /// `x` times the power of ten of `round`'s digits (`back`: divided by
    /// it), as on files: constant digits divide by the power of a negative
    /// number of digits, as `10^-2` has no exact double; digits read from
    /// a row multiply by `10^d` whatever its sign.
    fn scaled(&self, x: &str, scale: &RoundScale, back: bool) -> String {
        let (up, down) = match back {
            false => ("*", "/"),
            true => ("/", "*"),
        };
        match scale {
            RoundScale::Digits(d) => {
                let p = self.number_literal(10f64.powi(d.abs()));
                format!("({x} {} {p})", if *d >= 0 { up } else { down })
            }
            RoundScale::PerRow(d) => format!("({x} {up} POWER({}, {d}))", self.number_literal(10.0)),
        }
    }

    /// A row expression. Arithmetic of constants is worked out here, as
    /// on files ([`constant::value`]): the dialect would compute it the
    /// same way, but `round` and `%` write their operands several times,
    /// so a constant nested in them multiplied the statement's length.
    /// Past [`super::MAX_EXPRESSION_SQL`] the expression is noted (see
    /// [`super::UnitSql::too_long`]) and printed no further.
    pub(super) fn expr(&self, e: &TExpr) -> String {
        if self.overflow.get().is_some() {
            return "NULL".to_string();
        }
        let sql = self.expr_of(e);
        if sql.len() > super::MAX_EXPRESSION_SQL {
            self.overflow.set(Some(e.span));
            return "NULL".to_string();
        }
        sql
    }

    fn expr_of(&self, e: &TExpr) -> String {
        if e.ty == Type::Number && !matches!(e.kind, TKind::Lit(_)) {
            match constant::value(e) {
                Some(Some(v)) if v.is_finite() => return self.number_literal(v),
                Some(None) => return self.double("NULL"),
                _ => {}
            }
        }
        match &e.kind {
            TKind::Lit(l) => self.literal(l),
            TKind::Column { dataset, name } => self.d.column_value(self.column(*dataset, name), e.ty),
            TKind::Unary(UnaryOp::Neg, a) => format!("(0 - {})", self.double(&self.expr(a))),
            TKind::Unary(UnaryOp::Not, a) => format!("(NOT {})", self.expr(a)),
            TKind::Binary(op, a, b) => self.binary(*op, a, b),
            TKind::In { expr, list, negated } => {
                let any: Vec<String> = list.iter().map(|i| self.compare(BinaryOp::Eq, expr, i)).collect();
                let any = if any.is_empty() {
                    "FALSE".to_string()
                } else {
                    format!("({})", any.join(" OR "))
                };
                if *negated {
                    format!("(NOT {any})")
                } else {
                    any
                }
            }
            TKind::Between { expr, low, high } => format!(
                "({} AND {})",
                self.compare(BinaryOp::Ge, expr, low),
                self.compare(BinaryOp::Le, expr, high)
            ),
            TKind::IsNull { expr, negated } => {
                let not = if *negated { " NOT" } else { "" };
                format!("({} IS{not} NULL)", self.expr(expr))
            }
            TKind::If { branches, otherwise } => {
                let cast = |x: &TExpr| match (e.ty, x.ty) {
                    (Type::Number, _) => self.double(&self.expr(x)),
                    (Type::Datetime, Type::Date) => self.d.to_timestamp(&self.expr(x)),
                    _ => self.expr(x),
                };
                let whens: Vec<String> = branches
                    .iter()
                    .map(|(c, v)| format!("WHEN {} THEN {}", self.expr(c), cast(v)))
                    .collect();
                format!("CASE {} ELSE {} END", whens.join(" "), cast(otherwise))
            }
            TKind::Row { func, args } => self.row(*func, args),
            // Aggregates, KPIs and parts are not row expressions.
            TKind::Agg { .. } | TKind::Kpi(_) | TKind::Time { .. } | TKind::Part(_) => "NULL".to_string(),
        }
    }

    fn literal(&self, l: &Literal) -> String {
        match l {
            // A double, never a decimal (Spark and PostgreSQL read `1.5` as one).
            Literal::Number(n) => self.double(&format!("{n:?}")),
            Literal::String(s) => self.d.string(s),
            Literal::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
            Literal::Null => "NULL".to_string(),
            Literal::Date(d) => self.d.date_lit(*d),
            Literal::DateTime(t) => self.d.timestamp_lit(*t),
        }
    }

    fn binary(&self, op: BinaryOp, a: &TExpr, b: &TExpr) -> String {
        let (x, y) = (self.expr(a), self.expr(b));
        let (nx, ny) = (self.double(&x), self.double(&y));
        match op {
            BinaryOp::And => format!("({x} AND {y})"),
            BinaryOp::Or => format!("({x} OR {y})"),
            BinaryOp::Add => format!("({nx} + {ny})"),
            BinaryOp::Sub => format!("({nx} - {ny})"),
            BinaryOp::Mul => format!("({nx} * {ny})"),
            // Division by zero is null, never an error or infinity.
            BinaryOp::Div => format!("({nx} / NULLIF({ny}, 0))"),
            // The remainder has the sign of the dividend.
            BinaryOp::Rem => self.remainder_as_written(&nx, &ny),
            _ => self.compare(op, a, b),
        }
    }

    /// A comparison; a date against a datetime is taken at midnight.
    fn compare(&self, op: BinaryOp, a: &TExpr, b: &TExpr) -> String {
        let ts = |x: String| self.d.to_timestamp(&x);
        let (x, y) = (self.expr(a), self.expr(b));
        let (x, y) = match (a.ty, b.ty) {
            (Type::Date, Type::Datetime) => (ts(x), y),
            (Type::Datetime, Type::Date) => (x, ts(y)),
            (Type::Number, _) | (_, Type::Number) => (self.double(&x), self.double(&y)),
            (Type::String, Type::String) if !matches!(op, BinaryOp::Eq | BinaryOp::Ne) => {
                (self.d.byte_order(&x), self.d.byte_order(&y))
            }
            _ => (x, y),
        };
        let op = match op {
            BinaryOp::Eq => "=",
            BinaryOp::Ne => "<>",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            _ => ">=",
        };
        format!("({x} {op} {y})")
    }

    fn row(&self, f: RowFn, args: &[TExpr]) -> String {
        let d = self.d;
        let a = |i: usize| args.get(i).map_or("NULL".to_string(), |e| self.expr(e));
        let n = |i: usize| self.double(&a(i));
        let all = |each: &dyn Fn(&TExpr) -> String| args.iter().map(each).collect::<Vec<_>>();
        let between = |unit: f64| {
            format!(
                "(({} - {}) / {})",
                self.double(&d.epoch_micros(&a(1))),
                self.double(&d.epoch_micros(&a(0))),
                self.double(&format!("{unit:?}"))
            )
        };
        let number = |x: String| self.double(&x);
        match f {
            RowFn::Abs => format!("ABS({})", n(0)),
            RowFn::Round => {
                let scale = match args.get(1) {
                    None => RoundScale::Digits(0),
                    Some(digits) => match constant::value(digits) {
                        Some(Some(v)) => RoundScale::Digits(arithmetic::whole_digits(v)),
                        Some(None) => return "NULL".to_string(),
                        None => RoundScale::PerRow(self.whole_digits(&n(1))),
                    },
                };
                self.round_as_written(&n(0), &scale)
            }
            RowFn::Floor => format!("FLOOR({})", n(0)),
            RowFn::Ceil => format!("CEIL({})", n(0)),
            RowFn::Sqrt => format!("CASE WHEN {0} < 0 THEN NULL ELSE SQRT({0}) END", n(0)),
            RowFn::Ln => format!("CASE WHEN {0} <= 0 THEN NULL ELSE LN({0}) END", n(0)),
            RowFn::Log10 => format!("CASE WHEN {0} <= 0 THEN NULL ELSE {1} END", n(0), d.log10(&n(0))),
            RowFn::Exp => format!("EXP({})", n(0)),
            // No real value (PostgreSQL stops with an error there): null.
            RowFn::Pow => format!(
                "CASE WHEN ({0} < 0 AND {1} <> FLOOR({1})) OR ({0} = 0 AND {1} < 0) THEN NULL ELSE {2} END",
                n(0),
                n(1),
                d.pow(&n(0), &n(1))
            ),
            // Nulls are skipped, as kpi does on files: each argument stands in
            // for the others when it is null.
            RowFn::Least | RowFn::Greatest => {
                let xs = all(&|e| match e.ty {
                    Type::String => d.byte_order(&self.expr(e)),
                    _ => self.expr(e),
                });
                let filled: Vec<String> = (0..xs.len())
                    .map(|i| {
                        let mut order = vec![xs[i].clone()];
                        order.extend(
                            xs.iter()
                                .enumerate()
                                .filter(|(j, _)| *j != i)
                                .map(|(_, x)| x.clone()),
                        );
                        format!("COALESCE({})", order.join(", "))
                    })
                    .collect();
                d.extreme_of(f == RowFn::Least, &filled)
            }
            RowFn::Coalesce => format!("COALESCE({})", all(&|e| self.expr(e)).join(", ")),
            RowFn::Lower => format!("LOWER({})", a(0)),
            RowFn::Upper => format!("UPPER({})", a(0)),
            RowFn::Trim => format!("TRIM({})", a(0)),
            RowFn::Length => number(format!("LENGTH({})", a(0))),
            RowFn::Contains => d.contains(&a(0), &a(1)),
            RowFn::StartsWith => d.starts_with(&a(0), &a(1)),
            RowFn::EndsWith => d.ends_with(&a(0), &a(1)),
            RowFn::Concat => {
                let parts = all(&|e| self.text(&self.expr(e), e.ty));
                match d {
                    Dialect::BigQuery | Dialect::Spark => format!("CONCAT({})", parts.join(", ")),
                    _ => format!("({})", parts.join(" || ")),
                }
            }
            RowFn::Year => number(d.extract("YEAR", &a(0))),
            RowFn::Quarter => number(d.extract("QUARTER", &a(0))),
            RowFn::Month => number(d.extract("MONTH", &a(0))),
            RowFn::Week => number(d.iso_week(&a(0))),
            RowFn::Day => number(d.extract("DAY", &a(0))),
            RowFn::Weekday => number(d.iso_weekday(&a(0))),
            RowFn::Date => match args.first().map(|e| e.ty) {
                Some(Type::String) => super::iso_day::parse_date(d, &a(0)),
                _ => d.to_date(&a(0)),
            },
            RowFn::DateTrunc => self.date_trunc(args),
            RowFn::DaysBetween => between(86_400e6),
            RowFn::HoursBetween => between(3_600e6),
            RowFn::MinutesBetween => between(60e6),
        }
    }

    /// `date_trunc(x, unit)`: the period start, as a date or datetime like `x`.
    fn date_trunc(&self, args: &[TExpr]) -> String {
        use crate::keyword::Keyword;
        let Some(x) = args.first() else {
            return "NULL".to_string();
        };
        let grain = match args.get(1).map(|e| &e.kind) {
            Some(TKind::Lit(Literal::String(u))) => Grain::parse(u).unwrap_or(Grain::Day),
            _ => Grain::Day,
        };
        // Calendar weeks and years here, as on files (`date_trunc` is not fiscal).
        let cal = Calendar::default();
        let start = self.period_start(&self.d.to_date(&self.expr(x)), grain, &cal);
        match x.ty {
            Type::Datetime => self.d.to_timestamp(&start),
            _ => start,
        }
    }
}
