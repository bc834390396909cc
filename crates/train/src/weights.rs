//! Weights files: the checkpoint format with an empty optimiser section, as
//! [`Trainer::weights`](crate::Trainer::weights) writes them for self-play on
//! another machine.

use crate::checkpoint::{self, CheckpointError, CheckpointMeta};
use crate::trainer::net_sizes;
use az_model::{InferenceNet, NetConfig, PolicyValueNet};
use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};
use std::path::Path;

/// Reads a weights file (or a whole checkpoint: its optimiser state is
/// ignored) of game `game` and network `net_config` into an inference network
/// on `device`. `source` names where the bytes came from, for errors.
///
/// # Errors
/// [`CheckpointError::Corrupt`] for truncated or damaged bytes,
/// [`CheckpointError::Mismatch`] for another game or network shape. Never
/// panics on bad bytes.
pub fn read_weights(
    bytes: &[u8],
    source: &Path,
    game: &str,
    net_config: NetConfig,
    device: &Device,
) -> Result<(InferenceNet, CheckpointMeta), CheckpointError> {
    let sections = checkpoint::decode(bytes, source)?;
    let meta = sections.meta;
    let expected = net_sizes(net_config);
    if meta.game != game || meta.net != expected {
        return Err(CheckpointError::Mismatch {
            path: source.to_owned(),
            found: format!("{} with network {:?}", meta.game, meta.net),
            expected: format!("{game} with network {expected:?}"),
        });
    }
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(sections.net)).map_err(|e| {
        CheckpointError::Corrupt {
            path: source.to_owned(),
            reason: format!("network: {e}"),
        }
    })?;
    let net = PolicyValueNet::new(&net_config, device)
        .try_load_record(record)
        .map_err(|e| CheckpointError::Corrupt {
            path: source.to_owned(),
            reason: format!("network: {e}"),
        })?;
    Ok((InferenceNet::new(&net, net_config, device), meta))
}
