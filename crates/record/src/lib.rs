//! What crosses from self-play to learning, and how files are written.
//!
//! - [`GameRecord`]: one finished self-play game (moves, search policy targets,
//!   root values, result, resignation bookkeeping), as self-play produces it and
//!   the replay window, its chunk files and a distributed learner consume it;
//! - [`write_atomic`]: a file written whole or not at all (temporary file, sync,
//!   rename), for checkpoints, replay chunks and run records alike;
//! - [`remote`]: what an actor, the transport and a learner hand each other
//!   (game ids, shipped games, deliveries, weights) and their channels.
//!
//! Depends on `az-game` and flume only, so the learner side (replay, trainer) never builds
//! the self-play engine.

mod atomic;
mod record;
pub mod remote;

pub use atomic::{WriteError, write_atomic};
pub use record::GameRecord;
