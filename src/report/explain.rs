//! `kpi explain` and `kpi list`: what a KPI means, and the catalog.

use std::fmt::Write as _;

use crate::check::ir::{Additivity, KpiKind, Model, TExpr, TKind, TimeBasis};
use crate::report::table::{Cell, ResultTable};
use crate::spec::model::Keyword;
use crate::syntax::ast::UnaryOp;

/// The expression with every name resolved and every node's type.
pub fn typed(e: &TExpr, model: &Model) -> String {
    let t = |x: &TExpr| typed(x, model);
    match &e.kind {
        TKind::Lit(l) => format!("{l:?}").to_lowercase(),
        TKind::Column { dataset, name } => format!("{}.{name}: {}", model.datasets[*dataset].name, e.ty),
        TKind::Kpi(k) => format!("{}: {}", model.kpis[*k].name, e.ty),
        TKind::Part(p) => p.clone(),
        TKind::Unary(UnaryOp::Neg, a) => format!("-({})", t(a)),
        TKind::Unary(UnaryOp::Not, a) => format!("not ({})", t(a)),
        TKind::Binary(op, a, b) => format!("({} {} {})", t(a), op.symbol(), t(b)),
        TKind::In { expr, list, negated } => {
            let items: Vec<String> = list.iter().map(t).collect();
            format!(
                "({}{} in [{}])",
                t(expr),
                if *negated { " not" } else { "" },
                items.join(", ")
            )
        }
        TKind::Between { expr, low, high } => format!("({} between {} and {})", t(expr), t(low), t(high)),
        TKind::IsNull { expr, negated } => {
            format!("({} is {}null)", t(expr), if *negated { "not " } else { "" })
        }
        TKind::If { branches, otherwise } => {
            let mut s = String::from("(");
            for (i, (c, v)) in branches.iter().enumerate() {
                let _ = write!(
                    s,
                    "{} {} then {} ",
                    if i == 0 { "if" } else { "elif" },
                    t(c),
                    t(v)
                );
            }
            let _ = write!(s, "else {})", t(otherwise));
            s
        }
        TKind::Row { func, args } => {
            let a: Vec<String> = args.iter().map(t).collect();
            format!("{}({})", format!("{func:?}").to_lowercase(), a.join(", "))
        }
        TKind::Agg {
            func,
            arg,
            filter,
            per,
            param,
        } => {
            let mut s = format!("{}(", func.name());
            if let Some(a) = arg {
                s.push_str(&t(a));
            }
            if let Some(q) = param {
                let _ = write!(s, ", {q}");
            }
            if !per.is_empty() {
                let _ = write!(s, " per {}", per.join(", "));
            }
            if let Some(w) = filter {
                let _ = write!(s, " where {}", t(w));
            }
            format!("{s}): {}", e.ty)
        }
        TKind::Time {
            func,
            kpi,
            n,
            every: None,
        } => format!("{}({}, {n}): {}", func.name(), model.kpis[*kpi].name, e.ty),
        TKind::Time {
            func,
            kpi,
            every: Some(g),
            ..
        } => {
            use crate::spec::model::Keyword;
            format!(
                "{}({}, \"{}\"): {}",
                func.name(),
                model.kpis[*kpi].name,
                g.as_str(),
                e.ty
            )
        }
    }
}

/// Everything `kpi explain` says about one KPI, before the query plan.
pub fn describe_kpi(model: &Model, k: usize) -> String {
    let km = &model.kpis[k];
    let mut s = String::new();
    let _ = writeln!(s, "{} — {}", km.name, km.title);
    if let Some(d) = &km.description {
        let _ = writeln!(s, "  {d}");
    }
    let _ = writeln!(s, "  measure      {}", km.measure_text);
    match &km.kind {
        KpiKind::Base {
            dataset,
            measure,
            filter,
            time,
        } => {
            let _ = writeln!(
                s,
                "  kind         base KPI on dataset `{}`",
                model.datasets[*dataset].name
            );
            let _ = writeln!(s, "  resolved     {}", typed(measure, model));
            if let Some(f) = filter {
                let _ = writeln!(s, "  where        {}", typed(f, model));
            }
            let time = match time {
                TimeBasis::Column(c) => format!("flow, counted in the period of `{c}`"),
                TimeBasis::Active { from, to, at_start } => format!(
                    "stock, active from `{from}` until {}, taken at the period's {}",
                    to.as_ref().map_or("ever".to_string(), |t| format!("`{t}`")),
                    if *at_start { "start" } else { "end" }
                ),
                TimeBasis::None => "none (only --grain all)".to_string(),
            };
            let _ = writeln!(s, "  time         {time}");
        }
        KpiKind::Derived { measure } => {
            let _ = writeln!(s, "  kind         derived KPI");
            let _ = writeln!(s, "  resolved     {}", typed(measure, model));
        }
    }
    let _ = writeln!(s, "  type         {}", km.ty);
    let additivity = match km.additivity {
        Additivity::Additive => "additive (sums across periods and groups; paced linearly)",
        Additivity::NonAdditive if km.stock => {
            "non-additive across periods (a stock level); adds across groups"
        }
        Additivity::NonAdditive => "non-additive (recomputed from its parts, never summed)",
    };
    let _ = writeln!(s, "  additivity   {additivity}");
    let _ = writeln!(
        s,
        "  rolling      {}",
        if km.recombinable {
            "recombined exactly"
        } else {
            "not recombinable"
        }
    );
    if let Some(u) = km.unit {
        let _ = writeln!(s, "  unit         {}", u.as_str());
    }
    let _ = writeln!(s, "  direction    {}", km.direction.as_str());
    let datasets: Vec<&str> = km
        .datasets
        .iter()
        .map(|d| model.datasets[*d].name.as_str())
        .collect();
    let _ = writeln!(s, "  datasets     {}", datasets.join(", "));
    s
}

/// The catalog: name, kind (KPI or funnel), title, unit, direction,
/// indicator, owner, description.
pub fn catalog(model: &Model) -> ResultTable {
    let columns = [
        "name",
        "kind",
        "title",
        "unit",
        "direction",
        "indicator",
        "owner",
        "description",
    ];
    let text = |s: Option<&str>| Cell::Text(s.map(str::to_string));
    let rows = model
        .kpis
        .iter()
        .map(|k| {
            vec![
                text(Some(&k.name)),
                text(Some("kpi")),
                text(Some(&k.title)),
                text(k.unit.map(|u| u.as_str())),
                text(Some(k.direction.as_str())),
                text(k.indicator.map(|i| i.as_str())),
                text(k.owner.as_deref()),
                text(k.description.as_deref()),
            ]
        })
        .chain(model.funnels.iter().map(|f| {
            let steps: Vec<&str> = f.steps.iter().map(|(s, _)| s.as_str()).collect();
            let description = f.description.clone();
            vec![
                text(Some(&f.name)),
                text(Some("funnel")),
                text(Some(&f.title)),
                text(None),
                text(None),
                text(None),
                text(None),
                text(Some(&match description {
                    Some(d) => format!("{d} Steps: {}.", steps.join(" → ")),
                    None => format!("Steps: {}.", steps.join(" → ")),
                })),
            ]
        }))
        .collect();
    ResultTable {
        columns: columns.iter().map(|c| c.to_string()).collect(),
        formats: vec![None; columns.len()],
        rows,
    }
}
