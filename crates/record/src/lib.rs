//! What crosses from self-play to learning, and how files are written.
//!
//! - [`GameRecord`]: one finished self-play game (moves, search policy targets,
//!   root values, result, resignation bookkeeping), as self-play produces it and
//!   the replay window, its chunk files and a distributed learner consume it;
//! - [`write_atomic`]: a file written whole or not at all (temporary file, sync,
//!   rename), for checkpoints, replay chunks and run records alike.
//!
//! Depends on `az-game` only, so the learner side (replay, trainer) never builds
//! the self-play engine.

mod atomic;
mod record;

pub use atomic::{WriteError, write_atomic};
pub use record::GameRecord;
