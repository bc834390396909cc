//! Tic-tac-toe for az: a 3×3 board as two 9-bit masks.
//!
//! Cells are numbered 0..9 row by row from the top left; a move is written as
//! its column letter and row number, `a1` (top left) to `c3` (bottom right), the
//! same convention as othello. X moves first.

use arrayvec::ArrayVec;
use az_game::{Game, MoveError, Outcome, Player, Shape, Symmetry, dihedral_square};
use std::fmt;

mod board;
mod oracle;
pub use oracle::Minimax;

const LINES: [u16; 8] = [
    0b000_000_111,
    0b000_111_000,
    0b111_000_000,
    0b001_001_001,
    0b010_010_010,
    0b100_100_100,
    0b100_010_001,
    0b001_010_100,
];
const FULL: u16 = 0x1ff;

/// A cell, `0..9`, row by row from the top left.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Cell(pub u8);

/// A tic-tac-toe position.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct TicTacToe {
    /// Stones of [`Player::First`] (X) and [`Player::Second`] (O).
    stones: [u16; 2],
    ply: u8,
    outcome: Option<Outcome>,
}

impl TicTacToe {
    /// Stones of `player` as a 9-bit mask.
    pub fn stones(&self, player: Player) -> u16 {
        self.stones[player.index()]
    }
}

fn transform_mask(mask: u16, cells: &[u16]) -> u16 {
    (0..9)
        .filter(|&c| mask >> c & 1 == 1)
        .fold(0, |m, c| m | 1 << cells[c])
}

impl Game for TicTacToe {
    type Move = Cell;
    /// At most 9 empty cells.
    type Moves = ArrayVec<Cell, 9>;

    const NAME: &'static str = "tictactoe";
    const NUM_ACTIONS: usize = 9;
    const SHAPE: Shape = Shape {
        planes: 3,
        height: 3,
        width: 3,
    };
    const NUM_SYMMETRIES: usize = 8;
    const MAX_GAME_LENGTH: usize = 9;
    const NOTATION: &'static str = "a cell a1..c3 (column a-c, row 1-3 from the top)";

    fn oracle() -> Option<Box<dyn az_game::Oracle<Self>>> {
        Some(Box::<Minimax>::default())
    }

    fn new() -> Self {
        TicTacToe {
            stones: [0; 2],
            ply: 0,
            outcome: None,
        }
    }

    fn to_move(&self) -> Player {
        if self.ply % 2 == 0 {
            Player::First
        } else {
            Player::Second
        }
    }

    fn ply(&self) -> usize {
        self.ply as usize
    }

    fn legal_moves(&self) -> Self::Moves {
        let mut moves = ArrayVec::new();
        if self.outcome.is_none() {
            let empty = !(self.stones[0] | self.stones[1]) & FULL;
            moves.extend((0..9).filter(|c| empty >> c & 1 == 1).map(Cell));
        }
        moves
    }

    fn is_legal(&self, mv: Cell) -> bool {
        self.outcome.is_none() && mv.0 < 9 && (self.stones[0] | self.stones[1]) >> mv.0 & 1 == 0
    }

    fn apply_unchecked(&mut self, mv: Cell) {
        debug_assert!(self.is_legal(mv), "illegal move {mv:?} in\n{self}");
        let me = self.to_move();
        let mine = self.stones[me.index()] | 1 << mv.0;
        self.stones[me.index()] = mine;
        self.ply += 1;
        if LINES.iter().any(|&l| l & !mine == 0) {
            self.outcome = Some(Outcome::Win(me));
        } else if self.ply == 9 {
            self.outcome = Some(Outcome::Draw);
        }
    }

    fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }

    fn position_hash(&self) -> u64 {
        // The two masks determine the position; 18 bits, spread by a mixer.
        az_game::mix64(u64::from(self.stones[0]) | u64::from(self.stones[1]) << 9)
    }

    fn move_index(&self, mv: Cell) -> usize {
        mv.0 as usize
    }

    fn index_move(&self, index: usize) -> Option<Cell> {
        (index < 9).then_some(Cell(index as u8))
    }

    fn encode(&self, out: &mut [f32]) {
        let me = self.to_move();
        let planes = [
            self.stones[me.index()],
            self.stones[me.other().index()],
            FULL,
        ];
        for (plane, mask) in out[..27].chunks_exact_mut(9).zip(planes) {
            for (c, v) in plane.iter_mut().enumerate() {
                *v = f32::from(mask >> c & 1);
            }
        }
    }

    /// The stones.
    fn owners(&self, view: Player, out: &mut [f32]) -> bool {
        let (mine, theirs) = (self.stones[view.index()], self.stones[view.other().index()]);
        for (c, v) in out[..9].iter_mut().enumerate() {
            *v = f32::from(mine >> c & 1) - f32::from(theirs >> c & 1);
        }
        true
    }

    fn symmetry(index: usize) -> Symmetry {
        let cells = dihedral_square(3).swap_remove(index);
        Symmetry {
            actions: cells.clone(),
            cells,
        }
    }

    fn transformed(&self, index: usize) -> Self {
        let cells = &dihedral_square(3)[index];
        let stones = self.stones.map(|m| transform_mask(m, cells));
        TicTacToe { stones, ..*self }
    }

    fn parse_move_prefix(&self, text: &str) -> Result<(Cell, usize), MoveError> {
        match text.as_bytes() {
            // Columns in either case: `b2` or `B2`.
            [col, row @ b'1'..=b'3', ..] if matches!(col.to_ascii_lowercase(), b'a'..=b'c') => {
                Ok((
                    Cell((row - b'1') * 3 + (col.to_ascii_lowercase() - b'a')),
                    2,
                ))
            }
            _ => Err(MoveError::Parse {
                text: text.chars().take(2).collect(),
                expected: Self::NOTATION,
            }),
        }
    }

    fn write_move(&self, mv: Cell, out: &mut dyn fmt::Write) -> fmt::Result {
        write!(out, "{}{}", (b'a' + mv.0 % 3) as char, mv.0 / 3 + 1)
    }
}

impl fmt::Display for TicTacToe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  a b c")?;
        for row in 0..3 {
            write!(f, "{}", row + 1)?;
            for col in 0..3 {
                let c = row * 3 + col;
                let ch = if self.stones[0] >> c & 1 == 1 {
                    'X'
                } else if self.stones[1] >> c & 1 == 1 {
                    'O'
                } else {
                    '.'
                };
                write!(f, " {ch}")?;
            }
            writeln!(f)?;
        }
        match self.outcome {
            Some(o) => write!(f, "{o}"),
            None => write!(
                f,
                "{} to move",
                if self.to_move() == Player::First {
                    'X'
                } else {
                    'O'
                }
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_wins_and_blocks_end_the_game() {
        let p = TicTacToe::from_moves("a1 a2 b1 b2 c1").unwrap();
        assert_eq!(p.outcome(), Some(Outcome::Win(Player::First)));
        assert!(p.legal_moves().is_empty());
        let draw = TicTacToe::from_moves("b2a1c1a3a2c2b1b3c3").unwrap();
        assert_eq!(draw.outcome(), Some(Outcome::Draw));
    }

    #[test]
    fn occupied_cell_is_illegal_and_gives_the_position_back() {
        let p = TicTacToe::from_moves("b2").unwrap();
        let err = p.apply(Cell(4)).unwrap_err();
        assert_eq!(err.position, p);
        let err = TicTacToe::from_moves("b2 b2").unwrap_err();
        assert_eq!(err.number, 2);
        assert!(err.to_string().contains("illegal move b2"), "{err}");
        assert!(
            TicTacToe::from_moves("d1")
                .unwrap_err()
                .to_string()
                .contains("a1..c3")
        );
    }

    #[test]
    fn moves_read_in_either_case_and_errors_quote_the_whole_word() {
        let p = TicTacToe::new();
        assert_eq!(p.parse_move("B2").unwrap(), p.parse_move("b2").unwrap());
        assert_eq!(
            TicTacToe::from_moves("A1 b2 C3").unwrap(),
            TicTacToe::from_moves("a1 b2 c3").unwrap()
        );
        let err = p.parse_move("hello world").unwrap_err().to_string();
        assert!(err.contains("\"hello world\""), "{err}");
        let err = TicTacToe::from_moves("b2 hello a1")
            .unwrap_err()
            .to_string();
        assert!(err.contains("move 2 (\"hello\")"), "{err}");
        assert!(err.contains("cannot read \"hello\""), "{err}");
    }
}
