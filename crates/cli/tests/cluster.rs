//! Distributed mode end to end on tic-tac-toe, on loopback: a NATS server of
//! the test's own, one `az learner` and three `az actor` processes; one actor
//! SIGKILLed and another started; the learner SIGKILLed and resumed. At the end
//! every game in the learner's replay is there once, every game an actor saw
//! acknowledged by the stream is there, and the agent does not lose to the
//! perfect player. Skipped (loudly) only without a nats-server binary, and
//! never when `AZ_NATS_REQUIRED` is set (`.ci/run`).

use az_cluster::LocalServer;
use az_record::remote::GameId;
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MANIFEST: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../experiments/tictactoe.toml"
);

/// Every game kept on disk (the checks read them all); no evaluation during
/// the run; weights to the actors often. The manifest's random openings (half
/// the games open with up to 4 random moves) matter here: without them, with
/// every game since the random network in the window, the agent lost 1-7 of
/// 100 as second player to the perfect player in 3 runs of 4 (it opens on any
/// of the nine squares, all draws; self-play rarely does), and none in 10 of 10
/// with them.
const SETS: &[&str] = &[
    "replay.capacity=2000000",
    "replay.flush_seconds=1",
    "train.checkpoint_every=50",
    "eval.every=0",
    "cluster.publish_every=10",
    "cluster.ack_wait_seconds=20",
    "cluster.connect_timeout_seconds=20",
];

/// The whole test's time limit.
const LIMIT: Duration = Duration::from_secs(420);

/// The test's processes, killed (SIGKILL) when it ends, however it ends.
struct Procs(Vec<Child>);

impl Drop for Procs {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn az(args: &[&str], log: &Path) -> Child {
    let mut c = Command::new(env!("CARGO_BIN_EXE_az"));
    c.args(args).env("RUST_BACKTRACE", "1");
    for s in SETS {
        c.args(["--set", s]);
    }
    let out = std::fs::File::create(log).unwrap();
    c.stdout(out.try_clone().unwrap())
        .stderr(out)
        .stdin(Stdio::null());
    c.spawn().expect("starting az")
}

fn learner(url: &str, dir: &Path, resume: bool, logs: &Path) -> Child {
    let d = dir.to_str().unwrap();
    let mut args = vec![
        "learner",
        MANIFEST,
        "--nats",
        url,
        "--run-dir",
        d,
        "--no-progress",
    ];
    if resume {
        args.push("--resume");
    }
    let log = logs.join(format!("learner-{}.txt", u8::from(resume)));
    az(&args, &log)
}

fn actor(url: &str, n: usize, logs: &Path) -> Child {
    let ids = logs.join(format!("stored-{n}.txt"));
    let args = [
        "actor",
        MANIFEST,
        "--nats",
        url,
        "--stored-ids",
        ids.to_str().unwrap(),
    ];
    az(&args, &logs.join(format!("actor-{n}.txt")))
}

fn newest_checkpoint(dir: &Path) -> u64 {
    std::fs::read_dir(dir.join("checkpoints"))
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_prefix("step-")?
                .strip_suffix(".azck")?
                .parse()
                .ok()
        })
        .max()
        .unwrap_or(0)
}

/// Ids of every game in the replay chunks of `dir`, in order.
fn replay_ids(dir: &Path) -> Vec<GameId> {
    let mut ids = Vec::new();
    for entry in std::fs::read_dir(dir.join("replay")).into_iter().flatten() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "azr") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let games = az_replay::decode_chunk::<az_tictactoe::TicTacToe>(&bytes, &path).unwrap();
        ids.extend(games.iter().map(|g| g.origin.expect("a remote game").id));
    }
    ids
}

/// Ids the actors wrote to their `--stored-ids` files.
fn stored_ids(logs: &Path) -> HashSet<String> {
    let mut ids = HashSet::new();
    for entry in std::fs::read_dir(logs).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("stored-") {
            let text = std::fs::read_to_string(&path).unwrap();
            ids.extend(text.lines().map(str::to_owned));
        }
    }
    ids
}

/// Waits (while `child` runs, within the test's limit) until `ready`.
fn wait_until(t0: Instant, child: &mut Child, what: &str, logs: &Path, ready: impl Fn() -> bool) {
    while !ready() {
        let ended = child.try_wait().unwrap();
        assert!(
            ended.is_none(),
            "ended ({ended:?}) before {what}\n{}",
            tails(logs)
        );
        assert!(
            t0.elapsed() < LIMIT,
            "no {what} within {LIMIT:?}\n{}",
            tails(logs)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Sends SIGINT and waits (bounded) for a clean exit.
fn interrupt(child: &mut Child, who: &str, logs: &Path) {
    let pid = child.id().to_string();
    Command::new("kill").args(["-INT", &pid]).status().unwrap();
    let t = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(
                status.success(),
                "{who} exited with {status}\n{}",
                tails(logs)
            );
            return;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "{who} did not stop\n{}",
            tails(logs)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn kill(child: &mut Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

/// The last lines of every log, for a failure's message.
fn tails(logs: &Path) -> String {
    let mut s = String::new();
    for entry in std::fs::read_dir(logs).into_iter().flatten() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let from = lines.len().saturating_sub(8);
        s.push_str(&format!(
            "--- {}\n{}\n",
            path.display(),
            lines[from..].join("\n")
        ));
    }
    s
}

#[test]
fn a_learner_and_actors_survive_kills_and_train_on_every_stored_game_once() {
    if LocalServer::binary().is_none() {
        let message = "no nats-server binary for the distributed test (run tools/install-nats.sh or set AZ_NATS_SERVER)";
        assert!(std::env::var_os("AZ_NATS_REQUIRED").is_none(), "{message}");
        let _ = writeln!(std::io::stderr(), "\n*** SKIPPED: {message} ***\n");
        return;
    }
    let t0 = Instant::now();
    let root = std::env::temp_dir().join(format!("az-cluster-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (dir, logs): (PathBuf, PathBuf) = (root.join("run"), root.join("logs"));
    std::fs::create_dir_all(&logs).unwrap();
    let server = LocalServer::start().expect("starting nats-server");
    let url = server.url();

    let mut procs = Procs(vec![learner(&url, &dir, false, &logs)]);
    for n in 1..=3 {
        procs.0.push(actor(&url, n, &logs));
    }
    // 1. Training under way: SIGKILL actor 1, start actor 4.
    let (l, rest) = procs.0.split_first_mut().unwrap();
    wait_until(t0, l, "a checkpoint at step 50", &logs, || {
        newest_checkpoint(&dir) >= 50
    });
    kill(&mut rest[0]);
    procs.0.push(actor(&url, 4, &logs));
    // 2. SIGKILL the learner; the actors go on storing games; resume it.
    let l = &mut procs.0[0];
    wait_until(t0, l, "a checkpoint at step 100", &logs, || {
        newest_checkpoint(&dir) >= 100
    });
    kill(l);
    std::thread::sleep(Duration::from_secs(2));
    procs.0[0] = learner(&url, &dir, true, &logs);
    let l = &mut procs.0[0];
    wait_until(t0, l, "a checkpoint at step 300", &logs, || {
        newest_checkpoint(&dir) >= 300
    });
    // 3. Stop the actors cleanly; the learner takes what the stream still holds.
    for n in [2, 3, 4] {
        interrupt(&mut procs.0[n], &format!("actor {n}"), &logs);
    }
    let stored = stored_ids(&logs);
    assert!(
        stored.len() > 100,
        "{} games stored\n{}",
        stored.len(),
        tails(&logs)
    );
    let on_disk =
        || -> HashSet<String> { replay_ids(&dir).iter().map(GameId::to_string).collect() };
    wait_until(
        t0,
        &mut procs.0[0],
        "every stored game in the replay",
        &logs,
        || stored.is_subset(&on_disk()),
    );
    interrupt(&mut procs.0[0], "the learner", &logs);

    // Once each: no game trained twice, across the kills and the resume.
    let ids = replay_ids(&dir);
    let unique: HashSet<GameId> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "a game is in the replay twice");
    assert!(stored.is_subset(&on_disk()));
    let log = std::fs::read_to_string(dir.join("log.txt")).unwrap();
    assert!(!log.contains("panicked"), "{log}");
    // Strong enough: no loss in 100 games against the perfect player.
    let out = Command::new(env!("CARGO_BIN_EXE_az"))
        .args([
            "eval",
            dir.to_str().unwrap(),
            "--opponent",
            "perfect",
            "--games",
            "100",
            "--json",
        ])
        .output()
        .unwrap();
    let result = String::from_utf8_lossy(&out.stdout);
    assert!(
        result.contains("\"losses\":0,") || result.contains("\"losses\":0}"),
        "{result}"
    );
    eprintln!(
        "{} games from 4 actors ({} stored by them), {:.0} s",
        ids.len(),
        stored.len(),
        t0.elapsed().as_secs_f64()
    );
    drop(procs);
    drop(server);
    std::fs::remove_dir_all(&root).unwrap();
}
