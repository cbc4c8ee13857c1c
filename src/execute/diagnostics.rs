//! Diagnostics of evaluation.

use crate::diagnostic::Diagnostic;

pub fn evaluation_error(message: &str) -> Diagnostic {
    let first = message.lines().next().unwrap_or(message);
    Diagnostic::error("kpi::evaluation_error", format!("evaluation failed: {first}"))
        .help("run `kpi check --data` to find problems in the data; this may also be a bug in kpi")
}

/// A result of `rows` rows (`groups` × `periods`) of `columns` values each,
/// past [`super::MAX_RESULT_VALUES`].
pub fn result_too_large(rows: usize, groups: usize, periods: usize, columns: usize) -> Diagnostic {
    use crate::diagnostic::count;
    Diagnostic::error(
        "kpi::result_too_large",
        format!(
            "the result would have {} rows ({} groups × {} periods, every period for every group) of {columns} values each, more than {} values",
            count(rows),
            count(groups),
            count(periods),
            count(super::MAX_RESULT_VALUES)
        ),
    )
    .help("group by fewer or coarser dimensions (`--by`), choose a longer `--grain`, or narrow the range (`--from`/`--to`, `--period`)")
}

/// A KPI value that is not a finite number: an aggregate beyond ±1.8e308
/// (a sum of huge values), a product of huge values, or a row function
/// without a value (`sqrt` of a negative number). It is shown as null, and
/// said, never left silent.
pub fn overflow(kpi: &str, rows: u64) -> Diagnostic {
    let rows = if rows == 1 {
        "1 row".to_string()
    } else {
        format!("{rows} rows")
    };
    Diagnostic::warning(
        "kpi::overflow",
        format!("KPI `{kpi}` is not a finite number in {rows} (an overflow beyond ±1.8e308, or a row function with no value such as the root of a negative number); shown as null"),
    )
    .help("check the data's unit (cents, a stray exponent) and the KPI's row functions")
}
