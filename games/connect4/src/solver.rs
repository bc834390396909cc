//! An exact Connect Four solver, the [`Oracle`] of this crate.
//!
//! The method is the one Pascal Pons describes for his solver
//! (<http://blog.gamesolver.org>): negamax with alpha-beta on the bitboards of
//! this crate, searching only moves that do not hand the opponent an immediate
//! win, trying the moves that create the most threats first (centre columns
//! breaking ties), a transposition table of upper bounds, and the exact score
//! found by a sequence of null-window searches that home in on it. Implemented
//! here from that description; no opening book.
//!
//! # Score
//! From the side to move: 0 for a draw; when the side to move wins, 22 minus the
//! number of stones the winner has played when the game ends (its winning stone
//! included); when it loses, that number minus 22; both sides play perfectly (win
//! as early, lose as late as possible).

use crate::{BOARD, BOTTOM, Connect4, H1, HEIGHT, WIDTH, column_bits};
use az_game::{Game, Oracle, Outcome};

const CELLS: i32 = (WIDTH * HEIGHT) as i32;
const MIN_SCORE: i32 = -(CELLS / 2) + 3;
const MAX_SCORE: i32 = (CELLS + 1) / 2 - 3;

/// Columns in the order they are tried: centre first.
const ORDER: [usize; WIDTH] = [3, 2, 4, 1, 5, 0, 6];

/// Cells (empty or not) that would complete four for `stones`.
fn winning_cells(stones: u64, mask: u64) -> u64 {
    // vertical: three stones below
    let mut r = (stones << 1) & (stones << 2) & (stones << 3);
    for d in [H1, H1 - 1, H1 + 1] {
        // two on one side and one or two on the other, in both orientations
        let mut p = (stones << d) & (stones << (2 * d));
        r |= p & (stones << (3 * d));
        r |= p & (stones >> d);
        p = (stones >> d) & (stones >> (2 * d));
        r |= p & (stones << d);
        r |= p & (stones >> (3 * d));
    }
    r & (BOARD ^ mask)
}

/// The solver's view of a position: stones of the side to move, all stones, moves played.
#[derive(Copy, Clone)]
struct Pos {
    current: u64,
    mask: u64,
    moves: i32,
}

impl Pos {
    fn possible(&self) -> u64 {
        (self.mask + BOTTOM) & BOARD
    }

    fn can_win_next(&self) -> bool {
        winning_cells(self.current, self.mask) & self.possible() != 0
    }

    /// Playable cells that do not lose at once: forced to block a single threat,
    /// none if the opponent has two, and never directly below an opponent's threat.
    fn non_losing(&self) -> u64 {
        let mut possible = self.possible();
        let threats = winning_cells(self.current ^ self.mask, self.mask);
        let forced = possible & threats;
        if forced != 0 {
            if forced & (forced - 1) != 0 {
                return 0;
            }
            possible = forced;
        }
        possible & !(threats >> 1)
    }

    fn play(&self, cell: u64) -> Pos {
        Pos {
            current: self.current ^ self.mask,
            mask: self.mask | cell,
            moves: self.moves + 1,
        }
    }

    /// Threats the side to move would have after taking `cell`.
    fn threats_after(&self, cell: u64) -> u32 {
        winning_cells(self.current | cell, self.mask).count_ones()
    }

    fn key(&self) -> u64 {
        self.current + self.mask
    }
}

/// The exact solver with its transposition table.
#[derive(Clone)]
pub struct Solver {
    keys: Vec<u32>,
    values: Vec<i8>,
    nodes: u64,
}

impl std::fmt::Debug for Solver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Solver {{ table: {}, nodes: {} }}",
            self.keys.len(),
            self.nodes
        )
    }
}

impl Default for Solver {
    fn default() -> Self {
        Solver::new(1 << 23)
    }
}

impl Solver {
    /// A solver whose table has about `entries` entries (5 bytes each); at least
    /// 2^17, so that 32 bits of the key plus the slot identify a position.
    pub fn new(entries: usize) -> Self {
        let size = next_prime(entries.max(1 << 17));
        Solver {
            keys: vec![0; size],
            values: vec![0; size],
            nodes: 0,
        }
    }

    /// Positions searched so far.
    pub fn nodes(&self) -> u64 {
        self.nodes
    }

    /// Empties the transposition table.
    pub fn clear(&mut self) {
        self.keys.fill(0);
        self.values.fill(0);
    }

    fn get(&self, key: u64) -> i32 {
        let i = (key % self.keys.len() as u64) as usize;
        if self.keys[i] == key as u32 {
            i32::from(self.values[i])
        } else {
            0
        }
    }

    fn put(&mut self, key: u64, value: i32) {
        let i = (key % self.keys.len() as u64) as usize;
        self.keys[i] = key as u32;
        self.values[i] = value as i8;
    }

    /// Negamax score within `(alpha, beta)` of a position whose side to move cannot win at once.
    fn negamax(&mut self, p: &Pos, mut alpha: i32, mut beta: i32) -> i32 {
        self.nodes += 1;
        let next = p.non_losing();
        if next == 0 {
            return -(CELLS - p.moves) / 2;
        }
        if p.moves >= CELLS - 2 {
            return 0;
        }
        let min = -(CELLS - 2 - p.moves) / 2;
        if alpha < min {
            alpha = min;
            if alpha >= beta {
                return alpha;
            }
        }
        let mut max = (CELLS - 1 - p.moves) / 2;
        let stored = self.get(p.key());
        if stored != 0 {
            max = stored + MIN_SCORE - 1;
        }
        if beta > max {
            beta = max;
            if alpha >= beta {
                return beta;
            }
        }
        // Most threats first; among equals, the order of ORDER (a stable sort).
        let mut moves: arrayvec::ArrayVec<(u32, u64), WIDTH> = arrayvec::ArrayVec::new();
        for &col in &ORDER {
            let cell = next & column_bits(col);
            if cell != 0 {
                moves.push((p.threats_after(cell), cell));
            }
        }
        moves.sort_by_key(|m| std::cmp::Reverse(m.0));
        for &(_, cell) in &moves {
            let score = -self.negamax(&p.play(cell), -beta, -alpha);
            if score >= beta {
                return score;
            }
            if score > alpha {
                alpha = score;
            }
        }
        self.put(p.key(), alpha - MIN_SCORE + 1);
        alpha
    }

    fn solve_pos(&mut self, p: &Pos, weak: bool) -> i32 {
        if p.can_win_next() {
            return (CELLS + 1 - p.moves) / 2;
        }
        let (mut min, mut max) = if weak {
            (-1, 1)
        } else {
            (-(CELLS - p.moves) / 2, (CELLS + 1 - p.moves) / 2)
        };
        while min < max {
            let mut med = min + (max - min) / 2;
            if med <= 0 && min / 2 < med {
                med = min / 2;
            } else if med >= 0 && max / 2 > med {
                med = max / 2;
            }
            let r = self.negamax(p, med, med + 1);
            if r <= med {
                max = r;
            } else {
                min = r;
            }
        }
        min
    }

    /// The exact score of `position` (see the module docs); a finished game scores
    /// as [`Oracle::terminal_score`] says.
    pub fn solve(&mut self, position: &Connect4) -> i32 {
        if position.is_terminal() {
            return self.terminal_score(position);
        }
        self.solve_pos(&pos(position), false)
    }

    /// Only the result: 1 win, 0 draw, -1 loss for the side to move (faster than
    /// the exact score).
    pub fn solve_result(&mut self, position: &Connect4) -> i32 {
        if position.is_terminal() {
            return self.terminal_score(position).signum();
        }
        self.solve_pos(&pos(position), true).signum()
    }
}

fn pos(p: &Connect4) -> Pos {
    Pos {
        current: p.current(),
        mask: p.mask(),
        moves: p.ply() as i32,
    }
}

fn next_prime(mut n: usize) -> usize {
    let is_prime = |n: usize| n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| n % d != 0);
    while !is_prime(n) {
        n += 1;
    }
    n
}

impl Oracle<Connect4> for Solver {
    fn score(&mut self, position: &Connect4) -> i32 {
        self.solve(position)
    }

    fn result(&mut self, position: &Connect4) -> i32 {
        self.solve_result(position)
    }

    fn known_positions(&self) -> &'static str {
        OPENING_POSITIONS
    }

    fn terminal_score(&self, position: &Connect4) -> i32 {
        match position.outcome() {
            // The side to move has lost: the winner moved last, with its
            // ceil(ply / 2)-th stone.
            Some(Outcome::Win(_)) => (position.ply() as i32 + 1) / 2 - 22,
            _ => 0,
        }
    }
}

const _: () = assert!(MIN_SCORE < 0 && MAX_SCORE > 0);

/// Opening test positions for mistake rates, solved ahead of time by this
/// solver (`az solve connect4 --sample opening`): at run time it would find only
/// a few within its budget.
const OPENING_POSITIONS: &str = include_str!("../positions/opening.txt");

#[cfg(test)]
mod tests {
    use super::*;
    use az_game::optimal_moves;
    use rand::rngs::SmallRng;
    use rand::{RngExt, SeedableRng};

    /// Independent exact score by plain minimax over the rules (no pruning, no
    /// bitboard tricks): only for positions with few empty cells.
    fn brute(p: &Connect4) -> i32 {
        let mut best = i32::MIN;
        for &mv in p.legal_moves().iter() {
            let mut c = *p;
            c.apply_unchecked(mv);
            let s = match c.outcome() {
                Some(Outcome::Win(_)) => 22 - (c.ply() as i32 + 1) / 2,
                Some(Outcome::Draw) => 0,
                None => -brute(&c),
            };
            best = best.max(s);
        }
        best
    }

    fn random_position(rng: &mut SmallRng, ply: usize) -> Option<Connect4> {
        let mut p = Connect4::new();
        while p.ply() < ply {
            let moves = p.legal_moves();
            if moves.is_empty() {
                return None;
            }
            p.apply_unchecked(moves[rng.random_range(0..moves.len())]);
        }
        (!p.is_terminal()).then_some(p)
    }

    #[test]
    fn exact_scores_match_brute_force_near_the_end() {
        let mut rng = SmallRng::seed_from_u64(1);
        let mut solver = Solver::new(1 << 18);
        let mut checked = 0;
        let mut decided = 0;
        while checked < 150 {
            let ply = rng.random_range(32..40);
            let Some(p) = random_position(&mut rng, ply) else {
                continue;
            };
            let want = brute(&p);
            assert_eq!(solver.solve(&p), want, "position {p:?}");
            assert_eq!(solver.solve_result(&p), want.signum(), "{p:?}");
            checked += 1;
            decided += usize::from(want != 0);
        }
        assert!(
            decided > 30,
            "too few decided positions to mean much: {decided}"
        );
    }

    /// The shipped opening positions: each line is an opening position where some
    /// move is a mistake, listing exactly the moves that keep its result. All are
    /// read; the deepest few are solved again here (the rest take too long for a
    /// debug test; `az solve` wrote them).
    #[test]
    fn known_opening_positions_hold() {
        let mut lines: Vec<(Connect4, Vec<usize>)> = Vec::new();
        for (i, line) in OPENING_POSITIONS.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let f: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(f[0], "opening", "line {}", i + 1);
            let p = Connect4::from_moves(f[1]).unwrap();
            assert!((1..8).contains(&p.ply()), "line {}: ply {}", i + 1, p.ply());
            let good: Vec<usize> = f[2..]
                .iter()
                .map(|m| p.move_index(p.parse_move(m).unwrap()))
                .collect();
            assert!(!good.is_empty() && good.len() < p.legal_moves().len());
            lines.push((p, good));
        }
        assert!(lines.len() >= 100, "{} positions", lines.len());
        let mut hashes: Vec<u64> = lines.iter().map(|(p, _)| p.position_hash()).collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), lines.len(), "a position is listed twice");
        lines.sort_by_key(|(p, _)| std::cmp::Reverse(p.ply()));
        let mut s = Solver::default();
        for (p, good) in lines.iter().take(3) {
            let (best, _) = optimal_moves(&mut s, p);
            let best: Vec<usize> = best.iter().map(|&m| p.move_index(m)).collect();
            assert_eq!(&best, good, "{p}");
        }
    }

    #[test]
    fn pons_convention_on_hand_built_positions() {
        let mut s = Solver::default();
        // First player has 1, 1, 1 in column 1 and wins with its 4th stone: 22 - 4.
        let p = Connect4::from_moves("121212").unwrap();
        assert_eq!(s.solve(&p), 18);
        let (best, r) = optimal_moves(&mut s, &p);
        assert_eq!((best.len(), r), (1, 1));
        assert_eq!(p.format_move(best[0]), "1");
        // Facing that threat, blocking in column 1 is the only move that does not
        // lose at once.
        let p = Connect4::from_moves("12121").unwrap();
        let (best, _) = optimal_moves(&mut s, &p);
        assert_eq!(
            best.iter().map(|&m| p.format_move(m)).collect::<Vec<_>>(),
            ["1"]
        );
        // A finished game: the side to move has lost to a fourth stone.
        let p = Connect4::from_moves("1212121").unwrap();
        assert!(p.is_terminal());
        assert_eq!(s.solve(&p), -18);
    }
}
