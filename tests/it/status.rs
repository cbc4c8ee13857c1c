//! `kpi status` on the hand-made fixture: figures computed by hand.

use kpi::status::assess::Status;
use kpi::time::Date;

use crate::support::root;

fn spec_files(targets: &str) -> Vec<kpi::spec::InputFile> {
    let dir = root().join("kpis");
    let data = root().join("tests/fixtures/sales");
    let mut files = Vec::new();
    for f in ["datasets.yaml", "pipeline.yaml", "segments.yaml"] {
        let mut text = std::fs::read_to_string(dir.join(f)).unwrap();
        text = text.replace("../examples/data/", &format!("{}/", data.display()));
        files.push(kpi::spec::InputFile {
            name: f.into(),
            bytes: text.into_bytes(),
            base_dir: dir.clone(),
        });
    }
    files.push(kpi::spec::InputFile {
        name: "targets.yaml".into(),
        bytes: targets.as_bytes().to_vec(),
        base_dir: dir.clone(),
    });
    files
}

fn status(targets: &str, as_of: &str) -> Vec<kpi::status::StatusRow> {
    let outcome = kpi::check_loaded(kpi::spec::load_files(spec_files(targets)), false);
    assert_eq!(outcome.errors(), 0, "{:?}", outcome.diagnostics);
    kpi::status::status(&outcome.spec, &outcome.checked.model, &[], Date::parse(as_of)).unwrap()
}

const REVENUE: &str =
    "targets:\n  q1:\n    kpi: won_revenue\n    period: 2025-Q1\n    value: 1000\n    objective: x\n";

#[test]
fn an_additive_target_is_paced_then_judged() {
    // Before: upcoming.
    assert_eq!(status(REVENUE, "2024-12-31")[0].status, Status::Upcoming);
    // By 2025-02-14 (45 of 90 days) 400 is won: expected 500, projected 800, short of 900 (10% band): off track.
    let r = &status(REVENUE, "2025-02-14")[0];
    assert_eq!(r.actual, Some(400.0));
    assert_eq!(r.expected, Some(500.0));
    assert_eq!(r.projected, Some(800.0));
    assert_eq!(r.status, Status::OffTrack);
    // By 2025-03-10 (68 days) 900: projected 1,323.5: on track.
    let r = &status(REVENUE, "2025-03-10")[0];
    assert_eq!(r.actual, Some(900.0));
    assert_eq!(r.status, Status::OnTrack);
    // Over at 900 of 1,000: missed.
    assert_eq!(status(REVENUE, "2025-03-31")[0].status, Status::Missed);
    assert_eq!(
        status(&REVENUE.replace("1000", "900"), "2025-04-30")[0].status,
        Status::Achieved
    );
}

#[test]
fn a_relative_change_on_the_previous_period() {
    // March won 500; February 0 (the previous month): +10% of 0 is 0 — achieved by any revenue.
    let t =
        "targets:\n  m:\n    kpi: won_revenue\n    period: 2025-03\n    change: \"+10%\"\n    objective: x\n";
    let r = &status(t, "2025-03-31")[0];
    assert_eq!(
        (r.baseline, r.target_value, r.status),
        (Some(0.0), Some(0.0), Status::Achieved)
    );
    // January is the baseline of a label: 400 + 50% = 600 > 500: missed.
    let t = "targets:\n  m:\n    kpi: won_revenue\n    period: 2025-03\n    change: \"+50%\"\n    baseline: 2025-01\n    objective: x\n";
    let r = &status(t, "2025-03-31")[0];
    assert_eq!(
        (r.baseline, r.target_value, r.status),
        (Some(400.0), Some(600.0), Status::Missed)
    );
}

#[test]
fn per_member_recurring_targets_on_a_ratio() {
    // Win rate ≥ 60% for each rep, every month, at 2025-03-20 (March in progress):
    // by then ann lost nothing and won D5 (1 of 1); bob won D7 and lost D6 (1 of 2).
    let t = "targets:\n  each:\n    kpi: win_rate\n    by: owner\n    every: month\n    value: 60%\n    objective: x\n";
    let rows = status(t, "2025-03-20");
    let got: Vec<(String, String, Status)> = rows
        .iter()
        .map(|r| (r.period.clone(), r.member.clone().unwrap_or_default(), r.status))
        .collect();
    assert_eq!(
        got,
        [
            // February: nobody closed anything (null): missed.
            ("2025-02".to_string(), "ann".to_string(), Status::Missed),
            ("2025-02".to_string(), "bob".to_string(), Status::Missed),
            ("2025-03".to_string(), "ann".to_string(), Status::OnTrack),
            // 50% is within 10% of 60%? No: the band is 54%–60%: off track.
            ("2025-03".to_string(), "bob".to_string(), Status::OffTrack),
        ]
    );
}

#[test]
fn a_target_beyond_the_history_is_not_achievable() {
    // Monthly won revenue: 400, 0, 500. Its only measurable step is −100% (Jan → Feb).
    // Tripling January (+200%) is beyond it; so is any rise, since none is in the history.
    let t = "targets:\n  m:\n    kpi: won_revenue\n    period: 2025-03\n    change: \"+200%\"\n    baseline: 2025-01\n    objective: x\n";
    let outcome = kpi::check_loaded(kpi::spec::load_files(spec_files(t)), true);
    let warnings: Vec<&kpi::diagnostic::Diagnostic> = outcome
        .diagnostics
        .iter()
        .filter(|d| d.code == "kpi::target_not_achievable")
        .collect();
    assert_eq!(warnings.len(), 1, "{:?}", outcome.diagnostics);
    assert!(
        warnings[0].message.contains("200.0%") && warnings[0].message.contains("-100.0%"),
        "{}",
        warnings[0].message
    );
    assert_eq!(outcome.exit_code(false), 0);
}
