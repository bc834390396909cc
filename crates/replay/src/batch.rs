//! A training minibatch in flat arrays.

/// `n` samples ready for the network.
///
/// # Shapes
/// `inputs: n × input_len`, `masks, policies: n × actions`, `values: n`,
/// `owners: n × cells` (empty unless the replay buffer was asked for them)
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrainBatch {
    /// Samples.
    pub n: usize,
    /// Encoded positions (after the sample's symmetry).
    pub inputs: Vec<f32>,
    /// Legal-move masks (1.0 legal).
    pub masks: Vec<f32>,
    /// Policy targets (visit distributions).
    pub policies: Vec<f32>,
    /// Value targets for the player to move (the game's result).
    pub values: Vec<f32>,
    /// Ownership targets: who holds each cell at the end of the sample's game,
    /// from the view of the sample's player to move (see `Game::owners`).
    pub owners: Vec<f32>,
}

impl TrainBatch {
    /// Empties the batch, keeping its memory.
    pub fn clear(&mut self) {
        self.n = 0;
        self.inputs.clear();
        self.masks.clear();
        self.policies.clear();
        self.values.clear();
        self.owners.clear();
    }
}
