//! A lookup's keys: each key's row on the looked-up side, found in one
//! pass that also tells whether any key repeats. A lookup joins every
//! chunk of the rows it serves to the same looked-up rows; Polars' join
//! would hash the looked-up side again for each chunk, and proving the
//! keys distinct by a group-by hashed them once more. Keys are compared as
//! text (both sides are cast to it), and a null key is never a key: it
//! matches nothing and repeats nothing, as in SQL.

use std::hash::BuildHasher;

use polars::prelude::*;
use polars_arrow::array::{Array, Utf8ViewArray};

/// Each key's row in a column of distinct keys: an open-addressing table
/// at most half full, each slot a key's row and the top of its hash, so
/// that finding a key reads one slot and its text (two cache misses where
/// a map of hashes to rows with chains took three).
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
            slots: vec![0; (keys.len() * 2).next_power_of_two().max(16)],
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
        for row in 0..self.keys.len() {
            if !self.keys.is_valid(row) {
                continue;
            }
            let key = self.keys.value(row);
            let hash = self.hash(key);
            match self.find(key, hash) {
                Slot::Taken(_) => *repeated.entry(key.to_string()).or_insert(1) += 1,
                // `of` refused more rows than a slot holds.
                Slot::Free(at) => self.slots[at] = hash >> 32 << 32 | (row as u64 + 1),
            }
        }
        repeated
    }

    fn hash(&self, key: &str) -> u64 {
        self.hasher.hash_one(key) & self.mask
    }

    /// The slot of `key` (whose hash is `hash`), or the free slot it would
    /// take. The table is at most half full: a free slot is always found.
    fn find(&self, key: &str, hash: u64) -> Slot {
        let last = self.slots.len() - 1;
        let mut at = hash as usize & last;
        loop {
            let slot = self.slots[at];
            if slot == 0 {
                return Slot::Free(at);
            }
            let row = (slot & u64::from(u32::MAX)) - 1;
            if slot >> 32 == hash >> 32 && self.keys.value(row as usize) == key {
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

    /// The row of each key of `keys` (null: not a key, or a null key),
    /// long columns in pieces on every core.
    pub fn rows_of(&self, keys: &StringChunked) -> PolarsResult<IdxCa> {
        let n = keys.len();
        let pieces: Vec<StringChunked> = (0..n.div_ceil(KEYS_PER_CORE).max(1))
            .map(|i| keys.slice((i * KEYS_PER_CORE) as i64, KEYS_PER_CORE))
            .collect();
        let rows = crate::cores::on_cores(pieces, |keys| {
            Ok(keys
                .iter()
                .map(|k| k.and_then(|k| self.row_of(k)))
                .collect::<IdxCa>())
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
        let keys: Vec<String> = (0..5000).map(|i| format!("deal-{i}")).collect();
        let mut with_nulls: Vec<Option<&str>> = keys.iter().map(|k| Some(k.as_str())).collect();
        with_nulls.insert(17, None);
        with_nulls.push(None);
        with_nulls.push(Some(""));
        // Full hashes, and hashes of three bits: runs of 5000 keys.
        for mask in [u64::MAX, 0b111] {
            let i = index_with_mask(&with_nulls, mask);
            for (row, k) in with_nulls.iter().enumerate() {
                if let Some(k) = k {
                    assert_eq!(i.row_of(k), Some(row as IdxSize), "{k}");
                }
            }
            assert_eq!(i.row_of("deal-5000"), None);
            assert_eq!(i.row_of("Deal-1"), None);
            let asked = text(&[Some("deal-3"), None, Some("nope"), Some(""), Some("deal-17")]);
            let rows: Vec<Option<IdxSize>> = i.rows_of(&asked).unwrap().iter().collect();
            assert_eq!(rows, vec![Some(3), None, None, Some(5002), Some(18)]);
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
        assert!(index(&[]).row_of("a").is_none());
    }
}
