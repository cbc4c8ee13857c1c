//! The texts a spec compares columns with (`stage == "won"`, `source in
//! ["web", "event"]`), for `kpi check --data` to look for in the data: a
//! text no row holds (`"Won"` where the data says `won`) filters every row
//! out, or none, and the numbers come out 0 without a word.

use super::ir::{DatasetId, Literal, Model, TExpr, TKind};
use super::types::Type;
use crate::span::Span;
use crate::syntax::ast::BinaryOp;

/// A text compared with a column of a dataset, where it is written.
#[derive(Clone, Debug, PartialEq)]
pub struct TextCompared {
    pub dataset: DatasetId,
    pub column: String,
    pub text: String,
    pub span: Span,
}

/// Every text compared with a text column, by `==`, `!=`, `in` or `not
/// in`, in computed dimensions, KPIs (measures, their filters, `where:`),
/// segments and funnel steps; each once.
pub fn texts_compared(model: &Model) -> Vec<TextCompared> {
    let mut out = Vec::new();
    for d in &model.datasets {
        for dim in &d.dimensions {
            walk(&dim.expr, &mut out);
        }
    }
    for k in &model.kpis {
        match &k.kind {
            super::ir::KpiKind::Base { measure, filter, .. } => {
                walk(measure, &mut out);
                if let Some(f) = filter {
                    walk(f, &mut out);
                }
            }
            super::ir::KpiKind::Derived { measure } => walk(measure, &mut out),
        }
    }
    for s in &model.segments {
        for (_, e) in &s.on {
            walk(e, &mut out);
        }
    }
    for f in &model.funnels {
        for e in f.steps.iter().filter_map(|(_, e)| e.as_ref()) {
            walk(e, &mut out);
        }
    }
    // Each once, in the order written, through a set: every comparison is
    // where it is written, so a spec of thousands of KPIs has thousands.
    let mut seen = std::collections::HashSet::new();
    out.retain(|t| seen.insert((t.dataset, t.column.clone(), t.text.clone(), t.span)));
    out
}

fn walk(e: &TExpr, out: &mut Vec<TextCompared>) {
    match &e.kind {
        TKind::Binary(BinaryOp::Eq | BinaryOp::Ne, l, r) => {
            for (c, t) in [(l, r), (r, l)] {
                out.extend(compared(c, t));
            }
        }
        TKind::In { expr, list, .. } => out.extend(list.iter().filter_map(|t| compared(expr, t))),
        _ => {}
    }
    e.for_each_child(|child| walk(child, out));
}

/// `text` set against `column`, when they are a text column and a text.
fn compared(column: &TExpr, text: &TExpr) -> Option<TextCompared> {
    match (&column.kind, &text.kind) {
        (TKind::Column { dataset, name }, TKind::Lit(Literal::String(s))) if column.ty == Type::String => {
            Some(TextCompared {
                dataset: *dataset,
                column: name.clone(),
                text: s.clone(),
                span: text.span,
            })
        }
        _ => None,
    }
}
