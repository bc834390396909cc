//! `az list`: the registered games and the experiment manifests found.

use crate::games;
use std::path::Path;

/// Arguments of `az list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Print one JSON object per game and experiment instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Experiment manifests (`*.toml`) in `dir`, by file stem, sorted.
pub fn experiments(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    names
}

/// Runs `az list` with `experiments_dir` searched for manifests.
pub fn run(args: &ListArgs, experiments_dir: &Path) -> String {
    let games = games::all();
    let exps = experiments(experiments_dir);
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
        for e in &exps {
            out.push(serde_json::json!({"kind": "experiment", "name": e}).to_string());
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
    out.push(format!("experiments ({}):", experiments_dir.display()));
    if exps.is_empty() {
        out.push("  (none)".to_owned());
    }
    out.extend(exps.iter().map(|e| format!("  {e}")));
    out.join("\n")
}
