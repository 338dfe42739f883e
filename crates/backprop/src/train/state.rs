//! What a checkpoint must hold, besides the network, to resume training bit-identically.

use serde::{Deserialize, Serialize};

use crate::optim::OptimizerState;
use crate::rng::RngState;
use crate::schedule::SchedulerState;
use crate::train::progress::EpochInfo;

/// The early-stopping bookkeeping: the best monitored loss so far and its weights.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EarlyStoppingState {
    /// The lowest monitored loss so far (`None` before the first epoch).
    pub best_loss: Option<f64>,
    /// The 1-based epoch of `best_loss` (0 before the first epoch).
    pub best_epoch: usize,
    /// Epochs since the last improvement.
    pub epochs_without_improvement: usize,
    /// The parameters at `best_epoch` (stored as `f64`, exact for `f32`); empty when early
    /// stopping is off.
    pub best_parameters: Vec<f64>,
}

/// A training run's state between epochs: with the network's weights, enough to continue
/// exactly where it stopped. Serializable (JSON round trips are exact).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    /// The 1-based epoch to run next.
    pub next_epoch: usize,
    /// Number of training rows the run was started with (checked on resume).
    pub train_rows: usize,
    /// Number of network parameters (checked on resume).
    pub parameter_count: usize,
    /// The optimizer's buffers and step count.
    pub optimizer: OptimizerState,
    /// The learning-rate schedule's state.
    pub scheduler: SchedulerState,
    /// The stream that shuffles the training rows.
    pub shuffle_rng: RngState,
    /// The stream that draws dropout masks.
    pub dropout_rng: RngState,
    /// Best loss and weights so far.
    pub early_stopping: EarlyStoppingState,
    /// The reports of the epochs run so far.
    pub history: Vec<EpochInfo>,
}
