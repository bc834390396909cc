//! Connect4 search from the empty board, one thread: uniform (tree only) and
//! one-rollout evaluators, 800 simulations per move, k leaves per round.
use az_connect4::Connect4;
use az_game::Game;
use az_mcts::{Rollout, SearchConfig, Tree, Uniform};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const SIMS: u32 = 800;

fn search(c: &mut Criterion) {
    let mut group = c.benchmark_group("connect4_800_sims");
    group.throughput(Throughput::Elements(u64::from(SIMS)));
    let mut tree = Tree::with_capacity(Connect4::new(), SearchConfig::default(), 8192);
    for k in [1usize, 8] {
        group.bench_with_input(BenchmarkId::new("uniform", k), &k, |b, &k| {
            b.iter(|| {
                tree.reset(Connect4::new());
                tree.search(&mut Uniform, SIMS, k)
            })
        });
    }
    let mut rollout = Rollout::new(1, 1);
    group.bench_function(BenchmarkId::new("rollout1", 1), |b| {
        b.iter(|| {
            tree.reset(Connect4::new());
            tree.search(&mut rollout, SIMS, 1)
        })
    });
    group.finish();
}

criterion_group!(benches, search);
criterion_main!(benches);
