//! The `az` binary as users and scripts meet it: output, exit codes, no panics.

mod common;

use common::{az_stdin, text};
use std::process::{Command, Output};

fn az(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_az"))
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("running az")
}

#[test]
fn perft_through_the_binary() {
    let o = az(&["perft", "tictactoe", "9", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["nodes"], 127_872);
    let o = az(&["perft", "connect4", "3", "--moves", "4455", "--divide"]);
    assert!(
        o.status.success() && text(&o).contains("connect4 perft 3: 343"),
        "{}",
        text(&o)
    );
}

#[test]
fn bad_input_exits_2_with_one_clear_line() {
    for (args, needle) in [
        (
            &["perft", "nosuchgame", "3"][..],
            "unknown game \"nosuchgame\"",
        ),
        (&["perft", "connect4", "-3"], "got -3"),
        (&["perft", "connect4", "abc"], "got \"abc\""),
        (
            &["perft", "connect4", "3", "--moves", "1111111"],
            "illegal move 1",
        ),
        (
            &["bench", "mcts", "--game", "chess"],
            "unknown game \"chess\"",
        ),
        (
            &["bench", "model", "nosuchexperiment"],
            "no experiment \"nosuchexperiment\"",
        ),
        (
            &["bench", "model", "connect4", "--set", "mcts.simulations=0"],
            "`mcts.simulations` = 0",
        ),
        (
            &["bench", "model", "connect4", "--set", "model.adapter=gpu"],
            "discrete, integrated",
        ),
        (
            &[
                "learner",
                "tictactoe",
                "--nats",
                "nats://127.0.0.1:9",
                "--run-dir",
                "/nonexistent/az-learner",
                "--set",
                "run.max_evaluations=1000",
            ],
            "`run.max_evaluations` = 1000 is not allowed",
        ),
        (&["new-game", "Bad_Name"], "is not allowed"),
        (&["frobnicate"], "unrecognized subcommand"),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_az"))
            .args(args)
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .env("RUST_BACKTRACE", "1")
            .output()
            .unwrap();
        let t = text(&o);
        assert_eq!(o.status.code(), Some(2), "az {args:?}: {t}");
        assert!(
            t.contains(needle),
            "az {args:?}: expected {needle:?} in {t}"
        );
        assert!(
            !t.contains("panicked") && !t.contains("backtrace"),
            "az {args:?}: {t}"
        );
    }
}

#[test]
fn list_names_games_and_experiments() {
    let o = Command::new(env!("CARGO_BIN_EXE_az"))
        .args(["list", "--json"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .output()
        .unwrap();
    assert!(o.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for game in ["tictactoe", "connect4", "othello"] {
        assert!(
            lines
                .iter()
                .any(|v| v["kind"] == "game" && v["name"] == game),
            "{game}"
        );
    }
    assert!(
        lines
            .iter()
            .any(|v| v["kind"] == "experiment" && v["name"] == "connect4")
    );
}

#[test]
fn solve_prints_pons_scores_and_refuses_bad_positions() {
    // X plays 3 or 6 and wins with its 4th stone: 22 - 4.
    let o = az_stdin(&["solve", "connect4", "--json"], "4455\n1212121\n");
    assert!(o.status.success(), "{}", text(&o));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["score"], 18);
    assert_eq!(lines[0]["best_moves"], serde_json::json!(["3", "6"]));
    assert_eq!(
        lines[1]["score"], -18,
        "a game already won by the first player"
    );
    let o = az_stdin(&["solve", "tictactoe", "--json"], "\n");
    assert!(o.status.success(), "{}", text(&o));
    for (input, needle) in [
        ("4444444\n", "illegal move 4"),
        ("12a\n", "\"a\""),
        ("12121213\n", "move 8"),
    ] {
        let o = az_stdin(&["solve", "connect4"], input);
        assert_eq!(o.status.code(), Some(2), "{input}: {}", text(&o));
        assert!(text(&o).contains(needle), "{input}: {}", text(&o));
        assert!(!text(&o).contains("panicked"), "{}", text(&o));
    }
    let o = az_stdin(&["solve", "othello"], "f5\n");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no oracle"), "{}", text(&o));
}

#[test]
fn solve_samples_test_positions_that_read_back() {
    use az_game::{Game, optimal_moves};
    use az_tictactoe::TicTacToe;
    let o = az_stdin(
        &[
            "solve",
            "tictactoe",
            "--sample",
            "end",
            "--count",
            "6",
            "--seed",
            "2",
        ],
        "",
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(out.lines().count(), 6, "{out}");
    let sets = az_arena::parse_position_lines::<TicTacToe>(&out).unwrap();
    assert_eq!(sets[2].positions.len(), 6);
    let mut oracle = TicTacToe::oracle().unwrap();
    let mut hashes = std::collections::HashSet::new();
    for (p, good) in &sets[2].positions {
        assert!(hashes.insert(p.position_hash()), "a position twice: {out}");
        assert_eq!(&optimal_moves(oracle.as_mut(), p).0, good, "{out}");
        assert!(
            good.len() < p.legal_moves().len(),
            "no mistake possible: {out}"
        );
    }
    for (args, needle) in [
        (
            &["solve", "tictactoe", "--sample", "early"][..],
            "possible values",
        ),
        (&["solve", "othello", "--sample", "middle"][..], "no oracle"),
        (
            &[
                "solve",
                "tictactoe",
                "--sample",
                "opening",
                "--min-ply",
                "2",
            ][..],
            "--min-ply 2",
        ),
    ] {
        let o = az_stdin(args, "");
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(needle), "{args:?}: {}", text(&o));
    }
}

/// A binary built without a backend names the feature that brings it.
#[cfg(not(feature = "wgpu"))]
#[test]
fn a_backend_the_binary_lacks_says_how_to_build_it() {
    for (device, feature) in [("wgpu", "--features wgpu"), ("cuda", "--features cuda")] {
        let set = format!("model.device={device}");
        let o = Command::new(env!("CARGO_BIN_EXE_az"))
            .args([
                "bench",
                "model",
                "connect4",
                "--seconds",
                "0.1",
                "--set",
                &set,
            ])
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .output()
            .unwrap();
        let t = text(&o);
        assert_eq!(o.status.code(), Some(2), "{device}: {t}");
        assert!(
            t.contains(feature) && !t.contains("panicked"),
            "{device}: {t}"
        );
    }
}

/// `az` in `dir`, outside the source tree.
fn az_in(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_az"))
        .args(args)
        .current_dir(dir)
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("running az")
}

#[test]
fn stock_manifests_are_built_in_and_a_file_of_the_same_name_wins() {
    let dir = std::env::temp_dir().join(format!("az-cli-builtin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let sources = |dir: &std::path::Path| -> Vec<(String, String)> {
        let o = az_in(dir, &["list", "--json"]);
        assert!(o.status.success(), "{}", text(&o));
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|v| v["kind"] == "experiment")
            .map(|v| {
                (
                    v["name"].as_str().unwrap().to_owned(),
                    v["source"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    // Away from the source tree: every stock manifest, built in.
    let listed = sources(&dir);
    for name in ["connect4", "othello", "tictactoe"] {
        assert!(
            listed.contains(&(name.to_owned(), "built into az".to_owned())),
            "{name}: {listed:?}"
        );
    }
    // ... and one of them runs: a short tic-tac-toe run with its built-in manifest.
    let o = az_in(
        &dir,
        &[
            "run",
            "tictactoe",
            "--run-dir",
            "runs/ttt",
            "--no-progress",
            "--max-seconds",
            "2",
            "--set",
            "eval.opponents=[\"random\"]",
            "--set",
            "eval.games=2",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let resolved = std::fs::read_to_string(dir.join("runs/ttt/manifest.toml")).unwrap();
    assert!(resolved.contains("tictactoe"), "{resolved}");

    // A file in experiments/ replaces the built-in one of its name: a broken one
    // is refused, naming the file.
    std::fs::create_dir_all(dir.join("experiments")).unwrap();
    std::fs::write(dir.join("experiments/tictactoe.toml"), "[game]\nname = 7\n").unwrap();
    let listed = sources(&dir);
    assert!(
        listed.contains(&(
            "tictactoe".to_owned(),
            "experiments/tictactoe.toml".to_owned()
        )),
        "{listed:?}"
    );
    let o = az_in(&dir, &["run", "tictactoe", "--run-dir", "runs/broken"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(
        t.contains("experiments/tictactoe.toml") && !t.contains("built into"),
        "{t}"
    );
    assert!(!t.contains("panicked"), "{t}");
    let _ = std::fs::remove_dir_all(&dir);
}
