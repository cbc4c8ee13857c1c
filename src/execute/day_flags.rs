//! The range flags of a batched status query ([`super::ranges`]), each in
//! one pass over the rows' day numbers. Polars compares an integer column
//! with a number through a kernel that builds its booleans one bit at a
//! time (its vectorised kernels need a nightly compiler), twice per range,
//! then joins the two with `and`: 6 % of the CPU of `kpi status` of the
//! benchmark's 50 targets over a million deals, three million leads and
//! five million activities. Here a range's flag is one loop writing 64
//! bits at a time (2.4 %). A row without a day (null) is in no range.

use polars::prelude::*;
use polars_arrow::array::{BooleanArray, PrimitiveArray};
use polars_arrow::bitmap::Bitmap;
use polars_arrow::datatypes::ArrowDataType;

use crate::time::Date;

/// Rows whose day number `d` (Int32, days since 1970) falls on
/// `first`..=`last`; false where it is null.
pub(crate) fn day_within(d: Expr, first: Date, last: Date) -> Expr {
    // One unsigned comparison: a day before `first` wraps far above the
    // span. No span (`last` before `first`): no day.
    let (first, span) = (
        first.0,
        u32::try_from(i64::from(last.0) - i64::from(first.0)).ok(),
    );
    let flag = move |c: &mut [Column]| {
        let [d] = c else {
            polars_bail!(ComputeError: "a range flag without its days");
        };
        match span {
            Some(span) => flags(d, None, |d, _| (d.wrapping_sub(first) as u32) <= span),
            None => flags(d, None, |_, _| false),
        }
    };
    d.map_many(flag, &[], boolean)
}

/// Rows active on `day`, from their first and (if the unit has one) last
/// day numbers: started by then (`from <= day`) and not yet ended (`to`
/// null or after it); false where `from` is null.
pub(crate) fn active_on_day(from: Expr, to: Option<Expr>, day: Date) -> Expr {
    let day = day.0;
    let flag = move |c: &mut [Column]| match c {
        [from] => flags(from, None, |f, _| f <= day),
        [from, to] => flags(from, Some(to), |f, t| f <= day && t > day),
        _ => polars_bail!(ComputeError: "an active flag without its days"),
    };
    match to {
        Some(to) => from.map_many(flag, &[to], boolean),
        None => from.map_many(flag, &[], boolean),
    }
}

fn boolean(_: &Schema, fields: &[Field]) -> PolarsResult<Field> {
    let name = fields
        .first()
        .map_or_else(PlSmallStr::default, |f| f.name().clone());
    Ok(Field::new(name, DataType::Boolean))
}

/// `keep(a, b)` of each row's `a` and `b` (`b` is `a` when there is no
/// second column), false where `a` is null; where `b` is null, `keep(a,
/// i32::MAX)`: an end not yet known is after every day.
fn flags(a: &Column, b: Option<&Column>, keep: impl Fn(i32, i32) -> bool + Copy) -> PolarsResult<Column> {
    let a = a.cast(&DataType::Int32)?;
    let b = b.map(|b| b.cast(&DataType::Int32)).transpose()?;
    let (a, b) = match &b {
        Some(b) if !a.i32()?.chunk_lengths().eq(b.i32()?.chunk_lengths()) => (
            a.i32()?.rechunk().into_owned(),
            Some(b.i32()?.rechunk().into_owned()),
        ),
        _ => (
            a.i32()?.clone(),
            b.as_ref().map(|b| b.i32().cloned()).transpose()?,
        ),
    };
    let chunks: Vec<BooleanArray> = match &b {
        None => a.downcast_iter().map(|x| flag_array(x, None, keep)).collect(),
        Some(b) => a
            .downcast_iter()
            .zip(b.downcast_iter())
            .map(|(x, y)| flag_array(x, Some(y), keep))
            .collect(),
    };
    Ok(BooleanChunked::from_chunk_iter(a.name().clone(), chunks).into_column())
}

/// One chunk's flags, without nulls (`b`: the second column's chunk, if any).
fn flag_array(
    a: &PrimitiveArray<i32>,
    b: Option<&PrimitiveArray<i32>>,
    keep: impl Fn(i32, i32) -> bool + Copy,
) -> BooleanArray {
    let x = a.values().as_slice();
    let y = b.map_or(x, |b| b.values().as_slice());
    let mut bits = packed(x, y, keep);
    // An unknown end: kept as an end after every day.
    if let Some(known) = b.and_then(|b| b.validity()).filter(|v| v.unset_bits() > 0) {
        let open = packed(x, x, |a, _| keep(a, i32::MAX));
        bits = &(&bits & known) | &(&open & &!known);
    }
    if let Some(valid) = a.validity() {
        bits = &bits & valid;
    }
    BooleanArray::new(ArrowDataType::Boolean, bits, None)
}

/// `keep(x[i], y[i])` for each row, 64 rows to a word: the 64 answers as
/// bytes of 0 or 1 (rows of fixed length, which the compiler compares as
/// vectors), then each 8 bytes' low bits gathered into one byte by a
/// multiplication (byte `i` lands on bit `56 + i`, no two terms meet).
fn packed(x: &[i32], y: &[i32], keep: impl Fn(i32, i32) -> bool + Copy) -> Bitmap {
    const GATHER: u64 = 0x0102_0408_1020_4080;
    let word = |x: &[i32; 64], y: &[i32; 64]| -> u64 {
        let mut kept = [0u8; 64];
        for j in 0..64 {
            kept[j] = u8::from(keep(x[j], y[j]));
        }
        let (eights, _) = kept.as_chunks::<8>();
        eights.iter().enumerate().fold(0u64, |w, (k, b)| {
            w | ((u64::from_le_bytes(*b).wrapping_mul(GATHER) >> 56) << (8 * k))
        })
    };
    let (xs, x_rest) = x.as_chunks::<64>();
    let (ys, y_rest) = y.as_chunks::<64>();
    let mut bytes: Vec<u8> = Vec::with_capacity(x.len().div_ceil(64) * 8);
    for (x, y) in xs.iter().zip(ys) {
        bytes.extend_from_slice(&word(x, y).to_le_bytes());
    }
    if !x_rest.is_empty() {
        let (mut x_last, mut y_last) = ([0; 64], [0; 64]);
        x_last[..x_rest.len()].copy_from_slice(x_rest);
        y_last[..y_rest.len()].copy_from_slice(y_rest);
        bytes.extend_from_slice(&word(&x_last, &y_last).to_le_bytes());
    }
    Bitmap::from_u8_vec(bytes, x.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(frame: DataFrame, flag: Expr) -> Vec<Option<bool>> {
        let out = frame.lazy().select([flag.alias("f")]).collect().unwrap();
        let flags = out.column("f").unwrap().bool().unwrap().clone();
        (0..flags.len()).map(|i| flags.get(i)).collect()
    }

    /// Days around each end of a range, across more than a word of rows,
    /// with nulls: the same flags as Polars' comparisons, nulls false.
    #[test]
    fn a_range_flags_the_days_polars_compares_within_it() {
        let days: Vec<Option<i32>> = (0..200)
            .map(|i| (i % 7 != 3).then_some(20_000 + (i * 37 % 90) - 45))
            .chain([Some(i32::MIN), Some(i32::MAX), None])
            .collect();
        let frame = df!("d" => days).unwrap();
        for (first, last) in [
            (20_000, 20_010),
            (19_960, 20_040),
            (20_000, 20_000),
            (20_010, 20_000),
        ] {
            let got = run(frame.clone(), day_within(col("d"), Date(first), Date(last)));
            let want = run(
                frame.clone(),
                col("d")
                    .gt_eq(lit(first))
                    .and(col("d").lt_eq(lit(last)))
                    .fill_null(lit(false)),
            );
            assert_eq!(got, want, "{first}..={last}");
            assert!(got.iter().all(Option::is_some));
        }
        // By hand: the first rows' days are 19955, 19992, 20029, (null), 20013.
        let got = run(frame, day_within(col("d"), Date(19_992), Date(20_013)));
        assert_eq!(
            &got[..5],
            [Some(false), Some(true), Some(false), Some(false), Some(true)]
        );
    }

    /// Starts and ends around a day, ends unknown, starts unknown, in
    /// chunks of different lengths: Polars' `from <= day and (to is null
    /// or to > day)`, nulls false.
    #[test]
    fn active_rows_are_those_started_and_not_ended() {
        let from: Vec<Option<i32>> = (0..150).map(|i| (i % 11 != 5).then_some(100 + i % 9)).collect();
        let to: Vec<Option<i32>> = (0..150).map(|i| (i % 4 != 0).then_some(104 + i % 6)).collect();
        let mut frame = df!("from" => &from[..70], "to" => &to[..70]).unwrap();
        frame
            .vstack_mut(&df!("from" => &from[70..], "to" => &to[70..]).unwrap())
            .unwrap();
        for day in [99, 104, 105, 108, 120] {
            let got = run(
                frame.clone(),
                active_on_day(col("from"), Some(col("to")), Date(day)),
            );
            let m = lit(day);
            let polars = col("from")
                .lt_eq(m.clone())
                .and(col("to").is_null().or(col("to").gt(m.clone())));
            assert_eq!(got, run(frame.clone(), polars.fill_null(lit(false))), "day {day}");
            let got = run(frame.clone(), active_on_day(col("from"), None, Date(day)));
            let polars = col("from").lt_eq(m).fill_null(lit(false));
            assert_eq!(got, run(frame.clone(), polars), "day {day}, no end");
        }
        // By hand, day 105: row 0 (100, no end) active, row 1 (101..105) ended,
        // row 2 (102..106) active, row 5 (no start) not.
        let got = run(frame, active_on_day(col("from"), Some(col("to")), Date(105)));
        assert_eq!(
            [got[0], got[1], got[2], got[5]],
            [Some(true), Some(false), Some(true), Some(false)]
        );
    }
}
