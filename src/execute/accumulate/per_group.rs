//! What a part keeps for each group beyond a count or an extreme: Kahan
//! sums, the distinct values seen (bits while they fit, pairs beyond), and
//! the values a median or quantile picks from.

use polars::prelude::*;

use super::Values;

/// A Kahan sum, as Polars' group-by adds floats.
#[derive(Clone, Copy, Default)]
pub(super) struct Kahan {
    pub(super) sum: f64,
    err: f64,
}

impl Kahan {
    pub(super) fn add(&mut self, x: f64) {
        let y = x - self.err;
        let sum = self.sum + y;
        let err = (sum - self.sum) - y;
        self.sum = sum;
        if err.is_finite() {
            self.err = err;
        }
    }
}

/// Distinct values by group: each (group, value) pair seen once, values
/// as 64 bits (texts by their number, numbers by bits).
pub(super) struct Distinct {
    /// Texts seen, while their bits stay under [`MAX_SEEN_WORDS`].
    bits: Option<Bits>,
    /// Numbers seen, and texts once their bits would pass the limit.
    pairs: PlHashSet<(u32, u64)>,
    pub(super) n: Vec<u64>,
    pub(super) texts: Values,
}

/// Texts (numbered from 1 as they first appear) seen by group: a bit per
/// (group, number), `words` words per group. Setting a bit costs no hash,
/// where a set of pairs cost one for every row (`activities_per_rep`, a
/// distinct count of owners, by month over five million activities took
/// a third longer that way).
struct Bits {
    bits: Vec<u64>,
    words: usize,
}

/// Words of bits of the texts seen, at most (16 MiB).
const MAX_SEEN_WORDS: usize = 1 << 21;

impl Distinct {
    pub(super) fn new() -> Distinct {
        Distinct {
            bits: Some(Bits {
                bits: Vec::new(),
                words: 1,
            }),
            pairs: PlHashSet::default(),
            n: Vec::new(),
            texts: Values::new(),
        }
    }

    /// Adds number `value` (its bits) to group `g`.
    pub(super) fn add(&mut self, g: usize, value: u64) {
        self.bits_to_pairs();
        if self.pairs.insert((g as u32, value)) {
            self.n[g] += 1;
        }
    }

    /// Adds the text numbered `id` to group `g`.
    pub(super) fn add_text(&mut self, g: usize, id: u32) {
        if let Some(b) = &mut self.bits {
            if let Some((w, bit)) = b.place(g, id as usize) {
                if b.bits[w] & bit == 0 {
                    b.bits[w] |= bit;
                    self.n[g] += 1;
                }
                return;
            }
        }
        self.add(g, u64::from(id));
    }

    /// The texts' bits turned into pairs, for good.
    fn bits_to_pairs(&mut self) {
        let Some(b) = self.bits.take() else { return };
        for (g, group) in b.bits.chunks(b.words).enumerate() {
            for (w, &word) in group.iter().enumerate() {
                let mut rest = word;
                while rest != 0 {
                    let id = w * 64 + rest.trailing_zeros() as usize;
                    self.pairs.insert((g as u32, id as u64));
                    rest &= rest - 1;
                }
            }
        }
    }
}

impl Bits {
    /// The word and bit of (group `g`, text `id`), the bits widened to
    /// hold the id and grown to hold the group; `None` (and nothing
    /// changed) if they would pass [`MAX_SEEN_WORDS`].
    fn place(&mut self, g: usize, id: usize) -> Option<(usize, u64)> {
        if id >= self.words * 64 {
            let wider = (id / 64 + 1).next_power_of_two();
            let groups = self.bits.len() / self.words;
            if groups.max(g + 1) * wider > MAX_SEEN_WORDS {
                return None;
            }
            let mut widened = vec![0; groups * wider];
            for (from, to) in self.bits.chunks(self.words).zip(widened.chunks_mut(wider)) {
                to[..from.len()].copy_from_slice(from);
            }
            (self.bits, self.words) = (widened, wider);
        }
        let end = (g + 1) * self.words;
        if end > self.bits.len() {
            if end > MAX_SEEN_WORDS {
                return None;
            }
            // Room for twice the groups: growing costs a copy per doubling.
            self.bits.reserve((end * 2).min(MAX_SEEN_WORDS) - self.bits.len());
            self.bits.resize(end, 0);
        }
        Some((g * self.words + id / 64, 1 << (id % 64)))
    }
}

/// The values of each group, and each group's rows: a row without a value
/// (or filtered out) is a null of Polars' quantile, and how many there are
/// moves its interpolation point by a rounding, which is kept.
pub(super) struct Quantile {
    pub(super) q: f64,
    pub(super) values: Vec<Vec<f64>>,
    pub(super) rows: Vec<u64>,
}

impl Quantile {
    /// Polars' linear quantile of a group's values with `rows - values`
    /// nulls, which it sorts first: the same index arithmetic, to the bit.
    /// Only the value at the index and the next are needed, so the values
    /// are partitioned around the index (linear time) rather than sorted,
    /// in place: the group's values are used up.
    pub(super) fn of(&mut self, g: usize) -> Option<f64> {
        let rows = self.rows.get(g).copied().unwrap_or(0) as usize;
        let values = self.values.get_mut(g)?;
        let kept = values.len();
        if kept == 0 || !(0.0..=1.0).contains(&self.q) {
            return None;
        }
        let nulls = rows.saturating_sub(kept);
        let float_idx = (kept as f64 - 1.0) * self.q + nulls as f64;
        let idx = (float_idx as usize).clamp(0, rows.max(1) - 1);
        let top = float_idx.ceil() as usize;
        let at = idx.checked_sub(nulls).filter(|&at| at < kept)?;
        let order = |a: &f64, b: &f64| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal);
        let (_, &mut lower, above) = values.select_nth_unstable_by(at, order);
        if idx == top {
            return Some(lower);
        }
        let upper = above.iter().copied().min_by(order)?;
        Some(match lower == upper {
            true => lower,
            false => (float_idx - idx as f64) * (upper - lower) + lower,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distinct texts counted by bits while they fit, then by pairs: the
    /// same counts as a set of pairs, groups and ids arriving in any order,
    /// ids widening the bits and groups growing them until they would pass
    /// the limit, and numbers after texts.
    #[test]
    fn distinct_counts_are_those_of_a_set_of_pairs_across_the_switch() {
        let mut bits = crate::testing::random_bits(11);
        let mut next = move |n: u64| (bits() >> 33) % n;
        // Small: bits throughout. Large: 40,000 groups by ids up to 9,000
        // pass 2^21 words part way.
        for (groups, ids, adds) in [(50u64, 300u64, 5_000), (40_000, 9_000, 120_000)] {
            let mut d = Distinct::new();
            d.n = vec![0; groups as usize];
            let mut want: Vec<std::collections::HashSet<u64>> = vec![Default::default(); groups as usize];
            let mut switched_at = None;
            for k in 0..adds {
                // Early rows in the first groups and ids, so both grow.
                let spread = (k as u64 * 4).max(64);
                let (g, id) = (
                    next(groups.min(spread)) as usize,
                    1 + next(ids.min(spread)) as u32,
                );
                d.add_text(g, id);
                want[g].insert(u64::from(id));
                if d.bits.is_none() && switched_at.is_none() {
                    switched_at = Some(k);
                }
            }
            // Every pair again: none counts twice, before or after the switch.
            for (g, ids) in want.iter().enumerate() {
                for &id in ids {
                    d.add_text(g, id as u32);
                }
            }
            d.add(3, 7);
            want[3].insert(7);
            let counts: Vec<u64> = want.iter().map(|s| s.len() as u64).collect();
            assert_eq!(d.n, counts, "{groups} groups");
            assert_eq!(
                switched_at.is_some(),
                groups > 50,
                "{groups} groups: {switched_at:?}"
            );
        }
    }

    /// A quantile by a full sort: Polars' arithmetic over the sorted values
    /// with the nulls first.
    fn sorted_quantile(values: &[f64], rows: usize, q: f64) -> Option<f64> {
        let kept = values.len();
        if kept == 0 {
            return None;
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let nulls = rows - kept;
        let float_idx = (kept as f64 - 1.0) * q + nulls as f64;
        let idx = (float_idx as usize).clamp(0, rows - 1);
        let lower = *sorted.get(idx.checked_sub(nulls)?)?;
        if idx == float_idx.ceil() as usize {
            return Some(lower);
        }
        let upper = sorted[idx + 1 - nulls];
        Some((float_idx - idx as f64) * (upper - lower) + lower)
    }

    /// The value at the index and the next one found without sorting equal
    /// those of a full sort: groups of 0 to 40 values with repeats, with and
    /// without rows left out (nulls), at quantiles on and between values.
    #[test]
    fn a_quantile_takes_the_values_a_sort_would() {
        let mut bits = crate::testing::random_bits(7);
        let mut next = move || bits() >> 33;
        for case in 0..400 {
            let kept = case % 41;
            let values: Vec<f64> = (0..kept).map(|_| (next() % 13) as f64 * 0.5 - 2.0).collect();
            let rows = kept + (next() % 4) as usize * (case % 3);
            for q in [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0] {
                let mut acc = Quantile {
                    q,
                    values: vec![values.clone()],
                    rows: vec![rows as u64],
                };
                let want = sorted_quantile(&values, rows.max(1), q);
                assert_eq!(acc.of(0), want, "case {case}, q {q}, {values:?} of {rows} rows");
            }
        }
    }
}
