//! The SQL of a plan's units in each dialect, snapshotted: one statement
//! per unit (two for a stock under a grain), identifiers quoted, literals
//! escaped, filtered aggregates as `AGG(CASE WHEN … END)`, periods bucketed
//! as LANGUAGE.md §4 says. PostgreSQL, DuckDB, SQLite and Spark also run
//! such statements in tests/it/warehouse.rs; Snowflake's and BigQuery's are
//! checked here by eye.

use kpi::period::{Grain, Period};
use kpi::plan::{self, Query};
use kpi::spec::model::Dialect;
use kpi::time::Date;

use crate::support::*;

fn spec(dialect: &str) -> String {
    format!(
        r#"
calendar: {{week_start: sunday, fiscal_year_start: 4}}
connections:
  wh: {{driver: /opt/adbc/libdriver.so, dialect: {dialect}, uri: "${{KPI_WH_URI:-x}}"}}
datasets:
  deals:
    source: {{connection: wh, table: analytics.deals}}
    time: closed_at
    columns: {{owner: string, stage: string, amount: number, account: string, created_at: date, closed_at: date, note: string}}
    lookups: [{{dataset: reps, on: owner}}]
  reps:
    source: {{connection: wh, query: "select owner, team from crm.reps where active"}}
    columns: {{owner: string, team: string}}
segments:
  big: amount > 1000 and not contains(note, "O'Brien")
kpis:
  won_revenue: {{dataset: deals, measure: sum(amount), where: stage == "won"}}
  won: {{dataset: deals, measure: count(where stage == "won")}}
  closed: {{dataset: deals, measure: 'count(where stage in ["won", "lost"])'}}
  win_rate: {{measure: won / closed}}
  accounts: {{dataset: deals, measure: count_distinct(account)}}
  spread: {{dataset: deals, measure: stddev(amount)}}
  cycle: {{dataset: deals, measure: 'avg(days_between(created_at, closed_at) where stage == "won")'}}
  pipeline:
    dataset: deals
    measure: sum(amount)
    active: {{from: created_at, to: closed_at}}
"#
    )
}

fn statements(dialect: Dialect, name: &str) -> String {
    // SQLite has no standard deviation (kpi::not_exact_in_dialect).
    let text = match dialect {
        Dialect::Sqlite => spec(name).replace("stddev(amount)", "avg(amount)"),
        _ => spec(name),
    };
    let outcome = check_str("spec.yaml", &text);
    assert_eq!(outcome.errors(), 0, "{:?}", positions(&outcome));
    let model = outcome.checked.model;
    let q = Query {
        kpis: vec![
            "won_revenue".into(),
            "win_rate".into(),
            "accounts".into(),
            "spread".into(),
            "cycle".into(),
            "pipeline".into(),
        ],
        by: vec!["reps.team".into()],
        segments: vec!["big".into()],
        grain: Grain::Week,
        range: Some(Period {
            start: Date::parse("2025-04-06").unwrap(),
            end: Date::parse("2025-06-28").unwrap(),
        }),
        ..Query::default()
    };
    let plan = plan::plan(&model, &q).unwrap();
    let mut out = String::new();
    for i in 0..plan.units.len() {
        let s = kpi::sql::unit_sql(&plan, i, dialect, None);
        out.push_str(&format!("-- unit {i}\n{};\n", s.parts));
        if let Some(ends) = s.ends {
            out.push_str(&format!("-- unit {i}, ends\n{ends};\n"));
        }
    }
    // A quarter of a fiscal year from April, for one statement more.
    let quarterly = plan::plan(
        &model,
        &Query {
            kpis: vec!["won".into()],
            grain: Grain::Quarter,
            ..Query::default()
        },
    )
    .unwrap();
    out.push_str(&format!(
        "-- fiscal quarters\n{};\n",
        kpi::sql::unit_sql(&quarterly, 0, dialect, None).parts
    ));
    out
}

#[test]
fn the_units_of_a_plan_in_every_dialect() {
    for (d, name) in [
        (Dialect::Postgres, "postgresql"),
        (Dialect::DuckDb, "duckdb"),
        (Dialect::Snowflake, "snowflake"),
        (Dialect::BigQuery, "bigquery"),
        (Dialect::Spark, "spark"),
        (Dialect::Sqlite, "sqlite"),
    ] {
        let sql = statements(d, name);
        // Never a literal pasted unescaped, never an unquoted column.
        assert!(sql.contains("O''Brien") || sql.contains("O\\'Brien"), "{name}");
        assert!(!sql.contains(" owner ") && !sql.contains(" amount "), "{name}");
        insta::assert_snapshot!(format!("sql_{name}"), sql);
    }
}

/// `kpi explain` shows the SQL of a unit on a connection, without connecting.
#[test]
fn explain_shows_the_sql_of_a_unit_on_a_connection() {
    let outcome = check_str("spec.yaml", &spec("snowflake"));
    let model = outcome.checked.model;
    let q = Query {
        kpis: vec!["won_revenue".into()],
        by: vec!["owner".into()],
        grain: Grain::Month,
        ..Query::default()
    };
    let described = kpi::execute::describe(&model, &q).unwrap();
    assert_eq!(described.len(), 1);
    let (title, text) = &described[0];
    assert_eq!(title, "deals (won_revenue) — SQL on `wh` (snowflake)");
    assert!(
        text.starts_with("SELECT CAST(\"t\".\"owner\" AS VARCHAR) AS \"__d0\""),
        "{text}"
    );
    assert!(text.contains("FROM \"analytics\".\"deals\" AS \"t\""), "{text}");
}

/// `kpi sql` over the library (files): one statement per scan in the dialect
/// asked (DuckDB by default), aliases for PostgreSQL and Spark; a KPI the
/// dialect has only approximately is refused when named and left out,
/// with a note, when every KPI is asked for.
#[test]
fn kpi_sql_prints_one_statement_per_scan() {
    let text = |out: &std::process::Output| {
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, _) = text(&kpi(&[
        "sql",
        "won_revenue",
        "win_rate",
        "lead_count",
        "--grain",
        "month",
    ]));
    assert_eq!(code, Some(0));
    // Two datasets, two scans: the deal KPIs share one.
    assert_eq!(
        out.matches("\nSELECT ").count() + usize::from(out.starts_with("SELECT")),
        2,
        "{out}"
    );
    assert!(
        out.contains("-- deals (won_revenue, win_rate) — duckdb, over table \"deals\""),
        "{out}"
    );
    assert!(out.contains("-- leads (lead_count) — duckdb"), "{out}");
    assert!(out.contains("FROM \"deals\" AS \"t\""), "{out}");
    for (flag, quote) in [("postgresql", "\"t\""), ("databricks", "`t`"), ("spark", "`t`")] {
        let (code, out, err) = text(&kpi(&["sql", "won_revenue", "--dialect", flag]));
        assert_eq!(code, Some(0), "{err}");
        assert!(
            out.contains(&format!("FROM {}", quote.replace('t', "deals"))),
            "{flag}: {out}"
        );
    }
    let median = "median_lead_response_minutes";
    let (code, _, err) = text(&kpi(&["sql", median, "--dialect", "bigquery"]));
    assert_eq!(code, Some(1));
    assert!(
        err.contains("kpi::not_exact_in_dialect") && err.contains("leads.yaml"),
        "{err}"
    );
    let (code, out, err) = text(&kpi(&["sql", "--dialect", "bigquery"]));
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("kpi::left_out") && err.contains(median), "{err}");
    assert!(!out.contains(median) && out.contains("lead_count"), "{out}");
    // Usage: an unknown KPI, an unknown dialect.
    assert_eq!(kpi(&["sql", "nope"]).status.code(), Some(2));
    assert_eq!(kpi(&["sql", "--dialect", "oracle"]).status.code(), Some(2));
}

/// Arithmetic of constants is written as its value, as files compute it:
/// `round` and `%` write their operands several times, so a constant
/// nested in them made a statement grow with every level (a KPI of three
/// nested constant remainders ran Spark out of memory compiling it).
#[test]
fn constant_arithmetic_is_written_as_its_value() {
    let dir = dir_with(
        "sql-constants",
        &[(
            "s.yaml",
            "connections:\n  wh: {driver: postgresql, uri: postgresql://localhost/x}\n\
             datasets:\n  d: {source: {connection: wh, table: deals}, columns: {amount: number}}\n\
             kpis:\n  k: {dataset: d, measure: 'sum(amount + round(exp(2000 % 7 % 4 % 3 - 2), 1) + (1 / 0))'}\n",
        )],
    );
    let (code, out, err) = kpi_in(&dir, &["--spec", "s.yaml", "sql", "k"]);
    assert_eq!(code, Some(0), "{err}");
    // 2000 % 7 % 4 % 3 is 1, e^-1 rounds to 0.4, and 1 / 0 is null.
    assert!(out.contains("CAST(4e-1 AS DOUBLE PRECISION)"), "{out}");
    assert!(out.contains("CAST(NULL AS DOUBLE PRECISION)"), "{out}");
    assert!(
        !out.contains("2000") && out.len() < 1_000,
        "{} bytes: {out}",
        out.len()
    );
}
