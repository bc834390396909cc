#![doc = include_str!("../README.md")]

mod config;
mod evaluator;
mod node;
mod noise;
mod search;
mod tree;

pub use config::{Fpu, SearchConfig, TemperatureSchedule, VirtualLoss};
pub use evaluator::{Evaluator, Rollout, Uniform};
pub use node::Node;
pub use search::SearchReport;
pub use tree::{Gathered, Leaf, MoveStat, Tree, TreeStats};
