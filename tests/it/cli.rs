//! The command line: exit codes and output formats (LANGUAGE.md §8).

use std::process::Command;

use crate::support::*;

fn bad_spec() -> std::path::PathBuf {
    let dir = temp_dir("cli-bad");
    let path = dir.join("bad.yaml");
    std::fs::write(
        &path,
        "datasets:\n  d: {source: d.csv, columns: {amount: number, stage: string}}\nkpis:\n  won: {dataset: d, measure: sum(amout)}\n  rate:\n    dataset: d\n    measure: count(where stage == 1)\n",
    )
    .unwrap();
    path
}

#[test]
fn check_of_the_standard_library_is_clean() {
    let out = kpi(&["check"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.starts_with("ok: "), "{stdout}");
}

#[test]
fn errors_exit_1_and_a_missing_spec_exits_2() {
    let bad = bad_spec();
    assert_eq!(
        kpi(&["--spec", bad.to_str().unwrap(), "check"]).status.code(),
        Some(1)
    );
    assert_eq!(kpi(&["--spec", "no/such/dir", "check"]).status.code(), Some(2));
    assert_eq!(kpi(&["check", "--no-such-flag"]).status.code(), Some(2));
    assert_eq!(kpi(&["check", "--format", "xml"]).status.code(), Some(2));
}

#[test]
fn a_command_line_that_does_not_parse_is_said_with_a_code_and_help() {
    let said = |args: &[&str]| {
        let out = kpi(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let e = said(&["eval", "won_revenue", "--grain", "fortnight"]);
    assert!(
        e.starts_with("error[kpi::usage]: invalid value 'fortnight' for '--grain <GRAIN>'\n  help: one of: day, week, month, quarter, year, all;"),
        "{e}"
    );
    // What the parser lists on lines of its own stays in the message.
    let e = said(&["eval", "won_revenue", "--from", "2025-03-01"]);
    assert!(
        e.contains("not provided: --to <TO>\n  help: usage: kpi eval --from <FROM> --to <TO>"),
        "{e}"
    );
    let e = said(&["evl"]);
    assert!(
        e.starts_with("error[kpi::usage]: unrecognized subcommand 'evl'\n  help: "),
        "{e}"
    );
    assert!(e.contains("'eval'"), "{e}");
    // Help and version are no errors.
    for args in [&["eval", "--help"][..], &["--version"][..]] {
        let out = kpi(args);
        assert_eq!(out.status.code(), Some(0));
        assert!(out.stderr.is_empty());
    }
}

/// `kpi status --help` offers no flag it refuses: `--by` and `--grain`
/// are each target's own; `--segment` says it chooses targets.
#[test]
fn status_help_offers_only_its_flags() {
    let out = kpi(&["status", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(!help.contains("--by") && !help.contains("--grain"), "{help}");
    assert!(help.contains("Only the targets on these segments"), "{help}");
}

#[test]
fn the_spec_can_come_from_the_environment() {
    let bad = bad_spec();
    let out = Command::new(kpi_bin())
        .current_dir(root())
        .env("KPI_SPEC", &bad)
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn json_output_is_the_documented_array() {
    let bad = bad_spec();
    let out = kpi(&["--spec", bad.to_str().unwrap(), "check", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 2);
    let first = &arr[0];
    for key in [
        "code",
        "severity",
        "message",
        "file",
        "line",
        "column",
        "end_line",
        "end_column",
        "help",
    ] {
        assert!(first.get(key).is_some(), "missing {key}");
    }
    assert_eq!(first["code"], "kpi::unknown_column");
    assert_eq!(
        (first["line"].as_u64(), first["column"].as_u64()),
        (Some(4), Some(34))
    );
    assert_eq!(
        (first["end_line"].as_u64(), first["end_column"].as_u64()),
        (Some(4), Some(39))
    );
    assert_eq!(arr[1]["code"], "kpi::type_mismatch");
    assert_eq!(
        (arr[1]["line"].as_u64(), arr[1]["column"].as_u64()),
        (Some(7), Some(32))
    );
}

#[test]
fn github_annotations() {
    let bad = bad_spec();
    let out = kpi(&["--spec", bad.to_str().unwrap(), "check", "--format", "github"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let first = stdout.lines().next().unwrap();
    assert!(first.starts_with("::error file="), "{first}");
    assert!(
        first.contains(",line=4,col=34,endLine=4,endColumn=39,title=kpi%3A%3Aunknown_column::"),
        "{first}"
    );
}

#[test]
fn sarif_report() {
    let bad = bad_spec();
    let out = kpi(&["--spec", bad.to_str().unwrap(), "check", "--format", "sarif"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["kpi::type_mismatch", "kpi::unknown_column"]);
    let r = &run["results"][0];
    assert_eq!(r["ruleId"], "kpi::unknown_column");
    assert_eq!(r["level"], "error");
    assert_eq!(r["locations"][0]["physicalLocation"]["region"]["startLine"], 4);
}

#[test]
fn warnings_pass_unless_denied() {
    let dir = temp_dir("cli-warn");
    let path = dir.join("w.yaml");
    std::fs::write(
        &path,
        "datasets:\n  d: {source: d.csv, columns: {amount: number}}\nkpis:\n  k: {dataset: d, measure: count(where region == \"EU\")}\n",
    )
    .unwrap();
    assert_eq!(
        kpi(&["--spec", path.to_str().unwrap(), "check"]).status.code(),
        Some(0)
    );
    assert_eq!(
        kpi(&["--spec", path.to_str().unwrap(), "check", "--deny-warnings"])
            .status
            .code(),
        Some(1)
    );
}

/// `--allow` leaves out the warnings of the codes given (with or without
/// `kpi::`), so `--deny-warnings` stops on any other; a code that is no
/// warning (a typo, an error's code) is a usage error naming the likely
/// one, never a silent pass.
#[test]
fn allowed_warnings_are_left_out_and_others_still_deny() {
    let dir = temp_dir("cli-allow");
    let path = dir.join("w.yaml");
    std::fs::write(
        &path,
        "datasets:\n  d: {source: d.csv, columns: {amount: number}}\nkpis:\n  k: {dataset: d, measure: count(where region == \"EU\")}\n  p: {dataset: d, measure: count() / 4 * 100, unit: percent}\n",
    )
    .unwrap();
    let spec = path.to_str().unwrap();
    let check = |extra: &[&str]| {
        let mut a = vec!["--spec", spec, "check", "--deny-warnings", "--format", "json"];
        a.extend_from_slice(extra);
        kpi(&a)
    };
    let codes = |out: &std::process::Output| -> Vec<String> {
        let found: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap_or_default();
        found
            .iter()
            .map(|d| d["code"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let out = check(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(codes(&out), ["kpi::undeclared_column", "kpi::percent_times_100"]);
    let out = check(&["--allow", "undeclared_column"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(codes(&out), ["kpi::percent_times_100"]);
    let out = check(&["--allow", "kpi::undeclared_column,percent_times_100"]);
    assert_eq!(out.status.code(), Some(0), "{}", printed(&out));
    assert!(codes(&out).is_empty());
    for (asked, help) in [
        ("undeclared_colum", "did you mean `undeclared_column`?"),
        ("unknown_column", "only warnings can be allowed"),
    ] {
        let out = check(&["--allow", asked]);
        assert_eq!(out.status.code(), Some(2), "{asked}");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            said.contains(&format!("--allow: `{asked}` is no warning")) && said.contains(help),
            "{said}"
        );
    }
}

#[test]
fn json_carries_a_smart_verdict_per_target() {
    let dir = temp_dir("smart");
    let path = dir.join("t.yaml");
    std::fs::write(
        &path,
        "datasets:\n  d: {source: d.csv}\nkpis:\n  k: {dataset: d, measure: count()}\ntargets:\n  good: {kpi: k, period: 2025-Q3, value: 10, objective: Grow}\n  vague: {kpi: k, value: 10}\n",
    )
    .unwrap();
    let out = kpi(&["--spec", path.to_str().unwrap(), "check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let smart: Vec<&serde_json::Value> = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "kpi::smart")
        .collect();
    assert_eq!(smart.len(), 2);
    assert_eq!(smart[0]["smart"]["target"], "good");
    assert_eq!(smart[0]["smart"]["time_bound"], true);
    assert_eq!(smart[0]["smart"]["achievable"], serde_json::Value::Null);
    assert_eq!(smart[1]["smart"]["time_bound"], false);
    assert_eq!(smart[1]["smart"]["relevant"], false);
    assert_eq!(
        (smart[1]["line"].as_u64(), smart[1]["column"].as_u64()),
        (Some(7), Some(3))
    );
}
