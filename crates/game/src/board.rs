//! [`Board`]: how a front end draws a game, as a grid of cells, and where its
//! moves go. `az serve`'s page draws and plays every game through it, with no
//! code of its own for any game.

use crate::Game;

/// What stands on one cell.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Piece {
    /// Nothing.
    Empty,
    /// A piece of the player who moved first (X, the first stone, black).
    First,
    /// A piece of the other player.
    Second,
    /// A piece that belongs to nobody (a counter, an object on a heap).
    Neutral,
}

impl Piece {
    /// A short name for front ends: `""`, `"first"`, `"second"`, `"neutral"`.
    pub fn name(self) -> &'static str {
        match self {
            Piece::Empty => "",
            Piece::First => "first",
            Piece::Second => "second",
            Piece::Neutral => "neutral",
        }
    }
}

/// A game's board as a front end shows it: `GRID.0` rows × `GRID.1` columns,
/// cells numbered row-major from the top left.
///
/// # Laws (checked by [`testkit`](crate::testkit))
/// - [`pieces`](Board::pieces) has `GRID.0 × GRID.1` entries.
/// - [`move_cell`](Board::move_cell) of a legal move is a cell of the grid, and
///   [`cell_move`](Board::cell_move) of that cell is a legal move.
pub trait Board: Game {
    /// Rows and columns.
    const GRID: (usize, usize);

    /// What stands on each cell, row-major from the top left.
    fn pieces(&self) -> Vec<Piece>;

    /// The cell legal move `mv` is shown on (where the piece lands, or the
    /// square it is played on); `None` for a move that is not on the board (a pass).
    fn move_cell(&self, mv: Self::Move) -> Option<usize>;

    /// The legal move a click on `cell` plays, if any. By default the legal move
    /// shown on that cell ([`move_cell`](Board::move_cell)); a game where a whole
    /// column or row means one move overrides it.
    fn cell_move(&self, cell: usize) -> Option<Self::Move> {
        self.legal_moves()
            .iter()
            .copied()
            .find(|&mv| self.move_cell(mv) == Some(cell))
    }

    /// The legal move that is not on the board (a pass), if there is one now.
    fn off_board_move(&self) -> Option<Self::Move> {
        self.legal_moves()
            .iter()
            .copied()
            .find(|&mv| self.move_cell(mv).is_none())
    }
}
