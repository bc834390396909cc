//! The network's value head as a player: one ply of lookahead, no search, no
//! policy. Beside the policy alone and the search, it says which of the two
//! heads a run's mistakes come from.

use crate::players::Player;
use az_game::Game;
use az_infer::{Batch, BatchModel};

/// Plays the move after which the value head rates the position best for the
/// mover; a move that ends the game counts its exact result. Ties go to the
/// first such move in the order of `legal_moves`.
#[derive(Debug)]
pub struct ValuePlayer<M> {
    model: M,
    batch: Batch,
}

impl<M: BatchModel> ValuePlayer<M> {
    /// A player that evaluates with `model`.
    pub fn new(model: M) -> Self {
        let batch = Batch::new(model.input_len(), model.num_actions(), 1);
        ValuePlayer { model, batch }
    }

    /// Each legal move of `position` with its value for the player to move
    /// there: the exact result where the move ends the game, otherwise the value
    /// head's, turned to the mover's view when the other player moves next.
    ///
    /// # Panics
    /// If the game is over at `position`, or `model` was made for another game.
    pub fn move_values<G: Game>(&mut self, position: &G) -> Vec<(G::Move, f32)> {
        let mover = position.to_move();
        let moves: Vec<G::Move> = position.legal_moves().to_vec();
        assert!(!moves.is_empty(), "the game is over at this position");
        let mut values = vec![0.0f32; moves.len()];
        // (move's index, whether the mover also moves after it) of each row.
        let mut rows = Vec::with_capacity(moves.len());
        self.batch.clear();
        for (i, &mv) in moves.iter().enumerate() {
            let mut child = position.clone();
            child.apply_unchecked(mv);
            match child.outcome() {
                Some(outcome) => values[i] = outcome.value_for(mover),
                None => {
                    self.batch.push_position(&child, &child.legal_moves());
                    rows.push((i, child.to_move() == mover));
                }
            }
        }
        if !rows.is_empty() {
            self.batch.answer_with(&mut self.model);
            for (row, &(i, same)) in rows.iter().enumerate() {
                let v = self.batch.value[row];
                values[i] = if same { v } else { -v };
            }
        }
        moves.into_iter().zip(values).collect()
    }
}

impl<G: Game, M: BatchModel> Player<G> for ValuePlayer<M> {
    fn name(&self) -> String {
        "network value (one ply)".to_owned()
    }

    fn choose(&mut self, position: &G) -> G::Move {
        let mut best: Option<(G::Move, f32)> = None;
        for (mv, v) in self.move_values(position) {
            if best.is_none_or(|(_, b)| v > b) {
                best = Some((mv, v));
            }
        }
        best.expect("a position not over has a move").0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use az_infer::UniformModel;
    use az_tictactoe::{Cell, TicTacToe};

    /// Tic-tac-toe's value for the player to move: -1 where the opponent holds
    /// the centre (plane 1, cell 4 of the encoding), +1 otherwise.
    #[derive(Clone, Debug)]
    struct CentreModel;

    impl BatchModel for CentreModel {
        fn input_len(&self) -> usize {
            TicTacToe::SHAPE.len()
        }
        fn num_actions(&self) -> usize {
            TicTacToe::NUM_ACTIONS
        }
        fn forward(&mut self, n: usize, inputs: &[f32], _: &[f32], _: &mut [f32], v: &mut [f32]) {
            for (row, out) in inputs.chunks_exact(self.input_len()).zip(&mut v[..n]) {
                *out = if row[9 + 4] > 0.5 { -1.0 } else { 1.0 };
            }
        }
    }

    fn play(moves: &[u8]) -> TicTacToe {
        moves
            .iter()
            .fold(TicTacToe::new(), |p, &m| p.apply(Cell(m)).unwrap())
    }

    #[test]
    fn the_value_is_read_from_the_movers_side() {
        // After the centre the opponent is to move with us on the centre: the
        // model says -1 for them, so +1 for us; every other move gives -1.
        let mut player = ValuePlayer::new(CentreModel);
        let values = player.move_values(&TicTacToe::new());
        assert_eq!(values.len(), 9);
        for (mv, v) in &values {
            assert_eq!(*v, if *mv == Cell(4) { 1.0 } else { -1.0 }, "{mv:?}");
        }
        assert_eq!(player.choose(&TicTacToe::new()), Cell(4));
    }

    #[test]
    fn a_move_that_ends_the_game_counts_its_exact_result() {
        // X on 0 and 1, O on 3 and 4 (the centre): X to move; 2 wins at once.
        // The model rates every unfinished child +1 for O (X not on the
        // centre), i.e. -1 for X; the win is worth +1.
        let position = play(&[0, 3, 1, 4]);
        let mut player = ValuePlayer::new(CentreModel);
        let values = player.move_values(&position);
        for (mv, v) in &values {
            assert_eq!(*v, if *mv == Cell(2) { 1.0 } else { -1.0 }, "{mv:?}");
        }
        assert_eq!(player.choose(&position), Cell(2));
        // A value head that knows nothing (0 everywhere) still takes the win.
        let model = UniformModel {
            input_len: TicTacToe::SHAPE.len(),
            num_actions: TicTacToe::NUM_ACTIONS,
        };
        assert_eq!(ValuePlayer::new(model).choose(&position), Cell(2));
    }
}
