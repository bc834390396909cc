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
                if kept != i {
                    self.leaves.swap(kept, i);
                    self.owners.swap(kept, i);
                }
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
                // Hashed by `answer_from_cache`; a caller that skipped it gets it here.
                let hash = match leaf.hash {
                    0 => leaf.position().position_hash(),
                    h => h,
                };
                cache.insert(hash, policy, value);
            }
        }
        self.leaves.clear();
        self.owners.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Evaluator, EvaluatorGone, SearchConfig};
    use az_game::Game;
    use az_tictactoe::TicTacToe;

    /// Priors and value from the position's hash: a misrouted answer shows.
    #[derive(Default)]
    struct ByHash {
        policy: Vec<f32>,
        values: Vec<f32>,
    }

    impl Evaluator<TicTacToe> for ByHash {
        fn evaluate(
            &mut self,
            leaves: &[Leaf<TicTacToe>],
        ) -> Result<Evaluations<'_>, EvaluatorGone> {
            self.policy.clear();
            self.values.clear();
            for leaf in leaves {
                let h = leaf.position().position_hash();
                self.policy
                    .extend((0..9u64).map(|a| (az_game::mix64(h ^ a) >> 40) as f32 + 1.0));
                self.values
                    .push((h >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0);
            }
            Ok(Evaluations::new(&self.policy, &self.values, 9))
        }
    }

    /// The tree's statistics in a fixed order (depth first by move), whatever
    /// order the arena holds its nodes in.
    fn walk(tree: &crate::Tree<TicTacToe>, index: usize, out: &mut Vec<(u32, u32, f32, f32)>) {
        for (child, node) in tree.children(index) {
            out.push((node.action() as u32, node.visits(), node.q(), node.prior()));
            walk(tree, child, out);
        }
    }

    fn searches() -> Vec<Search<TicTacToe>> {
        let config = SearchConfig {
            simulations: 64,
            searches_per_game: 4,
            ..SearchConfig::default()
        };
        // Different roots: the same position in every tree would hide a misrouted answer.
        ["", "a1", "a1b2"]
            .iter()
            .map(|line| Search::new(TicTacToe::from_moves(line).unwrap(), config.clone()))
            .collect()
    }

    #[test]
    fn cache_hits_and_answers_go_to_the_search_that_asked() {
        // Three searches sharing one pass and a cache end with the trees each
        // grows alone with no cache: a hit is the same answer, applied in the
        // same round (earlier in it, so the arenas hold the nodes in another
        // order), and only routing to the wrong search could differ.
        let mut together = searches();
        let mut cache = EvalCache::new(4096, TicTacToe::NUM_ACTIONS);
        let mut pass = Pass::default();
        let mut evaluator = ByHash::default();
        let mut hits = 0;
        while together.iter().any(|s| !s.is_done()) {
            for (i, search) in together.iter_mut().enumerate() {
                pass.gather(i, search);
            }
            hits += pass.answer_from_cache(&mut together, &mut cache);
            let answers = evaluator.evaluate(pass.leaves()).unwrap();
            pass.apply(&mut together, &answers, &mut cache);
        }
        assert!(hits > 0, "the trees share positions");
        for (i, search) in together.iter().enumerate() {
            let mut alone = searches().swap_remove(i);
            alone.run(&mut ByHash::default()).unwrap();
            let (mut a, mut b) = (Vec::new(), Vec::new());
            walk(search.tree(), 0, &mut a);
            walk(alone.tree(), 0, &mut b);
            assert_eq!(a, b, "search {i}");
            assert_eq!(search.tree().total_pending(), 0);
        }
    }
}
