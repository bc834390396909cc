//! The board as front ends draw it: 3 × 3, row 1 on top (as `Display` prints it).

use crate::{Cell, TicTacToe};
use az_game::{Board, Piece};

impl Board for TicTacToe {
    const GRID: (usize, usize) = (3, 3);

    fn pieces(&self) -> Vec<Piece> {
        (0..9)
            .map(|c| {
                if self.stones[0] >> c & 1 == 1 {
                    Piece::First
                } else if self.stones[1] >> c & 1 == 1 {
                    Piece::Second
                } else {
                    Piece::Empty
                }
            })
            .collect()
    }

    fn move_cell(&self, mv: Cell) -> Option<usize> {
        Some(usize::from(mv.0))
    }
}
