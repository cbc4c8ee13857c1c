//! Calls in an expression: aggregates (where they may stand, their `per`
//! and `where`, their types), time functions of derived KPIs, and row
//! functions with the types each accepts.

use super::{poison, typed, Ctx, ExprChecker, Found};
use crate::check::diagnostics as diag;
use crate::check::functions::{self, AggFn, Builtin, RowFn, TimeFn};
use crate::check::ir::{DatasetId, KpiId, Literal, TExpr, TKind};
use crate::check::types::Type;
use crate::span::Span;
use crate::syntax::ast::{Call, Expr, ExprKind, Name};

impl ExprChecker<'_> {
    pub(super) fn call(&mut self, call: &Call, ctx: Ctx, agg: Option<Span>, span: Span) -> TExpr {
        let fname = call.func.name.as_str();
        let Some((builtin, min, max)) = functions::lookup(fname) else {
            self.diags.push(diag::unknown_function(
                call.func.span,
                fname,
                functions::all_names(),
            ));
            // Check arguments anyway, so their own mistakes show; in a measure
            // the unknown function is likely an aggregate, so its arguments are
            // rows, unless they hold aggregates themselves (`divide(sum(a), count())`).
            let (arg_ctx, arg_agg) = if ctx == Ctx::Measure && !call.args.iter().any(holds_aggregate) {
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
        let arg = call.args.first().map(|a| self.expr(a, arg_ctx, inner_agg));
        let filter = call.filter.as_ref().map(|w| {
            let t = self.expr(w, arg_ctx, inner_agg);
            if !t.ty.is_bool() {
                self.diags.push(diag::where_not_bool(t.span, t.ty));
            }
            t
        });
        let per = self.per_dims(&call.per, [&arg, &filter]);
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
        self.diags.push(self.with_text_column_help(d, a, false));
        // Other aggregates of a wrong argument are still numbers.
        match f {
            AggFn::Sum | AggFn::Avg | AggFn::Min | AggFn::Max => Type::Unknown,
            _ => Type::Number,
        }
    }

    /// `per` names must be dimensions of every dataset the values come from:
    /// the KPI's own, or in a derived KPI those beneath the KPIs that the
    /// argument and the condition name (their members are grouped by it).
    fn per_dims(&mut self, per: &[Name], inner: [&Option<TExpr>; 2]) -> Vec<String> {
        let mut out = Vec::new();
        for p in per {
            let name = per_name(p);
            if self.dataset.is_none() {
                self.per_beneath(p, &name, inner);
            }
            if let Some(ds) = self.dataset {
                let (found, err) = self.scope.find(ds, p);
                let missing = matches!((&found, &err), (Found::Missing, Some(_)));
                // A looked-up column is a dimension without its dataset's
                // name too, when only one lookup has it, as in `--by`.
                if missing && !crate::check::dimension_on(self.scope, ds, &name) {
                    let d = &self.scope.datasets[ds];
                    let known = d.names();
                    self.diags
                        .push(diag::unknown_dimension(p.span(), &name, &d.name, known));
                }
            }
            out.push(name);
        }
        out
    }

    /// A derived KPI's `per` dimension, on each dataset beneath the KPIs
    /// that `inner` names.
    fn per_beneath(&mut self, p: &Name, name: &str, inner: [&Option<TExpr>; 2]) {
        let mut refs = Vec::new();
        inner.into_iter().flatten().for_each(|e| e.kpis(&mut refs));
        self.per_on_datasets_of(p, name, &refs);
    }

    /// `per` dimension `p` on each dataset beneath the KPIs `refs`: a name
    /// none of them has is unknown (with the names of the first), one that
    /// some lack is missing there.
    fn per_on_datasets_of(&mut self, p: &Name, name: &str, refs: &[KpiId]) {
        let scope = self.scope;
        let mut beneath: Vec<(DatasetId, &str)> = Vec::new();
        for info in refs
            .iter()
            .filter_map(|r| scope.kpis.get(*r).and_then(Option::as_ref))
        {
            for &ds in &info.datasets {
                if !beneath.iter().any(|(d, _)| *d == ds) {
                    beneath.push((ds, &info.name));
                }
            }
        }
        let (has, lacks): (Vec<_>, Vec<_>) = beneath
            .into_iter()
            .partition(|(ds, _)| crate::check::dimension_on(scope, *ds, name));
        // A dataset whose data was not read may have it, unless another
        // beneath names it: warned of as a measure's undeclared name is.
        let all: Vec<DatasetId> = has.iter().chain(&lacks).map(|(ds, _)| *ds).collect();
        let (unread, lacks): (Vec<_>, Vec<_>) = lacks.into_iter().partition(|(ds, _)| {
            let closed = scope.closed.get(*ds).copied().unwrap_or(false);
            crate::check::unread_may_have(scope.datasets, *ds, &all, closed, name)
        });
        for d in unread.iter().filter_map(|(ds, _)| scope.datasets.get(*ds)) {
            self.diags.push(diag::undeclared_column(p.span(), name, &d.name));
        }
        let has = [has, unread].concat();
        let lacking = lacks
            .iter()
            .filter_map(|(ds, kpi)| Some((scope.datasets.get(*ds)?, *kpi)));
        for (d, kpi) in lacking {
            if has.is_empty() {
                self.diags
                    .push(diag::unknown_dimension(p.span(), name, &d.name, d.names()));
                return;
            }
            self.diags
                .push(diag::dimension_missing(p.span(), name, &d.name, kpi));
        }
    }

    /// A derived KPI's nests that name no KPI themselves (`count(per
    /// owner)`) count the members of the KPIs around them (`refs`): those
    /// the measure names, or inside another nest's argument or condition,
    /// those that argument or condition names (the members' own query).
    /// No KPI around is an error, and their `per` must be on those KPIs'
    /// datasets.
    pub fn nests_without_kpis(&mut self, e: &Expr, refs: &[KpiId]) {
        let ExprKind::Call(call) = &e.kind else {
            e.for_each_child(|c| self.nests_without_kpis(c, refs));
            return;
        };
        if call.per.is_empty() {
            e.for_each_child(|c| self.nests_without_kpis(c, refs));
            return;
        }
        let own = call.args.iter().chain(call.filter.as_deref());
        if !own.clone().any(names_something) {
            if refs.is_empty() {
                self.diags.push(diag::nest_without_members(e.span, self.owner));
            }
            for p in &call.per {
                self.per_on_datasets_of(p, &per_name(p), refs);
            }
        }
        for inner in own {
            let named = self.kpis_named(inner);
            self.nests_without_kpis(inner, &named);
        }
    }

    /// The KPIs that `e` names, in a derived KPI.
    fn kpis_named(&self, e: &Expr) -> Vec<KpiId> {
        let mut out = Vec::new();
        if let ExprKind::Name(n) = &e.kind {
            out.extend(
                self.scope
                    .kpi_names
                    .get(&n.ident.name)
                    .filter(|_| n.qualifier.is_none()),
            );
        }
        e.for_each_child(|c| out.extend(self.kpis_named(c)));
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
                // Ten thousand periods: 27 years of days, far beyond any
                // history; a window or shift longer is a typo.
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
                    // A date wanted where datetimes do and numbers do not.
                    let dated = ok(Type::Datetime) && !ok(Type::Number);
                    this.diags.push(this.with_text_column_help(d, a, dated));
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
                // Of a wrong argument, unknown: said once, not again by
                // what holds it.
                match args.first().is_none_or(|a| string(a.ty)) {
                    true => Type::String,
                    false => Type::Unknown,
                }
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
                // Of a wrong argument, unknown: said once, not again as
                // the type of what holds it.
                args.first()
                    .filter(|a| temporal(a.ty))
                    .map_or(Type::Unknown, |a| a.ty)
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

/// A `per` name as written (`teams.manager`).
fn per_name(p: &Name) -> String {
    match &p.qualifier {
        Some(q) => format!("{}.{}", q.name, p.ident.name),
        None => p.ident.name.clone(),
    }
}

/// Whether `e` names anything (in a derived KPI, a KPI).
fn names_something(e: &Expr) -> bool {
    let mut found = matches!(e.kind, ExprKind::Name(_));
    e.for_each_child(|c| found |= names_something(c));
    found
}

/// Whether `e` calls an aggregate anywhere.
fn holds_aggregate(e: &Expr) -> bool {
    let own = matches!(&e.kind, ExprKind::Call(c)
        if matches!(functions::lookup(&c.func.name), Some((Builtin::Agg(_), _, _))));
    let mut inner = false;
    e.for_each_child(|c| inner |= holds_aggregate(c));
    own || inner
}
