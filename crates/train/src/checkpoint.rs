//! Checkpoint files: network, optimiser state and metadata in one file with a
//! checksum, written atomically.
//!
//! # Format
//! `AZCKPT\0\0`, version `u32`, then three sections each as `u64` length + bytes:
//! metadata (JSON), network (Burn's burnpack bytes), optimiser state (burnpack);
//! then the CRC-32 of everything before it.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"AZCKPT\0\0";
const VERSION: u32 = 1;

/// What a checkpoint says besides the weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckpointMeta {
    /// Game name.
    pub game: String,
    /// Training steps done.
    pub step: u64,
    /// Self-play positions ever added to the replay buffer when it was written.
    pub replay_added: u64,
    /// Self-play games finished when it was written.
    pub games: u64,
    /// Samples trained on.
    pub samples: u64,
    /// Network sizes ([`net_sizes`](crate::net_sizes)): planes, height, width,
    /// actions, blocks, channels, value_hidden, then value_channels if not 1.
    pub net: Vec<usize>,
    /// Seconds of the run when it was written (resumed runs add up).
    pub elapsed_seconds: f64,
    /// Network evaluations self-play asked for when it was written (resumed
    /// runs add up; absent in checkpoints written before it was kept: 0).
    #[serde(default)]
    pub evaluations: u64,
}

impl CheckpointMeta {
    /// The metadata of fresh weights of `game`: nothing trained, played or added.
    pub fn fresh(game: &str) -> Self {
        CheckpointMeta {
            game: game.to_owned(),
            step: 0,
            replay_added: 0,
            games: 0,
            samples: 0,
            net: Vec::new(),
            elapsed_seconds: 0.0,
            evaluations: 0,
        }
    }
}

/// A checkpoint that cannot be written or used.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Truncated, damaged, or not an az checkpoint.
    #[error("{path}: not a usable checkpoint: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A whole checkpoint of another game or network shape.
    #[error("{path}: checkpoint of {found}, but this run needs {expected}")]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// What the file holds.
        found: String,
        /// What was expected.
        expected: String,
    },
}

/// The three sections of a checkpoint.
pub(crate) struct Sections {
    pub meta: CheckpointMeta,
    pub net: Vec<u8>,
    pub optim: Vec<u8>,
}

pub(crate) fn encode(meta: &CheckpointMeta, net: &[u8], optim: &[u8]) -> Vec<u8> {
    let meta = serde_json::to_vec(meta).expect("metadata serialises");
    let mut b = Vec::with_capacity(net.len() + optim.len() + meta.len() + 64);
    b.extend_from_slice(MAGIC);
    b.extend_from_slice(&VERSION.to_le_bytes());
    for part in [&meta[..], net, optim] {
        b.extend_from_slice(&(part.len() as u64).to_le_bytes());
        b.extend_from_slice(part);
    }
    let crc = crc32fast::hash(&b);
    b.extend_from_slice(&crc.to_le_bytes());
    b
}

pub(crate) fn decode(bytes: &[u8], path: &Path) -> Result<Sections, CheckpointError> {
    let corrupt = |reason: &str| CheckpointError::Corrupt {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    if bytes.len() < MAGIC.len() + 8 || &bytes[..MAGIC.len()] != MAGIC {
        return Err(corrupt("does not start with the az checkpoint header"));
    }
    let (body, crc) = bytes.split_at(bytes.len() - 4);
    if crc32fast::hash(body) != u32::from_le_bytes(crc.try_into().expect("4 bytes")) {
        return Err(corrupt("checksum mismatch (truncated or damaged)"));
    }
    let version = u32::from_le_bytes(body[8..12].try_into().expect("4 bytes"));
    if version != VERSION {
        return Err(corrupt(&format!(
            "format version {version}, this az reads {VERSION}"
        )));
    }
    let mut at = 12;
    let mut parts = Vec::new();
    for _ in 0..3 {
        let len = body
            .get(at..at + 8)
            .map(|s| u64::from_le_bytes(s.try_into().expect("8 bytes")) as usize)
            .ok_or_else(|| corrupt("truncated section header"))?;
        let part = body
            .get(at + 8..at + 8 + len)
            .ok_or_else(|| corrupt("truncated section"))?;
        parts.push(part.to_vec());
        at += 8 + len;
    }
    if at != body.len() {
        return Err(corrupt("bytes after the last section"));
    }
    let optim = parts.pop().expect("3 parts");
    let net = parts.pop().expect("3 parts");
    let meta = serde_json::from_slice(&parts[0]).map_err(|e| corrupt(&format!("metadata: {e}")))?;
    Ok(Sections { meta, net, optim })
}
