//! Valid expressions: each one's tree is asserted (as an s-expression written
//! by hand in tests/cases/expressions.txt), and printing then parsing gives
//! the same tree back for the whole corpus.

use kpi::span::FileId;
use kpi::syntax::ast::{Expr, ExprKind, Name, UnaryOp};
use kpi::syntax::{parse, print, Rebase};

use crate::support::root;

fn parse_str(s: &str) -> Result<Expr, kpi::diagnostic::Diagnostic> {
    parse(s, &Rebase::shifted(FileId(0), 0, s))
}

fn name(n: &Name) -> String {
    let part = |s: &str| {
        if s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            s.to_string()
        } else {
            format!("`{s}`")
        }
    };
    match &n.qualifier {
        Some(q) => format!("{}.{}", part(&q.name), part(&n.ident.name)),
        None => part(&n.ident.name),
    }
}

fn num(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// An independent rendering of the tree, so the printer is not checked against itself.
fn sexpr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Number(n) => num(*n),
        ExprKind::Percent(n) => format!("{}%", num(*n)),
        ExprKind::String(s) => format!("{s:?}"),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Null => "null".into(),
        ExprKind::Date(d) => format!("@{d}"),
        ExprKind::DateTime(d) => format!("@{d}"),
        ExprKind::Name(n) => name(n),
        ExprKind::Unary {
            op: UnaryOp::Neg,
            expr,
            ..
        } => format!("(neg {})", sexpr(expr)),
        ExprKind::Unary {
            op: UnaryOp::Not,
            expr,
            ..
        } => format!("(not {})", sexpr(expr)),
        ExprKind::Binary { op, left, right, .. } => {
            format!("({} {} {})", op.symbol(), sexpr(left), sexpr(right))
        }
        ExprKind::In {
            expr, list, negated, ..
        } => {
            let items: Vec<String> = list.iter().map(sexpr).collect();
            format!(
                "({} {} {})",
                if *negated { "not-in" } else { "in" },
                sexpr(expr),
                items.join(" ")
            )
        }
        ExprKind::Between { expr, low, high, .. } => {
            format!("(between {} {} {})", sexpr(expr), sexpr(low), sexpr(high))
        }
        ExprKind::IsNull { expr, negated, .. } => {
            format!(
                "({} {})",
                if *negated { "is-not-null" } else { "is-null" },
                sexpr(expr)
            )
        }
        ExprKind::If { branches, otherwise } => {
            let parts: Vec<String> = branches.iter().flat_map(|(c, v)| [sexpr(c), sexpr(v)]).collect();
            format!("(if {} {})", parts.join(" "), sexpr(otherwise))
        }
        ExprKind::Call(c) => {
            let mut s = format!("({}", c.func.name);
            for a in &c.args {
                s.push(' ');
                s.push_str(&sexpr(a));
            }
            if !c.per.is_empty() {
                let per: Vec<String> = c.per.iter().map(name).collect();
                s.push_str(&format!(" :per {}", per.join(" ")));
            }
            if let Some(w) = &c.filter {
                s.push_str(&format!(" :where {}", sexpr(w)));
            }
            s.push(')');
            s
        }
    }
}

fn corpus() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(root().join("tests/cases/expressions.txt")).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (e, s) = l.rsplit_once("=>").unwrap();
            (e.trim().to_string(), s.trim().to_string())
        })
        .collect()
}

#[test]
fn valid_expressions_parse_to_the_expected_trees() {
    let cases = corpus();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    for (text, want) in cases {
        let e = parse_str(&text).unwrap_or_else(|d| panic!("{text}: {}", d.message));
        assert_eq!(sexpr(&e), want, "{text}");
    }
}

fn assert_round_trip(text: &str) {
    let Ok(first) = parse_str(text) else { return };
    let printed = print(&first);
    let second = parse_str(&printed).unwrap_or_else(|d| panic!("{text} printed as {printed}: {}", d.message));
    assert_eq!(first, second, "{text} printed as {printed}");
    // Printing is canonical: a second print gives the same text.
    assert_eq!(print(&second), printed);
}

#[test]
fn printing_round_trips_over_the_whole_corpus() {
    for (text, _) in corpus() {
        assert_round_trip(&text);
    }
    // Every expression field of every spec in the repository and the case corpus.
    let mut specs = Vec::new();
    for dir in ["kpis", "tests/cases/diagnostics", "examples"] {
        collect(&root().join(dir), &mut specs);
    }
    let mut n = 0;
    for path in specs {
        let loaded = kpi::spec::load(&path);
        let spec = &loaded.spec;
        let fields = spec
            .kpis
            .iter()
            .flat_map(|k| k.measure.iter().chain(k.filter.iter()))
            .chain(spec.segments.iter().flat_map(|s| s.filter.iter()))
            .chain(
                spec.datasets
                    .iter()
                    .flat_map(|d| d.dimensions.iter().map(|(_, e)| e)),
            );
        for f in fields {
            assert_round_trip(&f.text);
            n += 1;
        }
    }
    assert!(n > 100, "only {n} fields");
}

fn collect(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
}

#[test]
fn spans_point_into_the_yaml_file() {
    let text = "kpis:\n  a:\n    measure: \"x + \\\"y\\\"\"\n    dataset: d\n";
    let loaded = kpi::spec::load_str("s.yaml", text);
    let e = loaded.spec.kpis[0]
        .measure
        .as_ref()
        .unwrap()
        .expr
        .as_ref()
        .unwrap();
    let ExprKind::Binary { op_span, right, .. } = &e.kind else {
        panic!()
    };
    assert_eq!(&text[op_span.0.range()], "+");
    assert_eq!(&text[right.span.range()], "\\\"y\\\"");
}

#[test]
fn spans_survive_folded_plain_scalars_and_blocks() {
    let text = "kpis:\n  a:\n    dataset: d\n    measure: sum(x)\n      / count()\n  b:\n    dataset: d\n    measure: |\n      sum(x) /\n        count(y)\n";
    let loaded = kpi::spec::load_str("s.yaml", text);
    for k in &loaded.spec.kpis {
        let e = k.measure.as_ref().unwrap().expr.as_ref().unwrap();
        let ExprKind::Binary { op_span, right, .. } = &e.kind else {
            panic!()
        };
        assert_eq!(&text[op_span.0.range()], "/");
        assert!(
            text[right.span.range()].starts_with("count("),
            "{:?}",
            &text[right.span.range()]
        );
    }
}

/// What SQL, spreadsheet and C habits write gets help in kpi's own terms.
#[test]
fn habits_from_other_languages_get_help() {
    for (text, help) in [
        ("count(distinct owner)", "`count_distinct(x)`"),
        ("stage in (\"won\", \"lost\")", "in brackets"),
        ("stage <> \"won\"", "`<>` is written `!=`"),
        ("a > 1 AND b > 2", "keywords are lower case"),
        ("owner IS NULL", "keywords are lower case"),
        ("a > 1 && b > 2", "`&&` is written `and`"),
        ("a > 1 || b > 2", "`||` is written `or`"),
        ("!(a > 1)", "`!` is written `not`"),
        ("sum(case when a > 1 then b else 0 end)", "`if c then a else b`"),
        ("count(*)", "SQL's `count(*)`"),
        ("a = 1", "compare with `==`"),
        (
            "count(where extract(month from closed_at) == 1)",
            "written `month(x)`",
        ),
        ("EXTRACT(YEAR FROM closed_at)", "written `month(x)` (also `year`"),
        ("sum(${amount})", "LookML's `${amount}`"),
    ] {
        let d = parse_str(text).expect_err(text);
        assert!(
            d.help.as_deref().is_some_and(|h| h.contains(help)),
            "{text}: {:?}",
            d.help
        );
    }
}
