//! The standard KPI library in kpis/: clean as shipped, and each kind of
//! mistake made in a copy of it is reported with the right code at the right place.

use crate::support::*;

#[test]
fn the_library_checks_clean() {
    let outcome = kpi::check_path(&root().join("kpis"), false);
    assert!(outcome.diagnostics.is_empty(), "{:?}", positions(&outcome));
    assert!(outcome.spec.kpis.len() >= 30);
}

/// Replaces `from` by `to` in `file` of a copy of kpis/, checks the copy and
/// returns the diagnostics with the line and column where `to` was written.
fn mutate(file: &str, from: &str, to: &str) -> (Vec<String>, String) {
    let dir = temp_dir(&format!(
        "mutant-{}",
        to.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    ));
    copy_dir(&root().join("kpis"), &dir);
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let at = text.find(from).unwrap_or_else(|| panic!("{from} not in {file}"));
    let changed = text.replacen(from, to, 1);
    std::fs::write(&path, &changed).unwrap();
    let line = changed[..at].matches('\n').count() + 1;
    let col = at - changed[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
    let outcome = kpi::check_path(&dir, false);
    (positions(&outcome), format!("{line}:{col}"))
}

#[test]
fn mistakes_in_the_library_are_located() {
    let cases = [
        (
            "pipeline.yaml",
            "sum(amount where stage == \"won\")",
            "sum(amont where stage == \"won\")",
            "kpi::unknown_column",
            4,
        ),
        (
            "pipeline.yaml",
            "measure: won_revenue / total_quota",
            "measure: won_revenue / total_quotas",
            "kpi::unknown_kpi",
            23,
        ),
        (
            "pipeline.yaml",
            "unit: currency",
            "unit: currencies",
            "kpi::invalid_value",
            6,
        ),
        (
            "leads.yaml",
            "count(where deal_id is not null)",
            "count(where deal_id > 1)",
            "kpi::type_mismatch",
            20,
        ),
        (
            "customers.yaml",
            "measure: count(where ended_at is not null)",
            "measure: count(where ended_at is not nul)",
            "kpi::syntax_error",
            37,
        ),
        (
            "segments.yaml",
            "segment == \"Enterprise\"",
            "segment = \"Enterprise\"",
            "kpi::syntax_error",
            8,
        ),
        (
            "datasets.yaml",
            "time: closed_at",
            "time: closd_at",
            "kpi::unknown_column",
            6,
        ),
    ];
    for (file, from, to, code, offset) in cases {
        let (found, at) = mutate(file, from, to);
        let (line, col) = at.split_once(':').unwrap();
        let want = format!("{code}@{line}:{}", col.parse::<usize>().unwrap() + offset);
        assert!(found.contains(&want), "{to}: want {want}, found {found:?}");
    }
}
