//! Result tables of `kpi eval` and funnels, and their Parquet files: the
//! one place an evaluation becomes cells with number formats.

use std::collections::{HashMap, HashSet};

use polars::prelude::*;

use polars_arrow::array::{Array, PrimitiveArray, Utf8ViewArray};

use super::table::{Cell, CellRef, Cells, NumberFormat, ResultTable};
use crate::check::functions::{AggFn, TimeFn};
use crate::check::ir::{KpiId, KpiKind, KpiModel, Model, TExpr, TKind};
use crate::execute::{Evaluation, FunnelEvaluation};
use crate::syntax::ast::{BinaryOp, UnaryOp};

impl Evaluation {
    /// The rows as an engine-independent table, with each KPI's unit.
    pub fn table(&self, model: &Model) -> ResultTable {
        ResultTable::from_cells(&self.cells(model))
    }

    /// The rows as [`Self::table`] has them, read where they are.
    pub fn cells(&self, model: &Model) -> FrameCells {
        let columns = KpiColumns::new(self, model);
        FrameCells::new(&self.shown(&columns, true), |c| columns.format_of(c))
    }

    /// The rows with every KPI column as the number it is computed as (a
    /// date KPI as days since 1970), so that only the dimensions and the
    /// period are texts: for comparing two evaluations value by value.
    pub fn numbers(&self, model: &Model) -> ResultTable {
        let columns = KpiColumns::new(self, model);
        ResultTable::from_cells(&FrameCells::new(&self.frame, |c| {
            columns
                .format_of(c)
                .or_else(|| columns.part_of(c).map(|_| NumberFormat::new(None, None)))
        }))
    }

    /// The frame as shown. A KPI whose value is a date or datetime
    /// (`max(closed_at)`: the day of the last close) is computed as a
    /// number of days or microseconds since 1970, and shown as the date or
    /// datetime (as text in a table, typed in Parquet), its earlier value
    /// too; its change is a number of days, and it has no relative change.
    fn shown(&self, columns: &KpiColumns, as_text: bool) -> DataFrame {
        use crate::check::types::Type;
        let temporal: Vec<Expr> = self
            .frame
            .get_column_names()
            .into_iter()
            .filter_map(|c| {
                let (kpi, part) = columns.part_of(c.as_str())?;
                let ty = columns.kpi(kpi)?.ty;
                let x = col(c.as_str());
                let shown = match (ty, part) {
                    (Type::Date, "" | "_compare") => {
                        let day = x.cast(DataType::Int32).cast(DataType::Date);
                        if as_text {
                            day.dt().to_string("%Y-%m-%d")
                        } else {
                            day
                        }
                    }
                    (Type::Datetime, "" | "_compare") => {
                        let at = x
                            .cast(DataType::Int64)
                            .cast(DataType::Datetime(TimeUnit::Microseconds, None));
                        if as_text {
                            at.dt().to_string("%Y-%m-%dT%H:%M:%S%.f")
                        } else {
                            at
                        }
                    }
                    (Type::Datetime, "_change") => {
                        crate::data::divide(x, lit(crate::report::table::units_per_day(ty)?))
                    }
                    (Type::Date | Type::Datetime, "_change_pct") => lit(NULL).cast(DataType::Float64),
                    _ => return None,
                };
                Some(shown.alias(c.as_str()))
            })
            .collect();
        if temporal.is_empty() {
            return self.frame.clone();
        }
        // Casts of numbers Polars made itself: were one to fail, the
        // numbers are shown as they are.
        self.frame
            .clone()
            .lazy()
            .with_columns(temporal)
            .collect()
            .unwrap_or_else(|_| self.frame.clone())
    }

    /// Writes the frame as Parquet (raw values; counts as integers) to `w`.
    pub fn write_parquet(&self, model: &Model, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        let columns = KpiColumns::new(self, model);
        write_frame(&self.shown(&columns, false), |c| columns.format_of(c), w)
    }
}

/// The KPIs of an evaluation's columns, found by name: a result of
/// thousands of KPIs has thousands of columns, each looked up once rather
/// than searched for among the KPIs.
struct KpiColumns<'a> {
    model: &'a Model,
    /// The evaluation's KPIs.
    kpis: HashSet<&'a str>,
    /// The model's KPIs by name.
    ids: HashMap<&'a str, KpiId>,
    compare: bool,
}

impl<'a> KpiColumns<'a> {
    fn new(e: &'a Evaluation, model: &'a Model) -> KpiColumns<'a> {
        KpiColumns {
            model,
            kpis: e.kpis.iter().map(String::as_str).collect(),
            ids: model.kpi_index(),
            compare: e.compare,
        }
    }

    fn kpi(&self, name: &str) -> Option<&'a KpiModel> {
        self.model.kpis.get(*self.ids.get(name)?)
    }

    /// The KPI output column `column` is part of, and which part it is: the
    /// KPI's value, or beside it under `--compare` the earlier value
    /// (`_compare`), the change (`_change`) or the relative change
    /// (`_change_pct`). A KPI's own name wins over a suffix.
    fn part_of<'c>(&self, column: &'c str) -> Option<(&'c str, &'static str)> {
        if self.kpis.contains(column) {
            return Some((column, ""));
        }
        if !self.compare {
            return None;
        }
        ["_change_pct", "_change", "_compare"]
            .into_iter()
            .find_map(|suffix| {
                let k = column.strip_suffix(suffix)?;
                self.kpis.contains(k).then_some((k, suffix))
            })
    }

    /// How a column of the frame reads: a KPI by its unit; beside it under
    /// `--compare`, the earlier value and the change by the same unit (the
    /// change of a percentage in points), the relative change in percent.
    /// A date or datetime KPI's value is text (see [`Evaluation::shown`]),
    /// its change a number of days.
    fn format_of(&self, column: &str) -> Option<NumberFormat> {
        use crate::spec::model::Unit;
        let (name, part) = self.part_of(column)?;
        let k = self.kpi(name)?;
        let model = self.model;
        let own = NumberFormat {
            count: is_count(model, &k.kind),
            ..NumberFormat::new(k.unit, k.decimals)
        };
        match (k.ty.is_temporal(), part) {
            (true, "" | "_compare") => None,
            (true, "_change") => Some(NumberFormat::new(None, Some(1))),
            (_, "_change_pct") => Some(NumberFormat::new(Some(Unit::Percent), Some(1))),
            (_, "_change") => Some(NumberFormat {
                points: own.unit == Some(Unit::Percent),
                ..own
            }),
            _ => Some(own),
        }
    }
}

/// Whether a KPI's values are whole numbers by its measure: a count of
/// rows, values or members (`count(per owner where …)`), another count's
/// earlier, running or windowed value (`prev`, `diff`, `rolling`,
/// `cumulative`, the to-date forms; not `growth`), or sums and differences
/// of those.
fn is_count(model: &Model, kind: &KpiKind) -> bool {
    match kind {
        KpiKind::Base { measure, .. } | KpiKind::Derived { measure } => counts(model, measure),
    }
}

fn counts(model: &Model, e: &TExpr) -> bool {
    let kpi_counts = |k: &KpiId| model.kpis.get(*k).is_some_and(|k| is_count(model, &k.kind));
    match &e.kind {
        TKind::Agg {
            func: AggFn::Count | AggFn::CountDistinct,
            ..
        } => true,
        TKind::Agg {
            func: AggFn::Sum,
            arg: Some(arg),
            per,
            ..
        } if !per.is_empty() => counts(model, arg),
        TKind::Kpi(k) => kpi_counts(k),
        TKind::Time { func, kpi, .. } => *func != TimeFn::Growth && kpi_counts(kpi),
        TKind::Binary(BinaryOp::Add | BinaryOp::Sub, a, b) => counts(model, a) && counts(model, b),
        TKind::Unary(UnaryOp::Neg, a) => counts(model, a),
        _ => false,
    }
}

/// A frame's columns as the text formats and tables read them, each as
/// one typed array, without a cell made for each value.
pub struct FrameCells {
    columns: Vec<String>,
    formats: Vec<Option<NumberFormat>>,
    values: Vec<Values>,
    height: usize,
}

/// One column's values: numbers (non-finite ones read as empty) or texts.
enum Values {
    Number(PrimitiveArray<f64>),
    Text(Utf8ViewArray),
    /// A column that could not be read as its kind: empty cells.
    Unreadable,
}

impl FrameCells {
    /// The frame's columns (not the engine's own, `__…`); `format_of`
    /// gives how each number column reads (`None`: a text column).
    fn new(frame: &DataFrame, format_of: impl Fn(&str) -> Option<NumberFormat>) -> FrameCells {
        let columns: Vec<String> = frame
            .get_column_names()
            .iter()
            .map(|c| c.to_string())
            .filter(|c| !c.starts_with("__"))
            .collect();
        let formats: Vec<Option<NumberFormat>> = columns.iter().map(|c| format_of(c)).collect();
        let values: Vec<Values> = columns
            .iter()
            .zip(&formats)
            .map(|(name, f)| {
                frame
                    .column(name)
                    .ok()
                    .and_then(|c| values_of(c, f.is_some()))
                    .unwrap_or(Values::Unreadable)
            })
            .collect();
        let formats = formats
            .into_iter()
            .zip(&values)
            .map(|(f, v)| match v {
                Values::Number(a) => f.map(|f| f.for_column(a.non_null_values_iter())),
                _ => f,
            })
            .collect();
        FrameCells {
            columns,
            formats,
            values,
            height: frame.height(),
        }
    }
}

/// A column as one array of its kind.
fn values_of(c: &Column, number: bool) -> Option<Values> {
    let values = if number {
        let v = c
            .cast(&DataType::Float64)
            .ok()?
            .f64()
            .ok()?
            .rechunk()
            .into_owned();
        let array = v.downcast_iter().next()?.clone();
        Values::Number(array)
    } else {
        let v = c.cast(&DataType::String).ok()?.str().ok()?.rechunk().into_owned();
        let array = v.downcast_iter().next()?.clone();
        Values::Text(array)
    };
    Some(values)
}

impl Cells for FrameCells {
    fn columns(&self) -> &[String] {
        &self.columns
    }

    fn formats(&self) -> &[Option<NumberFormat>] {
        &self.formats
    }

    fn height(&self) -> usize {
        self.height
    }

    fn cell(&self, row: usize, column: usize) -> CellRef<'_> {
        let number = self.formats.get(column).is_some_and(Option::is_some);
        match self.values.get(column) {
            Some(Values::Number(a)) if row < a.len() => {
                CellRef::Number(a.is_valid(row).then(|| a.value(row)).filter(|x| x.is_finite()))
            }
            Some(Values::Text(a)) if row < a.len() => CellRef::Text(a.is_valid(row).then(|| a.value(row))),
            _ if number => CellRef::Number(None),
            _ => CellRef::Text(None),
        }
    }
}

/// Writes a frame as Parquet to `w`: count columns whose values are all
/// whole numbers as integers, and a zero of a negative value (`-sum(x)` of
/// nothing, `round(-0.4)`) as 0, as the text formats write it (see
/// [`super::table::raw_number`]). `period` stays the label, as in every
/// format (a week, quarter or fiscal period is no single date).
fn write_frame(
    frame: &DataFrame,
    format_of: impl Fn(&str) -> Option<NumberFormat>,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let mut select = Vec::new();
    for c in frame.columns() {
        let name = c.name().as_str();
        let whole = format_of(name).is_some_and(|f| f.integer())
            && c.f64()
                .is_ok_and(|x| crate::execute::count_values(x, |v| !super::table::is_whole(v)) == 0);
        let number = format_of(name).is_some() && c.dtype() == &DataType::Float64;
        select.push(match (whole, number) {
            (true, _) => col(name).cast(DataType::Int64),
            // -0 equals 0, so this keeps every other value as it is.
            (false, true) => when(col(name).eq(lit(0.0)))
                .then(lit(0.0))
                .otherwise(col(name))
                .alias(name),
            (false, false) => col(name),
        });
    }
    let df = frame
        .clone()
        .lazy()
        .select(select)
        .collect()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    // Snappy, as Spark, DuckDB and pyarrow write by default: every Parquet
    // reader has it, and it writes a few times faster than zstd, for result
    // files about a third larger.
    super::parquet::write_parquet(&df, w).map_err(|e| std::io::Error::other(e.to_string()))
}

impl FunnelEvaluation {
    /// The rows as an engine-independent table, formatted by measure.
    pub fn table(&self) -> crate::report::table::ResultTable {
        ResultTable::from_cells(&self.cells())
    }

    /// The rows as [`Self::table`] has them, read where they are.
    pub fn cells(&self) -> FrameCells {
        FrameCells::new(&self.frame, measure_format)
    }

    /// Writes the frame as Parquet (raw values; counts as integers) to `w`.
    pub fn write_parquet(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        write_frame(&self.frame, measure_format, w)
    }
}

impl ResultTable {
    /// Writes the table as Parquet (raw values: number columns as floats,
    /// the others as texts) to `w`, as an evaluation's frame is written.
    pub fn write_parquet(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        let number = |i: usize| self.formats.get(i).copied().flatten();
        let columns: Vec<Column> = (self.columns.iter().enumerate())
            .map(|(i, name)| {
                let cells = self.rows.iter().map(move |r| r.get(i));
                match number(i) {
                    Some(_) => Column::new(
                        name.as_str().into(),
                        cells
                            .map(|c| match c {
                                Some(Cell::Number(x)) => x.filter(|x| x.is_finite()),
                                _ => None,
                            })
                            .collect::<Vec<Option<f64>>>(),
                    ),
                    None => Column::new(
                        name.as_str().into(),
                        cells
                            .map(|c| match c {
                                Some(Cell::Text(t)) => t.as_deref(),
                                _ => None,
                            })
                            .collect::<Vec<Option<&str>>>(),
                    ),
                }
            })
            .collect();
        let frame =
            DataFrame::new(self.rows.len(), columns).map_err(|e| std::io::Error::other(e.to_string()))?;
        let format_of = |c: &str| self.columns.iter().position(|n| n == c).and_then(number);
        write_frame(&frame, format_of, w)
    }
}

fn measure_format(column: &str) -> Option<NumberFormat> {
    crate::execute::FUNNEL_MEASURES
        .iter()
        .find(|(m, _)| *m == column)
        .map(|(_, u)| NumberFormat::new(Some(*u), None))
}
