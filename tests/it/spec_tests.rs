//! `kpi test`: the tests of kpis/ pass, each seed KPI is covered by a test
//! that fails when its definition changes, and failures are readable.

use crate::support::{dir_with, kpi, kpi_in, library, root, temp_dir};

/// The text with KPI `kpi`'s measure multiplied by 1.5.
fn break_measure(text: &str, kpi: &str) -> Option<String> {
    let mut inside = false;
    let mut changed = false;
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            if l.starts_with("  ") && !l.starts_with("   ") && l.trim_end().ends_with(':') {
                inside = l.trim() == format!("{kpi}:");
            }
            match l.strip_prefix("    measure: ") {
                Some(m) if inside && !changed => {
                    changed = true;
                    let m = m.trim().trim_matches('\'');
                    format!("    measure: '({}) * 1.5'", m.replace('\'', "''"))
                }
                _ => l.to_string(),
            }
        })
        .collect();
    changed.then(|| lines.join("\n"))
}

#[test]
fn the_library_tests_pass_and_write_junit() {
    let dir = temp_dir("junit");
    let junit = dir.join("results.xml");
    let out = kpi(&["test", "--junit", junit.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("passed, 0 failed"), "{stdout}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    let cases = xml.matches("<testcase ").count();
    assert!(cases >= 45, "{cases} test cases");
    assert!(
        xml.contains(&format!("tests=\"{cases}\" failures=\"0\"")),
        "{xml}"
    );
    assert!(!xml.contains("<failure"));
}

#[test]
fn every_seed_kpi_has_a_test_that_breaks_with_it() {
    let outcome = kpi::check_loaded(kpi::spec::load_files(library(|_, t| t)), false);
    assert_eq!(outcome.errors(), 0, "{:?}", outcome.diagnostics);
    let kpis: Vec<String> = outcome.spec.kpis.iter().map(|k| k.name.value.clone()).collect();
    let mut uncovered = Vec::new();
    for k in &kpis {
        let files = library(|name, text| {
            if name == "tests.yaml" {
                return text;
            }
            break_measure(&text, k).unwrap_or(text)
        });
        let broken = kpi::check_loaded(kpi::spec::load_files(files), false);
        assert_eq!(broken.errors(), 0, "{k}: {:?}", broken.diagnostics);
        // The tests that mention the KPI, as the tested KPI or an expected column.
        let names: Vec<String> = broken
            .spec
            .tests
            .iter()
            .filter(|t| {
                t.kpi.as_ref().is_some_and(|x| x.value == *k)
                    || t.expect.iter().any(|r| r.iter().any(|(c, _)| c.value == *k))
            })
            .map(|t| t.name.value.clone())
            .collect();
        if names.is_empty() {
            uncovered.push(format!("{k}: no test"));
            continue;
        }
        let results = kpi::spec_test::run(&broken.spec, &broken.checked.model, &broken.sources, &names);
        let failed: Vec<_> = results.iter().filter(|r| !r.passed).collect();
        if failed.is_empty() {
            uncovered.push(format!("{k}: no test failed"));
            continue;
        }
        let report = kpi::spec_test::to_human(&results);
        assert!(
            report.contains("expected") && report.contains("tests.yaml:"),
            "{report}"
        );
    }
    assert!(uncovered.is_empty(), "{uncovered:#?}");
}

#[test]
fn a_failing_test_shows_where_and_what_differs() {
    let dir = temp_dir("failing-test");
    std::fs::write(
        dir.join("spec.yaml"),
        r#"datasets:
  deals:
    source: deals.csv
    time: closed_at
    columns: {stage: string, amount: number, closed_at: date}
kpis:
  win_rate:
    dataset: deals
    measure: count(where stage == "won") / count(where stage in ["won", "lost"])
tests:
  win_rate_counts_only_closed:
    kpi: win_rate
    grain: month
    data:
      deals:
        - {stage: won,  amount: 100, closed_at: 2025-01-10}
        - {stage: lost, amount: 50,  closed_at: 2025-01-12}
        - {stage: proposal, amount: 70, closed_at: null}
    expect:
      - {period: 2025-01, win_rate: 0.5}
  wrong:
    kpi: win_rate
    grain: month
    data:
      deals:
        - {stage: won, closed_at: 2025-01-10}
        - {stage: proposal}
    expect:
      - {period: 2025-01, win_rate: 0.5}
      - {period: 2025-02, win_rate: 0}
"#,
    )
    .unwrap();
    std::fs::write(dir.join("deals.csv"), "stage,amount,closed_at\n").unwrap();
    let spec = dir.to_string_lossy().to_string();
    let out = kpi(&["test", "--spec", spec.as_str()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("ok     win_rate_counts_only_closed"), "{stdout}");
    assert!(stdout.contains("FAILED wrong (KPI `win_rate`) at "), "{stdout}");
    assert!(stdout.contains("spec.yaml:21:3"), "{stdout}");
    assert!(
        stdout.contains("period=2025-01: win_rate expected 0.5, got 1"),
        "{stdout}"
    );
    assert!(stdout.contains("no row with period=2025-02"), "{stdout}");
    assert!(stdout.contains("1 passed, 1 failed"), "{stdout}");
    // One test by name; JSON for programs.
    let out = kpi(&[
        "test",
        "--spec",
        spec.as_str(),
        "win_rate_counts_only_closed",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["passed"], true);
    assert_eq!(v[0]["line"], 11);
    let out = kpi(&["test", "--spec", spec.as_str(), "no_such_test"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_ci_integrations_run_commands_that_work() {
    let mut commands: Vec<String> = Vec::new();
    let workflow = std::fs::read_to_string(root().join("examples/ci/kpi.yml")).unwrap();
    let workflow = kpi::spec::yaml_to_json(&workflow).unwrap().unwrap();
    for step in workflow["jobs"]["kpi"]["steps"].as_array().unwrap() {
        if let Some(run) = step["run"]
            .as_str()
            .map(str::trim)
            .filter(|r| r.starts_with("kpi "))
        {
            // The pull request's base branch is this repository's HEAD here; output goes to stdout.
            let run = run.split('>').next().unwrap_or(run);
            commands.push(run.replace("\"origin/${{ github.base_ref }}\"", "HEAD"));
        }
    }
    let hooks = std::fs::read_to_string(root().join(".pre-commit-hooks.yaml")).unwrap();
    let hooks = kpi::spec::yaml_to_json(&hooks).unwrap().unwrap();
    for hook in hooks.as_array().unwrap() {
        commands.push(hook["entry"].as_str().unwrap().to_string());
    }
    assert!(commands.len() >= 5, "{commands:?}");
    assert!(
        commands
            .iter()
            .any(|c| c.starts_with("kpi diff --base HEAD --values")),
        "{commands:?}"
    );
    let dir = temp_dir("ci");
    for c in &commands {
        let args: Vec<String> = c
            .split_whitespace()
            .skip(1)
            .map(|a| {
                if a.ends_with(".xml") || a.ends_with(".html") {
                    dir.join(a).display().to_string()
                } else {
                    a.to_string()
                }
            })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = kpi(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{c}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(dir.join("kpi-tests.xml").exists());
}

/// A date or datetime KPI is expected as its day or instant, however
/// written (`kpi test` asked for a number and showed days since 1970); the
/// rows' datetimes may put a `T` or a space between date and time (a
/// declared `datetime` took one form and called the other a contradiction);
/// a value the rows' column cannot hold is named by its row, not by the
/// scratch file the rows are written to; datetimes in UTC need no zone.
#[test]
fn date_kpis_are_expected_as_dates() {
    let dir = temp_dir("date-kpi-tests");
    let spec = "datasets:\n  d: {source: d.csv, time: closed_at, columns: {closed_at: date, seen_at: datetime}}\nkpis:\n  last_close: {dataset: d, measure: max(closed_at)}\n  last_seen: {dataset: d, measure: max(seen_at)}\ntests:\n  latest:\n    kpi: last_close\n    grain: month\n    data:\n      d:\n        - {closed_at: 2025-01-10, seen_at: \"2025-01-10T10:00:00\"}\n        - {closed_at: 2025-01-12, seen_at: \"2025-01-11 09:30:00\"}\n    expect:\n      - {period: 2025-01, last_close: 2025-01-12, last_seen: \"2025-01-11 09:30\"}\n  wrong:\n    kpi: last_close\n    data:\n      d:\n        - {closed_at: 2025-01-10}\n    expect:\n      - {last_close: 2025-01-12}\n  unreadable:\n    kpi: last_seen\n    data:\n      d:\n        - {closed_at: 2025-01-10}\n        - {seen_at: tomorrow}\n    expect:\n      - {last_seen: null}\n  in_utc:\n    kpi: last_seen\n    data:\n      d:\n        - {closed_at: 2025-01-10, seen_at: \"2025-01-31T23:30:00Z\"}\n    expect:\n      - {last_seen: \"2025-01-31 23:30\"}\n  other_offset:\n    kpi: last_seen\n    data:\n      d:\n        - {closed_at: 2025-01-10, seen_at: \"2025-01-31T23:30:00Z\"}\n        - {closed_at: 2025-01-11, seen_at: \"2025-02-01T00:30:00+01:00\"}\n    expect:\n      - {last_seen: \"2025-01-31 23:30\"}\n";
    std::fs::write(dir.join("s.yaml"), spec).unwrap();
    std::fs::write(dir.join("d.csv"), "closed_at,seen_at\n").unwrap();
    let (code, out, err) = kpi_in(&dir, &["--spec", "s.yaml", "test"]);
    assert_eq!(code, Some(1), "{out}{err}");
    let all = format!("{out}{err}");
    assert!(all.contains("ok     latest"), "{all}");
    assert!(
        all.contains("last_close expected 2025-01-12, got 2025-01-10"),
        "{all}"
    );
    // A value of the rows that its column cannot hold, named in the test's terms.
    assert!(
        all.contains("but row 2 of the test's `d` holds `tomorrow`") && !all.contains("kpi-test-"),
        "{all}"
    );
    // Datetimes in UTC (`Z`) need no zone; another offset is named by its row.
    assert!(all.contains("ok     in_utc"), "{all}");
    let flat: String = all.split_whitespace().collect();
    assert!(
        flat.contains("kpi::timezone_needed")
            && flat.contains("row2ofthetest's`d`holds`2025-02-01T00:30:00+01:00`"),
        "{all}"
    );
    assert!(all.contains("2 passed, 3 failed"), "{all}");
}

/// A date KPI over a column no `columns:` declares is a date in a test as
/// in `kpi eval`, whether the test's rows type the column or the file of a
/// dataset they do not replace does (it was a number of days, 20097, and
/// the expected date "expects a number").
#[test]
fn date_kpis_of_undeclared_columns_are_dates() {
    let dir = dir_with(
        "date-kpi-undeclared",
        &[
            ("d.csv", "closed_at\n2025-01-02\n"),
            ("q.csv", "month,quota\n2025-01-01,5\n2025-03-01,7\n"),
            (
                "s.yaml",
                "datasets:\n  d: {source: d.csv, time: closed_at}\n  q: {source: q.csv, time: month}\nkpis:\n  last_close: {dataset: d, measure: max(closed_at)}\n  last_quota: {dataset: q, measure: max(month)}\ntests:\n  rows:\n    kpi: last_close\n    grain: month\n    data:\n      d:\n        - {closed_at: 2025-01-10}\n        - {closed_at: 2025-01-12}\n        - {closed_at: null}\n    expect:\n      - {period: 2025-01, last_close: 2025-01-12}\n  file:\n    kpi: last_quota\n    data:\n      d:\n        - {closed_at: 2025-01-10}\n    expect:\n      - {last_quota: 2025-03-01}\n",
            ),
        ],
    );
    let (code, out, err) = kpi_in(&dir, &["--spec", "s.yaml", "test"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("2 passed, 0 failed"), "{out}");
}

/// An expected row keyed `owner: null` is the group of rows without an
/// owner (it was looked for as an owner named ``, and never found); a
/// null key with no such group is missing, said as `owner=null`.
#[test]
fn a_null_key_expects_the_null_group() {
    let dir = temp_dir("spec-test-null-key");
    std::fs::write(dir.join("deals.csv"), "owner,amount,closed_at\n").unwrap();
    let spec = |second: &str| {
        format!(
            "datasets:\n  deals:\n    source: deals.csv\n    columns: {{owner: string, amount: number, closed_at: date}}\nkpis:\n  total: {{dataset: deals, measure: sum(amount)}}\ntests:\n  by_owner:\n    kpi: total\n    by: owner\n    data:\n      deals:\n        - {{owner: a, amount: 1}}\n        - {{amount: 2}}\n        - {{amount: 4}}\n    expect:\n      - {{owner: a, total: 1}}\n      {second}\n"
        )
    };
    // Rows without an owner: 2 and 4.
    passes_then_fails(
        &dir,
        &spec("- {owner: null, total: 6}"),
        &spec("- {owner: null, total: 5}"),
        "owner=null: total expected 5, got 6",
    );
}

/// Rows written by hand give datetimes in whatever ISO shape comes to
/// mind: to the minute, to the second, with `T` or a space, or a date
/// alone (midnight); each is read (the minute was "declared datetime, but
/// row 3 holds `2025-01-11 08:00`"). A text column declared `string`
/// keeps its values as written. By hand: Jan 10 has 1 + 2, Jan 11 has 4
/// (08:00 and 08:00:30 are apart by half a minute: 0.5 minutes).
#[test]
fn test_rows_take_datetimes_in_any_iso_shape() {
    let dir = temp_dir("spec-test-datetime-shapes");
    std::fs::write(dir.join("d.csv"), "at,x,note\n").unwrap();
    let rows = "    data:\n      d:\n        - {at: 2025-01-10, x: 1, note: soon}\n        - {at: 2025-01-10T09:00:00, x: 2}\n        - {at: \"2025-01-11 08:00\", x: 4, note: \"2025-01-11 08:00\"}\n        - {at: 2025-01-11T08:00:30, x: 0}\n";
    let test = |name: &str, kpi: &str, want: [&str; 2]| {
        format!(
            "  {name}:\n    kpi: {kpi}\n    grain: day\n{rows}    expect:\n      - {{period: 2025-01-10, {kpi}: {}}}\n      - {{period: 2025-01-11, {kpi}: {}}}\n",
            want[0], want[1]
        )
    };
    let spec = |total: &str, columns: &str| {
        format!(
            "datasets:\n  d:\n    source: d.csv\n    time: at\n{columns}kpis:\n  total: {{dataset: d, measure: sum(x)}}\n  noted: {{dataset: d, measure: 'count(where note == \"2025-01-11 08:00\")'}}\n  span: {{dataset: d, measure: minutes_between(min(at), max(at))}}\ntests:\n{}{}{}",
            test("totals", "total", ["3", total]),
            test("notes", "noted", ["0", "1"]),
            test("spans", "span", ["540", "0.5"]),
        )
    };
    // Declared, or not: an undeclared text column keeps its values as
    // written (`note` holds `soon` too).
    for columns in ["    columns: {at: datetime, x: number, note: string}\n", ""] {
        passes_then_fails(
            &dir,
            &spec("4", columns),
            &spec("5", columns),
            "total expected 5, got 4",
        );
    }
}

/// YAML's non-finite floats in a test's rows (`.nan`, `.inf`, `-.inf`)
/// are numbers, read as nulls as a Parquet file's are: aggregates skip
/// them. They were texts, refused as "declared number, but row 2 holds
/// `.nan`". By hand: the finite amounts 1 + 4, two of four counted.
#[test]
fn test_rows_take_yaml_non_finite_numbers_as_nulls() {
    let dir = temp_dir("spec-test-non-finite");
    std::fs::write(dir.join("d.csv"), "amount\n").unwrap();
    let spec = |total: &str| {
        format!(
            "datasets:\n  d: {{source: d.csv, columns: {{amount: number}}}}\nkpis:\n  total: {{dataset: d, measure: sum(amount)}}\n  counted: {{dataset: d, measure: count(amount)}}\ntests:\n  skips:\n    kpi: total\n    data:\n      d:\n        - {{amount: 1}}\n        - {{amount: .nan}}\n        - {{amount: .inf}}\n        - {{amount: -.Inf}}\n        - {{amount: 4}}\n        - {{amount: NaN}}\n    expect:\n      - {{total: {total}, counted: 2}}\n"
        )
    };
    passes_then_fails(&dir, &spec("5"), &spec("6"), "total expected 6, got 5");
}

/// Columns a test's rows leave out are null (LANGUAGE.md §7), declared or
/// not: with no `columns:`, a column no row holds was "unable to find
/// column `created_at`". By hand: the cycle of the won deal that has both
/// days (9 days) is the average; the one without `created_at` adds
/// nothing, and a KPI on a column no row holds is null or 0.
#[test]
fn columns_the_rows_leave_out_are_null_declared_or_not() {
    let dir = temp_dir("spec-test-missing-columns");
    std::fs::write(dir.join("d.csv"), "stage,amount,closed_at,created_at,seats\n").unwrap();
    let spec = |cycle: &str| {
        format!(
            "datasets:\n  d: {{source: d.csv, time: closed_at}}\nkpis:\n  cycle: {{dataset: d, measure: 'avg(days_between(created_at, closed_at) where stage == \"won\")'}}\n  seats: {{dataset: d, measure: sum(seats)}}\n  most: {{dataset: d, measure: max(seats)}}\ntests:\n  cycles:\n    kpi: cycle\n    data:\n      d:\n        - {{stage: won, closed_at: 2025-01-10, created_at: 2025-01-01}}\n        - {{stage: won, closed_at: 2025-01-12}}\n    expect:\n      - {{cycle: {cycle}, seats: 0, most: null}}\n"
        )
    };
    passes_then_fails(&dir, &spec("9"), &spec("10"), "cycle expected 10, got 9");
}

/// A test's rows type the columns no `columns:` declares, as the data does
/// for `kpi eval`: a text where a number goes fails the test with the type
/// error eval gives (`"n/a"` was summed as no value and the test passed),
/// and so does a text where a condition goes (it failed as "casting from
/// Utf8View to Boolean not supported"). Only what the test evaluates
/// counts: `flagged` on texts is no matter to a test of `won`.
#[test]
fn rows_type_undeclared_columns_as_data_does() {
    let dir = temp_dir("spec-test-typed-by-rows");
    std::fs::write(dir.join("d.csv"), "amount,is_big\n").unwrap();
    let spec = |amount: &str, big: &str| {
        format!(
            "datasets:\n  d: {{source: d.csv}}\nkpis:\n  won: {{dataset: d, measure: sum(amount)}}\n  big: {{dataset: d, measure: count(where is_big)}}\ntests:\n  wons:\n    kpi: won\n    data:\n      d:\n        - {{amount: 100, is_big: maybe}}\n        - {{amount: {amount}}}\n    expect:\n      - {{won: 100}}\n  bigs:\n    kpi: big\n    data:\n      d:\n        - {{is_big: true}}\n        - {{is_big: {big}}}\n    expect:\n      - {{big: 1}}\n"
        )
    };
    let test = |amount: &str, big: &str| {
        std::fs::write(dir.join("s.yaml"), spec(amount, big)).unwrap();
        kpi_in(&dir, &["--spec", "s.yaml", "test"])
    };
    let (code, out, err) = test("null", "false");
    assert_eq!(code, Some(0), "{out}{err}");
    let (code, out, _) = test("\"n/a\"", "false");
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("FAILED wons") && out.contains("kpi::type_mismatch: with the test's rows as the data: the argument of `sum` must be a number"),
        "{out}"
    );
    assert!(out.contains("ok     bigs"), "{out}");
    let (code, out, _) = test("null", "\"no\"");
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("FAILED bigs") && out.contains("kpi::where_not_bool: with the test's rows as the data"),
        "{out}"
    );
    assert!(out.contains("ok     wons"), "{out}");
}

/// `kpi test` of the spec `good` in `dir` passes; of `bad`, fails saying `said`.
fn passes_then_fails(dir: &std::path::Path, good: &str, bad: &str, said: &str) {
    std::fs::write(dir.join("s.yaml"), good).unwrap();
    let (code, out, err) = kpi_in(dir, &["--spec", "s.yaml", "test"]);
    assert_eq!(code, Some(0), "{out}{err}");
    std::fs::write(dir.join("s.yaml"), bad).unwrap();
    let (code, out, _) = kpi_in(dir, &["--spec", "s.yaml", "test"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains(said), "{out}");
}

/// A test of a spec written for files as they come: the dataset's files
/// are `;`-separated with decimal commas and US dates (its `read:`), yet
/// the test's rows are plain (the rows failed as "one column when split at
/// `;`"); nothing declares columns, and `by: manager` is a looked-up
/// `teams.manager` (it was taken for a column of `deals`, "unable to find
/// column"); and a win rate is expected as `50%` (it was "expects a
/// number"). A row's `10.5` reads as written under `decimal_comma`.
/// Hand-worked: m1's reps a and b won 10.5 + 5 of 3 closed deals
/// (win rate 2/3); rep c has no manager: a lost deal (0, win rate 0). Rows
/// that write dates as the files do (`01/31/2025`) are read so: January 10
/// and February 4.
#[test]
fn tests_read_their_rows_plainly_and_know_looked_up_columns() {
    let dir = dir_with(
        "spec-test-plain-rows",
        &[
            ("deals.csv", "rep;stage;amount;closed_at\na;won;1,5;01/02/2025\n"),
            ("teams.csv", "rep,manager\na,m0\n"),
        ],
    );
    let spec = |rate: &str| {
        format!(
            "datasets:
  deals:
    source: deals.csv
    time: closed_at
    read: {{delimiter: \";\", decimal_comma: true, date_format: \"%m/%d/%Y\", null_values: [\"-\"]}}
    lookups: [{{dataset: teams, on: rep}}]
  teams: {{source: teams.csv}}
kpis:
  won: {{dataset: deals, measure: sum(amount where stage == \"won\")}}
  win_rate: {{dataset: deals, measure: count(where stage == \"won\") / count(where stage in [\"won\", \"lost\"])}}
tests:
  by_manager:
    kpi: won
    by: manager
    grain: month
    data:
      deals:
        - {{rep: a, stage: won, amount: 10.5, closed_at: 2025-01-10}}
        - {{rep: b, stage: won, amount: 5, closed_at: 2025-01-11}}
        - {{rep: b, stage: lost, amount: 2.5, closed_at: 2025-01-12}}
        - {{rep: c, stage: lost, amount: \"-\", closed_at: 2025-01-12}}
      teams:
        - {{rep: a, manager: m1}}
        - {{rep: b, manager: m1}}
    expect:
      - {{manager: m1, period: 2025-01, won: 15.5, win_rate: {rate}}}
      - {{manager: null, period: 2025-01, won: 0, win_rate: 0%}}
  dates_as_the_files_write_them:
    kpi: won
    grain: month
    data:
      deals:
        - {{rep: a, stage: won, amount: 10, closed_at: 01/31/2025}}
        - {{rep: a, stage: won, amount: 4, closed_at: 02/01/2025}}
    expect:
      - {{period: 2025-01, won: 10}}
      - {{period: 2025-02, won: 4}}
"
        )
    };
    passes_then_fails(
        &dir,
        &spec("66.666666666666667%"),
        &spec("50%"),
        "win_rate expected 0.5, got 0.666",
    );
}

/// A target test of a `by:` target may name the member it is about
/// (`member:`); without it, every member must have the status. Hand-worked:
/// won revenue per rep ≥ 100 in January 2025, as of 31 January: ann won
/// 150 (achieved), bob 40 (missed).
#[test]
fn a_target_test_may_name_its_member() {
    let dir = dir_with(
        "spec-test-member",
        &[("deals.csv", "owner,stage,amount,closed_at\n")],
    );
    let spec = |tests: &str| {
        format!(
            "datasets:\n  deals: {{source: deals.csv, time: closed_at}}\nkpis:\n  won: {{dataset: deals, measure: sum(amount where stage == \"won\")}}\ntargets:\n  each:\n    kpi: won\n    by: owner\n    period: 2025-01\n    value: 100\n    objective: x\ntests:\n{tests}"
        )
    };
    let test = |name: &str, member: &str, status: &str| {
        format!(
            "  {name}:\n    target: each\n    as_of: 2025-01-31\n{member}    status: {status}\n    data:\n      deals:\n        - {{owner: ann, stage: won, amount: 150, closed_at: 2025-01-10}}\n        - {{owner: bob, stage: won, amount: 40, closed_at: 2025-01-11}}\n"
        )
    };
    let tests = [
        test("ann_achieved", "    member: ann\n", "achieved"),
        test("bob_missed", "    member: bob\n", "missed"),
        test("all_achieved", "", "achieved"),
        test("carl", "    member: carl\n", "missed"),
    ]
    .concat();
    std::fs::write(dir.join("s.yaml"), spec(&tests)).unwrap();
    let (code, out, err) = kpi_in(&dir, &["--spec", "s.yaml", "test"]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        out.contains("ok     ann_achieved") && out.contains("ok     bob_missed"),
        "{out}"
    );
    assert!(
        out.contains("each in 2025-01 for bob: status expected achieved, got missed"),
        "{out}"
    );
    assert!(
        out.contains("each in 2025-01 has no member `carl` (members: ann, bob)"),
        "{out}"
    );
    assert!(out.contains("2 passed, 2 failed"), "{out}");
}

/// A funnel is tested as a KPI is: `funnel:` names it, each expected row
/// names its `step` (with `by` values and `period`), and its measures are
/// compared. Hand-worked, January: four leads engaged, three of them
/// closed (won or lost), two won: conversions 75% and 2/3, 50% from the
/// start; rep b's one lead closed lost. A wrong count fails, naming the
/// step; `kpi:` naming the funnel is told to write `funnel:`; a step's
/// condition on a text column given numbers fails as eval would.
#[test]
fn a_funnel_is_tested_step_by_step() {
    let dir = dir_with("spec-test-funnel", &[("leads.csv", "rep,stage,engaged_at\n")]);
    let spec = |expect: &str, rows: &str| {
        format!(
            "datasets:\n  leads: {{source: leads.csv, time: engaged_at}}\nkpis:\n  leads_in: {{dataset: leads, measure: count()}}\nfunnels:\n  pipe:\n    dataset: leads\n    steps:\n      - {{name: engaged}}\n      - {{name: closed, where: 'stage in [\"won\", \"lost\"]'}}\n      - {{name: won, where: stage == \"won\"}}\ntests:\n  t:\n    funnel: pipe\n    grain: month\n    by: rep\n    data:\n      leads:\n{rows}    expect:\n{expect}"
        )
    };
    let rows = "        - {rep: a, stage: won, engaged_at: 2025-01-03}\n        - {rep: a, stage: lost, engaged_at: 2025-01-09}\n        - {rep: a, stage: open, engaged_at: 2025-01-20}\n        - {rep: a, stage: won, engaged_at: 2025-01-21}\n        - {rep: b, stage: lost, engaged_at: 2025-01-22}\n        - {rep: a, stage: won, engaged_at: 2025-02-02}\n";
    let good = "      - {rep: a, period: 2025-01, step: engaged, count: 4, conversion: null, conversion_from_start: 1}\n      - {rep: a, period: 2025-01, step: closed, count: 3, conversion: 75%, leakage: 0.25}\n      - {rep: a, period: 2025-01, step: won, count: 2, conversion: 0.6666666666666666, conversion_from_start: 50%}\n      - {rep: b, period: 2025-01, step: won, count: 0, conversion: 0, leakage: 1}\n      - {rep: a, period: 2025-02, step: won, count: 1}\n";
    let bad = good.replace("step: closed, count: 3", "step: closed, count: 4");
    passes_then_fails(
        &dir,
        &spec(good, rows),
        &spec(&bad, rows),
        "rep=a, period=2025-01, step=closed: count expected 4, got 3",
    );
    let (code, out, _) = kpi_in(&dir, &["--spec", "s.yaml", "test", "--format", "json"]);
    assert_eq!(code, Some(1));
    assert!(out.contains("\"funnel\": \"pipe\""), "{out}");
    let as_kpi = spec(good, rows).replace("funnel: pipe", "kpi: pipe");
    std::fs::write(dir.join("s.yaml"), as_kpi).unwrap();
    let (code, out, _) = kpi_in(&dir, &["--spec", "s.yaml", "check"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("no KPI is named `pipe`")
            && out.contains("`pipe` is a funnel: a test names it `funnel: pipe`"),
        "{out}"
    );
    let numbers = rows
        .replace("stage: won", "stage: 1")
        .replace("stage: lost", "stage: 2")
        .replace("stage: open", "stage: 3");
    std::fs::write(dir.join("s.yaml"), spec(good, &numbers)).unwrap();
    let (code, out, _) = kpi_in(&dir, &["--spec", "s.yaml", "test"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains(
            "kpi::type_mismatch: with the test's rows as the data: `==` cannot combine number and string"
        ),
        "{out}"
    );
}
