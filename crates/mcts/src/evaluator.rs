//! The evaluator interface, and the evaluators that need no network.
//!
//! An [`Evaluator`] answers a batch of leaves at once: every search, whatever
//! evaluates it (uniform priors, random rollouts, a network in this process, the
//! inference server), is driven through this one interface.

use crate::tree::Leaf;
use az_game::{Game, random_playout};
use rand::SeedableRng;
use rand::rngs::SmallRng;

/// Policies and values for a batch of leaves, in the leaves' order: row `i` of
/// `policy` (`num_actions` priors over the policy indices; illegal entries are
/// ignored and the rest need not sum to 1) and `values[i]` (for the player to
/// move at leaf `i`, in `[-1, 1]`).
#[derive(Copy, Clone, Debug)]
pub struct Evaluations<'a> {
    policy: &'a [f32],
    values: &'a [f32],
    num_actions: usize,
}

impl<'a> Evaluations<'a> {
    /// `values.len()` answers with policy rows of `num_actions` in `policy`.
    ///
    /// # Panics
    /// If `policy` holds fewer than `values.len()` rows.
    #[inline]
    pub fn new(policy: &'a [f32], values: &'a [f32], num_actions: usize) -> Self {
        assert!(
            policy.len() >= values.len() * num_actions,
            "a policy row per value"
        );
        Evaluations {
            policy,
            values,
            num_actions,
        }
    }

    /// Number of answers.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Policy row and value of answer `i`.
    #[inline]
    pub fn get(&self, i: usize) -> (&'a [f32], f32) {
        let a = self.num_actions;
        (&self.policy[i * a..(i + 1) * a], self.values[i])
    }

    /// Every answer in order: policy row and value.
    #[inline]
    pub fn iter(&self) -> impl Iterator<Item = (&'a [f32], f32)> + use<'a> {
        let values = self.values;
        self.policy
            .chunks_exact(self.num_actions.max(1))
            .zip(values.iter().copied())
    }
}

/// The evaluator could not answer (the inference server has stopped, say).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvaluatorGone(pub String);

impl std::fmt::Display for EvaluatorGone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EvaluatorGone {}

/// Evaluates batches of leaves: a blocking call that returns their policies and
/// values (see [`Evaluations`]). The answers borrow the evaluator's buffers
/// until the next call, so nothing is allocated per batch.
pub trait Evaluator<G: Game> {
    /// Policies and values of `leaves`, in order.
    ///
    /// # Errors
    /// [`EvaluatorGone`] when the evaluator can no longer answer.
    fn evaluate(&mut self, leaves: &[Leaf<G>]) -> Result<Evaluations<'_>, EvaluatorGone>;
}

/// Answer buffers that grow to the largest batch and are then reused.
#[derive(Clone, Debug, Default)]
struct Answers {
    policy: Vec<f32>,
    values: Vec<f32>,
}

impl Answers {
    /// Sizes the buffers for `n` answers of `num_actions` and returns them.
    fn sized(&mut self, n: usize, num_actions: usize) -> (&mut [f32], &mut [f32]) {
        self.policy.resize(n * num_actions, 0.0);
        self.values.resize(n, 0.0);
        (&mut self.policy[..n * num_actions], &mut self.values[..n])
    }

    fn view(&self, n: usize, num_actions: usize) -> Evaluations<'_> {
        Evaluations::new(
            &self.policy[..n * num_actions],
            &self.values[..n],
            num_actions,
        )
    }
}

/// Uniform priors, value 0: measures the tree alone.
#[derive(Clone, Debug, Default)]
pub struct Uniform {
    /// All ones and all zeros, grown to the largest batch and never rewritten.
    ones: Vec<f32>,
    zeros: Vec<f32>,
}

impl<G: Game> Evaluator<G> for Uniform {
    #[inline]
    fn evaluate(&mut self, leaves: &[Leaf<G>]) -> Result<Evaluations<'_>, EvaluatorGone> {
        let (n, a) = (leaves.len(), G::NUM_ACTIONS);
        if self.ones.len() < n * a || self.zeros.len() < n {
            self.ones.resize(n * a, 1.0);
            self.zeros.resize(n, 0.0);
        }
        Ok(Evaluations::new(&self.ones[..n * a], &self.zeros[..n], a))
    }
}

/// Uniform priors; value = mean result of `playouts` uniformly random games to the end.
#[derive(Clone, Debug)]
pub struct Rollout {
    playouts: u32,
    rng: SmallRng,
    answers: Answers,
}

impl Rollout {
    /// `playouts` random games per evaluation (at least 1), seeded.
    pub fn new(playouts: u32, seed: u64) -> Self {
        Rollout {
            playouts: playouts.max(1),
            rng: SmallRng::seed_from_u64(seed),
            answers: Answers::default(),
        }
    }
}

impl<G: Game> Evaluator<G> for Rollout {
    fn evaluate(&mut self, leaves: &[Leaf<G>]) -> Result<Evaluations<'_>, EvaluatorGone> {
        let (policy, values) = self.answers.sized(leaves.len(), G::NUM_ACTIONS);
        policy.fill(1.0); // uniform priors; a few floats per leaf beside whole random games
        for (leaf, value) in leaves.iter().zip(values.iter_mut()) {
            let me = leaf.position().to_move();
            let mut total = 0.0;
            for _ in 0..self.playouts {
                let (end, _) = random_playout(leaf.position(), &mut self.rng);
                total += end.outcome().map_or(0.0, |o| o.value_for(me));
            }
            *value = total / self.playouts as f32;
        }
        Ok(self.answers.view(leaves.len(), G::NUM_ACTIONS))
    }
}
