//! The settings of a training run, with documented defaults.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::optim::OptimizerConfig;
use crate::schedule::Schedule;

/// Where the validation data comes from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Validation {
    /// No validation split. A validation set given to [`crate::train::fit`] is still used.
    #[default]
    None,
    /// Hold out this fraction (strictly between 0 and 1) of the training data, chosen at
    /// random from the seed and stratified by class for class targets
    /// (see [`crate::train::split_validation`]).
    Fraction(f64),
}

/// Early stopping: end training when the monitored loss (validation loss, else training loss)
/// has not improved for `patience` epochs, then restore the best weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EarlyStopping {
    /// Epochs without improvement before training stops (at least 1).
    pub patience: usize,
    /// The smallest decrease of the loss that counts as an improvement (default 0).
    #[serde(default)]
    pub min_delta: f64,
}

impl EarlyStopping {
    /// Early stopping after `patience` epochs without improvement, `min_delta = 0`.
    pub fn new(patience: usize) -> Self {
        Self {
            patience,
            min_delta: 0.0,
        }
    }
}

/// How to train: epochs, batches, optimizer, schedule and regularization.
///
/// Every field has a default (see [`TrainConfig::default`]), so a config file may name only
/// what it changes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainConfig {
    /// Passes over the training data (default 100).
    pub epochs: usize,
    /// Rows per step (default 32): equal to (or above) the number of training rows gives
    /// full-batch gradient descent, 1 gives stochastic gradient descent, anything between
    /// mini-batches. Clamped to the number of training rows; the last batch of an epoch may
    /// be smaller. Ignored by L-BFGS, which always evaluates the whole training set.
    pub batch_size: usize,
    /// The optimizer (default Adam with PyTorch's defaults).
    pub optimizer: OptimizerConfig,
    /// How the learning rate changes from epoch to epoch (default constant).
    pub schedule: Schedule,
    /// Rescale the gradient so its L2 norm is at most this (default `None`: no clipping).
    pub clip_norm: Option<f64>,
    /// Shuffle the training rows before every epoch (default `true`).
    pub shuffle: bool,
    /// Seed of shuffling, the validation split and dropout (default 0). The network's
    /// initialization has its own seed ([`crate::Network::new`]).
    pub seed: u64,
    /// Validation split taken from the training data (default none).
    pub validation: Validation,
    /// Early stopping (default `None`: train all epochs).
    pub early_stopping: Option<EarlyStopping>,
    /// Inverted-dropout probability on every hidden layer during training, in `[0, 1)`
    /// (default 0: off).
    pub dropout: f64,
    /// L2 penalty on the weights (not the biases), as scikit-learn's `alpha`: each batch's
    /// mean loss gains `α/(2·rows)·Σ W²` and the weights' gradient `α/rows·W` (default 0:
    /// off). Unlike an optimizer's `weight_decay` it leaves the biases alone, and it works the
    /// same with every optimizer.
    pub l2_penalty: f64,
    /// Worker threads (default `None`: one per core). Results do not depend on it.
    pub threads: Option<usize>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 100,
            batch_size: 32,
            optimizer: OptimizerConfig::adam(),
            schedule: Schedule::Constant,
            clip_norm: None,
            shuffle: true,
            seed: 0,
            validation: Validation::None,
            early_stopping: None,
            dropout: 0.0,
            l2_penalty: 0.0,
            threads: None,
        }
    }
}

impl TrainConfig {
    /// Checks every setting's range; an [`Error::InvalidConfig`] names the first bad one.
    pub fn validate(&self) -> Result<()> {
        let bad = |message: String| Err(Error::InvalidConfig(message));
        self.optimizer.validate()?;
        self.schedule.validate()?;
        if self.epochs == 0 {
            return bad("epochs must be at least 1".into());
        }
        if self.batch_size == 0 {
            return bad("batch_size must be at least 1".into());
        }
        if let Some(max) = self.clip_norm {
            if !(max.is_finite() && max > 0.0) {
                return bad(format!("clip_norm must be positive and finite, got {max}"));
            }
        }
        if let Validation::Fraction(f) = self.validation {
            if !(f > 0.0 && f < 1.0) {
                return bad(format!(
                    "validation fraction must be strictly between 0 and 1, got {f}"
                ));
            }
        }
        if let Some(stop) = &self.early_stopping {
            if stop.patience == 0 {
                return bad("early stopping patience must be at least 1".into());
            }
            if !(stop.min_delta.is_finite() && stop.min_delta >= 0.0) {
                return bad(format!(
                    "early stopping min_delta must be finite and non-negative, got {}",
                    stop.min_delta
                ));
            }
        }
        if !(self.dropout >= 0.0 && self.dropout < 1.0) {
            return bad(format!("dropout must be in [0, 1), got {}", self.dropout));
        }
        if !(self.l2_penalty.is_finite() && self.l2_penalty >= 0.0) {
            return bad(format!(
                "l2_penalty must be finite and at least 0, got {}",
                self.l2_penalty
            ));
        }
        if self.threads == Some(0) {
            return bad("threads must be at least 1 (or unset for all cores)".into());
        }
        if matches!(self.optimizer, OptimizerConfig::Lbfgs(_)) {
            if self.dropout > 0.0 {
                return bad("dropout cannot be used with L-BFGS (its line search needs a deterministic loss)".into());
            }
            if self.clip_norm.is_some() {
                return bad(
                    "clip_norm cannot be used with L-BFGS (it would mislead the line search)"
                        .into(),
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_partial_json_fills_them_in() {
        TrainConfig::default().validate().unwrap();
        let config: TrainConfig =
            serde_json::from_str(r#"{"epochs": 7, "validation": {"fraction": 0.25}}"#).unwrap();
        assert_eq!(config.epochs, 7);
        assert_eq!(config.validation, Validation::Fraction(0.25));
        assert_eq!(config.batch_size, TrainConfig::default().batch_size);
        let back: TrainConfig =
            serde_json::from_str(&serde_json::to_string(&config).unwrap()).unwrap();
        assert_eq!(back, config);
    }

    #[test]
    fn out_of_range_settings_are_rejected() {
        type Change = Box<dyn Fn(&mut TrainConfig)>;
        let cases: Vec<Change> = vec![
            Box::new(|c| c.epochs = 0),
            Box::new(|c| c.batch_size = 0),
            Box::new(|c| c.clip_norm = Some(0.0)),
            Box::new(|c| c.validation = Validation::Fraction(1.0)),
            Box::new(|c| c.early_stopping = Some(EarlyStopping::new(0))),
            Box::new(|c| c.dropout = 1.0),
            Box::new(|c| c.l2_penalty = -1.0),
            Box::new(|c| c.threads = Some(0)),
        ];
        for change in cases {
            let mut config = TrainConfig::default();
            change(&mut config);
            assert!(matches!(config.validate(), Err(Error::InvalidConfig(_))));
        }
    }
}
