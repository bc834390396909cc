//! The network on the flex CPU backend: folded inference equals the training
//! network, the custom batch norm equals Burn's, masking, save/load.

use az_infer::BatchModel;
use az_model::{InferenceNet, NetConfig, PolicyValueNet};
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
    let ad = Device::flex().autodiff();
    let net = PolicyValueNet::new(&CFG, &ad);
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

#[test]
fn folded_inference_equals_the_network_in_eval_mode() {
    let net = trained_net();
    let device = Device::flex();
    let eval = net.valid();
    let (logits, value) = eval.forward(input(5, &device));
    let folded = InferenceNet::new(&net, CFG, &device);
    let (flogits, fvalue) = folded.forward(input(5, &device));
    close(&to_vec(flogits), &to_vec(logits), 1e-4);
    close(&to_vec(fvalue), &to_vec(value), 1e-4);
}

#[test]
fn illegal_moves_get_zero_probability() {
    let device = Device::flex();
    let mut net = InferenceNet::new(&trained_net(), CFG, &device);
    let n = 3;
    let inputs = to_vec(input(n, &device));
    let mut masks = vec![1.0; n * 7];
    for (i, m) in masks.iter_mut().enumerate() {
        if i % 3 == 0 {
            *m = 0.0;
        }
    }
    let mut policy = vec![f32::NAN; n * 7];
    let mut value = vec![f32::NAN; n];
    BatchModel::forward(&mut net, n, &inputs, &masks, &mut policy, &mut value);
    for r in 0..n {
        let row = &policy[r * 7..(r + 1) * 7];
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        for a in 0..7 {
            if masks[r * 7 + a] == 0.0 {
                assert_eq!(row[a], 0.0, "row {r} move {a}");
            } else {
                assert!(row[a] > 0.0);
            }
        }
        assert!(value[r].abs() < 1.0);
    }
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
