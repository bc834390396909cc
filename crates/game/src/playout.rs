use crate::Game;

/// Plays uniformly random legal moves from `start` to the end of the game and
/// returns the final position and the number of moves played.
///
/// This is the inner loop of rollout evaluation and of the playout benchmarks:
/// per move one `legal_moves`, one `apply_unchecked` and one terminal check.
pub fn random_playout<G: Game, R: rand::Rng + ?Sized>(start: &G, rng: &mut R) -> (G, usize) {
    use rand::RngExt;
    let mut position = start.clone();
    let mut played = 0;
    loop {
        let moves = position.legal_moves();
        if moves.is_empty() {
            return (position, played);
        }
        position.apply_unchecked(moves[rng.random_range(0..moves.len())]);
        played += 1;
    }
}
