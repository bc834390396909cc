//! `az perft <game> <depth>`: count move sequences, the move generator's check.

use crate::error::BadInput;
use crate::games::{GameVisitor, with_game};
use az_game::{Game, perft, perft_divide};
use std::time::Instant;

/// Arguments of `az perft`.
#[derive(Debug, clap::Args)]
pub struct PerftArgs {
    /// Game name (see `az list`).
    pub game: String,
    /// Number of moves (plies) to look ahead, 0 or more.
    #[arg(value_parser = parse_depth, allow_negative_numbers = true)]
    pub depth: u32,
    /// Start from the position after these moves, in the game's notation (e.g. `4455`).
    #[arg(long, default_value = "")]
    pub moves: String,
    /// Also print the count below each first move.
    #[arg(long)]
    pub divide: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Largest depth accepted; deeper counts overflow `u64` in any real game anyway.
const MAX_DEPTH: i64 = 64;

fn parse_depth(text: &str) -> Result<u32, String> {
    let depth: i64 = text
        .parse()
        .map_err(|_| format!("depth must be a whole number from 0 to {MAX_DEPTH}, got {text:?}"))?;
    if !(0..=MAX_DEPTH).contains(&depth) {
        return Err(format!(
            "depth must be a whole number from 0 to {MAX_DEPTH}, got {depth}"
        ));
    }
    Ok(depth as u32)
}

struct Perft<'a>(&'a PerftArgs);

impl GameVisitor for Perft<'_> {
    type Output = Result<String, BadInput>;

    fn visit<G: Game>(self) -> Self::Output {
        let args = self.0;
        let position = G::from_moves(&args.moves).map_err(|e| BadInput(format!("--moves: {e}")))?;
        let start = Instant::now();
        let (total, divide) = if args.divide {
            let parts = perft_divide(&position, args.depth);
            let parts: Vec<(String, u64)> = parts
                .into_iter()
                .map(|(m, n)| (position.format_move(m), n))
                .collect();
            (parts.iter().map(|p| p.1).sum(), parts)
        } else {
            (perft(&position, args.depth), Vec::new())
        };
        let seconds = start.elapsed().as_secs_f64();
        if args.json {
            let divide: serde_json::Map<String, serde_json::Value> =
                divide.into_iter().map(|(m, n)| (m, n.into())).collect();
            let mut out = serde_json::json!({
                "game": G::NAME, "moves": args.moves, "depth": args.depth,
                "nodes": total, "seconds": seconds,
            });
            if args.divide {
                out["divide"] = divide.into();
            }
            return Ok(out.to_string());
        }
        let mut out = String::new();
        for (m, n) in divide {
            out.push_str(&format!("{m}: {n}\n"));
        }
        let rate = total as f64 / seconds.max(1e-9) / 1e6;
        out.push_str(&format!(
            "{} perft {}: {total}  ({seconds:.3} s, {rate:.1} M leaves/s)",
            G::NAME,
            args.depth
        ));
        Ok(out)
    }
}

/// Runs `az perft` and returns what it prints.
///
/// # Errors
/// [`BadInput`] for an unknown game or a bad `--moves` line.
pub fn run(args: &PerftArgs) -> Result<String, BadInput> {
    with_game(&args.game, Perft(args))?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(game: &str, depth: u32, moves: &str) -> PerftArgs {
        PerftArgs {
            game: game.into(),
            depth,
            moves: moves.into(),
            divide: false,
            json: true,
        }
    }

    #[test]
    fn counts_through_the_registry() {
        let out = run(&args("tictactoe", 9, "")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["nodes"], 127_872);
        let out = run(&args("connect4", 2, "4455")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["nodes"], 49);
    }

    #[test]
    fn bad_input_is_named() {
        let e = run(&args("nosuchgame", 3, "")).unwrap_err().to_string();
        assert!(e.contains("unknown game \"nosuchgame\""), "{e}");
        let e = run(&args("connect4", 3, "1111111"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("move 7") && e.contains("illegal move 1"), "{e}");
        assert!(parse_depth("-3").unwrap_err().contains("got -3"));
        assert!(parse_depth("x").unwrap_err().contains("\"x\""));
        assert_eq!(parse_depth("8"), Ok(8));
    }
}
