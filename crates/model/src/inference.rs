//! The inference form: batch norm folded into the convolutions.

use crate::batch_norm::inference_factors;
use crate::board_conv::{self, ConvKernel};
use crate::{ConvBn, NetConfig, PolicyValueNet};
use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::activation::{relu, tanh};
use burn::tensor::{Device, Tensor, TensorData};
use std::sync::Arc;

// The resident tower of az-kernels (`flex` feature).
#[cfg(feature = "flex")]
use az_kernels::Tower;

mod export;
pub use export::NamedTensor;

/// Without the `flex` feature there is no resident tower: this type has no
/// values, so [`InferenceNet`]'s `tower` is always `None`.
#[cfg(not(feature = "flex"))]
#[derive(Debug)]
enum Tower {}

/// A convolution with batch norm folded in: `w' = w · scale`, `b' = shift`.
#[derive(Clone, Debug)]
struct FoldedConv {
    weight: Tensor<4>,
    bias: Tensor<1>,
}

impl FoldedConv {
    fn new(layer: &ConvBn) -> Self {
        let (scale, shift) = inference_factors(&layer.bn);
        let w = layer.conv.weight.val(); // [out, in, k, k]
        let out = w.dims()[0];
        FoldedConv {
            weight: w * scale.reshape([out, 1, 1, 1]),
            bias: shift,
        }
    }

    fn forward(&self, x: Tensor<4>, kernel: ConvKernel) -> Tensor<4> {
        board_conv::conv(x, self.weight.clone(), Some(self.bias.clone()), kernel)
    }

    /// The layer's weights on the host, for the resident tower.
    #[cfg(feature = "flex")]
    fn to_tower(&self) -> az_kernels::TowerConv {
        let [c_out, c_in, _, _] = self.weight.dims();
        az_kernels::TowerConv {
            weight: host(self.weight.clone()),
            bias: host(self.bias.clone()),
            c_in,
            c_out,
        }
    }
}

/// A tensor's values as `f32` on the host.
fn host<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("converted to f32")
}

/// The network for inference: no autodiff, batch norm folded into the
/// convolutions (about 3× faster than running batch norm on flex). Cheap to clone
/// (tensors are shared), as the inference server's threads each hold one.
#[derive(Clone, Debug)]
pub struct InferenceNet {
    config: NetConfig,
    device: Device,
    kernel: ConvKernel,
    /// The stem and blocks with resident activations (az-kernels' `Tower`),
    /// where the device is flex and the `flex` feature is on; shared by clones.
    tower: Option<Arc<Tower>>,
    stem: FoldedConv,
    blocks: Vec<(FoldedConv, FoldedConv)>,
    policy_conv: FoldedConv,
    policy_fc: Linear,
    value_conv: FoldedConv,
    value_fc1: Linear,
    value_fc2: Linear,
}

impl InferenceNet {
    /// Folds `net` (in any mode, on any device) for inference on `device`.
    pub fn new(net: &PolicyValueNet, config: NetConfig, device: &Device) -> Self {
        let net = net.valid().to_device(device);
        let stem = FoldedConv::new(&net.stem);
        let blocks: Vec<_> = net
            .blocks
            .iter()
            .map(|b| (FoldedConv::new(&b.a), FoldedConv::new(&b.b)))
            .collect();
        #[cfg(feature = "flex")]
        let tower = az_kernels::supports_tower(&stem.weight).then(|| {
            Arc::new(Tower {
                h: config.height,
                w: config.width,
                k: stem.weight.dims()[2],
                stem: stem.to_tower(),
                blocks: blocks
                    .iter()
                    .map(|(a, b)| (a.to_tower(), b.to_tower()))
                    .collect(),
            })
        });
        #[cfg(not(feature = "flex"))]
        let tower = None;
        InferenceNet {
            config,
            device: device.clone(),
            kernel: ConvKernel::default(),
            tower,
            stem,
            blocks,
            policy_conv: FoldedConv::new(&net.policy_conv),
            policy_fc: net.policy_fc.clone(),
            value_conv: FoldedConv::new(&net.value_conv),
            value_fc1: net.value_fc1.clone(),
            value_fc2: net.value_fc2.clone(),
        }
    }

    /// The same network with the convolutions of `kernel` (az's board kernels by default).
    pub fn with_kernel(mut self, kernel: ConvKernel) -> Self {
        self.kernel = kernel;
        self
    }

    /// The sizes.
    pub fn config(&self) -> &NetConfig {
        &self.config
    }

    /// Policy logits and value.
    ///
    /// # Shapes
    /// `x: [n, planes, h, w]` → `([n, actions], [n])`
    pub fn forward(&self, x: Tensor<4>) -> (Tensor<2>, Tensor<1>) {
        if let Some(tower) = self.resident_tower() {
            let n = x.dims()[0];
            return self.heads(self.run_tower(tower, n, &host(x)));
        }
        let k = self.kernel;
        let mut x = relu(self.stem.forward(x, k)); // [n, c, h, w]
        for (a, b) in &self.blocks {
            let y = relu(a.forward(x.clone(), k));
            x = relu(b.forward(y, k) + x);
        }
        self.heads(x)
    }

    /// The resident tower, when it runs this network's convolutions.
    fn resident_tower(&self) -> Option<&Tower> {
        self.tower
            .as_deref()
            .filter(|_| self.kernel == ConvKernel::Board)
    }

    /// The tower's output for `n` encoded positions: `[n, c, h, w]`.
    #[cfg(feature = "flex")]
    fn run_tower(&self, tower: &Tower, n: usize, x: &[f32]) -> Tensor<4> {
        let (c, h, w) = (tower.channels(), self.config.height, self.config.width);
        let mut out = vec![0.0; n * c * h * w];
        tower.forward(n, x, &mut out);
        Tensor::from_data(TensorData::new(out, [n, c, h, w]), &self.device)
    }

    /// (Without the `flex` feature there is no tower to run.)
    #[cfg(not(feature = "flex"))]
    fn run_tower(&self, tower: &Tower, _n: usize, _x: &[f32]) -> Tensor<4> {
        match *tower {}
    }

    /// Policy logits and value from the tower's output.
    ///
    /// # Shapes
    /// `x: [n, c, h, w]` → `([n, actions], [n])`
    fn heads(&self, x: Tensor<4>) -> (Tensor<2>, Tensor<1>) {
        let k = self.kernel;
        let n = x.dims()[0];
        let p = relu(self.policy_conv.forward(x.clone(), k)).flatten::<2>(1, 3); // [n, 2hw]
        let logits = self.policy_fc.forward(p); // [n, actions]
        let v = relu(self.value_conv.forward(x, k)).flatten::<2>(1, 3); // [n, value_channels·hw]
        let v = relu(self.value_fc1.forward(v));
        let value = tanh(self.value_fc2.forward(v)).reshape([n]); // [n]
        (logits, value)
    }

    /// Runs `n` encoded positions and returns the logits and values as vectors:
    /// the inputs go to the device in one upload and come back in one read.
    pub fn forward_slices(&self, n: usize, inputs: &[f32]) -> (Vec<f32>, Vec<f32>) {
        let c = &self.config;
        let inputs = &inputs[..n * c.planes * c.cells()];
        let (logits, value) = match self.resident_tower() {
            Some(tower) => self.heads(self.run_tower(tower, n, inputs)),
            None => {
                let data = TensorData::new(inputs.to_vec(), [n, c.planes, c.height, c.width]);
                self.forward(Tensor::from_data(data, &self.device))
            }
        };
        // One read-back for both heads: on a GPU each read is a round trip.
        let a = c.actions;
        let both = Tensor::cat(vec![logits, value.reshape([n, 1])], 1); // [n, a + 1]
        let both = both.into_data().try_into_vec::<f32>().expect("f32 outputs");
        let mut logits = Vec::with_capacity(n * a);
        let mut value = Vec::with_capacity(n);
        for row in both.chunks_exact(a + 1) {
            logits.extend_from_slice(&row[..a]);
            value.push(row[a]);
        }
        (logits, value)
    }
}
