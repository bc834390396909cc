//! The board kernels as a Burn backend extension: implemented for flex, with a
//! handwritten backward pass for autodiff over it.

use super::kernel::{self, ConvShape};
use crate::on_flex_f32;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::{Autodiff, NodeId};
use burn::backend::flex::{Flex, FlexTensor};
use burn::backend::tensor::FloatTensor;
use burn::backend::{AutodiffBackend, Backend, backend_extension};
use burn::tensor::{DType, Shape, Tensor};

/// Whether the board kernels run this convolution: `f32` tensors on flex (with or
/// without autodiff), an odd square kernel over `x`'s channels. Anything else is
/// for Burn's `conv2d`, forward and backward alike.
///
/// # Shapes
/// `x: [n, c_in, h, w]`, `weight: [c_out, c_in, k, k]`
pub fn supports_conv(x: &Tensor<4>, weight: &Tensor<4>) -> bool {
    let [_, c_in, _, _] = x.dims();
    let [_, wc, k, k2] = weight.dims();
    on_flex_f32(x) && on_flex_f32(weight) && wc == c_in && k == k2 && k % 2 == 1
}

/// `conv(x, weight) + bias` with "same" zero padding and stride 1, through the
/// extension: differentiable in `x`, `weight` and `bias` under autodiff.
///
/// # Shapes
/// `x: [n, c_in, h, w]`, `weight: [c_out, c_in, k, k]` (k odd), `bias: [c_out]`
/// → `[n, c_out, h, w]`
///
/// # Panics
/// When [`supports_conv`] is false for `x` and `weight`.
pub fn conv(x: Tensor<4>, weight: Tensor<4>, bias: Option<Tensor<1>>) -> Tensor<4> {
    assert!(
        supports_conv(&x, &weight),
        "board convolution: f32 tensors on flex and an odd square kernel over the input's channels"
    );
    let out = weight.dims()[0];
    let bias = bias.unwrap_or_else(|| Tensor::zeros([out], &weight.device()));
    Tensor::from_dispatch(<burn::backend::Dispatch as BoardConv>::board_conv(
        x.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
    ))
}

/// Board convolutions and their gradients.
#[backend_extension(Flex, Autodiff)]
pub trait BoardConv: Backend {
    /// `conv(x, weight) + bias`: `[n, c_in, h, w]`, `[c_out, c_in, k, k]`, `[c_out]` → `[n, c_out, h, w]`.
    fn board_conv(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self>;

    /// The input gradient from the output gradient `grad`: `[n, c_in, h, w]`.
    fn board_conv_input_grad(
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self>;

    /// The weight gradient: `[c_out, c_in, k, k]`.
    fn board_conv_weight_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self>;

    /// The bias gradient: `[c_out]`.
    fn board_conv_bias_grad(grad: FloatTensor<Self>) -> FloatTensor<Self>;
}

fn dims4(t: &FlexTensor) -> [usize; 4] {
    let s = t.layout().shape();
    [s[0], s[1], s[2], s[3]]
}

/// The sizes of the convolution of `x` (`[n, c_in, h, w]`) by `weight`.
fn shape_of(x: &FlexTensor, weight: &FlexTensor) -> ConvShape {
    let [n, c_in, h, w] = dims4(x);
    let [c_out, _, k, _] = dims4(weight);
    ConvShape {
        n,
        c_in,
        c_out,
        h,
        w,
        k,
    }
}

fn empty(shape: [usize; 4]) -> FlexTensor {
    FlexTensor::empty(Shape::new(shape), DType::F32)
}

/// The elements of a tensor made contiguous (only `f32` tensors get here: [`supports_conv`]).
fn slice(t: &FlexTensor) -> &[f32] {
    t.as_slice::<f32>().expect("contiguous f32 tensor")
}

impl BoardConv for Flex {
    fn board_conv(x: FlexTensor, weight: FlexTensor, bias: FlexTensor) -> FlexTensor {
        let (x, weight, bias) = (
            x.to_contiguous(),
            weight.to_contiguous(),
            bias.to_contiguous(),
        );
        let s = shape_of(&x, &weight);
        let mut out = empty([s.n, s.c_out, s.h, s.w]);
        kernel::forward(
            &s,
            slice(&x),
            slice(&weight),
            Some(slice(&bias)),
            out.storage_mut::<f32>(),
        );
        out
    }

    fn board_conv_input_grad(weight: FlexTensor, grad: FlexTensor) -> FlexTensor {
        let (weight, grad) = (weight.to_contiguous(), grad.to_contiguous());
        let [n, _, h, w] = dims4(&grad);
        let [c_out, c_in, k, _] = dims4(&weight);
        let s = ConvShape {
            n,
            c_in,
            c_out,
            h,
            w,
            k,
        };
        let mut dx = empty([n, c_in, h, w]);
        kernel::input_grad(&s, slice(&weight), slice(&grad), dx.storage_mut::<f32>());
        dx
    }

    fn board_conv_weight_grad(x: FlexTensor, weight: FlexTensor, grad: FlexTensor) -> FlexTensor {
        let (x, grad) = (x.to_contiguous(), grad.to_contiguous());
        let s = shape_of(&x, &weight);
        let mut dw = empty([s.c_out, s.c_in, s.k, s.k]);
        kernel::weight_grad(&s, slice(&x), slice(&grad), dw.storage_mut::<f32>());
        dw
    }

    fn board_conv_bias_grad(grad: FlexTensor) -> FlexTensor {
        let grad = grad.to_contiguous();
        let [_, c_out, h, w] = dims4(&grad);
        let mut db = FlexTensor::zeros(Shape::new([c_out]), DType::F32);
        kernel::bias_grad(h * w, slice(&grad), db.storage_mut::<f32>());
        db
    }
}

/// The backward step of a board convolution: state is the checkpointed input
/// and weight.
#[derive(Debug)]
struct BoardConvBackward;

impl<B: Backend + BoardConv> Backward<B, 3> for BoardConvBackward {
    type State = (NodeId, NodeId);

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_weight, node_bias] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x_state, weight_state) = ops.state;
        let x = checkpointer.retrieve_node_output::<FloatTensor<B>>(x_state);
        let weight = checkpointer.retrieve_node_output::<FloatTensor<B>>(weight_state);
        if let Some(node) = node_x {
            let dx = B::board_conv_input_grad(weight.clone(), grad.clone());
            grads.register::<B>(node.id, dx);
        }
        if let Some(node) = node_bias {
            grads.register::<B>(node.id, B::board_conv_bias_grad(grad.clone()));
        }
        if let Some(node) = node_weight {
            grads.register::<B>(node.id, B::board_conv_weight_grad(x, weight, grad));
        }
    }
}

impl<B: Backend + BoardConv, C: CheckpointStrategy> BoardConv for Autodiff<B, C> {
    fn board_conv(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        match BoardConvBackward
            .prepare::<C>([x.node(), weight.node(), bias.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                let weight_state = prep.checkpoint(&weight);
                let out = B::board_conv(
                    x.into_primitive(),
                    weight.into_primitive(),
                    bias.into_primitive(),
                );
                prep.finish((x_state, weight_state), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::board_conv(
                x.into_primitive(),
                weight.into_primitive(),
                bias.into_primitive(),
            )),
        }
    }

    fn board_conv_input_grad(
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        // Gradients of gradients are not needed: computed without tracking.
        Self::from_inner(B::board_conv_input_grad(
            Self::inner(weight),
            Self::inner(grad),
        ))
    }

    fn board_conv_weight_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        Self::from_inner(B::board_conv_weight_grad(
            Self::inner(x),
            Self::inner(weight),
            Self::inner(grad),
        ))
    }

    fn board_conv_bias_grad(grad: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::from_inner(B::board_conv_bias_grad(Self::inner(grad)))
    }
}
