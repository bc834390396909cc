//! [`Agent`]: one search per move with a blocking evaluator (the network in
//! this process, or anything else that evaluates batches of leaves).

use az_game::Game;
use az_infer::{BatchModel, ModelEvaluator};
use az_mcts::{Evaluator, EvaluatorGone, MoveResult, Search, SearchConfig};

/// The searching agent: an evaluator and a search config (for evaluation and
/// analysis, a root policy without noise or sampling:
/// [`RootPolicy::deterministic`](az_mcts::RootPolicy::deterministic)).
#[derive(Debug)]
pub struct Agent<E> {
    evaluator: E,
    config: SearchConfig,
}

impl<E> Agent<E> {
    /// An agent that evaluates leaves with `evaluator` and searches with `config`
    /// (`simulations` 0 or 1: the network's policy alone).
    pub fn new(evaluator: E, config: SearchConfig) -> Self {
        Agent { evaluator, config }
    }

    /// The settings.
    pub fn config(&self) -> &SearchConfig {
        &self.config
    }

    /// Searches `position` and returns the move result: the move the agent
    /// plays, the root value, per-move statistics, the principal variation.
    ///
    /// # Errors
    /// [`EvaluatorGone`] if the evaluator stopped answering.
    ///
    /// # Panics
    /// If the game is over at `position`.
    pub fn analyze<G: Game>(&mut self, position: &G) -> Result<MoveResult<G::Move>, EvaluatorGone>
    where
        E: Evaluator<G>,
    {
        assert!(!position.is_terminal(), "analyze a finished game");
        let mut search = Search::new(position.clone(), self.config.clone());
        search.run(&mut self.evaluator)?;
        Ok(search.result())
    }

    /// [`analyze`](Agent::analyze) that shows its progress: `progress` gets the
    /// move result so far about `steps` times along the search (after a pass
    /// crosses each `simulations / steps`) and once at the end with `true`; it
    /// returns false to stop the search there (a client that went away).
    /// Returns the last result.
    ///
    /// # Errors
    /// [`EvaluatorGone`] if the evaluator stopped answering.
    ///
    /// # Panics
    /// If the game is over at `position`.
    pub fn analyze_in_steps<G: Game>(
        &mut self,
        position: &G,
        steps: u32,
        mut progress: impl FnMut(&MoveResult<G::Move>, bool) -> bool,
    ) -> Result<MoveResult<G::Move>, EvaluatorGone>
    where
        E: Evaluator<G>,
    {
        assert!(!position.is_terminal(), "analyze a finished game");
        let mut search = Search::new(position.clone(), self.config.clone());
        let every = (self.config.simulations / steps.max(1)).max(1);
        let mut result = MoveResult::default();
        let mut stopped = false;
        search.run_observed(&mut self.evaluator, every, |s| {
            s.result_into(&mut result);
            stopped = !progress(&result, false);
            !stopped
        })?;
        if !stopped {
            search.result_into(&mut result);
            progress(&result, true);
        }
        Ok(result)
    }
}

impl<M: BatchModel> Agent<ModelEvaluator<M>> {
    /// An agent that evaluates with `model` on the caller's thread.
    pub fn with_model(model: M, config: SearchConfig) -> Self {
        Agent::new(ModelEvaluator::new(model), config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use az_game::Game;
    use az_infer::UniformModel;
    use az_tictactoe::TicTacToe;

    fn agent(simulations: u32) -> Agent<ModelEvaluator<UniformModel>> {
        let model = UniformModel {
            input_len: TicTacToe::SHAPE.len(),
            num_actions: TicTacToe::NUM_ACTIONS,
        };
        let config = SearchConfig {
            simulations,
            searches_per_game: 4,
            ..SearchConfig::default()
        };
        Agent::with_model(model, config)
    }

    #[test]
    fn search_finds_the_win_in_one_and_reports_it() {
        // X to move with a1 b1 on the top row: c1 wins.
        let p = TicTacToe::from_moves("a1 a2 b1 b2").unwrap();
        let a = agent(200).analyze(&p).unwrap();
        let best = a.chosen.unwrap();
        assert_eq!(p.format_move(best), "c1");
        assert!(a.value > 0.5, "{}", a.value);
        assert_eq!(a.pv[0], best);
        // The first simulation evaluates the root itself; the other 199 went to moves.
        assert_eq!(a.moves.iter().map(|m| m.visits).sum::<u32>(), 199);
    }

    #[test]
    fn the_stepwise_search_ends_where_the_plain_one_does() {
        let p = TicTacToe::from_moves("a1 b2").unwrap();
        let whole = agent(200).analyze(&p).unwrap();
        let mut seen = Vec::new();
        let stepwise = agent(200)
            .analyze_in_steps(&p, 8, |r, done| {
                seen.push((r.moves.iter().map(|m| m.visits).sum::<u32>(), done));
                true
            })
            .unwrap();
        // Same config, same deterministic root: the same tree at the end.
        assert_eq!(stepwise.chosen, whole.chosen);
        assert_eq!(stepwise.pv, whole.pv);
        assert_eq!(stepwise.value, whole.value);
        // Progress along the way, growing, then the end once.
        assert!(seen.len() >= 6, "{seen:?}");
        assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "{seen:?}");
        assert_eq!(seen.iter().filter(|s| s.1).count(), 1);
        assert_eq!(seen.last(), Some(&(199, true)));
        // A consumer that stops early gets what there was.
        let stopped = agent(200).analyze_in_steps(&p, 8, |_, _| false).unwrap();
        assert!(stopped.moves.iter().map(|m| m.visits).sum::<u32>() < 199);
    }

    #[test]
    fn zero_simulations_is_the_policy_argmax() {
        let p = TicTacToe::new();
        let a = agent(0).analyze(&p).unwrap();
        assert_eq!(a.moves.len(), 9);
        assert!((a.moves[0].prior - 1.0 / 9.0).abs() < 1e-6);
        assert_eq!(a.chosen, Some(a.moves[0].mv));
    }
}
