//! `az actor` and `az learner`: distributed mode over NATS JetStream. The
//! transport (az-cluster) hands both plain channels; az-run plays and learns.

use crate::commands::run::{RunArgs, select, stop_on_ctrl_c};
use crate::error::BadInput;
use crate::games::{GameVisitor, with_game};
use anyhow::Context;
use az_cluster::{Actor, ClusterConfig, ClusterError, Learner};
use az_experiment::Experiment;
use az_game::Game;
use az_record::remote::Weights;
use az_run::{ActorOptions, ActorSummary, Run, RunError, RunOptions, RunSummary, act};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The default server: one on this machine (`just nats`).
const LOCAL_NATS: &str = "nats://127.0.0.1:4222";

/// Arguments of `az actor`.
#[derive(Debug, clap::Args)]
pub struct ActorArgs {
    /// Experiment: a name in experiments/ or a manifest path (the learner's own).
    pub experiment: String,
    /// The NATS server (with JetStream): `nats://host:port`, `nats://user:password@host:port`.
    #[arg(long, default_value = LOCAL_NATS)]
    pub nats: String,
    /// Stop after N seconds (finished games are still handed over).
    #[arg(long, value_parser = crate::commands::run::parse_limit)]
    pub max_seconds: Option<f64>,
    /// Override a manifest value: `--set section.key=value` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Append the id of every game the stream acknowledged to FILE (an audit trail).
    #[arg(long, value_name = "FILE")]
    pub stored_ids: Option<PathBuf>,
}

/// Arguments of `az learner`.
#[derive(Debug, clap::Args)]
pub struct LearnerArgs {
    /// The run: experiment, run directory, resume, limits, overrides (as `az run`).
    #[command(flatten)]
    pub run: RunArgs,
    /// The NATS server (with JetStream): `nats://host:port`, `nats://user:password@host:port`.
    #[arg(long, default_value = LOCAL_NATS)]
    pub nats: String,
}

/// The transport's settings for `exp` at `url`: the manifest's `[cluster]`.
pub fn cluster_config<G: Game>(exp: &Experiment, url: &str) -> ClusterConfig {
    let c = &exp.manifest.cluster;
    ClusterConfig {
        url: url.to_owned(),
        stream: exp.cluster_stream(),
        bucket: exp.cluster_bucket(),
        consumer: c.consumer.clone(),
        game: G::NAME.to_owned(),
        max_bytes: (c.max_gigabytes * f64::from(1u32 << 30)) as i64,
        max_age: Duration::from_secs_f64(c.max_age_hours * 3600.0),
        duplicate_window: Duration::from_secs_f64(c.duplicate_window_seconds),
        ack_wait: Duration::from_secs_f64(c.ack_wait_seconds),
        max_ack_pending: c.max_ack_pending as i64,
        keep_weights: c.keep_weights,
        connect_timeout: Duration::from_secs_f64(c.connect_timeout_seconds),
    }
}

/// A server that cannot be used as asked (none at the URL, credentials
/// refused, no JetStream, a stream of another game, bad names) is the user's to
/// fix: exit code 2. Other failures (the runtime, a server error) exit 1.
fn bad(e: ClusterError) -> anyhow::Error {
    match e {
        ClusterError::Config { .. }
        | ClusterError::BadUrl { .. }
        | ClusterError::NoServer { .. }
        | ClusterError::Unauthorised { .. }
        | ClusterError::NoJetStream { .. }
        | ClusterError::OtherGame { .. }
        | ClusterError::ForeignStream { .. } => BadInput(e.to_string()).into(),
        e => e.into(),
    }
}

/// A failed run or actor, with the transport's reason when its link gave up.
fn with_link_reason(e: RunError, failure: Option<String>) -> anyhow::Error {
    match (&e, failure) {
        (RunError::Link(_), Some(why)) => anyhow::Error::from(e).context(why),
        _ => e.into(),
    }
}

struct LearnerVisit<'a> {
    exp: &'a Experiment,
    url: &'a str,
    device: burn::tensor::Device,
    options: RunOptions,
}

impl GameVisitor for LearnerVisit<'_> {
    type Output = anyhow::Result<RunSummary>;
    fn visit<G: Game>(self) -> anyhow::Result<RunSummary> {
        let dir = self.options.run_dir.clone();
        // The run first: a run directory in use is found before the server is touched.
        let run = Run::<G>::open(self.exp, &self.device, self.options)?;
        let config = cluster_config::<G>(self.exp, self.url);
        let (link, channels) = Learner::connect(&config).map_err(bad)?;
        let result = run.learn(channels);
        let failure = link.failure();
        link.close(Duration::from_secs(10));
        result
            .map_err(|e| with_link_reason(e, failure))
            .with_context(|| format!("learner {}", dir.display()))
    }
}

/// Runs `az learner`.
///
/// # Errors
/// [`BadInput`] for bad arguments, a manifest error or a server that cannot be
/// used (none at the URL, credentials refused, a stream of another game); any
/// failure of the run.
pub fn learner(args: &LearnerArgs) -> anyhow::Result<String> {
    let (exp, dir) = select(&args.run, Path::new(crate::commands::run::RUNS))?;
    exp.check_learner().map_err(|e| BadInput(e.to_string()))?;
    let device = crate::backend::device(&exp.manifest.model)?;
    let options = RunOptions {
        run_dir: dir.clone(),
        resume: args.run.resume,
        max_seconds: args.run.max_seconds,
        stop: stop_on_ctrl_c(),
        progress: !args.run.no_progress && std::io::stderr().is_terminal(),
    };
    let game = exp.manifest.game.name.clone();
    let visit = LearnerVisit {
        exp: &exp,
        url: &args.nats,
        device,
        options,
    };
    let s = with_game(&game, visit)??;
    Ok(format!(
        "learner {}: {} steps, {} games this session, {:.0} s ({})\nTensorBoard: just tb {} (installs it on first use; or tensorboard --logdir DIR)",
        dir.display(),
        s.steps,
        s.games,
        s.seconds,
        s.reason,
        dir.display()
    ))
}

struct ActorVisit<'a> {
    exp: &'a Experiment,
    args: &'a ActorArgs,
    device: burn::tensor::Device,
    stop: Arc<AtomicBool>,
}

impl GameVisitor for ActorVisit<'_> {
    type Output = anyhow::Result<ActorSummary>;
    fn visit<G: Game>(self) -> anyhow::Result<ActorSummary> {
        let id = actor_id();
        let config = cluster_config::<G>(self.exp, &self.args.nats);
        let (link, channels) = Actor::connect(&config, id).map_err(bad)?;
        let source = format!("{} bucket {}", config.shown_url(), config.bucket);
        let limit = self.args.max_seconds.map(Duration::from_secs_f64);
        let Some(first) = first_weights(&link, &source, &self.stop, limit)? else {
            link.close(Duration::ZERO);
            eprintln!("az actor: stopped before a learner published weights");
            return Ok(ActorSummary {
                games: 0,
                stored: 0,
                seconds: 0.0,
                weights_step: 0,
            });
        };
        let options = ActorOptions {
            id,
            source,
            max_seconds: self.args.max_seconds,
            stop: self.stop,
            stored_log: self.args.stored_ids.clone(),
            grace: Duration::from_secs(10),
        };
        let result = act::<G>(self.exp, &self.device, &first, channels, &options);
        let failure = link.failure();
        let lost = link.close(Duration::from_secs(5));
        if lost > 0 {
            eprintln!("actor {id:016x}: {lost} games were never acknowledged by the stream");
        }
        result.map_err(|e| with_link_reason(e, failure))
    }
}

/// Waits for the learner's first weights, saying so once; `None` if stopped
/// or past `limit`.
fn first_weights(
    link: &Actor,
    source: &str,
    stop: &AtomicBool,
    limit: Option<Duration>,
) -> anyhow::Result<Option<Weights>> {
    let started = std::time::Instant::now();
    let mut said = false;
    while !stop.load(Ordering::Relaxed) && limit.is_none_or(|l| started.elapsed() < l) {
        // The server away for longer than this is an error (the link says why).
        if let Some(w) = link.latest_weights(Duration::from_secs(2)).map_err(bad)? {
            return Ok(Some(w));
        }
        if !said {
            eprintln!(
                "az actor: waiting for a learner to publish weights to {source} (Ctrl-C to stop)"
            );
            said = true;
        }
    }
    Ok(None)
}

/// A random id for this actor process (time, process id and address-space noise mixed).
fn actor_id() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let local = 0u8;
    let noise = std::ptr::addr_of!(local) as u64;
    let mut x = nanos ^ u64::from(std::process::id()).rotate_left(32) ^ noise.rotate_left(17);
    // splitmix64's finaliser.
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Runs `az actor`.
///
/// # Errors
/// [`BadInput`] for bad arguments, a manifest error, a server that cannot be
/// used, or a learner training another experiment (game or network shape).
pub fn actor(args: &ActorArgs) -> anyhow::Result<String> {
    let exp = crate::experiments::load(&args.experiment, &args.overrides)?;
    let device = crate::backend::device(&exp.manifest.model)?;
    let game = exp.manifest.game.name.clone();
    let visit = ActorVisit {
        exp: &exp,
        args,
        device,
        stop: stop_on_ctrl_c(),
    };
    let s = with_game(&game, visit)??;
    Ok(format!(
        "actor: {} games in {:.0} s, {} acknowledged by the stream, last weights of step {}",
        s.games, s.seconds, s.stored, s.weights_step
    ))
}
