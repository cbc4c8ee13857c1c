//! Nested aggregation, `agg(expr per dim [where cond])`: the inner
//! expression is evaluated per member of `dim` inside each output group and
//! period (a query grouped by the output dimensions and `dim`), then
//! aggregated across the members. The inner expression and condition become
//! hidden KPIs of that query; the outer aggregate becomes a column of the
//! spine that the KPI's measure reads.

use polars::prelude::*;

use crate::check::ir::{Literal, Model, TExpr, TKind};
use crate::check::types::Type;
use crate::compile::Cx;
use crate::plan::{Nest, Part};
use crate::syntax::ast::BinaryOp;

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
