//! Numbers an expression gives without reading a row (`-3`, `1 + 2`,
//! `abs(-3)`), worked out before an engine sees them.
//!
//! On files, Polars 0.55's common-subexpression elimination computes such an
//! expression once, as a column of one row, and then fails to stack it
//! beside the rows left by a segment's filter ("height of column
//! `__POLARS_CSER_…` (1) does not match"): `sum(amount / -3)` under
//! `--segment` stopped kpi on an internal error. A literal is never such a
//! column, so the value is given as one. SQL prints the same values, so
//! every engine computes them alike; on files, what this does not work out
//! (texts, dates, conditions) is computed once by Polars before the query
//! (`compile::once`).

use crate::check::arithmetic::{remainder_as_written, round_as_written, whole_digits};
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
        RowFn::Ln => x.and_then(|x| (x > 0.0).then(|| x.ln())),
        RowFn::Log10 => x.and_then(|x| (x > 0.0).then(|| x.log10())),
        RowFn::Pow => {
            let y = args.get(1).copied().flatten();
            x.zip(y).and_then(|(x, y)| {
                let none = (x < 0.0 && y != y.floor()) || (x == 0.0 && y < 0.0);
                (!none).then(|| x.powf(y))
            })
        }
        RowFn::Round => {
            let digits = match args.get(1) {
                Some(None) => return Some(None),
                Some(Some(d)) => *d,
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
