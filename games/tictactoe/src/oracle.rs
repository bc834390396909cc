//! The tic-tac-toe oracle: plain minimax over the 5478 reachable positions, memoised.
//!
//! Scale: a win scores `10 - n`, where `n` is the number of moves on the board when
//! the game ends; a loss the negation; a draw 0 (so faster wins score higher).

use crate::TicTacToe;
use az_game::{Game, Oracle, Outcome};
use std::collections::HashMap;

/// Exact minimax, memoised by position.
#[derive(Debug, Default)]
pub struct Minimax {
    memo: HashMap<[u16; 2], i32>,
}

impl Oracle<TicTacToe> for Minimax {
    fn score(&mut self, position: &TicTacToe) -> i32 {
        if position.is_terminal() {
            return self.terminal_score(position);
        }
        let key = [
            position.stones(az_game::Player::First),
            position.stones(az_game::Player::Second),
        ];
        if let Some(&s) = self.memo.get(&key) {
            return s;
        }
        let best = self
            .move_scores(position)
            .into_iter()
            .map(|(_, s)| s)
            .max()
            .expect("a position that is not over has a move");
        self.memo.insert(key, best);
        best
    }

    fn terminal_score(&self, position: &TicTacToe) -> i32 {
        match position.outcome() {
            Some(Outcome::Win(p)) if p == position.to_move() => 10 - position.ply() as i32,
            Some(Outcome::Win(_)) => position.ply() as i32 - 10,
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use az_game::optimal_moves;

    /// Independent negamax: win/draw/loss only, no memo, no shared code.
    fn negamax(p: &TicTacToe) -> i32 {
        match p.outcome() {
            Some(Outcome::Win(w)) => return if w == p.to_move() { 1 } else { -1 },
            Some(Outcome::Draw) => return 0,
            None => {}
        }
        p.legal_moves()
            .iter()
            .map(|&m| {
                let mut c = *p;
                c.apply_unchecked(m);
                -negamax(&c)
            })
            .max()
            .unwrap()
    }

    #[test]
    fn agrees_with_plain_negamax_on_every_position_to_depth_4() {
        let mut oracle = Minimax::default();
        assert_eq!(oracle.score(&TicTacToe::new()), 0, "tic-tac-toe is a draw");
        let mut frontier = vec![TicTacToe::new()];
        for _ in 0..4 {
            let mut next = Vec::new();
            for p in &frontier {
                assert_eq!(oracle.score(p).signum(), negamax(p), "{p}");
                for &m in p.legal_moves().iter() {
                    let mut c = *p;
                    c.apply_unchecked(m);
                    next.push(c);
                }
            }
            frontier = next;
        }
    }

    #[test]
    fn known_positions() {
        let mut o = Minimax::default();
        // X a1, O b1, X b2: X threatens c3 and wins; O to move loses.
        let p = TicTacToe::from_moves("a1 b1 b2").unwrap();
        assert!(o.score(&p) < 0);
        let (moves, result) = optimal_moves(&mut o, &p);
        assert_eq!(result, -1);
        assert_eq!(moves.len(), p.legal_moves().len(), "all moves lose");
        // Centre reply to a corner is the only move that holds the draw.
        let p = TicTacToe::from_moves("a1").unwrap();
        let (moves, result) = optimal_moves(&mut o, &p);
        assert_eq!(result, 0);
        assert_eq!(moves, vec![p.parse_move("b2").unwrap()]);
        // A win in one scores 10 - 5.
        let p = TicTacToe::from_moves("a1 a2 b1 b2").unwrap();
        assert_eq!(o.score(&p), 5);
    }
}
