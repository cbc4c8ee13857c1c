// A benchmark that cannot set itself up has failed: panics are its assertions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

//! Evaluation speed: the deal, lead and activity KPIs of kpis/ by owner ×
//! month over generated data (1M deals, 3M leads, 5M activities by default),
//! next to a hand-written Polars query computing the same numbers, measured
//! in the same run. The two results are compared value by value.
//!
//! `cargo bench --bench eval` (`KPI_BENCH_SCALE=100000` for a quicker run).

use std::time::{Duration, Instant};

use polars::prelude::*;

const KPIS: &[&str] = &[
    "won_revenue",
    "won_deals",
    "lost_deals",
    "win_rate",
    "avg_deal_size",
    "gross_margin",
    "sales_cycle_days",
    "partner_revenue",
    "upsell_count",
    "lead_count",
    "lead_to_opportunity",
    "avg_lead_response_minutes",
    "contacted_within_5_min",
    "touches_before_meeting",
    "activity_count",
    "call_count",
];

fn month(c: &str) -> Expr {
    col(c)
        .cast(DataType::Date)
        .dt()
        .truncate(lit("1mo"))
        .alias("month")
}

fn ratio(a: Expr, b: Expr) -> Expr {
    when(b.clone().eq(lit(0.0)))
        .then(lit(NULL).cast(DataType::Float64))
        .otherwise(a / b)
}

/// The same KPIs, written by hand: one query per dataset, joined on (owner, month).
fn baseline(dir: &std::path::Path) -> PolarsResult<DataFrame> {
    let scan = |name: &str| {
        LazyFrame::scan_parquet(
            PlRefPath::new(dir.join(format!("{name}.parquet")).to_string_lossy().as_ref()),
            ScanArgsParquet::default(),
        )
    };
    let won = col("stage").eq(lit("won"));
    let num = |c: &str| col(c).cast(DataType::Float64);
    let deals = scan("deals")?
        .filter(col("closed_at").is_not_null())
        .group_by([col("owner"), month("closed_at")])
        .agg([
            num("amount").filter(won.clone()).sum().alias("won_revenue"),
            won.clone().cast(DataType::Float64).sum().alias("won_deals"),
            col("stage")
                .eq(lit("lost"))
                .cast(DataType::Float64)
                .sum()
                .alias("lost_deals"),
            (num("amount") - num("cost"))
                .filter(won.clone())
                .sum()
                .alias("gm"),
            num("amount")
                .filter(won.clone())
                .count()
                .cast(DataType::Float64)
                .alias("won_n"),
            ((col("closed_at").cast(DataType::Int32) - col("created_at").cast(DataType::Int32))
                .cast(DataType::Float64))
            .filter(won.clone())
            .mean()
            .alias("sales_cycle_days"),
            num("amount")
                .filter(won.clone().and(col("channel").eq(lit("partner"))))
                .sum()
                .alias("partner_revenue"),
            won.clone()
                .and(col("deal_type").eq(lit("upsell")))
                .cast(DataType::Float64)
                .sum()
                .alias("upsell_count"),
        ])
        .with_columns([
            ratio(col("won_deals"), col("won_deals") + col("lost_deals")).alias("win_rate"),
            ratio(col("won_revenue"), col("won_n")).alias("avg_deal_size"),
            ratio(col("gm"), col("won_revenue")).alias("gross_margin"),
        ]);
    let minutes = (col("first_contact_at").cast(DataType::Int64) - col("created_at").cast(DataType::Int64))
        .cast(DataType::Float64)
        / lit(60e6);
    let leads = scan("leads")?
        .group_by([col("owner"), month("created_at")])
        .agg([
            len().cast(DataType::Float64).alias("lead_count"),
            col("deal_id")
                .is_not_null()
                .cast(DataType::Float64)
                .sum()
                .alias("opp"),
            minutes.clone().mean().alias("avg_lead_response_minutes"),
            minutes
                .lt_eq(lit(5.0))
                .fill_null(lit(false))
                .cast(DataType::Float64)
                .sum()
                .alias("fast"),
            num("touches_before_meeting")
                .mean()
                .alias("touches_before_meeting"),
        ])
        .with_columns([
            ratio(col("opp"), col("lead_count")).alias("lead_to_opportunity"),
            ratio(col("fast"), col("lead_count")).alias("contacted_within_5_min"),
        ]);
    let acts = scan("activities")?.group_by([col("owner"), month("at")]).agg([
        len().cast(DataType::Float64).alias("activity_count"),
        col("type")
            .eq(lit("call"))
            .cast(DataType::Float64)
            .sum()
            .alias("call_count"),
    ]);
    let on = [col("owner"), col("month")];
    let all = deals
        .join(
            leads,
            on.clone(),
            on.clone(),
            JoinArgs::new(JoinType::Full).with_coalesce(JoinCoalesce::CoalesceColumns),
        )
        .join(
            acts,
            on.clone(),
            on,
            JoinArgs::new(JoinType::Full).with_coalesce(JoinCoalesce::CoalesceColumns),
        );
    let mut select = vec![col("owner"), col("month")];
    select.extend(KPIS.iter().map(|k| col(*k)));
    all.select(select)
        .sort(["owner", "month"], SortMultipleOptions::default())
        .collect()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let scale: usize = std::env::var("KPI_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let dir = std::env::temp_dir().join(format!("kpi-bench-{scale}"));
    if !dir.join("activities.parquet").exists() {
        let start = Instant::now();
        let tables = kpi::generate::generate(scale, 7);
        kpi::data::write_parquet(&tables, &dir).expect("write parquet");
        eprintln!("generated {scale} deals in {:.1}s", start.elapsed().as_secs_f64());
    }
    // The library, with its sources pointed at the generated Parquet files.
    let text = std::fs::read_to_string("kpis/datasets.yaml")
        .expect("run from the repository root")
        .replace("../examples/data/", &format!("{}/", dir.display()))
        .replace(".csv", ".parquet");
    let mut files = vec![kpi::spec::InputFile {
        name: "datasets.yaml".into(),
        bytes: text.into_bytes(),
        base_dir: ".".into(),
    }];
    for f in ["pipeline.yaml", "leads.yaml", "customers.yaml", "segments.yaml"] {
        files.push(kpi::spec::InputFile {
            name: f.into(),
            bytes: std::fs::read(format!("kpis/{f}")).expect("kpis/"),
            base_dir: "kpis".into(),
        });
    }
    let outcome = kpi::check_loaded(kpi::spec::load_files(files), false);
    assert_eq!(outcome.errors(), 0, "{:?}", outcome.diagnostics);
    let query = kpi::plan::Query {
        kpis: KPIS.iter().map(|s| s.to_string()).collect(),
        by: vec!["owner".into()],
        grain: kpi::period::Grain::Month,
        ..Default::default()
    };
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let mut last = None;
    for _ in 0..5 {
        let t = Instant::now();
        let ev = kpi::execute::evaluate(&outcome.checked.model, &query).expect("evaluate");
        ours.push(t.elapsed());
        let t = Instant::now();
        let base = baseline(&dir).expect("baseline");
        theirs.push(t.elapsed());
        last = Some((ev, base));
    }
    // Same numbers: compare every KPI column (the baseline has no empty periods, so compare where it has rows).
    if let Some((ev, base)) = last {
        let joined = ev
            .frame
            .clone()
            .lazy()
            .with_column(col("period").alias("p"))
            .join(
                base.lazy()
                    .with_column(col("month").dt().strftime("%Y-%m").alias("p")),
                [col("owner"), col("p")],
                [col("owner"), col("p")],
                JoinArgs::new(JoinType::Inner),
            )
            .collect()
            .expect("compare");
        assert!(joined.height() > 0);
        for k in KPIS {
            let a = joined
                .column(k)
                .and_then(|c| c.cast(&DataType::Float64))
                .expect("ours");
            let b = joined
                .column(&format!("{k}_right"))
                .and_then(|c| c.cast(&DataType::Float64))
                .expect("baseline");
            let (a, b) = (a.f64().expect("f64"), b.f64().expect("f64"));
            for (x, y) in a.iter().zip(b.iter()) {
                match (x, y) {
                    (Some(x), Some(y)) => {
                        assert!((x - y).abs() <= 1e-6 * y.abs().max(1.0), "{k}: {x} vs {y}")
                    }
                    (None, None) => {}
                    (Some(x), None) | (None, Some(x)) => assert!(x == 0.0, "{k}: {x:?} vs {y:?}"),
                }
            }
        }
        println!(
            "{} rows (owner × month), every value equal to the baseline's",
            ev.frame.height()
        );
    }
    println!(
        "scale {scale}: kpi eval median {:.0} ms; hand-written Polars median {:.0} ms ({} KPIs, 5 runs each)",
        median(ours).as_secs_f64() * 1e3,
        median(theirs).as_secs_f64() * 1e3,
        KPIS.len()
    );
}
