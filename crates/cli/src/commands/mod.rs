//! One module per `az` subcommand.

pub mod analyze;
pub mod cluster;
pub mod eval;
pub mod export;
pub mod list;
pub mod mistakes;
pub mod new_game;
pub mod perft;
pub mod play;
pub mod run;
pub mod serve;
pub mod solve;

/// A position given on line `index` (0-based) of stdin in the game's notation;
/// an empty line is the initial position.
///
/// # Errors
/// [`BadInput`](crate::error::BadInput) naming the line number and the move.
pub fn stdin_position<G: az_game::Game>(
    index: usize,
    line: &str,
) -> Result<G, crate::error::BadInput> {
    G::from_moves(line.trim())
        .map_err(|e| crate::error::BadInput(format!("stdin line {}: {e}", index + 1)))
}
