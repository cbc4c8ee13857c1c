//! `rolling(k, n)`'s windows of a part column: each row's fold (sum,
//! minimum or maximum) over itself and the `n − 1` rows before it in its
//! group, on the spine sorted by group and period.
//!
//! One function over the whole column, in time linear in its rows
//! whatever `n`: written as `n` shifted copies of the column, a window of a
//! thousand days took seconds and gigabytes to plan, and one of 4,000 took
//! 48 s and 8 GB (a window may be 10,000 periods long). The column is cut
//! in blocks of `n` rows from each group's start; a window then spans the
//! end of one block and the start of the next, and is the fold of the
//! block's suffix and the next one's prefix, each worked out once. Nothing
//! is subtracted, so no large value leaving the window can leave its
//! rounding behind.

use polars::prelude::*;

/// How a window folds its values: a sum counts an empty value as 0 (a
/// period without rows sold nothing); a minimum or maximum skips it, and is
/// empty when every value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Fold {
    Sum,
    Min,
    Max,
}

impl Fold {
    fn of(self, a: Option<f64>, b: Option<f64>) -> Option<f64> {
        match (self, a, b) {
            (Fold::Sum, a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
            (_, None, x) | (_, x, None) => x,
            (Fold::Min, Some(a), Some(b)) => Some(a.min(b)),
            (Fold::Max, Some(a), Some(b)) => Some(a.max(b)),
        }
    }
}

/// `x` folded over windows of `n` rows within each group of `groups` (the
/// spine's key columns other than the period; none: one group).
pub(super) fn rolling(x: Expr, groups: &[String], n: u32, fold: Fold) -> Expr {
    let keys: Vec<Expr> = groups.iter().map(|g| col(g.as_str())).collect();
    let n = n.max(1) as usize;
    // Group-wise, not row by row: Polars must hand the function whole
    // columns, never slices of them.
    x.apply_many(
        move |columns: &mut [Column]| {
            let Some((x, keys)) = columns.split_first() else {
                polars_bail!(ComputeError: "a rolling window was given no column");
            };
            let starts = group_starts(keys, x.len())?;
            let values = x.cast(&DataType::Float64)?;
            let values: Vec<Option<f64>> = values.f64()?.iter().collect();
            let out = windows(&values, &starts, n, fold);
            Ok(Float64Chunked::from_iter_options(x.name().clone(), out.into_iter()).into_column())
        },
        &keys,
        |_, fields| {
            let name = fields
                .first()
                .map_or_else(PlSmallStr::default, |f| f.name().clone());
            Ok(Field::new(name, DataType::Float64))
        },
    )
}

/// Whether each of `len` rows starts a group: the first row, and each row
/// whose key differs from the row before it (a null key equal to a null).
fn group_starts(keys: &[Column], len: usize) -> PolarsResult<Vec<bool>> {
    let mut starts = vec![false; len];
    if let Some(first) = starts.first_mut() {
        *first = true;
    }
    for key in keys {
        let key = key.as_materialized_series();
        let changed = key.not_equal_missing(&key.shift(1))?;
        for (s, c) in starts.iter_mut().zip(changed.iter()) {
            *s |= c.unwrap_or(true);
        }
    }
    Ok(starts)
}

/// Each row's fold over itself and the `n − 1` rows before it in its group
/// (fewer at a group's start).
fn windows(values: &[Option<f64>], starts: &[bool], n: usize, fold: Fold) -> Vec<Option<f64>> {
    let len = values.len();
    // Each row's group start, and its block's: blocks of `n` rows from
    // each group's start.
    let mut group = vec![0; len];
    let mut block = vec![0; len];
    for i in 0..len {
        group[i] = match starts.get(i).copied().unwrap_or(false) || i == 0 {
            true => i,
            false => group[i - 1],
        };
        block[i] = group[i] + (i - group[i]) / n * n;
    }
    // The fold of each row's block up to it, and from it to its block's end.
    let mut prefix = vec![None; len];
    for i in 0..len {
        let before = if block[i] == i { None } else { prefix[i - 1] };
        prefix[i] = fold.of(before, values[i]);
    }
    let mut suffix = vec![None; len];
    for i in (0..len).rev() {
        let after = match i + 1 < len && block[i + 1] == block[i] {
            true => suffix[i + 1],
            false => None,
        };
        suffix[i] = fold.of(values[i], after);
    }
    // A window's first row is n − 1 back, never before its group: in the
    // row's block, or in the block before (the end of it to the row's).
    (0..len)
        .map(|i| {
            let first = (i + 1).saturating_sub(n).max(group[i]);
            match first < block[i] {
                true => fold.of(suffix[first], prefix[i]),
                false => prefix[i],
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// Each window folded one value after another, as the definition reads.
    fn by_hand(values: &[Option<f64>], starts: &[bool], n: usize, fold: Fold) -> Vec<Option<f64>> {
        let mut group = 0;
        (0..values.len())
            .map(|i| {
                if starts[i] {
                    group = i;
                }
                let first = (i + 1).saturating_sub(n).max(group);
                let init = match fold {
                    Fold::Sum => Some(0.0),
                    _ => None,
                };
                values[first..=i].iter().fold(init, |a, v| fold.of(a, *v))
            })
            .collect()
    }

    /// Every window length from 1 to past a group's length, over groups of
    /// several lengths with empty values, against the plain definition.
    #[test]
    fn windows_fold_what_the_definition_folds() {
        let mut values = Vec::new();
        let mut starts = Vec::new();
        let mut seed = 7u64;
        for len in [1usize, 2, 5, 13, 30] {
            for j in 0..len {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let v = (seed >> 33) % 100;
                values.push((!v.is_multiple_of(7)).then_some(v as f64 - 40.0));
                starts.push(j == 0);
            }
        }
        for n in 1..=35 {
            for fold in [Fold::Sum, Fold::Min, Fold::Max] {
                let got = windows(&values, &starts, n, fold);
                let want = by_hand(&values, &starts, n, fold);
                assert_eq!(got, want, "n = {n}, {fold:?}");
            }
        }
    }

    #[test]
    fn a_window_of_nothing_but_empty_values_is_empty_or_zero() {
        let values = [None, None, Some(2.0)];
        let starts = [true, false, false];
        assert_eq!(windows(&values, &starts, 2, Fold::Max), [None, None, Some(2.0)]);
        assert_eq!(
            windows(&values, &starts, 2, Fold::Sum),
            [Some(0.0), Some(0.0), Some(2.0)]
        );
    }
}
