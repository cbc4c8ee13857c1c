//! `kpi test`: the `tests:` of a spec (LANGUAGE.md §7). Inline rows replace
//! the named datasets (written to a scratch CSV with the dataset's declared
//! types, so missing columns are typed nulls), the KPI is evaluated as
//! `kpi eval` would, and each expected row is compared with the actual row
//! of the same group and period, numbers within a relative tolerance.

pub mod junit;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::check::ir::{DatasetId, KpiId, KpiKind, Model, TestModel};
use crate::check::types::Type;
use crate::check::DataSchemas;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::plan::Query;
use crate::report::table::{Cell, ResultTable};
use crate::source::SourceMap;
use crate::span::Span;
use crate::spec::model::{Format, Keyword, ReadOptions, Row, Value};
use crate::spec::Spec;

/// What one test found.
#[derive(Clone, Debug, Serialize)]
pub struct TestResult {
    pub name: String,
    pub kpi: Option<String>,
    pub funnel: Option<String>,
    pub target: Option<String>,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub passed: bool,
    /// One line per mismatch.
    pub failures: Vec<String>,
    /// Expected against actual rows, when a value differs.
    pub diff: Option<String>,
    pub seconds: f64,
}

/// Runs the tests named (every test when `names` is empty) of `spec`,
/// checked as `model`.
pub fn run(spec: &Spec, model: &Model, sources: &SourceMap, names: &[String]) -> Vec<TestResult> {
    // Each test copies the model and checks the spec again with its rows'
    // columns: without the tests, whose rows would make every test cost as
    // much as all of them together (2,000 tests took a minute).
    let untested_spec = Spec {
        tests: Vec::new(),
        ..spec.clone()
    };
    let untested_model = Model {
        tests: Vec::new(),
        ..model.clone()
    };
    model
        .tests
        .iter()
        .filter(|t| names.is_empty() || names.contains(&t.name))
        .map(|t| {
            let start = std::time::Instant::now();
            let ((line, column), _) = sources.position(t.span).unwrap_or(((1, 1), (1, 1)));
            let file = sources.name(t.span.file).to_string();
            let (failures, diff) = match run_one(&untested_spec, &untested_model, t) {
                Ok(found) => found,
                Err(diags) => (
                    diags
                        .iter()
                        .map(|d| format!("{}: {}", d.code, d.message))
                        .collect(),
                    None,
                ),
            };
            TestResult {
                name: t.name.clone(),
                kpi: t.kpi.clone(),
                funnel: t.funnel.clone(),
                target: t.target.clone(),
                file,
                line,
                column,
                passed: failures.is_empty(),
                failures,
                diff,
                seconds: start.elapsed().as_secs_f64(),
            }
        })
        .collect()
}

type Found = (Vec<String>, Option<String>);

fn run_one(spec: &Spec, model: &Model, t: &TestModel) -> Result<Found, Vec<Diagnostic>> {
    let scratch = Scratch::new()?;
    let mut model = model.clone();
    let mut replaced = Vec::new();
    for (ds, rows) in &t.data {
        let Some(id) = model.dataset_id(ds) else {
            return Err(vec![Diagnostic::error(
                "kpi::unknown_dataset",
                format!("no dataset is named `{ds}`"),
            )]);
        };
        let named = named_columns(&model, id);
        let d = &mut model.datasets[id];
        let path = scratch.dir.join(format!("{}.csv", d.name));
        write_rows(&path, &d.declared, &named, rows).map_err(|e| {
            vec![Diagnostic::error(
                "kpi::unreadable_file",
                format!("cannot write test rows to {}: {e}", path.display()),
            )]
        })?;
        d.source = path;
        d.format = Format::Csv;
        d.read = rows_read_options(&d.read, rows);
        // Tests run offline on Polars, whatever the dataset reads in production.
        d.remote = None;
        replaced.push(id);
    }
    let tested = tested_kpis(&model, t);
    let mut beneath = replaced.clone();
    for (k, needed) in model.kpis.iter().zip(model.needed_by(&tested)) {
        beneath.extend(k.datasets.iter().filter(|_| needed));
    }
    beneath.extend(
        model
            .funnels
            .iter()
            .filter(|f| t.funnel.as_ref() == Some(&f.name))
            .map(|f| f.dataset),
    );
    let read = read_columns(&mut model, &beneath);
    let rechecked = crate::check::check_open(spec, &read);
    let mistyped = typed_by_rows(&model, t, &tested, &rechecked.diagnostics);
    if !mistyped.is_empty() {
        return Err(mistyped);
    }
    let model = typed_as_read(rechecked.model, &model);
    let found = match (&t.kpi, &t.funnel, &t.target) {
        (Some(k), _, _) => kpi_test(&model, t, k),
        (None, Some(f), _) => funnel_test(&model, t, f),
        (None, None, Some(target)) => status_test(&model, t, target),
        (None, None, None) => Ok((
            vec!["the test names no `kpi`, `funnel` or `target`".to_string()],
            None,
        )),
    };
    found.map_err(|diags| {
        let datasets: Vec<&str> = t.data.iter().map(|(ds, _)| ds.as_str()).collect();
        diags
            .into_iter()
            .map(|mut d| {
                d.message = in_test_terms(&d.message, &scratch.dir, &datasets);
                d
            })
            .collect()
    })
}

/// How a test's rows are read: they are written as plain CSV (`,`, a
/// decimal point, UTF-8), whatever the dataset's files look like; what
/// rows mean is kept (the texts that are null, the zone of datetimes
/// written with an offset). Dates are ISO unless the rows write them as
/// the files do (`01/31/2025` under `date_format: "%m/%d/%Y"`).
fn rows_read_options(read: &ReadOptions, rows: &[Row]) -> ReadOptions {
    let texts = || {
        rows.iter().flatten().filter_map(|(_, v)| match &v.value {
            Value::String(s) => Some(s.trim()),
            _ => None,
        })
    };
    let written_so = |format: &Option<crate::spec::model::Text>, parses: fn(&str, &str) -> bool| {
        format
            .as_ref()
            .filter(|f| texts().any(|t| parses(t, &f.value)))
            .cloned()
    };
    ReadOptions {
        null_values: read.null_values.clone(),
        timezone: read.timezone.clone(),
        percent: read.percent,
        date_format: written_so(&read.date_format, |t, f| {
            chrono::NaiveDate::parse_from_str(t, f).is_ok()
        }),
        datetime_format: written_so(&read.datetime_format, |t, f| {
            chrono::NaiveDateTime::parse_from_str(t, f).is_ok()
                || chrono::DateTime::parse_from_str(t, f).is_ok()
        }),
        ..ReadOptions::default()
    }
}

/// The columns of the datasets a test reads (those its rows replace, and
/// those beneath what it evaluates) and of the datasets they look up, read
/// as `kpi eval` reads them before it plans: without them, `by: manager`
/// of a looked-up `teams.manager` on datasets that declare no columns
/// would be taken for a column of the dataset itself, and a column's type
/// would be unknown.
fn read_columns(model: &mut Model, reads: &[DatasetId]) -> DataSchemas {
    let mut read = DataSchemas::new();
    let mut wanted = reads.to_vec();
    for &id in reads {
        wanted.extend(model.datasets[id].lookups.iter().map(|l| l.dataset));
    }
    wanted.sort_unstable();
    wanted.dedup();
    for id in wanted {
        let d = &model.datasets[id];
        if d.remote.is_some() {
            continue;
        }
        // Unreadable data is reported by the evaluation that follows.
        let Ok(columns) = crate::data::schema(&crate::data::SourceInfo::from_model(d)) else {
            continue;
        };
        let d = &mut model.datasets[id];
        for (name, ty) in columns {
            if !d.columns.iter().any(|(c, _)| *c == name) {
                d.columns.push((name, ty));
            }
        }
        read.insert(d.name.clone(), d.columns.clone());
    }
    read
}

/// The KPIs a test evaluates: its KPI and the others its expected rows
/// name, or its target's KPI.
fn tested_kpis(model: &Model, t: &TestModel) -> Vec<KpiId> {
    match (&t.kpi, &t.target) {
        (Some(k), _) => t
            .expect
            .iter()
            .flatten()
            .map(|(c, _)| c.value.as_str())
            .chain([k.as_str()])
            .filter_map(|name| model.kpi_id(name))
            .collect(),
        (None, Some(target)) => model
            .targets
            .iter()
            .filter(|x| x.name == *target)
            .map(|x| x.kpi)
            .collect(),
        (None, None) => Vec::new(),
    }
}

/// The model a test evaluates: the spec checked again with the columns
/// read from the test's rows and the data beneath, as `kpi eval` checks
/// it with its files' (a `max(closed_at)` of a column no `columns:`
/// declares is then a date, not a number of days), reading what `replaced`
/// reads: the test's rows in place of the datasets they replace.
fn typed_as_read(mut retyped: Model, replaced: &Model) -> Model {
    for (d, r) in retyped.datasets.iter_mut().zip(&replaced.datasets) {
        d.source = r.source.clone();
        d.format = r.format;
        d.read = r.read.clone();
        d.remote = r.remote.clone();
    }
    retyped
}

/// The errors of what a test evaluates once the columns are typed by its
/// rows, as `kpi eval` types them by the data: `kpi test` checks the spec
/// without data, so a column no `columns:` declares had no type, and a
/// text where a number goes (`amount: "n/a"`) was summed as no value, or
/// a text where a condition goes failed to cast. Only the errors inside
/// the tested KPIs (and those beneath them) or funnel's steps, the test's
/// segments and its `by` dimensions count: the rows are that test's data
/// alone.
fn typed_by_rows(model: &Model, t: &TestModel, tested: &[KpiId], rechecked: &Diagnostics) -> Vec<Diagnostic> {
    let mut spans: Vec<Span> = Vec::new();
    for (k, needed) in model.kpis.iter().zip(model.needed_by(tested)) {
        match (&k.kind, needed) {
            (KpiKind::Base { measure, filter, .. }, true) => {
                spans.push(measure.span);
                spans.extend(filter.iter().map(|f| f.span));
            }
            (KpiKind::Derived { measure }, true) => spans.push(measure.span),
            (_, false) => {}
        }
    }
    for s in model.segments.iter().filter(|s| t.segments.contains(&s.name)) {
        spans.extend(s.on.iter().map(|(_, e)| e.span));
    }
    for f in model
        .funnels
        .iter()
        .filter(|f| t.funnel.as_ref() == Some(&f.name))
    {
        spans.extend(f.steps.iter().filter_map(|(_, e)| e.as_ref()).map(|e| e.span));
    }
    for d in &model.datasets {
        spans.extend(
            d.dimensions
                .iter()
                .filter(|x| t.by.contains(&x.name))
                .map(|x| x.expr.span),
        );
    }
    let inside = |d: &&Diagnostic| {
        d.labels.iter().filter(|l| l.primary).any(|l| {
            spans
                .iter()
                .any(|s| s.file == l.span.file && s.start <= l.span.start && l.span.end <= s.end)
        })
    };
    rechecked
        .iter()
        .filter(|d| d.is_error())
        .filter(inside)
        .map(|d| {
            let help = d.help.as_ref().map(|h| format!("; {h}")).unwrap_or_default();
            Diagnostic {
                message: format!("with the test's rows as the data: {}{help}", d.message),
                ..d.clone()
            }
        })
        .collect()
}

/// A message about a test's rows in the test's terms: the scratch file
/// the rows were written to (`…/kpi-test-…/deals.csv` line 3) is the
/// test's row (row 2 of `deals`).
fn in_test_terms(message: &str, scratch: &Path, datasets: &[&str]) -> String {
    let mut out = message.to_string();
    for ds in datasets {
        let file = format!("`{}`", scratch.join(format!("{ds}.csv")).display());
        while let Some(at) = out.find(&file) {
            let rest = &out[at + file.len()..];
            let line: Option<(u64, usize)> = rest.strip_prefix(" line ").and_then(|r| {
                let digits = r.bytes().take_while(u8::is_ascii_digit).count();
                Some((r.get(..digits)?.parse().ok()?, " line ".len() + digits))
            });
            let (said, skip) = match line {
                // Line 1 is the header.
                Some((n, skip)) => (format!("row {} of the test's `{ds}`", n.saturating_sub(1)), skip),
                None => (format!("the test's rows of `{ds}`"), 0),
            };
            out.replace_range(at..at + file.len() + skip, &said);
        }
    }
    out
}

/// A folder for one test's rows, removed afterwards.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new() -> Result<Scratch, Vec<Diagnostic>> {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("kpi-test-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| {
            vec![Diagnostic::error(
                "kpi::unreadable_file",
                format!("cannot create {}: {e}", dir.display()),
            )]
        })?;
        Ok(Scratch { dir })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The columns of dataset `ds` that the spec's expressions, time columns
/// and lookup keys name, whether or not they are declared: a test's rows
/// need not hold them (LANGUAGE.md §7: missing columns are null), where a
/// column no row held and `columns:` did not declare was not found.
fn named_columns(model: &Model, ds: DatasetId) -> Vec<String> {
    use crate::check::ir::{KpiKind, TimeBasis};
    let mut pairs: Vec<(DatasetId, String)> = Vec::new();
    let mut exprs: Vec<&crate::check::ir::TExpr> = Vec::new();
    let mut times: Vec<(DatasetId, &TimeBasis)> = Vec::new();
    for k in &model.kpis {
        match &k.kind {
            KpiKind::Base {
                dataset,
                measure,
                filter,
                time,
            } => {
                exprs.push(measure);
                exprs.extend(filter);
                times.push((*dataset, time));
            }
            KpiKind::Derived { measure } => exprs.push(measure),
        }
    }
    for (i, d) in model.datasets.iter().enumerate() {
        exprs.extend(d.dimensions.iter().map(|x| &x.expr));
        pairs.extend(d.time.iter().map(|t| (i, t.clone())));
        for l in &d.lookups {
            pairs.push((i, l.left.clone()));
            pairs.push((l.dataset, l.right.clone()));
        }
    }
    for s in &model.segments {
        exprs.extend(s.on.iter().map(|(_, e)| e));
    }
    for f in &model.funnels {
        exprs.extend(f.steps.iter().filter_map(|(_, e)| e.as_ref()));
        times.push((f.dataset, &f.time));
    }
    for e in exprs {
        e.columns(&mut pairs);
    }
    for (d, time) in times {
        match time {
            TimeBasis::Column(c) => pairs.push((d, c.clone())),
            TimeBasis::Active { from, to, .. } => {
                pairs.push((d, from.clone()));
                pairs.extend(to.iter().map(|t| (d, t.clone())));
            }
            TimeBasis::None => {}
        }
    }
    let dimensions = &model.datasets[ds].dimensions;
    let mut out: Vec<String> = Vec::new();
    for (d, name) in pairs {
        if d == ds && !out.contains(&name) && !dimensions.iter().any(|x| x.name == name) {
            out.push(name);
        }
    }
    out
}

/// Rows as CSV: the declared columns first, then the others `named` by the
/// spec (each empty when a row lacks it), then any others the rows hold.
fn write_rows(
    path: &Path,
    declared: &[(String, Type)],
    named: &[String],
    rows: &[Row],
) -> std::io::Result<()> {
    let mut columns: Vec<String> = declared.iter().map(|(c, _)| c.clone()).collect();
    for c in named {
        if !columns.contains(c) {
            columns.push(c.clone());
        }
    }
    for row in rows {
        for (c, _) in row {
            if !columns.contains(&c.value) {
                columns.push(c.value.clone());
            }
        }
    }
    // Datetimes written in one shape: by hand, one row may give a time to
    // the minute and the next to the second. A column declared `datetime`,
    // or undeclared with nothing but dates and datetimes (a text column's
    // values stay as written).
    let datetimes = |c: &str| match declared.iter().find(|(d, _)| d == c) {
        Some((_, t)) => *t == Type::Datetime,
        None => rows
            .iter()
            .flatten()
            .filter(|(n, _)| n.value == c)
            .all(|(_, v)| match &v.value {
                Value::String(s) => {
                    crate::data::iso_datetime_text(s).is_some()
                        || chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").is_ok()
                }
                Value::Null => true,
                _ => false,
            }),
    };
    let mut out = String::new();
    out.push_str(&columns.iter().map(|c| quote(c)).collect::<Vec<_>>().join(","));
    out.push('\n');
    for row in rows {
        let cells: Vec<String> = columns
            .iter()
            .map(
                |c| match row.iter().find(|(n, _)| n.value == *c).map(|(_, v)| &v.value) {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::Bool(b)) => b.to_string(),
                    Some(Value::Number(n)) => n.to_string(),
                    Some(Value::String(s)) => match datetimes(c).then(|| crate::data::iso_datetime_text(s)) {
                        Some(Some(at)) => at,
                        _ => quote(s),
                    },
                },
            )
            .collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    std::fs::write(path, out)
}

fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) || s.is_empty() {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn text_of(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
    }
}

fn kpi_test(model: &Model, t: &TestModel, kpi: &str) -> Result<Found, Vec<Diagnostic>> {
    let by = t.by.clone();
    // Other KPIs may be expected beside the tested one.
    let mut kpis = vec![kpi.to_string()];
    for row in &t.expect {
        for (c, _) in row {
            if c.value != kpi && model.kpi_id(&c.value).is_some() && !kpis.contains(&c.value) {
                kpis.push(c.value.clone());
            }
        }
    }
    let ev = crate::execute::evaluate(model, &test_query(t, kpis.clone()))?;
    let table = ev.table(model);
    let keys: Vec<&str> = by
        .iter()
        .map(String::as_str)
        .chain(ev.period.then_some("period"))
        .collect();
    let values: Vec<&str> = kpis.iter().map(String::as_str).collect();
    Ok(compared(t, &table, &keys, &values))
}

/// A funnel test: the funnel's rows, one per group, period and step,
/// matched by the expected row's `by` values, `period` and `step`, and its
/// measures (`count`, `conversion`, …) compared as a KPI test's values.
fn funnel_test(model: &Model, t: &TestModel, funnel: &str) -> Result<Found, Vec<Diagnostic>> {
    let query = test_query(t, Vec::new());
    let ev = crate::execute::evaluate_funnels(model, &[funnel.to_string()], &query)?;
    let table = ev.table();
    let keys: Vec<&str> = (t.by.iter().map(String::as_str))
        .chain(table.columns.iter().any(|c| c == "period").then_some("period"))
        .chain(["step"])
        .collect();
    let values: Vec<&str> = crate::execute::FUNNEL_MEASURES.iter().map(|(m, _)| *m).collect();
    Ok(compared(t, &table, &keys, &values))
}

/// The query a KPI or funnel test evaluates: its `grain`, `by`, `period`
/// and segments.
fn test_query(t: &TestModel, kpis: Vec<String>) -> Query {
    Query {
        kpis,
        by: t.by.clone(),
        grain: t.grain,
        range: t.range,
        segments: t.segments.clone(),
        ..Query::default()
    }
}

/// Each expected row of `t` against the row of `table` with the same
/// `keys` (a key the expected row leaves out matches any), its `values`
/// columns within the test's tolerance: the failures, and the diff when
/// there are any.
fn compared(t: &TestModel, table: &ResultTable, keys: &[&str], values: &[&str]) -> Found {
    let tolerance = t.tolerance.unwrap_or(1e-9);
    let mut failures = Vec::new();
    let mut lines: Vec<(bool, Vec<String>)> = Vec::new();
    for row in &t.expect {
        for (c, _) in row {
            if !keys.contains(&c.value.as_str()) && !values.contains(&c.value.as_str()) {
                failures.push(format!(
                    "expected column `{}` is not in the result (columns: {})",
                    c.value,
                    table.columns.join(", ")
                ));
            }
        }
        // Each key the row names: its text, or `None` for `null` (the
        // group of rows without a value).
        let key_text: Vec<(String, Option<Option<String>>)> = keys
            .iter()
            .map(|k| {
                let v = row
                    .iter()
                    .find(|(c, _)| c.value == *k)
                    .map(|(_, v)| match &v.value {
                        Value::Null => None,
                        v => Some(text_of(v)),
                    });
                (k.to_string(), v)
            })
            .collect();
        let actual = table.rows.iter().find(|r| {
            key_text.iter().all(|(k, v)| match v {
                None => true,
                Some(v) => cell_text(table, r, k) == *v,
            })
        });
        let label = row_label(&key_text);
        let Some(actual) = actual else {
            failures.push(format!("no row with {label} in the result"));
            lines.push((false, vec![label, "(missing)".to_string()]));
            continue;
        };
        let expected = row.iter().filter(|(c, _)| values.contains(&c.value.as_str()));
        let found = Expected {
            label: &label,
            tolerance,
        }
        .compare(table, actual, expected, &mut failures);
        lines.push(found);
    }
    let diff = (!failures.is_empty()).then(|| {
        let mut s = String::from("expected → actual:\n");
        for (ok, cells) in &lines {
            let _ = writeln!(s, "  {} {}", if *ok { "✓" } else { "✗" }, cells.join("   "));
        }
        s.push_str("actual rows:\n");
        s.push_str(&table.to_csv());
        s
    });
    (failures, diff)
}

/// `owner=ann, period=2025-01`, or "the row" when the expectation has no keys.
fn row_label(key_text: &[(String, Option<Option<String>>)]) -> String {
    let label: Vec<String> = key_text
        .iter()
        .filter_map(|(k, v)| {
            v.as_ref()
                .map(|v| format!("{k}={}", v.as_deref().unwrap_or("null")))
        })
        .collect();
    if label.is_empty() {
        "the row".to_string()
    } else {
        label.join(", ")
    }
}

/// The expected values of one row, compared within a relative tolerance.
struct Expected<'a> {
    label: &'a str,
    tolerance: f64,
}

impl Expected<'_> {
    /// Whether every value matched, and the row's line of the diff.
    fn compare<'r>(
        &self,
        table: &ResultTable,
        actual: &[Cell],
        expected: impl Iterator<Item = &'r (crate::spec::model::Name, crate::span::Spanned<Value>)>,
        failures: &mut Vec<String>,
    ) -> (bool, Vec<String>) {
        let label = self.label;
        let mut cells = vec![label.to_string()];
        let mut ok = true;
        for (c, v) in expected {
            let cell = column_cell(table, actual, &c.value);
            // A date or datetime KPI's value is shown as its text: the same
            // instant, however written (`2025-01-12`, `2025-01-12T00:00`).
            if let (Value::String(want), Some(Cell::Text(got))) = (&v.value, cell) {
                let instant = |t: &str| crate::time::DateTime::parse(t);
                let got = got.as_deref().unwrap_or("null");
                let same = match (instant(want), instant(got)) {
                    (Some(w), Some(g)) => w == g,
                    _ => want == got,
                };
                if !same {
                    ok = false;
                    failures.push(format!("{label}: {} expected {want}, got {got}", c.value));
                }
                cells.push(format!("{} {want} → {got}", c.value));
                continue;
            }
            let got = match cell {
                Some(Cell::Number(x)) => *x,
                _ => None,
            };
            let want = match &v.value {
                Value::Number(n) => Some(*n),
                Value::Null => None,
                // `50%`, `"1_000"`: numbers as the spec writes them elsewhere.
                Value::String(s) if crate::spec::parse_number(s).is_some() => crate::spec::parse_number(s),
                other => {
                    failures.push(format!(
                        "{label}: `{}` expects a number, not `{}`",
                        c.value,
                        text_of(other)
                    ));
                    ok = false;
                    continue;
                }
            };
            let same = match (want, got) {
                (Some(w), Some(g)) => {
                    (w - g).abs() <= self.tolerance * w.abs().max(g.abs()).max(f64::MIN_POSITIVE)
                }
                (None, None) => true,
                _ => false,
            };
            let shown = |x: Option<f64>| x.map_or("null".to_string(), |x| x.to_string());
            if !same {
                ok = false;
                failures.push(format!(
                    "{label}: {} expected {}, got {}",
                    c.value,
                    shown(want),
                    shown(got)
                ));
            }
            cells.push(format!("{} {} → {}", c.value, shown(want), shown(got)));
        }
        (ok, cells)
    }
}

fn column_cell<'a>(table: &ResultTable, row: &'a [Cell], column: &str) -> Option<&'a Cell> {
    table
        .columns
        .iter()
        .position(|c| c == column)
        .and_then(|i| row.get(i))
}

fn cell_text(table: &ResultTable, row: &[Cell], column: &str) -> Option<String> {
    match column_cell(table, row, column)? {
        Cell::Text(t) => t.clone(),
        Cell::Number(x) => x.map(|x| x.to_string()),
    }
}

fn status_test(model: &Model, t: &TestModel, target: &str) -> Result<Found, Vec<Diagnostic>> {
    let Some(want) = &t.status else {
        return Ok((
            vec!["a target test needs `status:` (and usually `as_of:`)".to_string()],
            None,
        ));
    };
    let rows = crate::status::status(model, &[target.to_string()], t.as_of)?;
    // The period that holds the as-of date is the last one of the target's rows.
    let Some(last) = rows.last().map(|r| r.period.clone()) else {
        return Ok((vec![format!("target `{target}` gave no status")], None));
    };
    let in_period = rows.iter().filter(|r| r.period == last);
    // One member of a `by:` target, or every member.
    let tested: Vec<_> = match &t.member {
        Some(m) => in_period
            .filter(|r| r.member.as_deref() == Some(m.as_str()))
            .collect(),
        None => in_period.collect(),
    };
    if let (Some(m), true) = (&t.member, tested.is_empty()) {
        let members: Vec<&str> = rows
            .iter()
            .filter(|r| r.period == last)
            .filter_map(|r| r.member.as_deref())
            .collect();
        return Ok((
            vec![format!(
                "{target} in {last} has no member `{m}` (members: {})",
                if members.is_empty() {
                    "none".to_string()
                } else {
                    members.join(", ")
                }
            )],
            None,
        ));
    }
    let failures: Vec<String> = tested
        .iter()
        .filter(|r| r.status != *want)
        .map(|r| {
            let member = r.member.as_ref().map(|m| format!(" for {m}")).unwrap_or_default();
            format!(
                "{target} in {}{member}: status expected {}, got {} (actual {}, target {})",
                r.period,
                want.as_str(),
                r.status.as_str(),
                r.actual.map_or("null".to_string(), |x| x.to_string()),
                r.target_value.map_or("null".to_string(), |x| x.to_string()),
            )
        })
        .collect();
    Ok((failures, None))
}

/// The human report: a line per test, the failures with their diffs, a summary.
pub fn to_human(results: &[TestResult]) -> String {
    let mut s = String::new();
    for r in results {
        let what = match (&r.kpi, &r.funnel, &r.target) {
            (Some(k), _, _) => format!("KPI `{k}`"),
            (None, Some(f), _) => format!("funnel `{f}`"),
            (None, None, Some(t)) => format!("target `{t}`"),
            (None, None, None) => String::new(),
        };
        if r.passed {
            let _ = writeln!(s, "ok     {} ({what})", r.name);
            continue;
        }
        let _ = writeln!(
            s,
            "FAILED {} ({what}) at {}:{}:{}",
            r.name, r.file, r.line, r.column
        );
        for f in &r.failures {
            let _ = writeln!(s, "    {f}");
        }
        if let Some(d) = &r.diff {
            for line in d.lines() {
                let _ = writeln!(s, "    {line}");
            }
        }
    }
    if results.is_empty() {
        let _ = writeln!(s, "ok: the spec has no tests (add them under `tests:`)");
        return s;
    }
    let failed = results.iter().filter(|r| !r.passed).count();
    let _ = writeln!(
        s,
        "\n{}: {} passed, {failed} failed",
        if failed == 0 { "ok" } else { "FAILED" },
        results.len() - failed
    );
    s
}
