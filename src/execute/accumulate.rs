//! A hand-written group-by for units whose parts are counts, sums,
//! minimums and maximums. Polars computes each row's keys and part inputs
//! (filters, blanked values, the day of its time column); this module then
//! finds each row's group ([`super::groups`]) and adds the row to
//! every part's accumulator, batch after batch in file order.
//!
//! Why by hand: Polars' in-memory group-by gathers each aggregated column
//! group by group, so every part costs another pass through memory, and
//! keys of a text and a date are compared as encoded rows. Here a part
//! costs one tight loop over its column. Sums are Kahan sums in row order,
//! as Polars' in-memory group-by adds them, so the numbers are the same to
//! the last digit however the rows are split into batches (see
//! [`super::chunks`]). What a part keeps for each group beyond a count or
//! an extreme (Kahan sums, distinct values, a quantile's values) is in
//! [`per_group`].

use std::borrow::Cow;

use polars::prelude::*;
use polars_arrow::array::{Array, BooleanArray, View};
use polars_arrow::bitmap::Bitmap;

pub(crate) use super::groups::MAX_DIMS;
use super::groups::{Groups, Key, NO_PERIOD};
use super::{dim_col, ONE, PERIOD};
use crate::keyword::Keyword;
use crate::period::{self, Calendar, Grain};
use crate::time::Date;

mod per_group;
use per_group::{Distinct, Kahan, Quantile};

/// What a part does with its input column, over the rows its filter keeps.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Reduce {
    /// Counts rows (no input).
    Rows,
    /// Counts rows with a value.
    Valid,
    /// Adds values.
    Sum,
    Min,
    Max,
    /// Counts distinct values.
    Distinct,
    /// The quantile (0.5: the median) of the values, interpolated linearly.
    Quantile(f64),
}

/// One output column: its name, what it does, its input column in the
/// rows frame (none for [`Reduce::Rows`]), the condition column a row must
/// be true in to count (none: every row), and whether it is a number
/// (counts of parts) or an unsigned count (rows, non-finite values).
///
/// The filter is apart from the input rather than blanking it (`when(c)
/// .then(x)`): Polars then only computes the condition, and the loop visits
/// only the rows where it holds.
#[derive(Clone, Debug)]
pub(crate) struct Output {
    pub name: String,
    pub reduce: Reduce,
    pub input: Option<String>,
    pub filter: Option<String>,
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

/// The distinct values of one dimension, by id (0 is null).
struct Values {
    ids: PlHashMap<String, u32>,
    values: Vec<Option<String>>,
    /// Ids of texts of at most 12 bytes by their view, which holds them
    /// whole: one hash of 16 bytes, no text compared.
    short: PlHashMap<u128, u32>,
}

impl Values {
    fn new() -> Values {
        Values {
            ids: PlHashMap::default(),
            values: vec![None],
            short: PlHashMap::default(),
        }
    }

    /// The id of the text of `view` (`text` reads it).
    fn id_of_view<'a>(&mut self, view: View, text: impl FnOnce() -> &'a str) -> u32 {
        if view.length > View::MAX_INLINE_SIZE {
            return self.id(Some(text()));
        }
        let key = view.as_u128();
        if let Some(&id) = self.short.get(&key) {
            return id;
        }
        let id = self.id(Some(text()));
        self.short.insert(key, id);
        id
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
    /// integers), given back in `dtype`. Unsigned 64-bit integers are kept
    /// with their top bit flipped ([`i64_in_order`]), which keeps their
    /// order in an `i64` (a cast would make those above `i64::MAX` nulls).
    I64 {
        min: bool,
        v: Vec<Option<i64>>,
        dtype: DataType,
    },
    Distinct(Distinct),
    Quantile(Quantile),
}

impl Acc {
    /// A copy of counts (nothing else is copied).
    fn counts(&self) -> Option<Acc> {
        match self {
            Acc::Count(v) => Some(Acc::Count(v.clone())),
            _ => None,
        }
    }
}

/// A unit's groups and parts so far.
pub(crate) struct GroupBy {
    dims: Vec<Values>,
    /// `None`: the unit has no period column.
    periods: Option<Periods>,
    groups: Groups,
    outputs: Vec<Output>,
    accs: Vec<Option<Acc>>,
    /// For a count of values, the count of rows under the same filter it
    /// equals while its input has no nulls (an average beside a count:
    /// `avg(amount where won)`, `count(where won)`): its loop is left out
    /// until a batch has a null, when it starts from that count's numbers.
    mirrors: Vec<Option<usize>>,
    /// Parts computed under a second name, after the group-by.
    copies: Vec<Expr>,
}

impl GroupBy {
    pub fn new(dims: usize, periods: Option<Periods>, outputs: Vec<Output>, copies: Vec<Expr>) -> GroupBy {
        let accs = outputs.iter().map(|_| None).collect();
        let mirrors = outputs
            .iter()
            .map(|o| match o.reduce {
                Reduce::Valid => outputs
                    .iter()
                    .position(|r| r.reduce == Reduce::Rows && r.filter == o.filter),
                _ => None,
            })
            .collect();
        let mut g = GroupBy {
            copies,
            mirrors,
            dims: (0..dims).map(|_| Values::new()).collect(),
            periods,
            groups: Groups::new(dims),
            outputs,
            accs,
        };
        // Without keys there is one group, rows or none (as a count of no rows is 0).
        if dims == 0 && g.periods.is_none() {
            g.groups.id(Key::EMPTY);
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
        let mut out =
            format!("GROUP BY HAND, each row's group found by its key, then every part\n  keys: {keys}\n");
        for (i, o) in self.outputs.iter().enumerate() {
            let input = o.input.as_deref().unwrap_or("rows");
            let what = match o.reduce {
                Reduce::Rows => "count of rows".to_string(),
                Reduce::Valid => format!("count of values of {input}"),
                Reduce::Sum => format!("sum of {input}"),
                Reduce::Min => format!("min of {input}"),
                Reduce::Max => format!("max of {input}"),
                Reduce::Distinct => format!("count of distinct values of {input}"),
                Reduce::Quantile(q) => format!("quantile {q} of {input}"),
            };
            let filter = o
                .filter
                .as_deref()
                .map_or(String::new(), |f| format!(" where {f}"));
            out.push_str(&format!("  {} = {what}{filter}\n", o.name));
            if let Some(rows) = self
                .mirrors
                .get(i)
                .copied()
                .flatten()
                .and_then(|r| self.outputs.get(r))
            {
                out.push_str(&format!("    (that is {} until {input} has a null)\n", rows.name));
            }
        }
        out
    }

    /// Adds a batch of rows: `__d0`…, `__period` and the outputs' inputs
    /// and filters.
    pub fn add(&mut self, batch: &DataFrame) -> PolarsResult<()> {
        let groups = self.group_ids(batch)?;
        // Chunk by chunk, an output's filter and input cover the same rows.
        let mut batch = batch.clone();
        batch.align_chunks();
        let n = self.groups.keys().len();
        self.unmirror(&batch);
        let mut work = Vec::with_capacity(self.outputs.len());
        let mirrored = self.mirrors.iter().map(Option::is_some);
        for ((out, acc), mirrored) in self.outputs.iter().zip(self.accs.iter_mut()).zip(mirrored) {
            if mirrored {
                continue;
            }
            let column = |c: &Option<String>| -> PolarsResult<Option<Series>> {
                c.as_deref()
                    .map(|c| Ok(batch.column(c)?.as_materialized_series().clone()))
                    .transpose()
            };
            let input = column(&out.input)?;
            let filter = column(&out.filter)?
                .map(|f| f.cast(&DataType::Boolean))
                .transpose()?;
            if acc.is_none() {
                *acc = Some(new_acc(&out.reduce, input.as_ref())?);
            }
            if let Some(acc) = acc.as_mut() {
                work.push((acc, Inputs::aligned(input, filter)));
            }
        }
        // Each part is its own loop over the batch: they run side by side,
        // each making room for new groups first (fresh memory, whose first
        // touch costs as much as a loop, shared by the cores too).
        let groups = &groups;
        crate::cores::on_cores(work, |(acc, inputs)| {
            grow(acc, n);
            add_rows(acc, &inputs, groups)
        })
        .map(|_| ())
    }

    /// Counts of values that stop mirroring a count of rows: those whose
    /// input has a null in `batch`, from the count's numbers so far.
    fn unmirror(&mut self, batch: &DataFrame) {
        for i in 0..self.outputs.len() {
            let input = self.outputs[i]
                .input
                .as_deref()
                .filter(|_| self.mirrors[i].is_some());
            if input.map_or(0, |c| batch.column(c).map_or(0, |c| c.null_count())) > 0 {
                self.stop_mirroring(i);
            }
        }
    }

    /// Output `i`, if it mirrors a count of rows, counted on its own from
    /// here: its numbers so far are that count's.
    fn stop_mirroring(&mut self, i: usize) {
        if let Some(rows) = self.mirrors.get_mut(i).and_then(Option::take) {
            self.accs[i] = self.accs[rows].as_ref().and_then(Acc::counts);
        }
    }

    /// The group of each row of a batch, new groups added. Rows go through
    /// in blocks whose keys stay in cache: a key for every row of a batch at
    /// once would be fresh memory the size of several columns, written then
    /// read back.
    fn group_ids(&mut self, batch: &DataFrame) -> PolarsResult<Vec<u32>> {
        const BLOCK: usize = 1 << 12;
        let rows = batch.height();
        let dims: Vec<StringChunked> = (0..self.dims.len())
            .map(|d| Ok(batch.column(dim_col(d).as_str())?.str()?.clone()))
            .collect::<PolarsResult<_>>()?;
        // Days to put in periods, or period starts.
        let period = match self.periods {
            None => None,
            Some(_) => {
                let c = batch.column(PERIOD)?;
                Some(match c.dtype() {
                    DataType::Int32 => (true, c.i32()?.clone()),
                    _ => (false, c.cast(&DataType::Date)?.date()?.physical().clone()),
                })
            }
        };
        let mut ids = Vec::with_capacity(rows);
        let mut keys = Vec::with_capacity(BLOCK.min(rows));
        let mut cells = Vec::with_capacity(BLOCK.min(rows));
        for start in (0..rows).step_by(BLOCK) {
            let len = BLOCK.min(rows - start);
            keys.clear();
            keys.resize(len, Key::EMPTY);
            for (d, (c, values)) in dims.iter().zip(self.dims.iter_mut()).enumerate() {
                let block = c.slice(start as i64, len);
                let mut k = keys.iter_mut();
                for a in block.downcast_iter() {
                    let views = a.views();
                    for (i, key) in (0..a.len()).zip(&mut k) {
                        key.dims[d] = match a.is_null(i) {
                            true => 0,
                            false => values.id_of_view(views[i], || a.value(i)),
                        };
                    }
                }
            }
            if let (Some(periods), Some((days, c))) = (self.periods.as_mut(), &period) {
                for (k, v) in keys.iter_mut().zip(c.slice(start as i64, len).iter()) {
                    let first_day = if *days { v.map(|d| periods.start_of(d)) } else { v };
                    k.period = first_day.unwrap_or(NO_PERIOD);
                }
            }
            self.groups.ids(&keys, &mut ids, &mut cells);
        }
        Ok(ids)
    }

    /// The groups' keys and outputs, as the engine's unit frame has them:
    /// groups with a period first, those without last (the spine leaves
    /// them out: a slice then, not a copy of every column).
    pub fn finish(mut self) -> PolarsResult<DataFrame> {
        for i in 0..self.outputs.len() {
            self.stop_mirroring(i);
        }
        let n = self.groups.keys().len();
        let dated = |g: &u32| self.groups.keys()[*g as usize].period != NO_PERIOD;
        let order: Vec<u32> = (0..n as u32)
            .filter(dated)
            .chain((0..n as u32).filter(|g| !dated(g)))
            .collect();
        let mut columns: Vec<Column> = Vec::new();
        for (d, values) in self.dims.iter().enumerate() {
            let v: Vec<Option<&str>> = order
                .iter()
                .map(|&g| {
                    let id = self.groups.keys()[g as usize].dims[d] as usize;
                    values.values.get(id).and_then(|s| s.as_deref())
                })
                .collect();
            columns.push(Column::new(dim_col(d).as_str().into(), v));
        }
        if self.periods.is_some() {
            let v: Vec<Option<i32>> = order
                .iter()
                .map(|&g| Some(self.groups.keys()[g as usize].period).filter(|&p| p != NO_PERIOD))
                .collect();
            columns.push(Column::new(PERIOD.into(), v).cast(&DataType::Date)?);
        }
        columns.extend(output_columns(&self.outputs, self.accs, &order)?);
        let mut lf = DataFrame::new_infer_height(columns)?.lazy();
        if !self.copies.is_empty() {
            lf = lf.with_columns(self.copies);
        }
        lf.with_column(lit(1i32).alias(ONE)).collect()
    }
}

/// Each output's column, its groups in `order`, made on the cores side by
/// side (each a fresh column the size of the groups).
fn output_columns(outputs: &[Output], accs: Vec<Option<Acc>>, order: &[u32]) -> PolarsResult<Vec<Column>> {
    let work: Vec<(&Output, Acc)> = outputs
        .iter()
        .zip(accs)
        .map(|(out, acc)| (out, acc.unwrap_or(Acc::Count(Vec::new()))))
        .collect();
    crate::cores::on_cores(work, |(out, acc)| output_column(out, acc, order))
}

/// An output's column from its accumulator, its groups in `order`.
fn output_column(out: &Output, mut acc: Acc, order: &[u32]) -> PolarsResult<Column> {
    let name: PlSmallStr = out.name.as_str().into();
    grow(&mut acc, order.len());
    let each = order.iter().map(|&g| g as usize);
    Ok(match acc {
        Acc::Count(v) if out.float => Column::new(name, each.map(|g| v[g] as f64).collect::<Vec<f64>>()),
        Acc::Count(v) => Column::new(name, each.map(|g| v[g]).collect::<Vec<u64>>()),
        Acc::Sum(v) => Column::new(name, each.map(|g| v[g].sum).collect::<Vec<f64>>()),
        Acc::F64 { v, .. } => Float64Chunked::from_iter_options(name, each.map(|g| v[g])).into_column(),
        Acc::I64 {
            v,
            dtype: DataType::UInt64,
            ..
        } => UInt64Chunked::from_iter_options(name, each.map(|g| v[g].map(u64_in_order))).into_column(),
        Acc::I64 { v, dtype, .. } => Int64Chunked::from_iter_options(name, each.map(|g| v[g]))
            .into_column()
            .cast(&dtype)?,
        Acc::Distinct(d) => Column::new(name, each.map(|g| d.n[g] as f64).collect::<Vec<f64>>()),
        Acc::Quantile(mut q) => Column::new(name, each.map(|g| q.of(g)).collect::<Vec<_>>()),
    })
}

/// An accumulator for a reduction over `input`'s type.
fn new_acc(reduce: &Reduce, input: Option<&Series>) -> PolarsResult<Acc> {
    let extreme = |min: bool| -> PolarsResult<Acc> {
        let dtype = input.map_or(DataType::Float64, |s| s.dtype().clone());
        Ok(match dtype {
            // A decimal's physical integer is scaled: its extremes are taken as numbers.
            DataType::Float32 | DataType::Float64 | DataType::Decimal(..) => Acc::F64 { min, v: Vec::new() },
            d if d.to_physical().is_integer() => Acc::I64 {
                min,
                v: Vec::new(),
                dtype: d,
            },
            d => polars_bail!(InvalidOperation: "min/max of {d} in a hand-written group-by"),
        })
    };
    match reduce {
        Reduce::Rows | Reduce::Valid => Ok(Acc::Count(Vec::new())),
        Reduce::Sum => Ok(Acc::Sum(Vec::new())),
        Reduce::Min => extreme(true),
        Reduce::Max => extreme(false),
        Reduce::Distinct => Ok(Acc::Distinct(Distinct::new())),
        Reduce::Quantile(q) => Ok(Acc::Quantile(Quantile {
            q: *q,
            values: Vec::new(),
            rows: Vec::new(),
        })),
    }
}

/// Room for `n` groups.
fn grow(acc: &mut Acc, n: usize) {
    match acc {
        Acc::Count(v) => v.resize(n, 0),
        Acc::Sum(v) => v.resize(n, Kahan::default()),
        Acc::F64 { v, .. } => v.resize(n, None),
        Acc::I64 { v, .. } => v.resize(n, None),
        Acc::Distinct(d) => d.n.resize(n, 0),
        Acc::Quantile(q) => {
            q.values.resize_with(n, Vec::new);
            q.rows.resize(n, 0);
        }
    }
}

/// A batch's columns for one output: its input (none when it counts
/// rows) and its filter (as booleans; none: every row), in chunks of the
/// same rows.
struct Inputs {
    input: Option<Series>,
    filter: Option<Series>,
}

impl Inputs {
    fn aligned(input: Option<Series>, filter: Option<Series>) -> Inputs {
        match (input, filter) {
            (Some(i), Some(f)) if !i.chunk_lengths().eq(f.chunk_lengths()) => Inputs {
                input: Some(i.rechunk()),
                filter: Some(f.rechunk()),
            },
            (input, filter) => Inputs { input, filter },
        }
    }
}

/// Adds a batch's rows (`groups`: the group of each) to an accumulator.
fn add_rows(acc: &mut Acc, inputs: &Inputs, groups: &[u32]) -> PolarsResult<()> {
    let filter = inputs.filter.as_ref().map(|f| f.bool()).transpose()?;
    let Some(input) = &inputs.input else {
        return match acc {
            Acc::Count(v) => {
                match filter {
                    Some(f) => each_kept(f.chunks(), Some(f), groups, |g, _, _| v[g] += 1),
                    None => groups.iter().for_each(|&g| v[g as usize] += 1),
                }
                Ok(())
            }
            _ => polars_bail!(ComputeError: "a part without its input column"),
        };
    };
    // A column with no value at all adds no value: only a quantile counts
    // its rows.
    if input.dtype() == &DataType::Null {
        if let Acc::Quantile(q) = acc {
            groups.iter().for_each(|&g| q.rows[g as usize] += 1);
        }
        return Ok(());
    }
    match acc {
        Acc::Count(v) => each_kept(input.chunks(), filter, groups, |g, _, _| v[g] += 1),
        Acc::Sum(v) => {
            let s = input.cast(&DataType::Float64)?;
            each_value(s.f64()?, filter, groups, |g, x| v[g].add(x));
        }
        Acc::F64 { min, v } => {
            let s = input.cast(&DataType::Float64)?;
            let min = *min;
            each_value(s.f64()?, filter, groups, |g, x| keep_extreme(&mut v[g], x, min));
        }
        Acc::I64 { min, v, .. } if input.dtype() == &DataType::UInt64 => {
            let min = *min;
            each_value(input.u64()?, filter, groups, |g, x| {
                keep_extreme(&mut v[g], i64_in_order(x), min)
            });
        }
        Acc::I64 { min, v, .. } => {
            let s = input.to_physical_repr().cast(&DataType::Int64)?;
            let min = *min;
            each_value(s.i64()?, filter, groups, |g, x| keep_extreme(&mut v[g], x, min));
        }
        Acc::Distinct(d) => add_distinct(d, input, filter, groups)?,
        Acc::Quantile(q) => {
            for &g in groups {
                q.rows[g as usize] += 1;
            }
            let s = input.cast(&DataType::Float64)?;
            each_value(s.f64()?, filter, groups, |g, x| q.values[g].push(x));
        }
    }
    Ok(())
}

/// Adds each value kept to its group's distinct values: texts by their
/// number, floats by their bits (0 and -0 as one, as Polars counts them),
/// other values by their physical integer.
fn add_distinct(
    d: &mut Distinct,
    input: &Series,
    filter: Option<&BooleanChunked>,
    groups: &[u32],
) -> PolarsResult<()> {
    let dtype = input.dtype();
    // A decimal's physical integer may not fit 64 bits: decimals are numbers.
    if dtype.is_float() || matches!(dtype, DataType::Decimal(..)) {
        let s = input.cast(&DataType::Float64)?;
        each_value(s.f64()?, filter, groups, |g, x| {
            let x = if x == 0.0 { 0.0 } else { x };
            d.add(g, x.to_bits())
        });
    } else if dtype == &DataType::UInt64 {
        each_value(input.u64()?, filter, groups, |g, x| d.add(g, x));
    } else if dtype.to_physical().is_integer() || dtype.is_bool() {
        let s = input.to_physical_repr().cast(&DataType::Int64)?;
        each_value(s.i64()?, filter, groups, |g, x| d.add(g, x as u64));
    } else {
        let s = input.cast(&DataType::String)?;
        let texts = s.str()?;
        let arrays: Vec<_> = texts.downcast_iter().collect();
        each_kept(texts.chunks(), filter, groups, |g, k, i| {
            let a = arrays[k];
            let id = d.texts.id_of_view(a.views()[i], || a.value(i));
            d.add_text(g, id)
        });
    }
    Ok(())
}

/// An unsigned 64-bit integer as an `i64` of the same order: its top bit
/// flipped, so 0 is `i64::MIN` and `u64::MAX` is `i64::MAX`.
fn i64_in_order(x: u64) -> i64 {
    (x ^ (1 << 63)) as i64
}

/// The unsigned integer [`i64_in_order`] was given.
fn u64_in_order(x: i64) -> u64 {
    (x as u64) ^ (1 << 63)
}

/// Keeps the smaller (`min`) or larger of `slot` and `x`. Values here are
/// never NaN (non-finite numbers are read as null).
fn keep_extreme<T: PartialOrd + Copy>(slot: &mut Option<T>, x: T, min: bool) {
    *slot = Some(match *slot {
        Some(y) if (min && y <= x) || (!min && y >= x) => y,
        _ => x,
    });
}

/// Calls `f(group, value)` for each value of `ca` on a row where
/// `filter` holds, in row order, reading the buffers directly.
fn each_value<T: PolarsNumericType>(
    ca: &ChunkedArray<T>,
    filter: Option<&BooleanChunked>,
    groups: &[u32],
    mut f: impl FnMut(usize, T::Native),
) {
    let values: Vec<&[T::Native]> = ca.downcast_iter().map(|a| a.values().as_slice()).collect();
    each_kept(ca.chunks(), filter, groups, |g, k, i| f(g, values[k][i]));
}

/// Calls `f(group, chunk, row in chunk)` for each row of `chunks` with a
/// value where `filter` (in the same chunks) is true, in row order, going
/// through the rows kept a word of their bitmap at a time.
fn each_kept(
    chunks: &[ArrayRef],
    filter: Option<&BooleanChunked>,
    groups: &[u32],
    mut f: impl FnMut(usize, usize, usize),
) {
    // A cast may lay its values out in other chunks than its input's, which
    // the filter shares (Polars casts a column of nulls alone to one new
    // chunk): the filter is then cut where the values' chunks are.
    let lengths = chunks.iter().map(|a| a.len());
    let whole = filter
        .filter(|f| !f.chunk_lengths().eq(lengths))
        .map(|f| f.rechunk().into_owned());
    let mut at = 0;
    for (k, arr) in chunks.iter().enumerate() {
        let len = arr.len();
        let g = &groups[at..at + len];
        let condition = match &whole {
            Some(w) => w
                .downcast_iter()
                .next()
                .map(|f| Cow::Owned(f.clone().sliced(at, len))),
            None => filter.and_then(|f| f.downcast_get(k)).map(Cow::Borrowed),
        };
        at += len;
        match rows_kept(condition.as_deref(), arr.validity()).filter(|b| b.unset_bits() > 0) {
            None => (0..len).for_each(|i| f(g[i] as usize, k, i)),
            Some(b) => each_set_bit(&b, |i| f(g[i] as usize, k, i)),
        }
    }
}

/// Calls `f` with the position of each set bit of `bits`, in order, going
/// through them a 64-bit word at a time. Polars' `TrueIdxIter`, made for
/// long runs of set bits, cost about five times as much per bit on the
/// scattered bits of a filter (`stage == "won"`), more than adding the row.
fn each_set_bit(bits: &Bitmap, mut f: impl FnMut(usize)) {
    let words = bits.chunks::<u64>();
    let last = words.remainder();
    let mut base = 0;
    for word in words.chain(std::iter::once(last)) {
        let mut rest = word;
        while rest != 0 {
            f(base + rest.trailing_zeros() as usize);
            rest &= rest - 1;
        }
        base += 64;
    }
}

/// The rows of a chunk to visit: where the filter is true (not null) and
/// the input has a value; `None`: every row.
fn rows_kept(filter: Option<&BooleanArray>, valid: Option<&Bitmap>) -> Option<Bitmap> {
    let kept = filter.map(|f| match f.validity() {
        Some(v) => f.values() & v,
        None => f.values().clone(),
    });
    match (kept, valid) {
        (None, v) => v.cloned(),
        (Some(k), None) => Some(k),
        (Some(k), Some(v)) => Some(&k & v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cast may lay its values out in other chunks than the filter
    /// beside them (Polars casts a column of nulls alone to one new
    /// chunk); each row is still judged by its own filter value. Nulls in
    /// chunks of one and two rows, the filter keeping the first and the
    /// last, all in one group, beside a column of values laid out alike:
    /// no date and no sum of the nulls, the values' kept sum 1 + 4.
    #[test]
    fn a_filter_in_other_chunks_than_the_cast_values_keeps_its_rows() {
        let chunked = |a: Series, b: Series| {
            let mut s = a;
            s.append(&b).unwrap();
            s
        };
        let nulls = |n: usize| Series::full_null("d".into(), n, &DataType::Int32);
        let dates = chunked(nulls(1), nulls(2)).cast(&DataType::Date).unwrap();
        let numbers = chunked(nulls(1), nulls(2));
        let values = chunked(
            Series::new("x".into(), [1i32]),
            Series::new("x".into(), [2i32, 4]),
        );
        let keep = chunked(
            Series::new("f".into(), [true]),
            Series::new("f".into(), [false, true]),
        );
        let run = |reduce: Reduce, input: &Series| {
            let mut acc = new_acc(&reduce, Some(input)).unwrap();
            grow(&mut acc, 1);
            let inputs = Inputs::aligned(Some(input.clone()), Some(keep.clone()));
            add_rows(&mut acc, &inputs, &[0, 0, 0]).unwrap();
            acc
        };
        for reduce in [Reduce::Max, Reduce::Min] {
            let Acc::I64 { v, .. } = run(reduce, &dates) else {
                panic!("dates are kept as integers")
            };
            assert_eq!(v, [None]);
        }
        for (input, want) in [(&numbers, 0.0), (&values, 5.0)] {
            let Acc::Sum(v) = run(Reduce::Sum, input) else {
                panic!("a sum")
            };
            assert_eq!(v[0].sum, want);
        }
    }

    /// Every set bit, in order, for lengths around a word and bitmaps that
    /// start inside a byte (slices of a longer one).
    #[test]
    fn each_set_bit_finds_every_set_bit_of_a_slice() {
        let whole: Bitmap = (0..400u32).map(|i| (i * 7919) % 13 < 5 || i % 64 == 63).collect();
        for offset in [0, 1, 3, 8, 13, 64, 70] {
            for len in [0, 1, 7, 63, 64, 65, 127, 128, 200, 330] {
                let bits = whole.clone().sliced(offset, len);
                let mut got = Vec::new();
                each_set_bit(&bits, |i| got.push(i));
                let want: Vec<usize> = (0..len).filter(|&i| bits.get_bit(i)).collect();
                assert_eq!(got, want, "offset {offset}, length {len}");
            }
        }
    }
}
