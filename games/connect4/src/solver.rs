//! An exact Connect Four solver, the [`Oracle`] of this crate.
//!
//! The method is the one Pascal Pons describes for his solver
//! (<http://blog.gamesolver.org>): negamax with alpha-beta on the bitboards of
//! this crate, searching only moves that do not hand the opponent an immediate
//! win, trying the moves that create the most threats first (centre columns
//! breaking ties), a transposition table of upper and lower bounds, the exact
//! score found by a sequence of null-window searches, and an opening book
//! ([`crate::book`]: every position up to a few plies, solved ahead of time).
//! Implemented here from that description, with four additions measured in
//! docs/PERFORMANCE.md: a position and its mirror image share their table entry;
//! an entry keeps the move that refuted a window, tried first next time; a
//! bucket of two entries keeps the one whose search took more work; a child
//! whose stored bound already refutes the window cuts the search before any
//! move is tried (enhanced transposition cutoff); and when every column holds
//! an even number of stones, the second player's answer-on-top strategy bounds
//! the first player's score (Allis' claimeven rule).
//!
//! # Score
//! From the side to move: 0 for a draw; when the side to move wins, 22 minus the
//! number of stones the winner has played when the game ends (its winning stone
//! included); when it loses, that number minus 22; both sides play perfectly (win
//! as early, lose as late as possible).

use crate::book::{self, Book};
use crate::{BOARD, BOTTOM, Connect4, H1, HEIGHT, WIDTH, column_bits, has_four};
use az_game::{Game, Oracle, Outcome};

const CELLS: i32 = (WIDTH * HEIGHT) as i32;
const MIN_SCORE: i32 = -(CELLS / 2) + 3;
const MAX_SCORE: i32 = (CELLS + 1) / 2 - 3;

/// Columns in the order they are tried: centre first.
pub(crate) const ORDER: [usize; WIDTH] = [3, 2, 4, 1, 5, 0, 6];

/// Cells of rows 2, 4 and 6 counted from 1 at the bottom (bit rows 1, 3, 5).
const EVEN_ROWS: u64 = (BOTTOM << 1) | (BOTTOM << 3) | (BOTTOM << 5);

/// Nodes with fewer stones than this look their children up in the table
/// before searching any (enhanced transposition cutoff); deeper, the lookups
/// cost more than they save.
const ETC_BELOW: i32 = 32;

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

/// `bits` with its columns in reverse order.
#[inline]
pub(crate) fn mirror(bits: u64) -> u64 {
    let mut m = 0;
    let mut c = 0;
    while c < WIDTH {
        m |= (bits >> (c * H1) & 0x7f) << ((WIDTH - 1 - c) * H1);
        c += 1;
    }
    m
}

/// The solver's view of a position: stones of the side to move, all stones, moves played.
#[derive(Copy, Clone)]
pub(crate) struct Pos {
    pub(crate) current: u64,
    pub(crate) mask: u64,
    pub(crate) moves: i32,
}

impl Pos {
    fn possible(&self) -> u64 {
        (self.mask + BOTTOM) & BOARD
    }

    pub(crate) fn can_win_next(&self) -> bool {
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

    /// The key shared with the mirror image (the smaller of the two; the
    /// key's columns never carry into each other, so mirroring the key
    /// mirrors the position), and whether it is the mirror's.
    #[inline]
    pub(crate) fn symmetric_key(&self) -> (u64, bool) {
        let k = self.key();
        let m = mirror(k);
        if m < k { (m, true) } else { (k, false) }
    }

    /// The score when the side to move wins with its next stone.
    pub(crate) fn win_now_score(&self) -> i32 {
        (CELLS + 1 - self.moves) / 2
    }

    /// Upper bound from Allis' claimeven rule: when every column holds an even
    /// number of stones (so the first player is to move), the second player
    /// can answer every move on top of it, taking every empty cell of rows 2,
    /// 4 and 6; the first player then completes four only from its stones and
    /// the empty cells of rows 1, 3 and 5. If it cannot, it does not win (0),
    /// and if the second player completes four from its stones and the cells
    /// it takes, it loses (-1 at best).
    fn claimeven_bound(&self) -> Option<i32> {
        if self.possible() & EVEN_ROWS != 0 {
            return None;
        }
        let empty = BOARD & !self.mask;
        if has_four(self.current | (empty & !EVEN_ROWS)) {
            return None;
        }
        let theirs = self.current ^ self.mask;
        Some(if has_four(theirs | (empty & EVEN_ROWS)) {
            -1
        } else {
            0
        })
    }
}

/// One table entry: 32 bits of the key (the bucket gives the rest), the bound
/// (0: empty), the move that refuted a window (column + 1, 0: none), and the
/// work its search took (bits of the number of positions searched), which
/// decides what the bucket keeps.
#[derive(Copy, Clone, Default)]
#[repr(C)]
struct Entry {
    key: u32,
    value: u8,
    hint: u8,
    work: u8,
    _pad: u8,
}

/// Table value of an upper bound: `1..=UPPER_TOP`; a lower bound is stored
/// above that.
const UPPER_TOP: i32 = MAX_SCORE - MIN_SCORE + 1;

/// The exact solver with its transposition table.
#[derive(Clone)]
pub struct Solver {
    table: Vec<[Entry; 2]>,
    nodes: u64,
    /// Stop searching past this many nodes (see [`Solver::solve_limited`]).
    limit: u64,
    aborted: bool,
    book: Option<&'static Book>,
}

impl std::fmt::Debug for Solver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Solver {{ table: {}, nodes: {}, book plies: {:?} }}",
            2 * self.table.len(),
            self.nodes,
            self.book.map(Book::plies)
        )
    }
}

impl Default for Solver {
    fn default() -> Self {
        Solver::new(1 << 23)
    }
}

impl Solver {
    /// A solver with the shipped opening book ([`book::shipped`]) and a table of
    /// about `entries` entries (8 bytes each, in buckets of two); at least 2^18,
    /// so that 32 bits of the key plus the bucket identify a position.
    pub fn new(entries: usize) -> Self {
        Solver {
            book: Some(book::shipped()),
            ..Solver::without_book(entries)
        }
    }

    /// A solver that searches every position (no opening book): what writes the book.
    pub fn without_book(entries: usize) -> Self {
        let buckets = next_prime(entries.max(1 << 18) / 2);
        Solver {
            table: vec![[Entry::default(); 2]; buckets],
            nodes: 0,
            limit: u64::MAX,
            aborted: false,
            book: None,
        }
    }

    /// Positions searched so far.
    pub fn nodes(&self) -> u64 {
        self.nodes
    }

    /// Empties the transposition table.
    pub fn clear(&mut self) {
        self.table.fill([Entry::default(); 2]);
    }

    /// Stored value (0: none) and move hint (column + 1, 0: none).
    #[inline]
    fn get(&self, key: u64) -> (i32, u8) {
        let bucket = &self.table[(key % self.table.len() as u64) as usize];
        for e in bucket {
            if e.key == key as u32 && e.value != 0 {
                return (i32::from(e.value), e.hint);
            }
        }
        (0, 0)
    }

    /// Stores a bound: over the entry of the same position if there is one,
    /// else in the first slot if it took at least the work of the entry there
    /// (which moves to the second slot), else in the second slot.
    #[inline]
    fn put(&mut self, key: u64, value: i32, hint: u8, work: u8) {
        let n = self.table.len() as u64;
        let bucket = &mut self.table[(key % n) as usize];
        let k = key as u32;
        let same = |e: &Entry| e.key == k && e.value != 0;
        let slot = if same(&bucket[0]) {
            0
        } else if same(&bucket[1]) {
            1
        } else if work >= bucket[0].work {
            bucket[1] = bucket[0];
            bucket[0] = Entry::default();
            0
        } else {
            bucket[1] = Entry::default();
            1
        };
        let e = &mut bucket[slot];
        *e = Entry {
            key: k,
            value: value as u8,
            // An upper bound refutes no move: keep the hint of an earlier search.
            hint: if hint == 0 { e.hint } else { hint },
            work: work.max(e.work),
            _pad: 0,
        };
    }

    /// Negamax score within `(alpha, beta)` of a position whose side to move cannot win at once.
    fn negamax(&mut self, p: &Pos, mut alpha: i32, mut beta: i32) -> i32 {
        self.nodes += 1;
        if self.nodes > self.limit {
            self.aborted = true;
            return alpha;
        }
        let n0 = self.nodes;
        let next = p.non_losing();
        if next == 0 {
            return -(CELLS - p.moves) / 2;
        }
        if p.moves >= CELLS - 2 {
            return 0;
        }
        let mut min = -(CELLS - 2 - p.moves) / 2;
        if alpha < min {
            alpha = min;
            if alpha >= beta {
                return alpha;
            }
        }
        let mut max = (CELLS - 1 - p.moves) / 2;
        if let Some(bound) = p.claimeven_bound() {
            max = max.min(bound);
        }
        if beta > max {
            beta = max;
            if alpha >= beta {
                return beta;
            }
        }
        let (key, mirrored) = p.symmetric_key();
        let (stored, hint) = self.get(key);
        if stored > UPPER_TOP {
            min = stored - UPPER_TOP + MIN_SCORE - 1;
            if alpha < min {
                alpha = min;
                if alpha >= beta {
                    return alpha;
                }
            }
        } else if stored != 0 {
            max = stored + MIN_SCORE - 1;
            if beta > max {
                beta = max;
                if alpha >= beta {
                    return beta;
                }
            }
        }
        if p.moves < ETC_BELOW {
            // A child whose stored upper bound already refutes the window.
            let mut rest = next;
            while rest != 0 {
                let cell = rest & rest.wrapping_neg();
                rest ^= cell;
                let (child_key, _) = p.play(cell).symmetric_key();
                let (v, _) = self.get(child_key);
                if v != 0 && v <= UPPER_TOP {
                    let score = -(v + MIN_SCORE - 1);
                    if score >= beta {
                        return score;
                    }
                }
            }
        }
        let hint_col = match (hint, mirrored) {
            (0, _) => usize::MAX,
            (h, false) => usize::from(h) - 1,
            (h, true) => WIDTH - usize::from(h),
        };
        // The move that refuted an earlier window first, then most threats
        // first; among equals, the order of ORDER (a stable sort).
        let mut moves: arrayvec::ArrayVec<(u32, u64, usize), WIDTH> = arrayvec::ArrayVec::new();
        for &col in &ORDER {
            let cell = next & column_bits(col);
            if cell != 0 {
                let rank = if col == hint_col {
                    u32::MAX
                } else {
                    p.threats_after(cell)
                };
                moves.push((rank, cell, col));
            }
        }
        moves.sort_by_key(|m| std::cmp::Reverse(m.0));
        for &(_, cell, col) in &moves {
            let score = -self.negamax(&p.play(cell), -beta, -alpha);
            if self.aborted {
                return alpha;
            }
            if score >= beta {
                let hint = if mirrored { WIDTH - col } else { col + 1 };
                let work = work_since(self.nodes, n0);
                self.put(key, score - MIN_SCORE + 1 + UPPER_TOP, hint as u8, work);
                return score;
            }
            if score > alpha {
                alpha = score;
            }
        }
        self.put(key, alpha - MIN_SCORE + 1, 0, work_since(self.nodes, n0));
        alpha
    }

    /// A lower bound on the score of `p` from the book: `p` one ply past the
    /// book is a child of every book position it has as a parent (take away
    /// a top stone of the player who just moved), so it scores at least the
    /// negation of each parent's score.
    fn book_lower_bound(&self, p: &Pos) -> Option<i32> {
        let book = self.book?;
        if p.moves != book.plies() as i32 + 1 {
            return None;
        }
        let last = p.current ^ p.mask;
        let mut bound = None;
        for col in 0..WIDTH {
            let stones = p.mask & column_bits(col);
            if stones == 0 {
                continue;
            }
            let top = (stones + (1 << (col * H1))) >> 1;
            if top & last == 0 {
                continue;
            }
            let parent = Pos {
                current: last ^ top,
                mask: p.mask ^ top,
                moves: p.moves - 1,
            };
            let value = if parent.can_win_next() {
                Some(parent.win_now_score())
            } else {
                book.get_key(parent.symmetric_key().0)
            };
            if let Some(v) = value {
                bound = Some(bound.map_or(-v, |b: i32| b.max(-v)));
            }
        }
        bound
    }

    /// The score of `p` (exact, or only its sign when `weak`), or `None` when
    /// the search passed `self.limit` nodes.
    fn solve_pos(&mut self, p: &Pos, weak: bool) -> Option<i32> {
        if p.can_win_next() {
            return Some(p.win_now_score());
        }
        if let Some(v) = self.book.and_then(|b| b.get_pos(p)) {
            return Some(v);
        }
        let (mut min, mut max) = if weak {
            (-1, 1)
        } else {
            (-(CELLS - p.moves) / 2, (CELLS + 1 - p.moves) / 2)
        };
        // The first window: at the book's bound when there is one (most often
        // the score itself), else at 0 (the result); then in steps that double
        // while the answer keeps its direction.
        let mut med = 0;
        if let Some(bound) = self.book_lower_bound(p) {
            min = min.max(bound.min(max));
            med = bound;
        }
        med = med.clamp(min, (max - 1).max(min));
        let mut step = 1;
        let mut last = 0;
        self.aborted = false;
        while min < max {
            let r = self.negamax(p, med, med + 1);
            if self.aborted {
                return None;
            }
            let dir = if r <= med {
                max = r;
                -1
            } else {
                min = r;
                1
            };
            step = if dir == last { step * 2 } else { 1 };
            last = dir;
            med = if dir > 0 {
                (min + step - 1).min(max - 1)
            } else {
                (max - step).max(min)
            };
        }
        Some(min)
    }

    /// The exact score of `position` (see the module docs); a finished game scores
    /// as [`Oracle::terminal_score`] says.
    pub fn solve(&mut self, position: &Connect4) -> i32 {
        if position.is_terminal() {
            return self.terminal_score(position);
        }
        self.solve_pos(&pos(position), false)
            .expect("no node limit")
    }

    /// Only the result: 1 win, 0 draw, -1 loss for the side to move (faster than
    /// the exact score).
    pub fn solve_result(&mut self, position: &Connect4) -> i32 {
        if position.is_terminal() {
            return self.terminal_score(position).signum();
        }
        self.solve_pos(&pos(position), true)
            .expect("no node limit")
            .signum()
    }

    /// The exact score of `position` if the search needs at most `max_nodes`
    /// positions, else `None` (what the table learnt stays: only proven bounds
    /// are stored).
    pub fn solve_limited(&mut self, position: &Connect4, max_nodes: u64) -> Option<i32> {
        if position.is_terminal() {
            return Some(self.terminal_score(position));
        }
        self.limit = self.nodes.saturating_add(max_nodes);
        let r = self.solve_pos(&pos(position), false);
        self.limit = u64::MAX;
        self.aborted = false;
        r
    }
}

/// A search's work for the table: bits of the number of positions it searched.
#[inline]
fn work_since(nodes: u64, start: u64) -> u8 {
    (64 - (nodes - start).leading_zeros()) as u8
}

pub(crate) fn pos(p: &Connect4) -> Pos {
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
        KNOWN_POSITIONS
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

/// Test positions for mistake rates, solved ahead of time by this solver
/// (`az solve connect4 --sample <phase>`; each file says how): 100 or more per
/// phase, so that every machine measures the same positions (at run time a
/// loaded machine finds fewer within its budget).
const KNOWN_POSITIONS: &str = concat!(
    include_str!("../positions/opening.txt"),
    include_str!("../positions/middle.txt"),
    include_str!("../positions/end.txt"),
);

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
        let mut solver = Solver::without_book(1 << 18);
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

    /// The shipped test positions: each line is a position where some move is a
    /// mistake, listing exactly the moves that keep its result. All are read and
    /// checked (phase, legal moves, no position twice); a subset is solved again
    /// here (all of them take minutes; `az solve` wrote them).
    #[test]
    fn known_positions_hold() {
        // Plies of each phase (az-arena's Phase::plies for 42 moves).
        let phases = [("opening", 1..8), ("middle", 8..21), ("end", 21..42)];
        // (position, moves that keep its result, its index within its phase)
        let mut lines: Vec<(Connect4, Vec<usize>, usize)> = Vec::new();
        let mut per_phase = [0; 3];
        for (i, line) in KNOWN_POSITIONS.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let f: Vec<&str> = line.split_whitespace().collect();
            let k = phases
                .iter()
                .position(|ph| ph.0 == f[0])
                .unwrap_or_else(|| panic!("line {}: phase {}", i + 1, f[0]));
            let index = per_phase[k];
            per_phase[k] += 1;
            let p = Connect4::from_moves(f[1]).unwrap();
            assert!(phases[k].1.contains(&p.ply()), "{line}: ply {}", p.ply());
            let good: Vec<usize> = f[2..]
                .iter()
                .map(|m| p.move_index(p.parse_move(m).unwrap()))
                .collect();
            assert!(!good.is_empty() && good.len() < p.legal_moves().len());
            lines.push((p, good, index));
        }
        assert!(per_phase.iter().all(|&n| n >= 100), "{per_phase:?}");
        let mut hashes: Vec<u64> = lines.iter().map(|(p, ..)| p.position_hash()).collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), lines.len(), "a position is listed twice");
        // Solved again: of the middle and end positions the first 100 of each
        // phase (what a run measures by default) and every 100th after them
        // (up to seconds each at plies 8-12); every opening position whose
        // moves the book answers (ply 4 at most), and the three deepest
        // openings (seconds each).
        lines.sort_by_key(|(p, ..)| std::cmp::Reverse(p.ply()));
        let deepest_opening = lines.iter().position(|(p, ..)| p.ply() < 8).unwrap();
        let mut s = Solver::default();
        for (i, (p, good, index)) in lines.iter().enumerate() {
            let opening = p.ply() < 8;
            if opening && p.ply() > 4 && i >= deepest_opening + 3 {
                continue;
            }
            if !opening && *index >= 100 && index % 100 != 0 {
                continue;
            }
            let (best, _) = optimal_moves(&mut s, p);
            let best: Vec<usize> = best.iter().map(|&m| p.move_index(m)).collect();
            assert_eq!(&best, good, "{p}");
        }
    }

    /// Middle-game positions scored by the solver as it was before the
    /// table kept lower bounds, mirror keys, move hints, buckets, enhanced
    /// cutoffs and the claimeven bound: each solved from a fresh table, then
    /// all again with one table carried from position to position (a wrong
    /// stored bound shows in the second pass), and their mirror images.
    #[test]
    fn middle_game_scores_match_the_earlier_solver() {
        let fixture = include_str!("../tests/middle_game_scores.txt");
        let cases: Vec<(Connect4, i32)> = fixture
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| {
                let (moves, score) = l.split_once(' ').unwrap();
                (Connect4::from_moves(moves).unwrap(), score.parse().unwrap())
            })
            .collect();
        assert!(cases.len() >= 50, "{} positions", cases.len());
        let mut shared = Solver::without_book(1 << 18);
        for (p, want) in &cases {
            assert_eq!(
                Solver::without_book(1 << 18).solve(p),
                *want,
                "fresh table: {p:?}"
            );
            assert_eq!(shared.solve(p), *want, "shared table: {p:?}");
            assert_eq!(shared.solve_result(p), want.signum(), "result: {p:?}");
            assert_eq!(shared.solve(&p.transformed(1)), *want, "mirror: {p:?}");
        }
    }

    /// The claimeven bound never undercuts the true score (brute force near
    /// the end, positions where every column holds an even number of stones).
    #[test]
    fn claimeven_bound_holds() {
        let mut rng = SmallRng::seed_from_u64(7);
        let (mut checked, mut bounded) = (0, 0);
        while checked < 300 {
            let ply = 2 * rng.random_range(16..20);
            let Some(p) = random_position(&mut rng, ply) else {
                continue;
            };
            let q = pos(&p);
            if q.possible() & EVEN_ROWS != 0 {
                continue;
            }
            checked += 1;
            if let Some(b) = q.claimeven_bound() {
                bounded += 1;
                assert!(brute(&p) <= b, "bound {b} below the score of {p:?}");
            }
        }
        assert!(bounded > 30, "the bound applied {bounded} times");
    }

    /// A search stopped at its node limit stores nothing false: the same
    /// table then solves the position exactly.
    #[test]
    fn a_stopped_search_leaves_a_sound_table() {
        let p = Connect4::from_moves("5765144254154").unwrap();
        let mut s = Solver::without_book(1 << 18);
        for limit in [100, 1000, 10_000] {
            assert_eq!(s.solve_limited(&p, limit), None, "limit {limit}");
        }
        assert_eq!(s.solve_limited(&p, u64::MAX), Some(3));
        assert_eq!(s.solve(&p), 3);
    }

    /// The opening is answered from the book: connect4 is a first-player win
    /// (score 1: with the last stone), only in the centre column; after it,
    /// every reply of the second player loses and the book has each.
    #[test]
    fn the_initial_position_and_its_children_come_from_the_book() {
        let book = book::shipped();
        assert!(book.plies() >= 2, "book of {} plies", book.plies());
        let mut s = Solver::default();
        let start = Connect4::new();
        assert_eq!(s.solve(&start), 1);
        assert_eq!(s.solve_result(&start), 1);
        let scores = s.move_scores(&start);
        let best: Vec<String> = scores
            .iter()
            .filter(|m| m.1 == 1)
            .map(|m| start.format_move(m.0))
            .collect();
        assert_eq!(best, ["4"]);
        assert!(scores.iter().all(|m| m.1 <= 1));
        let four = Connect4::from_moves("4").unwrap();
        assert_eq!(s.solve(&four), -1);
        for (mv, score) in s.move_scores(&four) {
            let mut c = four;
            c.apply_unchecked(mv);
            assert_eq!(book.get(&c), Some(-score), "{c:?}");
            assert!(score < 0, "the second player loses after 4 then {mv:?}");
        }
        assert_eq!(s.nodes(), 0, "all from the book, nothing searched");
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
