//! Training-mode batch norm fused with the residual add and ReLU after it, on
//! flex.
//!
//! [`bn_stats`] and [`bn_relu`] run the slice kernels of [`kernel`] through a
//! Burn backend extension for flex, with a handwritten backward pass under
//! autodiff. The caller checks [`crate::on_flex_f32`] first, updates the layer's
//! running statistics from [`bn_stats`] itself, and runs Burn's operations on
//! every other device.

mod extension;
pub mod kernel;

pub use extension::{bn_relu, bn_stats};
