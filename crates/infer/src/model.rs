//! The model interface the server drives.

/// A policy/value model evaluated on batches of encoded positions.
///
/// The server calls it from its own threads, each with its own clone (so `Clone`
/// should be cheap: shared weights, as Burn modules are).
///
/// # Shapes
/// For a batch of `n` positions:
/// - `inputs`: `n × input_len` (the game's `SHAPE.len()`), row-major;
/// - `masks`: `n × num_actions`, 1.0 for a legal move, 0.0 otherwise;
/// - `policy` (out): `n × num_actions` probabilities, 0 on illegal moves, each row summing to 1;
/// - `value` (out): `n` values in `[-1, 1]` for the player to move.
pub trait BatchModel: Clone + Send + 'static {
    /// Length of one encoded position.
    fn input_len(&self) -> usize;
    /// Length of one policy row.
    fn num_actions(&self) -> usize;
    /// Evaluates `n` positions.
    fn forward(
        &mut self,
        n: usize,
        inputs: &[f32],
        masks: &[f32],
        policy: &mut [f32],
        value: &mut [f32],
    );
}

/// Softmax of `logits` over the entries where `mask` is positive, written to
/// `out` (0 elsewhere); uniform over the legal entries if the logits are not
/// finite. Shared by models that produce logits.
pub fn masked_softmax(logits: &[f32], mask: &[f32], out: &mut [f32]) {
    let max = logits
        .iter()
        .zip(mask)
        .filter(|(_, m)| **m > 0.0)
        .map(|(l, _)| *l)
        .fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for ((o, l), m) in out.iter_mut().zip(logits).zip(mask) {
        *o = if *m > 0.0 { (l - max).exp() } else { 0.0 };
        sum += *o;
    }
    if sum > 0.0 && sum.is_finite() {
        out.iter_mut().for_each(|o| *o /= sum);
    } else {
        let legal = mask.iter().filter(|m| **m > 0.0).count().max(1) as f32;
        for (o, m) in out.iter_mut().zip(mask) {
            *o = if *m > 0.0 { 1.0 / legal } else { 0.0 };
        }
    }
}

/// Uniform policy over legal moves and value 0: the free model, which measures
/// the framework alone.
#[derive(Clone, Debug)]
pub struct UniformModel {
    /// Length of one encoded position.
    pub input_len: usize,
    /// Length of one policy row.
    pub num_actions: usize,
}

impl BatchModel for UniformModel {
    fn input_len(&self) -> usize {
        self.input_len
    }
    fn num_actions(&self) -> usize {
        self.num_actions
    }
    fn forward(
        &mut self,
        n: usize,
        _inputs: &[f32],
        masks: &[f32],
        policy: &mut [f32],
        value: &mut [f32],
    ) {
        let a = self.num_actions;
        for (row, mask) in policy[..n * a]
            .chunks_exact_mut(a)
            .zip(masks.chunks_exact(a))
        {
            let legal = mask.iter().filter(|m| **m > 0.0).count().max(1) as f32;
            for (p, m) in row.iter_mut().zip(mask) {
                *p = if *m > 0.0 { 1.0 / legal } else { 0.0 };
            }
        }
        value[..n].fill(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_softmax_zeroes_illegal_moves() {
        let mut out = [0.0; 4];
        masked_softmax(&[1.0, 5.0, 1.0, 2.0], &[1.0, 0.0, 1.0, 1.0], &mut out);
        assert_eq!(out[1], 0.0);
        assert!((out.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(out[3] > out[0] && (out[0] - out[2]).abs() < 1e-7);
        masked_softmax(&[f32::NAN, 0.0, 0.0, 0.0], &[1.0, 1.0, 0.0, 0.0], &mut out);
        assert_eq!(out, [0.5, 0.5, 0.0, 0.0]);
    }
}
