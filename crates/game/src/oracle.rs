//! Exact play: games that can be solved ship an [`Oracle`]; evaluation uses it as
//! the perfect opponent and to count mistakes.

use crate::Game;

/// Exact game-theoretic scores of positions.
///
/// A score is from the view of the player to move: positive for a win, zero for a
/// draw, negative for a loss, and larger is better (a faster win, a slower loss).
/// Each game documents its scale (connect4 follows Pascal Pons' solver).
pub trait Oracle<G: Game>: Send {
    /// Score of `position`, which may be over: then it is
    /// [`terminal_score`](Oracle::terminal_score).
    fn score(&mut self, position: &G) -> i32;

    /// Score of a finished game for the player to move in it.
    fn terminal_score(&self, position: &G) -> i32;

    /// Only the result of `position` (which may be over) for the player to move:
    /// 1 win, 0 draw, -1 loss. Solvers that find it faster than the score override this.
    fn result(&mut self, position: &G) -> i32 {
        self.score(position).signum()
    }

    /// Every legal move with the result (1, 0, -1) it gets the player to move here.
    fn move_results(&mut self, position: &G) -> Vec<(G::Move, i32)> {
        per_move(self, position, |o, child| o.result(child))
    }

    /// Every legal move with the score it gets the player to move here.
    fn move_scores(&mut self, position: &G) -> Vec<(G::Move, i32)> {
        per_move(self, position, |o, child| o.score(child))
    }

    /// Test positions solved ahead of time, so that every machine measures the
    /// same ones and slow phases cost nothing at run time (a run takes the
    /// first `eval.mistake_positions` of each phase): lines `<phase> <moves>
    /// <good moves...>` as `az solve <game> --sample <phase>` prints them.
    /// Empty by default.
    fn known_positions(&self) -> &'static str {
        ""
    }
}

/// `value` of the position after each legal move, seen from the player to move
/// at `position` (negated when the move hands the turn over).
fn per_move<G: Game, O: Oracle<G> + ?Sized>(
    oracle: &mut O,
    position: &G,
    value: impl Fn(&mut O, &G) -> i32,
) -> Vec<(G::Move, i32)> {
    let me = position.to_move();
    position
        .legal_moves()
        .iter()
        .map(|&mv| {
            let mut child = position.clone();
            child.apply_unchecked(mv);
            let v = value(oracle, &child);
            (mv, if child.to_move() == me { v } else { -v })
        })
        .collect()
}

/// Win (1), draw (0) or loss (-1) of a score.
pub fn result_of(score: i32) -> i32 {
    score.signum()
}

/// The moves of `position` that keep the best result (win, draw, loss) for the
/// player to move — the moves that are not mistakes — and that result.
/// Empty when the game is over.
pub fn optimal_moves<G: Game>(oracle: &mut dyn Oracle<G>, position: &G) -> (Vec<G::Move>, i32) {
    let results = oracle.move_results(position);
    let best = results.iter().map(|&(_, r)| r).max().unwrap_or(0);
    let moves = results
        .into_iter()
        .filter(|&(_, r)| r == best)
        .map(|(m, _)| m)
        .collect();
    (moves, best)
}
