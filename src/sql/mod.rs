//! SQL from the typed plan: each unit of a plan (one dataset: scan,
//! lookups, segment filters, dimensions, range, period bucketing, part
//! aggregates) becomes one SELECT, printed for a dialect. Only the
//! aggregated parts come back; everything after the units is the shared
//! code every engine's results flow through.
//!
//! One printer over all dialects (`dialect.rs` holds what differs; the
//! printer's row expressions are in `expr.rs`).
//! Identifiers are always quoted and literals always escaped; filtered
//! aggregates are `AGG(CASE WHEN … END)`, which every dialect has; a
//! division by zero is null; periods start as LANGUAGE.md §4 says (ISO or
//! Sunday weeks, fiscal quarters and years).

pub mod dialect;
mod expr;
mod iso_day;

pub use iso_day::SHAPE as ISO_DAY_SHAPE;

use dialect::Spelling;

use crate::check::functions::AggFn;
use crate::check::ir::{DatasetId, Model, Relation};
use crate::check::types::Type;
use crate::diagnostic::Diagnostic;
use crate::keyword::Keyword;
use crate::period::{Calendar, Grain, WeekStart};
use crate::plan::{Part, Plan, Query, Unit, UnitTime};
use crate::span::Span;
use crate::spec::model::Dialect;
use crate::time::Date;

/// The statements of one unit: its parts, and for a stock under a grain
/// the parts of its ends (as the engine seam's `UnitFrames`).
#[derive(Clone, Debug, PartialEq)]
pub struct UnitSql {
    pub parts: String,
    pub ends: Option<String>,
    /// The row expression whose SQL would pass [`MAX_EXPRESSION_SQL`]
    /// (a statement holding it is not to be run).
    pub too_long: Option<Span>,
}

/// The longest SQL a row expression may print to. `round`, `%` and `pow`
/// write their arguments several times, so each level of a nest of them
/// multiplies its length: eight `round`s deep made 378 MB and twelve
/// exhausted memory. BigQuery takes statements of 1 MB at most.
pub const MAX_EXPRESSION_SQL: usize = 1 << 20;

/// Whether a unit under `--grain all` needs the data's dates first (a
/// stock taken at the end of the data, when the query has no range).
pub fn needs_bounds(plan: &Plan, unit: usize) -> bool {
    plan.query.grain == Grain::All
        && plan.query.range.is_none()
        && matches!(plan.units[unit].time, UnitTime::Stock { .. })
}

/// The day a stock under `--grain all` is taken at when the query has a
/// range: its last day, or the day before its first for `at: start`.
pub fn range_moment(plan: &Plan, unit: usize) -> Option<Date> {
    plan.query.range.map(|r| match plan.units[unit].time {
        UnitTime::Stock { at_start: true, .. } => r.start.add_days(-1),
        _ => r.end,
    })
}

/// The earliest and latest dates of a unit's time columns (a flow's time
/// column; a stock's `from` and `to`), as `lo` and `hi`.
pub fn bounds_sql(plan: &Plan, unit: usize, dialect: Dialect) -> String {
    let p = Printer::new(&plan.model, &plan.units[unit], dialect);
    let (lo, hi) = p.bounds();
    format!(
        "SELECT {lo} AS {}, {hi} AS {} FROM {}",
        dialect.ident("lo"),
        dialect.ident("hi"),
        p.sources()
    )
}

/// One statement of a query's SQL: what it computes, and the SQL.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    pub title: String,
    pub sql: String,
}

/// The SQL statements that evaluate a planned query's datasets on a
/// database, one per scan (`kpi sql`): each unit of the plan and of its
/// nested aggregates' plans, in `dialect`, else in its connection's, else
/// (files) in DuckDB's, a file's rows read from a table named after its
/// dataset. A stock taken at the end of the data is taken at a date a
/// subquery finds, never later than `today`, as evaluation takes it. An
/// aggregate a dialect has only approximately is an error.
pub fn query_statements(
    plan: &Plan,
    dialect: Option<Dialect>,
    today: Date,
) -> Result<Vec<Statement>, Vec<Diagnostic>> {
    let model = &*plan.model;
    let mut out = Vec::new();
    let mut inexact = Vec::new();
    for (i, unit) in plan.units.iter().enumerate() {
        let ds = &model.datasets[unit.dataset];
        let connection = ds
            .remote
            .as_ref()
            .and_then(|r| model.connections.get(r.connection));
        let d = dialect_of(model, unit.dataset, dialect).0;
        for o in &unit.outputs {
            inexact.extend(inexact_in(model, o.kpi, dialect));
        }
        let sql = unit_sql_by_itself(plan, i, d, today);
        inexact.extend(
            sql.too_long
                .map(|span| crate::check::diagnostics::sql_too_long(span, d.as_str())),
        );
        let from = match connection {
            Some(c) => format!("on connection `{}`", c.name),
            None => format!("over table {} (its file's rows)", d.ident(&ds.name)),
        };
        let title = format!("{} — {}, {from}", plan.unit_title(i), d.as_str());
        let starts = if sql.ends.is_some() { " — starts" } else { "" };
        out.push(Statement {
            title: format!("{title}{starts}"),
            sql: sql.parts,
        });
        out.extend(sql.ends.map(|sql| Statement {
            title: format!("{title} — ends"),
            sql,
        }));
    }
    for n in &plan.nests {
        let host = &model.kpis[n.nest.host].name;
        match query_statements(&n.plan, dialect, today) {
            Ok(inner) => out.extend(inner.into_iter().map(|s| Statement {
                title: format!("{host}, per {}: {}", n.nest.per.join(", "), s.title),
                sql: s.sql,
            })),
            Err(d) => inexact.extend(d),
        }
    }
    match inexact.is_empty() {
        true => Ok(out),
        false => {
            inexact.dedup();
            Err(inexact)
        }
    }
}

/// The statements of the funnel `name` (one scan counts every step), titled
/// by its steps; `None` when the spec has no such funnel.
pub fn funnel_statements(
    model: &Model,
    name: &str,
    query: &Query,
    dialect: Option<Dialect>,
    today: Date,
) -> Option<Result<Vec<Statement>, Vec<Diagnostic>>> {
    let statements = crate::plan::plan_funnel(model, name, query)?.and_then(|fp| {
        Ok(query_statements(&fp.plan, dialect, today)?
            .into_iter()
            .map(|s| Statement {
                title: fp.titled(&s.title),
                sql: s.sql,
            })
            .collect())
    });
    Some(statements)
}

/// No rows of a table or query, for its columns and their types.
pub fn schema_sql(relation: &Relation, dialect: Dialect) -> String {
    format!(
        "SELECT * FROM {} AS {} WHERE 1 = 0",
        relation_sql(relation, dialect),
        dialect.ident("t")
    )
}

/// The first `rows` rows of a table or query (SQLite types a query's
/// columns only by the values it holds).
pub fn sample_sql(relation: &Relation, dialect: Dialect, rows: usize) -> String {
    format!(
        "SELECT * FROM {} AS {} LIMIT {rows}",
        relation_sql(relation, dialect),
        dialect.ident("t")
    )
}

/// A table (`schema.table`, each part quoted) or a query as a subquery. A
/// query that ends in a `--` comment gets a line break before the `)`,
/// which the comment would otherwise take with the rest of the statement.
pub fn relation_sql(relation: &Relation, dialect: Dialect) -> String {
    match relation {
        Relation::Table(t) => table_parts(t)
            .iter()
            .map(|p| dialect.ident(p))
            .collect::<Vec<_>>()
            .join("."),
        Relation::Query(q) if q.contains("--") => format!("({q}\n)"),
        Relation::Query(q) => format!("({q})"),
    }
}

/// The parts of a dotted table name, as named: `analytics.deals`, or
/// quoted as SQL quotes them, `"Sales Data"."Deals"` or `` `db`.`deals` ``
/// (a `.` between quotes is part of the name, a doubled quote one quote).
/// Written unquoted, a name is taken as it is, spaces and case included.
pub fn table_parts(table: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut chars = table.chars().peekable();
    loop {
        let mut part = String::new();
        if let Some(&quote) = chars.peek().filter(|c| matches!(c, '"' | '`')) {
            chars.next();
            while let Some(c) = chars.next() {
                match c == quote && chars.next_if_eq(&quote).is_none() {
                    true => break,
                    false => part.push(c),
                }
            }
        }
        while let Some(c) = chars.next_if(|c| *c != '.') {
            part.push(c);
        }
        parts.push(part);
        if chars.next().is_none() {
            return parts;
        }
    }
}

/// A key of `dataset`'s column `key` that appears more than once (as `k`,
/// with its count `n`), or no row: a lookup must be many-to-one.
pub fn duplicate_key_sql(model: &Model, dataset: DatasetId, key: &str, dialect: Dialect) -> String {
    let (k, from, column) = one_column(model, dataset, key, dialect);
    format!(
        "SELECT {k} AS {}, COUNT(*) AS {} FROM {from} WHERE {column} IS NOT NULL GROUP BY {k} HAVING COUNT(*) > 1 ORDER BY 2 DESC, 1 LIMIT 1",
        dialect.ident("k"),
        dialect.ident("n"),
    )
}

/// Up to `limit` distinct values of a column of a dataset on a
/// connection, as texts (as the printer's `text` writes them), in the column `v`.
pub fn distinct_values_sql(
    model: &Model,
    dataset: DatasetId,
    column: &str,
    dialect: Dialect,
    limit: usize,
) -> String {
    let (v, from, column) = one_column(model, dataset, column, dialect);
    format!(
        "SELECT DISTINCT {v} AS {} FROM {from} WHERE {column} IS NOT NULL LIMIT {limit}",
        dialect.ident("v"),
    )
}

/// How many rows of a dataset on a connection end (`to`) before they start
/// (`from`), in the column `n`.
pub fn reversed_intervals_sql(
    model: &Model,
    dataset: DatasetId,
    from: &str,
    to: &str,
    dialect: Dialect,
) -> String {
    let unit = rows_alone(dataset, Vec::new());
    let p = Printer::new(model, &unit, dialect);
    format!(
        "SELECT COUNT(*) AS {} FROM {} WHERE {} < {}",
        dialect.ident("n"),
        p.sources(),
        dialect.column_day(&p.own(to)),
        dialect.column_day(&p.own(from))
    )
}

/// How many values of each of `columns` (number columns of a dataset on a
/// connection) are NaN or infinite, or in SQLite a text that is no number,
/// as evaluation counts them: one row, the count of `columns[i]` in `n{i}`.
pub fn non_finite_sql(model: &Model, dataset: DatasetId, columns: &[&str], dialect: Dialect) -> String {
    let unit = rows_alone(dataset, Vec::new());
    let p = Printer::new(model, &unit, dialect);
    let counts: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, column)| non_finite_count(dialect, &p.own(column), &format!("n{i}")))
        .collect();
    format!("SELECT {} FROM {}", counts.join(", "), p.sources())
}

/// The keys of `dataset`'s lookup `lookup` that no looked-up row holds,
/// joined as evaluation joins them: each key (`k`) with its rows (`n`),
/// the most rows first, up to `limit`, and the rows of every such key
/// (`total`, the same on each row).
pub fn unmatched_keys_sql(
    model: &Model,
    dataset: DatasetId,
    lookup: usize,
    dialect: Dialect,
    limit: usize,
) -> String {
    let unit = rows_alone(dataset, vec![lookup]);
    let p = Printer::new(model, &unit, dialect);
    let key = p.lookup_key(lookup);
    let right = &model.datasets[dataset].lookups[lookup].right;
    let found = format!("{}.{}", dialect.ident("l0"), dialect.ident(right));
    format!(
        "SELECT {key} AS {}, COUNT(*) AS {}, SUM(COUNT(*)) OVER () AS {} FROM {} \
         WHERE {key} IS NOT NULL AND {found} IS NULL GROUP BY {key} ORDER BY 2 DESC, 1 LIMIT {limit}",
        dialect.ident("k"),
        dialect.ident("n"),
        dialect.ident("total"),
        p.sources()
    )
}

/// How many values of the number column `raw` are NaN or infinite (or in
/// SQLite a text that is no number), as the column `alias`.
fn non_finite_count(dialect: Dialect, raw: &str, alias: &str) -> String {
    format!(
        "SUM(CASE WHEN {} AND {} IS NULL THEN 1 ELSE 0 END) AS {}",
        dialect.has_value(raw),
        dialect.finite(raw),
        dialect.ident(alias)
    )
}

/// A unit of `dataset`'s rows alone (with its lookups `lookups`), for a
/// statement about the data rather than a KPI.
fn rows_alone(dataset: DatasetId, lookups: Vec<usize>) -> Unit {
    Unit {
        dataset,
        time: UnitTime::None,
        parts: Vec::new(),
        outputs: Vec::new(),
        dims: Vec::new(),
        filters: Vec::new(),
        lookups,
    }
}

/// For a statement about one column of a dataset's rows alone: the column
/// as text (as [`Printer::text`] writes it), what it is selected from, and
/// the column itself.
fn one_column(model: &Model, dataset: DatasetId, column: &str, dialect: Dialect) -> (String, String, String) {
    let unit = rows_alone(dataset, Vec::new());
    let p = Printer::new(model, &unit, dialect);
    let own = p.own(column);
    let text = p.text(&own, column_type(&model.datasets[dataset], column));
    (text, p.sources(), own)
}

/// The dialect a dataset's SQL is printed in: `asked`, else its
/// connection's, else DuckDB's; and why, for diagnostics.
fn dialect_of(model: &Model, dataset: DatasetId, asked: Option<Dialect>) -> (Dialect, String) {
    let ds = &model.datasets[dataset];
    let connection = ds
        .remote
        .as_ref()
        .and_then(|r| model.connections.get(r.connection));
    match (asked, connection) {
        (Some(d), _) => (d, "--dialect".to_string()),
        (None, Some(c)) => (c.dialect, format!("connection `{}`", c.name)),
        (None, None) => (Dialect::DuckDb, "the default for files".to_string()),
    }
}

/// The aggregates of base KPI `kpi` that its dialect has only approximately.
fn inexact_in(model: &Model, kpi: usize, asked: Option<Dialect>) -> Vec<Diagnostic> {
    match &model.kpis[kpi].kind {
        crate::check::ir::KpiKind::Base { measure, dataset, .. } => {
            let (d, place) = dialect_of(model, *dataset, asked);
            crate::check::connections::inexact_aggregates(measure, d, &place)
        }
        _ => Vec::new(),
    }
}

/// The KPIs of `kpis` whose SQL the dialects have exactly, and a
/// `kpi::left_out` warning for each of the others: for a query that names
/// no KPI, as the flags leave out those that cannot take them.
pub fn exact_kpis(
    model: &Model,
    kpis: Vec<String>,
    asked: Option<Dialect>,
) -> (Vec<String>, Vec<Diagnostic>) {
    let mut left_out = Vec::new();
    let kept = kpis
        .into_iter()
        .filter(|name| {
            let Some(k) = model.kpi_id(name) else {
                return true;
            };
            let why = model
                .bases_beneath(&[k])
                .into_iter()
                .find_map(|b| inexact_in(model, b, asked).into_iter().next());
            if let Some(why) = &why {
                left_out.push(crate::check::diagnostics::left_out(name, why));
            }
            why.is_none()
        })
        .collect();
    (kept, left_out)
}

/// The SQL of unit `unit` of `plan` as one runs it by itself: a stock
/// taken at the end of its data under `--grain all` gets that day from a
/// subquery (never later than `today`), where evaluation asks the
/// database for it first ([`unit_sql`] with the day).
pub fn unit_sql_by_itself(plan: &Plan, unit: usize, dialect: Dialect, today: Date) -> UnitSql {
    let moment = match needs_bounds(plan, unit) {
        true => Some(Printer::new(&plan.model, &plan.units[unit], dialect).moment_from_data(today)),
        false => range_moment(plan, unit).map(|m| dialect.date_lit(m)),
    };
    unit_statements(plan, unit, dialect, moment)
}

/// A stock's condition up to the range's last day, and the day a row is
/// bucketed by (see [`crate::plan::StockDays`]), as over files.
fn stock_days(day: &str, active: String, days: crate::plan::StockDays, dialect: Dialect) -> (String, String) {
    let active = format!("{active} AND {day} <= {}", dialect.date_lit(days.last));
    let day = match days.moved {
        Some((first, start)) => format!(
            "CASE WHEN {day} >= {} AND {day} < {} THEN {} ELSE {day} END",
            dialect.date_lit(first),
            dialect.date_lit(start),
            dialect.date_lit(first.add_days(-1)),
        ),
        None => day.to_string(),
    };
    (day, active)
}

/// The SQL of unit `unit` of `plan`. `moment` is the day a stock is taken
/// at under `--grain all` (the end of the range or of the data; the day
/// before either for `at: start`).
pub fn unit_sql(plan: &Plan, unit: usize, dialect: Dialect, moment: Option<Date>) -> UnitSql {
    unit_statements(plan, unit, dialect, moment.map(|m| dialect.date_lit(m)))
}

/// [`unit_sql`] with the moment as SQL: a date, or a query of one.
fn unit_statements(plan: &Plan, unit: usize, dialect: Dialect, moment: Option<String>) -> UnitSql {
    let p = Printer::new(&plan.model, &plan.units[unit], dialect);
    let q = &plan.query;
    let (parts, ends) = match (&p.unit.time, q.grain) {
        (UnitTime::Stock { from, to, .. }, Grain::All) => {
            let m = moment.unwrap_or_else(|| dialect.date_lit(Date(0)));
            let mut active = vec![format!("{} <= {m}", dialect.column_day(&p.own(from)))];
            if let Some(to) = to {
                let t = dialect.column_day(&p.own(to));
                active.push(format!("({t} IS NULL OR {t} > {m})"));
            }
            let period = q.range.map(|r| dialect.date_lit(r.start));
            (p.select(period, false, &active), None)
        }
        (UnitTime::Stock { from, to, at_start }, g) => {
            // As over files: a start, and no end or one on or after the
            // start's day (a null compares false), within the range's days.
            let start = dialect.column_day(&p.own(from));
            let end = to.as_deref().map(|to| dialect.column_day(&p.own(to)));
            let days = crate::plan::StockDays::of(q, &plan.model.calendar, *at_start);
            let bucketed = |day: &str, active: String| {
                let (day, active) = match days {
                    Some(days) => stock_days(day, active, days, dialect),
                    None => (day.to_string(), active),
                };
                let period = p.period_start(&day, g, &plan.model.calendar);
                p.select(Some(period), true, &[active])
            };
            let starts = match &end {
                Some(end) => format!("{start} IS NOT NULL AND ({end} IS NULL OR {end} >= {start})"),
                None => format!("{start} IS NOT NULL"),
            };
            let ends = end
                .as_deref()
                .map(|end| bucketed(end, format!("{end} >= {start}")));
            (bucketed(&start, starts), ends)
        }
        (UnitTime::Flow(t), _) => (p.flow(t, q, &plan.model.calendar), None),
        (UnitTime::None, _) => (p.select(None, false, &[]), None),
    };
    UnitSql {
        parts,
        ends,
        too_long: p.overflow.get(),
    }
}

/// The type of a dataset's column, when known (text otherwise: cast as is).
fn column_type(ds: &crate::check::ir::DatasetModel, name: &str) -> Type {
    ds.columns
        .iter()
        .find(|(c, _)| c == name)
        .map_or(Type::String, |(_, t)| *t)
}

/// Prints a unit's SQL: its statements here, its row expressions in
/// [`expr`].
struct Printer<'a> {
    model: &'a Model,
    unit: &'a Unit,
    d: Dialect,
    /// Set by the first row expression longer than [`MAX_EXPRESSION_SQL`].
    overflow: std::cell::Cell<Option<Span>>,
}

impl<'a> Printer<'a> {
    fn new(model: &'a Model, unit: &'a Unit, d: Dialect) -> Self {
        Printer {
            model,
            unit,
            d,
            overflow: std::cell::Cell::new(None),
        }
    }

    /// The earliest and latest dates of the unit's time columns (a flow's
    /// time column; a stock's `from` and `to`), as aggregates.
    fn bounds(&self) -> (String, String) {
        let columns: Vec<&String> = match &self.unit.time {
            UnitTime::Flow(t) => vec![t],
            UnitTime::Stock { from, to, .. } => std::iter::once(from).chain(to.iter()).collect(),
            UnitTime::None => Vec::new(),
        };
        let d = self.d;
        let date = |c: &str| d.column_day(&self.own(c));
        match columns.split_first() {
            None => (d.null_date(), d.null_date()),
            Some((first, rest)) => rest.iter().fold(
                (format!("MIN({})", date(first)), format!("MAX({})", date(first))),
                |(lo, hi), c| {
                    (
                        d.extreme_of(true, &[lo.clone(), format!("COALESCE(MIN({}), {lo})", date(c))]),
                        d.extreme_of(false, &[hi.clone(), format!("COALESCE(MAX({}), {hi})", date(c))]),
                    )
                },
            ),
        }
    }

    /// The day a stock is taken at under `--grain all` with no range, as a
    /// subquery: the last date of its data, never later than `today`, or
    /// the day before the first for `at: start` (`today` without dates).
    fn moment_from_data(&self, today: Date) -> String {
        let (lo, hi) = self.bounds();
        let today = self.d.date_lit(today);
        let day = match self.unit.time {
            UnitTime::Stock { at_start: true, .. } => {
                self.d.add_days(&format!("COALESCE({lo}, {today})"), "-1")
            }
            _ => self
                .d
                .extreme_of(true, &[format!("COALESCE({hi}, {today})"), today.clone()]),
        };
        format!("(SELECT {day} FROM {})", self.sources())
    }

    /// A table (each dotted part quoted) or a query, as a FROM item.
    fn relation(&self, ds: DatasetId) -> String {
        match self.model.datasets[ds].remote.as_ref() {
            Some(r) => relation_sql(&r.relation, self.d),
            None => self.d.ident(&self.model.datasets[ds].name),
        }
    }

    /// The unit's dataset as `t`, and each lookup it uses as `l0`, `l1`, …
    /// joined on the key as text (as kpi joins files).
    fn sources(&self) -> String {
        let ds = &self.model.datasets[self.unit.dataset];
        let mut out = format!("{} AS {}", self.relation(self.unit.dataset), self.d.ident("t"));
        for (j, &li) in self.unit.lookups.iter().enumerate() {
            let l = &ds.lookups[li];
            let left = self.lookup_key(li);
            let alias = self.d.ident(&format!("l{j}"));
            let right = format!("{alias}.{}", self.d.ident(&l.right));
            let right = self.text(&right, column_type(&self.model.datasets[l.dataset], &l.right));
            out.push_str(&format!(
                " LEFT JOIN {} AS {alias} ON {left} = {right}",
                self.relation(l.dataset)
            ));
        }
        out
    }

    /// The key of the unit's dataset's lookup `li` as text: a column, or
    /// a computed dimension (a cleaned-up name).
    fn lookup_key(&self, li: usize) -> String {
        let ds = &self.model.datasets[self.unit.dataset];
        let l = &ds.lookups[li];
        match ds.dimensions.iter().find(|x| x.name == l.left) {
            Some(dim) => self.text(&self.expr(&dim.expr), dim.expr.ty),
            None => self.text(&self.own(&l.left), column_type(ds, &l.left)),
        }
    }

    /// A column of the unit's dataset or of a dataset it looks up.
    fn column(&self, ds: DatasetId, name: &str) -> String {
        if ds == self.unit.dataset {
            return self.own(name);
        }
        let lookups = &self.model.datasets[self.unit.dataset].lookups;
        match self.unit.lookups.iter().position(|&li| lookups[li].dataset == ds) {
            Some(j) => format!("{}.{}", self.d.ident(&format!("l{j}")), self.d.ident(name)),
            None => "NULL".to_string(),
        }
    }

    /// A flow: rows in the range (and whole periods of history before it),
    /// each in the period of its time column; rows without a time value
    /// are kept with no period, to be counted and left out.
    fn flow(&self, t: &str, q: &Query, cal: &Calendar) -> String {
        // A row has no time when its day is null: in SQLite, whose dates
        // are texts, an empty or unreadable text too.
        let day = self.d.column_day(&self.own(t));
        // The range compares the column's own day, which an index or a
        // partition of it serves (`infinity` is outside any range anyway).
        let raw = self.d.to_date(&self.own(t));
        let mut conditions = Vec::new();
        if let Some(r) = q.range {
            let mut inside = format!(
                "({raw} >= {} AND {raw} <= {})",
                self.d.date_lit(r.start),
                self.d.date_lit(r.end)
            );
            if let (Some(h), true) = (q.history, q.grain != Grain::All) {
                let first = crate::period::period_of(r.start, q.grain, cal).start;
                inside = format!(
                    "({inside} OR ({raw} >= {} AND {raw} < {}))",
                    self.d.date_lit(h),
                    self.d.date_lit(first)
                );
            }
            conditions.push(format!("({raw} IS NULL OR {inside})"));
        }
        let period = match (q.grain, q.range) {
            (Grain::All, None) => None,
            (Grain::All, Some(r)) => Some(format!(
                "CASE WHEN {day} IS NULL THEN {} ELSE {} END",
                self.d.null_date(),
                self.d.date_lit(r.start)
            )),
            (g, _) => Some(self.period_start(&day, g, cal)),
        };
        let grouped = period
            .as_ref()
            .is_some_and(|_| q.grain != Grain::All || q.range.is_some());
        self.select(period, grouped, &conditions)
    }

    /// `SELECT dims, period, parts, rows, one FROM … WHERE … GROUP BY …`.
    /// `grouped`: whether the period is a group key (a constant is not).
    fn select(&self, period: Option<String>, grouped: bool, conditions: &[String]) -> String {
        let d = self.d;
        let mut columns = Vec::new();
        let mut keys = Vec::new();
        for (i, dim) in self.unit.dims.iter().enumerate() {
            let e = self.text(&self.expr(dim), dim.ty);
            columns.push(format!("{e} AS {}", d.ident(&format!("__d{i}"))));
            keys.push(e);
        }
        if let Some(p) = &period {
            columns.push(format!("{p} AS {}", d.ident("__period")));
            if grouped {
                keys.push(p.clone());
            }
        }
        columns.extend(
            self.unit
                .parts
                .iter()
                .map(|p| format!("{} AS {}", self.part(p), d.ident(&p.name))),
        );
        columns.extend(self.non_finite_counts());
        columns.push(format!("COUNT(*) AS {}", d.ident("__rows")));
        columns.push(format!("1 AS {}", d.ident("__one")));
        let mut conditions: Vec<String> = conditions.to_vec();
        conditions.extend(self.unit.filters.iter().map(|f| self.expr(f)));
        let mut sql = format!("SELECT {} FROM {}", columns.join(", "), self.sources());
        if !conditions.is_empty() {
            sql.push_str(&format!(" WHERE {}", conditions.join(" AND ")));
        }
        if !keys.is_empty() {
            sql.push_str(&format!(" GROUP BY {}", keys.join(", ")));
        }
        sql
    }

    /// For each number column the unit reads, how many of its values are
    /// NaN or infinite (read as null), counted as over files
    /// (`__nf:dataset:column`, see [`crate::plan::NON_FINITE`]).
    fn non_finite_counts(&self) -> Vec<String> {
        let mut seen = Vec::new();
        let mut out = Vec::new();
        for (ds, name) in self.unit.columns() {
            let number = column_type(&self.model.datasets[ds], &name) == Type::Number;
            if !number || seen.contains(&(ds, name.clone())) {
                continue;
            }
            let raw = self.column(ds, &name);
            let alias = format!(
                "{}{}:{name}",
                crate::plan::NON_FINITE,
                self.model.datasets[ds].name
            );
            out.push(non_finite_count(self.d, &raw, &alias));
            seen.push((ds, name));
        }
        out
    }

    /// The first day of the period holding `day` (a date expression).
    fn period_start(&self, day: &str, grain: Grain, cal: &Calendar) -> String {
        let d = self.d;
        let month = d.extract("MONTH", day);
        let back_months = |span: u32| {
            // Months back to the start of the (fiscal) quarter or year.
            let f = cal.fiscal_year_start;
            format!("MOD({month} + {}, {span})", 12 - f)
        };
        match grain {
            Grain::Day | Grain::All => day.to_string(),
            Grain::Week => {
                let back = match cal.week_start {
                    WeekStart::Monday => format!("({} - 1)", d.iso_weekday(day)),
                    WeekStart::Sunday => format!("MOD({}, 7)", d.iso_weekday(day)),
                };
                d.add_days(day, &format!("-{back}"))
            }
            Grain::Month => d.month_start(day),
            Grain::Quarter => d.add_months(&d.month_start(day), &format!("-{}", back_months(3))),
            Grain::Year => d.add_months(&d.month_start(day), &format!("-{}", back_months(12))),
        }
    }

    /// One aggregate part; numbers come back as doubles whatever the
    /// database's numeric types.
    fn part(&self, p: &Part) -> String {
        let filter = p.filter.as_ref().map(|c| self.expr(c));
        let keep = |x: String| match &filter {
            Some(c) => format!("CASE WHEN {c} THEN {x} END"),
            None => x,
        };
        let arg = |as_number: bool| {
            let x = p.arg.as_ref().map_or("NULL".to_string(), |e| match e.ty {
                Type::Bool => format!("CASE WHEN {0} THEN 1.0 WHEN NOT {0} THEN 0.0 END", self.expr(e)),
                _ if as_number => self.double(&self.expr(e)),
                _ => self.expr(e),
            });
            keep(x)
        };
        let number = |agg: String| self.double(&agg);
        match p.func {
            AggFn::Count if p.arg.is_none() => match &filter {
                Some(c) => number(format!("SUM(CASE WHEN {c} THEN 1 ELSE 0 END)")),
                None => number("COUNT(*)".to_string()),
            },
            AggFn::Count => number(format!("COUNT({})", arg(false))),
            AggFn::CountDistinct => number(format!("COUNT(DISTINCT {})", arg(false))),
            AggFn::Sum => number(format!("SUM({})", arg(true))),
            AggFn::Avg => number(format!("AVG({})", arg(true))),
            AggFn::Median => number(self.d.quantile(&arg(true), 0.5)),
            AggFn::Quantile => number(self.d.quantile(&arg(true), p.param.unwrap_or(0.5))),
            // Equal values spread by nothing, not by a residue of their
            // rounded mean (as `compile::zero_for_equal_values` on files).
            AggFn::Stddev => {
                let x = arg(true);
                let spread = format!("STDDEV_SAMP({x})");
                number(format!(
                    "CASE WHEN MIN({x}) = MAX({x}) THEN 0.0 * {spread} ELSE {spread} END"
                ))
            }
            AggFn::Min | AggFn::Max => {
                let f = if p.func == AggFn::Min { "MIN" } else { "MAX" };
                let ty = p.arg.as_ref().map_or(Type::Unknown, |e| e.ty);
                let agg = format!("{f}({})", arg(ty.is_number()));
                match ty {
                    Type::Number => number(agg),
                    Type::Date | Type::Datetime => self.d.temporal_extreme(agg, ty),
                    _ => agg,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::table_parts;

    /// Table names as named, or quoted as SQL quotes them.
    #[test]
    fn a_table_name_is_split_at_the_dots_outside_quotes() {
        let cases: &[(&str, &[&str])] = &[
            ("deals", &["deals"]),
            ("analytics.deals", &["analytics", "deals"]),
            ("Sales Data.Deals", &["Sales Data", "Deals"]),
            ("\"Sales Data\".\"Deals\"", &["Sales Data", "Deals"]),
            ("\"a.b\".c", &["a.b", "c"]),
            ("\"say \"\"hi\"\"\"", &["say \"hi\""]),
            ("`db`.`my table`", &["db", "my table"]),
            ("cat.\"Schema\".t", &["cat", "Schema", "t"]),
        ];
        for (name, parts) in cases {
            assert_eq!(table_parts(name), *parts, "{name}");
        }
    }
    #[test]
    fn months_back_to_a_fiscal_quarter_and_year() {
        // With the fiscal year from April: May is one month into Q1, February two into Q4.
        let back = |m: u32, span: u32, f: u32| (m + 12 - f) % span;
        assert_eq!(back(5, 3, 4), 1);
        assert_eq!(back(2, 3, 4), 1);
        assert_eq!(back(3, 12, 4), 11);
        assert_eq!(back(4, 12, 4), 0);
        assert_eq!(back(1, 3, 1), 0);
        assert_eq!(back(12, 3, 1), 2);
    }
}
