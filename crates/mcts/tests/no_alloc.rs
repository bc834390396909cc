//! The hot path allocates nothing: once the arena and buffers have their
//! capacity, the search driver (gather / evaluate / apply, the move result)
//! runs without a single heap allocation.
//! (A counting global allocator; this file holds one test so no other test's
//! allocations are counted.)

use az_connect4::Connect4;
use az_game::Game;
use az_mcts::{
    Evaluator, MoveResult, PuctRoot, Rollout, RootPolicy, Search, SearchConfig, Uniform,
    VirtualLoss,
};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

struct Counting;
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts calls.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    f();
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

fn config(vl: VirtualLoss, k: usize, simulations: u32) -> SearchConfig {
    SearchConfig {
        virtual_loss: vl,
        simulations,
        searches_per_game: k,
        root: RootPolicy::Puct(PuctRoot {
            dirichlet_epsilon: 0.25,
            ..PuctRoot::default()
        }),
        ..SearchConfig::default()
    }
}

fn check<E: Evaluator<Connect4>>(eval: &mut E, vl: VirtualLoss, k: usize) {
    let start = Connect4::new();
    let mut search = Search::with_capacity(start, config(vl, k, 2000), 200_000);
    let mut result = MoveResult::default();
    // Warm-up: the driver's leaf and path buffers and the result reach their size.
    search.run(eval).unwrap();
    search.result_into(&mut result);
    let moves = 8;
    let n = allocations_during(|| {
        for _ in 0..moves {
            search.reset(start);
            search.run(eval).unwrap();
            search.result_into(&mut result);
            search.play(result.chosen.unwrap());
            search.run(eval).unwrap();
            search.result_into(&mut result);
        }
    });
    // `play` copies the kept subtree into a spare arena, sized once at the
    // first re-rooting; searches and results themselves must not allocate.
    let mut long = Search::with_capacity(start, config(vl, k, 5000), 200_000);
    long.run(eval).unwrap();
    let searches = allocations_during(|| {
        for _ in 0..4 {
            long.reset(start);
            long.run(eval).unwrap();
        }
    });
    assert_eq!(
        searches, 0,
        "{vl:?} k={k}: {searches} allocations in 20000 simulations"
    );
    assert!(
        n <= 1,
        "{vl:?} k={k}: {n} allocations over {moves} moves with reuse"
    );
}

#[test]
fn search_does_not_allocate_per_simulation() {
    for k in [1, 8] {
        check(&mut Uniform::default(), VirtualLoss::Loss(1.0), k);
        check(&mut Uniform::default(), VirtualLoss::Visits(1.0), k);
        check(&mut Rollout::new(1, 1), VirtualLoss::Loss(1.0), k);
    }
}
