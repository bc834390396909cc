//! `az bench selfplay`: self-play throughput beside the model alone, same batch size.

use super::parse_seconds;
use crate::games::{GameVisitor, with_game};
use az_experiment::Experiment;
use az_game::Game;
use az_infer::{Batch, BatchModel, Server, ServerStats, UniformModel};
use az_selfplay::{SelfPlay, TimeSplit, WorkerStats};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use std::time::{Duration, Instant};

/// Which model self-play runs with.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ModelKind {
    /// The experiment's network with fresh random weights, on its device.
    Network,
    /// Uniform policy, value 0, no computation: measures the framework alone.
    Uniform,
}

/// Arguments of `az bench selfplay`.
#[derive(Debug, clap::Args)]
pub struct SelfPlayArgs {
    /// Experiment: a name in experiments/ or a manifest path.
    pub experiment: String,
    /// Seconds of self-play measured (after a warm-up of a fifth of that, at most 2 s).
    #[arg(long, default_value_t = 10.0, value_parser = parse_seconds)]
    pub seconds: f64,
    /// Model to evaluate leaves with.
    #[arg(long, value_enum, default_value_t = ModelKind::Network)]
    pub model: ModelKind,
    /// Override a manifest value: `--set section.key=value` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// What `az bench selfplay` measured.
#[derive(Clone, Debug)]
pub struct SelfPlayReport {
    /// Positions evaluated by the network per second in self-play.
    pub evals_per_sec: f64,
    /// The same model alone, batches of `max_batch`, positions per second.
    pub model_evals_per_sec: f64,
    /// Server counters over the measured interval.
    pub server: ServerStats,
    /// Worker counters over the measured interval.
    pub workers: WorkerStats,
    /// Where the time went.
    pub split: TimeSplit,
    /// Cores used by each kind of thread, where measurable.
    pub cpu: Option<az_run::CpuUse>,
    /// Measured interval.
    pub seconds: f64,
}

/// Times `model` alone on batches of `max_batch` positions from random games,
/// for about `seconds`; positions per second.
pub fn model_alone<G: Game, M: BatchModel>(model: &mut M, max_batch: usize, seconds: f64) -> f64 {
    let mut rng = SmallRng::seed_from_u64(5);
    let mut batch = Batch::new(G::SHAPE.len(), G::NUM_ACTIONS, max_batch);
    while batch.len() < max_batch {
        // A position part-way through a random game, so masks and planes look real.
        let mut p = G::new();
        for _ in 0..rng.random_range(0..G::MAX_GAME_LENGTH) {
            let moves = p.legal_moves();
            if moves.is_empty() {
                break;
            }
            p.apply_unchecked(moves[rng.random_range(0..moves.len())]);
        }
        if p.is_terminal() {
            continue;
        }
        batch.push_position(&p, &p.legal_moves());
    }
    let (na, n) = (G::NUM_ACTIONS, max_batch);
    let mut policy = vec![0.0; n * na];
    let mut value = vec![0.0; n];
    model.forward(n, &batch.inputs, &batch.masks, &mut policy, &mut value); // warm-up
    let t0 = Instant::now();
    let mut done = 0u64;
    while t0.elapsed().as_secs_f64() < seconds || done == 0 {
        model.forward(n, &batch.inputs, &batch.masks, &mut policy, &mut value);
        done += n as u64;
    }
    done as f64 / t0.elapsed().as_secs_f64()
}

/// Runs self-play of `exp` with `model` for `seconds` (after a warm-up), and the
/// model alone for a sixth of that before and after.
pub fn measure<G: Game, M: BatchModel>(
    exp: &Experiment,
    mut model: M,
    seconds: f64,
) -> SelfPlayReport {
    let server_cfg = az_run::server_config(exp);
    // The model alone is timed before and after self-play and averaged, so a
    // slow phase of a shared machine does not fall on one side only.
    let alone = (seconds / 6.0).max(0.5);
    let before = model_alone::<G, M>(&mut model, server_cfg.max_batch, alone);
    let (server, client) = Server::start(model.clone(), server_cfg.clone());
    let (tx, rx) = flume::unbounded();
    let selfplay = SelfPlay::start::<G>(&az_run::selfplay_config(exp), &client, &tx);
    drop((client, tx));
    // The replay buffer's place: take the games so they do not pile up.
    let sink = std::thread::spawn(move || rx.iter().count());
    std::thread::sleep(Duration::from_secs_f64((seconds / 5.0).min(2.0)));
    let (s0, w0, t0) = (server.stats(), selfplay.stats(), Instant::now());
    let mut cpu = az_run::CpuClock::new();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    let (s1, w1, t1) = (server.stats(), selfplay.stats(), Instant::now());
    let cpu = cpu.sample(t1 - t0);
    selfplay.stop();
    // Failures here would show as missing counts above; the interval is already measured.
    let _ = selfplay.join();
    let _ = sink.join();
    let _ = server.join();
    let after = model_alone::<G, M>(&mut model, server_cfg.max_batch, alone);
    let model_evals_per_sec = (before + after) / 2.0;
    let wall = t1 - t0;
    let s = s1.since(&s0);
    let w = w1.since(&w0);
    let split = TimeSplit::new(&w, &s, server_cfg.threads, wall);
    SelfPlayReport {
        evals_per_sec: s.positions as f64 / wall.as_secs_f64(),
        model_evals_per_sec,
        server: s,
        workers: w,
        split,
        cpu,
        seconds: wall.as_secs_f64(),
    }
}

struct Bench<'a> {
    exp: &'a Experiment,
    args: &'a SelfPlayArgs,
    device: burn::tensor::Device,
}

impl GameVisitor for Bench<'_> {
    type Output = String;
    fn visit<G: Game>(self) -> String {
        let (exp, args) = (self.exp, self.args);
        let report = match args.model {
            ModelKind::Network => {
                let cfg = az_run::net_config::<G>(exp);
                let net = az_model::PolicyValueNet::new(&cfg, &self.device);
                let m = az_run::NetModel(az_model::InferenceNet::new(&net, cfg, &self.device));
                measure::<G, _>(exp, m, args.seconds)
            }
            ModelKind::Uniform => {
                let m = UniformModel {
                    input_len: G::SHAPE.len(),
                    num_actions: G::NUM_ACTIONS,
                };
                measure::<G, _>(exp, m, args.seconds)
            }
        };
        format_report(exp, args, &report)
    }
}

fn format_report(exp: &Experiment, args: &SelfPlayArgs, r: &SelfPlayReport) -> String {
    let m = &exp.manifest;
    let secs = r.seconds.max(1e-9);
    let efficiency = r.evals_per_sec / r.model_evals_per_sec;
    let busy = r
        .server
        .busy_share(std::time::Duration::from_secs_f64(secs));
    let hist: serde_json::Map<String, serde_json::Value> = r
        .server
        .histogram
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(size, n)| (size.to_string(), (*n).into()))
        .collect();
    let framework = r.cpu.as_ref().and_then(az_run::CpuUse::framework_share);
    let cpu: Option<serde_json::Map<String, serde_json::Value>> = r.cpu.as_ref().map(|c| {
        az_run::Role::ALL
            .iter()
            .map(|&role| (role.name().to_owned(), c.of(role).into()))
            .collect()
    });
    let split: serde_json::Map<String, serde_json::Value> = r
        .split
        .shares
        .iter()
        .map(|(k, v)| (k.clone(), (*v).into()))
        .collect();
    let json = serde_json::json!({
        "bench": "selfplay", "experiment": exp.name, "game": m.game.name,
        "model": format!("{:?}", args.model).to_lowercase(),
        "parallel_games": m.selfplay.parallel_games, "searches_per_game": m.selfplay.searches_per_game,
        "workers": m.selfplay.workers, "max_batch": m.inference.max_batch,
        "simulations": m.mcts.simulations, "seconds": r.seconds,
        "allocator": crate::allocator::report(),
        "evals_per_sec": r.evals_per_sec, "model_evals_per_sec": r.model_evals_per_sec,
        "efficiency": efficiency, "batch_fill": r.server.batch_fill(),
        "device": m.model.device, "device_busy": busy,
        "mean_batch": r.server.batch_fill() * m.inference.max_batch as f64,
        "games_per_sec": r.workers.games as f64 / secs,
        "positions_per_sec": r.workers.moves as f64 / secs,
        "cache_hit_rate": r.workers.cache_hit_rate(),
        "framework_share": framework, "cpu": cpu,
        "mean_queue_wait_us": r.server.mean_queue_wait().as_secs_f64() * 1e6,
        "collisions_per_eval": r.workers.collisions as f64 / r.workers.evaluations.max(1) as f64,
        "time_split": split, "batch_histogram": hist,
    });
    if args.json {
        return json.to_string();
    }
    let mut out = format!(
        "{} self-play ({} model), {} games x {} searches, {} worker(s), max batch {}, {} sims/move, {:.1} s\n",
        exp.name,
        json["model"].as_str().unwrap_or(""),
        m.selfplay.parallel_games,
        m.selfplay.searches_per_game,
        m.selfplay.workers,
        m.inference.max_batch,
        m.mcts.simulations,
        r.seconds
    );
    out.push_str(&format!(
        "  evals/s {:.0} (model alone {:.0}): efficiency {:.3}; batch fill {:.3}; positions/s {:.0}; games/s {:.1}; cache hits {:.1}%\n",
        r.evals_per_sec,
        r.model_evals_per_sec,
        efficiency,
        r.server.batch_fill(),
        r.workers.moves as f64 / secs,
        r.workers.games as f64 / secs,
        100.0 * r.workers.cache_hit_rate()
    ));
    out.push_str(&format!(
        "  device busy (a forward pass in flight) {:.1}% of wall time; framework share of self-play CPU {}; cores: {}\n  time split:",
        100.0 * busy,
        framework.map_or_else(|| "-".to_owned(), |f| format!("{:.1}%", 100.0 * f)),
        r.cpu.as_ref().map_or_else(|| "-".to_owned(), az_run::CpuUse::summary),
    ));
    for (k, v) in &r.split.shares {
        out.push_str(&format!(" {k} {:.1}%", 100.0 * v));
    }
    out
}

/// Runs `az bench selfplay`.
///
/// # Errors
/// [`BadInput`](crate::error::BadInput) for a missing or invalid experiment.
pub fn run(args: &SelfPlayArgs) -> anyhow::Result<String> {
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
