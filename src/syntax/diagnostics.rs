//! Diagnostics of the expression parser.

use super::ast::BinaryOp;
use crate::diagnostic::Diagnostic;
use crate::span::Span;

pub fn syntax_error(span: Span, expected: &str, found: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::syntax_error",
        format!("syntax error: expected {expected}, found {found}"),
    )
    .at(span, format!("expected {expected}"))
    .help("see docs/language.md for the expression grammar")
}

pub fn unclosed_delimiter(span: Span, open: char, close: char) -> Diagnostic {
    Diagnostic::error("kpi::unclosed_delimiter", format!("`{open}` is never closed"))
        .at(span, "opened here")
        .help(format!("add the matching `{close}`"))
}

pub fn unexpected_closing(span: Span, close: char) -> Diagnostic {
    Diagnostic::error(
        "kpi::unexpected_closing",
        format!("`{close}` has no matching opening delimiter"),
    )
    .at(span, "nothing to close here")
    .help(format!("remove this `{close}` or add its opening partner"))
}

pub fn mismatched_delimiter(span: Span, open_span: Span, open: char, close: char) -> Diagnostic {
    Diagnostic::error(
        "kpi::mismatched_delimiter",
        format!("`{close}` does not match the `{open}` it closes"),
    )
    .at(span, "mismatched closing delimiter")
    .also(open_span, "opened here")
    .help(format!("close `{open}` before `{close}`"))
}

pub fn unterminated_string(span: Span) -> Diagnostic {
    Diagnostic::error("kpi::unterminated_string", "string is never closed")
        .at(span, "string starts here")
        .help("add the closing quote; inside YAML, quote the whole field with the other kind of quote")
}

pub fn unknown_escape(span: Span, esc: &str) -> Diagnostic {
    Diagnostic::error("kpi::unknown_escape", format!("unknown escape `{esc}` in string"))
        .at(span, "unknown escape")
        .help(r#"the escapes are \" \' \\ \n \t \r"#)
}

pub fn invalid_date(span: Span, text: &str) -> Diagnostic {
    Diagnostic::error("kpi::invalid_date", format!("`{text}` is not a valid date"))
        .at(span, "no such date or time")
        .help("write dates as @YYYY-MM-DD or @YYYY-MM-DDTHH:MM[:SS]")
}

pub fn invalid_number(span: Span, text: &str) -> Diagnostic {
    Diagnostic::error("kpi::invalid_number", format!("`{text}` is not a valid number"))
        .at(span, "not a number")
        .help("write numbers as 1, 1.5, 1_000_000 or 2e6")
}

pub fn chained_comparison(span: Span) -> Diagnostic {
    Diagnostic::error("kpi::chained_comparison", "comparisons cannot be chained")
        .at(span, "second comparison")
        .help("write `a < b and b < c`, or `b between a and c`")
}

pub fn too_deep(span: Span, max: usize) -> Diagnostic {
    Diagnostic::error(
        "kpi::expression_too_deep",
        format!("expression is nested more than {max} levels deep"),
    )
    .at(span, "too deeply nested")
    .help("split the expression into several KPIs or dimensions")
}

/// [`too_deep`] of an expression holding a long chain of `op`s, each of
/// which nests the rest one level deeper.
pub fn chain_too_deep(span: Span, max: usize, op: BinaryOp) -> Diagnostic {
    let symbol = op.symbol();
    let help = match op {
        BinaryOp::Or => "compare with a list rather than a chain of `or`s (`stage in [\"won\", \"lost\"]`), or split the conditions into several KPIs or segments".to_string(),
        BinaryOp::Add | BinaryOp::Sub => "add the terms in several KPIs and add those in a derived KPI (`total: {measure: part_1 + part_2}`)".to_string(),
        _ => format!("split the chain of `{symbol}`s into several KPIs or dimensions"),
    };
    Diagnostic::error(
        "kpi::expression_too_deep",
        format!("expression is nested more than {max} levels deep: in a chain of operations such as `{symbol}`, each nests the ones before it one level deeper"),
    )
    .at(span, "too deeply nested")
    .help(help)
}

pub fn too_long(span: Span, len: usize, max: usize) -> Diagnostic {
    Diagnostic::error(
        "kpi::expression_too_long",
        format!("expression is {len} bytes long; the limit is {max}"),
    )
    .at(span, "too long")
    .help("split the expression into several KPIs or dimensions")
}

pub fn empty_expression(span: Span) -> Diagnostic {
    Diagnostic::error("kpi::empty_expression", "expression is empty")
        .at(span, "an expression is needed here")
        .help("write an expression, e.g. `sum(amount)`")
}

/// An expression whose parse would take too long (see the parser's call limit).
pub fn too_complex(span: Span) -> Diagnostic {
    Diagnostic::error(
        "kpi::expression_too_complex",
        "expression is too complex to parse: it nests `if`s and `between`s so that every reading has to be tried",
    )
    .at(span, "too complex")
    .help("add parentheses around `if … then … else …` and around the bounds of `between`, or split it into several KPIs")
}
