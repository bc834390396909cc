//! `az actor`: self-play for a remote learner. All of `az run`'s self-play (the
//! parallel games, searches and the batched inference server) on the newest
//! weights the learner published; each finished game is stamped with its id and
//! the weights step that played it and handed to the transport, up to
//! `cluster.games_per_message` games in a message (sent after 100 ms at most);
//! newer weights are swapped into the server as they arrive.
//!
//! The actor keeps no state on disk: a killed actor loses only the games it had
//! not handed over, and a restarted one gets a new id.

use crate::RunError;
use crate::config::{net_config, selfplay_config, server_config};
use crate::net_model::NetModel;
use az_experiment::Experiment;
use az_game::Game;
use az_infer::{Publisher, Server};
use az_model::InferenceNet;
use az_record::GameRecord;
use az_record::remote::{ActorChannels, GameId, Origin, Reached, Shipped, Weights};
use az_replay::encode_chunk;
use az_selfplay::SelfPlay;
use burn::tensor::Device;
use flume::{Receiver, RecvTimeoutError, SendTimeoutError};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How an actor runs.
#[derive(Clone, Debug)]
pub struct ActorOptions {
    /// The actor's id (random per start): the first half of its games' ids.
    pub id: u64,
    /// Where the weights come from, for messages (the server's URL and bucket).
    pub source: String,
    /// Stop after so many seconds.
    pub max_seconds: Option<f64>,
    /// Set to stop: self-play ends, finished games are still handed over.
    pub stop: Arc<AtomicBool>,
    /// Appends the id of every game the store acknowledged, one per line.
    pub stored_log: Option<PathBuf>,
    /// After stopping, wait at most this long for the store's acknowledgements.
    pub grace: Duration,
}

/// How an actor ended.
#[derive(Clone, Debug, PartialEq)]
pub struct ActorSummary {
    /// Games finished and handed to the transport.
    pub games: u64,
    /// Games the store acknowledged.
    pub stored: u64,
    /// Seconds it ran.
    pub seconds: f64,
    /// The step of the weights it ended with.
    pub weights_step: u64,
}

/// Log lines this often.
const LINE_EVERY: Duration = Duration::from_secs(5);
/// A message goes when its oldest game waited this long.
const MESSAGE_WAIT: Duration = Duration::from_millis(100);
/// A message goes when its payload reaches about this size (the server's
/// default message limit is 1 MiB).
const MESSAGE_BYTES: usize = 256 << 10;

/// Plays games of `G` for a learner on `device`, starting from `first` (the
/// newest weights published), until stopped.
///
/// # Errors
/// [`RunError::Checkpoint`] for weights of another game or network shape (the
/// learner trains another experiment) or damaged weights; [`RunError::Link`]
/// if the transport stops; [`RunError::SelfPlay`] if the workers or the server
/// fail; [`RunError::Io`] if the stored-ids file cannot be written.
pub fn act<G: Game>(
    exp: &Experiment,
    device: &Device,
    first: &Weights,
    ch: ActorChannels,
    opts: &ActorOptions,
) -> Result<ActorSummary, RunError> {
    let mut a = Actor::<G>::start(exp, device, first, ch, opts)?;
    let outcome = a.play();
    let ended = a.finish();
    outcome.and(ended)
}

/// A running actor.
struct Actor<'a, G: Game> {
    exp: &'a Experiment,
    device: &'a Device,
    opts: &'a ActorOptions,
    ch: ActorChannels,
    server: Option<Server<NetModel>>,
    publisher: Publisher<NetModel>,
    selfplay: Option<SelfPlay>,
    games: Receiver<GameRecord<G>>,
    stored_log: Option<std::io::BufWriter<std::fs::File>>,
    /// The step and bytes of the weights served.
    step: u64,
    bytes: Vec<u8>,
    /// Games finished (numbered from 0), handed to the transport, stored.
    taken: u64,
    shipped: u64,
    stored: u64,
    /// Games waiting for the next message, since when, their payload's size.
    pending: Vec<GameRecord<G>>,
    pending_since: Instant,
    pending_bytes: usize,
    /// `cluster.games_per_message`.
    per_message: usize,
    /// Messages handed over and not yet stored: first game number -> games.
    in_flight: HashMap<u64, u32>,
    started: Instant,
    last_line: (Instant, u64),
}

impl<'a, G: Game> Actor<'a, G> {
    fn start(
        exp: &'a Experiment,
        device: &'a Device,
        first: &Weights,
        ch: ActorChannels,
        opts: &'a ActorOptions,
    ) -> Result<Self, RunError> {
        let net = load::<G>(exp, device, first, &opts.source)?;
        let stored_log = match &opts.stored_log {
            Some(p) => Some(open_log(p)?),
            None => None,
        };
        let (server, client) = Server::start(NetModel(net), server_config(exp));
        let publisher = server.publisher();
        let mut config = selfplay_config(exp);
        config.seed ^= opts.id;
        let (tx, games) = flume::bounded(exp.manifest.selfplay.parallel_games.max(1));
        let selfplay = SelfPlay::start::<G>(&config, &client, &tx);
        let _ = ch.reached.try_send(Reached {
            actor: opts.id,
            step: first.step,
        });
        eprintln!(
            "actor {:016x}: playing {} with the weights of step {} from {}",
            opts.id, exp.name, first.step, opts.source
        );
        let now = Instant::now();
        Ok(Actor {
            exp,
            device,
            opts,
            ch,
            server: Some(server),
            publisher,
            selfplay: Some(selfplay),
            games,
            stored_log,
            step: first.step,
            bytes: first.bytes.clone(),
            taken: 0,
            shipped: 0,
            stored: 0,
            pending: Vec::new(),
            pending_since: now,
            pending_bytes: 0,
            per_message: exp.manifest.cluster.games_per_message,
            in_flight: HashMap::new(),
            started: now,
            last_line: (now, 0),
        })
    }

    /// Plays until stopped, the time limit or a failure.
    fn play(&mut self) -> Result<(), RunError> {
        let limit = self.opts.max_seconds.map(Duration::from_secs_f64);
        loop {
            if self.opts.stop.load(Ordering::Relaxed)
                || limit.is_some_and(|l| self.started.elapsed() >= l)
            {
                return Ok(());
            }
            if self.selfplay.as_ref().is_some_and(SelfPlay::is_finished) {
                return Err(RunError::SelfPlay(
                    "self-play stopped unexpectedly".to_owned(),
                ));
            }
            match self.games.recv_timeout(Duration::from_millis(50)) {
                Ok(r) => self.take(r, None)?,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(RunError::SelfPlay(
                        "self-play stopped unexpectedly".to_owned(),
                    ));
                }
            }
            self.send_if_due()?;
            self.switch_weights()?;
            self.note_stored()?;
            self.line();
        }
    }

    /// Stamps a finished game and queues it for the next message; sends the
    /// message once it holds `cluster.games_per_message` games or
    /// [`MESSAGE_BYTES`] of payload.
    fn take(&mut self, mut r: GameRecord<G>, until: Option<Instant>) -> Result<(), RunError> {
        let id = GameId {
            actor: self.opts.id,
            seq: self.taken,
        };
        r.origin = Some(Origin {
            id,
            weights_step: self.step,
        });
        self.taken += 1;
        if self.pending.is_empty() {
            self.pending_since = Instant::now();
        }
        self.pending_bytes += r.len() * (4 * G::NUM_ACTIONS + 6);
        self.pending.push(r);
        if self.pending.len() >= self.per_message || self.pending_bytes >= MESSAGE_BYTES {
            self.send(until)?;
        }
        Ok(())
    }

    /// Sends the queued games if the oldest waited [`MESSAGE_WAIT`].
    fn send_if_due(&mut self) -> Result<(), RunError> {
        if !self.pending.is_empty() && self.pending_since.elapsed() >= MESSAGE_WAIT {
            self.send(None)?;
        }
        Ok(())
    }

    /// Hands the queued games to the transport as one message, waiting while
    /// it lags — once a stop is asked for, only until `until` (`None`: not at all).
    fn send(&mut self, until: Option<Instant>) -> Result<(), RunError> {
        let Some(first) = self.pending.first().and_then(|r| r.origin) else {
            return Ok(());
        };
        let games = self.pending.len() as u32;
        let origins = self.pending.iter().filter_map(|r| r.origin);
        let mut message = Shipped {
            id: first.id,
            games,
            game: G::NAME.to_owned(),
            weights_step: origins.map(|o| o.weights_step).min().unwrap_or(self.step),
            positions: self.pending.iter().map(|r| r.len() as u32).sum(),
            payload: encode_chunk(&self.pending),
        };
        loop {
            match self
                .ch
                .games
                .send_timeout(message, Duration::from_millis(200))
            {
                Ok(()) => break,
                Err(SendTimeoutError::Timeout(m)) => {
                    message = m;
                    self.note_stored()?;
                    let stopping = self.opts.stop.load(Ordering::Relaxed) || until.is_some();
                    if stopping && until.is_none_or(|u| Instant::now() >= u) {
                        return Err(RunError::Link(
                            "stopping: the transport takes no games (is the server reachable?)"
                                .to_owned(),
                        ));
                    }
                }
                Err(SendTimeoutError::Disconnected(_)) => return Err(closed()),
            }
        }
        self.in_flight.insert(first.id.seq, games);
        self.shipped += u64::from(games);
        self.pending.clear();
        self.pending_bytes = 0;
        Ok(())
    }

    /// Swaps in the newest weights that arrived, unless they are those served.
    /// A lower step is taken too: the learner resumed from an older checkpoint
    /// than the weights it had published (or a new run took the names).
    fn switch_weights(&mut self) -> Result<(), RunError> {
        let Some(w) = self.ch.weights.try_iter().last() else {
            return Ok(());
        };
        if w.step == self.step && w.bytes == self.bytes {
            return Ok(());
        }
        let net = load::<G>(self.exp, self.device, &w, &self.opts.source)?;
        self.publisher.publish(NetModel(net));
        self.step = w.step;
        self.bytes = w.bytes;
        // The learner measures the delay; a full channel only loses a sample.
        let _ = self.ch.reached.try_send(Reached {
            actor: self.opts.id,
            step: w.step,
        });
        Ok(())
    }

    /// Counts (and logs) the games the store acknowledged.
    fn note_stored(&mut self) -> Result<(), RunError> {
        while let Ok(id) = self.ch.stored.try_recv() {
            self.stored_message(id)?;
        }
        Ok(())
    }

    /// The message whose first game is `id` is stored: counts and logs its games.
    fn stored_message(&mut self, id: GameId) -> Result<(), RunError> {
        let Some(games) = self.in_flight.remove(&id.seq) else {
            return Ok(());
        };
        self.stored += u64::from(games);
        for seq in id.seq..id.seq + u64::from(games) {
            self.log_stored(GameId {
                actor: id.actor,
                seq,
            })?;
        }
        Ok(())
    }

    fn line(&mut self) {
        let (at, games) = self.last_line;
        if at.elapsed() < LINE_EVERY {
            return;
        }
        let rate = (self.shipped - games) as f64 / at.elapsed().as_secs_f64();
        eprintln!(
            "actor {:016x}: {:.0} s, {} games ({rate:.1}/s), {} stored, weights of step {}",
            self.opts.id,
            self.started.elapsed().as_secs_f64(),
            self.shipped,
            self.stored,
            self.step
        );
        self.last_line = (Instant::now(), self.shipped);
    }

    /// Stops self-play, hands over its last games, and waits for the store to
    /// acknowledge what was handed over: all within `grace`.
    fn finish(&mut self) -> Result<ActorSummary, RunError> {
        let mut failure = None;
        let deadline = Instant::now() + self.opts.grace;
        if let Some(selfplay) = self.selfplay.take() {
            selfplay.stop();
            // Drained to the end so that no worker blocks on a full channel;
            // after a failed hand-over the rest are dropped.
            while !selfplay.is_finished() || !self.games.is_empty() {
                if let Ok(r) = self.games.recv_timeout(Duration::from_millis(10))
                    && failure.is_none()
                    && let Err(e) = self.take(r, Some(deadline))
                {
                    failure = Some(e);
                }
            }
            if failure.is_none()
                && let Err(e) = self.send(Some(deadline))
            {
                failure = Some(e);
            }
            if let Err(e) = selfplay.join() {
                failure.get_or_insert(RunError::SelfPlay(e));
            }
        }
        if let Some(server) = self.server.take()
            && let Err(e) = server.join()
        {
            failure.get_or_insert(RunError::SelfPlay(format!("inference server: {e}")));
        }
        while self.stored < self.shipped && Instant::now() < deadline {
            match self.ch.stored.recv_timeout(Duration::from_millis(50)) {
                Ok(id) => self.stored_message(id)?,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        self.note_stored()?;
        if let Some(e) = failure {
            return Err(e);
        }
        eprintln!(
            "actor {:016x}: stopped after {:.0} s: {} games, {} stored{}",
            self.opts.id,
            self.started.elapsed().as_secs_f64(),
            self.shipped,
            self.stored,
            match self.shipped - self.stored.min(self.shipped) {
                0 => String::new(),
                n => format!(" ({n} not acknowledged within {:?})", self.opts.grace),
            }
        );
        Ok(ActorSummary {
            games: self.shipped,
            stored: self.stored,
            seconds: self.started.elapsed().as_secs_f64(),
            weights_step: self.step,
        })
    }

    fn log_stored(&mut self, id: GameId) -> Result<(), RunError> {
        if let (Some(log), Some(path)) = (&mut self.stored_log, &self.opts.stored_log) {
            writeln!(log, "{id}")
                .and_then(|()| log.flush())
                .map_err(RunError::io("writing", path))?;
        }
        Ok(())
    }
}

fn closed() -> RunError {
    RunError::Link("the transport stopped taking games".to_owned())
}

/// The inference network of weights `w`, checked against the experiment.
fn load<G: Game>(
    exp: &Experiment,
    device: &Device,
    w: &Weights,
    source: &str,
) -> Result<InferenceNet, RunError> {
    let name = PathBuf::from(format!("{source} (weights of step {})", w.step));
    let cfg = net_config::<G>(exp);
    let (net, _) = az_train::read_weights(&w.bytes, &name, G::NAME, cfg, device)?;
    Ok(net)
}

fn open_log(path: &Path) -> Result<std::io::BufWriter<std::fs::File>, RunError> {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(RunError::io("opening", path))?;
    Ok(std::io::BufWriter::new(f))
}
