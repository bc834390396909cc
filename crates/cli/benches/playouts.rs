//! Random playouts from the initial position of every registered game, one
//! thread: legal moves + apply + terminal check per move. Throughput is in moves.
use az_cli::games::{GameVisitor, names, with_game};
use az_game::{Game, random_playout};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::SeedableRng;
use rand::rngs::SmallRng;

const GAMES: usize = 100;

struct Bench<'a>(&'a mut Criterion);

impl GameVisitor for Bench<'_> {
    type Output = ();
    fn visit<G: Game>(self) {
        let start = G::new();
        // The same seed every iteration plays the same games, so the move count is exact.
        let play = || {
            let mut rng = SmallRng::seed_from_u64(7);
            (0..GAMES)
                .map(|_| random_playout(&start, &mut rng).1)
                .sum::<usize>()
        };
        let moves = play();
        let mut group = self.0.benchmark_group("playouts");
        group.throughput(Throughput::Elements(moves as u64));
        group.bench_function(G::NAME, |b| b.iter(play));
        group.finish();
    }
}

fn playouts(c: &mut Criterion) {
    for name in names() {
        with_game(name, Bench(c)).expect("registered game");
    }
}

criterion_group!(benches, playouts);
criterion_main!(benches);
