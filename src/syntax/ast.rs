//! The expression tree. Every node carries its span in the spec file;
//! spans never take part in equality (see [`crate::span::Span`]).

use crate::span::Span;
use crate::time::{Date, DateTime};

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

impl PartialEq for Expr {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
    }
}

/// The place of an operator: never part of equality.
#[derive(Clone, Copy, Debug, Default)]
pub struct At(pub Span);

impl PartialEq for At {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// An identifier as written, with its place.
#[derive(Clone, Debug)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

impl PartialEq for Ident {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

/// `amount`, `teams.manager`, `` `Deal Value` ``.
#[derive(Clone, Debug, PartialEq)]
pub struct Name {
    /// The dataset in `dataset.column`.
    pub qualifier: Option<Ident>,
    pub ident: Ident,
}

impl Name {
    pub fn span(&self) -> Span {
        match &self.qualifier {
            Some(q) => q.span.to(self.ident.span),
            None => self.ident.span,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    /// `-x`
    Neg,
    /// `not x`
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
        }
    }

    /// Binding strength, loosest first; unary minus binds tighter than all.
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            // 3 is `not`
            BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => 4,
            BinaryOp::Add | BinaryOp::Sub => 5,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => 6,
        }
    }

    pub fn is_comparison(self) -> bool {
        self.precedence() == 4
    }

    pub fn is_arithmetic(self) -> bool {
        self.precedence() >= 5
    }

    pub fn is_logical(self) -> bool {
        matches!(self, BinaryOp::And | BinaryOp::Or)
    }

    /// Operand order does not matter (for semantic comparison of definitions).
    pub fn is_commutative(self) -> bool {
        matches!(
            self,
            BinaryOp::Or | BinaryOp::And | BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Add | BinaryOp::Mul
        )
    }
}

/// A function or aggregate call: `sum(amount where stage == "won")`,
/// `avg(win_rate per owner)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub func: Ident,
    pub args: Vec<Expr>,
    /// Dimensions of a nested aggregation (`per owner`).
    pub per: Vec<Name>,
    /// Trailing filter of an aggregate (`where stage == "won"`).
    pub filter: Option<Box<Expr>>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// `1`, `1.5`, `1_000`, `2e6`
    Number(f64),
    /// `15%`, holding 15 (the value is 0.15)
    Percent(f64),
    /// `"won"`, `'won'`
    String(String),
    /// `true`, `false`
    Bool(bool),
    /// `null`
    Null,
    /// `@2025-01-31`
    Date(Date),
    /// `@2025-01-31T09:30:00`
    DateTime(DateTime),
    /// `amount`, `teams.manager`
    Name(Name),
    /// `-x`, `not x`
    Unary {
        op: UnaryOp,
        op_span: At,
        expr: Box<Expr>,
    },
    /// `a + b`, `a and b`, `a < b`
    Binary {
        op: BinaryOp,
        op_span: At,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `x in [a, b]`, `x not in [a, b]`
    In {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
        op_span: At,
    },
    /// `x between a and b` (inclusive)
    Between {
        expr: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
        op_span: At,
    },
    /// `x is null`, `x is not null`
    IsNull {
        expr: Box<Expr>,
        negated: bool,
        op_span: At,
    },
    /// `if c then a elif d then b else e`
    If {
        branches: Vec<(Expr, Expr)>,
        otherwise: Box<Expr>,
    },
    /// `round(x, 2)`, `sum(amount where won)`
    Call(Call),
}

impl Expr {
    /// Nesting depth of the tree (a leaf is 1).
    pub fn depth(&self) -> usize {
        let mut max = 0;
        self.for_each_child(|c| max = max.max(c.depth()));
        max + 1
    }

    /// Calls `f` on each direct child expression.
    pub fn for_each_child<'a>(&'a self, mut f: impl FnMut(&'a Expr)) {
        match &self.kind {
            ExprKind::Number(_)
            | ExprKind::Percent(_)
            | ExprKind::String(_)
            | ExprKind::Bool(_)
            | ExprKind::Null
            | ExprKind::Date(_)
            | ExprKind::DateTime(_)
            | ExprKind::Name(_) => {}
            ExprKind::Unary { expr, .. } | ExprKind::IsNull { expr, .. } => f(expr),
            ExprKind::Binary { left, right, .. } => {
                f(left);
                f(right);
            }
            ExprKind::In { expr, list, .. } => {
                f(expr);
                list.iter().for_each(f);
            }
            ExprKind::Between { expr, low, high, .. } => {
                f(expr);
                f(low);
                f(high);
            }
            ExprKind::If { branches, otherwise } => {
                for (c, v) in branches {
                    f(c);
                    f(v);
                }
                f(otherwise);
            }
            ExprKind::Call(call) => {
                call.args.iter().for_each(&mut f);
                if let Some(w) = &call.filter {
                    f(w);
                }
            }
        }
    }

    /// Every name the expression mentions, in order.
    pub fn names(&self) -> Vec<&Name> {
        let mut out = Vec::new();
        self.collect_names(&mut out);
        out
    }

    fn collect_names<'a>(&'a self, out: &mut Vec<&'a Name>) {
        if let ExprKind::Name(n) = &self.kind {
            out.push(n);
        }
        self.for_each_child(|c| c.collect_names(out));
    }
}
