//! Parts of expressions that read no column, computed once before the query.
//!
//! Polars 0.55's common-subexpression elimination computes an expression of
//! literals alone (`contains("ab", "a")`, or a date literal turned into
//! microseconds by `days_between(@2000-01-01, closed_at)`) once, as a column
//! of one row, then fails to stack it beside the rows a range or a segment
//! leaves ("height of column `__POLARS_CSER_…` (1) does not match"): kpi
//! stopped on an internal error. A literal is never such a column, so each
//! such part is given as the literal of its value, computed by Polars itself
//! (the value the query would have computed). Numbers written in a spec are
//! worked out before this, by `check::constant`, which SQL shares.

use polars::prelude::*;

/// `e` with each cast, operator and function of literals alone replaced by
/// the literal of its value, from the innermost out.
pub fn folded(e: Expr) -> Expr {
    e.map_expr(|node| match of_literals(&node) {
        true => evaluated(node.clone()).unwrap_or(node),
        false => node,
    })
}

/// Whether `e` computes row by row from literals alone. (Aggregations,
/// windows and the like of a literal are left alone: `lit(1).sum()` counts
/// rows.)
fn of_literals(e: &Expr) -> bool {
    let row_by_row = matches!(
        e,
        Expr::Cast { .. }
            | Expr::BinaryExpr { .. }
            | Expr::Ternary { .. }
            | Expr::Function { .. }
            | Expr::AnonymousFunction { .. }
    );
    // The first node is `e` itself; the others are its inputs, literals
    // when everything beneath them was folded already.
    let mut inputs = e.into_iter().skip(1).peekable();
    row_by_row && inputs.peek().is_some() && inputs.all(|x| matches!(x, Expr::Literal(_)))
}

/// The value of `e`, an expression of no column, as a literal of its type;
/// `None` when Polars cannot compute it alone (it is then left in the query).
fn evaluated(e: Expr) -> Option<Expr> {
    let one = DataFrame::new(1, vec![Column::new("__one".into(), [0i32])]).ok()?;
    let out = one.lazy().select([e.alias("__value")]).collect().ok()?;
    let column = out.column("__value").ok()?;
    if column.len() != 1 {
        return None;
    }
    let value = column.get(0).ok()?.into_static();
    Some(lit(Scalar::new(column.dtype().clone(), value)))
}
