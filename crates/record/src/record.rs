//! A finished self-play game, as it goes to the replay buffer.

use crate::remote::Origin;
use az_game::{Game, Outcome, Player};

/// One self-play game: the moves, the search's policy target and value at every
/// ply, and how it ended.
#[derive(Clone, Debug, PartialEq)]
pub struct GameRecord<G: Game> {
    /// Moves from the initial position.
    pub moves: Vec<G::Move>,
    /// `moves.len() × NUM_ACTIONS` visit distributions, one row per ply (all
    /// zero where the move was not searched for a policy target).
    pub policies: Vec<f32>,
    /// Root value for the player to move, per ply.
    pub root_values: Vec<f32>,
    /// The result: by the rules, or by resignation.
    pub outcome: Outcome,
    /// The first `random_plies` moves were played at random without a search
    /// (a random opening): their positions are not training positions (their
    /// policy rows and root values are zero).
    pub random_plies: usize,
    /// The player who resigned, if the game ended so.
    pub resigned: Option<Player>,
    /// This game was chosen never to resign (the false-resignation check).
    pub resign_disabled: bool,
    /// In a game that never resigns: who would have resigned first, had it been allowed.
    pub would_have_resigned: Option<Player>,
    /// Worker that played it.
    pub worker: usize,
    /// Per-worker game number.
    pub game_index: u64,
    /// For a game played by a remote actor: its id and the weights that played
    /// it (kept in the replay chunks, so a resumed learner knows what it has).
    pub origin: Option<Origin>,
}

impl<G: Game> GameRecord<G> {
    /// Number of moves.
    pub fn len(&self) -> usize {
        self.moves.len()
    }

    /// Whether no move was played.
    pub fn is_empty(&self) -> bool {
        self.moves.is_empty()
    }

    /// Policy target of ply `i`.
    pub fn policy(&self, i: usize) -> &[f32] {
        &self.policies[i * G::NUM_ACTIONS..(i + 1) * G::NUM_ACTIONS]
    }

    /// Positions that train the network: those after the random opening.
    pub fn training_len(&self) -> usize {
        self.moves.len().saturating_sub(self.random_plies)
    }

    /// The positions before each move, with the value target for the player to move.
    pub fn positions(&self) -> impl Iterator<Item = (G, f32)> + '_ {
        let mut position = G::new();
        self.moves.iter().map(move |&mv| {
            let here = position.clone();
            position.apply_unchecked(mv);
            let z = self.outcome.value_for(here.to_move());
            (here, z)
        })
    }

    /// The position after the last move (where the game ended, or where a
    /// player resigned).
    pub fn final_position(&self) -> G {
        let mut position = G::new();
        for &mv in &self.moves {
            position.apply_unchecked(mv);
        }
        position
    }

    /// For a game that never resigned: whether the player who would have resigned
    /// went on to win or draw (a false resignation).
    pub fn false_resignation(&self) -> Option<bool> {
        let p = self.would_have_resigned?;
        Some(self.outcome != Outcome::Win(p.other()))
    }
}
