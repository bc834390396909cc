//! Self-play settings.

use az_mcts::{PuctRoot, RootPolicy, SearchConfig, TemperatureSchedule};

/// How self-play runs: games in parallel, workers, groups, and each game's search.
#[derive(Clone, Debug, PartialEq)]
pub struct SelfPlayConfig {
    /// Games in flight over all workers.
    pub parallel_games: usize,
    /// Worker threads; each owns `parallel_games / workers` games (the first ones one more).
    pub workers: usize,
    /// Groups per worker that alternate, so tree work overlaps the network (at least 2
    /// when a worker has 2 games or more).
    pub groups: usize,
    /// Each game's search: simulations per move, leaves per pass
    /// (`searches_per_game`), PUCT, virtual loss, the root policy (noise,
    /// temperature), tree reuse. Its `seed` is replaced per game slot.
    pub search: SearchConfig,
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
    /// Playout cap randomization (`None`: every move a full search).
    pub playout_cap: Option<PlayoutCap>,
    /// Random openings (`None`: every game starts from the initial position).
    pub random_opening: Option<RandomOpening>,
}

/// Games that start with a few uniformly random moves, played without a
/// search and not trained on, so that self-play also meets (and learns from)
/// positions its own play avoids: the unbalanced positions of weaker players.
/// A diversity device like KataGo's randomized openings (Wu 2019, section 5).
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct RandomOpening {
    /// Share of games, in `(0, 1]`, that start with random moves.
    pub share: f32,
    /// Such a game's random moves: uniform in `1..=max_plies`.
    pub max_plies: u32,
}

/// Playout cap randomization (Wu 2019, "Accelerating Self-Play Learning in
/// Go", section 3.1): a share of the moves gets the full search and trains the
/// policy; the others get a fast search without root noise, play on, and train
/// only the value (their recorded policy target is all zero).
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct PlayoutCap {
    /// Simulations of a fast search.
    pub fast_simulations: u32,
    /// Share of moves, in `(0, 1]`, that get the full search.
    pub full_share: f32,
}

impl Default for SelfPlayConfig {
    fn default() -> Self {
        SelfPlayConfig {
            parallel_games: 64,
            workers: 1,
            groups: 2,
            search: SearchConfig {
                simulations: 100,
                searches_per_game: 4,
                root: RootPolicy::Puct(PuctRoot {
                    dirichlet_epsilon: 0.25,
                    temperature: TemperatureSchedule { moves: 8 },
                    ..PuctRoot::default()
                }),
                ..SearchConfig::default()
            },
            resign_threshold: None,
            resign_check_share: 0.1,
            cache_size: 0,
            max_games: None,
            seed: 0,
            playout_cap: None,
            random_opening: None,
        }
    }
}
