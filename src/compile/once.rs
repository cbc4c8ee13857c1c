//! Expressions that read no row, computed once before the query.
//!
//! Polars 0.55's common-subexpression elimination computes an expression of
//! literals (`contains("ab", "a")`, `hours_between(@2025-01-31T09:30:00,
//! @2025-02-01T00:00:00)`) once, as a column of one row, then fails to stack
//! it beside the rows a range or a segment leaves ("height of column
//! `__POLARS_CSER_…` (1) does not match"), an internal error. A literal is
//! never such a column, so the value is given as one, computed by Polars
//! itself, so it is the value the query would have computed. (Numbers are
//! worked out without Polars, by `check::constant`, which SQL shares.)

use polars::prelude::*;

/// The value of `e`, an expression of no column, as a literal of its type;
/// `None` when Polars cannot compute it alone (it is then left in the query).
pub fn evaluated(e: Expr) -> Option<Expr> {
    let one = DataFrame::new(1, vec![Column::new("__one".into(), [0i32])]).ok()?;
    let out = one.lazy().select([e.alias("__value")]).collect().ok()?;
    let column = out.column("__value").ok()?;
    if column.len() != 1 {
        return None;
    }
    let value = column.get(0).ok()?.into_static();
    Some(lit(Scalar::new(column.dtype().clone(), value)))
}
