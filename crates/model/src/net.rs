//! The ResNet policy/value network (training form).

use crate::board_conv::{self, ConvKernel};
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::{relu, tanh};
use burn::tensor::{Device, Tensor};

/// Sizes of a network.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct NetConfig {
    /// Input planes.
    pub planes: usize,
    /// Board rows.
    pub height: usize,
    /// Board columns.
    pub width: usize,
    /// Policy size (`NUM_ACTIONS`).
    pub actions: usize,
    /// Residual blocks.
    pub blocks: usize,
    /// Channels of every 3×3 convolution.
    pub channels: usize,
    /// Hidden units of the value head.
    pub value_hidden: usize,
    /// Planes of the value head's 1×1 convolution (AlphaGo Zero: 1).
    pub value_channels: usize,
    /// Whether the network has an ownership head (training only: inference
    /// never computes it).
    pub ownership: bool,
}

impl NetConfig {
    /// Cells of one plane.
    pub fn cells(&self) -> usize {
        self.height * self.width
    }

    /// Multiply-adds of one position's forward pass (convolutions and linear layers).
    pub fn flops_per_position(&self) -> u64 {
        let (c, hw) = (self.channels as u64, self.cells() as u64);
        let stem = self.planes as u64 * c * 9 * hw;
        let blocks = self.blocks as u64 * 2 * c * c * 9 * hw;
        let heads = c * 2 * hw
            + 2 * hw * self.actions as u64
            + self.value_channels as u64 * hw * (c + self.value_hidden as u64)
            + self.value_hidden as u64;
        2 * (stem + blocks + heads)
    }
}

/// A convolution without bias followed by batch norm.
#[derive(Module, Debug)]
pub struct ConvBn {
    /// The convolution (no bias: batch norm's shift replaces it).
    pub conv: Conv2d,
    /// Its batch norm.
    pub bn: BatchNorm,
}

impl ConvBn {
    fn new(inp: usize, out: usize, kernel: usize, device: &Device) -> Self {
        ConvBn {
            conv: Conv2dConfig::new([inp, out], [kernel, kernel])
                .with_padding(PaddingConfig2d::Same)
                .with_bias(false)
                .init(device),
            bn: BatchNormConfig::new(out).init(device),
        }
    }

    /// conv → batch norm → `+ skip` → ReLU.
    pub fn forward(&self, x: Tensor<4>, skip: Option<Tensor<4>>, kernel: ConvKernel) -> Tensor<4> {
        let y = board_conv::conv(x, self.conv.weight.val(), None, kernel);
        crate::batch_norm::forward_relu(&self.bn, y, skip, kernel)
    }
}

/// Two 3×3 conv-bn layers with a skip connection.
#[derive(Module, Debug)]
pub struct ResBlock {
    /// First layer (followed by ReLU).
    pub a: ConvBn,
    /// Second layer (added to the input, then ReLU).
    pub b: ConvBn,
}

/// Stem, residual tower, policy head and value head.
///
/// # Shapes
/// - input: `[batch, planes, height, width]`
/// - policy logits: `[batch, actions]` (not masked: see [`masked_log_softmax`](crate::masked_log_softmax))
/// - value: `[batch]`, in `(-1, 1)`
#[derive(Module, Debug)]
pub struct PolicyValueNet {
    /// 3×3 conv from the input planes.
    pub stem: ConvBn,
    /// Residual blocks.
    pub blocks: Vec<ResBlock>,
    /// 1×1 conv to 2 planes.
    pub policy_conv: ConvBn,
    /// Linear to the policy logits.
    pub policy_fc: Linear,
    /// 1×1 conv to `value_channels` planes.
    pub value_conv: ConvBn,
    /// Hidden layer of the value head.
    pub value_fc1: Linear,
    /// Output of the value head.
    pub value_fc2: Linear,
    /// The ownership head, if the network has one: a 1×1 convolution to one
    /// plane, whose tanh says who will hold each cell at the end of the game
    /// (KataGo's ownership head; an auxiliary target that only trains the tower).
    pub ownership: Option<Conv2d>,
}

impl PolicyValueNet {
    /// A freshly initialised network on `device`.
    pub fn new(cfg: &NetConfig, device: &Device) -> Self {
        let c = cfg.channels;
        PolicyValueNet {
            stem: ConvBn::new(cfg.planes, c, 3, device),
            blocks: (0..cfg.blocks)
                .map(|_| ResBlock {
                    a: ConvBn::new(c, c, 3, device),
                    b: ConvBn::new(c, c, 3, device),
                })
                .collect(),
            policy_conv: ConvBn::new(c, 2, 1, device),
            policy_fc: LinearConfig::new(2 * cfg.cells(), cfg.actions).init(device),
            value_conv: ConvBn::new(c, cfg.value_channels, 1, device),
            value_fc1: LinearConfig::new(cfg.value_channels * cfg.cells(), cfg.value_hidden)
                .init(device),
            value_fc2: LinearConfig::new(cfg.value_hidden, 1).init(device),
            ownership: cfg.ownership.then(|| {
                Conv2dConfig::new([c, 1], [1, 1])
                    .with_padding(PaddingConfig2d::Valid)
                    .init(device)
            }),
        }
    }

    /// Policy logits and value, with az's board convolutions where the device
    /// has them (see [`board_conv`]).
    ///
    /// # Shapes
    /// `x: [n, planes, h, w]` → `([n, actions], [n])`
    pub fn forward(&self, x: Tensor<4>) -> (Tensor<2>, Tensor<1>) {
        self.forward_with(x, ConvKernel::Board)
    }

    /// [`forward`](Self::forward) with the convolutions of `kernel`.
    pub fn forward_with(&self, x: Tensor<4>, kernel: ConvKernel) -> (Tensor<2>, Tensor<1>) {
        self.heads(self.tower(x, kernel), kernel)
    }

    /// The stem and the residual blocks.
    ///
    /// # Shapes
    /// `x: [n, planes, h, w]` → `[n, channels, h, w]`
    pub fn tower(&self, x: Tensor<4>, kernel: ConvKernel) -> Tensor<4> {
        let mut x = self.stem.forward(x, None, kernel); // [n, c, h, w]
        for block in &self.blocks {
            let y = block.a.forward(x.clone(), None, kernel);
            x = block.b.forward(y, Some(x), kernel);
        }
        x
    }

    /// The ownership head on the tower's output, if the network has one.
    ///
    /// # Shapes
    /// `x: [n, channels, h, w]` → `[n, h·w]`, in `(-1, 1)`
    pub fn ownership(&self, x: Tensor<4>) -> Option<Tensor<2>> {
        let conv = self.ownership.as_ref()?;
        Some(tanh(conv.forward(x).flatten::<2>(1, 3)))
    }

    /// Policy logits and value from the tower's output.
    ///
    /// # Shapes
    /// `x: [n, channels, h, w]` → `([n, actions], [n])`
    pub fn heads(&self, x: Tensor<4>, kernel: ConvKernel) -> (Tensor<2>, Tensor<1>) {
        let n = x.dims()[0];
        let p = self
            .policy_conv
            .forward(x.clone(), None, kernel)
            .flatten::<2>(1, 3); // [n, 2hw]
        let logits = self.policy_fc.forward(p); // [n, actions]
        let v = self.value_conv.forward(x, None, kernel).flatten::<2>(1, 3); // [n, value_channels·hw]
        let v = relu(self.value_fc1.forward(v)); // [n, hidden]
        let value = tanh(self.value_fc2.forward(v)).reshape([n]); // [n]
        (logits, value)
    }
}
