//! The hot path allocates nothing: once the arena and buffers have their
//! capacity, gather / apply / search run without a single heap allocation.
//! (A counting global allocator; this file holds one test so no other test's
//! allocations are counted.)

use az_connect4::Connect4;
use az_game::Game;
use az_mcts::{Evaluator, Rollout, SearchConfig, Tree, Uniform, VirtualLoss};
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

fn check<E: Evaluator<Connect4>>(eval: &mut E, vl: VirtualLoss, k: usize) {
    let cfg = SearchConfig {
        virtual_loss: vl,
        dirichlet_epsilon: 0.25,
        ..SearchConfig::default()
    };
    let mut tree = Tree::with_capacity(Connect4::new(), cfg, 200_000);
    // Warm-up: the driver's leaf and path buffers reach their size.
    tree.search(eval, 2000, k);
    let moves = 8;
    let n = allocations_during(|| {
        for _ in 0..moves {
            tree.search(eval, 2000, k);
            let mv = tree.choose_move(0.0).unwrap();
            tree.advance(mv);
            tree.search(eval, 2000, k);
            let root = *tree.root();
            tree.reset(root);
        }
    });
    // `advance` copies the kept subtree into a spare arena, sized once at the
    // first re-rooting; searches themselves must not allocate.
    let searches = allocations_during(|| {
        for _ in 0..4 {
            tree.search(eval, 5000, k);
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
        check(&mut Uniform, VirtualLoss::Loss(1.0), k);
        check(&mut Uniform, VirtualLoss::Visits(1.0), k);
        check(&mut Rollout::new(1, 1), VirtualLoss::Loss(1.0), k);
    }
}
