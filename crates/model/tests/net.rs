//! The network on the flex CPU backend: folded inference equals the training
//! network, the custom batch norm equals Burn's, save/load. (Masking over legal
//! moves is the server model's: az-run's `NetModel`.)

use az_model::{ConvKernel, InferenceNet, NetConfig, PolicyValueNet};
use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};

const CFG: NetConfig = NetConfig {
    planes: 3,
    height: 6,
    width: 7,
    actions: 7,
    blocks: 2,
    channels: 8,
    value_hidden: 16,
    value_channels: 1,
    ownership: false,
};

/// [`CFG`] with a value head of several planes (AlphaZero.jl's connect four network reads 32).
const WIDE_VALUE: NetConfig = NetConfig {
    value_channels: 4,
    ..CFG
};

fn input(n: usize, device: &Device) -> Tensor<4> {
    let data: Vec<f32> = (0..n * 3 * 42)
        .map(|i| ((i * 7919 % 31) as f32 / 31.0) - 0.3)
        .collect();
    Tensor::from_data(TensorData::new(data, [n, 3, 6, 7]), device)
}

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().unwrap()
}

fn close(a: &[f32], b: &[f32], tol: f32) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol * (1.0 + y.abs()),
            "entry {i}: {x} vs {y}"
        );
    }
}

/// A network whose batch norms have seen a few batches (running stats away from 0/1).
fn trained_net() -> PolicyValueNet {
    trained(&CFG)
}

/// A network of `cfg` whose batch norms have seen a few batches.
fn trained(cfg: &NetConfig) -> PolicyValueNet {
    let ad = Device::flex().autodiff();
    let net = PolicyValueNet::new(cfg, &ad);
    for k in 0..3 {
        let _ = net.forward(input(16 + k, &ad) * (1.0 + k as f32));
    }
    net
}

#[test]
fn custom_batch_norm_matches_burns() {
    let ad = Device::flex().autodiff();
    let bn_ours = burn::nn::BatchNormConfig::new(4).init(&ad);
    let bn_burn = bn_ours.clone();
    let x = Tensor::<4>::from_data(
        TensorData::new(
            (0..2 * 4 * 9)
                .map(|i| (i as f32 * 0.37).sin())
                .collect::<Vec<f32>>(),
            [2, 4, 3, 3],
        ),
        &ad,
    );
    close(
        &to_vec(az_model::batch_norm::forward(&bn_ours, x.clone())),
        &to_vec(bn_burn.forward(x.clone())),
        1e-4,
    );
    close(
        &to_vec(bn_ours.running_mean.value()),
        &to_vec(bn_burn.running_mean.value()),
        1e-5,
    );
    close(
        &to_vec(bn_ours.running_var.value()),
        &to_vec(bn_burn.running_var.value()),
        1e-5,
    );
    // Inference mode uses the running statistics, like Burn's.
    let (v_ours, v_burn) = (bn_ours.valid(), bn_burn.valid());
    let xv = x.valid();
    close(
        &to_vec(az_model::batch_norm::forward(&v_ours, xv.clone())),
        &to_vec(v_burn.forward(xv)),
        1e-4,
    );
}

/// az's board convolutions (the default on flex) against Burn's `conv2d` (what
/// every other device runs): same outputs, training and folded inference.
#[test]
fn board_kernels_give_burns_outputs() {
    let net = trained_net();
    let device = Device::flex();
    let eval = net.valid();
    let (l_board, v_board) = eval.forward_with(input(37, &device), ConvKernel::Board);
    let (l_burn, v_burn) = eval.forward_with(input(37, &device), ConvKernel::Burn);
    close(&to_vec(l_board), &to_vec(l_burn), 1e-4);
    close(&to_vec(v_board), &to_vec(v_burn), 1e-4);

    let folded = InferenceNet::new(&net, CFG, &device);
    let (l_board, v_board) = folded.forward(input(37, &device));
    let (l_burn, v_burn) = folded
        .with_kernel(ConvKernel::Burn)
        .forward(input(37, &device));
    close(&to_vec(l_board), &to_vec(l_burn), 1e-4);
    close(&to_vec(v_board), &to_vec(v_burn), 1e-4);
}

/// The board kernels' handwritten backward pass against Burn's autodiff of
/// `conv2d`: gradients of every convolution weight, a batch norm and the input.
#[test]
fn board_kernel_gradients_are_burns() {
    let net = trained_net();
    let ad = Device::flex().autodiff();
    let n = 29;
    let grads_of = |kernel: ConvKernel| {
        let x = input(n, &ad).require_grad();
        let (logits, value) = net.forward_with(x.clone(), kernel);
        let weights: Tensor<2> = Tensor::from_data(
            TensorData::new(
                (0..n * 7)
                    .map(|i| ((i * 13 % 17) as f32 / 17.0) - 0.5)
                    .collect(),
                [n, 7],
            ),
            &ad,
        );
        let loss = (logits * weights).sum() + (value * 0.7).sum();
        let grads = loss.backward();
        let mut all = vec![
            to_vec(x.grad(&grads).expect("input gradient")),
            to_vec(net.stem.conv.weight.grad(&grads).expect("stem gradient")),
            to_vec(net.stem.bn.gamma.grad(&grads).expect("batch norm gradient")),
            to_vec(
                net.policy_conv
                    .conv
                    .weight
                    .grad(&grads)
                    .expect("policy conv gradient"),
            ),
            to_vec(
                net.value_conv
                    .conv
                    .weight
                    .grad(&grads)
                    .expect("value conv gradient"),
            ),
        ];
        for block in &net.blocks {
            all.push(to_vec(
                block.a.conv.weight.grad(&grads).expect("block gradient"),
            ));
            all.push(to_vec(
                block.b.conv.weight.grad(&grads).expect("block gradient"),
            ));
        }
        all
    };
    let (board, burn) = (grads_of(ConvKernel::Board), grads_of(ConvKernel::Burn));
    for (ours, theirs) in board.iter().zip(&burn) {
        assert!(
            ours.iter().any(|g| g.abs() > 1e-6),
            "a gradient is all zero"
        );
        close(ours, theirs, 1e-3);
    }
}

#[test]
fn folded_inference_equals_the_network_in_eval_mode() {
    for cfg in [CFG, WIDE_VALUE] {
        let net = trained(&cfg);
        let device = Device::flex();
        let eval = net.valid();
        let (logits, value) = eval.forward(input(5, &device));
        let folded = InferenceNet::new(&net, cfg, &device);
        let (flogits, fvalue) = folded.forward(input(5, &device));
        close(&to_vec(flogits), &to_vec(logits), 1e-4);
        close(&to_vec(fvalue), &to_vec(value), 1e-4);
    }
}

#[test]
fn the_value_head_has_the_configured_planes() {
    let net = PolicyValueNet::new(&WIDE_VALUE, &Device::flex());
    assert_eq!(net.value_conv.conv.weight.dims(), [4, 8, 1, 1]);
    assert_eq!(net.value_fc1.weight.dims(), [4 * 42, 16]);
    let (_, value) = net.forward(input(3, &Device::flex()));
    assert_eq!(value.dims(), [3]);
}

#[test]
fn saved_and_loaded_network_gives_identical_outputs() {
    let net = trained_net();
    let device = Device::flex();
    let before = to_vec(net.valid().forward(input(4, &device)).0);
    let bytes = net.clone().into_record().into_bytes().unwrap();
    let fresh = PolicyValueNet::new(&CFG, &Device::flex().autodiff());
    let record = burn::store::ModuleRecord::from_bytes(bytes).unwrap();
    let loaded = fresh.try_load_record(record).unwrap();
    let after = to_vec(loaded.valid().forward(input(4, &device)).0);
    assert_eq!(before, after);
}

#[test]
fn the_ownership_head_reads_the_tower_and_leaves_policy_and_value_alone() {
    let device = Device::flex();
    let owned = NetConfig {
        ownership: true,
        ..CFG
    };
    let net = PolicyValueNet::new(&owned, &device);
    let x = input(5, &device);
    let tower = net.tower(x.clone(), ConvKernel::Board);
    let o = to_vec(net.ownership(tower.clone()).expect("an ownership head"));
    assert_eq!(o.len(), 5 * 42, "one value per cell");
    assert!(o.iter().all(|v| v.abs() < 1.0), "tanh");
    let (l1, v1) = net.forward_with(x.clone(), ConvKernel::Board);
    let (l2, v2) = net.heads(tower, ConvKernel::Board);
    assert_eq!((to_vec(l1), to_vec(v1)), (to_vec(l2), to_vec(v2)));
    let plain = PolicyValueNet::new(&CFG, &device);
    assert!(plain.ownership(plain.tower(x, ConvKernel::Board)).is_none());
}
