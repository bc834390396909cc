//! The network as a search evaluator: leaves encoded into a [`Batch`] (the one
//! place positions become network input and legal-move masks), answered by a
//! model in this process or by the inference server.

use crate::{Batch, BatchModel, Client};
use az_game::Game;
use az_mcts::{Evaluations, Evaluator, EvaluatorGone, Leaf};

impl Batch {
    /// Appends `leaves`: each position encoded, its legal moves as the mask.
    ///
    /// # Panics
    /// If the batch was made for another input length or number of actions.
    pub fn push_leaves<G: Game>(&mut self, leaves: &[Leaf<G>]) {
        assert_eq!(
            (self.input_len(), self.num_actions()),
            (G::SHAPE.len(), G::NUM_ACTIONS),
            "a batch for {}",
            G::NAME
        );
        for leaf in leaves {
            self.push_position(leaf.position(), leaf.moves());
        }
    }

    /// Appends `position` encoded, with `moves` (its legal moves) as the mask.
    ///
    /// # Panics
    /// If the batch's sizes are not `G`'s (debug builds), or a row is short.
    #[inline]
    pub fn push_position<G: Game>(&mut self, position: &G, moves: &[G::Move]) {
        debug_assert_eq!(self.input_len(), G::SHAPE.len());
        let (input, mask) = self.push();
        position.encode(input);
        for &mv in moves {
            mask[position.move_index(mv)] = 1.0;
        }
    }

    /// The answers of a batch the server (or a model) has filled.
    pub fn evaluations(&self) -> Evaluations<'_> {
        Evaluations::new(&self.policy, &self.value, self.num_actions())
    }
}

/// A model evaluated in this process, on the caller's thread (the agent of `az
/// play`, `az analyze`, evaluation matches): one forward pass per batch of leaves.
#[derive(Debug)]
pub struct ModelEvaluator<M> {
    model: M,
    batch: Batch,
}

impl<M: BatchModel> ModelEvaluator<M> {
    /// Evaluates with `model`.
    pub fn new(model: M) -> Self {
        let batch = Batch::new(model.input_len(), model.num_actions(), 1);
        ModelEvaluator { model, batch }
    }

    /// The model.
    pub fn model(&self) -> &M {
        &self.model
    }
}

impl<G: Game, M: BatchModel> Evaluator<G> for ModelEvaluator<M> {
    fn evaluate(&mut self, leaves: &[Leaf<G>]) -> Result<Evaluations<'_>, EvaluatorGone> {
        self.batch.clear();
        self.batch.push_leaves(leaves);
        self.batch.answer_with(&mut self.model);
        Ok(self.batch.evaluations())
    }
}

/// The inference server as a blocking evaluator: each batch of leaves is one
/// request, merged there with everyone else's.
///
/// # Examples
/// ```
/// use az_game::Game;
/// use az_infer::{ClientEvaluator, Server, ServerConfig, UniformModel};
/// use az_mcts::{Search, SearchConfig};
/// use az_tictactoe::TicTacToe;
///
/// let model = UniformModel {
///     input_len: TicTacToe::SHAPE.len(),
///     num_actions: TicTacToe::NUM_ACTIONS,
/// };
/// let (server, client) = Server::start(model, ServerConfig::default());
/// let config = SearchConfig { simulations: 64, searches_per_game: 8, ..SearchConfig::default() };
/// let mut search = Search::new(TicTacToe::new(), config);
/// let mut evaluator = ClientEvaluator::new(client);
/// search.run(&mut evaluator).unwrap();
/// assert_eq!(search.tree().root_visits(), 64);
/// drop(evaluator);
/// server.join().unwrap();
/// ```
#[derive(Debug)]
pub struct ClientEvaluator {
    client: Client,
    batch: Option<Batch>,
}

impl ClientEvaluator {
    /// Evaluates through `client`.
    pub fn new(client: Client) -> Self {
        ClientEvaluator {
            client,
            batch: None,
        }
    }
}

impl<G: Game> Evaluator<G> for ClientEvaluator {
    fn evaluate(&mut self, leaves: &[Leaf<G>]) -> Result<Evaluations<'_>, EvaluatorGone> {
        let mut batch = self
            .batch
            .take()
            .unwrap_or_else(|| Batch::new(G::SHAPE.len(), G::NUM_ACTIONS, leaves.len()));
        batch.clear();
        batch.push_leaves(leaves);
        let answered = self
            .client
            .evaluate(batch)
            .map_err(|e| EvaluatorGone(e.to_string()))?;
        Ok(self.batch.insert(answered).evaluations())
    }
}
