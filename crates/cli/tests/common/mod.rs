//! Helpers shared by the binary's integration tests.

use std::process::{Command, Output, Stdio};

/// stdout and stderr of `o`, together.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Runs the `az` binary with `args`, `stdin` as its input.
pub fn az_stdin(args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_az"))
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running az");
    let written = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    // az may refuse and exit before reading its input (a game without an
    // oracle, a bad first line): the pipe is then closed, which is no failure.
    if let Err(e) = written {
        assert_eq!(
            e.kind(),
            std::io::ErrorKind::BrokenPipe,
            "writing to az: {e}"
        );
    }
    child.wait_with_output().unwrap()
}
