//! The model the server runs, and hot swaps of it.

use crate::BatchModel;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// The current model and its version; server threads pick up new versions
/// between batches.
#[derive(Debug)]
pub(crate) struct ModelSlot<M> {
    pub(crate) version: AtomicU64,
    pub(crate) model: Mutex<M>,
}

/// Publishes new weights to a running server (hot swap).
#[derive(Debug)]
pub struct Publisher<M> {
    slot: Arc<ModelSlot<M>>,
}

impl<M> Clone for Publisher<M> {
    fn clone(&self) -> Self {
        Publisher {
            slot: Arc::clone(&self.slot),
        }
    }
}

impl<M> Publisher<M> {
    pub(crate) fn new(slot: Arc<ModelSlot<M>>) -> Self {
        Publisher { slot }
    }
}

impl<M: BatchModel> Publisher<M> {
    /// Replaces the model; every server thread uses it from its next batch on.
    /// Returns the new version number.
    pub fn publish(&self, model: M) -> u64 {
        let mut current = self
            .slot
            .model
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *current = model;
        self.slot.version.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// Version of the current model (0 for the one the server started with).
    pub fn version(&self) -> u64 {
        self.slot.version.load(Ordering::Acquire)
    }
}
