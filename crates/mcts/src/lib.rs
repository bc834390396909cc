#![doc = include_str!("../README.md")]

mod cache;
mod completed;
mod config;
mod evaluator;
mod node;
mod noise;
mod pass;
mod reroot;
mod results;
mod root;
mod search;
mod select;
mod tree;

pub use cache::{CacheStats, EvalCache};
pub use config::{Fpu, SearchConfig, TemperatureSchedule, VirtualLoss};
pub use evaluator::{Evaluations, Evaluator, EvaluatorGone, Rollout, Uniform};
pub use node::Node;
pub use pass::Pass;
pub use results::MoveStat;
pub use root::{GumbelRoot, PuctRoot, RootPolicy, halving_schedule};
pub use search::{MoveResult, Search, SearchReport};
pub use tree::{Gathered, Leaf, Tree, TreeStats};
