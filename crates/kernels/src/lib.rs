//! az's own CPU kernels for Burn's flex backend, where a small board (6×7, 8×8)
//! leaves Burn's generic operations far from the CPU's speed:
//!
//! - board convolutions ([`board_conv`]): one im2col and one gemm per chunk of
//!   several boards, with a handwritten backward pass;
//! - training-mode batch norm fused with the residual add and ReLU after it
//!   ([`batch_norm`]), with a handwritten backward pass;
//! - the resident inference tower ([`Tower`]): stem and residual blocks with the
//!   activations kept in the kernels' chunk layout from layer to layer.
//!
//! The crate is flex-only: it turns on Burn's `flex` and `extension` features
//! itself and has no feature flags of its own. az-model depends on it only
//! through its own `flex` feature, checks [`on_flex_f32`] (or [`supports_conv`],
//! [`supports_tower`]) before each call, and runs Burn's generic operations on
//! every other device.
//!
//! # What az-model calls
//! - [`on_flex_f32`]: whether a tensor is one these kernels take.
//! - [`supports_conv`] and [`conv`]: a "same" convolution (odd square kernel,
//!   stride 1) on flex, differentiable under autodiff.
//! - [`bn_stats`] and [`bn_relu`]: the fused training batch norm, differentiable.
//! - [`supports_tower`], [`Tower`] and [`TowerConv`]: inference with batch norm
//!   folded into the convolutions, on host slices.
//!
//! The slice kernels underneath ([`board_conv::kernel`], [`batch_norm::kernel`],
//! [`board_conv::tower`]) take plain NCHW `f32` slices and know nothing of Burn.

pub mod batch_norm;
pub mod board_conv;

pub use batch_norm::{bn_relu, bn_stats};
pub use board_conv::tower::{Tower, TowerConv};
pub use board_conv::{conv, supports_conv, supports_tower};

use burn::backend::DispatchDevice;
use burn::tensor::{DType, Tensor};

/// Whether `t` is an `f32` tensor on flex, with or without autodiff: what az's
/// CPU kernels take.
pub fn on_flex_f32<const D: usize>(t: &Tensor<D>) -> bool {
    let on_flex = match t.device().as_dispatch() {
        DispatchDevice::Flex(_) => true,
        DispatchDevice::Autodiff(device) => {
            matches!(device.clone().inner(), DispatchDevice::Flex(_))
        }
        #[allow(unreachable_patterns)] // other backends compiled in or not
        _ => false,
    };
    on_flex && t.dtype() == DType::F32
}
