//! The learner's side of distributed mode: games delivered by the transport
//! instead of local self-play, acknowledgements once they are on disk, weights
//! sent to the actors, and what the cluster does (per-actor rates, live actors,
//! the ingest rate, the weights' staleness and their delay to the actors).

use crate::RunError;
use crate::intake::{Intake, Taken};
use crate::metrics::Metrics;
use az_game::Game;
use az_monitor::{EventError, EventWriter, Histogram};
use az_record::remote::{Delivery, LearnerChannels, Weights};
use az_train::Trainer;
use flume::{RecvTimeoutError, TryRecvError};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// An actor is live if a game of it arrived this recently.
const LIVE: Duration = Duration::from_secs(30);
/// Staleness counts above this are counted here.
const MAX_STALENESS: usize = 100_000;

/// Games and positions of one actor.
#[derive(Clone, Copy, Debug)]
struct ActorSums {
    games: u64,
    positions: u64,
    last_seen: Instant,
}

/// What the cluster did over one reporting interval (and which actors are live).
#[derive(Debug, Default)]
pub(crate) struct ClusterStats {
    actors: HashMap<u64, ActorSums>,
    games: u64,
    positions: u64,
    duplicates: u64,
    rejected: u64,
    /// Positions by staleness (learner step at arrival − step of the weights
    /// that played them).
    staleness: Vec<u64>,
    /// Seconds from publishing weights to an actor playing with them.
    delays: Vec<f64>,
}

impl ClusterStats {
    fn arrived(&mut self, d: &Delivery, step: u64, taken: &Taken) {
        let g = &d.game;
        let now = Instant::now();
        let a = self.actors.entry(g.id.actor).or_insert(ActorSums {
            games: 0,
            positions: 0,
            last_seen: now,
        });
        a.last_seen = now;
        let Taken::Games {
            new,
            repeated,
            positions,
        } = *taken
        else {
            self.rejected += u64::from(g.games);
            return;
        };
        self.duplicates += u64::from(repeated);
        let (new, positions) = (u64::from(new), u64::from(positions));
        a.games += new;
        a.positions += positions;
        self.games += new;
        self.positions += positions;
        // The message's step is its oldest game's.
        let stale = (step.saturating_sub(g.weights_step) as usize).min(MAX_STALENESS);
        if self.staleness.len() <= stale {
            self.staleness.resize(stale + 1, 0);
        }
        self.staleness[stale] += positions;
    }

    /// Actors heard from within [`LIVE`].
    fn live(&self) -> usize {
        self.actors
            .values()
            .filter(|a| a.last_seen.elapsed() < LIVE)
            .count()
    }

    /// Mean staleness of the interval's positions.
    fn mean_staleness(&self) -> Option<f64> {
        let n: u64 = self.staleness.iter().sum();
        let s: u64 = self
            .staleness
            .iter()
            .enumerate()
            .map(|(k, c)| k as u64 * c)
            .sum();
        (n > 0).then(|| s as f64 / n as f64)
    }

    /// Writes the interval of `secs` at step `st` and starts a new one; returns
    /// the progress line's part.
    ///
    /// # Errors
    /// [`EventError`] if the events cannot be written.
    fn write(&mut self, w: &mut EventWriter, st: i64, secs: f64) -> Result<String, EventError> {
        let live = self.live();
        w.scalar("cluster/actors_live", st, live as f64)?;
        w.scalar("cluster/ingest_games_per_sec", st, self.games as f64 / secs)?;
        w.scalar(
            "cluster/ingest_positions_per_sec",
            st,
            self.positions as f64 / secs,
        )?;
        w.scalar("cluster/duplicates", st, self.duplicates as f64)?;
        w.scalar("cluster/rejected", st, self.rejected as f64)?;
        for (id, a) in &mut self.actors {
            let tag = format!("cluster/actor/{id:016x}");
            if a.last_seen.elapsed() < LIVE {
                w.scalar(&format!("{tag}/games_per_sec"), st, a.games as f64 / secs)?;
                w.scalar(
                    &format!("{tag}/positions_per_sec"),
                    st,
                    a.positions as f64 / secs,
                )?;
            }
            a.games = 0;
            a.positions = 0;
        }
        self.actors.retain(|_, a| a.last_seen.elapsed() < 10 * LIVE);
        let mean = self.mean_staleness();
        if let Some(m) = mean {
            w.histogram(
                "cluster/staleness",
                st,
                &Histogram::from_counts(&self.staleness),
            )?;
            w.scalar("cluster/staleness_mean", st, m)?;
        }
        let mut delay = String::new();
        if !self.delays.is_empty() {
            self.delays.sort_by(f64::total_cmp);
            let median = self.delays[self.delays.len() / 2];
            let max = self.delays[self.delays.len() - 1];
            w.scalar("cluster/weights_delay_median_s", st, median)?;
            w.scalar("cluster/weights_delay_max_s", st, max)?;
            delay = format!(" weights in {median:.2}s");
        }
        let line = format!(
            "{} actors {:.0} pos/s staleness {}{delay}",
            live,
            self.positions as f64 / secs,
            mean.map_or_else(|| "-".to_owned(), |m| format!("{m:.0}"))
        );
        let actors = std::mem::take(&mut self.actors);
        *self = ClusterStats {
            actors,
            ..ClusterStats::default()
        };
        Ok(line)
    }
}

/// The learner's link: games in, acknowledgements and weights out.
#[derive(Debug)]
pub(crate) struct Remote {
    ch: LearnerChannels,
    /// Training steps between weights sent.
    pub publish_every: u64,
    /// When each recent step's weights were published.
    published: VecDeque<(u64, Instant)>,
    /// The current reporting interval's.
    stats: ClusterStats,
    /// When that interval began.
    since: Instant,
    /// Why deliveries were rejected, for the log.
    rejections: Vec<String>,
}

impl Remote {
    /// The learner's end of `ch`, publishing every `publish_every` steps.
    pub fn new(ch: LearnerChannels, publish_every: u64) -> Self {
        Remote {
            ch,
            publish_every,
            published: VecDeque::new(),
            stats: ClusterStats::default(),
            since: Instant::now(),
            rejections: Vec::new(),
        }
    }

    /// Why deliveries were rejected since the last call (one line each).
    pub fn take_rejections(&mut self) -> Vec<String> {
        std::mem::take(&mut self.rejections)
    }

    /// Writes the interval's cluster metrics at step `step`; returns the
    /// progress line's part.
    ///
    /// # Errors
    /// [`EventError`] if the events cannot be written.
    pub fn report(&mut self, w: &mut EventWriter, step: u64) -> Result<String, EventError> {
        let secs = self.since.elapsed().as_secs_f64().max(1e-9);
        self.since = Instant::now();
        self.stats.write(w, step as i64, secs)
    }

    fn closed() -> RunError {
        RunError::Link("the transport stopped".to_owned())
    }

    fn take<G: Game>(
        &mut self,
        d: Delivery,
        intake: &mut Intake<G>,
        metrics: &mut Metrics,
        step: u64,
    ) {
        let taken = intake.add_delivery(&d, metrics);
        self.stats.arrived(&d, step, &taken);
        if let Taken::Rejected(why) = taken {
            self.rejections.push(format!("rejected {why}"));
        }
    }

    /// Takes every delivery waiting.
    ///
    /// # Errors
    /// [`RunError::Link`] if the transport is gone.
    pub fn take_waiting<G: Game>(
        &mut self,
        intake: &mut Intake<G>,
        metrics: &mut Metrics,
        step: u64,
    ) -> Result<(), RunError> {
        loop {
            match self.ch.deliveries.try_recv() {
                Ok(d) => self.take(d, intake, metrics, step),
                Err(TryRecvError::Empty) => return Ok(()),
                Err(TryRecvError::Disconnected) => return Err(Self::closed()),
            }
        }
    }

    /// Waits up to `timeout` for a delivery.
    ///
    /// # Errors
    /// As [`take_waiting`](Remote::take_waiting).
    pub fn wait<G: Game>(
        &mut self,
        intake: &mut Intake<G>,
        metrics: &mut Metrics,
        step: u64,
        timeout: Duration,
    ) -> Result<(), RunError> {
        match self.ch.deliveries.recv_timeout(timeout) {
            Ok(d) => {
                self.take(d, intake, metrics, step);
                Ok(())
            }
            Err(RecvTimeoutError::Timeout) => Ok(()),
            Err(RecvTimeoutError::Disconnected) => Err(Self::closed()),
        }
    }

    /// Acknowledges the games now on disk; notes the actors' switches to new weights.
    ///
    /// # Errors
    /// [`RunError::Link`] if the transport is gone.
    pub fn settle<G: Game>(&mut self, intake: &mut Intake<G>) -> Result<(), RunError> {
        let tags = intake.take_stored();
        if !tags.is_empty() {
            self.ch.acks.send(tags).map_err(|_| Self::closed())?;
        }
        let now = Instant::now();
        while let Ok(r) = self.ch.reached.try_recv() {
            if let Some((_, at)) = self.published.iter().find(|(s, _)| *s == r.step) {
                self.stats.delays.push((now - *at).as_secs_f64());
            }
        }
        Ok(())
    }

    /// Sends the trainer's current weights to the actors.
    ///
    /// # Errors
    /// [`RunError::Checkpoint`] if the weights cannot be serialised,
    /// [`RunError::Link`] if the transport is gone.
    pub fn publish<G: Game>(&mut self, trainer: &Trainer) -> Result<(), RunError> {
        let step = trainer.steps();
        let w = Weights {
            step,
            game: G::NAME.to_owned(),
            net: az_train::net_sizes(trainer.net_config()),
            bytes: trainer.weights(G::NAME)?,
        };
        self.published.push_back((step, Instant::now()));
        if self.published.len() > 16 {
            self.published.pop_front();
        }
        self.ch.weights.send(w).map_err(|_| Self::closed())
    }
}
