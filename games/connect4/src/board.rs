//! The board as front ends draw it: 6 rows × 7 columns, the top row first (as
//! `Display` prints it); a move is shown where its stone lands, and a click
//! anywhere in a column plays that column.

use crate::{Column, Connect4, H1, HEIGHT, WIDTH};
use az_game::{Board, Game, Piece, Player};

impl Board for Connect4 {
    const GRID: (usize, usize) = (HEIGHT, WIDTH);

    fn pieces(&self) -> Vec<Piece> {
        let first = self.stones(Player::First);
        let mut out = Vec::with_capacity(HEIGHT * WIDTH);
        for row in (0..HEIGHT).rev() {
            for col in 0..WIDTH {
                let bit = 1u64 << (col * H1 + row);
                out.push(match (self.mask & bit != 0, first & bit != 0) {
                    (false, _) => Piece::Empty,
                    (true, true) => Piece::First,
                    (true, false) => Piece::Second,
                });
            }
        }
        out
    }

    fn move_cell(&self, mv: Column) -> Option<usize> {
        let col = usize::from(mv.0);
        let height = (0..HEIGHT)
            .take_while(|row| self.mask >> (col * H1 + row) & 1 == 1)
            .count();
        (height < HEIGHT).then(|| (HEIGHT - 1 - height) * WIDTH + col)
    }

    fn cell_move(&self, cell: usize) -> Option<Column> {
        let mv = Column(u8::try_from(cell % WIDTH).ok()?);
        (cell < HEIGHT * WIDTH && self.is_legal(mv)).then_some(mv)
    }
}
