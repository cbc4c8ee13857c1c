//! `kpi eval`, `explain` and `list` from the command line, on the bundled
//! sample data and on broken data.

use std::collections::HashMap;

use crate::support::*;

/// Won revenue per quarter, read straight from the sample CSV.
fn won_by_quarter() -> HashMap<String, f64> {
    let text = std::fs::read_to_string(root().join("examples/data/deals.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let idx = |c: &str| header.iter().position(|h| *h == c).unwrap();
    let (stage, closed, amount) = (idx("stage"), idx("closed_at"), idx("amount"));
    let mut out = HashMap::new();
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        if f[stage] != "won" || f[closed].is_empty() {
            continue;
        }
        let (y, m) = (&f[closed][0..4], f[closed][5..7].parse::<u32>().unwrap());
        *out.entry(format!("{y}-Q{}", (m - 1) / 3 + 1)).or_insert(0.0) +=
            f[amount].parse::<f64>().unwrap_or(0.0);
    }
    out
}

#[test]
fn eval_json_by_quarter_matches_the_data() {
    let out = kpi(&[
        "eval",
        "won_revenue",
        "win_rate",
        "--grain",
        "quarter",
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let want = won_by_quarter();
    // 2023-Q1 … 2025-Q4: every quarter present, in order.
    assert_eq!(rows.len(), 12);
    assert_eq!(rows[0]["period"], "2023-Q1");
    assert_eq!(rows[11]["period"], "2025-Q4");
    for r in &rows {
        let p = r["period"].as_str().unwrap();
        let got = r["won_revenue"].as_f64().unwrap();
        assert!((got - want.get(p).copied().unwrap_or(0.0)).abs() < 1e-6, "{p}");
        let keys: Vec<&String> = r.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 3);
    }
}

#[test]
fn eval_writes_csv_and_parquet_files_whole() {
    let dir = temp_dir("eval-out");
    let csv = dir.join("out.csv");
    let out = kpi(&[
        "eval",
        "won_deals",
        "--by",
        "segment",
        "--format",
        "csv",
        "-o",
        csv.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().next(), Some("segment,won_deals"));
    assert_eq!(text.lines().count(), 4, "{text}");
    let pq = dir.join("out.parquet");
    let out = kpi(&[
        "eval",
        "won_deals",
        "--grain",
        "year",
        "--format",
        "parquet",
        "-o",
        pq.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let bytes = std::fs::read(&pq).unwrap();
    assert_eq!(&bytes[..4], b"PAR1");
    // Snappy, the codec every Parquet reader has (docs/language.md, output).
    use polars::prelude::{ParquetReader, SerReader};
    let mut reader = ParquetReader::new(std::fs::File::open(&pq).unwrap());
    let meta = reader.get_metadata().unwrap();
    let codecs: Vec<String> = meta
        .row_groups
        .iter()
        .flat_map(|g| {
            g.parquet_columns()
                .iter()
                .map(|c| format!("{:?}", c.compression()))
        })
        .collect();
    assert!(
        !codecs.is_empty() && codecs.iter().all(|c| c == "Snappy"),
        "{codecs:?}"
    );
    // Nothing else was left in the folder (no temporary files).
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
}

/// `-o -` is standard output for Parquet too (a pipe into another tool):
/// the same file as `-o FILE`, and no file named `-`.
#[test]
fn parquet_goes_to_standard_output_under_dash() {
    let dir = temp_dir("parquet-stdout");
    let file = dir.join("out.parquet");
    let args = [
        "eval",
        "won_deals",
        "win_rate",
        "--by",
        "segment",
        "--format",
        "parquet",
        "-o",
    ];
    let written = kpi(&[&args[..], &[file.to_str().unwrap()]].concat());
    assert_eq!(written.status.code(), Some(0));
    let out = std::process::Command::new(crate::support::kpi_bin())
        .current_dir(root())
        .env_remove("KPI_SPEC")
        .args([&args[..], &["-"]].concat())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(&out.stdout[..4], b"PAR1");
    assert_eq!(out.stdout, std::fs::read(&file).unwrap());
    assert!(!root().join("-").exists());
}

/// CSV, JSON and NDJSON are written a block of rows at a time from the
/// evaluation's columns, Parquet from its frame: over 12,000 rows (several
/// blocks of text), each text format holds every value the Parquet file
/// holds, row by row, nulls as empty or `null`.
#[test]
fn text_outputs_hold_the_values_of_the_parquet_output() {
    let dir = temp_dir("text-vs-parquet");
    let query = [
        "eval",
        "won_revenue",
        "win_rate",
        "won_deals",
        "avg_deal_size",
        "--by",
        "owner",
        "--grain",
        "day",
    ];
    let write = |format: &str| {
        let path = dir.join(format!("out.{format}"));
        let mut args = query.to_vec();
        args.extend(["--format", format, "-o", path.to_str().unwrap()]);
        let out = kpi(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        path
    };
    use polars::prelude::{ParquetReader, SerReader};
    let frame = ParquetReader::new(std::fs::File::open(write("parquet")).unwrap())
        .finish()
        .unwrap();
    let names: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
    assert_eq!(
        names,
        [
            "owner",
            "period",
            "won_revenue",
            "win_rate",
            "won_deals",
            "avg_deal_size"
        ]
    );
    let expected: Vec<Vec<serde_json::Value>> = (0..frame.height())
        .map(|i| {
            frame
                .columns()
                .iter()
                .map(|c| match c.get(i).unwrap() {
                    polars::prelude::AnyValue::Null => serde_json::Value::Null,
                    polars::prelude::AnyValue::String(t) => t.into(),
                    polars::prelude::AnyValue::StringOwned(t) => t.to_string().into(),
                    v => v.extract::<f64>().unwrap().into(),
                })
                .collect()
        })
        .collect();
    assert!(expected.len() > 12_000, "{}", expected.len());
    let same =
        |got: &serde_json::Value, want: &serde_json::Value, at: String| match (got.as_f64(), want.as_f64()) {
            (Some(g), Some(w)) => assert!((g - w).abs() <= 1e-12 * w.abs().max(1.0), "{at}: {g} against {w}"),
            _ => assert_eq!(got, want, "{at}"),
        };
    // CSV: a header, then every row; an empty field is a null.
    let csv = std::fs::read_to_string(write("csv")).unwrap();
    assert!(csv.len() > 4 * 65_536 && !csv.contains('"'), "{}", csv.len());
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some(names.join(",").as_str()));
    let mut n = 0;
    for (i, (line, want)) in lines.zip(&expected).enumerate() {
        for (j, (field, w)) in line.split(',').zip(want).enumerate() {
            let got = match (field, w) {
                ("", _) => serde_json::Value::Null,
                (f, serde_json::Value::String(_)) => f.into(),
                (f, _) => f.parse::<f64>().unwrap().into(),
            };
            same(&got, w, format!("csv row {i}, column {j}"));
        }
        n += 1;
    }
    assert_eq!(n, expected.len());
    // JSON: one array; NDJSON: an object a line; keys in column order.
    let json_text = std::fs::read_to_string(write("json")).unwrap();
    let ndjson_text = std::fs::read_to_string(write("ndjson")).unwrap();
    let keys = names.iter().map(|n| format!("\"{n}\": ")).collect::<Vec<_>>();
    for (what, text) in [("json", &json_text), ("ndjson", &ndjson_text)] {
        let first = text.lines().find(|l| l.contains('{')).unwrap();
        let at: Vec<usize> = keys.iter().map(|k| first.find(k.as_str()).unwrap()).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{what}: {first}");
    }
    let json: Vec<serde_json::Value> = serde_json::from_str(&json_text).unwrap();
    let ndjson: Vec<serde_json::Value> = ndjson_text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (what, rows) in [("json", &json), ("ndjson", &ndjson)] {
        assert_eq!(rows.len(), expected.len(), "{what}");
        for (i, (row, want)) in rows.iter().zip(&expected).enumerate() {
            assert_eq!(row.as_object().unwrap().len(), names.len(), "{what} row {i}");
            for (j, (name, w)) in names.iter().zip(want).enumerate() {
                same(&row[name.as_str()], w, format!("{what} row {i}, column {j}"));
            }
        }
    }
}

/// Without --format, the file's extension chooses the format; --format wins.
#[test]
fn the_output_format_follows_the_extension() {
    let dir = temp_dir("eval-ext");
    let run = |args: &[&str], file: &str| {
        let path = dir.join(file);
        let mut all = args.to_vec();
        all.extend(["-o", path.to_str().unwrap()]);
        let out = kpi(&all);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read(&path).unwrap()
    };
    let eval = ["eval", "won_deals", "--grain", "year"];
    assert_eq!(&run(&eval, "a.parquet")[..4], b"PAR1");
    assert!(run(&eval, "a.CSV").starts_with(b"period,won_deals\n"));
    assert!(run(&eval, "a.jsonl").starts_with(b"{\"period\":"));
    assert!(run(&eval, "a.md").starts_with(b"| period"));
    assert!(String::from_utf8(run(&eval, "a.txt")).unwrap().contains('│'));
    let forced = ["eval", "won_deals", "--grain", "year", "--format", "csv"];
    assert!(run(&forced, "b.json").starts_with(b"period,won_deals\n"));
    assert!(run(&["status"], "s.csv").starts_with(b"target,"));
    assert!(run(&["status"], "s.json").starts_with(b"["));
    assert!(run(&["list"], "l.json").starts_with(b"[\n  {\"name\":"));
    assert!(
        run(&["list"], "l.csv").starts_with(b"name,kind,title,unit,direction,indicator,owner,description\n")
    );
    assert!(run(&["list"], "l.md").starts_with(b"| name | kind |"));
}

#[test]
fn eval_usage_errors_exit_2() {
    assert_eq!(kpi(&["eval", "--grain", "fortnight"]).status.code(), Some(2));
    assert_eq!(kpi(&["eval", "--from", "2025-01-01"]).status.code(), Some(2));
    assert_eq!(kpi(&["eval", "--period", "2025-Q5"]).status.code(), Some(2));
    // Unknown names on the command line are usage errors too.
    let out = kpi(&["eval", "won_revenu"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `won_revenue`?"));
    let out = kpi(&["eval", "won_revenue", "--by", "colour"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--by: no dimension is named `colour`"));
    // A dimension that exists, but not beneath the KPI, is an evaluation error naming the flag.
    let out = kpi(&["eval", "marketing_spend", "--by", "owner"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("kpi::dimension_missing") && err.contains("--by"),
        "{err}"
    );
}

fn bad_data_spec(csv: &str, lookup: bool) -> std::path::PathBuf {
    let (extra, team) = if lookup {
        (
            "    lookups: [{dataset: r, on: owner}]\n",
            "  by_team: {dataset: d, measure: count(where r.team == \"t1\")}\n",
        )
    } else {
        ("", "")
    };
    let dir = temp_dir("bad-data");
    std::fs::write(dir.join("d.csv"), csv).unwrap();
    std::fs::write(dir.join("r.csv"), "owner,team\na,t1\na,t2\n").unwrap();
    std::fs::write(
        dir.join("s.yaml"),
        format!("datasets:\n  d:\n    source: d.csv\n    time: at\n    columns: {{at: date, amount: number, owner: string}}\n{extra}  r: {{source: r.csv}}\nkpis:\n  total: {{dataset: d, measure: sum(amount)}}\n{team}"),
    )
    .unwrap();
    dir.join("s.yaml")
}

#[test]
fn a_malformed_row_is_located() {
    let spec = bad_data_spec(
        "at,amount,owner\n2025-01-01,1,a\n2025-01-02,2\n2025-01-03,3,a\n",
        false,
    );
    let out = kpi(&["--spec", spec.to_str().unwrap(), "eval", "total"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("kpi::malformed_row") && err.contains("line 3 has 2 fields"),
        "{err}"
    );
}

#[test]
fn a_declared_type_the_data_contradicts_is_named() {
    let spec = bad_data_spec("at,amount,owner\n2025-01-01,1,a\n2025-01-02,12O,a\n", false);
    let out = kpi(&["--spec", spec.to_str().unwrap(), "eval", "total"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("kpi::declared_type_contradicted") && err.contains("line 3 holds `12O`"),
        "{err}"
    );
}

#[test]
fn a_fan_out_lookup_is_refused() {
    let spec = bad_data_spec("at,amount,owner\n2025-01-01,1,a\n", true);
    let out = kpi(&["--spec", spec.to_str().unwrap(), "eval", "by_team"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("kpi::duplicate_lookup_key") && err.contains("\"a\" appears 2 times"),
        "{err}"
    );
}

/// The key repeated most is named (the least of those repeated as often),
/// by `eval` and by `check --data` alike; keys without a value repeat
/// nothing (they match nothing), as in a database.
#[test]
fn a_fan_out_lookup_names_the_key_repeated_most() {
    // The reps (r.csv) are written anew for each case.
    let spec = bad_data_spec("at,amount,owner\n2025-01-01,1,a\n2025-01-02,2,b\n", true);
    let dir = spec.parent().unwrap().to_path_buf();
    let refused = |reps: &str, named: &str| {
        std::fs::write(dir.join("r.csv"), reps).unwrap();
        for args in [&["eval", "by_team"][..], &["check", "--data"][..]] {
            let mut all = vec!["--spec", spec.to_str().unwrap()];
            all.extend(args);
            let out = kpi(&all);
            // `check` reports on stdout, `eval` on stderr.
            let err = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
            assert!(
                err.contains("kpi::duplicate_lookup_key") && err.contains(named),
                "{args:?}: {err}"
            );
        }
    };
    refused(
        "owner,team\nb,t1\na,t1\nb,t2\n,t1\na,t2\n,t2\nc,t1\na,t1\n",
        "`owner` = \"a\" appears 3 times",
    );
    refused(
        "owner,team\nb,t1\na,t1\nb,t2\na,t2\n",
        "`owner` = \"a\" appears 2 times",
    );
    // `explain` reads no looked-up rows: it shows the plan all the same.
    let out = kpi(&["--spec", spec.to_str().unwrap(), "explain", "by_team"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("lookup(r.owner)") && text.contains("take(r.team)"),
        "{text}"
    );
    // Two reps without an owner: not a repeated key; rows of `d` match theirs only.
    std::fs::write(dir.join("r.csv"), "owner,team\n,t1\na,t1\n,t1\nb,t2\n").unwrap();
    let out = kpi(&[
        "--spec",
        spec.to_str().unwrap(),
        "eval",
        "by_team",
        "--format",
        "csv",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(text.lines().nth(1), Some("1"), "{text}");
}

/// A looked-up file with no rows: every row looks up nothing (its looked-up
/// columns null), and `check --data` finds nothing wrong.
#[test]
fn a_lookup_of_a_file_without_rows_matches_nothing() {
    let dir = temp_dir("empty-lookup");
    std::fs::write(dir.join("d.csv"), "owner,amount\na,1\nb,2\n").unwrap();
    std::fs::write(dir.join("r.csv"), "owner,team\n").unwrap();
    std::fs::write(
        dir.join("s.yaml"),
        "datasets:\n  d:\n    source: d.csv\n    columns: {owner: string, amount: number}\n    \
         lookups: [{dataset: r, on: owner}]\n  r: {source: r.csv, columns: {owner: string, team: string}}\n\
         kpis:\n  by_team: {dataset: d, measure: count(where r.team == \"t1\")}\n  n: {dataset: d, measure: count()}\n",
    )
    .unwrap();
    let spec = dir.join("s.yaml");
    let out = kpi(&[
        "--spec",
        spec.to_str().unwrap(),
        "eval",
        "by_team",
        "n",
        "--by",
        "r.team",
        "--format",
        "csv",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "r.team,by_team,n\n,0,2\n");
    let out = kpi(&["--spec", spec.to_str().unwrap(), "check", "--data"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn explain_shows_one_scan_and_one_aggregation_for_thirty_kpis() {
    let dir = temp_dir("explain30");
    let mut text = String::from("datasets:\n  deals:\n    source: ");
    text.push_str(&root().join("examples/data/deals.csv").display().to_string());
    text.push_str("\n    time: closed_at\n    columns: {amount: number, cost: number, stage: string, closed_at: date, created_at: date, segment: string}\nkpis:\n");
    for i in 0..30 {
        text.push_str(&format!(
            "  k{i}: {{dataset: deals, measure: 'sum(amount - cost where stage == \"won\" and amount > {i}) / count(where segment != \"x{i}\")'}}\n"
        ));
    }
    std::fs::write(dir.join("s.yaml"), text).unwrap();
    let out = kpi(&[
        "--spec",
        dir.join("s.yaml").to_str().unwrap(),
        "explain",
        "--grain",
        "month",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("query plan: 1 scan and group-by"), "{stdout}");
    let plan = &stdout[stdout.find("query plan:").unwrap()..];
    assert_eq!(plan.matches("SCAN").count(), 1, "{plan}");
    // One group-by, written by hand: every part of the thirty KPIs in it.
    assert_eq!(plan.matches("GROUP BY HAND").count(), 1, "{plan}");
    assert_eq!(plan.matches("AGGREGATE").count(), 0, "{plan}");
    assert!(plan.contains("k29__p0 = sum of"), "{plan}");
    assert!(stdout.contains("additivity   non-additive"));
}

#[test]
fn list_prints_the_catalog() {
    let out = kpi(&["list", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let win = rows.iter().find(|r| r["name"] == "win_rate").unwrap();
    assert_eq!(win["title"], "Win rate");
    assert_eq!(win["unit"], "percent");
    assert_eq!(win["direction"], "up");
    assert_eq!(win["indicator"], "lagging");
    assert_eq!(win["kind"], "kpi");
    let funnel = rows.iter().find(|r| r["name"] == "lead_funnel").unwrap();
    assert_eq!(funnel["kind"], "funnel");
    assert!(funnel["description"]
        .as_str()
        .unwrap()
        .contains("created → contacted"));
}

/// A Parquet file's rows as JSON values (texts, numbers, nulls).
fn parquet_rows(path: &std::path::Path) -> (Vec<String>, Vec<Vec<serde_json::Value>>) {
    use polars::prelude::{AnyValue, ParquetReader, SerReader};
    let frame = ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap();
    let names = frame.get_column_names().iter().map(|c| c.to_string()).collect();
    let rows = (0..frame.height())
        .map(|i| {
            (frame.columns().iter())
                .map(|c| match c.get(i).unwrap() {
                    AnyValue::Null => serde_json::Value::Null,
                    AnyValue::String(t) => t.into(),
                    AnyValue::StringOwned(t) => t.to_string().into(),
                    v => v.extract::<f64>().unwrap().into(),
                })
                .collect()
        })
        .collect();
    (names, rows)
}

/// `kpi status` and `kpi list` write every format `kpi eval` writes: NDJSON
/// (by `--format` or the `-o` name) holds the JSON's rows, one a line, and
/// Parquet the CSV's columns and raw values (both were refused).
#[test]
fn status_and_list_write_ndjson_and_parquet() {
    let dir = temp_dir("status-formats");
    for command in ["status", "list"] {
        let json: Vec<serde_json::Value> =
            serde_json::from_str(&kpi_stdout(&[command, "--format", "json"])).unwrap();
        let ndjson = dir.join(format!("{command}.jsonl"));
        kpi_stdout(&[command, "-o", ndjson.to_str().unwrap()]);
        let lines: Vec<serde_json::Value> = std::fs::read_to_string(&ndjson)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert!(json.len() > 10, "{command}: {}", json.len());
        assert_eq!(lines, json, "{command}");
        let parquet = dir.join(format!("{command}.parquet"));
        kpi_stdout(&[command, "-o", parquet.to_str().unwrap()]);
        let (names, rows) = parquet_rows(&parquet);
        let csv = kpi_stdout(&[command, "--format", "csv"]);
        assert_eq!(Some(names.join(",").as_str()), csv.lines().next(), "{command}");
        let mut n = 0;
        for (row, want) in rows.iter().zip(&json) {
            for (name, value) in names.iter().zip(row) {
                match (value, &want[name.as_str()]) {
                    (serde_json::Value::Number(x), serde_json::Value::Number(w)) => {
                        let (x, w) = (x.as_f64().unwrap(), w.as_f64().unwrap());
                        assert!(
                            (x - w).abs() <= 1e-12 * w.abs().max(1.0),
                            "{command} {name}: {x} against {w}"
                        );
                    }
                    (v, w) => assert_eq!(v, w, "{command} {name}"),
                }
            }
            n += 1;
        }
        assert_eq!((n, rows.len()), (json.len(), json.len()), "{command}");
    }
}

#[test]
fn status_lists_every_example_target_and_fails_on_request() {
    let out = kpi(&["status", "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let spec = kpi::check_path(&root().join("kpis"), false);
    for t in &spec.spec.targets {
        assert!(
            rows.iter().any(|r| r["target"] == t.name.value.as_str()),
            "{} missing",
            t.name.value
        );
    }
    let mut statuses: Vec<&str> = rows.iter().map(|r| r["status"].as_str().unwrap()).collect();
    statuses.sort_unstable();
    statuses.dedup();
    assert_eq!(
        statuses,
        [
            "achieved",
            "at_risk",
            "missed",
            "off_track",
            "on_track",
            "upcoming"
        ]
    );
    // q3_revenue missed its 3,000,000: --fail-on missed exits 1.
    let failed = kpi(&["status", "q3_revenue", "--fail-on", "missed"]);
    assert_eq!(failed.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.contains("error[kpi::targets_failing]: --fail-on missed: 1 target row at that status or worse: q3_revenue 2025-Q3: missed"),
        "{stderr}"
    );
    // Before any period starts everything is upcoming.
    let out = kpi(&[
        "status",
        "q3_revenue",
        "--as-of",
        "2025-06-30",
        "--fail-on",
        "off_track",
        "--format",
        "csv",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().nth(1).unwrap().contains(",upcoming,"), "{text}");
}

#[test]
fn explain_shows_the_inner_plans_of_nests_and_funnels() {
    let out = kpi(&["explain", "reps_at_quota_share", "lead_funnel"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let titles: Vec<&str> = text.lines().filter(|l| l.starts_with("── ")).collect();
    // The share of reps at quota is computed per rep: its inner query reads deals and quotas.
    assert!(titles.iter().any(|t| t.contains("per rep: deals")), "{titles:?}");
    assert!(titles.iter().any(|t| t.contains("per rep: quotas")), "{titles:?}");
    // The funnel's six steps are one scan of leads, with deals looked up.
    let funnel: Vec<&&str> = titles
        .iter()
        .filter(|t| t.contains("funnel lead_funnel"))
        .collect();
    assert_eq!(funnel.len(), 1, "{titles:?}");
    assert!(
        funnel[0].contains("leads (created, contacted, qualified, meeting, opportunity, won)"),
        "{funnel:?}"
    );
    // Three scans (deals, quotas, leads); deals are looked up by key, their
    // stage taken by row, not scanned again for the funnel.
    assert_eq!(text.matches("SCAN").count(), 3, "{text}");
    assert!(text.contains("lookup(deals.deal_id)"), "{text}");
    assert!(text.contains("take(deals.stage)"), "{text}");
}

/// KPIs that share a condition, a value or a whole part are computed from
/// one column each (the engine shares them); every number must still be its
/// own. Hand-computed over six rows: a null stage, a null amount, an empty
/// group, a condition on two columns.
#[test]
fn kpis_sharing_conditions_and_parts_keep_their_own_values() {
    let dir = temp_dir("shared-parts");
    std::fs::write(
        dir.join("d.csv"),
        "owner,stage,channel,amount\n\
         ann,won,partner,100\n\
         ann,won,direct,50\n\
         ann,lost,partner,30\n\
         ann,,partner,7\n\
         bob,won,partner,\n\
         bob,lost,direct,20\n\
         cy,lost,direct,5\n",
    )
    .unwrap();
    let kpis = [
        ("won_sum", "sum(amount where stage == \"won\")"),
        ("won_sum_again", "sum(amount where stage == \"won\")"),
        ("won_count", "count(where stage == \"won\")"),
        ("won_avg", "avg(amount where stage == \"won\")"),
        ("won_amounts", "count(amount where stage == \"won\")"),
        ("won_max", "max(amount where stage == \"won\")"),
        ("lost_share", "sum(amount where stage == \"lost\") / sum(amount)"),
        ("total", "sum(amount)"),
        (
            "won_partner",
            "count(where stage == \"won\" and channel == \"partner\")",
        ),
        ("owners_won", "count_distinct(stage where stage == \"won\")"),
    ];
    let mut spec = String::from("datasets:\n  d: {source: d.csv}\nkpis:\n");
    for (name, measure) in kpis {
        spec.push_str(&format!("  {name}:\n    dataset: d\n    measure: '{measure}'\n"));
    }
    std::fs::write(dir.join("kpis.yaml"), spec).unwrap();
    let out_file = dir.join("out.json");
    let out = kpi(&[
        "eval",
        "--spec",
        dir.join("kpis.yaml").to_str().unwrap(),
        "--by",
        "owner",
        "-o",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // `-o out.json` without --format writes JSON.
    let rows: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();
    let get = |owner: &str, k: &str| {
        let r = rows.iter().find(|r| r["owner"] == owner).unwrap();
        r[k].as_f64()
    };
    let want: [(&str, [Option<f64>; 3]); 10] = [
        // ann, bob (its won deal has no amount), cy (no won deal)
        ("won_sum", [Some(150.0), Some(0.0), Some(0.0)]),
        ("won_sum_again", [Some(150.0), Some(0.0), Some(0.0)]),
        ("won_count", [Some(2.0), Some(1.0), Some(0.0)]),
        ("won_avg", [Some(75.0), None, None]),
        ("won_amounts", [Some(2.0), Some(0.0), Some(0.0)]),
        ("won_max", [Some(100.0), None, None]),
        ("lost_share", [Some(30.0 / 187.0), Some(1.0), Some(1.0)]),
        ("total", [Some(187.0), Some(20.0), Some(5.0)]),
        ("won_partner", [Some(1.0), Some(1.0), Some(0.0)]),
        ("owners_won", [Some(1.0), Some(1.0), Some(0.0)]),
    ];
    for (k, values) in want {
        for (owner, v) in ["ann", "bob", "cy"].into_iter().zip(values) {
            assert!(
                close(get(owner, k), v),
                "{k} for {owner}: got {:?}, want {v:?}",
                get(owner, k)
            );
        }
    }
}

/// A KPI whose value is a date or datetime (the day of the last close) is
/// shown as one in every format, not as days or microseconds since 1970;
/// its change is in days; a derived KPI takes the days between two such
/// KPIs; a KPI whose value would be a text is an error.
#[test]
fn date_kpis_are_shown_as_dates() {
    let dir = temp_dir("date-kpis");
    std::fs::write(
        dir.join("d.csv"),
        "owner,closed_at,seen_at\na,2025-01-15,2025-01-15 10:30:00\na,2025-01-19,2025-01-19 23:59:59\nb,2025-03-03,\n",
    )
    .unwrap();
    let spec = "datasets:\n  d: {source: d.csv, time: closed_at}\nkpis:\n  first_close: {dataset: d, measure: min(closed_at)}\n  last_close: {dataset: d, measure: max(closed_at)}\n  last_seen: {dataset: d, measure: max(seen_at)}\n  span: {measure: 'days_between(first_close, last_close)'}\n";
    std::fs::write(dir.join("s.yaml"), spec).unwrap();
    let args = [
        "--spec",
        "s.yaml",
        "eval",
        "--grain",
        "month",
        "--from",
        "2025-01-01",
        "--to",
        "2025-03-31",
        "-q",
    ];
    let run = |extra: &[&str]| {
        let mut all = args.to_vec();
        all.extend_from_slice(extra);
        let (code, out, err) = kpi_in(&dir, &all);
        assert_eq!(code, Some(0), "{err}");
        out
    };
    assert_eq!(
        run(&["--format", "csv"]),
        "period,first_close,last_close,last_seen,span\n\
         2025-01,2025-01-15,2025-01-19,2025-01-19T23:59:59,4\n\
         2025-02,,,,\n\
         2025-03,2025-03-03,2025-03-03,,0\n"
    );
    let json: serde_json::Value =
        serde_json::from_str(&run(&["--format", "json", "--compare", "2"])).unwrap();
    let march = &json[2];
    assert_eq!(march["last_close"], "2025-03-03", "{march}");
    assert_eq!(march["last_close_compare"], "2025-01-19", "{march}");
    assert_eq!(march["last_close_change"], 43.0, "{march}");
    assert_eq!(march["last_close_change_pct"], serde_json::Value::Null, "{march}");
    run(&["-o", "out.parquet"]);
    use polars::prelude::{DataType, ParquetReader, SerReader};
    let frame = ParquetReader::new(std::fs::File::open(dir.join("out.parquet")).unwrap())
        .finish()
        .unwrap();
    let dtype = |c: &str| frame.column(c).unwrap().dtype().clone();
    assert_eq!(dtype("last_close"), DataType::Date);
    assert!(matches!(dtype("last_seen"), DataType::Datetime(..)));
    // The HTML report's card: the day, not 20,150 (days since 1970).
    let (code, _, err) = kpi_in(
        &dir,
        &[
            "--spec",
            "s.yaml",
            "report",
            "last_close",
            "-o",
            "r.html",
            "--as-of",
            "2025-03-31",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let html = std::fs::read_to_string(dir.join("r.html")).unwrap();
    assert!(html.contains("2025-03-03") && !html.contains("20,150") && !html.contains("20150"));
    let text = spec.replace("max(seen_at)", "max(owner)");
    std::fs::write(dir.join("s.yaml"), text).unwrap();
    let (code, out, _) = kpi_in(&dir, &["--spec", "s.yaml", "check", "--data"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("kpi::text_measure") && out.contains("KPI `last_seen`"),
        "{out}"
    );
}

/// A quotient is the double nearest it, as SQL and a hand computation
/// give it: Polars multiplies a column by the reciprocal of a single
/// divisor, one unit in the last place off, so `round(34.3, 2)` was
/// 34.300000000000004 (a group of its own beside 34.3, and not equal to
/// 34.3), `3430 / 100` was not 34.3, a CSV's `57%` was not 0.57;
/// `log10(1000)`, through natural logarithms, was not 3, and `pow(1.3,
/// 3)`, as `1.3 · 1.3 · 1.3`, was not 2.197.
#[test]
fn quotients_roundings_and_logarithms_are_the_nearest_doubles() {
    let dir = temp_dir("nearest-doubles");
    std::fs::write(
        dir.join("d.csv"),
        "x,cents,rate,p,c,closed_at\n34.3,3430,57%,1000,1.3,2025-01-10\n2.8,280,29%,100,0.1,2025-01-11\n34.3,-3430,14%,0.001,,2025-01-12\n,,,,,2025-01-13\n",
    )
    .unwrap();
    let spec = "datasets:\n  d:\n    source: d.csv\n    time: closed_at\n    read: {percent: true}\n    dimensions: {band: 'round(x, 2)', euros: cents / 100}\nkpis:\n  \
        rounded: {dataset: d, measure: 'count(where round(x, 2) == x)'}\n  \
        divided: {dataset: d, measure: 'count(where abs(cents / 100) == 34.3)'}\n  \
        percent: {dataset: d, measure: 'count(where rate == 0.57 or rate == 0.29 or rate == 0.14)'}\n  \
        powers: {dataset: d, measure: 'count(where log10(p) == round(log10(p)))'}\n  \
        cubes: {dataset: d, measure: 'count(where pow(c, 3) == 2.197)'}\n  \
        rows: {dataset: d, measure: count()}\n";
    std::fs::write(dir.join("s.yaml"), spec).unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["--spec", "s.yaml", "eval", "--format", "csv", "-q"];
        args.extend_from_slice(extra);
        let (code, out, err) = kpi_in(&dir, &args);
        assert_eq!(code, Some(0), "{err}");
        out
    };
    assert_eq!(
        run(&[]),
        "rounded,divided,percent,powers,cubes,rows\n3,2,3,3,1,4\n"
    );
    assert_eq!(run(&["rows", "--by", "band"]), "band,rows\n2.8,1\n34.3,2\n,1\n");
    assert_eq!(
        run(&["rows", "--by", "euros"]),
        "euros,rows\n-34.3,1\n2.8,1\n34.3,1\n,1\n"
    );
}

/// Row functions alike in several KPIs share one function object (so that
/// a use alike is computed once), and each use keeps its own arguments:
/// `a / b` beside `b / a`, `sqrt(a)` beside `sqrt(b)`, `a % 7` beside
/// `b % 7`. By hand: the rows (16, 4), (1, 16), (4, 0), (null, 16).
#[test]
fn row_functions_alike_keep_their_own_arguments() {
    let dir = temp_dir("alike-functions");
    std::fs::write(
        dir.join("d.csv"),
        "a,b,d1,d2,t\n16,4,2025-01-01,2025-01-11,2025-01-10\n1,16,2025-01-05,2025-01-06,2025-01-10\n4,0,2025-01-10,2025-01-01,2025-01-10\n,16,,2025-01-02,2025-01-10\n",
    )
    .unwrap();
    let spec = "datasets:\n  d:\n    source: d.csv\n    time: t\nkpis:\n  \
        ab: {dataset: d, measure: sum(a / b)}\n  \
        ba: {dataset: d, measure: sum(b / a)}\n  \
        ab_avg: {dataset: d, measure: avg(a / b)}\n  \
        root_a: {dataset: d, measure: sum(sqrt(a))}\n  \
        root_b: {dataset: d, measure: sum(sqrt(b))}\n  \
        later: {dataset: d, measure: count(where days_between(d1, d2) > 0)}\n  \
        earlier: {dataset: d, measure: count(where days_between(d2, d1) > 0)}\n  \
        rest_a: {dataset: d, measure: sum(a % 7)}\n  \
        rest_b: {dataset: d, measure: sum(b % 7)}\n";
    std::fs::write(dir.join("s.yaml"), spec).unwrap();
    let (code, out, err) = kpi_in(&dir, &["--spec", "s.yaml", "eval", "--format", "csv", "-q"]);
    assert_eq!(code, Some(0), "{err}");
    // a / b: 4 + 0.0625 (4 / 0 and null / 16 are null); b / a: 0.25 + 16 + 0;
    // roots: 4 + 1 + 2 and 2 + 4 + 0 + 4; days: 10, 1, -9 and null;
    // remainders: 2 + 1 + 4 and 4 + 2 + 0 + 2.
    assert_eq!(
        out,
        "ab,ba,ab_avg,root_a,root_b,later,earlier,rest_a,rest_b\n4.0625,16.25,2.03125,7,10,2,1,7,8\n"
    );
}

/// Output columns under one name (a dimension and a KPI, a column `period`
/// beside a grain's periods) are a usage diagnostic naming both and the
/// flag, where Polars stopped the evaluation with "duplicate output name"
/// and "this may also be a bug"; an alias of the column groups by it.
#[test]
fn output_columns_under_one_name_are_refused() {
    let dir = temp_dir("column-clash");
    std::fs::write(
        dir.join("d.csv"),
        "owner,period,amount,closed_at\na,P1,1,2025-01-01\nb,P2,2,2025-02-01\n",
    )
    .unwrap();
    let spec = "datasets:\n  d:\n    source: d.csv\n    time: closed_at\n    dimensions: {fiscal_period: period}\nkpis:\n  owner: {dataset: d, measure: sum(amount)}\n  total: {dataset: d, measure: sum(amount)}\n";
    std::fs::write(dir.join("s.yaml"), spec).unwrap();
    let refused = |args: &[&str], said: &str| {
        let mut all = vec!["--spec", "s.yaml", "eval"];
        all.extend_from_slice(args);
        let (code, out, err) = kpi_in(&dir, &all);
        assert_eq!((code, out.as_str()), (Some(1), ""), "{args:?}: {err}");
        assert!(
            err.contains("kpi::output_column_clash") && err.contains(said),
            "{args:?}: {err}"
        );
        assert!(!err.contains("may also be a bug"), "{err}");
    };
    refused(
        &["--by", "owner"],
        "--by: the output would have two columns named `owner`: the dimension",
    );
    refused(
        &["total", "--by", "period", "--grain", "month"],
        "--by: the output would have two columns named `period`: the dimension `period`",
    );
    let (code, out, err) = kpi_in(
        &dir,
        &[
            "--spec",
            "s.yaml",
            "eval",
            "total",
            "--by",
            "fiscal_period",
            "--grain",
            "month",
            "--format",
            "csv",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        out,
        "fiscal_period,period,total\nP1,2025-01,1\nP1,2025-02,0\nP2,2025-01,0\nP2,2025-02,2\n"
    );
}

/// Names listed in `--by` and `--segment` as people type them: spaces after
/// the commas, and a column with a space in backticks as in expressions
/// (both were "no dimension is named ` Stage`"). Hand-worked: Ann won 5,
/// Bob lost 7.
#[test]
fn listed_names_take_spaces_and_backticks() {
    let dir = crate::support::dir_with(
        "listed-names",
        &[
            (
                "d.csv",
                "Deal Owner,Amount,Close Date,Stage\nAnn,5,2025-01-01,Won\nBob,7,2025-01-02,Lost\n",
            ),
            (
                "s.yaml",
                "datasets:\n  d: {source: d.csv, time: Close Date}\nkpis:\n  t: {dataset: d, measure: sum(Amount)}\nsegments:\n  won: {where: Stage == \"Won\"}\n",
            ),
        ],
    );
    let eval = |extra: &[&str]| {
        let mut args = vec!["--spec", "s.yaml", "eval", "--format", "csv"];
        args.extend_from_slice(extra);
        crate::support::kpi_in(&dir, &args)
    };
    let (code, out, err) = eval(&["--by", "Deal Owner, Stage"]);
    assert_eq!(
        (code, out.as_str()),
        (Some(0), "Deal Owner,Stage,t\nAnn,Won,5\nBob,Lost,7\n"),
        "{err}"
    );
    let (code, out, err) = eval(&["--by", "`Deal Owner`", "--segment", " won"]);
    assert_eq!((code, out.as_str()), (Some(0), "Deal Owner,t\nAnn,5\n"), "{err}");
    // KPIs are listed as --by lists dimensions, comma-separated, or one
    // per argument, a comma typed as in a sentence (`n, t`) included; a
    // flag's comma with no name after it is a usage error (`--by owner,
    // region` took `region` for a KPI).
    std::fs::write(
        dir.join("s.yaml"),
        "datasets:\n  d: {source: d.csv, time: Close Date}\nkpis:\n  t: {dataset: d, measure: sum(Amount)}\n  n: {dataset: d, measure: count()}\n",
    )
    .unwrap();
    for listed in [&["n,t"][..], &["n, t"], &["n", "t"], &["n,", "t"]] {
        let (code, out, err) = eval(listed);
        assert_eq!(
            (code, out.as_str()),
            (Some(0), "n,t\n2,12\n"),
            "{listed:?}: {err}"
        );
    }
    let (code, out, err) = eval(&["n,"]);
    assert_eq!((code, out.as_str()), (Some(0), "n\n2\n"), "{err}");
    let (code, _, err) = eval(&["--by", "Deal Owner,", "Stage"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("an empty name: a comma"), "{err}");
}

/// A KPI without a unit shows every value of its column with the same
/// decimals: two when any value has a fraction, none when all are whole.
#[test]
fn unitless_columns_keep_one_number_of_decimals() {
    let dir = dir_with(
        "unitless-decimals",
        &[
            ("d.csv", "owner,x\na,2000\nb,1200\nb,1201\nc,7\n"),
            (
                "s.yaml",
                "datasets:\n  d: {source: d.csv}\nkpis:\n  mean_x: {dataset: d, measure: avg(x)}\n  total_x: {dataset: d, measure: sum(x)}\n  tenth: {dataset: d, measure: sum(x) / 10, decimals: 1}\n",
            ),
        ],
    );
    let (code, out, err) = kpi_in(
        &dir,
        &[
            "--spec", "s.yaml", "eval", "--by", "owner", "--format", "markdown",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        out,
        "| owner | mean_x | total_x | tenth |\n\
         | --- | ---: | ---: | ---: |\n\
         | a | 2,000.00 | 2,000 | 200.0 |\n\
         | b | 1,200.50 | 2,401 | 240.1 |\n\
         | c | 7.00 | 7 | 0.7 |\n"
    );
}

/// A zero of a negative value (`-sum(x)` of nothing but zeros,
/// `round(-0.4)`, `-0.4 * 0`) is written 0 in every raw output, never `-0`.
#[test]
fn a_zero_is_never_negative_in_raw_outputs() {
    let dir = dir_with(
        "negative-zero",
        &[
            ("d.csv", "owner,amount,closed_at\na,0,2025-01-01\nb,-0.4,2025-01-02\n"),
            (
                "s.yaml",
                "datasets:\n  d: {source: d.csv, time: closed_at}\nkpis:\n  neg: {dataset: d, measure: -sum(amount where amount >= 0)}\n  r: {dataset: d, measure: round(sum(amount))}\n  m: {dataset: d, measure: sum(amount) * 0}\n",
            ),
        ],
    );
    let eval = |format: &str| {
        let (code, out, err) = kpi_in(
            &dir,
            &["--spec", "s.yaml", "eval", "--by", "owner", "--format", format],
        );
        assert_eq!(code, Some(0), "{err}");
        out
    };
    assert_eq!(eval("csv"), "owner,neg,r,m\na,0,0,0\nb,0,0,0\n");
    assert!(!eval("json").contains("-0"), "{}", eval("json"));
    assert!(!eval("ndjson").contains("-0"), "{}", eval("ndjson"));
    let (code, _, err) = kpi_in(
        &dir,
        &["--spec", "s.yaml", "eval", "--by", "owner", "-o", "z.parquet"],
    );
    assert_eq!(code, Some(0), "{err}");
    use polars::prelude::{ParquetReader, SerReader};
    let df = ParquetReader::new(std::fs::File::open(dir.join("z.parquet")).unwrap())
        .finish()
        .unwrap();
    for name in ["neg", "r", "m"] {
        let c = df
            .column(name)
            .unwrap()
            .cast(&polars::prelude::DataType::Float64)
            .unwrap();
        let signs: Vec<bool> = c
            .f64()
            .unwrap()
            .into_no_null_iter()
            .map(f64::is_sign_negative)
            .collect();
        assert_eq!(signs, [false, false], "{name}");
    }
}
