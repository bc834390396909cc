//! Othello for az, on 8×8 bitboards, with the standard rules: a move must flip at
//! least one disc; a player with no such move passes; the game ends when neither
//! player can move, and the player with more discs wins.
//!
//! # Layout and notation
//! Bit `8 * row + col` is the square in column `a`..`h` (`col` 0..8) and row
//! `1`..`8` (`row` 0..8) from the top, so `a1` is bit 0 and `h8` bit 63. Moves are
//! written `f5`, passes `pass`; a game is a line such as `f5d6c3`. Black (the
//! first player) starts, with white on d4 and e5, black on d5 and e4.

use arrayvec::ArrayVec;
use az_game::{Game, MoveError, Outcome, Player, Shape, Symmetry, dihedral_square};
use std::fmt;

mod board;

/// Policy index and move code of a pass.
pub const PASS: u8 = 64;

const NOT_A: u64 = 0xfefe_fefe_fefe_fefe;
const NOT_H: u64 = 0x7f7f_7f7f_7f7f_7f7f;

/// The eight directions as (shift, mask applied after shifting): shifting left by
/// `s` moves towards higher bits; the mask drops discs that wrapped around a row.
const DIRS: [(i32, u64); 8] = [
    (1, NOT_A),  // east
    (-1, NOT_H), // west
    (8, !0),     // south
    (-8, !0),    // north
    (9, NOT_A),  // south-east
    (7, NOT_H),  // south-west
    (-7, NOT_A), // north-east
    (-9, NOT_H), // north-west
];

#[inline]
const fn shift(b: u64, s: i32, mask: u64) -> u64 {
    (if s > 0 { b << s } else { b >> -s }) & mask
}

/// Squares where the player owning `me` may move against `opp`.
#[inline]
pub fn legal_squares(me: u64, opp: u64) -> u64 {
    let empty = !(me | opp);
    let mut moves = 0;
    let mut d = 0;
    while d < 8 {
        let (s, mask) = DIRS[d];
        let mut x = shift(me, s, mask) & opp;
        let mut i = 0;
        while i < 5 {
            x |= shift(x, s, mask) & opp;
            i += 1;
        }
        moves |= shift(x, s, mask) & empty;
        d += 1;
    }
    moves
}

/// Discs of `opp` flipped when the owner of `me` plays on square `sq`.
#[inline]
pub fn flips(me: u64, opp: u64, sq: u8) -> u64 {
    let start = 1u64 << sq;
    let mut flipped = 0;
    for (s, mask) in DIRS {
        let mut line = 0;
        let mut x = shift(start, s, mask);
        while x & opp != 0 {
            line |= x;
            x = shift(x, s, mask);
        }
        if x & me != 0 {
            flipped |= line;
        }
    }
    flipped
}

/// A square `0..64` (see the crate docs) or [`PASS`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Move(pub u8);

/// An othello position.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Othello {
    /// Discs of the player to move.
    me: u64,
    /// Discs of the other player.
    opp: u64,
    ply: u8,
    /// Moves available to the player to move (0 with `must_pass`, or at the end).
    moves: u64,
    /// The player to move has no move but the opponent has: the only move is a pass.
    must_pass: bool,
    outcome: Option<Outcome>,
}

impl Othello {
    /// A position from the discs of each player and the player to move.
    ///
    /// `ply` only affects who is shown to move; it must be even when `to_move` is
    /// [`Player::First`] and odd otherwise.
    pub fn from_discs(first: u64, second: u64, ply: u8) -> Othello {
        let (me, opp) = if ply % 2 == 0 {
            (first, second)
        } else {
            (second, first)
        };
        let mut p = Othello {
            me,
            opp,
            ply,
            moves: 0,
            must_pass: false,
            outcome: None,
        };
        p.refresh();
        p
    }

    /// Discs of `player`.
    pub fn discs(&self, player: Player) -> u64 {
        if player == self.to_move() {
            self.me
        } else {
            self.opp
        }
    }

    /// Recomputes the cached move set, pass flag and outcome.
    #[inline]
    fn refresh(&mut self) {
        self.moves = legal_squares(self.me, self.opp);
        self.must_pass = false;
        self.outcome = None;
        if self.moves == 0 {
            if legal_squares(self.opp, self.me) != 0 {
                self.must_pass = true;
            } else {
                let (first, second) = (
                    self.discs(Player::First).count_ones(),
                    self.discs(Player::Second).count_ones(),
                );
                self.outcome = Some(match first.cmp(&second) {
                    std::cmp::Ordering::Greater => Outcome::Win(Player::First),
                    std::cmp::Ordering::Less => Outcome::Win(Player::Second),
                    std::cmp::Ordering::Equal => Outcome::Draw,
                });
            }
        }
    }
}

fn transform_bits(bits: u64, cells: &[u16]) -> u64 {
    (0..64)
        .filter(|&c| bits >> c & 1 == 1)
        .fold(0, |m, c| m | 1 << cells[c])
}

impl Game for Othello {
    type Move = Move;
    /// At most 60 empty squares, so at most 60 moves (or the single pass).
    type Moves = ArrayVec<Move, 60>;

    const NAME: &'static str = "othello";
    const NUM_ACTIONS: usize = 65;
    const SHAPE: Shape = Shape {
        planes: 3,
        height: 8,
        width: 8,
    };
    const NUM_SYMMETRIES: usize = 8;
    /// 60 discs placed, and at most one pass between placements that keeps the game going.
    const MAX_GAME_LENGTH: usize = 120;
    const NOTATION: &'static str = "a square a1..h8 (column a-h, row 1-8 from the top) or pass";

    fn new() -> Self {
        // Black (first) on d5 and e4, white on d4 and e5.
        let white = 1 << 27 | 1 << 36;
        let black = 1 << 28 | 1 << 35;
        Othello::from_discs(black, white, 0)
    }

    #[inline]
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

    #[inline]
    fn legal_moves(&self) -> Self::Moves {
        let mut list = ArrayVec::new();
        if self.must_pass {
            list.push(Move(PASS));
        }
        let mut m = self.moves;
        while m != 0 {
            list.push(Move(m.trailing_zeros() as u8));
            m &= m - 1;
        }
        list
    }

    #[inline]
    fn is_legal(&self, mv: Move) -> bool {
        if mv.0 == PASS {
            self.must_pass
        } else {
            mv.0 < 64 && self.moves >> mv.0 & 1 == 1
        }
    }

    #[inline]
    fn apply_unchecked(&mut self, mv: Move) {
        debug_assert!(self.is_legal(mv), "illegal move {mv:?} in\n{self}");
        if mv.0 != PASS {
            let f = flips(self.me, self.opp, mv.0);
            self.me |= f | 1 << mv.0;
            self.opp &= !f;
        }
        std::mem::swap(&mut self.me, &mut self.opp);
        self.ply += 1;
        self.refresh();
    }

    #[inline]
    fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }

    fn position_hash(&self) -> u64 {
        // The ply is part of `==` (passes can repeat a board with another ply).
        let ply = u64::from(self.ply);
        az_game::mix64(az_game::mix64(self.me ^ ply) ^ self.opp.rotate_left(17))
    }

    fn move_index(&self, mv: Move) -> usize {
        mv.0 as usize
    }

    fn index_move(&self, index: usize) -> Option<Move> {
        (index <= PASS as usize).then_some(Move(index as u8))
    }

    fn encode(&self, out: &mut [f32]) {
        for (plane, bits) in out[..192].chunks_exact_mut(64).zip([self.me, self.opp, !0]) {
            for (sq, v) in plane.iter_mut().enumerate() {
                *v = f32::from(u8::from(bits >> sq & 1 == 1));
            }
        }
    }

    /// The discs: the final position's are the game's score, square by square.
    fn owners(&self, view: Player, out: &mut [f32]) -> bool {
        let (mine, theirs) = match view == self.to_move() {
            true => (self.me, self.opp),
            false => (self.opp, self.me),
        };
        for (sq, v) in out[..64].iter_mut().enumerate() {
            *v = f32::from(u8::from(mine >> sq & 1 == 1))
                - f32::from(u8::from(theirs >> sq & 1 == 1));
        }
        true
    }

    fn symmetry(index: usize) -> Symmetry {
        let cells = dihedral_square(8).swap_remove(index);
        let mut actions = cells.clone();
        actions.push(u16::from(PASS));
        Symmetry { cells, actions }
    }

    fn transformed(&self, index: usize) -> Self {
        let cells = &dihedral_square(8)[index];
        Othello {
            me: transform_bits(self.me, cells),
            opp: transform_bits(self.opp, cells),
            moves: transform_bits(self.moves, cells),
            ..*self
        }
    }

    fn parse_move_prefix(&self, text: &str) -> Result<(Move, usize), MoveError> {
        let lower = text.get(..4).map(str::to_ascii_lowercase);
        if lower.as_deref() == Some("pass") {
            return Ok((Move(PASS), 4));
        }
        match text.as_bytes() {
            [col, row @ b'1'..=b'8', ..] if matches!(col.to_ascii_lowercase(), b'a'..=b'h') => {
                Ok((
                    Move((row - b'1') * 8 + (col.to_ascii_lowercase() - b'a')),
                    2,
                ))
            }
            _ => Err(MoveError::Parse {
                text: text.chars().take(2).collect(),
                expected: Self::NOTATION,
            }),
        }
    }

    fn write_move(&self, mv: Move, out: &mut dyn fmt::Write) -> fmt::Result {
        if mv.0 == PASS {
            out.write_str("pass")
        } else {
            write!(out, "{}{}", (b'a' + mv.0 % 8) as char, mv.0 / 8 + 1)
        }
    }
}

impl fmt::Display for Othello {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let black = self.discs(Player::First);
        let white = self.discs(Player::Second);
        writeln!(f, "  a b c d e f g h")?;
        for row in 0..8 {
            write!(f, "{}", row + 1)?;
            for col in 0..8 {
                let sq = row * 8 + col;
                let ch = if black >> sq & 1 == 1 {
                    'X'
                } else if white >> sq & 1 == 1 {
                    'O'
                } else if self.moves >> sq & 1 == 1 {
                    '*'
                } else {
                    '.'
                };
                write!(f, " {ch}")?;
            }
            writeln!(f)?;
        }
        let (b, w) = (black.count_ones(), white.count_ones());
        match self.outcome {
            Some(o) => write!(f, "X {b} O {w}: {o}"),
            None => {
                let who = if self.to_move() == Player::First {
                    'X'
                } else {
                    'O'
                };
                write!(
                    f,
                    "X {b} O {w}: {who} to move{}",
                    if self.must_pass { " (must pass)" } else { "" }
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_moves_and_flips() {
        let p = Othello::new();
        let names: Vec<String> = p.legal_moves().iter().map(|&m| p.format_move(m)).collect();
        assert_eq!(names, ["d3", "c4", "f5", "e6"]);
        let p = Othello::from_moves("f5").unwrap();
        assert_eq!(p.discs(Player::First).count_ones(), 4);
        assert_eq!(p.discs(Player::Second).count_ones(), 1);
    }

    #[test]
    fn shortest_game_ends_with_a_wipe_out() {
        // Nine moves, the shortest possible game, after which white has no disc
        // left (the first such line in move order, found by a depth-9 search).
        let p = Othello::from_moves("d3c3b3d2e1d6d7e3f4").unwrap();
        assert_eq!(p.outcome(), Some(Outcome::Win(Player::First)), "\n{p}");
        assert_eq!(p.discs(Player::Second), 0);
    }

    #[test]
    fn forced_pass_is_the_only_move() {
        // Black on a1 and a2, white on b1, white to move: every line from an empty
        // square through a black disc runs off the board, so white must pass, and
        // black can then take b1 by playing c1.
        let black = 1 << 0 | 1 << 8;
        let white = 1 << 1;
        let p = Othello::from_discs(black, white, 1);
        assert_eq!(p.legal_moves().as_slice(), [Move(PASS)], "\n{p}");
        let after = p.apply(Move(PASS)).unwrap();
        assert_eq!(after.to_move(), Player::First);
        assert!(after.is_legal(Move(2)), "\n{after}");
        assert!(Othello::new().apply(Move(PASS)).is_err());
    }

    #[test]
    fn bad_notation_names_the_move() {
        let err = Othello::from_moves("f5 z9").unwrap_err();
        assert_eq!(err.number, 2);
        assert!(err.to_string().contains("a1..h8"), "{err}");
        let err = Othello::from_moves("a1").unwrap_err();
        assert!(err.to_string().contains("d3 c4 f5 e6"), "{err}");
    }
}

#[cfg(test)]
mod size {
    /// Searches clone positions per simulation: keep them to four words.
    #[test]
    fn position_is_small() {
        assert!(size_of::<super::Othello>() <= 32);
        assert_eq!(size_of::<super::Move>(), 1);
    }
}
