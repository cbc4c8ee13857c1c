//! pest grammar + Pratt parser → [`Expr`].

use std::sync::LazyLock;

use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser as _;

use super::ast::{At, BinaryOp, Call, Expr, ExprKind, Ident, Name, UnaryOp};
use super::diagnostics as diag;
use super::lex;
use super::rebase::Rebase;
use crate::diagnostic::Diagnostic;
use crate::time::{Date, DateTime};

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/kpi.pest"]
struct Grammar;

/// Deepest nesting an expression may have.
pub const MAX_DEPTH: usize = 256;
/// Longest expression text, in bytes. No real definition comes near it; the
/// limit keeps hostile input cheap.
pub const MAX_LEN: usize = 64 * 1024;
/// Inputs shorter than this cannot nest deep enough to need a larger stack
/// once the scan has passed them. A chain of operators counts as nesting:
/// `a + b + c` is `(a + b) + c`.
const SMALL: usize = 4 * 1024;

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::or_op, Assoc::Left))
        .op(Op::infix(Rule::and_op, Assoc::Left))
        .op(Op::prefix(Rule::not_op))
        .op(Op::infix(Rule::eq, Assoc::Left)
            | Op::infix(Rule::ne, Assoc::Left)
            | Op::infix(Rule::lt, Assoc::Left)
            | Op::infix(Rule::le, Assoc::Left)
            | Op::infix(Rule::gt, Assoc::Left)
            | Op::infix(Rule::ge, Assoc::Left)
            | Op::postfix(Rule::in_op)
            | Op::postfix(Rule::not_in_op)
            | Op::postfix(Rule::between_op)
            | Op::postfix(Rule::is_null)
            | Op::postfix(Rule::is_not_null))
        .op(Op::infix(Rule::add, Assoc::Left) | Op::infix(Rule::sub, Assoc::Left))
        .op(Op::infix(Rule::mul, Assoc::Left)
            | Op::infix(Rule::div, Assoc::Left)
            | Op::infix(Rule::rem, Assoc::Left))
        .op(Op::prefix(Rule::neg))
});

/// Parses one expression field. `rebase` maps offsets in `text` to the file.
pub fn parse(text: &str, rebase: &Rebase) -> Result<Expr, Diagnostic> {
    if text.trim().is_empty() {
        return Err(diag::empty_expression(rebase.whole_span()));
    }
    if text.len() > MAX_LEN {
        return Err(diag::too_long(rebase.whole_span(), text.len(), MAX_LEN));
    }
    lex::scan(text, rebase, MAX_DEPTH)?;
    if text.len() <= SMALL {
        return parse_checked(text, rebase);
    }
    // A long text can hold a long operator chain or deep `if`s: build, measure
    // and (when too deep) drop the tree on a thread with room to recurse.
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn_scoped(s, || parse_checked(text, rebase))
            .map_err(|_| diag::too_deep(rebase.whole_span(), MAX_DEPTH))?
            .join()
            .unwrap_or_else(|_| Err(diag::too_deep(rebase.whole_span(), MAX_DEPTH)))
    })
}

fn parse_checked(text: &str, rebase: &Rebase) -> Result<Expr, Diagnostic> {
    let expr = parse_unchecked(text, rebase)?;
    if let Some(deep) = too_deep(&expr, MAX_DEPTH) {
        return Err(match long_chain(&expr, MAX_DEPTH / 2) {
            Some(op) => diag::chain_too_deep(deep.span, MAX_DEPTH, op),
            None => diag::too_deep(deep.span, MAX_DEPTH),
        });
    }
    Ok(expr)
}

/// The operator of a chain in `expr` of more than `longest` operations of
/// one precedence (`a + b - c + …`, `x == 1 or x == 2 or …`): `a + b + c`
/// is `(a + b) + c`, so a chain nests as deep as it is long, which its
/// writer does not see. One pass, without recursion: the tree may be as
/// deep as the text is long.
fn long_chain(expr: &Expr, longest: usize) -> Option<BinaryOp> {
    // Each node with the chain it continues: the precedence of the
    // operation whose left operand it is, and that chain's length so far.
    let mut stack: Vec<(&Expr, Option<(u8, usize)>)> = vec![(expr, None)];
    while let Some((e, chain)) = stack.pop() {
        let ExprKind::Binary { op, left, right, .. } = &e.kind else {
            e.for_each_child(|c| stack.push((c, None)));
            continue;
        };
        let level = op.precedence();
        let length = match chain {
            Some((l, n)) if l == level => n + 1,
            _ => 1,
        };
        if length > longest {
            return Some(*op);
        }
        stack.push((left, Some((level, length))));
        stack.push((right, None));
    }
    None
}

/// The first node found below `max` levels.
fn too_deep(expr: &Expr, max: usize) -> Option<&Expr> {
    if max == 0 {
        return Some(expr);
    }
    let mut found = None;
    expr.for_each_child(|c| {
        if found.is_none() {
            found = too_deep(c, max - 1);
        }
    });
    found
}

/// Rule calls one parse may make. PEG parsing backtracks: a failure deep
/// inside an `if` in a `between` bound re-parses the rest once more at every
/// level, which doubles the work per level (a 1 KB expression found by
/// fuzzing took half a minute). A valid expression within the length and
/// depth limits needs far fewer calls; past the bound the expression is
/// refused as too complex instead of hanging `kpi check`.
const CALL_LIMIT: usize = 5_000_000;

fn parse_unchecked(text: &str, rebase: &Rebase) -> Result<Expr, Diagnostic> {
    // Most expressions are read directly; the grammar reads the rest, and
    // gives every diagnostic.
    match super::direct::parse(text, rebase) {
        Some(e) => Ok(e),
        None => parse_by_grammar(text, rebase),
    }
}

/// The grammar's parser alone.
pub(super) fn parse_by_grammar(text: &str, rebase: &Rebase) -> Result<Expr, Diagnostic> {
    pest::set_call_limit(std::num::NonZeroUsize::new(CALL_LIMIT));
    let mut pairs = match Grammar::parse(Rule::expression, text) {
        Ok(p) => p,
        Err(e) if is_call_limit(&e) => return Err(diag::too_complex(rebase.whole_span())),
        Err(_) => {
            // Parse again with attempt tracking, which costs time only on errors.
            pest::set_error_detail(true);
            let detailed = Grammar::parse(Rule::expression, text);
            pest::set_error_detail(false);
            return Err(match detailed {
                Err(e) if is_call_limit(&e) => diag::too_complex(rebase.whole_span()),
                Err(e) => word_error(text, rebase, &e),
                Ok(_) => diag::empty_expression(rebase.whole_span()),
            });
        }
    };
    let Some(top) = pairs.next() else {
        return Err(diag::empty_expression(rebase.whole_span()));
    };
    let cx = Cx { rebase };
    let Some(expr) = top.into_inner().find(|p| p.as_rule() == Rule::expr) else {
        return Err(diag::empty_expression(rebase.whole_span()));
    };
    cx.expr(expr)
}

fn is_call_limit(e: &pest::error::Error<Rule>) -> bool {
    matches!(&e.variant, pest::error::ErrorVariant::CustomError { message } if message.contains("call limit"))
}

struct Cx<'a> {
    rebase: &'a Rebase,
}

/// An expression and whether it is a bare (unparenthesised) comparison,
/// which may not be the operand of another comparison.
type Built = Result<(Expr, bool), Diagnostic>;

impl Cx<'_> {
    fn span(&self, p: &Pair<Rule>) -> crate::span::Span {
        let s = p.as_span();
        self.rebase.span(s.start(), s.end())
    }

    fn expr(&self, pair: Pair<Rule>) -> Result<Expr, Diagnostic> {
        self.operators(pair.into_inner()).map(|(e, _)| e)
    }

    fn operators(&self, pairs: Pairs<Rule>) -> Built {
        PRATT
            .map_primary(|p| self.primary(p).map(|e| (e, false)))
            .map_prefix(|op, rhs| {
                let (rhs, _) = rhs?;
                let op_span = self.span(&op);
                let uop = if op.as_rule() == Rule::neg {
                    UnaryOp::Neg
                } else {
                    UnaryOp::Not
                };
                let span = op_span.to(rhs.span);
                Ok((
                    Expr {
                        kind: ExprKind::Unary {
                            op: uop,
                            op_span: At(op_span),
                            expr: Box::new(rhs),
                        },
                        span,
                    },
                    false,
                ))
            })
            .map_postfix(|lhs, op| {
                let (lhs, bare_cmp) = lhs?;
                let op_span = self.span(&op);
                if bare_cmp {
                    return Err(diag::chained_comparison(op_span));
                }
                let span = lhs.span.to(op_span);
                let expr = Box::new(lhs);
                let rule = op.as_rule();
                let kind = match rule {
                    Rule::in_op | Rule::not_in_op => {
                        let list = op
                            .into_inner()
                            .find(|p| p.as_rule() == Rule::list)
                            .map(|l| {
                                l.into_inner()
                                    .filter(|p| p.as_rule() == Rule::expr)
                                    .map(|e| self.expr(e))
                                    .collect()
                            })
                            .transpose()?
                            .unwrap_or_default();
                        ExprKind::In {
                            expr,
                            list,
                            negated: rule == Rule::not_in_op,
                            op_span: At(op_span),
                        }
                    }
                    Rule::between_op => {
                        let mut bounds = op.into_inner().filter(|p| p.as_rule() == Rule::sum_expr);
                        let (Some(low), Some(high)) = (bounds.next(), bounds.next()) else {
                            return Err(diag::syntax_error(
                                op_span,
                                "two bounds",
                                "an incomplete `between`",
                            ));
                        };
                        let low = Box::new(self.expr(low)?);
                        let high = Box::new(self.expr(high)?);
                        ExprKind::Between {
                            expr,
                            low,
                            high,
                            op_span: At(op_span),
                        }
                    }
                    _ => ExprKind::IsNull {
                        expr,
                        negated: rule == Rule::is_not_null,
                        op_span: At(op_span),
                    },
                };
                Ok((Expr { kind, span }, true))
            })
            .map_infix(|lhs, op, rhs| {
                let (lhs, lhs_cmp) = lhs?;
                let (rhs, _) = rhs?;
                let op_span = self.span(&op);
                let bop = match op.as_rule() {
                    Rule::or_op => BinaryOp::Or,
                    Rule::and_op => BinaryOp::And,
                    Rule::eq => BinaryOp::Eq,
                    Rule::ne => BinaryOp::Ne,
                    Rule::lt => BinaryOp::Lt,
                    Rule::le => BinaryOp::Le,
                    Rule::gt => BinaryOp::Gt,
                    Rule::ge => BinaryOp::Ge,
                    Rule::add => BinaryOp::Add,
                    Rule::sub => BinaryOp::Sub,
                    Rule::mul => BinaryOp::Mul,
                    Rule::div => BinaryOp::Div,
                    _ => BinaryOp::Rem,
                };
                if bop.is_comparison() && lhs_cmp {
                    return Err(diag::chained_comparison(op_span));
                }
                let span = lhs.span.to(rhs.span);
                Ok((
                    Expr {
                        kind: ExprKind::Binary {
                            op: bop,
                            op_span: At(op_span),
                            left: Box::new(lhs),
                            right: Box::new(rhs),
                        },
                        span,
                    },
                    bop.is_comparison(),
                ))
            })
            .parse(pairs)
    }

    fn primary(&self, p: Pair<Rule>) -> Result<Expr, Diagnostic> {
        let span = self.span(&p);
        let text = p.as_str();
        let kind = match p.as_rule() {
            Rule::paren => {
                let inner = p.into_inner().find(|p| p.as_rule() == Rule::expr);
                let Some(inner) = inner else {
                    return Err(diag::empty_expression(span));
                };
                let mut e = self.expr(inner)?;
                // The parentheses belong to the node, so labels cover them.
                e.span = span;
                return Ok(e);
            }
            Rule::number => ExprKind::Number(number(text).ok_or_else(|| diag::invalid_number(span, text))?),
            Rule::percent => {
                let digits = text.trim_end_matches('%');
                ExprKind::Percent(number(digits).ok_or_else(|| diag::invalid_number(span, text))?)
            }
            Rule::string => ExprKind::String(unescape(p.into_inner().as_str())),
            Rule::boolean => ExprKind::Bool(text == "true"),
            Rule::null => ExprKind::Null,
            Rule::date => {
                let body = &text[1..];
                if body.len() == 10 {
                    ExprKind::Date(Date::parse(body).ok_or_else(|| diag::invalid_date(span, text))?)
                } else {
                    ExprKind::DateTime(DateTime::parse(body).ok_or_else(|| diag::invalid_date(span, text))?)
                }
            }
            Rule::name => ExprKind::Name(self.name(p)),
            Rule::call => ExprKind::Call(self.call(p)?),
            Rule::if_expr => self.if_expr(p)?,
            _ => return Err(diag::syntax_error(span, "an expression", &found_text(text))),
        };
        Ok(Expr { kind, span })
    }

    fn name(&self, p: Pair<Rule>) -> Name {
        let mut parts: Vec<Ident> = p
            .into_inner()
            .map(|part| {
                let span = self.span(&part);
                let name = match part.as_rule() {
                    Rule::quoted_ident => part.into_inner().as_str().to_string(),
                    _ => part.as_str().to_string(),
                };
                Ident { name, span }
            })
            .collect();
        let ident = parts.pop().unwrap_or(Ident {
            name: String::new(),
            span: Default::default(),
        });
        Name {
            qualifier: parts.pop(),
            ident,
        }
    }

    fn call(&self, p: Pair<Rule>) -> Result<Call, Diagnostic> {
        let mut func = None;
        let mut args = Vec::new();
        let mut per = Vec::new();
        let mut filter = None;
        for part in p.into_inner() {
            match part.as_rule() {
                Rule::ident => {
                    func = Some(Ident {
                        name: part.as_str().to_string(),
                        span: self.span(&part),
                    })
                }
                Rule::args => {
                    for a in part.into_inner().filter(|a| a.as_rule() == Rule::expr) {
                        args.push(self.expr(a)?);
                    }
                }
                Rule::per_clause => {
                    per = part
                        .into_inner()
                        .filter(|n| n.as_rule() == Rule::name)
                        .map(|n| self.name(n))
                        .collect();
                }
                Rule::where_clause => {
                    if let Some(e) = part.into_inner().find(|e| e.as_rule() == Rule::expr) {
                        filter = Some(Box::new(self.expr(e)?));
                    }
                }
                _ => {}
            }
        }
        let func = func.unwrap_or(Ident {
            name: String::new(),
            span: Default::default(),
        });
        Ok(Call {
            func,
            args,
            per,
            filter,
        })
    }

    fn if_expr(&self, p: Pair<Rule>) -> Result<ExprKind, Diagnostic> {
        let mut exprs = Vec::new();
        let mut branches = Vec::new();
        for part in p.into_inner() {
            match part.as_rule() {
                Rule::expr => exprs.push(self.expr(part)?),
                Rule::elif_branch => {
                    let mut inner = part.into_inner().filter(|e| e.as_rule() == Rule::expr);
                    if let (Some(c), Some(v)) = (inner.next(), inner.next()) {
                        branches.push((self.expr(c)?, self.expr(v)?));
                    }
                }
                _ => {}
            }
        }
        // exprs: condition, then-value, else-value.
        let mut it = exprs.into_iter();
        let (Some(c), Some(v), Some(otherwise)) = (it.next(), it.next(), it.next()) else {
            return Err(diag::empty_expression(Default::default()));
        };
        branches.insert(0, (c, v));
        Ok(ExprKind::If {
            branches,
            otherwise: Box::new(otherwise),
        })
    }
}

pub(super) fn number(text: &str) -> Option<f64> {
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    clean.parse::<f64>().ok().filter(|v| v.is_finite())
}

pub(super) fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// How the token at an error position is shown: `` `word` `` or "end of expression".
fn found_text(rest: &str) -> String {
    let rest = rest.trim_start();
    let Some(first) = rest.chars().next() else {
        return "end of expression".to_string();
    };
    let token: String = if first.is_alphanumeric() || first == '_' {
        rest.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    } else {
        let two: String = rest.chars().take(2).collect();
        if ["==", "!=", "<=", ">="].contains(&two.as_str()) {
            two
        } else {
            first.to_string()
        }
    };
    format!("`{token}`")
}

/// Turns a pest error into words a KPI author reads: what was expected at
/// the position, never grammar rule names.
fn word_error(text: &str, rebase: &Rebase, e: &pest::error::Error<Rule>) -> Diagnostic {
    let pos = match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let (pos, rules) = match &e.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => (pos, positives.clone()),
        pest::error::ErrorVariant::CustomError { .. } => (pos, Vec::new()),
    };
    let rest = text.get(pos..).unwrap_or("");
    let skipped = rest.len() - rest.trim_start().len();
    let found = found_text(rest);
    let start = pos + skipped;
    let tok_len = if rest.trim_start().is_empty() {
        0
    } else {
        found.trim_matches('`').len().max(1)
    };
    let span = rebase.span(start, (start + tok_len).min(text.len()));
    let tokens: Vec<String> = e
        .parse_attempts()
        .map(|a| a.expected_tokens())
        .unwrap_or_default()
        .into_iter()
        .map(|t| t.to_string())
        .collect();
    let expected = expected_words(&rules, &tokens);
    let d = diag::syntax_error(span, &expected, &found);
    match sql_habit(text.get(..start).unwrap_or(""), &found, &expected) {
        Some(help) => d.help(help),
        None => d,
    }
}

/// Help for what SQL and spreadsheet habits write at an error: the text
/// `before` it, the `found` token and what was `expected` there.
fn sql_habit(before: &str, found: &str, expected: &str) -> Option<&'static str> {
    let before = before.trim_end();
    Some(match found {
        _ if expected.contains("`else`") => "an `if` needs an `else`: `if amount > 0 then 1 else 0`",
        "`,`" if before.ends_with(|c: char| c.is_ascii_digit()) => {
            "numbers are written without thousands separators: `1000`, or `1_000`"
        }
        "`[`" if before.ends_with('(') || before.ends_with(|c: char| c.is_ascii_alphanumeric()) => {
            "a column is written by its name (`amount`), a name with spaces between backticks (`` `Closed At` ``); brackets make a list"
        }
        "`like`" | "`LIKE`" | "`ilike`" | "`ILIKE`" => {
            "SQL's `like` is written `starts_with(x, \"w\")`, `ends_with(x, \"n\")` or `contains(x, \"o\")` (with `lower(x)` for any case)"
        }
        "`over`" | "`OVER`" => {
            "SQL's window functions are time functions of a derived KPI here: `rolling(k, 3)`, `cumulative(k)`, `ytd(k)`, `prev(k)`"
        }
        "`:`" if before.ends_with(|c: char| c.is_ascii_alphanumeric() || c == ')') => {
            "casts are not written: a column has its type (`columns:` declares it), and `date(x)` takes a datetime's day"
        }
        "`\"`" | "`'`" if before.ends_with(" is") || before.ends_with(" is not") => {
            "`is` only tests for null (`is null`, `is not null`); compare values with `==` or `!=`"
        }
        "`=`" => "compare with `==`; a single `=` is not an operator",
        "`where`" if before.ends_with(')') => {
            "a filter goes inside the aggregate's parentheses, `sum(amount where stage == \"won\")`; or filter the whole KPI with its `where:` key"
        }
        "`per`" if before.ends_with(')') => {
            "`per` goes inside the aggregate's parentheses, after what it aggregates per member: `avg(sum(amount) per owner)`"
        }
        "`filter`" | "`FILTER`" => {
            "SQL's `FILTER (WHERE …)` is written inside the call: `sum(amount where stage == \"won\")`"
        }
        "`*`" if before.ends_with("count(") => "`count()` counts rows (SQL's `count(*)`)",
        "`from`" | "`FROM`" if before.to_ascii_lowercase().contains("extract(") => {
            "SQL's `extract(month from x)` is written `month(x)` (also `year`, `quarter`, `week`, `day`, `weekday`)"
        }
        _ if before.to_ascii_lowercase().ends_with("count(distinct") => {
            "SQL's `count(distinct x)` is written `count_distinct(x)`"
        }
        "`(`" if before.ends_with(" in") => "a list is written in brackets: `stage in [\"won\", \"lost\"]`",
        "`>`" if before.ends_with('<') => "`<>` is written `!=`",
        "`&`" => "`&&` is written `and`",
        "`$`" => "a column is written by its name here, `amount` (LookML's `${amount}` or `${TABLE}.amount`); `${VAR}` reads the environment in sources only",
        "`|`" => "`||` is written `or`; texts are joined with `concat(a, b)`",
        "`!`" => "`!` is written `not`; `!=` compares",
        "`when`" | "`WHEN`" if before.to_ascii_lowercase().ends_with("case") => {
            "SQL's `CASE WHEN c THEN a ELSE b END` is written `if c then a else b`"
        }
        "`AND`" | "`OR`" | "`NOT`" | "`IS`" | "`IN`" | "`NULL`" | "`BETWEEN`" | "`TRUE`" | "`FALSE`" | "`IF`"
        | "`THEN`" | "`ELSE`" | "`ELIF`" | "`WHERE`" | "`PER`" => "keywords are lower case: `and`, `or`, `not`, `is null`, `in`, `where`",
        _ => return None,
    })
}

fn expected_words(rules: &[Rule], tokens: &[String]) -> String {
    let operator = rules.iter().any(|r| {
        matches!(
            r,
            Rule::or_op
                | Rule::and_op
                | Rule::eq
                | Rule::ne
                | Rule::lt
                | Rule::le
                | Rule::gt
                | Rule::ge
                | Rule::add
                | Rule::sub
                | Rule::mul
                | Rule::div
                | Rule::rem
        )
    });
    let mut words: Vec<String> = Vec::new();
    let mut push = |w: &str| {
        if !words.iter().any(|x| x == w) {
            words.push(w.to_string());
        }
    };
    if operator {
        push("an operator");
    }
    for r in rules {
        match r {
            Rule::neg
            | Rule::not_op
            | Rule::paren
            | Rule::date
            | Rule::percent
            | Rule::number
            | Rule::string
            | Rule::boolean
            | Rule::null
            | Rule::kw_if
            | Rule::expr
            | Rule::sum_expr => push("an expression"),
            Rule::name | Rule::ident => push("a name"),
            Rule::list => push("a list like `[\"a\", \"b\"]`"),
            Rule::kw_and if !rules.contains(&Rule::and_op) => push("`and`"),
            Rule::kw_then => push("`then`"),
            Rule::kw_elif | Rule::elif_branch => push("`elif`"),
            Rule::kw_else => push("`else`"),
            Rule::kw_null => push("`null`"),
            Rule::kw_per => push("`per`"),
            Rule::kw_where => push("`where`"),
            Rule::kw_in if !rules.contains(&Rule::eq) => push("`in`"),
            _ => {}
        }
    }
    for t in tokens {
        if matches!(t.as_str(), ")" | "," | "]") {
            push(&format!("`{t}`"));
        }
    }
    if rules.contains(&Rule::EOI) {
        push("end of expression");
    }
    if words.iter().any(|w| w == "an expression") {
        words.retain(|w| w != "a name");
    }
    match words.len() {
        0 => "an expression".to_string(),
        1 => words.remove(0),
        n => format!("{} or {}", words[..n - 1].join(", "), words[n - 1]),
    }
}
