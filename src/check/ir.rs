//! The checked model: names resolved, every expression typed. This is what
//! evaluation compiles; it holds no user errors.

use super::functions::{AggFn, RowFn, TimeFn};
use super::types::Type;
use crate::period::{Calendar, Grain, Period};
use crate::span::Span;
use crate::spec::model::{Change, Dialect, Direction, Format, Indicator, Pacing, Row, Status, Unit};
use crate::syntax::ast::{BinaryOp, UnaryOp};
use crate::time::{Date, DateTime};

pub type DatasetId = usize;
pub type KpiId = usize;

#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Number(f64),
    String(String),
    Bool(bool),
    Null,
    Date(Date),
    DateTime(DateTime),
}

/// A typed expression.
#[derive(Clone, Debug)]
pub struct TExpr {
    pub kind: TKind,
    pub ty: Type,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum TKind {
    Lit(Literal),
    /// A column of `dataset` (the KPI's own, or one it looks up).
    Column {
        dataset: DatasetId,
        name: String,
    },
    /// Another KPI's value (derived KPIs).
    Kpi(KpiId),
    Unary(UnaryOp, Box<TExpr>),
    Binary(BinaryOp, Box<TExpr>, Box<TExpr>),
    In {
        expr: Box<TExpr>,
        list: Vec<TExpr>,
        negated: bool,
    },
    Between {
        expr: Box<TExpr>,
        low: Box<TExpr>,
        high: Box<TExpr>,
    },
    IsNull {
        expr: Box<TExpr>,
        negated: bool,
    },
    If {
        branches: Vec<(TExpr, TExpr)>,
        otherwise: Box<TExpr>,
    },
    Row {
        func: RowFn,
        args: Vec<TExpr>,
    },
    Agg {
        func: AggFn,
        arg: Option<Box<TExpr>>,
        /// The `q` of `quantile(x, q)`.
        param: Option<f64>,
        filter: Option<Box<TExpr>>,
        /// Nested aggregation: evaluate `arg` per member of these dimensions first.
        per: Vec<String>,
    },
    Time {
        func: TimeFn,
        kpi: KpiId,
        n: u32,
        /// `prev(k, "year")`: the same period one calendar unit earlier,
        /// whatever the grain (instead of `n` periods).
        every: Option<crate::period::Grain>,
    },
    /// A column computed by an earlier evaluation step (an aggregate part);
    /// made by the planner, never by the checker.
    Part(String),
}

/// Calls `$f` on each direct child of a `TKind` (`&` with `iter`, `&mut` with `iter_mut`).
macro_rules! children {
    ($kind:expr, $f:ident, $iter:ident) => {
        match $kind {
            TKind::Lit(_) | TKind::Column { .. } | TKind::Kpi(_) | TKind::Time { .. } | TKind::Part(_) => {}
            TKind::Unary(_, e) | TKind::IsNull { expr: e, .. } => $f(e),
            TKind::Binary(_, a, b) => {
                $f(a);
                $f(b);
            }
            TKind::In { expr, list, .. } => {
                $f(expr);
                list.$iter().for_each($f);
            }
            TKind::Between { expr, low, high } => {
                $f(expr);
                $f(low);
                $f(high);
            }
            TKind::If { branches, otherwise } => {
                for (c, v) in branches.$iter() {
                    $f(c);
                    $f(v);
                }
                $f(otherwise);
            }
            TKind::Row { args, .. } => args.$iter().for_each($f),
            TKind::Agg { arg, filter, .. } => {
                if let Some(a) = arg {
                    $f(a);
                }
                if let Some(w) = filter {
                    $f(w);
                }
            }
        }
    };
}

impl TExpr {
    /// The number of nodes of the tree.
    pub fn size(&self) -> usize {
        let mut n = 1;
        self.for_each_child(|c| n += c.size());
        n
    }

    /// How deep the expression nests: 1 for a column or a literal.
    pub fn depth(&self) -> usize {
        let mut deepest = 0;
        self.for_each_child(|c| deepest = deepest.max(c.depth()));
        deepest + 1
    }

    pub fn for_each_child<'a>(&'a self, mut f: impl FnMut(&'a TExpr)) {
        children!(&self.kind, f, iter)
    }

    pub fn for_each_child_mut(&mut self, mut f: impl FnMut(&mut TExpr)) {
        children!(&mut self.kind, f, iter_mut)
    }

    /// Columns read, as (dataset, name), in first-use order.
    pub fn columns(&self, out: &mut Vec<(DatasetId, String)>) {
        if let TKind::Column { dataset, name } = &self.kind {
            if !out.iter().any(|(d, n)| d == dataset && n == name) {
                out.push((*dataset, name.clone()));
            }
        }
        self.for_each_child(|c| c.columns(out));
    }

    /// Whether a time function in the expression reads periods before the
    /// one computed (`growth(k, "year")`, `ytd(k)`; `cumulative(k)` starts
    /// with the range).
    pub fn reads_earlier_periods(&self) -> bool {
        let mut found = matches!(self.kind, TKind::Time { func, .. } if func != TimeFn::Cumulative);
        self.for_each_child(|c| found |= c.reads_earlier_periods());
        found
    }

    /// KPIs referenced, directly or through time functions.
    pub fn kpis(&self, out: &mut Vec<KpiId>) {
        match &self.kind {
            TKind::Kpi(k) | TKind::Time { kpi: k, .. } if !out.contains(k) => out.push(*k),
            _ => {}
        }
        self.for_each_child(|c| c.kpis(out));
    }
}

/// Whether a KPI can be summed across periods (and so paced linearly).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Additivity {
    /// A sum or count, or a sum of those.
    Additive,
    /// Ratios, averages, medians, distinct counts, stock levels.
    NonAdditive,
}

/// How a base KPI places rows in time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimeBasis {
    /// A flow: each row counts in the period of its time column.
    Column(String),
    /// A stock: a row is active from `from` until `to` (exclusive, null = still active).
    Active {
        from: String,
        to: Option<String>,
        at_start: bool,
    },
    /// No time column: the KPI can only be evaluated with `--grain all`.
    None,
}

#[derive(Clone, Debug)]
pub struct Dimension {
    pub name: String,
    pub expr: TExpr,
}

#[derive(Clone, Debug)]
pub struct LookupModel {
    pub dataset: DatasetId,
    pub left: String,
    pub right: String,
    pub span: crate::span::Span,
}

/// A database the spec reads, through an ADBC driver.
#[derive(Clone, Debug)]
pub struct ConnectionModel {
    pub name: String,
    /// A driver's short name or a path to a driver library.
    pub driver: String,
    /// As written: `${VAR}` is expanded when connecting, so secrets never
    /// sit in the model (or in anything printed from it).
    pub uri: Option<String>,
    pub dialect: Dialect,
    /// Driver options as written (`${VAR}` expanded when connecting).
    pub options: Vec<(String, String)>,
    pub span: Span,
    /// Folder of the spec file that defines it: a relative driver library
    /// or database file is found from there, as every path of a spec is.
    pub base_dir: std::path::PathBuf,
}

/// What a dataset reads in a database.
#[derive(Clone, Debug, PartialEq)]
pub enum Relation {
    /// A table or view, qualified as the database wants (`analytics.deals`).
    Table(String),
    /// The rows of a SELECT.
    Query(String),
}

impl Relation {
    /// The rows of the SELECT `text`, which kpi wraps as a subquery: the
    /// `;` people end a statement with is left off, with what may follow
    /// it (space, `-- comments`).
    pub fn query(text: &str) -> Relation {
        let mut q = text.trim_end();
        loop {
            let last = q.rfind('\n').map_or(0, |i| i + 1);
            if let Some(at) = line_comment_at(&q[last..]) {
                let code = q[..last + at].trim_end();
                // A comment after code stays (the subquery closes on a new
                // line), unless a `;` ends the code before it.
                if q[last..last + at].trim().is_empty() || code.ends_with(';') {
                    q = code;
                    continue;
                }
            }
            match q.strip_suffix(';') {
                Some(rest) => q = rest.trim_end(),
                None => break,
            }
        }
        Relation::Query(q.to_string())
    }
}

/// Where a `--` comment starts in a line of SQL, outside quotes.
fn line_comment_at(line: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut chars = line.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '-') if chars.peek().is_some_and(|(_, n)| *n == '-') => return Some(i),
            _ => {}
        }
    }
    None
}

/// A dataset whose rows are in a database.
#[derive(Clone, Debug)]
pub struct RemoteSource {
    pub connection: usize,
    pub relation: Relation,
}

/// Where a dataset's columns come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchemaState {
    /// `columns:` only: other names may still be columns of the data.
    Declared,
    /// Read from the data (with any declarations): unknown names are errors.
    Read,
    /// Neither: any name may be a column; the data decides at run time.
    Open,
}

#[derive(Clone, Debug)]
pub struct DatasetModel {
    pub name: String,
    /// The source path as written (a glob is allowed), resolved against the spec file's folder.
    pub source: std::path::PathBuf,
    pub source_text: String,
    pub format: Format,
    pub time: Option<String>,
    /// Known columns and their types (declared, and read from data with `--data`).
    pub columns: Vec<(String, Type)>,
    /// Columns whose type the spec declares.
    pub declared: Vec<(String, Type)>,
    /// Where each of `declared` is declared (its type), for diagnostics
    /// about the data that lacks it.
    pub declared_at: Vec<Span>,
    pub schema: SchemaState,
    pub dimensions: Vec<Dimension>,
    pub lookups: Vec<LookupModel>,
    pub span: Span,
    /// The `source:` field (the name when it has none).
    pub source_span: Span,
    /// How its files are read (`read:`).
    pub read: crate::spec::model::ReadOptions,
    /// A table or query of a connection instead of files.
    pub remote: Option<RemoteSource>,
}

impl DatasetModel {
    /// Its columns' and computed dimensions' names, for suggestions.
    pub fn names(&self) -> impl Iterator<Item = &str> + Clone {
        self.columns
            .iter()
            .map(|(c, _)| c.as_str())
            .chain(self.dimensions.iter().map(|x| x.name.as_str()))
    }
}

#[derive(Clone, Debug)]
pub enum KpiKind {
    Base {
        dataset: DatasetId,
        measure: TExpr,
        filter: Option<TExpr>,
        time: TimeBasis,
    },
    Derived {
        measure: TExpr,
    },
}

#[derive(Clone, Debug)]
pub struct KpiModel {
    pub name: String,
    pub title: String,
    pub description: Option<String>,
    pub unit: Option<Unit>,
    pub decimals: Option<u32>,
    pub direction: Direction,
    pub indicator: Option<Indicator>,
    pub owner: Option<String>,
    pub tags: Vec<String>,
    pub kind: KpiKind,
    pub ty: Type,
    pub additivity: Additivity,
    /// Rolling and to-date forms can be computed exactly from per-period parts.
    pub recombinable: bool,
    /// A point-in-time level (`active:`), directly or beneath.
    pub stock: bool,
    /// Base datasets beneath (itself for a base KPI).
    pub datasets: Vec<DatasetId>,
    pub span: Span,
    /// The measure as written, for listings.
    pub measure_text: String,
}

#[derive(Clone, Debug)]
pub struct SegmentModel {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub span: Span,
    /// The condition typed on each dataset whose columns it names (a
    /// segment is not tied to one dataset).
    pub on: Vec<(DatasetId, TExpr)>,
    /// Each dataset it cannot apply to, with the first name it lacks.
    pub missing: Vec<(DatasetId, String)>,
}

/// A funnel with its steps' conditions typed on its dataset.
/// A funnel's columns holding numbers, with their units: per step of a
/// group and period, in `kpi eval`'s output and a funnel test's rows.
pub const FUNNEL_MEASURES: [(&str, crate::spec::model::Unit); 4] = [
    ("count", crate::spec::model::Unit::Count),
    ("conversion", crate::spec::model::Unit::Percent),
    ("conversion_from_start", crate::spec::model::Unit::Percent),
    ("leakage", crate::spec::model::Unit::Percent),
];

#[derive(Clone, Debug)]
pub struct FunnelModel {
    pub name: String,
    /// The title, or the name humanised (`lead_funnel` → "Lead funnel"), as a KPI's.
    pub title: String,
    pub description: Option<String>,
    pub dataset: DatasetId,
    pub time: TimeBasis,
    /// Each step's name and condition (on top of every earlier step's).
    pub steps: Vec<(String, Option<TExpr>)>,
}

/// When a target applies.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TargetTime {
    /// One period: a label's (with its grain) or a `{from, to}` range (no grain).
    Fixed { period: Period, grain: Option<Grain> },
    /// `every: month`: each period of the grain.
    Every(Grain),
}

/// The period a `change` is measured from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BaselinePeriod {
    /// The period before the target's (the default).
    Previous,
    /// The target's period a year earlier.
    SameLastYear,
    /// A fixed period (`baseline: 2025-Q1`).
    Fixed(Period),
}

impl BaselinePeriod {
    /// The baseline of the target period `p` (of `grain`, when it has one).
    pub fn of(self, p: Period, grain: Option<Grain>, cal: &Calendar) -> Period {
        match self {
            BaselinePeriod::Previous => crate::period::previous(p, grain, cal),
            BaselinePeriod::SameLastYear => crate::period::year_before(p, grain, cal),
            BaselinePeriod::Fixed(b) => b,
        }
    }
}

/// What a target asks for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Goal {
    /// A level to reach (`value:`).
    Value(f64),
    /// A change from a baseline (`change:`).
    Change {
        change: Change,
        baseline: BaselinePeriod,
    },
}

/// A target whose every part checked: its KPI, segment and member
/// dimension exist and fit, its period and baseline are resolved.
#[derive(Clone, Debug)]
pub struct TargetModel {
    pub name: String,
    pub kpi: KpiId,
    pub segment: Option<String>,
    /// The dimension of a per-member target (`by: owner`).
    pub by: Option<String>,
    pub time: TargetTime,
    pub goal: Goal,
    /// The band around the expected pace that is still at risk, not off track.
    pub tolerance: f64,
    pub pacing: Pacing,
    pub objective: Option<String>,
    pub owner: Option<String>,
    pub description: Option<String>,
    pub span: Span,
    /// Where the goal (`value` or `change`) is written.
    pub goal_span: Span,
    /// Where `baseline` is written, if it is.
    pub baseline_span: Option<Span>,
}

/// A test of the spec (`tests:`), its period resolved.
#[derive(Clone, Debug)]
pub struct TestModel {
    pub name: String,
    pub span: Span,
    pub kpi: Option<String>,
    pub funnel: Option<String>,
    pub target: Option<String>,
    pub grain: Grain,
    pub by: Vec<String>,
    pub segments: Vec<String>,
    pub range: Option<Period>,
    pub as_of: Option<Date>,
    /// The member of a `by:` target whose status is tested (`None`: every member).
    pub member: Option<String>,
    /// Inline rows replacing each named dataset.
    pub data: Vec<(String, Vec<Row>)>,
    pub expect: Vec<Row>,
    pub status: Option<Status>,
    pub tolerance: Option<f64>,
}

/// The checked spec.
#[derive(Clone, Debug, Default)]
pub struct Model {
    pub calendar: Calendar,
    pub connections: Vec<ConnectionModel>,
    pub datasets: Vec<DatasetModel>,
    pub segments: Vec<SegmentModel>,
    pub funnels: Vec<FunnelModel>,
    pub kpis: Vec<KpiModel>,
    /// KPIs in dependency order (each after those it refers to).
    pub order: Vec<KpiId>,
    pub targets: Vec<TargetModel>,
    pub tests: Vec<TestModel>,
}

impl Model {
    pub fn kpi_id(&self, name: &str) -> Option<KpiId> {
        self.kpis.iter().position(|k| k.name == name)
    }

    /// Each KPI's id by its name (the first, were a name defined twice):
    /// for finding many KPIs, where [`Self::kpi_id`] for each would search
    /// the KPIs once per name (a query of every KPI names thousands).
    pub fn kpi_index(&self) -> std::collections::HashMap<&str, KpiId> {
        let mut index = std::collections::HashMap::with_capacity(self.kpis.len());
        for (id, k) in self.kpis.iter().enumerate() {
            index.entry(k.name.as_str()).or_insert(id);
        }
        index
    }

    /// The id of each of `names`, `None` for a name no KPI has: a few
    /// searched for (a target's KPI, asked of each of a thousand targets),
    /// more through an index.
    pub fn kpi_ids(&self, names: &[String]) -> Vec<Option<KpiId>> {
        if names.len() <= 4 {
            return names.iter().map(|n| self.kpi_id(n)).collect();
        }
        let index = self.kpi_index();
        names.iter().map(|n| index.get(n.as_str()).copied()).collect()
    }

    pub fn dataset_id(&self, name: &str) -> Option<DatasetId> {
        self.datasets.iter().position(|d| d.name == name)
    }

    /// Whether some dataset is on a connection (a database), not in files.
    pub fn has_connections(&self) -> bool {
        self.datasets.iter().any(|d| d.remote.is_some())
    }

    /// Whether each dataset's columns were read from its data.
    pub fn closed(&self) -> Vec<bool> {
        self.datasets
            .iter()
            .map(|d| d.schema == SchemaState::Read)
            .collect()
    }

    /// Every KPI `outputs` need, themselves included, by id.
    pub fn needed_by(&self, outputs: &[KpiId]) -> Vec<bool> {
        let mut needed = vec![false; self.kpis.len()];
        let mut stack = outputs.to_vec();
        while let Some(k) = stack.pop() {
            if std::mem::replace(&mut needed[k], true) {
                continue;
            }
            if let KpiKind::Derived { measure } = &self.kpis[k].kind {
                let mut refs = Vec::new();
                measure.kpis(&mut refs);
                stack.extend(refs);
            }
        }
        needed
    }

    /// For each KPI, whether it or a KPI beneath it has a time function
    /// that reads periods before the one computed: one walk of the
    /// dependency order, each KPI's references already known.
    pub fn looking_back(&self) -> Vec<bool> {
        let mut flags = vec![false; self.kpis.len()];
        for &k in &self.order {
            if let KpiKind::Derived { measure } = &self.kpis[k].kind {
                let mut refs = Vec::new();
                measure.kpis(&mut refs);
                flags[k] = measure.reads_earlier_periods() || refs.iter().any(|r| flags[*r]);
            }
        }
        flags
    }

    /// Whether any of `kpis` (every KPI when empty) looks back ([`Model::looking_back`]).
    pub fn looks_back(&self, kpis: &[KpiId]) -> bool {
        let flags = self.looking_back();
        match kpis.is_empty() {
            true => flags.contains(&true),
            false => kpis.iter().any(|k| flags.get(*k) == Some(&true)),
        }
    }

    /// The base KPIs beneath `kpis`, by id in order. Only the KPIs beneath
    /// are visited: this is asked of each KPI of a spec in turn.
    pub fn bases_beneath(&self, kpis: &[KpiId]) -> Vec<KpiId> {
        let mut seen = std::collections::HashSet::new();
        let mut bases = Vec::new();
        let mut stack = kpis.to_vec();
        while let Some(k) = stack.pop() {
            if !seen.insert(k) {
                continue;
            }
            match &self.kpis[k].kind {
                KpiKind::Base { .. } => bases.push(k),
                KpiKind::Derived { measure } => {
                    let mut refs = Vec::new();
                    measure.kpis(&mut refs);
                    stack.extend(refs);
                }
            }
        }
        bases.sort_unstable();
        bases
    }

    /// The datasets a query of `kpis` and of the funnels `funnels` reads:
    /// those beneath the KPIs, the funnels', and those they look up.
    pub fn datasets_read(&self, kpis: &[KpiId], funnels: &[usize]) -> Vec<bool> {
        let bases = self
            .bases_beneath(kpis)
            .into_iter()
            .filter_map(|k| match &self.kpis[k].kind {
                KpiKind::Base { dataset, .. } => Some(*dataset),
                KpiKind::Derived { .. } => None,
            });
        let mut stack: Vec<DatasetId> = bases
            .chain(funnels.iter().map(|&f| self.funnels[f].dataset))
            .collect();
        let mut read = vec![false; self.datasets.len()];
        while let Some(d) = stack.pop() {
            if !std::mem::replace(&mut read[d], true) {
                stack.extend(self.datasets[d].lookups.iter().map(|l| l.dataset));
            }
        }
        read
    }

    pub fn target(&self, name: &str) -> Option<&TargetModel> {
        self.targets.iter().find(|t| t.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::Relation;

    fn query(text: &str) -> String {
        match Relation::query(text) {
            Relation::Query(q) => q,
            Relation::Table(t) => t,
        }
    }

    /// What a statement ends with, left off; what it says, kept.
    #[test]
    fn a_query_ends_where_its_statement_does() {
        for (text, want) in [
            ("select 1", "select 1"),
            ("select 1;  \n", "select 1"),
            ("select 1; -- totals", "select 1"),
            ("select 1;\n-- a\n  -- b\n", "select 1"),
            ("select 1;;", "select 1"),
            // A comment after code, without `;`, stays: the subquery
            // closes on a new line.
            ("select 1 -- totals", "select 1 -- totals"),
            ("select 1\n-- done", "select 1"),
            // Dashes inside quotes are no comment.
            ("select '--;' as x;", "select '--;' as x"),
            ("select 'a' as x -- it's", "select 'a' as x -- it's"),
        ] {
            assert_eq!(query(text), want, "{text:?}");
        }
    }
}
