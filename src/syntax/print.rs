//! Canonical text of an expression: minimal parentheses, double-quoted
//! strings. `parse(print(e)) == e` for every tree the parser builds.

use std::fmt::Write as _;

use super::ast::{Expr, ExprKind, Ident, Name, UnaryOp};

pub fn print(expr: &Expr) -> String {
    let mut out = String::new();
    write_expr(&mut out, expr);
    out
}

/// Binding strength of a node as an operand; higher binds tighter.
fn strength(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::If { .. } => 0,
        ExprKind::Binary { op, .. } => op.precedence(),
        ExprKind::Unary { op: UnaryOp::Not, .. } => 3,
        ExprKind::In { .. } | ExprKind::Between { .. } | ExprKind::IsNull { .. } => 4,
        ExprKind::Unary { op: UnaryOp::Neg, .. } => 7,
        _ => 8,
    }
}

fn operand(out: &mut String, e: &Expr, min: u8) {
    if strength(e) < min {
        out.push('(');
        write_expr(out, e);
        out.push(')');
    } else {
        write_expr(out, e);
    }
}

fn write_expr(out: &mut String, e: &Expr) {
    match &e.kind {
        ExprKind::Number(n) => out.push_str(&number(*n)),
        ExprKind::Percent(n) => {
            out.push_str(&number(*n));
            out.push('%');
        }
        ExprKind::String(s) => string(out, s),
        ExprKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        ExprKind::Null => out.push_str("null"),
        ExprKind::Date(d) => {
            let _ = write!(out, "@{d}");
        }
        ExprKind::DateTime(d) => {
            let _ = write!(out, "@{d}");
        }
        ExprKind::Name(n) => name(out, n),
        ExprKind::Unary {
            op: UnaryOp::Neg,
            expr,
            ..
        } => {
            out.push('-');
            operand(out, expr, 7);
        }
        ExprKind::Unary {
            op: UnaryOp::Not,
            expr,
            ..
        } => {
            out.push_str("not ");
            operand(out, expr, 3);
        }
        ExprKind::Binary { op, left, right, .. } => {
            let p = op.precedence();
            // Comparisons do not chain, so a comparison operand needs parentheses.
            let left_min = if op.is_comparison() { p + 1 } else { p };
            operand(out, left, left_min);
            let _ = write!(out, " {} ", op.symbol());
            operand(out, right, p + 1);
        }
        ExprKind::In {
            expr, list, negated, ..
        } => {
            operand(out, expr, 5);
            out.push_str(if *negated { " not in [" } else { " in [" });
            for (i, item) in list.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_expr(out, item);
            }
            out.push(']');
        }
        ExprKind::Between { expr, low, high, .. } => {
            operand(out, expr, 5);
            out.push_str(" between ");
            operand(out, low, 5);
            out.push_str(" and ");
            operand(out, high, 5);
        }
        ExprKind::IsNull { expr, negated, .. } => {
            operand(out, expr, 5);
            out.push_str(if *negated { " is not null" } else { " is null" });
        }
        ExprKind::If { branches, otherwise } => {
            for (i, (c, v)) in branches.iter().enumerate() {
                out.push_str(if i == 0 { "if " } else { " elif " });
                write_expr(out, c);
                out.push_str(" then ");
                write_expr(out, v);
            }
            out.push_str(" else ");
            write_expr(out, otherwise);
        }
        ExprKind::Call(call) => {
            ident(out, &call.func);
            out.push('(');
            for (i, a) in call.args.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_expr(out, a);
            }
            if !call.per.is_empty() {
                if !call.args.is_empty() {
                    out.push(' ');
                }
                out.push_str("per ");
                for (i, n) in call.per.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    name(out, n);
                }
            }
            if let Some(w) = &call.filter {
                if !call.args.is_empty() || !call.per.is_empty() {
                    out.push(' ');
                }
                out.push_str("where ");
                write_expr(out, w);
            }
            out.push(')');
        }
    }
}

/// Shortest text that reads back as the same number.
pub fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
}

const KEYWORDS: [&str; 15] = [
    "and", "or", "not", "in", "between", "is", "null", "true", "false", "if", "then", "elif", "else", "per",
    "where",
];

fn ident(out: &mut String, i: &Ident) {
    out.push_str(&written_name(&i.name));
}

/// A column's name as an expression writes it: bare when it is one word
/// and no keyword, else between backticks (`` `Deal Stage` ``).
pub fn written_name(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&name);
    match plain {
        true => name.to_string(),
        false => format!("`{name}`"),
    }
}

fn name(out: &mut String, n: &Name) {
    if let Some(q) = &n.qualifier {
        ident(out, q);
        out.push('.');
    }
    ident(out, &n.ident);
}
