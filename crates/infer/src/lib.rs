//! Batched inference for az: one server, many clients, the network never waits
//! for the framework.
//!
//! Workers fill a [`Batch`] (encoded positions and legal-move masks) and
//! [`Client::send`] it with their own reply channel; server threads merge requests
//! into forward passes of up to `max_batch` positions, flushing when full or when
//! `deadline` has passed since the first request was sent, run the
//! [`BatchModel`], and send each batch back filled. A disconnected channel means
//! stop: the server ends when the last client is dropped, after answering what
//! it already has. [`Publisher::publish`] swaps the model while it runs.
//! [`EvalCache`] keeps recent evaluations by position hash.

mod batch;
mod cache;
mod model;
mod server;
mod stats;
mod thread;

pub use batch::Batch;
pub use cache::{CacheStats, EvalCache};
pub use model::{BatchModel, UniformModel, masked_softmax};
pub use server::{Client, Disconnected, Publisher, Server, ServerConfig, panic_message};
pub use stats::ServerStats;
