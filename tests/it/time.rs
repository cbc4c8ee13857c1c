//! Time functions, `--compare` and nested aggregation against values
//! computed by hand from `tests/fixtures/time/` (see the comments there).

use std::path::{Path, PathBuf};

use crate::support::{check_str, close, copy_dir, dir_with, kpi, positions, root, temp_dir};

fn fixture() -> PathBuf {
    root().join("tests/fixtures/time")
}

/// A copy of the fixture with one more spec file, `extra.yaml`.
fn fixture_with(name: &str, extra: &str) -> PathBuf {
    let dir = temp_dir(name);
    copy_dir(&fixture(), &dir);
    std::fs::write(dir.join("extra.yaml"), extra).unwrap();
    dir
}

/// `kpi eval --format csv` as rows of (column, text).
fn eval(spec: &Path, args: &[&str]) -> Vec<Vec<(String, String)>> {
    let spec = spec.to_string_lossy().to_string();
    let mut all = vec!["eval", "--spec", spec.as_str(), "--format", "csv"];
    all.extend(args);
    let out = kpi(&all);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{all:?}: {}{}",
        text,
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(str::to_string).collect();
    lines
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split(',').map(str::to_string))
                .collect()
        })
        .collect()
}

/// The column `name` of every row, as numbers (empty is null).
fn column(rows: &[Vec<(String, String)>], name: &str) -> Vec<Option<f64>> {
    rows.iter()
        .map(|r| {
            let v = &r
                .iter()
                .find(|(c, _)| c == name)
                .unwrap_or_else(|| panic!("no column {name}"))
                .1;
            (!v.is_empty()).then(|| v.parse::<f64>().unwrap())
        })
        .collect()
}

fn text(rows: &[Vec<(String, String)>], name: &str) -> Vec<String> {
    rows.iter()
        .map(|r| r.iter().find(|(c, _)| c == name).unwrap().1.clone())
        .collect()
}

#[track_caller]
fn assert_values(rows: &[Vec<(String, String)>], name: &str, expected: &[Option<f64>]) {
    let got = column(rows, name);
    assert_eq!(got.len(), expected.len(), "{name}: {got:?}");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            close(*g, *e),
            "{name} row {i}: got {g:?}, expected {e:?} (all: {got:?})"
        );
    }
}

const N: Option<f64> = None;

fn s(x: f64) -> Option<f64> {
    Some(x)
}

#[test]
fn prev_diff_and_growth_over_the_spine() {
    let rows = eval(
        &fixture(),
        &[
            "wins",
            "prev_wins",
            "wins_two_back",
            "wins_diff",
            "revenue_growth",
            "--grain",
            "month",
        ],
    );
    assert_eq!(
        text(&rows, "period"),
        ["2024-11", "2024-12", "2025-01", "2025-02", "2025-03", "2025-04"]
    );
    assert_values(&rows, "wins", &[s(1.), s(2.), s(1.), s(0.), s(1.), s(1.)]);
    // The first periods have nothing before them; empty February is 0, not skipped.
    assert_values(&rows, "prev_wins", &[N, s(1.), s(2.), s(1.), s(0.), s(1.)]);
    assert_values(&rows, "wins_two_back", &[N, N, s(1.), s(2.), s(1.), s(0.)]);
    assert_values(&rows, "wins_diff", &[N, s(1.), s(-1.), s(-1.), s(1.), s(0.)]);
    // Revenue 100, 240, 300, 0, 500, 60: growth from 0 is null, not inf.
    assert_values(
        &rows,
        "revenue_growth",
        &[N, s(1.4), s(0.25), s(-1.), N, s(-0.88)],
    );
}

#[test]
fn rolling_ratios_are_re_aggregated_not_averaged() {
    let rows = eval(&fixture(), &["win_rate", "win_rate_3", "--grain", "month"]);
    // won / closed per month: 1/2, 2/5, 1/2, 0/0, 1/2, 1/2.
    assert_values(&rows, "win_rate", &[s(0.5), s(0.4), s(0.5), N, s(0.5), s(0.5)]);
    // Over the trailing three months: 1/2, 3/7, 4/9, 3/7, 2/4, 2/4.
    let expected = [s(0.5), s(3. / 7.), s(4. / 9.), s(3. / 7.), s(0.5), s(0.5)];
    assert_values(&rows, "win_rate_3", &expected);
    // The average of the monthly rates would differ: (0.5 + 0.4 + 0.5) / 3 in January.
    let rates = column(&rows, "win_rate");
    let average = (rates[0].unwrap() + rates[1].unwrap() + rates[2].unwrap()) / 3.0;
    assert!(
        (average - 4. / 9.).abs() > 0.02,
        "the fixture must tell the two apart"
    );
    assert!((column(&rows, "win_rate_3")[2].unwrap() - average).abs() > 0.02);
}

#[test]
fn windows_of_sums_minimums_averages_and_derived_ratios() {
    let rows = eval(
        &fixture(),
        &[
            "largest_win_3",
            "revenue_cumulative",
            "revenue_ytd",
            "revenue_qtd",
            "revenue_mtd",
            "average_win_ytd",
            "largest_win_ytd",
            "largest_win_cumulative",
            "average_win_cumulative",
            "attainment_3",
            "--grain",
            "month",
        ],
    );
    assert_values(
        &rows,
        "largest_win_3",
        &[s(100.), s(200.), s(300.), s(300.), s(500.), s(500.)],
    );
    assert_values(
        &rows,
        "revenue_cumulative",
        &[s(100.), s(340.), s(640.), s(640.), s(1140.), s(1200.)],
    );
    // The calendar year restarts in January, the quarter in January and April.
    assert_values(
        &rows,
        "revenue_ytd",
        &[s(100.), s(340.), s(300.), s(300.), s(800.), s(860.)],
    );
    assert_values(
        &rows,
        "revenue_qtd",
        &[s(100.), s(340.), s(300.), s(300.), s(800.), s(60.)],
    );
    assert_values(
        &rows,
        "revenue_mtd",
        &[s(100.), s(240.), s(300.), s(0.), s(500.), s(60.)],
    );
    // Wins 100 | 200, 40 | 300 | - | 500 | 60: averages of the year's wins so far.
    let average = [s(100.), s(340. / 3.), s(300.), s(300.), s(400.), s(860. / 3.)];
    assert_values(&rows, "average_win_ytd", &average);
    assert_values(
        &rows,
        "largest_win_ytd",
        &[s(100.), s(200.), s(300.), s(300.), s(500.), s(500.)],
    );
    // April has no win: the largest so far is still March's, not null.
    assert_values(
        &rows,
        "largest_win_cumulative",
        &[s(100.), s(200.), s(300.), s(300.), s(500.), s(500.)],
    );
    let average = [s(100.), s(340. / 3.), s(160.), s(160.), s(228.), s(200.)];
    assert_values(&rows, "average_win_cumulative", &average);
    // Won revenue over quota, both summed over the window (quota 0 in November).
    let attainment = [
        N,
        s(340. / 300.),
        s(640. / 700.),
        s(540. / 700.),
        s(800. / 900.),
        s(560. / 500.),
    ];
    assert_values(&rows, "attainment_3", &attainment);
}

#[test]
fn time_functions_run_within_each_group_including_sparse_ones() {
    let rows = eval(
        &fixture(),
        &[
            "wins",
            "prev_wins",
            "win_rate_3",
            "revenue_ytd",
            "--grain",
            "month",
            "--by",
            "owner",
        ],
    );
    let owners = text(&rows, "owner");
    assert_eq!(
        owners,
        ["A", "A", "A", "A", "A", "A", "B", "B", "B", "B", "B", "B"]
    );
    // A: won/closed 1/2, 2/3, 1/2, 0/0, 0/1, 1/2.  B: 0/0, 0/2, 0/0, 0/0, 1/1, 0/0.
    let rolling = [
        s(0.5),
        s(3. / 5.),
        s(4. / 7.),
        s(3. / 5.),
        s(1. / 3.),
        s(1. / 3.),
        N,
        s(0.),
        s(0.),
        s(0.),
        s(1.),
        s(1.),
    ];
    assert_values(&rows, "win_rate_3", &rolling);
    let prev = [
        N,
        s(1.),
        s(2.),
        s(1.),
        s(0.),
        s(0.),
        N,
        s(0.),
        s(0.),
        s(0.),
        s(0.),
        s(1.),
    ];
    assert_values(&rows, "prev_wins", &prev);
    let ytd = [
        s(100.),
        s(340.),
        s(300.),
        s(300.),
        s(300.),
        s(360.),
        s(0.),
        s(0.),
        s(0.),
        s(0.),
        s(500.),
        s(500.),
    ];
    assert_values(&rows, "revenue_ytd", &ytd);
}

#[test]
fn history_before_the_range_feeds_windows_but_is_not_output() {
    let args = [
        "wins",
        "prev_wins",
        "win_rate_3",
        "revenue_cumulative",
        "revenue_ytd",
        "--grain",
        "month",
        "--from",
        "2025-01-01",
        "--to",
        "2025-04-30",
    ];
    let rows = eval(&fixture(), &args);
    assert_eq!(
        text(&rows, "period"),
        ["2025-01", "2025-02", "2025-03", "2025-04"]
    );
    assert_values(&rows, "prev_wins", &[s(2.), s(1.), s(0.), s(1.)]);
    assert_values(&rows, "win_rate_3", &[s(4. / 9.), s(3. / 7.), s(0.5), s(0.5)]);
    // Cumulative starts with the range; year-to-date with the year.
    assert_values(&rows, "revenue_cumulative", &[s(300.), s(300.), s(800.), s(860.)]);
    let rows = eval(
        &fixture(),
        &[
            "won_revenue",
            "revenue_ytd",
            "--grain",
            "month",
            "--period",
            "2024-12",
        ],
    );
    assert_eq!(text(&rows, "period"), ["2024-12"]);
    assert_values(&rows, "won_revenue", &[s(240.)]);
    assert_values(&rows, "revenue_ytd", &[s(340.)]);
}

/// A running total starts with the range: a period before it, read for
/// `prev` or `--compare`, has none yet (null, never a 0 that reads as
/// "nothing won" and makes the first change the whole total).
#[test]
fn a_running_total_has_no_value_before_its_range() {
    let dir = fixture_with(
        "cumulative-before-range",
        "kpis:\n  prev_cumulative: {measure: prev(revenue_cumulative)}\n",
    );
    let range = ["--grain", "month", "--from", "2025-01-01", "--to", "2025-04-30"];
    let mut args = vec!["revenue_cumulative", "prev_cumulative"];
    args.extend(range);
    let rows = eval(&dir, &args);
    assert_values(&rows, "revenue_cumulative", &[s(300.), s(300.), s(800.), s(860.)]);
    assert_values(&rows, "prev_cumulative", &[None, s(300.), s(300.), s(800.)]);
    let mut args = vec!["revenue_cumulative", "--compare", "previous"];
    args.extend(range);
    let rows = eval(&dir, &args);
    assert_values(
        &rows,
        "revenue_cumulative_compare",
        &[None, s(300.), s(300.), s(800.)],
    );
    assert_values(
        &rows,
        "revenue_cumulative_change",
        &[None, s(0.), s(500.), s(60.)],
    );
    assert_values(
        &rows,
        "revenue_cumulative_change_pct",
        &[None, s(0.), s(500. / 300.), s(60. / 800.)],
    );
}

#[test]
fn fiscal_years_bound_to_date_windows_and_comparisons() {
    // The fiscal year starts in February: quarters Nov–Jan and Feb–Apr.
    let dir = fixture_with("fiscal-time", "calendar:\n  fiscal_year_start: 2\n");
    let rows = eval(&dir, &["revenue_ytd", "revenue_qtd", "--grain", "month"]);
    assert_values(
        &rows,
        "revenue_ytd",
        &[s(100.), s(340.), s(640.), s(0.), s(500.), s(560.)],
    );
    assert_values(
        &rows,
        "revenue_qtd",
        &[s(100.), s(340.), s(640.), s(0.), s(500.), s(560.)],
    );
    let rows = eval(
        &dir,
        &[
            "won_revenue",
            "revenue_ytd",
            "--grain",
            "quarter",
            "--compare",
            "previous",
        ],
    );
    assert_eq!(text(&rows, "period"), ["FY2025-Q4", "FY2026-Q1"]);
    assert_values(&rows, "won_revenue", &[s(640.), s(560.)]);
    assert_values(&rows, "revenue_ytd", &[s(640.), s(560.)]);
    assert_values(&rows, "won_revenue_compare", &[N, s(640.)]);
    assert_values(&rows, "won_revenue_change", &[N, s(-80.)]);
    assert_values(&rows, "won_revenue_change_pct", &[N, s(560. / 640. - 1.)]);
}

#[test]
fn iso_week_53_belongs_to_its_iso_year() {
    let rows = eval(
        &fixture(),
        &[
            "calls",
            "calls_ytd",
            "calls_prev",
            "--grain",
            "week",
            "--compare",
            "year",
        ],
    );
    let periods = text(&rows, "period");
    assert_eq!(periods.len(), 55, "2019-W52 to 2021-W01, every week present");
    let at = |label: &str| periods.iter().position(|p| p == label).unwrap();
    let calls = column(&rows, "calls");
    let ytd = column(&rows, "calls_ytd");
    let prev = column(&rows, "calls_prev");
    let compare = column(&rows, "calls_compare");
    // 2019-12-30 and 2020-01-01 are 2020-W01; 2020-12-28 to 2021-01-03 is 2020-W53.
    assert_eq!(calls[at("2020-W01")], s(2.));
    assert_eq!(calls[at("2020-W51")], s(0.));
    assert_eq!(calls[at("2020-W53")], s(3.));
    assert_eq!(calls[at("2021-W01")], s(4.));
    // Year to date by ISO year: 2020-W01 starts a year though it begins in 2019.
    assert_eq!(ytd[at("2019-W52")], s(1.));
    assert_eq!(ytd[at("2020-W01")], s(2.));
    assert_eq!(ytd[at("2020-W52")], s(3.));
    assert_eq!(ytd[at("2020-W53")], s(6.));
    assert_eq!(ytd[at("2021-W01")], s(4.));
    assert_eq!(prev[at("2021-W01")], s(3.));
    // The same week a year earlier: 2019 has no week 53.
    assert_eq!(compare[at("2020-W52")], s(1.));
    assert_eq!(compare[at("2020-W53")], N);
    assert_eq!(compare[at("2021-W01")], s(2.));
    assert_eq!(column(&rows, "calls_change_pct")[at("2021-W01")], s(1.));
}

#[test]
fn nested_aggregation_per_member() {
    let rows = eval(
        &fixture(),
        &[
            "share_at_quota",
            "reps_below_half",
            "top_rep_revenue",
            "average_rep_revenue",
            "active_reps",
            "reps_without_a_win",
            "--grain",
            "month",
        ],
    );
    // Attainment A/B: Dec 240/200, 0/100; Jan 300/400, –; Mar 0/100, 500/400;
    // other months have no quota, so no rep has an attainment.
    assert_values(&rows, "share_at_quota", &[N, s(0.5), s(0.), N, s(0.5), N]);
    // Win rates A/B: Nov 1/2, –; Dec 2/3, 0/2; Jan 1/2, –; Mar 0/1, 1/1; Apr 1/2, –.
    assert_values(
        &rows,
        "reps_below_half",
        &[s(0.), s(1.), s(0.), s(0.), s(1.), s(0.)],
    );
    assert_values(
        &rows,
        "top_rep_revenue",
        &[s(100.), s(240.), s(300.), s(0.), s(500.), s(60.)],
    );
    // Every rep of the result is a member, with 0 when it won nothing that month.
    assert_values(
        &rows,
        "average_rep_revenue",
        &[s(50.), s(120.), s(150.), s(0.), s(250.), s(30.)],
    );
    assert_values(&rows, "active_reps", &[s(1.), s(2.), s(1.), s(0.), s(2.), s(1.)]);
    // A condition asks every member, those without rows in the month too
    // (0 wins): B in November, January and April, both in February. It
    // once counted only members with rows, as `count(per owner)` does.
    assert_values(
        &rows,
        "reps_without_a_win",
        &[s(1.), s(1.), s(1.), s(2.), s(1.), s(1.)],
    );
    // Over the whole range: A 700/700, B 500/500.
    let rows = eval(&fixture(), &["share_at_quota", "top_rep_revenue"]);
    assert_values(&rows, "share_at_quota", &[s(1.)]);
    assert_values(&rows, "top_rep_revenue", &[s(700.)]);
    // Grouped by the member dimension itself: one member per group.
    let rows = eval(
        &fixture(),
        &["share_at_quota", "--by", "owner", "--period", "2024-12"],
    );
    assert_values(&rows, "share_at_quota", &[s(1.), s(0.)]);
}

/// `count(per owner)` in a derived KPI counts every member of the KPIs its
/// measure names (it once planned itself forever, overflowing the stack),
/// and the members of a nested aggregate have every period of the output:
/// asked beside calls, whose data start five years earlier, the months
/// before any deal have both reps at 0, as the months of 2025 without a
/// win do, not no members (null for a maximum or an average).
#[test]
fn members_have_every_period_of_the_output() {
    let dir = fixture_with(
        "members-everywhere",
        "kpis:\n  revenue_per_rep: {measure: sum(won_revenue per owner) / count(per owner)}\n",
    );
    let kpis = ["revenue_per_rep", "top_rep_revenue", "share_at_quota"];
    let alone = eval(&dir, &[&kpis[..], &["--grain", "month"]].concat());
    // Nov–Apr, A and B: won 100, 240 (A), 300, 0, 500 (B), 60, over two reps.
    assert_values(
        &alone,
        "revenue_per_rep",
        &[s(50.), s(120.), s(150.), s(0.), s(250.), s(30.)],
    );
    let beside = eval(&dir, &[&kpis[..], &["calls", "--grain", "month"]].concat());
    let periods = text(&beside, "period");
    let at = |label: &str| periods.iter().position(|p| p == label).unwrap();
    assert_eq!((periods[0].as_str(), periods.len()), ("2019-12", 65));
    for k in kpis {
        let (before, now) = (column(&beside, k), column(&alone, k));
        assert_eq!(before[at("2024-11")..], now[..], "{k}");
    }
    for month in ["2019-12", "2021-01", "2024-10"] {
        assert_eq!(column(&beside, "revenue_per_rep")[at(month)], s(0.), "{month}");
        assert_eq!(column(&beside, "top_rep_revenue")[at(month)], s(0.), "{month}");
        // No rep has a quota there: no attainment, nobody to average.
        assert_eq!(column(&beside, "share_at_quota")[at(month)], N, "{month}");
    }
}

/// The members of a nested aggregate in a period read before the range
/// (by `--compare` or `prev`) are those with rows there, as when that
/// period is asked itself: B has a quota in December 2024 and nothing in
/// January, so December's share at quota is A's 240/200 and B's 0/100,
/// one of two. B once was no member there, and the share was 100%.
#[test]
fn members_of_a_period_read_before_the_range_are_its_own() {
    let dir = fixture_with(
        "members-before",
        "kpis:\n  share_before: {measure: prev(share_at_quota), unit: percent}\n",
    );
    let january: Vec<&str> = "share_at_quota share_before --grain month --period 2025-01 --compare previous"
        .split(' ')
        .collect();
    let rows = eval(&dir, &january);
    assert_values(&rows, "share_at_quota", &[s(0.)]);
    assert_values(&rows, "share_at_quota_compare", &[s(0.5)]);
    assert_values(&rows, "share_before", &[s(0.5)]);
}

/// A spec of reps A, B and C, who won 300 on 2024-11-10, 100 on
/// 2024-12-05 and 200 on 2024-12-20 (`won`), with `kpis` beside.
fn three_reps_won(name: &str, kpis: &str) -> PathBuf {
    let deals =
        "owner,stage,amount,closed_at\nA,won,300,2024-11-10\nB,won,100,2024-12-05\nC,won,200,2024-12-20\n";
    let spec = format!(
        "datasets:\n  deals: {{source: deals.csv, time: closed_at}}\nkpis:\n  \
         won: {{dataset: deals, measure: sum(amount where stage == \"won\")}}\n  {kpis}\n"
    );
    dir_with(name, &[("deals.csv", deals), ("s.yaml", spec.as_str())]).join("s.yaml")
}

/// With history read before the range, each period has its own members:
/// December's are B and C (rows there), November's, read by `prev` and
/// `--compare`, is A alone, as when each month is asked itself. A, with
/// rows only in November, once counted at 0 in December whenever `prev`
/// was asked beside (December's average 100, not 150: a KPI's value
/// depending on the others asked), and B and C at 0 in November (100,
/// not 300).
#[test]
fn each_period_of_a_nest_has_its_own_members_around_the_range() {
    let spec = three_reps_won(
        "nest-members-around-range",
        "avg_won: {measure: avg(won per owner)}\n  prev_avg: {measure: prev(avg_won)}",
    );
    let december = ["--grain", "month", "--period", "2024-12"];
    let alone = eval(&spec, &[&["avg_won"][..], &december].concat());
    assert_values(&alone, "avg_won", &[s(150.)]);
    let beside = eval(&spec, &[&["avg_won", "prev_avg"][..], &december].concat());
    assert_values(&beside, "avg_won", &[s(150.)]);
    assert_values(&beside, "prev_avg", &[s(300.)]);
    let november = eval(&spec, &["avg_won", "--grain", "month", "--period", "2024-11"]);
    assert_values(&november, "avg_won", &[s(300.)]);
    let compared = eval(
        &spec,
        &[&["avg_won", "--compare", "previous"][..], &december].concat(),
    );
    assert_values(&compared, "avg_won", &[s(150.)]);
    assert_values(&compared, "avg_won_compare", &[s(300.)]);
}

/// Without a grain a period a year back has no value: `prev(won, "year")`
/// is null in every group, and so is a literal compared with it. In a
/// nest's condition that comparison stopped the run ("length 1 doesn't
/// match the DataFrame height"): the nulls were one value stretched over
/// the rows. By hand: no rep's condition holds, so the average over none
/// is null; `if` takes its `else` for each of A, B and C (won 300, 100,
/// 200 over the whole data, 600 in all).
#[test]
fn a_literal_compared_with_a_year_back_without_a_grain_is_null() {
    let spec = three_reps_won(
        "year-back-without-grain",
        "grown: {measure: avg(won per owner where 5 > prev(won, \"year\"))}\n  \
         known: {measure: if 5 > prev(won, \"year\") then 0 else won}",
    );
    let whole = eval(&spec, &["grown", "known"]);
    assert_values(&whole, "grown", &[N]);
    assert_values(&whole, "known", &[s(600.)]);
    let by_owner = eval(&spec, &["grown", "known", "--by", "owner"]);
    assert_eq!(text(&by_owner, "owner"), ["A", "B", "C"]);
    assert_values(&by_owner, "grown", &[N, N, N]);
    assert_values(&by_owner, "known", &[s(300.), s(100.), s(200.)]);
}

/// A derived KPI's `per` is checked as `--by` is: on every dataset beneath
/// the KPIs it aggregates (a misspelt one once failed in evaluation with
/// the engine's "unable to find column"); a nest with no KPI around it has
/// no members (inside another nest's argument, it once overflowed the
/// stack). Without data, a name that only a dataset's own `columns:`
/// leave out (`owner` of quotas, counted alone) may be in its file: warned
/// of as a measure's undeclared name is; read, the file decides. One that
/// another dataset beneath declares (deals' `owner`) is missing where it
/// is not declared, as for a target's `by:`.
#[test]
fn a_derived_per_is_on_the_datasets_beneath() {
    let spec = r#"datasets:
  deals: {source: d.csv, time: closed_at, columns: {owner: string, amount: number, closed_at: date}}
  quotas: {source: q.csv, time: month, columns: {rep: string, quota: number, month: date}}
kpis:
  won: {dataset: deals, measure: sum(amount)}
  quota: {dataset: quotas, measure: sum(quota)}
  attainment: {measure: won / quota}
  top: {measure: max(won per owner)}
  typo: {measure: max(won per ownr)}
  half: {measure: avg(attainment per owner)}
  alone: {measure: count(per owner)}
  beside: {measure: quota / count(per owner)}
  inside: {measure: sum(count(per owner) per owner where won > 0)}
"#;
    let outcome = check_str("per.yaml", spec);
    assert_eq!(
        positions(&outcome),
        [
            "kpi::unknown_dimension@9:31",
            "kpi::dimension_missing@10:38",
            "kpi::nest_without_members@11:20",
            "kpi::undeclared_column@12:39",
            "kpi::nest_without_members@13:25",
        ]
    );
    let help = outcome.diagnostics[0].help.as_deref().unwrap_or_default();
    assert!(help.contains("`owner`"), "{help}");
    let dir = crate::support::dir_with(
        "derived-per-read",
        &[
            ("per.yaml", spec),
            ("d.csv", "owner,amount,closed_at\na,1,2025-01-01\n"),
            ("q.csv", "rep,quota,month\na,1,2025-01-01\n"),
        ],
    );
    let (_, out, _) = crate::support::kpi_in(
        &dir,
        &["--spec", "per.yaml", "check", "--data", "--format", "json"],
    );
    let found: Vec<String> = serde_json::from_str::<Vec<serde_json::Value>>(&out)
        .unwrap()
        .iter()
        .map(|d| format!("{}@{}:{}", d["code"].as_str().unwrap(), d["line"], d["column"]))
        .collect();
    for want in ["kpi::dimension_missing@10:38", "kpi::unknown_dimension@12:39"] {
        assert!(found.iter().any(|f| f == want), "{want}: {found:?}");
    }
}

/// `per` takes what `--by` takes: a computed dimension, an alias, and a
/// looked-up column with its dataset's name or, when only one lookup has
/// it, without (which a base KPI once refused as no dimension). Members
/// by hand: January east 20,100 (a), west 0 (b lost); February east 5
/// (c), west 70,000 (b), no team 7 (a deal without an owner); bands small
/// 100 + 12, mid 20,000, large 70,000 won.
#[test]
fn per_takes_the_dimensions_by_takes() {
    let deals = "owner,stage,amount,closed_at\na,won,100,2025-01-05\na,won,20000,2025-01-06\n\
                 b,lost,60000,2025-01-07\nb,won,70000,2025-02-07\nc,won,5,2025-02-09\n,won,7,2025-02-10\n";
    let spec = r#"datasets:
  deals:
    source: deals.csv
    time: closed_at
    columns: {owner: string, stage: string, amount: number, closed_at: date}
    dimensions:
      band: if amount >= 50000 then "large" elif amount >= 10000 then "mid" else "small"
      rep: owner
    lookups: [{dataset: teams, on: owner}]
  teams: {source: teams.csv, columns: {owner: string, region: string}}
kpis:
  won: {dataset: deals, measure: sum(amount where stage == "won")}
  by_band: {measure: avg(won per band)}
  top_region: {measure: max(won per region)}
  selling_regions: {measure: count(per teams.region where won > 0)}
  by_rep: {measure: avg(won per rep)}
  regions_with_deals: {dataset: deals, measure: count(per region)}
  won_by_region: {dataset: deals, measure: 'avg(sum(amount where stage == "won") per region)'}
"#;
    let dir = dir_with(
        "per-dimensions",
        &[
            ("deals.csv", deals),
            ("teams.csv", "owner,region\na,east\nb,west\nc,east\n"),
            ("spec.yaml", spec),
        ],
    );
    let rows = eval(&dir.join("spec.yaml"), &["--grain", "month"]);
    assert_values(&rows, "by_band", &[s(20_100. / 3.), s(70_012. / 3.)]);
    assert_values(&rows, "top_region", &[s(20_100.), s(70_000.)]);
    assert_values(&rows, "selling_regions", &[s(1.), s(3.)]);
    // Four reps, the deal without an owner one of them.
    assert_values(&rows, "by_rep", &[s(20_100. / 4.), s(70_012. / 4.)]);
    assert_values(&rows, "regions_with_deals", &[s(2.), s(3.)]);
    assert_values(&rows, "won_by_region", &[s(20_100. / 3.), s(70_012. / 3.)]);
}

/// With a range, the periods before it are read for what the output's
/// values need, and a group is in the output when it has rows in a period
/// that counts: the range's own or one a value reads. April 2025 compared
/// with two months earlier reads February (empty) and, in between, March,
/// where only B closed deals: B is in no value of April's row and was a
/// row of zeros. A closed deals in April; `prev(wins, 2)` is February's 0.
#[test]
fn periods_read_only_in_between_add_no_group() {
    let args = |kpi: &'static str, more: &[&'static str]| {
        let mut a = vec![kpi, "--by", "owner", "--grain", "month", "--period", "2025-04"];
        a.extend(more);
        a
    };
    let rows = eval(&fixture(), &args("won_revenue", &["--compare", "2"]));
    assert_eq!(text(&rows, "owner"), ["A"]);
    assert_values(&rows, "won_revenue", &[s(60.)]);
    assert_values(&rows, "won_revenue_compare", &[s(0.)]);
    let rows = eval(&fixture(), &args("wins_two_back", &[]));
    assert_eq!(text(&rows, "owner"), ["A"]);
    assert_values(&rows, "wins_two_back", &[s(0.)]);
    // A comparison with the month before reads March itself: B is there.
    let rows = eval(&fixture(), &args("won_revenue", &["--compare", "previous"]));
    assert_eq!(text(&rows, "owner"), ["A", "B"]);
    assert_values(&rows, "won_revenue_compare", &[s(0.), s(500.)]);
}

#[test]
fn compare_a_range_with_the_range_before_it() {
    let rows = eval(
        &fixture(),
        &[
            "won_revenue",
            "win_rate",
            "--period",
            "2025-Q1",
            "--compare",
            "previous",
        ],
    );
    // 2025-Q1: 800 won, 2 of 4 closed won; 2024-Q4: 340, 3 of 7.
    assert_values(&rows, "won_revenue", &[s(800.)]);
    assert_values(&rows, "won_revenue_compare", &[s(340.)]);
    assert_values(&rows, "won_revenue_change", &[s(460.)]);
    assert_values(&rows, "win_rate_compare", &[s(3. / 7.)]);
    assert_values(&rows, "win_rate_change", &[s(0.5 - 3. / 7.)]);
    // By owner, each range over the groups of both: B closed nothing in
    // 2025-Q2 (0 won, no win rate) after 500 won of 1 closed in Q1.
    let rows = eval(
        &fixture(),
        &[
            "won_revenue",
            "win_rate",
            "--by",
            "owner",
            "--period",
            "2025-Q2",
            "--compare",
            "previous",
        ],
    );
    assert_eq!(text(&rows, "owner"), ["A", "B"]);
    assert_values(&rows, "won_revenue", &[s(60.), s(0.)]);
    assert_values(&rows, "won_revenue_compare", &[s(300.), s(500.)]);
    assert_values(&rows, "won_revenue_change", &[s(-240.), s(-500.)]);
    assert_values(&rows, "won_revenue_change_pct", &[s(-0.8), s(-1.)]);
    assert_values(&rows, "win_rate", &[s(0.5), N]);
    assert_values(&rows, "win_rate_compare", &[s(1. / 3.), s(1.)]);
    // And a group new in the range compares with the value of no rows.
    let rows = eval(
        &fixture(),
        &[
            "won_revenue",
            "--by",
            "owner",
            "--period",
            "2024-Q4",
            "--compare",
            "previous",
        ],
    );
    assert_values(&rows, "won_revenue_compare", &[s(0.), s(0.)]);
    let out = kpi(&[
        "eval",
        "--spec",
        "tests/fixtures/time",
        "wins",
        "--compare",
        "year",
    ]);
    assert_eq!(out.status.code(), Some(2), "no periods to compare");
    let out = kpi(&[
        "eval",
        "--spec",
        "tests/fixtures/time",
        "wins",
        "--grain",
        "month",
        "--compare",
        "x",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn compare_year_by_quarter_on_the_sample_data() {
    let rows = eval(
        &root().join("kpis"),
        &[
            "won_revenue",
            "win_rate",
            "--grain",
            "quarter",
            "--compare",
            "year",
        ],
    );
    let periods = text(&rows, "period");
    let revenue = column(&rows, "won_revenue");
    let compare = column(&rows, "won_revenue_compare");
    let change = column(&rows, "won_revenue_change");
    assert!(periods.len() >= 8, "{periods:?}");
    for (i, p) in periods.iter().enumerate() {
        if i < 4 {
            assert_eq!(compare[i], None, "{p} has no year of history");
            continue;
        }
        // Every quarter with a year of history: the value four quarters before.
        assert_eq!(compare[i], revenue[i - 4], "{p}");
        assert!(compare[i].is_some(), "{p}");
        let expected = revenue[i].unwrap() - revenue[i - 4].unwrap();
        assert!((change[i].unwrap() - expected).abs() < 1e-6, "{p}");
        assert!(column(&rows, "win_rate_compare")[i].is_some(), "{p}");
    }
}

#[test]
fn calendar_offsets_hold_whatever_the_grain() {
    // By month, a quarter before is three months before.
    let rows = eval(
        &fixture(),
        &["revenue_quarter_before", "revenue_qoq", "--grain", "month"],
    );
    assert_values(
        &rows,
        "revenue_quarter_before",
        &[N, N, N, s(100.), s(240.), s(300.)],
    );
    assert_values(
        &rows,
        "revenue_qoq",
        &[N, N, N, s(-1.), s(500. / 240. - 1.), s(60. / 300. - 1.)],
    );
    // By quarter, the quarter before.
    let rows = eval(
        &fixture(),
        &["revenue_quarter_before", "revenue_qoq", "--grain", "quarter"],
    );
    assert_values(&rows, "revenue_quarter_before", &[N, s(340.), s(800.)]);
    assert_values(
        &rows,
        "revenue_qoq",
        &[N, s(800. / 340. - 1.), s(60. / 800. - 1.)],
    );
    // From history before the range.
    let rows = eval(
        &fixture(),
        &["revenue_qoq", "--grain", "month", "--period", "2025-04"],
    );
    assert_values(&rows, "revenue_qoq", &[s(60. / 300. - 1.)]);
    // By ISO week, the same week number a year earlier (none for week 53).
    let rows = eval(
        &fixture(),
        &["calls", "calls_year_before", "calls_yoy", "--grain", "week"],
    );
    let periods = text(&rows, "period");
    let at = |label: &str| periods.iter().position(|p| p == label).unwrap();
    let before = column(&rows, "calls_year_before");
    assert_eq!(before[at("2020-W52")], s(1.));
    assert_eq!(before[at("2020-W53")], N);
    assert_eq!(before[at("2021-W01")], s(2.));
    assert_eq!(column(&rows, "calls_yoy")[at("2021-W01")], s(2.));
}

#[test]
fn library_growth_and_windows_agree_with_their_parts_on_the_sample_data() {
    let rows = eval(
        &root().join("kpis"),
        &[
            "won_revenue",
            "won_deals",
            "lost_deals",
            "revenue_growth_yoy",
            "ytd_revenue",
            "win_rate_trailing_3m",
            "--grain",
            "month",
        ],
    );
    let periods = text(&rows, "period");
    let revenue = column(&rows, "won_revenue");
    let won = column(&rows, "won_deals");
    let lost = column(&rows, "lost_deals");
    let yoy = column(&rows, "revenue_growth_yoy");
    let ytd = column(&rows, "ytd_revenue");
    let trailing = column(&rows, "win_rate_trailing_3m");
    assert!(periods.len() > 24);
    let close = |a: Option<f64>, b: f64| (a.unwrap() - b).abs() <= 1e-9 * b.abs().max(1.0);
    for i in 0..periods.len() {
        let r = revenue[i].unwrap();
        if i >= 12 && revenue[i - 12].unwrap() != 0.0 {
            assert!(
                close(yoy[i], r / revenue[i - 12].unwrap() - 1.0),
                "{}",
                periods[i]
            );
        } else if i < 12 {
            assert_eq!(yoy[i], None, "{}", periods[i]);
        }
        let year = &periods[i][..4];
        let so_far: f64 = (0..=i)
            .filter(|j| periods[*j].starts_with(year))
            .map(|j| revenue[j].unwrap())
            .sum();
        assert!(close(ytd[i], so_far), "{}", periods[i]);
        let window = i.saturating_sub(2)..=i;
        let w: f64 = window.clone().map(|j| won[j].unwrap()).sum();
        let closed: f64 = window.map(|j| won[j].unwrap() + lost[j].unwrap()).sum();
        assert!(close(trailing[i], w / closed), "{}", periods[i]);
    }
}

#[test]
fn the_lead_funnel_counts_the_sample_csv() {
    let data = root().join("examples/data");
    let read = |name: &str| -> Vec<Vec<String>> {
        std::fs::read_to_string(data.join(name))
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect()
    };
    let won: std::collections::HashSet<String> = read("deals.csv")
        .into_iter()
        .filter(|r| r[4] == "won")
        .map(|r| r[0].clone())
        .collect();
    // created_at, first_contact_at, qualified_at, first_meeting_at, deal_id.
    let mut counts = [0.0; 6];
    for r in read("leads.csv").iter().filter(|r| r[1].starts_with("2024")) {
        let reached = [
            true,
            !r[5].is_empty(),
            !r[6].is_empty(),
            !r[7].is_empty(),
            !r[9].is_empty(),
            won.contains(&r[9]),
        ];
        for (i, c) in counts.iter_mut().enumerate() {
            if reached[..=i].iter().all(|x| *x) {
                *c += 1.0;
            }
        }
    }
    let rows = eval(&root().join("kpis"), &["lead_funnel", "--period", "2024"]);
    assert_eq!(
        text(&rows, "step"),
        [
            "created",
            "contacted",
            "qualified",
            "meeting",
            "opportunity",
            "won"
        ]
    );
    let got = column(&rows, "count");
    for i in 0..6 {
        assert_eq!(got[i], Some(counts[i]), "step {i}");
    }
    assert_values(
        &rows,
        "conversion",
        &[
            N,
            s(counts[1] / counts[0]),
            s(counts[2] / counts[1]),
            s(counts[3] / counts[2]),
            s(counts[4] / counts[3]),
            s(counts[5] / counts[4]),
        ],
    );
    assert_values(
        &rows,
        "conversion_from_start",
        &counts.map(|c| Some(c / counts[0])),
    );
}

#[test]
fn funnels_and_kpis_together_on_the_command_line() {
    let out = kpi(&[
        "eval",
        "won_revenue",
        "lead_funnel",
        "--period",
        "2024",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kpis"].as_array().unwrap().len(), 1);
    assert_eq!(v["funnels"].as_array().unwrap().len(), 6);
    assert_eq!(v["funnels"][0]["step"], "created");
    let out = kpi(&["eval", "won_revenue", "lead_funnel", "--format", "csv"]);
    assert_eq!(out.status.code(), Some(2), "one table per csv");
    let out = kpi(&["eval", "lead_funnel", "--grain", "year", "--compare", "year"]);
    assert_eq!(out.status.code(), Some(2));
    let out = kpi(&["eval", "lead_funnel", "--grain", "year", "--by", "region"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("conversion_from_start") && table.contains("APAC"),
        "{table}"
    );
}

/// A stock's ends in the future (contracts' end dates) do not lengthen the
/// spine past today's period, as `--grain all` takes the level at today at
/// the latest: months of MRR ran to the last contract's end, a decline
/// that had not happened. A range asked for runs where it says.
#[test]
fn a_stocks_future_ends_stop_the_spine_at_today() {
    let dir = dir_with(
        "stock-future-ends",
        &[
            (
                "subs.csv",
                "id,started_at,ended_at,mrr\n1,2025-01-10,,100\n2,2025-02-01,2025-03-15,50\n3,2025-03-01,2999-12-31,30\n",
            ),
            (
                "s.yaml",
                "datasets:\n  subs: {source: subs.csv}\nkpis:\n  mrr: {dataset: subs, measure: sum(mrr), active: {from: started_at, to: ended_at}}\n",
            ),
        ],
    );
    let spec = dir.join("s.yaml");
    let rows = eval(&spec, &["--grain", "year"]);
    let this_year = kpi::execute::today().year();
    let years: Vec<String> = (2025..=this_year).map(|y| y.to_string()).collect();
    assert_eq!(text(&rows, "period"), years);
    // Each year's end: 100 + 30 (the second contract ended in March 2025).
    assert!(column(&rows, "mrr").iter().all(|v| *v == Some(130.0)), "{rows:?}");
    let rows = eval(
        &spec,
        &["--grain", "year", "--from", "2998-01-01", "--to", "2999-12-31"],
    );
    assert_eq!(text(&rows, "period"), ["2998", "2999"]);
    // At the end of 2999, the third contract has ended.
    assert_values(&rows, "mrr", &[s(130.0), s(100.0)]);
}

/// A stock whose rows are never active (one without a start, one that ends
/// before it starts) has no period by a grain: its result is empty, not
/// an evaluation error (the missing part columns were once looked up). A
/// range gives its months at level 0, and a flow KPI beside it dates the
/// spine, where the stock is 0 too.
#[test]
fn a_stock_with_no_row_ever_active_has_no_levels() {
    let dir = dir_with(
        "stock-never-active-at-all",
        &[
            (
                "subs.csv",
                "owner,started_at,ended_at,mrr\nann,,2025-02-01,30\ncy,2025-03-05,2025-01-20,70\n",
            ),
            (
                "s.yaml",
                "datasets:\n  subs: {source: subs.csv, time: ended_at}\nkpis:\n  \
                 mrr: {dataset: subs, measure: sum(mrr), active: {from: started_at, to: ended_at}}\n  \
                 mrr_twice: {measure: mrr * 2}\n  \
                 ended: {dataset: subs, measure: sum(mrr)}\n",
            ),
        ],
    );
    let spec = dir.join("s.yaml");
    for by in [&[][..], &["--by", "owner"]] {
        let mut args = vec!["mrr", "mrr_twice", "--grain", "month"];
        args.extend(by);
        assert!(eval(&spec, &args).is_empty(), "{args:?}");
    }
    let quarter: Vec<&str> = "mrr mrr_twice --grain month --from 2025-01-01 --to 2025-03-31"
        .split(' ')
        .collect();
    let rows = eval(&spec, &quarter);
    assert_eq!(text(&rows, "period"), ["2025-01", "2025-02", "2025-03"]);
    assert_values(&rows, "mrr", &[s(0.), s(0.), s(0.)]);
    assert_values(&rows, "mrr_twice", &[s(0.), s(0.), s(0.)]);
    let rows = eval(&spec, &["--grain", "month"]);
    assert_eq!(text(&rows, "period"), ["2025-01", "2025-02"]);
    assert_values(&rows, "mrr", &[s(0.), s(0.)]);
    assert_values(&rows, "ended", &[s(70.), s(30.)]);
}

/// By week, a month starts with the first week whose fourth day is in it:
/// `mtd` by week of 2024-W25 (June 17–23) reads W23 (June 3–9) and W24,
/// not W22 (May 27–June 2, which belongs to May), so a rep whose only deal
/// closed on June 1 is no group of the output.
#[test]
fn a_to_date_window_by_week_reads_its_spans_weeks_only() {
    let dir = dir_with(
        "mtd-weeks",
        &[
            (
                "deals.csv",
                "owner,amount,closed_at\nann,10,2024-06-19\nann,5,2024-06-04\nann,7,2024-05-29\nbob,99,2024-06-01\n",
            ),
            (
                "spec.yaml",
                "datasets:\n  deals: {source: deals.csv, time: closed_at}\nkpis:\n  revenue: {dataset: deals, measure: sum(amount)}\n  revenue_mtd: {measure: mtd(revenue)}\n",
            ),
        ],
    );
    let rows = eval(
        &dir,
        &[
            "revenue",
            "revenue_mtd",
            "--grain",
            "week",
            "--period",
            "2024-W25",
            "--by",
            "owner",
        ],
    );
    assert_eq!(text(&rows, "owner"), ["ann"]);
    assert_values(&rows, "revenue", &[s(10.)]);
    assert_values(&rows, "revenue_mtd", &[s(15.)]);
}

/// A Sunday week is placed in a year, quarter or month by its Thursday, the
/// day its ISO label is of: Sunday 2025-12-28 to Saturday 2026-01-03 is
/// labelled 2026-W01 (its Monday is in ISO week 1 of 2026), so its `ytd`
/// starts 2026 rather than carrying 2025's weeks into a week of 2026. Its
/// Wednesday, December 31, would have put it in 2025.
#[test]
fn a_sunday_week_is_in_the_year_its_label_names() {
    let dir = dir_with(
        "sunday-ytd",
        &[
            (
                "deals.csv",
                "closed_at\n2025-12-20\n2025-12-28\n2025-12-31\n2026-01-01\n2026-01-04\n",
            ),
            (
                "spec.yaml",
                "calendar: {week_start: sunday}\ndatasets:\n  deals: {source: deals.csv, time: closed_at}\nkpis:\n  deals_closed: {dataset: deals, measure: count()}\n  closed_ytd: {measure: ytd(deals_closed)}\n  closed_qtd: {measure: qtd(deals_closed)}\n",
            ),
        ],
    );
    let rows = eval(
        &dir,
        &[
            "deals_closed",
            "closed_ytd",
            "closed_qtd",
            "--grain",
            "week",
            "--from",
            "2025-12-14",
            "--to",
            "2026-01-10",
        ],
    );
    assert_eq!(
        text(&rows, "period"),
        ["2025-W51", "2025-W52", "2026-W01", "2026-W02"]
    );
    assert_values(&rows, "deals_closed", &[s(1.), s(0.), s(3.), s(1.)]);
    assert_values(&rows, "closed_ytd", &[s(1.), s(1.), s(3.), s(4.)]);
    assert_values(&rows, "closed_qtd", &[s(1.), s(1.), s(3.), s(4.)]);
}

/// A range asked without a grain that is one whole period (`--period
/// 2025-03`) is that period to its time functions: they look back in
/// months as under `--grain month`, where the range as a period of its own
/// had nothing before it (growth null) and was every window (the year to
/// date of March alone).
#[test]
fn a_period_without_a_grain_looks_back_in_periods_of_its_kind() {
    let kpis = [
        "won_revenue",
        "prev_wins",
        "revenue_growth",
        "win_rate_3",
        "revenue_ytd",
    ];
    // January 2025: won 300; December won 240 (200 + 40) in 2 deals, so
    // growth 300 / 240 − 1; from November to January 4 wins (1, 3, 7, 9)
    // of 9 closed deals, where January alone is 1 of 2.
    let january = eval(&fixture(), &[&kpis[..], &["--period", "2025-01"]].concat());
    assert!(january[0].iter().all(|(c, _)| c != "period"), "{january:?}");
    assert_values(&january, "won_revenue", &[s(300.)]);
    assert_values(&january, "prev_wins", &[s(2.)]);
    assert_values(&january, "revenue_growth", &[s(0.25)]);
    assert_values(&january, "win_rate_3", &[s(4. / 9.)]);
    assert_values(&january, "revenue_ytd", &[s(300.)]);
    // The same as by month, the period's label aside.
    let by_month = eval(
        &fixture(),
        &[&kpis[..], &["--period", "2025-01", "--grain", "month"]].concat(),
    );
    for k in kpis {
        assert_values(&by_month, k, &column(&january, k));
    }
    // March's year to date is January to March: 300 + 0 + 500.
    let march = eval(&fixture(), &["revenue_ytd", "won_revenue", "--period", "2025-03"]);
    assert_values(&march, "revenue_ytd", &[s(800.)]);
    assert_values(&march, "won_revenue", &[s(500.)]);
    // By owner: A won nothing in March but 300 in January.
    let march = eval(
        &fixture(),
        &["revenue_ytd", "--by", "owner", "--period", "2025-03"],
    );
    assert_eq!(text(&march, "owner"), ["A", "B"]);
    assert_values(&march, "revenue_ytd", &[s(300.), s(500.)]);
    // A quarter by quarters: Q1 won 800, Q4 of 2024 340 (100 + 200 + 40).
    let q1 = eval(&fixture(), &["revenue_growth", "--period", "2025-Q1"]);
    assert_values(&q1, "revenue_growth", &[s(800. / 340. - 1.)]);
}

/// A range that is no whole period keeps its one period, and says what
/// that makes of its time functions; KPIs without them say nothing.
#[test]
fn a_range_that_is_no_period_says_its_time_functions_see_nothing_before() {
    let spec = fixture().to_string_lossy().to_string();
    let args = |kpis: &str| {
        let mut a = vec!["eval", "--spec", spec.as_str(), "--format", "csv"];
        a.extend(kpis.split(' '));
        a.extend(["--from", "2025-01-10", "--to", "2025-03-10"]);
        kpi(&a)
    };
    let out = args("revenue_growth won_revenue");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "revenue_growth,won_revenue\n,800\n"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("kpi::range_not_a_period").count(), 1, "{stderr}");
    assert!(stderr.contains("`revenue_growth` has time functions"), "{stderr}");
    let out = args("won_revenue revenue_cumulative");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("range_not_a_period"));
    // A calendar year is no year of a fiscal calendar from April; its
    // first quarter is one of its quarters (FY2025-Q4): 800 against 340.
    let fiscal = fixture_with("fiscal-range", "calendar: {fiscal_year_start: 4}\n");
    let spec = fiscal.to_string_lossy().to_string();
    let out = kpi(&[
        "eval",
        "--spec",
        &spec,
        "revenue_growth",
        "--period",
        "2025",
        "--format",
        "csv",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("start in month 4"), "{stderr}");
    let q1 = eval(&fiscal, &["revenue_growth", "--period", "2025-Q1"]);
    assert_values(&q1, "revenue_growth", &[s(800. / 340. - 1.)]);
}

/// A target's KPI with time functions is evaluated over the target's
/// period as a period of its grain, finished or in progress: the year to
/// date of March is January to March, and the growth of the second
/// quarter up to April 10 is against the whole first quarter.
#[test]
fn targets_on_time_functions_look_back_in_their_periods() {
    let rows = status_rows(
        "time-targets",
        "targets:\n  ytd_march:\n    kpi: revenue_ytd\n    period: 2025-03\n    value: 700\n    objective: x\n  quarterly_growth:\n    kpi: revenue_growth\n    period: {every: quarter}\n    value: 10%\n    objective: x\n  growth_of_dates:\n    kpi: revenue_growth\n    period: {from: 2025-04-01, to: 2025-06-30}\n    value: 10%\n    objective: x\n",
        "2025-04-10",
    );
    let row = |target: &str, period: &str| {
        rows.iter()
            .find(|r| r["target"] == target && r["period"] == period)
            .unwrap_or_else(|| panic!("no row {target} {period}: {rows:?}"))
    };
    assert_eq!(row("ytd_march", "2025-03")["actual"], 800.0);
    assert_eq!(row("ytd_march", "2025-03")["status"], "achieved");
    let q1 = &row("quarterly_growth", "2025-Q1")["actual"];
    assert!(close(q1.as_f64(), s(800. / 340. - 1.)), "{q1}");
    // Up to April 10: 60 won, against the first quarter's 800.
    let q2 = &row("quarterly_growth", "2025-Q2");
    assert!(close(q2["actual"].as_f64(), s(60. / 800. - 1.)), "{q2}");
    assert_eq!(q2["status"], "off_track");
    // The same quarter written as dates.
    let dates = &row("growth_of_dates", "2025-04-01..2025-06-30")["actual"];
    assert!(close(dates.as_f64(), s(60. / 800. - 1.)), "{dates}");
}

/// A year-to-date target in the second month of a fiscal year (from
/// December): its previous period, the year's first month, reads nothing
/// before it and January reads December, so the two are not evaluated in
/// one pass over their ranges as KPIs of one period each are.
#[test]
fn a_fiscal_year_to_date_target_reads_its_year() {
    let rows = status_rows(
        "time-fiscal-targets",
        "calendar: {fiscal_year_start: 12}\ntargets:\n  ytd_january:\n    kpi: revenue_ytd\n    period: 2025-01\n    value: 500\n    objective: x\n",
        "2025-04-30",
    );
    // December's 240 (200 + 40) and January's 300.
    assert_eq!(rows[0]["actual"], 540.0, "{rows:?}");
    assert_eq!(rows[0]["status"], "achieved");
    // Up by January's 540 on December's 240.
    assert_eq!(rows[0]["trend"], "up");
}

/// `kpi status --format json` of the fixture with `extra` (its targets) as of a day.
fn status_rows(name: &str, extra: &str, as_of: &str) -> Vec<serde_json::Value> {
    let spec = fixture_with(name, extra).to_string_lossy().to_string();
    let out = kpi(&["status", "--spec", &spec, "--as-of", as_of, "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    crate::support::json_rows(&out)
}
