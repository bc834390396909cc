//! Evaluation for az: players (the searching [`Agent`], with the network as its
//! evaluator,
//! uniform random, rollout MCTS, the perfect player of games with an
//! [`Oracle`](az_game::Oracle)), matches with both colours, Elo from scores, and
//! mistake rates against an oracle.

mod agent;
mod matches;
mod mistakes;
mod opponent;
mod players;
mod value_player;

pub use agent::Agent;
pub use matches::{MatchResult, elo_difference, match_openings, play_match};
pub use mistakes::{
    MistakeRates, Phase, PhasePositions, PositionSampler, TestPosition, mistake_rates,
    parse_position_lines, phase_positions, position_line, random_position, test_moves,
};
pub use opponent::{OpponentSpec, SpecError};
pub use players::{MctsPlayer, PerfectPlayer, Player, RandomPlayer};
pub use value_player::ValuePlayer;
