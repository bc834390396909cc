//! `az serve` over real HTTP on loopback: the page, a position, a search
//! streamed as it runs, bad requests refused with a message while the server
//! serves on, 20 clients playing at once, and what refuses to start (a port in
//! use, a checkpoint of another game) with exit code 2.

#[allow(dead_code)] // az_stdin is for the tests that feed stdin
mod common;
#[path = "common/runs.rs"]
mod runs;

use common::text;
use runs::{az, trained};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A scratch directory of this test file.
fn scratch(name: &str) -> PathBuf {
    runs::scratch("az-serve-test", name)
}

/// `az serve` on a free loopback port, killed when dropped.
struct Served {
    child: Child,
    addr: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(target: &Path, extra: &[&str]) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_az"))
        .args(["serve", target.to_str().unwrap(), "--port", "0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_owned();
    Served { child, addr }
}

/// One HTTP/1.1 request: status and body (chunks joined).
fn http(addr: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    (status, body)
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&after[..n]);
        rest = &after[n + 2..];
    }
    out
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[test]
fn serves_the_page_positions_and_searches_and_refuses_bad_requests() {
    let dir = scratch("api");
    let run = trained("tictactoe", &dir);
    let s = serve(&run, &["--simulations", "32"]);

    let (code, page) = http(&s.addr, "GET", "/", "");
    assert_eq!(code, 200);
    assert!(page.contains("<title>az</title>") && page.contains("/api/search"));
    let (code, info) = http(&s.addr, "GET", "/api/info", "");
    assert_eq!(code, 200, "{info}");
    let info = json(&info);
    assert_eq!(
        (
            info["game"].as_str(),
            info["rows"].as_u64(),
            info["simulations"].as_u64()
        ),
        (Some("tictactoe"), Some(3), Some(32))
    );

    // A position: X on a1 (cell 0), O to move, eight clickable cells.
    let (code, p) = http(&s.addr, "POST", "/api/position", r#"{"moves": ["a1"]}"#);
    assert_eq!(code, 200, "{p}");
    let p = json(&p);
    assert_eq!(p["pieces"][0], "first");
    assert_eq!(p["to_move"], "second");
    assert_eq!(p["last_cell"], 0);
    assert_eq!(p["clicks"][0], serde_json::Value::Null);
    assert_eq!(p["clicks"][4], "b2");
    assert_eq!(p["legal"].as_array().unwrap().len(), 8);
    // A finished game tells who won.
    let (_, won) = http(
        &s.addr,
        "POST",
        "/api/position",
        r#"{"moves": ["a1","a2","b1","b2","c1"]}"#,
    );
    assert_eq!(json(&won)["outcome"], "first");

    // The search streams snapshots, then the last with the move; it blocks the win.
    let (code, lines) = http(
        &s.addr,
        "POST",
        "/api/search",
        r#"{"moves": ["a1","b2","a2"], "simulations": 200}"#,
    );
    assert_eq!(code, 200, "{lines}");
    let snaps: Vec<serde_json::Value> = lines.lines().map(json).collect();
    assert!(snaps.len() >= 3, "{lines}");
    let last = snaps.last().unwrap();
    assert_eq!(last["done"], true);
    assert_eq!(last["total"], 200);
    assert!(
        snaps
            .windows(2)
            .all(|w| w[0]["simulations"].as_u64() < w[1]["simulations"].as_u64()),
        "{lines}"
    );
    assert_eq!(
        last["best"], "a3",
        "the agent does not block a1 a2 a3: {last}"
    );
    assert_eq!(last["best_cell"], 6);

    // Bad requests: a 4xx naming what is wrong, and the server serves on.
    for (path, body, code, needle) in [
        (
            "/api/position",
            r#"{"moves": ["a1", "a1"]}"#,
            400,
            "moves[1]",
        ),
        ("/api/position", r#"{"moves": ["z9"]}"#, 400, "z9"),
        ("/api/position", "{", 400, "not JSON"),
        ("/api/position", r#"{"moves": "a1"}"#, 400, "\"moves\""),
        (
            "/api/search",
            r#"{"moves": [], "simulations": 0}"#,
            400,
            "simulations",
        ),
        (
            "/api/search",
            r#"{"moves": ["a1","a2","b1","b2","c1"]}"#,
            400,
            "over",
        ),
        ("/api/nothing", "", 404, "no such page"),
    ] {
        let (got, body) = http(&s.addr, "POST", path, body);
        assert_eq!(got, code, "{path} {body}");
        assert!(
            json(&body)["error"].as_str().unwrap().contains(needle),
            "{path}: {body}"
        );
    }
    let (code, _) = http(&s.addr, "GET", "/api/search", "");
    assert_eq!(code, 405);
    let (code, run_numbers) = http(&s.addr, "GET", "/api/run", "");
    assert_eq!(code, 200);
    assert!(
        json(&run_numbers)["tags"]["selfplay/games"].is_array(),
        "{run_numbers}"
    );
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn twenty_clients_play_at_once() {
    let dir = scratch("load");
    let run = trained("tictactoe", &dir);
    let s = serve(&run, &["--simulations", "64", "--threads", "8"]);
    let t0 = Instant::now();
    let games: Vec<Vec<String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..20)
            .map(|i| {
                let addr = s.addr.clone();
                scope.spawn(move || {
                    // The agent plays both sides from a different first move each.
                    let mut moves = vec![["a1", "b1", "c1", "a2", "b2"][i % 5].to_owned()];
                    loop {
                        let body = serde_json::json!({"moves": moves}).to_string();
                        let (code, lines) = http(&addr, "POST", "/api/search", &body);
                        if code == 400 {
                            assert!(lines.contains("over"), "{lines}");
                            return moves;
                        }
                        assert_eq!(code, 200, "{lines}");
                        let last = json(lines.lines().last().unwrap());
                        moves.push(last["best"].as_str().unwrap().to_owned());
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for moves in &games {
        let body = serde_json::json!({"moves": moves}).to_string();
        let (code, p) = http(&s.addr, "POST", "/api/position", &body);
        assert_eq!(code, 200, "{p}");
        assert!(
            !json(&p)["outcome"].is_null(),
            "{moves:?} did not end the game"
        );
    }
    eprintln!("20 games at once in {:.1} s", t0.elapsed().as_secs_f64());
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn refuses_to_start_on_a_port_in_use_or_another_games_checkpoint() {
    let dir = scratch("start");
    let run = trained("tictactoe", &dir);
    let s = serve(&run, &[]);
    let port = s.addr.rsplit(':').next().unwrap();
    let o = az(&["serve", run.to_str().unwrap(), "--port", port]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(
        t.contains(&format!("127.0.0.1:{port}")) && t.lines().count() == 1,
        "{t}"
    );
    drop(s);

    // A connect4 checkpoint among tic-tac-toe's.
    let other = trained("connect4", &dir);
    let ck = std::fs::read_dir(other.join("checkpoints"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let stray = run.join("checkpoints/step-999999999.azck");
    std::fs::copy(&ck, &stray).unwrap();
    let o = az(&["serve", stray.to_str().unwrap(), "--port", "0"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(
        t.contains("step-999999999.azck") && !t.contains("panicked"),
        "{t}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
