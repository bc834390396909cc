//! Weights in the object store and the `latest` key that points at them.

use async_nats::jetstream::kv;
use async_nats::jetstream::object_store::{GetErrorKind, ObjectMetadata, ObjectStore};
use az_record::remote::Weights;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// The KV key whose value points at the newest weights: JSON `{"step", "object", "game", "net"}`.
pub const LATEST_KEY: &str = "latest";

/// Object names start with this, then the step in ten digits (so names sort by step).
pub const OBJECT_PREFIX: &str = "weights-";

/// Longest wait for one object to download or upload before trying again.
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(120);

/// The value of key `latest`: which object holds the newest weights, and what they are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Pointer {
    pub step: u64,
    pub object: String,
    pub game: String,
    pub net: Vec<usize>,
}

impl Pointer {
    pub(crate) fn parse(value: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(value).map_err(|error| format!("key {LATEST_KEY}: {error}"))
    }
}

/// `weights-{step:010}`.
pub(crate) fn object_name(step: u64) -> String {
    format!("{OBJECT_PREFIX}{step:010}")
}

/// Stores `weights` as an object, points `latest` at it, then deletes all but the newest
/// `keep` weights objects (never the one just stored).
pub(crate) async fn publish(
    objects: &ObjectStore,
    store: &kv::Store,
    weights: &Weights,
    keep: usize,
) -> Result<(), String> {
    let name = object_name(weights.step);
    let meta = ObjectMetadata {
        name: name.clone(),
        description: Some(format!(
            "az weights of {} at step {}",
            weights.game, weights.step
        )),
        metadata: HashMap::from([
            ("az.game".to_owned(), weights.game.clone()),
            ("az.step".to_owned(), weights.step.to_string()),
        ]),
        ..ObjectMetadata::default()
    };
    let mut bytes = weights.bytes.as_slice();
    tokio::time::timeout(TRANSFER_TIMEOUT, objects.put(meta, &mut bytes))
        .await
        .map_err(|_| format!("storing object {name} timed out"))?
        .map_err(|error| format!("storing object {name}: {error}"))?;
    let pointer = Pointer {
        step: weights.step,
        object: name.clone(),
        game: weights.game.clone(),
        net: weights.net.clone(),
    };
    let value = serde_json::to_vec(&pointer).expect("a pointer serialises");
    store
        .put(LATEST_KEY, value.into())
        .await
        .map_err(|error| format!("setting key {LATEST_KEY}: {error}"))?;
    prune(objects, keep, &name).await
}

/// Deletes weights objects but the newest `keep` by name and `current`.
async fn prune(objects: &ObjectStore, keep: usize, current: &str) -> Result<(), String> {
    let mut list = objects
        .list()
        .await
        .map_err(|error| format!("listing objects: {error}"))?;
    let mut names = Vec::new();
    while let Some(info) = list.next().await {
        let info = info.map_err(|error| format!("listing objects: {error}"))?;
        if info.name.starts_with(OBJECT_PREFIX) {
            names.push(info.name);
        }
    }
    names.sort_unstable();
    let old = names.len().saturating_sub(keep);
    for name in &names[..old] {
        if name != current {
            objects
                .delete(name)
                .await
                .map_err(|error| format!("deleting object {name}: {error}"))?;
        }
    }
    Ok(())
}

/// Why a download failed.
#[derive(Debug)]
pub(crate) enum Missing {
    /// The object is gone (pruned meanwhile): newer weights are on their way.
    Gone,
    /// Anything else (the server is away, a timeout): worth another try.
    Failed(String),
}

/// The weights `pointer` names.
pub(crate) async fn download(objects: &ObjectStore, pointer: &Pointer) -> Result<Weights, Missing> {
    let name = &pointer.object;
    let read = async {
        let mut object = objects
            .get(name)
            .await
            .map_err(|error| match error.kind() {
                GetErrorKind::NotFound => Missing::Gone,
                _ => Missing::Failed(format!("object {name}: {error}")),
            })?;
        let mut bytes = Vec::with_capacity(object.info().size);
        match object.read_to_end(&mut bytes).await {
            Ok(_) => Ok(bytes),
            // A read cut short by a delete fails its digest check: was it deleted?
            Err(error) => match objects.info(name).await {
                Err(_) => Err(Missing::Gone),
                Ok(info) if info.deleted => Err(Missing::Gone),
                Ok(_) => Err(Missing::Failed(format!("reading object {name}: {error}"))),
            },
        }
    };
    let bytes = tokio::time::timeout(TRANSFER_TIMEOUT, read)
        .await
        .map_err(|_| Missing::Failed(format!("reading object {name} timed out")))??;
    Ok(Weights {
        step: pointer.step,
        game: pointer.game.clone(),
        net: pointer.net.clone(),
        bytes,
    })
}

/// The newest published weights, if any: `Ok(None)` when nothing is published or the object
/// was pruned between reading the key and the object.
pub(crate) async fn latest(
    store: &kv::Store,
    objects: &ObjectStore,
) -> Result<Option<Weights>, String> {
    let Some(value) = store
        .get(LATEST_KEY)
        .await
        .map_err(|error| format!("reading key {LATEST_KEY}: {error}"))?
    else {
        return Ok(None);
    };
    let pointer = Pointer::parse(&value)?;
    match download(objects, &pointer).await {
        Ok(weights) => Ok(Some(weights)),
        Err(Missing::Gone) => Ok(None),
        Err(Missing::Failed(error)) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_by_step() {
        assert_eq!(object_name(42), "weights-0000000042");
        assert!(object_name(9) < object_name(10));
        let pointer = Pointer {
            step: 3,
            object: object_name(3),
            game: "connect4".into(),
            net: vec![3, 6, 7, 7, 5, 64, 64],
        };
        let value = serde_json::to_vec(&pointer).unwrap();
        assert_eq!(Pointer::parse(&value).unwrap(), pointer);
        assert!(Pointer::parse(b"{}").is_err());
    }
}
