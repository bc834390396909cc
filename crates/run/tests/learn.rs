//! The learner and an actor joined by an in-process stand-in for the
//! transport: games cross as deliveries (some delivered twice), weights go to
//! the actor, and every acknowledgement is checked against the replay chunks on
//! disk at the moment it is sent.

use az_experiment::Experiment;
use az_game::Game;
use az_record::remote::{
    ActorChannels, Delivery, GameId, LearnerChannels, Reached, Shipped, Weights,
};
use az_replay::decode_chunk;
use az_run::{ActorOptions, Run, RunOptions, act};
use az_tictactoe::TicTacToe;
use burn::tensor::Device;
use flume::{Receiver, Sender};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const MANIFEST: &str = r#"
[game]
name = "tictactoe"
[run]
max_steps = 60
[mcts]
simulations = 16
[selfplay]
parallel_games = 16
searches_per_game = 2
[model]
blocks = 1
channels = 8
value_hidden = 8
[train]
batch_size = 32
min_replay = 200
train_ratio = 2.0
checkpoint_every = 30
[replay]
capacity = 100000
flush_seconds = 0.3
[eval]
opponents = []
every = 0
[cluster]
publish_every = 10
"#;

/// Ids of the games in the replay chunks of `dir`.
fn ids_on_disk(dir: &Path) -> Vec<GameId> {
    let mut ids = Vec::new();
    for e in std::fs::read_dir(dir.join("replay")).into_iter().flatten() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "azr") {
            let bytes = std::fs::read(&path).unwrap();
            let games = decode_chunk::<TicTacToe>(&bytes, &path).unwrap();
            ids.extend(
                games
                    .iter()
                    .map(|g| g.origin.expect("remote games have an origin").id),
            );
        }
    }
    ids
}

/// What the stand-in transport saw.
#[derive(Default)]
struct Seen {
    /// Games stored and handed to the learner (each once by id).
    games: HashSet<GameId>,
    /// Messages carried.
    messages: usize,
    /// Messages of more than one game.
    batched: usize,
    /// Ids acknowledged by the learner.
    acked: HashSet<GameId>,
    /// Deliveries sent twice on purpose.
    repeated: usize,
    /// Tags of deliveries that cannot be trained on, and those of them acknowledged.
    bad_tags: Vec<u64>,
    bad_acked: usize,
    /// Acknowledgements of games not in a chunk when they arrived.
    early_acks: Vec<GameId>,
    weights: Vec<u64>,
}

/// Carries games, deliveries, acks and weights between the two sides until
/// both hang up; delivers every third game twice.
fn transport(
    games: Receiver<Shipped>,
    stored: Sender<GameId>,
    deliveries: Sender<Delivery>,
    acks: Receiver<Vec<u64>>,
    weights: (Receiver<Weights>, Sender<Weights>),
    run_dir: PathBuf,
) -> Seen {
    let mut seen = Seen::default();
    let mut tags: HashMap<u64, Vec<GameId>> = HashMap::new();
    let mut next_tag = 0;
    let (mut games_open, mut acks_open) = (true, true);
    while games_open || acks_open {
        if let Ok(g) = games.recv_timeout(Duration::from_millis(5)) {
            seen.messages += 1;
            seen.batched += usize::from(g.games > 1);
            if seen.messages == 2 {
                // Two deliveries no learner can train on: rejected, not fatal.
                let foreign = Shipped {
                    game: "othello".to_owned(),
                    ..g.clone()
                };
                let mut damaged = g.clone();
                damaged.payload.truncate(damaged.payload.len() / 2);
                for bad in [foreign, damaged] {
                    let d = Delivery {
                        tag: next_tag,
                        game: bad,
                    };
                    tags.insert(next_tag, Vec::new());
                    seen.bad_tags.push(next_tag);
                    next_tag += 1;
                    let _ = deliveries.send_timeout(d, Duration::from_secs(5));
                }
            }
            let copies = if seen.messages % 3 == 0 { 2 } else { 1 };
            seen.repeated += copies - 1;
            seen.games.extend(g.ids());
            // The actor is told its game is stored (in the stand-in's memory).
            let _ = stored.send(g.id);
            for _ in 0..copies {
                tags.insert(next_tag, g.ids().collect());
                let d = Delivery {
                    tag: next_tag,
                    game: g.clone(),
                };
                next_tag += 1;
                let _ = deliveries.send_timeout(d, Duration::from_secs(5));
            }
        } else if games.is_disconnected() {
            games_open = false;
        }
        match acks.try_recv() {
            Ok(batch) => {
                let on_disk: HashSet<GameId> = ids_on_disk(&run_dir).into_iter().collect();
                for tag in batch {
                    if seen.bad_tags.contains(&tag) {
                        seen.bad_acked += 1;
                        continue;
                    }
                    for &id in &tags[&tag] {
                        if !on_disk.contains(&id) {
                            seen.early_acks.push(id);
                        }
                        seen.acked.insert(id);
                    }
                }
            }
            Err(flume::TryRecvError::Disconnected) => acks_open = false,
            Err(flume::TryRecvError::Empty) => {}
        }
        for w in weights.0.try_iter() {
            seen.weights.push(w.step);
            let _ = weights.1.try_send(w);
        }
    }
    seen
}

#[test]
fn a_learner_trains_on_an_actors_games_once_each_and_acknowledges_them_only_on_disk() {
    let started = Instant::now();
    let root = std::env::temp_dir().join(format!("az-learn-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let exp =
        Experiment::from_toml(MANIFEST, Path::new("learn.toml"), &[], &["tictactoe"]).unwrap();
    let device = Device::flex();

    let (game_tx, game_rx) = flume::bounded(64);
    let (stored_tx, stored_rx) = flume::unbounded();
    let (deliver_tx, deliver_rx) = flume::bounded(64);
    let (ack_tx, ack_rx) = flume::unbounded();
    let (wpub_tx, wpub_rx) = flume::unbounded();
    let (wact_tx, wact_rx) = flume::bounded(4);
    let (reached_tx, reached_rx) = flume::unbounded::<Reached>();
    let run_dir = root.join("learner");
    let carrier = {
        let run_dir = run_dir.clone();
        std::thread::spawn(move || {
            transport(
                game_rx,
                stored_tx,
                deliver_tx,
                ack_rx,
                (wpub_rx, wact_tx),
                run_dir,
            )
        })
    };

    // The learner publishes its first weights at the start; the actor waits for them.
    let learner = {
        let (exp, device) = (exp.clone(), device.clone());
        let channels = LearnerChannels {
            deliveries: deliver_rx,
            acks: ack_tx,
            weights: wpub_tx,
            reached: reached_rx,
        };
        let opts = RunOptions {
            run_dir: run_dir.clone(),
            resume: false,
            max_seconds: Some(120.0),
            stop: Arc::new(AtomicBool::new(false)),
            progress: false,
        };
        std::thread::spawn(move || Run::<TicTacToe>::open(&exp, &device, opts)?.learn(channels))
    };
    let first = wact_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("first weights");
    assert_eq!((first.step, first.game.as_str()), (0, TicTacToe::NAME));
    let stop = Arc::new(AtomicBool::new(false));
    let actor = {
        let (exp, device, stop) = (exp.clone(), device.clone(), stop.clone());
        let channels = ActorChannels {
            weights: wact_rx,
            games: game_tx,
            stored: stored_rx,
            reached: reached_tx,
        };
        let opts = ActorOptions {
            id: 0xa11ce,
            source: "in-process".to_owned(),
            max_seconds: Some(120.0),
            stop,
            stored_log: None,
            grace: Duration::from_secs(5),
        };
        std::thread::spawn(move || act::<TicTacToe>(&exp, &device, &first, channels, &opts))
    };
    let summary = learner.join().unwrap().expect("the learner finishes");
    stop.store(true, Ordering::Relaxed);
    let acted = actor.join().unwrap().expect("the actor stops cleanly");
    let seen = carrier.join().unwrap();

    eprintln!(
        "learner {summary:?}\nactor {acted:?}\nrepeated {} acked {} weights {:?}",
        seen.repeated,
        seen.acked.len(),
        seen.weights
    );
    assert_eq!(summary.steps, 60, "{}", summary.reason);
    assert!(seen.repeated > 0, "some deliveries were repeated");
    let early = &seen.early_acks;
    assert!(
        early.is_empty(),
        "{} acknowledged before written, e.g. {:?}",
        early.len(),
        &early[..early.len().min(3)]
    );
    let on_disk = ids_on_disk(&run_dir);
    let unique: HashSet<GameId> = on_disk.iter().copied().collect();
    assert_eq!(unique.len(), on_disk.len(), "a game was written twice");
    assert!(seen.acked.iter().all(|id| unique.contains(id)));
    // Every game handed to the learner before it stopped is in a chunk, once.
    assert!(unique.len() as u64 >= summary.games && summary.games > 0);
    assert!(unique.iter().all(|id| seen.games.contains(id)));
    // Several games per message (cluster.games_per_message, 100 ms at most).
    assert!(
        seen.batched > 0,
        "{} messages, none of several games",
        seen.messages
    );
    // Weights went out at the start and every 10 steps; the actor switched.
    assert_eq!(&seen.weights[..3], &[0, 10, 20], "{:?}", seen.weights);
    assert!(acted.weights_step >= 10 && acted.games > 0, "{acted:?}");
    let log = std::fs::read_to_string(run_dir.join("log.txt")).unwrap_or_default();
    assert!(!log.contains("panicked"), "{log}");
    // The two bad deliveries: logged with their reason, acknowledged, not trained on.
    assert_eq!(seen.bad_acked, 2);
    assert!(
        log.contains("games of othello; this learner trains tictactoe"),
        "{log}"
    );
    assert!(log.contains("not a usable replay chunk"), "{log}");
    std::fs::remove_dir_all(&root).unwrap();
    assert!(started.elapsed() < Duration::from_secs(240));
}
