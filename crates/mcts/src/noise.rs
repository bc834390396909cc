//! Random parts of the search: Dirichlet root noise and weighted move sampling.

use crate::node::Node;
use rand::RngExt;
use rand::rngs::SmallRng;
use rand_distr::{Distribution, Gamma};

/// Replaces share `eps` of the priors of `children` by a Dirichlet(`alpha`)
/// sample: `prior = (1 - eps) · prior + eps · noise`. A Dirichlet sample is
/// independent Gamma(alpha, 1) draws normalised to sum 1.
pub(crate) fn mix_dirichlet(children: &mut [Node], alpha: f32, eps: f32, rng: &mut SmallRng) {
    let Ok(gamma) = Gamma::new(f64::from(alpha), 1.0) else {
        return;
    };
    // Two passes over the same random stream (a cloned generator replays the
    // draws) give the normalising sum without a buffer.
    let mut replay = rng.clone();
    let total: f64 = children.iter().map(|_| gamma.sample(rng)).sum();
    let uniform = 1.0 / children.len() as f32;
    for child in children.iter_mut() {
        let g: f64 = gamma.sample(&mut replay);
        let noise = if total > 0.0 {
            (g / total) as f32
        } else {
            uniform
        };
        child.prior = (1.0 - eps) * child.prior + eps * noise;
    }
}

/// Index drawn with probability proportional to its weight; `None` if all are 0.
pub(crate) fn sample_weighted<I>(weights: I, rng: &mut SmallRng) -> Option<usize>
where
    I: Iterator<Item = (usize, f64)> + Clone,
{
    let total: f64 = weights.clone().map(|(_, w)| w).sum();
    if total <= 0.0 || !total.is_finite() {
        return None;
    }
    let mut x = rng.random::<f64>() * total;
    let mut last = None;
    for (i, w) in weights {
        if w <= 0.0 {
            continue;
        }
        if x < w {
            return Some(i);
        }
        x -= w;
        last = Some(i);
    }
    last
}
