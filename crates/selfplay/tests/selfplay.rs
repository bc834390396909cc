//! Self-play end to end against simple models: valid records, reproducibility,
//! shutdown in any order, resignation, cache. Each test has a time limit.

use az_game::{Game, Outcome};
use az_infer::{BatchModel, Server, ServerConfig, UniformModel};
use az_mcts::{GumbelRoot, RootPolicy, SearchConfig};
use az_selfplay::{GameRecord, PlayoutCap, RandomOpening, SelfPlay, SelfPlayConfig, StopReason};
use az_tictactoe::TicTacToe;
use std::sync::mpsc;
use std::time::Duration;

fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(secs))
        .expect("timed out: deadlock")
}

/// Deterministic, uneven answers computed from the encoded input alone.
#[derive(Clone, Debug)]
struct HashModel {
    /// Fixed value for the first player's positions (the second player gets its negation).
    first_player_value: Option<f32>,
    panic_after: Option<usize>,
    calls: usize,
}

impl BatchModel for HashModel {
    fn input_len(&self) -> usize {
        TicTacToe::SHAPE.len()
    }
    fn num_actions(&self) -> usize {
        9
    }
    fn forward(
        &mut self,
        n: usize,
        inputs: &[f32],
        masks: &[f32],
        policy: &mut [f32],
        value: &mut [f32],
    ) {
        self.calls += 1;
        if self.panic_after.is_some_and(|k| self.calls > k) {
            panic!("model failure on purpose");
        }
        let il = self.input_len();
        for i in 0..n {
            let h = inputs[i * il..(i + 1) * il]
                .iter()
                .fold(0u64, |h, x| az_game::mix64(h ^ u64::from(x.to_bits())));
            let mut logits = [0.0f32; 9];
            for (a, l) in logits.iter_mut().enumerate() {
                *l = (az_game::mix64(h ^ a as u64) >> 40) as f32 / (1u64 << 24) as f32 * 3.0;
            }
            az_infer::masked_softmax(
                &logits,
                &masks[i * 9..(i + 1) * 9],
                &mut policy[i * 9..(i + 1) * 9],
            );
            let row = &inputs[i * il..(i + 1) * il];
            // Own and opponent stones are equal in number when the first player moves.
            let first_to_move = row[..9].iter().sum::<f32>() == row[9..18].iter().sum::<f32>();
            value[i] = match self.first_player_value {
                Some(v) if first_to_move => v,
                Some(v) => -v,
                None => ((h >> 40) as f32 / (1u64 << 24) as f32) * 1.6 - 0.8,
            };
        }
    }
}

fn model() -> HashModel {
    HashModel {
        first_player_value: None,
        panic_after: None,
        calls: 0,
    }
}

fn config(games: u64) -> SelfPlayConfig {
    let base = SelfPlayConfig::default();
    SelfPlayConfig {
        parallel_games: 8,
        workers: 1,
        search: SearchConfig {
            simulations: 40,
            searches_per_game: 4,
            ..base.search
        },
        max_games: Some(games),
        seed: 11,
        ..base
    }
}

fn play<M: BatchModel>(
    m: M,
    cfg: SelfPlayConfig,
) -> (
    Vec<GameRecord<TicTacToe>>,
    Vec<StopReason>,
    az_selfplay::WorkerStats,
) {
    let server_cfg = ServerConfig {
        max_batch: 32,
        deadline: Duration::from_millis(1),
        threads: 2,
        max_outstanding: 0,
        math_threads: 0,
    };
    let (server, client) = Server::start(m, server_cfg);
    let (tx, rx) = flume::unbounded();
    let sp = SelfPlay::start::<TicTacToe>(&cfg, &client, &tx);
    drop((client, tx));
    let (reasons, stats) = sp.join().unwrap();
    server.join().unwrap();
    (rx.drain().collect(), reasons, stats)
}

fn check_record(r: &GameRecord<TicTacToe>) {
    let mut pos = TicTacToe::new();
    for (i, &mv) in r.moves.iter().enumerate() {
        let row = r.policy(i);
        assert!(
            (row.iter().sum::<f32>() - 1.0).abs() < 1e-4,
            "policy row {i} sums to 1"
        );
        assert!(
            row[pos.move_index(mv)] > 0.0 || i >= 8,
            "the played move was searched"
        );
        for (a, p) in row.iter().enumerate() {
            if *p > 0.0 {
                assert!(
                    pos.index_move(a).is_some_and(|m| pos.is_legal(m)),
                    "policy on an illegal move"
                );
            }
        }
        pos = pos.apply(mv).expect("recorded moves are legal");
    }
    match r.resigned {
        None => assert_eq!(pos.outcome(), Some(r.outcome)),
        Some(p) => assert_eq!(r.outcome, Outcome::Win(p.other())),
    }
    assert_eq!(r.positions().count(), r.len());
    assert_eq!(r.root_values.len(), r.len());
}

#[test]
fn records_are_valid_games_and_stop_at_max_games() {
    let (records, reasons, stats) = within(60, || play(model(), config(30)));
    assert_eq!(records.len(), 30);
    assert_eq!(reasons, [StopReason::Done]);
    records.iter().for_each(check_record);
    assert_eq!(stats.games, 30);
    assert_eq!(
        stats.moves,
        records.iter().map(|r| r.len() as u64).sum::<u64>()
    );
    assert!(stats.evaluations > 0 && stats.requests > 0);
    assert!(stats.time.gather > Duration::ZERO && stats.time.wait > Duration::ZERO);
}

#[test]
fn random_openings_are_legal_unsearched_and_kept_out_of_the_targets() {
    let mut cfg = config(120);
    cfg.random_opening = Some(RandomOpening {
        share: 0.5,
        max_plies: 4,
    });
    let (records, _, stats) = within(60, || play(model(), cfg));
    assert_eq!(records.len(), 120);
    let with = records.iter().filter(|r| r.random_plies > 0).count();
    // 120 games at 0.5: within about 4 standard errors.
    assert!(
        (36..=84).contains(&with),
        "{with} of 120 with a random opening"
    );
    let mut lengths = std::collections::BTreeSet::new();
    for r in &records {
        let k = r.random_plies;
        assert!(
            k <= 4 && k < r.len(),
            "a random opening of {k} in {} moves",
            r.len()
        );
        lengths.insert(k);
        let mut pos = TicTacToe::new();
        for (i, &mv) in r.moves.iter().enumerate() {
            let sum: f32 = r.policy(i).iter().sum();
            if i < k {
                assert_eq!((sum, r.root_values[i]), (0.0, 0.0), "ply {i} of {k} random");
            } else {
                assert!((sum - 1.0).abs() < 1e-4, "searched ply {i} sums to {sum}");
            }
            pos = pos.apply(mv).expect("recorded moves are legal");
        }
        assert_eq!(pos.outcome(), Some(r.outcome));
    }
    assert_eq!(lengths, (0..=4).collect(), "every length from 0 to 4 drawn");
    let random: usize = records.iter().map(|r| r.random_plies).sum();
    assert_eq!(stats.random_plies, random as u64);
    let searched: usize = records.iter().map(|r| r.training_len()).sum();
    assert_eq!(
        stats.moves, searched as u64,
        "random moves are not searched moves"
    );
}

#[test]
fn playout_cap_randomization_records_policy_targets_of_full_searches_only() {
    let mut cfg = config(60);
    cfg.playout_cap = Some(PlayoutCap {
        fast_simulations: 6,
        full_share: 0.3,
    });
    let (records, _, stats) = within(60, || play(model(), cfg));
    let (mut full, mut fast) = (0, 0);
    for r in &records {
        for i in 0..r.len() {
            let sum: f32 = r.policy(i).iter().sum();
            if sum == 0.0 {
                fast += 1;
            } else {
                assert!((sum - 1.0).abs() < 1e-4);
                full += 1;
            }
        }
    }
    assert_eq!(stats.fast_moves, fast);
    let share = full as f64 / (full + fast) as f64;
    // ~500 moves: 0.3 within about 4 standard errors.
    assert!(
        (share - 0.3).abs() < 0.09,
        "full share {share} ({full} of {})",
        full + fast
    );
    // Fast moves ask for fewer evaluations: 40 and 6 simulations at most per move.
    let most = 40 * full + 6 * fast;
    assert!(stats.evaluations <= most, "{} > {most}", stats.evaluations);
}

#[test]
fn gumbel_self_play_spends_its_simulations_and_records_valid_games() {
    let mut cfg = config(30);
    cfg.search.root = RootPolicy::Gumbel(GumbelRoot::default());
    cfg.search.simulations = 8;
    let (records, reasons, stats) = within(60, || play(model(), cfg));
    assert_eq!(
        (records.len(), reasons.as_slice()),
        (30, &[StopReason::Done][..])
    );
    records.iter().for_each(check_record);
    // At most 8 evaluations a move (terminal positions and collisions aside).
    assert!(stats.evaluations <= 8 * stats.moves);
    assert!(
        stats.evaluations >= 2 * stats.moves,
        "{} for {} moves",
        stats.evaluations,
        stats.moves
    );
}

#[test]
fn one_worker_is_bit_reproducible() {
    let a = within(60, || play(model(), config(20))).0;
    let b = within(60, || play(model(), config(20))).0;
    assert_eq!(a, b);
    let mut other = config(20);
    other.seed = 12;
    let c = within(60, || play(model(), other)).0;
    assert_ne!(a, c, "another seed plays other games");
}

#[test]
fn several_workers_share_the_server() {
    let mut cfg = config(40);
    cfg.workers = 3;
    cfg.parallel_games = 12;
    let (records, reasons, stats) = within(60, || play(model(), cfg));
    assert_eq!(records.len(), 40);
    assert_eq!(reasons.len(), 3);
    records.iter().for_each(check_record);
    assert_eq!(stats.workers, 3);
}

#[test]
fn stopping_or_dropping_the_receiver_ends_the_workers() {
    within(60, || {
        let (server, client) = Server::start(model(), ServerConfig::default());
        let (tx, rx) = flume::unbounded::<GameRecord<TicTacToe>>();
        let sp = SelfPlay::start(&config(u64::MAX), &client, &tx);
        drop((client, tx));
        let _ = rx.recv().unwrap();
        sp.stop();
        let (reasons, _) = sp.join().unwrap();
        assert!(
            reasons.iter().all(|r| *r == StopReason::Stopped),
            "{reasons:?}"
        );
        server.join().unwrap();

        let (server, client) = Server::start(model(), ServerConfig::default());
        let (tx, rx) = flume::unbounded::<GameRecord<TicTacToe>>();
        let sp = SelfPlay::start(&config(u64::MAX), &client, &tx);
        drop((client, tx, rx));
        let (reasons, _) = sp.join().unwrap();
        assert_eq!(reasons, [StopReason::RecordsDropped]);
        server.join().unwrap();
    });
}

#[test]
fn a_failing_server_ends_the_workers() {
    within(60, || {
        let m = HashModel {
            panic_after: Some(5),
            ..model()
        };
        let (server, client) = Server::start(
            m,
            ServerConfig {
                threads: 1,
                ..ServerConfig::default()
            },
        );
        let (tx, _rx) = flume::unbounded::<GameRecord<TicTacToe>>();
        let sp = SelfPlay::start(&config(1000), &client, &tx);
        drop(client);
        let (reasons, _) = sp.join().unwrap();
        assert_eq!(reasons, [StopReason::ServerGone]);
        assert!(server.join().is_err());
    });
}

#[test]
fn hopeless_positions_resign_except_in_check_games() {
    let mut cfg = config(60);
    cfg.resign_threshold = Some(-0.9);
    cfg.resign_check_share = 0.3;
    // Every evaluation says the first player is lost: it resigns at its first move.
    let m = HashModel {
        first_player_value: Some(-1.0),
        ..model()
    };
    let (records, _, stats) = within(60, || play(m, cfg));
    records.iter().for_each(check_record);
    let resigned = records.iter().filter(|r| r.resigned.is_some()).count();
    let checks = records.iter().filter(|r| r.resign_disabled).count();
    assert_eq!(
        resigned + checks,
        60,
        "every game either resigns or is a check game"
    );
    assert!(
        (5..=35).contains(&checks),
        "about 30% check games, got {checks}"
    );
    assert_eq!(stats.resignations as usize, resigned);
    for r in &records {
        if r.resign_disabled {
            assert_eq!(r.would_have_resigned, Some(az_game::Player::First));
        } else {
            assert_eq!((r.resigned, r.len()), (Some(az_game::Player::First), 0));
        }
    }
}

#[test]
fn the_cache_answers_repeated_positions() {
    let mut cfg = config(40);
    cfg.cache_size = 4096;
    let (records, _, stats) = within(60, || {
        play(
            UniformModel {
                input_len: 27,
                num_actions: 9,
            },
            cfg,
        )
    });
    records.iter().for_each(check_record);
    assert!(
        stats.cache_hit_rate() > 0.2,
        "tic-tac-toe repeats positions: {}",
        stats.cache_hit_rate()
    );
    assert_eq!(stats.cache_lookups, stats.cache_hits + stats.evaluations);
}
