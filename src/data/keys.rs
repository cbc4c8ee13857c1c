//! A lookup's keys: each key's row on the looked-up side, found in one
//! pass that also tells whether any key repeats. A lookup joins every
//! chunk of the rows it serves to the same looked-up rows; Polars' join
//! would hash the looked-up side again for each chunk, and proving the
//! keys distinct by a group-by hashed them once more. Keys are compared as
//! text (both sides are cast to it), and a null key is never a key: it
//! matches nothing and repeats nothing, as in SQL.

use std::hash::BuildHasher;

use polars::prelude::*;
use polars_arrow::array::{Array, Utf8ViewArray, View};

/// Each key's row in a column of distinct keys: an open-addressing table
/// at most two thirds full, each slot a key's row and the top of its
/// hash, so that finding a key reads one slot and its text (two cache
/// misses, where a map of hashes to rows with chains of rows took three).
pub struct KeyIndex {
    keys: Utf8ViewArray,
    hasher: PlRandomState,
    /// Bits of a hash kept: all of them, but for tests whose keys must
    /// share hashes.
    mask: u64,
    /// `hash >> 32 << 32 | row + 1` of the key in each slot; 0: empty.
    slots: Vec<u64>,
}

/// The key that repeats most (the least, as text, among equals).
#[derive(Debug, PartialEq)]
pub struct Repeated {
    pub key: String,
    pub times: u64,
}

/// Where a key is, or would go.
enum Slot {
    Taken(IdxSize),
    Free(usize),
}

/// The row in a slot, if it holds one.
fn slot_row(slot: u64) -> Option<usize> {
    ((slot & u64::from(u32::MAX)) as usize).checked_sub(1)
}

/// Keys whose slots are read together.
const BATCH: usize = 16;

/// Keys looked up on one core at a time, at least.
const KEYS_PER_CORE: usize = 1 << 16;

impl KeyIndex {
    /// The rows of `keys`, or the key repeated most if one repeats.
    pub fn of(keys: &StringChunked) -> PolarsResult<Result<KeyIndex, Repeated>> {
        KeyIndex::with_mask(keys, u64::MAX)
    }

    fn with_mask(keys: &StringChunked, mask: u64) -> PolarsResult<Result<KeyIndex, Repeated>> {
        let keys = keys.rechunk();
        let keys = match keys.downcast_iter().next() {
            Some(a) => a.clone(),
            None => Utf8ViewArray::new_empty(ArrowDataType::Utf8View),
        };
        // A row and one more fit the low half of a slot.
        if IdxSize::try_from(keys.len()).map_or(true, |n| u64::from(n) >= u64::from(u32::MAX)) {
            polars_bail!(ComputeError: "a looked-up dataset of {} rows is too long to look up", keys.len());
        }
        let mut index = KeyIndex {
            hasher: PlRandomState::default(),
            mask,
            slots: vec![0; (keys.len() + keys.len() / 2).next_power_of_two().max(16)],
            keys,
        };
        let repeated = index.add_rows();
        Ok(
            match repeated
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
            {
                Some((key, times)) => Err(Repeated { key, times }),
                None => Ok(index),
            },
        )
    }

    /// Adds every row, and counts the rows of each key that repeats.
    fn add_rows(&mut self) -> PlHashMap<String, u64> {
        let mut repeated: PlHashMap<String, u64> = PlHashMap::default();
        let last = self.slots.len() - 1;
        let mut hashes = [0u64; BATCH];
        let mut first = [0u64; BATCH];
        for start in (0..self.keys.len()).step_by(BATCH) {
            let n = BATCH.min(self.keys.len() - start);
            for (i, h) in hashes.iter_mut().enumerate().take(n) {
                *h = self.hash(self.keys.value(start + i));
            }
            // The batch's first slots read together, so that their cache
            // misses overlap (`black_box` keeps the reads), then each row
            // placed with its slot in cache.
            for i in 0..n {
                first[i] = self.slots[hashes[i] as usize & last];
            }
            std::hint::black_box(&first);
            for (i, &hash) in hashes.iter().enumerate().take(n) {
                let row = start + i;
                if !self.keys.is_valid(row) {
                    continue;
                }
                let key = self.keys.value(row);
                match self.find(key, hash) {
                    Slot::Taken(_) => *repeated.entry(key.to_string()).or_insert(1) += 1,
                    // `of` refused more rows than a slot holds.
                    Slot::Free(at) => self.slots[at] = hash >> 32 << 32 | (row as u64 + 1),
                }
            }
        }
        repeated
    }

    fn hash(&self, key: &str) -> u64 {
        self.hasher.hash_one(key) & self.mask
    }

    /// The slot of `key` (whose hash is `hash`), or the free slot it would
    /// take. The table is at most two thirds full: a free slot is always
    /// found.
    fn find(&self, key: &str, hash: u64) -> Slot {
        let last = self.slots.len() - 1;
        let mut at = hash as usize & last;
        loop {
            let slot = self.slots[at];
            if slot == 0 {
                return Slot::Free(at);
            }
            let row = slot_row(slot).unwrap_or_default();
            if slot >> 32 == hash >> 32 && self.keys.value(row) == key {
                return Slot::Taken(row as IdxSize);
            }
            at = (at + 1) & last;
        }
    }

    /// The row of `key`, if it is a key.
    pub fn row_of(&self, key: &str) -> Option<IdxSize> {
        match self.find(key, self.hash(key)) {
            Slot::Taken(row) => Some(row),
            Slot::Free(_) => None,
        }
    }

    /// The row of each of `keys`, added to `rows`, a batch of keys at a
    /// time: the batch's first slots, then their rows' views, are read in
    /// loops of reads that do not wait on each other (`black_box` keeps
    /// them), so the batch's cache misses overlap; then each key is found
    /// with its slot and view in cache. Finding one key after another waited
    /// on two misses per key.
    fn rows_in(&self, keys: &Utf8ViewArray, rows: &mut Vec<Option<IdxSize>>) {
        let last = self.slots.len() - 1;
        let views = self.keys.views();
        let mut hashes = [0u64; BATCH];
        let mut slots = [0u64; BATCH];
        let mut seen = [View::default(); BATCH];
        for start in (0..keys.len()).step_by(BATCH) {
            let n = BATCH.min(keys.len() - start);
            for (i, h) in hashes.iter_mut().enumerate().take(n) {
                *h = self.hash(keys.value(start + i));
            }
            for i in 0..n {
                slots[i] = self.slots[hashes[i] as usize & last];
            }
            for i in 0..n {
                seen[i] = slot_row(slots[i])
                    .and_then(|r| views.get(r))
                    .copied()
                    .unwrap_or_default();
            }
            std::hint::black_box((&slots, &seen));
            for (i, &hash) in hashes.iter().enumerate().take(n) {
                let row = match keys.is_valid(start + i) {
                    true => match self.find(keys.value(start + i), hash) {
                        Slot::Taken(row) => Some(row),
                        Slot::Free(_) => None,
                    },
                    false => None,
                };
                rows.push(row);
            }
        }
    }

    /// The row of each key of `keys` (null: not a key, or a null key),
    /// long columns in pieces on every core.
    pub fn rows_of(&self, keys: &StringChunked) -> PolarsResult<IdxCa> {
        let n = keys.len();
        let pieces: Vec<StringChunked> = (0..n.div_ceil(KEYS_PER_CORE).max(1))
            .map(|i| keys.slice((i * KEYS_PER_CORE) as i64, KEYS_PER_CORE))
            .collect();
        let rows = crate::cores::on_cores(pieces, |keys| {
            let mut rows = Vec::with_capacity(keys.len());
            for keys in keys.downcast_iter() {
                self.rows_in(keys, &mut rows);
            }
            Ok(IdxCa::from_iter_options(PlSmallStr::EMPTY, rows.into_iter()))
        })?;
        let mut all = IdxCa::with_chunk(keys.name().clone(), Default::default());
        for r in &rows {
            all.append(r)?;
        }
        Ok(all.rechunk().into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(keys: &[Option<&str>]) -> StringChunked {
        StringChunked::from_iter_options("k".into(), keys.iter().copied())
    }

    fn index(keys: &[Option<&str>]) -> KeyIndex {
        index_with_mask(keys, u64::MAX)
    }

    fn index_with_mask(keys: &[Option<&str>], mask: u64) -> KeyIndex {
        match KeyIndex::with_mask(&text(keys), mask) {
            Ok(Ok(i)) => i,
            _ => panic!("keys {keys:?} should be distinct"),
        }
    }

    #[test]
    fn each_key_finds_its_row_and_nothing_else_matches() {
        // Keys of at most 12 bytes (held in their views) and longer ones.
        let keys: Vec<String> = (0..5000)
            .map(|i| match i % 2 {
                0 => format!("deal-{i}"),
                _ => format!("a-longer-deal-key-{i}"),
            })
            .collect();
        let mut with_nulls: Vec<Option<&str>> = keys.iter().map(|k| Some(k.as_str())).collect();
        with_nulls.insert(17, None);
        with_nulls.push(None);
        with_nulls.push(Some(""));
        // Full hashes, and hashes of eight bits (no tags, 5000 keys starting
        // at 256 slots: long runs of other keys on the way to each).
        for mask in [u64::MAX, 0xff] {
            let i = index_with_mask(&with_nulls, mask);
            for (row, k) in with_nulls.iter().enumerate() {
                if let Some(k) = k {
                    assert_eq!(i.row_of(k), Some(row as IdxSize), "{k}");
                }
            }
            assert_eq!(i.row_of("deal-5000"), None);
            assert_eq!(i.row_of("Deal-2"), None);
            assert_eq!(i.row_of("a-longer-deal-key-2"), None);
            // In batches: every key, then keys and others in no order.
            let every: Vec<Option<IdxSize>> = i.rows_of(&text(&with_nulls)).unwrap().iter().collect();
            let want: Vec<Option<IdxSize>> = (0..with_nulls.len())
                .map(|r| with_nulls[r].map(|_| r as IdxSize))
                .collect();
            assert_eq!(every, want);
            let asked = text(&[
                Some("a-longer-deal-key-3"),
                None,
                Some("nope"),
                Some(""),
                Some("deal-18"),
                Some("a-longer-deal-key-30"),
                Some("deal-4"),
            ]);
            let rows: Vec<Option<IdxSize>> = i.rows_of(&asked).unwrap().iter().collect();
            assert_eq!(
                rows,
                vec![Some(3), None, None, Some(5002), Some(19), None, Some(4)]
            );
        }
    }

    #[test]
    fn long_columns_are_looked_up_in_pieces_kept_in_order() {
        let keys: Vec<String> = (0..1000).map(|i| format!("k{i}")).collect();
        let i = index(&keys.iter().map(|k| Some(k.as_str())).collect::<Vec<_>>());
        // Three pieces and a bit, each key asked at a row far from its own.
        let n = 3 * KEYS_PER_CORE + 123;
        let asked: Vec<Option<String>> = (0..n)
            .map(|r| (r % 7 != 0).then(|| format!("k{}", (r * 31) % 1200)))
            .collect();
        let asked = StringChunked::from_iter_options("k".into(), asked.iter().map(|k| k.as_deref()));
        let rows = i.rows_of(&asked).unwrap();
        assert_eq!(rows.len(), n);
        for (r, got) in rows.iter().enumerate() {
            let want = (r % 7 != 0).then_some((r * 31) % 1200).filter(|&k| k < 1000);
            assert_eq!(got, want.map(|k| k as IdxSize), "row {r}");
        }
    }

    #[test]
    fn the_key_repeated_most_is_named_and_nulls_never_repeat() {
        let keys = [
            Some("b"),
            Some("a"),
            None,
            Some("b"),
            Some("a"),
            None,
            Some("c"),
            Some("a"),
        ];
        for mask in [u64::MAX, 0] {
            let found = KeyIndex::with_mask(&text(&keys), mask).map(|r| r.err());
            assert_eq!(
                found.ok().flatten(),
                Some(Repeated {
                    key: "a".into(),
                    times: 3
                })
            );
        }
        // A tie goes to the least key, whatever the order of the rows.
        let tie = [Some("y"), Some("x"), Some("y"), Some("x")];
        let found = KeyIndex::of(&text(&tie)).map(|r| r.err());
        assert_eq!(
            found.ok().flatten(),
            Some(Repeated {
                key: "x".into(),
                times: 2
            })
        );
        assert!(index(&[None, None, Some("a")]).row_of("a") == Some(2));
        // No keys at all (a looked-up file of no rows): nothing matches.
        let none = index(&[]);
        assert!(none.row_of("a").is_none());
        let rows: Vec<Option<IdxSize>> = none
            .rows_of(&text(&[Some("a"), None, Some("")]))
            .unwrap()
            .iter()
            .collect();
        assert_eq!(rows, vec![None, None, None]);
    }
}
