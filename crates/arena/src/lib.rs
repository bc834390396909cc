//! Evaluation for az: players (the network agent searching with a [`BatchModel`],
//! uniform random, rollout MCTS, the perfect player of games with an
//! [`Oracle`](az_game::Oracle)), matches with both colours, Elo from scores, and
//! mistake rates against an oracle.
//!
//! [`BatchModel`]: az_infer::BatchModel

mod agent;
mod matches;
mod mistakes;
mod players;
mod spec;

pub use agent::{Agent, AgentConfig, Analysis};
pub use matches::{MatchResult, elo_difference, play_match};
pub use mistakes::{
    MistakeRates, Phase, PhasePositions, PositionSampler, TestPosition, mistake_rates,
    parse_position_lines, phase_positions, position_line, random_position, test_moves,
};
pub use players::{MctsPlayer, PerfectPlayer, Player, RandomPlayer};
pub use spec::{OpponentSpec, SpecError};
