use crate::Game;

/// Number of move sequences of exactly `depth` moves from `position` (a game that
/// ends earlier counts nothing), the classic move-generator check.
pub fn perft<G: Game>(position: &G, depth: u32) -> u64 {
    if depth == 0 {
        return 1;
    }
    let moves = position.legal_moves();
    if depth == 1 {
        return moves.len() as u64;
    }
    moves
        .iter()
        .map(|&mv| {
            let mut child = position.clone();
            child.apply_unchecked(mv);
            perft(&child, depth - 1)
        })
        .sum()
}

/// [`perft`] split by first move, in move order: the usual aid for finding which
/// subtree disagrees with a reference.
pub fn perft_divide<G: Game>(position: &G, depth: u32) -> Vec<(G::Move, u64)> {
    if depth == 0 {
        return Vec::new();
    }
    position
        .legal_moves()
        .iter()
        .map(|&mv| {
            let mut child = position.clone();
            child.apply_unchecked(mv);
            (mv, perft(&child, depth - 1))
        })
        .collect()
}
