//! A hand-built game tree with a pass (the same player moves twice) and a known
//! minimax answer: values must be backed up across changes of player, and not
//! flipped where the player does not change.

use arrayvec::ArrayVec;
use az_game::{Game, MoveError, Outcome, Player, Shape, Symmetry};
use az_mcts::{Search, SearchConfig, Uniform, VirtualLoss};
use std::fmt;

struct Spec {
    to_move: Player,
    children: &'static [usize],
    result: Option<Outcome>,
}

const fn inner(to_move: Player, children: &'static [usize]) -> Spec {
    Spec {
        to_move,
        children,
        result: None,
    }
}
const fn leaf(result: Outcome) -> Spec {
    Spec {
        to_move: Player::First,
        children: &[],
        result: Some(result),
    }
}

use Player::{First, Second};
/// 0: First chooses a (1) or b (2).
/// 1: Second had to pass, First moves again: 3 wins for First, 4 loses.
/// 2: Second chooses between a draw (5) and a draw (6).
/// Minimax: a then 3, value +1 for First. A search that flips the sign at the pass
/// sees node 1 as Second's choice (value -1) and prefers b (value 0).
static TABLE: [Spec; 7] = [
    inner(First, &[1, 2]),
    inner(First, &[3, 4]),
    inner(Second, &[5, 6]),
    leaf(Outcome::Win(First)),
    leaf(Outcome::Win(Second)),
    leaf(Outcome::Draw),
    leaf(Outcome::Draw),
];

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct Table {
    node: usize,
    ply: usize,
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node {}", self.node)
    }
}

impl Game for Table {
    type Move = u8;
    type Moves = ArrayVec<u8, 2>;
    const NAME: &'static str = "table";
    const NUM_ACTIONS: usize = 2;
    const SHAPE: Shape = Shape {
        planes: 1,
        height: 1,
        width: 7,
    };
    const MAX_GAME_LENGTH: usize = 2;
    const NOTATION: &'static str = "a slot digit 0-1";

    fn new() -> Self {
        Table { node: 0, ply: 0 }
    }
    fn to_move(&self) -> Player {
        TABLE[self.node].to_move
    }
    fn ply(&self) -> usize {
        self.ply
    }
    fn legal_moves(&self) -> Self::Moves {
        (0..TABLE[self.node].children.len() as u8).collect()
    }
    fn apply_unchecked(&mut self, mv: u8) {
        self.node = TABLE[self.node].children[mv as usize];
        self.ply += 1;
    }
    fn outcome(&self) -> Option<Outcome> {
        TABLE[self.node].result
    }
    fn position_hash(&self) -> u64 {
        az_game::mix64(self.node as u64)
    }
    fn move_index(&self, mv: u8) -> usize {
        mv as usize
    }
    fn index_move(&self, index: usize) -> Option<u8> {
        (index < 2).then_some(index as u8)
    }
    fn encode(&self, out: &mut [f32]) {
        out[..7].fill(0.0);
        out[self.node] = 1.0;
    }
    fn symmetry(_: usize) -> Symmetry {
        Symmetry::identity(7, 2)
    }
    fn transformed(&self, _: usize) -> Self {
        *self
    }
    fn parse_move_prefix(&self, text: &str) -> Result<(u8, usize), MoveError> {
        match text.as_bytes().first() {
            Some(d @ b'0'..=b'1') => Ok((d - b'0', 1)),
            _ => Err(MoveError::Parse {
                text: text.into(),
                expected: Self::NOTATION,
            }),
        }
    }
    fn write_move(&self, mv: u8, out: &mut dyn fmt::Write) -> fmt::Result {
        write!(out, "{mv}")
    }
}

#[test]
fn table_game_passes_the_kit() {
    az_game::testkit::check_game::<Table>("startpos 1 2\nstartpos 2 4\nstartpos 3 0\n", 20);
}

#[test]
fn values_follow_the_player_across_a_pass() {
    for vl in [VirtualLoss::Loss(1.0), VirtualLoss::Visits(1.0)] {
        for k in [1, 4] {
            let cfg = SearchConfig {
                virtual_loss: vl,
                simulations: 400,
                searches_per_game: k,
                ..SearchConfig::default()
            };
            let mut search = Search::new(Table::new(), cfg);
            search.run(&mut Uniform::default()).unwrap();
            assert_eq!(
                search.result().chosen,
                Some(0),
                "{vl:?} k={k}: {:?}",
                search.tree().root_stats()
            );
            let tree = search.tree();
            assert!(
                tree.root_value() > 0.8,
                "{vl:?} k={k}: root value {}",
                tree.root_value()
            );
            let stats = tree.root_stats();
            let b = stats.iter().find(|s| s.mv == 1).unwrap();
            assert!(b.q.abs() < 1e-6, "b leads to draws only: {b:?}");
            // After the pass node is played, the same player is still to move and
            // the kept subtree's value keeps its sign.
            search.play(0);
            let tree = search.tree();
            assert_eq!(tree.root().to_move(), First);
            assert!(
                tree.root_value() > 0.8,
                "after advance: {}",
                tree.root_value()
            );
            assert_eq!(search.result().chosen, Some(0));
        }
    }
}
