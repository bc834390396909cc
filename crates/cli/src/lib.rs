//! The `az` command line: argument types and the commands behind them.
//!
//! The binary (`src/main.rs`) only parses arguments and maps errors to exit codes;
//! everything else lives here so benches and tests can call it.
//!
//! # Feature flags
//! The Burn backends the binary is built with; a manifest's `model.device`
//! picks one at run time ([`backend`]), and this crate is the only one that
//! chooses.
//! - `flex` (default): the CPU, Burn's flex backend with az's own board kernels
//!   (`device = "cpu"`).
//! - `cuda`: NVIDIA GPUs (`device = "cuda"`); building it downloads an LLVM
//!   bundle, CI type-checks it offline with `DOCS_RS=1`.

pub mod allocator;
pub mod backend;
pub mod bench;
pub mod commands;
pub mod error;
pub mod experiments;
pub mod games;
pub mod target;
