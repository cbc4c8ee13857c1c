//! A direct parser for the expressions most specs are made of: the language
//! of `grammar/kpi.pest`, read in one pass without backtracking, building
//! the same trees (spans included) as the grammar's parser.
//!
//! It gives up (`None`) at the first thing it is not sure of: an error, an
//! unusual token, anything the grammar might read differently. The
//! grammar's parser then reads the text again, so every diagnostic still
//! comes from the grammar, and the grammar stays the definition of the
//! language. The tests below hold the two parsers to the same trees.
//!
//! Why: the grammar's parser tries every alternative at every position; on
//! a spec of 10,000 KPIs it was two thirds of `kpi check`.

use super::ast::{At, BinaryOp, Call, Expr, ExprKind, Ident, Name, UnaryOp};
use super::parser::{number, unescape};
use super::rebase::Rebase;
use crate::span::Span;
use crate::time::{Date, DateTime};

/// Binding powers, as the grammar's Pratt table ranks them (loosest first).
const OR: u8 = 20;
const AND: u8 = 30;
const NOT: u8 = 40;
const CMP: u8 = 50;
const ADD: u8 = 60;
const MUL: u8 = 70;
const NEG: u8 = 80;

const KEYWORDS: [&str; 15] = [
    "and", "or", "not", "in", "between", "is", "null", "true", "false", "if", "then", "elif", "else", "per",
    "where",
];

/// The whole text as one expression, or `None` to leave it to the grammar.
pub(super) fn parse(text: &str, rebase: &Rebase) -> Option<Expr> {
    let mut p = P {
        t: text.as_bytes(),
        text,
        i: 0,
        rebase,
    };
    let (e, _) = p.expr(0, false)?;
    p.ws();
    (p.i == p.t.len()).then_some(e)
}

struct P<'a> {
    t: &'a [u8],
    text: &'a str,
    i: usize,
    rebase: &'a Rebase,
}

/// An expression, and whether it is a bare comparison (which may not be
/// the operand of another).
type Built = Option<(Expr, bool)>;

/// What follows an operand.
enum Next {
    Infix(BinaryOp, usize),
    Postfix,
    End,
}

fn ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

impl<'a> P<'a> {
    fn at(&self, i: usize) -> u8 {
        self.t.get(i).copied().unwrap_or(0)
    }

    fn ws(&mut self) {
        while matches!(self.at(self.i), b' ' | b'\t' | b'\r' | b'\n') {
            self.i += 1;
        }
    }

    fn span(&self, start: usize, end: usize) -> Span {
        self.rebase.span(start, end)
    }

    /// The identifier-like word at `i` (empty if none).
    fn word(&self, i: usize) -> &'a str {
        if !ident_start(self.at(i)) {
            return "";
        }
        let mut j = i + 1;
        while ident_char(self.at(j)) {
            j += 1;
        }
        self.text.get(i..j).unwrap_or("")
    }

    /// Skips whitespace, then takes `kw` if it is the next word.
    fn keyword(&mut self, kw: &str) -> bool {
        let save = self.i;
        self.ws();
        if self.word(self.i) == kw {
            self.i += kw.len();
            true
        } else {
            self.i = save;
            false
        }
    }

    /// Skips whitespace, then takes the byte `c` if it is next.
    fn byte(&mut self, c: u8) -> bool {
        let save = self.i;
        self.ws();
        if self.at(self.i) == c {
            self.i += 1;
            true
        } else {
            self.i = save;
            false
        }
    }

    /// Operators while their binding power is above `rbp` (`arith`: only
    /// `+ - * / %`, as in a bound of `between`).
    fn expr(&mut self, rbp: u8, arith: bool) -> Built {
        let mut lhs = self.operand(arith)?;
        loop {
            let save = self.i;
            self.ws();
            let next = self.next(arith);
            let lbp = match next {
                Next::Infix(op, _) => power(op),
                Next::Postfix => CMP,
                Next::End => 0,
            };
            if lbp <= rbp {
                self.i = save;
                return Some(lhs);
            }
            let (left, bare) = lhs;
            lhs = match next {
                Next::Infix(op, len) => {
                    if op.is_comparison() && bare {
                        return None;
                    }
                    let op_span = self.span(self.i, self.i + len);
                    self.i += len;
                    let (right, _) = self.expr(lbp, arith)?;
                    let span = left.span.to(right.span);
                    let kind = ExprKind::Binary {
                        op,
                        op_span: At(op_span),
                        left: Box::new(left),
                        right: Box::new(right),
                    };
                    (Expr { kind, span }, op.is_comparison())
                }
                _ if bare => return None,
                _ => (self.postfix(left)?, true),
            };
        }
    }

    /// The operator at the position, if any.
    fn next(&self, arith: bool) -> Next {
        let i = self.i;
        let two = (self.at(i), self.at(i + 1));
        let op = match two {
            (b'+', _) => Some((BinaryOp::Add, 1)),
            (b'-', _) => Some((BinaryOp::Sub, 1)),
            (b'*', _) => Some((BinaryOp::Mul, 1)),
            (b'/', _) => Some((BinaryOp::Div, 1)),
            (b'%', _) => Some((BinaryOp::Rem, 1)),
            _ if arith => None,
            (b'=', b'=') => Some((BinaryOp::Eq, 2)),
            (b'!', b'=') => Some((BinaryOp::Ne, 2)),
            (b'<', b'=') => Some((BinaryOp::Le, 2)),
            (b'>', b'=') => Some((BinaryOp::Ge, 2)),
            (b'<', _) => Some((BinaryOp::Lt, 1)),
            (b'>', _) => Some((BinaryOp::Gt, 1)),
            _ => match self.word(i) {
                "or" => Some((BinaryOp::Or, 2)),
                "and" => Some((BinaryOp::And, 3)),
                "not" | "in" | "between" | "is" => return Next::Postfix,
                _ => None,
            },
        };
        match op {
            Some((op, len)) => Next::Infix(op, len),
            None => Next::End,
        }
    }

    /// `in [..]`, `not in [..]`, `between a and b`, `is null`, `is not null`
    /// after `expr` (the position at the operator).
    fn postfix(&mut self, expr: Expr) -> Option<Expr> {
        let start = self.i;
        let expr = Box::new(expr);
        let word = self.word(start);
        self.i += word.len();
        let kind = match word {
            "in" | "not" => {
                let negated = word == "not";
                if negated && !self.keyword("in") {
                    return None;
                }
                let list = self.list()?;
                let op_span = At(self.span(start, self.i));
                ExprKind::In {
                    expr,
                    list,
                    negated,
                    op_span,
                }
            }
            "between" => {
                let (low, _) = self.expr(0, true)?;
                if !self.keyword("and") {
                    return None;
                }
                let (high, _) = self.expr(0, true)?;
                ExprKind::Between {
                    expr,
                    low: Box::new(low),
                    high: Box::new(high),
                    op_span: At(self.span(start, self.i)),
                }
            }
            _ => {
                let negated = self.keyword("not");
                if !self.keyword("null") {
                    return None;
                }
                ExprKind::IsNull {
                    expr,
                    negated,
                    op_span: At(self.span(start, self.i)),
                }
            }
        };
        let span = expr_span(&kind).to(self.span(start, self.i));
        Some(Expr { kind, span })
    }

    /// `[a, b, c]`
    fn list(&mut self) -> Option<Vec<Expr>> {
        if !self.byte(b'[') {
            return None;
        }
        let mut items = Vec::new();
        if self.byte(b']') {
            return Some(items);
        }
        loop {
            items.push(self.expr(0, false)?.0);
            if self.byte(b']') {
                return Some(items);
            }
            if !self.byte(b',') {
                return None;
            }
        }
    }

    /// Prefix operators, then a primary.
    fn operand(&mut self, arith: bool) -> Built {
        self.ws();
        let start = self.i;
        let c = self.at(start);
        if c == b'-' || (!arith && self.word(start) == "not") {
            let (op, len, power) = if c == b'-' {
                (UnaryOp::Neg, 1, NEG)
            } else {
                (UnaryOp::Not, 3, NOT)
            };
            self.i += len;
            let op_span = self.span(start, start + len);
            let (e, _) = self.expr(power - 1, arith && op == UnaryOp::Neg)?;
            let span = op_span.to(e.span);
            let kind = ExprKind::Unary {
                op,
                op_span: At(op_span),
                expr: Box::new(e),
            };
            return Some((Expr { kind, span }, false));
        }
        Some((self.primary()?, false))
    }

    fn primary(&mut self) -> Option<Expr> {
        let start = self.i;
        let kind = match self.at(start) {
            b'(' => {
                self.i += 1;
                let (mut e, _) = self.expr(0, false)?;
                if !self.byte(b')') {
                    return None;
                }
                // The parentheses belong to the node, so labels cover them.
                e.span = self.span(start, self.i);
                return Some(e);
            }
            b'"' | b'\'' => self.string()?,
            b'@' => self.date()?,
            b'0'..=b'9' | b'.' => self.number()?,
            b'`' => ExprKind::Name(self.name()?),
            c if ident_start(c) => {
                let word = self.word(start);
                match word {
                    "true" | "false" => {
                        self.i += word.len();
                        ExprKind::Bool(word == "true")
                    }
                    "null" => {
                        self.i += 4;
                        ExprKind::Null
                    }
                    "if" => self.if_expr()?,
                    w if KEYWORDS.contains(&w) => return None,
                    _ => {
                        let end = start + word.len();
                        self.i = end;
                        if self.byte(b'(') {
                            let func = Ident {
                                name: word.to_string(),
                                span: self.span(start, end),
                            };
                            ExprKind::Call(self.call(func)?)
                        } else {
                            self.i = start;
                            ExprKind::Name(self.name()?)
                        }
                    }
                }
            }
            _ => return None,
        };
        Some(Expr {
            kind,
            span: self.span(start, self.i),
        })
    }

    /// The rest of a call after `(`: arguments, `per`, `where`, `)`.
    fn call(&mut self, func: Ident) -> Option<Call> {
        let mut args = Vec::new();
        let mut per = Vec::new();
        let mut filter = None;
        self.ws();
        let w = self.word(self.i);
        if self.at(self.i) != b')' && w != "per" && w != "where" {
            loop {
                args.push(self.expr(0, false)?.0);
                if !self.byte(b',') {
                    break;
                }
            }
        }
        if self.keyword("per") {
            loop {
                self.ws();
                per.push(self.name()?);
                if !self.byte(b',') {
                    break;
                }
            }
        }
        if self.keyword("where") {
            filter = Some(Box::new(self.expr(0, false)?.0));
        }
        if !self.byte(b')') {
            return None;
        }
        Some(Call {
            func,
            args,
            per,
            filter,
        })
    }

    /// `if c then a elif c2 then b else d`, at `if`.
    fn if_expr(&mut self) -> Option<ExprKind> {
        self.i += 2;
        let mut branches = Vec::new();
        loop {
            let (c, _) = self.expr(0, false)?;
            if !self.keyword("then") {
                return None;
            }
            let (v, _) = self.expr(0, false)?;
            branches.push((c, v));
            if !self.keyword("elif") {
                break;
            }
        }
        if !self.keyword("else") {
            return None;
        }
        let (otherwise, _) = self.expr(0, false)?;
        Some(ExprKind::If {
            branches,
            otherwise: Box::new(otherwise),
        })
    }

    /// `amount`, `teams.manager`, `` `Deal Value` `` (no space around the dot).
    fn name(&mut self) -> Option<Name> {
        let first = self.name_part()?;
        if self.at(self.i) != b'.' {
            return Some(Name {
                qualifier: None,
                ident: first,
            });
        }
        self.i += 1;
        let ident = self.name_part()?;
        Some(Name {
            qualifier: Some(first),
            ident,
        })
    }

    fn name_part(&mut self) -> Option<Ident> {
        let start = self.i;
        if self.at(start) == b'`' {
            let len = self.text.get(start + 1..)?.find('`')?;
            if len == 0 {
                return None;
            }
            self.i = start + len + 2;
            let name = self.text.get(start + 1..start + 1 + len)?.to_string();
            return Some(Ident {
                name,
                span: self.span(start, self.i),
            });
        }
        let word = self.word(start);
        if word.is_empty() || KEYWORDS.contains(&word) {
            return None;
        }
        self.i = start + word.len();
        Some(Ident {
            name: word.to_string(),
            span: self.span(start, self.i),
        })
    }

    /// `"won"` or `'won'`.
    fn string(&mut self) -> Option<ExprKind> {
        let quote = self.at(self.i);
        let inner = self.i + 1;
        let mut j = inner;
        loop {
            match self.t.get(j)? {
                b'\\' => match self.at(j + 1) {
                    b'"' | b'\'' | b'\\' | b'n' | b't' | b'r' => j += 2,
                    _ => return None,
                },
                &c if c == quote => break,
                _ => j += 1,
            }
        }
        let value = unescape(self.text.get(inner..j)?);
        self.i = j + 1;
        Some(ExprKind::String(value))
    }

    /// `@2025-01-31` or `@2025-01-31T09:30:00(.fff)`.
    fn date(&mut self) -> Option<ExprKind> {
        let start = self.i;
        let digits = |p: &Self, from: usize, n: usize| (from..from + n).all(|k| p.at(k).is_ascii_digit());
        let mut j = start + 1;
        let ymd = digits(self, j, 4)
            && self.at(j + 4) == b'-'
            && digits(self, j + 5, 2)
            && self.at(j + 7) == b'-'
            && digits(self, j + 8, 2);
        if !ymd {
            return None;
        }
        j += 10;
        if self.at(j) == b'T' && digits(self, j + 1, 2) && self.at(j + 3) == b':' && digits(self, j + 4, 2) {
            j += 6;
            if self.at(j) == b':' && digits(self, j + 1, 2) {
                j += 3;
                if self.at(j) == b'.' && self.at(j + 1).is_ascii_digit() {
                    j += 1;
                    while self.at(j).is_ascii_digit() {
                        j += 1;
                    }
                }
            }
        }
        let body = self.text.get(start + 1..j)?;
        self.i = j;
        if body.len() == 10 {
            Date::parse(body).map(ExprKind::Date)
        } else {
            DateTime::parse(body).map(ExprKind::DateTime)
        }
    }

    /// A number, or a percentage when `%` follows and no operand comes
    /// after it (then `%` is the remainder operator).
    fn number(&mut self) -> Option<ExprKind> {
        let start = self.i;
        let digits_from = |p: &Self, mut k: usize| {
            while p.at(k).is_ascii_digit() || p.at(k) == b'_' {
                k += 1;
            }
            k
        };
        let mut j = start;
        if self.at(j).is_ascii_digit() {
            j = digits_from(self, j + 1);
            if self.at(j) == b'.' && self.at(j + 1).is_ascii_digit() {
                j = digits_from(self, j + 2);
            }
        } else if self.at(j) == b'.' && self.at(j + 1).is_ascii_digit() {
            j = digits_from(self, j + 2);
        } else {
            return None;
        }
        if matches!(self.at(j), b'e' | b'E') {
            let mut k = j + 1;
            if matches!(self.at(k), b'+' | b'-') {
                k += 1;
            }
            if self.at(k).is_ascii_digit() {
                while self.at(k).is_ascii_digit() {
                    k += 1;
                }
                j = k;
            }
        }
        let value = number(self.text.get(start..j)?)?;
        if self.at(j) == b'%' && !self.operand_starts(j + 1) {
            self.i = j + 1;
            return Some(ExprKind::Percent(value));
        }
        self.i = j;
        Some(ExprKind::Number(value))
    }

    /// Whether an operand starts at `k`, whitespace skipped.
    fn operand_starts(&self, mut k: usize) -> bool {
        while matches!(self.at(k), b' ' | b'\t' | b'\r' | b'\n') {
            k += 1;
        }
        match self.at(k) {
            b'0'..=b'9' | b'(' | b'@' | b'"' | b'\'' | b'`' => true,
            c if ident_start(c) => !KEYWORDS.contains(&self.word(k)),
            _ => false,
        }
    }
}

fn power(op: BinaryOp) -> u8 {
    match op {
        BinaryOp::Or => OR,
        BinaryOp::And => AND,
        BinaryOp::Add | BinaryOp::Sub => ADD,
        BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => MUL,
        _ => CMP,
    }
}

/// The span of the operand a postfix operator applies to.
fn expr_span(kind: &ExprKind) -> Span {
    match kind {
        ExprKind::In { expr, .. } | ExprKind::Between { expr, .. } | ExprKind::IsNull { expr, .. } => {
            expr.span
        }
        _ => Span::default(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::super::parser::parse_by_grammar;
    use super::*;
    use crate::span::FileId;

    /// Whatever the direct parser reads, the grammar reads the same, to
    /// every span. Returns whether it was read directly.
    fn agrees(text: &str) -> bool {
        let rebase = Rebase::shifted(FileId(0), 7, text);
        let Some(direct) = parse(text, &rebase) else {
            return false;
        };
        match parse_by_grammar(text, &rebase) {
            Ok(g) => assert_eq!(format!("{direct:?}"), format!("{g:?}"), "{text}"),
            Err(d) => panic!("read directly, refused by the grammar ({}): {text}", d.message),
        }
        true
    }

    #[test]
    fn reads_the_usual_forms_as_the_grammar_does() {
        let read = [
            "sum(amount where stage == \"won\")",
            "count(where stage == 'won') / count(where stage in [\"won\", \"lost\"])",
            "median(minutes_between(created_at, first_contact_at))",
            "avg(days_between(created_at, closed_at) where stage == \"won\")",
            "k1 / k2 + rolling(k3, 3)",
            "avg(win_rate per owner, reps.team)",
            "count_distinct(partner where stage == \"won\")",
            "if amount >= 50_000 then \"large\" elif amount >= 10_000 then \"mid\" else \"small\"",
            "not a and b or c",
            "- - x * -y",
            "a - 1 in [1, 2]",
            "x not in []",
            "x between 1 and 5 + 2 and y",
            "x between -1 and (2 and 3)",
            "x is null or y is not null",
            "not x is null",
            "`Deal Value` * 1.5e3",
            "`My Data`.`a b` + t.x",
            "10% + 5",
            "10 % 3",
            "10 %x",
            "10% - 5",
            "10%and x",
            "1_000.5_0 * .5 + 2E-3 + 7e2",
            "@2025-01-31 < @2025-02-01T09:30:00.123",
            "@2025-01-31T09:30 == d",
            "'it\\'s' != \"a\\\\b\\n\\t\\r\\\"\"",
            "sum (x)",
            "f( x , y )",
            "count()",
            "count( where true )",
            "  \t\n x \r\n",
            "(((a)))",
            "trueish or nullable or iffy",
            "a == (b == c)",
            "(a == b) == c",
            "-(a)",
            "a+b*c-d/e%f",
            "a or b and not c == d + e * -f",
            "if a then b else c + 1",
            "x in [1, 2] and y in ['a']",
            "prev(won_revenue, 2) + growth(won_revenue) - diff(x)",
            "ytd(won_revenue)",
            "\"héllo wörld ✓\" == name",
        ];
        for text in read {
            assert!(agrees(text), "not read directly: {text}");
        }
    }

    #[test]
    fn leaves_mistakes_and_oddities_to_the_grammar() {
        let refused = [
            "",
            "a ==",
            "a == b == c",
            "a < b in [1]",
            "x is null is null",
            "x between 1",
            "x between not a and b",
            "sum(x,)",
            "[1, 2]",
            "a.b(x)",
            "a .b",
            "a.5",
            "1.",
            "1.e5",
            "a = b",
            "!a",
            "+a",
            "and",
            "a and",
            "if a then b",
            "`` + 1",
            "'unterminated",
            "'bad \\q escape'",
            "@2025-1-01",
            "@2025-02-30",
            "1e999",
            "x not y",
            "x in y",
            "ünïcode",
            "a\u{a0}+ b",
            "a.in",
        ];
        for text in refused {
            assert!(!agrees(text), "read directly: {text}");
        }
    }

    /// Random token strings, valid or not: whatever is read directly is
    /// read the same by the grammar.
    #[test]
    fn random_expressions_read_as_the_grammar_reads_them() {
        const TOKENS: [&str; 44] = [
            "a",
            "b.c",
            "`d e`",
            "sum",
            "(",
            ")",
            "(",
            ")",
            "[",
            "]",
            ",",
            "+",
            "-",
            "*",
            "/",
            "%",
            "==",
            "!=",
            "<",
            "<=",
            ">",
            ">=",
            "and",
            "or",
            "not",
            "in",
            "between",
            "is",
            "null",
            "true",
            "false",
            "if",
            "then",
            "elif",
            "else",
            "per",
            "where",
            "1",
            "2.5",
            "10%",
            "'s'",
            "@2025-01-02",
            ".5",
            "1_0",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut read = 0;
        for _ in 0..60_000 {
            let len = 1 + next(9);
            let spaced = next(3) > 0;
            let text: Vec<&str> = (0..len).map(|_| TOKENS[next(TOKENS.len())]).collect();
            let text = text.join(if spaced { " " } else { "" });
            if agrees(&text) {
                read += 1;
            }
        }
        // Enough valid strings among them for the comparison to mean something.
        assert!(read > 3_000, "{read}");
    }
}
