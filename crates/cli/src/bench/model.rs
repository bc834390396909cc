//! `az bench model`: the experiment's network alone, inference and training speed.

use super::parse_seconds;
use crate::games::{GameVisitor, with_game};
use az_experiment::Experiment;
use az_game::Game;
use az_model::{ConvKernel, InferenceNet, NetConfig, PolicyValueNet};
use az_replay::TrainBatch;
use az_run::{net_config, train_config};
use az_train::{TrainConfig, Trainer};
use burn::tensor::Device;
use std::time::Instant;

/// Arguments of `az bench model`.
#[derive(Debug, clap::Args)]
pub struct ModelArgs {
    /// Experiment: a name in experiments/ or a manifest path.
    pub experiment: String,
    /// Positions per forward pass and per training step.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub batch: u32,
    /// Seconds for each of inference and training (after a warm-up).
    #[arg(long, default_value_t = 5.0, value_parser = parse_seconds)]
    pub seconds: f64,
    /// What to measure.
    #[arg(long, value_enum, default_value_t = Part::Both)]
    pub part: Part,
    /// The kernels: az's board kernels (what runs use on the CPU: convolutions,
    /// the resident inference tower, fused training batch norm) or Burn's
    /// `conv2d` and element-wise operations (what other devices run).
    #[arg(long, value_enum, default_value_t = Conv::Board)]
    pub conv: Conv,
    /// Override a manifest value: `--set section.key=value` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Which half of `az bench model` to run.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// Inference and training.
    Both,
    /// Inference only (the folded network).
    Inference,
    /// Training steps only.
    Training,
}

/// `--conv` of `az bench model`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Conv {
    /// az's board kernels (on flex).
    Board,
    /// Burn's `conv2d` and element-wise operations.
    Burn,
}

impl From<Conv> for ConvKernel {
    fn from(c: Conv) -> Self {
        match c {
            Conv::Board => ConvKernel::Board,
            Conv::Burn => ConvKernel::Burn,
        }
    }
}

/// Deterministic pseudo-random planes (0/1) for `n` positions.
fn inputs(cfg: &NetConfig, n: usize) -> Vec<f32> {
    (0..n * cfg.planes * cfg.cells())
        .map(|i| (az_game::mix64(i as u64) & 1) as f32)
        .collect()
}

/// Inference positions per second of `net` at batch `n` for about `seconds`.
pub fn inference_rate(net: &InferenceNet, n: usize, seconds: f64) -> f64 {
    let x = inputs(net.config(), n);
    net.forward_slices(n, &x); // warm-up
    let t0 = Instant::now();
    let mut done = 0;
    while done == 0 || t0.elapsed().as_secs_f64() < seconds {
        std::hint::black_box(net.forward_slices(n, &x));
        done += n;
    }
    done as f64 / t0.elapsed().as_secs_f64()
}

/// Training samples per second at batch `n` for about `seconds`.
pub fn training_rate(
    cfg: NetConfig,
    train: TrainConfig,
    device: &Device,
    n: usize,
    seconds: f64,
) -> f64 {
    let mut trainer = Trainer::new(cfg, train, device);
    let a = cfg.actions;
    let batch = TrainBatch {
        n,
        inputs: inputs(&cfg, n),
        masks: vec![1.0; n * a],
        policies: vec![1.0 / a as f32; n * a],
        values: (0..n)
            .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect(),
        // An ownership head (if the manifest has one) trains on a board of zeros.
        owners: match cfg.ownership {
            true => vec![0.0; n * cfg.cells()],
            false => Vec::new(),
        },
    };
    trainer.step(&batch).expect("finite loss on a fixed batch"); // warm-up
    let t0 = Instant::now();
    let mut done = 0;
    while done == 0 || t0.elapsed().as_secs_f64() < seconds {
        trainer.step(&batch).expect("finite loss on a fixed batch");
        done += n;
    }
    // A step returns once its loss is read; its backward pass and update may
    // still be queued on a GPU.
    let _ = device.sync();
    done as f64 / t0.elapsed().as_secs_f64()
}

struct Bench<'a> {
    exp: &'a Experiment,
    args: &'a ModelArgs,
    device: Device,
}

impl GameVisitor for Bench<'_> {
    type Output = String;
    fn visit<G: Game>(self) -> String {
        let (exp, args) = (self.exp, self.args);
        let cfg = net_config::<G>(exp);
        let n = args.batch as usize;
        let net = PolicyValueNet::new(&cfg, &self.device);
        let folded = InferenceNet::new(&net, cfg, &self.device).with_kernel(args.conv.into());
        let infer = if args.part == Part::Training {
            0.0
        } else {
            inference_rate(&folded, n, args.seconds)
        };
        let train = if args.part == Part::Inference {
            0.0
        } else {
            let train = TrainConfig {
                conv: args.conv.into(),
                ..train_config(exp)
            };
            training_rate(cfg, train, &self.device, n, args.seconds)
        };
        let flops = cfg.flops_per_position() as f64;
        let json = serde_json::json!({
            "bench": "model", "experiment": exp.name, "game": G::NAME,
            "device": format!("{:?}", exp.manifest.model.device).to_lowercase(),
            "blocks": cfg.blocks, "channels": cfg.channels, "value_hidden": cfg.value_hidden,
            "value_channels": cfg.value_channels, "batch": n,
            "mflop_per_position": flops / 1e6,
            "inference_positions_per_sec": infer, "inference_gflops": infer * flops / 1e9,
            // A training step is about three forward passes (forward + backward).
            "train_samples_per_sec": train, "train_gflops": train * 3.0 * flops / 1e9,
            "threads": rayon_threads(),
            "conv": format!("{:?}", args.conv).to_lowercase(),
            "allocator": crate::allocator::report(),
        });
        if args.json {
            return json.to_string();
        }
        format!(
            "{} network ({} blocks x {} channels, {:.2} MFLOP/position) on {}, batch {n}:\n  \
             inference {infer:.0} positions/s ({:.1} GFLOP/s); training {train:.0} samples/s ({:.1} GFLOP/s)",
            exp.name,
            cfg.blocks,
            cfg.channels,
            flops / 1e6,
            json["device"].as_str().unwrap_or(""),
            infer * flops / 1e9,
            train * 3.0 * flops / 1e9
        )
    }
}

fn rayon_threads() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Runs `az bench model`.
///
/// # Errors
/// [`BadInput`](crate::error::BadInput) for a missing or invalid experiment or device.
pub fn run(args: &ModelArgs) -> anyhow::Result<String> {
    let (exp, device) = crate::backend::load_with_device(&args.experiment, &args.overrides)?;
    Ok(with_game(
        &exp.manifest.game.name,
        Bench {
            exp: &exp,
            args,
            device,
        },
    )?)
}
