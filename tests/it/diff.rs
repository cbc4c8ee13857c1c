//! `kpi diff`: semantic differences between spec versions (paths or git
//! revisions), the KPIs affected above a change, and the values that move.

use std::path::{Path, PathBuf};
use std::process::Command;

use kpi::diff::{diff, ChangeKind};

use crate::support::{check_str, copy_dir, dir_with, kpi_in, root, temp_dir};

fn spec(text: &str) -> kpi::spec::Spec {
    check_str("s.yaml", text).spec
}

const BASE: &str = r#"datasets:
  deals: {source: deals.csv, time: closed_at}
kpis:
  won: {dataset: deals, measure: 'sum(amount where stage == "won")'}
  closed: {dataset: deals, measure: 'count(where stage in ["won", "lost"])'}
  per_deal: {measure: won / closed}
  other: {dataset: deals, measure: count()}
"#;

/// What moves numbers beyond KPIs is a change too (they were "no
/// changes"): how a dataset's files are read, the table or query it reads,
/// the connection it reads through (and so the datasets on it and their
/// KPIs), and the calendar. A password written in a URI is not shown.
#[test]
fn reading_connections_and_the_calendar_are_definitions() {
    let with = |calendar: &str, uri: &str, read: &str, query: &str| {
        format!(
            "{calendar}connections:\n  w: {{driver: postgresql, uri: '{uri}'}}\ndatasets:\n  deals: {{source: deals.csv, time: closed_at{read}}}\n  leads: {{source: {{connection: w, query: '{query}'}}, time: created_at}}\nkpis:\n  won: {{dataset: deals, measure: count()}}\n  leads_n: {{dataset: leads, measure: count()}}\n"
        )
    };
    let old = with("", "${PG_URI}", "", "select * from leads");
    let new = with(
        "calendar: {fiscal_year_start: 7}\n",
        "postgresql://kpi:s3cret@db/sales",
        ", read: {decimal_comma: true, null_values: [\"-\"]}",
        "select *\n  from leads where not test",
    );
    let human = kpi::diff::to_human(&diff(&spec(&old), &spec(&new)));
    assert_eq!(
        human,
        "changed the calendar: fiscal_year_start
    fiscal_year_start:
      - 1
      + 7
changed connection `w`: uri
    uri:
      - ${PG_URI}
      + (a URI with a password)
changed dataset `deals`: read
    read:
      - (none)
      + null_values [\"-\"], decimal_comma
changed dataset `leads`: source
    source:
      - w: query select * from leads
      + w: query select * from leads where not test
affected kpi `won` (through `calendar`, `deals`)
affected kpi `leads_n` (through `calendar`, `leads`)
",
        "{human}"
    );
    // Nor is one given as a parameter, or an option named for a secret
    // (both were shown as written).
    let token = |uri: &str, token: &str| {
        format!(
            "connections:\n  w: {{driver: postgresql, uri: '{uri}', options: {{auth_token: '{token}'}}}}\n"
        )
    };
    let human = kpi::diff::to_human(&diff(
        &spec(&token("${PG_URI}", "${TOKEN}")),
        &spec(&token(
            "postgresql://db/sales?user=kpi&password=hunter22",
            "tok3n-value",
        )),
    ));
    assert!(
        !human.contains("hunter22") && !human.contains("tok3n-value"),
        "{human}"
    );
    assert!(
        human.contains("+ (a URI with a password)") && human.contains("+ auth_token = (a secret)"),
        "{human}"
    );
    // The calendar alone moves every KPI's periods: `--values` evaluates
    // them (by month, a fiscal year that starts in July moves nothing).
    let dir = dir_with(
        "diff-calendar",
        &[("deals.csv", "closed_at,amount\n2025-01-10,5\n2025-08-02,7\n")],
    );
    let two = |calendar: &str| {
        format!("{calendar}datasets:\n  deals: {{source: deals.csv, time: closed_at}}\nkpis:\n  total: {{dataset: deals, measure: sum(amount)}}\n")
    };
    std::fs::create_dir_all(dir.join("old")).unwrap();
    std::fs::create_dir_all(dir.join("new")).unwrap();
    std::fs::write(dir.join("old/s.yaml"), two("")).unwrap();
    std::fs::write(dir.join("new/s.yaml"), two("calendar: {fiscal_year_start: 7}\n")).unwrap();
    std::fs::copy(dir.join("deals.csv"), dir.join("old/deals.csv")).unwrap();
    std::fs::copy(dir.join("deals.csv"), dir.join("new/deals.csv")).unwrap();
    let (_, out, err) = kpi_in(&dir, &["diff", "old", "new", "--values", "--grain", "month"]);
    assert!(
        out.contains("affected kpi `total` (through `calendar`)") && out.contains("no values change"),
        "{out}{err}"
    );
    // By year, 2025 (5 + 7) is now FY2025 (5) and FY2026 (7); the year
    // 2025 is gone (it was left out: only the new version's rows were
    // compared).
    let (_, out, err) = kpi_in(&dir, &["diff", "old", "new", "--values", "--grain", "year"]);
    assert!(
        out.ends_with(
            "values that change:\n  total [period=FY2025]: null → 5\n  total [period=FY2026]: null → 7\n  total [period=2025]: 12 → null\n"
        ),
        "{out}{err}"
    );
    // A connection alone moves the datasets on it.
    let moved = with("", "${OTHER_URI}", "", "select * from leads");
    let human = kpi::diff::to_human(&diff(&spec(&old), &spec(&moved)));
    assert!(
        human.contains("affected dataset `leads` (through `w`)")
            && human.contains("affected kpi `leads_n` (through `leads`)"),
        "{human}"
    );
}

/// A field that was not set is said so, in Markdown too (an empty code
/// span is no span there).
#[test]
fn a_field_set_for_the_first_time_shows_none_before() {
    let titled = BASE.replace(
        "  other: {dataset: deals, measure: count()}",
        "  other: {dataset: deals, measure: count(), title: Deals}",
    );
    let changes = diff(&spec(BASE), &spec(&titled));
    assert_eq!(
        kpi::diff::to_human(&changes),
        "described kpi `other` differently: title\n    title:\n      - (none)\n      + Deals\n"
    );
    assert_eq!(
        kpi::diff::to_markdown(&changes),
        "### kpi diff\n\n- described kpi `other` differently: title\n  - `title`: *none* → `Deals`\n"
    );
    // A description of two lines stays on the line of its field.
    let described = titled.replace("title: Deals}", "title: Deals, description: \"One\\nTwo\"}");
    assert!(kpi::diff::to_markdown(&diff(&spec(&titled), &spec(&described)))
        .ends_with("  - `description`: *none* → `One Two`\n"));
    let json = serde_json::to_value(&changes).unwrap();
    assert_eq!(json[0]["fields"][0]["old"], serde_json::Value::Null);
    assert_eq!(json[0]["fields"][0]["new"], "Deals");
}

#[test]
fn form_does_not_count_but_meaning_does() {
    let same = r#"datasets:
  deals: {source: deals.csv, time: closed_at}
kpis:
  won:
    dataset: deals
    measure: sum( amount where 'won'==stage )
  closed: {dataset: deals, measure: "count(where stage in ['lost','won'])"}
  per_deal: {measure: (won) / closed}
  other: {dataset: deals, measure: count()}
"#;
    assert_eq!(check_str("s.yaml", same).errors(), 0);
    assert_eq!(diff(&spec(BASE), &spec(same)), vec![]);
    // A comparison written the other way round means the same (it was a change).
    let other_way =
        |cond: &str| BASE.replace(r#"stage == "won")'"#, &format!(r#"stage == "won" and {cond})'"#));
    assert_eq!(
        diff(&spec(&other_way("amount > 10")), &spec(&other_way("10 < amount"))),
        vec![]
    );
    assert_eq!(
        diff(
            &spec(&other_way("amount <= 10")),
            &spec(&other_way("10 >= amount"))
        ),
        vec![]
    );
    assert_eq!(
        diff(&spec(&other_way("amount > 10")), &spec(&other_way("amount < 10"))).len(),
        2
    );
    let changed = BASE.replace(r#"stage == "won")'"#, r#"stage == "won" and amount > 10)'"#);
    let changes = diff(&spec(BASE), &spec(&changed));
    let names: Vec<(&str, &ChangeKind)> = changes.iter().map(|c| (c.name.as_str(), &c.kind)).collect();
    assert_eq!(
        names,
        [
            ("won", &ChangeKind::Changed),
            (
                "per_deal",
                &ChangeKind::Affected {
                    through: vec!["won".to_string()]
                }
            )
        ]
    );
    assert_eq!(changes[0].fields[0].field, "measure");
    assert!(changes[0].fields[0].new.contains("amount > 10"));
    // A title is description, not definition; a renamed KPI with the same measure is a rename.
    let described = BASE
        .replace("other: {dataset", "other: {title: Rows, dataset")
        .replace("  won:", "  won_revenue:")
        .replace("won / closed", "won_revenue / closed");
    let changes = diff(&spec(BASE), &spec(&described));
    assert!(changes
        .iter()
        .any(|c| c.name == "other" && c.kind == ChangeKind::Described));
    assert!(changes.iter().any(|c| c.name == "won_revenue"
        && c.kind
            == ChangeKind::Renamed {
                from: "won".to_string()
            }));
    assert!(changes
        .iter()
        .any(|c| c.name == "per_deal" && c.kind == ChangeKind::Changed));
    // A funnel's steps: compared by meaning, shown as written (they were
    // shown in the comparison's form, `"won" == stage`).
    let funnel = |steps: &str| format!("{BASE}funnels:\n  f: {{dataset: deals, steps: [{steps}]}}\n");
    let old = funnel("{name: all}, {name: won, where: stage == \"won\"}");
    let reordered = funnel("{name: all}, {name: won, where: '\"won\" == stage'}");
    assert_eq!(diff(&spec(&old), &spec(&reordered)), vec![]);
    let longer = funnel("{name: all}, {name: big, where: amount > 10}, {name: won, where: stage == \"won\"}");
    let changes = diff(&spec(&old), &spec(&longer));
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].fields[0].old, "all → won (stage == \"won\")");
    assert_eq!(
        changes[0].fields[0].new,
        "all → big (amount > 10) → won (stage == \"won\")"
    );
    // A dataset's dimensions likewise.
    let banded = |band: &str| {
        BASE.replace(
            "time: closed_at}",
            &format!("time: closed_at, dimensions: {{band: '{band}'}}}}"),
        )
    };
    let old = banded("if amount > 10 then \"big\" else \"small\"");
    assert_eq!(
        diff(
            &spec(&old),
            &spec(&banded("if (amount>10) then \"big\" else \"small\""))
        ),
        vec![]
    );
    let changes = diff(
        &spec(&old),
        &spec(&banded("if (amount > 20) then \"big\" else \"small\"")),
    );
    let field = &changes[0].fields[0];
    assert_eq!(
        (field.field.as_str(), field.new.as_str()),
        (
            "dimensions",
            "band = if (amount > 20) then \"big\" else \"small\""
        ),
        "{changes:?}"
    );
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.email=kpi@example.com", "-c", "user.name=kpi"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `kpi ARGS` in `dir`, which must succeed: its standard output.
fn run(dir: &Path, args: &[&str]) -> String {
    let (code, out, err) = kpi_in(dir, args);
    assert_eq!(code, Some(0), "{args:?}: {err}");
    out
}

#[test]
fn a_changed_filter_in_a_commit_names_that_kpi_and_what_it_moves() {
    let dir = temp_dir("diff-git");
    copy_dir(&root().join("kpis"), &dir.join("kpis"));
    copy_dir(&root().join("examples/data"), &dir.join("examples/data"));
    git(&dir, &["init", "-q"]);
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-qm", "base"]);
    let file = dir.join("kpis/pipeline.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let from = r#"    measure: sum(amount where stage == "won")"#;
    assert!(text.contains(from));
    std::fs::write(
        &file,
        text.replace(
            from,
            r#"    measure: sum(amount where stage == "won" and amount > 20000)"#,
        ),
    )
    .unwrap();
    git(&dir, &["commit", "-qam", "filter"]);

    let out = run(&dir, &["diff", "HEAD~1", "HEAD", "--values", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let changes = v["changes"].as_array().unwrap();
    let changed: Vec<&str> = changes
        .iter()
        .filter(|c| c["kind"] == "changed")
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(changed, ["won_revenue"]);
    let affected: Vec<&str> = changes
        .iter()
        .filter(|c| c["kind"] == "affected" && c["entity"] == "kpi")
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for k in [
        "quota_attainment",
        "forecast_accuracy",
        "revenue_growth_yoy",
        "ytd_revenue",
        "reps_at_quota_share",
    ] {
        assert!(affected.contains(&k), "{k} in {affected:?}");
    }
    assert!(!affected.contains(&"win_rate") && !affected.contains(&"won_deals"));
    // The numbers that moved: won revenue loses every won deal of 20,000 or less.
    let values = v["values"].as_array().unwrap();
    let won = values.iter().find(|x| x["kpi"] == "won_revenue").unwrap();
    let (old, new) = (won["old"].as_f64().unwrap(), won["new"].as_f64().unwrap());
    let small: f64 = std::fs::read_to_string(dir.join("examples/data/deals.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|r| r[4] == "won")
        .filter_map(|r| r[5].parse::<f64>().ok())
        .filter(|a| *a <= 20000.0)
        .sum();
    assert!((old - new - small).abs() < 1e-6, "{old} - {new} != {small}");
    assert!(values.iter().all(|x| x["kpi"] != "win_rate"));

    // Markdown for a pull-request comment.
    let md = run(
        &dir,
        &["diff", "HEAD~1", "HEAD", "--values", "--format", "markdown"],
    );
    assert!(md.starts_with("### kpi diff"), "{md}");
    assert!(md.contains("| `won_revenue` | all |"), "{md}");

    // Rewriting an expression's form (spacing, quotes, operand order) is no change.
    let text = std::fs::read_to_string(&file).unwrap();
    let from = r#"    measure: count(where stage == "won") / count(where stage in ["won", "lost"])"#;
    assert!(text.contains(from));
    let to = r#"    measure: "count(where  'won' == stage)/count(where stage in ['lost', 'won'])""#;
    std::fs::write(&file, text.replace(from, to)).unwrap();
    assert_eq!(
        run(&dir, &["diff", "--base", "HEAD", "--values"]),
        "no changes\nno values change\n"
    );
    git(&dir, &["commit", "-qam", "reformat"]);
    assert_eq!(run(&dir, &["diff", "HEAD~1", "HEAD"]), "no changes\n");
    // Paths work as well as revisions.
    let out = run(&dir, &["diff", root().join("kpis").to_str().unwrap(), "kpis"]);
    assert!(out.contains("changed kpi `won_revenue`: measure"), "{out}");
}

#[test]
fn an_unknown_revision_is_a_usage_error() {
    let out = crate::support::kpi(&["diff", "no-such-revision-xyz"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("neither a spec path nor a git revision"));
}

/// A folder holding `d.csv` (`data`) and two versions of a spec reading
/// it, `old/s.yaml` and `new/s.yaml`, for `kpi diff old new --values`.
fn two_versions(name: &str, data: &str, old: &str, new: &str) -> PathBuf {
    let dir = temp_dir(name);
    std::fs::write(dir.join("d.csv"), data).unwrap();
    for (side, text) in [("old", old), ("new", new)] {
        std::fs::create_dir_all(dir.join(side)).unwrap();
        std::fs::write(dir.join(side).join("s.yaml"), text).unwrap();
    }
    dir
}

/// A date KPI beside a changed one: its value (shown as a date) is no key
/// of the rows, so the changed KPI's move is said of the whole range (it
/// was said of `last_close=2025-01-19`, against a null); and a changed
/// date KPI is shown as its days and moves by days.
#[test]
fn date_kpis_are_values_not_keys() {
    let spec = |last: &str, total: &str| {
        format!("datasets:\n  d: {{source: ../d.csv, time: closed_at, columns: {{closed_at: date, amount: number}}}}\nkpis:\n  last_close: {{dataset: d, measure: '{last}'}}\n  total: {{dataset: d, measure: '{total}'}}\n")
    };
    let dir = two_versions(
        "diff-dates",
        "amount,closed_at\n100,2025-01-15\n-30,2025-02-03\n50,2025-01-19\n",
        &spec("max(closed_at)", "sum(amount)"),
        &spec("max(closed_at where amount > 0)", "sum(amount where amount > 0)"),
    );
    let (code, out, err) = kpi_in(&dir, &["diff", "old", "new", "--values"]);
    assert_eq!(code, Some(0), "{err}");
    // total: 120 → 150; last_close: 2025-02-03 → 2025-01-19, 15 days earlier.
    assert!(out.contains("total [all]: 120 → 150"), "{out}");
    assert!(
        out.contains("last_close [all]: 2025-02-03 → 2025-01-19 -15 days"),
        "{out}"
    );
    // In JSON, as `kpi eval` writes a date KPI: its dates.
    let (code, out, err) = kpi_in(&dir, &["diff", "old", "new", "--values", "--format", "json"]);
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let last = v["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kpi"] == "last_close")
        .unwrap();
    assert_eq!(
        (&last["old"], &last["new"]),
        (&"2025-02-03".into(), &"2025-01-19".into()),
        "{out}"
    );
    let total = v["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kpi"] == "total")
        .unwrap();
    assert_eq!(
        (&total["old"], &total["new"]),
        (&120.0.into(), &150.0.into()),
        "{out}"
    );
}

/// Values that move read as `kpi eval`'s table shows them: by unit, a
/// percentage's move in points, others' with their relative change.
#[test]
fn moved_values_read_by_their_unit() {
    let spec = |kept: &str| {
        format!("datasets:\n  d: {{source: ../d.csv, time: closed_at}}\nkpis:\n  total: {{dataset: d, measure: 'sum(amount where {kept})', unit: currency}}\n  rate: {{dataset: d, measure: 'count(where stage == \"won\" and {kept}) / count(where {kept})', unit: percent}}\n")
    };
    let dir = two_versions(
        "diff-units",
        "amount,stage,closed_at\n1200,won,2025-01-15\n300,lost,2025-01-20\n-100,won,2025-02-03\n",
        &spec("true"),
        &spec("amount > 0"),
    );
    // total: 1,400 → 1,500 (+100, +7.1%); rate: 2 of 3 won → 1 of 2 (66.7% → 50.0%, −16.7 pp).
    let (code, out, err) = kpi_in(&dir, &["diff", "old", "new", "--values"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("total [all]: 1,400 → 1,500 +100 (+7.1%)"), "{out}");
    assert!(out.contains("rate [all]: 66.7% → 50.0% -16.7 pp"), "{out}");
    let (code, md, err) = kpi_in(&dir, &["diff", "old", "new", "--values", "--format", "markdown"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        md.contains("| `total` | all | 1,400 | 1,500 | +100 (+7.1%) |"),
        "{md}"
    );
}

/// A group that the new definition no longer makes is a value that
/// changes (only the new version's rows were compared, so `north` was not
/// said). Hand-worked: bob's deal was `north`, ann's two `south`; with
/// every deal `south`, south counts 3 and north is gone.
#[test]
fn a_group_the_new_version_drops_is_a_change() {
    let dir = temp_dir("diff-dropped-group");
    let spec = |region: &str| {
        format!("datasets:\n  deals:\n    source: deals.csv\n    time: closed_at\n    dimensions: {{region: '{region}'}}\nkpis:\n  deals_n: {{dataset: deals, measure: count()}}\n")
    };
    for (side, region) in [
        ("old", "if owner == \"bob\" then \"north\" else \"south\""),
        ("new", "\"south\""),
    ] {
        std::fs::create_dir_all(dir.join(side)).unwrap();
        std::fs::write(
            dir.join(side).join("deals.csv"),
            "owner,closed_at\nann,2025-01-10\nann,2025-01-11\nbob,2025-01-12\n",
        )
        .unwrap();
        std::fs::write(dir.join(side).join("s.yaml"), spec(region)).unwrap();
    }
    let (code, out, err) = kpi_in(&dir, &["diff", "old", "new", "--values", "--by", "region"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.ends_with("values that change:\n  deals_n [region=south]: 2 → 3 +1 (+50.0%)\n  deals_n [region=north]: 1 → null\n"),
        "{out}"
    );
}

/// A stock taken at the start is, under `--grain all` without a range,
/// the level the day before the data's first (0 in both versions): a
/// change to it cannot show there, and the note says so and how to see
/// it; by month its values move (by hand: the deal of 100 opened Jan 10
/// and still open is open on Jan 31, the day before February starts; the
/// new version counts only amounts over 150, so 0).
#[test]
fn a_stock_at_the_start_is_compared_by_a_grain() {
    let spec = |measure: &str| {
        format!("datasets:\n  d: {{source: ../d.csv, time: closed_at, columns: {{created_at: date, closed_at: date}}}}\nkpis:\n  open_at_start: {{dataset: d, measure: '{measure}', active: {{from: created_at, to: closed_at}}, at: start}}\n  twice: {{measure: open_at_start * 2}}\n  total: {{dataset: d, measure: sum(amount)}}\n")
    };
    let dir = two_versions(
        "diff-at-start",
        "amount,created_at,closed_at\n100,2025-01-10,\n200,2025-02-20,2025-03-05\n",
        &spec("sum(amount)"),
        &spec("sum(amount where amount > 150)"),
    );
    let (code, out, err) = kpi_in(&dir, &["diff", "old", "new", "--values"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("no values change"), "{out}");
    assert!(
        err.contains("`open_at_start`, `twice` are levels taken at the start")
            && err.contains("--grain month"),
        "{err}"
    );
    let (code, out, err) = kpi_in(&dir, &["diff", "old", "new", "--values", "--grain", "month"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("taken at the start"), "{err}");
    // February starts with the deal of 100 open: 100 → 0 (twice: 200 → 0);
    // March starts with both open: 300 → 200.
    for moved in [
        "open_at_start [period=2025-02]: 100 → 0",
        "open_at_start [period=2025-03]: 300 → 200",
        "twice [period=2025-02]: 200 → 0",
    ] {
        assert!(out.contains(moved), "{moved}\n{out}");
    }
}

/// A KPI described differently over a changed one is affected too: its
/// values move (they were not compared: `double` was only "described").
/// And a member that is null is `null` in JSON, `(none)` for people, not
/// the empty text. By hand: won is 100 (ann) and 200 (no owner); the new
/// version adds 50 to each, so double goes 200 → 300 and 400 → 500.
#[test]
fn a_kpi_described_anew_over_a_changed_one_is_affected() {
    let spec = |won: &str, title: &str| {
        format!("datasets:\n  d: {{source: ../d.csv, time: closed_at, columns: {{owner: string, amount: number, closed_at: date}}}}\nkpis:\n  won: {{dataset: d, measure: '{won}'}}\n  double: {{measure: won * 2, title: {title}}}\n")
    };
    let dir = two_versions(
        "diff-described-affected",
        "owner,amount,closed_at\nann,100,2025-01-10\n,200,2025-01-11\n",
        &spec("sum(amount)", "Double"),
        &spec("sum(amount + 50)", "Twice won"),
    );
    let (code, out, err) = kpi_in(&dir, &["diff", "old", "new", "--values", "--by", "owner"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("affected kpi `double` (through `won`); described differently: title\n"),
        "{out}"
    );
    assert!(
        out.contains("double [owner=ann]: 200 → 300 +100 (+50.0%)"),
        "{out}"
    );
    assert!(
        out.contains("double [owner=(none)]: 400 → 500 +100 (+25.0%)"),
        "{out}"
    );
    let (code, json, err) = kpi_in(
        &dir,
        &[
            "diff", "old", "new", "--values", "--by", "owner", "--format", "json",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let none = json["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["kpi"] == "double" && v["new"] == 500.0)
        .unwrap();
    assert_eq!(none["group"], serde_json::json!([["owner", null]]));
}

/// A member's text in a Markdown diff is one cell that reads as itself:
/// its `|` escaped and its `<` written as HTML writes it (a `|` split the
/// row, and `<!--` hid the rest of the comment).
#[test]
fn a_members_text_stays_in_its_markdown_cell() {
    let spec = |measure: &str| {
        format!("datasets:\n  d: {{source: ../d.csv, columns: {{owner: string, amount: number}}}}\nkpis:\n  total: {{dataset: d, measure: '{measure}'}}\n")
    };
    let dir = two_versions(
        "diff-markdown-cells",
        "owner,amount\n\"<!-- a|b\",10\n",
        &spec("sum(amount)"),
        &spec("sum(amount * 2)"),
    );
    let (code, md, err) = kpi_in(
        &dir,
        &[
            "diff", "old", "new", "--values", "--by", "owner", "--format", "markdown",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(
        md.contains("| `total` | owner=&lt;!-- a\\|b | 10 | 20 | +10 (+100.0%) |"),
        "{md}"
    );
}

/// A spec added in a commit (a pull request that starts the KPI files):
/// its revision before has no spec there, so every definition is added,
/// with a note on stderr, where `kpi diff` refused the older revision. A
/// path that neither revision holds is still refused.
#[test]
fn a_spec_added_in_a_commit_is_every_definition_added() {
    let dir = temp_dir("diff-added-spec");
    std::fs::write(dir.join("README.md"), "sales\n").unwrap();
    git(&dir, &["init", "-q"]);
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-qm", "start"]);
    std::fs::create_dir_all(dir.join("kpis")).unwrap();
    std::fs::write(
        dir.join("kpis/k.yaml"),
        "datasets:\n  d: {source: d.csv}\nkpis:\n  won: {dataset: d, measure: count()}\n",
    )
    .unwrap();
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-qm", "kpis"]);
    let (code, out, err) = kpi_in(&dir, &["diff", "HEAD~1", "HEAD"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "added dataset `d`\nadded kpi `won`\n");
    assert!(err.contains("there is no spec under `kpis` at `HEAD~1`: every definition is added"));
    // Removed, the other way round.
    assert_eq!(
        run(&dir, &["diff", "HEAD", "HEAD~1"]),
        "removed dataset `d`\nremoved kpi `won`\n"
    );
    // Removed from the working tree: every definition removed.
    std::fs::remove_dir_all(dir.join("kpis")).unwrap();
    assert_eq!(run(&dir, &["diff"]), "removed dataset `d`\nremoved kpi `won`\n");
    let (code, _, err) = kpi_in(&dir, &["--spec", "metrics", "diff", "HEAD~1", "HEAD"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no spec files under `metrics` at `HEAD~1` nor at `HEAD`"));
}

/// git's `REV:PATH` names a spec at a revision wherever it was: a spec
/// folder renamed between two commits is compared definition by
/// definition, where the revisions alone found no spec at the old one.
#[test]
fn a_renamed_spec_folder_is_compared_through_rev_path() {
    let dir = temp_dir("diff-rev-path");
    std::fs::create_dir_all(dir.join("metrics")).unwrap();
    std::fs::write(
        dir.join("metrics/k.yaml"),
        "datasets:\n  d: {source: d.csv}\nkpis:\n  won: {dataset: d, measure: count()}\n",
    )
    .unwrap();
    git(&dir, &["init", "-q"]);
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-qm", "metrics"]);
    git(&dir, &["mv", "metrics", "kpis"]);
    let file = dir.join("kpis/k.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("count()", "count(where x > 1)")).unwrap();
    git(&dir, &["commit", "-qam", "renamed"]);
    let changed = "changed kpi `won`: measure\n    measure:\n      - count()\n      + count(where x > 1)\n";
    assert_eq!(run(&dir, &["diff", "HEAD~1:metrics", "HEAD:kpis"]), changed);
    // From a folder below: PATH from the top, or from here with `./`, `../`.
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let sub = dir.join("sub");
    assert_eq!(run(&sub, &["diff", "HEAD~1:../metrics", "HEAD:kpis"]), changed);
    assert_eq!(run(&sub, &["diff", "HEAD~1:metrics", "HEAD:./../kpis"]), changed);
    let (code, _, err) = kpi_in(&dir, &["diff", "HEAD~1:nope", "HEAD:nada"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("no spec files at `HEAD~1:nope` nor at `HEAD:nada`"),
        "{err}"
    );
    let (code, _, err) = kpi_in(&dir, &["diff", "HEAD~7:metrics", "HEAD:kpis"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("`HEAD~7` is neither a spec path nor a git revision"),
        "{err}"
    );
}

/// A changed funnel's values are compared too, step by step (it said "no
/// values change" while its counts moved), and a funnel on a changed
/// dataset is affected by it. Hand-worked: three deals, two won, one
/// lost; the last step `won` becomes `lost`: its count 2 → 1, its
/// conversion from `closed` (3) 66.7% → 33.3%.
#[test]
fn a_changed_funnel_moves_its_steps_values() {
    let spec = |stage: &str, filter: &str| {
        format!("datasets:\n  d: {{source: ../d.csv, time: closed_at{filter}}}\nkpis:\n  n: {{dataset: d, measure: count()}}\nfunnels:\n  f:\n    dataset: d\n    steps:\n      - {{name: closed}}\n      - {{name: last, where: stage == \"{stage}\"}}\n")
    };
    let dir = two_versions(
        "diff-funnel",
        "stage,closed_at\nwon,2025-01-15\nlost,2025-01-20\nwon,2025-02-03\n",
        &spec("won", ""),
        &spec("lost", ""),
    );
    let (code, out, err) = kpi_in(&dir, &["diff", "old", "new", "--values"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("f.count [step=last]: 2 → 1 -1 (-50.0%)"), "{out}");
    assert!(
        out.contains("f.conversion [step=last]: 66.7% → 33.3% -33.3 pp"),
        "{out}"
    );
    assert!(
        !out.contains("step=closed") && !out.contains("no values change"),
        "{out}"
    );
    // The dataset's rows change (a read option): the funnel is affected.
    std::fs::write(
        dir.join("new/s.yaml"),
        spec("won", ", read: {null_values: [lost]}"),
    )
    .unwrap();
    let (code, out, err) = kpi_in(&dir, &["diff", "old", "new", "--values", "--format", "json"]);
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let funnel = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "f")
        .unwrap();
    assert_eq!(funnel["kind"], "affected", "{out}");
}

/// A segment's filter moves the values measured in it: a target in it is
/// affected, and `--values --segment` compares every KPI that takes the
/// segment (it said "no values change"). A changed KPI that cannot take
/// the query is left out with why, the others still compared (the whole
/// diff stopped on it).
#[test]
fn a_changed_segment_moves_the_values_measured_in_it() {
    let spec = |big: &str, leads: &str| {
        format!("datasets:\n  deals: {{source: ../d.csv, time: closed_at}}\n  leads: {{source: ../l.csv, time: created_at}}\nsegments:\n  big: {{where: '{big}'}}\nkpis:\n  rev: {{dataset: deals, measure: sum(amount)}}\n  leads_in: {{dataset: leads, measure: '{leads}'}}\ntargets:\n  t: {{kpi: rev, segment: big, period: 2025, value: 1000, objective: x}}\nfunnels:\n  f: {{dataset: deals, steps: [{{name: all}}, {{name: large, where: amount > 250}}]}}\n")
    };
    let dir = two_versions(
        "diff-segment",
        "amount,closed_at\n150,2025-01-01\n300,2025-02-01\n90,2025-02-03\n",
        &spec("amount > 100", "count()"),
        &spec("amount > 200", "count(where src != \"x\")"),
    );
    std::fs::write(
        dir.join("l.csv"),
        "created_at,src\n2025-01-01,web\n2025-01-02,x\n",
    )
    .unwrap();
    let (code, out, err) = kpi_in(&dir, &["diff", "old", "new"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("affected target `t` (through `big`)\n"), "{out}");
    let (code, out, err) = kpi_in(&dir, &["diff", "old", "new", "--values", "--segment", "big"]);
    assert_eq!(code, Some(0), "{err}");
    // 150 + 300 against 300; leads have no amount.
    assert!(out.contains("rev [all]: 450 → 300 -150 (-33.3%)"), "{out}");
    assert!(out.contains("f.count [step=all]: 2 → 1 -1 (-50.0%)"), "{out}");
    assert!(!out.contains("leads_in ["), "{out}");
    assert!(
        err.contains("warning[kpi::left_out]")
            && err.contains("`leads_in` is left out: segment `big` uses `amount`"),
        "{err}"
    );
    // Without the segment the deals' values do not move; the leads' do (2 → 1).
    let (code, out, err) = kpi_in(&dir, &["diff", "old", "new", "--values"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("leads_in [all]: 2 → 1"), "{out}");
    assert!(!out.contains("rev [") && !out.contains("f.count"), "{out}");
}

/// Spec tests are definitions: one whose rows or expectations change is
/// changed, shown as the rows one version has and the other has not (the
/// order of rows and keys does not count), and one over a changed KPI or
/// in a changed segment is affected. They were left out of the diff.
#[test]
fn spec_tests_are_definitions_compared_by_their_rows() {
    let old = format!("{BASE}segments:\n  big: {{where: amount > 10}}\ntests:\n  t_won:\n    kpi: won\n    data:\n      deals:\n        - {{stage: won, amount: 5, closed_at: 2025-01-10}}\n        - {{stage: won, amount: 7, closed_at: 2025-01-11}}\n    expect: [{{won: 12}}]\n  t_other:\n    kpi: other\n    segment: [big]\n    data: {{deals: [{{amount: 50}}]}}\n    expect: [{{other: 1}}]\n  t_rate:\n    kpi: per_deal\n    data: {{deals: [{{stage: won, amount: 5}}]}}\n    expect: [{{per_deal: 5}}]\n");
    // Rows and keys reordered: nothing changes.
    let reordered = old.replace(
        "        - {stage: won, amount: 5, closed_at: 2025-01-10}\n        - {stage: won, amount: 7, closed_at: 2025-01-11}\n",
        "        - {amount: 7, stage: won, closed_at: 2025-01-11}\n        - {closed_at: 2025-01-10, stage: won, amount: 5}\n",
    );
    assert_ne!(reordered, old);
    assert!(diff(&spec(&old), &spec(&reordered)).is_empty());
    let new = old
        .replace(
            "closed_at: 2025-01-11}\n",
            "closed_at: 2025-01-11}\n        - {stage: lost, amount: 1, closed_at: 2025-01-12}\n",
        )
        .replace("{won: 12}", "{won: 13}")
        .replace("amount > 10", "amount > 20")
        .replace("stage == \"won\")'", "stage == \"won\" and amount > 0)'");
    let changes = diff(&spec(&old), &spec(&new));
    let text = kpi::diff::to_human(&changes);
    assert!(
        text.contains("changed test `t_won`: data, expect\n    data:\n      - (none)\n      + deals {amount: 1, closed_at: \"2025-01-12\", stage: \"lost\"}\n    expect:\n      - {won: 12}\n      + {won: 13}\n"),
        "{text}"
    );
    assert!(
        text.contains("affected test `t_other` (through `big`)\n"),
        "{text}"
    );
    assert!(
        text.contains("affected test `t_rate` (through `per_deal`)\n"),
        "{text}"
    );
    let t = changes.iter().find(|c| c.name == "t_rate").unwrap();
    assert_eq!(t.entity, "test");
    assert!(matches!(&t.kind, ChangeKind::Affected { through } if through == &["per_deal"]));
}

/// An entity above two changes names both, however deep the second lies
/// (`total` was said to be affected through `won` alone, as `closed` was
/// found affected after it).
#[test]
fn an_affected_kpi_names_every_change_beneath_it() {
    let old =
        format!("{BASE}  total: {{measure: won + closed_twice}}\n  closed_twice: {{measure: closed * 2}}\n");
    let new = old
        .replace("sum(amount where", "sum(amount + 1 where")
        .replace("\"lost\"]", "\"lost\", \"open\"]");
    let changes = diff(&spec(&old), &spec(&new));
    let total = changes.iter().find(|c| c.name == "total").unwrap();
    assert!(
        matches!(&total.kind, ChangeKind::Affected { through } if through == &["won", "closed_twice"]),
        "{changes:?}"
    );
}

/// `--values` compares the status rows of changed targets too: a status
/// that moves with the target value, a member's row whose status stays
/// while its target moves, and a period that moved (each side's row
/// against none), the null member's row named so. Unchanged targets are not
/// evaluated. Hand-computed: 2025-Q1 holds ann's 100, bob's 200 and 30 of
/// no owner, Q2 ann's 50 by 2025-04-10 (the latest day: Q1 is over, Q2 is
/// 10 of its 91 days in).
#[test]
fn changed_targets_show_the_statuses_that_move() {
    let spec = |value: u32, member_value: u32, period: &str| {
        format!("datasets:\n  d: {{source: ../d.csv, time: closed_at}}\nkpis:\n  rev: {{dataset: d, measure: sum(amount)}}\n  n: {{dataset: d, measure: count()}}\ntargets:\n  t: {{kpi: rev, period: 2025-Q1, value: {value}, objective: x}}\n  tb: {{kpi: rev, by: owner, period: 2025-Q1, value: {member_value}, objective: x}}\n  tp: {{kpi: rev, period: {period}, value: 100, objective: x}}\n  tu: {{kpi: n, period: 2025-Q1, value: 1, objective: x}}\n")
    };
    let dir = two_versions(
        "diff-statuses",
        "owner,amount,closed_at\nann,100,2025-01-10\nbob,200,2025-02-10\n,30,2025-03-01\nann,50,2025-04-10\n",
        &spec(100, 150, "2025-Q1"),
        &spec(500, 90, "2025-Q2"),
    );
    let (code, out, err) = kpi_in(&dir, &["diff", "old", "new", "--values"]);
    assert_eq!(code, Some(0), "{err}");
    let said = out
        .split("target statuses that change:\n")
        .nth(1)
        .unwrap_or_default();
    let mut lines: Vec<&str> = said.lines().map(str::trim).collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        [
            "t [period=2025-Q1]: achieved → missed; target 100 → 500",
            "tb [member=(none), period=2025-Q1]: missed; target 150 → 90",
            "tb [member=ann, period=2025-Q1]: missed → achieved; target 150 → 90",
            "tb [member=bob, period=2025-Q1]: achieved; target 150 → 90",
            "tp [period=2025-Q1]: achieved → none; target 100 → null; actual 330 → null",
            "tp [period=2025-Q2]: none → on_track; target null → 100; actual null → 50",
        ],
        "{out}"
    );
    let (code, json, err) = kpi_in(&dir, &["diff", "old", "new", "--values", "--format", "json"]);
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let t = v["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["target"] == "t")
        .unwrap();
    assert_eq!(
        t["old"],
        serde_json::json!({"status": "achieved", "actual": 330.0, "target_value": 100.0})
    );
    assert_eq!(t["new"]["status"], "missed");
    // A range keeps the rows of periods overlapping it, as `kpi status` does.
    let (code, out, err) = kpi_in(
        &dir,
        &[
            "diff",
            "old",
            "new",
            "--values",
            "--from",
            "2025-04-01",
            "--to",
            "2025-06-30",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let said = out
        .split("target statuses that change:\n")
        .nth(1)
        .unwrap_or_default();
    assert_eq!(
        said.lines().map(str::trim).collect::<Vec<_>>(),
        ["tp [period=2025-Q2]: none → on_track; target null → 100; actual null → 50"],
        "{out}"
    );
    // Without a changed target there is no status section.
    std::fs::write(
        dir.join("new/s.yaml"),
        spec(100, 150, "2025-Q1").replace("count()", "count(amount)"),
    )
    .unwrap();
    let (code, out, err) = kpi_in(&dir, &["diff", "old", "new", "--values"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("affected target `tu` (through `n`)") && out.contains("no target statuses change"),
        "{out}"
    );
    std::fs::write(dir.join("new/s.yaml"), spec(100, 150, "2025-Q1")).unwrap();
    let (code, out, err) = kpi_in(&dir, &["diff", "old", "new", "--values"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(!out.contains("statuses"), "{out}");
}
