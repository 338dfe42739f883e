//! Optimizers: how parameters move given their gradients.
//!
//! Each follows PyTorch's update rule and defaults (`torch.optim`), so a run can be compared
//! step by step. First-order optimizers implement [`Optimizer`] and work on the flat parameter
//! and gradient vectors of [`crate::Network`]; L-BFGS needs to re-evaluate the loss and has its
//! own entry point ([`Solver::Lbfgs`]).

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::real::Real;

/// The settings of an optimizer, with PyTorch's defaults (see [`OptimizerConfig::sgd`],
/// [`OptimizerConfig::adam`], ...). Serializable into configs and model files.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OptimizerConfig {
    /// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and
    /// weight decay (`torch.optim.SGD`).
    Sgd {
        /// Learning rate.
        lr: f64,
        /// Momentum factor (0 disables momentum).
        momentum: f64,
        /// Dampening for momentum.
        dampening: f64,
        /// Nesterov momentum (needs `momentum > 0` and `dampening = 0`).
        nesterov: bool,
        /// L2 penalty added to the gradient.
        weight_decay: f64,
    },
    /// Adam (`torch.optim.Adam`): L2 weight decay added to the gradient.
    Adam {
        /// Learning rate.
        lr: f64,
        /// Decay of the first-moment estimate.
        beta1: f64,
        /// Decay of the second-moment estimate.
        beta2: f64,
        /// Added to the denominator for numerical stability.
        eps: f64,
        /// L2 penalty added to the gradient.
        weight_decay: f64,
        /// Use the maximum of past second moments (AMSGrad).
        amsgrad: bool,
    },
    /// AdamW (`torch.optim.AdamW`): decoupled weight decay.
    AdamW {
        /// Learning rate.
        lr: f64,
        /// Decay of the first-moment estimate.
        beta1: f64,
        /// Decay of the second-moment estimate.
        beta2: f64,
        /// Added to the denominator for numerical stability.
        eps: f64,
        /// Decoupled weight decay (PyTorch default 0.01).
        weight_decay: f64,
        /// Use the maximum of past second moments (AMSGrad).
        amsgrad: bool,
    },
    /// RMSprop (`torch.optim.RMSprop`).
    RmsProp {
        /// Learning rate.
        lr: f64,
        /// Smoothing constant of the squared-gradient average.
        alpha: f64,
        /// Added to the denominator for numerical stability.
        eps: f64,
        /// L2 penalty added to the gradient.
        weight_decay: f64,
        /// Momentum factor.
        momentum: f64,
        /// Normalize by the centered second moment (an estimate of the variance).
        centered: bool,
    },
    /// Adagrad (`torch.optim.Adagrad`).
    Adagrad {
        /// Learning rate.
        lr: f64,
        /// Learning-rate decay per step.
        lr_decay: f64,
        /// L2 penalty added to the gradient.
        weight_decay: f64,
        /// Starting value of the squared-gradient sums.
        initial_accumulator_value: f64,
        /// Added to the denominator for numerical stability.
        eps: f64,
    },
    /// Resilient backpropagation (`torch.optim.Rprop`): per-parameter step sizes driven by
    /// the sign of the gradient. Meant for full-batch training.
    Rprop {
        /// Initial step size.
        lr: f64,
        /// Factor for shrinking a step when the gradient changes sign.
        eta_minus: f64,
        /// Factor for growing a step when the gradient keeps its sign.
        eta_plus: f64,
        /// Smallest step size.
        step_min: f64,
        /// Largest step size.
        step_max: f64,
    },
    /// Limited-memory BFGS (`torch.optim.LBFGS`) for full-batch training of small data.
    Lbfgs {
        /// Learning rate (step length before any line search).
        lr: f64,
        /// Iterations per optimizer step.
        max_iter: usize,
        /// Function evaluations per optimizer step (PyTorch default `max_iter · 5/4`).
        max_eval: usize,
        /// Stop when the largest gradient entry falls below this.
        tolerance_grad: f64,
        /// Stop when the loss or the step changes less than this.
        tolerance_change: f64,
        /// Number of past updates remembered.
        history_size: usize,
        /// Use the strong-Wolfe line search (PyTorch `line_search_fn="strong_wolfe"`).
        strong_wolfe: bool,
    },
}

/// The state an optimizer carries between steps, for checkpoints: a step count and named
/// buffers (momentum, moment estimates, ...) stored as `f64`, which holds `f32` exactly.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OptimizerState {
    /// Number of steps taken.
    pub step: u64,
    /// Named per-parameter buffers.
    pub buffers: Vec<(String, Vec<f64>)>,
    /// Named scalars (for example L-BFGS bookkeeping).
    pub scalars: Vec<(String, f64)>,
}

/// A first-order optimizer over a flat parameter vector.
pub trait Optimizer<T: Real>: Send {
    /// One update of `params` from `grads` (same length), with learning rate `lr` (the
    /// configured rate as adjusted by a schedule).
    ///
    /// # Panics
    /// If the slices differ in length from each other or from the optimizer's buffers.
    fn step(&mut self, params: &mut [T], grads: &[T], lr: f64);

    /// A snapshot of the internal state, for checkpoints.
    fn state(&self) -> OptimizerState;

    /// Restores a snapshot from [`Optimizer::state`]; an error if it does not fit.
    fn load_state(&mut self, state: &OptimizerState) -> Result<()>;
}
