//! One module per `az` subcommand.

pub mod agent;
pub mod analyze;
pub mod bench;
pub mod eval;
pub mod list;
pub mod new_game;
pub mod perft;
pub mod play;
pub mod run;
pub mod solve;
