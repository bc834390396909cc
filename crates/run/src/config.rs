//! The experiment's sections as the settings of the learner and the agent.

use az_arena::AgentConfig;
use az_experiment::{Experiment, OptimizerSpec, ScheduleSpec};
use az_game::Game;
use az_model::NetConfig;
use az_train::{OptimizerKind, Schedule, TrainConfig};

/// Network sizes for game `G` from `[model]`.
pub fn net_config<G: Game>(exp: &Experiment) -> NetConfig {
    let m = &exp.manifest.model;
    NetConfig {
        planes: G::SHAPE.planes,
        height: G::SHAPE.height,
        width: G::SHAPE.width,
        actions: G::NUM_ACTIONS,
        blocks: m.blocks,
        channels: m.channels,
        value_hidden: m.value_hidden,
    }
}

/// `[train]` as the learner's settings.
pub fn train_config(exp: &Experiment) -> TrainConfig {
    let t = &exp.manifest.train;
    TrainConfig {
        batch_size: t.batch_size,
        optimizer: match t.optimizer {
            OptimizerSpec::Adamw => OptimizerKind::AdamW,
            OptimizerSpec::Sgd => OptimizerKind::Sgd {
                momentum: t.momentum,
            },
        },
        learning_rate: t.learning_rate,
        schedule: match t.lr_schedule {
            ScheduleSpec::Constant => Schedule::Constant,
            ScheduleSpec::Step => Schedule::Step {
                every: t.lr_step_every,
                factor: t.lr_step_factor,
            },
            ScheduleSpec::Cosine => Schedule::Cosine {
                total: exp.manifest.run.max_steps.unwrap_or(u64::MAX),
            },
        },
        warmup_steps: t.lr_warmup_steps,
        weight_decay: t.weight_decay,
        conv: az_model::ConvKernel::default(),
    }
}

/// The agent that evaluation, `az play` and `az analyze` use: the manifest's
/// search without root noise, `searches_per_game` leaves per pass; `simulations`
/// overrides `[mcts] simulations`.
pub fn agent_config(exp: &Experiment, simulations: Option<u32>) -> AgentConfig {
    let mut search = exp.search_config();
    search.dirichlet_epsilon = 0.0;
    AgentConfig {
        simulations: simulations.unwrap_or(exp.manifest.mcts.simulations),
        leaves_per_pass: exp.manifest.selfplay.searches_per_game,
        search,
    }
}
