// A benchmark that cannot set itself up has failed: panics are its assertions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

//! Evaluation speed and memory, three ways, pair by pair in each round:
//!
//! - `kpi eval` (the release binary, as users run it) of the deal, lead and
//!   activity KPIs of kpis/ by owner × month, written to Parquet;
//! - the same numbers from a hand-written Polars query (tests/it/handwritten.rs);
//! - the same numbers from hand-written DuckDB SQL, run by DuckDB's own
//!   library through ADBC (the driver kpi uses for connections; installed by
//!   `scripts/services`, found in `KPI_ADBC_PATH` or `$KPI_SERVICES/adbc`).
//!
//! Each is a whole process (this binary re-runs itself for the two
//! baselines), timed from start to exit, with its peak memory read by GNU
//! `time` when `/usr/bin/time` exists. All three results are compared value by value.
//!
//! Then, over the same data: two KPIs of leads through a lookup of their
//! deals against the same as a DuckDB join, the deal KPIs over the deals
//! as CSV against DuckDB's CSV reader, the cost of 30 KPIs on one dataset
//! against one (one scan, one group-by), and `kpi status` of 50 targets.
//!
//! `cargo bench --bench eval` runs at 1M deals (3M leads, 5M activities);
//! `KPI_BENCH_SCALE=1000000,5000000` for more scales, `KPI_BENCH_RUNS` rounds (5).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use polars::prelude::*;

#[path = "../tests/it/handwritten.rs"]
mod handwritten;

use handwritten::{baseline, KPIS};

/// The deal KPIs' aggregates by owner and month, in [`DUCKDB_SQL`] and
/// [`CSV_SQL`].
const DEAL_AGGREGATES: &str = "coalesce(sum(amount) FILTER (WHERE stage = 'won'), 0) AS won_revenue,
    count(*) FILTER (WHERE stage = 'won') AS won_deals,
    count(*) FILTER (WHERE stage = 'lost') AS lost_deals,
    sum(amount - cost) FILTER (WHERE stage = 'won') AS gm,
    count(amount) FILTER (WHERE stage = 'won') AS won_n,
    avg(closed_at - created_at) FILTER (WHERE stage = 'won') AS sales_cycle_days,
    coalesce(sum(amount) FILTER (WHERE stage = 'won' AND channel = 'partner'), 0) AS partner_revenue,
    count(*) FILTER (WHERE stage = 'won' AND deal_type = 'upsell') AS upsell_count";

/// The deal KPIs from [`DEAL_AGGREGATES`].
const DEAL_COLUMNS: &str = "won_revenue::DOUBLE AS won_revenue, won_deals::DOUBLE AS won_deals,
  lost_deals::DOUBLE AS lost_deals,
  won_deals / nullif(won_deals + lost_deals, 0) AS win_rate,
  won_revenue / nullif(won_n, 0) AS avg_deal_size,
  gm / nullif(won_revenue, 0) AS gross_margin,
  sales_cycle_days::DOUBLE AS sales_cycle_days, partner_revenue::DOUBLE AS partner_revenue,
  upsell_count::DOUBLE AS upsell_count";

/// The same KPIs as hand-written DuckDB SQL: one aggregate per dataset,
/// joined on owner and month.
const DUCKDB_SQL: &str = r#"
WITH deals AS (
  SELECT owner, strftime(date_trunc('month', closed_at), '%Y-%m') AS period,
    {deal_aggregates}
  FROM read_parquet('{dir}/deals.parquet') WHERE closed_at IS NOT NULL GROUP BY ALL
), leads AS (
  SELECT owner, strftime(date_trunc('month', created_at), '%Y-%m') AS period,
    count(*) AS lead_count,
    count(deal_id) AS opp,
    avg(epoch_us(first_contact_at) - epoch_us(created_at)) / 60e6 AS avg_lead_response_minutes,
    count(*) FILTER (WHERE (epoch_us(first_contact_at) - epoch_us(created_at)) / 60e6 <= 5) AS fast,
    avg(touches_before_meeting) AS touches_before_meeting
  FROM read_parquet('{dir}/leads.parquet') WHERE created_at IS NOT NULL GROUP BY ALL
), acts AS (
  SELECT owner, strftime(date_trunc('month', "at"), '%Y-%m') AS period,
    count(*) AS activity_count, count(*) FILTER (WHERE type = 'call') AS call_count
  FROM read_parquet('{dir}/activities.parquet') WHERE "at" IS NOT NULL GROUP BY ALL
)
SELECT owner, period,
  {deal_columns}, lead_count::DOUBLE AS lead_count,
  opp / nullif(lead_count, 0) AS lead_to_opportunity,
  avg_lead_response_minutes,
  fast / nullif(lead_count, 0) AS contacted_within_5_min,
  touches_before_meeting,
  activity_count::DOUBLE AS activity_count, call_count::DOUBLE AS call_count
FROM deals FULL JOIN leads USING (owner, period) FULL JOIN acts USING (owner, period)
ORDER BY owner, period
"#;

/// KPIs through a lookup (leads looking up their deal by `deal_id`) as
/// hand-written DuckDB SQL: a left join on the key as text, as kpi's.
const LOOKUP_SQL: &str = r#"
SELECT l.owner, strftime(date_trunc('month', l.created_at), '%Y-%m') AS period,
  count(*) FILTER (WHERE d.stage = 'won') / count(*) AS lead_to_customer,
  coalesce(sum(d.amount) FILTER (WHERE d.stage = 'won'), 0)::DOUBLE AS won_lead_amount
FROM read_parquet('{dir}/leads.parquet') l
  LEFT JOIN read_parquet('{dir}/deals.parquet') d ON CAST(l.deal_id AS VARCHAR) = CAST(d.deal_id AS VARCHAR)
WHERE l.created_at IS NOT NULL GROUP BY ALL ORDER BY 1, 2
"#;

/// The KPIs of [`LOOKUP_SQL`].
const LOOKUP_KPIS: &[&str] = &["lead_to_customer", "won_lead_amount"];

/// The deal KPIs of [`DUCKDB_SQL`] over the deals as CSV (every column
/// declared, as in kpis/datasets.yaml), by DuckDB's own CSV reader.
const CSV_SQL: &str = r#"
WITH d AS (
  SELECT owner, strftime(date_trunc('month', closed_at), '%Y-%m') AS period,
    {deal_aggregates}
  FROM read_csv('{dir}/deals.csv') WHERE closed_at IS NOT NULL GROUP BY ALL
)
SELECT owner, period,
  {deal_columns}
FROM d ORDER BY owner, period
"#;

/// The KPIs of [`CSV_SQL`]: the deal KPIs, the first nine of [`KPIS`].
const CSV_KPIS: std::ops::RangeTo<usize> = ..9;

fn main() {
    // The baselines, when this binary is re-run as one of them.
    if let Ok(which) = std::env::var("KPI_BENCH_CHILD") {
        let dir = PathBuf::from(std::env::var("KPI_BENCH_DIR").unwrap());
        let out = PathBuf::from(std::env::var("KPI_BENCH_OUT").unwrap());
        let mut df = match which.as_str() {
            "polars" => polars_child(&dir),
            "duckdb-lookup" => duckdb_child(&dir, LOOKUP_SQL),
            "duckdb-csv" => duckdb_child(&dir, CSV_SQL),
            "duckdb-g1" => duckdb_child(&dir, &growth_sql(1)),
            "duckdb-g30" => duckdb_child(&dir, &growth_sql(30)),
            _ => duckdb_child(&dir, DUCKDB_SQL),
        };
        let file = std::fs::File::create(out).unwrap();
        ParquetWriter::new(file).finish(&mut df).unwrap();
        return;
    }
    let scales: Vec<usize> = std::env::var("KPI_BENCH_SCALE")
        .unwrap_or_else(|_| "1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let runs: usize = std::env::var("KPI_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    println!("machine: {} cores; load average {}", cores(), load());
    for scale in scales {
        bench_scale(scale, runs);
    }
    many_kpis(runs);
}

/// A spec of 10,000 KPIs over 1,000 deals, as a generated spec can be:
/// 8,000 base KPIs, each with its own filter, and 2,000 derived ones, half
/// of them over other derived KPIs. Evaluated whole, by month.
fn many_kpis(runs: usize) {
    let dir = std::env::temp_dir().join("kpi-bench-many");
    std::fs::create_dir_all(&dir).unwrap();
    let mut deals = String::from("amount,stage,closed_at\n");
    for i in 0..1000 {
        let stage = ["won", "lost", "open"][i % 3];
        let _ = writeln!(
            deals,
            "{},{stage},2025-{:02}-{:02}",
            100 + i * 37 % 9000,
            1 + i % 12,
            1 + i % 28
        );
    }
    std::fs::write(dir.join("deals.csv"), deals).unwrap();
    let mut spec = String::from("datasets:\n  deals: {source: deals.csv, time: closed_at}\nkpis:\n");
    for i in 0..10_000 {
        let _ = match i % 5 {
            0..=3 => writeln!(
                spec,
                "  k{i}: {{dataset: deals, measure: sum(amount where amount > {i})}}"
            ),
            // Derived: over two base KPIs, or over the derived KPI five before.
            _ if i % 10 == 4 => writeln!(spec, "  k{i}: {{measure: k{} / k{}}}", i - 4, i - 3),
            _ => writeln!(spec, "  k{i}: {{measure: k{} + 1}}", i - 5),
        };
    }
    std::fs::write(dir.join("many.yaml"), spec).unwrap();
    let kpi_bin = env!("CARGO_BIN_EXE_kpi");
    let mut took = Vec::new();
    for _ in 0..runs {
        let mut c = Command::new(kpi_bin);
        c.arg("--spec")
            .arg(dir.join("many.yaml"))
            .args(["--quiet", "eval", "--grain", "month", "--format", "csv", "-o"]);
        c.arg(dir.join("out.csv"));
        took.push(timed(c, "10,000 KPIs"));
    }
    println!("a spec of 10,000 KPIs (8,000 base, 2,000 derived) over 1,000 deals, by month:");
    summary("kpi eval", &took);
}

/// What one process took: wall seconds and peak memory (MiB, when known).
#[derive(Clone, Copy)]
struct Took {
    wall: f64,
    peak: Option<f64>,
}

/// Runs a command to its end, timed; its peak memory from GNU `time`.
fn timed(mut cmd: Command, label: &str) -> Took {
    let gnu_time = Path::new("/usr/bin/time").exists();
    let report = std::env::temp_dir().join(format!("kpi-bench-time-{}", std::process::id()));
    let mut cmd = if gnu_time {
        let mut t = Command::new("/usr/bin/time");
        t.arg("-f").arg("%M").arg("-o").arg(&report);
        t.arg(cmd.get_program());
        t.args(cmd.get_args());
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => t.env(k, v),
                None => t.env_remove(k),
            };
        }
        t
    } else {
        std::mem::replace(&mut cmd, Command::new("true"))
    };
    let start = Instant::now();
    let out = cmd.output().unwrap();
    let wall = start.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{label} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let peak = gnu_time
        .then(|| std::fs::read_to_string(&report).ok())
        .flatten()
        .and_then(|s| s.lines().last().and_then(|l| l.trim().parse::<f64>().ok()))
        .map(|kib| kib / 1024.0);
    Took { wall, peak }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn summary(label: &str, took: &[Took]) -> (f64, Option<f64>) {
    let wall = median(took.iter().map(|t| t.wall).collect());
    let peaks: Vec<f64> = took.iter().filter_map(|t| t.peak).collect();
    let peak = (!peaks.is_empty()).then(|| median(peaks));
    println!(
        "  {label:<28} {:>8.0} ms  {:>8} MiB peak",
        wall * 1e3,
        peak.map_or("?".to_string(), |p| format!("{p:.0}"))
    );
    (wall, peak)
}

/// kpi's (wall, peak) over DuckDB's.
fn against_duckdb((kw, kp): (f64, Option<f64>), (dw, dp): (f64, Option<f64>)) {
    println!(
        "  kpi / DuckDB: wall {:.2}×, peak memory {}",
        kw / dw,
        kp.zip(dp).map_or("?".into(), |(a, b)| format!("{:.2}×", a / b))
    );
}

fn bench_scale(scale: usize, runs: usize) {
    let dir = std::env::temp_dir().join(format!("kpi-bench-{scale}"));
    if !dir.join("activities.parquet").exists() {
        let start = Instant::now();
        let tables = kpi::generate::generate(scale, 7);
        kpi::data::write_parquet(&tables, &dir).expect("write parquet");
        eprintln!("generated {scale} deals in {:.1}s", start.elapsed().as_secs_f64());
    }
    if !dir.join("deals.csv").exists() {
        write_deals_csv(&dir);
    }
    let spec = write_spec(&dir);
    let csv_spec = write_csv_spec(&dir, &spec);
    let kpi_bin = env!("CARGO_BIN_EXE_kpi");
    let out = |name: &str| dir.join(format!("out-{name}.parquet"));
    let eval_with = |spec: &Path, kpis: &[&str], output: &Path| {
        let mut c = Command::new(kpi_bin);
        c.arg("--spec").arg(spec).arg("--quiet").arg("eval");
        c.args(kpis);
        c.args(["--by", "owner", "--grain", "month", "--format", "parquet", "-o"]);
        c.arg(output);
        c
    };
    let eval = |kpis: &[&str], output: &Path| eval_with(&spec, kpis, output);
    let child = |which: &str, output: &Path| {
        let mut c = Command::new(std::env::current_exe().unwrap());
        c.env("KPI_BENCH_CHILD", which)
            .env("KPI_BENCH_DIR", &dir)
            .env("KPI_BENCH_OUT", output);
        if std::env::var_os("KPI_ADBC_PATH").is_none() {
            c.env("KPI_ADBC_PATH", services().join("adbc"));
        }
        c
    };
    let (mut ours, mut polars, mut duck) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        ours.push(timed(eval(KPIS, &out("kpi")), "kpi eval"));
        polars.push(timed(child("polars", &out("polars")), "hand-written Polars"));
        duck.push(timed(child("duckdb", &out("duckdb")), "DuckDB SQL"));
    }
    let rows = same_values(&out("kpi"), &out("polars"), "hand-written Polars", KPIS);
    same_values(&out("kpi"), &out("duckdb"), "DuckDB", KPIS);
    println!(
        "scale {scale} deals ({} KPIs by owner × month, {rows} rows, every value equal in all three; median of {runs}):",
        KPIS.len()
    );
    let kpi = summary("kpi eval", &ours);
    summary("hand-written Polars", &polars);
    against_duckdb(kpi, summary("hand-written DuckDB SQL", &duck));

    // Lookups: leads looking up their deals, against DuckDB's join.
    let (mut ours, mut duck) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        ours.push(timed(eval(LOOKUP_KPIS, &out("kpi-lookup")), "kpi eval (lookup)"));
        duck.push(timed(
            child("duckdb-lookup", &out("duckdb-lookup")),
            "DuckDB SQL (lookup)",
        ));
    }
    let rows = same_values(
        &out("kpi-lookup"),
        &out("duckdb-lookup"),
        "DuckDB (lookup)",
        LOOKUP_KPIS,
    );
    println!(
        "leads looking up their deals ({} KPIs by owner × month, {rows} rows, equal):",
        LOOKUP_KPIS.len()
    );
    let kpi = summary("kpi eval", &ours);
    against_duckdb(kpi, summary("hand-written DuckDB SQL", &duck));

    // The deal KPIs over the deals as CSV, against DuckDB's CSV reader.
    let (mut ours, mut duck) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        ours.push(timed(
            eval_with(&csv_spec, &KPIS[CSV_KPIS], &out("kpi-csv")),
            "kpi eval (CSV)",
        ));
        duck.push(timed(child("duckdb-csv", &out("duckdb-csv")), "DuckDB SQL (CSV)"));
    }
    let rows = same_values(
        &out("kpi-csv"),
        &out("duckdb-csv"),
        "DuckDB (CSV)",
        &KPIS[CSV_KPIS],
    );
    println!(
        "deals as CSV ({} KPIs by owner × month, {rows} rows, equal):",
        KPIS[CSV_KPIS].len()
    );
    let kpi = summary("kpi eval", &ours);
    against_duckdb(kpi, summary("hand-written DuckDB SQL", &duck));

    // Growth: 30 KPIs over deals against one.
    let growth: Vec<String> = (0..30).map(|i| format!("g{i:02}")).collect();
    let growth: Vec<&str> = growth.iter().map(String::as_str).collect();
    let (mut one, mut thirty, mut duck_one, mut duck_thirty) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        one.push(timed(eval(&growth[..1], &out("g1")), "one KPI"));
        thirty.push(timed(eval(&growth, &out("g30")), "30 KPIs"));
        duck_one.push(timed(child("duckdb-g1", &out("duckdb-g1")), "DuckDB, one KPI"));
        duck_thirty.push(timed(child("duckdb-g30", &out("duckdb-g30")), "DuckDB, 30 KPIs"));
    }
    same_values(&out("g1"), &out("duckdb-g1"), "DuckDB (one KPI)", &growth[..1]);
    same_values(&out("g30"), &out("duckdb-g30"), "DuckDB (30 KPIs)", &growth);
    println!("growth over deals by owner × month (every value equal to DuckDB's):");
    let (w1, _) = summary("1 KPI", &one);
    let (w30, _) = summary("30 KPIs", &thirty);
    println!("  30 KPIs / 1 KPI: {:.2}×", w30 / w1);
    let (d1, _) = summary("DuckDB SQL, 1 KPI", &duck_one);
    let (d30, _) = summary("DuckDB SQL, 30 KPIs", &duck_thirty);
    println!("  DuckDB's 30 KPIs / 1 KPI: {:.2}×", d30 / d1);

    // Status of 50 targets.
    let mut st = Vec::new();
    for _ in 0..runs {
        let mut c = Command::new(kpi_bin);
        c.arg("--spec")
            .arg(&spec)
            .args(["--quiet", "status", "--format", "json"]);
        st.push(timed(c, "kpi status"));
    }
    println!("status:");
    summary("kpi status (50 targets)", &st);
}

/// The library, with its sources pointed at the generated Parquet files,
/// 30 KPIs over deals for the growth figure and 50 targets.
fn write_spec(dir: &Path) -> PathBuf {
    let spec = dir.join("spec");
    std::fs::create_dir_all(&spec).unwrap();
    let text = std::fs::read_to_string("kpis/datasets.yaml")
        .expect("run from the repository root")
        .replace("../examples/data/", &format!("{}/", dir.display()))
        .replace(".csv", ".parquet");
    std::fs::write(spec.join("datasets.yaml"), text).unwrap();
    for f in ["pipeline.yaml", "leads.yaml", "customers.yaml", "segments.yaml"] {
        std::fs::copy(format!("kpis/{f}"), spec.join(f)).unwrap();
    }
    std::fs::write(spec.join("growth.yaml"), growth_kpis()).unwrap();
    std::fs::write(spec.join("targets.yaml"), fifty_targets()).unwrap();
    spec
}

/// The generated deals as CSV, beside their Parquet file.
fn write_deals_csv(dir: &Path) {
    let deals = dir.join("deals.parquet");
    let mut df = LazyFrame::scan_parquet(
        PlRefPath::new(deals.to_string_lossy().as_ref()),
        ScanArgsParquet::default(),
    )
    .unwrap()
    .collect()
    .unwrap();
    let file = std::fs::File::create(dir.join("deals.csv")).unwrap();
    CsvWriter::new(file).finish(&mut df).unwrap();
}

/// The spec of [`write_spec`] with the deals read from their CSV file.
fn write_csv_spec(dir: &Path, spec: &Path) -> PathBuf {
    let csv = dir.join("spec-csv");
    std::fs::create_dir_all(&csv).unwrap();
    for entry in std::fs::read_dir(spec).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text.replace("deals.parquet", "deals.csv");
        std::fs::write(csv.join(path.file_name().unwrap()), text).unwrap();
    }
    csv
}

/// The growth KPIs: sums, counts, averages, ratios and maxima under
/// different filters, each as a kpi measure and as a DuckDB aggregate of
/// the same value (an empty sum 0, an empty average or maximum null).
fn growth_measures() -> Vec<(String, String)> {
    let stages = ["won", "lost", "proposal", "negotiation", "qualified"];
    (0..30)
        .map(|i| {
            let stage = stages[i % stages.len()];
            let only = format!("FILTER (WHERE stage = '{stage}')");
            match i / 5 {
                0 => (
                    format!("sum(amount where stage == \"{stage}\")"),
                    format!("coalesce(sum(amount) {only}, 0)"),
                ),
                1 => (
                    format!("count(where stage == \"{stage}\")"),
                    format!("count(*) {only}::DOUBLE"),
                ),
                2 => (
                    format!("avg(amount where stage == \"{stage}\")"),
                    format!("avg(amount) {only}"),
                ),
                3 => (
                    format!("sum(amount - cost where stage == \"{stage}\") / sum(amount)"),
                    format!("coalesce(sum(amount - cost) {only}, 0) / nullif(sum(amount), 0)"),
                ),
                4 => (
                    format!("count(where stage == \"{stage}\" and channel == \"partner\")"),
                    format!("count(*) FILTER (WHERE stage = '{stage}' AND channel = 'partner')::DOUBLE"),
                ),
                _ => (
                    format!("max(amount where stage == \"{stage}\")"),
                    format!("max(amount) {only}"),
                ),
            }
        })
        .collect()
}

/// Thirty KPIs over deals for the growth figure (and one over leads).
fn growth_kpis() -> String {
    let mut s = String::from("kpis:\n");
    for (i, (measure, _)) in growth_measures().iter().enumerate() {
        let _ = writeln!(s, "  g{i:02}:\n    dataset: deals\n    measure: {measure}");
    }
    s.push_str("  won_lead_amount:\n    dataset: leads\n    measure: sum(deals.amount where deals.stage == \"won\")\n");
    s
}

/// The first `n` growth KPIs by owner and month as one DuckDB query.
fn growth_sql(n: usize) -> String {
    let aggregates: Vec<String> = growth_measures()
        .into_iter()
        .take(n)
        .enumerate()
        .map(|(i, (_, sql))| format!("{sql} AS g{i:02}"))
        .collect();
    format!(
        "SELECT owner, strftime(date_trunc('month', closed_at), '%Y-%m') AS period, {}
         FROM read_parquet('{{dir}}/deals.parquet') WHERE closed_at IS NOT NULL GROUP BY ALL ORDER BY owner, period",
        aggregates.join(", ")
    )
}

/// Fifty targets over the library's KPIs: monthly, quarterly and yearly,
/// values and changes, whole and per rep.
fn fifty_targets() -> String {
    let kpis = [
        "won_revenue",
        "won_deals",
        "win_rate",
        "avg_deal_size",
        "lead_count",
        "lead_to_opportunity",
        "activity_count",
        "call_count",
        "sales_cycle_days",
        "partner_revenue",
    ];
    let mut s = String::from("targets:\n");
    for i in 0..50 {
        let kpi = kpis[i % kpis.len()];
        let time = [
            "every: month",
            "every: quarter",
            "period: 2025",
            "every: month",
            "every: quarter",
        ][i / 10];
        let goal = if i % 2 == 0 {
            "value: 100".to_string()
        } else {
            "change: \"+5%\"".to_string()
        };
        let by = if i % 3 == 0 { "\n    by: owner" } else { "" };
        let _ = writeln!(s, "  t{i:02}:\n    kpi: {kpi}\n    {time}\n    {goal}{by}");
    }
    s
}

/// Compares two result files value by value on (owner, period); the
/// baseline has no empty periods, so where it has no row kpi's sums are 0
/// or null. Returns the number of rows compared.
fn same_values(ours: &Path, theirs: &Path, what: &str, kpis: &[&str]) -> usize {
    let read = |p: &Path| {
        LazyFrame::scan_parquet(
            PlRefPath::new(p.to_string_lossy().as_ref()),
            ScanArgsParquet::default(),
        )
        .unwrap()
    };
    let joined = read(ours)
        .join(
            read(theirs),
            [col("owner"), col("period")],
            [col("owner"), col("period")],
            JoinArgs::new(JoinType::Inner),
        )
        .collect()
        .expect("compare");
    assert!(joined.height() > 0, "{what}: no rows in common");
    for k in kpis {
        let a = joined
            .column(k)
            .and_then(|c| c.cast(&DataType::Float64))
            .expect("ours");
        let b = joined
            .column(&format!("{k}_right"))
            .and_then(|c| c.cast(&DataType::Float64))
            .expect("theirs");
        let (a, b) = (a.f64().expect("f64"), b.f64().expect("f64"));
        for (x, y) in a.iter().zip(b.iter()) {
            match (x, y) {
                (Some(x), Some(y)) => {
                    assert!((x - y).abs() <= 1e-6 * y.abs().max(1.0), "{what} {k}: {x} vs {y}")
                }
                (None, None) => {}
                (Some(x), None) | (None, Some(x)) => assert!(x == 0.0, "{what} {k}: {x:?} vs {y:?}"),
            }
        }
    }
    joined.height()
}

fn polars_child(dir: &Path) -> DataFrame {
    baseline(dir)
        .expect("baseline")
        .lazy()
        .with_column(col("month").dt().strftime("%Y-%m").alias("period"))
        .collect()
        .expect("period")
}

fn duckdb_child(dir: &Path, sql: &str) -> DataFrame {
    use kpi::check::ir::ConnectionModel;
    let c = ConnectionModel {
        name: "bench".into(),
        driver: "duckdb".into(),
        uri: None,
        dialect: kpi::spec::model::Dialect::DuckDb,
        options: Vec::new(),
        span: Default::default(),
        base_dir: PathBuf::new(),
    };
    let sql = sql
        .replace("{deal_aggregates}", DEAL_AGGREGATES)
        .replace("{deal_columns}", DEAL_COLUMNS)
        .replace("{dir}", &dir.display().to_string());
    let df =
        kpi::data::adbc::query(&c, &sql).unwrap_or_else(|d| panic!("DuckDB: {} {:?}", d.message, d.help));
    kpi::data::adbc::disconnect();
    df
}

fn services() -> PathBuf {
    std::env::var_os("KPI_SERVICES").map_or_else(
        || PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/kpi-services"),
        PathBuf::from,
    )
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}
