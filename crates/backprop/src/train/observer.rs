//! Watching a training run: per-step and per-epoch reports, and a way to stop it.
//!
//! Progress bars, JSON logs and checkpoints hang on [`Observer`]. `on_step` runs inside the
//! hot loop and receives a small `Copy` struct, so an observer that does not allocate keeps
//! the step allocation-free.

use serde::{Deserialize, Serialize};

use crate::network::Network;
use crate::real::Real;
use crate::train::state::TrainState;

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

/// Whether training goes on after an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// Go on.
    Continue,
    /// End training now (the report says the observer stopped it).
    Stop,
}

/// The trainer's state at the end of an epoch, handed to [`Observer::on_epoch`] for saving a
/// checkpoint: the network as it is now and, on request, a [`TrainState`] to resume from.
pub struct Checkpoint<'a, T: Real> {
    pub(crate) network: &'a Network<T>,
    pub(crate) state: &'a dyn Fn() -> TrainState,
}

impl<T: Real> Checkpoint<'_, T> {
    /// The network after the epoch (not the early-stopping best: that is in the state).
    pub fn network(&self) -> &Network<T> {
        self.network
    }

    /// Everything besides the network needed to continue training bit-identically with
    /// [`crate::train::fit_resume`]. Built on demand (it copies optimizer buffers).
    pub fn state(&self) -> TrainState {
        (self.state)()
    }
}

/// Receives reports while training runs. Both methods have do-nothing defaults.
pub trait Observer<T: Real>: Send {
    /// After every optimizer step whose loss was finite (before the next batch is gathered).
    fn on_step(&mut self, info: &StepInfo) {
        let _ = info;
    }

    /// After every epoch, once validation, the schedule and early stopping have been updated.
    /// Returning [`Control::Stop`] ends training after this epoch.
    fn on_epoch(&mut self, info: &EpochInfo, checkpoint: &Checkpoint<'_, T>) -> Control {
        let _ = (info, checkpoint);
        Control::Continue
    }
}

/// An observer that does nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoObserver;

impl<T: Real> Observer<T> for NoObserver {}
