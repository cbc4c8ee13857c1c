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

#[path = "../tests/it/handwritten.rs"]
mod handwritten;

use handwritten::{baseline, KPIS};

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
