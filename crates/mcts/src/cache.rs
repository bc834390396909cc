//! A bounded evaluation cache keyed by position hash.

/// Hit and miss counters.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Lookups that found the position.
    pub hits: u64,
    /// Lookups that did not.
    pub misses: u64,
    /// Entries written.
    pub inserts: u64,
}

impl CacheStats {
    /// hits / (hits + misses), 0 before any lookup.
    pub fn hit_rate(&self) -> f64 {
        let n = self.hits + self.misses;
        if n == 0 {
            0.0
        } else {
            self.hits as f64 / n as f64
        }
    }
}

/// Two entries sharing a set: keys, values and flags on one cache line, so a
/// lookup reads one line (and the policy row only on a hit).
#[derive(Copy, Clone, Debug, Default)]
#[repr(C, align(32))]
struct Set {
    keys: [u64; 2],
    values: [f32; 2],
    used: [bool; 2],
    referenced: [bool; 2],
}

/// Evaluations (policy row and value) by position hash, in a fixed number of
/// entries: two-way set associative, replacing with a second-chance bit (a clock
/// per set), so memory is bounded and lookups never allocate. Capacity 0 turns it
/// off (every lookup misses, inserts do nothing).
///
/// A 64-bit hash identifies a position; two positions with the same hash would
/// share an entry (at 2^-64 per pair, far below any other error here).
#[derive(Clone, Debug)]
pub struct EvalCache {
    num_actions: usize,
    sets: Vec<Set>,
    policies: Vec<f32>,
    stats: CacheStats,
}

impl EvalCache {
    /// A cache of `capacity` entries (rounded up to even) for policies of `num_actions`.
    pub fn new(capacity: usize, num_actions: usize) -> Self {
        let sets = capacity.div_ceil(2);
        EvalCache {
            num_actions,
            sets: vec![Set::default(); sets],
            policies: vec![0.0; sets * 2 * num_actions],
            stats: CacheStats::default(),
        }
    }

    /// A cache that holds nothing (allocates nothing).
    pub fn off() -> Self {
        Self::new(0, 0)
    }

    /// Number of entries it can hold.
    pub fn capacity(&self) -> usize {
        self.sets.len() * 2
    }

    /// Whether it holds anything at all (capacity above 0).
    pub fn is_on(&self) -> bool {
        !self.sets.is_empty()
    }

    /// Counters so far.
    pub fn stats(&self) -> CacheStats {
        self.stats
    }

    /// The set of `hash`: its high bits scaled to the number of sets (a multiply
    /// and a shift, no division; the hashes are mixed, so any bits will do).
    #[inline]
    fn set(&self, hash: u64) -> usize {
        ((u128::from(hash) * self.sets.len() as u128) >> 64) as usize
    }

    #[inline]
    fn find(&self, hash: u64) -> Option<(usize, usize)> {
        if self.sets.is_empty() {
            return None;
        }
        let s = self.set(hash);
        let set = &self.sets[s];
        (0..2)
            .find(|&w| set.used[w] && set.keys[w] == hash)
            .map(|w| (s, w))
    }

    /// The cached policy row and value of `hash`, if present.
    #[inline]
    pub fn get(&mut self, hash: u64) -> Option<(&[f32], f32)> {
        match self.find(hash) {
            Some((s, w)) => {
                self.stats.hits += 1;
                self.sets[s].referenced[w] = true;
                let a = self.num_actions;
                let i = 2 * s + w;
                Some((&self.policies[i * a..(i + 1) * a], self.sets[s].values[w]))
            }
            None => {
                self.stats.misses += 1;
                None
            }
        }
    }

    /// Stores an answer for `hash`, evicting the entry of its set not used since
    /// its last second chance.
    ///
    /// # Panics
    /// If `policy` is shorter than `num_actions`.
    pub fn insert(&mut self, hash: u64, policy: &[f32], value: f32) {
        if self.sets.is_empty() {
            return;
        }
        let (s, w) = self.find(hash).unwrap_or_else(|| {
            let s = self.set(hash);
            let set = &mut self.sets[s];
            let way = (0..2)
                .find(|&w| !set.used[w])
                .or_else(|| (0..2).find(|&w| !set.referenced[w]))
                .unwrap_or_else(|| {
                    set.referenced = [false; 2];
                    0
                });
            (s, way)
        });
        let set = &mut self.sets[s];
        set.keys[w] = hash;
        set.used[w] = true;
        set.referenced[w] = false;
        set.values[w] = value;
        let a = self.num_actions;
        let i = 2 * s + w;
        self.policies[i * a..(i + 1) * a].copy_from_slice(&policy[..a]);
        self.stats.inserts += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_finds_and_stays_bounded() {
        let mut c = EvalCache::new(64, 3);
        assert!(c.get(5).is_none());
        c.insert(5, &[0.2, 0.3, 0.5], -0.5);
        assert_eq!(c.get(5), Some((&[0.2, 0.3, 0.5][..], -0.5)));
        for h in 0..10_000u64 {
            c.insert(h.wrapping_mul(0x9e37_79b9_7f4a_7c15), &[0.0; 3], 0.0);
        }
        assert_eq!(c.capacity(), 64);
        let found = (0..10_000u64)
            .filter(|h| c.find(h.wrapping_mul(0x9e37_79b9_7f4a_7c15)).is_some())
            .count();
        assert!(found <= 64);
        assert_eq!(c.stats().hits, 1);
    }

    #[test]
    fn referenced_entries_survive_one_eviction() {
        // Two slots in one set: keep touching `a`, insert others; `a` stays.
        let mut c = EvalCache::new(2, 1);
        c.insert(1, &[1.0], 1.0);
        for h in 2..50 {
            assert!(c.get(1).is_some(), "hot entry evicted at {h}");
            c.insert(h, &[0.0], 0.0);
        }
        assert!(c.stats().hit_rate() > 0.5);
    }

    #[test]
    fn capacity_zero_is_off() {
        let mut c = EvalCache::new(0, 4);
        c.insert(1, &[0.25; 4], 0.0);
        assert!(c.get(1).is_none());
        assert_eq!(c.stats().misses, 1);
        assert!(!EvalCache::off().is_on());
    }

    #[test]
    fn every_set_is_reachable() {
        // The set index comes from the hash's high bits: spread hashes fill all sets.
        let mut c = EvalCache::new(1000, 1);
        for h in 0..100_000u64 {
            c.insert(az_game::mix64(h), &[0.0], 0.0);
        }
        assert!(c.sets.iter().all(|s| s.used == [true, true]));
    }
}
