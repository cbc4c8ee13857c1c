//! The spec as typed values. Every field keeps the span it was written at.

use std::path::PathBuf;

use crate::keyword::keyword;
pub use crate::keyword::Keyword;
pub use crate::period::{Calendar, Grain, WeekStart};
use crate::span::{Span, Spanned};
use crate::syntax::ast::Expr;
use crate::time::Date;

pub type Name = Spanned<String>;
pub type Text = Spanned<String>;

/// All files of a spec, merged (LANGUAGE.md §1).
#[derive(Clone, Debug, Default)]
pub struct Spec {
    pub calendar: Option<Calendar>,
    pub connections: Vec<Connection>,
    pub datasets: Vec<Dataset>,
    pub segments: Vec<Segment>,
    pub kpis: Vec<Kpi>,
    pub targets: Vec<Target>,
    pub funnels: Vec<Funnel>,
    pub tests: Vec<Test>,
    /// Sections (`datasets`, `kpis`, …) of a file that are not a mapping of
    /// names: reported where they are, their names unknown, so what names
    /// one of them is not said again.
    pub unreadable_sections: Vec<&'static str>,
    /// Definitions that could not be read (a KPI that is a number, not a
    /// mapping), by what they are (`KPI`) and name: reported where they
    /// are, so what names one of them is not said unknown as well.
    pub unreadable_definitions: Vec<(&'static str, String)>,
}

impl Spec {
    pub fn dataset(&self, name: &str) -> Option<&Dataset> {
        self.datasets.iter().find(|d| d.name.value == name)
    }

    pub fn kpi(&self, name: &str) -> Option<&Kpi> {
        self.kpis.iter().find(|k| k.name.value == name)
    }

    pub fn segment(&self, name: &str) -> Option<&Segment> {
        self.segments.iter().find(|s| s.name.value == name)
    }
}

/// An expression field: its text, where it was written, and its tree
/// (`None` when it did not parse; that error is already reported).
#[derive(Clone, Debug)]
pub struct ExprField {
    pub text: String,
    pub span: Span,
    pub expr: Option<Expr>,
}

keyword!(
    /// File format of a dataset source.
    Format, "format", { "csv" => Csv, "parquet" => Parquet, "ndjson" => Ndjson });
keyword!(
    /// Text encoding of a CSV source.
    Encoding, "encoding", { "utf-8" => Utf8, "latin-1" => Latin1, "windows-1252" => Windows1252 });
keyword!(
    /// What reading does with a row it cannot read.
    OnError, "on_error value", { "error" => Error, "skip" => Skip });
keyword!(
    /// Declared type of a column.
    ColumnType, "column type", {
        "number" => Number, "string" => String, "bool" => Bool, "date" => Date, "datetime" => Datetime });
keyword!(
    /// How a KPI's values are formatted.
    Unit, "unit", {
        "currency" => Currency, "percent" => Percent, "count" => Count, "days" => Days,
        "hours" => Hours, "minutes" => Minutes, "ratio" => Ratio, "number" => Number });
keyword!(
    /// Whether higher (`up`) or lower (`down`) values are better.
    Direction, "direction", { "up" => Up, "down" => Down });
keyword!(
    /// Leading indicators predict; lagging ones record outcomes.
    Indicator, "indicator", { "leading" => Leading, "lagging" => Lagging });
keyword!(
    /// The moment of a period at which a stock KPI is taken.
    At, "moment", { "end" => End, "start" => Start });
keyword!(
    /// The expected path of a target through its period.
    Pacing, "pacing", { "linear" => Linear, "seasonal" => Seasonal });
keyword!(
    /// Status of a target.
    Status, "status", {
        "upcoming" => Upcoming, "on_track" => OnTrack, "at_risk" => AtRisk, "off_track" => OffTrack,
        "achieved" => Achieved, "missed" => Missed });

impl serde::Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[derive(Clone, Debug)]
pub struct Dataset {
    pub name: Name,
    /// A file or glob (`source: data/deals.csv`).
    pub source: Option<Text>,
    /// A table or query of a connection (`source: {connection: w, table: t}`).
    pub table: Option<TableSource>,
    pub format: Option<Spanned<Format>>,
    pub time: Option<Name>,
    pub columns: Vec<(Name, Spanned<ColumnType>)>,
    pub dimensions: Vec<(Name, ExprField)>,
    pub lookups: Vec<Lookup>,
    pub description: Option<Text>,
    /// How to read messy files (`read:`, LANGUAGE.md §2a).
    pub read: ReadOptions,
    /// Folder of the file that defines the dataset; sources are relative to it.
    pub base_dir: PathBuf,
}

/// A database the spec reads (`connections:`), reached through an ADBC driver.
#[derive(Clone, Debug)]
pub struct Connection {
    pub name: Name,
    /// A driver's short name (`postgresql`, `duckdb`, …) or a path to a driver library.
    pub driver: Option<Text>,
    /// Where the database is; `${VAR}` is read from the environment when connecting.
    pub uri: Option<Text>,
    /// The SQL dialect, for a driver given by path or one that serves several.
    pub dialect: Option<Spanned<Dialect>>,
    /// Driver options, `${VAR}` allowed.
    pub options: Vec<(Name, Text)>,
    /// Folder of the file that defines the connection: a driver library
    /// or a database file given by a relative path is found from it.
    pub base_dir: PathBuf,
}

/// A dataset's rows in a database: a table or a query of a connection.
#[derive(Clone, Debug)]
pub struct TableSource {
    pub connection: Name,
    pub table: Option<Text>,
    pub query: Option<Text>,
    pub span: Span,
}

keyword!(
    /// The SQL a connection speaks.
    Dialect, "SQL dialect", {
        "postgresql" => Postgres, "duckdb" => DuckDb, "snowflake" => Snowflake, "bigquery" => BigQuery,
        "spark" => Spark, "sqlite" => Sqlite });

/// The `read:` block of a dataset: options for files as people get them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReadOptions {
    /// The field separator (one character; default `,`).
    pub delimiter: Option<Spanned<char>>,
    /// Texts read as null, besides an empty field.
    pub null_values: Vec<Text>,
    /// Numbers written `1.234,50`.
    pub decimal_comma: bool,
    /// The character between thousands in numbers (`1,234.50`), removed
    /// before they are read.
    pub thousands: Option<Spanned<char>>,
    /// The currency symbol amounts are written with (`$1,200.50`), removed
    /// with the spaces beside it before they are read.
    pub currency: Option<Text>,
    /// A value written with `%` (`45%`) is read as its hundredth (0.45),
    /// as `45%` means in an expression.
    pub percent: bool,
    /// strftime formats of dates and datetimes written otherwise than ISO 8601.
    pub date_format: Option<Text>,
    pub datetime_format: Option<Text>,
    /// The zone whose dates count for datetimes written with a UTC offset.
    pub timezone: Option<Text>,
    pub encoding: Option<Spanned<Encoding>>,
    pub on_error: Option<Spanned<OnError>>,
}

impl Dataset {
    /// The source as a path: `${VAR}` expanded from the environment, relative
    /// to the spec file's folder. `None` without a `source:`.
    pub fn source_path(&self) -> Option<Result<PathBuf, super::env::ExpandError>> {
        let src = self.source.as_ref()?;
        Some(super::env::expand_env(&src.value).map(|s| {
            match (is_object_url(&s), s.strip_prefix("file://")) {
                (true, _) => PathBuf::from(s),
                // `file:///data/deals.csv` is the path `/data/deals.csv`.
                (false, Some(path)) => self.base_dir.join(path),
                (false, None) => self.base_dir.join(s),
            }
        }))
    }

    pub fn declared(&self, column: &str) -> Option<ColumnType> {
        self.columns
            .iter()
            .find(|(n, _)| n.value == column)
            .map(|(_, t)| t.value)
    }
}

/// Whether a source is in object storage (`s3://`, `gs://`, `az://`, …)
/// rather than a local path.
pub fn is_object_url(source: &str) -> bool {
    [
        "s3://", "s3a://", "gs://", "gcs://", "az://", "azure://", "abfs://", "abfss://",
    ]
    .iter()
    .any(|scheme| source.starts_with(scheme))
}

/// A many-to-one join: `left` of this dataset = `right` of `dataset`.
#[derive(Clone, Debug)]
pub struct Lookup {
    pub dataset: Name,
    pub left: Name,
    pub right: Name,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Segment {
    pub name: Name,
    pub filter: Option<ExprField>,
    pub title: Option<Text>,
    pub description: Option<Text>,
}

/// The interval during which a row of a stock KPI is active.
#[derive(Clone, Debug)]
pub struct Active {
    pub from: Name,
    pub to: Option<Name>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Kpi {
    pub name: Name,
    pub title: Option<Text>,
    pub description: Option<Text>,
    pub dataset: Option<Name>,
    pub measure: Option<ExprField>,
    pub filter: Option<ExprField>,
    pub time: Option<Name>,
    pub unit: Option<Spanned<Unit>>,
    pub decimals: Option<Spanned<u32>>,
    pub direction: Option<Spanned<Direction>>,
    pub indicator: Option<Spanned<Indicator>>,
    pub owner: Option<Text>,
    pub tags: Vec<Text>,
    pub active: Option<Active>,
    pub at: Option<Spanned<At>>,
}

impl Kpi {
    /// The title, or the name humanised (`win_rate` → "Win rate").
    pub fn display_title(&self) -> String {
        match &self.title {
            Some(t) => t.value.clone(),
            None => humanise(&self.name.value),
        }
    }

    pub fn direction(&self) -> Direction {
        self.direction.as_ref().map_or(Direction::Up, |d| d.value)
    }
}

pub fn humanise(name: &str) -> String {
    let spaced = name.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => spaced,
    }
}

/// The period of a target.
#[derive(Clone, Debug, PartialEq)]
pub enum PeriodSpec {
    /// `2025-Q3`, `2025-08`, `FY2026`, … (validated by the checker).
    Label(String),
    /// `{from: D, to: D}`, inclusive.
    Range { from: Date, to: Date },
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ChangeKind {
    /// `+15%`: relative to the baseline.
    Relative,
    /// `+5pp`: percentage points.
    Points,
    /// `-2`: in the KPI's own unit.
    Absolute,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Change {
    /// Signed; for `Relative` and `Points` as a fraction (`+15%` is 0.15, `+5pp` is 0.05).
    pub amount: f64,
    pub kind: ChangeKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Baseline {
    Previous,
    SameLastYear,
    Period(String),
}

#[derive(Clone, Debug)]
pub struct Target {
    pub name: Name,
    pub keys: WrittenKeys,
    pub kpi: Option<Name>,
    pub segment: Option<Name>,
    pub by: Option<Name>,
    pub period: Option<Spanned<PeriodSpec>>,
    pub every: Option<Spanned<Grain>>,
    pub value: Option<Spanned<f64>>,
    /// Whether `value` was written as a percent (`25%`), not a number (`25`).
    pub value_in_percent: bool,
    pub change: Option<Spanned<Change>>,
    pub baseline: Option<Spanned<Baseline>>,
    pub tolerance: Option<Spanned<f64>>,
    pub pacing: Option<Spanned<Pacing>>,
    pub objective: Option<Text>,
    pub owner: Option<Text>,
    pub description: Option<Text>,
}

/// The keys written in a mapping, even those whose value was invalid (so
/// one mistake is reported once: not also as a key missing).
#[derive(Clone, Debug, Default)]
pub struct WrittenKeys(pub Vec<String>);

impl WrittenKeys {
    pub fn has(&self, key: &str) -> bool {
        self.0.iter().any(|k| k == key)
    }
}

#[derive(Clone, Debug)]
pub struct FunnelStep {
    pub name: Name,
    pub filter: Option<ExprField>,
}

#[derive(Clone, Debug)]
pub struct Funnel {
    pub name: Name,
    pub dataset: Option<Name>,
    pub time: Option<Name>,
    pub steps: Vec<FunnelStep>,
    pub title: Option<Text>,
    pub description: Option<Text>,
}

/// A scalar written in a test's rows.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
}

pub type Row = Vec<(Name, Spanned<Value>)>;

#[derive(Clone, Debug)]
pub struct Test {
    pub name: Name,
    pub keys: WrittenKeys,
    pub kpi: Option<Name>,
    /// A funnel tested as a KPI is: its steps' rows against `expect`.
    pub funnel: Option<Name>,
    pub target: Option<Name>,
    pub grain: Option<Spanned<Grain>>,
    pub by: Vec<Name>,
    pub segment: Vec<Name>,
    pub period: Option<Spanned<PeriodSpec>>,
    pub as_of: Option<Spanned<Date>>,
    /// The member of a `by:` target whose status is tested (default: every member).
    pub member: Option<Text>,
    pub data: Vec<(Name, Vec<Row>, Span)>,
    pub expect: Vec<Row>,
    pub status: Option<Spanned<Status>>,
    pub tolerance: Option<Spanned<f64>>,
}
