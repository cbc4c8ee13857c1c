//! The normal form of an expression, for telling a real change from a
//! rewrite: printed canonically (so whitespace, quoting and parentheses do
//! not count), with the operands of commutative operators (`+ * and or ==
//! !=`) and the items of `in` lists in sorted order, and `15%` as `0.15`.

use super::ast::{BinaryOp, Expr, ExprKind};
use super::print;

/// The normal form as text: equal for expressions that differ only in form.
pub fn normal_form(e: &Expr) -> String {
    print(&normalize(e))
}

fn commutative(op: BinaryOp) -> bool {
    matches!(
        op,
        BinaryOp::Add | BinaryOp::Mul | BinaryOp::And | BinaryOp::Or | BinaryOp::Eq | BinaryOp::Ne
    )
}

/// The operands of a chain of `op` (`a + b + c` → a, b, c).
fn chain<'a>(e: &'a Expr, op: BinaryOp, out: &mut Vec<&'a Expr>) {
    match &e.kind {
        ExprKind::Binary {
            op: o, left, right, ..
        } if *o == op && matches!(op, BinaryOp::Add | BinaryOp::Mul | BinaryOp::And | BinaryOp::Or) => {
            chain(left, op, out);
            chain(right, op, out);
        }
        _ => out.push(e),
    }
}

fn normalize(e: &Expr) -> Expr {
    let mut out = e.clone();
    match &e.kind {
        ExprKind::Percent(n) => out.kind = ExprKind::Number(n / 100.0),
        ExprKind::Binary {
            op,
            op_span,
            left,
            right,
        } if commutative(*op) => {
            let mut operands = Vec::new();
            if matches!(op, BinaryOp::Eq | BinaryOp::Ne) {
                operands.push(left.as_ref());
                operands.push(right.as_ref());
            } else {
                chain(e, *op, &mut operands);
            }
            let mut normal: Vec<(String, Expr)> = operands
                .into_iter()
                .map(|o| {
                    let n = normalize(o);
                    (print(&n), n)
                })
                .collect();
            normal.sort_by(|a, b| a.0.cmp(&b.0));
            let mut items = normal.into_iter().map(|(_, n)| n);
            if let Some(first) = items.next() {
                out = items.fold(first, |acc, n| Expr {
                    span: e.span,
                    kind: ExprKind::Binary {
                        op: *op,
                        op_span: *op_span,
                        left: Box::new(acc),
                        right: Box::new(n),
                    },
                });
            }
        }
        ExprKind::Binary {
            op,
            op_span,
            left,
            right,
        } => {
            // `10 < amount` is `amount > 10`: comparisons face one way.
            let (op, left, right) = match op {
                BinaryOp::Lt => (BinaryOp::Gt, right, left),
                BinaryOp::Le => (BinaryOp::Ge, right, left),
                _ => (*op, left, right),
            };
            out.kind = ExprKind::Binary {
                op,
                op_span: *op_span,
                left: Box::new(normalize(left)),
                right: Box::new(normalize(right)),
            }
        }
        ExprKind::Unary { op, op_span, expr } => {
            out.kind = ExprKind::Unary {
                op: *op,
                op_span: *op_span,
                expr: Box::new(normalize(expr)),
            }
        }
        ExprKind::In {
            expr,
            list,
            negated,
            op_span,
        } => {
            let mut items: Vec<(String, Expr)> = list
                .iter()
                .map(|i| {
                    let n = normalize(i);
                    (print(&n), n)
                })
                .collect();
            items.sort_by(|a, b| a.0.cmp(&b.0));
            items.dedup_by(|a, b| a.0 == b.0);
            out.kind = ExprKind::In {
                expr: Box::new(normalize(expr)),
                list: items.into_iter().map(|(_, n)| n).collect(),
                negated: *negated,
                op_span: *op_span,
            }
        }
        ExprKind::Between {
            expr,
            low,
            high,
            op_span,
        } => {
            out.kind = ExprKind::Between {
                expr: Box::new(normalize(expr)),
                low: Box::new(normalize(low)),
                high: Box::new(normalize(high)),
                op_span: *op_span,
            }
        }
        ExprKind::IsNull {
            expr,
            negated,
            op_span,
        } => {
            out.kind = ExprKind::IsNull {
                expr: Box::new(normalize(expr)),
                negated: *negated,
                op_span: *op_span,
            }
        }
        ExprKind::If { branches, otherwise } => {
            out.kind = ExprKind::If {
                branches: branches
                    .iter()
                    .map(|(c, v)| (normalize(c), normalize(v)))
                    .collect(),
                otherwise: Box::new(normalize(otherwise)),
            }
        }
        ExprKind::Call(call) => {
            let mut c = call.clone();
            c.args = call.args.iter().map(normalize).collect();
            c.filter = call.filter.as_ref().map(|f| Box::new(normalize(f)));
            out.kind = ExprKind::Call(c);
        }
        _ => {}
    }
    out
}
