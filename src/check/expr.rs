//! Types an expression in its context: which names mean what, where
//! aggregates may stand, and what every operator accepts.

use super::diagnostics as diag;
use super::functions::{self, AggFn, Builtin, RowFn, TimeFn};
use super::ir::{DatasetId, DatasetModel, Literal, SegmentModel, TExpr, TKind};
use super::types::Type;
use crate::diagnostic::{did_you_mean, Diagnostic, Diagnostics};
use crate::span::Span;
use crate::syntax::ast::{BinaryOp, Call, Expr, ExprKind, Name, UnaryOp};

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
                        diag::not_looked_up(q.span, &q.name, &d.name)
                    } else {
                        diag::unknown_dataset(q.span, &q.name, self.datasets.iter().map(|x| x.name.as_str()))
                    };
                    return (Found::Missing, Some(err));
                };
                return self.column_of(l.dataset, &name.ident.name, name.ident.span);
            }
        }
        let n = &name.ident.name;
        if let Some(dim) = d.dimensions.iter().find(|x| &x.name == n) {
            return (Found::Dimension(dim.expr.clone()), None);
        }
        self.column_of(ds, n, name.ident.span)
    }

    fn column_of(
        &self,
        ds: DatasetId,
        n: &str,
        span: Span,
    ) -> (Found, Option<crate::diagnostic::Diagnostic>) {
        let Some(d) = self.datasets.get(ds) else {
            return (Found::Missing, None);
        };
        if let Some((_, t)) = d.columns.iter().find(|(c, _)| c == n) {
            return (Found::Column(ds, n.to_string(), *t), None);
        }
        let known: Vec<&str> = d
            .columns
            .iter()
            .map(|(c, _)| c.as_str())
            .chain(d.dimensions.iter().map(|x| x.name.as_str()))
            .collect();
        let mut candidates = known.clone();
        let qualified: Vec<String> = d
            .lookups
            .iter()
            .filter_map(|l| self.datasets.get(l.dataset))
            .flat_map(|x| x.columns.iter().map(move |(c, _)| format!("{}.{c}", x.name)))
            .collect();
        let looked_up: Vec<&str> = qualified.iter().map(String::as_str).collect();
        // `manager` for a looked-up `teams.manager` is a likely slip.
        if let Some(q) = looked_up.iter().find(|q| q.rsplit('.').next() == Some(n)) {
            let err = diag::unknown_column(span, n, &d.name, [*q]);
            return (Found::Missing, Some(err));
        }
        candidates.extend(looked_up.iter().copied());
        let closed = self.closed.get(ds).copied().unwrap_or(false);
        // A segment's name where a condition goes is a mistake unless the
        // data may still hold such a column (no column declared, no data read).
        let segment = self.segments.iter().any(|s| s.name == n);
        if closed || did_you_mean(n, known.iter().copied()).is_some() || (segment && !d.declared.is_empty()) {
            let err = diag::unknown_column(span, n, &d.name, candidates.iter().copied());
            let err = match segment {
                true => err.help(format!("`{n}` is a segment, not a column: apply it with `--segment {n}` or a target's `segment: {n}`; here write its condition")),
                false => err,
            };
            return (Found::Missing, Some(err));
        }
        if d.declared.is_empty() {
            (Found::Undeclared(ds), None)
        } else {
            (
                Found::Undeclared(ds),
                Some(diag::undeclared_column(span, n, &d.name)),
            )
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

    /// `d`, about `e` where a number was wanted, with help about the data
    /// when `e` is a column the data gave as text that the spec does not
    /// declare: one value that is no number (`n/a`, `-`) keeps a column
    /// text, and the expression is not what to change.
    fn with_text_column_help(&self, d: Diagnostic, e: &TExpr) -> Diagnostic {
        let TKind::Column { dataset, name } = &e.kind else {
            return d;
        };
        let Some(ds) = self.scope.datasets.get(*dataset) else {
            return d;
        };
        if e.ty != Type::String || ds.declared.iter().any(|(n, _)| n == name) {
            return d;
        }
        d.help(format!(
            "column `{name}` of dataset `{}` is read as text from its data: a value that is no number (`n/a`, `-`) keeps it text. Declare `{name}: number` under `columns:` to read it as numbers (`kpi check --data` then names any value that is not one), or list the words that mean no value in `read: {{null_values: [...]}}`",
            ds.name
        ))
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
            self.diags.push(self.with_text_column_help(d, &inner));
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
            self.diags.push(diag::type_mismatch(
                op_span,
                op,
                (x.span, x.ty),
                (item.span, item.ty),
            ));
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
    /// against a text (`stage == won`, `stage in [won, lost]`), is most
    /// likely that text unquoted: what is said of the name says so.
    fn maybe_text(&mut self, e: &Expr, against: &TExpr, ctx: Ctx, agg: Option<Span>) -> TExpr {
        let word = match self.unquoted(e, ctx) {
            Some(w) if against.ty == Type::String => w,
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
                (Type::String, Type::Number) => this.with_text_column_help(d, l),
                (Type::Number, Type::String) => this.with_text_column_help(d, r),
                _ => d,
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

    fn call(&mut self, call: &Call, ctx: Ctx, agg: Option<Span>, span: Span) -> TExpr {
        let fname = call.func.name.as_str();
        let Some((builtin, min, max)) = functions::lookup(fname) else {
            self.diags.push(diag::unknown_function(
                call.func.span,
                fname,
                functions::all_names(),
            ));
            // Check arguments anyway, so their own mistakes show; in a measure
            // the unknown function is likely an aggregate, so its arguments are rows.
            let (arg_ctx, arg_agg) = if ctx == Ctx::Measure {
                (Ctx::Row, Some(span))
            } else {
                (ctx, agg)
            };
            for a in &call.args {
                self.expr(a, arg_ctx, arg_agg);
            }
            return poison(span);
        };
        let n = call.args.len();
        if n < min || max.is_some_and(|m| n > m) {
            self.diags.push(diag::wrong_arity(span, fname, min, max, n));
            return poison(span);
        }
        match builtin {
            Builtin::Row(f) => {
                if let Some(w) = &call.filter {
                    self.diags
                        .push(diag::filter_on_row_function(w.span, fname, "where"));
                }
                if let Some(p) = call.per.first() {
                    self.diags
                        .push(diag::filter_on_row_function(p.span(), fname, "per"));
                }
                let args: Vec<TExpr> = call.args.iter().map(|a| self.expr(a, ctx, agg)).collect();
                let ty = self.row_fn_type(f, fname, &args);
                TExpr {
                    kind: TKind::Row { func: f, args },
                    ty,
                    span,
                }
            }
            Builtin::Agg(f) => self.aggregate(f, call, ctx, agg, span),
            Builtin::Time(f) => self.time_fn(f, call, ctx, span),
        }
    }

    fn aggregate(&mut self, f: AggFn, call: &Call, ctx: Ctx, agg: Option<Span>, span: Span) -> TExpr {
        let nested = !call.per.is_empty();
        if let Some(refused) = self.aggregate_placement(f, nested, ctx, agg, span) {
            return refused;
        }
        // With `per`, the argument is evaluated per member at the outer level;
        // without, it is evaluated on rows.
        let (arg_ctx, inner_agg) = if nested {
            (ctx, None)
        } else {
            (Ctx::Row, Some(span))
        };
        let per = self.per_dims(&call.per);
        let arg = call.args.first().map(|a| self.expr(a, arg_ctx, inner_agg));
        let filter = call.filter.as_ref().map(|w| {
            let t = self.expr(w, arg_ctx, inner_agg);
            if !t.ty.is_bool() {
                self.diags.push(diag::where_not_bool(t.span, t.ty));
            }
            t
        });
        let param = match f {
            AggFn::Quantile => self.quantile_param(call),
            _ => None,
        };
        if let (Some(a), AggFn::Count | AggFn::CountDistinct) = (&arg, f) {
            if a.ty == Type::Bool {
                self.diags.push(diag::count_of_condition(a.span, f.name()));
            }
        }
        let ty = self.aggregate_type(f, arg.as_ref());
        let kind = TKind::Agg {
            func: f,
            arg: arg.map(Box::new),
            param,
            filter: filter.map(Box::new),
            per,
        };
        typed(kind, ty, span)
    }

    /// An aggregate where none may stand (inside another, on a row, in a
    /// derived KPI without `per`): reported, with the poisoned result.
    fn aggregate_placement(
        &mut self,
        f: AggFn,
        nested: bool,
        ctx: Ctx,
        agg: Option<Span>,
        span: Span,
    ) -> Option<TExpr> {
        let refusal = match (nested, ctx, agg) {
            (true, Ctx::Row, _) | (false, Ctx::Row, None) => {
                diag::aggregate_in_row_context(span, self.row_what)
            }
            (true, _, _) | (false, Ctx::Measure, None) => return None,
            (false, _, Some(outer)) => diag::nested_aggregate(span, outer),
            (false, Ctx::Derived, None) => diag::aggregate_in_derived(span, f.name()),
        };
        self.diags.push(refusal);
        Some(poison(span))
    }

    /// The `q` of `quantile(x, q)`: a number from 0 to 1 (or a percentage).
    fn quantile_param(&mut self, call: &Call) -> Option<f64> {
        match call.args.get(1).map(|q| (&q.kind, q.span)) {
            Some((ExprKind::Number(q), _)) if (0.0..=1.0).contains(q) => Some(*q),
            Some((ExprKind::Percent(q), _)) if (0.0..=100.0).contains(q) => Some(q / 100.0),
            Some((_, s)) => {
                self.diags.push(diag::invalid_argument(
                    s,
                    "quantile",
                    "a number from 0 to 1, such as 0.9",
                ));
                None
            }
            None => None,
        }
    }

    /// The type of an aggregate of `arg`; a wrong argument type is reported.
    fn aggregate_type(&mut self, f: AggFn, arg: Option<&TExpr>) -> Type {
        let fname = f.name();
        let Some(a) = arg else { return Type::Number };
        let (fits, expected, ty) = match f {
            AggFn::Count | AggFn::CountDistinct => return Type::Number,
            AggFn::Sum | AggFn::Avg => (
                a.ty.is_number() || a.ty.is_bool(),
                "a number (or a condition, counted as 1 or 0)",
                Type::Number,
            ),
            AggFn::Min | AggFn::Max => (a.ty != Type::Bool, "a number, string, date or datetime", a.ty),
            _ => (a.ty.is_number(), "a number", Type::Number),
        };
        if fits {
            return ty;
        }
        let what = format!("the argument of `{fname}`");
        let d = diag::expected_type(a.span, &what, expected, a.ty);
        self.diags.push(self.with_text_column_help(d, a));
        // Other aggregates of a wrong argument are still numbers.
        match f {
            AggFn::Sum | AggFn::Avg | AggFn::Min | AggFn::Max => Type::Unknown,
            _ => Type::Number,
        }
    }

    /// `per` names must be dimensions of every dataset the values come from.
    fn per_dims(&mut self, per: &[Name]) -> Vec<String> {
        let mut out = Vec::new();
        for p in per {
            let name = match &p.qualifier {
                Some(q) => format!("{}.{}", q.name, p.ident.name),
                None => p.ident.name.clone(),
            };
            if let Some(ds) = self.dataset {
                let (found, err) = self.scope.find(ds, p);
                if let (Found::Missing, Some(_)) = (&found, &err) {
                    let d = &self.scope.datasets[ds];
                    let known = d
                        .columns
                        .iter()
                        .map(|(c, _)| c.as_str())
                        .chain(d.dimensions.iter().map(|x| x.name.as_str()));
                    self.diags
                        .push(diag::unknown_dimension(p.span(), &name, &d.name, known));
                }
            }
            out.push(name);
        }
        out
    }

    fn time_fn(&mut self, f: TimeFn, call: &Call, ctx: Ctx, span: Span) -> TExpr {
        let fname = f.name();
        if ctx != Ctx::Derived {
            self.diags.push(diag::time_function_in_base(span, fname));
            return poison(span);
        }
        if let Some(w) = &call.filter {
            self.diags
                .push(diag::filter_on_row_function(w.span, fname, "where"));
        }
        let Some(first) = call.args.first() else {
            return poison(span);
        };
        let ExprKind::Name(name) = &first.kind else {
            self.diags.push(diag::time_function_needs_kpi(first.span, fname));
            return poison(span);
        };
        let k = self.kpi_ref(name, first.span);
        let TKind::Kpi(id) = k.kind else {
            return poison(span);
        };
        let shifts = matches!(f, TimeFn::Prev | TimeFn::Diff | TimeFn::Growth);
        let (n, every) = match call.args.get(1) {
            None => (1, None),
            Some(a) => match &a.kind {
                ExprKind::Number(v) if *v >= 1.0 && v.fract() == 0.0 && *v <= 10_000.0 => (*v as u32, None),
                ExprKind::String(unit) if shifts => {
                    use crate::period::Grain;
                    use crate::spec::model::Keyword;
                    match Grain::parse(unit).filter(|g| *g != Grain::All) {
                        Some(g) => (1, Some(g)),
                        None => {
                            self.diags.push(diag::expected_count(a.span, fname));
                            return poison(span);
                        }
                    }
                }
                _ => {
                    self.diags.push(diag::expected_count(a.span, fname));
                    return poison(span);
                }
            },
        };
        if k.ty != Type::Unknown && !k.ty.is_number() {
            self.diags.push(diag::expected_type(
                first.span,
                &format!("the KPI of `{fname}`"),
                "a number",
                k.ty,
            ));
        }
        TExpr {
            kind: TKind::Time {
                func: f,
                kpi: id,
                n,
                every,
            },
            ty: Type::Number,
            span,
        }
    }

    fn row_fn_type(&mut self, f: RowFn, fname: &str, args: &[TExpr]) -> Type {
        let want = |this: &mut Self, i: usize, ok: fn(Type) -> bool, expected: &str| {
            if let Some(a) = args.get(i) {
                if !ok(a.ty) {
                    let what = format!("argument {} of `{fname}`", i + 1);
                    let d = diag::expected_type(a.span, &what, expected, a.ty);
                    this.diags.push(this.with_text_column_help(d, a));
                }
            }
        };
        fn number(t: Type) -> bool {
            t.is_number()
        }
        fn string(t: Type) -> bool {
            t.fits(Type::String)
        }
        fn temporal(t: Type) -> bool {
            t.is_temporal() || matches!(t, Type::Null | Type::Unknown)
        }
        fn date_source(t: Type) -> bool {
            temporal(t) || t == Type::String
        }
        match f {
            RowFn::Abs | RowFn::Floor | RowFn::Ceil | RowFn::Sqrt | RowFn::Ln | RowFn::Log10 | RowFn::Exp => {
                want(self, 0, number, "a number");
                Type::Number
            }
            RowFn::Round | RowFn::Pow => {
                want(self, 0, number, "a number");
                want(self, 1, number, "a number");
                Type::Number
            }
            RowFn::Least | RowFn::Greatest | RowFn::Coalesce => self.common_type(fname, args),
            RowFn::Lower | RowFn::Upper | RowFn::Trim => {
                want(self, 0, string, "a string");
                Type::String
            }
            RowFn::Length => {
                want(self, 0, string, "a string");
                Type::Number
            }
            RowFn::Contains | RowFn::StartsWith | RowFn::EndsWith => {
                want(self, 0, string, "a string");
                want(self, 1, string, "a string");
                Type::Bool
            }
            RowFn::Concat => Type::String,
            RowFn::Year | RowFn::Quarter | RowFn::Month | RowFn::Week | RowFn::Day | RowFn::Weekday => {
                want(self, 0, temporal, "a date or datetime");
                Type::Number
            }
            RowFn::Date => {
                want(self, 0, date_source, "a date, datetime or string");
                Type::Date
            }
            RowFn::DateTrunc => {
                want(self, 0, temporal, "a date or datetime");
                self.truncation_unit(args.get(1));
                args.first().map_or(Type::Unknown, |a| a.ty)
            }
            RowFn::DaysBetween | RowFn::HoursBetween | RowFn::MinutesBetween => {
                want(self, 0, temporal, "a date or datetime");
                want(self, 1, temporal, "a date or datetime");
                Type::Number
            }
        }
    }

    /// `least`, `greatest`, `coalesce`: the one type every argument has.
    fn common_type(&mut self, fname: &str, args: &[TExpr]) -> Type {
        let mut ty = Type::Null;
        for a in args {
            match ty.unify(a.ty) {
                Some(t) => ty = t,
                None => {
                    let what = format!("every argument of `{fname}`");
                    self.diags
                        .push(diag::expected_type(a.span, &what, &format!("{ty}"), a.ty));
                    return Type::Unknown;
                }
            }
        }
        if ty == Type::Null {
            Type::Unknown
        } else {
            ty
        }
    }

    /// The unit of `date_trunc`: a literal grain from day to year.
    fn truncation_unit(&mut self, unit: Option<&TExpr>) {
        let Some(a) = unit else { return };
        let ok = matches!(
            &a.kind,
            TKind::Lit(Literal::String(u)) if ["day", "week", "month", "quarter", "year"].contains(&u.as_str())
        );
        if !ok {
            self.diags.push(diag::invalid_argument(
                a.span,
                "date_trunc",
                "one of \"day\", \"week\", \"month\", \"quarter\", \"year\"",
            ));
        }
    }
}
