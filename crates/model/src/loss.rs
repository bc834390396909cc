//! The AlphaZero loss: policy cross-entropy against the search's visit
//! distribution, value mean squared error. (L2 weight decay is the optimiser's.)

use burn::tensor::Tensor;
use burn::tensor::activation::log_softmax;

/// Log-softmax over legal moves: illegal entries get a large negative logit first,
/// so they carry no probability and no gradient.
///
/// # Shapes
/// `logits, mask: [n, actions]` → `[n, actions]`
pub fn masked_log_softmax(logits: Tensor<2>, mask: Tensor<2>) -> Tensor<2> {
    // (mask - 1) · 1e9 is 0 for legal moves and -1e9 for illegal ones.
    log_softmax(logits + (mask - 1.0) * 1e9, 1)
}

/// The loss terms of one batch.
#[derive(Clone, Debug)]
pub struct Losses {
    /// `-(π · log p).sum(1).mean()`.
    pub policy: Tensor<1>,
    /// `(v - z)².mean()`.
    pub value: Tensor<1>,
    /// Entropy of the network's policy (for monitoring; no gradient is taken).
    pub entropy: Tensor<1>,
}

impl Losses {
    /// `policy + value_weight · value`: the optimised loss.
    pub fn total(&self, value_weight: f32) -> Tensor<1> {
        self.policy.clone() + self.value.clone() * value_weight
    }
}

/// Loss terms from network outputs and targets.
///
/// # Shapes
/// `logits, mask, target_policy: [n, actions]`, `value, target_value: [n]`
pub fn losses(
    logits: Tensor<2>,
    mask: Tensor<2>,
    value: Tensor<1>,
    target_policy: Tensor<2>,
    target_value: Tensor<1>,
) -> Losses {
    let logp = masked_log_softmax(logits, mask.clone()); // [n, a]
    let policy = (target_policy * logp.clone()).sum_dim(1).mean().neg(); // [1]
    let diff = value - target_value;
    let value = (diff.clone() * diff).mean(); // [1]
    let logp = logp.detach();
    // 0 · log 0 on illegal moves: mask it out so it stays 0.
    let entropy = (logp.clone().exp() * logp * mask).sum_dim(1).mean().neg();
    Losses {
        policy,
        value,
        entropy,
    }
}

/// The ownership head's loss: `(o − t)²` averaged over samples and cells,
/// `t` in {-1, 0, 1} (see `Game::owners`).
///
/// # Shapes
/// `predicted, target: [n, cells]` → `[1]`
pub fn ownership_loss(predicted: Tensor<2>, target: Tensor<2>) -> Tensor<1> {
    let diff = predicted - target;
    (diff.clone() * diff).mean()
}
