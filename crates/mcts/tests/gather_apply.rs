//! gather / apply invariants, sequential equivalence, tactics, noise, temperature.
mod common;

use az_connect4::Connect4;
use az_game::{Game, Player};
use az_mcts::{
    Fpu, Leaf, PuctRoot, Rollout, RootPolicy, Search, SearchConfig, TemperatureSchedule, Tree,
    Uniform, VirtualLoss,
};
use az_tictactoe::TicTacToe;
use common::{HashEval, budget, hash_eval};
use std::collections::{HashMap, HashSet};

fn config(vl: VirtualLoss) -> SearchConfig {
    SearchConfig {
        virtual_loss: vl,
        collision_limit: 4,
        ..SearchConfig::default()
    }
}

/// Applies the leaves in a scrambled order (evaluations arrive in any order).
fn apply_all<G: Game>(tree: &mut Tree<G>, leaves: &mut Vec<Leaf<G>>, round: usize) {
    let mut policy = vec![0.0; G::NUM_ACTIONS];
    let n = leaves.len();
    for j in 0..n {
        // A rotation, reversed on odd rounds: a permutation of the leaves.
        let j = if round % 2 == 1 { n - 1 - j } else { j };
        let leaf = &leaves[(j + round) % n];
        let v = hash_eval(leaf.position(), &mut policy);
        tree.apply(leaf, &policy, v);
    }
    leaves.clear();
}

#[test]
fn pending_visits_return_to_zero_and_leaves_are_distinct() {
    for vl in [
        VirtualLoss::Loss(1.0),
        VirtualLoss::Visits(1.0),
        VirtualLoss::Loss(3.0),
    ] {
        for k in [1, 2, 4, 16] {
            let mut tree = Tree::new(Connect4::new(), config(vl));
            let mut leaves = Vec::new();
            let mut collisions = 0;
            for round in 0..200 {
                let g = tree.gather(k, &mut leaves);
                collisions += g.collisions;
                assert_eq!(g.leaves as usize, leaves.len());
                assert!(g.leaves + g.terminals + g.collisions <= k as u32);
                // Leaves of one round are distinct nodes, never terminal.
                let nodes: HashSet<usize> = leaves.iter().map(|l| l.node()).collect();
                assert_eq!(nodes.len(), leaves.len(), "{vl:?} k={k}: duplicate leaf");
                assert!(leaves.iter().all(|l| !l.position().is_terminal()));
                assert!(
                    leaves
                        .iter()
                        .all(|l| *l.moves() == *l.position().legal_moves())
                );
                assert_eq!(tree.total_pending() > 0, !leaves.is_empty());
                apply_all(&mut tree, &mut leaves, round);
                assert_eq!(
                    tree.total_pending(),
                    0,
                    "{vl:?} k={k}: pending left after apply"
                );
                assert_eq!(tree.in_flight(), 0);
            }
            // Every simulation is one visit of the root.
            let s = tree.stats();
            assert_eq!(u64::from(tree.root_visits()), s.leaves + s.terminals);
            assert_eq!(s.collisions, u64::from(collisions));
            if k == 1 {
                assert_eq!(collisions, 0);
            }
        }
    }
}

#[test]
fn collisions_are_reported_and_stop_the_round() {
    // First round: only the root can be gathered; the second descent collides.
    let cfg = SearchConfig {
        collision_limit: 1,
        ..SearchConfig::default()
    };
    let mut tree = Tree::new(TicTacToe::new(), cfg);
    let mut leaves = Vec::new();
    let g = tree.gather(8, &mut leaves);
    assert_eq!((g.leaves, g.collisions), (1, 1));
    apply_all(&mut tree, &mut leaves, 0);
    // Nine children: eight descents spread over eight different children.
    let g = tree.gather(8, &mut leaves);
    assert_eq!((g.leaves, g.collisions), (8, 0));
    let g2 = tree.gather(8, &mut leaves);
    // One child is left; then descents collide and the round stops at the limit.
    assert_eq!((g2.leaves, g2.collisions), (1, 1));
    apply_all(&mut tree, &mut leaves, 1);
    assert_eq!(tree.total_pending(), 0);
}

/// The sequential algorithm written independently: recursive, one node at a time.
struct RefNode {
    visits: u32,
    value_sum: f32, // from the view of the player who chose the edge into it
    prior: f32,
    children: Vec<(usize, RefNode)>, // (policy index, child)
}

fn ref_simulate<G: Game>(node: &mut RefNode, pos: &G, cfg: &SearchConfig) -> f32 {
    // Returns the value for the player to move at `pos`.
    if let Some(o) = pos.outcome() {
        o.value_for(pos.to_move())
    } else if node.children.is_empty() && node.visits == 0 {
        let mut policy = vec![0.0; G::NUM_ACTIONS];
        let v = hash_eval(pos, &mut policy);
        let moves = pos.legal_moves();
        let sum: f32 = moves.iter().map(|&m| policy[pos.move_index(m)]).sum();
        node.children = moves
            .iter()
            .map(|&m| {
                let a = pos.move_index(m);
                (
                    a,
                    RefNode {
                        visits: 0,
                        value_sum: 0.0,
                        prior: policy[a] / sum,
                        children: vec![],
                    },
                )
            })
            .collect();
        v
    } else {
        let n = node.visits as f32;
        let c = ((1.0 + n + cfg.c_base) / cfg.c_base).ln() + cfg.c_init;
        let Fpu::Absolute(fpu) = cfg.fpu else {
            unreachable!()
        };
        let mut best = 0;
        let mut best_score = f32::NEG_INFINITY;
        for (i, (_, ch)) in node.children.iter().enumerate() {
            let q = if ch.visits == 0 {
                fpu
            } else {
                ch.value_sum / ch.visits as f32
            };
            let score = q + c * n.sqrt() * ch.prior / (1.0 + ch.visits as f32);
            if score > best_score {
                best_score = score;
                best = i;
            }
        }
        let (a, child) = &mut node.children[best];
        let mut next = pos.clone();
        next.apply_unchecked(pos.index_move(*a).unwrap());
        let v = ref_simulate(child, &next, cfg);
        let v_here = if next.to_move() == pos.to_move() {
            v
        } else {
            -v
        };
        child.visits += 1;
        child.value_sum += v_here;
        v_here
    }
}

fn compare<G: Game>(tree: &Tree<G>, index: usize, r: &RefNode, path: &str) {
    let kids: Vec<_> = tree.children(index).collect();
    assert_eq!(kids.len(), r.children.len(), "{path}: children");
    for ((i, n), (a, rc)) in kids.into_iter().zip(&r.children) {
        assert_eq!(n.action(), *a, "{path}");
        assert_eq!(n.visits(), rc.visits, "{path}/{a}: visits");
        assert!(
            (n.q() * n.visits() as f32 - rc.value_sum).abs() < 1e-3,
            "{path}/{a}: value"
        );
        compare(tree, i, rc, &format!("{path}/{a}"));
    }
}

#[test]
fn k1_is_exactly_the_sequential_algorithm() {
    let cfg = SearchConfig {
        seed: 7,
        ..SearchConfig::default()
    };
    for start in ["", "b2", "a1b2"] {
        let pos = TicTacToe::from_moves(start).unwrap();
        let mut search = Search::new(pos, budget(cfg.clone(), 3000, 1));
        search.run(&mut HashEval::default()).unwrap();
        let tree = search.tree();
        let mut root = RefNode {
            visits: 0,
            value_sum: 0.0,
            prior: 1.0,
            children: vec![],
        };
        for _ in 0..3000 {
            ref_simulate(&mut root, &pos, &cfg);
            root.visits += 1;
        }
        assert_eq!(tree.root_visits(), root.visits);
        compare(tree, 0, &root, start);
        // Same seed, same tree.
        let mut again = Search::new(pos, budget(cfg.clone(), 3000, 1));
        again.run(&mut HashEval::default()).unwrap();
        assert_eq!(again.tree().nodes(), tree.nodes());
    }
}

#[test]
fn terminal_wins_are_found_by_the_rules() {
    // X to move wins at c1 (a1 b1 taken by X) and must not lose elsewhere.
    let pos = TicTacToe::from_moves("a1a2b1b2").unwrap();
    let mut search = Search::new(pos, budget(SearchConfig::default(), 400, 4));
    search.run(&mut Uniform::default()).unwrap();
    let result = search.result();
    assert_eq!(pos.format_move(result.chosen.unwrap()), "c1");
    assert!(result.value > 0.5, "root value {}", result.value);
    let best = &result.moves[0];
    assert!(
        best.q > 0.99,
        "a won terminal is worth +1 to the chooser: {best:?}"
    );
}

fn rollout_move(line: &str, seed: u64) -> String {
    let pos = Connect4::from_moves(line).unwrap();
    let cfg = SearchConfig {
        seed,
        ..SearchConfig::default()
    };
    let mut search = Search::new(pos, budget(cfg, 3000, 1));
    search.run(&mut Rollout::new(1, seed)).unwrap();
    pos.format_move(search.result().chosen.unwrap())
}

#[test]
fn rollout_search_wins_and_blocks_in_connect4() {
    // X to move has three stacked in column 4 (O three in column 3): win at 4.
    assert_eq!(rollout_move("434343", 1), "4");
    // X to move has columns 1-3 on the bottom row: win at 4.
    assert_eq!(rollout_move("172736", 2), "4");
    // O to move must block X's three in column 5.
    assert_eq!(rollout_move("51525", 3), "5");
    // O to move must block X's bottom row 2-4 at 5 (O already holds 1).
    assert_eq!(rollout_move("21314", 4), "5");
    // O to move must block X's bottom row 1-3 at 4.
    assert_eq!(rollout_move("17273", 5), "4");
}

#[test]
fn root_noise_is_dirichlet() {
    // With epsilon 1 the root priors are a pure Dirichlet(alpha) sample over the
    // 7 moves: each has mean 1/7 and variance (1/7)(6/7)/(7·alpha + 1).
    let alpha = 0.5;
    let trials = 3000;
    let mut sum = [0.0f64; 7];
    let mut sum_sq = [0.0f64; 7];
    for seed in 0..trials {
        let cfg = SearchConfig {
            root: RootPolicy::Puct(PuctRoot {
                dirichlet_alpha: alpha,
                dirichlet_epsilon: 1.0,
                ..PuctRoot::default()
            }),
            seed,
            ..budget(SearchConfig::default(), 1, 1)
        };
        let mut search = Search::new(Connect4::new(), cfg);
        search.run(&mut Uniform::default()).unwrap();
        let priors: Vec<f32> = search.tree().children(0).map(|(_, n)| n.prior()).collect();
        assert!((priors.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        for (i, p) in priors.iter().enumerate() {
            sum[i] += f64::from(*p);
            sum_sq[i] += f64::from(*p) * f64::from(*p);
        }
    }
    let mean = 1.0 / 7.0;
    let var = mean * (1.0 - mean) / (7.0 * f64::from(alpha) + 1.0);
    for i in 0..7 {
        let m = sum[i] / trials as f64;
        let v = sum_sq[i] / trials as f64 - m * m;
        // Standard error of the mean is sqrt(var / trials) ≈ 0.0033; allow 5 of them.
        assert!(
            (m - mean).abs() < 5.0 * (var / trials as f64).sqrt(),
            "move {i}: mean {m}"
        );
        assert!(
            (v / var - 1.0).abs() < 0.15,
            "move {i}: variance {v} vs {var}"
        );
    }
}

#[test]
fn temperature_one_samples_by_visits_and_zero_takes_the_most_visited() {
    let config = |temperature_moves| SearchConfig {
        seed: 3,
        root: RootPolicy::Puct(PuctRoot {
            temperature: TemperatureSchedule {
                moves: temperature_moves,
            },
            ..PuctRoot::default()
        }),
        ..budget(SearchConfig::default(), 700, 1)
    };
    // Temperature 1 at ply 0 (the first move of the schedule).
    let mut search = Search::new(Connect4::new(), config(1));
    search.run(&mut HashEval::default()).unwrap();
    let stats = search.tree().root_stats();
    let total: u32 = stats.iter().map(|s| s.visits).sum();
    let draws = 20_000;
    let mut counts: HashMap<usize, u32> = HashMap::new();
    let mut result = Default::default();
    for _ in 0..draws {
        search.result_into(&mut result);
        let mv = result.chosen.unwrap();
        *counts.entry(search.position().move_index(mv)).or_default() += 1;
    }
    // Pearson chi-square with 6 degrees of freedom; 22.46 is the 0.999 quantile.
    let chi2: f64 = stats
        .iter()
        .map(|s| {
            let expected = f64::from(draws) * f64::from(s.visits) / f64::from(total);
            let seen = f64::from(*counts.get(&s.index).unwrap_or(&0));
            (seen - expected).powi(2) / expected
        })
        .sum();
    assert!(chi2 < 22.46, "chi2 = {chi2}: {counts:?} vs {stats:?}");
    // Temperature 0: the same tree (same seed, same evaluator), its most visited move.
    let mut greedy = Search::new(Connect4::new(), config(0));
    greedy.run(&mut HashEval::default()).unwrap();
    assert_eq!(greedy.tree().nodes(), search.tree().nodes());
    let best = greedy.result().chosen.unwrap();
    assert_eq!(greedy.position().move_index(best), stats[0].index);
}

#[test]
fn play_keeps_the_chosen_subtree() {
    let mut search = Search::new(TicTacToe::new(), budget(SearchConfig::default(), 2000, 4));
    search.run(&mut HashEval::default()).unwrap();
    let mv = search.result().chosen.unwrap();
    let tree = search.tree();
    let (child, before) = tree
        .children(0)
        .find(|(_, n)| n.action() == tree.root().move_index(mv))
        .map(|(i, n)| (i, *n))
        .unwrap();
    let grandchildren: Vec<(usize, u32, f32)> = tree
        .children(child)
        .map(|(_, n)| (n.action(), n.visits(), n.q()))
        .collect();
    search.play(mv);
    let tree = search.tree();
    assert_eq!(tree.root_visits(), before.visits());
    // The new root's value is now from its own mover's view: the sign flips.
    assert!((tree.root_value() + before.q()).abs() < 1e-6);
    let after: Vec<(usize, u32, f32)> = tree
        .children(0)
        .map(|(_, n)| (n.action(), n.visits(), n.q()))
        .collect();
    assert_eq!(after, grandchildren);
    // The kept visits count toward the next move's simulations.
    assert_eq!(search.simulations(), before.visits().min(2000));
    assert!(before.visits() < 2000);
    // The kept tree goes on searching like any other, up to the move's budget.
    search.run(&mut HashEval::default()).unwrap();
    assert_eq!(search.tree().root_visits(), 2000);
    assert_eq!(search.tree().total_pending(), 0);
    // Without reuse, the next move starts a fresh tree.
    let mut fresh = Search::new(
        TicTacToe::new(),
        SearchConfig {
            tree_reuse: false,
            ..budget(SearchConfig::default(), 200, 4)
        },
    );
    fresh.run(&mut HashEval::default()).unwrap();
    fresh.play(mv);
    assert_eq!((fresh.tree().node_count(), fresh.simulations()), (1, 0));
    // A move never searched starts a fresh tree.
    let unvisited = TicTacToe::from_moves("").unwrap();
    let mut t2 = Tree::new(unvisited, SearchConfig::default());
    t2.advance(unvisited.parse_move("a1").unwrap());
    assert_eq!((t2.node_count(), t2.root_visits()), (1, 0));
    assert_eq!(t2.root().to_move(), Player::Second);
}

#[test]
fn policy_target_and_principal_variation() {
    let mut search = Search::new(Connect4::new(), budget(SearchConfig::default(), 1000, 8));
    search.run(&mut HashEval::default()).unwrap();
    let result = search.result();
    let target = &result.policy;
    assert!((target.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    let stats = &result.moves;
    assert_eq!(
        stats.iter().map(|s| s.visits).sum::<u32>() + 1,
        search.tree().root_visits()
    );
    for s in stats {
        assert!((target[s.index] - s.visits as f32 / 999.0).abs() < 1e-5);
    }
    let pv = result.pv.clone();
    assert!(!pv.is_empty());
    assert_eq!(search.position().move_index(pv[0]), stats[0].index);
    // The line is playable.
    let mut pos = *search.position();
    for mv in pv {
        pos = pos.apply(mv).unwrap();
    }
}

#[test]
fn one_simulation_is_the_policy_alone() {
    // The root's evaluation only: no child visited, the move is the prior's argmax.
    let pos = Connect4::from_moves("44").unwrap();
    let mut search = Search::new(pos, budget(SearchConfig::default(), 0, 4));
    search.run(&mut HashEval::default()).unwrap();
    let result = search.result();
    assert_eq!(search.tree().root_visits(), 1);
    let mut policy = vec![0.0; 7];
    let value = hash_eval(&pos, &mut policy);
    assert!((result.value - value).abs() < 1e-6);
    let argmax = (0..7)
        .max_by(|&a, &b| policy[a].total_cmp(&policy[b]))
        .unwrap();
    assert_eq!(pos.move_index(result.chosen.unwrap()), argmax);
    assert_eq!(result.pv, vec![result.chosen.unwrap()]);
    assert!(result.moves.iter().all(|m| m.visits == 0));
}

#[test]
fn terminal_leaves_are_scored_once_by_the_rules_then_by_their_mean() {
    // X to move wins at c1; every later visit of the won child reuses its value.
    let pos = TicTacToe::from_moves("a1a2b1b2").unwrap();
    let mut search = Search::new(pos, budget(SearchConfig::default(), 300, 1));
    search.run(&mut HashEval::default()).unwrap();
    let tree = search.tree();
    let win = pos.move_index(pos.parse_move("c1").unwrap());
    let (_, node) = tree.children(0).find(|(_, n)| n.action() == win).unwrap();
    assert!(
        node.visits() > 100,
        "the win is found and revisited: {node:?}"
    );
    assert_eq!(node.q(), 1.0, "every visit backs up exactly +1");
    assert_eq!(
        tree.stats().terminals as u32 + tree.stats().leaves as u32,
        300
    );
}
