#![doc = include_str!("../README.md")]

mod board;
mod error;
mod notation;
mod oracle;
mod outcome;
mod perft;
mod playout;
mod symmetry;
pub mod testkit;

pub use board::{Board, Piece};
pub use error::{IllegalMove, MoveError, PositionError};
pub use oracle::{Oracle, optimal_moves, result_of};
pub use outcome::{Outcome, Player};
pub use perft::{perft, perft_divide};
pub use playout::random_playout;
pub use symmetry::{Symmetry, dihedral_square, mirror_columns};

use std::fmt::{Debug, Display};
use std::hash::Hash;
use std::ops::Deref;

/// Shape of a game's network input: `planes × height × width` `f32`s, row-major.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Number of feature planes.
    pub planes: usize,
    /// Board rows.
    pub height: usize,
    /// Board columns.
    pub width: usize,
}

impl Shape {
    /// Number of cells of one plane.
    pub const fn cells(&self) -> usize {
        self.height * self.width
    }

    /// Number of `f32`s of one encoded position.
    pub const fn len(&self) -> usize {
        self.planes * self.height * self.width
    }

    /// Whether the encoding holds no value at all.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A two-player, zero-sum, perfect-information game position.
///
/// One value of the implementing type is one position (the game state after some
/// moves, with the player to move). The trait bundles three concerns that a search
/// and a learner need, kept as separate groups of methods:
///
/// - **rules**: [`to_move`](Game::to_move), [`legal_moves`](Game::legal_moves),
///   [`apply_unchecked`](Game::apply_unchecked), [`outcome`](Game::outcome);
/// - **policy mapping**: [`move_index`](Game::move_index) and
///   [`index_move`](Game::index_move) over `0..NUM_ACTIONS`;
/// - **tensor encoding**: [`encode`](Game::encode) into a caller's buffer of
///   [`SHAPE`](Game::SHAPE), always from the view of the player to move, and the
///   board [`symmetry`](Game::symmetry) group acting on encoding and policy together.
///
/// # Passes
/// A game whose player may have no move but the game goes on (othello) lists a
/// pass move as the only legal move; [`legal_moves`](Game::legal_moves) is empty
/// exactly when the game is over.
///
/// # Examples
/// A whole game: one-pile Nim, ten stones, take one or two, whoever takes the
/// last stone wins. (`az new-game NAME` writes such a crate for you, registered
/// and passing the conformance kit.)
/// ```
/// use az_game::{Game, MoveError, Outcome, Player, Shape, Symmetry};
/// use std::fmt;
///
/// #[derive(Copy, Clone, Debug, PartialEq, Eq)]
/// struct Nim {
///     stones: u8,
///     ply: u8,
/// }
///
/// impl fmt::Display for Nim {
///     fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
///         write!(f, "{} stones, {} to move", self.stones, self.to_move())
///     }
/// }
///
/// impl Game for Nim {
///     type Move = u8; // stones taken
///     type Moves = Vec<u8>; // real games use an ArrayVec: no allocation per call
///     const NAME: &'static str = "nim";
///     const NUM_ACTIONS: usize = 2; // policy index = stones taken - 1
///     const SHAPE: Shape = Shape { planes: 1, height: 1, width: 10 };
///     const MAX_GAME_LENGTH: usize = 10;
///     const NOTATION: &'static str = "the stones taken, 1 or 2";
///
///     fn new() -> Self {
///         Nim { stones: 10, ply: 0 }
///     }
///     fn to_move(&self) -> Player {
///         if self.ply % 2 == 0 { Player::First } else { Player::Second }
///     }
///     fn ply(&self) -> usize {
///         usize::from(self.ply)
///     }
///     fn legal_moves(&self) -> Vec<u8> {
///         (1..=self.stones.min(2)).collect()
///     }
///     fn apply_unchecked(&mut self, mv: u8) {
///         debug_assert!(self.is_legal(mv));
///         self.stones -= mv;
///         self.ply += 1;
///     }
///     fn outcome(&self) -> Option<Outcome> {
///         // The player who took the last stone is the one not to move now.
///         (self.stones == 0).then(|| Outcome::Win(self.to_move().other()))
///     }
///     fn position_hash(&self) -> u64 {
///         az_game::mix64(u64::from(self.stones) << 1 | u64::from(self.ply % 2))
///     }
///     fn move_index(&self, mv: u8) -> usize {
///         usize::from(mv) - 1
///     }
///     fn index_move(&self, index: usize) -> Option<u8> {
///         (index < 2).then(|| index as u8 + 1)
///     }
///     fn encode(&self, out: &mut [f32]) {
///         // One plane of ten cells: a 1 for each stone left.
///         for (i, x) in out[..10].iter_mut().enumerate() {
///             *x = if i < usize::from(self.stones) { 1.0 } else { 0.0 };
///         }
///     }
///     fn symmetry(_index: usize) -> Symmetry {
///         Symmetry::identity(10, 2)
///     }
///     fn transformed(&self, _index: usize) -> Self {
///         *self
///     }
///     fn parse_move_prefix(&self, text: &str) -> Result<(u8, usize), MoveError> {
///         match text.as_bytes().first() {
///             Some(b'1') => Ok((1, 1)),
///             Some(b'2') => Ok((2, 1)),
///             _ => Err(MoveError::Parse { text: text.to_owned(), expected: Self::NOTATION }),
///         }
///     }
///     fn write_move(&self, mv: u8, out: &mut dyn fmt::Write) -> fmt::Result {
///         write!(out, "{mv}")
///     }
/// }
///
/// let p = Nim::from_moves("2 2 1").unwrap();
/// assert_eq!((p.stones, p.to_move()), (5, Player::Second));
/// assert!(p.parse_move("3").is_err());
/// assert_eq!(p.legal_moves(), vec![1, 2]);
/// let end = Nim::from_moves("22222").unwrap();
/// assert_eq!(end.outcome(), Some(Outcome::Win(Player::First)));
/// ```
pub trait Game: Clone + Debug + Display + PartialEq + Eq + Send + Sync + 'static {
    /// One move. Small and `Copy`: searches store one per tree edge.
    type Move: Copy + Debug + PartialEq + Eq + Hash + Send + Sync + 'static;
    /// Fixed-capacity list of moves (an `ArrayVec` sized to the game's worst case),
    /// so generating moves never allocates.
    type Moves: Clone + Debug + Default + Deref<Target = [Self::Move]> + Send;

    /// Registry name: lower case, used on the command line (`az perft connect4 8`).
    const NAME: &'static str;
    /// Size of the policy vector; [`move_index`](Game::move_index) maps into `0..NUM_ACTIONS`.
    const NUM_ACTIONS: usize;
    /// Shape of [`encode`](Game::encode)'s output.
    const SHAPE: Shape;
    /// Number of board symmetries, the identity (index 0) included.
    const NUM_SYMMETRIES: usize = 1;
    /// Upper bound on the number of moves of one game (passes included).
    const MAX_GAME_LENGTH: usize;

    /// The initial position.
    fn new() -> Self;

    /// The player to move.
    fn to_move(&self) -> Player;

    /// Number of moves played from the initial position.
    fn ply(&self) -> usize;

    /// Legal moves of this position; empty if and only if the game is over.
    fn legal_moves(&self) -> Self::Moves;

    /// Plays `mv` without checking it.
    ///
    /// # Panics
    /// May panic, or leave a meaningless position, if `mv` is not legal here.
    /// Debug builds check with `debug_assert!`.
    fn apply_unchecked(&mut self, mv: Self::Move);

    /// The result once the game is over, `None` while it goes on.
    fn outcome(&self) -> Option<Outcome>;

    /// Whether the game is over.
    fn is_terminal(&self) -> bool {
        self.outcome().is_some()
    }

    /// Whether `mv` is legal here. The default scans [`legal_moves`](Game::legal_moves).
    fn is_legal(&self, mv: Self::Move) -> bool {
        self.legal_moves().contains(&mv)
    }

    /// Plays `mv` if it is legal; otherwise gives the position back in the error.
    ///
    /// # Errors
    /// [`IllegalMove`] holding the move and the unchanged position.
    fn apply(mut self, mv: Self::Move) -> Result<Self, IllegalMove<Self>> {
        if self.is_legal(mv) {
            self.apply_unchecked(mv);
            Ok(self)
        } else {
            Err(IllegalMove { mv, position: self })
        }
    }

    /// A 64-bit hash of the position (the player to move included), equal for
    /// equal positions, for evaluation caches and transposition tables. Its bits
    /// must be well mixed (all of them, high ones included: az's cache indexes
    /// by the high bits), as [`mix64`] of a packed key gives.
    fn position_hash(&self) -> u64;

    /// Index of `mv` in the policy vector, in `0..NUM_ACTIONS`.
    fn move_index(&self, mv: Self::Move) -> usize;

    /// The move with policy index `index` in this position, if the index names one.
    fn index_move(&self, index: usize) -> Option<Self::Move>;

    /// Writes the network input, from the view of the player to move, into
    /// `out[..SHAPE.len()]` as `planes × height × width` row-major.
    ///
    /// # Panics
    /// If `out` is shorter than `SHAPE.len()`.
    fn encode(&self, out: &mut [f32]);

    /// Board symmetry number `index` (`0..NUM_SYMMETRIES`; 0 is the identity):
    /// how it moves encoding cells and policy entries.
    fn symmetry(index: usize) -> Symmetry;

    /// This position transformed by symmetry `index`: same value, same player to
    /// move, board (and moves) mapped as [`symmetry`](Game::symmetry) says.
    fn transformed(&self, index: usize) -> Self;

    /// Parses the first move at the start of `text` (no leading white space) and
    /// returns it with the number of bytes it used. Legality is not checked.
    ///
    /// # Errors
    /// [`MoveError::Parse`] naming the text and the notation expected.
    fn parse_move_prefix(&self, text: &str) -> Result<(Self::Move, usize), MoveError>;

    /// Writes `mv` in the game's notation, as [`parse_move_prefix`](Game::parse_move_prefix) reads it.
    fn write_move(&self, mv: Self::Move, out: &mut dyn std::fmt::Write) -> std::fmt::Result;

    /// One line describing the move notation, for error messages and help.
    const NOTATION: &'static str;

    /// Parses exactly one move and checks that it is legal here.
    ///
    /// # Errors
    /// A parse error, trailing text, or [`MoveError::Illegal`] listing the legal moves.
    fn parse_move(&self, text: &str) -> Result<Self::Move, MoveError> {
        notation::parse_one(self, text)
    }

    /// `mv` in the game's notation.
    fn format_move(&self, mv: Self::Move) -> String {
        let mut s = String::new();
        self.write_move(mv, &mut s)
            .expect("writing to a String cannot fail");
        s
    }

    /// The position reached from the initial one by a line of moves in the game's
    /// notation (`4455` in connect4, `f5d6c3` in othello; white space and commas
    /// between moves are allowed).
    ///
    /// # Errors
    /// [`PositionError`] naming the move number, its text and why it failed.
    fn from_moves(line: &str) -> Result<Self, PositionError> {
        notation::play_line(Self::new(), line)
    }
    /// An exact solver for this game, if it has one (used as the perfect
    /// opponent and to measure mistakes). `None` by default.
    fn oracle() -> Option<Box<dyn Oracle<Self>>> {
        None
    }

    /// Who holds each cell of this position, seen from `view`: writes 1.0 for
    /// `view`'s cells, -1.0 for the other player's and 0.0 for empty ones into
    /// `out[..height × width]`, in the cell order of [`encode`](Game::encode)'s
    /// planes, and returns `true`. Read on a game's last position it is the
    /// ownership target of an auxiliary network head (KataGo's ownership: many
    /// numbers per game where the value gets one). Games without cells owned by
    /// one player return `false` and leave `out` alone: the default.
    ///
    /// # Panics
    /// If `out` is shorter than `SHAPE.cells()`.
    fn owners(&self, view: Player, out: &mut [f32]) -> bool {
        let _ = (view, out);
        false
    }
}

/// A 64-bit finaliser (the SplitMix64 mix) that spreads a position key over all
/// bits; games use it to turn their bitboards into [`Game::position_hash`].
#[inline]
pub const fn mix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}
