//! The manifest as written: TOML sections with defaults. Unknown keys are errors.
//! Every default is listed in docs/MANIFEST.md.

use serde::{Deserialize, Serialize};

/// A whole experiment manifest.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Manifest {
    /// `[game]`
    pub game: GameSection,
    /// `[run]`
    pub run: RunSection,
    /// `[mcts]`
    pub mcts: MctsSection,
    /// `[selfplay]`
    pub selfplay: SelfPlaySection,
    /// `[inference]`
    pub inference: InferenceSection,
    /// `[model]`
    pub model: ModelSection,
    /// `[train]`
    pub train: TrainSection,
    /// `[replay]`
    pub replay: ReplaySection,
    /// `[eval]`
    pub eval: EvalSection,
    /// `[cluster]`
    pub cluster: ClusterSection,
}

/// `[game]`: which game.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GameSection {
    /// Registered game name (`az list`). Required.
    pub name: String,
}

/// `[run]`: seed and limits.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunSection {
    /// Seed of everything random.
    pub seed: u64,
    /// Stop after this many seconds (absent: no limit).
    pub max_seconds: Option<u64>,
    /// Stop after this many training steps (absent: no limit).
    pub max_steps: Option<u64>,
    /// Stop once self-play has asked the network for this many evaluations
    /// (absent: no limit): an equal compute budget for comparing settings.
    pub max_evaluations: Option<u64>,
}

/// First-play urgency as written: `{ absolute = 0.0 }` or `{ reduction = 0.25 }`.
#[derive(Copy, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum FpuSpec {
    /// A fixed value for unvisited children.
    Absolute(f32),
    /// The parent's value minus this.
    Reduction(f32),
}

/// Form of virtual loss.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VirtualLossForm {
    /// Pending visits count as losses.
    Loss,
    /// Pending visits count as visits only (lc0).
    Visits,
}

/// The root's algorithm.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RootSpec {
    /// AlphaZero's PUCT root: Dirichlet noise, temperature, visit-count targets.
    Puct,
    /// Gumbel AlphaZero's root: Gumbel-top-k candidates, sequential halving,
    /// completed-Q policy targets (and the paper's selection below the root).
    Gumbel,
}

/// `[mcts]`: the search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MctsSection {
    /// Simulations per move.
    pub simulations: u32,
    /// The root's algorithm.
    pub root: RootSpec,
    /// `c_init` of the exploration rate.
    pub c_puct: f32,
    /// `c_base` of the exploration rate.
    pub c_puct_base: f32,
    /// First-play urgency.
    pub fpu: FpuSpec,
    /// Magnitude of virtual loss.
    pub virtual_loss: f32,
    /// Form of virtual loss.
    pub virtual_loss_form: VirtualLossForm,
    /// Dirichlet noise concentration at the root.
    pub dirichlet_alpha: f32,
    /// Share of the root priors replaced by noise in self-play.
    pub dirichlet_epsilon: f32,
    /// Moves played with temperature 1 (then 0).
    pub temperature_moves: usize,
    /// Keep the chosen subtree between moves.
    pub tree_reuse: bool,
    /// Gumbel root: moves considered at most (sequential halving's start).
    pub gumbel_considered: usize,
    /// Gumbel root: `c_visit` of the σ transform.
    pub gumbel_c_visit: f32,
    /// Gumbel root: `c_scale` of the σ transform (values rescaled to [0, 1]).
    pub gumbel_c_scale: f32,
    /// Gumbel root: self-play samples the Gumbel variables only for moves at
    /// plies below this (absent: every move).
    pub gumbel_sample_plies: Option<usize>,
    /// PUCT root: forced playouts with policy target pruning, with this `k`
    /// (absent: off).
    pub forced_playouts: Option<f32>,
    /// Playout cap randomization: simulations of a fast search (absent: off,
    /// every move gets `simulations`).
    pub fast_simulations: Option<u32>,
    /// Playout cap randomization: share of moves that get the full search
    /// (and train the policy).
    pub full_search_share: f32,
}

impl Default for MctsSection {
    fn default() -> Self {
        MctsSection {
            simulations: 200,
            root: RootSpec::Puct,
            c_puct: 1.25,
            c_puct_base: 19652.0,
            fpu: FpuSpec::Absolute(0.0),
            virtual_loss: 1.0,
            virtual_loss_form: VirtualLossForm::Loss,
            dirichlet_alpha: 0.3,
            dirichlet_epsilon: 0.25,
            temperature_moves: 8,
            tree_reuse: true,
            gumbel_considered: 16,
            gumbel_c_visit: 50.0,
            gumbel_c_scale: 0.1,
            gumbel_sample_plies: None,
            forced_playouts: None,
            fast_simulations: None,
            full_search_share: 0.25,
        }
    }
}

/// `[selfplay]`: parallel games and searches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SelfPlaySection {
    /// Games in flight over all workers.
    pub parallel_games: usize,
    /// Leaves gathered per game per round (virtual loss).
    pub searches_per_game: usize,
    /// Worker threads.
    pub workers: usize,
    /// Groups per worker that alternate with the network.
    pub groups: usize,
    /// Resign below this root value (absent: never resign).
    pub resign_threshold: Option<f32>,
    /// Share of games that never resign (false-resignation check).
    pub resign_check_share: f32,
    /// Share of games that start with random moves (0 = none).
    pub random_opening_share: f32,
    /// Such a game's random moves: uniform in 1 to this.
    pub random_opening_plies: u32,
}

impl Default for SelfPlaySection {
    fn default() -> Self {
        SelfPlaySection {
            parallel_games: 64,
            searches_per_game: 4,
            workers: 1,
            groups: 2,
            resign_threshold: None,
            resign_check_share: 0.1,
            random_opening_share: 0.0,
            random_opening_plies: 8,
        }
    }
}

/// `[inference]`: the batched server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InferenceSection {
    /// Largest batch.
    pub max_batch: usize,
    /// Microseconds a batch waits for more requests.
    pub deadline_us: u64,
    /// Evaluation cache entries (0 = off).
    pub cache_size: usize,
    /// Server threads.
    pub threads: usize,
}

impl Default for InferenceSection {
    fn default() -> Self {
        InferenceSection {
            max_batch: 128,
            deadline_us: 2000,
            cache_size: 0,
            threads: 1,
        }
    }
}

/// Where the network runs.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceSpec {
    /// The CPU (Burn's flex backend).
    Cpu,
    /// An NVIDIA GPU (needs az built with `--features cuda`).
    Cuda,
    /// A GPU through wgpu: Vulkan, Metal or DX12, whichever the machine offers
    /// (needs az built with `--features wgpu`); `model.adapter` picks which one.
    Wgpu,
}

/// Which adapter `model.device = "wgpu"` runs on (`model.adapter`), written
/// `default`, `discrete`, `integrated`, `virtual` (each optionally `:N`, the
/// N-th of that kind) or `cpu` (a software renderer such as Mesa's lavapipe).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum AdapterSpec {
    /// wgpu's choice: a high-power GPU first.
    #[default]
    Default,
    /// The N-th discrete GPU.
    Discrete(usize),
    /// The N-th integrated GPU.
    Integrated(usize),
    /// The N-th virtual GPU.
    Virtual(usize),
    /// A CPU adapter (a software renderer).
    Cpu,
}

impl AdapterSpec {
    /// What `model.adapter` accepts, for error messages.
    pub const ALLOWED: &'static str =
        "default, discrete, integrated, virtual (each optionally :N, e.g. discrete:1) or cpu";
}

impl TryFrom<String> for AdapterSpec {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<AdapterSpec> for String {
    fn from(a: AdapterSpec) -> String {
        a.to_string()
    }
}

impl std::str::FromStr for AdapterSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("unknown adapter {s:?}: expected {}", AdapterSpec::ALLOWED);
        let (kind, index) = match s.split_once(':') {
            Some((kind, n)) => (kind, Some(n.parse::<usize>().map_err(|_| bad())?)),
            None => (s, None),
        };
        let n = index.unwrap_or(0);
        match kind {
            "default" if index.is_none() => Ok(AdapterSpec::Default),
            "cpu" if index.is_none() => Ok(AdapterSpec::Cpu),
            "discrete" => Ok(AdapterSpec::Discrete(n)),
            "integrated" => Ok(AdapterSpec::Integrated(n)),
            "virtual" => Ok(AdapterSpec::Virtual(n)),
            _ => Err(bad()),
        }
    }
}

impl std::fmt::Display for AdapterSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AdapterSpec::Default => f.write_str("default"),
            AdapterSpec::Cpu => f.write_str("cpu"),
            AdapterSpec::Discrete(n) => write!(f, "discrete:{n}"),
            AdapterSpec::Integrated(n) => write!(f, "integrated:{n}"),
            AdapterSpec::Virtual(n) => write!(f, "virtual:{n}"),
        }
    }
}

/// `[model]`: the network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelSection {
    /// Device.
    pub device: DeviceSpec,
    /// The adapter of `device = "wgpu"` (ignored by the other devices).
    pub adapter: AdapterSpec,
    /// Residual blocks.
    pub blocks: usize,
    /// Channels of every convolution.
    pub channels: usize,
    /// Hidden units of the value head.
    pub value_hidden: usize,
    /// Planes of the value head's 1×1 convolution, flattened into its hidden
    /// layer (AlphaGo Zero: 1).
    pub value_channels: usize,
    /// An ownership head: a 1×1 convolution that learns who holds each cell at
    /// the end of the game (KataGo's auxiliary ownership target), for games
    /// whose cells are owned (`Game::owners`).
    pub ownership: bool,
}

impl Default for ModelSection {
    fn default() -> Self {
        ModelSection {
            device: DeviceSpec::Cpu,
            adapter: AdapterSpec::Default,
            blocks: 3,
            channels: 32,
            value_hidden: 64,
            value_channels: 1,
            ownership: false,
        }
    }
}

/// Optimiser.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerSpec {
    /// SGD with momentum.
    Sgd,
    /// AdamW.
    Adamw,
}

/// Learning-rate schedule.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleSpec {
    /// Constant after the warm-up.
    Constant,
    /// Multiplied by `lr_step_factor` every `lr_step_every` steps.
    Step,
    /// Cosine decay to 0 over `run.max_steps` after the warm-up.
    Cosine,
}

/// `[train]`: the learner.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainSection {
    /// Positions per training step.
    pub batch_size: usize,
    /// Optimiser.
    pub optimizer: OptimizerSpec,
    /// Peak learning rate.
    pub learning_rate: f64,
    /// Learning-rate schedule.
    pub lr_schedule: ScheduleSpec,
    /// Linear warm-up steps.
    pub lr_warmup_steps: u64,
    /// Steps between decays of the step schedule.
    pub lr_step_every: u64,
    /// Factor of each decay of the step schedule.
    pub lr_step_factor: f64,
    /// SGD momentum.
    pub momentum: f64,
    /// L2 weight decay.
    pub weight_decay: f64,
    /// Weight of the value loss against the policy loss.
    pub value_loss_weight: f64,
    /// Weight of the ownership loss (with `model.ownership`).
    pub ownership_loss_weight: f64,
    /// Training samples per new self-play position.
    pub train_ratio: f64,
    /// Steps between checkpoints.
    pub checkpoint_every: u64,
    /// Checkpoints kept.
    pub keep_checkpoints: usize,
    /// Steps between publishing weights to self-play.
    pub publish_every: u64,
    /// Positions in the replay buffer before training starts.
    pub min_replay: usize,
}

impl Default for TrainSection {
    fn default() -> Self {
        TrainSection {
            batch_size: 256,
            optimizer: OptimizerSpec::Adamw,
            learning_rate: 1e-3,
            lr_schedule: ScheduleSpec::Constant,
            lr_warmup_steps: 0,
            lr_step_every: 10_000,
            lr_step_factor: 0.1,
            momentum: 0.9,
            weight_decay: 1e-4,
            value_loss_weight: 1.0,
            ownership_loss_weight: 1.0,
            train_ratio: 4.0,
            checkpoint_every: 500,
            keep_checkpoints: 3,
            publish_every: 50,
            min_replay: 2000,
        }
    }
}

/// `[replay]`: the sample window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReplaySection {
    /// Positions kept (the most recent).
    pub capacity: usize,
    /// Seconds between writes of finished games to the replay chunks: a killed
    /// run loses at most this much self-play.
    pub flush_seconds: f64,
    /// Weight of the search's root value in the value target, against the
    /// game's result: `(1 − w)·z + w·q`.
    pub value_q_weight: f32,
}

impl Default for ReplaySection {
    fn default() -> Self {
        ReplaySection {
            capacity: 100_000,
            flush_seconds: 5.0,
            value_q_weight: 0.0,
        }
    }
}

/// `[eval]`: arena games during the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvalSection {
    /// Opponents: `random`, `perfect`, `previous`, `mcts:N` (rollout MCTS with N simulations).
    pub opponents: Vec<String>,
    /// Games per opponent per evaluation (half with each colour).
    pub games: usize,
    /// Training steps between evaluations (0 = never).
    pub every: u64,
    /// Positions per game phase for the mistake rates (games with an oracle; 0 = off).
    pub mistake_positions: usize,
    /// The evaluated agent's simulations per move (absent: `mcts.simulations`).
    pub simulations: Option<u32>,
    /// The evaluated agent's root (absent: `mcts.root`), so that runs with
    /// different self-play searches are measured with the same one.
    pub root: Option<RootSpec>,
}

impl Default for EvalSection {
    fn default() -> Self {
        EvalSection {
            opponents: vec!["random".to_owned()],
            games: 20,
            every: 1000,
            mistake_positions: 100,
            simulations: None,
            root: None,
        }
    }
}

/// `[cluster]`: distributed mode (`az actor`, `az learner` over NATS JetStream).
/// Unused by `az run`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterSection {
    /// JetStream stream of finished games (default `az-<experiment>-games`).
    pub stream: Option<String>,
    /// Key-value bucket and object store of the weights (default
    /// `az-<experiment>-weights`).
    pub bucket: Option<String>,
    /// The learner's durable consumer on the stream.
    pub consumer: String,
    /// Training steps between weights sent to the actors (default
    /// `train.publish_every`).
    pub publish_every: Option<u64>,
    /// Finished games an actor sends in one message, at most (a message also
    /// goes when its first game waited 100 ms).
    pub games_per_message: usize,
    /// The stream's size limit in GiB (the oldest games go first).
    pub max_gigabytes: f64,
    /// The stream's age limit in hours.
    pub max_age_hours: f64,
    /// Seconds in which a game re-sent with the same id is stored once.
    pub duplicate_window_seconds: f64,
    /// Seconds after which a game delivered to the learner but not acknowledged
    /// is delivered again.
    pub ack_wait_seconds: f64,
    /// Games delivered to the learner and not yet acknowledged, at most.
    pub max_ack_pending: u64,
    /// Weights objects kept in the store.
    pub keep_weights: usize,
    /// Seconds to wait for a server that is still starting.
    pub connect_timeout_seconds: f64,
}

impl Default for ClusterSection {
    fn default() -> Self {
        ClusterSection {
            stream: None,
            bucket: None,
            consumer: "learner".to_owned(),
            publish_every: None,
            games_per_message: 16,
            max_gigabytes: 1.0,
            max_age_hours: 168.0,
            duplicate_window_seconds: 600.0,
            ack_wait_seconds: 300.0,
            max_ack_pending: 10_000,
            keep_weights: 3,
            connect_timeout_seconds: 10.0,
        }
    }
}
