//! "Same" convolutions (odd square kernel, stride 1) for small boards.
//!
//! [`conv`] is what the network calls. With the `flex` feature, on Burn's CPU
//! backend (flex, with or without autodiff) it runs az's own kernels
//! (az-kernels): one im2col and one gemm per chunk of several boards instead of
//! per board, and a handwritten backward pass. On any other device (CUDA), or
//! without the feature, it is Burn's own `conv2d`, so that path is generic Burn
//! code; [`ConvKernel::Burn`] forces it on the CPU too, and the tests compare the
//! two.

use burn::tensor::Tensor;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;

/// Which implementation runs the convolutions and the training-mode batch norms.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum ConvKernel {
    /// az's board kernels where the device supports them (flex, with the `flex`
    /// feature), Burn's elsewhere: these convolutions, and batch norm fused with
    /// its ReLU ([`crate::batch_norm::forward_relu`]).
    #[default]
    Board,
    /// Burn's `conv2d` and element-wise operations everywhere.
    Burn,
}

/// `conv(x, weight) + bias` with "same" zero padding and stride 1.
///
/// # Shapes
/// `x: [n, c_in, h, w]`, `weight: [c_out, c_in, k, k]` (k odd), `bias: [c_out]`
/// → `[n, c_out, h, w]`
pub fn conv(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    kernel: ConvKernel,
) -> Tensor<4> {
    #[cfg(feature = "flex")]
    if kernel == ConvKernel::Board && az_kernels::supports_conv(&x, &weight) {
        return az_kernels::conv(x, weight, bias);
    }
    let _ = kernel;
    let pad = weight.dims()[2] / 2;
    conv2d(
        x,
        weight,
        bias,
        ConvOptions::new([1, 1], [pad, pad], [1, 1], 1),
    )
}
