//! Types an expression in its context: which names mean what, where
//! aggregates may stand, and what every operator accepts (calls, in
//! `calls`: what every function accepts).

use super::diagnostics as diag;
use super::ir::{DatasetId, DatasetModel, Literal, SegmentModel, TExpr, TKind};
use super::types::Type;
use crate::diagnostic::{did_you_mean, is_slip_of, Diagnostic, Diagnostics};
use crate::span::Span;
use crate::syntax::ast::{BinaryOp, Expr, ExprKind, Name, UnaryOp};

mod calls;

/// Where an expression stands, which decides what its names mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ctx {
    /// Evaluated per row of a dataset (`where`, segments, dimensions, aggregate arguments).
    Row,
    /// A base KPI's measure: columns only inside aggregates.
    Measure,
    /// A derived KPI's measure: names are KPIs.
    Derived,
}

/// What the checker knows about a KPI when another refers to it.
#[derive(Clone, Debug)]
pub struct KpiInfo {
    pub name: String,
    pub ty: Type,
    /// Base datasets beneath.
    pub datasets: Vec<DatasetId>,
}

/// KPI names with an index, so references resolve in constant time.
#[derive(Debug, Default)]
pub struct KpiNames {
    names: Vec<String>,
    index: std::collections::HashMap<String, usize>,
}

impl KpiNames {
    pub fn new(names: Vec<String>) -> KpiNames {
        let mut index = std::collections::HashMap::with_capacity(names.len());
        for (i, n) in names.iter().enumerate() {
            index.entry(n.clone()).or_insert(i);
        }
        KpiNames { names, index }
    }

    pub fn get(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> + Clone {
        self.names.iter().map(String::as_str)
    }

    pub fn name(&self, i: usize) -> &str {
        self.names.get(i).map_or("", String::as_str)
    }
}

pub struct Scope<'a> {
    pub datasets: &'a [DatasetModel],
    /// The spec's segments (checked before KPIs), for a segment's name
    /// written where a condition goes.
    pub segments: &'a [SegmentModel],
    /// Whether each dataset's columns were read from data (unknown names are errors).
    pub closed: &'a [bool],
    /// KPIs, by id; `None` for one not (yet) checked.
    pub kpis: &'a [Option<KpiInfo>],
    pub kpi_names: &'a KpiNames,
}

pub struct ExprChecker<'a> {
    pub scope: &'a Scope<'a>,
    /// The dataset of rows, for `Row` and `Measure` contexts.
    pub dataset: Option<DatasetId>,
    /// The KPI being checked, for messages.
    pub owner: &'a str,
    /// What a `Row` expression is, for messages ("a segment", "a `where`").
    pub row_what: &'a str,
    pub diags: &'a mut Diagnostics,
}

/// Whether a dataset's names are read on its own rows (its columns,
/// computed dimensions and looked-up columns) or through a lookup of it
/// (its columns alone).
#[derive(Clone, Copy)]
enum Through {
    Rows,
    Lookup,
}

/// The outcome of looking a name up in a dataset.
pub enum Found {
    Column(DatasetId, String, Type),
    Dimension(TExpr),
    /// Not known, in an open schema (of this dataset): accepted with an unknown type.
    Undeclared(DatasetId),
    Missing,
}

impl<'a> Scope<'a> {
    /// Resolves `name` (with an optional `dataset.` qualifier) on dataset `ds`.
    pub fn find(&self, ds: DatasetId, name: &Name) -> (Found, Option<crate::diagnostic::Diagnostic>) {
        let Some(d) = self.datasets.get(ds) else {
            return (Found::Missing, None);
        };
        if let Some(q) = &name.qualifier {
            if q.name != d.name {
                let lookup = d
                    .lookups
                    .iter()
                    .find(|l| self.datasets.get(l.dataset).is_some_and(|x| x.name == q.name));
                let Some(l) = lookup else {
                    let err = if self.datasets.iter().any(|x| x.name == q.name) {
                        // Looked up by a dataset `d` looks up: one step too far.
                        let through = d
                            .lookups
                            .iter()
                            .filter_map(|l| self.datasets.get(l.dataset))
                            .find(|x| {
                                x.lookups
                                    .iter()
                                    .any(|l| self.datasets.get(l.dataset).is_some_and(|y| y.name == q.name))
                            });
                        diag::not_looked_up(q.span, &q.name, &d.name, through.map(|x| x.name.as_str()))
                    } else {
                        diag::unknown_dataset(q.span, &q.name, self.datasets.iter().map(|x| x.name.as_str()))
                    };
                    return (Found::Missing, Some(err));
                };
                let n = &name.ident.name;
                let target = self.datasets.get(l.dataset);
                if target.is_some_and(|t| t.dimensions.iter().any(|x| &x.name == n)) {
                    let err = diag::looked_up_dimension(name.ident.span, n, &q.name, &d.name);
                    return (Found::Missing, Some(err));
                }
                return self.column_of(l.dataset, n, name.ident.span, Through::Lookup);
            }
        }
        let n = &name.ident.name;
        if let Some(dim) = d.dimensions.iter().find(|x| &x.name == n) {
            return (Found::Dimension(dim.expr.clone()), None);
        }
        self.column_of(ds, n, name.ident.span, Through::Rows)
    }

    /// Column `n` of dataset `ds`, read from its rows or through a lookup
    /// of it (then only its columns are there: neither its computed
    /// dimensions nor what it looks up in turn).
    fn column_of(
        &self,
        ds: DatasetId,
        n: &str,
        span: Span,
        through: Through,
    ) -> (Found, Option<crate::diagnostic::Diagnostic>) {
        let Some(d) = self.datasets.get(ds) else {
            return (Found::Missing, None);
        };
        if let Some((_, t)) = d.columns.iter().find(|(c, _)| c == n) {
            return (Found::Column(ds, n.to_string(), *t), None);
        }
        let known: Vec<&str> = match through {
            Through::Rows => d.names().collect(),
            Through::Lookup => d.columns.iter().map(|(c, _)| c.as_str()).collect(),
        };
        let mut candidates = known.clone();
        let lookups = match through {
            Through::Rows => &d.lookups[..],
            Through::Lookup => &[],
        };
        let qualified: Vec<String> = lookups
            .iter()
            .filter_map(|l| self.datasets.get(l.dataset))
            .flat_map(|x| x.columns.iter().map(move |(c, _)| format!("{}.{c}", x.name)))
            .collect();
        let looked_up: Vec<&str> = qualified.iter().map(String::as_str).collect();
        let closed = self.closed.get(ds).copied().unwrap_or(false);
        // `manager` for a looked-up `teams.manager` is a likely slip, once
        // the data says this dataset has no such column: until then it may
        // (a key such as `owner` is often on both sides of a lookup).
        let looked_up_as = looked_up
            .iter()
            .filter_map(|q| q.split_once('.'))
            .find(|(_, c)| *c == n)
            .map(|(other, _)| other);
        if let Some(other) = looked_up_as.filter(|_| closed) {
            let err = diag::unknown_column(span, n, &d.name, [n])
                .help(diag::looked_up_column_help(n, other, &d.name));
            return (Found::Missing, Some(err));
        }
        candidates.extend(looked_up.iter().copied());
        // A segment's name where a condition goes is a mistake unless the
        // data may still hold such a column (no column declared, no data read).
        let segment = self.segments.iter().any(|s| s.name == n);
        if closed || is_slip_of(n, known.iter().copied()) || (segment && !d.declared.is_empty()) {
            let err = diag::unknown_column(span, n, &d.name, candidates.iter().copied());
            let meant = did_you_mean(n, candidates.iter().copied()).filter(|c| !is_word(c));
            let err = match (segment, meant) {
                (true, _) => err.help(format!("`{n}` is a segment, not a column: apply it with `--segment {n}` or a target's `segment: {n}`; here write its condition")),
                // `Closed At`: written as a name, the suggestion must be quoted.
                (false, Some(m)) => err.help(format!("did you mean `{m}`? A name that is not one word is written between backticks in an expression: `` `{m}` ``")),
                (false, None) => err,
            };
            return (Found::Missing, Some(err));
        }
        if d.declared.is_empty() {
            (Found::Undeclared(ds), None)
        } else {
            let warning = diag::undeclared_column(span, n, &d.name);
            let warning = match looked_up_as {
                Some(other) => {
                    let help = warning.help.clone().unwrap_or_default();
                    let also = diag::looked_up_column_help(n, other, &d.name);
                    warning.help(format!(
                        "{help}; if `{n}` is not a column of `{}`: {also}",
                        d.name
                    ))
                }
                None => warning,
            };
            (Found::Undeclared(ds), Some(warning))
        }
    }

    pub fn has_name(&self, ds: DatasetId, n: &str) -> bool {
        self.datasets.get(ds).is_some_and(|d| {
            d.columns.iter().any(|(c, _)| c == n) || d.dimensions.iter().any(|x| x.name == n)
        })
    }
}

fn typed(kind: TKind, ty: Type, span: Span) -> TExpr {
    TExpr { kind, ty, span }
}

fn lit(kind: Literal, ty: Type, span: Span) -> TExpr {
    TExpr {
        kind: TKind::Lit(kind),
        ty,
        span,
    }
}

fn poison(span: Span) -> TExpr {
    lit(Literal::Null, Type::Unknown, span)
}

impl ExprChecker<'_> {
    pub fn check(&mut self, e: &Expr, ctx: Ctx) -> TExpr {
        self.expr(e, ctx, None)
    }

    /// `agg` is the span of the aggregate the expression sits in, if any.
    fn expr(&mut self, e: &Expr, ctx: Ctx, agg: Option<Span>) -> TExpr {
        let span = e.span;
        match &e.kind {
            ExprKind::Number(n) => lit(Literal::Number(*n), Type::Number, span),
            ExprKind::Percent(n) => lit(Literal::Number(n / 100.0), Type::Number, span),
            ExprKind::String(s) => lit(Literal::String(s.clone()), Type::String, span),
            ExprKind::Bool(b) => lit(Literal::Bool(*b), Type::Bool, span),
            ExprKind::Null => lit(Literal::Null, Type::Null, span),
            ExprKind::Date(d) => lit(Literal::Date(*d), Type::Date, span),
            ExprKind::DateTime(d) => lit(Literal::DateTime(*d), Type::Datetime, span),
            ExprKind::Name(name) => self.name(name, ctx, span),
            ExprKind::Unary { op, op_span, expr } => {
                let inner = self.expr(expr, ctx, agg);
                self.unary(*op, op_span.0, inner, span)
            }
            ExprKind::Binary {
                op,
                op_span,
                left,
                right,
            } => {
                let (l, r) = match op {
                    BinaryOp::Eq | BinaryOp::Ne => self.compared(left, right, ctx, agg),
                    _ => (self.expr(left, ctx, agg), self.expr(right, ctx, agg)),
                };
                let ty = self.binary_type(*op, op_span.0, &l, &r);
                TExpr {
                    kind: TKind::Binary(*op, Box::new(l), Box::new(r)),
                    ty,
                    span,
                }
            }
            ExprKind::In {
                expr,
                list,
                negated,
                op_span,
            } => {
                let x = self.expr(expr, ctx, agg);
                let items: Vec<TExpr> = list.iter().map(|i| self.maybe_text(i, &x, ctx, agg)).collect();
                self.same_types(op_span.0, "in", &x, &items);
                let sides: Vec<&TExpr> = std::iter::once(&x).chain(&items).collect();
                self.constant_comparison(op_span.0, &sides);
                let kind = TKind::In {
                    expr: Box::new(x),
                    list: items,
                    negated: *negated,
                };
                typed(kind, Type::Bool, span)
            }
            ExprKind::Between {
                expr,
                low,
                high,
                op_span,
            } => {
                let x = self.expr(expr, ctx, agg);
                let lo = self.expr(low, ctx, agg);
                let hi = self.expr(high, ctx, agg);
                self.same_types(op_span.0, "between", &x, [&lo, &hi]);
                let kind = TKind::Between {
                    expr: Box::new(x),
                    low: Box::new(lo),
                    high: Box::new(hi),
                };
                typed(kind, Type::Bool, span)
            }
            ExprKind::IsNull { expr, negated, .. } => {
                let x = self.expr(expr, ctx, agg);
                let kind = TKind::IsNull {
                    expr: Box::new(x),
                    negated: *negated,
                };
                typed(kind, Type::Bool, span)
            }
            ExprKind::If { branches, otherwise } => self.if_expr(branches, otherwise, ctx, agg, span),
            ExprKind::Call(call) => self.call(call, ctx, agg, span),
        }
    }

    /// `d`, about `e` where a number (or, `dated`, a date or datetime) was
    /// wanted, with help about the data when `e` is a column the data gave
    /// as text that the spec does not declare: one value that is no number
    /// (`n/a`, `-`) or no date keeps a column text, and the expression is
    /// not what to change.
    fn with_text_column_help(&self, d: Diagnostic, e: &TExpr, dated: bool) -> Diagnostic {
        if let Some(column) = self.quoted_column(e) {
            return d.help(diag::quoted_column_help(&column));
        }
        let TKind::Column { dataset, name } = &e.kind else {
            return d;
        };
        let Some(ds) = self.scope.datasets.get(*dataset) else {
            return d;
        };
        if e.ty != Type::String || ds.declared.iter().any(|(n, _)| n == name) {
            return d;
        }
        let ndjson = ds.format == crate::spec::model::Format::Ndjson;
        if dated {
            return d.help(format!(
                "column `{name}` of dataset `{}` is read as text from the data: a value that is no date or datetime, or dates in a format of their own, keep it text. Declare `{name}: datetime` (or `date`) under `columns:` to read it so (`kpi check --data` then names any value that is not one); `read: {{datetime_format: \"…\"}}` (or `date_format`) says how its values are written",
                ds.name
            ));
        }
        // JSON says no value with `null`; CSV by the words `read:` lists.
        let (why, no_value) = match ndjson {
            true => (
                "a value that is no number, or numbers written as JSON strings (`\"12500\"`, as BigQuery exports integers), keep it text",
                "or write `null` where there is no value",
            ),
            false => (
                "a value that is no number (`n/a`, `-`), or an integer too long for a number to hold exactly (an identifier), keeps it text",
                "or list the words that mean no value in `read: {null_values: [...]}`",
            ),
        };
        d.help(format!(
            "column `{name}` of dataset `{}` is read as text from the data: {why}. Declare `{name}: number` under `columns:` to read it as numbers (`kpi check --data` then names any value that is not one), {no_value}",
            ds.name
        ))
    }

    /// The column of this expression's dataset that a text literal names
    /// (`"amount"`): a column quoted by mistake.
    fn quoted_column(&self, e: &TExpr) -> Option<String> {
        let TKind::Lit(Literal::String(text)) = &e.kind else {
            return None;
        };
        let ds = self.scope.datasets.get(self.dataset?)?;
        ds.names().any(|n| n == text).then(|| text.clone())
    }

    /// A comparison of two constants (`"stage" == "won"`) is the same for
    /// every row: said, with the column a quoted side names.
    fn constant_comparison(&mut self, op_span: Span, sides: &[&TExpr]) {
        let constant = |e: &&TExpr| matches!(&e.kind, TKind::Lit(lit) if !matches!(lit, Literal::Null));
        if sides.is_empty() || !sides.iter().all(constant) {
            return;
        }
        let quoted = sides.iter().find_map(|e| self.quoted_column(e));
        self.diags
            .push(diag::constant_comparison(op_span, quoted.as_deref()));
    }

    fn unary(&mut self, op: UnaryOp, op_span: Span, inner: TExpr, span: Span) -> TExpr {
        let (want, label, expected) = match op {
            UnaryOp::Neg => (Type::Number, "`-`", "a number"),
            UnaryOp::Not => (Type::Bool, "`not`", "a bool"),
        };
        let ty = if inner.ty.fits(want) {
            want
        } else {
            let operand = format!("the operand of {label}");
            let d = diag::expected_type(inner.span, &operand, expected, inner.ty).also(op_span, "operator");
            self.diags.push(self.with_text_column_help(d, &inner, false));
            Type::Unknown
        };
        typed(TKind::Unary(op, Box::new(inner)), ty, span)
    }

    /// `x in [..]` and `x between a and b`: every item must have x's type
    /// (the first that does not is reported).
    fn same_types<'e>(
        &mut self,
        op_span: Span,
        op: &str,
        x: &TExpr,
        items: impl IntoIterator<Item = &'e TExpr>,
    ) {
        if let Some(item) = items.into_iter().find(|i| x.ty.unify(i.ty).is_none()) {
            let d = diag::type_mismatch(op_span, op, (x.span, x.ty), (item.span, item.ty));
            self.diags.push(with_quoted_date_help(d, x, item));
        }
    }

    fn if_expr(
        &mut self,
        branches: &[(Expr, Expr)],
        otherwise: &Expr,
        ctx: Ctx,
        agg: Option<Span>,
        span: Span,
    ) -> TExpr {
        let mut out = Vec::new();
        let mut result: Option<(Type, Span)> = None;
        let mut ok = true;
        let mut merge = |this: &mut Self, v: &TExpr| match result {
            None => result = Some((v.ty, v.span)),
            Some((t, s)) => match t.unify(v.ty) {
                Some(u) => result = Some((u, if t == Type::Null { v.span } else { s })),
                None => {
                    if ok {
                        this.diags.push(diag::branch_mismatch(v.span, s, t, v.ty));
                    }
                    ok = false;
                }
            },
        };
        for (c, v) in branches {
            let c = self.expr(c, ctx, agg);
            if !c.ty.is_bool() {
                self.diags.push(diag::expected_type(
                    c.span,
                    "the condition of `if`",
                    "a bool",
                    c.ty,
                ));
            }
            let v = self.expr(v, ctx, agg);
            merge(self, &v);
            out.push((c, v));
        }
        let o = self.expr(otherwise, ctx, agg);
        merge(self, &o);
        let ty = match (ok, result) {
            (true, Some((t, _))) => t,
            _ => Type::Unknown,
        };
        let kind = TKind::If {
            branches: out,
            otherwise: Box::new(o),
        };
        typed(kind, ty, span)
    }

    fn name(&mut self, name: &Name, ctx: Ctx, span: Span) -> TExpr {
        match ctx {
            Ctx::Derived => self.kpi_ref(name, span),
            Ctx::Row | Ctx::Measure => {
                let Some(ds) = self.dataset else {
                    return poison(span);
                };
                if ctx == Ctx::Measure
                    && name.qualifier.is_none()
                    && self.scope.kpi_names.get(&name.ident.name).is_some()
                    && !self.scope.has_name(ds, &name.ident.name)
                {
                    self.diags.push(diag::kpi_in_base(span, &name.ident.name));
                    return poison(span);
                }
                let (found, err) = self.scope.find(ds, name);
                if let Some(err) = err {
                    self.diags.push(err);
                }
                let t = match found {
                    Found::Column(d, _, Type::Unusable(words)) => {
                        let dataset = self.scope.datasets.get(d).map_or("", |x| x.name.as_str());
                        self.diags
                            .push(diag::unusable_column(span, dataset, &name.ident.name, words));
                        return poison(span);
                    }
                    Found::Column(d, n, ty) => TExpr {
                        kind: TKind::Column { dataset: d, name: n },
                        ty,
                        span,
                    },
                    Found::Dimension(mut e) => {
                        e.span = span;
                        e
                    }
                    Found::Undeclared(owner) => TExpr {
                        kind: TKind::Column {
                            dataset: owner,
                            name: name.ident.name.clone(),
                        },
                        ty: Type::Unknown,
                        span,
                    },
                    Found::Missing => return poison(span),
                };
                if ctx == Ctx::Measure {
                    self.diags
                        .push(diag::column_outside_aggregate(span, &name.ident.name, t.ty));
                    return poison(span);
                }
                t
            }
        }
    }

    /// The two sides of `==` or `!=`: a bare name that is no column is
    /// checked after the other side, against it ([`Self::maybe_text`]).
    fn compared(&mut self, left: &Expr, right: &Expr, ctx: Ctx, agg: Option<Span>) -> (TExpr, TExpr) {
        if self.unquoted(right, ctx).is_some() {
            let l = self.expr(left, ctx, agg);
            let r = self.maybe_text(right, &l, ctx, agg);
            return (l, r);
        }
        if self.unquoted(left, ctx).is_some() {
            let r = self.expr(right, ctx, agg);
            let l = self.maybe_text(left, &r, ctx, agg);
            return (l, r);
        }
        (self.expr(left, ctx, agg), self.expr(right, ctx, agg))
    }

    /// A bare name that names no column or dimension here.
    fn unquoted(&self, e: &Expr, ctx: Ctx) -> Option<String> {
        let (ExprKind::Name(n), Some(ds)) = (&e.kind, self.dataset) else {
            return None;
        };
        if n.qualifier.is_some() || ctx == Ctx::Derived {
            return None;
        }
        let (found, _) = self.scope.find(ds, n);
        matches!(found, Found::Missing | Found::Undeclared(_)).then(|| n.ident.name.clone())
    }

    /// `e`, compared with `against`. A bare name that is no column, set
    /// against a text column (`stage == won`, `stage in [won, lost]`), is
    /// most likely that text unquoted: what is said of the name says so.
    /// Set against a quoted text (`stage == "won"`) it is the column.
    fn maybe_text(&mut self, e: &Expr, against: &TExpr, ctx: Ctx, agg: Option<Span>) -> TExpr {
        let word = match self.unquoted(e, ctx) {
            Some(w) if against.ty == Type::String && !matches!(against.kind, TKind::Lit(_)) => w,
            _ => return self.expr(e, ctx, agg),
        };
        let said = std::mem::take(self.diags);
        let checked = self.expr(e, ctx, agg);
        let about = std::mem::replace(self.diags, said);
        let quote = format!("to compare with the text, quote it: `\"{word}\"`");
        for d in about {
            let help = match (d.code, &d.help) {
                ("kpi::unknown_column", _) => Some(quote.clone()),
                // Not declared: a column of the data, maybe.
                ("kpi::undeclared_column", Some(h)) => Some(format!("{quote}; if `{word}` is a column, {h}")),
                _ => None,
            };
            self.diags.push(match help {
                Some(h) => d.help(h),
                None => d,
            });
        }
        checked
    }

    fn kpi_ref(&mut self, name: &Name, span: Span) -> TExpr {
        let n = &name.ident.name;
        if name.qualifier.is_none() {
            if let Some(id) = self.scope.kpi_names.get(n) {
                return match self.scope.kpis.get(id).and_then(Option::as_ref) {
                    Some(info) => TExpr {
                        kind: TKind::Kpi(id),
                        ty: info.ty,
                        span,
                    },
                    None => poison(span),
                };
            }
        }
        let is_column = self
            .scope
            .datasets
            .iter()
            .any(|d| d.columns.iter().any(|(c, _)| c == n) || d.dimensions.iter().any(|x| &x.name == n));
        if is_column || name.qualifier.is_some() {
            self.diags.push(diag::column_in_derived(
                span,
                &crate::syntax::print::print(&Expr {
                    kind: ExprKind::Name(name.clone()),
                    span,
                }),
                self.owner,
            ));
        } else {
            self.diags
                .push(diag::unknown_kpi(span, n, self.scope.kpi_names.iter()));
        }
        poison(span)
    }

    fn binary_type(&mut self, op: BinaryOp, op_span: Span, l: &TExpr, r: &TExpr) -> Type {
        let mismatch = |this: &mut Self| {
            let d = diag::type_mismatch(op_span, op.symbol(), (l.span, l.ty), (r.span, r.ty));
            let d = match (l.ty, r.ty) {
                (Type::String, Type::Number) => this.with_text_column_help(d, l, false),
                (Type::Number, Type::String) => this.with_text_column_help(d, r, false),
                _ => with_quoted_date_help(d, l, r),
            };
            this.diags.push(d);
            Type::Unknown
        };
        if op.is_logical() {
            if l.ty.is_bool() && r.ty.is_bool() {
                return Type::Bool;
            }
            return mismatch(self);
        }
        if op.is_comparison() {
            // A `null` written as such (a placeholder for a refused
            // expression has no type).
            let is_null = |e: &TExpr| matches!(e.kind, TKind::Lit(Literal::Null)) && e.ty == Type::Null;
            if is_null(l) || is_null(r) {
                self.diags.push(diag::null_comparison(op_span, op));
            }
            self.constant_comparison(op_span, &[l, r]);
            return match l.ty.unify(r.ty) {
                Some(_) => Type::Bool,
                None => mismatch(self),
            };
        }
        if l.ty.is_number() && r.ty.is_number() {
            return Type::Number;
        }
        mismatch(self)
    }
}

/// Whether `name` can be written as it is in an expression (letters,
/// digits and `_`, not starting with a digit; dotted for a looked-up column).
fn is_word(name: &str) -> bool {
    name.split('.').all(|part| {
        part.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// A date written in quotes beside a date or datetime (`closed_at >=
/// "2025-01-01"`, SQL's habit) is a text: the help writes it as the date
/// literal it was meant to be.
fn with_quoted_date_help(d: Diagnostic, l: &TExpr, r: &TExpr) -> Diagnostic {
    let quoted_date = |a: &TExpr, b: &TExpr| {
        let TKind::Lit(Literal::String(text)) = &b.kind else {
            return None;
        };
        let text = text.trim();
        let literal = match crate::time::Date::parse(text) {
            Some(_) => text.to_string(),
            None => crate::time::DateTime::parse(text).map(|_| text.replacen(' ', "T", 1))?,
        };
        a.ty.is_temporal().then(|| format!("@{literal}"))
    };
    match quoted_date(l, r).or_else(|| quoted_date(r, l)) {
        Some(literal) => d.help(format!(
            "a date in quotes is a text: write it as a date, `{literal}` (no quotes)"
        )),
        None => d,
    }
}
