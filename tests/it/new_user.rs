//! What a new user hits first: null groups, closed pipes, output paths that
//! are links or pipes, typos on the command line, datasets without
//! `columns:`, the README's own tour.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use crate::support::*;

/// Won revenue and won deals per partner (empty: `None`), read straight from the sample CSV.
fn won_by_partner() -> BTreeMap<Option<String>, (f64, u64)> {
    let text = std::fs::read_to_string(root().join("examples/data/deals.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let idx = |c: &str| header.iter().position(|h| *h == c).unwrap();
    let (stage, amount, partner) = (idx("stage"), idx("amount"), idx("partner"));
    let mut out: BTreeMap<Option<String>, (f64, u64)> = BTreeMap::new();
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        let key = (!f[partner].is_empty()).then(|| f[partner].to_string());
        let e = out.entry(key).or_default();
        if f[stage] == "won" {
            e.0 += f[amount].parse::<f64>().unwrap_or(0.0);
            e.1 += 1;
        }
    }
    out
}

#[test]
fn a_null_group_keeps_its_rows() {
    let want = won_by_partner();
    let (none_revenue, none_deals) = want[&None];
    assert!(none_deals > 100, "the sample has won deals without a partner");
    let rows = json_rows(&kpi(&[
        "eval",
        "won_revenue",
        "won_deals",
        "--by",
        "partner",
        "--format",
        "json",
    ]));
    assert_eq!(rows.len(), want.len());
    for r in &rows {
        let key = r["partner"].as_str().map(str::to_string);
        let (revenue, deals) = want[&key];
        assert!(
            (r["won_revenue"].as_f64().unwrap() - revenue).abs() < 1e-6,
            "{key:?}"
        );
        assert_eq!(r["won_deals"].as_u64(), Some(deals), "{key:?}");
    }
    // The null group is last, with its real values.
    let last = rows.last().unwrap();
    assert!(last["partner"].is_null());
    assert!((last["won_revenue"].as_f64().unwrap() - none_revenue).abs() < 1e-6);
    // The groups add up to the total.
    let total = json_rows(&kpi(&["eval", "won_revenue", "--format", "json"]));
    let sum: f64 = rows.iter().map(|r| r["won_revenue"].as_f64().unwrap()).sum();
    assert!((total[0]["won_revenue"].as_f64().unwrap() - sum).abs() < 1e-6);
}

#[test]
fn a_null_group_keeps_its_rows_by_period_and_under_compare() {
    let rows = json_rows(&kpi(&[
        "eval",
        "won_revenue",
        "--by",
        "partner",
        "--grain",
        "year",
        "--compare",
        "previous",
        "--format",
        "json",
    ]));
    let nulls: Vec<&serde_json::Value> = rows.iter().filter(|r| r["partner"].is_null()).collect();
    assert_eq!(nulls.len(), 3, "2023, 2024, 2025");
    let by_year: f64 = nulls.iter().map(|r| r["won_revenue"].as_f64().unwrap()).sum();
    assert!((by_year - won_by_partner()[&None].0).abs() < 1e-6);
    // The comparison joins the null group's own earlier year.
    assert_eq!(nulls[1]["won_revenue_compare"], nulls[0]["won_revenue"]);
    assert_eq!(nulls[2]["won_revenue_compare"], nulls[1]["won_revenue"]);
    // CSV shows the null group with an empty key.
    let csv = kpi(&["eval", "won_revenue", "--by", "partner", "--format", "csv"]);
    let text = String::from_utf8(csv.stdout).unwrap();
    assert!(text.lines().any(|l| l.starts_with(',')), "{text}");
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let mut child = Command::new(kpi_bin())
        .current_dir(root())
        .env_remove("KPI_SPEC")
        .args(["eval", "--grain", "day", "--format", "csv"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end at once, as `| head -0` would.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

#[test]
fn a_full_disk_is_a_clear_error() {
    if !std::path::Path::new("/dev/full").exists() {
        return;
    }
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let out = Command::new(kpi_bin())
        .current_dir(root())
        .env_remove("KPI_SPEC")
        .args(["list"])
        .stdout(full)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("error[kpi::output_failed]: cannot write standard output"),
        "{stderr}"
    );
}

/// `kpi eval won_deals --format csv -o PATH`, which must succeed.
fn won_deals_csv_to(path: &str) {
    let out = kpi(&["eval", "won_deals", "--format", "csv", "-o", path]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn output_through_a_symlink_writes_its_target() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("symlink-out");
    let target = dir.join("real.csv");
    std::fs::write(&target, "old").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
    let link = dir.join("link.csv");
    std::os::unix::fs::symlink("real.csv", &link).unwrap();
    won_deals_csv_to(link.to_str().unwrap());
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    let written = std::fs::read_to_string(&target).unwrap();
    assert!(written.starts_with("won_deals\n"), "{written}");
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 2, "no temporary file is left: {left:?}");
}

#[test]
fn output_into_a_fifo_is_written_into_it() {
    let dir = temp_dir("fifo-out");
    let fifo = dir.join("pipe");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        return;
    }
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    won_deals_csv_to(fifo.to_str().unwrap());
    let text = reader.join().unwrap();
    assert!(text.starts_with("won_deals\n"), "{text}");
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
}

/// `-o /dev/stdout` writes where the shell sent standard output: into a
/// pipe (its link ends in `pipe:[…]`, which was resolved as a path and
/// failed, "No such file or directory"), and after what a file sent to
/// with `>>` holds (the file was renamed over, its lines lost).
#[test]
fn output_to_dev_stdout_goes_where_the_shell_sent_it() {
    let args = ["eval", "won_deals", "--format", "csv", "-o", "/dev/stdout"];
    let piped = kpi(&args);
    assert_eq!(
        piped.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    let text = String::from_utf8(piped.stdout).unwrap();
    assert!(text.starts_with("won_deals\n"), "{text}");

    let log = temp_dir("stdout-append").join("log.csv");
    std::fs::write(&log, "earlier line\n").unwrap();
    let appended = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    let status = Command::new(kpi_bin())
        .args(args)
        .stdout(Stdio::from(appended))
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.starts_with("earlier line\nwon_deals\n"), "{text}");
}

#[test]
fn unknown_names_on_the_command_line_are_usage_errors() {
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &["status", "no_such_target", "--fail-on", "missed"],
            "unknown_target",
            "no target is named `no_such_target`",
        ),
        (
            &["status", "q3_revenu"],
            "unknown_target",
            "did you mean `q3_revenue`?",
        ),
        (
            &["eval", "won_revenu"],
            "unknown_kpi",
            "did you mean `won_revenue`?",
        ),
        (
            &["eval", "won_revenue", "--segment", "enterprize"],
            "unknown_segment",
            "did you mean `enterprise`?",
        ),
        (
            &["eval", "won_revenue", "--by", "ownr"],
            "unknown_dimension",
            "did you mean `owner`?",
        ),
        (&["explain", "win_rat"], "unknown_kpi", "did you mean `win_rate`?"),
        (
            &["eval", "zzz"],
            "unknown_kpi",
            "help: known KPIs or funnels: `active_customers`",
        ),
        (&["test", "no_such_test"], "unknown_test", "no test is named"),
        // Dates as people write them: the day meant, or both when the order cannot be told.
        (
            &["eval", "--from", "01/15/2025", "--to", "2025-03-31"],
            "invalid_date",
            "did you mean `2025-01-15`?",
        ),
        (
            &["eval", "--from", "2025-01-01", "--to", "03.02.2025"],
            "invalid_date",
            "did you mean `2025-02-03` or `2025-03-02`?",
        ),
        (
            &["status", "--as-of", "20250331"],
            "invalid_date",
            "did you mean `2025-03-31`?",
        ),
        // A column twice in the output: a slip of the command line.
        (
            &["eval", "won_revenue", "win_rate", "won_revenue"],
            "named_twice",
            "KPI: `won_revenue` is named twice",
        ),
        (
            &[
                "report",
                "won_revenue",
                "--by",
                "owner,region,owner",
                "-o",
                "r.html",
            ],
            "named_twice",
            "--by: `owner` is named twice",
        ),
    ];
    for (args, code, says) in cases {
        usage_error_is_said(args, code, says);
    }
}

/// `kpi ARGS` exits 2 with nothing on stdout, and says on stderr
/// `error[kpi::CODE]: …` holding `says`, then a help line.
fn usage_error_is_said(args: &[&str], code: &str, says: &str) {
    let out = kpi(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(
        stderr.starts_with(&format!("error[kpi::{code}]: ")),
        "{args:?}: {stderr}"
    );
    assert!(stderr.contains(says), "{args:?}: {stderr}");
    assert!(stderr.contains("\n  help: "), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?}");
}

/// A target by members whose baseline has no value has no target value:
/// each member is missed once the period is over, and the note on stderr
/// names the null group as `(null)`, not as the whole.
#[test]
fn members_without_a_baseline_are_named_in_the_notes() {
    let dir = temp_dir("no-baseline-members");
    std::fs::write(
        dir.join("d.csv"),
        "partner,amount,closed_at\nP1,100,2025-02-03\n,40,2025-02-10\n",
    )
    .unwrap();
    let spec = dir.join("s.yaml");
    std::fs::write(
        &spec,
        "datasets:\n  d: {source: d.csv, time: closed_at}\nkpis:\n  avg_amount: {dataset: d, measure: avg(amount)}\ntargets:\n  t:\n    kpi: avg_amount\n    by: partner\n    period: 2025-02\n    change: \"+10%\"\n    objective: x\n",
    )
    .unwrap();
    let out = kpi(&[
        "--spec",
        spec.to_str().unwrap(),
        "status",
        "--as-of",
        "2025-03-01",
        "--format",
        "csv",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stderr,
        "note: t, 2 rows: no baseline value: no target value: 2025-02 (P1, null)\n"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let statuses: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(12).unwrap())
        .collect();
    assert_eq!(statuses, ["missed", "missed"], "{text}");
    // Many members share one line (it was a line per member: hundreds for
    // a team new this month), and one row keeps its own.
    let rows: String = (1..=5).map(|i| format!("P{i},100,2025-02-0{i}\n")).collect();
    std::fs::write(dir.join("d.csv"), format!("partner,amount,closed_at\n{rows}")).unwrap();
    let status = |as_of: &str| {
        let out = kpi(&["--spec", spec.to_str().unwrap(), "status", "--as-of", as_of]);
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert_eq!(
        status("2025-03-01"),
        "note: t, 5 rows: no baseline value: no target value: 2025-02 (5 members: P1, P2, P3, …)\n"
    );
    assert_eq!(
        status("2025-02-01"),
        "note: t 2025-02 (P1): no baseline value: no target value\n"
    );
}

/// A source path with a typo names the file of the closest name in its
/// folder (in another case too: `Deals.CSV` on a file system that tells
/// cases apart), and a folder on its way that does not exist, where the
/// help only said that paths are relative to the spec file.
#[test]
fn a_missing_source_names_what_is_there() {
    let dir = dir_with(
        "missing-source",
        &[("deals.csv", "amount,closed_at\n1,2025-01-01\n")],
    );
    let help = |source: &str| {
        let spec = dir.join("s.yaml");
        std::fs::write(
            &spec,
            format!("datasets:\n  d: {{source: {source}, time: closed_at}}\nkpis:\n  n: {{dataset: d, measure: count()}}\n"),
        )
        .unwrap();
        let found = checked_data_json(&spec);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0]["code"], "kpi::source_not_found");
        found[0]["help"].as_str().unwrap_or_default().to_string()
    };
    for typo in ["deal.csv", "Deals.CSV"] {
        let said = help(typo);
        assert!(
            said.starts_with("did you mean `") && said.contains("deals.csv`? Paths are relative"),
            "{said}"
        );
    }
    assert!(
        help("exports/2025/deals.csv").contains("there is no folder `"),
        "{}",
        help("exports/2025/deals.csv")
    );
    assert!(help("exports/2025/deals.csv").contains("exports`;"));
    assert_eq!(
        help("pipeline.csv"),
        "paths are relative to the spec file that names them"
    );
}

/// A spec that is not where it was looked for names the file or folder
/// beside it that was meant: `kpis.yaml` where the default `kpis` folder
/// is missing, a typo of a folder.
#[test]
fn a_missing_spec_names_the_one_beside_it() {
    let dir = dir_with(
        "missing-spec",
        &[("kpis.yaml", "kpis:\n  n: {measure: 1}\n"), ("notes.txt", "")],
    );
    std::fs::create_dir_all(dir.join("metrics/.git")).unwrap();
    let help = |args: &[&str]| {
        // `kpi check` reports on standard output.
        let (code, out, _) = kpi_in(&dir, args);
        assert_eq!(code, Some(2), "{out}");
        assert!(out.contains("kpi::spec_not_found"), "{out}");
        out.lines()
            .find_map(|l| l.trim().strip_prefix("help: "))
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(
        help(&["check"]),
        "there is `kpis.yaml`: pass it with --spec kpis.yaml"
    );
    assert_eq!(
        help(&["--spec", "kpis.yml", "check"]),
        "there is `kpis.yaml`: pass it with --spec kpis.yaml"
    );
    assert_eq!(
        help(&["--spec", "metric", "check"]),
        "there is `metrics`: pass it with --spec metrics"
    );
    assert_eq!(
        help(&["--spec", "metrics/.gi", "check"]),
        "pass a spec file or folder with --spec, set KPI_SPEC, or run where ./kpis exists"
    );
    assert_eq!(
        help(&["--spec", "note", "check"]),
        "pass a spec file or folder with --spec, set KPI_SPEC, or run where ./kpis exists"
    );
}

/// What `kpi check` without data says of `spec(good)`, which names a
/// column its `columns:` leave out and which the data has, and of
/// `spec(slip)`, one slip of the keyboard from a declared name: the first
/// is warned of as undeclared (`warned` times), passes `check --data`, and
/// `run` prints `want`; the second is the error `code`, which suggests the
/// declared name.
struct Undeclared<'a> {
    name: &'a str,
    data: &'a [(&'a str, &'a str)],
    spec: &'a dyn Fn(&str) -> String,
    good: &'a str,
    warned: usize,
    run: &'a [&'a str],
    want: &'a str,
    slip: (&'a str, &'a str, &'a str),
}

impl Undeclared<'_> {
    fn holds(&self) {
        let good = (self.spec)(self.good);
        let mut files = self.data.to_vec();
        files.push(("s.yaml", &good));
        let dir = dir_with(self.name, &files);
        let (code, out, err) = kpi_in(&dir, &["--spec", "s.yaml", "check"]);
        assert_eq!(code, Some(0), "{out}{err}");
        assert_eq!(
            out.matches("kpi::undeclared_column").count(),
            self.warned,
            "{out}"
        );
        let (code, out, err) = kpi_in(&dir, &["--spec", "s.yaml", "check", "--data"]);
        assert_eq!(code, Some(0), "--data: {out}{err}");
        let run: Vec<&str> = ["--spec", "s.yaml"].iter().chain(self.run).copied().collect();
        let (code, out, err) = kpi_in(&dir, &run);
        assert_eq!((code, out.as_str()), (Some(0), self.want), "{err}");
        let (slip, code_said, meant) = self.slip;
        std::fs::write(dir.join("s.yaml"), (self.spec)(slip)).unwrap();
        let (code, out, _) = kpi_in(&dir, &["--spec", "s.yaml", "check"]);
        assert_eq!(code, Some(1), "{out}");
        assert!(
            out.contains(code_said) && out.contains(&format!("did you mean `{meant}`?")),
            "{out}"
        );
    }
}

/// A derived KPI's `per owner` over a dataset whose `columns:` declare
/// some columns but not `owner` is checked as the measures' names are
/// (it was an error, "no dimension `owner`", so `kpi check` failed a spec
/// `kpi eval` runs). By hand: ann won 100 of a quota of 100, bob 50 of
/// 100: half the reps at quota.
#[test]
fn a_nest_per_an_undeclared_column_is_checked_as_a_measure_is() {
    Undeclared {
        name: "nest-undeclared",
        data: &[("d.csv", "owner,amount,closed_at\nann,60,2025-01-05\nann,40,2025-01-06\nbob,50,2025-01-07\n")],
        spec: &|per| format!("datasets:\n  d: {{source: d.csv, time: closed_at, columns: {{amount: number, closed_at: date}}}}\nkpis:\n  won: {{dataset: d, measure: sum(amount)}}\n  quota: {{dataset: d, measure: count() * 0 + 100}}\n  at_quota: {{measure: 'avg(won / quota >= 100% per {per})'}}\n"),
        good: "owner",
        warned: 1,
        run: &["eval", "at_quota", "--format", "csv"],
        want: "at_quota\n0.5\n",
        slip: ("amout", "kpi::unknown_dimension", "amount"),
    }
    .holds();
}

/// A segment over a column the datasets' `columns:` leave out is checked
/// as a measure's names are (it was an error, "which no dataset has", so
/// `kpi check` failed a spec `kpi eval --segment` runs). By hand: the web
/// deals are 10 and 5.
#[test]
fn a_segment_over_an_undeclared_column_is_checked_as_a_measure_is() {
    Undeclared {
        name: "segment-undeclared",
        data: &[("d.csv", "lead_source,amount\nweb,10\nevent,20\nweb,5\n")],
        spec: &|column| format!("datasets:\n  d: {{source: d.csv, columns: {{amount: number}}}}\nsegments:\n  web: {{where: '{column} == \"web\"'}}\nkpis:\n  total: {{dataset: d, measure: sum(amount)}}\n"),
        good: "lead_source",
        warned: 1,
        run: &["eval", "--segment", "web", "--format", "csv"],
        want: "total\n15\n",
        slip: ("amout", "kpi::unknown_column", "amount"),
    }
    .holds();
}

/// `kpi check` without data reports as errors only what no data can make
/// right: a name further than a slip from a declared one (`lead_id`
/// beside `deal_id`) is warned of as undeclared, and so is a target's
/// `by:` that only a dataset its KPI does not read declares (`team` of
/// reps, for a KPI of leads); the data then decides. Both were errors of
/// a spec `kpi check --data` passes. By hand: two leads with an id.
#[test]
fn check_without_data_errs_only_on_what_no_data_makes_right() {
    Undeclared {
        name: "check-only-errs",
        data: &[
            ("leads.csv", "lead_id,deal_id,team,created_at\nL1,D1,east,2025-01-05\nL2,,west,2025-01-06\n"),
            ("reps.csv", "owner,team\nann,east\n"),
        ],
        spec: &|column| format!("datasets:\n  leads: {{source: leads.csv, time: created_at, columns: {{deal_id: string, created_at: date}}}}\n  reps: {{source: reps.csv, columns: {{owner: string, team: string}}}}\nkpis:\n  leads_n: {{dataset: leads, measure: count({column})}}\ntargets:\n  t: {{kpi: leads_n, by: team, period: 2025-01, value: 1, objective: x}}\n"),
        good: "lead_id",
        warned: 2,
        run: &["eval", "leads_n", "--format", "csv"],
        want: "leads_n\n2\n",
        slip: ("dael_id", "kpi::unknown_column", "deal_id"),
    }
    .holds();
}

/// A column of a dataset that looks another up on a key both have
/// (`owner` on deals and reps) is its own: `kpi check` failed such a spec
/// without data ("`owner` is a column of `reps`… `reps.owner`") when
/// deals declared no columns, or not that one. Once the data is read and
/// deals has no `team`, `team` is said to be written `reps.team`.
#[test]
fn a_lookup_key_written_alone_is_the_datasets_own_column() {
    let dir = dir_with(
        "lookup-key-alone",
        &[
            ("d.csv", "owner,amount\nann,5\nbob,7\n"),
            ("r.csv", "owner,team\nann,east\nbob,west\n"),
            (
                "s.yaml",
                "datasets:\n  d: {source: d.csv, dimensions: {rep: owner}, lookups: [{dataset: r, on: owner}]}\n  r: {source: r.csv, columns: {owner: string, team: string}}\nkpis:\n  n: {dataset: d, measure: 'count(where owner == \"ann\")'}\n",
            ),
        ],
    );
    let (code, out, err) = kpi_in(&dir, &["--spec", "s.yaml", "check"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let (code, out, err) = kpi_in(
        &dir,
        &["--spec", "s.yaml", "eval", "--by", "rep", "--format", "csv"],
    );
    assert_eq!((code, out.as_str()), (Some(0), "rep,n\nann,1\nbob,0\n"), "{err}");
    std::fs::write(
        dir.join("s.yaml"),
        "datasets:\n  d: {source: d.csv, lookups: [{dataset: r, on: owner}]}\n  r: {source: r.csv, columns: {owner: string, team: string}}\nkpis:\n  n: {dataset: d, measure: count_distinct(team)}\n",
    )
    .unwrap();
    let (code, out, _) = kpi_in(&dir, &["--spec", "s.yaml", "check", "--data"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("kpi::unknown_column") && out.contains("an expression names it `r.team`"),
        "{out}"
    );
}

/// `kpi eval --by` a looked-up column says which keys found no looked-up
/// row (their rows are the group without a member, which said nothing of
/// why; only `check --data` told), and only then: not by the dataset's own
/// column, not with `-q`. By hand: zed's 1 + 2 are the 3 without a team.
#[test]
fn eval_by_a_looked_up_column_names_the_keys_without_a_match() {
    let dir = dir_with(
        "eval-lookup-unmatched",
        &[
            ("d.csv", "owner,amount,closed_at\nann,5,2025-01-05\nbob,7,2025-02-05\nzed,1,2025-03-05\nzed,2,2025-03-06\n"),
            ("r.csv", "owner,team\nann,east\nbob,west\n"),
            (
                "s.yaml",
                "datasets:\n  d: {source: d.csv, lookups: [{dataset: r, on: owner}]}\n  r: {source: r.csv}\nkpis:\n  s: {dataset: d, measure: sum(amount)}\n",
            ),
        ],
    );
    for by in ["team", "r.team"] {
        let (code, out, err) = kpi_in(&dir, &["--spec", "s.yaml", "eval", "--by", by, "--format", "csv"]);
        assert_eq!(
            (code, out.as_str()),
            (Some(0), format!("{by},s\neast,5\nwest,7\n,3\n").as_str()),
            "{err}"
        );
        assert!(
            err.contains("kpi::lookup_unmatched")
                && err.contains("2 rows of `d` find no row of `r`")
                && err.contains("`zed`"),
            "{by}: {err}"
        );
    }
    let (_, _, err) = kpi_in(&dir, &["--spec", "s.yaml", "eval", "--by", "owner"]);
    assert!(!err.contains("lookup_unmatched"), "{err}");
    let (_, _, err) = kpi_in(&dir, &["--spec", "s.yaml", "-q", "eval", "--by", "team"]);
    assert!(err.is_empty(), "{err}");
    // A target by team says it too.
    std::fs::write(
        dir.join("t.yaml"),
        "datasets:\n  d: {source: d.csv, time: closed_at, lookups: [{dataset: r, on: owner}]}\n  r: {source: r.csv}\nkpis:\n  s: {dataset: d, measure: sum(amount)}\ntargets:\n  t: {kpi: s, by: team, period: 2025-Q1, value: 5, objective: x}\n",
    )
    .unwrap();
    let (code, out, err) = kpi_in(
        &dir,
        &[
            "--spec",
            "t.yaml",
            "status",
            "--as-of",
            "2025-06-30",
            "--format",
            "csv",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("t,s,,east,2025-Q1,5,5"), "{out}");
    assert!(
        err.contains("kpi::lookup_unmatched") && err.contains("`zed`"),
        "{err}"
    );
}

/// A `--by` that a source that cannot be read might have had is said as
/// that source's failure (here a file not found), not as an unknown name;
/// a typo of a known name is still a typo.
#[test]
fn a_by_on_an_unreadable_source_names_the_source() {
    let dir = temp_dir("unreadable-by");
    let spec = dir.join("s.yaml");
    std::fs::write(
        &spec,
        "datasets:\n  d: {source: exports/deals.csv, time: closed_at, columns: {amount: number}}\nkpis:\n  total: {dataset: d, measure: sum(amount)}\n",
    )
    .unwrap();
    let spec = spec.to_str().unwrap();
    let out = kpi(&["--spec", spec, "eval", "--by", "owner"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("kpi::source_not_found") && stderr.contains("exports/deals.csv"),
        "{stderr}"
    );
    assert!(!stderr.contains("unknown_dimension"), "{stderr}");
    usage_error_is_said(
        &["--spec", spec, "eval", "--by", "amont"],
        "unknown_dimension",
        "did you mean `amount`?",
    );
}

/// Each mistake in a query's flags is said with its stable code, the flag
/// and a help line, and exits 2 with nothing on stdout.
#[test]
fn flag_mistakes_have_a_code_the_flag_and_help() {
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &["eval", "--period", "2025-13"],
            "invalid_period",
            "--period: `2025-13` is not a period label: months are 01 to 12",
        ),
        (
            &["eval", "--period", "2025-W53"],
            "invalid_period",
            "2025 has 52 ISO weeks, W01 to W52",
        ),
        (
            &["eval", "--from", "2025-03-01", "--to", "2025-01-31"],
            "period_reversed",
            "--from 2025-03-01",
        ),
        (
            &["eval", "--from", "2025-02-30", "--to", "2025-03-31"],
            "invalid_date",
            "--from: `2025-02-30`",
        ),
        (
            &["eval", "--from", "2025-01-01", "--to", "soon"],
            "invalid_date",
            "--to: `soon`",
        ),
        (
            &["status", "--as-of", "yesterday"],
            "invalid_date",
            "--as-of: `yesterday`",
        ),
        // Dates and labels nearly written: the help gives them.
        (
            &["eval", "--from", "2025-1-5", "--to", "2025-03-31"],
            "invalid_date",
            "did you mean `2025-01-05`?",
        ),
        (
            &["eval", "--from", "2025-01", "--to", "2025-03-31"],
            "invalid_date",
            "`2025-01` is a period, and a day is asked here (YYYY-MM-DD): its first day is 2025-01-01, its last 2025-01-31 (`--period 2025-01` takes it whole)",
        ),
        (
            &["status", "--as-of", "2025-Q2"],
            "invalid_date",
            "its first day is 2025-04-01, its last 2025-06-30",
        ),
        (&["eval", "--period", "2025-q1"], "invalid_period", "did you mean `2025-Q1`?"),
        (&["eval", "--period", "2025-W5"], "invalid_period", "did you mean `2025-W05`?"),
        (
            &["eval", "won_revenue", "--compare", "last"],
            "invalid_value",
            "--compare: `last`",
        ),
        (
            &["eval", "won_revenue", "--compare", "year"],
            "compare_needs_periods",
            "--compare",
        ),
        (
            &["eval", "won_revenue", "--format", "parquet"],
            "flag_conflict",
            "-o FILE",
        ),
        (
            &["status", "--grain", "month"],
            "flag_conflict",
            "--by and --grain",
        ),
        (
            &["eval", "lead_funnel", "--grain", "month", "--compare", "previous"],
            "flag_conflict",
            "--compare",
        ),
        (
            &["eval", "-o", "/nonexistent-folder/kpis.csv"],
            "output_failed",
            "/nonexistent-folder/kpis.csv",
        ),
        (
            &["report", "--template", "/nonexistent.j2"],
            "template_error",
            "--template",
        ),
        (
            &["diff", "no-such-revision", "HEAD"],
            "spec_version_not_found",
            "no-such-revision",
        ),
        (
            &["eval", "-o", "kpis.xlsx"],
            "flag_conflict",
            "-o kpis.xlsx: kpi does not write .xlsx files",
        ),
        (&["status", "-o", "targets.html"], "flag_conflict", "kpi report"),
        // Parquet is binary: to a file or a pipe, never a terminal.
        (
            &["status", "--format", "parquet"],
            "flag_conflict",
            "--format parquet needs -o FILE",
        ),
        (&["list", "--format", "parquet"], "flag_conflict", "-o catalog.parquet"),
        // The report is a page: a PDF or an image is made from it in a browser.
        (&["report", "-o", "report.pdf"], "flag_conflict", "print it to PDF from a browser"),
        // A box-drawn table is no TSV file.
        (
            &["eval", "-o", "kpis.tsv"],
            "flag_conflict",
            "-o kpis.tsv: kpi does not write .tsv files",
        ),
    ];
    for (args, code, says) in cases {
        usage_error_is_said(args, code, says);
    }
    assert!(!std::path::Path::new("/nonexistent-folder").exists());
    assert!(!root().join("kpis.xlsx").exists() && !root().join("targets.html").exists());
    assert!(!root().join("kpis.tsv").exists());
    assert!(!root().join("report.pdf").exists());
    // Said what to write, kpi writes it under any name.
    let dir = temp_dir("named-format");
    let xlsx = dir.join("kpis.xlsx");
    let out = kpi(&[
        "eval",
        "won_deals",
        "--format",
        "csv",
        "-o",
        xlsx.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::read_to_string(&xlsx).unwrap().starts_with("won_deals\n"));
}

#[test]
fn a_flag_that_a_named_kpi_cannot_take_names_the_flag() {
    let out = kpi(&["eval", "marketing_spend", "--segment", "enterprise"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--segment"), "{stderr}");
    assert!(!stderr.contains(".yaml:1:1"), "{stderr}");
}

#[test]
fn every_kpi_means_those_that_can_take_the_flags() {
    let out = kpi(&[
        "eval",
        "--segment",
        "enterprise",
        "--period",
        "2025-Q2",
        "--format",
        "json",
    ]);
    let rows = json_rows(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("kpi::left_out"), "{stderr}");
    assert!(stderr.contains("`marketing_spend` is left out"), "{stderr}");
    let row = rows[0].as_object().unwrap();
    assert!(row.contains_key("won_revenue"));
    assert!(!row.contains_key("marketing_spend"));
    // The segment applies: enterprise won revenue of 2025-Q2, from the CSV.
    let text = std::fs::read_to_string(root().join("examples/data/deals.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let idx = |c: &str| header.iter().position(|h| *h == c).unwrap();
    let want: f64 = lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f[idx("stage")] == "won" && f[idx("segment")] == "Enterprise")
        .filter(|f| ("2025-04-01".."2025-07-01").contains(&f[idx("closed_at")]))
        .map(|f| f[idx("amount")].parse::<f64>().unwrap_or(0.0))
        .sum();
    assert!((row["won_revenue"].as_f64().unwrap() - want).abs() < 1e-6);
}

/// A spec over the sample deals without `columns:`, as a first spec is written.
fn undeclared_spec(dir: &std::path::Path, source: &str) -> std::path::PathBuf {
    let spec = dir.join("spec.yaml");
    std::fs::write(
        &spec,
        format!(
            "datasets:\n  deals:\n    source: {source}\n    time: closed_at\n\
             segments:\n  enterprise: {{where: segment == \"Enterprise\"}}\n\
             kpis:\n  won_revenue: {{dataset: deals, measure: sum(amount where stage == \"won\")}}\n\
             funnels:\n  deal_funnel:\n    dataset: deals\n    time: created_at\n    steps:\n\
             \x20     - {{name: created}}\n      - {{name: closed, where: closed_at is not null}}\n\
             \x20     - {{name: won, where: stage == \"won\"}}\n"
        ),
    )
    .unwrap();
    spec
}

fn won_by_owner() -> BTreeMap<String, f64> {
    let text = std::fs::read_to_string(root().join("examples/data/deals.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let idx = |c: &str| header.iter().position(|h| *h == c).unwrap();
    let mut out = BTreeMap::new();
    for f in lines.map(|l| l.split(',').collect::<Vec<_>>()) {
        if f[idx("stage")] == "won" && f[idx("segment")] == "Enterprise" {
            *out.entry(f[idx("owner")].to_string()).or_insert(0.0) +=
                f[idx("amount")].parse::<f64>().unwrap_or(0.0);
        }
    }
    out
}

#[test]
fn a_dataset_without_columns_groups_by_what_its_file_has() {
    let dir = temp_dir("undeclared");
    let pq = dir.join("pq");
    let gen = kpi(&[
        "generate",
        "--scale",
        "300",
        "--format",
        "parquet",
        "-o",
        pq.to_str().unwrap(),
    ]);
    assert!(gen.status.success());
    let csv_source = root().join("examples/data/deals.csv");
    for source in [
        csv_source.display().to_string(),
        pq.join("deals.parquet").display().to_string(),
    ] {
        let spec = undeclared_spec(&dir, &source);
        let args = [
            "--spec",
            spec.to_str().unwrap(),
            "eval",
            "--by",
            "owner",
            "--segment",
            "enterprise",
        ];
        let out = kpi(&[&args[..], &["--format", "json"]].concat());
        let rows = json_rows(&out);
        assert!(rows.len() >= 8, "{source}: {rows:?}");
        if source.ends_with(".csv") {
            let want = won_by_owner();
            for r in rows.iter().filter(|r| r.get("won_revenue").is_some()) {
                let owner = r["owner"].as_str().unwrap();
                let got = r["won_revenue"].as_f64().unwrap();
                assert!(
                    (got - want.get(owner).copied().unwrap_or(0.0)).abs() < 1e-6,
                    "{owner}"
                );
            }
        }
        // The funnel alone, by a column nobody declared.
        let out = kpi(&[
            "--spec",
            spec.to_str().unwrap(),
            "eval",
            "deal_funnel",
            "--by",
            "owner",
            "--format",
            "json",
        ]);
        let rows = json_rows(&out);
        assert!(rows.iter().any(|r| r["step"] == "won"), "{source}");
    }
}

/// A spec over the sample leads with a two-step funnel `f` and the dataset
/// keys `columns` (none, or some): it checks clean, and the funnel counts
/// what a plain reading of the CSV counts.
fn funnel_counts_the_leads(name: &str, columns: &str) {
    let dir = temp_dir(name);
    let spec = dir.join("spec.yaml");
    let source = root().join("examples/data/leads.csv");
    std::fs::write(
        &spec,
        format!(
            "datasets:\n  leads:\n    source: {}\n    time: created_at\n{columns}funnels:\n  f:\n    dataset: leads\n    steps:\n      - {{name: created}}\n      - {{name: contacted, where: first_contact_at is not null}}\n",
            source.display()
        ),
    )
    .unwrap();
    let s = spec.to_str().unwrap();
    let out = kpi(&["--spec", s, "check"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let rows = json_rows(&kpi(&["--spec", s, "eval", "f", "--format", "json"]));
    // Named or not: a spec of funnels alone evaluates them (it printed an
    // empty table and "no rows").
    assert_eq!(json_rows(&kpi(&["--spec", s, "eval", "--format", "json"])), rows);
    let explained = printed(&kpi(&["--spec", s, "explain"]));
    assert!(
        explained.contains("── funnel f: leads (created, contacted)"),
        "{explained}"
    );
    let text = std::fs::read_to_string(&source).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let contact = header.iter().position(|h| *h == "first_contact_at").unwrap();
    let all: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let contacted = all.iter().filter(|f| !f[contact].is_empty()).count() as u64;
    assert_eq!(rows[0]["count"].as_u64(), Some(all.len() as u64));
    assert_eq!(rows[1]["count"].as_u64(), Some(contacted));
}

#[test]
fn a_spec_of_funnels_alone_is_a_spec() {
    funnel_counts_the_leads("funnels-only", "");
}

#[test]
fn funnel_steps_on_columns_nobody_declared_evaluate() {
    funnel_counts_the_leads("funnel-partial", "    columns: {created_at: datetime}\n");
}

#[test]
fn sources_take_environment_variables() {
    let dir = temp_dir("env-source");
    let spec = dir.join("spec.yaml");
    std::fs::write(
        &spec,
        "datasets:\n  deals: {source: \"${KPI_TEST_DATA:-/nowhere}/deals.csv\", time: closed_at}\n\
         kpis:\n  won_deals: {dataset: deals, measure: count(where stage == \"won\")}\n",
    )
    .unwrap();
    let run = |data: Option<&str>| {
        let mut c = Command::new(kpi_bin());
        c.current_dir(root())
            .env_remove("KPI_SPEC")
            .env_remove("KPI_TEST_DATA");
        if let Some(d) = data {
            c.env("KPI_TEST_DATA", d);
        }
        c.args(["--spec", spec.to_str().unwrap(), "eval", "--format", "json"])
            .output()
            .unwrap()
    };
    let rows = json_rows(&run(Some(root().join("examples/data").to_str().unwrap())));
    let won = std::fs::read_to_string(root().join("examples/data/deals.csv"))
        .unwrap()
        .lines()
        .filter(|l| l.split(',').nth(4) == Some("won"))
        .count() as u64;
    assert_eq!(rows[0]["won_deals"].as_u64(), Some(won));
    // The default applies when the variable is unset; /nowhere does not exist.
    let out = run(None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nowhere/deals.csv"));
}

#[test]
fn outputs_keep_column_order_and_counts_are_integers() {
    let out = kpi(&[
        "eval",
        "won_revenue",
        "won_deals",
        "win_rate",
        "--by",
        "region",
        "--format",
        "ndjson",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let first = text.lines().next().unwrap();
    let order: Vec<usize> = ["\"region\"", "\"won_revenue\"", "\"won_deals\"", "\"win_rate\""]
        .iter()
        .map(|k| first.find(k).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{first}");
    let v: serde_json::Value = serde_json::from_str(first).unwrap();
    assert!(v["won_deals"].is_u64(), "{first}");
    assert!(v["win_rate"].is_f64(), "{first}");
}

/// Whole numbers by their measure are integers too when derived: a
/// count's running, windowed and earlier values, differences of counts, a
/// count of members; a growth rate is not.
#[test]
fn counts_derived_from_counts_are_integers() {
    let kpis = [
        ("wins", "count(where stage == \"won\")"),
        ("lost", "count(where stage == \"lost\")"),
        ("running", "cumulative(wins)"),
        ("window", "rolling(wins, 2)"),
        ("before", "prev(wins)"),
        ("change", "diff(wins)"),
        ("net", "wins - lost"),
        ("reps", "count(per owner where wins > 0)"),
        ("growing", "growth(wins)"),
    ];
    let mut spec = String::from("datasets:\n  d: {source: d.csv, time: closed_at}\nkpis:\n");
    for (name, measure) in kpis {
        let dataset = if name == "wins" || name == "lost" {
            "dataset: d, "
        } else {
            ""
        };
        spec.push_str(&format!("  {name}: {{{dataset}measure: '{measure}'}}\n"));
    }
    let data =
        "owner,stage,closed_at\na,won,2025-01-05\nb,lost,2025-01-06\na,won,2025-02-01\nb,won,2025-02-02\n";
    let dir = dir_with("derived-counts", &[("d.csv", data), ("s.yaml", &spec)]);
    let (code, out, err) = kpi_in(
        &dir,
        &[
            "--spec", "s.yaml", "eval", "--grain", "month", "--format", "ndjson",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let february: serde_json::Value = serde_json::from_str(out.lines().nth(1).unwrap()).unwrap();
    // January: 1 win, 1 loss; February: 2 wins; reps with a win: a, then a and b.
    for (name, value) in [
        ("running", 3),
        ("window", 3),
        ("before", 1),
        ("change", 1),
        ("net", 2),
        ("reps", 2),
    ] {
        assert_eq!(february[name].as_i64(), Some(value), "{name}: {february}");
        assert!(february[name].is_i64(), "{name}: {february}");
    }
    assert_eq!(february["growing"].as_f64(), Some(1.0));
    assert!(february["growing"].is_f64(), "{february}");
}

#[test]
fn generate_refuses_to_overwrite() {
    let dir = temp_dir("generate-twice");
    let out_dir = dir.to_str().unwrap();
    let first = kpi(&["generate", "--scale", "100", "-o", out_dir]);
    assert!(first.status.success());
    let before = std::fs::read(dir.join("deals.csv")).unwrap();
    let again = kpi(&["generate", "--scale", "120", "-o", out_dir]);
    assert_eq!(again.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.starts_with("error[kpi::files_exist]: "), "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(std::fs::read(dir.join("deals.csv")).unwrap(), before);
    let forced = kpi(&["generate", "--scale", "120", "-o", out_dir, "--force"]);
    assert!(forced.status.success());
    assert_ne!(std::fs::read(dir.join("deals.csv")).unwrap(), before);
}

/// The tour's commands, as the README shows them (comments dropped).
fn tour_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let tour = readme.split("## A tour").nth(1).unwrap();
    let block = tour.split("```sh").nth(1).unwrap().split("```").next().unwrap();
    block
        .lines()
        .map(|l| l.split(" # ").next().unwrap().trim().to_string())
        .filter(|l| l.starts_with("kpi "))
        .collect()
}

#[test]
fn the_readme_tour_runs_command_by_command() {
    let dir = temp_dir("tour");
    let commands = tour_commands();
    assert!(commands.len() >= 15, "{commands:?}");
    for line in &commands {
        // Files the tour writes go to a scratch folder; a branch named
        // `main` may not exist in a clone, HEAD always does.
        let mut words: Vec<String> = line.split_whitespace().skip(1).map(str::to_string).collect();
        if let Some(i) = words.iter().position(|w| w == ">") {
            words.truncate(i);
        }
        for i in 0..words.len() {
            if i > 0 && matches!(words[i - 1].as_str(), "-o" | "--junit") {
                words[i] = dir
                    .join(words[i].trim_start_matches("/tmp/"))
                    .display()
                    .to_string();
            }
            if i > 0 && words[i - 1] == "--base" && words[i] == "main" {
                words[i] = "HEAD".into();
            }
            if i > 0 && words[i - 1] == "--scale" {
                words[i] = "2000".into();
            }
        }
        let args: Vec<&str> = words.iter().map(String::as_str).collect();
        let out = kpi(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        // `status --fail-on missed` exits 1 by design when a target is missed.
        let allowed: &[i32] = if line.contains("--fail-on") { &[0, 1] } else { &[0] };
        assert!(
            allowed.contains(&out.status.code().unwrap_or(-1)),
            "`{line}` exited {:?}: {stderr}",
            out.status.code()
        );
        if !line.contains("--fail-on") {
            assert!(!stderr.contains("error"), "`{line}`: {stderr}");
        }
    }
    assert!(dir.join("q2.csv").exists());
    assert!(dir.join("results.xml").exists());
}

#[test]
fn the_crm_spec_without_columns_gives_the_same_numbers() {
    let dir = temp_dir("crm-undeclared");
    let text = std::fs::read_to_string(root().join("examples/crm/spec.yaml")).unwrap();
    // Every `columns:` block out, sources made absolute.
    let mut out = String::new();
    let mut skipping = false;
    for line in text.lines() {
        if skipping && line.starts_with("      ") {
            continue;
        }
        skipping = line == "    columns:";
        if skipping || line.starts_with("    columns: {") {
            continue;
        }
        let data = root().join("examples/crm/data/");
        out.push_str(&line.replace("source: data/", &format!("source: {}", data.display())));
        out.push('\n');
    }
    assert!(!out.contains("columns"), "{out}");
    let spec = dir.join("spec.yaml");
    std::fs::write(&spec, out).unwrap();
    for by in [
        "sales_agent",
        "product",
        "manager",
        "regional_office",
        "sales_teams.manager",
    ] {
        let args = [
            "eval",
            "won_revenue",
            "won_deals",
            "win_rate",
            "--by",
            by,
            "--grain",
            "quarter",
            "--format",
            "csv",
        ];
        let declared = kpi(&[&["--spec", "examples/crm"][..], &args].concat());
        let undeclared = kpi(&[&["--spec", spec.to_str().unwrap()][..], &args].concat());
        assert_eq!(
            declared.status.code(),
            Some(0),
            "{by}: {}",
            String::from_utf8_lossy(&declared.stderr)
        );
        assert_eq!(
            undeclared.status.code(),
            Some(0),
            "{by}: {}",
            String::from_utf8_lossy(&undeclared.stderr)
        );
        assert!(declared.stdout.len() > 100);
        assert_eq!(
            String::from_utf8_lossy(&declared.stdout),
            String::from_utf8_lossy(&undeclared.stdout),
            "{by}"
        );
    }
}

#[test]
fn percent_changes_are_points_and_down_is_better() {
    let out = kpi(&[
        "eval",
        "win_rate",
        "--grain",
        "quarter",
        "--compare",
        "previous",
        "--period",
        "2025",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(" pp"), "{text}");
    // Status of a `direction: down` KPI says whether its move is better or worse.
    let catalog: Vec<serde_json::Value> =
        serde_json::from_slice(&kpi(&["list", "--format", "json"]).stdout).unwrap();
    let down: Vec<&str> = catalog
        .iter()
        .filter(|k| k["direction"] == "down")
        .filter_map(|k| k["name"].as_str())
        .collect();
    let out = kpi(&["status", "--format", "json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(rows
        .iter()
        .any(|r| down.contains(&r["kpi"].as_str().unwrap()) && !r["improving"].is_null()));
    for r in &rows {
        let down = down.contains(&r["kpi"].as_str().unwrap());
        match (r["trend"].as_str().unwrap(), down) {
            ("flat", _) => assert!(r["improving"].is_null()),
            ("up", false) | ("down", true) => assert_eq!(r["improving"], true, "{r}"),
            _ => assert_eq!(r["improving"], false, "{r}"),
        }
    }
}

#[test]
fn quiet_colour_and_completions() {
    let loud = kpi(&["eval", "won_revenue", "--grain", "month"]);
    assert!(String::from_utf8_lossy(&loud.stderr).contains("note:"));
    let quiet = kpi(&["--quiet", "eval", "won_revenue", "--grain", "month"]);
    assert_eq!(quiet.status.code(), Some(0));
    assert!(
        quiet.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&quiet.stderr)
    );
    assert_eq!(quiet.stdout, loud.stdout);
    let coloured = kpi(&[
        "--color",
        "always",
        "check",
        "--spec",
        "tests/cases/diagnostics/unknown_column.yaml",
    ]);
    assert!(String::from_utf8_lossy(&coloured.stdout).contains("\x1b["));
    let plain = kpi(&[
        "--color",
        "never",
        "check",
        "--spec",
        "tests/cases/diagnostics/unknown_column.yaml",
    ]);
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("\x1b["));
    for shell in ["bash", "zsh", "fish"] {
        let out = kpi(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&out.stdout).contains("eval"), "{shell}");
    }
    let help = kpi(&["status", "--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("Exit codes:"));
    let failed = kpi(&["status", "--fail-on", "missed"]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&failed.stderr).contains("--fail-on missed:"));
}

/// Five deals, three without a partner:
///   ann P1 won 100 Jan · bob – won 300 Jan · cid – won 50 Jan · ann – lost 70 Feb · bob P1 won 20 Feb
fn null_partner_spec() -> std::path::PathBuf {
    let dir = temp_dir("null-partner");
    std::fs::write(
        dir.join("deals.csv"),
        "owner,partner,stage,amount,closed_at\nann,P1,won,100,2025-01-10\nbob,,won,300,2025-01-20\n\
         cid,,won,50,2025-01-25\nann,,lost,70,2025-02-05\nbob,P1,won,20,2025-02-10\n",
    )
    .unwrap();
    let spec = dir.join("spec.yaml");
    std::fs::write(
        &spec,
        "datasets:\n  deals: {source: deals.csv, time: closed_at}\n\
         kpis:\n  won_revenue: {dataset: deals, measure: sum(amount where stage == \"won\")}\n\
         \x20 avg_rep_revenue: {measure: avg(won_revenue per owner)}\n\
         funnels:\n  deal_funnel:\n    dataset: deals\n    steps:\n      - {name: created}\n      - {name: won, where: stage == \"won\"}\n\
         targets:\n  january:\n    kpi: won_revenue\n    by: partner\n    period: 2025-01\n    value: 100\n    objective: test\n",
    )
    .unwrap();
    spec
}

#[test]
fn a_null_group_holds_under_per_funnels_and_status() {
    let spec = null_partner_spec();
    let s = spec.to_str().unwrap();
    let rows = json_rows(&kpi(&[
        "--spec",
        s,
        "eval",
        "won_revenue",
        "avg_rep_revenue",
        "--by",
        "partner",
        "--format",
        "json",
    ]));
    // P1: ann 100, bob 20 → 120, avg 60. No partner: bob 300, cid 50, ann 0 (a lost deal) → 350, avg 350/3.
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0]["partner"], "P1");
    assert_eq!(rows[0]["won_revenue"].as_f64(), Some(120.0));
    assert!((rows[0]["avg_rep_revenue"].as_f64().unwrap() - 60.0).abs() < 1e-9);
    assert!(rows[1]["partner"].is_null());
    assert_eq!(rows[1]["won_revenue"].as_f64(), Some(350.0));
    assert!((rows[1]["avg_rep_revenue"].as_f64().unwrap() - 350.0 / 3.0).abs() < 1e-9);
    // The funnel: P1 2 created, 2 won; no partner 3 created, 2 won.
    let rows = json_rows(&kpi(&[
        "--spec",
        s,
        "eval",
        "deal_funnel",
        "--by",
        "partner",
        "--format",
        "json",
    ]));
    let counts: Vec<(Option<&str>, &str, u64)> = rows
        .iter()
        .map(|r| {
            (
                r["partner"].as_str(),
                r["step"].as_str().unwrap(),
                r["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        vec![
            (Some("P1"), "created", 2),
            (Some("P1"), "won", 2),
            (None, "created", 3),
            (None, "won", 2)
        ]
    );
    assert!((rows[3]["conversion"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    // Status by partner: January is over; P1 made 100, no partner 350.
    let out = kpi(&["--spec", s, "status", "--as-of", "2025-03-01", "--format", "json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let actual: Vec<(Option<&str>, f64)> = rows
        .iter()
        .map(|r| (r["member"].as_str(), r["actual"].as_f64().unwrap()))
        .collect();
    assert!(
        actual.contains(&(Some("P1"), 100.0)) && actual.contains(&(None, 350.0)),
        "{rows:?}"
    );
}

#[test]
fn output_into_a_device_keeps_the_device() {
    won_deals_csv_to("/dev/null");
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());
}

#[test]
fn status_takes_the_range_and_segment_flags() {
    let all: Vec<serde_json::Value> =
        serde_json::from_slice(&kpi(&["status", "--format", "json"]).stdout).unwrap();
    let q3: Vec<serde_json::Value> =
        serde_json::from_slice(&kpi(&["status", "--period", "2025-Q3", "--format", "json"]).stdout).unwrap();
    let periods = |rows: &[serde_json::Value], target: &str| -> Vec<String> {
        rows.iter()
            .filter(|r| r["target"] == target)
            .map(|r| r["period"].as_str().unwrap().to_string())
            .collect()
    };
    // A target of Q4 is left out; a monthly one shows Q3's three months.
    assert_eq!(periods(&all, "q4_revenue_growth"), ["2025-Q4"]);
    assert!(periods(&q3, "q4_revenue_growth").is_empty());
    assert_eq!(
        periods(&q3, "fast_lead_response"),
        ["2025-07", "2025-08", "2025-09"]
    );
    // Every row left overlaps Q3: a label within it, or a year or range around it.
    for r in &q3 {
        let p = r["period"].as_str().unwrap();
        assert!(
            ["2025-07", "2025-08", "2025-09", "2025-Q3", "2025"].contains(&p) || p.contains(".."),
            "{p}"
        );
    }
    let out = kpi(&["status", "--segment", "enterprize"]);
    assert_eq!(out.status.code(), Some(2));
    let out = kpi(&["status", "--by", "owner"]);
    assert_eq!(out.status.code(), Some(2));
    // No example target is on `enterprise`, none lies in 2020: each empty
    // table says why.
    let out = kpi(&["status", "--segment", "enterprise", "--format", "csv"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no rows: no target is on segment `enterprise`"),
        "{err}"
    );
    let out = kpi(&["status", "--period", "2020", "--format", "csv"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no rows: no target has a period overlapping the range"),
        "{err}"
    );
}

#[test]
fn a_spec_without_targets_or_tests_says_so() {
    // No targets: an empty table, and a note that says why.
    let out = kpi(&["--spec", "examples/crm", "status"]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("the spec has no targets"), "{stderr}");
    // Nor tests: passes, and says there were none.
    let out = kpi(&["--spec", "examples/crm", "test"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout, "ok: the spec has no tests (add them under `tests:`)\n");
}

#[test]
fn a_kpi_without_time_is_left_out_of_periods_or_refused_when_named() {
    let dir = temp_dir("timeless");
    std::fs::write(dir.join("d.csv"), "amount,at\n5,2025-01-03\n7,2025-02-03\n").unwrap();
    std::fs::write(dir.join("r.csv"), "owner\nann\nbob\n").unwrap();
    let spec = dir.join("s.yaml");
    std::fs::write(
        &spec,
        "datasets:\n  d: {source: d.csv, time: at}\n  r: {source: r.csv}\n\
         kpis:\n  total: {dataset: d, measure: sum(amount)}\n  reps: {dataset: r, measure: count()}\n",
    )
    .unwrap();
    let s = spec.to_str().unwrap();
    let out = kpi(&["--spec", s, "eval", "--grain", "month", "--format", "csv"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "period,total\n2025-01,5\n2025-02,7\n"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("`reps` is left out"));
    let out = kpi(&["--spec", s, "eval", "reps", "--grain", "month"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("kpi::no_time_column"));
    // Without periods, both.
    let out = kpi(&["--spec", s, "eval", "--format", "csv"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "total,reps\n12,2\n");
    // Left out of a range, said as the range's flag (it said `--grain`).
    let out = kpi(&["--spec", s, "eval", "--period", "2025", "--format", "csv"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "total\n12\n");
    let said = printed_flat(&out);
    assert!(
        said.contains("--from/--to or --period: `reps` is left out: `reps` has no time column"),
        "{said}"
    );
}

/// LANGUAGE.md writes `inbound: {where: lead_source in ["web", "referral",
/// "event"]}`, which strict YAML cuts at the `[`; and `{measure:
/// rolling(win_rate, 2)}`, which it cuts at the comma. Both read as written.
#[test]
fn expressions_in_flow_mappings_read_as_written() {
    let dir = temp_dir("flow-expressions");
    std::fs::write(
        dir.join("leads.csv"),
        "id,lead_source,won,created_at\n1,web,1,2025-01-05\n2,event,0,2025-01-20\n3,cold,1,2025-01-21\n\
         4,referral,1,2025-02-02\n5,web,1,2025-02-10\n6,cold,0,2025-02-11\n7,event,0,2025-03-01\n",
    )
    .unwrap();
    let spec = dir.join("spec.yaml");
    std::fs::write(
        &spec,
        r#"datasets:
  leads: {source: leads.csv, time: created_at}
segments:
  inbound:    {where: lead_source in ["web", "referral", "event"]}
kpis:
  leads: {dataset: leads, measure: count(), unit: count}
  won: {dataset: leads, measure: sum(won), unit: count}
  share: {measure: won / leads, unit: percent}
  share_2m: {measure: rolling(share, 2), unit: percent}
"#,
    )
    .unwrap();
    let out = kpi(&[
        "--spec",
        spec.to_str().unwrap(),
        "eval",
        "--segment",
        "inbound",
        "--grain",
        "month",
        "--format",
        "csv",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Inbound: January 1 and 2 (1 won of 2), February 4 and 5 (2 of 2),
    // March 7 (0 of 1). Two months rolled: (1 + 2) / (2 + 2), (2 + 0) / (2 + 1).
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "period,leads,won,share,share_2m\n2025-01,2,1,0.5,0.5\n2025-02,2,2,1,0.75\n\
         2025-03,1,0,0,0.666666666666667\n"
    );
}

/// A source given as a web address is said to be one kpi does not read,
/// by `kpi check` already (it was "does not exist", with advice on
/// relative paths); a `file://` URL is the file's path.
#[test]
fn a_web_address_as_source_is_refused_and_a_file_url_read() {
    let dir = temp_dir("url-source");
    std::fs::write(dir.join("deals.csv"), "stage,amount\nwon,10\nlost,5\n").unwrap();
    let spec = dir.join("s.yaml");
    let write = |source: &str| {
        let text = format!(
            "datasets:\n  deals: {{source: \"{source}\"}}\nkpis:\n  total: {{dataset: deals, measure: sum(amount)}}\n"
        );
        std::fs::write(&spec, text).unwrap();
    };
    write("https://example.com/exports/deals.csv");
    let out = kpi(&["--spec", spec.to_str().unwrap(), "check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let found: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(found[0]["code"], "kpi::source_url_unsupported", "{found}");
    assert_eq!(
        (found[0]["line"].as_u64(), found[0]["column"].as_u64()),
        (Some(2), Some(19))
    );
    write(&format!("file://{}", dir.join("deals.csv").display()));
    let out = kpi(&["--spec", spec.to_str().unwrap(), "eval", "--format", "csv"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "total\n15\n");
}

/// `~` in a source is no home folder (no shell reads the spec): the
/// missing file's help says to write `${HOME}`, and `${HOME}` works.
#[test]
fn a_tilde_in_a_source_is_explained() {
    let dir = temp_dir("tilde-source");
    std::fs::write(dir.join("deals.csv"), "stage,amount\nwon,10\n").unwrap();
    let spec = dir.join("s.yaml");
    let write = |source: &str| {
        let text =
            format!("datasets:\n  deals: {{source: \"{source}\"}}\nkpis:\n  total: {{dataset: deals, measure: sum(amount)}}\n");
        std::fs::write(&spec, text).unwrap();
    };
    write("~/deals.csv");
    let out = kpi(&["--spec", spec.to_str().unwrap(), "eval"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("kpi::source_not_found") && stderr.contains("${HOME}"),
        "{stderr}"
    );
    write("${HOME}/deals.csv");
    let out = std::process::Command::new(kpi_bin())
        .args(["--spec", spec.to_str().unwrap(), "eval", "--format", "csv"])
        .env("HOME", &dir)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "total\n10\n");
}

/// Groups of a numeric dimension come in the order of their values (2
/// before 10), not of their text; other dimensions in text order, nulls
/// last.
#[test]
fn numeric_groups_are_in_numeric_order() {
    let dir = temp_dir("numeric-order");
    let deals = root().join("examples/data/deals.csv");
    std::fs::write(
        dir.join("s.yaml"),
        format!(
            "datasets:\n  deals:\n    source: {}\n    time: closed_at\n    dimensions: {{month_no: month(closed_at)}}\nkpis:\n  n: {{dataset: deals, measure: count()}}\nfunnels:\n  f: {{dataset: deals, steps: [{{name: all}}, {{name: won, where: stage == \"won\"}}]}}\n",
            deals.display()
        ),
    )
    .unwrap();
    let want: Vec<String> = (1..=12).map(|m| m.to_string()).chain([String::new()]).collect();
    let spec = dir.join("s.yaml");
    // A funnel has a row per step: every other row starts a group.
    for (name, every) in [("n", 1), ("f", 2)] {
        let args = [
            "--spec",
            spec.to_str().unwrap(),
            "eval",
            name,
            "--by",
            "month_no",
            "--format",
            "csv",
        ];
        let text = String::from_utf8_lossy(&kpi(&args).stdout).into_owned();
        let months: Vec<&str> = text
            .lines()
            .skip(1)
            .step_by(every)
            .map(|l| l.split(',').next().unwrap_or(""))
            .collect();
        assert_eq!(months, want, "{name}: {text}");
    }
}

/// `kpi status` of a target by member lists numeric members by value too.
#[test]
fn numeric_members_of_a_target_are_in_numeric_order() {
    let dir = temp_dir("numeric-members");
    std::fs::write(
        dir.join("d.csv"),
        "rep,amount,closed_at\n10,1,2025-01-05\n2,2,2025-01-06\n1,3,2025-01-07\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("s.yaml"),
        "datasets:\n  d: {source: d.csv, time: closed_at}\nkpis:\n  total: {dataset: d, measure: sum(amount)}\ntargets:\n  each: {kpi: total, by: rep, period: 2025-01, value: 2, objective: x}\n",
    )
    .unwrap();
    let args = [
        "--spec",
        dir.to_str().unwrap(),
        "status",
        "--as-of",
        "2025-01-31",
        "--format",
        "csv",
    ];
    let text = String::from_utf8_lossy(&kpi(&args).stdout).into_owned();
    let members: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(3).unwrap_or(""))
        .collect();
    assert_eq!(members, ["1", "2", "10"], "{text}");
}

/// The contract's own examples, as written there, make a spec that checks
/// without its data (warnings for the columns `columns:` does not
/// declare) and whose test passes: the target's `by: owner` and `segment:
/// enterprise`, and the test's `stage` rows, were errors because the
/// dataset declares only `amount` and `closed_at`. With its data, nothing is
/// left to warn of; and a name another dataset declares but this one does
/// not is still an error (see the `segment_column_missing` case).
#[test]
fn the_contract_examples_check_and_their_test_passes() {
    let spec = "tests/fixtures/language/spec.yaml";
    let out = kpi(&["--spec", spec, "check"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("0 errors") && text.contains("`segment` is not declared"),
        "{text}"
    );
    let out = kpi(&["--spec", spec, "check", "--data"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = kpi(&["--spec", spec, "test"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("ok: 1 passed, 0 failed"), "{text}");
}

/// A number column kept text by a word for no value (`n.a.`, too few of
/// them to be named as one odd value): the type error about `sum(amount)`
/// says what to do with the data, not with the expression; declared, the
/// column names the word and the option that reads it as no value, and
/// with that option the sum is the other rows' (10 + 11 + 12 + 13).
#[test]
fn a_word_for_no_value_in_a_number_column_is_explained() {
    let csv = "owner,amount,closed_at\nann,10,2025-01-02\nbob,n.a.,2025-01-03\nann,11,2025-01-02\nann,12,2025-01-02\nann,13,2025-01-02\n";
    let kpis = "kpis:\n  s: {dataset: n, measure: sum(amount)}\n";
    let with = |dataset: &str| format!("datasets:\n  n: {{source: c.csv, time: closed_at{dataset}}}\n{kpis}");
    let dir = dir_with(
        "word-for-no-value",
        &[
            ("c.csv", csv),
            ("plain.yaml", &with("")),
            ("declared.yaml", &with(", columns: {amount: number}")),
            (
                "read.yaml",
                &with(", columns: {amount: number}, read: {null_values: [\"n.a.\"]}"),
            ),
        ],
    );
    let (code, _, err) = kpi_in(&dir, &["--spec", "plain.yaml", "eval"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("kpi::type_mismatch") && err.contains("Declare `amount: number`"),
        "{err}"
    );
    let (code, out, _) = kpi_in(&dir, &["--spec", "declared.yaml", "check", "--data"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("`c.csv` line 3 holds `n.a.`"), "{out}");
    assert!(out.contains("read: {null_values: [\"n.a.\"]}"), "{out}");
    let (code, out, err) = kpi_in(&dir, &["--spec", "read.yaml", "eval", "--format", "csv"]);
    assert_eq!((code, out.as_str()), (Some(0), "s\n46\n"), "{err}");
}

/// Measures of constants alone (`sum(1)`, the analyst's count of rows,
/// `count(2)`, `avg(3)`) are aggregated over every row: the values read
/// no column, and the rows' select of them was one row, so under `--grain
/// all` `sum(1)` of three deals was 1 (and `count()` beside it too). Over
/// no rows they are what aggregates of no rows are. By hand: 3 rows.
#[test]
fn measures_of_constants_count_every_row() {
    let kpis = "kpis:\n  rows: {dataset: d, measure: sum(1)}\n  twos: {dataset: d, measure: count(2)}\n  \
                n: {dataset: d, measure: count()}\n  three: {dataset: d, measure: avg(3)}\n  \
                spread: {dataset: d, measure: stddev(2)}\n";
    let spec = format!("datasets:\n  d: {{source: d.csv, time: closed_at, columns: {{owner: string, closed_at: date}}}}\n{kpis}");
    let rows = "owner,closed_at\na,2025-01-05\nb,\nc,2025-02-01\n";
    let dir = dir_with("constant-measures", &[("d.csv", rows), ("s.yaml", &spec)]);
    let eval = |args: &[&str]| {
        let mut all = vec!["--spec", "s.yaml", "eval", "--format", "json"];
        all.extend(args);
        let (code, out, err) = kpi_in(&dir, &all);
        assert_eq!(code, Some(0), "{err}");
        serde_json::from_str::<serde_json::Value>(&out).unwrap()
    };
    let all = eval(&["rows", "twos", "n", "three"]);
    assert_eq!(
        all,
        serde_json::json!([{"rows": 3.0, "twos": 3, "n": 3, "three": 3.0}])
    );
    // Each alone, and beside an aggregate Polars computes.
    assert_eq!(eval(&["rows"]), serde_json::json!([{"rows": 3.0}]));
    assert_eq!(
        eval(&["twos", "spread"]),
        serde_json::json!([{"twos": 3, "spread": 0.0}])
    );
    // By month: the row without a date is left out.
    let by_month = eval(&["rows", "--grain", "month"]);
    assert_eq!(
        by_month,
        serde_json::json!([{"period": "2025-01", "rows": 1.0}, {"period": "2025-02", "rows": 1.0}])
    );
    std::fs::write(dir.join("d.csv"), "owner,closed_at\n").unwrap();
    let none = eval(&["rows", "twos", "n", "three"]);
    assert_eq!(
        none,
        serde_json::json!([{"rows": 0.0, "twos": 0, "n": 0, "three": null}])
    );
}

/// A query a funnel cannot take (a segment or `--by` on a column its
/// dataset lacks) is one error, of the funnel: it was one per step, each
/// naming a hidden step KPI (`beneath `__step0``).
#[test]
fn a_query_a_funnel_cannot_take_is_said_once_of_the_funnel() {
    let dir = dir_with(
        "funnel-refusal",
        &[
            ("leads.csv", "stage,created_at\nwon,2025-01-02\n"),
            ("deals.csv", "region,amount\nEast,5\n"),
        ],
    );
    std::fs::write(
        dir.join("s.yaml"),
        "datasets:\n  leads: {source: leads.csv, time: created_at}\n  deals: {source: deals.csv}\nsegments:\n  east: {where: region == \"East\"}\nkpis:\n  total: {dataset: deals, measure: sum(amount)}\nfunnels:\n  pipe:\n    dataset: leads\n    steps:\n      - {name: created}\n      - {name: won, where: stage == \"won\"}\n",
    )
    .unwrap();
    for (flag, said) in [
        (
            "--segment",
            "segment `east` uses `region`, which dataset `leads` of funnel `pipe` does not have",
        ),
        (
            "--by",
            "dimension `region` is not on dataset `leads` of funnel `pipe`",
        ),
    ] {
        let value = if flag == "--by" { "region" } else { "east" };
        let (code, out, err) = kpi_in(&dir, &["--spec", "s.yaml", "eval", "pipe", flag, value]);
        assert_eq!((code, out.as_str()), (Some(1), ""), "{err}");
        assert_eq!(err.matches(said).count(), 1, "{err}");
        assert!(!err.contains("__step"), "{err}");
    }
}

/// `date(s)` of a text column is its ISO day (`2025-01-16` of
/// `2025-01-16T09:30:00` too) and null where the text is none: a column
/// whose first value was no date failed the whole evaluation ("could not
/// find an appropriate format to parse dates"). By hand: of six texts,
/// `soon`, the empty one and `2025-13-45` are no day; the others are
/// January 15 to 17.
#[test]
fn the_date_of_a_text_is_its_iso_day_or_null() {
    let dir = dir_with(
        "date-of-text",
        &[(
            "d.csv",
            "txt,closed_at\nsoon,2025-01-02\n2025-01-16T09:30:00,2025-01-20\n2025-01-15,2025-01-20\n,2025-01-20\n2025-13-45,2025-01-21\n2025-01-17,2025-01-21\n",
        )],
    );
    std::fs::write(
        dir.join("s.yaml"),
        "datasets:\n  d: {source: d.csv, time: closed_at}\nkpis:\n  none: {dataset: d, measure: count(where date(txt) is null)}\n  first: {dataset: d, measure: min(date(txt))}\n  last: {dataset: d, measure: max(date(txt))}\n  since: {dataset: d, measure: 'count(where closed_at >= date(\"2025-01-20\"))'}\n",
    )
    .unwrap();
    let (code, out, err) = kpi_in(&dir, &["--spec", "s.yaml", "eval", "--format", "csv"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "none,first,last,since\n3,2025-01-15,2025-01-17,5\n");
}

/// Rows of a stock that end before they start are never active, which
/// `kpi check --data` says with their count (a level left them out
/// without a word); a clean interval says nothing. By hand: one of three
/// subscriptions ends (Feb 1) before it starts (Mar 1); at the end of
/// March the two others are active, 100 + 50.
#[test]
fn an_interval_ending_before_it_starts_is_said() {
    let dir = dir_with(
        "interval-reversed",
        &[(
            "s.csv",
            "id,mrr,started_at,ended_at\n1,100,2025-01-10,\n2,50,2025-02-01,\n3,30,2025-03-01,2025-02-01\n",
        )],
    );
    let spec = "datasets:\n  subs: {source: s.csv}\nkpis:\n  mrr:\n    dataset: subs\n    measure: sum(mrr)\n    active: {from: started_at, to: ended_at}\n";
    std::fs::write(dir.join("s.yaml"), spec).unwrap();
    let (code, out, _) = kpi_in(&dir, &["--spec", "s.yaml", "check", "--data"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("kpi::interval_reversed")
            && out.contains("1 row of dataset `subs` ends before it starts (`ended_at` before `started_at`)"),
        "{out}"
    );
    let (_, out, _) = kpi_in(
        &dir,
        &[
            "--spec", "s.yaml", "eval", "--period", "2025-03", "--format", "csv",
        ],
    );
    assert_eq!(out, "mrr\n150\n");
    std::fs::write(
        dir.join("s.csv"),
        "id,mrr,started_at,ended_at\n1,100,2025-01-10,2025-04-01\n",
    )
    .unwrap();
    let (code, out, _) = kpi_in(&dir, &["--spec", "s.yaml", "check", "--data"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("interval_reversed"), "{out}");
}
