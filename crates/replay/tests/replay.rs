use az_connect4::Connect4;
use az_game::{Game, Outcome};
use az_record::GameRecord;
use az_record::remote::{GameId, Origin};
use az_replay::{ReplayBuffer, ReplayError, ReplayStore, TrainBatch, decode_chunk, encode_chunk};
use az_tictactoe::TicTacToe;
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use std::path::Path;

fn random_game<G: Game>(rng: &mut SmallRng, index: u64) -> GameRecord<G> {
    let mut p = G::new();
    let (mut moves, mut policies, mut root_values) = (Vec::new(), Vec::new(), Vec::new());
    while !p.is_terminal() {
        let legal = p.legal_moves();
        let mut row = vec![0.0; G::NUM_ACTIONS];
        for &m in legal.iter() {
            row[p.move_index(m)] = rng.random::<f32>() + 0.01;
        }
        let s: f32 = row.iter().sum();
        policies.extend(row.iter().map(|x| x / s));
        root_values.push(rng.random::<f32>() * 2.0 - 1.0);
        let mv = legal[rng.random_range(0..legal.len())];
        moves.push(mv);
        p.apply_unchecked(mv);
    }
    GameRecord {
        moves,
        policies,
        root_values,
        outcome: p.outcome().unwrap(),
        random_plies: 0,
        resigned: None,
        resign_disabled: index % 3 == 0,
        would_have_resigned: None,
        worker: 0,
        game_index: index,
        origin: None,
    }
}

fn games<G: Game>(n: u64, seed: u64) -> Vec<GameRecord<G>> {
    let mut rng = SmallRng::seed_from_u64(seed);
    (0..n).map(|i| random_game(&mut rng, i)).collect()
}

#[test]
fn chunks_round_trip() {
    let gs = games::<Connect4>(20, 1);
    let bytes = encode_chunk(&gs);
    let back = decode_chunk::<Connect4>(&bytes, Path::new("c.azr")).unwrap();
    assert_eq!(back.len(), gs.len());
    for (a, b) in gs.iter().zip(&back) {
        assert_eq!(
            (&a.moves, &a.policies, &a.root_values, a.outcome),
            (&b.moves, &b.policies, &b.root_values, b.outcome)
        );
        assert_eq!(a.resign_disabled, b.resign_disabled);
    }
}

/// Games with an origin every other one: actor 7, numbered from `from`.
fn remote_games<G: Game>(n: u64, from: u64) -> Vec<GameRecord<G>> {
    let mut gs = games::<G>(n, from);
    for (k, g) in gs.iter_mut().enumerate() {
        let seq = from + k as u64;
        g.origin = (k % 2 == 0).then_some(Origin {
            id: GameId { actor: 7, seq },
            weights_step: 100 + seq,
        });
    }
    gs
}

#[test]
fn origins_round_trip_and_version_1_chunks_are_read() {
    let gs = remote_games::<TicTacToe>(6, 0);
    let back = decode_chunk::<TicTacToe>(&encode_chunk(&gs), Path::new("c.azr")).unwrap();
    let origins = |v: &[GameRecord<TicTacToe>]| v.iter().map(|g| g.origin).collect::<Vec<_>>();
    assert_eq!(origins(&back), origins(&gs));
    assert_eq!(back[2].origin.unwrap().weights_step, 102);
    // Version 1: the same games without the origin byte.
    let local: Vec<_> = gs
        .iter()
        .cloned()
        .map(|g| GameRecord { origin: None, ..g })
        .collect();
    let v3 = encode_chunk(&local);
    let mut v1 = v3[..v3.len() - 4].to_vec();
    v1[8..12].copy_from_slice(&1u32.to_le_bytes());
    // Each game ends with its origin code (0) and its random opening's length
    // (0 as a u16): drop them, walking from the end.
    let mut at = v1.len();
    for g in local.iter().rev() {
        let n = g.len();
        assert_eq!(v1[at - 3..at], [0, 0, 0]);
        v1.drain(at - 3..at);
        at -= 3 + 4 + 2 * n + 4 * (n * TicTacToe::NUM_ACTIONS + n) + 4;
    }
    let crc = crc32fast::hash(&v1);
    v1.extend_from_slice(&crc.to_le_bytes());
    let old = decode_chunk::<TicTacToe>(&v1, Path::new("v1.azr")).unwrap();
    assert_eq!(old.len(), 6);
    assert!(old.iter().all(|g| g.origin.is_none()));
    assert_eq!(old[5].moves, gs[5].moves);
}

#[test]
fn a_random_opening_round_trips_and_trains_only_the_searched_positions() {
    let mut gs = games::<Connect4>(4, 5);
    gs[1].random_plies = 3;
    gs[3].random_plies = gs[3].len();
    let back = decode_chunk::<Connect4>(&encode_chunk(&gs), Path::new("c.azr")).unwrap();
    assert_eq!(back, gs);
    let mut buffer = ReplayBuffer::<Connect4>::new(10_000);
    buffer.add_game(&back[1]);
    assert_eq!(buffer.len(), back[1].len() - 3);
    assert_eq!(back[1].training_len(), back[1].len() - 3);
    // The first position kept is the one after the three random moves.
    let third: Connect4 = back[1].positions().nth(3).unwrap().0;
    assert_eq!(buffer.get(0).0.position_hash(), third.position_hash());
    assert_eq!(buffer.get(0).1, back[1].policy(3));
    buffer.add_game(&back[3]);
    assert_eq!(
        buffer.len(),
        back[1].len() - 3,
        "an all-random game adds nothing"
    );
    // A length past the game's end is refused, naming the game.
    let mut bad = gs[..1].to_vec();
    bad[0].random_plies = bad[0].len() + 1;
    let err = decode_chunk::<Connect4>(&encode_chunk(&bad), Path::new("bad.azr")).unwrap_err();
    assert!(
        err.to_string().contains("bad.azr") && err.to_string().contains("game 0"),
        "{err}"
    );
}

#[test]
fn value_targets_mix_the_result_with_the_root_value_by_the_weight() {
    let g = &games::<Connect4>(1, 9)[0];
    for w in [0.0f32, 0.25, 1.0] {
        let mut buffer = ReplayBuffer::<Connect4>::new(1000).with_value_q_weight(w);
        buffer.add_game(g);
        for (i, (_, z)) in g.positions().enumerate() {
            let want = (1.0 - w) * z + w * g.root_values[i];
            assert!((buffer.get(i).2 - want).abs() < 1e-6, "w {w} ply {i}");
        }
    }
}

#[test]
fn the_store_knows_its_remote_games_until_their_chunk_leaves_the_window() {
    let dir = std::env::temp_dir().join(format!("az-replay-ids-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut buffer = ReplayBuffer::<TicTacToe>::new(1000);
    let mut store = ReplayStore::open(&dir, &mut buffer).unwrap();
    let first = remote_games::<TicTacToe>(4, 0);
    let id = |seq| GameId { actor: 7, seq };
    first.into_iter().for_each(|g| store.push(g));
    assert!(store.contains(&id(0)), "queued games are known");
    assert!(!store.contains(&id(1)), "a game without origin has no id");
    store.flush(1000).unwrap();
    let mut again = ReplayBuffer::<TicTacToe>::new(1000);
    let mut store = ReplayStore::<TicTacToe>::open(&dir, &mut again).unwrap();
    assert!(
        store.contains(&id(0)) && store.contains(&id(2)),
        "known after a restart"
    );
    assert!(!store.contains(&GameId { actor: 8, seq: 0 }));
    // Enough newer games to push the first chunk out of a small window.
    remote_games::<TicTacToe>(200, 10)
        .into_iter()
        .for_each(|g| store.push(g));
    store.flush(100).unwrap();
    assert!(!store.contains(&id(0)), "pruned with its chunk");
    assert!(store.contains(&id(10)));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn truncated_or_damaged_chunks_are_refused_with_the_file_name() {
    let bytes = encode_chunk(&games::<TicTacToe>(3, 2));
    let path = Path::new("runs/x/replay/chunk-7.azr");
    for cut in 0..bytes.len() {
        let e = decode_chunk::<TicTacToe>(&bytes[..cut], path).unwrap_err();
        assert!(
            matches!(e, ReplayError::Corrupt { .. }) && e.to_string().contains("chunk-7.azr"),
            "{e}"
        );
    }
    let mut rng = SmallRng::seed_from_u64(3);
    for _ in 0..300 {
        let mut bad = bytes.clone();
        let i = rng.random_range(0..bad.len());
        bad[i] ^= 1 << rng.random_range(0..8);
        assert!(decode_chunk::<TicTacToe>(&bad, path).is_err());
    }
    let e = decode_chunk::<Connect4>(&bytes, path)
        .unwrap_err()
        .to_string();
    assert!(e.contains("tictactoe") && e.contains("connect4"), "{e}");
}

#[test]
fn window_keeps_the_most_recent_positions() {
    let mut b = ReplayBuffer::<TicTacToe>::new(10);
    let p = TicTacToe::new();
    for i in 0..25 {
        b.push(p, &[0.0; 9], i as f32, &p);
    }
    assert_eq!((b.len(), b.added()), (10, 25));
    let values: Vec<f32> = (0..10).map(|i| b.get(i).2).collect();
    assert_eq!(values, (15..25).map(|v| v as f32).collect::<Vec<_>>());
}

#[test]
fn store_persists_and_resumes_the_window() {
    let dir = std::env::temp_dir().join(format!("az-replay-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let capacity = 60;
    let mut buffer = ReplayBuffer::<TicTacToe>::new(capacity);
    let mut store = ReplayStore::open(&dir, &mut buffer).unwrap();
    for (k, g) in games::<TicTacToe>(40, 4).into_iter().enumerate() {
        buffer.add_game(&g);
        store.push(g);
        if k % 5 == 4 {
            store.flush(capacity).unwrap();
        }
    }
    std::fs::write(dir.join("chunk-0000000099.tmp"), b"half a write").unwrap();
    let kept = store.chunk_count();
    assert!(
        kept < 8,
        "old chunks beyond the window are deleted ({kept} left)"
    );
    let mut again = ReplayBuffer::<TicTacToe>::new(capacity);
    let store2 = ReplayStore::open(&dir, &mut again).unwrap();
    assert_eq!(store2.chunk_count(), kept);
    assert!(!dir.join("chunk-0000000099.tmp").exists());
    assert_eq!(again.len(), buffer.len());
    for i in 0..buffer.len() {
        let (a, b) = (buffer.get(i), again.get(i));
        assert_eq!((a.0, a.1, a.2), (b.0, b.1, b.2), "position {i}");
    }
    // A damaged chunk stops the resume with its name.
    let first = std::fs::read_dir(&dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let len = std::fs::metadata(&first).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&first)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let e = ReplayStore::open(&dir, &mut ReplayBuffer::<TicTacToe>::new(capacity)).unwrap_err();
    assert!(
        e.to_string()
            .contains(&first.file_name().unwrap().to_string_lossy().to_string()),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sampling_is_uniform() {
    let n = 50;
    let mut b = ReplayBuffer::<TicTacToe>::new(n);
    for i in 0..n {
        b.push(
            TicTacToe::new(),
            &[1.0 / 9.0; 9],
            i as f32,
            &TicTacToe::new(),
        );
    }
    let mut rng = SmallRng::seed_from_u64(5);
    let mut batch = TrainBatch::default();
    let draws = 50_000;
    b.sample(draws, &mut rng, &mut batch);
    let mut counts = vec![0u32; n];
    for v in &batch.values {
        counts[*v as usize] += 1;
    }
    let expected = draws as f64 / n as f64;
    let chi2: f64 = counts
        .iter()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum();
    // 49 degrees of freedom: the 0.999 quantile is 85.35.
    assert!(chi2 < 85.35, "chi2 = {chi2}");
}

#[test]
fn augmentation_moves_board_mask_and_policy_together() {
    // An asymmetric connect4 position with a policy that tells columns apart.
    let p = Connect4::from_moves("1123").unwrap();
    let policy: Vec<f32> = (0..7).map(|c| (c + 1) as f32 / 28.0).collect();
    let mut b = ReplayBuffer::<Connect4>::new(4);
    b.push(p, &policy, 0.5, &p);
    let mut rng = SmallRng::seed_from_u64(6);
    let mut batch = TrainBatch::default();
    b.sample(200, &mut rng, &mut batch);
    let len = Connect4::SHAPE.len();
    let mut seen = [0; 2];
    for i in 0..batch.n {
        let input = &batch.inputs[i * len..(i + 1) * len];
        let pol = &batch.policies[i * 7..(i + 1) * 7];
        let mask = &batch.masks[i * 7..(i + 1) * 7];
        let sym = (0..2).find(|&s| {
            let t = p.transformed(s);
            let mut enc = vec![0.0; len];
            t.encode(&mut enc);
            enc == input
        });
        let s = sym.expect("the input is the position under one of its symmetries");
        seen[s] += 1;
        let t = p.transformed(s);
        let sym_map = Connect4::symmetry(s);
        for a in 0..7 {
            assert_eq!(
                pol[sym_map.actions[a] as usize], policy[a],
                "policy follows the board"
            );
            let legal = t.index_move(a).is_some_and(|m| t.is_legal(m));
            assert_eq!(mask[a] == 1.0, legal, "mask follows the board");
        }
        assert_eq!(batch.values[i], 0.5);
    }
    assert!(
        seen[0] > 50 && seen[1] > 50,
        "both symmetries drawn: {seen:?}"
    );
    assert_eq!(p.outcome(), None::<Outcome>);
}

/// Ownership targets: the game's last board seen from each sample's player to
/// move, under the sample's symmetry, beside the encoding it goes with.
#[test]
fn ownership_targets_are_the_last_board_from_the_movers_side() {
    // First player (x) wins in column 1 with four stones; o holds column 2.
    let line = "1212121";
    let end = Connect4::from_moves(line).unwrap();
    assert!(end.is_terminal());
    let mut g = games::<Connect4>(1, 3).remove(0);
    g.moves = line.bytes().map(|c| end_move(&end, c)).collect();
    g.policies = vec![1.0 / 7.0; 7 * 7];
    g.root_values = vec![0.0; 7];
    g.outcome = end.outcome().unwrap();
    assert_eq!(g.final_position(), end);
    let mut b = ReplayBuffer::<Connect4>::new(100).with_ownership().unwrap();
    b.add_game(&g);
    let mut batch = TrainBatch::default();
    b.sample(200, &mut SmallRng::seed_from_u64(4), &mut batch);
    let (len, cells) = (Connect4::SHAPE.len(), Connect4::SHAPE.cells());
    assert_eq!(batch.owners.len(), 200 * cells);
    let mut seen = [0; 2];
    for i in 0..batch.n {
        let input = &batch.inputs[i * len..(i + 1) * len];
        let owners = &batch.owners[i * cells..(i + 1) * cells];
        // The sample's position and symmetry: those whose encoding it is (the
        // empty board of ply 0 is its own mirror image: either symmetry).
        let candidates: Vec<(usize, usize)> = (0..7)
            .flat_map(|ply| (0..2).map(move |s| (ply, s)))
            .filter(|&(ply, s)| {
                let p = Connect4::from_moves(&line[..ply]).unwrap().transformed(s);
                let mut enc = vec![0.0; len];
                p.encode(&mut enc);
                enc == input
            })
            .collect();
        assert!(
            !candidates.is_empty(),
            "sample {i} is no position of the game"
        );
        let found = candidates
            .iter()
            .find(|&&(ply, sym)| owners == expected_owners(ply, sym))
            .unwrap_or_else(|| panic!("sample {i}: owners {owners:?} fit none of {candidates:?}"));
        if candidates.len() == 1 {
            seen[found.1] += 1;
        }
    }
    assert!(seen[0] > 40 && seen[1] > 40, "{seen:?}");
    // Without ownership the batch carries none.
    let mut plain = ReplayBuffer::<Connect4>::new(100);
    plain.add_game(&g);
    batch.clear();
    plain.sample(10, &mut SmallRng::seed_from_u64(4), &mut batch);
    assert!(batch.owners.is_empty());
}

/// The last board of the game "1212121" seen by the player to move at `ply`,
/// under symmetry `sym`: x's four stones in column 1 (index 0, or 6 mirrored),
/// o's three in column 2 (index 1, or 5), plane row 5 the bottom; x moves at
/// even plies.
fn expected_owners(ply: usize, sym: usize) -> Vec<f32> {
    let mine = if ply % 2 == 0 { 1.0 } else { -1.0 };
    let (x_col, o_col) = if sym == 0 { (0, 1) } else { (6, 5) };
    (0..42)
        .map(|cell| match (cell / 7, cell % 7) {
            (2..=5, c) if c == x_col => mine,
            (3..=5, c) if c == o_col => -mine,
            _ => 0.0,
        })
        .collect()
}

fn end_move(p: &Connect4, column: u8) -> <Connect4 as Game>::Move {
    p.parse_move_prefix(&(column as char).to_string())
        .unwrap()
        .0
}
