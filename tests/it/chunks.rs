//! Long Parquet datasets read in chunks (`KPI_CHUNK_ROWS` rows at a time)
//! into the hand-written group-by: the same numbers as reading every row at
//! once, checked against a plain loop over the rows and against Polars'
//! own group-by.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::support::{close, json_rows, kpi_bin, labelled_numbers, root, temp_dir};

/// (owner, stage, amount, closed_at, opened_at): 13 rows, so chunks of 5
/// rows are 5, 5 and 3. ann's January rows fall in all three chunks, dee
/// has rows only in the last, the NaN is in the first, a row without a
/// closing date in the second.
type Row = (
    &'static str,
    &'static str,
    Option<f64>,
    Option<&'static str>,
    &'static str,
);

const ROWS: [Row; 13] = [
    ("ann", "won", Some(100.0), Some("2025-01-05"), "2024-12-01"),
    ("bob", "lost", Some(20.0), Some("2025-01-07"), "2024-12-20"),
    ("ann", "won", Some(f64::NAN), Some("2025-01-20"), "2025-01-02"),
    ("ann", "lost", None, Some("2025-02-01"), "2025-01-10"),
    ("cy", "won", Some(7.5), Some("2025-02-03"), "2025-01-15"),
    ("ann", "won", Some(0.1), Some("2025-01-30"), "2025-01-01"),
    ("bob", "won", Some(0.2), Some("2025-02-10"), "2025-02-01"),
    ("bob", "won", None, Some("2025-02-11"), "2025-01-20"),
    ("ann", "lost", Some(3.0), None, "2025-02-15"),
    ("cy", "lost", Some(1.0), Some("2025-03-01"), "2025-02-20"),
    ("ann", "won", Some(0.3), Some("2025-01-31"), "2025-01-03"),
    ("dee", "won", Some(50.0), Some("2025-03-02"), "2025-03-01"),
    ("bob", "lost", Some(2.0), Some("2025-01-15"), "2024-11-30"),
];

const KPIS: &str = r#"
  won_sum: {dataset: deals, measure: 'sum(amount where stage == "won")', time: closed_at}
  won_sum_again: {dataset: deals, measure: 'sum(amount where stage == "won")', time: closed_at}
  won_avg: {dataset: deals, measure: 'avg(amount where stage == "won")', time: closed_at}
  avg_amount: {dataset: deals, measure: avg(amount), time: closed_at}
  deals: {dataset: deals, measure: count(), time: closed_at}
  won_deals: {dataset: deals, measure: 'count(where stage == "won")', time: closed_at}
  amounts: {dataset: deals, measure: count(amount), time: closed_at}
  top: {dataset: deals, measure: max(amount), time: closed_at}
  most_seats: {dataset: deals, measure: max(seats), time: closed_at}
  fewest_won_seats: {dataset: deals, measure: 'min(seats where stage == "won")', time: closed_at}
  seats: {dataset: deals, measure: sum(seats), time: closed_at}
  low: {dataset: deals, measure: min(amount), time: closed_at}
  small: {dataset: deals, measure: 'count(where amount < 5)', time: closed_at}
  small_seats: {dataset: deals, measure: 'sum(seats where amount < 5)', time: closed_at}
  seat_counts: {dataset: deals, measure: count_distinct(seats), time: closed_at}
  small_stages: {dataset: deals, measure: 'count_distinct(stage where amount < 5)', time: closed_at}
  median_won: {dataset: deals, measure: 'median(amount where stage == "won")', time: closed_at}
  p90: {dataset: deals, measure: 'quantile(amount, 0.9)', time: closed_at}
  win_rate: {dataset: deals, measure: 'count(where stage == "won") / count()', time: closed_at}
  open_deals: {dataset: deals, measure: count(), active: {from: opened_at, to: closed_at}}
  open_amount: {dataset: deals, measure: sum(amount), active: {from: opened_at, to: closed_at}}
"#;

fn write_data(dir: &Path) {
    let date = days_since_1970;
    let mut deals = df!(
        "owner" => ROWS.map(|r| r.0),
        "stage" => ROWS.map(|r| r.1),
        "amount" => ROWS.map(|r| r.2),
        "closed_at" => ROWS.map(|r| r.3.map(date)),
        "opened_at" => ROWS.map(|r| date(r.4)),
        "seats" => seats(),
    )
    .unwrap()
    .lazy()
    .with_columns([
        col("closed_at").cast(DataType::Date),
        col("opened_at").cast(DataType::Date),
    ])
    .collect()
    .unwrap();
    ParquetWriter::new(std::fs::File::create(dir.join("deals.parquet")).unwrap())
        .finish(&mut deals)
        .unwrap();
    std::fs::write(
        dir.join("reps.csv"),
        "owner,region\nann,north\nbob,south\ncy,north\ndee,south\n",
    )
    .unwrap();
    let spec = format!(
        "datasets:\n  deals:\n    source: deals.parquet\n    lookups: [{{dataset: reps, on: owner}}]\n  reps: {{source: reps.csv}}\nkpis:{KPIS}"
    );
    std::fs::write(dir.join("kpis.yaml"), spec).unwrap();
}

/// An integer column (every third row without a value).
fn seats() -> [Option<i64>; 13] {
    std::array::from_fn(|i| (i % 3 != 1).then_some(i as i64 * 7 % 11))
}

/// Days since 1970 of a `YYYY-MM-DD` date, by the civil-from-days rule.
fn days_since_1970(s: &str) -> i32 {
    let p: Vec<i32> = s.split('-').map(|x| x.parse().unwrap()).collect();
    let (y, m, d) = (p[0] - i32::from(p[1] <= 2), p[1], p[2]);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `kpi` with `KPI_CHUNK_ROWS` set.
fn kpi_chunked(chunk: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(kpi_bin())
        .current_dir(root())
        .env_remove("KPI_SPEC")
        .env_remove("KPI_STREAMING")
        .env("KPI_CHUNK_ROWS", chunk)
        .args(args)
        .output()
        .unwrap()
}

fn eval(dir: &Path, chunk: &str, query: &[&str]) -> (Vec<serde_json::Value>, String) {
    let spec = dir.join("kpis.yaml");
    let mut args = vec!["eval", "--spec", spec.to_str().unwrap(), "--format", "json"];
    args.extend(query);
    let out = kpi_chunked(chunk, &args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    (json_rows(&out), err)
}

fn fixture() -> PathBuf {
    let dir = temp_dir("chunks");
    write_data(&dir);
    dir
}

#[test]
fn chunked_evaluation_equals_a_plain_loop_over_the_rows() {
    let dir = fixture();
    let (rows, err) = eval(&dir, "5", &["--by", "owner", "--grain", "month"]);
    // By hand: (owner, month) → the flow KPIs, rows without a closing date
    // left out; NaN is null.
    #[derive(Default)]
    struct Acc {
        won_sum: f64,
        won_n: u32,
        sum: f64,
        n_amounts: u32,
        deals: u32,
        won: u32,
        top: Option<f64>,
        low: Option<f64>,
        seats: i64,
        most_seats: Option<i64>,
        fewest_won_seats: Option<i64>,
        // A condition on a null (or NaN) amount is null: the row is left out.
        small: u32,
        small_seats: i64,
        seat_values: Vec<i64>,
        small_stages: Vec<&'static str>,
        won_amounts: Vec<f64>,
        amounts: Vec<f64>,
    }
    let mut by: BTreeMap<(String, String), Acc> = BTreeMap::new();
    for ((owner, stage, amount, closed, _), seats) in ROWS.into_iter().zip(seats()) {
        let Some(closed) = closed else { continue };
        let a = by
            .entry((owner.to_string(), closed[..7].to_string()))
            .or_default();
        if let Some(n) = seats {
            a.seats += n;
            a.most_seats = Some(a.most_seats.map_or(n, |m| m.max(n)));
            if stage == "won" {
                a.fewest_won_seats = Some(a.fewest_won_seats.map_or(n, |m| m.min(n)));
            }
        }
        let amount = amount.filter(|x| x.is_finite());
        if amount.is_some_and(|x| x < 5.0) {
            a.small += 1;
            a.small_seats += seats.unwrap_or(0);
            a.small_stages.push(stage);
        }
        a.seat_values.extend(seats);
        a.deals += 1;
        if stage == "won" {
            a.won += 1;
        }
        if let Some(x) = amount {
            a.sum += x;
            a.n_amounts += 1;
            a.top = Some(a.top.map_or(x, |t: f64| t.max(x)));
            a.low = Some(a.low.map_or(x, |t: f64| t.min(x)));
            a.amounts.push(x);
            if stage == "won" {
                a.won_sum += x;
                a.won_n += 1;
                a.won_amounts.push(x);
            }
        }
    }
    let avg = |s: f64, n: u32| (n > 0).then(|| s / f64::from(n));
    let distinct = |mut v: Vec<String>| {
        v.sort();
        v.dedup();
        v.len() as f64
    };
    // Linear interpolation between the two values around (n - 1) · q.
    let quantile = |v: &[f64], q: f64| -> Option<f64> {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        let at = (v.len().checked_sub(1)? as f64) * q;
        let (lo, hi) = (v[at.floor() as usize], v[at.ceil() as usize]);
        Some(lo + (hi - lo) * (at - at.floor()))
    };
    for ((owner, month), a) in &by {
        let row = rows
            .iter()
            .find(|r| r["owner"] == owner.as_str() && r["period"] == month.as_str())
            .unwrap_or_else(|| panic!("no row for {owner} {month}: {rows:?}"));
        let want = [
            ("won_sum", Some(a.won_sum)),
            ("won_sum_again", Some(a.won_sum)),
            ("won_avg", avg(a.won_sum, a.won_n)),
            ("avg_amount", avg(a.sum, a.n_amounts)),
            ("deals", Some(f64::from(a.deals))),
            ("won_deals", Some(f64::from(a.won))),
            ("amounts", Some(f64::from(a.n_amounts))),
            ("top", a.top),
            ("low", a.low),
            ("win_rate", Some(f64::from(a.won) / f64::from(a.deals))),
            ("seats", Some(a.seats as f64)),
            ("most_seats", a.most_seats.map(|n| n as f64)),
            ("fewest_won_seats", a.fewest_won_seats.map(|n| n as f64)),
            ("small", Some(f64::from(a.small))),
            ("small_seats", Some(a.small_seats as f64)),
            (
                "seat_counts",
                Some(distinct(a.seat_values.iter().map(|n| n.to_string()).collect())),
            ),
            (
                "small_stages",
                Some(distinct(a.small_stages.iter().map(|s| s.to_string()).collect())),
            ),
            ("median_won", quantile(&a.won_amounts, 0.5)),
            ("p90", quantile(&a.amounts, 0.9)),
        ];
        for (k, v) in want {
            assert!(
                close(row[k].as_f64(), v),
                "{k} for {owner} {month}: got {}, want {v:?}",
                row[k]
            );
        }
    }
    // ann in January: rows in all three chunks (100, NaN, 0.1, 0.3).
    let ann = rows
        .iter()
        .find(|r| r["owner"] == "ann" && r["period"] == "2025-01")
        .unwrap();
    assert!(close(ann["won_avg"].as_f64(), Some(100.4 / 3.0)), "{ann}");
    // The NaN and the row without a date are reported once, not per chunk.
    assert!(err.contains("held 1 non-finite value"), "{err}");
    assert!(err.contains("1 row with no time value belongs"), "{err}");
}

#[test]
fn chunks_give_what_one_read_gives() {
    let dir = fixture();
    let queries: [&[&str]; 7] = [
        &["--by", "owner", "--grain", "month"],
        &["--by", "region", "--grain", "month"],
        &["--by", "region", "--grain", "all"],
        &["--by", "stage", "--grain", "quarter"],
        // No group key at all: one row.
        &["--grain", "all"],
        // Four dimensions (the most grouped by hand), and five (by Polars).
        &["--by", "owner,stage,region,opened_at", "--grain", "week"],
        &[
            "--by",
            "owner,stage,region,opened_at,closed_at",
            "--grain",
            "year",
        ],
    ];
    for query in queries {
        let what = query.join(" ");
        let (chunked, chunked_err) = eval(&dir, "5", query);
        let (whole, whole_err) = eval(&dir, "0", query);
        // Rows are added in file order however they are split: the same
        // numbers to the last digit, and the same warnings.
        assert_eq!(chunked, whole, "{what}");
        assert_eq!(chunked_err, whole_err, "{what}");
        // Polars' own group-by (the streaming engine uses it) agrees.
        let spec = dir.join("kpis.yaml");
        let mut args = vec!["eval", "--spec", spec.to_str().unwrap(), "--format", "json"];
        args.extend(query);
        let out = std::process::Command::new(kpi_bin())
            .current_dir(root())
            .env_remove("KPI_SPEC")
            .env("KPI_STREAMING", "1")
            .args(&args)
            .output()
            .unwrap();
        let polars = json_rows(&out);
        assert_eq!(chunked.len(), polars.len(), "{what}");
        // A row's group: its dimensions and period.
        let key = |r: &serde_json::Value| -> String {
            let dims = ["owner", "region", "stage", "opened_at", "closed_at", "period"];
            dims.iter().map(|d| format!("{}|", r[*d])).collect()
        };
        for c in &chunked {
            let p = polars.iter().find(|p| key(p) == key(c)).unwrap();
            for (k, v) in p.as_object().unwrap() {
                match v.as_f64() {
                    Some(x) => assert!(
                        close(c[k].as_f64(), Some(x)),
                        "{k} for {what}: by hand {}, Polars {x}",
                        c[k]
                    ),
                    None => assert_eq!(&c[k], v, "{k} for {what}"),
                }
            }
        }
    }
}

/// `kpi explain KPIS… --by owner` with `KPI_CHUNK_ROWS` set.
fn explain(spec: &Path, chunk: &str, kpis: &[&str]) -> String {
    let mut args = vec!["explain", "--spec", spec.to_str().unwrap(), "--by", "owner"];
    args.extend(kpis);
    String::from_utf8_lossy(&kpi_chunked(chunk, &args).stdout).into_owned()
}

#[test]
fn explain_says_a_long_file_is_read_in_chunks() {
    let dir = fixture();
    let spec = dir.join("kpis.yaml");
    let text = explain(&spec, "5", &["won_sum"]);
    assert!(text.contains("in 3 chunks of at most 5 rows"), "{text}");
    assert!(text.contains("GROUP BY HAND"), "{text}");
    assert!(text.contains("SLICE") || text.contains("slice"), "{text}");
    // Fewer rows than one chunk: read at once.
    let text = explain(&spec, "100", &["won_sum"]);
    assert!(!text.contains("chunks of"), "{text}");
}

#[test]
fn a_unit_with_a_standard_deviation_is_grouped_by_polars_and_right() {
    let dir = fixture();
    let spec = dir.join("kpis.yaml");
    let text = std::fs::read_to_string(&spec).unwrap()
        + "  spread: {dataset: deals, measure: stddev(amount), time: closed_at}\n";
    std::fs::write(&spec, text).unwrap();
    let (rows, _) = eval(&dir, "5", &["--by", "owner", "--grain", "month"]);
    let ann = rows
        .iter()
        .find(|r| r["owner"] == "ann" && r["period"] == "2025-01")
        .unwrap();
    // ann's January amounts: 100, 0.1, 0.3 (the NaN is null).
    let mean = 100.4 / 3.0;
    let var = [100.0, 0.1, 0.3]
        .iter()
        .map(|x: &f64| (x - mean).powi(2))
        .sum::<f64>()
        / 2.0;
    assert!(close(ann["spread"].as_f64(), Some(var.sqrt())), "{ann}");
    assert!(close(ann["won_sum"].as_f64(), Some(100.4)), "{ann}");
    assert!(close(ann["median_won"].as_f64(), Some(0.3)), "{ann}");
    let text = explain(&spec, "5", &["spread", "median_won"]);
    assert!(!text.contains("GROUP BY HAND"), "{text}");
    // Without it, the distinct counts and quantiles are grouped by hand.
    let text = explain(&spec, "5", &["seat_counts", "median_won", "p90"]);
    assert!(text.contains("GROUP BY HAND"), "{text}");
    assert!(text.contains("count of distinct values of"), "{text}");
    assert!(text.contains("quantile 0.9 of"), "{text}");
}

#[test]
fn a_glob_of_files_is_read_file_by_file_in_chunks() {
    let dir = fixture();
    let (one_file, _) = eval(&dir, "0", &["--by", "owner", "--grain", "month"]);
    // The same rows in two files: 8 and 5 rows, chunks of at most 5 rows
    // each within a file (5 + 3, then 5).
    let all = ParquetReader::new(std::fs::File::open(dir.join("deals.parquet")).unwrap())
        .finish()
        .unwrap();
    std::fs::create_dir(dir.join("parts")).unwrap();
    for (i, (offset, len)) in [(0i64, 8usize), (8, 5)].into_iter().enumerate() {
        let mut part = all.slice(offset, len);
        let f = std::fs::File::create(dir.join(format!("parts/part-{i}.parquet"))).unwrap();
        ParquetWriter::new(f).finish(&mut part).unwrap();
    }
    let spec = dir.join("kpis.yaml");
    let text = std::fs::read_to_string(&spec)
        .unwrap()
        .replace("source: deals.parquet", "source: parts/*.parquet");
    std::fs::write(&spec, text).unwrap();
    let text = explain(&spec, "5", &["won_sum"]);
    assert!(text.contains("in 3 chunks of at most 5 rows"), "{text}");
    let (chunked, _) = eval(&dir, "5", &["--by", "owner", "--grain", "month"]);
    assert_eq!(chunked, one_file);
}

/// Target status batches read long files in chunks too: the same statuses
/// as one read, and the quarter's won amount as the rows add up by hand.
#[test]
fn target_status_reads_in_chunks_what_one_read_gives() {
    let dir = fixture();
    let spec = std::fs::read_to_string(dir.join("kpis.yaml")).unwrap()
        + "targets:\n"
        + "  won_q1: {kpi: won_sum, period: 2025-Q1, value: 200}\n"
        + "  median_q1: {kpi: median_won, period: 2025-Q1, value: 10}\n"
        + "  deals_monthly: {kpi: deals, every: month, value: 2, by: owner}\n";
    let path = dir.join("status.yaml");
    std::fs::write(&path, spec).unwrap();
    let status = |chunk: &str| {
        let args = [
            "status",
            "--spec",
            path.to_str().unwrap(),
            "--as-of",
            "2025-03-31",
            "--format",
            "json",
        ];
        json_rows(&kpi_chunked(chunk, &args))
    };
    let (chunked, whole) = (status("5"), status("0"));
    assert_eq!(chunked, whole);
    // Won amounts closed in Q1, in file order (the NaN is read as null).
    let won: f64 = ROWS
        .iter()
        .filter(|r| r.1 == "won" && r.3.is_some_and(|d| d < "2025-04-01"))
        .filter_map(|r| r.2.filter(|x| x.is_finite()))
        .sum();
    assert!((won - 158.1).abs() < 1e-9, "{won}");
    let q1 = chunked.iter().find(|r| r["target"] == "won_q1").unwrap();
    assert!(close(q1["actual"].as_f64(), Some(won)), "{q1}");
    // Every owner with a deal has a row per month of the quarter.
    let monthly = chunked.iter().filter(|r| r["target"] == "deals_monthly").count();
    assert!(monthly >= 4, "{chunked:?}");
}

/// Owners' names longer than 12 bytes, one file each, of one length and
/// the same first four bytes: each file's array keeps its text at the same
/// place, so only the text itself tells them apart.
#[test]
fn long_names_in_different_chunks_are_different_groups() {
    let dir = temp_dir("chunks-long-names");
    std::fs::create_dir(dir.join("parts")).unwrap();
    let names = [
        "Alexandra Smith",
        "Alexandra Jones",
        "Alexandra Brown",
        "Al Smith",
    ];
    for (i, name) in names.iter().enumerate() {
        let mut deals = df!("owner" => [*name, *name], "amount" => [1.0, f64::from(1 << i)]).unwrap();
        let file = dir.join(format!("parts/{i}.parquet"));
        ParquetWriter::new(std::fs::File::create(file).unwrap())
            .finish(&mut deals)
            .unwrap();
    }
    let spec = "datasets:\n  deals: {source: 'parts/*.parquet'}\nkpis:\n  total: {dataset: deals, measure: sum(amount)}\n";
    std::fs::write(dir.join("kpis.yaml"), spec).unwrap();
    let (rows, err) = eval(&dir, "1", &["--by", "owner"]);
    let got = labelled_numbers(&rows, "owner", "total");
    let want = [
        ("Al Smith", 9.0),
        ("Alexandra Brown", 5.0),
        ("Alexandra Jones", 3.0),
        ("Alexandra Smith", 2.0),
    ];
    let want: Vec<(String, f64)> = want.iter().map(|(o, v)| (o.to_string(), *v)).collect();
    assert_eq!(got, want, "{err}");
}

/// Rows without a close date between dated ones, in groups of their own
/// (dee's only deal) and of owners with dated deals: they are left out of
/// the months and counted, one read or chunks of two rows alike.
#[test]
fn rows_without_a_period_are_left_out_wherever_they_fall() {
    let dir = temp_dir("chunks-no-period");
    let mut deals = df!(
        "owner" => ["ann", "bob", "cid", "ann", "bob", "dee", "ann", "cid", "dee", "dee", "cid"],
        "stage" => ["won", "open", "won", "lost", "won", "open", "won", "won", "open", "open", "won"],
        "amount" => [10.0, 5.0, 7.0, 3.0, 4.0, 1.0, 20.0, 2.0, 1.0, 1.0, 3.0],
        "closed_at" => [
            Some("2025-01-05"), None, Some("2025-01-20"), None, Some("2025-02-10"), None,
            Some("2025-02-05"), None, None, None, None,
        ],
    )
    .unwrap();
    deals
        .with_column(deals.column("closed_at").unwrap().cast(&DataType::Date).unwrap())
        .unwrap();
    ParquetWriter::new(std::fs::File::create(dir.join("deals.parquet")).unwrap())
        .finish(&mut deals)
        .unwrap();
    let spec = "datasets:\n  deals: {source: deals.parquet, time: closed_at}\nkpis:\n  \
                won: {dataset: deals, measure: sum(amount where stage == \"won\")}\n  \
                deals: {dataset: deals, measure: count()}\n";
    std::fs::write(dir.join("kpis.yaml"), spec).unwrap();
    // ann: 10 in January, 20 in February; bob: 4 in February; cid: 7 in
    // January. Left out: bob's open deal, ann's lost one, dee's three, cid's
    // two: seven rows in four groups of different sizes.
    let want = [
        ("ann", "2025-01", 10.0, 1.0),
        ("ann", "2025-02", 20.0, 1.0),
        ("bob", "2025-01", 0.0, 0.0),
        ("bob", "2025-02", 4.0, 1.0),
        ("cid", "2025-01", 7.0, 1.0),
        ("cid", "2025-02", 0.0, 0.0),
    ];
    for chunk in ["0", "2"] {
        let (rows, err) = eval(&dir, chunk, &["--by", "owner", "--grain", "month"]);
        let got: Vec<(String, String, f64, f64)> = rows
            .iter()
            .map(|r| {
                let text = |k: &str| r[k].as_str().unwrap_or("?").to_string();
                let number = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
                (text("owner"), text("period"), number("won"), number("deals"))
            })
            .collect();
        let want: Vec<(String, String, f64, f64)> = want
            .iter()
            .map(|(o, p, w, d)| (o.to_string(), p.to_string(), *w, *d))
            .collect();
        assert_eq!(got, want, "chunks of {chunk}: {err}");
        assert!(
            err.contains("7 rows with no time value"),
            "chunks of {chunk}: {err}"
        );
    }
}

/// An average's count of values equals the count of rows under its filter
/// until a chunk holds a null amount: from then on the two part, in that
/// chunk or a later one.
#[test]
fn a_count_of_values_parts_from_the_count_of_rows_at_the_first_null() {
    let dir = temp_dir("chunks-first-null");
    let mut deals = df!(
        "owner" => ["ann", "ann", "bob", "ann", "bob", "ann"],
        "stage" => ["won", "won", "won", "won", "lost", "won"],
        "amount" => [Some(10.0), Some(20.0), Some(5.0), None, Some(7.0), Some(40.0)],
    )
    .unwrap();
    ParquetWriter::new(std::fs::File::create(dir.join("deals.parquet")).unwrap())
        .finish(&mut deals)
        .unwrap();
    let spec = "datasets:\n  deals: {source: deals.parquet}\nkpis:\n  \
                won_deals: {dataset: deals, measure: count(where stage == \"won\")}\n  \
                avg_won: {dataset: deals, measure: avg(amount where stage == \"won\")}\n";
    std::fs::write(dir.join("kpis.yaml"), spec).unwrap();
    // ann: four won deals, three amounts (10 + 20 + 40) / 3; bob: one won, 5.
    for chunk in ["0", "1", "2", "4"] {
        let (rows, err) = eval(&dir, chunk, &["--by", "owner"]);
        let deals = labelled_numbers(&rows, "owner", "won_deals");
        let avg = labelled_numbers(&rows, "owner", "avg_won");
        let want_deals = vec![("ann".to_string(), 4.0), ("bob".to_string(), 1.0)];
        assert_eq!(deals, want_deals, "chunks of {chunk}: {err}");
        assert!(
            close(avg.first().map(|a| a.1), Some(70.0 / 3.0)),
            "chunks of {chunk}: {avg:?} {err}"
        );
        assert!(
            close(avg.get(1).map(|a| a.1), Some(5.0)),
            "chunks of {chunk}: {avg:?} {err}"
        );
    }
}

/// A CSV file of two pieces (8 MiB and more each) read in chunks of a piece
/// into the hand-written group-by: the numbers of reading it whole, and of
/// a plain loop over the rows.
#[test]
fn a_csv_file_in_chunks_of_pieces_gives_the_numbers_of_its_rows() {
    let dir = temp_dir("csv-chunks");
    // 250,000 deals of about 70 bytes: owner i % 7, won every third,
    // amount i % 1000 / 4, closed on day i % 28 + 1 of month i % 3 + 1.
    let mut text = String::from("owner,stage,amount,closed_at,note\n");
    let mut by: BTreeMap<(String, String), (f64, u32)> = BTreeMap::new();
    let note = "x".repeat(40);
    for i in 0..250_000u32 {
        let owner = format!("rep_{}", i % 7);
        let stage = if i % 3 == 0 { "won" } else { "lost" };
        let amount = f64::from(i % 1000) / 4.0;
        let month = format!("2025-{:02}", i % 3 + 1);
        text.push_str(&format!(
            "{owner},{stage},{amount},{month}-{:02},{note}\n",
            i % 28 + 1
        ));
        let a = by.entry((owner, month)).or_default();
        if stage == "won" {
            a.0 += amount;
            a.1 += 1;
        }
    }
    std::fs::write(dir.join("deals.csv"), &text).unwrap();
    let spec = "datasets:\n  deals:\n    source: deals.csv\n    time: closed_at\n    columns: {owner: string, stage: string, amount: number, closed_at: date, note: string}\nkpis:\n  won_sum: {dataset: deals, measure: 'sum(amount where stage == \"won\")'}\n  won: {dataset: deals, measure: 'count(where stage == \"won\")'}\n";
    std::fs::write(dir.join("kpis.yaml"), spec).unwrap();
    let query = ["--by", "owner", "--grain", "month"];
    let (whole, err) = eval(&dir, "0", &query);
    assert!(!whole.is_empty(), "{err}");
    let (chunked, err) = eval(&dir, "100000", &query);
    assert_eq!(chunked, whole, "{err}");
    assert_eq!(chunked.len(), by.len());
    for row in &chunked {
        let key = (
            row["owner"].as_str().unwrap().to_string(),
            row["period"].as_str().unwrap().to_string(),
        );
        let (sum, n) = by[&key];
        assert!(close(row["won_sum"].as_f64(), Some(sum)), "{row}");
        assert_eq!(row["won"].as_f64(), Some(f64::from(n)), "{row}");
    }
    // `kpi explain` says so.
    let spec = dir.join("kpis.yaml");
    let out = kpi_chunked(
        "100000",
        &[
            "explain",
            "won_sum",
            "--spec",
            spec.to_str().unwrap(),
            "--by",
            "owner",
            "--grain",
            "month",
        ],
    );
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("in 2 chunks of about"), "{shown}");
}

/// A glob of a file of integers and a file of floats, read a row at a
/// time: each chunk takes the type the files join to. Read alone, the
/// integers' file made the maximum an integer (3 for 3.7) and counted 3
/// and 3.0 as two values.
#[test]
fn a_glob_of_integers_and_floats_in_chunks_keeps_every_value() {
    let dir = temp_dir("chunks-kinds");
    let write = |name: &str, amount: Column| {
        let owner = Column::new("owner".into(), vec!["ann"; amount.len()]);
        let mut frame = DataFrame::new_infer_height(vec![amount, owner]).unwrap();
        let f = std::fs::File::create(dir.join(name)).unwrap();
        ParquetWriter::new(f).finish(&mut frame).unwrap();
    };
    write("a.parquet", Column::new("amount".into(), [1i64, 3]));
    write("b.parquet", Column::new("amount".into(), [3.7f64, 3.0]));
    let kpis = "datasets:\n  d:\n    source: \"*.parquet\"\nkpis:\n  top: {dataset: d, measure: max(amount)}\n  low: {dataset: d, measure: min(amount)}\n  values: {dataset: d, measure: count_distinct(amount)}\n  total: {dataset: d, measure: sum(amount)}\n";
    std::fs::write(dir.join("kpis.yaml"), kpis).unwrap();
    for chunk in ["0", "1"] {
        let (rows, err) = eval(&dir, chunk, &["--by", "owner"]);
        let row = &rows[0];
        let got = ["top", "low", "values", "total"].map(|k| row[k].as_f64());
        let want = [3.7, 1.0, 3.0, 10.7].map(Some);
        assert!(
            got.iter().zip(want).all(|(g, w)| close(*g, w)),
            "{chunk}: {row} {err}"
        );
    }
}
