//! The `az` command line: argument types and the commands behind them.
//!
//! The binary (`src/main.rs`) only parses arguments and maps errors to exit codes;
//! everything else lives here so benches and tests can call it.

pub mod allocator;
pub mod backend;
pub mod commands;
pub mod error;
pub mod experiments;
pub mod games;
