//! The board as front ends draw it: 8 × 8, row 1 on top (as `Display` prints
//! it); a pass is the one move off the board.

use crate::{Move, Othello, PASS};
use az_game::{Board, Piece, Player};

impl Board for Othello {
    const GRID: (usize, usize) = (8, 8);

    fn pieces(&self) -> Vec<Piece> {
        let (black, white) = (self.discs(Player::First), self.discs(Player::Second));
        (0..64)
            .map(|sq| {
                if black >> sq & 1 == 1 {
                    Piece::First
                } else if white >> sq & 1 == 1 {
                    Piece::Second
                } else {
                    Piece::Empty
                }
            })
            .collect()
    }

    fn move_cell(&self, mv: Move) -> Option<usize> {
        (mv.0 != PASS).then_some(usize::from(mv.0))
    }
}
