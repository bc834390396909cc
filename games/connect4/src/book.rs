//! The opening book: the exact score of every position up to a few plies,
//! solved ahead of time, because the solver's search takes minutes there (the
//! first plies are the far end of the game tree).
//!
//! Written by `az solve connect4 --write-book FILE --plies N` ([`generate`]) and
//! shipped in this crate (`positions/book.bin`, [`shipped`]). A position and its
//! mirror image share one entry; positions whose side to move wins at once are
//! left out (the solver scores them without a search).
//!
//! # File format (little-endian)
//! | bytes | field |
//! |---|---|
//! | 8 | `AZC4BOOK` |
//! | 4 | version, 1 |
//! | 1, 1, 1, 1 | width 7, height 6, plies (every position up to this many stones is in the book), 0 |
//! | 4 | number of entries |
//! | 8 | FNV-1a 64 checksum of every byte of the file but these eight |
//! | 8 per entry | the position's key (7 bytes: Pons' `current + mask`, the smaller of the position's and its mirror's) and its score (1 byte, signed), sorted by key |

use crate::solver::{ORDER, Pos, Solver, pos};
use crate::{Column, Connect4, HEIGHT, WIDTH};
use az_game::Game;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

const MAGIC: &[u8; 8] = b"AZC4BOOK";
const VERSION: u32 = 1;
const HEADER: usize = 8 + 4 + 4 + 4 + 8;
const CHECKSUM_AT: usize = 20;
const ENTRY: usize = 8;

/// Exact scores of every position up to [`Book::plies`] stones.
#[derive(Clone, PartialEq, Eq)]
pub struct Book {
    plies: usize,
    keys: Vec<u64>,
    scores: Vec<i8>,
}

impl fmt::Debug for Book {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Book {{ plies: {}, entries: {} }}",
            self.plies,
            self.keys.len()
        )
    }
}

/// A book file that cannot be read: what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookError(pub String);

impl fmt::Display for BookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "connect4 opening book: {}", self.0)
    }
}

impl std::error::Error for BookError {}

fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in *part {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

static SHIPPED: LazyLock<Book> = LazyLock::new(|| {
    Book::from_bytes(include_bytes!("../positions/book.bin"))
        .expect("the shipped book is checked by this crate's tests")
});

/// The book shipped with this crate (`positions/book.bin`), read on first use.
pub fn shipped() -> &'static Book {
    &SHIPPED
}

impl Book {
    /// Every position up to this many stones (plies) is in the book.
    pub fn plies(&self) -> usize {
        self.plies
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the book has no entries.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The exact score of `position` (the solver's scale) if it is in the book:
    /// a position of at most [`Book::plies`] stones whose side to move cannot
    /// win at once.
    pub fn get(&self, position: &Connect4) -> Option<i32> {
        if position.is_terminal() {
            return None;
        }
        self.get_pos(&pos(position))
    }

    pub(crate) fn get_pos(&self, p: &Pos) -> Option<i32> {
        if p.moves as usize > self.plies {
            return None;
        }
        self.get_key(p.symmetric_key().0)
    }

    /// The score stored under a position's symmetric key.
    pub(crate) fn get_key(&self, key: u64) -> Option<i32> {
        self.keys
            .binary_search(&key)
            .ok()
            .map(|i| i32::from(self.scores[i]))
    }

    /// The file's bytes (see the module docs).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(self.keys.len() * ENTRY);
        for (&k, &s) in self.keys.iter().zip(&self.scores) {
            body.extend_from_slice(&k.to_le_bytes()[..7]);
            body.push(s as u8);
        }
        let mut head = Vec::with_capacity(HEADER);
        head.extend_from_slice(MAGIC);
        head.extend_from_slice(&VERSION.to_le_bytes());
        head.extend_from_slice(&[WIDTH as u8, HEIGHT as u8, self.plies as u8, 0]);
        head.extend_from_slice(&(self.keys.len() as u32).to_le_bytes());
        let sum = fnv1a(&[&head, &body]);
        head.extend_from_slice(&sum.to_le_bytes());
        head.extend_from_slice(&body);
        head
    }

    /// Reads a book file, checking its header, size, checksum and order.
    ///
    /// # Errors
    /// [`BookError`] naming what does not match.
    pub fn from_bytes(bytes: &[u8]) -> Result<Book, BookError> {
        let err = |m: String| Err(BookError(m));
        if bytes.len() < HEADER || &bytes[..8] != MAGIC {
            return err("not a book file (no AZC4BOOK header)".into());
        }
        let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().expect("4 bytes"));
        let version = u32_at(8);
        if version != VERSION {
            return err(format!("version {version}, this build reads {VERSION}"));
        }
        let (w, h, plies) = (bytes[12], bytes[13], bytes[14]);
        if (w as usize, h as usize) != (WIDTH, HEIGHT) {
            return err(format!("a {w}x{h} board, not {WIDTH}x{HEIGHT}"));
        }
        let count = u32_at(16) as usize;
        if bytes.len() != HEADER + count * ENTRY {
            return err(format!(
                "{} bytes, the header says {count} entries ({} bytes)",
                bytes.len(),
                HEADER + count * ENTRY
            ));
        }
        let stored = u64::from_le_bytes(bytes[CHECKSUM_AT..HEADER].try_into().expect("8 bytes"));
        let sum = fnv1a(&[&bytes[..CHECKSUM_AT], &bytes[HEADER..]]);
        if stored != sum {
            return err(format!(
                "checksum {sum:016x}, the header says {stored:016x}"
            ));
        }
        let mut keys = Vec::with_capacity(count);
        let mut scores = Vec::with_capacity(count);
        for e in bytes[HEADER..].chunks_exact(ENTRY) {
            let mut k = [0; 8];
            k[..7].copy_from_slice(&e[..7]);
            let key = u64::from_le_bytes(k);
            if keys.last().is_some_and(|&last| last >= key) {
                return err(format!("entries out of order at entry {}", keys.len()));
            }
            keys.push(key);
            scores.push(e[7] as i8);
        }
        Ok(Book {
            plies: plies as usize,
            keys,
            scores,
        })
    }
}

/// How far [`generate`] is: positions of the last ply solved by search, of how many.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Positions of the book's last ply solved so far.
    pub solved: usize,
    /// Positions of the book's last ply to solve.
    pub total: usize,
}

/// Every distinct position (a position and its mirror image counted once) with
/// `ply` stones that is not over: depth-first, centre columns first.
pub fn positions_at(ply: usize) -> Vec<Connect4> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut stack = vec![Connect4::new()];
    while let Some(p) = stack.pop() {
        if !seen.insert((p.ply(), pos(&p).symmetric_key().0)) {
            continue;
        }
        if p.ply() == ply {
            out.push(p);
            continue;
        }
        for &col in ORDER.iter().rev() {
            let m = Column(col as u8);
            if p.is_legal(m) {
                let mut c = p;
                c.apply_unchecked(m);
                if !c.is_terminal() {
                    stack.push(c);
                }
            }
        }
    }
    out
}

/// Scores of the book's positions, filled from the last ply's searches upwards.
struct Scores<'a> {
    plies: usize,
    last_ply: &'a HashMap<u64, i8>,
    scores: HashMap<u64, i8>,
}

impl Scores<'_> {
    /// The exact score of `p` (not over), storing it for the book: from the
    /// last ply's searches, or negamax over its children.
    fn score(&mut self, p: &Connect4) -> i32 {
        let q = pos(p);
        if q.can_win_next() {
            // Left out of the book, but every child below is still visited
            // (the book holds every position up to its last ply).
            if p.ply() < self.plies {
                self.children_best(p);
            }
            return q.win_now_score();
        }
        let (key, _) = q.symmetric_key();
        if let Some(&v) = self.scores.get(&key) {
            return i32::from(v);
        }
        let v = if p.ply() == self.plies {
            i32::from(self.last_ply[&key])
        } else {
            self.children_best(p)
        };
        self.scores.insert(key, v as i8);
        v
    }

    fn children_best(&mut self, p: &Connect4) -> i32 {
        let mut best = i32::MIN;
        for m in p.legal_moves() {
            let mut c = *p;
            c.apply_unchecked(m);
            let s = if c.is_terminal() {
                // Only a win ends a game this early: the side to move lost it.
                -((c.ply() as i32 + 1) / 2 - 22)
            } else {
                -self.score(&c)
            };
            best = best.max(s);
        }
        best
    }
}

/// Positions a thread takes at a time: neighbours in depth-first order share
/// much of their trees, so each search finds the table warm from the last.
const CHUNK: usize = 8;

/// Solves every position up to `plies` stones: those with `plies` stones by
/// search, one thread per solver in `solvers` (each taking runs of
/// neighbouring positions in depth-first order), the others from their
/// children. `report` hears after each search.
///
/// # Panics
/// If `solvers` is empty.
pub fn generate(plies: usize, solvers: &mut [Solver], report: &mut dyn FnMut(Progress)) -> Book {
    assert!(!solvers.is_empty(), "at least one solver");
    let last: Vec<Connect4> = positions_at(plies)
        .into_iter()
        .filter(|p| !pos(p).can_win_next())
        .collect();
    let mut progress = Progress {
        solved: 0,
        total: last.len(),
    };
    let mut last_ply = HashMap::with_capacity(last.len());
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        let (tx, rx) = mpsc::channel::<(u64, i8)>();
        for solver in solvers.iter_mut() {
            let (tx, next, last) = (tx.clone(), &next, &last);
            s.spawn(move || {
                loop {
                    let from = next.fetch_add(CHUNK, Ordering::Relaxed);
                    if from >= last.len() {
                        break;
                    }
                    for p in &last[from..(from + CHUNK).min(last.len())] {
                        let v = solver.solve(p) as i8;
                        if tx.send((pos(p).symmetric_key().0, v)).is_err() {
                            return;
                        }
                    }
                }
            });
        }
        drop(tx);
        for (key, v) in rx {
            last_ply.insert(key, v);
            progress.solved += 1;
            report(progress);
        }
    });
    let mut scores = Scores {
        plies,
        last_ply: &last_ply,
        scores: HashMap::new(),
    };
    scores.score(&Connect4::new());
    let mut entries: Vec<(u64, i8)> = scores.scores.into_iter().collect();
    entries.sort_unstable();
    Book {
        plies,
        keys: entries.iter().map(|e| e.0).collect(),
        scores: entries.iter().map(|e| e.1).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::{RngExt, SeedableRng};

    fn small() -> Book {
        Book {
            plies: 3,
            keys: vec![3, 9, 1 << 48],
            scores: vec![-2, 0, 5],
        }
    }

    #[test]
    fn bytes_round_trip_and_damage_is_named() {
        let b = small();
        let bytes = b.to_bytes();
        assert_eq!(bytes.len(), HEADER + 3 * ENTRY);
        assert_eq!(Book::from_bytes(&bytes), Ok(b));
        let mut flipped = bytes.clone();
        flipped[HEADER + 2] ^= 1;
        assert!(
            Book::from_bytes(&flipped)
                .unwrap_err()
                .0
                .contains("checksum")
        );
        let e = Book::from_bytes(&bytes[..bytes.len() - 1]).unwrap_err();
        assert!(e.0.contains("entries"), "{e}");
        let mut other = bytes.clone();
        other[8] = 2;
        assert!(Book::from_bytes(&other).unwrap_err().0.contains("version"));
        assert!(Book::from_bytes(b"not a book at all, really not").is_err());
    }

    /// The exact score of `p` from the book, a win at once, or the end of the game.
    fn from_book(book: &Book, p: &Connect4) -> i32 {
        if p.is_terminal() {
            // Only a win ends a game this early; the side to move has lost it.
            return (p.ply() as i32 + 1) / 2 - 22;
        }
        let q = pos(p);
        if q.can_win_next() {
            return q.win_now_score();
        }
        book.get(p)
            .unwrap_or_else(|| panic!("{p:?} is not in the book"))
    }

    /// Every position up to the book's last ply is in it (mirror images
    /// share an entry, nothing else is there), and each one before the last
    /// ply scores what its children say (negamax over the book itself).
    #[test]
    fn the_shipped_book_is_complete_and_consistent() {
        let book = shipped();
        let mut count = 0;
        for ply in 0..=book.plies() {
            for p in positions_at(ply) {
                if pos(&p).can_win_next() {
                    assert_eq!(book.get(&p), None);
                    continue;
                }
                count += 1;
                let v = from_book(book, &p);
                assert_eq!(book.get(&p.transformed(1)), Some(v), "mirror of {p:?}");
                if ply < book.plies() {
                    let best = p
                        .legal_moves()
                        .iter()
                        .map(|&m| {
                            let mut c = p;
                            c.apply_unchecked(m);
                            -from_book(book, &c)
                        })
                        .max()
                        .unwrap();
                    assert_eq!(v, best, "{p:?}");
                }
            }
        }
        assert_eq!(count, book.len());
    }

    /// A seeded sample of the book's last ply, solved again by the search
    /// (no book, a fresh table each): a few seconds each in the release
    /// profile the tests use. `cargo test --release -- --ignored` checks more.
    #[test]
    fn deepest_entries_match_the_search() {
        check_deepest(4);
    }

    #[test]
    #[ignore = "minutes: the search on 30 positions of the book's last ply"]
    fn thirty_deepest_entries_match_the_search() {
        check_deepest(30);
    }

    fn check_deepest(sample: usize) {
        let book = shipped();
        let mut deepest: Vec<Connect4> = positions_at(book.plies())
            .into_iter()
            .filter(|p| !pos(p).can_win_next())
            .collect();
        let mut rng = SmallRng::seed_from_u64(20);
        for _ in 0..sample {
            let p = deepest.swap_remove(rng.random_range(0..deepest.len()));
            let v = Solver::without_book(1 << 22).solve(&p);
            assert_eq!(book.get(&p), Some(v), "{p:?}");
        }
    }
}
