//! Diagnostics of the checker, one constructor per code.

use super::types::Type;
use crate::diagnostic::{suggestion, Diagnostic};
use crate::span::Span;
use crate::syntax::ast::BinaryOp;

pub fn unknown_column<'a>(
    span: Span,
    name: &str,
    dataset: &str,
    known: impl IntoIterator<Item = &'a str> + Clone,
) -> Diagnostic {
    Diagnostic::error(
        "kpi::unknown_column",
        format!("dataset `{dataset}` has no column `{name}`"),
    )
    .at(span, "unknown column")
    .help(suggestion(name, known, "column"))
}

pub fn undeclared_column(span: Span, name: &str, dataset: &str) -> Diagnostic {
    Diagnostic::warning(
        "kpi::undeclared_column",
        format!("column `{name}` is not declared in `columns:` of dataset `{dataset}`"),
    )
    .at(span, "type unknown until checked against data")
    .help(format!(
        "declare it under `datasets.{dataset}.columns`, or run `kpi check --data`"
    ))
}

/// `x == null` is null whatever `x` is (SQL's rule, LANGUAGE.md §3): a
/// condition that keeps no row, where `x is null` was meant.
pub fn null_comparison(span: Span, op: BinaryOp) -> Diagnostic {
    let test = match op {
        BinaryOp::Ne => "is not null",
        _ => "is null",
    };
    Diagnostic::warning(
        "kpi::null_comparison",
        format!(
            "`{} null` is never true: a comparison with null is null",
            op.symbol()
        ),
    )
    .at(span, "compares with null")
    .help(format!("test for a missing value with `{test}` (`x {test}`)"))
}

/// `count(x)` counts non-null values, and a condition is non-null whether
/// true or false: `count(stage == "won")` counts every row with a stage.
pub fn count_of_condition(span: Span, func: &str) -> Diagnostic {
    Diagnostic::warning(
        "kpi::count_of_condition",
        format!("`{func}` of a condition counts rows where it is true or false, not where it holds"),
    )
    .at(span, "true or false: counted either way")
    .help(format!(
        "to count the rows where it holds, move it into the filter: `{func}(where …)`"
    ))
}

/// A `${VAR}` in a source that cannot be expanded. A warning: the spec is
/// still checked; reading the source reports the path it could not find.
pub fn source_variable(span: Span, dataset: &str, e: &crate::spec::env::ExpandError) -> Diagnostic {
    use crate::spec::env::ExpandError;
    match e {
        ExpandError::Unset(var) => Diagnostic::warning(
            "kpi::unset_variable",
            format!("the source of dataset `{dataset}` names `${{{var}}}`, which is not set"),
        )
        .at(span, format!("`{var}` is not set"))
        .help(format!(
            "set {var} in the environment, or give a default: `${{{var}:-path}}`"
        )),
        ExpandError::Malformed => Diagnostic::error(
            "kpi::invalid_variable",
            format!("the source of dataset `{dataset}` has a malformed `${{…}}`"),
        )
        .at(span, "not `${NAME}` or `${NAME:-default}`")
        .help("write variables as `${NAME}` or `${NAME:-default}`; NAME is letters, digits and `_`"),
    }
}

pub fn unknown_dataset<'a>(
    span: Span,
    name: &str,
    known: impl IntoIterator<Item = &'a str> + Clone,
) -> Diagnostic {
    Diagnostic::error("kpi::unknown_dataset", format!("no dataset is named `{name}`"))
        .at(span, "unknown dataset")
        .help(suggestion(name, known, "dataset"))
}

/// A test's `funnel:` that names no funnel (`a_kpi`: it names a KPI).
pub fn unknown_funnel<'a>(
    span: Span,
    name: &str,
    known: impl IntoIterator<Item = &'a str> + Clone,
    a_kpi: bool,
) -> Diagnostic {
    Diagnostic::error("kpi::unknown_funnel", format!("no funnel is named `{name}`"))
        .at(span, "unknown funnel")
        .help(match a_kpi {
            true => format!("`{name}` is a KPI: a test names it `kpi: {name}`"),
            false => suggestion(name, known, "funnel"),
        })
}

/// `name`, a dataset `dataset` does not look up; perhaps one it looks up
/// (`through`) does.
pub fn not_looked_up(span: Span, name: &str, dataset: &str, through: Option<&str>) -> Diagnostic {
    Diagnostic::error(
        "kpi::not_looked_up",
        format!("dataset `{name}` is not a lookup of `{dataset}`"),
    )
    .at(span, "not joined here")
    .help(match through {
        Some(through) => format!(
            "`{through}` looks up `{name}`, and `{dataset}` looks up `{through}`, but a lookup goes one step: look `{name}` up from `{dataset}` on a key `{dataset}` has (`lookups: [{{dataset: {name}, on: KEY}}]`), or join `{name}`'s columns into `{through}`'s data"
        ),
        None => format!("add `lookups: [{{dataset: {name}, on: KEY}}]` to dataset `{dataset}`"),
    })
}

/// `name`, a computed dimension of `looked_up`, read through `dataset`'s
/// lookup of it, which brings its columns only.
pub fn looked_up_dimension(span: Span, name: &str, looked_up: &str, dataset: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::unknown_column",
        format!("`{name}` is a computed dimension of `{looked_up}`, and a lookup brings the columns of `{looked_up}`, not its computed dimensions"),
    )
    .at(span, "not brought by the lookup")
    .help(format!(
        "compute it on `{dataset}` from the looked-up columns: a dimension under `{dataset}`'s `dimensions:` that names them as `{looked_up}.column`"
    ))
}

pub fn unknown_kpi<'a>(
    span: Span,
    name: &str,
    known: impl IntoIterator<Item = &'a str> + Clone,
) -> Diagnostic {
    Diagnostic::error("kpi::unknown_kpi", format!("no KPI is named `{name}`"))
        .at(span, "unknown KPI")
        .help(suggestion(name, known, "KPI"))
}

pub fn unknown_segment<'a>(
    span: Span,
    name: &str,
    known: impl IntoIterator<Item = &'a str> + Clone,
) -> Diagnostic {
    Diagnostic::error("kpi::unknown_segment", format!("no segment is named `{name}`"))
        .at(span, "unknown segment")
        .help(suggestion(name, known, "segment"))
}

pub fn unknown_function<'a>(
    span: Span,
    name: &str,
    known: impl IntoIterator<Item = &'a str> + Clone,
) -> Diagnostic {
    // Spreadsheets' conditional aggregates are an aggregate with `where`.
    let spreadsheet = match name.to_ascii_lowercase().as_str() {
        "countif" | "countifs" => Some("count(where stage == \"won\")"),
        "sumif" | "sumifs" => Some("sum(amount where stage == \"won\")"),
        "averageif" | "averageifs" | "avgif" => Some("avg(amount where stage == \"won\")"),
        _ => None,
    };
    let help = match (spreadsheet, other_tools_name(name)) {
        (Some(form), _) => format!("an aggregate takes its condition after `where`: `{form}`"),
        (None, Some(help)) => help,
        (None, None) => suggestion(name, known, "function"),
    };
    Diagnostic::error("kpi::unknown_function", format!("no function is named `{name}`"))
        .at(span, "unknown function")
        .help(help)
}

/// How a function of SQL, spreadsheets or BI tools that kpi names
/// otherwise is written here (names too far apart for "did you mean").
fn other_tools_name(name: &str) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "today" | "now" | "current_date" | "getdate" | "sysdate"
    ) {
        return Some("there is no today in a measure: KPIs are computed over a range (`--from`/`--to`, `--period`), and `kpi status --as-of` sets the day (default: the data's latest)".to_string());
    }
    // Percentiles by name (`p90`, `p95`): a quantile.
    if let Some(q) = lower
        .strip_prefix('p')
        .filter(|q| q.len() == 2 && q.bytes().all(|b| b.is_ascii_digit()))
    {
        return Some(format!(
            "other tools' `{name}` is written `quantile(x, 0.{q})` here"
        ));
    }
    if matches!(
        lower.as_str(),
        "substr" | "substring" | "left" | "right" | "mid" | "split_part"
    ) {
        return Some("kpi has no function that cuts texts: test them with `starts_with(x, \"ab\")`, `ends_with(x, \"yz\")` or `contains(x, \"m\")`, or add the part as a column where the data is written".to_string());
    }
    let ours = match lower.as_str() {
        "average" | "mean" => "`avg(x)`",
        "countd"
        | "distinctcount"
        | "ndv"
        | "approx_count_distinct"
        | "uniq"
        | "nunique"
        | "count_unique" => "`count_distinct(x)`",
        "stdev" | "std" | "stddev_samp" | "stdev_s" | "stdevs" => {
            "`stddev(x)` (the sample standard deviation)"
        }
        "percentile" | "percentile_cont" | "percentile_inc" | "quantile_cont" => {
            "`quantile(x, q)` (linear interpolation; `median(x)` for 0.5)"
        }
        "len" | "char_length" | "character_length" | "strlen" => "`length(x)`",
        "datediff" | "date_diff" | "datedif" => {
            "`days_between(a, b)` (b − a; also `hours_between`, `minutes_between`)"
        }
        "ifnull" | "nvl" | "nz" => "`coalesce(x, y)`",
        "isnull" => "`coalesce(x, y)` (SQL Server's `isnull(x, y)`), or `x is null` (a test)",
        "iif" | "if" => "`if c then a else b`",
        "power" => "`pow(x, y)`",
        "log" => "`ln(x)` or `log10(x)`",
        "divide" | "safe_divide" | "div0" => "`a / b` (division by zero gives null)",
        "to_date" | "todate" | "datevalue" => "`date(x)` (a datetime's day; texts are read as dates by `columns:` or `read: {date_format: …}`)",
        "countrows" | "countx" | "countall" => "`count()` (rows), or `count(x)` (values)",
        "zn" => "`coalesce(x, 0)`",
        "nullif" => "`if a == b then null else a`",
        "extract" | "date_part" | "datepart" => "`year(x)`, `quarter(x)`, `month(x)`, `week(x)` or `day(x)`",
        "calculate" => "a condition after `where` inside the aggregate (`sum(amount where stage == \"won\")`), or the KPI's `where:`",
        "lcase" | "tolower" => "`lower(x)`",
        "ucase" | "toupper" => "`upper(x)`",
        _ => return None,
    };
    Some(format!("other tools' `{name}` is written {ours} here"))
}

pub fn nest_without_members(span: Span, kpi: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::nest_without_members",
        format!("this nested aggregate of `{kpi}` has no members: it names no KPI, nor does the measure around it"),
    )
    .at(span, "members of which KPI?")
    .help(format!(
        "give `{kpi}` a dataset (`count(per owner)` on one counts the members with rows), or name a KPI: `count(per owner where won_revenue > 0)`"
    ))
}

pub fn unknown_dimension<'a>(
    span: Span,
    name: &str,
    dataset: &str,
    known: impl IntoIterator<Item = &'a str> + Clone,
) -> Diagnostic {
    Diagnostic::error(
        "kpi::unknown_dimension",
        format!("dataset `{dataset}` has no dimension `{name}`"),
    )
    .at(span, "unknown dimension")
    .help(suggestion(name, known, "dimension"))
}

pub fn wrong_arity(span: Span, func: &str, min: usize, max: Option<usize>, found: usize) -> Diagnostic {
    let expected = match max {
        Some(m) if m == min => format!("{min}"),
        Some(m) => format!("{min} to {m}"),
        None => format!("at least {min}"),
    };
    let plural = if expected == "1" { "" } else { "s" };
    Diagnostic::error(
        "kpi::wrong_arity",
        format!("`{func}` takes {expected} argument{plural}, but {found} were given"),
    )
    .at(span, format!("{found} given"))
    .help(format!("see `{func}` in docs/language.md"))
}

pub fn type_mismatch(op_span: Span, op: &str, left: (Span, Type), right: (Span, Type)) -> Diagnostic {
    Diagnostic::error(
        "kpi::type_mismatch",
        format!("`{op}` cannot combine {} and {}", left.1, right.1),
    )
    .at(op_span, format!("{} {op} {}", left.1, right.1))
    .also(left.0, format!("this is {}", left.1))
    .also(right.0, format!("this is {}", right.1))
    .help(help_for_mix(left.1, right.1))
}

fn help_for_mix(a: Type, b: Type) -> String {
    match (a, b) {
        (Type::String, Type::Number) | (Type::Number, Type::String) => {
            "compare like with like; quote numbers only when the column holds text".into()
        }
        (x, y) if x.is_temporal() || y.is_temporal() => {
            "compare dates with dates (@2025-01-31); use days_between(a, b) for differences".into()
        }
        _ => "both sides must have the same type".into(),
    }
}

pub fn expected_type(span: Span, what: &str, expected: &str, found: Type) -> Diagnostic {
    Diagnostic::error(
        "kpi::type_mismatch",
        format!("{what} must be {expected}, but this is {found}"),
    )
    .at(span, format!("expected {expected}, found {found}"))
    .help(format!("change the expression so it gives {expected}"))
}

pub fn branch_mismatch(span: Span, first: Span, first_ty: Type, ty: Type) -> Diagnostic {
    Diagnostic::error(
        "kpi::branch_type_mismatch",
        format!("branches of `if` have different types: {first_ty} and {ty}"),
    )
    .at(span, format!("this is {ty}"))
    .also(first, format!("this is {first_ty}"))
    .help("every branch of an `if`, including `else`, must give the same type")
}

/// A KPI whose value would be a text (`max(owner)`).
/// A comparison of two constants: the same for every row. `quoted`: the
/// column a quoted side names (`"stage" == "won"`).
pub fn constant_comparison(span: Span, quoted: Option<&str>) -> Diagnostic {
    Diagnostic::warning(
        "kpi::constant_comparison",
        "this compares two constants, so it is the same for every row",
    )
    .at(span, "no column on either side")
    .help(match quoted {
        Some(column) => quoted_column_help(column),
        None => "compare a column (or a KPI) with the constant".to_string(),
    })
}

/// The help for a column written in quotes (`"amount"`), where a text is
/// not wanted.
pub fn quoted_column_help(column: &str) -> String {
    format!("`\"{column}\"` is a text, not the column: write the column without quotes, `{column}`")
}

/// A percent KPI's measure multiplied by 100: its values are fractions,
/// shown with `%` (0.25 as 25.0%), so 25 shows as 2,500.0%.
pub fn percent_times_hundred(span: Span, kpi: &str) -> Diagnostic {
    Diagnostic::warning(
        "kpi::percent_times_100",
        format!("KPI `{kpi}` is a percent, whose values are fractions shown with `%` (0.25 as 25.0%): multiplied by 100, a quarter shows as 2,500.0%"),
    )
    .at(span, "makes 0.25 into 25")
    .help("drop the `* 100`; or, to show the number itself (25), make the unit `number`")
}

/// A KPI in `unit` (days, hours or minutes) whose measure aggregates a
/// `*_between` function counting in another, unconverted.
pub fn time_unit_mismatch(
    span: Span,
    kpi: &str,
    unit: crate::spec::model::Unit,
    counted: crate::spec::model::Unit,
) -> Diagnostic {
    use crate::keyword::Keyword;
    let (unit, counted) = (unit.as_str(), counted.as_str());
    Diagnostic::warning(
        "kpi::time_unit_mismatch",
        format!("KPI `{kpi}` is in {unit}, but its measure counts {counted}: 90 {counted} would show as 90 {unit}"),
    )
    .at(span, format!("counts {counted}"))
    .help(format!("use `{unit}_between(a, b)`, or make the unit `{counted}`"))
}

pub fn text_measure(span: Span, kpi: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::text_measure",
        format!("the measure of KPI `{kpi}` is a string; a KPI's value is a number, a date or a datetime"),
    )
    .at(span, "a string")
    .help("count the texts with `count_distinct(…)`, or show them as groups with `kpi eval --by …`")
}

pub fn where_not_bool(span: Span, found: Type) -> Diagnostic {
    Diagnostic::error(
        "kpi::where_not_bool",
        format!("a `where` condition must be bool, but this is {found}"),
    )
    .at(span, format!("{found}, not bool"))
    .help("write a condition, e.g. `stage == \"won\"`")
}

pub fn column_outside_aggregate(span: Span, name: &str, ty: Type) -> Diagnostic {
    let agg = match ty {
        Type::String | Type::Bool => format!("count_distinct({name})"),
        Type::Date | Type::Datetime => format!("max({name})"),
        _ => format!("sum({name})"),
    };
    Diagnostic::error(
        "kpi::column_outside_aggregate",
        format!("column `{name}` is used outside an aggregate"),
    )
    .at(span, "not inside an aggregate")
    .help(format!(
        "a KPI's measure gives one value per group: wrap the column in an aggregate, e.g. `{agg}`"
    ))
}

pub fn column_in_derived(span: Span, name: &str, kpi: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::column_in_derived",
        format!("`{name}` is a column, but derived KPI `{kpi}` has no dataset"),
    )
    .at(span, "a column in a derived KPI")
    .help("a KPI without `dataset` combines other KPIs by name; add `dataset:` to aggregate columns")
}

pub fn kpi_in_base(span: Span, name: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::kpi_in_base_measure",
        format!("`{name}` is a KPI; a KPI with a dataset aggregates columns"),
    )
    .at(span, "KPI used in a base measure")
    .help("define a derived KPI (without `dataset`) to combine KPIs")
}

pub fn nested_aggregate(span: Span, outer: Span) -> Diagnostic {
    Diagnostic::error(
        "kpi::nested_aggregate",
        "an aggregate cannot sit inside another aggregate",
    )
    .at(span, "inner aggregate")
    .also(outer, "inside this aggregate")
    .help("use `per DIM` to aggregate per member first, e.g. `avg(sum(amount) per owner)`")
}

pub fn aggregate_in_row_context(span: Span, what: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::aggregate_in_row_context",
        format!("an aggregate cannot be used in {what}"),
    )
    .at(span, "aggregate here")
    .help(format!(
        "{what} is evaluated on each row; aggregates belong in a KPI's measure"
    ))
}

pub fn aggregate_in_derived(span: Span, func: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::aggregate_in_derived",
        format!("`{func}` aggregates rows, but a derived KPI has no rows"),
    )
    .at(span, "aggregate without `per`")
    .help(format!("add `per DIM` to aggregate a KPI across members (e.g. `{func}(win_rate per owner)`), or give the KPI a dataset"))
}

pub fn time_function_in_base(span: Span, func: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::time_function_in_base",
        format!("`{func}` works on a KPI's series of periods, so it belongs in a derived KPI"),
    )
    .at(span, "time function on rows")
    .help(format!(
        "define a derived KPI, e.g. `measure: {func}(won_revenue)`"
    ))
}

pub fn time_function_needs_kpi(span: Span, func: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::time_function_needs_kpi",
        format!("the first argument of `{func}` must be a KPI name"),
    )
    .at(span, "expected a KPI name")
    .help(format!(
        "write e.g. `{func}(won_revenue)`; define a KPI for a longer expression"
    ))
}

pub fn expected_count(span: Span, func: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::expected_period_count",
        format!("the number of periods of `{func}` must be a whole number from 1 to 10,000"),
    )
    .at(span, "expected a whole number from 1 to 10,000")
    .help(if matches!(func, "prev" | "diff" | "growth") {
        format!("write e.g. `{func}(won_revenue, 3)`, or `{func}(won_revenue, \"year\")` for the same period a year earlier")
    } else {
        format!("write e.g. `{func}(won_revenue, 3)`")
    })
}

pub fn not_recombinable(span: Span, func: &str, kpi: &str, why: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::not_recombinable",
        format!("`{func}({kpi})` cannot be computed exactly: {why}"),
    )
    .at(span, "cannot be re-aggregated over periods")
    .help("rolling and to-date forms need KPIs built from sums, counts, averages, minimums or maximums")
}

pub fn invalid_argument(span: Span, func: &str, expected: &str) -> Diagnostic {
    Diagnostic::error("kpi::invalid_argument", format!("`{func}` expects {expected}"))
        .at(span, format!("expected {expected}"))
        .help(format!("see `{func}` in docs/language.md"))
}

pub fn filter_on_row_function(span: Span, func: &str, clause: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::clause_on_row_function",
        format!("`{clause}` only goes with aggregates, and `{func}` is not one"),
    )
    .at(span, format!("`{clause}` here"))
    .help("filter rows with the KPI's `where`, or move the clause into an aggregate such as `sum(x where …)`")
}

/// A derived KPI standing on more derived KPIs, one above another, than
/// evaluation takes.
pub fn kpis_too_deep(span: Span, name: &str, depth: usize) -> Diagnostic {
    let max = super::kpis::MAX_DERIVED_DEPTH;
    Diagnostic::error(
        "kpi::kpis_too_deep",
        format!("KPI `{name}` is {depth} derived KPIs deep (each over the one beneath it); kpi evaluates at most {max}"),
    )
    .at(span, "too deep")
    .help("combine steps into fewer KPIs: a derived measure may name many KPIs and combine them itself")
}

pub fn kpi_cycle(span: Span, cycle: &[String]) -> Diagnostic {
    Diagnostic::error(
        "kpi::kpi_cycle",
        format!("KPIs refer to each other in a cycle: {}", cycle.join(" → ")),
    )
    .at(span, "cycle closes here")
    .help("a derived KPI cannot depend on itself; break the cycle")
}

pub fn needs_dataset(span: Span, key: &str, kpi: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::needs_dataset",
        format!("`{key}` applies to rows, but KPI `{kpi}` has no dataset"),
    )
    .at(span, format!("`{key}` on a derived KPI"))
    .help("filter or time the base KPIs beneath it instead")
}

/// A column of a type KPIs cannot compute with, named in an expression.
pub fn unusable_column(span: Span, dataset: &str, column: &str, words: &str) -> Diagnostic {
    let help = match words {
        "a time of day" => "store the day and the time together as a datetime, or the time as a number of hours",
        "a duration" => "store it as a number in the unit you mean (seconds, hours, days), or keep the datetimes it lies between and use `hours_between(a, b)`",
        "bytes" => "if the bytes are texts, declare the column `string` under `columns:`; otherwise leave it out of the KPIs",
        "a decimal of more than 38 digits" => "write the column as a decimal of 38 digits or fewer, or as a double (`CAST(x AS NUMERIC)` or `FLOAT64` in BigQuery), or leave it out of the KPIs",
        _ => "store the values as numbers, texts, booleans, dates or datetimes, or leave this column out of the KPIs",
    };
    Diagnostic::error(
        "kpi::unusable_column",
        format!("column `{column}` of dataset `{dataset}` is {words}, which KPIs cannot compute with"),
    )
    .at(span, format!("{words} in the data"))
    .help(help)
}

pub fn time_not_temporal(span: Span, column: &str, ty: Type) -> Diagnostic {
    Diagnostic::error(
        "kpi::time_not_temporal",
        format!("time column `{column}` is {ty}, not a date or datetime"),
    )
    .at(span, format!("{ty} column"))
    .help("declare it `date` or `datetime` under `columns:`, or choose another time column")
}

pub fn time_and_active(span: Span, kpi: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::time_and_active",
        format!("KPI `{kpi}` has both `time` and `active`"),
    )
    .at(span, "choose one")
    .help("a flow KPI has a `time` column; a stock KPI has an `active` interval")
}

pub fn at_without_active(span: Span) -> Diagnostic {
    Diagnostic::error("kpi::at_without_active", "`at` applies only to stock KPIs")
        .at(span, "no `active` interval")
        .help("add `active: {from: …, to: …}`, or remove `at`")
}

pub fn stock_not_recombinable(span: Span) -> Diagnostic {
    Diagnostic::error(
        "kpi::stock_not_recombinable",
        "a stock KPI (with `active`) must be built from sums and counts",
    )
    .at(span, "cannot be tracked through time without expanding rows")
    .help("use sum(...) or count(); averages are sums divided by counts")
}

pub fn lookup_self(span: Span, name: &str) -> Diagnostic {
    Diagnostic::error("kpi::lookup_self", format!("dataset `{name}` looks itself up"))
        .at(span, "self lookup")
        .help("a lookup joins another dataset")
}

pub fn source_url_unsupported(span: Span, dataset: &str, source: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::source_url_unsupported",
        format!("the source of dataset `{dataset}` is a URL kpi does not read: `{source}`"),
    )
    .at(span, "not a file or an object store")
    .help("kpi reads files and objects in s3://, gs:// and az:// storage: download the file and point `source:` at it, or put it in object storage")
}

pub fn unknown_format(span: Span, path: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::unknown_format",
        format!("cannot tell the format of `{path}`"),
    )
    .at(span, "unknown extension")
    .help(format_help(path))
}

/// What a source of no known format can be instead.
fn format_help(path: &str) -> String {
    const KNOWN: &str = "use a .csv, .parquet or .ndjson/.jsonl file, or set `format:`";
    let ext = std::path::Path::new(path.trim_end_matches('/'))
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        None => format!(
            "{KNOWN}; a folder's files are named with a glob (`{}/*.parquet`)",
            path.trim_end_matches('/')
        ),
        Some("xlsx" | "xlsm" | "xls" | "ods" | "numbers") => {
            "save the sheet as CSV (CSV UTF-8) and read that file; kpi does not read spreadsheets".to_string()
        }
        Some("gz" | "zip" | "bz2" | "xz" | "zst" | "7z") => {
            "decompress it first (`gunzip`, `unzip`, …): kpi reads gzipped CSV and NDJSON (`.csv.gz`, `.ndjson.gz`) and other files as they are, and Parquet is compressed inside".to_string()
        }
        // Exports and APIs name both one array of objects and one object per
        // line `.json`; kpi reads the second (NDJSON).
        Some("json") => "kpi reads JSON as NDJSON, one object per line: if the file is so written, set `format: ndjson`; if it is one array of objects, write it one object per line (`jq -c '.[]' file.json > file.ndjson`)".to_string(),
        Some(_) => KNOWN.to_string(),
    }
}

/// `column`, written alone, is a column of `other`, which `dataset` looks up.
pub fn looked_up_column_help(column: &str, other: &str, dataset: &str) -> String {
    format!("`{column}` is a column of `{other}`, which `{dataset}` looks up: an expression names it `{other}.{column}`")
}

/// `looked_up`: the dataset `dataset` looks up that has the column.
pub fn segment_column_missing(
    span: Span,
    segment: &str,
    column: &str,
    dataset: &str,
    kpi: &str,
    looked_up: Option<&str>,
) -> Diagnostic {
    let help = match looked_up {
        Some(other) => looked_up_column_help(column, other, dataset),
        None => {
            format!("add `{column}` to `{dataset}` (a column, dimension or lookup), or use another segment")
        }
    };
    Diagnostic::error(
        "kpi::segment_column_missing",
        format!(
            "segment `{segment}` uses `{column}`, which dataset `{dataset}` beneath `{kpi}` does not have"
        ),
    )
    .at(span, format!("`{dataset}` has no `{column}`"))
    .help(help)
}

pub fn dimension_missing(span: Span, dim: &str, dataset: &str, kpi: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::dimension_missing",
        format!("dimension `{dim}` is not on dataset `{dataset}` beneath `{kpi}`"),
    )
    .at(span, format!("`{dataset}` has no `{dim}`"))
    .help(format!(
        "add `{dim}` to `{dataset}` as a column, an alias under `dimensions:` or a lookup"
    ))
}

/// A funnel of more steps than evaluation takes.
pub fn funnel_too_long(span: Span, funnel: &str, steps: usize, most: usize) -> Diagnostic {
    Diagnostic::error(
        "kpi::funnel_too_long",
        format!("funnel `{funnel}` has {steps} steps; kpi evaluates at most {most}"),
    )
    .at(span, format!("step {} of {steps}", most + 1))
    .help("a funnel's steps are the stages its rows pass, one within another: split a longer one into funnels of fewer stages")
}

pub fn duplicate_step(span: Span, first: Span, name: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::duplicate_name",
        format!("funnel step `{name}` is defined twice"),
    )
    .at(span, "defined again here")
    .also(first, "first defined here")
    .help("give each step its own name")
}

pub fn unresolved_in_segment(span: Span, segment: &str, name: &str, meant: Option<&str>) -> Diagnostic {
    let d = Diagnostic::error(
        "kpi::unknown_column",
        format!("segment `{segment}` uses `{name}`, which no dataset has"),
    )
    .at(span, "no dataset has this column");
    match meant {
        Some(m) => d.help(format!("did you mean `{m}`?")),
        None => d.help("check the spelling, or declare the column on the datasets the segment applies to"),
    }
}

/// A KPI named in a query that the spec does not define.
pub fn unknown_query_kpi(name: &str, model: &super::ir::Model) -> Diagnostic {
    Diagnostic::error("kpi::unknown_kpi", format!("no KPI is named `{name}`")).help(
        crate::diagnostic::suggestion(name, model.kpis.iter().map(|k| k.name.as_str()), "KPI"),
    )
}

/// A KPI left out of an evaluation of every KPI, with the reason.
pub fn left_out(kpi: &str, why: &Diagnostic) -> Diagnostic {
    let flag = why.path.as_deref().unwrap_or("the query");
    Diagnostic::warning("kpi::left_out", format!("`{kpi}` is left out: {}", why.message))
        .with_path(flag)
        .help(format!(
            "name KPIs to evaluate only those; `{kpi}` cannot take {flag} as given"
        ))
}

/// A base KPI without a time column asked for periods.
pub fn no_time_column(kpi: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        "kpi::no_time_column",
        format!("KPI `{kpi}` has no time column, so it has no periods"),
    )
    .at(span, "no `time` here or on its dataset")
    .help("give the KPI or its dataset a `time:` column, or evaluate it with `--grain all` and no range")
}

/// Periods asked of a KPI with no time column beneath it (the reason it is left out).
pub fn timeless(kpi: &str, flag: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::no_time_column",
        format!("`{kpi}` has no time column beneath it, so it has no periods"),
    )
    .with_path(flag)
    .help("give the KPI or its dataset a `time:` column, or evaluate it with `--grain all` and no range")
}

/// Two columns of `kpi eval`'s output under one name (`--by owner` beside
/// a KPI `owner`; a dimension or KPI `period` beside a grain's periods).
pub fn output_column_clash(name: &str, first: &str, second: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::output_column_clash",
        format!("the output would have two columns named `{name}`: {first} and {second}"),
    )
    .help("rename the KPI, or group by the column under another name (an alias under the dataset's `dimensions:`)")
}

pub fn compare_needs_periods() -> Diagnostic {
    Diagnostic::error(
        "kpi::compare_needs_periods",
        "`--compare` needs periods to compare, but the query has no grain and no range",
    )
    .help("add `--grain month` (or another grain), or a range such as `--period 2025-Q1`")
}

pub fn unknown_driver<'a>(
    span: Span,
    name: &str,
    known: impl Iterator<Item = &'a str> + Clone,
) -> Diagnostic {
    let help = match crate::diagnostic::did_you_mean(name, known) {
        Some(c) => format!("did you mean `{c}`? Or give a path to a driver library"),
        None => "drivers are postgresql, duckdb, snowflake, bigquery, spark, flightsql, sqlite, or a path to a driver library".to_string(),
    };
    Diagnostic::error("kpi::unknown_driver", format!("no ADBC driver is named `{name}`"))
        .at(span, "unknown driver")
        .help(help)
}

pub fn no_dialect(span: Span, connection: &str, driver: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::no_dialect",
        format!("connection `{connection}` uses `{driver}`, whose SQL dialect kpi cannot tell"),
    )
    .at(span, "which SQL does it speak?")
    .help("add `dialect:` (postgresql, duckdb, snowflake, bigquery, spark or sqlite)")
}

pub fn connection_variable(span: Span, connection: &str, e: &crate::spec::env::ExpandError) -> Diagnostic {
    use crate::spec::env::ExpandError;
    match e {
        ExpandError::Unset(var) => Diagnostic::warning(
            "kpi::unset_variable",
            format!("connection `{connection}` names `${{{var}}}`, which is not set"),
        )
        .at(span, format!("`{var}` is not set"))
        .help(format!(
            "set {var} in the environment before evaluating (secrets stay out of the spec)"
        )),
        ExpandError::Malformed => Diagnostic::error(
            "kpi::invalid_variable",
            format!("connection `{connection}` has a malformed `${{…}}`"),
        )
        .at(span, "malformed variable")
        .help("write a variable as `${NAME}` or `${NAME:-default}`"),
    }
}

pub fn secret_in_spec(span: Span, connection: &str, what: &str) -> Diagnostic {
    Diagnostic::warning(
        "kpi::secret_in_spec",
        format!("connection `{connection}` has a secret in the spec: {what}"),
    )
    .at(span, "a secret, in a file that goes to git")
    .help("take it from the environment (`uri: ${WAREHOUSE_URI}`, `password: ${WAREHOUSE_PASSWORD}`), and change it: it is in the file's history")
}

pub fn unknown_connection<'a>(
    span: Span,
    name: &str,
    known: impl Iterator<Item = &'a str> + Clone,
) -> Diagnostic {
    Diagnostic::error(
        "kpi::unknown_connection",
        format!("no connection is named `{name}`"),
    )
    .at(span, "unknown connection")
    .help(crate::diagnostic::suggestion(name, known, "connection"))
}

pub fn csv_option_elsewhere(
    span: Span,
    key: &str,
    dataset: &str,
    format: crate::spec::model::Format,
) -> Diagnostic {
    let (format, applies) = match format {
        crate::spec::model::Format::Parquet => ("Parquet", "only `timezone` applies to Parquet"),
        _ => (
            "NDJSON",
            "only `timezone`, `date_format` and `datetime_format` apply to NDJSON",
        ),
    };
    Diagnostic::warning(
        "kpi::csv_option_elsewhere",
        format!("dataset `{dataset}` reads {format}, so `read.{key}`, which is about CSV text, does nothing"),
    )
    .at(span, "ignored")
    .help(format!("remove `{key}`: of `read:`, {applies}"))
}

pub fn file_option_on_table(span: Span, key: &str, dataset: &str) -> Diagnostic {
    Diagnostic::warning(
        "kpi::file_option_on_table",
        format!("dataset `{dataset}` reads a database table, so `{key}` does nothing"),
    )
    .at(span, "ignored")
    .help(format!("remove `{key}`: it applies to files only"))
}

pub fn lookup_across_sources(span: Span, dataset: &str, target: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::lookup_across_sources",
        format!("dataset `{dataset}` looks up `{target}`, which is in another place (another connection, or files)"),
    )
    .at(span, "a lookup joins within one database, or among files")
    .help("put both datasets on the same connection (a view can bring them together), or both in files; derived KPIs may combine KPIs from anywhere")
}

pub fn dimension_too_large(span: Span, name: &str, nodes: usize, most: usize) -> Diagnostic {
    Diagnostic::error(
        "kpi::dimension_too_large",
        format!(
            "dimension `{name}` holds {} terms with the dimensions it uses written out, more than {}",
            crate::diagnostic::count(nodes),
            crate::diagnostic::count(most)
        ),
    )
    .at(span, "too large once written out")
    .help("a dimension used in another is written out at each use, so using one twice in each link of a chain doubles the size at every link: use each fewer times (`x * 2` rather than `x + x`), or compute the column in the data")
}

/// A dimension nesting deeper than expressions may with the dimensions it
/// uses written out (a long chain of dimensions, each over the one before).
pub fn dimension_too_deep(span: Span, name: &str, depth: usize, most: usize) -> Diagnostic {
    Diagnostic::error(
        "kpi::dimension_too_large",
        format!("dimension `{name}` nests {depth} levels deep with the dimensions it uses written out, more than {most}"),
    )
    .at(span, "too deep once written out")
    .help("a dimension used in another is written out at each use, so a long chain of dimensions, each over the one before, nests as deep as its links: use fewer links, or compute the column in the data")
}

/// A row expression whose SQL would pass [`crate::sql::MAX_EXPRESSION_SQL`].
pub fn sql_too_long(span: Span, dialect: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::sql_too_long",
        format!(
            "this expression's SQL in {dialect} would be longer than {} MiB",
            crate::sql::MAX_EXPRESSION_SQL >> 20
        ),
    )
    .at(span, "its SQL passes the limit here")
    .help("`round`, `%`, `pow`, `sqrt`, `ln`, `log10`, `least` and `greatest` write their arguments more than once in SQL, so each level of a nest of them multiplies its length, as does a dimension used several times in another: nest fewer, or evaluate the dataset from files")
}

/// `place`: why the dialect is asked (`connection \`wh\``, `--dialect`).
pub fn not_exact_in_dialect(span: Span, func: &str, dialect: &str, place: &str) -> Diagnostic {
    Diagnostic::error(
        "kpi::not_exact_in_dialect",
        format!("`{func}` has no exact form in {dialect} ({place})"),
    )
    .at(span, format!("no exact form in {dialect}"))
    .help("kpi never approximates silently: use another aggregate, or compute it on a connection whose SQL has it exactly")
}
