//! One module per `az` subcommand.

pub mod bench;
pub mod list;
pub mod new_game;
pub mod perft;
pub mod run;
pub mod solve;
