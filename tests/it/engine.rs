//! The engine seam: a fake engine hands over a few unit frames made by hand,
//! and the shared code after it lays the spine, fills empty periods, and
//! computes derived KPIs and a rolling window from them. No data is read.

use polars::prelude::*;

use kpi::diagnostic::Diagnostic;
use kpi::execute::engine::{Engine, UnitFrames};
use kpi::period::Grain;
use kpi::plan::{Plan, Query};

use crate::support::*;

const SPEC: &str = r#"
datasets:
  deals:
    source: nowhere.csv
    time: closed_at
    columns: {owner: string, stage: string, amount: number, closed_at: date}
kpis:
  won: {dataset: deals, measure: count(where stage == "won")}
  closed: {dataset: deals, measure: 'count(where stage in ["won", "lost"])'}
  won_revenue: {dataset: deals, measure: sum(amount where stage == "won")}
  win_rate: {measure: won / closed}
  win_rate_3m: {measure: 'rolling(win_rate, 3)'}
"#;

/// Parts by owner and month, as an engine would aggregate them:
///   ann  Jan: won 2 of 3 closed, 300 · Mar: won 1 of 1, 50   (February: nothing)
///   bob  Feb: won 0 of 2 closed, 0
struct Fake;

impl Engine for Fake {
    fn run_units(&self, plan: &Plan) -> Result<Vec<UnitFrames>, Vec<Diagnostic>> {
        assert_eq!(plan.units.len(), 1, "one dataset, one time basis: one unit");
        let unit = &plan.units[0];
        // A part of the plan by the KPI it belongs to (the plan names parts `{kpi}__p{n}`).
        let part = |kpi: &str| {
            unit.parts
                .iter()
                .find(|p| p.name.starts_with(&format!("{kpi}__p")))
                .map(|p| p.name.clone())
                .unwrap()
        };
        let day = |s: &str| kpi::time::Date::parse(s).unwrap().0;
        let mut columns = vec![
            Column::new("__d0".into(), ["ann", "ann", "bob"]),
            Series::new(
                "__period".into(),
                [day("2025-01-01"), day("2025-03-01"), day("2025-02-01")],
            )
            .cast(&DataType::Date)
            .unwrap()
            .into_column(),
        ];
        for (kpi, values) in [
            ("won", [2.0, 1.0, 0.0]),
            ("closed", [3.0, 1.0, 2.0]),
            ("won_revenue", [300.0, 50.0, 0.0]),
        ] {
            columns.push(Column::new(part(kpi).into(), values));
        }
        assert_eq!(columns.len(), 2 + unit.parts.len(), "every part is given");
        columns.push(Column::new("__rows".into(), [3u64, 1, 2]));
        columns.push(Column::new("__one".into(), [1i32, 1, 1]));
        let parts = DataFrame::new_infer_height(columns).unwrap();
        Ok(vec![UnitFrames { parts, ends: None }])
    }
}

/// owner, period, won revenue, win rate, trailing three-month win rate.
type Line = (String, String, Option<f64>, Option<f64>, Option<f64>);

#[test]
fn a_fake_engine_feeds_the_spine_derived_kpis_and_windows() {
    let outcome = check_str("spec.yaml", SPEC);
    assert_eq!(outcome.errors(), 0, "{:?}", positions(&outcome));
    let query = Query {
        kpis: ["won_revenue", "win_rate", "win_rate_3m"]
            .map(String::from)
            .to_vec(),
        by: vec!["owner".into()],
        grain: Grain::Month,
        ..Query::default()
    };
    let ev = kpi::execute::evaluate_with(&Fake, &outcome.checked.model, &query).unwrap();
    let t = ev.table(&outcome.checked.model);
    let rows: Vec<std::collections::HashMap<String, kpi::report::table::Cell>> = t
        .rows
        .iter()
        .map(|r| t.columns.iter().cloned().zip(r.iter().cloned()).collect())
        .collect();
    let got: Vec<Line> = rows
        .iter()
        .map(|r| {
            let text = |c: &str| match &r[c] {
                kpi::report::table::Cell::Text(Some(t)) => t.clone(),
                other => panic!("{c}: {other:?}"),
            };
            (
                text("owner"),
                text("period"),
                number(r, "won_revenue"),
                number(r, "win_rate"),
                number(r, "win_rate_3m"),
            )
        })
        .collect();
    // Every owner × every month from January to March; an empty month sums
    // to 0 and has no rate; the window re-aggregates won over closed.
    let want = [
        ("ann", "2025-01", Some(300.0), Some(2.0 / 3.0), Some(2.0 / 3.0)),
        ("ann", "2025-02", Some(0.0), None, Some(2.0 / 3.0)),
        ("ann", "2025-03", Some(50.0), Some(1.0), Some(3.0 / 4.0)),
        ("bob", "2025-01", Some(0.0), None, None),
        ("bob", "2025-02", Some(0.0), Some(0.0), Some(0.0)),
        ("bob", "2025-03", Some(0.0), None, Some(0.0)),
    ];
    assert_eq!(got.len(), want.len(), "{got:?}");
    for (g, w) in got.iter().zip(want) {
        assert_eq!((g.0.as_str(), g.1.as_str()), (w.0, w.1));
        assert!(
            close(g.2, w.2) && close(g.3, w.3) && close(g.4, w.4),
            "{g:?} != {w:?}"
        );
    }
}
