//! [`Agent`]: the network's search, one move at a time, `k` leaves per forward pass.

use az_game::Game;
use az_infer::{Batch, BatchModel};
use az_mcts::{MoveStat, SearchConfig, Tree};

/// How the agent searches.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentConfig {
    /// Simulations per move (0 = the network's policy alone, argmax).
    pub simulations: u32,
    /// Leaves per forward pass (virtual loss keeps them apart).
    pub leaves_per_pass: usize,
    /// PUCT settings; root noise should be off for evaluation.
    pub search: SearchConfig,
}

/// What a search of one position found.
#[derive(Clone, Debug)]
pub struct Analysis<M> {
    /// The move the agent plays (most visited; the policy argmax with 0 simulations).
    pub best: M,
    /// Root value for the player to move, in `[-1, 1]`.
    pub value: f32,
    /// Per move: visits, prior, mean value (most visited first).
    pub moves: Vec<MoveStat<M>>,
    /// Principal variation from the root.
    pub pv: Vec<M>,
}

/// The network agent: a model and a search.
#[derive(Debug)]
pub struct Agent<M> {
    model: M,
    config: AgentConfig,
    batch: Batch,
}

impl<M: BatchModel> Agent<M> {
    /// An agent that evaluates with `model`.
    pub fn new(model: M, config: AgentConfig) -> Self {
        let batch = Batch::new(
            model.input_len(),
            model.num_actions(),
            config.leaves_per_pass.max(1),
        );
        Agent {
            model,
            config,
            batch,
        }
    }

    /// The settings.
    pub fn config(&self) -> &AgentConfig {
        &self.config
    }

    fn evaluate<G: Game>(&mut self, positions: &[&G]) {
        self.batch.clear();
        for p in positions {
            let (input, mask) = self.batch.push();
            p.encode(input);
            for &mv in p.legal_moves().iter() {
                mask[p.move_index(mv)] = 1.0;
            }
        }
        let n = positions.len();
        let b = &mut self.batch;
        b.policy.resize(n * b.num_actions(), 0.0);
        b.value.resize(n, 0.0);
        self.model
            .forward(n, &b.inputs, &b.masks, &mut b.policy, &mut b.value);
    }

    /// Searches `position` (not over) and returns the analysis.
    ///
    /// # Panics
    /// If the game is over at `position`.
    pub fn analyze<G: Game>(&mut self, position: &G) -> Analysis<G::Move> {
        assert!(!position.is_terminal(), "analyze a finished game");
        if self.config.simulations == 0 {
            self.evaluate(&[position]);
            let (policy, value) = self.batch.output(0);
            let mut moves: Vec<MoveStat<G::Move>> = position
                .legal_moves()
                .iter()
                .map(|&mv| MoveStat {
                    mv,
                    index: position.move_index(mv),
                    visits: 0,
                    prior: policy[position.move_index(mv)],
                    q: 0.0,
                })
                .collect();
            moves.sort_by(|a, b| b.prior.total_cmp(&a.prior));
            return Analysis {
                best: moves[0].mv,
                value,
                pv: vec![moves[0].mv],
                moves,
            };
        }
        let mut tree = Tree::new(position.clone(), self.config.search.clone());
        let mut leaves = Vec::new();
        let k = self.config.leaves_per_pass.max(1);
        let mut done = 0;
        while done < self.config.simulations {
            leaves.clear();
            let want = (self.config.simulations - done).min(k as u32) as usize;
            let g = tree.gather(want, &mut leaves);
            done += g.terminals + g.leaves;
            if leaves.is_empty() {
                if g.terminals == 0 {
                    break;
                }
                continue;
            }
            let positions: Vec<&G> = leaves.iter().map(|l| &l.position).collect();
            self.evaluate(&positions);
            for (i, leaf) in leaves.iter().enumerate() {
                let (policy, value) = self.batch.output(i);
                tree.apply(leaf, policy, value);
            }
        }
        let moves = tree.root_stats();
        let best = tree.choose_move(0.0).unwrap_or(moves[0].mv);
        Analysis {
            best,
            value: tree.root_value(),
            pv: tree.principal_variation(G::MAX_GAME_LENGTH),
            moves,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use az_game::Game;
    use az_infer::UniformModel;
    use az_tictactoe::TicTacToe;

    fn agent(simulations: u32) -> Agent<UniformModel> {
        let model = UniformModel {
            input_len: TicTacToe::SHAPE.len(),
            num_actions: TicTacToe::NUM_ACTIONS,
        };
        let config = AgentConfig {
            simulations,
            leaves_per_pass: 4,
            search: SearchConfig::default(),
        };
        Agent::new(model, config)
    }

    #[test]
    fn search_finds_the_win_in_one_and_reports_it() {
        // X to move with a1 b1 on the top row: c1 wins.
        let p = TicTacToe::from_moves("a1 a2 b1 b2").unwrap();
        let a = agent(200).analyze(&p);
        assert_eq!(p.format_move(a.best), "c1");
        assert!(a.value > 0.5, "{}", a.value);
        assert_eq!(a.pv[0], a.best);
        // The first simulation evaluates the root itself; the other 199 went to moves.
        assert_eq!(a.moves.iter().map(|m| m.visits).sum::<u32>(), 199);
    }

    #[test]
    fn zero_simulations_is_the_policy_argmax() {
        let p = TicTacToe::new();
        let a = agent(0).analyze(&p);
        assert_eq!(a.moves.len(), 9);
        assert!((a.moves[0].prior - 1.0 / 9.0).abs() < 1e-6);
    }
}
