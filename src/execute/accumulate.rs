//! A hand-written group-by for units whose parts are counts, sums,
//! minimums and maximums. Polars computes each row's keys and part inputs
//! (filters, blanked values, the day of its time column); this module then
//! finds each row's group with one hash of its key and adds the row to
//! every part's accumulator, batch after batch in file order.
//!
//! Why by hand: Polars' in-memory group-by gathers each aggregated column
//! group by group, so every part costs another pass through memory, and
//! keys of a text and a date are compared as encoded rows. Here a part
//! costs one tight loop over its column. Sums are Kahan sums in row order,
//! as Polars' in-memory group-by adds them, so the numbers are the same to
//! the last digit however the rows are split into batches (see
//! [`super::chunks`]).

use polars::prelude::*;

use super::{dim_col, ONE, PERIOD};
use crate::keyword::Keyword;
use crate::period::{self, Calendar, Grain};
use crate::time::Date;

/// What a part does with its input column.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Reduce {
    /// Counts rows (no input).
    Rows,
    /// Counts rows where a condition holds.
    Trues,
    /// Counts rows with a value.
    Valid,
    /// Adds values.
    Sum,
    Min,
    Max,
}

/// One output column: its name, what it does, its input column in the
/// rows frame (none for [`Reduce::Rows`]), and whether it is a number
/// (counts of parts) or an unsigned count (rows, non-finite values).
#[derive(Clone, Debug)]
pub(crate) struct Output {
    pub name: String,
    pub reduce: Reduce,
    pub input: Option<String>,
    pub float: bool,
}

/// How a batch's `__period` column is read: an `Int32` column holds days
/// to be put in periods of `grain`; a `Date` column holds period starts.
pub(crate) struct Periods {
    grain: Grain,
    calendar: Calendar,
    /// Period starts by day, from `base` (`None`: not yet computed).
    starts: Vec<Option<i32>>,
    base: i32,
}

/// Days further apart than this are bucketed without a table.
const TABLE_DAYS: i32 = 1 << 16;

impl Periods {
    pub fn new(grain: Grain, calendar: Calendar) -> Periods {
        Periods {
            grain,
            calendar,
            starts: Vec::new(),
            base: 0,
        }
    }

    /// The first day of the period of `day`, each day computed once.
    fn start_of(&mut self, day: i32) -> i32 {
        if self.starts.is_empty() {
            self.base = day - TABLE_DAYS / 2;
        }
        let at = i64::from(day) - i64::from(self.base);
        if !(0..i64::from(TABLE_DAYS)).contains(&at) {
            return self.compute(day);
        }
        let at = at as usize;
        if at >= self.starts.len() {
            self.starts.resize(at + 1, None);
        }
        match self.starts[at] {
            Some(s) => s,
            None => {
                let s = self.compute(day);
                self.starts[at] = Some(s);
                s
            }
        }
    }

    fn compute(&self, day: i32) -> i32 {
        period::period_of(Date(day), self.grain, &self.calendar).start.0
    }
}

/// A group's key: the ids of its dimension values and its period.
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
struct Key {
    dims: [u32; MAX_DIMS],
    period: Option<i32>,
}

/// Units grouped by more dimensions go to Polars' group-by.
pub(crate) const MAX_DIMS: usize = 4;

/// The distinct values of one dimension, by id (0 is null).
struct Values {
    ids: PlHashMap<String, u32>,
    values: Vec<Option<String>>,
}

impl Values {
    fn new() -> Values {
        Values {
            ids: PlHashMap::default(),
            values: vec![None],
        }
    }

    fn id(&mut self, v: Option<&str>) -> u32 {
        let Some(s) = v else { return 0 };
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.values.len() as u32;
        self.ids.insert(s.to_string(), id);
        self.values.push(Some(s.to_string()));
        id
    }
}

/// A Kahan sum, as Polars' group-by adds floats.
#[derive(Clone, Copy, Default)]
struct Kahan {
    sum: f64,
    err: f64,
}

impl Kahan {
    fn add(&mut self, x: f64) {
        let y = x - self.err;
        let sum = self.sum + y;
        let err = (sum - self.sum) - y;
        self.sum = sum;
        if err.is_finite() {
            self.err = err;
        }
    }
}

/// One output's running values, by group.
enum Acc {
    Count(Vec<u64>),
    Sum(Vec<Kahan>),
    /// Minimum or maximum of floats.
    F64 {
        min: bool,
        v: Vec<Option<f64>>,
    },
    /// Minimum or maximum of integers, dates and times (as their physical
    /// integers), given back in `dtype`.
    I64 {
        min: bool,
        v: Vec<Option<i64>>,
        dtype: DataType,
    },
}

/// A unit's groups and parts so far.
pub(crate) struct GroupBy {
    dims: Vec<Values>,
    /// `None`: the unit has no period column.
    periods: Option<Periods>,
    groups: PlHashMap<Key, u32>,
    keys: Vec<Key>,
    outputs: Vec<Output>,
    accs: Vec<Option<Acc>>,
    /// Parts computed under a second name, after the group-by.
    copies: Vec<Expr>,
}

impl GroupBy {
    pub fn new(dims: usize, periods: Option<Periods>, outputs: Vec<Output>, copies: Vec<Expr>) -> GroupBy {
        let accs = outputs.iter().map(|_| None).collect();
        let mut g = GroupBy {
            copies,
            dims: (0..dims).map(|_| Values::new()).collect(),
            periods,
            groups: PlHashMap::default(),
            keys: Vec::new(),
            outputs,
            accs,
        };
        // Without keys there is one group, rows or none (as a count of no rows is 0).
        if dims == 0 && g.periods.is_none() {
            let k = Key {
                dims: [0; MAX_DIMS],
                period: None,
            };
            g.groups.insert(k, 0);
            g.keys.push(k);
        }
        g
    }

    /// What the group-by does, for `kpi explain`: its keys, and each
    /// output from its input column.
    pub fn describe(&self) -> String {
        let mut keys: Vec<String> = (0..self.dims.len()).map(dim_col).collect();
        if let Some(p) = &self.periods {
            keys.push(format!(
                "{PERIOD} (days put in periods of a {})",
                p.grain.as_str()
            ));
        }
        let keys = match keys.is_empty() {
            true => "none (one group)".to_string(),
            false => keys.join(", "),
        };
        let mut out = format!("GROUP BY HAND, one hash of each row's key, then every part\n  keys: {keys}\n");
        for o in &self.outputs {
            let input = o.input.as_deref().unwrap_or("rows");
            let what = match o.reduce {
                Reduce::Rows => "count of rows".to_string(),
                Reduce::Trues => format!("count where {input}"),
                Reduce::Valid => format!("count of values of {input}"),
                Reduce::Sum => format!("sum of {input}"),
                Reduce::Min => format!("min of {input}"),
                Reduce::Max => format!("max of {input}"),
            };
            out.push_str(&format!("  {} = {what}\n", o.name));
        }
        out
    }

    /// Adds a batch of rows: `__d0`…, `__period` and the outputs' inputs.
    pub fn add(&mut self, batch: &DataFrame) -> PolarsResult<()> {
        let groups = self.group_ids(batch)?;
        let n = self.keys.len();
        let mut work = Vec::with_capacity(self.outputs.len());
        for (out, acc) in self.outputs.iter().zip(self.accs.iter_mut()) {
            let input = match &out.input {
                Some(c) => Some(batch.column(c.as_str())?.as_materialized_series().clone()),
                None => None,
            };
            if acc.is_none() {
                *acc = Some(new_acc(&out.reduce, input.as_ref())?);
            }
            if let Some(acc) = acc.as_mut() {
                grow(acc, n);
                work.push((acc, &out.reduce, input));
            }
        }
        // Each part is its own loop over the batch: they run side by side.
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(work.len());
        if threads <= 1 {
            for (acc, reduce, input) in work {
                add_rows(acc, reduce, input.as_ref(), &groups)?;
            }
            return Ok(());
        }
        let mut shares: Vec<Vec<_>> = (0..threads).map(|_| Vec::new()).collect();
        for (k, w) in work.into_iter().enumerate() {
            shares[k % threads].push(w);
        }
        let groups = &groups;
        std::thread::scope(|s| {
            let running: Vec<_> = shares
                .into_iter()
                .map(|share| {
                    s.spawn(move || {
                        for (acc, reduce, input) in share {
                            add_rows(acc, reduce, input.as_ref(), groups)?;
                        }
                        Ok::<(), PolarsError>(())
                    })
                })
                .collect();
            for r in running {
                r.join()
                    .unwrap_or_else(|_| Err(PolarsError::ComputeError("a part's loop failed".into())))?;
            }
            Ok(())
        })
    }

    /// The group of each row of a batch, new groups added.
    fn group_ids(&mut self, batch: &DataFrame) -> PolarsResult<Vec<u32>> {
        let rows = batch.height();
        let mut keys = vec![
            Key {
                dims: [0; MAX_DIMS],
                period: None,
            };
            rows
        ];
        for (d, values) in self.dims.iter_mut().enumerate() {
            let c = batch.column(dim_col(d).as_str())?.str()?;
            for (k, v) in keys.iter_mut().zip(c.iter()) {
                k.dims[d] = values.id(v);
            }
        }
        if let Some(periods) = self.periods.as_mut() {
            let c = batch.column(PERIOD)?;
            match c.dtype() {
                DataType::Int32 => {
                    for (k, day) in keys.iter_mut().zip(c.i32()?.iter()) {
                        k.period = day.map(|d| periods.start_of(d));
                    }
                }
                _ => {
                    let c = c.cast(&DataType::Date)?;
                    for (k, start) in keys.iter_mut().zip(c.date()?.physical().iter()) {
                        k.period = start;
                    }
                }
            }
        }
        let mut ids = Vec::with_capacity(rows);
        for k in keys {
            let next = self.keys.len() as u32;
            let id = *self.groups.entry(k).or_insert(next);
            if id == next {
                self.keys.push(k);
            }
            ids.push(id);
        }
        Ok(ids)
    }

    /// The groups' keys and outputs, as the engine's unit frame has them.
    pub fn finish(self) -> PolarsResult<DataFrame> {
        let n = self.keys.len();
        let mut columns: Vec<Column> = Vec::new();
        for (d, values) in self.dims.iter().enumerate() {
            let v: Vec<Option<&str>> = self
                .keys
                .iter()
                .map(|k| values.values.get(k.dims[d] as usize).and_then(|s| s.as_deref()))
                .collect();
            columns.push(Column::new(dim_col(d).as_str().into(), v));
        }
        if self.periods.is_some() {
            let v: Vec<Option<i32>> = self.keys.iter().map(|k| k.period).collect();
            columns.push(Column::new(PERIOD.into(), v).cast(&DataType::Date)?);
        }
        for (out, acc) in self.outputs.iter().zip(self.accs) {
            let name: PlSmallStr = out.name.as_str().into();
            let mut acc = acc.unwrap_or(Acc::Count(Vec::new()));
            grow(&mut acc, n);
            let c = match acc {
                Acc::Count(v) if out.float => {
                    Column::new(name, v.iter().map(|&x| x as f64).collect::<Vec<f64>>())
                }
                Acc::Count(v) => Column::new(name, v),
                Acc::Sum(v) => Column::new(name, v.iter().map(|k| k.sum).collect::<Vec<f64>>()),
                Acc::F64 { v, .. } => Column::new(name, v),
                Acc::I64 { v, dtype, .. } => Column::new(name, v).cast(&dtype)?,
            };
            columns.push(c);
        }
        let mut lf = DataFrame::new_infer_height(columns)?.lazy();
        if !self.copies.is_empty() {
            lf = lf.with_columns(self.copies);
        }
        lf.with_column(lit(1i32).alias(ONE)).collect()
    }
}

/// An accumulator for a reduction over `input`'s type.
fn new_acc(reduce: &Reduce, input: Option<&Series>) -> PolarsResult<Acc> {
    let extreme = |min: bool| -> PolarsResult<Acc> {
        let dtype = input.map_or(DataType::Float64, |s| s.dtype().clone());
        Ok(match dtype {
            DataType::Float32 | DataType::Float64 => Acc::F64 { min, v: Vec::new() },
            d if d.to_physical().is_integer() => Acc::I64 {
                min,
                v: Vec::new(),
                dtype: d,
            },
            d => polars_bail!(InvalidOperation: "min/max of {d} in a hand-written group-by"),
        })
    };
    match reduce {
        Reduce::Rows | Reduce::Trues | Reduce::Valid => Ok(Acc::Count(Vec::new())),
        Reduce::Sum => Ok(Acc::Sum(Vec::new())),
        Reduce::Min => extreme(true),
        Reduce::Max => extreme(false),
    }
}

/// Room for `n` groups.
fn grow(acc: &mut Acc, n: usize) {
    match acc {
        Acc::Count(v) => v.resize(n, 0),
        Acc::Sum(v) => v.resize(n, Kahan::default()),
        Acc::F64 { v, .. } => v.resize(n, None),
        Acc::I64 { v, .. } => v.resize(n, None),
    }
}

/// Adds a batch's rows (`groups`: the group of each) to an accumulator.
fn add_rows(acc: &mut Acc, reduce: &Reduce, input: Option<&Series>, groups: &[u32]) -> PolarsResult<()> {
    match (acc, reduce, input) {
        (Acc::Count(v), Reduce::Rows, _) => {
            for &g in groups {
                v[g as usize] += 1;
            }
        }
        (Acc::Count(v), Reduce::Trues, Some(s)) => {
            let s = s.cast(&DataType::Boolean)?;
            let mut at = 0;
            for arr in s.bool()?.downcast_iter() {
                let g = &groups[at..at + arr.len()];
                at += arr.len();
                let values = arr.values();
                match arr.validity().filter(|b| b.unset_bits() > 0) {
                    None => {
                        for (&g, x) in g.iter().zip(values.iter()) {
                            v[g as usize] += u64::from(x);
                        }
                    }
                    Some(valid) => {
                        for ((&g, x), ok) in g.iter().zip(values.iter()).zip(valid.iter()) {
                            v[g as usize] += u64::from(x && ok);
                        }
                    }
                }
            }
        }
        (Acc::Count(v), Reduce::Valid, Some(s)) => {
            let valid = s.is_not_null();
            let mut at = 0;
            for arr in valid.downcast_iter() {
                let g = &groups[at..at + arr.len()];
                at += arr.len();
                for (&g, x) in g.iter().zip(arr.values().iter()) {
                    v[g as usize] += u64::from(x);
                }
            }
        }
        (Acc::Sum(v), _, Some(s)) => {
            let s = s.cast(&DataType::Float64)?;
            each_value(s.f64()?, groups, |g, x| v[g].add(x));
        }
        (Acc::F64 { min, v }, _, Some(s)) => {
            let s = s.cast(&DataType::Float64)?;
            let min = *min;
            each_value(s.f64()?, groups, |g, x| keep_extreme(&mut v[g], x, min));
        }
        (Acc::I64 { min, v, .. }, _, Some(s)) => {
            let s = s.to_physical_repr().cast(&DataType::Int64)?;
            let min = *min;
            each_value(s.i64()?, groups, |g, x| keep_extreme(&mut v[g], x, min));
        }
        _ => polars_bail!(ComputeError: "a part without its input column"),
    }
    Ok(())
}

/// Keeps the smaller (`min`) or larger of `slot` and `x`. Values here are
/// never NaN (non-finite numbers are read as null).
fn keep_extreme<T: PartialOrd + Copy>(slot: &mut Option<T>, x: T, min: bool) {
    *slot = Some(match *slot {
        Some(y) if (min && y <= x) || (!min && y >= x) => y,
        _ => x,
    });
}

/// Calls `f(group, value)` for each non-null value of `ca`, in row order,
/// reading its buffers directly.
fn each_value<T: PolarsNumericType>(
    ca: &ChunkedArray<T>,
    groups: &[u32],
    mut f: impl FnMut(usize, T::Native),
) {
    let mut at = 0;
    for arr in ca.downcast_iter() {
        let g = &groups[at..at + arr.len()];
        at += arr.len();
        let values = arr.values().as_slice();
        match arr.validity().filter(|b| b.unset_bits() > 0) {
            None => {
                for (&g, &x) in g.iter().zip(values) {
                    f(g as usize, x);
                }
            }
            Some(valid) => {
                for ((&g, &x), ok) in g.iter().zip(values).zip(valid.iter()) {
                    if ok {
                        f(g as usize, x);
                    }
                }
            }
        }
    }
}
