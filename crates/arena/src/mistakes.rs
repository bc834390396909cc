//! Mistake rates: how often a player picks a move that worsens the exact result
//! (a win thrown to a draw or loss, a draw to a loss), on fixed positions per
//! game phase chosen with the oracle.

use crate::players::Player;
use az_game::{Game, Oracle, optimal_moves};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use serde::Serialize;
use std::time::{Duration, Instant};

/// A part of the game, by ply.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The first fifth of the longest game.
    Opening,
    /// Up to half of the longest game.
    Middle,
    /// The rest.
    End,
}

impl Phase {
    /// All phases, in order.
    pub const ALL: [Phase; 3] = [Phase::Opening, Phase::Middle, Phase::End];

    /// Name for reports and TensorBoard tags.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Opening => "opening",
            Phase::Middle => "middle",
            Phase::End => "end",
        }
    }

    /// Plies `[from, to)` of this phase for game `G`.
    pub fn plies<G: Game>(self) -> (usize, usize) {
        let m = G::MAX_GAME_LENGTH;
        match self {
            Phase::Opening => (1, (m / 5).max(2)),
            Phase::Middle => ((m / 5).max(2), (m / 2).max(3)),
            Phase::End => ((m / 2).max(3), m),
        }
    }
}

/// Test positions of one phase with their optimal moves.
#[derive(Clone, Debug)]
pub struct PhasePositions<G: Game> {
    /// The phase.
    pub phase: Phase,
    /// Positions where some move is a mistake, each with the moves that are not.
    pub positions: Vec<(G, Vec<G::Move>)>,
}

/// Up to `per_phase` positions of each phase from random games (seeded), kept
/// only where at least one legal move is a mistake (elsewhere no choice can be
/// wrong). Solving stops for a phase once `budget` has passed in it (early
/// positions of deep games can take the oracle seconds each), so a phase may
/// hold fewer positions.
pub fn phase_positions<G: Game>(
    oracle: &mut dyn Oracle<G>,
    per_phase: usize,
    seed: u64,
    budget: Duration,
) -> Vec<PhasePositions<G>> {
    let mut rng = SmallRng::seed_from_u64(seed);
    Phase::ALL
        .iter()
        .map(|&phase| {
            let (from, to) = phase.plies::<G>();
            let mut positions = Vec::new();
            let mut tries = 0;
            let t0 = Instant::now();
            while positions.len() < per_phase && tries < per_phase * 50 && t0.elapsed() < budget {
                tries += 1;
                let target = rng.random_range(from..to);
                let mut p = G::new();
                while p.ply() < target && !p.is_terminal() {
                    let moves = p.legal_moves();
                    p.apply_unchecked(moves[rng.random_range(0..moves.len())]);
                }
                if p.is_terminal() || p.ply() != target {
                    continue;
                }
                let (good, _) = optimal_moves(oracle, &p);
                if good.len() < p.legal_moves().len() {
                    positions.push((p, good));
                }
            }
            PhasePositions { phase, positions }
        })
        .collect()
}

/// Share of mistakes per phase.
#[derive(Copy, Clone, Debug, Default, PartialEq, Serialize)]
pub struct MistakeRates {
    /// Opening, middle, end: mistakes / positions (NaN where a phase has none).
    pub rates: [f64; 3],
    /// Positions per phase.
    pub positions: [usize; 3],
}

/// `player`'s mistake rate on each phase's positions.
pub fn mistake_rates<G: Game>(
    player: &mut dyn Player<G>,
    sets: &[PhasePositions<G>],
) -> MistakeRates {
    let mut r = MistakeRates::default();
    for (i, set) in sets.iter().enumerate().take(3) {
        let wrong = set
            .positions
            .iter()
            .filter(|(p, good)| !good.contains(&player.choose(p)))
            .count();
        r.positions[i] = set.positions.len();
        r.rates[i] = wrong as f64 / set.positions.len() as f64;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PerfectPlayer, RandomPlayer};
    use az_tictactoe::TicTacToe;

    #[test]
    fn perfect_makes_none_random_makes_some() {
        let mut oracle = TicTacToe::oracle().unwrap();
        let sets = phase_positions::<TicTacToe>(oracle.as_mut(), 40, 7, Duration::from_secs(60));
        assert!(sets.iter().all(|s| !s.positions.is_empty()));
        let mut perfect = PerfectPlayer::new(TicTacToe::oracle().unwrap(), 1);
        let r = mistake_rates(&mut perfect, &sets);
        assert_eq!(r.rates, [0.0; 3]);
        let mut random = RandomPlayer::new(1);
        let r = mistake_rates(&mut random, &sets);
        assert!(r.rates.iter().all(|&x| x > 0.1), "{r:?}");
    }
}
