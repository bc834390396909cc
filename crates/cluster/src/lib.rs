//! The transport of distributed az: self-play actors and one learner talking through a NATS
//! server with JetStream. This crate is the only one that sees NATS or tokio: it runs the
//! official client (`async-nats`) on a one-worker tokio runtime of its own and hands the rest
//! of az plain flume channels ([`ActorChannels`](az_record::remote::ActorChannels),
//! [`LearnerChannels`](az_record::remote::LearnerChannels)).
//!
//! # On the server
//!
//! | what | name | holds |
//! |---|---|---|
//! | stream (file storage) | `<stream>` | the games, subject `<stream>.games`; metadata `az.game` = the game, limits `max_bytes`, `max_age`, `duplicate_window` |
//! | durable pull consumer | `<consumer>` on `<stream>` | the learner's position: explicit acks, `ack_wait`, `max_ack_pending`, deliver all, redelivered without limit |
//! | KV bucket | `<bucket>` | key `latest` = `{"step", "object", "game", "net"}` (JSON): the newest weights |
//! | object store | `<bucket>` | objects `weights-{step:010}`: the weights files, the newest `keep_weights` kept |
//! | core subject | `<stream>.reached` | actors' switches to new weights: 16 bytes, actor id and step (little-endian u64s), at most once |
//!
//! Each message holds one or more games of one actor, numbered consecutively, and carries
//! the headers `Nats-Msg-Id` (its first [`GameId`] as `{actor:016x}-{seq}`), `Az-Games`
//! (how many), `Az-Game` (`Game::NAME`), `Az-Step` (the weights step that played them) and
//! `Az-Positions`; its payload is the games as a replay chunk.
//!
//! # Guarantees
//!
//! - **A game is stored once.** An actor publishes each game and retries it with the same
//!   `Nats-Msg-Id` until the stream acknowledges it (backing off to 2 s, for as long as the
//!   link is open); the stream drops a copy whose id it saw within `duplicate_window`, so an
//!   outage must stay shorter than that window. Only then does the id come back on `stored`.
//! - **A stored game reaches the learner at least once.** A delivery is acknowledged only when
//!   the learner sends its tag back on `acks` (after the game is on disk). While it holds a
//!   tag the transport reports it in progress every `ack_wait / 3`, so the server redelivers
//!   only after the learner is gone (after `ack_wait`) or closed (at once: a closing learner
//!   hands back what it did not acknowledge); a new learner on the same consumer receives
//!   again what was never acknowledged. The learner de-duplicates by [`GameId`].
//! - **Back-pressure, not loss.** At most 256 games wait between the actor and its
//!   publisher; at most 256 deliveries wait for the learner, the rest stay in the stream.
//! - **Newest weights win.** The learner stores each weights file as an object, then points
//!   `latest` at it and deletes older objects beyond `keep_weights`. An actor follows
//!   `latest` and downloads each new object into a one-slot channel, replacing weights it has
//!   not taken yet; an object pruned before it downloads is skipped for the newer one.
//! - **One game per stream.** The stream records its game; connecting with another game
//!   fails, naming both ([`ClusterError::OtherGame`]).
//! - **Restarts.** When the server goes away the client reconnects by itself (a line on
//!   stderr when the link drops and when it is back); publishing retries, the consumer's
//!   message stream and the KV watch are opened again when they fail. Nothing panics or waits
//!   unboundedly in the caller's thread: `connect` waits at most `connect_timeout`,
//!   `latest_weights` its `wait`, `close` its `grace`.
//! - **Giving up.** Only what retrying cannot mend ends the link: a game larger than the
//!   server's `max_payload`, a stream that now holds another game. `failure()` then says why
//!   and the channels close.
//!
//! # Not seen here
//!
//! No Burn, no game types, no replay format: payloads and weights are opaque bytes.
//!
//! [`GameId`]: az_record::remote::GameId

mod actor;
mod config;
mod connect;
mod error;
mod games;
mod learner;
mod runtime;
mod server;
mod weights;

pub use actor::Actor;
pub use config::ClusterConfig;
pub use error::ClusterError;
pub use games::{HEADER_GAME, HEADER_GAMES, HEADER_ID, HEADER_POSITIONS, HEADER_STEP};
pub use learner::Learner;
pub use server::{LocalServer, LocalServerBuilder};
pub use weights::{LATEST_KEY, OBJECT_PREFIX};

/// Both handles may be shared between threads.
#[cfg(test)]
const _: () = {
    const fn shareable<T: Send + Sync>() {}
    shareable::<Actor>();
    shareable::<Learner>();
    shareable::<LocalServer>();
};
