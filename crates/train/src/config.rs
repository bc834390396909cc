//! Optimiser and learning-rate schedule settings.

use az_model::ConvKernel;
use serde::{Deserialize, Serialize};

/// The optimiser.
#[derive(Copy, Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum OptimizerKind {
    /// SGD with (heavy-ball) momentum and L2 weight decay added to the gradient.
    Sgd {
        /// Momentum factor.
        momentum: f64,
    },
    /// AdamW (decoupled weight decay), β = (0.9, 0.999), ε = 1e-8 as in PyTorch.
    AdamW,
}

/// How the learning rate moves after the warm-up.
#[derive(Copy, Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Schedule {
    /// Constant.
    Constant,
    /// Multiplied by `factor` every `every` steps.
    Step {
        /// Steps between decays.
        every: u64,
        /// Factor per decay.
        factor: f64,
    },
    /// Cosine from the peak to 0 over the run's budget: at a step, the share
    /// spent is the larger of the steps' share of `total` (after the warm-up)
    /// and the share of another budget the caller reports
    /// ([`Trainer::set_budget_spent`](crate::Trainer::set_budget_spent), e.g.
    /// self-play's network evaluations).
    Cosine {
        /// Last step, if the budget counts steps.
        total: Option<u64>,
    },
}

/// Settings of the learner.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Samples per step.
    pub batch_size: usize,
    /// Optimiser.
    pub optimizer: OptimizerKind,
    /// Peak learning rate.
    pub learning_rate: f64,
    /// Schedule after the warm-up.
    pub schedule: Schedule,
    /// Linear warm-up from 0 over this many steps.
    pub warmup_steps: u64,
    /// L2 weight decay.
    pub weight_decay: f64,
    /// Weight of the value loss against the policy loss (1: AlphaZero's sum).
    #[serde(default = "one")]
    pub value_loss_weight: f64,
    /// Weight of the ownership loss, for a network with an ownership head.
    #[serde(default = "one")]
    pub ownership_loss_weight: f64,
    /// The convolutions' implementation (az's board kernels where the device has
    /// them); a choice of this process, not saved with a checkpoint.
    #[serde(skip)]
    pub conv: ConvKernel,
}

fn one() -> f64 {
    1.0
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            batch_size: 256,
            optimizer: OptimizerKind::AdamW,
            learning_rate: 1e-3,
            schedule: Schedule::Constant,
            warmup_steps: 0,
            weight_decay: 1e-4,
            value_loss_weight: 1.0,
            ownership_loss_weight: 1.0,
            conv: ConvKernel::default(),
        }
    }
}

impl TrainConfig {
    /// The learning rate at `step` (0-based) with the share `spent` (0 to 1)
    /// of a budget other than steps used (the cosine schedule's).
    pub fn learning_rate_at(&self, step: u64, spent: f64) -> f64 {
        let peak = self.learning_rate;
        if step < self.warmup_steps {
            return peak * (step + 1) as f64 / self.warmup_steps as f64;
        }
        let after = step - self.warmup_steps;
        match self.schedule {
            Schedule::Constant => peak,
            Schedule::Step { every, factor } => peak * factor.powi((after / every.max(1)) as i32),
            Schedule::Cosine { total } => {
                let by_steps = total.map_or(0.0, |total| {
                    after as f64 / total.saturating_sub(self.warmup_steps).max(1) as f64
                });
                let t = by_steps.max(spent).clamp(0.0, 1.0);
                peak * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules() {
        let mut c = TrainConfig {
            learning_rate: 1.0,
            warmup_steps: 4,
            ..TrainConfig::default()
        };
        assert_eq!(c.learning_rate_at(0, 0.0), 0.25);
        assert_eq!(c.learning_rate_at(3, 0.0), 1.0);
        assert_eq!(c.learning_rate_at(100, 0.9), 1.0);
        c.schedule = Schedule::Step {
            every: 10,
            factor: 0.1,
        };
        assert!((c.learning_rate_at(4 + 25, 0.0) - 0.01).abs() < 1e-12);
        c.schedule = Schedule::Cosine { total: Some(104) };
        assert!((c.learning_rate_at(54, 0.0) - 0.5).abs() < 1e-9);
        assert!(c.learning_rate_at(104, 0.0).abs() < 1e-12);
        assert!(c.learning_rate_at(500, 0.0).abs() < 1e-12);
        // The other budget, when further along, sets the rate.
        assert!((c.learning_rate_at(14, 0.5) - 0.5).abs() < 1e-9);
        assert!((c.learning_rate_at(54, 0.25) - 0.5).abs() < 1e-9);
        assert!(c.learning_rate_at(14, 1.0).abs() < 1e-12);
        c.schedule = Schedule::Cosine { total: None };
        assert_eq!(c.learning_rate_at(1_000_000, 0.0), 1.0);
        let quarter = 0.5 * (1.0 + std::f64::consts::FRAC_PI_4.cos());
        assert!((c.learning_rate_at(10, 0.25) - quarter).abs() < 1e-9);
        // The warm-up comes first whatever has been spent.
        assert_eq!(c.learning_rate_at(1, 0.9), 0.5);
    }
}
