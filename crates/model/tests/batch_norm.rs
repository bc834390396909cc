//! az's fused training batch norm (flex) against the same layer in generic Burn
//! operations (what every other device runs): outputs, running statistics and
//! the gradients of the input, γ, β and the skip input.

use az_model::ConvKernel;
use az_model::batch_norm::forward_relu;
use burn::module::{Module, Param};
use burn::nn::{BatchNorm, BatchNormConfig};
use burn::tensor::{Device, Tensor, TensorData};

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().unwrap()
}

fn close(what: &str, a: &[f32], b: &[f32], tol: f32) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol * (1.0 + y.abs()),
            "{what}, entry {i}: {x} vs {y}"
        );
    }
}

fn tensor<const D: usize>(dims: [usize; D], seed: f32, device: &Device) -> Tensor<D> {
    let len = dims.iter().product::<usize>();
    let data: Vec<f32> = (0..len)
        .map(|i| (i as f32 * 0.731 + seed).sin() * (1.0 + (i % 5) as f32 * 0.4) + 0.3)
        .collect();
    Tensor::from_data(TensorData::new(data, dims), device)
}

/// A layer with γ, β and running statistics away from their defaults.
fn layer(c: usize, device: &Device) -> BatchNorm {
    let mut bn = BatchNormConfig::new(c).init(device);
    bn.gamma = Param::from_tensor(tensor([c], 1.0, device));
    bn.beta = Param::from_tensor(tensor([c], 2.0, device) * 0.5);
    bn
}

/// Output, running statistics and gradients of `forward_relu` with `kernel`.
fn run(n: usize, c: usize, with_skip: bool, kernel: ConvKernel) -> Vec<(String, Vec<f32>)> {
    let ad = Device::flex().autodiff();
    let bn = layer(c, &ad);
    let x = tensor([n, c, 6, 7], 0.0, &ad).require_grad();
    let skip = with_skip.then(|| tensor([n, c, 6, 7], 3.0, &ad).require_grad());
    let y = forward_relu(&bn, x.clone(), skip.clone(), kernel);
    let weights = tensor([n, c, 6, 7], 5.0, &ad);
    let grads = (y.clone() * weights).sum().backward();
    let mut out = vec![
        ("output".to_string(), to_vec(y)),
        ("running mean".into(), to_vec(bn.running_mean.value())),
        ("running var".into(), to_vec(bn.running_var.value())),
        ("dx".into(), to_vec(x.grad(&grads).expect("dx"))),
        (
            "dgamma".into(),
            to_vec(bn.gamma.grad(&grads).expect("dgamma")),
        ),
        ("dbeta".into(), to_vec(bn.beta.grad(&grads).expect("dbeta"))),
    ];
    if let Some(skip) = skip {
        out.push(("dskip".into(), to_vec(skip.grad(&grads).expect("dskip"))));
    }
    out
}

#[test]
fn fused_batch_norm_matches_burns_operations() {
    for (n, c, with_skip) in [(5, 3, false), (5, 3, true), (33, 8, true), (1, 2, false)] {
        let fused = run(n, c, with_skip, ConvKernel::Board);
        let burn = run(n, c, with_skip, ConvKernel::Burn);
        assert_eq!(fused.len(), burn.len());
        // The ReLU cuts part of the output: the test means something only if
        // both sides of it are present.
        let out = &fused[0].1;
        assert!(out.contains(&0.0) && out.iter().any(|&v| v > 0.0));
        for ((what, a), (_, b)) in fused.iter().zip(&burn) {
            close(&format!("n={n} c={c} skip={with_skip}: {what}"), a, b, 2e-4);
        }
    }
}

/// Outside training (no autodiff, or the layer in eval mode) the running
/// statistics are used and left alone, as with Burn's layer.
#[test]
fn eval_mode_uses_running_statistics() {
    let ad = Device::flex().autodiff();
    let bn = layer(4, &ad);
    let _ = forward_relu(&bn, tensor([7, 4, 6, 7], 0.0, &ad), None, ConvKernel::Board);
    let trained = bn.valid();
    let before = to_vec(trained.running_mean.value());
    let x = tensor([3, 4, 6, 7], 9.0, &Device::flex());
    let ours = forward_relu(&trained, x.clone(), None, ConvKernel::Board);
    let burns = burn::tensor::activation::relu(trained.forward(x));
    close("eval output", &to_vec(ours), &to_vec(burns), 1e-5);
    close(
        "running mean",
        &to_vec(trained.running_mean.value()),
        &before,
        0.0,
    );
}

/// A NaN in the input reaches the output (the trainer's non-finite check
/// depends on it): the statistics and the ReLU must not swallow it.
#[test]
fn a_nan_input_gives_nan_outputs() {
    let ad = Device::flex().autodiff();
    let bn = layer(3, &ad);
    let mut data = to_vec(tensor([4, 3, 6, 7], 0.0, &ad));
    data[10] = f32::NAN; // image 0, channel 0
    let x = Tensor::<4>::from_data(TensorData::new(data, [4, 3, 6, 7]), &ad);
    let y = to_vec(forward_relu(&bn, x, None, ConvKernel::Board));
    // Channel 0's statistics are NaN (so is every image's plane 0), channel 1's not.
    for image in 0..4 {
        let at = image * 3 * 42;
        assert!(
            y[at..at + 42].iter().all(|v| v.is_nan()),
            "image {image}, channel 0"
        );
        assert!(
            y[at + 42..at + 84].iter().all(|v| v.is_finite()),
            "image {image}, channel 1"
        );
    }
}
