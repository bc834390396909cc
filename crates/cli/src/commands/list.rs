//! `az list`: the registered games and the experiment manifests, with where
//! each comes from (a file, or built into the binary).

use crate::games;
use std::path::Path;

/// Arguments of `az list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Print one JSON object per game and experiment instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `az list` with `experiments_dir` searched for manifests.
pub fn run(args: &ListArgs, experiments_dir: &Path) -> String {
    let games = games::all();
    let exps = crate::experiments::all(experiments_dir);
    let mut out = Vec::new();
    if args.json {
        for g in &games {
            out.push(
                serde_json::json!({
                    "kind": "game", "name": g.name, "actions": g.actions,
                    "shape": [g.shape.planes, g.shape.height, g.shape.width],
                    "symmetries": g.symmetries, "notation": g.notation,
                })
                .to_string(),
            );
        }
        for (name, source) in &exps {
            out.push(
                serde_json::json!({"kind": "experiment", "name": name, "source": source.describe()})
                    .to_string(),
            );
        }
        return out.join("\n");
    }
    out.push("games:".to_owned());
    for g in &games {
        let s = g.shape;
        out.push(format!(
            "  {:<12} {:>4} actions, input {}x{}x{}, {} symmetries; moves: {}",
            g.name, g.actions, s.planes, s.height, s.width, g.symmetries, g.notation
        ));
    }
    out.push("experiments:".to_owned());
    out.extend(
        exps.iter()
            .map(|(name, source)| format!("  {name:<14} {}", source.describe())),
    );
    out.join("\n")
}
