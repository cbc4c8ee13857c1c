// A benchmark that cannot set itself up has failed: panics are its assertions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

//! How long `kpi check` takes on a large spec: 10,000 KPIs (base and derived)
//! over three datasets, loaded from text and checked, as on every save; and
//! what one spec test costs in specs of 100 and 1,000 tests (each test
//! checks the spec again with its rows' columns: a cost that grew with the
//! number of tests made 2,000 tests take a minute).
//!
//! Run with `cargo bench --bench check`.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

fn generate(n: usize) -> String {
    let mut s = String::from(
        "datasets:\n  deals:\n    source: deals.csv\n    time: closed_at\n    columns: {amount: number, cost: number, stage: string, owner: string, region: string, closed_at: date, created_at: date}\n  leads:\n    source: leads.csv\n    time: created_at\n    columns: {created_at: datetime, first_contact_at: datetime, source: string, owner: string}\nsegments:\n  emea: {where: region == \"EMEA\"}\nkpis:\n",
    );
    for i in 0..n {
        let _ = match i % 5 {
            0 => writeln!(s, "  k{i}:\n    dataset: deals\n    measure: sum(amount where stage == \"won\" and amount > {i})\n    unit: currency"),
            1 => writeln!(s, "  k{i}:\n    dataset: deals\n    measure: count(where stage == \"won\") / count(where stage in [\"won\", \"lost\"])\n    unit: percent"),
            2 => writeln!(s, "  k{i}:\n    dataset: leads\n    measure: median(minutes_between(created_at, first_contact_at))\n    where: source != \"spam\""),
            3 => writeln!(s, "  k{i}:\n    dataset: deals\n    measure: avg(days_between(created_at, closed_at) where stage == \"won\")"),
            _ => writeln!(s, "  k{i}:\n    measure: k{} / k{} + rolling(k{}, 3)", i - 4, i - 3, i - 3),
        };
    }
    s
}

/// A spec of `n` tests of one KPI, each over a row of its own.
fn tests(n: usize) -> String {
    let mut s = String::from(
        "datasets:\n  deals:\n    source: deals.csv\n    time: closed_at\n    columns: {amount: number, closed_at: date}\nkpis:\n  revenue:\n    dataset: deals\n    measure: sum(amount)\ntests:\n",
    );
    for i in 0..n {
        let _ = writeln!(
            s,
            "  t{i}:\n    kpi: revenue\n    data:\n      deals:\n        - {{amount: {i}, closed_at: 2025-01-01}}\n    expect:\n      - {{revenue: {i}}}"
        );
    }
    s
}

/// Milliseconds per test of a run of every test in a spec of `n` tests.
fn per_test(n: usize) -> f64 {
    let outcome = kpi::check_loaded(kpi::spec::load_str("tests.yaml", &tests(n)), false);
    assert_eq!(outcome.errors(), 0, "{:?}", outcome.diagnostics.first());
    let start = Instant::now();
    let results = kpi::spec_test::run(&outcome.spec, &outcome.checked.model, &outcome.sources, &[]);
    let took = start.elapsed().as_secs_f64() * 1e3;
    assert!(
        results.len() == n && results.iter().all(|r| r.passed),
        "{:?}",
        results.first()
    );
    took / n as f64
}

fn main() {
    let text = generate(10_000);
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..7 {
        let start = Instant::now();
        let outcome = kpi::check_loaded(kpi::spec::load_str("big.yaml", &text), false);
        times.push(start.elapsed());
        assert_eq!(outcome.errors(), 0, "{:?}", outcome.diagnostics.first());
        assert_eq!(outcome.spec.kpis.len(), 10_000);
    }
    let t = Instant::now();
    let loaded = kpi::spec::load_str("big.yaml", &text);
    let load = t.elapsed();
    let t = Instant::now();
    let checked = kpi::check::check(&loaded.spec, None);
    let check = t.elapsed();
    assert!(!checked.diagnostics.has_errors());
    println!(
        "load and parse {:.1} ms, check {:.1} ms",
        load.as_secs_f64() * 1e3,
        check.as_secs_f64() * 1e3
    );
    times.sort();
    println!(
        "check of 10,000 KPIs ({} KiB of YAML): median {:.1} ms, best {:.1} ms over {} runs",
        text.len() / 1024,
        times[times.len() / 2].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times.len()
    );
    println!(
        "spec tests: {:.2} ms per test in a spec of 100 tests, {:.2} ms in a spec of 1,000",
        per_test(100),
        per_test(1_000)
    );
}
