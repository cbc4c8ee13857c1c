//! A unit's parts as aggregations of plain columns: by Polars' group-by,
//! or as the inputs and outputs of the hand-written one
//! ([`super::accumulate`]).
//!
//! Every distinct filter and every distinct blanked value is computed once,
//! as a column, before the group-by: parts that share a condition (`where
//! stage == "won"`) or a value (the sum and the count of an average) read
//! the same column, and the group-by aggregates columns, its fastest path
//! (an expression inside an aggregation is evaluated group by group). A part
//! that two KPIs both have is aggregated once and copied under its second
//! name after the group-by.

use polars::prelude::*;

use super::accumulate::{Output, Reduce};
use crate::check::functions::AggFn;
use crate::check::types::Type;
use crate::compile::{self, Cx};
use crate::plan::Part;

/// The aggregations of a list of parts.
pub(crate) struct PartAggs {
    /// The filter columns (`__c0`, …).
    filters: Vec<Expr>,
    /// The blanked-value columns (`__v0`, …), which may read the filters.
    values: Vec<Expr>,
    /// Each distinct part: its function, name, row values, and aggregation.
    distinct: Vec<Distinct>,
    /// Parts computed under a second name, after the group-by.
    pub copies: Vec<Expr>,
}

struct Distinct {
    func: AggFn,
    name: String,
    /// The part's filter column, if any.
    filter: Option<Expr>,
    /// Whether it counts rows (`count()`, no argument).
    rows: bool,
    /// Its value on every row, not blanked by the filter.
    unfiltered: Expr,
    /// Whether that value reads a column (`sum(1)` reads none).
    reads_column: bool,
    /// A quantile's probability.
    param: Option<f64>,
    agg: Expr,
}

pub(crate) fn part_aggs(cx: &Cx, parts: &[Part]) -> PartAggs {
    let mut conditions: Interned<Expr> = Interned::default();
    let mut values: Interned<Expr> = Interned::default();
    let mut aggs: Interned<Expr> = Interned::default();
    let mut distinct: Vec<Distinct> = Vec::new();
    let mut copies = Vec::new();
    for p in parts {
        let filter = p
            .filter
            .as_ref()
            .map(|c| once(&mut conditions, cx.condition(c), "__c"));
        let value = match p.arg {
            Some(_) => {
                let v = cx.part_value(p, filter.as_ref());
                if matches!(v, Expr::Column(_)) {
                    v
                } else {
                    once(&mut values, v, "__v")
                }
            }
            None => lit(NULL),
        };
        let agg = compile::aggregate_part(p, filter.clone(), value.clone());
        match distinct.get(aggs.index_of(agg.clone())) {
            Some(first) => copies.push(col(first.name.as_str()).alias(p.name.as_str())),
            None => distinct.push(Distinct {
                func: p.func,
                name: p.name.clone(),
                unfiltered: cx.part_value(p, None),
                reads_column: p.arg.as_ref().is_some_and(|a| {
                    let mut columns = Vec::new();
                    a.columns(&mut columns);
                    !columns.is_empty()
                }),
                param: p.param,
                filter,
                rows: p.arg.is_none(),
                agg,
            }),
        }
    }
    let named = |list: Interned<Expr>, prefix: &str| -> Vec<Expr> {
        (list.items.into_iter())
            .enumerate()
            .map(|(i, e)| e.alias(format!("{prefix}{i}")))
            .collect()
    };
    PartAggs {
        filters: named(conditions, "__c"),
        values: named(values, "__v"),
        distinct,
        copies,
    }
}

impl PartAggs {
    /// The rows with the filter and value columns the aggregations read.
    pub fn add_columns(&self, rows: LazyFrame) -> LazyFrame {
        let rows = self.add_filters(rows);
        match self.values.is_empty() {
            true => rows,
            false => rows.with_columns(self.values.clone()),
        }
    }

    /// The rows with the filter columns alone (for the hand-written group-by).
    pub fn add_filters(&self, rows: LazyFrame) -> LazyFrame {
        match self.filters.is_empty() {
            true => rows,
            false => rows.with_columns(self.filters.clone()),
        }
    }

    /// Each part aggregated over all rows.
    pub fn whole(&self) -> Vec<Expr> {
        self.distinct
            .iter()
            .map(|d| d.agg.clone().alias(d.name.as_str()))
            .collect()
    }

    /// Each part as an output of the hand-written group-by, and the
    /// input columns they read (`__in0`, …: values, not blanked, and
    /// filters); `None` when a part is not a count, sum, minimum or maximum.
    /// Read the rows with [`PartAggs::add_filters`].
    pub fn by_hand(&self) -> Option<(Vec<Output>, Vec<Expr>)> {
        let mut inputs: Interned<Expr> = Interned::default();
        let mut outputs = Vec::with_capacity(self.distinct.len());
        for d in &self.distinct {
            let reduce = reduce_of(d.func, d.rows, d.param)?;
            let mut column = |e: &Expr| input_col(inputs.index_of(e.clone()));
            outputs.push(Output {
                name: d.name.clone(),
                reduce,
                input: (!d.rows).then(|| column(&d.unfiltered)),
                filter: d.filter.as_ref().map(&mut column),
                float: true,
            });
        }
        let inputs = (inputs.items.into_iter())
            .enumerate()
            .map(|(i, e)| e.alias(input_col(i)))
            .collect();
        Some((outputs, inputs))
    }

    /// Whether some input of [`PartAggs::by_hand`] reads the rows: a
    /// filter column, or a value of a column. Inputs that are constants
    /// alone (`sum(1)`, `count(2)`) are one value, not one per row.
    pub fn inputs_read_rows(&self) -> bool {
        self.distinct
            .iter()
            .any(|d| d.filter.is_some() || (!d.rows && d.reads_column))
    }
}

/// The name of the hand-written group-by's `i`th input column.
pub(crate) fn input_col(i: usize) -> String {
    format!("__in{i}")
}

/// What the hand-written group-by does for an aggregate (`rows`: a count
/// of rows rather than of values; `param`: a quantile's), if it can.
fn reduce_of(func: AggFn, rows: bool, param: Option<f64>) -> Option<Reduce> {
    Some(match func {
        AggFn::Count if rows => Reduce::Rows,
        AggFn::Count => Reduce::Valid,
        AggFn::Sum => Reduce::Sum,
        AggFn::Min => Reduce::Min,
        AggFn::Max => Reduce::Max,
        AggFn::CountDistinct => Reduce::Distinct,
        AggFn::Median => Reduce::Quantile(0.5),
        AggFn::Quantile => Reduce::Quantile(param.unwrap_or(0.5)),
        _ => return None,
    })
}

/// Whether the hand-written group-by can take a unit's parts: those
/// [`reduce_of`] takes, minimums and maximums only of numbers, dates and
/// times (not of text).
pub(crate) fn by_hand_fits(parts: &[Part]) -> bool {
    parts.iter().all(|p| {
        let typed = |a: &crate::check::ir::TExpr| {
            matches!(a.ty, Type::Number | Type::Bool | Type::Date | Type::Datetime)
        };
        reduce_of(p.func, false, None).is_some()
            && (!matches!(p.func, AggFn::Min | AggFn::Max) || p.arg.as_ref().is_some_and(typed))
    })
}

/// A column computing `e`, shared with every earlier use of the same expression.
fn once(list: &mut Interned<Expr>, e: Expr, prefix: &str) -> Expr {
    col(format!("{prefix}{}", list.index_of(e)))
}

/// Distinct items in the order they first come, each found by its text:
/// searching the list for each new one made a spec of thousands of KPIs
/// quadratic (4,000 took 2.7 s), and Polars' hash of an expression leaves
/// out its literals (`stage == "won"` and `stage == "lost"` hash alike).
/// Items of one text are told apart by `==`, never merged by their text:
/// Polars compares kpi's own row functions by identity (one object per
/// kind for those that capture nothing, `/`, `days_between`), and two
/// `round`s of one text may round to different digits.
pub(crate) struct Interned<T> {
    items: Vec<T>,
    by_text: std::collections::HashMap<String, Vec<usize>>,
}

impl<T> Default for Interned<T> {
    fn default() -> Self {
        Interned {
            items: Vec::new(),
            by_text: std::collections::HashMap::new(),
        }
    }
}

impl<T: PartialEq + std::fmt::Debug> Interned<T> {
    /// The position of `x`, added at the end the first time.
    pub(crate) fn index_of(&mut self, x: T) -> usize {
        let same = self.by_text.entry(format!("{x:?}")).or_default();
        // Alike items are found among the first few of their text (kpi's
        // row functions that capture nothing are one object each); a
        // thousand `round(x, 2)`s, each of its own, are not compared with
        // each other: an item left apart is computed twice, never wrongly.
        if let Some(&i) = same.iter().take(MAX_ALIKE).find(|&&i| self.items[i] == x) {
            return i;
        }

        same.push(self.items.len());
        self.items.push(x);
        self.items.len() - 1
    }
}

/// How many items of one text an item is compared with.
const MAX_ALIKE: usize = 8;

/// The position of `x` in `list`, added at the end the first time.
pub(crate) fn index_in<T: PartialEq>(list: &mut Vec<T>, x: T) -> usize {
    match list.iter().position(|y| *y == x) {
        Some(i) => i,
        None => {
            list.push(x);
            list.len() - 1
        }
    }
}
