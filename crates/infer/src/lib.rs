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
//!
//! The network is a search [`Evaluator`](az_mcts::Evaluator) two ways:
//! [`ModelEvaluator`] (a model on the caller's thread) and [`ClientEvaluator`]
//! (through the server); [`Batch::push_leaves`] is the one place leaves become
//! network input.

mod batch;
mod batcher;
mod busy;
mod evaluate;
mod model;
mod publisher;
mod request;
mod server;
mod stats;

pub use batch::Batch;
pub use evaluate::{ClientEvaluator, ModelEvaluator};
pub use model::{BatchModel, UniformModel, masked_softmax};
pub use publisher::Publisher;
pub use server::{Client, Disconnected, Server, ServerConfig, panic_message};
pub use stats::ServerStats;
