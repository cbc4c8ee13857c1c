//! kpi against hand-written Polars queries (tests/it/handwritten.rs) on
//! generated data: the shipped deal, lead and activity KPIs by owner ×
//! month, every value. Where the hand-written query has no row (an empty
//! month of a rep), sums and counts must be 0 and ratios and averages null.

use std::collections::HashMap;

use polars::prelude::*;

use kpi::period::Grain;
use kpi::plan::Query;

use crate::handwritten::{baseline, KPIS};
use crate::support::temp_dir;

/// KPIs that are sums or counts: 0 in a month without rows.
const ADDITIVE: &[&str] = &[
    "won_revenue",
    "won_deals",
    "lost_deals",
    "partner_revenue",
    "upsell_count",
    "lead_count",
    "activity_count",
    "call_count",
];

fn library_on(dir: &std::path::Path) -> kpi::CheckOutcome {
    let root = crate::support::root();
    let text = std::fs::read_to_string(root.join("kpis/datasets.yaml"))
        .unwrap()
        .replace("../examples/data/", &format!("{}/", dir.display()))
        .replace(".csv", ".parquet");
    let mut files = vec![kpi::spec::InputFile {
        name: "datasets.yaml".into(),
        bytes: text.into_bytes(),
        base_dir: root.join("kpis"),
    }];
    for f in ["pipeline.yaml", "leads.yaml", "customers.yaml", "segments.yaml"] {
        files.push(kpi::spec::InputFile {
            name: f.into(),
            bytes: std::fs::read(root.join("kpis").join(f)).unwrap(),
            base_dir: root.join("kpis"),
        });
    }
    let outcome = kpi::check_loaded(kpi::spec::load_files(files), false);
    assert_eq!(outcome.errors(), 0, "{:?}", outcome.diagnostics);
    outcome
}

/// (owner, YYYY-MM) → KPI → value, from a frame.
fn by_owner_month(df: &DataFrame, month: &str) -> HashMap<(String, String), HashMap<String, Option<f64>>> {
    let mut out = HashMap::new();
    let owners = df.column("owner").unwrap().str().unwrap().clone();
    let months = df.column(month).unwrap().cast(&DataType::String).unwrap();
    let months = months.str().unwrap();
    for i in 0..df.height() {
        let key = (
            owners.get(i).unwrap().to_string(),
            months.get(i).unwrap()[..7].to_string(),
        );
        let values = KPIS
            .iter()
            .map(|k| {
                let c = df.column(k).unwrap().cast(&DataType::Float64).unwrap();
                (k.to_string(), c.f64().unwrap().get(i))
            })
            .collect();
        out.insert(key, values);
    }
    out
}

#[test]
fn library_kpis_by_owner_and_month_equal_hand_written_polars_queries() {
    let dir = temp_dir("differential");
    kpi::data::write_parquet(&kpi::generate::generate(2_000, 11), &dir).unwrap();
    let outcome = library_on(&dir);
    let query = Query {
        kpis: KPIS.iter().map(|s| s.to_string()).collect(),
        by: vec!["owner".into()],
        grain: Grain::Month,
        ..Query::default()
    };
    let ev = kpi::execute::evaluate(&outcome.checked.model, &query).unwrap();
    let ours = by_owner_month(&ev.frame, "period");
    let theirs = by_owner_month(&baseline(&dir).unwrap(), "month");
    assert!(
        theirs.len() > 100,
        "a real comparison: {} owner-months",
        theirs.len()
    );
    let mut compared = 0;
    for (key, values) in &ours {
        for k in KPIS {
            let got = values[*k];
            match theirs.get(key).map(|v| v[*k]) {
                Some(Some(want)) => {
                    let got = got.unwrap_or_else(|| panic!("{k} {key:?}: null, hand-written {want}"));
                    assert!(
                        (got - want).abs() <= 1e-9 * want.abs().max(1.0),
                        "{k} {key:?}: {got} vs {want}"
                    );
                    compared += 1;
                }
                // No such rows, or no values to average.
                Some(None) | None if ADDITIVE.contains(k) => {
                    assert_eq!(got.unwrap_or(0.0), 0.0, "{k} {key:?}")
                }
                Some(None) | None => assert_eq!(got, None, "{k} {key:?}"),
            }
        }
    }
    // Every owner-month the hand-written queries see is in kpi's spine.
    for key in theirs.keys() {
        assert!(ours.contains_key(key), "{key:?} missing from kpi's output");
    }
    assert!(compared > 1_000, "{compared} values compared");
}
