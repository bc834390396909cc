//! Conformance kit: the checks every game crate runs (feature `testkit`).
//!
//! A game crate calls [`check_game`] from one test with its perft data file:
//!
//! ```ignore
//! #[test]
//! fn conformance() {
//!     az_game::testkit::check_game::<MyGame>(include_str!("perft.txt"), 200);
//! }
//! ```
//!
//! Each check panics with a message naming the position (as its move line) and
//! what is wrong, so a failing game shows where to look.

use crate::{Game, perft};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use std::collections::{HashMap, HashSet};

/// Runs every check: `playouts` random games (fixed seed) through the per-position
/// checks, then the perft lines of `perft_data` (see [`check_perft`]).
pub fn check_game<G: Game>(perft_data: &str, playouts: usize) {
    check_constants::<G>();
    check_symmetry_maps::<G>();
    check_playouts::<G>(playouts, 0x5eed);
    check_perft::<G>(perft_data);
}

/// Sizes are positive and consistent.
pub fn check_constants<G: Game>() {
    assert!(!G::NAME.is_empty(), "NAME is empty");
    assert!(
        G::NAME
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
        "NAME {:?} must be lower case letters, digits and '-'",
        G::NAME
    );
    assert!(
        G::NUM_ACTIONS > 0 && G::NUM_ACTIONS <= u16::MAX as usize,
        "NUM_ACTIONS out of range"
    );
    assert!(!G::SHAPE.is_empty(), "SHAPE is empty");
    assert!(
        G::NUM_SYMMETRIES >= 1,
        "NUM_SYMMETRIES counts the identity, so is at least 1"
    );
    assert!(G::MAX_GAME_LENGTH > 0, "MAX_GAME_LENGTH is 0");
    let start = G::new();
    assert_eq!(start.ply(), 0, "the initial position has ply 0");
    assert_eq!(
        start.to_move(),
        crate::Player::First,
        "the first player moves first"
    );
}

/// Every symmetry's maps are permutations of the right sizes; number 0 is the identity.
pub fn check_symmetry_maps<G: Game>() {
    for i in 0..G::NUM_SYMMETRIES {
        let s = G::symmetry(i);
        assert_eq!(
            s.cells.len(),
            G::SHAPE.cells(),
            "symmetry {i}: cell map size"
        );
        assert_eq!(
            s.actions.len(),
            G::NUM_ACTIONS,
            "symmetry {i}: action map size"
        );
        assert!(
            is_permutation(&s.cells),
            "symmetry {i}: cell map is not a permutation"
        );
        assert!(
            is_permutation(&s.actions),
            "symmetry {i}: action map is not a permutation"
        );
        if i == 0 {
            assert_eq!(
                s,
                crate::Symmetry::identity(G::SHAPE.cells(), G::NUM_ACTIONS)
            );
        }
    }
}

fn is_permutation(map: &[u16]) -> bool {
    let mut seen = vec![false; map.len()];
    map.iter()
        .all(|&i| (i as usize) < map.len() && !std::mem::replace(&mut seen[i as usize], true))
}

/// Plays `games` random games from the initial position and checks every position
/// on the way with [`check_position`]; also that equal positions hash equal and
/// different ones (among those seen) do not collide.
pub fn check_playouts<G: Game>(games: usize, seed: u64) {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut by_hash: HashMap<u64, G> = HashMap::new();
    for _ in 0..games {
        let mut position = G::new();
        let mut line = String::new();
        loop {
            check_position(&position, &line);
            check_hash(&mut by_hash, &position, &line);
            let moves = position.legal_moves();
            if moves.is_empty() {
                break;
            }
            assert!(
                position.ply() < G::MAX_GAME_LENGTH,
                "{line:?}: game runs past MAX_GAME_LENGTH = {}",
                G::MAX_GAME_LENGTH
            );
            let mv = moves[rng.random_range(0..moves.len())];
            line.push_str(&position.format_move(mv));
            line.push(' ');
            let before = position.clone();
            position.apply_unchecked(mv);
            assert_eq!(
                position.ply(),
                before.ply() + 1,
                "{line:?}: ply must grow by one"
            );
            check_transposition(&before, &mut rng, &line);
        }
        let replayed = G::from_moves(&line)
            .unwrap_or_else(|e| panic!("{line:?}: the formatted line does not parse back: {e}"));
        assert_eq!(
            replayed, position,
            "{line:?}: replaying the formatted line differs"
        );
    }
}

fn check_hash<G: Game>(by_hash: &mut HashMap<u64, G>, position: &G, line: &str) {
    let hash = position.position_hash();
    assert_eq!(
        hash,
        position.clone().position_hash(),
        "{line:?}: a clone hashes differently"
    );
    if let Some(seen) = by_hash.get(&hash) {
        assert_eq!(
            seen, position,
            "{line:?}: hash collides with the different position {seen:?}"
        );
    } else {
        by_hash.insert(hash, position.clone());
    }
}

/// Two move orders that reach the same position (a b c and c b a, where legal)
/// must give equal hashes.
fn check_transposition<G: Game>(position: &G, rng: &mut SmallRng, line: &str) {
    let moves = position.legal_moves();
    if moves.len() < 2 {
        return;
    }
    let a = moves[rng.random_range(0..moves.len())];
    let c = moves[rng.random_range(0..moves.len())];
    let mut pa = position.clone();
    pa.apply_unchecked(a);
    let Some(&b) = pa.legal_moves().first() else {
        return;
    };
    let play = |first, second, third| -> Option<G> {
        let mut p = position.clone();
        for mv in [first, second, third] {
            if !p.is_legal(mv) {
                return None;
            }
            p.apply_unchecked(mv);
        }
        Some(p)
    };
    if let (Some(x), Some(y)) = (play(a, b, c), play(c, b, a)) {
        if x == y {
            assert_eq!(
                x.position_hash(),
                y.position_hash(),
                "{line:?}: transposed move orders reach an equal position with another hash"
            );
        }
    }
}

/// Per-position checks: terminal exactly when no legal move; move index round
/// trip; notation round trip; encoding shape and finite values; symmetries map
/// legal moves to legal moves and agree with the encoding.
pub fn check_position<G: Game>(position: &G, line: &str) {
    let moves = position.legal_moves();
    let outcome = position.outcome();
    assert_eq!(
        moves.is_empty(),
        outcome.is_some(),
        "{line:?}: no legal moves must mean the game is over (got {} moves, outcome {outcome:?})",
        moves.len()
    );
    assert_eq!(position.is_terminal(), outcome.is_some());
    assert!(
        !position.to_string().is_empty(),
        "{line:?}: Display wrote nothing"
    );

    let mut indices = HashSet::new();
    for &mv in moves.iter() {
        let i = position.move_index(mv);
        assert!(
            i < G::NUM_ACTIONS,
            "{line:?}: {mv:?} has index {i} >= NUM_ACTIONS"
        );
        assert!(
            indices.insert(i),
            "{line:?}: two legal moves share index {i}"
        );
        assert_eq!(
            position.index_move(i),
            Some(mv),
            "{line:?}: index {i} does not map back"
        );
        assert!(
            position.is_legal(mv),
            "{line:?}: listed move {mv:?} is not is_legal"
        );
        let text = position.format_move(mv);
        assert_eq!(
            position.parse_move(&text),
            Ok(mv),
            "{line:?}: {text:?} does not parse back"
        );
        assert!(position.clone().apply(mv).is_ok());
    }

    let n = G::SHAPE.len();
    let mut encoded = vec![f32::NAN; n + 1];
    position.encode(&mut encoded);
    assert!(
        encoded[n].is_nan(),
        "{line:?}: encode wrote past SHAPE.len()"
    );
    assert!(
        encoded[..n].iter().all(|v| v.is_finite()),
        "{line:?}: encoding has a non-finite value (or left a cell unwritten)"
    );

    let mut expected = vec![0.0; n];
    let mut actual = vec![0.0; n];
    for i in 0..G::NUM_SYMMETRIES {
        let sym = G::symmetry(i);
        let t = position.transformed(i);
        assert_eq!(
            t.to_move(),
            position.to_move(),
            "{line:?}: symmetry {i} changed the mover"
        );
        assert_eq!(
            t.outcome(),
            outcome,
            "{line:?}: symmetry {i} changed the outcome"
        );
        assert_eq!(
            t.ply(),
            position.ply(),
            "{line:?}: symmetry {i} changed the ply"
        );
        let mut mapped: Vec<usize> = moves
            .iter()
            .map(|&m| sym.actions[position.move_index(m)] as usize)
            .collect();
        let mut legal: Vec<usize> = t.legal_moves().iter().map(|&m| t.move_index(m)).collect();
        mapped.sort_unstable();
        legal.sort_unstable();
        assert_eq!(
            mapped, legal,
            "{line:?}: symmetry {i} does not map legal moves to legal moves"
        );
        sym.apply_encoding(G::SHAPE, &encoded, &mut expected);
        t.encode(&mut actual);
        assert_eq!(
            expected, actual,
            "{line:?}: symmetry {i}: encoding disagrees with cell map"
        );
    }
    check_owners(position, line);
}

/// Cell owners ([`Game::owners`]), where the game has them: one value in
/// {-1, 0, 1} per cell and nothing past them, opposite for the two players,
/// unchanged by a move on the cells already held, and moved by every symmetry
/// as its cell map says.
fn check_owners<G: Game>(position: &G, line: &str) {
    let cells = G::SHAPE.cells();
    let view = position.to_move();
    let mut mine = vec![f32::NAN; cells + 1];
    if !position.owners(view, &mut mine) {
        return;
    }
    assert!(
        mine[cells].is_nan(),
        "{line:?}: owners wrote past SHAPE.cells()"
    );
    mine.truncate(cells);
    assert!(
        mine.iter().all(|&v| v == 0.0 || v == 1.0 || v == -1.0),
        "{line:?}: owners are not all -1, 0 or 1: {mine:?}"
    );
    let mut theirs = vec![f32::NAN; cells];
    assert!(position.owners(view.other(), &mut theirs));
    let negated: Vec<f32> = mine.iter().map(|&v| -v).collect();
    assert_eq!(
        theirs, negated,
        "{line:?}: the other player's owners are not the negation"
    );
    let shape = crate::Shape {
        planes: 1,
        ..G::SHAPE
    };
    let (mut expected, mut actual) = (vec![0.0; cells], vec![0.0; cells]);
    for i in 0..G::NUM_SYMMETRIES {
        G::symmetry(i).apply_encoding(shape, &mine, &mut expected);
        assert!(position.transformed(i).owners(view, &mut actual));
        assert_eq!(
            expected, actual,
            "{line:?}: symmetry {i}: owners disagree with the cell map"
        );
    }
}

/// Checks perft lines. Each non-empty line not starting with `#` is
/// `<moves|startpos> <depth> <count>`: the position reached by the moves (the
/// game's notation without spaces, or `startpos`), a depth, the expected count.
pub fn check_perft<G: Game>(data: &str) {
    let mut checked = 0;
    for (no, raw) in data.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [moves, depth, count] = fields[..] else {
            panic!(
                "perft data line {}: expected `<moves|startpos> <depth> <count>`",
                no + 1
            )
        };
        let position = if moves == "startpos" {
            G::new()
        } else {
            G::from_moves(moves).unwrap_or_else(|e| panic!("perft data line {}: {e}", no + 1))
        };
        let depth: u32 = depth.parse().expect("perft depth");
        let count: u64 = count.parse().expect("perft count");
        assert_eq!(
            perft(&position, depth),
            count,
            "perft line {}: {line}",
            no + 1
        );
        checked += 1;
    }
    assert!(checked > 0, "the perft data holds no line");
}

/// [`Board`](crate::Board)'s laws along `games` random games (fixed seed): as
/// many pieces as cells, every legal move shown on a cell of the grid (or off
/// it, a pass) and a click there playing a legal move, a click off any legal
/// move's cell playing nothing.
pub fn check_board<G: crate::Board>(games: usize, seed: u64) {
    let (rows, cols) = G::GRID;
    assert!(rows > 0 && cols > 0, "GRID {:?} has no cells", G::GRID);
    let mut rng = SmallRng::seed_from_u64(seed);
    for _ in 0..games {
        let mut position = G::new();
        let mut line = String::new();
        loop {
            assert_eq!(
                position.pieces().len(),
                rows * cols,
                "{line:?}: pieces per cell"
            );
            let moves = position.legal_moves();
            let mut shown = HashSet::new();
            for &mv in moves.iter() {
                let Some(cell) = position.move_cell(mv) else {
                    continue;
                };
                assert!(
                    cell < rows * cols,
                    "{line:?}: move cell {cell} off the grid"
                );
                shown.insert(cell);
                let clicked = position.cell_move(cell);
                assert!(
                    clicked.is_some_and(|c| position.is_legal(c)),
                    "{line:?}: a click on cell {cell} (where {} is shown) plays no legal move",
                    position.format_move(mv)
                );
            }
            for cell in (0..rows * cols).filter(|c| !shown.contains(c)) {
                if let Some(mv) = position.cell_move(cell) {
                    assert!(
                        position.is_legal(mv),
                        "{line:?}: cell {cell} plays an illegal move"
                    );
                }
            }
            if moves.is_empty() {
                break;
            }
            let mv = moves[rng.random_range(0..moves.len())];
            line.push_str(&position.format_move(mv));
            line.push(' ');
            position.apply_unchecked(mv);
        }
    }
}
