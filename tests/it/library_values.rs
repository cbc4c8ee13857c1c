//! Every KPI of kpis/ evaluated over the hand-made fixture in
//! tests/fixtures/sales, against figures computed by hand (the arithmetic is
//! in the comments). The KPI definitions are the shipped ones; only the
//! dataset sources point at the fixture.

use std::collections::HashMap;

use kpi::execute::evaluate;
use kpi::period::Grain;
use kpi::period::Period;
use kpi::plan::Query;
use kpi::report::table::Cell;
use kpi::spec::InputFile;
use kpi::time::Date;

use crate::support::{assert_close, number, root};

struct Fixture {
    outcome: kpi::CheckOutcome,
}

fn fixture() -> Fixture {
    let dir = root().join("kpis");
    let data = root().join("tests/fixtures/sales");
    let mut files = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    for p in paths {
        let mut text = std::fs::read_to_string(&p).unwrap();
        if p.file_name().unwrap() == "datasets.yaml" {
            text = text.replace("../examples/data/", &format!("{}/", data.display()));
        }
        files.push(InputFile {
            name: p.display().to_string(),
            bytes: text.into_bytes(),
            base_dir: dir.clone(),
        });
    }
    let outcome = kpi::check_loaded(kpi::spec::load_files(files), false);
    assert_eq!(outcome.errors(), 0, "{:?}", outcome.diagnostics);
    Fixture { outcome }
}

type Row = HashMap<String, Cell>;

fn run(
    f: &Fixture,
    kpis: &[&str],
    by: &[&str],
    grain: Grain,
    range: Option<(&str, &str)>,
    segments: &[&str],
) -> (Vec<Row>, u64) {
    let query = Query {
        kpis: kpis.iter().map(|s| s.to_string()).collect(),
        by: by.iter().map(|s| s.to_string()).collect(),
        grain,
        range: range.map(|(a, b)| Period {
            start: Date::parse(a).unwrap(),
            end: Date::parse(b).unwrap(),
        }),
        segments: segments.iter().map(|s| s.to_string()).collect(),
        ..Query::default()
    };
    let ev = evaluate(&f.outcome.checked.model, &query).unwrap_or_else(|d| panic!("{d:?}"));
    let table = ev.table(&f.outcome.checked.model);
    let rows = table
        .rows
        .iter()
        .map(|r| {
            table
                .columns
                .iter()
                .cloned()
                .zip(r.iter().cloned())
                .collect::<Row>()
        })
        .collect();
    (rows, ev.left_out)
}

fn num(row: &Row, kpi: &str) -> Option<f64> {
    number(row, kpi)
}

fn text(row: &Row, col: &str) -> String {
    match row.get(col) {
        Some(Cell::Text(Some(t))) => t.clone(),
        other => panic!("{col}: {other:?}"),
    }
}

/// The values of `kpi` for each period, in order.
fn monthly(f: &Fixture, kpi: &str) -> Vec<(String, Option<f64>)> {
    let (rows, _) = run(f, &[kpi], &[], Grain::Month, None, &[]);
    rows.iter().map(|r| (text(r, "period"), num(r, kpi))).collect()
}

fn total(f: &Fixture, kpi: &str) -> Option<f64> {
    let (rows, _) = run(f, &[kpi], &[], Grain::All, None, &[]);
    assert_eq!(rows.len(), 1);
    num(&rows[0], kpi)
}

#[track_caller]
fn close(got: Option<f64>, want: Option<f64>) {
    assert_close(got, want);
}

#[track_caller]
fn series(got: Vec<(String, Option<f64>)>, want: &[(&str, Option<f64>)]) {
    assert_eq!(got.len(), want.len(), "{got:?}");
    for ((p, v), (wp, wv)) in got.iter().zip(want) {
        assert_eq!(p, wp);
        close(*v, *wv);
    }
}

#[test]
fn deal_kpis_by_month_with_an_empty_february() {
    let f = fixture();
    // Closed in Jan: D1 won 100, D2 won 300, D3 lost. Mar: D5 won 500, D7 won (no amount), D6 and D8 lost.
    series(
        monthly(&f, "won_revenue"),
        &[
            ("2025-01", Some(400.0)),
            ("2025-02", Some(0.0)),
            ("2025-03", Some(500.0)),
        ],
    );
    series(
        monthly(&f, "won_deals"),
        &[
            ("2025-01", Some(2.0)),
            ("2025-02", Some(0.0)),
            ("2025-03", Some(2.0)),
        ],
    );
    series(
        monthly(&f, "lost_deals"),
        &[
            ("2025-01", Some(1.0)),
            ("2025-02", Some(0.0)),
            ("2025-03", Some(2.0)),
        ],
    );
    // Ratios of an empty month are null (0 / 0), never 0 or NaN.
    series(
        monthly(&f, "win_rate"),
        &[
            ("2025-01", Some(2.0 / 3.0)),
            ("2025-02", None),
            ("2025-03", Some(0.5)),
        ],
    );
    // avg skips D7's missing amount: Mar is 500 / 1.
    series(
        monthly(&f, "avg_deal_size"),
        &[
            ("2025-01", Some(200.0)),
            ("2025-02", None),
            ("2025-03", Some(500.0)),
        ],
    );
    // (100-40 + 300-100) / 400 and (500-50) / 500.
    series(
        monthly(&f, "gross_margin"),
        &[("2025-01", Some(0.65)), ("2025-02", None), ("2025-03", Some(0.9))],
    );
    // Days created → closed of won deals: D1 40, D2 36; D5 32, D7 19.
    series(
        monthly(&f, "sales_cycle_days"),
        &[
            ("2025-01", Some(38.0)),
            ("2025-02", None),
            ("2025-03", Some(25.5)),
        ],
    );
    series(
        monthly(&f, "partner_revenue"),
        &[
            ("2025-01", Some(300.0)),
            ("2025-02", Some(0.0)),
            ("2025-03", Some(500.0)),
        ],
    );
    series(
        monthly(&f, "active_partners"),
        &[
            ("2025-01", Some(1.0)),
            ("2025-02", Some(0.0)),
            ("2025-03", Some(1.0)),
        ],
    );
    series(
        monthly(&f, "upsell_count"),
        &[
            ("2025-01", Some(1.0)),
            ("2025-02", Some(0.0)),
            ("2025-03", Some(0.0)),
        ],
    );
}

#[test]
fn totals_are_ratios_of_sums_not_averages_of_ratios() {
    let f = fixture();
    // 4 won of 7 closed; the mean of the monthly rates would be (2/3 + 1/2) / 2.
    close(total(&f, "win_rate"), Some(4.0 / 7.0));
    // The months the engine computes are those rates, and their mean is not the total.
    let rates: Vec<f64> = monthly(&f, "win_rate")
        .into_iter()
        .filter_map(|(_, r)| r)
        .collect();
    assert_eq!(rates.len(), 2, "{rates:?}");
    let mean = rates.iter().sum::<f64>() / rates.len() as f64;
    close(Some(mean), Some((2.0 / 3.0 + 0.5) / 2.0));
    assert!((total(&f, "win_rate").unwrap_or(0.0) - mean).abs() > 0.01);
    close(total(&f, "won_revenue"), Some(900.0));
    // 900 over three won deals with an amount.
    close(total(&f, "avg_deal_size"), Some(300.0));
    close(total(&f, "gross_margin"), Some(710.0 / 900.0));
    close(
        total(&f, "sales_cycle_days"),
        Some((40.0 + 36.0 + 32.0 + 19.0) / 4.0),
    );
    close(total(&f, "active_partners"), Some(2.0));
}

#[test]
fn rows_with_no_time_belong_to_no_period() {
    let f = fixture();
    // D4 is open: no closed_at. It counts under --grain all, and is left out by month.
    let (_, left_out) = run(&f, &["won_deals"], &[], Grain::Month, None, &[]);
    assert_eq!(left_out, 1);
    let (rows, left_out) = run(&f, &["won_deals", "lost_deals"], &[], Grain::All, None, &[]);
    assert_eq!(left_out, 0);
    close(num(&rows[0], "won_deals"), Some(4.0));
}

#[test]
fn open_pipeline_is_a_stock_at_each_period_end() {
    let f = fixture();
    // Open at the end of Dec: D1, D2 (400); Jan: D4 (70); Feb: D4, D5, D6, D8 (70+500+80+60); Mar: D4.
    series(
        monthly(&f, "open_pipeline_value"),
        &[
            ("2024-12", Some(400.0)),
            ("2025-01", Some(70.0)),
            ("2025-02", Some(710.0)),
            ("2025-03", Some(70.0)),
        ],
    );
    series(
        monthly(&f, "open_pipeline_count"),
        &[
            ("2024-12", Some(2.0)),
            ("2025-01", Some(1.0)),
            ("2025-02", Some(4.0)),
            ("2025-03", Some(1.0)),
        ],
    );
    // Under --grain all: at the latest date in the data (2025-03-25), only D4 is open.
    close(total(&f, "open_pipeline_count"), Some(1.0));
    close(total(&f, "open_pipeline_value"), Some(70.0));
}

#[test]
fn quota_attainment_and_forecast_accuracy_by_rep() {
    let f = fixture();
    series(
        monthly(&f, "quota_attainment"),
        &[
            ("2025-01", Some(400.0 / 300.0)),
            ("2025-02", Some(0.0)),
            ("2025-03", Some(500.0 / 300.0)),
        ],
    );
    let (rows, _) = run(&f, &["quota_attainment"], &["owner"], Grain::Month, None, &[]);
    let got: Vec<(String, String, Option<f64>)> = rows
        .iter()
        .map(|r| (text(r, "owner"), text(r, "period"), num(r, "quota_attainment")))
        .collect();
    let want = [
        ("ann", "2025-01", Some(1.0)),
        ("ann", "2025-02", Some(0.0)),
        ("ann", "2025-03", Some(5.0)),
        ("bob", "2025-01", Some(1.5)),
        // No quota and nothing won: 0 / 0.
        ("bob", "2025-02", None),
        // D7 was won without an amount: 0 / 200.
        ("bob", "2025-03", Some(0.0)),
    ];
    assert_eq!(got.len(), want.len());
    for ((o, p, v), (wo, wp, wv)) in got.iter().zip(want) {
        assert_eq!((o.as_str(), p.as_str()), (wo, wp));
        close(*v, wv);
    }
    // 1 − |400 − 450| / 450; February has no forecast (null); March 1 − 0 / 500.
    series(
        monthly(&f, "forecast_accuracy"),
        &[
            ("2025-01", Some(1.0 - 50.0 / 450.0)),
            ("2025-02", None),
            ("2025-03", Some(1.0)),
        ],
    );
    close(total(&f, "total_quota"), Some(700.0));
    close(total(&f, "forecast_total"), Some(950.0));
}

#[test]
fn lead_kpis() {
    let f = fixture();
    series(
        monthly(&f, "lead_count"),
        &[
            ("2025-01", Some(3.0)),
            ("2025-02", Some(0.0)),
            ("2025-03", Some(2.0)),
        ],
    );
    series(
        monthly(&f, "lead_to_opportunity"),
        &[
            ("2025-01", Some(1.0 / 3.0)),
            ("2025-02", None),
            ("2025-03", Some(1.0)),
        ],
    );
    // Through the lookup of deals: L1 → D1 won, L4 → D6 lost, L5 → D2 won.
    series(
        monthly(&f, "lead_to_customer"),
        &[
            ("2025-01", Some(1.0 / 3.0)),
            ("2025-02", None),
            ("2025-03", Some(0.5)),
        ],
    );
    // Response minutes: L1 3, L2 60, L3 never contacted; L4 4.5, L5 10.
    series(
        monthly(&f, "avg_lead_response_minutes"),
        &[
            ("2025-01", Some(31.5)),
            ("2025-02", None),
            ("2025-03", Some(7.25)),
        ],
    );
    close(total(&f, "avg_lead_response_minutes"), Some(77.5 / 4.0));
    close(total(&f, "median_lead_response_minutes"), Some(7.25));
    series(
        monthly(&f, "contacted_within_5_min"),
        &[
            ("2025-01", Some(1.0 / 3.0)),
            ("2025-02", None),
            ("2025-03", Some(0.5)),
        ],
    );
    close(total(&f, "contacted_within_5_min"), Some(0.4));
    close(total(&f, "touches_before_meeting"), Some(14.0 / 3.0));
}

#[test]
fn activity_kpis() {
    let f = fixture();
    series(
        monthly(&f, "activity_count"),
        &[
            ("2025-01", Some(3.0)),
            ("2025-02", Some(0.0)),
            ("2025-03", Some(2.0)),
        ],
    );
    series(
        monthly(&f, "call_count"),
        &[
            ("2025-01", Some(2.0)),
            ("2025-02", Some(0.0)),
            ("2025-03", Some(1.0)),
        ],
    );
    series(
        monthly(&f, "activities_per_rep"),
        &[("2025-01", Some(1.5)), ("2025-02", None), ("2025-03", Some(2.0))],
    );
    close(total(&f, "activities_per_rep"), Some(2.5));
    let (rows, _) = run(&f, &["activity_count"], &["type"], Grain::All, None, &[]);
    let by_type: Vec<(String, Option<f64>)> = rows
        .iter()
        .map(|r| (text(r, "type"), num(r, "activity_count")))
        .collect();
    assert_eq!(
        by_type,
        [
            ("call".to_string(), Some(3.0)),
            ("email".to_string(), Some(1.0)),
            ("meeting".to_string(), Some(1.0))
        ]
    );
}

#[test]
fn customer_kpis() {
    let f = fixture();
    // Active on the last day: started on or before it, not ended on or before it.
    // Nov: C1; Jan, Feb: C1, C2, C3; Mar: C1, C3 (C2 ended 03-10, C4 ended the day it began).
    series(
        monthly(&f, "mrr"),
        &[
            ("2024-11", Some(100.0)),
            ("2024-12", Some(100.0)),
            ("2025-01", Some(600.0)),
            ("2025-02", Some(600.0)),
            ("2025-03", Some(300.0)),
        ],
    );
    series(
        monthly(&f, "active_customers_at_start"),
        &[
            ("2024-11", Some(0.0)),
            ("2024-12", Some(1.0)),
            ("2025-01", Some(1.0)),
            ("2025-02", Some(3.0)),
            ("2025-03", Some(3.0)),
        ],
    );
    series(
        monthly(&f, "churn_rate"),
        &[
            ("2024-11", None),
            ("2024-12", Some(0.0)),
            ("2025-01", Some(0.0)),
            ("2025-02", Some(0.0)),
            ("2025-03", Some(2.0 / 3.0)),
        ],
    );
    let retention = monthly(&f, "retention_rate");
    close(retention[4].1, Some(1.0 / 3.0));
    let arpa = monthly(&f, "arpa");
    close(arpa[2].1, Some(200.0));
    close(arpa[4].1, Some(150.0));
    // ARPA over churn: Jan churned nobody (null), Mar 150 / (2/3).
    let ltv = monthly(&f, "ltv");
    close(ltv[2].1, None);
    close(ltv[4].1, Some(225.0));
    series(
        monthly(&f, "new_customers"),
        &[
            ("2024-11", Some(1.0)),
            ("2024-12", Some(0.0)),
            ("2025-01", Some(2.0)),
            ("2025-02", Some(0.0)),
            ("2025-03", Some(1.0)),
        ],
    );
    series(monthly(&f, "churned_customers"), &[("2025-03", Some(2.0))]);
    // Spend 1,500 for 2 new customers in Jan, 800 for 1 in Mar; the spine starts
    // in Nov with C1 (no spend: 0 / 1); Dec and Feb have neither (null).
    series(
        monthly(&f, "cac"),
        &[
            ("2024-11", Some(0.0)),
            ("2024-12", None),
            ("2025-01", Some(750.0)),
            ("2025-02", None),
            ("2025-03", Some(800.0)),
        ],
    );
    close(total(&f, "marketing_spend"), Some(2300.0));
    series(
        monthly(&f, "csat_score"),
        &[("2025-01", Some(4.5)), ("2025-02", None), ("2025-03", Some(2.0))],
    );
    // Under --grain all MRR is taken at the latest date in the data beneath (2025-03-10): C1, C3.
    close(total(&f, "mrr"), Some(300.0));
    close(total(&f, "active_customers"), Some(2.0));
}

#[test]
fn segments_lookups_and_ranges() {
    let f = fixture();
    // enterprise: D2 only.
    let (rows, _) = run(&f, &["won_revenue"], &[], Grain::All, None, &["enterprise"]);
    close(num(&rows[0], "won_revenue"), Some(300.0));
    // By a looked-up column: reps.region (ann NA, bob EMEA).
    let (rows, _) = run(&f, &["won_revenue"], &["reps.region"], Grain::All, None, &[]);
    let got: Vec<(String, Option<f64>)> = rows
        .iter()
        .map(|r| (text(r, "reps.region"), num(r, "won_revenue")))
        .collect();
    assert_eq!(
        got,
        [("EMEA".to_string(), Some(300.0)), ("NA".to_string(), Some(600.0))]
    );
    // A range keeps the periods inside it, empty ones included.
    let (rows, _) = run(
        &f,
        &["won_deals"],
        &[],
        Grain::Month,
        Some(("2025-02-01", "2025-04-30")),
        &[],
    );
    let periods: Vec<String> = rows.iter().map(|r| text(r, "period")).collect();
    assert_eq!(periods, ["2025-02", "2025-03", "2025-04"]);
    close(num(&rows[2], "won_deals"), Some(0.0));
    // A computed dimension; D7's missing amount fails every condition, so it is "small" (as SQL's CASE).
    let (rows, _) = run(&f, &["won_deals"], &["size_band"], Grain::All, None, &[]);
    assert_eq!(rows.len(), 1);
    assert_eq!(text(&rows[0], "size_band"), "small");
    close(num(&rows[0], "won_deals"), Some(4.0));
}

#[test]
fn a_complete_spine_for_every_group() {
    let f = fixture();
    // bob closes nothing in February; his row is there, with 0.
    let (rows, _) = run(&f, &["won_deals", "win_rate"], &["rep"], Grain::Month, None, &[]);
    assert_eq!(rows.len(), 6);
    let bob_feb = rows
        .iter()
        .find(|r| text(r, "rep") == "bob" && text(r, "period") == "2025-02")
        .unwrap();
    close(num(bob_feb, "won_deals"), Some(0.0));
    close(num(bob_feb, "win_rate"), None);
}

#[test]
fn weeks_and_quarters_are_labelled() {
    let f = fixture();
    let (rows, _) = run(&f, &["won_deals"], &[], Grain::Quarter, None, &[]);
    assert_eq!(
        rows.iter().map(|r| text(r, "period")).collect::<Vec<_>>(),
        ["2025-Q1"]
    );
    close(num(&rows[0], "won_deals"), Some(4.0));
    let (rows, _) = run(
        &f,
        &["won_deals"],
        &[],
        Grain::Week,
        Some(("2025-01-06", "2025-01-26")),
        &[],
    );
    let got: Vec<(String, Option<f64>)> = rows
        .iter()
        .map(|r| (text(r, "period"), num(r, "won_deals")))
        .collect();
    // D1 on Fri 2025-01-10 (W02), D2 on Mon 2025-01-20 (W04).
    assert_eq!(
        got,
        [
            ("2025-W02".to_string(), Some(1.0)),
            ("2025-W03".to_string(), Some(0.0)),
            ("2025-W04".to_string(), Some(1.0))
        ]
    );
}

#[test]
fn kpis_across_periods_and_reps() {
    let f = fixture();
    // Won/closed: Jan 2/3, Feb 0/0, Mar 2/4 (D7 won without amount still counts).
    series(
        monthly(&f, "win_rate_trailing_3m"),
        &[
            ("2025-01", Some(2.0 / 3.0)),
            ("2025-02", Some(2.0 / 3.0)),
            ("2025-03", Some(4.0 / 7.0)),
        ],
    );
    series(
        monthly(&f, "ytd_revenue"),
        &[
            ("2025-01", Some(400.0)),
            ("2025-02", Some(400.0)),
            ("2025-03", Some(900.0)),
        ],
    );
    // Attainment ann/bob: Jan 1.0, 1.5; Feb 0, none (no quota); Mar 5.0, 0.
    series(
        monthly(&f, "reps_at_quota_share"),
        &[
            ("2025-01", Some(1.0)),
            ("2025-02", Some(0.0)),
            ("2025-03", Some(0.5)),
        ],
    );
    // Open the day before each month: Dec none; Jan D1, D2; Feb D4; Mar D4, D5, D6, D8.
    series(
        monthly(&f, "pipeline_at_start"),
        &[
            ("2024-12", Some(0.0)),
            ("2025-01", Some(400.0)),
            ("2025-02", Some(70.0)),
            ("2025-03", Some(710.0)),
        ],
    );
    series(
        monthly(&f, "pipeline_coverage"),
        &[
            ("2024-12", None),
            ("2025-01", Some(400.0 / 300.0)),
            ("2025-02", Some(70.0 / 100.0)),
            ("2025-03", Some(710.0 / 300.0)),
        ],
    );
    // No quarter or year of history in the fixture: nothing to grow from.
    series(
        monthly(&f, "revenue_growth_yoy"),
        &[("2025-01", None), ("2025-02", None), ("2025-03", None)],
    );
}

#[test]
fn the_lead_funnel_step_by_step() {
    let f = fixture();
    let query = Query {
        grain: Grain::Month,
        ..Query::default()
    };
    let ev = kpi::execute::evaluate_funnels(&f.outcome.checked.model, &["lead_funnel".to_string()], &query)
        .unwrap();
    let t = ev.table();
    let rows: Vec<Row> = t
        .rows
        .iter()
        .map(|r| t.columns.iter().cloned().zip(r.iter().cloned()).collect())
        .collect();
    // created, contacted, qualified, meeting, opportunity, won (through the deals lookup):
    // Jan L1 (D1 won), L2 (contacted only), L3 (never contacted); Mar L4 (D6 lost), L5 (D2 won).
    let want = [
        ("2025-01", "created", 3.0, None, Some(1.0)),
        ("2025-01", "contacted", 2.0, Some(2.0 / 3.0), Some(2.0 / 3.0)),
        ("2025-01", "qualified", 1.0, Some(0.5), Some(1.0 / 3.0)),
        ("2025-01", "meeting", 1.0, Some(1.0), Some(1.0 / 3.0)),
        ("2025-01", "opportunity", 1.0, Some(1.0), Some(1.0 / 3.0)),
        ("2025-01", "won", 1.0, Some(1.0), Some(1.0 / 3.0)),
        ("2025-02", "created", 0.0, None, None),
        ("2025-02", "contacted", 0.0, None, None),
        ("2025-02", "qualified", 0.0, None, None),
        ("2025-02", "meeting", 0.0, None, None),
        ("2025-02", "opportunity", 0.0, None, None),
        ("2025-02", "won", 0.0, None, None),
        ("2025-03", "created", 2.0, None, Some(1.0)),
        ("2025-03", "contacted", 2.0, Some(1.0), Some(1.0)),
        ("2025-03", "qualified", 2.0, Some(1.0), Some(1.0)),
        ("2025-03", "meeting", 2.0, Some(1.0), Some(1.0)),
        ("2025-03", "opportunity", 2.0, Some(1.0), Some(1.0)),
        ("2025-03", "won", 1.0, Some(0.5), Some(0.5)),
    ];
    assert_eq!(rows.len(), want.len());
    for (r, (period, step, count, conversion, from_start)) in rows.iter().zip(want) {
        assert_eq!(
            (text(r, "period").as_str(), text(r, "step").as_str()),
            (period, step)
        );
        assert_eq!(text(r, "funnel"), "lead_funnel");
        close(num(r, "count"), Some(count));
        close(num(r, "conversion"), conversion);
        close(num(r, "conversion_from_start"), from_start);
        close(num(r, "leakage"), conversion.map(|c| 1.0 - c));
    }
}
