//! Matches between two players, both colours, and Elo from the score.

use crate::players::Player;
use az_game::{Game, Outcome, Player as Side};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use serde::Serialize;

/// Result of a match, from the first player's view.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MatchResult {
    /// Games won.
    pub wins: u32,
    /// Games drawn.
    pub draws: u32,
    /// Games lost.
    pub losses: u32,
    /// Games played.
    pub games: u32,
    /// Losses in the games where it moved first.
    pub losses_as_first: u32,
    /// Losses in the games where it moved second.
    pub losses_as_second: u32,
}

impl MatchResult {
    /// Points per game: a win 1, a draw ½.
    pub fn score(&self) -> f64 {
        if self.games == 0 {
            return 0.5;
        }
        (f64::from(self.wins) + 0.5 * f64::from(self.draws)) / f64::from(self.games)
    }
}

/// Elo difference that predicts `result`'s score; a perfect or null score is
/// moved half a game inward, so the figure stays finite (and is a bound).
pub fn elo_difference(result: &MatchResult) -> f64 {
    let n = f64::from(result.games.max(1));
    let s = result.score().clamp(0.5 / n, 1.0 - 0.5 / n);
    400.0 * (s / (1.0 - s)).log10()
}

fn random_opening<G: Game>(plies: usize, rng: &mut SmallRng) -> G {
    loop {
        let mut p = G::new();
        for _ in 0..plies {
            let moves = p.legal_moves();
            if moves.is_empty() {
                break;
            }
            p.apply_unchecked(moves[rng.random_range(0..moves.len())]);
        }
        if !p.is_terminal() {
            return p;
        }
    }
}

/// The starting positions of [`play_match`]`(.., games, opening_plies, seed)`:
/// one per pair of games (each colour plays it once).
pub fn match_openings<G: Game>(games: u32, opening_plies: usize, seed: u64) -> Vec<G> {
    let mut rng = SmallRng::seed_from_u64(seed);
    (0..games.div_ceil(2))
        .map(|_| random_opening(opening_plies, &mut rng))
        .collect()
}

/// Plays `games` games of `a` against `b`, `a` moving first in the even ones.
/// Each pair of games starts from the same position after `opening_plies` random
/// plies (0 = the initial position), so the colours are fair.
pub fn play_match<G: Game>(
    a: &mut dyn Player<G>,
    b: &mut dyn Player<G>,
    games: u32,
    opening_plies: usize,
    seed: u64,
) -> MatchResult {
    let openings = match_openings::<G>(games, opening_plies, seed);
    let mut r = MatchResult::default();
    for g in 0..games {
        let start = &openings[(g / 2) as usize];
        // a plays the side to move at `start` in even games.
        let a_side = if g % 2 == 0 {
            start.to_move()
        } else {
            start.to_move().other()
        };
        let mut p = start.clone();
        while !p.is_terminal() {
            let mv = if p.to_move() == a_side {
                a.choose(&p)
            } else {
                b.choose(&p)
            };
            p.apply_unchecked(mv);
        }
        r.games += 1;
        match p.outcome() {
            Some(Outcome::Win(w)) if w == a_side => r.wins += 1,
            Some(Outcome::Win(_)) => {
                r.losses += 1;
                if a_side == Side::First {
                    r.losses_as_first += 1;
                } else {
                    r.losses_as_second += 1;
                }
            }
            _ => r.draws += 1,
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MctsPlayer, PerfectPlayer, RandomPlayer};
    use az_tictactoe::TicTacToe;

    #[test]
    fn perfect_never_loses_and_beats_random() {
        let mut perfect = PerfectPlayer::new(TicTacToe::oracle().unwrap(), 1);
        let mut random = RandomPlayer::new(2);
        let r = play_match::<TicTacToe>(&mut perfect, &mut random, 100, 0, 3);
        assert_eq!(r.games, 100);
        assert_eq!(r.losses, 0, "{r:?}");
        assert!(r.wins >= 70, "{r:?}");
        let mut other = PerfectPlayer::new(TicTacToe::oracle().unwrap(), 4);
        let r = play_match::<TicTacToe>(&mut perfect, &mut other, 20, 0, 5);
        assert_eq!(r.draws, 20, "perfect play draws: {r:?}");
    }

    #[test]
    fn rollout_mcts_beats_random() {
        let mut mcts = MctsPlayer::new(200, 1);
        let mut random = RandomPlayer::new(2);
        let r = play_match::<TicTacToe>(&mut mcts, &mut random, 40, 0, 3);
        assert!(r.score() > 0.8, "{r:?}");
        assert!(elo_difference(&r) > 200.0);
    }

    #[test]
    fn elo_is_finite_and_symmetric() {
        let won = MatchResult {
            wins: 10,
            games: 10,
            ..MatchResult::default()
        };
        let lost = MatchResult {
            losses: 10,
            games: 10,
            ..MatchResult::default()
        };
        let even = MatchResult {
            wins: 3,
            draws: 4,
            losses: 3,
            games: 10,
            ..MatchResult::default()
        };
        assert!(elo_difference(&won).is_finite());
        assert!((elo_difference(&won) + elo_difference(&lost)).abs() < 1e-9);
        assert_eq!(elo_difference(&even), 0.0);
    }
}
