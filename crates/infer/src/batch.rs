//! The buffers of one request: they travel to the server and come back filled,
//! so a client that keeps its batches allocates nothing per round.

use crate::BatchModel;
use std::time::Instant;

/// Encoded positions with their legal-move masks, and room for the answers.
#[derive(Clone, Debug)]
pub struct Batch {
    input_len: usize,
    num_actions: usize,
    len: usize,
    /// `len × input_len` encoded positions.
    pub inputs: Vec<f32>,
    /// `len × num_actions` legal-move masks (1.0 legal, 0.0 illegal).
    pub masks: Vec<f32>,
    /// `len × num_actions` policy, filled by the server.
    pub policy: Vec<f32>,
    /// `len` values, filled by the server.
    pub value: Vec<f32>,
    /// Free for the client (which group or game the batch belongs to).
    pub tag: u64,
    pub(crate) sent: Option<Instant>,
}

impl Batch {
    /// An empty batch for positions of `input_len` values and `num_actions` moves,
    /// with room for `capacity` positions.
    pub fn new(input_len: usize, num_actions: usize, capacity: usize) -> Self {
        Batch {
            input_len,
            num_actions,
            len: 0,
            inputs: Vec::with_capacity(capacity * input_len),
            masks: Vec::with_capacity(capacity * num_actions),
            policy: Vec::with_capacity(capacity * num_actions),
            value: Vec::with_capacity(capacity),
            tag: 0,
            sent: None,
        }
    }

    /// Number of positions.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the batch holds no position.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Length of one encoded position.
    pub fn input_len(&self) -> usize {
        self.input_len
    }

    /// Length of one policy row.
    pub fn num_actions(&self) -> usize {
        self.num_actions
    }

    /// Empties the batch, keeping its memory.
    pub fn clear(&mut self) {
        self.len = 0;
        self.inputs.clear();
        self.masks.clear();
        self.policy.clear();
        self.value.clear();
    }

    /// Appends one position: returns its input row and mask row (mask zeroed) to fill.
    pub fn push(&mut self) -> (&mut [f32], &mut [f32]) {
        let (i, a) = (self.len * self.input_len, self.len * self.num_actions);
        self.len += 1;
        self.inputs.resize(i + self.input_len, 0.0);
        self.masks.resize(a + self.num_actions, 0.0);
        (&mut self.inputs[i..], &mut self.masks[a..])
    }

    /// Policy row and value of position `i` once answered.
    pub fn output(&self, i: usize) -> (&[f32], f32) {
        let a = self.num_actions;
        (&self.policy[i * a..(i + 1) * a], self.value[i])
    }

    /// Sizes the output buffers for `len` answers.
    pub(crate) fn prepare_outputs(&mut self) {
        self.policy.resize(self.len * self.num_actions, 0.0);
        self.value.resize(self.len, 0.0);
    }

    /// Answers the batch with `model` on this thread: one forward pass, the
    /// policies and values written into the batch.
    pub fn answer_with<M: BatchModel>(&mut self, model: &mut M) {
        self.prepare_outputs();
        let n = self.len;
        model.forward(
            n,
            &self.inputs,
            &self.masks,
            &mut self.policy,
            &mut self.value,
        );
    }
}
