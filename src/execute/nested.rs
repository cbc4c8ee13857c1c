//! Nested aggregation, `agg(expr per dim [where cond])`: the inner
//! expression is evaluated per member of `dim` inside each output group and
//! period (a query grouped by the output dimensions and `dim`), then
//! aggregated across the members. The inner expression and condition become
//! hidden KPIs of that query; the outer aggregate becomes a column of the
//! spine that the KPI's measure reads.

use polars::prelude::*;

use super::{dim_col, key_join, PERIOD};
use crate::check::ir::{Literal, Model, TExpr, TKind};
use crate::check::types::Type;
use crate::compile::{self, Cx};
use crate::plan::{Nest, Part, Plan, UnitTime};
use crate::syntax::ast::BinaryOp;
use crate::time::Date;

/// Aggregates the members of an inner frame into the outer groups (`keys`).
pub fn aggregate(model: &Model, nest: &Nest, members: LazyFrame, keys: &[String]) -> LazyFrame {
    let part_of = |name: &str, ty: Type| TExpr {
        kind: TKind::Part(name.to_string()),
        ty,
        span: crate::span::Span::default(),
    };
    let arg = nest.inner.as_deref().map(|n| part_of(n, nest.inner_ty));
    let mut filter = nest.filter.as_deref().map(|n| part_of(n, Type::Bool));
    if nest.count_rows {
        // Members with rows in the group and period.
        let has_rows = TExpr {
            kind: TKind::Binary(
                BinaryOp::Gt,
                Box::new(part_of(&nest.column, Type::Number)),
                Box::new(TExpr {
                    kind: TKind::Lit(Literal::Number(0.0)),
                    ty: Type::Number,
                    span: crate::span::Span::default(),
                }),
            ),
            ty: Type::Bool,
            span: crate::span::Span::default(),
        };
        filter = Some(match filter {
            Some(w) => TExpr {
                kind: TKind::Binary(BinaryOp::And, Box::new(has_rows), Box::new(w)),
                ty: Type::Bool,
                span: crate::span::Span::default(),
            },
            None => has_rows,
        });
    }
    let part = Part {
        name: nest.column.clone(),
        func: nest.func,
        arg: if nest.count_rows { None } else { arg },
        filter,
        param: nest.param,
    };
    let agg = Cx::rows(model, None).part(&part);
    let by: Vec<Expr> = keys.iter().map(|k| col(k.as_str())).collect();
    if by.is_empty() {
        members.select([agg])
    } else {
        members.group_by(by).agg([agg])
    }
}

/// The members of a nested aggregate with rows around a range.
pub(super) struct Members {
    /// (member keys, period) with rows before the range's first period.
    before: DataFrame,
    /// Member keys with rows from the range's first period on.
    within: DataFrame,
}

/// The members of a nested aggregate when history before the range is
/// read (`first`: the range's first period). In a period before it, which
/// `prev` or `--compare` reads, the members with rows there, as when that
/// period is asked itself; in the range's periods, those with rows in the
/// range, so that a member with rows only before it (read for `prev`)
/// changes no value in the range and a KPI's values never depend on the
/// others asked beside it. `None` when a stock is among the units (a
/// level counts rows from any earlier day, so every member has one).
pub(super) fn members_with_rows(
    plan: &Plan,
    frames: &[&DataFrame],
    first: Date,
) -> PolarsResult<Option<Members>> {
    if frames.is_empty()
        || plan
            .units
            .iter()
            .any(|u| matches!(u.time, UnitTime::Stock { .. }))
    {
        return Ok(None);
    }
    let dims: Vec<Expr> = (0..plan.query.by.len())
        .map(|i| col(dim_col(i).as_str()).cast(DataType::String))
        .collect();
    let period = col(PERIOD).cast(DataType::Date);
    let before = compile::date_lit(first.0);
    // Before the range, (member, period) pairs; within it, members alone.
    let keys = |early: bool| -> PolarsResult<DataFrame> {
        let (when, select, mark) = if early {
            let mut select = dims.clone();
            select.push(period.clone().alias(PERIOD));
            (period.clone().lt(before.clone()), select, BEFORE)
        } else {
            (period.clone().gt_eq(before.clone()), dims.clone(), WITHIN)
        };
        let parts: Vec<LazyFrame> = frames
            .iter()
            .map(|df| (*df).clone().lazy().filter(when.clone()).select(select.clone()))
            .collect();
        concat(parts, UnionArgs::default())?
            .unique(None, UniqueKeepStrategy::Any)
            .with_column(lit(true).alias(mark))
            .collect()
    };
    Ok(Some(Members {
        before: keys(true)?,
        within: keys(false)?,
    }))
}

/// Mark the keys of [`Members`] once joined.
const BEFORE: &str = "__member_before";
const WITHIN: &str = "__member_within";

/// The members' frame with only the members of [`Members`] in each period.
pub(super) fn only_members_with_rows(lf: LazyFrame, m: Members, first: Date, dims: usize) -> LazyFrame {
    let on_dims: Vec<Expr> = (0..dims).map(|i| col(dim_col(i).as_str())).collect();
    let mut on_periods = on_dims.clone();
    on_periods.push(col(PERIOD));
    let period = col(PERIOD).cast(DataType::Date);
    let lf = lf.with_column(period.clone().alias(PERIOD));
    let lf = lf.join(m.before.lazy(), on_periods.clone(), on_periods, key_join());
    // A nest always has its member dimension: `on_dims` is never empty.
    let lf = lf.join(m.within.lazy(), on_dims.clone(), on_dims, key_join());
    let early = period.lt(compile::date_lit(first.0));
    lf.filter(
        when(early)
            .then(col(BEFORE).is_not_null())
            .otherwise(col(WITHIN).is_not_null()),
    )
    .drop(cols([BEFORE, WITHIN]))
}
