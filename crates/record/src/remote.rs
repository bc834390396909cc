//! What crosses between a self-play actor, the transport and a learner: plain
//! data and plain channels, so that neither side sees the transport (NATS, tokio)
//! and the transport sees neither Burn nor a game type.
//!
//! - An actor hands its finished games to the transport as [`Shipped`]
//!   messages of one or more games (the first [`GameId`], the count, the
//!   weights step that played them, the games encoded as a replay chunk); the
//!   transport stores each and reports its first id back once the store
//!   acknowledged it.
//! - The learner receives each stored game as a [`Delivery`], whose `tag` it
//!   returns on the acknowledgement channel only after the game is in a replay
//!   chunk on disk.
//! - Weights travel as [`Weights`] (a checkpoint's bytes without optimiser state);
//!   an actor that switched to a step says so with a [`Reached`].

use flume::{Receiver, Sender};
use std::fmt;

/// A game's identity across actors and their restarts: the actor's random id,
/// chosen at its start, and the actor's game count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GameId {
    /// The actor process (random per start).
    pub actor: u64,
    /// The game's number within that actor process, from 0.
    pub seq: u64,
}

impl fmt::Display for GameId {
    /// `{actor:016x}-{seq}`: the message id that makes re-sends harmless.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}-{}", self.actor, self.seq)
    }
}

/// Where a remote game came from: its id and the step of the weights the actor
/// was serving when the game ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Origin {
    /// The game's identity.
    pub id: GameId,
    /// Training step of the weights that played it (those served at its end).
    pub weights_step: u64,
}

/// Finished games on their way from an actor to the store: one message of
/// `games` games numbered from `id` (`id.seq`, `id.seq + 1`, ...).
#[derive(Clone, Debug, PartialEq)]
pub struct Shipped {
    /// The first game's identity (the message's de-duplication key).
    pub id: GameId,
    /// Games in the message, at least 1.
    pub games: u32,
    /// The game's name (`Game::NAME`), sent beside the payload so that a learner
    /// can refuse another game's stream before decoding.
    pub game: String,
    /// The weights step that played them (the oldest, if they differ).
    pub weights_step: u64,
    /// Positions in the games.
    pub positions: u32,
    /// The games as a replay chunk (az-replay's format, checksummed), each
    /// with its origin.
    pub payload: Vec<u8>,
}

impl Shipped {
    /// The ids of its games.
    pub fn ids(&self) -> impl Iterator<Item = GameId> + '_ {
        (0..u64::from(self.games)).map(|k| GameId {
            actor: self.id.actor,
            seq: self.id.seq + k,
        })
    }
}

/// A stored game handed to the learner.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    /// What to send back on [`LearnerChannels::acks`] once the game is on disk.
    pub tag: u64,
    /// The game as the actor shipped it.
    pub game: Shipped,
}

/// A network's weights for self-play.
#[derive(Clone, Debug, PartialEq)]
pub struct Weights {
    /// Training step.
    pub step: u64,
    /// Game name.
    pub game: String,
    /// Network sizes as checkpoints record them (`az_train::net_sizes`): planes,
    /// height, width, actions, blocks, channels, value_hidden, then value_channels if not 1.
    pub net: Vec<usize>,
    /// The weights file (az-train's checkpoint format without optimiser state).
    pub bytes: Vec<u8>,
}

/// An actor now plays with the weights of `step`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reached {
    /// The actor's id ([`GameId::actor`]).
    pub actor: u64,
    /// The step it switched to.
    pub step: u64,
}

/// An actor's ends of the transport.
#[derive(Debug)]
pub struct ActorChannels {
    /// Newer weights, as the learner publishes them (the newest wins).
    pub weights: Receiver<Weights>,
    /// Finished games to store (bounded: the actor waits while the store lags).
    pub games: Sender<Shipped>,
    /// Messages the store acknowledged (safely stored), by their first id.
    pub stored: Receiver<GameId>,
    /// Switches to new weights, for the learner's propagation delay.
    pub reached: Sender<Reached>,
}

/// The learner's ends of the transport.
#[derive(Debug)]
pub struct LearnerChannels {
    /// Stored games, oldest first (bounded: the store keeps what the learner
    /// does not take yet).
    pub deliveries: Receiver<Delivery>,
    /// Tags of deliveries now on disk: the transport acknowledges them.
    pub acks: Sender<Vec<u64>>,
    /// Weights to publish to the actors.
    pub weights: Sender<Weights>,
    /// Actors' switches to new weights.
    pub reached: Receiver<Reached>,
}
