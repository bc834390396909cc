//! `az solve connect4` on the opening: the initial position (an empty line) and
//! the first plies come from the shipped book at once; a line that takes longer
//! than the progress threshold says how far it is on stderr, and only then.

mod common;

use common::{az_stdin, text};

fn json_lines(o: &std::process::Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn the_initial_position_and_the_first_plies_are_answered_from_the_book() {
    let o = az_stdin(&["solve", "connect4", "--json"], "\n4\n43\n");
    assert!(o.status.success(), "{}", text(&o));
    let lines = json_lines(&o);
    // Connect four is a first-player win (with the last stone: 22 - 21),
    // only in the centre column.
    assert_eq!(
        lines[0],
        serde_json::json!({"position": "", "score": 1, "best_moves": ["4"]})
    );
    assert_eq!(lines[1]["score"], -1, "{}", text(&o));
    assert_eq!(lines[1]["best_moves"], serde_json::json!(["4"]));
    assert_eq!(lines.len(), 3);
    // Within the book: no line is slow, so nothing on stderr.
    assert!(o.stderr.is_empty(), "{}", text(&o));
}

#[test]
fn a_slow_line_reports_progress_on_stderr_and_a_fast_one_does_not() {
    // Past the book: the moves are searched. With the threshold at zero the
    // line reports; with the default (1 s) a book line stays silent above.
    let input = "44444432\n";
    let o = az_stdin(
        &[
            "solve",
            "connect4",
            "--progress-after",
            "0",
            "--threads",
            "1",
        ],
        input,
    );
    assert!(o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("az solve: line 1 `44444432`: ") && err.contains("moves solved, solving"),
        "{err}"
    );
    assert!(err.contains("solved in"), "{err}");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.starts_with("44444432 "), "{out}");
    // Two threads answer the same.
    let two = az_stdin(&["solve", "connect4", "--threads", "2"], input);
    assert_eq!(String::from_utf8_lossy(&two.stdout), out, "{}", text(&two));
}

#[test]
fn write_book_is_for_connect4_and_a_reachable_depth() {
    for (args, needle) in [
        (
            &["solve", "tictactoe", "--write-book", "x.bin"][..],
            "--write-book is for connect4",
        ),
        (
            &[
                "solve",
                "connect4",
                "--write-book",
                "x.bin",
                "--plies",
                "13",
            ][..],
            "--plies 13",
        ),
    ] {
        let o = az_stdin(args, "");
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(needle), "{args:?}: {}", text(&o));
    }
}
