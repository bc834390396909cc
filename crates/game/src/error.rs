use crate::Game;

/// A move that could not be read or played.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MoveError {
    /// The text is not a move in the game's notation.
    #[error("cannot read {text:?} as a move: expected {expected}")]
    Parse {
        /// The offending text.
        text: String,
        /// The notation, in words.
        expected: &'static str,
    },
    /// The move is well formed but not legal in this position.
    #[error("illegal move {mv}: legal moves here are {legal}")]
    Illegal {
        /// The move as written.
        mv: String,
        /// The legal moves, space separated.
        legal: String,
    },
    /// The game is already over; no move is legal.
    #[error("move {mv} comes after the end of the game ({outcome})")]
    GameOver {
        /// The move as written.
        mv: String,
        /// How the game ended.
        outcome: crate::Outcome,
    },
}

/// An illegal move passed to [`Game::apply`]; the position comes back unchanged.
#[derive(Clone, Debug, thiserror::Error)]
#[error("illegal move {mv:?}")]
pub struct IllegalMove<G: Game> {
    /// The move that was refused.
    pub mv: G::Move,
    /// The position it was refused in.
    pub position: G,
}

/// A line of moves that does not describe a position.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("move {number} ({text:?}) of {line:?}: {source}")]
pub struct PositionError {
    /// The whole line that was read.
    pub line: String,
    /// 1-based number of the move that failed.
    pub number: usize,
    /// The text of that move (or of what follows, if it could not be read).
    pub text: String,
    /// Why it failed.
    #[source]
    pub source: MoveError,
}
