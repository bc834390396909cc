//! The Gumbel root and the other compute savers of the root: sequential
//! halving spends exactly its budget (alone, with several leaves per pass, many
//! searches in one request); with a perfect value it picks the best move;
//! completed-Q targets match a hand computation; forced playouts and policy
//! target pruning; a move's budget set for playout cap randomization.
mod common;

use az_connect4::Connect4;
use az_game::Game;
use az_mcts::{
    Evaluations, Evaluator, EvaluatorGone, GumbelRoot, Leaf, Pass, PuctRoot, RootPolicy, Search,
    SearchConfig, TemperatureSchedule, Uniform, halving_schedule,
};
use az_tictactoe::TicTacToe;
use common::{HashEval, budget};
use std::collections::HashMap;

fn gumbel(considered: usize, sample: bool) -> RootPolicy {
    RootPolicy::Gumbel(GumbelRoot {
        considered,
        sample_plies: if sample { usize::MAX } else { 0 },
        ..GumbelRoot::default()
    })
}

fn gumbel_config(considered: usize, simulations: u32, k: usize, seed: u64) -> SearchConfig {
    SearchConfig {
        root: gumbel(considered, true),
        seed,
        ..budget(SearchConfig::default(), simulations, k)
    }
}

/// Visits of each root child (by policy index).
fn child_visits<G: Game>(search: &Search<G>) -> Vec<(usize, u32)> {
    search
        .tree()
        .children(0)
        .map(|(_, n)| (n.action(), n.visits()))
        .collect()
}

/// The per-move visit counts sequential halving hands out, largest first.
fn planned(m: usize, n: u32) -> Vec<u32> {
    let s = halving_schedule(m, n);
    let mut per_move = vec![0u32; m];
    // The level-l entries go to the moves still at level l: the first
    // count(level l) moves of the ranking.
    for level in 0..=s.last().copied().unwrap_or(0) {
        let k = s.iter().filter(|&&l| l == level).count();
        per_move.iter_mut().take(k).for_each(|v| *v += 1);
    }
    per_move.sort_unstable_by(|a, b| b.cmp(a));
    per_move
}

#[test]
fn sequential_halving_spends_exactly_the_budget_with_any_leaves_per_pass() {
    for (m, n) in [(4, 17), (16, 33), (2, 9), (7, 65), (3, 5)] {
        for k in [1, 3, 8] {
            for seed in 0..4 {
                let mut search = Search::new(Connect4::new(), gumbel_config(m, n, k, seed));
                let report = search.run(&mut HashEval::default()).unwrap();
                assert_eq!(report.simulations, n, "m {m} n {n} k {k}");
                // A fresh root: its own evaluation, then n - 1 descents.
                let mut visits: Vec<u32> = child_visits(&search).iter().map(|v| v.1).collect();
                visits.sort_unstable_by(|a, b| b.cmp(a));
                let mut want = planned(m.min(7), n - 1);
                want.resize(7, 0);
                assert_eq!(visits, want, "m {m} n {n} k {k} seed {seed}");
            }
        }
    }
}

#[test]
fn a_kept_subtree_does_not_shorten_the_next_move() {
    let mut search = Search::new(Connect4::new(), gumbel_config(4, 16, 4, 3));
    let mut eval = HashEval::default();
    for _ in 0..6 {
        search.run(&mut eval).unwrap();
        let before: u32 = child_visits(&search).iter().map(|v| v.1).sum();
        let mv = search.result().chosen.unwrap();
        search.play(mv);
        let kept: u32 = child_visits(&search).iter().map(|v| v.1).sum();
        let report = search.run(&mut eval).unwrap();
        let after: u32 = child_visits(&search).iter().map(|v| v.1).sum();
        assert!(before > 0);
        // An expanded root: all 16 simulations are descents of this move.
        assert_eq!(report.simulations, 16);
        assert_eq!(after, kept + 16);
        let mv = search.result().chosen.unwrap();
        search.play(mv);
    }
}

#[test]
fn many_searches_in_one_request_each_spend_their_budget() {
    let mut searches: Vec<Search<Connect4>> = (0..12)
        .map(|s| Search::new(Connect4::new(), gumbel_config(8, 24, 4, s)))
        .collect();
    let mut pass = Pass::default();
    let mut eval = HashEval::default();
    let mut no_cache = az_mcts::EvalCache::off();
    for _move in 0..5 {
        while searches.iter().any(|s| !s.is_done()) {
            for (i, s) in searches.iter_mut().enumerate() {
                pass.gather(i, s);
            }
            let answers = eval.evaluate(pass.leaves()).unwrap();
            pass.apply(&mut searches, &answers, &mut no_cache);
        }
        for s in &mut searches {
            let result = s.result();
            let mv = result.chosen.unwrap();
            // The target is a distribution over the legal moves.
            let sum: f32 = result.policy.iter().sum();
            assert!((sum - 1.0).abs() < 1e-4, "{sum}");
            let legal: Vec<usize> = s
                .position()
                .legal_moves()
                .iter()
                .map(|&m| s.position().move_index(m))
                .collect();
            for (a, p) in result.policy.iter().enumerate() {
                assert!(*p == 0.0 || legal.contains(&a));
            }
            s.play(mv);
        }
    }
}

/// Exact values of tic-tac-toe (negamax), priors uniform.
#[derive(Default)]
struct Perfect {
    memo: HashMap<u64, f32>,
    policy: Vec<f32>,
    values: Vec<f32>,
}

impl Perfect {
    fn value(&mut self, p: &TicTacToe) -> f32 {
        if let Some(o) = p.outcome() {
            return o.value_for(p.to_move());
        }
        let h = p.position_hash();
        if let Some(&v) = self.memo.get(&h) {
            return v;
        }
        let mut best = -1.0f32;
        for &mv in p.legal_moves().iter() {
            let mut next = *p;
            next.apply_unchecked(mv);
            best = best.max(-self.value(&next));
        }
        self.memo.insert(h, best);
        best
    }
}

impl Evaluator<TicTacToe> for Perfect {
    fn evaluate(&mut self, leaves: &[Leaf<TicTacToe>]) -> Result<Evaluations<'_>, EvaluatorGone> {
        let a = TicTacToe::NUM_ACTIONS;
        self.policy.clear();
        self.values.clear();
        for leaf in leaves {
            self.policy.extend(std::iter::repeat_n(1.0, a));
            let v = self.value(leaf.position());
            self.values.push(v);
        }
        Ok(Evaluations::new(&self.policy, &self.values, a))
    }
}

#[test]
fn with_a_perfect_value_it_plays_a_best_move() {
    let mut perfect = Perfect::default();
    // Positions with moves of different values: win at once, block, or lose.
    let positions = [
        "a1 a2 b1 b2",
        "a1 b2 c3",
        "b2 a1 c1",
        "a1 b1 b2",
        "b2 a1 a3 c1 c3",
    ];
    for line in positions {
        let position = TicTacToe::from_moves(line).unwrap();
        let best = perfect.value(&position);
        let moves = position.legal_moves();
        // The root, then one visit to every move: each one's value is exact.
        let sims = moves.len() as u32 + 1;
        for (sample, c_scale, seeds) in [(false, 0.1, 0..1), (true, 1.0, 0..50)] {
            for seed in seeds {
                let config = SearchConfig {
                    root: RootPolicy::Gumbel(GumbelRoot {
                        considered: 16,
                        c_scale,
                        sample_plies: if sample { usize::MAX } else { 0 },
                        ..GumbelRoot::default()
                    }),
                    seed,
                    ..budget(SearchConfig::default(), sims, 2)
                };
                let mut search = Search::new(position, config);
                search.run(&mut perfect).unwrap();
                let mv = search.result().chosen.unwrap();
                let mut next = position;
                next.apply_unchecked(mv);
                let got = -perfect.value(&next);
                assert_eq!(
                    got,
                    best,
                    "{line}: {} (sample {sample}, seed {seed})",
                    position.format_move(mv)
                );
            }
        }
    }
}

/// A position with its priors (policy index, prior) and value.
type Entry = (TicTacToe, Vec<(usize, f32)>, f32);

/// Priors and values set by hand for a few positions; uniform and 0 elsewhere.
struct Table {
    entries: Vec<Entry>,
    policy: Vec<f32>,
    values: Vec<f32>,
}

impl Evaluator<TicTacToe> for Table {
    fn evaluate(&mut self, leaves: &[Leaf<TicTacToe>]) -> Result<Evaluations<'_>, EvaluatorGone> {
        let a = TicTacToe::NUM_ACTIONS;
        self.policy.clear();
        self.values.clear();
        for leaf in leaves {
            let start = self.policy.len();
            self.policy.resize(start + a, 1.0);
            let mut value = 0.0;
            if let Some((_, priors, v)) = self.entries.iter().find(|e| e.0 == *leaf.position()) {
                self.policy[start..].fill(0.0);
                for &(i, p) in priors {
                    self.policy[start + i] = p;
                }
                value = *v;
            }
            self.values.push(value);
        }
        Ok(Evaluations::new(&self.policy, &self.values, a))
    }
}

#[test]
fn completed_q_targets_match_a_hand_computation() {
    // X a1 c3, O b2 a3: X to move, 5 legal moves, none ends the game.
    let root = TicTacToe::from_moves("a1 b2 c3 a3").unwrap();
    let legal: Vec<usize> = root
        .legal_moves()
        .iter()
        .map(|&m| root.move_index(m))
        .collect();
    assert_eq!(legal.len(), 5);
    let priors = [0.4, 0.3, 0.1, 0.1, 0.1];
    let child = |i: usize| {
        let mut p = root;
        p.apply_unchecked(root.index_move(legal[i]).unwrap());
        p
    };
    // Root value 0.1 for X; the two best-prior children are worth -0.4 and
    // 0.2 to O (0.4 and -0.2 to X).
    let mut table = Table {
        entries: vec![
            (root, legal.iter().copied().zip(priors).collect(), 0.1),
            (child(0), vec![], -0.4),
            (child(1), vec![], 0.2),
        ],
        policy: Vec::new(),
        values: Vec::new(),
    };
    // 3 simulations: the root, then one visit to each of the top 2 (no sampling).
    let config = SearchConfig {
        root: gumbel(2, false),
        ..budget(SearchConfig::default(), 3, 1)
    };
    let mut search = Search::new(root, config);
    search.run(&mut table).unwrap();
    let result = search.result();

    // By hand (Danihelka et al. 2022, appendix D; values rescaled to [0, 1],
    // c_visit 50, c_scale 0.1):
    let (q0, q1) = (0.4f64, -0.2f64);
    let weighted = (0.4 * q0 + 0.3 * q1) / 0.7;
    let mixed = (0.1 + 2.0 * weighted) / 3.0; // 0.1 + 2 visits, then / (2 + 1)
    let (lo, hi) = (q1.min(mixed), q0.max(mixed));
    let scale = (50.0 + 1.0) * 0.1 / (hi - lo);
    let sigma = [q0, q1, mixed, mixed, mixed].map(|q| (q - lo) * scale);
    let logits: Vec<f64> = (0..5)
        .map(|i| f64::from(priors[i]).ln() + sigma[i])
        .collect();
    let top = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let total: f64 = logits.iter().map(|l| (l - top).exp()).sum();
    for i in 0..5 {
        let want = (logits[i] - top).exp() / total;
        let got = f64::from(result.policy[legal[i]]);
        assert!((got - want).abs() < 1e-5, "move {i}: {got} vs {want}");
    }
    // The move: the better of the two considered.
    assert_eq!(root.move_index(result.chosen.unwrap()), legal[0]);
}

#[test]
fn forced_playouts_visit_every_child_and_pruning_takes_them_back() {
    let k = 2.0;
    let config = SearchConfig {
        root: RootPolicy::Puct(PuctRoot {
            dirichlet_epsilon: 0.25,
            forced_playouts: Some(k),
            temperature: TemperatureSchedule { moves: 0 },
            ..PuctRoot::default()
        }),
        ..budget(SearchConfig::default(), 400, 4)
    };
    for seed in 0..5 {
        let mut search = Search::new(
            Connect4::new(),
            SearchConfig {
                seed,
                ..config.clone()
            },
        );
        search.run(&mut HashEval::default()).unwrap();
        let total: u32 = child_visits(&search).iter().map(|v| v.1).sum();
        let mut most = (0, 0);
        for (_, n) in search.tree().children(0) {
            // Every child got its forced visits (a descent may have been one short
            // when the count grew during the last pass).
            let forced = (k * n.prior() * total as f32).sqrt();
            assert!(
                n.visits() as f32 >= forced - 1.0,
                "{} < {forced}",
                n.visits()
            );
            most = most.max((n.visits(), n.action()));
        }
        let result = search.result();
        // The most visited keeps its visits; others keep at most theirs, and a
        // pruned child holds none or more than one visit.
        let kept_total: f32 = most.0 as f32 / result.policy[most.1];
        for (_, n) in search.tree().children(0) {
            let kept = result.policy[n.action()] * kept_total;
            assert!(kept <= n.visits() as f32 + 1e-3, "{kept} > {}", n.visits());
            assert!(kept == 0.0 || kept > 1.0 - 1e-3);
        }
        assert!(kept_total < total as f32, "pruning took nothing back");
        // Without forced playouts the target is the visit distribution.
        let plain = SearchConfig {
            root: config.root.deterministic(),
            seed,
            ..config.clone()
        };
        let mut search = Search::new(Connect4::new(), plain);
        search.run(&mut HashEval::default()).unwrap();
        let result = search.result();
        let total: u32 = child_visits(&search).iter().map(|v| v.1).sum();
        for (a, v) in child_visits(&search) {
            assert!((result.policy[a] - v as f32 / total as f32).abs() < 1e-6);
        }
    }
}

#[test]
fn a_fast_search_has_its_own_budget_and_no_noise() {
    let config = SearchConfig {
        root: RootPolicy::Puct(PuctRoot {
            dirichlet_epsilon: 0.5,
            ..PuctRoot::default()
        }),
        tree_reuse: false,
        ..budget(SearchConfig::default(), 200, 4)
    };
    let mut search = Search::new(Connect4::new(), config);
    search.set_move_budget(24, false);
    let report = search.run(&mut Uniform::default()).unwrap();
    assert_eq!(report.simulations, 24);
    // No noise: the priors are the evaluator's (uniform).
    for (_, n) in search.tree().children(0) {
        assert!((n.prior() - 1.0 / 7.0).abs() < 1e-6);
    }
    let mv = search.result().chosen.unwrap();
    search.play(mv);
    // The next move is a full one again, with noise.
    let report = search.run(&mut Uniform::default()).unwrap();
    assert_eq!(report.simulations, 200);
    assert!(
        search
            .tree()
            .children(0)
            .any(|(_, n)| (n.prior() - 1.0 / 7.0).abs() > 1e-3)
    );
    // Gumbel: the fast budget is its schedule's.
    let mut search = Search::new(Connect4::new(), gumbel_config(16, 64, 4, 1));
    search.set_move_budget(8, false);
    assert_eq!(search.run(&mut Uniform::default()).unwrap().simulations, 8);
}

#[test]
fn gumbel_noise_stops_at_its_ply() {
    // Uniform priors and values: only the Gumbel variables tell the moves apart.
    let choose = |ply: usize, sample: bool, seed: u64| {
        let config = SearchConfig {
            root: RootPolicy::Gumbel(GumbelRoot {
                sample_plies: if sample { 2 } else { 0 },
                ..GumbelRoot::default()
            }),
            seed,
            ..budget(SearchConfig::default(), 16, 2)
        };
        let mut position = Connect4::new();
        for _ in 0..ply {
            position.apply_unchecked(position.legal_moves()[3]);
        }
        let mut search = Search::new(position, config);
        search.run(&mut Uniform::default()).unwrap();
        search.result().chosen.unwrap()
    };
    let sampled: std::collections::HashSet<_> = (0..20).map(|seed| choose(1, true, seed)).collect();
    assert!(
        sampled.len() > 1,
        "before its ply the noise varies the move"
    );
    let plain = choose(2, false, 0);
    for seed in 0..20 {
        assert_eq!(
            choose(2, true, seed),
            plain,
            "seed {seed}: no noise from ply 2"
        );
    }
}
