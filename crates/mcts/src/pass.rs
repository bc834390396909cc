//! One pass of the per-move loop over one search or many: gather their leaves
//! into one request, answer what the cache knows, apply the evaluations.

use crate::cache::EvalCache;
use crate::evaluator::Evaluations;
use crate::search::Search;
use crate::tree::{Gathered, Leaf};
use az_game::Game;

/// The leaves of one evaluation request and the searches they belong to.
///
/// [`Search::run`] drives one search with it; a self-play worker drives many,
/// one request per group of games: [`gather`](Pass::gather) from each,
/// [`answer_from_cache`](Pass::answer_from_cache), send
/// [`leaves`](Pass::leaves) to the evaluator, and [`apply`](Pass::apply) the
/// answers. The buffers are kept, so a pass allocates nothing once warm.
#[derive(Debug)]
pub struct Pass<G: Game> {
    leaves: Vec<Leaf<G>>,
    /// `owners[i]`: index of leaf `i`'s search in the slice given to `apply`.
    owners: Vec<u32>,
}

impl<G: Game> Default for Pass<G> {
    fn default() -> Self {
        Pass {
            leaves: Vec::new(),
            owners: Vec::new(),
        }
    }
}

impl<G: Game> Pass<G> {
    /// An empty pass with room for `leaves` leaves.
    pub fn with_capacity(leaves: usize) -> Self {
        Pass {
            leaves: Vec::with_capacity(leaves),
            owners: Vec::with_capacity(leaves),
        }
    }

    /// The leaves waiting for their evaluations, in request order.
    pub fn leaves(&self) -> &[Leaf<G>] {
        &self.leaves
    }

    /// Number of leaves waiting.
    pub fn len(&self) -> usize {
        self.leaves.len()
    }

    /// Whether no leaf is waiting.
    pub fn is_empty(&self) -> bool {
        self.leaves.is_empty()
    }

    /// Forgets the leaves waiting (they will never be answered).
    pub(crate) fn clear(&mut self) {
        self.leaves.clear();
        self.owners.clear();
    }

    /// Adds the leaves `search` wants evaluated now ([`Search::gather`]); their
    /// answers will go to `searches[owner]` in [`apply`](Pass::apply).
    #[inline]
    pub fn gather(&mut self, owner: usize, search: &mut Search<G>) -> Gathered {
        let g = search.gather(&mut self.leaves);
        self.owners.resize(self.leaves.len(), owner as u32);
        g
    }

    /// Looks every leaf up in `cache` (hashing each position once): hits are
    /// applied to their searches at once, misses stay, in order. Returns the
    /// number of hits; nothing happens with the cache off.
    pub fn answer_from_cache(&mut self, searches: &mut [Search<G>], cache: &mut EvalCache) -> u32 {
        if !cache.is_on() {
            return 0;
        }
        let mut kept = 0;
        for i in 0..self.leaves.len() {
            let hash = self.leaves[i].position().position_hash();
            self.leaves[i].hash = hash;
            if let Some((policy, value)) = cache.get(hash) {
                searches[self.owners[i] as usize].apply(&self.leaves[i], policy, value);
            } else {
                self.leaves.swap(kept, i);
                self.owners.swap(kept, i);
                kept += 1;
            }
        }
        let hits = self.leaves.len() - kept;
        self.leaves.truncate(kept);
        self.owners.truncate(kept);
        hits as u32
    }

    /// Applies `evaluations` (one per leaf, in order) to their searches, stores
    /// them in `cache` (if on), and empties the pass.
    ///
    /// # Panics
    /// If the number of evaluations is not the number of leaves.
    #[inline]
    pub fn apply(
        &mut self,
        searches: &mut [Search<G>],
        evaluations: &Evaluations<'_>,
        cache: &mut EvalCache,
    ) {
        assert_eq!(
            evaluations.len(),
            self.leaves.len(),
            "one evaluation per leaf"
        );
        let answers = self.leaves.iter().zip(&self.owners).zip(evaluations.iter());
        for ((leaf, &owner), (policy, value)) in answers {
            searches[owner as usize].apply(leaf, policy, value);
        }
        if cache.is_on() {
            for (leaf, (policy, value)) in self.leaves.iter().zip(evaluations.iter()) {
                cache.insert(leaf.hash, policy, value);
            }
        }
        self.leaves.clear();
        self.owners.clear();
    }
}
