//! `az serve`: the agent in the browser. A small HTTP server (tiny_http, on
//! loopback by default) and one page, built into the binary, that plays and
//! analyses every registered game through its [`Board`](az_game::Board): play
//! against the agent as either side, undo, new game, the search shown on the
//! board as it runs, an analysis mode, and a running `az run`'s newest
//! checkpoint with the run's headline numbers.
//!
//! The server keeps no game state: each request carries the moves so far, so
//! any number of pages can play at once and a restart loses nothing.

mod api;
mod http;
mod run_view;
mod weights;

use crate::error::BadInput;
use crate::games::{GameVisitor, with_game};
use crate::target::resolve;
use az_game::Board;
use std::sync::Arc;

/// Arguments of `az serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// A run directory (its newest checkpoint, followed as the run writes new
    /// ones) or a checkpoint file in one.
    pub target: String,
    /// TCP port (0: any free one; the address is printed on the first line).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to listen on (loopback by default; 0.0.0.0 opens it to the network).
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: String,
    /// Simulations per move of the agent (default: the run's `mcts.simulations`).
    #[arg(long)]
    pub simulations: Option<u32>,
    /// Requests served at once (searches beyond wait their turn).
    #[arg(long, default_value_t = 8)]
    pub threads: usize,
    /// Override a manifest value: `--set section.key=value` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
}

struct Visit<'a> {
    args: &'a ServeArgs,
    target: crate::target::Target,
}

impl GameVisitor for Visit<'_> {
    type Output = Result<String, BadInput>;

    fn visit<G: Board>(self) -> Result<String, BadInput> {
        let args = self.args;
        if args.threads == 0 {
            return Err(BadInput("--threads must be at least 1".to_owned()));
        }
        let weights = weights::Weights::open::<G>(&args.target, self.target)?;
        let config = az_run::agent_config(&weights.exp, args.simulations);
        let addr = format!("{}:{}", args.bind, args.port);
        let server = tiny_http::Server::http(&addr)
            .map_err(|e| BadInput(format!("az serve: cannot listen on {addr}: {e}")))?;
        let state = Arc::new(api::State {
            weights,
            config,
            run: run_view::RunView::default(),
        });
        let url = match server.server_addr().to_ip() {
            Some(a) => format!("http://{a}/"),
            None => format!("http://{addr}/"),
        };
        println!(
            "az serve: {url} ({}, {})",
            G::NAME,
            state.weights.describe()
        );
        // The first line is the address (for scripts with --port 0).
        use std::io::Write;
        let _ = std::io::stdout().flush();
        http::serve::<G>(&server, &state, args.threads);
        Ok(String::new())
    }
}

/// Runs `az serve` until the process is stopped.
///
/// # Errors
/// [`BadInput`] for a bad target or an address it cannot listen on.
pub fn run(args: &ServeArgs) -> Result<String, BadInput> {
    let target = resolve(&args.target, &args.overrides)?;
    let game = target.exp.manifest.game.name.clone();
    with_game(&game, Visit { args, target })?
}
