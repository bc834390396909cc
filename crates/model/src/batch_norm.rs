//! Batch norm with per-channel factors laid out as contiguous rows.
//!
//! Burn's stock layer broadcasts `[1, C, 1, 1]` against `[N, C, H, W]`, which the
//! flex CPU backend runs through a strided scalar path (about a fifth of the
//! convolutions' speed, ../shared/notes/burn-cpu.md). Here the per-channel scale
//! and shift are expanded to one `[1, C·H·W]` row and applied to `[N, C·H·W]`: a
//! plain row broadcast. Same parameters and running statistics as the stock
//! layer (biased running variance, Burn's momentum convention), checked equal in
//! tests.

use crate::board_conv::ConvKernel;
use burn::nn::BatchNorm;
use burn::tensor::Tensor;
use burn::tensor::activation::relu;

/// `relu(batch_norm(x) + skip)`, what every batch norm of the network is
/// followed by. In training on flex (an autodiff device, the layer training) with
/// [`ConvKernel::Board`] and the `flex` feature, az's fused kernel (az-kernels)
/// with its handwritten backward pass; otherwise [`forward`] and Burn's add and
/// ReLU (every other device, and inference, where the network folds batch norm
/// away anyway).
///
/// # Shapes
/// `x, skip: [n, c, h, w]` → `[n, c, h, w]`
pub fn forward_relu(
    bn: &BatchNorm,
    x: Tensor<4>,
    skip: Option<Tensor<4>>,
    kernel: ConvKernel,
) -> Tensor<4> {
    #[cfg(feature = "flex")]
    if kernel == ConvKernel::Board
        && is_training(bn, &x)
        && az_kernels::on_flex_f32(&x)
        && skip.as_ref().is_none_or(az_kernels::on_flex_f32)
    {
        let c = x.dims()[1];
        let stats = az_kernels::bn_stats(x.clone()); // [2c]: mean, biased variance
        update_running(bn, stats.clone().slice(0..c), stats.clone().slice(c..2 * c));
        let (gamma, beta) = (bn.gamma.val(), bn.beta.val());
        return az_kernels::bn_relu(x, gamma, beta, stats, skip, bn.epsilon as f32);
    }
    let _ = kernel;
    let y = forward(bn, x);
    relu(match skip {
        Some(skip) => y + skip,
        None => y,
    })
}

/// Whether batch norm uses (and updates) batch statistics for `x`.
fn is_training(bn: &BatchNorm, x: &Tensor<4>) -> bool {
    x.device().is_autodiff() && bn.training.is_enabled()
}

/// Batch norm of `x` with `bn`'s parameters: batch statistics (and a running
/// statistics update) when the device records gradients and the layer trains,
/// running statistics otherwise.
///
/// # Shapes
/// `x: [n, c, h, w]` → `[n, c, h, w]`
pub fn forward(bn: &BatchNorm, x: Tensor<4>) -> Tensor<4> {
    if is_training(bn, &x) {
        train(bn, x)
    } else {
        let (scale, shift) = inference_factors(bn);
        apply_rows(x, scale, shift)
    }
}

/// `scale = γ / sqrt(running_var + ε)`, `shift = β − running_mean · scale`, per channel.
pub fn inference_factors(bn: &BatchNorm) -> (Tensor<1>, Tensor<1>) {
    let mean = bn.running_mean.value();
    let var = bn.running_var.value();
    let scale = bn.gamma.val() / (var + bn.epsilon).sqrt(); // [c]
    let shift = bn.beta.val() - mean * scale.clone(); // [c]
    (scale, shift)
}

/// `x · scale + shift` with per-channel factors as contiguous rows.
fn apply_rows(x: Tensor<4>, scale: Tensor<1>, shift: Tensor<1>) -> Tensor<4> {
    let [n, c, h, w] = x.dims();
    let hw = h * w;
    let row = |t: Tensor<1>| t.reshape([c, 1]).repeat_dim(1, hw).reshape([1, c * hw]); // [1, c·hw]
    (x.reshape([n, c * hw]) * row(scale) + row(shift)).reshape([n, c, h, w])
}

fn train(bn: &BatchNorm, x: Tensor<4>) -> Tensor<4> {
    let [n, c, h, w] = x.dims();
    let x3 = x.clone().reshape([n, c, h * w]);
    let mean = x3.clone().mean_dim(2).mean_dim(0).reshape([c]); // [c]
    let mean_sq = (x3.clone() * x3).mean_dim(2).mean_dim(0).reshape([c]); // [c]
    let var = (mean_sq - mean.clone() * mean.clone()).clamp_min(0.0); // biased, [c]

    update_running(bn, mean.clone(), var.clone());
    let scale = bn.gamma.val() / (var + bn.epsilon).sqrt(); // [c]
    let shift = bn.beta.val() - mean * scale.clone(); // [c]
    apply_rows(x, scale, shift)
}

/// Blends the batch's `mean` and biased `var` (`[c]`) into the running statistics.
fn update_running(bn: &BatchNorm, mean: Tensor<1>, var: Tensor<1>) {
    let m = bn.momentum;
    let device = mean.device();
    let running_mean = bn.running_mean.value_sync().to_device(&device);
    let running_var = bn.running_var.value_sync().to_device(&device);
    // A batch with a NaN or infinity must not poison the running statistics: the
    // trainer refuses that step, and the last good statistics stay.
    let blend = |old: Tensor<1>, batch: Tensor<1>| {
        let new = (old.clone() * (1.0 - m) + batch.detach() * m).detach();
        // Detached: a running statistic that kept its graph would chain every
        // step's graph to the next, and each step would take longer than the last.
        new.clone()
            .mask_where(new.is_finite().bool_not(), old)
            .detach()
    };
    bn.running_mean.update(blend(running_mean, mean));
    bn.running_var.update(blend(running_var, var));
}
