//! What training reports as it goes: a small `Copy` record per optimizer step, and the
//! summary of each epoch that the history keeps (and a checkpoint saves).

use serde::{Deserialize, Serialize};

/// What happened in one optimizer step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepInfo {
    /// 1-based epoch.
    pub epoch: usize,
    /// Total epochs of the run.
    pub epochs: usize,
    /// 1-based step within the epoch.
    pub step: usize,
    /// Steps in every epoch.
    pub steps_per_epoch: usize,
    /// Rows in this step's batch.
    pub rows: usize,
    /// Mean loss of the batch, before the update.
    pub loss: f64,
    /// The learning rate of the update.
    pub lr: f64,
}

/// The summary of one epoch, as kept in the history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochInfo {
    /// 1-based epoch.
    pub epoch: usize,
    /// Total epochs of the run.
    pub epochs: usize,
    /// Mean of the epoch's batch losses weighted by batch size (each measured before its
    /// update, with dropout when it is on). For L-BFGS, the loss at the start of the epoch's
    /// optimizer step.
    pub train_loss: f64,
    /// Training accuracy in `[0, 1]` for classification, accumulated like `train_loss` from
    /// the batches' predictions before their updates (as Keras reports it).
    pub train_accuracy: Option<f64>,
    /// Loss on the validation data after the epoch, if there is validation data.
    pub val_loss: Option<f64>,
    /// Validation accuracy in `[0, 1]` for classification with validation data.
    pub val_accuracy: Option<f64>,
    /// Validation R² for regression with validation data (see
    /// [`crate::train::Evaluation::r2`]).
    #[serde(default)]
    pub val_r2: Option<f64>,
    /// The learning rate used during the epoch.
    pub lr: f64,
    /// Wall-clock seconds of the epoch, validation included.
    pub seconds: f64,
    /// Training rows processed per second (validation excluded).
    pub samples_per_second: f64,
}
