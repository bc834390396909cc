//! Connect4 search from the empty board, one thread: uniform (tree only) and
//! one-rollout evaluators, 800 simulations per move, k leaves per round, through
//! the search driver.
use az_connect4::Connect4;
use az_game::Game;
use az_mcts::{Rollout, Search, SearchConfig, Uniform};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const SIMS: u32 = 800;

fn config(k: usize) -> SearchConfig {
    SearchConfig {
        simulations: SIMS,
        searches_per_game: k,
        ..SearchConfig::default()
    }
}

fn search(c: &mut Criterion) {
    let mut group = c.benchmark_group("connect4_800_sims");
    group.throughput(Throughput::Elements(u64::from(SIMS)));
    let mut uniform = Uniform::default();
    for k in [1usize, 8] {
        let mut search = Search::with_capacity(Connect4::new(), config(k), 8192);
        group.bench_with_input(BenchmarkId::new("uniform", k), &k, |b, _| {
            b.iter(|| {
                search.reset(Connect4::new());
                search.run(&mut uniform).unwrap()
            })
        });
    }
    let mut rollout = Rollout::new(1, 1);
    let mut search = Search::with_capacity(Connect4::new(), config(1), 8192);
    group.bench_function(BenchmarkId::new("rollout1", 1), |b| {
        b.iter(|| {
            search.reset(Connect4::new());
            search.run(&mut rollout).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, search);
criterion_main!(benches);
