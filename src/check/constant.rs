//! Numbers an expression gives without reading a row (`-3`, `1 + 2`,
//! `abs(-3)`), worked out before an engine sees them, and the rounding
//! every engine's `round` follows.
//!
//! On files, Polars 0.55's common-subexpression elimination computes such an
//! expression once, as a column of one row, and then fails to stack it
//! beside the rows left by a segment's filter ("height of column
//! `__POLARS_CSER_…` (1) does not match"): `sum(amount / -3)` under
//! `--segment` stopped kpi on an internal error. A literal is never such a
//! column, so the value is given as one.

use crate::check::functions::RowFn;
use crate::check::ir::{Literal, TExpr, TKind};
use crate::syntax::ast::{BinaryOp, UnaryOp};

/// The value of `e` when it reads no row: `Some(None)` is null (`1 / 0`);
/// `None`, an expression that reads rows, or that this does not work out
/// (a function of texts or dates, a result that is not finite), left to
/// Polars as it is.
pub fn value(e: &TExpr) -> Option<Option<f64>> {
    let v = match &e.kind {
        TKind::Lit(Literal::Number(n)) => Some(*n),
        TKind::Lit(Literal::Null) => None,
        TKind::Unary(UnaryOp::Neg, a) => value(a)?.map(|x| -x),
        TKind::Binary(op, a, b) => arithmetic(*op, value(a)?, value(b)?)?,
        TKind::Row { func, args } => {
            let values: Vec<Option<f64>> = args.iter().map(value).collect::<Option<_>>()?;
            row(*func, &values)?
        }
        _ => return None,
    };
    match v {
        Some(x) if !x.is_finite() => None,
        v => Some(v),
    }
}

/// `x op y` as the compiled expression computes it: null with a null side,
/// and where it divides by zero; the remainder has the dividend's sign.
fn arithmetic(op: BinaryOp, x: Option<f64>, y: Option<f64>) -> Option<Option<f64>> {
    let f: fn(f64, f64) -> Option<f64> = match op {
        BinaryOp::Add => |x, y| Some(x + y),
        BinaryOp::Sub => |x, y| Some(x - y),
        BinaryOp::Mul => |x, y| Some(x * y),
        BinaryOp::Div => |x, y| (y != 0.0).then(|| x / y),
        BinaryOp::Rem => remainder_as_written,
        _ => return None,
    };
    Some(x.zip(y).and_then(|(x, y)| f(x, y)))
}

/// The number functions as the compiled expressions compute them.
fn row(f: RowFn, args: &[Option<f64>]) -> Option<Option<f64>> {
    let x = args.first().copied().flatten();
    let present = || args.iter().flatten().copied();
    Some(match f {
        RowFn::Abs => x.map(f64::abs),
        RowFn::Floor => x.map(f64::floor),
        RowFn::Ceil => x.map(f64::ceil),
        RowFn::Exp => x.map(f64::exp),
        RowFn::Sqrt => x.and_then(|x| (x >= 0.0).then(|| x.sqrt())),
        // As Polars' `log(base)`: the natural logarithm over the base's.
        RowFn::Ln => x.and_then(|x| (x > 0.0).then(|| x.ln() / std::f64::consts::E.ln())),
        RowFn::Log10 => x.and_then(|x| (x > 0.0).then(|| x.ln() / 10f64.ln())),
        RowFn::Pow => {
            let y = args.get(1).copied().flatten();
            x.zip(y).and_then(|(x, y)| {
                let none = (x < 0.0 && y != y.floor()) || (x == 0.0 && y < 0.0);
                (!none).then(|| x.powf(y))
            })
        }
        RowFn::Round => {
            let digits = match args.get(1) {
                Some(d) => match d {
                    Some(d) => *d,
                    None => return Some(None),
                },
                None => 0.0,
            };
            x.map(|x| round_as_written(x, whole_digits(digits)))
        }
        RowFn::Least => present().reduce(f64::min),
        RowFn::Greatest => present().reduce(f64::max),
        RowFn::Coalesce => present().next(),
        _ => return None,
    })
}

/// `x % y` with the sign of `x`, as in SQL, null where `y` is 0, and 0
/// where `x` is a multiple of `y` as the numbers are written: `1602 %
/// 0.05` is 0, though the double nearest 0.05 lies just above it and
/// divides 1602 32,039 times with 0.0499… left (C's `fmod`, Java's `%`).
/// A quotient within [`HALF_TOLERANCE`] of its size from a whole number
/// is that number. The same arithmetic runs on files and in every SQL
/// dialect.
pub fn remainder_as_written(x: f64, y: f64) -> Option<f64> {
    if y == 0.0 {
        return None;
    }
    let quotient = x / y;
    if (quotient - quotient.round()).abs() <= quotient.abs() * HALF_TOLERANCE {
        return Some(0.0);
    }
    Some(x - y * quotient.trunc())
}

/// The number of decimals `round(x, digits)` keeps: a whole number
/// (truncated toward zero), negative for tens, hundreds, …; beyond ±30 the
/// rounding changes nothing a double holds, or everything to zero.
pub fn whole_digits(digits: f64) -> i32 {
    digits.trunc().clamp(-30.0, 30.0) as i32
}

/// A scaled value this close to a half, relative to its size, is taken
/// as the half: the product of a number as written (1.005) and a power of
/// ten is off by a few units in its last place (100.49999999999999).
pub const HALF_TOLERANCE: f64 = 2e-15;
/// From here on the tolerance would reach a half itself; such a scaled
/// value holds more figures than a number is written with, and rounds as it is.
pub const TOLERANCE_BELOW: f64 = 2.5e14;
/// 2^52: a double this large has no fraction left to round.
pub const NO_FRACTION_FROM: f64 = 4_503_599_627_370_496.0;

/// `x` rounded to `digits` decimals (tens, hundreds, … when negative), half
/// away from zero, as the number is written: `round(1.005, 2)` is 1.01,
/// `round(2.675, 2)` 2.68 and `round(0.15, 1)` 0.2, though the doubles
/// nearest those numbers lie just below the half, where scaling and
/// rounding the double (Polars' `round`, SQL's on a double) goes down.
/// The same arithmetic runs on files (`compile`) and in every SQL dialect
/// (`sql`), so they agree to the last digit.
pub fn round_as_written(x: f64, digits: i32) -> f64 {
    let power = 10f64.powi(digits.abs());
    let scaled = if digits >= 0 { x * power } else { x / power };
    let size = scaled.abs();
    if size.is_nan() || size >= NO_FRACTION_FROM {
        return x;
    }
    let tolerance = if size < TOLERANCE_BELOW {
        size * HALF_TOLERANCE
    } else {
        0.0
    };
    let units = (size + 0.5 + tolerance).floor().copysign(scaled);
    if digits >= 0 {
        units / power
    } else {
        units * power
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::types::Type;

    fn t(kind: TKind) -> TExpr {
        TExpr {
            kind,
            ty: Type::Number,
            span: crate::span::Span::default(),
        }
    }

    fn number(n: f64) -> TExpr {
        t(TKind::Lit(Literal::Number(n)))
    }

    #[test]
    fn constant_arithmetic_is_worked_out_with_kpis_rules() {
        let neg = |a| t(TKind::Unary(UnaryOp::Neg, Box::new(a)));
        let bin = |op, a, b| t(TKind::Binary(op, Box::new(a), Box::new(b)));
        assert_eq!(value(&neg(number(3.0))), Some(Some(-3.0)));
        assert_eq!(
            value(&bin(BinaryOp::Add, number(1.0), number(2.0))),
            Some(Some(3.0))
        );
        // Division by zero is null; the remainder keeps the dividend's sign.
        assert_eq!(value(&bin(BinaryOp::Div, number(1.0), number(0.0))), Some(None));
        assert_eq!(
            value(&bin(BinaryOp::Rem, number(-30.0), number(7.0))),
            Some(Some(-2.0))
        );
        let row = |func, args| t(TKind::Row { func, args });
        assert_eq!(value(&row(RowFn::Abs, vec![neg(number(3.0))])), Some(Some(3.0)));
        assert_eq!(value(&row(RowFn::Sqrt, vec![number(-1.0)])), Some(None));
        assert_eq!(
            value(&row(RowFn::Pow, vec![number(0.0), number(-1.0)])),
            Some(None)
        );
        assert_eq!(
            value(&row(
                RowFn::Least,
                vec![number(2.0), t(TKind::Lit(Literal::Null)), number(-1.0)]
            )),
            Some(Some(-1.0))
        );
        assert_eq!(
            value(&row(RowFn::Round, vec![number(1.005), number(2.0)])),
            Some(Some(1.01))
        );
        assert_eq!(value(&row(RowFn::Round, vec![number(2.5)])), Some(Some(3.0)));
        // Not finite: left to the engine.
        assert_eq!(value(&row(RowFn::Exp, vec![number(1000.0)])), None);
        // A column is read from the rows.
        let amount = t(TKind::Column {
            dataset: 0,
            name: "amount".into(),
        });
        assert_eq!(value(&bin(BinaryOp::Div, amount, number(-3.0))), None);
    }
}

#[cfg(test)]
mod rounding {
    use super::remainder_as_written as rem;
    use super::round_as_written as r;

    #[test]
    fn remainders_keep_the_dividends_sign_and_see_multiples_as_written() {
        assert_eq!(rem(-30.0, 7.0), Some(-2.0));
        assert_eq!(rem(30.0, -7.0), Some(2.0));
        assert_eq!(rem(7.5, 2.0), Some(1.5));
        assert_eq!(rem(1.0, 0.0), None);
        // fmod gives 0.0499… for each: the doubles of 0.05 and 777.3 are not exact.
        assert_eq!(rem(1602.0, -0.05), Some(0.0));
        assert_eq!(rem(777.3, 0.05), Some(0.0));
        assert_eq!(rem(2395.0, -0.05), Some(0.0));
        assert_eq!(rem(0.3, 0.1), Some(0.0));
        let r = rem(0.35, 0.1).unwrap();
        assert!((r - 0.05).abs() < 1e-12, "{r}");
    }

    #[test]
    fn halves_round_away_from_zero_as_the_number_is_written() {
        // The doubles nearest these lie just below the half.
        assert_eq!(r(1.005, 2), 1.01);
        assert_eq!(r(2.675, 2), 2.68);
        assert_eq!(r(1.015, 2), 1.02);
        assert_eq!(r(0.15, 1), 0.2);
        assert_eq!(r(0.285, 2), 0.29);
        assert_eq!(r(-1.005, 2), -1.01);
        assert_eq!(r(2.5, 0), 3.0);
        assert_eq!(r(-2.5, 0), -3.0);
        assert_eq!(r(0.5, 0), 1.0);
        assert_eq!(r(1.00499999999, 2), 1.0);
        assert_eq!(r(1.004, 2), 1.0);
        assert_eq!(r(1.006, 2), 1.01);
    }

    #[test]
    fn negative_digits_round_to_tens_and_hundreds() {
        assert_eq!(r(1250.0, -2), 1300.0);
        assert_eq!(r(-1250.0, -2), -1300.0);
        assert_eq!(r(1249.99, -2), 1200.0);
        assert_eq!(r(45.0, -1), 50.0);
        assert_eq!(r(4.0, -1), 0.0);
        assert_eq!(r(5.0, -1), 10.0);
        assert_eq!(r(0.5, -3), 0.0);
    }

    #[test]
    fn what_has_no_digits_to_round_is_kept() {
        assert_eq!(r(123.456, 5), 123.456);
        assert_eq!(r(1e300, 2), 1e300);
        assert_eq!(r(9_007_199_254_740_993.0, 0), 9_007_199_254_740_993.0);
        assert!(r(f64::NAN, 2).is_nan());
        assert_eq!(r(f64::INFINITY, 2), f64::INFINITY);
        assert_eq!(r(0.0, 2), 0.0);
        assert_eq!(r(1e-20, 2), 0.0);
        assert_eq!(r(0.004, 2), 0.0);
        assert_eq!(r(0.005, 2), 0.01);
    }
}
