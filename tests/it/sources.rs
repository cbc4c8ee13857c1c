//! The same numbers whatever the source format: Parquet, NDJSON and globs of
//! CSV files give what the CSV fixture gives; fiscal calendars label periods.

use std::process::Command;

use crate::support::*;

fn eval_json(spec: &std::path::Path, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["--spec", spec.to_str().unwrap(), "eval"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    json_rows(&Command::new(kpi_bin()).args(&all).output().unwrap())
}

const DEALS: &str = "datasets:\n  deals:\n    source: SOURCE\n    time: closed_at\n    columns: {created_at: date, closed_at: date, stage: string, amount: number, owner: string}\nkpis:\n  won_revenue: {dataset: deals, measure: sum(amount where stage == \"won\")}\n  win_rate: {dataset: deals, measure: 'count(where stage == \"won\") / count(where stage in [\"won\", \"lost\"])'}\n  cycle: {dataset: deals, measure: 'avg(days_between(created_at, closed_at))'}\n";

fn spec(dir: &std::path::Path, source: &str) -> std::path::PathBuf {
    let path = dir.join("s.yaml");
    std::fs::write(&path, DEALS.replace("SOURCE", source)).unwrap();
    path
}

#[test]
fn parquet_gives_what_csv_gives() {
    let dir = temp_dir("parquet");
    let out = Command::new(kpi_bin())
        .args([
            "generate",
            "--scale",
            "400",
            "--seed",
            "3",
            "--format",
            "parquet",
            "-o",
            dir.join("pq").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = Command::new(kpi_bin())
        .args([
            "generate",
            "--scale",
            "400",
            "--seed",
            "3",
            "-o",
            dir.join("csv").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let from_pq = eval_json(
        &spec(&dir, "pq/deals.parquet"),
        &["--by", "owner", "--grain", "quarter"],
    );
    let from_csv = eval_json(
        &spec(&dir, "csv/deals.csv"),
        &["--by", "owner", "--grain", "quarter"],
    );
    assert!(from_csv.len() > 20);
    assert_eq!(from_pq, from_csv);
}

#[test]
fn ndjson_and_globs_give_what_csv_gives() {
    let dir = temp_dir("ndjson");
    let csv = std::fs::read_to_string(root().join("tests/fixtures/sales/deals.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<&str> = lines.collect();
    let mut ndjson = String::new();
    for r in &rows {
        let mut obj = serde_json::Map::new();
        for (h, v) in header.iter().zip(r.split(',')) {
            let value = if v.is_empty() {
                serde_json::Value::Null
            } else if *h == "amount" || *h == "cost" {
                serde_json::json!(v.parse::<f64>().unwrap())
            } else {
                serde_json::json!(v)
            };
            obj.insert(h.to_string(), value);
        }
        ndjson.push_str(&serde_json::Value::Object(obj).to_string());
        ndjson.push('\n');
    }
    std::fs::write(dir.join("deals.ndjson"), ndjson).unwrap();
    // The same rows split over two CSV files, read with a glob.
    std::fs::create_dir_all(dir.join("parts")).unwrap();
    let (a, b) = rows.split_at(4);
    for (name, part) in [("deals_1.csv", a), ("deals_2.csv", b)] {
        std::fs::write(
            dir.join("parts").join(name),
            format!("{}\n{}\n", header.join(","), part.join("\n")),
        )
        .unwrap();
    }
    std::fs::copy(
        root().join("tests/fixtures/sales/deals.csv"),
        dir.join("deals.csv"),
    )
    .unwrap();
    let want = eval_json(&spec(&dir, "deals.csv"), &["--grain", "month"]);
    // Jan 400, Feb 0, Mar 500 (see library_values.rs).
    assert_eq!(
        want.iter()
            .map(|r| r["won_revenue"].as_f64().unwrap())
            .collect::<Vec<_>>(),
        [400.0, 0.0, 500.0]
    );
    assert_eq!(
        eval_json(&spec(&dir, "deals.ndjson"), &["--grain", "month"]),
        want
    );
    assert_eq!(
        eval_json(&spec(&dir, "parts/deals_*.csv"), &["--grain", "month"]),
        want
    );
}

#[test]
fn fiscal_quarters_and_years() {
    let dir = temp_dir("fiscal");
    std::fs::copy(
        root().join("tests/fixtures/sales/deals.csv"),
        dir.join("deals.csv"),
    )
    .unwrap();
    let text = format!(
        "calendar: {{fiscal_year_start: 2}}\n{}",
        DEALS.replace("SOURCE", "deals.csv")
    );
    std::fs::write(dir.join("s.yaml"), text).unwrap();
    // FY2026 starts 2025-02-01: January 2025 is FY2025-Q4, March FY2026-Q1.
    let rows = eval_json(&dir.join("s.yaml"), &["won_revenue", "--grain", "quarter"]);
    let got = labelled_numbers(&rows, "period", "won_revenue");
    assert_eq!(
        got,
        [("FY2025-Q4".to_string(), 400.0), ("FY2026-Q1".to_string(), 500.0)]
    );
    let rows = eval_json(&dir.join("s.yaml"), &["won_revenue", "--period", "FY2026"]);
    assert_eq!(rows[0]["won_revenue"].as_f64(), Some(500.0));
}

/// NDJSON has no dates: exports write them as texts. Undeclared text
/// fields whose every value is an ISO date or datetime are dates and
/// datetimes, as CSV columns are, across the files of a glob (one of which
/// lacks a field the other has); one value that is not keeps the field
/// text; datetimes with UTC offsets other than UTC's need the zone their
/// days count in.
#[test]
fn ndjson_dates_are_guessed_as_csv_dates_are() {
    let dir = temp_dir("ndjson-dates");
    std::fs::create_dir_all(dir.join("in")).unwrap();
    std::fs::write(
        dir.join("in/a.ndjson"),
        "{\"closed_at\": \"2025-01-31\", \"amount\": 2, \"seen\": \"2025-01-31T23:30:00\"}\n\
         {\"closed_at\": null, \"amount\": 1, \"seen\": \"2025-02-01T00:10:00\"}\n\
         {\"closed_at\": \"2025-02-01\", \"amount\": 3, \"seen\": null}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("in/b.ndjson"),
        "{\"amount\": 4, \"closed_at\": \"2025-03-15\", \"region\": \"north\"}\n",
    )
    .unwrap();
    let spec = "datasets:\n  d: {source: 'in/*.ndjson', time: closed_at}\nkpis:\n  total: {dataset: d, measure: sum(amount)}\n  by_seen: {dataset: d, measure: sum(amount), time: seen}\n  late: {dataset: d, measure: 'count(where closed_at >= date(\"2025-02-01\"))'}\n";
    std::fs::write(dir.join("s.yaml"), spec).unwrap();
    let (code, out, err) = kpi_in(
        &dir,
        &[
            "--spec", "s.yaml", "eval", "--grain", "month", "--format", "csv", "-q",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    // closed_at: January 2, February 3 (the null one in no month), March 4;
    // seen: January 2, February 1; late: February 1, March 1.
    assert_eq!(
        out,
        "period,total,by_seen,late\n2025-01,2,2,0\n2025-02,3,1,1\n2025-03,4,0,1\n"
    );

    std::fs::write(
        dir.join("in/c.ndjson"),
        "{\"amount\": 1, \"closed_at\": \"next week\"}\n",
    )
    .unwrap();
    let (code, out, _) = kpi_in(&dir, &["--spec", "s.yaml", "check", "--data"]);
    assert_eq!(code, Some(1));
    assert!(out.contains("time column `closed_at` is string"), "{out}");
    std::fs::remove_file(dir.join("in/c.ndjson")).unwrap();

    std::fs::write(
        dir.join("in/c.ndjson"),
        "{\"amount\": 1, \"closed_at\": \"2025-03-16\", \"seen\": \"2025-03-16T10:00:00Z\"}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("in/a.ndjson"),
        "{\"amount\": 2, \"closed_at\": \"2025-01-31\", \"seen\": \"2025-01-31T23:30:00-01:00\"}\n",
    )
    .unwrap();
    let (code, _, err) = kpi_in(&dir, &["--spec", "s.yaml", "eval", "total"]);
    assert_eq!(code, Some(1));
    // (The message is wrapped to the terminal: compared without spaces.)
    let said: String = err.chars().filter(|c| !c.is_whitespace() && *c != '│').collect();
    assert!(
        said.contains("kpi::timezone_needed")
            && said.contains("column`seen`")
            && said.contains("`in/a.ndjson`line1holds`2025-01-31T23:30:00-01:00`"),
        "{said}"
    );
    // `by_seen` by month as CSV under `spec`.
    let by_seen = |spec: &str| {
        std::fs::write(dir.join("s.yaml"), spec).unwrap();
        let (code, out, err) = kpi_in(
            &dir,
            &[
                "--spec", "s.yaml", "eval", "by_seen", "--grain", "month", "--format", "csv", "-q",
            ],
        );
        assert_eq!(code, Some(0), "{err}");
        out
    };
    let zoned = spec.replace("time: closed_at}", "time: closed_at, read: {timezone: UTC}}");
    // 23:30 at -01:00 is 00:30 UTC on February 1.
    assert_eq!(by_seen(&zoned), "period,by_seen\n2025-02,2\n2025-03,1\n");

    // Every offset UTC's: UTC's times, no zone needed.
    std::fs::write(
        dir.join("in/a.ndjson"),
        "{\"amount\": 2, \"closed_at\": \"2025-01-31\", \"seen\": \"2025-01-31T23:30:00+00:00\"}\n",
    )
    .unwrap();
    // (February is in the spine, with no value.)
    assert_eq!(by_seen(spec), "period,by_seen\n2025-01,2\n2025-02,0\n2025-03,1\n");
}

/// An NDJSON field declared `datetime` converts as a CSV column declared
/// so does: `Z` and `+00:00` are UTC's times, other offsets need the zone
/// their days count in, and a value that is no datetime is named with its
/// line (such a field was refused whole: every offset contradicted the
/// declaration).
#[test]
fn declared_ndjson_datetimes_take_offsets() {
    let dir = temp_dir("ndjson-declared-offsets");
    let eval = |lines: &str, read: &str| {
        std::fs::write(dir.join("d.ndjson"), lines).unwrap();
        let spec = format!("datasets:\n  d: {{source: d.ndjson, time: closed_at, columns: {{closed_at: datetime, amount: number}}{read}}}\nkpis:\n  total: {{dataset: d, measure: sum(amount)}}\n");
        std::fs::write(dir.join("s.yaml"), spec).unwrap();
        kpi_in(
            &dir,
            &[
                "--spec", "s.yaml", "-q", "eval", "--grain", "month", "--format", "csv",
            ],
        )
    };
    let utc = "{\"amount\": 1, \"closed_at\": \"2025-01-31T23:30:00Z\"}\n{\"amount\": 2, \"closed_at\": \"2025-02-01 00:30:00+00:00\"}\n";
    let (code, out, err) = eval(utc, "");
    assert_eq!(
        (code, out.as_str()),
        (Some(0), "period,total\n2025-01,1\n2025-02,2\n"),
        "{err}"
    );
    // 23:30 at -05:00 on January 31 is February 1 in UTC, still January in New York.
    let east = "{\"amount\": 1, \"closed_at\": \"2025-01-31T23:30:00-05:00\"}\n";
    let (code, out, err) = eval(east, ", read: {timezone: America/New_York}");
    assert_eq!(
        (code, out.as_str()),
        (Some(0), "period,total\n2025-01,1\n"),
        "{err}"
    );
    let (code, _, err) = eval(east, "");
    assert_eq!(code, Some(1));
    assert!(err.contains("kpi::timezone_needed"), "{err}");
    let (code, _, err) = eval(
        &format!("{utc}{{\"amount\": 4, \"closed_at\": \"tomorrow\"}}\n"),
        "",
    );
    assert_eq!(code, Some(1));
    let said: String = err.split_whitespace().collect();
    assert!(
        said.contains("kpi::declared_type_contradicted") && said.contains("`d.ndjson`line3holds`tomorrow`"),
        "{err}"
    );
}

/// An NDJSON file without a record (0 bytes, or blank lines) is an export
/// of no rows: a glob's other files are read without it, and alone it is a
/// dataset with no rows when its columns are declared; undeclared, nothing
/// says what it holds (`kpi::no_records`), where the reader stopped with
/// its own words.
#[test]
fn an_ndjson_file_without_records_adds_no_rows() {
    let dir = temp_dir("ndjson-no-records");
    std::fs::create_dir_all(dir.join("in")).unwrap();
    std::fs::write(
        dir.join("in/a.ndjson"),
        "{\"amount\": 5, \"closed_at\": \"2025-03-01\"}\n",
    )
    .unwrap();
    std::fs::write(dir.join("in/b.ndjson"), "").unwrap();
    std::fs::write(dir.join("empty.ndjson"), "\u{feff}\n  \n").unwrap();
    let kpis = "kpis:\n  total: {dataset: d, measure: sum(amount)}\n  rows: {dataset: d, measure: count()}\n";
    let eval = |source: &str, columns: &str| {
        let spec = format!("datasets:\n  d: {{source: '{source}', time: closed_at{columns}}}\n{kpis}");
        std::fs::write(dir.join("s.yaml"), spec).unwrap();
        kpi_in(&dir, &["--spec", "s.yaml", "-q", "eval", "--format", "csv"])
    };
    let (code, out, err) = eval("in/*.ndjson", "");
    assert_eq!((code, out.as_str()), (Some(0), "total,rows\n5,1\n"), "{err}");
    let declared = ", columns: {amount: number, closed_at: date}";
    let (code, out, err) = eval("empty.ndjson", declared);
    assert_eq!((code, out.as_str()), (Some(0), "total,rows\n0,0\n"), "{err}");
    let (code, _, err) = eval("empty.ndjson", "");
    assert_eq!(code, Some(1));
    assert!(
        err.contains("kpi::no_records") && err.contains("holds no record"),
        "{err}"
    );
}

/// A declared NDJSON field that no record holds (JSON writers leave out
/// fields without a value) is nulls of its type, with a warning on every
/// run; a declared CSV column the header lacks stops `eval` with
/// `kpi::declared_column_missing` when a KPI reads it (it stopped with the
/// reader's "unable to find column", as if a bug of kpi), pointing at the
/// declaration as `kpi check --data` does (it pointed at the source). By hand: the
/// deals without a `lost_reason` sum to 5 + 7 = 12, in no stage's group.
#[test]
fn a_declared_field_no_record_holds_is_nulls() {
    let dir = temp_dir("ndjson-absent-field");
    let records =
        "{\"amount\": 5, \"closed_at\": \"2025-03-01\"}\n{\"amount\": 7, \"closed_at\": \"2025-03-02\"}\n";
    std::fs::write(dir.join("d.ndjson"), records).unwrap();
    std::fs::write(dir.join("d.csv"), "amount,closed_at\n5,2025-03-01\n").unwrap();
    let spec = |source: &str| {
        format!("datasets:\n  d:\n    source: {source}\n    time: closed_at\n    columns: {{amount: number, closed_at: date, lost_reason: string, stage: string}}\nkpis:\n  kept: {{dataset: d, measure: sum(amount where lost_reason is null)}}\n")
    };
    let eval_by_stage = || {
        kpi_in(
            &dir,
            &["--spec", "s.yaml", "eval", "--by", "stage", "--format", "csv"],
        )
    };
    std::fs::write(dir.join("s.yaml"), spec("d.ndjson")).unwrap();
    let (code, out, err) = eval_by_stage();
    assert_eq!((code, out.as_str()), (Some(0), "stage,kept\n,12\n"), "{err}");
    assert!(
        err.contains("kpi::declared_field_absent") && err.contains("`lost_reason`"),
        "{err}"
    );
    let (code, out, _) = kpi_in(&dir, &["--spec", "s.yaml", "check", "--data"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("kpi::declared_field_absent"), "{out}");
    std::fs::write(dir.join("s.yaml"), spec("d.csv")).unwrap();
    let (code, _, err) = eval_by_stage();
    assert_eq!(code, Some(1));
    assert!(
        err.contains("kpi::declared_column_missing")
            && err.contains("`stage`")
            && err.contains("[s.yaml:5:")
            && !err.contains("evaluation_error"),
        "{err}"
    );
}

/// A declared NDJSON field that no record holds is a null in every row,
/// wherever it stands in an expression: a literal compared with it
/// (`"b" > lost_reason`, `@2025-01-01 < lost_at`) stopped the run with
/// "length 1 doesn't match the DataFrame height", and `sum(if "price" ==
/// lost_reason then 1 else 2)` summed one 2 where there are three rows.
/// By hand, over the three deals (amounts 5, 7, 11), as over the same
/// rows as CSV with the columns empty: the condition is null in every
/// row, so the `if` gives 2 three times (6), no row is counted where the
/// comparison holds (0), every row where it is null (3), and `coalesce`
/// keeps every amount (23).
#[test]
fn a_literal_compared_with_a_field_no_record_holds_is_null_in_every_row() {
    let dir = temp_dir("ndjson-absent-compared");
    let records = "{\"amount\": 5}\n{\"amount\": 7}\n{\"amount\": 11}\n";
    std::fs::write(dir.join("d.ndjson"), records).unwrap();
    std::fs::write(dir.join("d.csv"), "amount,lost_reason,lost_at\n5,,\n7,,\n11,,\n").unwrap();
    let kpis = [
        "ifs: {dataset: d, measure: 'sum(if \"price\" == lost_reason then 1 else 2)'}",
        "below: {dataset: d, measure: 'count(where \"b\" > lost_reason)'}",
        "unknown: {dataset: d, measure: 'count(where (@2025-01-01 < lost_at) is null)'}",
        "kept: {dataset: d, measure: 'sum(amount where coalesce(\"x\" == lost_reason, true))'}",
    ];
    for source in ["d.ndjson", "d.csv"] {
        let spec = format!(
            "datasets:\n  d:\n    source: {source}\n    columns: {{amount: number, lost_reason: string, lost_at: date}}\nkpis:\n  {}\n",
            kpis.join("\n  ")
        );
        std::fs::write(dir.join("s.yaml"), spec).unwrap();
        let (code, out, err) = kpi_in(&dir, &["--spec", "s.yaml", "eval", "--format", "csv"]);
        assert_eq!(
            (code, out.as_str()),
            (Some(0), "ifs,below,unknown,kept\n6,0,3,23\n"),
            "{source}: {err}"
        );
    }
}

/// An NDJSON field of dates but for one value stays text, and the value is
/// named with its line (blank lines counted), as for CSV.
#[test]
fn an_ndjson_field_of_dates_but_one_is_named() {
    let dir = temp_dir("ndjson-near-miss");
    let mut lines: Vec<String> = (1..=20)
        .map(|d| format!("{{\"closed_at\": \"2025-01-{d:02}\", \"amount\": {d}}}"))
        .collect();
    lines.insert(3, String::new());
    lines.push("{\"closed_at\": \"N/A\", \"amount\": 1}".to_string());
    std::fs::write(dir.join("d.ndjson"), lines.join("\n") + "\n").unwrap();
    std::fs::write(
        dir.join("s.yaml"),
        "datasets:\n  d: {source: d.ndjson, time: closed_at}\nkpis:\n  total: {dataset: d, measure: sum(amount)}\n",
    )
    .unwrap();
    let (code, out, _) = kpi_in(&dir, &["--spec", "s.yaml", "check", "--data"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("kpi::mixed_column") && out.contains("line 22") && out.contains("holds `N/A`"),
        "{out}"
    );
    // A word for no value is told JSON's, `null` (`null_values` is CSV's).
    assert!(flat(out.as_bytes()).contains("JSON's is `null`"), "{out}");
}

/// Polars' own warnings are not printed in its words: an `s3://` source
/// without a region had `kpi sql` print "UserWarning: '(default_)region'
/// not set; polars will try to get it from bucket" on stderr.
#[test]
fn the_engine_says_nothing_in_its_own_words() {
    let dir = crate::support::temp_dir("engine-warnings");
    std::fs::write(
        dir.join("s.yaml"),
        "datasets:\n  events: {source: s3://bucket/sales/events/*.parquet, time: at}\n  deals: {source: deals.csv, time: closed_at}\nkpis:\n  n: {dataset: deals, measure: count()}\n",
    )
    .unwrap();
    std::fs::write(dir.join("deals.csv"), "closed_at\n2025-01-01\n").unwrap();
    let out = std::process::Command::new(crate::support::kpi_bin())
        .current_dir(&dir)
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_ENDPOINT_URL")
        .args(["--spec", "s.yaml", "sql", "n"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("UserWarning") && !err.contains("polars"), "{err}");
}

/// A copy of a file left beside it (`deals (1).csv`) matched by the same
/// glob counts each of its rows twice: `check --data` and `eval` warn,
/// naming both files (the sum is still what the files say, 10). A file of
/// the same size that differs is not warned of, nor is the glob once the
/// copy is gone.
#[test]
fn a_globs_files_that_are_copies_are_warned_of() {
    let rows = "amount,closed_at\n1,2025-01-01\n2,2025-02-01\n";
    let spec = "datasets:\n  d: {source: \"g/*.csv\", time: closed_at}\nkpis:\n  k: {dataset: d, measure: sum(amount)}\n";
    let dir = dir_with("identical-files", &[("s.yaml", spec)]);
    let g = dir.join("g");
    std::fs::create_dir_all(&g).unwrap();
    std::fs::write(g.join("deals.csv"), rows).unwrap();
    std::fs::write(g.join("deals (1).csv"), rows).unwrap();
    std::fs::write(
        g.join("other.csv"),
        "amount,closed_at\n1,2025-01-01\n3,2025-02-01\n",
    )
    .unwrap();
    let spec = dir.join("s.yaml");
    let spec = spec.to_str().unwrap();
    let both = format!(
        "the files `{}` and `{}` of dataset `d` are byte for byte the same",
        g.join("deals (1).csv").display(),
        g.join("deals.csv").display()
    );
    let found = checked_data_json(std::path::Path::new(spec));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["code"], "kpi::identical_files");
    assert!(
        found[0]["message"].as_str().unwrap().starts_with(&both),
        "{found:?}"
    );
    let out = kpi(&["--spec", spec, "eval", "--format", "csv"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "k\n10\n");
    assert!(
        printed_flat(&out).contains("kpi::identical_files ⚠ the files `"),
        "{}",
        printed_flat(&out)
    );
    std::fs::remove_file(g.join("deals (1).csv")).unwrap();
    let out = kpi(&["--spec", spec, "check", "--data"]);
    assert!(
        !printed_flat(&out).contains("identical"),
        "{}",
        printed_flat(&out)
    );
}
