//! The game registry: every game the `az` binary knows, by name.
//!
//! Adding a game is one line in [`for_each_game!`] (plus its crate as a
//! dependency); `az new-game NAME` writes both. Commands that work on any game
//! implement [`GameVisitor`] and are handed the concrete type by [`with_game`].

use crate::error::BadInput;
use az_game::{Board, Game};

/// Calls `$callback!` with the type of every registered game.
#[macro_export]
macro_rules! for_each_game {
    ($callback:ident) => {
        $callback! {
            az_tictactoe::TicTacToe,
            az_connect4::Connect4,
            az_othello::Othello,
            // az new-game inserts games above this line
        }
    };
}

/// Something to do with a game whose type is known only at run time.
pub trait GameVisitor {
    /// What the visit returns.
    type Output;
    /// Does it for game `G` (every registered game also says how its board is
    /// drawn: [`Board`]).
    fn visit<G: Board>(self) -> Self::Output;
}

/// What the registry tells of one game.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GameInfo {
    /// Registry name.
    pub name: &'static str,
    /// Policy size.
    pub actions: usize,
    /// Encoding planes × height × width.
    pub shape: az_game::Shape,
    /// Board symmetries.
    pub symmetries: usize,
    /// Move notation.
    pub notation: &'static str,
}

macro_rules! infos {
    ($($ty:ty),* $(,)?) => {
        vec![$(GameInfo {
            name: <$ty as Game>::NAME,
            actions: <$ty as Game>::NUM_ACTIONS,
            shape: <$ty as Game>::SHAPE,
            symmetries: <$ty as Game>::NUM_SYMMETRIES,
            notation: <$ty as Game>::NOTATION,
        }),*]
    };
}

/// Every registered game, in registration order.
pub fn all() -> Vec<GameInfo> {
    for_each_game!(infos)
}

/// Registered game names.
pub fn names() -> Vec<&'static str> {
    all().into_iter().map(|g| g.name).collect()
}

/// Runs `visitor` with the game called `name`.
///
/// # Errors
/// [`BadInput`] naming the unknown game and listing the known ones.
pub fn with_game<V: GameVisitor>(name: &str, visitor: V) -> Result<V::Output, BadInput> {
    macro_rules! dispatch {
        ($($ty:ty),* $(,)?) => {
            $(if name == <$ty as Game>::NAME {
                return Ok(visitor.visit::<$ty>());
            })*
        };
    }
    for_each_game!(dispatch);
    Err(BadInput(format!(
        "unknown game {name:?}; known games: {}",
        names().join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_dispatch_finds_each() {
        let names = names();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(
            sorted.len(),
            names.len(),
            "two games share a name: {names:?}"
        );
        struct Name;
        impl GameVisitor for Name {
            type Output = &'static str;
            fn visit<G: Game>(self) -> &'static str {
                G::NAME
            }
        }
        for n in names {
            assert_eq!(with_game(n, Name).unwrap(), n);
        }
        let err = with_game("nosuchgame", Name).unwrap_err().to_string();
        assert!(
            err.contains("nosuchgame") && err.contains("connect4"),
            "{err}"
        );
    }
}
