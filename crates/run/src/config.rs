//! The one place where a manifest becomes engine settings: every section of an
//! [`Experiment`] as the config of the crate that runs it (search, self-play,
//! inference server, network, learner, agent). az-experiment itself is data and
//! validation only.

use az_experiment::{Experiment, FpuSpec, OptimizerSpec, RootSpec, ScheduleSpec, VirtualLossForm};
use az_game::Game;
use az_infer::ServerConfig;
use az_mcts::{
    Fpu, GumbelRoot, PuctRoot, RootPolicy, SearchConfig, TemperatureSchedule, VirtualLoss,
};
use az_model::NetConfig;
use az_selfplay::{PlayoutCap, RandomOpening, SelfPlayConfig};
use az_train::{OptimizerKind, Schedule, TrainConfig};
use std::time::Duration;

/// `[mcts]` and `selfplay.searches_per_game` as the search of one self-play
/// game (root noise and temperature on).
pub fn search_config(exp: &Experiment) -> SearchConfig {
    let m = &exp.manifest.mcts;
    SearchConfig {
        simulations: m.simulations,
        searches_per_game: exp.manifest.selfplay.searches_per_game,
        c_init: m.c_puct,
        c_base: m.c_puct_base,
        fpu: match m.fpu {
            FpuSpec::Absolute(x) => Fpu::Absolute(x),
            FpuSpec::Reduction(r) => Fpu::Reduction(r),
        },
        virtual_loss: match m.virtual_loss_form {
            VirtualLossForm::Loss => VirtualLoss::Loss(m.virtual_loss),
            VirtualLossForm::Visits => VirtualLoss::Visits(m.virtual_loss),
        },
        collision_limit: 1,
        root: match m.root {
            RootSpec::Puct => RootPolicy::Puct(PuctRoot {
                dirichlet_alpha: m.dirichlet_alpha,
                dirichlet_epsilon: m.dirichlet_epsilon,
                temperature: TemperatureSchedule {
                    moves: m.temperature_moves,
                },
                forced_playouts: m.forced_playouts,
            }),
            RootSpec::Gumbel => RootPolicy::Gumbel(GumbelRoot {
                considered: m.gumbel_considered,
                c_visit: m.gumbel_c_visit,
                c_scale: m.gumbel_c_scale,
                sample_plies: m.gumbel_sample_plies.unwrap_or(usize::MAX),
            }),
        },
        tree_reuse: m.tree_reuse,
        seed: exp.manifest.run.seed,
    }
}

/// `[selfplay]` (and the search above) as the self-play settings.
pub fn selfplay_config(exp: &Experiment) -> SelfPlayConfig {
    let (m, s) = (&exp.manifest, &exp.manifest.selfplay);
    SelfPlayConfig {
        parallel_games: s.parallel_games,
        workers: s.workers,
        groups: s.groups,
        search: search_config(exp),
        resign_threshold: s.resign_threshold,
        resign_check_share: s.resign_check_share,
        cache_size: m.inference.cache_size,
        max_games: None,
        seed: m.run.seed,
        playout_cap: m.mcts.fast_simulations.map(|fast| PlayoutCap {
            fast_simulations: fast,
            full_share: m.mcts.full_search_share,
        }),
        random_opening: (s.random_opening_share > 0.0).then_some(RandomOpening {
            share: s.random_opening_share,
            max_plies: s.random_opening_plies,
        }),
    }
}

/// `[inference]` as the inference server's settings.
pub fn server_config(exp: &Experiment) -> ServerConfig {
    let i = &exp.manifest.inference;
    ServerConfig {
        max_batch: i.max_batch,
        deadline: Duration::from_micros(i.deadline_us),
        threads: i.threads,
        max_outstanding: exp.manifest.selfplay.workers * exp.manifest.selfplay.groups,
        // A CPU network's passes in the server's own threads (told apart from
        // training's in the run's CPU report); a GPU's from the server thread.
        math_threads: if exp.manifest.model.device == az_experiment::DeviceSpec::Cpu {
            std::thread::available_parallelism().map_or(1, usize::from)
        } else {
            0
        },
    }
}

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
        value_channels: m.value_channels,
        ownership: m.ownership,
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
                total: exp.manifest.run.max_steps,
            },
        },
        warmup_steps: t.lr_warmup_steps,
        weight_decay: t.weight_decay,
        value_loss_weight: t.value_loss_weight,
        ownership_loss_weight: t.ownership_loss_weight,
        conv: az_model::ConvKernel::default(),
    }
}

/// The search of the agent that a run's evaluations measure: the agent of
/// [`agent_config`] with `[eval] root` and `simulations` where given.
pub fn eval_agent_config(exp: &Experiment) -> SearchConfig {
    let e = &exp.manifest.eval;
    let mut with_root = exp.clone();
    if let Some(root) = e.root {
        with_root.manifest.mcts.root = root;
    }
    agent_config(&with_root, e.simulations)
}

/// The search of the agent that evaluation, `az play` and `az analyze` use:
/// self-play's, with a deterministic root (no noise, no sampling);
/// `simulations` overrides `[mcts] simulations`.
pub fn agent_config(exp: &Experiment, simulations: Option<u32>) -> SearchConfig {
    let search = search_config(exp);
    SearchConfig {
        simulations: simulations.unwrap_or(search.simulations),
        root: search.root.deterministic(),
        ..search
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn sections_become_the_engine_settings() {
        let text = "[game]\nname = \"connect4\"\n[selfplay]\nworkers = 2\ngroups = 3\n";
        let exp = Experiment::from_toml(text, Path::new("t.toml"), &[], &["connect4"]).unwrap();
        let search = selfplay_config(&exp).search;
        assert_eq!((search.simulations, search.searches_per_game), (200, 4));
        let server = server_config(&exp);
        assert_eq!((server.max_batch, server.max_outstanding), (128, 6));
        let noisy = RootPolicy::Puct(PuctRoot {
            dirichlet_alpha: 0.3,
            dirichlet_epsilon: 0.25,
            temperature: TemperatureSchedule { moves: 8 },
            forced_playouts: None,
        });
        assert_eq!(search.root, noisy);
        let agent = agent_config(&exp, Some(7));
        assert_eq!(agent.root, noisy.deterministic());
        assert_eq!(agent.simulations, 7);
    }
}
