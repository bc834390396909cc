//! The same network, training step, checkpoints and self-play on a wgpu device
//! and on the CPU (flex with az's board kernels) give the same numbers.
//!
//! Built only with `--features wgpu`: `tools/gpu-check.sh` runs it (on Mesa's
//! lavapipe in CI, on a real GPU where there is one). The adapter is
//! `AZ_WGPU_ADAPTER` (a `model.adapter` value; `default` if unset). A machine
//! without an adapter fails these tests: they are never skipped.
//!
//! Tolerance: the two devices sum in different orders (az's im2col + gemm
//! against cubecl's convolution kernels), so values agree to float rounding:
//! every compared tensor within `TOL` of the larger of 1 and its largest magnitude.
#![cfg(feature = "wgpu")]

use az_cli::backend;
use az_experiment::{AdapterSpec, DeviceSpec, ModelSection};
use az_model::{ConvKernel, NetConfig, PolicyValueNet, losses};
use az_replay::TrainBatch;
use az_train::{CheckpointMeta, OptimizerKind, TrainConfig, Trainer};
use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Gradients, Tensor, TensorData};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Relative tolerance of every comparison (see the module's note).
const TOL: f32 = 2e-3;

fn wgpu() -> Device {
    let adapter: AdapterSpec = std::env::var("AZ_WGPU_ADAPTER")
        .unwrap_or_else(|_| "default".to_owned())
        .parse()
        .expect("AZ_WGPU_ADAPTER");
    let model = ModelSection {
        device: DeviceSpec::Wgpu,
        adapter,
        ..ModelSection::default()
    };
    backend::device(&model).unwrap_or_else(|e| panic!("no wgpu device: {e}"))
}

fn cpu() -> Device {
    backend::device(&ModelSection::default()).expect("flex")
}

/// Connect Four's shape with a small tower.
fn config() -> NetConfig {
    NetConfig {
        planes: 2,
        height: 6,
        width: 7,
        actions: 7,
        blocks: 2,
        channels: 16,
        value_hidden: 32,
        // More than AlphaGo Zero's one plane, so both devices flatten several.
        value_channels: 2,
        ownership: false,
    }
}

fn train_config() -> TrainConfig {
    TrainConfig {
        // SGD: its update is linear in the gradient, so rounding stays rounding
        // (AdamW's first step is about lr · sign(g), which rounding can flip).
        optimizer: OptimizerKind::Sgd { momentum: 0.9 },
        learning_rate: 0.05,
        ..TrainConfig::default()
    }
}

/// A fixed batch of `n` positions with mixed targets.
fn batch(n: usize, seed: u64) -> TrainBatch {
    let c = config();
    let bit = |i: usize| (az_game::mix64(seed ^ i as u64) & 1) as f32;
    let inputs = (0..n * c.planes * c.cells()).map(bit).collect();
    let masks: Vec<f32> = (0..n * c.actions)
        .map(|i| if i % 5 == 3 { 0.0 } else { 1.0 })
        .collect();
    let policies = masks
        .chunks(c.actions)
        .enumerate()
        .flat_map(|(r, m)| {
            let legal = m.iter().filter(|x| **x > 0.0).count() as f32;
            m.iter()
                .enumerate()
                .map(move |(j, x)| x * (1.0 + ((r + j) % 3) as f32) / (2.0 * legal))
                .collect::<Vec<_>>()
        })
        .collect();
    let values = (0..n).map(|i| [1.0, -1.0, 0.0][i % 3]).collect();
    TrainBatch {
        n,
        inputs,
        masks,
        policies,
        values,
        // The networks compared here have no ownership head.
        owners: Vec::new(),
    }
}

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32")
}

/// Largest difference of `a` and `b` relative to max(1, max |b|); panics past `TOL`.
fn close(what: &str, a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let scale = b.iter().fold(1.0f32, |m, x| m.max(x.abs()));
    let worst = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / scale)
        .fold(0.0f32, f32::max);
    assert!(
        worst <= TOL,
        "{what}: wgpu and cpu differ by {worst} (relative) > {TOL}"
    );
    worst
}

/// Every float parameter of a module in visiting order, or with `grads` the
/// gradient of every trained one (empty if it got none).
struct Params<'a> {
    grads: Option<&'a Gradients>,
    out: Vec<Vec<f32>>,
}

impl ModuleVisitor for Params<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        match self.grads {
            // Batch norm's running statistics are state, not trained: no gradient.
            Some(_) if !param.val().is_require_grad() => {}
            Some(grads) => self
                .out
                .push(param.grad(grads).map(to_vec).unwrap_or_default()),
            None => self.out.push(to_vec(param.val())),
        }
    }
}

fn params(net: &PolicyValueNet, grads: Option<&Gradients>) -> Vec<Vec<f32>> {
    let mut v = Params {
        grads,
        out: Vec::new(),
    };
    net.visit(&mut v);
    v.out
}

fn close_all(what: &str, a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    assert_eq!(a.len(), b.len(), "{what}: parameter count");
    a.iter()
        .zip(b)
        .enumerate()
        .map(|(i, (x, y))| close(&format!("{what} #{i}"), x, y))
        .fold(0.0, f32::max)
}

/// The loss and every parameter's gradient of `net` on `b` (on the net's device).
fn gradients(net: &PolicyValueNet, b: &TrainBatch, device: &Device) -> (f32, Vec<Vec<f32>>) {
    let c = config();
    let tensor2 =
        |v: &[f32], w: usize| Tensor::from_data(TensorData::new(v.to_vec(), [b.n, w]), device);
    let x = Tensor::from_data(
        TensorData::new(b.inputs.clone(), [b.n, c.planes, c.height, c.width]),
        device,
    );
    let (logits, value) = net.forward_with(x, ConvKernel::Board);
    let target_value = Tensor::<1>::from_data(TensorData::new(b.values.clone(), [b.n]), device);
    let l = losses(
        logits,
        tensor2(&b.masks, c.actions),
        value,
        tensor2(&b.policies, c.actions),
        target_value,
    );
    let total = l.total(1.0);
    let loss = to_vec(total.clone())[0];
    let grads = total.backward();
    (loss, params(net, Some(&grads)))
}

/// A fresh scratch directory of this test process.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("az-xdev-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn load(path: &Path, device: &Device) -> Trainer {
    Trainer::load(path, "connect4", config(), train_config(), device)
        .expect("checkpoint loads")
        .0
}

#[test]
fn a_missing_adapter_is_a_clear_error() {
    let model = ModelSection {
        device: DeviceSpec::Wgpu,
        adapter: AdapterSpec::Discrete(7),
        ..ModelSection::default()
    };
    let e = backend::device(&model).unwrap_err().to_string();
    assert!(
        e.contains("model.adapter = \"discrete:7\"") && e.contains("integrated"),
        "{e}"
    );
}

#[test]
fn network_outputs_equal_on_wgpu_and_cpu() {
    let (cpu, gpu) = (cpu(), wgpu());
    let net = PolicyValueNet::new(&config(), &cpu);
    let x = batch(64, 7).inputs;
    let on_cpu = az_model::InferenceNet::new(&net, config(), &cpu).forward_slices(64, &x);
    let on_gpu = az_model::InferenceNet::new(&net, config(), &gpu).forward_slices(64, &x);
    let l = close("logits", &on_gpu.0, &on_cpu.0);
    let v = close("values", &on_gpu.1, &on_cpu.1);
    eprintln!("inference: logits within {l:e}, values within {v:e} (relative)");
    gpu.sync().unwrap();
}

#[test]
fn a_training_step_is_equal_and_checkpoints_cross_devices() {
    let (cpu, gpu) = (cpu(), wgpu());
    let dir = scratch("step");
    let b = batch(48, 1);

    // The CPU trainer steps twice (momentum state), then its checkpoint is
    // loaded on wgpu: network and optimiser state cross from flex to wgpu.
    let mut on_cpu = Trainer::new(config(), train_config(), &cpu);
    on_cpu.step(&batch(48, 2)).unwrap();
    on_cpu.step(&batch(48, 3)).unwrap();
    let from_cpu = dir.join("from-cpu.azck");
    on_cpu
        .save(&from_cpu, CheckpointMeta::fresh("connect4"))
        .unwrap();
    let mut on_gpu = load(&from_cpu, &gpu);
    let w = close_all(
        "weights loaded on wgpu",
        &params(on_gpu.net(), None),
        &params(on_cpu.net(), None),
    );
    assert_eq!(w, 0.0, "a checkpoint's weights are exact on both devices");

    // The same step: loss, every gradient, the updated weights.
    let (loss_gpu, grads_gpu) = gradients(on_gpu.net(), &b, &gpu.clone().autodiff());
    let (loss_cpu, grads_cpu) = gradients(on_cpu.net(), &b, &cpu.clone().autodiff());
    let l = close("loss", &[loss_gpu], &[loss_cpu]);
    let g = close_all("gradient", &grads_gpu, &grads_cpu);
    let missing: Vec<usize> = (0..grads_cpu.len())
        .filter(|i| grads_cpu[*i].is_empty())
        .collect();
    assert!(
        missing.is_empty(),
        "parameters {missing:?} of {} got no gradient",
        grads_cpu.len()
    );
    let (s_gpu, s_cpu) = (on_gpu.step(&b).unwrap(), on_cpu.step(&b).unwrap());
    close("step loss", &[s_gpu.loss], &[s_cpu.loss]);
    let u = close_all(
        "updated weights",
        &params(on_gpu.net(), None),
        &params(on_cpu.net(), None),
    );
    eprintln!(
        "training step: loss within {l:e}, gradients within {g:e}, updated weights within {u:e}"
    );

    // Back: the wgpu trainer's checkpoint resumes on the CPU and both step alike.
    let from_gpu = dir.join("from-gpu.azck");
    on_gpu
        .save(&from_gpu, CheckpointMeta::fresh("connect4"))
        .unwrap();
    let mut back = load(&from_gpu, &cpu);
    let b2 = batch(48, 4);
    let (s_back, s_gpu) = (back.step(&b2).unwrap(), on_gpu.step(&b2).unwrap());
    close("resumed step loss", &[s_back.loss], &[s_gpu.loss]);
    close_all(
        "weights after a resumed step",
        &params(back.net(), None),
        &params(on_gpu.net(), None),
    );
    gpu.sync().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn resumed_optimizer_state_is_used_on_wgpu() {
    // A checkpoint with momentum and one without it step differently on wgpu:
    // the loaded state reaches the training device and is used.
    let (cpu, gpu) = (cpu(), wgpu());
    let dir = scratch("momentum");
    let mut with = Trainer::new(config(), train_config(), &cpu);
    with.step(&batch(32, 5)).unwrap();
    let path = dir.join("with.azck");
    with.save(&path, CheckpointMeta::fresh("connect4")).unwrap();
    let mut resumed = load(&path, &gpu);
    let weights = with.weights("connect4").unwrap();
    let plain = dir.join("plain.azck");
    std::fs::write(&plain, &weights).unwrap();
    let mut without = load(&plain, &gpu);
    let b = batch(32, 6);
    resumed.step(&b).unwrap();
    without.step(&b).unwrap();
    with.step(&b).unwrap();
    close_all(
        "momentum step on wgpu",
        &params(resumed.net(), None),
        &params(with.net(), None),
    );
    let apart = params(resumed.net(), None)
        .iter()
        .flatten()
        .zip(params(without.net(), None).iter().flatten())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(apart > 1e-3, "the momentum made no difference ({apart})");
    gpu.sync().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// stdout and stderr of `o`, together.
fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `az` with `args`, its output checked for success. `AZ_BIN` names another
/// binary (a prebuilt test executable run on another machine).
fn az(args: &[&str]) -> String {
    let bin = std::env::var("AZ_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_az").to_owned());
    let o = Command::new(bin).args(args).output().expect("running az");
    assert!(o.status.success(), "az {args:?}: {}", text(&o));
    text(&o)
}

#[test]
fn self_play_and_a_short_run_on_wgpu_evaluate_on_the_cpu() {
    let adapter = std::env::var("AZ_WGPU_ADAPTER").unwrap_or_else(|_| "default".to_owned());
    let adapter = format!("model.adapter={adapter}");
    // The inference server with the wgpu network answers self-play.
    let out = az(&[
        "bench",
        "selfplay",
        "tictactoe",
        "--model",
        "network",
        "--seconds",
        "4",
        "--json",
        "--set",
        "model.device=wgpu",
        "--set",
        &adapter,
        "--set",
        "mcts.simulations=8",
        "--set",
        "selfplay.parallel_games=16",
    ]);
    let json: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(json["device"], "wgpu", "{out}");
    assert!(json["positions_per_sec"].as_f64().unwrap() > 0.0, "{out}");
    let busy = json["device_busy"].as_f64().unwrap();
    assert!(busy > 0.0 && busy <= 1.0, "{out}");

    // A short run trains and checkpoints on wgpu; the checkpoint plays on the CPU.
    let dir = scratch("run");
    let run = dir.join("tictactoe");
    let run_dir = run.to_str().unwrap();
    az(&[
        "run",
        "tictactoe",
        "--run-dir",
        run_dir,
        "--no-progress",
        "--max-seconds",
        "40",
        "--set",
        "model.device=wgpu",
        "--set",
        &adapter,
        "--set",
        "train.checkpoint_every=20",
        "--set",
        "train.min_replay=200",
        "--set",
        "mcts.simulations=16",
        "--set",
        "eval.opponents=[\"random\"]",
        "--set",
        "eval.games=10",
    ]);
    let log = std::fs::read_to_string(run.join("log.txt")).unwrap();
    assert!(
        log.contains("wgpu"),
        "the run's log does not name its device: {log}"
    );
    let out = az(&[
        "eval",
        run_dir,
        "--opponent",
        "random",
        "--games",
        "10",
        "--json",
        "--set",
        "model.device=cpu",
    ]);
    let json: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(json["games"], 10, "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}
