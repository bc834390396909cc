//! The fused batch norm ([`super::kernel`]) as a Burn backend extension:
//! implemented for flex, with a handwritten backward pass for autodiff over it.

use super::kernel::{self, BnParams, BnShape};
use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, NodeGuard, Ops, OpsKind};
use burn::backend::flex::{Flex, FlexTensor};
use burn::backend::tensor::FloatTensor;
use burn::backend::{AutodiffBackend, Backend, backend_extension};
use burn::tensor::{DType, Shape, Tensor};

/// The batch statistics of `x` (`[n, c, h, w]`, `f32` on flex): `[mean; c]` then
/// `[biased variance; c]`. Not differentiated: [`bn_relu`] accounts for their
/// dependence on `x`.
pub fn bn_stats(x: Tensor<4>) -> Tensor<1> {
    Tensor::from_dispatch(<burn::backend::Dispatch as BoardBatchNorm>::bn_stats(
        x.into_dispatch(),
    ))
}

/// `relu(γ·(x − μ)/√(σ² + ε) + β + skip)` with `stats` from [`bn_stats`] of the
/// same `x`: training-mode batch norm, differentiable in `x`, `gamma`, `beta` and
/// `skip` under autodiff (the statistics' dependence on `x` included). All
/// tensors `f32` on flex ([`crate::on_flex_f32`]).
///
/// # Shapes
/// `x, skip: [n, c, h, w]`, `gamma, beta: [c]`, `stats: [2c]` → `[n, c, h, w]`
pub fn bn_relu(
    x: Tensor<4>,
    gamma: Tensor<1>,
    beta: Tensor<1>,
    stats: Tensor<1>,
    skip: Option<Tensor<4>>,
    eps: f32,
) -> Tensor<4> {
    type D = burn::backend::Dispatch;
    let [x, gamma, beta, stats] = [
        x.into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
        stats.into_dispatch(),
    ];
    Tensor::from_dispatch(match skip {
        None => <D as BoardBatchNorm>::bn_relu(x, gamma, beta, stats, eps),
        Some(skip) => {
            <D as BoardBatchNorm>::bn_add_relu(x, gamma, beta, stats, skip.into_dispatch(), eps)
        }
    })
}

/// Training-mode batch norm fused with the residual add and ReLU after it.
///
/// (The `_add_` forms take the skip input; the extension macro does not route
/// optional tensors.)
#[backend_extension(Flex, Autodiff)]
pub trait BoardBatchNorm: Backend {
    /// Batch mean and biased variance per channel: `[n, c, h, w]` → `[2c]`.
    fn bn_stats(x: FloatTensor<Self>) -> FloatTensor<Self>;

    /// `relu(γ·(x − μ)/√(σ² + ε) + β)`: `[n, c, h, w]` → `[n, c, h, w]`.
    fn bn_relu(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        stats: FloatTensor<Self>,
        eps: f32,
    ) -> FloatTensor<Self>;

    /// `relu(γ·(x − μ)/√(σ² + ε) + β + skip)`: `[n, c, h, w]` → `[n, c, h, w]`.
    fn bn_add_relu(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        stats: FloatTensor<Self>,
        skip: FloatTensor<Self>,
        eps: f32,
    ) -> FloatTensor<Self>;

    /// Gradients of [`bn_relu`](BoardBatchNorm::bn_relu) from the output
    /// gradient `grad`: `(dx, dγ, dβ)`.
    fn bn_relu_backward(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        stats: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        eps: f32,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);

    /// Gradients of [`bn_add_relu`](BoardBatchNorm::bn_add_relu): `(dx, dγ, dβ, dskip)`.
    #[allow(clippy::type_complexity)]
    fn bn_add_relu_backward(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        stats: FloatTensor<Self>,
        skip: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        eps: f32,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    );
}

fn bn_shape(x: &FlexTensor) -> BnShape {
    let s = x.layout().shape();
    BnShape {
        n: s[0],
        c: s[1],
        hw: s[2] * s[3],
    }
}

/// The elements of a contiguous `f32` tensor (only those reach the extension:
/// see [`crate::on_flex_f32`]).
fn slice(t: &FlexTensor) -> &[f32] {
    t.as_slice::<f32>().expect("contiguous f32 tensor")
}

fn vector(values: Vec<f32>) -> FlexTensor {
    let mut t = FlexTensor::empty(Shape::new([values.len()]), DType::F32);
    t.storage_mut::<f32>().copy_from_slice(&values);
    t
}

/// Flex's forward, with or without a skip input.
fn flex_forward(
    x: FlexTensor,
    gamma: FlexTensor,
    beta: FlexTensor,
    stats: FlexTensor,
    skip: Option<FlexTensor>,
    eps: f32,
) -> FlexTensor {
    let [x, gamma, beta, stats] = [x, gamma, beta, stats].map(|t| t.to_contiguous());
    let skip = skip.map(|t| t.to_contiguous());
    let s = bn_shape(&x);
    let mut out = FlexTensor::empty(x.layout().shape().clone(), DType::F32);
    let p = BnParams {
        gamma: slice(&gamma),
        beta: slice(&beta),
        stats: slice(&stats),
        eps,
    };
    kernel::forward(
        &s,
        &p,
        slice(&x),
        skip.as_ref().map(slice),
        out.storage_mut::<f32>(),
    );
    out
}

/// Flex's backward, with or without a skip input: `(dx, dγ, dβ, dskip)`.
fn flex_backward(
    x: FlexTensor,
    gamma: FlexTensor,
    beta: FlexTensor,
    stats: FlexTensor,
    skip: Option<FlexTensor>,
    grad: FlexTensor,
    eps: f32,
) -> (FlexTensor, FlexTensor, FlexTensor, Option<FlexTensor>) {
    let [x, gamma, beta, stats, grad] = [x, gamma, beta, stats, grad].map(|t| t.to_contiguous());
    let skip = skip.map(|t| t.to_contiguous());
    let s = bn_shape(&x);
    let shape = x.layout().shape().clone();
    let mut dx = FlexTensor::empty(shape.clone(), DType::F32);
    let mut dskip = skip.as_ref().map(|_| FlexTensor::empty(shape, DType::F32));
    let p = BnParams {
        gamma: slice(&gamma),
        beta: slice(&beta),
        stats: slice(&stats),
        eps,
    };
    let (dgamma, dbeta) = kernel::backward(
        &s,
        &p,
        slice(&x),
        slice(&grad),
        dx.storage_mut::<f32>(),
        skip.as_ref()
            .zip(dskip.as_mut())
            .map(|(k, dk)| (slice(k), dk.storage_mut::<f32>())),
    );
    (dx, vector(dgamma), vector(dbeta), dskip)
}

impl BoardBatchNorm for Flex {
    fn bn_stats(x: FlexTensor) -> FlexTensor {
        let x = x.to_contiguous();
        let s = bn_shape(&x);
        let mut out = FlexTensor::empty(Shape::new([2 * s.c]), DType::F32);
        kernel::stats(&s, slice(&x), out.storage_mut::<f32>());
        out
    }

    fn bn_relu(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        stats: FlexTensor,
        eps: f32,
    ) -> FlexTensor {
        flex_forward(x, gamma, beta, stats, None, eps)
    }

    fn bn_add_relu(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        stats: FlexTensor,
        skip: FlexTensor,
        eps: f32,
    ) -> FlexTensor {
        flex_forward(x, gamma, beta, stats, Some(skip), eps)
    }

    fn bn_relu_backward(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        stats: FlexTensor,
        grad: FlexTensor,
        eps: f32,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        let (dx, dgamma, dbeta, _) = flex_backward(x, gamma, beta, stats, None, grad, eps);
        (dx, dgamma, dbeta)
    }

    fn bn_add_relu_backward(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        stats: FlexTensor,
        skip: FlexTensor,
        grad: FlexTensor,
        eps: f32,
    ) -> (FlexTensor, FlexTensor, FlexTensor, FlexTensor) {
        let (dx, dgamma, dbeta, dskip) =
            flex_backward(x, gamma, beta, stats, Some(skip), grad, eps);
        (
            dx,
            dgamma,
            dbeta,
            dskip.expect("a skip gradient for a skip input"),
        )
    }
}

/// What the backward step keeps: the forward's inputs (the statistics are small,
/// `x` is the convolution's output) and ε.
#[derive(Debug, Clone)]
struct Saved<B: Backend> {
    x: FloatTensor<B>,
    gamma: FloatTensor<B>,
    beta: FloatTensor<B>,
    stats: FloatTensor<B>,
    skip: Option<FloatTensor<B>>,
    eps: f32,
}

impl<B: Backend + BoardBatchNorm> Saved<B> {
    /// (An autodiff tensor's type does not depend on the checkpoint strategy.)
    fn new(
        x: &FloatTensor<Autodiff<B>>,
        gamma: &FloatTensor<Autodiff<B>>,
        beta: &FloatTensor<Autodiff<B>>,
        stats: FloatTensor<Autodiff<B>>,
        skip: Option<&FloatTensor<Autodiff<B>>>,
        eps: f32,
    ) -> Self {
        let inner = |t: &FloatTensor<Autodiff<B>>| t.primitive().clone();
        Saved {
            x: inner(x),
            gamma: inner(gamma),
            beta: inner(beta),
            stats: inner(&stats),
            skip: skip.map(inner),
            eps,
        }
    }

    /// The inner backend's forward on the saved inputs.
    fn forward(&self) -> FloatTensor<B> {
        let (x, gamma, beta, stats) = (
            self.x.clone(),
            self.gamma.clone(),
            self.beta.clone(),
            self.stats.clone(),
        );
        match &self.skip {
            None => B::bn_relu(x, gamma, beta, stats, self.eps),
            Some(skip) => B::bn_add_relu(x, gamma, beta, stats, skip.clone(), self.eps),
        }
    }
}

/// Registers the gradients of `bn_relu` for its parents `[x, γ, β]` and `skip`.
fn register<B: Backend + BoardBatchNorm, const N: usize>(
    ops: Ops<Saved<B>, N>,
    grads: &mut Gradients,
) {
    let grad = grads.consume::<B>(&ops.node);
    let Saved {
        x,
        gamma,
        beta,
        stats,
        skip,
        eps,
    } = ops.state;
    let outs = match skip {
        None => {
            let (dx, dgamma, dbeta) = B::bn_relu_backward(x, gamma, beta, stats, grad, eps);
            [Some(dx), Some(dgamma), Some(dbeta), None]
        }
        Some(skip) => {
            let (dx, dgamma, dbeta, dskip) =
                B::bn_add_relu_backward(x, gamma, beta, stats, skip, grad, eps);
            [Some(dx), Some(dgamma), Some(dbeta), Some(dskip)]
        }
    };
    for (parent, g) in ops.parents.into_iter().zip(outs) {
        if let (Some(node), Some(g)) = (parent, g) {
            grads.register::<B>(node.id, g);
        }
    }
}

/// The backward step of `bn_relu` without a skip input (parents x, γ, β).
#[derive(Debug)]
struct BnRelu;

/// The backward step of `bn_relu` with a skip input (parents x, γ, β, skip).
#[derive(Debug)]
struct BnAddRelu;

impl<B: Backend + BoardBatchNorm> Backward<B, 3> for BnRelu {
    type State = Saved<B>;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        register(ops, grads);
    }
}

impl<B: Backend + BoardBatchNorm> Backward<B, 4> for BnAddRelu {
    type State = Saved<B>;

    fn backward(self, ops: Ops<Self::State, 4>, grads: &mut Gradients, _: &mut Checkpointer) {
        register(ops, grads);
    }
}

/// Runs the forward on the inner backend, and records `op`'s backward step with
/// `saved` when any of the parents `nodes` needs a gradient.
fn run_tracked<B, C, O, const N: usize>(
    op: O,
    nodes: [NodeGuard; N],
    saved: Saved<B>,
) -> FloatTensor<Autodiff<B, C>>
where
    B: Backend + BoardBatchNorm,
    C: CheckpointStrategy,
    O: Backward<B, N, State = Saved<B>>,
{
    match op.prepare::<C>(nodes).compute_bound().stateful() {
        OpsKind::Tracked(prep) => {
            let out = saved.forward();
            prep.finish(saved, out)
        }
        OpsKind::UnTracked(prep) => prep.finish(saved.forward()),
    }
}

impl<B: Backend + BoardBatchNorm, C: CheckpointStrategy> BoardBatchNorm for Autodiff<B, C> {
    fn bn_stats(x: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::from_inner(B::bn_stats(Self::inner(x)))
    }

    fn bn_relu(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        stats: FloatTensor<Self>,
        eps: f32,
    ) -> FloatTensor<Self> {
        let saved = Saved::new(&x, &gamma, &beta, stats, None, eps);
        run_tracked::<B, C, _, 3>(BnRelu, [x.node(), gamma.node(), beta.node()], saved)
    }

    fn bn_add_relu(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        stats: FloatTensor<Self>,
        skip: FloatTensor<Self>,
        eps: f32,
    ) -> FloatTensor<Self> {
        let saved = Saved::new(&x, &gamma, &beta, stats, Some(&skip), eps);
        let nodes = [x.node(), gamma.node(), beta.node(), skip.node()];
        run_tracked::<B, C, _, 4>(BnAddRelu, nodes, saved)
    }

    fn bn_relu_backward(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        stats: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        eps: f32,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        // Gradients of gradients are not needed: computed without tracking.
        let [x, gamma, beta, stats, grad] = [x, gamma, beta, stats, grad].map(Self::inner);
        let (dx, dgamma, dbeta) = B::bn_relu_backward(x, gamma, beta, stats, grad, eps);
        (
            Self::from_inner(dx),
            Self::from_inner(dgamma),
            Self::from_inner(dbeta),
        )
    }

    fn bn_add_relu_backward(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        stats: FloatTensor<Self>,
        skip: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        eps: f32,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    ) {
        let [x, gamma, beta, stats, skip, grad] =
            [x, gamma, beta, stats, skip, grad].map(Self::inner);
        let (dx, dgamma, dbeta, dskip) =
            B::bn_add_relu_backward(x, gamma, beta, stats, skip, grad, eps);
        (
            Self::from_inner(dx),
            Self::from_inner(dgamma),
            Self::from_inner(dbeta),
            Self::from_inner(dskip),
        )
    }
}
