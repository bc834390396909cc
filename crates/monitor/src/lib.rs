//! Monitoring for az runs: TensorBoard event files written by a small writer of
//! our own ([`EventWriter`]: scalars, histograms, text), and the CRC-32C they use.
//!
//! Why not tensorboard-rs: measured in this project (0.5.9), its `flush()` does not
//! reach the disk, events are lost when the writer is not dropped, two writers
//! started in the same second share a file name, text and histograms panic, every
//! I/O error panics, and it pulls protobuf 2.28 (RUSTSEC-2024-0437). The format is
//! small: records framed by length and masked CRC-32C around protobuf `Event`
//! messages, encoded here by hand.

mod crc32c;
mod events;
mod proto;

pub use crc32c::{crc32c, masked_crc32c};
pub use events::{EventError, EventWriter, Histogram};
