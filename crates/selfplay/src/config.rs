//! Self-play settings.

use az_mcts::{SearchConfig, TemperatureSchedule};

/// How self-play runs: games × searches per game, workers, and the search itself.
#[derive(Clone, Debug, PartialEq)]
pub struct SelfPlayConfig {
    /// Games in flight over all workers.
    pub parallel_games: usize,
    /// Leaves gathered per game per round (virtual loss keeps them apart).
    pub searches_per_game: usize,
    /// Worker threads; each owns `parallel_games / workers` games (the first ones one more).
    pub workers: usize,
    /// Groups per worker that alternate, so tree work overlaps the network (at least 2
    /// when a worker has 2 games or more).
    pub groups: usize,
    /// Simulations per move.
    pub simulations: u32,
    /// PUCT, virtual loss, root noise (its `seed` is replaced per game slot).
    pub search: SearchConfig,
    /// Temperature 1 for the first moves, then 0.
    pub temperature: TemperatureSchedule,
    /// Keep the chosen subtree between moves.
    pub tree_reuse: bool,
    /// Resign when the root value for the player to move falls below this (`None` = never).
    pub resign_threshold: Option<f32>,
    /// Share of games, in `[0, 1]`, that never resign, to measure false resignations.
    pub resign_check_share: f32,
    /// Evaluation cache entries over all workers (0 = off).
    pub cache_size: usize,
    /// Stop after this many games have been finished (`None` = until stopped).
    pub max_games: Option<u64>,
    /// Seed of everything random in self-play.
    pub seed: u64,
}

impl Default for SelfPlayConfig {
    fn default() -> Self {
        SelfPlayConfig {
            parallel_games: 64,
            searches_per_game: 4,
            workers: 1,
            groups: 2,
            simulations: 100,
            search: SearchConfig {
                dirichlet_epsilon: 0.25,
                ..SearchConfig::default()
            },
            temperature: TemperatureSchedule { moves: 8 },
            tree_reuse: true,
            resign_threshold: None,
            resign_check_share: 0.1,
            cache_size: 0,
            max_games: None,
            seed: 0,
        }
    }
}
