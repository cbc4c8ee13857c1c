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

/// A spine from `first` to `last` by `grain` of more than `most` periods;
/// `from_data`: the range is the data's, not the one asked.
pub fn too_many_periods(
    first: crate::time::Date,
    last: crate::time::Date,
    grain: crate::period::Grain,
    most: usize,
    from_data: bool,
) -> Diagnostic {
    use crate::diagnostic::count;
    use crate::keyword::Keyword;
    let whose = match from_data {
        true => "the first and last dates of the data",
        false => "the range asked",
    };
    let help = match from_data {
        true => "a placeholder date in the time column (1900-01-01, 9999-12-31) stretches the range: narrow it (`--from`/`--to`, `--period`), choose a longer `--grain`, or clean the dates",
        false => "narrow the range (`--from`/`--to`, `--period`) or choose a longer `--grain`",
    };
    Diagnostic::error(
        "kpi::result_too_large",
        format!(
            "the result would span more than {} periods by {}, from {first} to {last} ({whose})",
            count(most),
            grain.as_str()
        ),
    )
    .help(help)
}

/// KPIs with time functions over a range without a grain that is no whole
/// period (nor the start of one): the range is their one period, so
/// nothing comes before it and every window is the range itself.
/// `fiscal_year_start`: the calendar's, whose years and quarters a
/// calendar year may not be.
pub fn range_not_a_period(kpis: &[&str], range: crate::period::Period, fiscal_year_start: u32) -> Diagnostic {
    let names: Vec<String> = kpis.iter().map(|k| format!("`{k}`")).collect();
    let fiscal = match fiscal_year_start {
        1 => String::new(),
        m => format!(" (the spec's years and quarters start in month {m}: `fiscal_year_start`)"),
    };
    Diagnostic::warning(
        "kpi::range_not_a_period",
        format!(
            "{} {} time functions that read earlier periods, but {} to {} is no whole day, week, month, quarter or year{fiscal}: as the one period, it has no earlier period (`prev`, `diff` and `growth` are null) and is every window (`rolling`, `ytd`)",
            names.join(", "),
            if kpis.len() == 1 { "has" } else { "have" },
            range.start,
            range.end
        ),
    )
    .help("ask for a period (`--period 2025-Q1`), or add a `--grain` so that each period of the range looks back in periods of it")
}

/// A KPI value that is not a finite number: an aggregate beyond ±1.8e308
/// (a sum of huge values), a product of huge values, or a row function
/// without a value (`sqrt` of a negative number). It is shown as null, and
/// said, never left silent.
pub fn overflow(kpi: &str, rows: u64) -> Diagnostic {
    let rows = crate::diagnostic::counted(rows, "row");
    Diagnostic::warning(
        "kpi::overflow",
        format!("KPI `{kpi}` is not a finite number in {rows} (an overflow beyond ±1.8e308, or a row function with no value such as the root of a negative number); shown as null"),
    )
    .help("check the data's unit (cents, a stray exponent) and the KPI's row functions")
}
