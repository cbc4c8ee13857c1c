//! The diagnostic corpus: each file in tests/cases/diagnostics is a spec with
//! one mistake. Its first line names the code and the line:column it must be
//! reported at; the rendered report is snapshotted.

use kpi::report::diagnostics::render_plain;

use crate::support::*;

/// `# expect: kpi::code at LINE:COL`
fn expectation(text: &str) -> (String, usize, usize) {
    let first = text.lines().next().unwrap();
    let rest = first
        .strip_prefix("# expect: ")
        .expect("case starts with `# expect:`");
    let (code, at) = rest.split_once(" at ").unwrap();
    let (line, col) = at.split_once(':').unwrap();
    (
        code.to_string(),
        line.trim().parse().unwrap(),
        col.trim().parse().unwrap(),
    )
}

#[test]
fn every_case_reports_its_code_at_its_place_and_nothing_else() {
    insta::glob!("..", "cases/diagnostics/*.yaml", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let (code, line, col) = expectation(&text);
        let name = format!("{}.yaml", path.file_stem().unwrap().to_string_lossy());
        let outcome = check_str(&name, &text);
        let found = positions(&outcome);
        assert_eq!(found, vec![format!("{code}@{line}:{col}")], "{name}");
        let rendered: Vec<String> = outcome
            .diagnostics
            .iter()
            .map(|d| render_plain(d, &outcome.sources))
            .collect();
        insta::assert_snapshot!(rendered.join("\n"));
    });
}

#[test]
fn the_corpus_covers_at_least_forty_codes() {
    let mut codes = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(root().join("tests/cases/diagnostics")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        codes.insert(expectation(&text).0);
    }
    assert!(codes.len() >= 40, "only {} codes: {codes:?}", codes.len());
}

#[test]
fn every_code_in_the_source_is_documented() {
    let docs = std::fs::read_to_string(root().join("docs/diagnostics.md")).unwrap();
    let mut files = Vec::new();
    collect_rs(&root().join("src"), &mut files);
    let mut n = 0;
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, _) in text.match_indices("\"kpi::") {
            let code: String = text[i + 1..].chars().take_while(|c| *c != '"').collect();
            if code == "kpi::" {
                continue;
            }
            assert!(
                docs.contains(&format!("## `{code}`")),
                "{code} ({}) is not in docs/diagnostics.md",
                f.display()
            );
            n += 1;
        }
    }
    assert!(n > 60);
}

fn collect_rs(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_rs(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Another tool's YAML in the spec folder (a Compose file) is one
/// `kpi::unknown_key` at its first key that says it is no spec file, not
/// an unknown key per key and an unsupported `version: "3"`; a file of
/// misspelt or other tools' spec keys is still told its keys one by one;
/// hidden folders are not read.
#[test]
fn another_tools_file_in_the_spec_folder_is_said_once() {
    let dir = temp_dir("foreign-file");
    let spec = "datasets:\n  d: {source: d.csv}\nkpis:\n  n: {dataset: d, measure: count()}\n";
    std::fs::write(dir.join("a.yaml"), spec).unwrap();
    std::fs::write(
        dir.join("compose.yml"),
        "version: \"3\"\nservices:\n  db: {image: postgres}\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.join(".github/workflows")).unwrap();
    std::fs::write(dir.join(".github/workflows/ci.yml"), "on: push\njobs: {}\n").unwrap();
    let found = |outcome: &kpi::CheckOutcome| -> Vec<(&str, usize, usize)> {
        (outcome.diagnostics.iter())
            .map(|d| {
                let at = d.primary_span().and_then(|s| outcome.sources.position(s));
                let ((line, column), _) = at.unwrap_or_default();
                (d.code, line, column)
            })
            .collect()
    };
    let outcome = kpi::check_path(&dir, false);
    assert_eq!(found(&outcome), [("kpi::unknown_key", 2, 1)]);
    let message = &outcome.diagnostics[0].message;
    assert!(
        message.contains("compose.yml` (`version`, `services`) is a spec's, so it is no spec file"),
        "{message}"
    );
    for (text, codes) in [
        (
            "kpsi:\n  m: {dataset: d, measure: count()}\n",
            ["kpi::unknown_key"].as_slice(),
        ),
        (
            "metrics:\n  m: {}\nservices: {}\n",
            &["kpi::unknown_key", "kpi::unknown_key"],
        ),
        ("version: 2\n", &["kpi::unsupported_version"]),
    ] {
        std::fs::write(dir.join("compose.yml"), text).unwrap();
        let outcome = kpi::check_path(&dir, false);
        let got: Vec<_> = found(&outcome).into_iter().map(|(code, _, _)| code).collect();
        assert_eq!(got, codes, "{text}");
    }
}

#[test]
fn a_name_defined_in_two_files_points_at_both() {
    let dir = temp_dir("dup-across-files");
    std::fs::write(
        dir.join("a.yaml"),
        "datasets:\n  d: {source: d.csv}\nkpis:\n  n: {dataset: d, measure: count()}\n",
    )
    .unwrap();
    std::fs::write(dir.join("b.yaml"), "kpis:\n  n: {dataset: d, measure: sum(x)}\n").unwrap();
    let outcome = kpi::check_path(&dir, false);
    let dup: Vec<_> = outcome
        .diagnostics
        .iter()
        .filter(|d| d.code == "kpi::duplicate_name")
        .collect();
    assert_eq!(dup.len(), 1);
    let files: Vec<&str> = dup[0]
        .labels
        .iter()
        .map(|l| outcome.sources.name(l.span.file))
        .collect();
    assert!(
        files[0].ends_with("b.yaml") && files[1].ends_with("a.yaml"),
        "{files:?}"
    );
    // The first place is shown with its file as a note, not as a second
    // finding: it read "Warning: ⚠ first defined here" under a summary
    // of no warnings.
    let dup_owned: Vec<_> = dup.into_iter().cloned().collect();
    let shown = kpi::report::diagnostics::to_human(&dup_owned, &outcome.sources, false);
    assert!(
        shown.contains("a.yaml:4:3") && shown.contains("first defined here"),
        "{shown}"
    );
    assert!(!shown.contains("Warning") && !shown.contains('⚠'), "{shown}");
    // Scripts and CI annotations are told the first place too (they were
    // told only the second).
    let json: serde_json::Value =
        serde_json::from_str(&kpi::report::diagnostics::to_json(&dup_owned, &outcome.sources)).unwrap();
    let first = &json[0]["related"][0];
    assert!(first["file"].as_str().unwrap().ends_with("a.yaml"), "{json:#}");
    assert_eq!(
        (&first["line"], &first["column"], &first["message"]),
        (&4.into(), &3.into(), &"first defined here".into())
    );
    let github = kpi::report::diagnostics::to_github(&dup_owned, &outcome.sources);
    assert!(
        github.contains("%0Afirst defined here: ") && github.contains("a.yaml:4:3%0Ahelp: "),
        "{github}"
    );
}

#[test]
fn diagnostics_are_sorted_and_all_reported() {
    let text = "datasets:\n  d: {source: d.csv, columns: {amount: number}}\nkpis:\n  a: {dataset: d, measure: sum(amout)}\n  b: {dataset: e, measure: count()}\n  c: {measure: zz}\n";
    let outcome = check_str("s.yaml", text);
    assert_eq!(
        positions(&outcome),
        [
            "kpi::unknown_column@4:32",
            "kpi::unknown_dataset@5:16",
            "kpi::unknown_kpi@6:16"
        ]
    );
}

#[test]
fn texts_written_unquoted_in_a_list_are_told_to_be_quoted() {
    // `won` is no declared column of `deals`: in a list beside a text
    // column it is the text unquoted; beside a number column, no such help.
    let spec = "datasets:\n  deals: {source: deals.csv, time: closed_at, columns: {amount: number, stage: string, closed_at: date}}\nkpis:\n  closed: {dataset: deals, measure: 'count(where stage in [won, \"lost\"])'}\n  big: {dataset: deals, measure: 'count(where amount in [won])'}\n";
    let outcome = check_str("s.yaml", spec);
    let helps: Vec<(u32, String)> = outcome
        .diagnostics
        .iter()
        .filter(|d| d.code == "kpi::undeclared_column")
        .map(|d| (d.labels[0].span.start, d.help.clone().unwrap_or_default()))
        .collect();
    assert_eq!(helps.len(), 2, "{helps:?}");
    assert!(
        helps[0]
            .1
            .starts_with("to compare with the text, quote it: `\"won\"`"),
        "{helps:?}"
    );
    assert!(!helps[1].1.contains("quote"), "{helps:?}");
    // An undeclared column beside a quoted text is the column: the help
    // told to quote it (`"region" == "EU"`).
    let spec = "datasets:\n  deals: {source: deals.csv, columns: {amount: number}}\nkpis:\n  eu: {dataset: deals, measure: 'count(where region == \"EU\")'}\n  us: {dataset: deals, measure: 'count(where \"US\" != region)'}\n";
    let outcome = check_str("s.yaml", spec);
    let helps: Vec<String> = outcome
        .diagnostics
        .iter()
        .filter(|d| d.code == "kpi::undeclared_column")
        .map(|d| d.help.clone().unwrap_or_default())
        .collect();
    assert_eq!(helps.len(), 2, "{helps:?}");
    assert!(helps.iter().all(|h| !h.contains("quote")), "{helps:?}");
}

#[test]
fn texts_no_row_holds_are_named_with_the_value_meant() {
    // `Won` is no stage (the data says `won`); `closed_won` is none either,
    // nor a near one: the values are listed. A looked-up column and `!=`
    // are looked through too; a text the data holds is not named, and a
    // column of more than 10,000 values (an identifier) is not read.
    let mut ids = String::from("deal_id,owner,stage,closed_at\n");
    for i in 0..10_050 {
        let stage = ["won", "lost", "open"][i % 3];
        ids.push_str(&format!("D{i},{},{stage},2025-01-01\n", ["ann", "bob"][i % 2]));
    }
    let spec = "datasets:\n  deals:\n    source: deals.csv\n    time: closed_at\n    dimensions: {outcome: 'if stage == \"WON\" then \"closed\" else \"not yet\"'}\n    lookups: [{dataset: reps, on: owner}]\n  reps: {source: reps.csv}\nkpis:\n  won: {dataset: deals, measure: 'count(where stage == \"Won\")'}\n  closed: {dataset: deals, measure: 'count(where stage in [\"won\", \"closed_won\"])'}\n  open: {dataset: deals, measure: 'count(where stage != \"Open \" and reps.region == \"emea\")'}\n  one: {dataset: deals, measure: 'count(where deal_id == \"X1\")'}\n";
    let dir = dir_with(
        "texts-not-in-data",
        &[
            ("deals.csv", &ids),
            ("reps.csv", "owner,region\nann,EMEA\nbob,NA\n"),
            ("spec.yaml", spec),
        ],
    );
    let outcome = kpi::check_path(&dir.join("spec.yaml"), true);
    let said: Vec<String> = outcome
        .diagnostics
        .iter()
        .filter(|d| d.code == "kpi::text_not_in_data")
        .map(|d| format!("{} | {}", d.message, d.help.clone().unwrap_or_default()))
        .collect();
    assert_eq!(said.len(), 5, "{said:#?}");
    // A computed dimension's comparison too (it banded every row "not yet").
    assert!(said[0].contains("`stage` equal to `\"WON\"`") && said[0].contains("did you mean `\"won\"`?"));
    assert!(said[1].contains("`stage` equal to `\"Won\"`") && said[1].contains("did you mean `\"won\"`?"));
    assert!(
        said[2].contains("`\"closed_won\"`")
            && said[2].contains("its values: `\"lost\"`, `\"open\"`, `\"won\"`")
    );
    assert!(said[3].contains("`\"Open \"`") && said[3].contains("did you mean `\"open\"`?"));
    assert!(said[4].contains("`region` equal to `\"emea\"`") && said[4].contains("did you mean `\"EMEA\"`?"));
}

/// `kpi eval --format csv` of the spec at `spec`: its standard output.
fn eval_csv(spec: &std::path::Path) -> String {
    let out = crate::support::kpi(&["--spec", spec.to_str().unwrap(), "eval", "--format", "csv"]);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `kpi check --data`'s warnings of unmatched lookup keys for the spec in
/// `dir`, each as "message | help".
fn unmatched_keys_said(dir: &std::path::Path) -> Vec<String> {
    kpi::check_path(&dir.join("spec.yaml"), true)
        .diagnostics
        .iter()
        .filter(|d| d.code == "kpi::lookup_unmatched")
        .map(|d| format!("{} | {}", d.message, d.help.clone().unwrap_or_default()))
        .collect()
}

/// `kpi check --data` warns of rows whose lookup key no looked-up row
/// holds (their looked-up columns are null), with how many and the keys
/// with the most, joined as evaluation joins them: `Bob` (3 rows) and
/// `zed` find no team (`bob` was meant), a null owner looks nothing up
/// and is not counted, and the computed key `rep` (lower case) finds every
/// region but `zed`'s. The count agrees with evaluation's own nulls.
#[test]
fn keys_no_looked_up_row_holds_are_counted_and_named() {
    let spec = "datasets:\n  deals:\n    source: deals.csv\n    dimensions: {rep: lower(owner)}\n    lookups:\n      - {dataset: teams, on: owner}\n      - {dataset: regions, on: {left: rep, right: name}}\n  teams: {source: teams.csv}\n  regions: {source: regions.csv}\nkpis:\n  no_team: {dataset: deals, measure: 'count(where owner is not null and teams.manager is null)'}\n  no_region: {dataset: deals, measure: 'count(where owner is not null and regions.region is null)'}\n";
    let dir = dir_with(
        "lookup-unmatched",
        &[
            (
                "deals.csv",
                "id,owner\n1,ann\n2,ann\n3,Bob\n4,Bob\n5,Bob\n6,zed\n7,\n8,bob\n",
            ),
            ("teams.csv", "owner,manager\nann,May\nbob,May\n"),
            ("regions.csv", "name,region\nann,EMEA\nbob,NA\n"),
            ("spec.yaml", spec),
        ],
    );
    let said = unmatched_keys_said(&dir);
    assert_eq!(said.len(), 2, "{said:#?}");
    assert!(
        said[0]
            .starts_with("4 rows of `deals` find no row of `teams` by their `owner`: `Bob` (3 rows), `zed`;")
            && said[0].contains("did you mean `bob`?"),
        "{}",
        said[0]
    );
    assert!(
        said[1]
            .starts_with("1 row of `deals` finds no row of `regions` by its `rep` (as its `name`): `zed`;")
            && !said[1].contains("did you mean"),
        "{}",
        said[1]
    );
    assert_eq!(eval_csv(&dir.join("spec.yaml")), "no_team,no_region\n4,1\n");
}

/// An empty text as a key (files converted from CSV hold `""` where the
/// CSV had no value) is said in words, with the dimension that reads it as
/// no key; with that dimension the warning is gone.
#[test]
fn an_empty_key_no_looked_up_row_holds_is_said_in_words() {
    let deals = "{\"id\": 1, \"account\": \"acme\"}\n{\"id\": 2, \"account\": \"\"}\n{\"id\": 3, \"account\": \"\"}\n";
    let spec = |on: &str| {
        format!("datasets:\n  deals:\n    source: deals.ndjson\n    dimensions: {{key: 'if account == \"\" then null else account'}}\n    lookups: [{{dataset: accounts, on: {on}}}]\n  accounts: {{source: accounts.csv}}\nkpis:\n  n: {{dataset: deals, measure: count()}}\n")
    };
    let dir = dir_with(
        "lookup-empty-key",
        &[
            ("deals.ndjson", deals),
            ("accounts.csv", "account,sector\nacme,retail\n"),
            ("spec.yaml", &spec("account")),
        ],
    );
    let said = unmatched_keys_said(&dir);
    assert_eq!(said.len(), 1, "{said:#?}");
    assert!(
        said[0].contains("by their `account`: an empty text (2 rows);")
            && said[0].contains("`if account == \"\" then null else account`"),
        "{}",
        said[0]
    );
    std::fs::write(dir.join("spec.yaml"), spec("{left: key, right: account}")).unwrap();
    assert_eq!(unmatched_keys_said(&dir), Vec::<String>::new());
}

/// A function of SQL, spreadsheets or BI tools that kpi names otherwise,
/// too far from its name for "did you mean", is told how it is written
/// here (`average` got a list of every function; `countd` "did you mean
/// `count`", which counts rows, not distinct values).
#[test]
fn other_tools_functions_are_told_their_name_here() {
    for (measure, ours) in [
        ("average(amount)", "`avg(x)`"),
        ("countd(owner)", "`count_distinct(x)`"),
        ("stdev(amount)", "`stddev(x)`"),
        ("sum(iif(amount > 1, 1, 0))", "`if c then a else b`"),
        ("sum(IF(amount > 1, 1, 0))", "`if c then a else b`"),
        ("max(datediff(closed_at, closed_at))", "`days_between(a, b)`"),
        ("sum(ifnull(amount, 0))", "`coalesce(x, y)`"),
        ("divide(sum(amount), count())", "`a / b`"),
        ("max(extract(closed_at))", "`year(x)`"),
        ("p90(amount)", "`quantile(x, 0.90)`"),
        ("sum(safe_divide(amount, amount))", "`a / b`"),
        ("count(where isnull(owner))", "`x is null` (a test)"),
        ("max(to_date(closed_at))", "`date(x)`"),
    ] {
        let spec = format!(
            "datasets:\n  deals:\n    source: deals.csv\n    columns: {{amount: number, owner: string, closed_at: date}}\nkpis:\n  a: {{dataset: deals, measure: '{measure}'}}\n"
        );
        let found = diagnostics_of(&spec);
        assert_eq!(found.len(), 1, "{measure}: {found:?}");
        assert_eq!(found[0].code, "kpi::unknown_function");
        let help = found[0].help.clone().unwrap_or_default();
        assert!(
            help.starts_with("other tools' `") && help.contains(ours),
            "{measure}: {help}"
        );
    }
    // Cutting texts has no function here: what tests them instead.
    let spec = "datasets:\n  deals:\n    source: deals.csv\n    columns: {owner: string}\nkpis:\n  a: {dataset: deals, measure: 'count(where substr(owner, 1, 2) == \"ab\")'}\n";
    let found = diagnostics_of(spec);
    let help = found[0].help.clone().unwrap_or_default();
    assert!(
        help.contains("no function that cuts texts") && help.contains("`starts_with(x, \"ab\")`"),
        "{help}"
    );
}

/// A column the data names with a space (`Closed At`) is suggested as an
/// expression writes it, between backticks, and so written it evaluates.
#[test]
fn a_suggested_name_of_more_than_one_word_is_quoted() {
    let kpis = |measure: &str| {
        format!("datasets:\n  d: {{source: d.csv, time: Closed At}}\nkpis:\n  n: {{dataset: d, measure: '{measure}'}}\n")
    };
    let dir = dir_with(
        "suggested-quoted",
        &[
            ("d.csv", "Owner,Closed At\na,2025-01-01\nb,\n"),
            ("typo.yaml", &kpis("count(where closed_at is not null)")),
            ("fixed.yaml", &kpis("count(where `Closed At` is not null)")),
        ],
    );
    let outcome = kpi::check_path(&dir.join("typo.yaml"), true);
    let help: Vec<String> = outcome
        .diagnostics
        .iter()
        .filter_map(|d| d.help.clone())
        .collect();
    assert_eq!(
        help,
        ["did you mean `Closed At`? A name that is not one word is written between backticks in an expression: `` `Closed At` ``"]
    );
    assert_eq!(eval_csv(&dir.join("fixed.yaml")), "n\n1\n");
}

/// A percent KPI multiplied by 100 is warned of wherever the factor sits
/// in the measure's product (also inside `round`, and on a derived KPI);
/// a divisor of 100, `* 100%` (which is 1), a number KPI, and a percent
/// without the factor are not.
#[test]
fn a_percent_times_100_is_warned_of() {
    let spec = |measure: &str, unit: &str| {
        format!(
            "datasets:\n  deals:\n    source: deals.csv\n    columns: {{amount: number, stage: string, closed_at: date}}\nkpis:\n  won: {{dataset: deals, measure: 'count(where stage == \"won\")'}}\n  k: {{measure: '{measure}', unit: {unit}}}\n"
        )
    };
    for measure in [
        "won / 4 * 100",
        "100 * won / 4",
        "round(won / 4 * 100, 1)",
        "(won * 100) / 4",
    ] {
        assert_eq!(
            codes_of(&spec(measure, "percent")),
            ["kpi::percent_times_100"],
            "{measure}"
        );
    }
    for (measure, unit) in [
        ("won / (4 * 100)", "percent"),
        ("won / 4 * 100%", "percent"),
        ("round(won / 4, 3)", "percent"),
        ("won / 4 * 100", "number"),
    ] {
        assert!(codes_of(&spec(measure, unit)).is_empty(), "{measure} ({unit})");
    }
}

/// A KPI in hours over `minutes_between` as it is shows minutes as hours;
/// converted (`/ 60`), in its own unit, or without a unit, it is not
/// warned of.
#[test]
fn a_time_unit_other_than_the_measures_is_warned_of() {
    let spec = |measure: &str, unit: &str| {
        format!(
            "datasets:\n  leads:\n    source: leads.csv\n    columns: {{created_at: datetime, contacted_at: datetime}}\nkpis:\n  k: {{dataset: leads, measure: '{measure}'{unit}}}\n"
        )
    };
    let minutes = "avg(minutes_between(created_at, contacted_at))";
    assert_eq!(
        codes_of(&spec(minutes, ", unit: hours")),
        ["kpi::time_unit_mismatch"]
    );
    assert_eq!(
        codes_of(&spec(
            "max(days_between(created_at, contacted_at))",
            ", unit: minutes"
        )),
        ["kpi::time_unit_mismatch"]
    );
    for (measure, unit) in [
        (format!("{minutes} / 60"), ", unit: hours"),
        (minutes.to_string(), ", unit: minutes"),
        (minutes.to_string(), ""),
        (minutes.to_string(), ", unit: number"),
    ] {
        assert!(codes_of(&spec(&measure, unit)).is_empty(), "{measure}{unit}");
    }
}

/// Habits of SQL and BI tools in a measure get their fix as help, one
/// diagnostic each: a column in brackets (Power BI, Tableau), `like`,
/// `over (…)`, a cast, `is` with a value, `today()`, `countrows`.
#[test]
fn habits_of_sql_and_bi_tools_get_their_fix() {
    for (measure, help) in [
        ("sum([amount])", "a column is written by its name"),
        ("sum(deals[amount])", "a column is written by its name"),
        ("count(where stage like \"w%\")", "`starts_with(x, \"w\")`"),
        ("sum(amount) / sum(amount) over ()", "`rolling(k, 3)`"),
        ("sum(amount::int)", "casts are not written"),
        ("count(where stage is \"won\")", "`is` only tests for null"),
        (
            "count(where closed_at > today())",
            "there is no today in a measure",
        ),
        ("countrows(amount)", "`count()` (rows)"),
    ] {
        let spec = format!(
            "datasets:\n  deals:\n    source: deals.csv\n    columns: {{amount: number, stage: string, closed_at: date}}\nkpis:\n  a: {{dataset: deals, measure: '{}'}}\n",
            measure.replace('\'', "''")
        );
        let found = diagnostics_of(&spec);
        assert_eq!(found.len(), 1, "{measure}: {found:?}");
        let said = found[0].help.clone().unwrap_or_default();
        assert!(said.contains(help), "{measure}: {said}");
    }
}

/// A comparison with a constant on every side is the same for every row:
/// warned of, naming the column a quoted side names; a column compared
/// with a constant, either way round, is not. `sum("amount")` names the
/// quoted column in its type error.
#[test]
fn a_comparison_of_constants_is_warned_of() {
    let spec = |measure: &str| {
        format!(
            "datasets:\n  deals:\n    source: deals.csv\n    columns: {{amount: number, stage: string, closed_at: date}}\nkpis:\n  a: {{dataset: deals, measure: '{}'}}\n",
            measure.replace('\'', "''")
        )
    };
    for (measure, help) in [
        (
            "count(where \"stage\" == \"won\")",
            "write the column without quotes, `stage`",
        ),
        (
            "count(where \"stage\" in [\"won\", \"lost\"])",
            "write the column without quotes, `stage`",
        ),
        (
            "count(where 1 < 2)",
            "compare a column (or a KPI) with the constant",
        ),
    ] {
        let found = diagnostics_of(&spec(measure));
        assert_eq!(found.len(), 1, "{measure}: {found:?}");
        assert_eq!(found[0].code, "kpi::constant_comparison");
        assert!(
            found[0].help.clone().unwrap_or_default().contains(help),
            "{measure}: {found:?}"
        );
    }
    for measure in [
        "count(where stage == \"won\")",
        "count(where \"won\" == stage)",
        "count(where amount in [1, 2])",
    ] {
        assert!(diagnostics_of(&spec(measure)).is_empty(), "{measure}");
    }
    let found = diagnostics_of(&spec("sum(\"amount\")"));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0]
        .help
        .clone()
        .unwrap_or_default()
        .contains("write the column without quotes, `amount`"));
}

/// Definitions written as other semantic layers write them are told how
/// they are written here: a list of items named by `name:` (MetricFlow),
/// and their keys (`metrics`, `semantic_models`, `cubes`).
#[test]
fn other_layers_layouts_are_told_how_they_are_written_here() {
    let listed = "datasets:\n  deals: {source: deals.csv}\nkpis:\n  - name: won_deals\n    dataset: deals\n    measure: count()\n";
    let found = diagnostics_of(listed);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].code, "kpi::wrong_type");
    assert_eq!(
        found[0].help.as_deref(),
        Some("each KPI is named by its key, not by `name:`: write `won_deals:` with the definition under it, as in `won_deals: {…}`")
    );
    // Nor is each name of such a section said unknown: one error, not one
    // per KPI on the listed datasets.
    let listed = "datasets:\n  - name: deals\n    source: deals.csv\nkpis:\n  a: {dataset: deals, measure: count()}\n  b: {dataset: deals, measure: count()}\ntargets:\n  t: {kpi: a, period: 2025, value: 1, objective: Grow}\n";
    let codes: Vec<String> = diagnostics_of(listed)
        .iter()
        .map(|d| d.code.to_string())
        .collect();
    assert_eq!(codes, ["kpi::wrong_type"]);
    for (key, ours) in [
        ("metrics", "kpis"),
        ("semantic_models", "datasets"),
        ("cubes", "datasets"),
        ("goals", "targets"),
    ] {
        let found = diagnostics_of(&format!("datasets:\n  deals: {{source: deals.csv}}\nkpis:\n  n: {{dataset: deals, measure: count()}}\n{key}: {{}}\n"));
        assert_eq!(found.len(), 1, "{key}: {found:?}");
        assert_eq!(
            found[0].help.clone().unwrap_or_default(),
            format!("other tools' `{key}` are `{ours}` here")
        );
    }
}

/// Keys of a definition under another tool's name (a dataset's `file`, a
/// KPI's `formula` and `filter`, a target's `metric`, `deadline` and
/// `target`) are told the key they mean here, each once: the key they
/// stand for is not said missing as well, nor a target's KPI, period and
/// value absent.
#[test]
fn other_tools_keys_of_a_definition_are_said_once() {
    let spec = "datasets:\n  d: {file: d.csv, time_column: closed_at}\nkpis:\n  won: {dataset: d, formula: count(), filter: stage == \"won\", label: Won}\ntargets:\n  t: {metric: won, deadline: 2025, target: 5, objective: x}\nfunnels:\n  f:\n    dataset: d\n    steps: [{label: all}]\n";
    let said: Vec<String> = diagnostics_of(spec)
        .iter()
        .map(|d| format!("{}: {}", d.code, d.help.clone().unwrap_or_default()))
        .collect();
    let is = |key: &str, ours: &str| format!("kpi::unknown_key: other tools' `{key}` is `{ours}` here");
    assert_eq!(
        said,
        [
            is("file", "source"),
            is("time_column", "time"),
            is("formula", "measure"),
            is("filter", "where"),
            is("label", "title"),
            is("metric", "kpi"),
            is("deadline", "period"),
            is("target", "value"),
            is("label", "name"),
        ]
    );
}

/// LookML's and Cube's `type: sum` beside `sql: ${TABLE}.amount` (or
/// MetricFlow's `agg` and `expr`) are told the one measure they make here;
/// a connection's `type` and `url` are its `driver` and `uri`.
#[test]
fn other_tools_aggregate_types_are_told_the_measure() {
    let spec = "connections:\n  w: {type: postgres, url: x}\ndatasets:\n  d: {source: d.csv}\nkpis:\n  revenue: {dataset: d, type: sum, sql: \"${TABLE}.amount\"}\n  deals: {dataset: d, agg: count, expr: \"1\"}\n  spread: {dataset: d, type: percentile, sql: amount}\n";
    let said: Vec<String> = diagnostics_of(spec)
        .iter()
        .map(|d| d.help.clone().unwrap_or_default())
        .collect();
    let one = |how: &str, what: &str, measure: &str| {
        format!("other tools' `{how}` and `{what}` are one `measure` here: `measure: {measure}`")
    };
    assert_eq!(
        said,
        [
            "other tools' `type` is `driver` here".to_string(),
            "other tools' `url` is `uri` here".to_string(),
            one("type", "sql", "sum(amount)"),
            one("type", "sql", "sum(amount)"),
            one("agg", "expr", "count()"),
            one("agg", "expr", "count()"),
            // No aggregate of that name: each key is told where it goes.
            "other tools' `type` is `measure` here".to_string(),
            "other tools' `sql` is `measure` here".to_string(),
        ]
    );
}

/// Settings shared the way Compose files share them, in an `x-` key, are
/// told how a spec shares them: an anchor on a definition merged into
/// others, which reads (`all` takes `won`'s dataset and unit).
#[test]
fn extension_keys_are_told_how_a_spec_shares_settings() {
    let found = diagnostics_of("x-defaults: &money {dataset: deals, unit: currency}\ndatasets:\n  deals: {source: deals.csv}\nkpis:\n  won: {<<: *money, measure: count()}\n");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].code, "kpi::unknown_key");
    assert!(
        found[0]
            .help
            .as_deref()
            .unwrap_or_default()
            .contains("(`<<: *base`)"),
        "{found:?}"
    );
    let shared = "datasets:\n  deals: {source: deals.csv}\nkpis:\n  won: &base {dataset: deals, unit: currency, measure: count()}\n  all:\n    <<: *base\n    measure: sum(amount)\n";
    let outcome = check_str("t.yaml", shared);
    assert_eq!(outcome.errors(), 0, "{:?}", outcome.diagnostics);
    let all = outcome.spec.kpis.iter().find(|k| k.name.value == "all").unwrap();
    assert_eq!(all.dataset.as_ref().map(|d| d.value.as_str()), Some("deals"));
    assert_eq!(all.measure.as_ref().map(|m| m.text.as_str()), Some("sum(amount)"));
}

/// What `kpi check` says of one spec file, in order.
fn diagnostics_of(text: &str) -> Vec<kpi::diagnostic::Diagnostic> {
    check_str("t.yaml", text).diagnostics
}

/// The codes of what `kpi check` says of one spec file, in order.
fn codes_of(text: &str) -> Vec<String> {
    diagnostics_of(text).iter().map(|d| d.code.to_string()).collect()
}

/// A percent KPI's target asks for a level above 100% written as a plain
/// number, or a change of more than 100 points in the KPI's own unit: a
/// warning at the value. A percent written with `%`, a fraction, points,
/// a relative change, and a KPI that is not a percent are not warned of.
#[test]
fn a_percent_target_written_as_a_number_is_warned_of() {
    let spec = |unit: &str, goal: &str| {
        format!(
            "datasets:\n  deals:\n    source: deals.csv\n    time: closed_at\n    columns: {{amount: number, stage: string, closed_at: date}}\nkpis:\n  win_rate:\n    dataset: deals\n    measure: 'count(where stage == \"won\") / count()'\n    unit: {unit}\ntargets:\n  t:\n    kpi: win_rate\n    period: 2025\n    {goal}\n    objective: Win more\n"
        )
    };
    let warned = |unit: &str, goal: &str| -> Vec<String> {
        diagnostics_of(&spec(unit, goal))
            .iter()
            .map(|d| format!("{}@{}", d.code, d.message))
            .collect()
    };
    let percent = "kpi::percent_as_number";
    for (goal, says) in [
        ("value: 25", "for 2,500%"),
        ("value: -3", "for -300%"),
        ("change: \"+5\"", "for +500 points"),
        ("change: \"-2\"", "for -200 points"),
        ("change: \"+1.1\"", "for +110 points:"),
        ("value: 1.1", "for 110%:"),
    ] {
        let found = warned("percent", goal);
        assert_eq!(found.len(), 1, "{goal}: {found:?}");
        assert!(
            found[0].starts_with(percent) && found[0].contains(says),
            "{goal}: {found:?}"
        );
    }
    for goal in [
        "value: 25%",
        "value: 0.25",
        "value: 1",
        "value: 2500%",
        "change: \"+5pp\"",
        "change: \"+500pp\"",
        "change: \"+15%\"",
        "change: \"+0.05\"",
    ] {
        assert_eq!(warned("percent", goal), Vec::<String>::new(), "{goal}");
    }
    for goal in ["value: 25", "change: \"+5\""] {
        assert_eq!(warned("count", goal), Vec::<String>::new(), "{goal}");
    }
}

/// A KPI test's `by` is checked against what the test's data can hold: a
/// column of its own rows (an open dataset's, or a looked-up dataset's
/// written `teams.manager`) is there; a name neither declared nor in rows
/// that replace every dataset beneath the KPI is missing; where the test
/// reads the dataset's own source, its unread data may hold the name.
#[test]
fn a_tests_by_is_checked_against_the_rows_that_replace_the_data() {
    let spec = |by: &str, rows: &str| {
        format!(
            "datasets:\n  deals:\n    source: deals.csv\n    time: closed_at\n    columns: {{stage: string, closed_at: date}}\n    lookups: [{{dataset: teams, on: owner}}]\n  teams:\n    source: teams.csv\nkpis:\n  lost_deals: {{dataset: deals, measure: count(where stage == \"lost\")}}\ntests:\n  t:\n    kpi: lost_deals\n    by: [{by}]\n{rows}    expect:\n      - {{lost_deals: 1}}\n"
        )
    };
    let codes = |by: &str, rows: &str| -> Vec<String> {
        diagnostics_of(&spec(by, rows))
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.code.to_string())
            .collect()
    };
    let deals = "    data:\n      deals:\n        - {stage: lost, owner: ann, closed_at: 2025-01-03}\n";
    let with_teams = format!("{deals}      teams:\n        - {{owner: ann, manager: zoe}}\n");
    assert_eq!(codes("owner", deals), Vec::<String>::new());
    assert_eq!(codes("teams.manager", &with_teams), Vec::<String>::new());
    // Teams read from its file, which may hold `manager`.
    assert_eq!(codes("teams.manager", deals), Vec::<String>::new());
    assert_eq!(codes("rep", deals), vec!["kpi::dimension_missing"]);
    // No rows for deals: its file may hold `rep`, and `kpi test` says if not.
    assert_eq!(codes("rep", ""), Vec::<String>::new());
}

/// A target's `by` on a looked-up dataset that declares no columns
/// (`teams.manager`) is the data's to say, as a plain undeclared name is:
/// a warning without the data, not an error; a name on a dataset that is
/// not looked up (`reps.manager`) is still an error.
#[test]
fn a_targets_by_on_an_undeclared_lookup_is_the_datas_to_say() {
    let spec = |by: &str| {
        format!(
            "datasets:\n  deals:\n    source: deals.csv\n    time: closed_at\n    columns: {{stage: string, closed_at: date}}\n    lookups: [{{dataset: teams, on: owner}}]\n  teams:\n    source: teams.csv\n  reps:\n    source: reps.csv\nkpis:\n  lost_deals: {{dataset: deals, measure: count(where stage == \"lost\")}}\ntargets:\n  t:\n    kpi: lost_deals\n    by: {by}\n    period: 2025\n    value: 3\n    objective: Fewer losses\n"
        )
    };
    let codes = |by: &str| -> Vec<(String, bool)> {
        diagnostics_of(&spec(by))
            .iter()
            .map(|d| (d.code.to_string(), d.is_error()))
            .collect()
    };
    let open = codes("teams.manager");
    assert!(open.iter().all(|(_, error)| !error), "{open:?}");
    assert!(
        open.iter().any(|(c, _)| c == "kpi::undeclared_column"),
        "{open:?}"
    );
    let elsewhere = codes("reps.manager");
    assert!(
        elsewhere.contains(&("kpi::dimension_missing".to_string(), true)),
        "{elsewhere:?}"
    );
}

/// A test holds the keys of its kind only: a target test's `expect`,
/// `grain`, `period`, `by` or `tolerance`, a KPI test's `as_of`, `status`,
/// `member` or second `target` would be ignored, and each is an error at
/// its value; a tolerance outside 0%–100% too. The keys of each kind are
/// clean.
#[test]
fn a_test_holds_the_keys_of_its_kind_only() {
    let spec = |test: &str| {
        format!(
            "datasets:\n  deals:\n    source: deals.csv\n    time: closed_at\n    columns: {{amount: number, owner: string, closed_at: date}}\nkpis:\n  revenue: {{dataset: deals, measure: sum(amount)}}\ntargets:\n  q1:\n    kpi: revenue\n    period: 2025-Q1\n    value: 100\n    objective: Grow\ntests:\n  t:\n{test}    data:\n      deals:\n        - {{amount: 100, owner: ann, closed_at: 2025-01-10}}\n"
        )
    };
    let codes = |test: &str| codes_of(&spec(test));
    let kpi = "    kpi: revenue\n    grain: month\n    by: [owner]\n    period: 2025-Q1\n    tolerance: 1%\n    expect:\n      - {owner: ann, period: 2025-01, revenue: 100}\n";
    let target = "    target: q1\n    as_of: 2025-02-01\n    status: on_track\n    member: ann\n";
    assert_eq!(codes(kpi), Vec::<String>::new());
    assert_eq!(codes(target), Vec::<String>::new());
    let other = "kpi::key_of_other_test";
    for extra in [
        "    as_of: 2025-02-01\n",
        "    status: achieved\n",
        "    member: ann\n",
        "    target: q1\n",
    ] {
        assert_eq!(codes(&format!("{kpi}{extra}")), vec![other], "{extra}");
    }
    for extra in [
        "    grain: month\n",
        "    period: 2025-Q1\n",
        "    by: [owner]\n",
        "    segment: [big]\n",
        "    tolerance: 1%\n",
        "    expect:\n      - {revenue: 100}\n",
    ] {
        let found = codes(&format!("{target}{extra}"));
        assert!(found.contains(&other.to_string()), "{extra}: {found:?}");
    }
    let loose = kpi.replace("tolerance: 1%", "tolerance: -1");
    assert_eq!(codes(&loose), vec!["kpi::invalid_tolerance"]);
}

/// An expected row's `period` is a label of the test's grain, spelled as
/// the calendar spells it: fiscal years and quarters, Sunday weeks; a
/// label of another grain or another spelling (`2025` for a fiscal year),
/// or none, is warned of at the value (`kpi::expected_period_unmatched`):
/// the test fails, the spec still evaluates.
#[test]
fn an_expected_period_is_a_label_of_the_tests_grain() {
    let spec = |grain: &str, period: &str| {
        format!(
            "calendar: {{fiscal_year_start: 4, week_start: sunday}}\ndatasets:\n  deals:\n    source: deals.csv\n    time: closed_at\n    columns: {{amount: number, closed_at: date}}\nkpis:\n  revenue: {{dataset: deals, measure: sum(amount)}}\ntests:\n  t:\n    kpi: revenue\n    grain: {grain}\n    data:\n      deals:\n        - {{amount: 100, closed_at: 2025-01-10}}\n    expect:\n      - {{period: {period}, revenue: 100}}\n"
        )
    };
    let codes = |grain: &str, period: &str| codes_of(&spec(grain, period));
    for (grain, period) in [
        ("year", "FY2025"),
        ("quarter", "FY2025-Q4"),
        ("month", "2025-01"),
        ("week", "2025-W02"),
        ("day", "2025-01-10"),
    ] {
        assert_eq!(codes(grain, period), Vec::<String>::new(), "{grain} {period}");
    }
    for (grain, period) in [
        ("month", "2025-1"),
        ("month", "2025-Q1"),
        ("week", "2025-W54"),
        ("day", "2025-02-30"),
        ("quarter", "2025"),
        // The calendar's years and quarters are fiscal: labelled FY….
        ("year", "2025"),
        ("quarter", "2025-Q1"),
    ] {
        assert_eq!(
            codes(grain, period),
            vec!["kpi::expected_period_unmatched"],
            "{grain} {period}"
        );
    }
}
