//! The groups of a hand-written group-by ([`super::accumulate`]): each
//! key's group, numbered as keys first appear. Finding a row's group is
//! most of the cost of a query of few KPIs, so keys of at most two
//! dimensions and a period (by owner and month, say) are placed in a table
//! indexed by their parts: one load per row, no hash, no key compared,
//! while the table stays small (a few thousand owners by a few dozen months
//! is a table of some hundred kilobytes, where a hash table of the same
//! keys is several times larger and read at random). Other keys, and every
//! key once the table would grow past [`TABLE_CELLS`], go through a hash
//! table.

use polars::prelude::PlHashMap;

/// Units grouped by more dimensions go to Polars' group-by.
pub(crate) const MAX_DIMS: usize = 4;

/// A group's key: the ids of its dimension values (0: null) and its
/// period's first day ([`NO_PERIOD`]: none). 20 bytes, not the 24 of an
/// `Option<i32>`: the hash table of groups is read at random for every row.
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
pub(super) struct Key {
    pub dims: [u32; MAX_DIMS],
    pub period: i32,
}

/// The period of a row without one (no period starts 5.9 million years
/// before 1970).
pub(super) const NO_PERIOD: i32 = i32::MIN;

impl Key {
    /// No dimension values, no period.
    pub const EMPTY: Key = Key {
        dims: [0; MAX_DIMS],
        period: NO_PERIOD,
    };
}

/// Cells the table may have (16 MiB of group ids) before keys go by hash.
const TABLE_CELLS: usize = 1 << 22;

/// A cell without a group.
const NONE: u32 = u32::MAX;

pub(super) struct Groups {
    /// Each group's key, by group.
    keys: Vec<Key>,
    table: Option<Table>,
    by_hash: PlHashMap<Key, u32>,
}

/// Groups by their first dimension's id, second dimension's id and
/// period's place, in a flat table of `sizes[0] × sizes[1] × sizes[2]`.
struct Table {
    sizes: [usize; 3],
    cells: Vec<u32>,
    places: Places,
    /// Cells it may grow to.
    limit: usize,
}

impl Groups {
    /// Groups of keys of `dims` dimensions.
    pub fn new(dims: usize) -> Groups {
        Groups::with_table_limit(dims, TABLE_CELLS)
    }

    fn with_table_limit(dims: usize, limit: usize) -> Groups {
        let table = (dims <= 2).then(|| {
            let sizes = [if dims > 0 { 16 } else { 1 }, if dims > 1 { 16 } else { 1 }, 16];
            Table {
                sizes,
                cells: vec![NONE; sizes.iter().product()],
                places: Places::default(),
                limit,
            }
        });
        Groups {
            keys: Vec::new(),
            table,
            by_hash: PlHashMap::default(),
        }
    }

    /// Each group's key, by group.
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// The group of `key`, a new one if it is the first of its key.
    pub fn id(&mut self, key: Key) -> u32 {
        if let Some(table) = self.table.as_mut() {
            match table.cell(&key, &self.keys) {
                Some(cell) => {
                    if let Some(&id) = table.cells.get(cell).filter(|&&id| id != NONE) {
                        return id;
                    }
                    let id = self.keys.len() as u32;
                    if let Some(c) = table.cells.get_mut(cell) {
                        *c = id;
                    }
                    self.keys.push(key);
                    return id;
                }
                // Too many cells: every group so far into the hash table.
                None => {
                    self.by_hash = self
                        .keys
                        .iter()
                        .enumerate()
                        .map(|(g, k)| (*k, g as u32))
                        .collect();
                    self.table = None;
                }
            }
        }
        let next = self.keys.len() as u32;
        let id = *self.by_hash.entry(key).or_insert(next);
        if id == next {
            self.keys.push(key);
        }
        id
    }

    /// The groups of a block of keys, appended to `ids` in order, as
    /// [`Groups::id`] of each in turn would number them. Through the table,
    /// the block's cells are worked out first and then read in one loop of
    /// independent loads, so that their cache misses overlap (read one key
    /// at a time, each row waited on its cell: most of the cost of a group).
    /// Keys whose cell is still empty then go one by one, in order, so a
    /// new group is numbered by its first row, as [`Groups::id`] does.
    pub fn ids(&mut self, keys: &[Key], ids: &mut Vec<u32>, cells: &mut Vec<usize>) {
        let fitted = self.table.as_mut().is_some_and(|t| t.cells_of(keys, cells));
        let Some(table) = self.table.as_mut().filter(|_| fitted) else {
            // No table, or a key that grows it: one at a time.
            ids.extend(keys.iter().map(|&k| self.id(k)));
            return;
        };
        let start = ids.len();
        // Within the table's sizes, every cell is inside it.
        ids.extend(cells.iter().map(|&c| table.cells.get(c).copied().unwrap_or(NONE)));
        for ((id, &c), key) in ids[start..].iter_mut().zip(cells.iter()).zip(keys) {
            let Some(cell) = table.cells.get_mut(c).filter(|_| *id == NONE) else {
                continue;
            };
            if *cell == NONE {
                *cell = self.keys.len() as u32;
                self.keys.push(*key);
            }
            *id = *cell;
        }
    }
}

impl Table {
    /// The cells of `keys`, into `cells`; false (and `cells` partial) if a
    /// key is outside the table as it is, which must grow first.
    fn cells_of(&mut self, keys: &[Key], cells: &mut Vec<usize>) -> bool {
        cells.clear();
        for key in keys {
            let parts = self.parts(key);
            if parts.iter().zip(self.sizes).any(|(&p, size)| p >= size) {
                return false;
            }
            cells.push(self.index(parts));
        }
        true
    }

    /// The cell of `key`, the table grown to hold it (`keys`: every group's
    /// key, laid out again); `None` if it would grow past its limit.
    fn cell(&mut self, key: &Key, keys: &[Key]) -> Option<usize> {
        let parts = self.parts(key);
        if parts.iter().zip(self.sizes).any(|(&p, size)| p >= size) {
            let mut sizes = self.sizes;
            for (size, &p) in sizes.iter_mut().zip(&parts) {
                while *size <= p {
                    *size = size.checked_mul(2)?;
                }
            }
            let cells = sizes.iter().try_fold(1usize, |n, &s| n.checked_mul(s))?;
            if cells > self.limit {
                return None;
            }
            self.sizes = sizes;
            self.cells = vec![NONE; cells];
            for (g, k) in keys.iter().enumerate() {
                let parts = self.parts(k);
                let at = self.index(parts);
                if let Some(c) = self.cells.get_mut(at) {
                    *c = g as u32;
                }
            }
        }
        Some(self.index(parts))
    }

    /// A key's first and second dimension ids and its period's place (a
    /// new place for a period not seen before).
    fn parts(&mut self, key: &Key) -> [usize; 3] {
        let place = self.places.of(key.period);
        [key.dims[0] as usize, key.dims[1] as usize, place as usize]
    }

    fn index(&self, [a, b, p]: [usize; 3]) -> usize {
        (a * self.sizes[1] + b) * self.sizes[2] + p
    }
}

/// Each period's place along the table, numbered as periods first appear:
/// by its first day's distance from the first period seen (a list read
/// directly), or by hash when that is more than [`NEAR_DAYS`] away. No
/// period (every row of a query without a grain) has a place of its own,
/// not looked up by hash for each row.
#[derive(Default)]
struct Places {
    none: Option<u32>,
    base: i32,
    near: Vec<u32>,
    far: PlHashMap<i32, u32>,
    count: u32,
}

/// Days either side of the first period's first day placed through a list.
const NEAR_DAYS: i64 = 1 << 15;

impl Places {
    fn of(&mut self, first_day: i32) -> u32 {
        if first_day == NO_PERIOD {
            return *self.none.get_or_insert_with(|| {
                self.count += 1;
                self.count - 1
            });
        }
        // The list starts at the first period seen.
        if self.near.is_empty() {
            self.base = first_day;
        }
        let at = i64::from(first_day) - i64::from(self.base) + NEAR_DAYS;
        if !(0..2 * NEAR_DAYS).contains(&at) {
            let next = self.count;
            let place = *self.far.entry(first_day).or_insert(next);
            self.count += u32::from(place == next);
            return place;
        }
        let at = at as usize;
        if at >= self.near.len() {
            self.near.resize(at + 1, NONE);
        }
        match self.near.get_mut(at) {
            Some(place) if *place != NONE => *place,
            Some(place) => {
                *place = self.count;
                self.count += 1;
                *place
            }
            None => NONE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(a: u32, b: u32, period: i32) -> Key {
        Key {
            dims: [a, b, 0, 0],
            period,
        }
    }

    /// The same groups, numbered the same, through a table that grows, one
    /// that gives up for the hash table part way, and the hash table alone.
    #[test]
    fn every_way_numbers_the_groups_alike() {
        let keys: Vec<Key> = (0..5000u32)
            .map(|i| {
                // No period; periods far from the first (placed by hash); near ones.
                let period = match i {
                    _ if i % 17 == 0 => NO_PERIOD,
                    _ if i % 23 == 0 => 119_000 + (i % 3) as i32,
                    _ => 19_000 + (i * 31 % 40) as i32,
                };
                key(i * 7 % 300, i * 11 % 5, period)
            })
            .collect();
        let ids = |mut g: Groups| -> (Vec<u32>, usize) {
            let ids = keys.iter().map(|&k| g.id(k)).collect();
            (ids, g.keys().len())
        };
        // In blocks: several keys of one new group in a block, blocks that
        // grow the table, the table given up part way.
        let blocks = |mut g: Groups, block: usize| -> (Vec<u32>, usize) {
            let (mut ids, mut cells) = (Vec::new(), Vec::new());
            keys.chunks(block).for_each(|b| g.ids(b, &mut ids, &mut cells));
            (ids, g.keys().len())
        };
        let grown = ids(Groups::with_table_limit(2, TABLE_CELLS));
        let gave_up = ids(Groups::with_table_limit(2, 1 << 12));
        let hashed = ids(Groups::with_table_limit(3, TABLE_CELLS));
        assert_eq!(grown, hashed);
        assert_eq!(gave_up, hashed);
        for block in [1, 7, 256, 5000] {
            assert_eq!(blocks(Groups::with_table_limit(2, TABLE_CELLS), block), hashed);
            assert_eq!(blocks(Groups::with_table_limit(2, 1 << 12), block), hashed);
        }
        let mut g = Groups::with_table_limit(2, TABLE_CELLS);
        keys.iter().for_each(|&k| {
            g.id(k);
        });
        // The table was used, its periods placed by the list from the first
        // dated key on, though the first key has no period.
        assert!(g
            .table
            .as_ref()
            .is_some_and(|t| !t.places.near.is_empty() && t.places.base == 19_000 + 31));
        // The small one did give up.
        let mut g = Groups::with_table_limit(2, 1 << 12);
        keys.iter().for_each(|&k| {
            g.id(k);
        });
        assert!(g.table.is_none());
        // Distinct keys are distinct groups, one per key.
        let distinct: std::collections::HashSet<Key> = keys.iter().copied().collect();
        assert_eq!(grown.1, distinct.len());
    }

    /// A block whose new groups come back several times within it (the
    /// table already the right size): each is one group, numbered by its
    /// first row.
    #[test]
    fn a_new_group_met_again_in_its_block_is_the_same_group() {
        let keys: Vec<Key> = (0..20_000u32)
            .map(|i| key((i / 50) % 40, i % 3, 19_000 + ((i / 1000) % 9) as i32))
            .collect();
        let mut one = Groups::new(2);
        let each: Vec<u32> = keys.iter().map(|&k| one.id(k)).collect();
        let mut g = Groups::new(2);
        let (mut ids, mut cells) = (Vec::new(), Vec::new());
        keys.chunks(256).for_each(|b| g.ids(b, &mut ids, &mut cells));
        assert_eq!(ids, each);
        assert_eq!(g.keys().len(), 40 * 3 * 9);
        assert!(g.table.is_some());
    }
}
