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

    /// The phase called `name` (`opening`, `middle`, `end`).
    pub fn from_name(name: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.name() == name)
    }

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

/// A random position (uniform random moves to a ply drawn uniformly from
/// `plies`, which must not be empty) with the moves that lead to it; `None` when
/// that game ended first.
pub fn random_position<G: Game>(
    rng: &mut SmallRng,
    plies: std::ops::Range<usize>,
) -> Option<(G, Vec<G::Move>)> {
    let target = rng.random_range(plies);
    let mut p = G::new();
    let mut moves = Vec::with_capacity(target);
    while p.ply() < target && !p.is_terminal() {
        let legal = p.legal_moves();
        let mv = legal[rng.random_range(0..legal.len())];
        moves.push(mv);
        p.apply_unchecked(mv);
    }
    (!p.is_terminal() && p.ply() == target).then_some((p, moves))
}

/// The moves of `position` that are not mistakes, if some legal move is one
/// (elsewhere no choice can be wrong and the position tests nothing).
pub fn test_moves<G: Game>(oracle: &mut dyn Oracle<G>, position: &G) -> Option<Vec<G::Move>> {
    let (good, _) = optimal_moves(oracle, position);
    (good.len() < position.legal_moves().len()).then_some(good)
}

/// A test position: how it is reached, and the moves there that are not mistakes.
#[derive(Clone, Debug)]
pub struct TestPosition<G: Game> {
    /// The position.
    pub position: G,
    /// The moves from the start that reach it.
    pub moves: Vec<G::Move>,
    /// Its moves that keep the exact result (some other legal move does not).
    pub good: Vec<G::Move>,
}

/// Distinct random test positions of a ply range, each checked with the oracle.
#[derive(Debug)]
pub struct PositionSampler {
    rng: SmallRng,
    plies: std::ops::Range<usize>,
    seen: std::collections::HashSet<u64>,
    /// Random games played so far.
    pub tries: usize,
}

impl PositionSampler {
    /// A sampler of positions at `plies` (not empty), seeded.
    pub fn new(seed: u64, plies: std::ops::Range<usize>) -> Self {
        PositionSampler {
            rng: SmallRng::seed_from_u64(seed),
            plies,
            seen: std::collections::HashSet::new(),
            tries: 0,
        }
    }

    /// One random game: a new test position with the moves that reach it and the
    /// moves that are not mistakes, or `None` (game over early, position seen
    /// already, or no move there is a mistake).
    pub fn try_one<G: Game>(&mut self, oracle: &mut dyn Oracle<G>) -> Option<TestPosition<G>> {
        self.tries += 1;
        let (position, moves) = random_position::<G>(&mut self.rng, self.plies.clone())?;
        if !self.seen.insert(position.position_hash()) {
            return None;
        }
        let good = test_moves(oracle, &position)?;
        Some(TestPosition {
            position,
            moves,
            good,
        })
    }
}

/// One line of a positions file: `<phase> <moves> <good move> <good move> ...`,
/// moves in the game's notation (the position's moves written together).
pub fn position_line<G: Game>(phase: Phase, moves: &[G::Move], good: &[G::Move]) -> String {
    let mut p = G::new();
    let mut path = String::new();
    for &mv in moves {
        path.push_str(&p.format_move(mv));
        p.apply_unchecked(mv);
    }
    let good: Vec<String> = good.iter().map(|&m| p.format_move(m)).collect();
    format!("{} {path} {}", phase.name(), good.join(" "))
}

/// Reads lines written by [`position_line`] (blank lines and `#` comments skipped).
///
/// # Errors
/// The first bad line: its number, the text and what is wrong.
pub fn parse_position_lines<G: Game>(text: &str) -> Result<Vec<PhasePositions<G>>, String> {
    let mut sets: Vec<PhasePositions<G>> = Phase::ALL
        .iter()
        .map(|&phase| PhasePositions {
            phase,
            positions: Vec::new(),
        })
        .collect();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |why: String| format!("line {}: {line:?}: {why}", i + 1);
        let mut fields = line.split_whitespace();
        let name = fields.next().unwrap_or_default();
        let phase = Phase::from_name(name)
            .ok_or_else(|| bad(format!("{name:?} is not a phase (opening, middle, end)")))?;
        let position =
            G::from_moves(fields.next().unwrap_or_default()).map_err(|e| bad(e.to_string()))?;
        let good = fields
            .map(|m| position.parse_move(m).map_err(|e| bad(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        if good.is_empty() {
            return Err(bad("no good moves listed".to_owned()));
        }
        sets[phase as usize].positions.push((position, good));
    }
    Ok(sets)
}

/// Up to `per_phase` test positions of each phase: those `known` (lines of
/// [`parse_position_lines`], solved ahead of time) where the game ships any for
/// the phase, so that every machine measures the same ones; otherwise from
/// random games (seeded), kept only where at least one legal move is a mistake.
/// Solving stops for a phase once `budget` has passed in it (early positions of
/// deep games can take the oracle seconds each), so a phase may hold fewer
/// positions — and a loaded machine fewer than an idle one, which is why a
/// phase with shipped positions is not topped up.
pub fn phase_positions<G: Game>(
    oracle: &mut dyn Oracle<G>,
    known: Vec<PhasePositions<G>>,
    per_phase: usize,
    seed: u64,
    budget: Duration,
) -> Vec<PhasePositions<G>> {
    let mut known = known.into_iter();
    Phase::ALL
        .iter()
        .map(|&phase| {
            let mut positions = known.next().map(|k| k.positions).unwrap_or_default();
            if !positions.is_empty() {
                positions.truncate(per_phase);
                return PhasePositions { phase, positions };
            }
            let (from, to) = phase.plies::<G>();
            let mut sampler = PositionSampler::new(seed ^ phase as u64, from..to);
            let t0 = Instant::now();
            while positions.len() < per_phase
                && sampler.tries < per_phase * 50
                && t0.elapsed() < budget
            {
                if let Some(t) = sampler.try_one(oracle) {
                    positions.push((t.position, t.good));
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
        let sets = phase_positions::<TicTacToe>(
            oracle.as_mut(),
            Vec::new(),
            40,
            7,
            Duration::from_secs(60),
        );
        assert!(sets.iter().all(|s| !s.positions.is_empty()));
        let mut perfect = PerfectPlayer::new(TicTacToe::oracle().unwrap(), 1);
        let r = mistake_rates(&mut perfect, &sets);
        assert_eq!(r.rates, [0.0; 3]);
        let mut random = RandomPlayer::new(1);
        let r = mistake_rates(&mut random, &sets);
        assert!(r.rates.iter().all(|&x| x > 0.1), "{r:?}");
    }

    #[test]
    fn lines_round_trip_and_known_positions_come_first() {
        let mut oracle = TicTacToe::oracle().unwrap();
        let mut rng = SmallRng::seed_from_u64(3);
        let mut text = String::from("# tic-tac-toe test positions\n\n");
        let mut expected = Vec::new();
        while expected.len() < 5 {
            let (from, to) = Phase::Middle.plies::<TicTacToe>();
            let Some((p, moves)) = random_position::<TicTacToe>(&mut rng, from..to) else {
                continue;
            };
            if let Some(good) = test_moves(oracle.as_mut(), &p) {
                text.push_str(&position_line::<TicTacToe>(Phase::Middle, &moves, &good));
                text.push('\n');
                expected.push((p, good));
            }
        }
        let sets = parse_position_lines::<TicTacToe>(&text).unwrap();
        assert!(sets[0].positions.is_empty() && sets[2].positions.is_empty());
        assert_eq!(sets[1].positions.len(), 5);
        for ((p, good), (q, want)) in sets[1].positions.iter().zip(&expected) {
            assert_eq!(p.position_hash(), q.position_hash());
            assert_eq!(good, want);
        }
        // A phase with known positions measures exactly those (the same on every
        // machine, however loaded), up to the number asked for; the phases
        // without come from random games.
        let all = phase_positions::<TicTacToe>(
            oracle.as_mut(),
            sets.clone(),
            8,
            1,
            Duration::from_secs(60),
        );
        assert_eq!(all[1].positions.len(), 5);
        for (k, (p, _)) in expected.iter().enumerate() {
            assert_eq!(all[1].positions[k].0.position_hash(), p.position_hash());
        }
        for phase in [0, 2] {
            let hashes: std::collections::HashSet<u64> = all[phase]
                .positions
                .iter()
                .map(|(p, _)| p.position_hash())
                .collect();
            assert_eq!(
                hashes.len(),
                8,
                "phase {phase}: a position was chosen twice"
            );
        }
        let few = phase_positions::<TicTacToe>(oracle.as_mut(), sets, 3, 1, Duration::ZERO);
        assert_eq!(few[1].positions.len(), 3, "the first 3 known positions");
        assert_eq!(
            few[1].positions[2].0.position_hash(),
            expected[2].0.position_hash()
        );
    }

    #[test]
    fn bad_lines_are_named() {
        for (text, want) in [
            ("middle b2b2 a1", "line 1"),
            ("early b2 a1", "not a phase"),
            ("middle b2 a1\nend a1b2 a1", "line 2"),
            ("middle a1b2 b2", "b2"),
            ("middle a1b2", "no good moves"),
        ] {
            let e = parse_position_lines::<TicTacToe>(text).unwrap_err();
            assert!(e.contains(want), "{text:?}: {e}");
        }
    }
}
