//! The network as the inference server's model.

use az_infer::{BatchModel, masked_softmax};
use az_model::InferenceNet;

/// [`InferenceNet`] as a [`BatchModel`]: the network's logits softmaxed over each
/// position's legal moves, and its values. The wrapper lives here, where the
/// engine is wired, so that az-model (and with it the learner, az-train) does
/// not depend on the inference server or the search.
#[derive(Clone, Debug)]
pub struct NetModel(pub InferenceNet);

impl BatchModel for NetModel {
    fn input_len(&self) -> usize {
        let c = self.0.config();
        c.planes * c.cells()
    }

    fn num_actions(&self) -> usize {
        self.0.config().actions
    }

    fn forward(
        &mut self,
        n: usize,
        inputs: &[f32],
        masks: &[f32],
        policy: &mut [f32],
        value: &mut [f32],
    ) {
        if n == 0 {
            return;
        }
        let a = self.num_actions();
        let (logits, values) = self.0.forward_slices(n, inputs);
        for i in 0..n {
            let r = i * a..(i + 1) * a;
            masked_softmax(&logits[r.clone()], &masks[r.clone()], &mut policy[r]);
        }
        value[..n].copy_from_slice(&values);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use az_model::{NetConfig, PolicyValueNet};
    use burn::tensor::Device;

    const CFG: NetConfig = NetConfig {
        planes: 3,
        height: 6,
        width: 7,
        actions: 7,
        blocks: 1,
        channels: 8,
        value_hidden: 16,
        value_channels: 1,
        ownership: false,
    };

    #[test]
    fn illegal_moves_get_zero_probability() {
        let _rng = crate::checkpoint::tests::BACKEND_RNG.lock();
        let device = Device::flex();
        let net = InferenceNet::new(&PolicyValueNet::new(&CFG, &device), CFG, &device);
        let mut model = NetModel(net.clone());
        let n = 3;
        let inputs: Vec<f32> = (0..n * 3 * 42)
            .map(|i| ((i * 7919 % 31) as f32 / 31.0) - 0.3)
            .collect();
        let masks: Vec<f32> = (0..n * 7)
            .map(|i| if i % 3 == 0 { 0.0 } else { 1.0 })
            .collect();
        let mut policy = vec![f32::NAN; n * 7];
        let mut value = vec![f32::NAN; n];
        model.forward(n, &inputs, &masks, &mut policy, &mut value);
        let (logits, values) = net.forward_slices(n, &inputs);
        assert_eq!(value, values, "the network's values, unchanged");
        for r in 0..n {
            let row = &policy[r * 7..(r + 1) * 7];
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
            let mut softmax = [0.0; 7];
            masked_softmax(
                &logits[r * 7..(r + 1) * 7],
                &masks[r * 7..(r + 1) * 7],
                &mut softmax,
            );
            for a in 0..7 {
                if masks[r * 7 + a] == 0.0 {
                    assert_eq!(row[a], 0.0, "row {r} move {a}");
                } else {
                    assert!(row[a] > 0.0);
                    assert_eq!(row[a], softmax[a]);
                }
            }
            assert!(value[r].abs() < 1.0);
        }
    }
}
