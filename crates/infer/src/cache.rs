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

/// Network answers (policy row and value) by position hash, in a fixed number of
/// slots: two-way set associative, replacing with a second-chance bit (a clock
/// per set), so memory is bounded and lookups never allocate. Capacity 0 turns it
/// off (every lookup misses, inserts do nothing).
///
/// A 64-bit hash identifies a position; two positions with the same hash would
/// share an entry (at 2^-64 per pair, far below any other error here).
#[derive(Clone, Debug)]
pub struct EvalCache {
    num_actions: usize,
    keys: Vec<u64>,
    used: Vec<bool>,
    referenced: Vec<bool>,
    values: Vec<f32>,
    policies: Vec<f32>,
    stats: CacheStats,
}

impl EvalCache {
    /// A cache of `capacity` entries (rounded up to even) for policies of `num_actions`.
    pub fn new(capacity: usize, num_actions: usize) -> Self {
        let slots = capacity.div_ceil(2) * 2;
        EvalCache {
            num_actions,
            keys: vec![0; slots],
            used: vec![false; slots],
            referenced: vec![false; slots],
            values: vec![0.0; slots],
            policies: vec![0.0; slots * num_actions],
            stats: CacheStats::default(),
        }
    }

    /// Number of entries it can hold.
    pub fn capacity(&self) -> usize {
        self.keys.len()
    }

    /// Counters so far.
    pub fn stats(&self) -> CacheStats {
        self.stats
    }

    fn set(&self, hash: u64) -> usize {
        // The low bits of a mixed hash are as good as any; 2 slots per set.
        ((hash % (self.keys.len() as u64 / 2)) * 2) as usize
    }

    fn find(&self, hash: u64) -> Option<usize> {
        if self.keys.is_empty() {
            return None;
        }
        let s = self.set(hash);
        (s..s + 2).find(|&i| self.used[i] && self.keys[i] == hash)
    }

    /// The cached policy row and value of `hash`, if present.
    pub fn get(&mut self, hash: u64) -> Option<(&[f32], f32)> {
        match self.find(hash) {
            Some(i) => {
                self.stats.hits += 1;
                self.referenced[i] = true;
                let a = self.num_actions;
                Some((&self.policies[i * a..(i + 1) * a], self.values[i]))
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
        if self.keys.is_empty() {
            return;
        }
        let slot = self.find(hash).unwrap_or_else(|| {
            let s = self.set(hash);
            if let Some(free) = (s..s + 2).find(|&i| !self.used[i]) {
                return free;
            }
            if let Some(cold) = (s..s + 2).find(|&i| !self.referenced[i]) {
                return cold;
            }
            self.referenced[s] = false;
            self.referenced[s + 1] = false;
            s
        });
        let a = self.num_actions;
        self.keys[slot] = hash;
        self.used[slot] = true;
        self.referenced[slot] = false;
        self.values[slot] = value;
        self.policies[slot * a..(slot + 1) * a].copy_from_slice(&policy[..a]);
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
    }
}
