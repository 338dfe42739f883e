//! Watching a training run: an [`Observer`] receives the per-step and per-epoch reports
//! ([`StepInfo`], [`EpochInfo`]) and the checkpoints, and may stop the run.
//!
//! Progress bars, JSON logs and checkpoints hang on [`Observer`]. `on_step` runs inside the
//! hot loop and receives a small `Copy` struct, so an observer that does not allocate keeps
//! the step allocation-free.

use crate::network::Network;
use crate::real::Real;
use crate::train::progress::{EpochInfo, StepInfo};
use crate::train::state::TrainState;

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

    /// Asked after every step, right after [`Observer::on_step`]: `true` ends training at
    /// once, inside the epoch (a Ctrl-C that should not wait for a long epoch). The unfinished
    /// epoch is not in the history and gets no [`Observer::on_epoch`] (so no checkpoint); the
    /// report's `unfinished_epoch` names it, and the network keeps the early-stopping best if
    /// there is one, else the weights after this step.
    fn stop_now(&mut self) -> bool {
        false
    }
}

/// An observer that does nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoObserver;

impl<T: Real> Observer<T> for NoObserver {}
