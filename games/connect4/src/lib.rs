//! Connect Four for az, on bitboards.
//!
//! # Layout
//! The 7 × 6 board lives in a `u64`, column by column: bit `7 * col + row`, row 0
//! at the bottom, with one always-empty sentinel bit on top of each column so that
//! shifted alignments never wrap (the layout of Pascal Pons' solver). A position
//! keeps the stones of the player to move and the mask of all stones; the
//! opponent's stones are their difference.
//!
//! # Notation
//! A move is its column, `1` to `7` from the left; a position is the line of
//! columns played, as Pons' solver writes it (`4455`).

use arrayvec::ArrayVec;
use az_game::{Game, MoveError, Outcome, Player, Shape, Symmetry, mirror_columns};
use std::fmt;

mod board;
pub mod book;
mod solver;
pub use book::Book;
pub use solver::Solver;

/// Columns of the board.
pub const WIDTH: usize = 7;
/// Rows of the board.
pub const HEIGHT: usize = 6;
const H1: usize = HEIGHT + 1;
/// Bit 0 of every column.
const BOTTOM: u64 = 0x0001_0204_0810_2040 >> 6;
/// Every playable cell (the sentinel row excluded).
const BOARD: u64 = BOTTOM * ((1 << HEIGHT) - 1);

const fn top_bit(col: usize) -> u64 {
    1 << (HEIGHT - 1 + col * H1)
}
const fn bottom_bit(col: usize) -> u64 {
    1 << (col * H1)
}
const fn column_bits(col: usize) -> u64 {
    ((1 << HEIGHT) - 1) << (col * H1)
}

/// Whether `stones` holds four in a row.
#[inline]
pub const fn has_four(stones: u64) -> bool {
    // vertical 1, horizontal H1, the two diagonals H1 - 1 and H1 + 1
    let mut i = 0;
    let dirs = [1, H1, H1 - 1, H1 + 1];
    while i < 4 {
        let d = dirs[i];
        let m = stones & (stones >> d);
        if m & (m >> (2 * d)) != 0 {
            return true;
        }
        i += 1;
    }
    false
}

/// A column, `0..7` from the left (written `1`..`7`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Column(pub u8);

/// A Connect Four position.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Connect4 {
    /// Stones of the player to move.
    current: u64,
    /// All stones.
    mask: u64,
    ply: u8,
    outcome: Option<Outcome>,
}

impl Connect4 {
    /// Stones of the player to move, in the column-major layout of the crate docs.
    pub fn current(&self) -> u64 {
        self.current
    }

    /// All stones, in the column-major layout of the crate docs.
    pub fn mask(&self) -> u64 {
        self.mask
    }

    /// A key that identifies the position uniquely (Pons: `current + mask`); it
    /// fits in 49 bits.
    pub fn key(&self) -> u64 {
        self.current + self.mask
    }

    /// Whether a stone can still be dropped into `col` (ignoring game end).
    #[inline]
    pub fn column_open(&self, col: usize) -> bool {
        self.mask & top_bit(col) == 0
    }

    /// Stones of `player`.
    pub fn stones(&self, player: Player) -> u64 {
        if player == self.to_move() {
            self.current
        } else {
            self.current ^ self.mask
        }
    }

    /// Whether playing `col` wins at once for the player to move.
    pub fn is_winning_move(&self, col: usize) -> bool {
        let mine = self.current | ((self.mask + bottom_bit(col)) & column_bits(col));
        has_four(mine)
    }
}

impl Game for Connect4 {
    type Move = Column;
    /// At most one move per column.
    type Moves = ArrayVec<Column, WIDTH>;

    const NAME: &'static str = "connect4";
    const NUM_ACTIONS: usize = WIDTH;
    const SHAPE: Shape = Shape {
        planes: 4,
        height: HEIGHT,
        width: WIDTH,
    };
    const NUM_SYMMETRIES: usize = 2;
    const MAX_GAME_LENGTH: usize = WIDTH * HEIGHT;
    const NOTATION: &'static str = "a column digit 1-7";

    fn oracle() -> Option<Box<dyn az_game::Oracle<Self>>> {
        Some(Box::<Solver>::default())
    }

    fn new() -> Self {
        Connect4 {
            current: 0,
            mask: 0,
            ply: 0,
            outcome: None,
        }
    }

    #[inline]
    fn to_move(&self) -> Player {
        if self.ply % 2 == 0 {
            Player::First
        } else {
            Player::Second
        }
    }

    #[inline]
    fn ply(&self) -> usize {
        self.ply as usize
    }

    #[inline]
    fn legal_moves(&self) -> Self::Moves {
        let mut moves = ArrayVec::new();
        if self.outcome.is_none() {
            for col in 0..WIDTH {
                if self.column_open(col) {
                    // Capacity is WIDTH and there are WIDTH columns: never full.
                    moves.push(Column(col as u8));
                }
            }
        }
        moves
    }

    #[inline]
    fn is_legal(&self, mv: Column) -> bool {
        self.outcome.is_none() && (mv.0 as usize) < WIDTH && self.column_open(mv.0 as usize)
    }

    #[inline]
    fn apply_unchecked(&mut self, mv: Column) {
        debug_assert!(self.is_legal(mv), "illegal move {mv:?} in\n{self}");
        let col = mv.0 as usize;
        let mask = self.mask | (self.mask + bottom_bit(col));
        let mine = self.current | (mask ^ self.mask);
        let me = self.to_move();
        self.ply += 1;
        if has_four(mine) {
            self.outcome = Some(Outcome::Win(me));
        } else if self.ply as usize == WIDTH * HEIGHT {
            self.outcome = Some(Outcome::Draw);
        }
        self.current = mine ^ mask;
        self.mask = mask;
    }

    #[inline]
    fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }

    #[inline]
    fn position_hash(&self) -> u64 {
        az_game::mix64(self.key())
    }

    fn move_index(&self, mv: Column) -> usize {
        mv.0 as usize
    }

    fn index_move(&self, index: usize) -> Option<Column> {
        (index < WIDTH).then_some(Column(index as u8))
    }

    /// Four planes: the mover's stones, the opponent's, the board (all ones, so
    /// that convolutions see its edges against their zero padding), and the
    /// colour to play (all ones when the first player moves). The last is
    /// AlphaGo Zero's colour feature: in connect4 who moves first decides which
    /// threats win (odd against even rows), and a stack of 3 × 3 convolutions
    /// cannot count the stones to find it.
    fn encode(&self, out: &mut [f32]) {
        const CELLS: usize = HEIGHT * WIDTH;
        let (mine, rest) = out[..Self::SHAPE.len()].split_at_mut(CELLS);
        let (theirs, rest) = rest.split_at_mut(CELLS);
        let (board, colour) = rest.split_at_mut(CELLS);
        let (me, them) = (self.current, self.current ^ self.mask);
        // Plane row 0 is the top of the board; a fixed nest of loops (no division
        // per cell) lets the compiler unroll it: encoding is the self-play
        // worker's largest cost per leaf.
        for r in 0..HEIGHT {
            let row = HEIGHT - 1 - r;
            for col in 0..WIDTH {
                let bit = col * H1 + row;
                mine[r * WIDTH + col] = f32::from(u8::from(me >> bit & 1 == 1));
                theirs[r * WIDTH + col] = f32::from(u8::from(them >> bit & 1 == 1));
            }
        }
        // The third plane is the board itself (every cell playable): all ones.
        const { assert!(BOARD.count_ones() as usize == CELLS) };
        board.fill(1.0);
        colour.fill(f32::from(u8::from(self.to_move() == Player::First)));
    }

    /// The stones, in the planes' cell order (row 0 the top of the board).
    fn owners(&self, view: Player, out: &mut [f32]) -> bool {
        let (mine, theirs) = (self.stones(view), self.stones(view.other()));
        for r in 0..HEIGHT {
            let row = HEIGHT - 1 - r;
            for col in 0..WIDTH {
                let bit = col * H1 + row;
                out[r * WIDTH + col] = f32::from(u8::from(mine >> bit & 1 == 1))
                    - f32::from(u8::from(theirs >> bit & 1 == 1));
            }
        }
        true
    }

    fn symmetry(index: usize) -> Symmetry {
        match index {
            0 => Symmetry::identity(HEIGHT * WIDTH, WIDTH),
            _ => Symmetry {
                cells: mirror_columns(HEIGHT, WIDTH),
                actions: (0..WIDTH as u16).rev().collect(),
            },
        }
    }

    fn transformed(&self, index: usize) -> Self {
        if index == 0 {
            return *self;
        }
        let mirror = |bits: u64| {
            (0..WIDTH).fold(0, |m, c| {
                m | (bits >> (c * H1) & 0x7f) << ((WIDTH - 1 - c) * H1)
            })
        };
        Connect4 {
            current: mirror(self.current),
            mask: mirror(self.mask),
            ..*self
        }
    }

    fn parse_move_prefix(&self, text: &str) -> Result<(Column, usize), MoveError> {
        match text.as_bytes().first() {
            Some(d @ b'1'..=b'7') => Ok((Column(d - b'1'), 1)),
            _ => Err(MoveError::Parse {
                text: text.chars().take(1).collect(),
                expected: Self::NOTATION,
            }),
        }
    }

    fn write_move(&self, mv: Column, out: &mut dyn fmt::Write) -> fmt::Result {
        write!(out, "{}", mv.0 + 1)
    }
}

impl fmt::Display for Connect4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let first = self.stones(Player::First);
        for row in (0..HEIGHT).rev() {
            for col in 0..WIDTH {
                let bit = 1u64 << (col * H1 + row);
                let ch = match (self.mask & bit != 0, first & bit != 0) {
                    (false, _) => '.',
                    (true, true) => 'X',
                    (true, false) => 'O',
                };
                write!(f, "{ch} ")?;
            }
            writeln!(f)?;
        }
        writeln!(f, "1 2 3 4 5 6 7")?;
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
    fn encoding_has_the_mover_the_opponent_and_the_board_top_row_first() {
        // X (to move again) has columns 4 and 5 at the bottom, O the cells above.
        let p = Connect4::from_moves("4455").unwrap();
        let mut out = vec![-1.0; Connect4::SHAPE.len()];
        p.encode(&mut out);
        let ones = |plane: &[f32]| -> Vec<usize> { (0..42).filter(|&i| plane[i] == 1.0).collect() };
        assert!(
            out.iter().all(|&v| v == 0.0 || v == 1.0),
            "every value written"
        );
        // Plane row 5 is the bottom row: cells 5·7 + 3 and 5·7 + 4.
        assert_eq!(ones(&out[..42]), vec![38, 39]);
        assert_eq!(ones(&out[42..84]), vec![31, 32]);
        assert_eq!(ones(&out[84..126]), (0..42).collect::<Vec<_>>());
        // Four stones down: the first player is to move.
        assert_eq!(ones(&out[126..]), (0..42).collect::<Vec<_>>());
        // After O's reply the planes swap: the mover's stones come first.
        let q = Connect4::from_moves("44556").unwrap();
        q.encode(&mut out);
        assert_eq!(ones(&out[..42]), vec![31, 32]);
        assert_eq!(ones(&out[42..84]), vec![38, 39, 40]);
        assert_eq!(
            ones(&out[126..]),
            Vec::<usize>::new(),
            "the second player moves"
        );
    }

    #[test]
    fn four_in_a_row_in_every_direction() {
        // vertical, horizontal, diagonal "/", diagonal "\" (the mirror of "/")
        for line in ["1212121", "1122334", "12233434474", "76655454414"] {
            let p = Connect4::from_moves(line).unwrap();
            assert_eq!(
                p.outcome(),
                Some(Outcome::Win(Player::First)),
                "{line}\n{p}"
            );
            let before = Connect4::from_moves(&line[..line.len() - 1]).unwrap();
            assert_eq!(before.outcome(), None, "{line}");
        }
    }

    #[test]
    fn full_column_is_illegal_and_board_fills_to_a_draw() {
        let p = Connect4::from_moves("111111").unwrap();
        assert!(!p.is_legal(Column(0)));
        let err = Connect4::from_moves("1111111").unwrap_err();
        assert_eq!(err.number, 7);
        assert!(err.to_string().contains("illegal move 1"), "{err}");
        // A full board with no four in a row (found by a random search).
        let draw = "757341132773575647262416323134652254654611";
        let p = Connect4::from_moves(draw).unwrap();
        assert_eq!(p.outcome(), Some(Outcome::Draw), "\n{p}");
    }

    #[test]
    fn bad_notation_names_the_move() {
        let err = Connect4::from_moves("44x5").unwrap_err();
        assert_eq!(err.number, 3);
        assert!(err.to_string().contains("1-7"), "{err}");
        assert!(Connect4::from_moves("8").is_err());
        assert!(Connect4::from_moves("0").is_err());
    }

    #[test]
    fn winning_move_detection() {
        let p = Connect4::from_moves("121212").unwrap();
        assert!(p.is_winning_move(0));
        assert!(!p.is_winning_move(1));
    }
}

#[cfg(test)]
mod size {
    /// Searches clone positions per simulation: keep them to three words.
    #[test]
    fn position_is_small() {
        assert!(size_of::<super::Connect4>() <= 24);
        assert_eq!(size_of::<super::Column>(), 1);
    }
}
