//! Hostile and broken input: each gives a diagnostic and an exit code, never
//! a crash or a hang.

use std::process::Command;

use crate::support::*;

fn spec_with_measure(measure: &str) -> String {
    format!("datasets:\n  d: {{source: d.csv}}\nkpis:\n  k:\n    dataset: d\n    measure: '{measure}'\n")
}

fn codes(outcome: &kpi::CheckOutcome) -> Vec<&'static str> {
    outcome.diagnostics.iter().map(|d| d.code).collect()
}

#[test]
fn ten_thousand_parentheses() {
    let e = format!("{}x{}", "(".repeat(10_000), ")".repeat(10_000));
    let outcome = check_str("deep.yaml", &spec_with_measure(&e));
    assert_eq!(codes(&outcome), ["kpi::expression_too_deep"]);
    // Reported at the first bracket beyond the limit.
    assert_eq!(positions(&outcome), ["kpi::expression_too_deep@6:271"]);
}

#[test]
fn ten_thousand_prefix_operators() {
    for op in ["-", "not "] {
        let e = format!("count(where {}x)", op.repeat(10_000));
        let outcome = check_str("deep.yaml", &spec_with_measure(&e));
        assert_eq!(codes(&outcome), ["kpi::expression_too_deep"], "{op}");
    }
}

#[test]
fn deeply_nested_conditionals_are_limited() {
    let mut e = String::from("1");
    for _ in 0..400 {
        e = format!("if x then {e} else 0");
    }
    let outcome = check_str("deep.yaml", &spec_with_measure(&format!("sum({e})")));
    assert_eq!(codes(&outcome), ["kpi::expression_too_deep"]);
}

#[test]
fn a_megabyte_expression() {
    let e = vec!["sum(x)"; 150_000].join(" + ");
    let outcome = check_str("big.yaml", &spec_with_measure(&e));
    assert_eq!(codes(&outcome), ["kpi::expression_too_long"]);
    // The message gives the expression's length and the limit.
    let message = &outcome.diagnostics[0].message;
    assert!(
        message.contains(&e.len().to_string()) && message.contains(&kpi::syntax::MAX_LEN.to_string()),
        "{message}"
    );
}

#[test]
fn operator_chains_count_as_nesting() {
    // `a + b + c` is `(a + b) + c`: 200 terms nest 200 deep, 5,000 too deep.
    let ok = vec!["sum(x)"; 200].join(" + ");
    let outcome = check_str("long.yaml", &spec_with_measure(&ok));
    assert!(outcome.diagnostics.is_empty(), "{:?}", codes(&outcome));
    let long = vec!["sum(x)"; 5_000].join(" + ");
    let outcome = check_str("long.yaml", &spec_with_measure(&long));
    assert_eq!(codes(&outcome), ["kpi::expression_too_deep"]);
    // Said as a chain, with what to write instead: a sum of KPIs, a list.
    let said = |outcome: &kpi::CheckOutcome| {
        let d = &outcome.diagnostics[0];
        format!("{} | {}", d.message, d.help.as_deref().unwrap_or(""))
    };
    let sum = said(&outcome);
    assert!(
        sum.contains("chain of operations such as `+`") && sum.contains("derived KPI"),
        "{sum}"
    );
    let conditions: Vec<String> = (0..300).map(|i| format!("x == {i}")).collect();
    let e = format!("count(where {})", conditions.join(" or "));
    let outcome = check_str("long.yaml", &spec_with_measure(&e));
    assert_eq!(codes(&outcome), ["kpi::expression_too_deep"]);
    let or = said(&outcome);
    assert!(
        or.contains("such as `or`") && or.contains("in [\"won\", \"lost\"]"),
        "{or}"
    );
    // Nesting that is no chain is said as nesting.
    let e = format!("sum({}x{})", "(".repeat(300), ")".repeat(300));
    let nested = said(&check_str("deep.yaml", &spec_with_measure(&e)));
    assert!(
        nested.contains("nested more than 256 levels deep") && !nested.contains("chain"),
        "{nested}"
    );
}

#[test]
fn a_yaml_alias_bomb() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    let outcome = check_str("bomb.yaml", &text);
    assert_eq!(codes(&outcome), ["kpi::yaml_too_large"]);
}

#[test]
fn deeply_nested_yaml() {
    let text = format!("kpis: {}{}\n", "[".repeat(5_000), "]".repeat(5_000));
    let outcome = check_str("nest.yaml", &text);
    assert_eq!(outcome.errors(), 1, "{:?}", codes(&outcome));
    assert!(matches!(
        codes(&outcome)[0],
        "kpi::yaml_too_deep" | "kpi::yaml_syntax"
    ));
}

#[test]
fn an_empty_spec() {
    let outcome = check_str("empty.yaml", "");
    assert_eq!(codes(&outcome), ["kpi::empty_file"]);
    let dir = temp_dir("empty-spec");
    std::fs::write(dir.join("empty.yaml"), "# nothing yet\n").unwrap();
    let out = Command::new(kpi_bin())
        .args(["--spec", dir.to_str().unwrap(), "check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("kpi::empty_file") && stdout.contains("kpi::empty_spec"),
        "{stdout}"
    );
}

#[test]
fn a_binary_file() {
    let dir = temp_dir("binary");
    std::fs::write(
        dir.join("blob.yaml"),
        [0x89u8, b'P', b'N', b'G', 0, 0, 1, 2, 0xff],
    )
    .unwrap();
    let out = Command::new(kpi_bin())
        .args(["--spec", dir.to_str().unwrap(), "check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("kpi::binary_file"));
}

#[test]
fn a_file_that_is_not_utf8() {
    let dir = temp_dir("latin1");
    let mut bytes = b"kpis:\n  k:\n    title: Caf".to_vec();
    bytes.push(0xe9);
    bytes.extend_from_slice(b"\n    measure: count()\n");
    std::fs::write(dir.join("latin1.yaml"), bytes).unwrap();
    let outcome = kpi::check_path(&dir, false);
    assert_eq!(positions(&outcome)[0], "kpi::not_utf8@3:15");
    assert_eq!(outcome.exit_code(false), 2);
}

#[test]
fn wrong_yaml_shapes_are_reported_at_the_node() {
    let text = "kpis:\n  - a\n  - b\nsegments: 3\ndatasets:\n  d: [1, 2]\n";
    let outcome = check_str("shape.yaml", text);
    assert_eq!(
        positions(&outcome),
        [
            "kpi::wrong_type@2:3",
            "kpi::wrong_type@4:11",
            "kpi::wrong_type@6:6"
        ]
    );
}

/// Every input the fuzzers found, checked as a measure (`expr-*.txt`) or a
/// spec (`spec-*.yaml`): no panic, every diagnostic renders.
#[test]
fn fuzzing_regressions_stay_fixed() {
    let dir = root().join("tests/cases/fuzz");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let outcome = if name.starts_with("expr-") {
            // A double-quoted YAML scalar takes JSON's escapes.
            let quoted = serde_json::to_string(&*text).unwrap();
            check_str(
                "fuzz.yaml",
                &format!(
                    "datasets:\n  d: {{source: d.csv}}\nkpis:\n  k:\n    dataset: d\n    measure: {quoted}\n"
                ),
            )
        } else if name.starts_with("spec-") {
            check_str("fuzz.yaml", &text)
        } else {
            continue;
        };
        let _ = kpi::report::diagnostics::to_human(&outcome.diagnostics, &outcome.sources, false);
        if name == "expr-exponential-backtracking.txt" {
            assert_eq!(codes(&outcome), ["kpi::expression_too_complex"]);
        }
        seen += 1;
    }
    assert!(seen >= 1);
}

#[test]
fn large_valid_expressions_are_not_too_complex() {
    // 250 filtered aggregates with `between` bounds, under the depth limit.
    let terms = vec!["sum(x where x between 1 and 2 + 3)"; 250].join(" + ");
    assert!(codes(&check_str("a.yaml", &spec_with_measure(&terms))).is_empty());
    // 120 nested `if`s, each complete.
    let mut e = String::from("1");
    for _ in 0..120 {
        e = format!("if x between 1 and 2 then {e} else 0");
    }
    assert!(codes(&check_str("b.yaml", &spec_with_measure(&format!("sum({e})")))).is_empty());
    // A list of 5,000 texts (about 60 KB).
    let list: Vec<String> = (0..5_000).map(|i| format!("\"v{i:05}\"")).collect();
    let e = format!("count(where s in [{}])", list.join(", "));
    assert!(e.len() > 50_000);
    assert!(codes(&check_str("c.yaml", &spec_with_measure(&e))).is_empty());
}

/// A list of 5,000 texts evaluates as SQL's `in` does, nulls included: of
/// `v00042`, `x`, `v04999`, a row of no `s` and `v05000`, two are in the
/// list and two are not (the row of no `s` is neither, so `count(where
/// not …)` leaves it out too). Its `or`s were a chain 5,000 deep, which
/// took Polars about 50 s and gigabytes to plan; paired into a tree, a
/// fraction of a second.
#[test]
fn a_list_of_thousands_evaluates_as_sql_in() {
    let list: Vec<String> = (0..5_000).map(|i| format!("\"v{i:05}\"")).collect();
    let list = list.join(", ");
    let spec = format!(
        "datasets:\n  d: {{source: d.csv, time: t}}\nkpis:\n  listed: {{dataset: d, measure: 'count(where s in [{list}])'}}\n  unlisted: {{dataset: d, measure: 'count(where s not in [{list}])'}}\n"
    );
    let data = "s,t\nv00042,2025-01-01\nx,2025-01-02\nv04999,2025-02-01\n,2025-02-02\nv05000,2025-02-03\n";
    let dir = dir_with("long-list", &[("d.csv", data), ("s.yaml", &spec)]);
    let (code, out, err) = kpi_in(
        &dir,
        &[
            "--spec", "s.yaml", "eval", "--grain", "month", "--format", "csv", "-q",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "period,listed,unlisted\n2025-01,1,1\n2025-02,1,1\n");
}

/// Numbers worked out from literals alone (`-3`, `1 + 2`, `abs(-3)`) under
/// a segment: Polars computed each once as a column of one row, then could
/// not stack it beside the segment's rows, and kpi stopped on an internal
/// error (where two of the rows it keeps had no time). By hand over the
/// a's, 30.125 aside (30, -60, and 40 and 50 without a time, which count
/// under no grain): (30 - 60 + 40 + 50) / -3 = -20; `%` keeps the
/// dividend's sign: 0 - 0 + 1 + 2 = 3 by -3, 2 - 0 + 0 + 2 = 4 by 4;
/// rounding to 1 + 1 digits: 30.125 → 30.13.
#[test]
fn constant_operands_under_a_segment() {
    let kpis = [
        ("neg", "sum(amount / -3 where amount != 30.125)"),
        ("rem", "sum(amount % -3 where amount != 30.125)"),
        ("fns", "sum(amount % abs(-4) where amount != 30.125)"),
        ("digits", "sum(round(amount, 1 + 1) where amount == 30.125)"),
        ("zero", "sum(amount / (1 - 1))"),
    ];
    let mut spec = String::from(
        "segments:\n  a_only: {where: owner == \"a\"}\ndatasets:\n  d: {source: d.csv, time: closed_at}\nkpis:\n",
    );
    for (name, measure) in kpis {
        spec.push_str(&format!("  {name}: {{dataset: d, measure: '{measure}'}}\n"));
    }
    let data = "owner,amount,closed_at\na,30,2025-01-05\nb,5,2025-01-06\na,-60,2025-02-01\na,30.125,2025-02-02\na,40,\na,50,\n";
    let dir = dir_with("constant-operands", &[("d.csv", data), ("s.yaml", &spec)]);
    for by in [&[][..], &["--by", "owner"], &["--grain", "month"]] {
        let mut args = vec![
            "--spec",
            "s.yaml",
            "eval",
            "--segment",
            "a_only",
            "--format",
            "csv",
        ];
        args.extend_from_slice(by);
        let (code, out, err) = kpi_in(&dir, &args);
        assert_eq!(code, Some(0), "{by:?}: {err}");
        if by.is_empty() {
            assert_eq!(out, "neg,rem,fns,digits,zero\n-20,3,4,30.13,0\n", "{err}");
        }
    }
}

/// Texts, conditions and dates worked out from literals alone
/// (`contains("ab", "a")`, `date_trunc(@2025-02-14, "month")`) under a
/// range and a segment: as numbers did, Polars computed each once as a
/// column of one row beside the rows the range keeps, and kpi stopped on
/// an internal error. By hand over a's rows with a time in the range: 30,
/// -60 and 30.125 (0.125 in all; 30 in January, -29.875 in February),
/// touched 12, 24 and 6 hours into 2025 (14 on average; 12, then 15); 30.5
/// days from January 1 to noon on the 31st, for the two positive amounts;
/// closed 5, 32 and 33 days after December 31 (3 distinct; 1, then 2);
/// touched 1.5, 2 and 1.25 days after it (3 rows over 4.75 days; 1 over
/// 1.5, then 2 over 3.25). The last two make the same date literal
/// microseconds beside a column, the part Polars computed once for both.
#[test]
fn constants_of_texts_conditions_and_dates_under_a_range() {
    let kpis = [
        ("flag", "sum(if contains(\"ab\", \"a\") then amount else 0)"),
        (
            "hours",
            "avg(if contains(\"ab\", \"a\") then hours_between(@2025-01-01T00:00:00, touched_at) else -3)",
        ),
        (
            "month",
            "sum(amount where date_trunc(@2025-02-14, \"month\") == @2025-02-01)",
        ),
        ("lowered", "count(where lower(\"A\") == \"a\")"),
        (
            "days",
            "sum(days_between(@2025-01-01, @2025-01-31T12:00:00) where amount > 0)",
        ),
        (
            "distinct_days",
            "count_distinct(days_between(@2024-12-31, closed_at))",
        ),
        (
            "touch_rate",
            "count() / sum(days_between(@2024-12-31, touched_at))",
        ),
    ];
    let mut spec = String::from(
        "segments:\n  a_only: {where: owner == \"a\"}\ndatasets:\n  d: {source: d.csv, time: closed_at}\nkpis:\n",
    );
    for (name, measure) in kpis {
        spec.push_str(&format!("  {name}: {{dataset: d, measure: '{measure}'}}\n"));
    }
    let data = "owner,amount,closed_at,touched_at\na,30,2025-01-05,2025-01-01T12:00:00\nb,5,2025-01-06,\na,-60,2025-02-01,2025-01-02T00:00:00\na,30.125,2025-02-02,2025-01-01T06:00:00\na,40,,\na,50,,\n";
    let dir = dir_with("constant-texts", &[("d.csv", data), ("s.yaml", &spec)]);
    let eval = |grain: &str| {
        let args = [
            "--spec",
            "s.yaml",
            "eval",
            "--segment",
            "a_only",
            "--from",
            "2025-01-01",
            "--to",
            "2025-02-28",
            "--grain",
            grain,
            "--format",
            "csv",
            "-q",
        ];
        let (code, out, err) = kpi_in(&dir, &args);
        assert_eq!(code, Some(0), "{grain}: {err}");
        out
    };
    assert_eq!(
        eval("all"),
        "flag,hours,month,lowered,days,distinct_days,touch_rate\n0.125,14,0.125,3,61,3,0.631578947368421\n"
    );
    assert_eq!(
        eval("month"),
        "period,flag,hours,month,lowered,days,distinct_days,touch_rate\n2025-01,30,12,30,1,30.5,1,0.666666666666667\n2025-02,-29.875,15,-29.875,2,30.5,2,0.615384615384615\n"
    );
}

/// A value a declared type cannot hold, in one of the datasets a report
/// reads the dates of: the diagnostic names it, and nothing says kpi
/// stopped on an internal error. (Polars' streaming engine, reading the
/// datasets' dates together, panicked now and then on one of its own
/// threads when another task had failed first: the panic was said as an
/// internal error, and the dates' failure as Polars' words alone.)
#[test]
fn a_bad_value_while_dates_are_read_is_named_and_nothing_else() {
    let dir = temp_dir("bad-value-dates");
    copy_dir(&root().join("kpis"), &dir.join("kpis"));
    copy_dir(&root().join("examples/data"), &dir.join("examples/data"));
    let quotas = dir.join("examples/data/quotas.csv");
    let text = std::fs::read_to_string(&quotas).unwrap();
    let text = text
        .replacen("rep_007,2024-12-01,", "rep_007,2024--012-01,", 1)
        .replacen("rep_003,2024-04-01,80500", "rep_003,2024-04-01,", 1);
    std::fs::write(&quotas, text).unwrap();
    // The race showed in about one run in ten.
    for command in [["report", "-o", "r.html"]; 12] {
        let (code, _, err) = kpi_in(&dir, &[&["--spec", "kpis"][..], &command].concat());
        assert_eq!(code, Some(1), "{command:?}: {err}");
        assert!(
            err.contains("kpi::declared_type_contradicted") && err.contains("holds `2024--012-01`"),
            "{command:?}: {err}"
        );
        assert!(!err.contains("internal_error"), "{command:?}: {err}");
    }
}

/// Row functions whose arithmetic uses an argument more than once (a
/// division tests its divisor, `round` its size and sign, `%` divides and
/// multiplies back, `pow`, `sqrt`, `ln`, `log10` test their domain) read it
/// once: written as expressions, each level copied the level below, so
/// `round` five deep took seconds and gigabytes to plan for one row,
/// eight deep ran out of memory, and so did a chain of sixteen divisions.
/// The plan names each column once, and the numbers are as worked out by
/// hand.
#[test]
fn nested_arithmetic_reads_its_argument_once() {
    let nest =
        |template: &str, depth: usize| (0..depth).fold("x".to_string(), |m, _| template.replace('X', &m));
    let kpis = [
        // 2.45 rounds to 2.5 (half away from zero, as written), then stays.
        ("rounded", nest("round(X, 1)", 4), 2.5),
        ("remainder", nest("(X % 7)", 4), 2.45),
        ("power", nest("pow(X, 1)", 4), 2.45),
        ("root", nest("sqrt(pow(X, 2))", 4), 2.45),
        ("logs", nest("ln(exp(log10(pow(10, X))))", 3), 2.45),
        // 2.45 · 2^10 halved ten times.
        ("halved", format!("x * 1024{}", " / 2".repeat(10)), 2.45),
    ];
    let mut spec = String::from("datasets:\n  d: {source: d.csv}\nkpis:\n");
    for (name, measure, _) in &kpis {
        spec.push_str(&format!(
            "  {name}: {{dataset: d, measure: \"sum({measure})\"}}\n"
        ));
    }
    let dir = dir_with("nested-arithmetic", &[("d.csv", "x\n2.45\n"), ("s.yaml", &spec)]);
    let spec = dir.join("s.yaml");
    let spec = spec.to_str().unwrap();
    let out = kpi(&["--spec", spec, "eval", "--format", "json"]);
    assert!(out.status.success(), "{}", printed(&out));
    let row = &json_rows(&out)[0];
    for (name, measure, want) in &kpis {
        let got = row[name].as_f64();
        assert!(
            close(got, Some(*want)),
            "{name} = {measure}: {got:?}, want {want}"
        );
        let explained = kpi(&["--spec", spec, "explain", name]);
        let plan = String::from_utf8_lossy(&explained.stdout);
        // The query's SELECT: each row's input to the sum.
        let select = plan
            .lines()
            .find(|l| l.trim_start().starts_with("SELECT"))
            .unwrap_or_default();
        let reads = select.matches("col(\"x\")").count();
        assert_eq!(reads, 1, "{name}: the plan reads x {reads} times\n{plan}");
    }
}

/// Placeholder dates stretch the data's range: by day, 1900-01-01 to
/// 9999-12-31 is 2.9 million periods. The spine was cut at a million in
/// silence, so the last date's value (5) was missing from a result that
/// looked whole; past a million periods the run is now refused, naming the
/// range and where it comes from. By year every value is there. A range
/// asked of millions of days is refused before anything is read (with
/// `--compare` it took 12 s to work out its history, then failed).
#[test]
fn placeholder_dates_never_cut_the_spine_short() {
    let csv = "amount,closed_at\n5,1900-01-01\n7,2025-03-05\n5,9999-12-31\n";
    let spec =
        "datasets:\n  d: {source: d.csv, time: closed_at}\nkpis:\n  k: {dataset: d, measure: sum(amount)}\n";
    let dir = dir_with("placeholder-dates", &[("d.csv", csv), ("s.yaml", spec)]);
    let spec = dir.join("s.yaml");
    let spec = spec.to_str().unwrap();
    let eval = |args: &[&str]| {
        let mut a = vec!["--spec", spec, "eval", "--format", "csv"];
        a.extend_from_slice(args);
        kpi(&a)
    };
    let out = eval(&["--grain", "day"]);
    assert_eq!(out.status.code(), Some(1), "{}", printed(&out));
    let said = printed_flat(&out);
    assert!(
        said.contains("kpi::result_too_large")
            && said.contains("more than 1,000,000 periods by day, from 1900-01-01 to 9999-12-31 (the first and last dates of the data)"),
        "{said}"
    );
    let out = eval(&["--grain", "year"]);
    let years = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(years.lines().count(), 1 + 9999 - 1900 + 1, "{}", printed(&out));
    assert_eq!(years.lines().nth(1), Some("1900,5"));
    assert!(years.contains("\n2025,7\n") && years.ends_with("\n9999,5\n"));
    let out = eval(&[
        "--grain",
        "day",
        "--from",
        "0001-01-01",
        "--to",
        "9999-12-31",
        "--compare",
        "previous",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", printed(&out));
    let said = printed_flat(&out);
    assert!(
        said.contains("from 0001-01-01 to 9999-12-31 (the range asked)"),
        "{said}"
    );
}

/// Every period for every group multiplies fast: 25,000 deals by day over
/// 126 years is over a billion rows, which ran until memory was exhausted
/// and the process killed without a word. Past a billion values the run
/// stops at once with `kpi::result_too_large`, naming both counts; the
/// same query by year runs.
#[test]
fn a_result_too_large_for_memory_is_refused_before_it_is_laid() {
    let mut csv = String::from("deal_id,amount,closed_at\n");
    for i in 0..25_000 {
        csv.push_str(&format!("D{i},{},2025-0{}-1{}\n", i % 7, 1 + i % 9, i % 10));
    }
    let spec =
        "datasets:\n  d: {source: d.csv, time: closed_at}\nkpis:\n  k: {dataset: d, measure: sum(amount)}\n";
    let dir = dir_with("result-too-large", &[("d.csv", &csv), ("s.yaml", spec)]);
    let spec = dir.join("s.yaml");
    let spec = spec.to_str().unwrap();
    let range = ["--from", "1900-01-01", "--to", "2025-12-31", "--by", "deal_id"];
    let args = |grain: &'static str| {
        let mut a = vec!["--spec", spec, "eval", "--format", "csv", "--grain", grain];
        a.extend_from_slice(&range);
        a
    };
    let out = kpi(&args("day"));
    assert_eq!(out.status.code(), Some(1), "{}", printed(&out));
    let said = printed(&out);
    assert!(
        said.contains("kpi::result_too_large") && said.contains("25,000 groups × 46,021 periods"),
        "{said}"
    );
    let out = kpi(&args("year"));
    assert!(out.status.success(), "{}", printed(&out));
    // A header, then 126 years for each deal.
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        1 + 25_000 * 126
    );
}

/// A chain of derived KPIs, each over the one before, is evaluated up to
/// 256 deep (k256 is the sum plus 256, by hand); deeper, the lowest KPI
/// too deep is an error (a generated chain of 20,000 overflowed the
/// stack), and those above it fail with it, unsaid.
#[test]
fn a_chain_of_derived_kpis_deeper_than_evaluation_takes() {
    let chain = |n: usize| {
        let mut s =
            String::from("datasets:\n  d: {source: d.csv}\nkpis:\n  k0: {dataset: d, measure: sum(x)}\n");
        for i in 1..=n {
            s.push_str(&format!("  k{i}: {{measure: k{} + 1}}\n", i - 1));
        }
        s
    };
    let dir = temp_dir("derived-chain");
    std::fs::write(dir.join("d.csv"), "x\n3\n4\n").unwrap();
    std::fs::write(dir.join("s.yaml"), chain(256)).unwrap();
    let (code, out, err) = kpi_in(&dir, &["--spec", "s.yaml", "eval", "k256", "--format", "csv"]);
    assert_eq!((code, out.as_str()), (Some(0), "k256\n263\n"), "{err}");
    std::fs::write(dir.join("s.yaml"), chain(20_000)).unwrap();
    let message = refused_once(&dir, "kpi::kpis_too_deep", 261);
    assert!(message.contains("`k257` is 257 derived KPIs deep"), "{message}");
    let (code, _, err) = kpi_in(&dir, &["--spec", "s.yaml", "eval", "k19999"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("kpi::kpis_too_deep"), "{err}");
}

/// Thousands of KPIs, base and derived, evaluate to the values each has
/// alone (the plan adds them in a few steps, not one per KPI).
#[test]
fn thousands_of_kpis_have_the_values_each_has_alone() {
    let mut s = String::from("datasets:\n  d: {source: d.csv, time: t}\nkpis:\n");
    for i in 0..3000 {
        match i % 3 {
            0 => s.push_str(&format!(
                "  k{i}: {{dataset: d, measure: sum(x where x > {})}}\n",
                i % 7
            )),
            1 => s.push_str(&format!("  k{i}: {{measure: k{} * 2}}\n", i - 1)),
            _ => s.push_str(&format!("  k{i}: {{measure: k{} - k{}}}\n", i - 1, i - 2)),
        }
    }
    let dir = temp_dir("thousands");
    std::fs::write(
        dir.join("d.csv"),
        "x,t\n3,2025-01-01\n5,2025-01-20\n8,2025-02-03\n",
    )
    .unwrap();
    std::fs::write(dir.join("s.yaml"), s).unwrap();
    let (code, out, err) = kpi_in(
        &dir,
        &["--spec", "s.yaml", "eval", "--grain", "month", "--format", "json"],
    );
    assert_eq!(code, Some(0), "{err}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    // By hand: January holds 3 and 5, February 8.
    let month = [[3.0, 5.0], [8.0, f64::NAN]];
    for (row, xs) in rows.iter().zip(month) {
        for i in (0..3000).step_by(3) {
            let base: f64 = xs.iter().filter(|x| **x > (i % 7) as f64).sum();
            assert_eq!(row[format!("k{i}")].as_f64(), Some(base), "k{i} {row}");
            assert_eq!(row[format!("k{}", i + 1)].as_f64(), Some(base * 2.0));
            assert_eq!(row[format!("k{}", i + 2)].as_f64(), Some(base));
        }
    }
    assert_eq!(rows.len(), 2);
}

/// A chain of dimensions, each over the one before, is written out in the
/// formulas that use it: up to 256 levels deep it evaluates (by hand: the
/// two rows' 3 and 4, each plus 255), on the report's threads too; deeper,
/// the first dimension too deep is an error (a chain of 5,000 overflowed
/// the stack).
#[test]
fn a_chain_of_dimensions_deeper_than_expressions_may_be() {
    let chain = |n: usize| {
        let mut s =
            String::from("datasets:\n  d:\n    source: d.csv\n    time: t\n    dimensions:\n      x0: x\n");
        for i in 1..n {
            s.push_str(&format!("      x{i}: x{} + 1\n", i - 1));
        }
        s + &format!(
            "kpis:\n  k: {{dataset: d, measure: 'sum({}x{})'}}\n",
            "-".repeat(200),
            n - 1
        )
    };
    let dir = temp_dir("dimension-chain");
    std::fs::write(dir.join("d.csv"), "x,t\n3,2025-01-02\n4,2025-01-03\n").unwrap();
    std::fs::write(dir.join("s.yaml"), chain(256)).unwrap();
    let (code, out, err) = kpi_in(&dir, &["--spec", "s.yaml", "eval", "--format", "csv"]);
    assert_eq!((code, out.as_str()), (Some(0), "k\n517\n"), "{err}");
    let (code, _, err) = kpi_in(&dir, &["--spec", "s.yaml", "report", "-o", "r.html"]);
    assert_eq!(code, Some(0), "{err}");
    std::fs::write(dir.join("s.yaml"), chain(5_000)).unwrap();
    let message = refused_once(&dir, "kpi::dimension_too_large", 262);
    assert!(message.contains("`x256` nests 257 levels deep"), "{message}");
}

/// A funnel of 64 steps evaluates (by hand: 10 and 70 pass `x > 9`, only
/// 70 passes `x > 10` and on); one of 65 is an error at its 65th step,
/// where 600 steps took 22 GB.
#[test]
fn a_funnel_of_more_steps_than_evaluation_takes() {
    let funnel = |n: usize| {
        let mut s = String::from(
            "datasets:\n  d: {source: d.csv}\nkpis:\n  k: {dataset: d, measure: count()}\nfunnels:\n  f:\n    dataset: d\n    steps:\n      - {name: s0}\n",
        );
        for i in 1..n {
            s.push_str(&format!("      - {{name: s{i}, where: x > {i}}}\n"));
        }
        s
    };
    let dir = temp_dir("long-funnel");
    std::fs::write(dir.join("d.csv"), "x\n10\n70\n").unwrap();
    std::fs::write(dir.join("s.yaml"), funnel(64)).unwrap();
    let (code, out, err) = kpi_in(&dir, &["--spec", "s.yaml", "eval", "f", "--format", "csv"]);
    assert_eq!(code, Some(0), "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 65, "{out}");
    assert_eq!(lines[10], "f,s9,2,1,1,0");
    assert_eq!(lines[11], "f,s10,1,0.5,0.5,0.5");
    assert_eq!(lines[64], "f,s63,1,1,0.5,0");
    std::fs::write(dir.join("s.yaml"), funnel(600)).unwrap();
    refused_once(&dir, "kpi::funnel_too_long", 73);
}

/// Asserts that `kpi check` refuses the spec `s.yaml` of `dir` with one
/// diagnostic, `code` at `line`, and gives its message.
fn refused_once(dir: &std::path::Path, code: &str, line: u64) -> String {
    let (exit, out, err) = kpi_in(dir, &["--spec", "s.yaml", "check", "--format", "json"]);
    assert_eq!(exit, Some(1), "{err}");
    let found: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    let said: Vec<(&str, u64)> = found
        .iter()
        .map(|d| (d["code"].as_str().unwrap_or(""), d["line"].as_u64().unwrap_or(0)))
        .collect();
    assert_eq!(said, [(code, line)], "{found:?}");
    found[0]["message"].as_str().unwrap_or("").to_string()
}

/// A window of the longest length allowed (10,000 periods) over a few
/// days of data: each row's window is one pass, where a window written as
/// 10,000 shifted copies of each part would take minutes and tens of
/// gigabytes to plan. The values by hand: 2 on the first day, 2 + 3 on
/// the second, 2 + 3 + 0 on the empty third, 2 + 3 + 5 on the fourth;
/// the largest sale so far, 5 at the last.
#[test]
fn a_window_of_ten_thousand_periods() {
    let dir = dir_with(
        "longest-window",
        &[
            ("d.csv", "at,v\n2025-01-01,2\n2025-01-02,3\n2025-01-04,5\n"),
            (
                "spec.yaml",
                "datasets:\n  d: {source: d.csv, time: at, columns: {at: date, v: number}}\nkpis:\n  total: {dataset: d, measure: sum(v)}\n  largest: {dataset: d, measure: max(v)}\n  total_10000: {measure: \"rolling(total, 10000)\"}\n  largest_10000: {measure: \"rolling(largest, 10000)\"}\n",
            ),
        ],
    );
    let spec = dir.to_string_lossy().to_string();
    let out = kpi(&[
        "eval",
        "--spec",
        &spec,
        "total_10000",
        "largest_10000",
        "--grain",
        "day",
        "--from",
        "2025-01-01",
        "--to",
        "2025-01-04",
        "--format",
        "csv",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "period,total_10000,largest_10000\n2025-01-01,2,2\n2025-01-02,5,3\n2025-01-03,5,3\n2025-01-04,10,5\n"
    );
}
