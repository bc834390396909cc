//! The replay buffer of az: a window of the most recent self-play positions with
//! their targets ([`ReplayBuffer`]), uniform sampling with a random board symmetry
//! per sample ([`TrainBatch`]), and persistence in atomically written chunk files
//! ([`ReplayStore`]) so a run resumes with its buffer.

mod batch;
mod buffer;
mod store;

pub use batch::TrainBatch;
pub use buffer::ReplayBuffer;
pub use store::{ReplayError, ReplayStore, decode_chunk, encode_chunk};
