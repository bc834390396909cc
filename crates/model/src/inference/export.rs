//! The inference network's tensors by stable names, for export: batch norm
//! folded into each convolution's weight and bias, PyTorch's layouts.

use super::{FoldedConv, InferenceNet, host};
use burn::nn::Linear;

/// One exported tensor: its name, shape and values (row-major, `f32`).
#[derive(Clone, Debug, PartialEq)]
pub struct NamedTensor {
    /// Stable name, e.g. `blocks.0.a.weight`.
    pub name: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub values: Vec<f32>,
}

impl InferenceNet {
    /// Every tensor of the network, in forward order, with batch norm folded in:
    /// convolutions `{stem, blocks.i.a, blocks.i.b, policy_conv, value_conv}` as
    /// `.weight` `[out, in, k, k]` (zero padding `k / 2`, stride 1) and `.bias`
    /// `[out]`; linear layers `{policy_fc, value_fc1, value_fc2}` as `.weight`
    /// `[out, in]` (PyTorch's layout, `y = x Wᵀ + b`) and `.bias` `[out]`.
    pub fn named_tensors(&self) -> Vec<NamedTensor> {
        let mut out = Vec::new();
        conv(&mut out, "stem", &self.stem);
        for (i, (a, b)) in self.blocks.iter().enumerate() {
            conv(&mut out, &format!("blocks.{i}.a"), a);
            conv(&mut out, &format!("blocks.{i}.b"), b);
        }
        conv(&mut out, "policy_conv", &self.policy_conv);
        linear(&mut out, "policy_fc", &self.policy_fc);
        conv(&mut out, "value_conv", &self.value_conv);
        linear(&mut out, "value_fc1", &self.value_fc1);
        linear(&mut out, "value_fc2", &self.value_fc2);
        out
    }
}

fn conv(out: &mut Vec<NamedTensor>, name: &str, layer: &FoldedConv) {
    out.push(NamedTensor {
        name: format!("{name}.weight"),
        shape: layer.weight.dims().to_vec(),
        values: host(layer.weight.clone()),
    });
    out.push(NamedTensor {
        name: format!("{name}.bias"),
        shape: layer.bias.dims().to_vec(),
        values: host(layer.bias.clone()),
    });
}

fn linear(out: &mut Vec<NamedTensor>, name: &str, layer: &Linear) {
    // Burn keeps [in, out]; the export is [out, in].
    let weight = layer.weight.val().transpose();
    let out_features = weight.dims()[0];
    out.push(NamedTensor {
        name: format!("{name}.weight"),
        shape: weight.dims().to_vec(),
        values: host(weight),
    });
    let bias = layer
        .bias
        .as_ref()
        .map_or_else(|| vec![0.0; out_features], |b| host(b.val()));
    out.push(NamedTensor {
        name: format!("{name}.bias"),
        shape: vec![out_features],
        values: bias,
    });
}
