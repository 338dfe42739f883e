//! Optimizers: how parameters move given their gradients.
//!
//! Each follows PyTorch's update rule and defaults (`torch.optim`), so a run can be compared
//! step by step. First-order optimizers implement [`Optimizer`] and work on the flat parameter
//! and gradient vectors of [`crate::Network`]; L-BFGS needs to re-evaluate the loss and has its
//! own entry point ([`Solver::Lbfgs`]).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::real::Real;

mod adagrad;
mod adam;
mod lbfgs;
mod rmsprop;
mod rprop;
mod sgd;

pub use adagrad::Adagrad;
pub use adam::Adam;
pub use lbfgs::{Lbfgs, LbfgsSettings};
pub use rmsprop::RmsProp;
pub use rprop::Rprop;
pub use sgd::Sgd;

/// Elements per piece when an element-wise update is shared among threads: large enough
/// that handing a piece to a thread is cheap next to the work, small enough to balance.
pub(crate) const UPDATE_CHUNK: usize = 1 << 14;

/// Whether an element-wise update of `len` parameters is worth splitting over the threads of
/// the current rayon pool. Each element is updated alone, so the split never changes a bit.
pub(crate) fn update_in_parallel(len: usize) -> bool {
    len >= 4 * UPDATE_CHUNK && rayon::current_num_threads() > 1
}

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
    /// AdamW (`torch.optim.AdamW`): decoupled weight decay. Tagged `adamw`.
    #[serde(rename = "adamw", alias = "adam_w")]
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
    /// RMSprop (`torch.optim.RMSprop`). Tagged `rmsprop`.
    #[serde(rename = "rmsprop", alias = "rms_prop")]
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

impl OptimizerConfig {
    /// Plain SGD with learning rate `lr` (PyTorch: no momentum, dampening or weight decay).
    pub fn sgd(lr: f64) -> Self {
        OptimizerConfig::Sgd {
            lr,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        }
    }

    /// Adam with PyTorch's defaults: `lr = 1e-3`, betas `(0.9, 0.999)`, `eps = 1e-8`.
    pub fn adam() -> Self {
        OptimizerConfig::Adam {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
        }
    }

    /// AdamW with PyTorch's defaults: as [`OptimizerConfig::adam`] plus `weight_decay = 1e-2`.
    pub fn adamw() -> Self {
        OptimizerConfig::AdamW {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 1e-2,
            amsgrad: false,
        }
    }

    /// RMSprop with PyTorch's defaults: `lr = 1e-2`, `alpha = 0.99`, `eps = 1e-8`.
    pub fn rmsprop() -> Self {
        OptimizerConfig::RmsProp {
            lr: 1e-2,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
        }
    }

    /// Adagrad with PyTorch's defaults: `lr = 1e-2`, `eps = 1e-10`.
    pub fn adagrad() -> Self {
        OptimizerConfig::Adagrad {
            lr: 1e-2,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
        }
    }

    /// Rprop with PyTorch's defaults: `lr = 1e-2`, etas `(0.5, 1.2)`, step sizes `(1e-6, 50)`.
    pub fn rprop() -> Self {
        OptimizerConfig::Rprop {
            lr: 1e-2,
            eta_minus: 0.5,
            eta_plus: 1.2,
            step_min: 1e-6,
            step_max: 50.0,
        }
    }

    /// L-BFGS with PyTorch's defaults: `lr = 1`, `max_iter = 20`, `max_eval = 25`,
    /// `tolerance_grad = 1e-7`, `tolerance_change = 1e-9`, `history_size = 100`, no line
    /// search.
    pub fn lbfgs() -> Self {
        OptimizerConfig::Lbfgs {
            lr: 1.0,
            max_iter: 20,
            max_eval: 25,
            tolerance_grad: 1e-7,
            tolerance_change: 1e-9,
            history_size: 100,
            strong_wolfe: false,
        }
    }

    /// The optimizer called `name` (`sgd`, `adam`, `adamw`, `rmsprop`, `adagrad`, `rprop` or
    /// `lbfgs`, as [`OptimizerConfig::name`] gives them) with PyTorch's defaults; SGD, which
    /// has no default rate in PyTorch, gets `lr = 0.01`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the known optimizers.
    pub fn by_name(name: &str) -> Result<Self> {
        Ok(match name {
            "sgd" => OptimizerConfig::sgd(0.01),
            "adam" => OptimizerConfig::adam(),
            "adamw" => OptimizerConfig::adamw(),
            "rmsprop" => OptimizerConfig::rmsprop(),
            "adagrad" => OptimizerConfig::adagrad(),
            "rprop" => OptimizerConfig::rprop(),
            "lbfgs" => OptimizerConfig::lbfgs(),
            _ => {
                return Err(Error::InvalidConfig(format!(
                    "unknown optimizer {name:?}: expected one of sgd, adam, adamw, rmsprop, \
                     adagrad, rprop, lbfgs"
                )))
            }
        })
    }

    /// The same settings with momentum `value` (SGD and RMSprop).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an optimizer without momentum.
    pub fn with_momentum(mut self, value: f64) -> Result<Self> {
        match &mut self {
            OptimizerConfig::Sgd { momentum, .. } | OptimizerConfig::RmsProp { momentum, .. } => {
                *momentum = value
            }
            other => {
                return Err(Error::InvalidConfig(format!(
                    "momentum applies to sgd and rmsprop, not {}",
                    other.name()
                )))
            }
        }
        Ok(self)
    }

    /// The same settings with Nesterov momentum on or off (SGD).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when turning it on for another optimizer.
    pub fn with_nesterov(mut self, on: bool) -> Result<Self> {
        match &mut self {
            OptimizerConfig::Sgd { nesterov, .. } => *nesterov = on,
            other if on => {
                return Err(Error::InvalidConfig(format!(
                    "nesterov applies to sgd, not {}",
                    other.name()
                )))
            }
            _ => {}
        }
        Ok(self)
    }

    /// The same settings with weight decay `value` (every optimizer but Rprop and L-BFGS;
    /// decoupled for AdamW, added to the gradient for the others).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for Rprop and L-BFGS.
    pub fn with_weight_decay(mut self, value: f64) -> Result<Self> {
        match &mut self {
            OptimizerConfig::Sgd { weight_decay, .. }
            | OptimizerConfig::Adam { weight_decay, .. }
            | OptimizerConfig::AdamW { weight_decay, .. }
            | OptimizerConfig::RmsProp { weight_decay, .. }
            | OptimizerConfig::Adagrad { weight_decay, .. } => *weight_decay = value,
            other => {
                return Err(Error::InvalidConfig(format!(
                    "weight decay does not apply to {}",
                    other.name()
                )))
            }
        }
        Ok(self)
    }

    /// The configured learning rate.
    pub fn lr(&self) -> f64 {
        match *self {
            OptimizerConfig::Sgd { lr, .. }
            | OptimizerConfig::Adam { lr, .. }
            | OptimizerConfig::AdamW { lr, .. }
            | OptimizerConfig::RmsProp { lr, .. }
            | OptimizerConfig::Adagrad { lr, .. }
            | OptimizerConfig::Rprop { lr, .. }
            | OptimizerConfig::Lbfgs { lr, .. } => lr,
        }
    }

    /// The same settings with learning rate `new_lr`.
    pub fn with_lr(mut self, new_lr: f64) -> Self {
        match &mut self {
            OptimizerConfig::Sgd { lr, .. }
            | OptimizerConfig::Adam { lr, .. }
            | OptimizerConfig::AdamW { lr, .. }
            | OptimizerConfig::RmsProp { lr, .. }
            | OptimizerConfig::Adagrad { lr, .. }
            | OptimizerConfig::Rprop { lr, .. }
            | OptimizerConfig::Lbfgs { lr, .. } => *lr = new_lr,
        }
        self
    }

    /// The optimizer's short name: `sgd`, `adam`, `adamw`, `rmsprop`, `adagrad`, `rprop` or
    /// `lbfgs` (the `kind` tag of the serialized form).
    pub fn name(&self) -> &'static str {
        match self {
            OptimizerConfig::Sgd { .. } => "sgd",
            OptimizerConfig::Adam { .. } => "adam",
            OptimizerConfig::AdamW { .. } => "adamw",
            OptimizerConfig::RmsProp { .. } => "rmsprop",
            OptimizerConfig::Adagrad { .. } => "adagrad",
            OptimizerConfig::Rprop { .. } => "rprop",
            OptimizerConfig::Lbfgs { .. } => "lbfgs",
        }
    }

    /// Checks every setting against the ranges PyTorch accepts (plus finiteness), giving
    /// [`Error::InvalidConfig`] naming the optimizer, the setting and its value.
    pub fn validate(&self) -> Result<()> {
        let name = self.name();
        let non_negative = |what: &str, value: f64| -> Result<()> {
            if value.is_finite() && value >= 0.0 {
                Ok(())
            } else {
                Err(invalid(name, what, value, "must be finite and at least 0"))
            }
        };
        let beta = |what: &str, value: f64| -> Result<()> {
            if (0.0..1.0).contains(&value) {
                Ok(())
            } else {
                Err(invalid(name, what, value, "must be in [0, 1)"))
            }
        };
        non_negative("lr", self.lr())?;
        match *self {
            OptimizerConfig::Sgd {
                momentum,
                dampening,
                nesterov,
                weight_decay,
                ..
            } => {
                non_negative("momentum", momentum)?;
                non_negative("weight_decay", weight_decay)?;
                if !dampening.is_finite() {
                    return Err(invalid(name, "dampening", dampening, "must be finite"));
                }
                if nesterov && (momentum <= 0.0 || dampening != 0.0) {
                    return Err(Error::InvalidConfig(format!(
                        "sgd: nesterov momentum needs momentum > 0 and dampening = 0 \
                         (got momentum {momentum}, dampening {dampening})"
                    )));
                }
            }
            OptimizerConfig::Adam {
                beta1,
                beta2,
                eps,
                weight_decay,
                ..
            }
            | OptimizerConfig::AdamW {
                beta1,
                beta2,
                eps,
                weight_decay,
                ..
            } => {
                beta("beta1", beta1)?;
                beta("beta2", beta2)?;
                non_negative("eps", eps)?;
                non_negative("weight_decay", weight_decay)?;
            }
            OptimizerConfig::RmsProp {
                alpha,
                eps,
                weight_decay,
                momentum,
                ..
            } => {
                non_negative("alpha", alpha)?;
                non_negative("eps", eps)?;
                non_negative("weight_decay", weight_decay)?;
                non_negative("momentum", momentum)?;
            }
            OptimizerConfig::Adagrad {
                lr_decay,
                weight_decay,
                initial_accumulator_value,
                eps,
                ..
            } => {
                non_negative("lr_decay", lr_decay)?;
                non_negative("weight_decay", weight_decay)?;
                non_negative("initial_accumulator_value", initial_accumulator_value)?;
                non_negative("eps", eps)?;
            }
            OptimizerConfig::Rprop {
                eta_minus,
                eta_plus,
                step_min,
                step_max,
                ..
            } => {
                if !(eta_minus > 0.0 && eta_minus < 1.0) {
                    return Err(invalid(name, "eta_minus", eta_minus, "must be in (0, 1)"));
                }
                if !(eta_plus > 1.0 && eta_plus.is_finite()) {
                    return Err(invalid(
                        name,
                        "eta_plus",
                        eta_plus,
                        "must be finite and > 1",
                    ));
                }
                non_negative("step_min", step_min)?;
                non_negative("step_max", step_max)?;
                if step_min > step_max {
                    return Err(Error::InvalidConfig(format!(
                        "rprop: step_min {step_min} is larger than step_max {step_max}"
                    )));
                }
            }
            OptimizerConfig::Lbfgs {
                max_iter,
                max_eval,
                tolerance_grad,
                tolerance_change,
                history_size,
                ..
            } => {
                for (what, value) in [
                    ("max_iter", max_iter),
                    ("max_eval", max_eval),
                    ("history_size", history_size),
                ] {
                    if value == 0 {
                        return Err(invalid(name, what, 0.0, "must be at least 1"));
                    }
                }
                non_negative("tolerance_grad", tolerance_grad)?;
                non_negative("tolerance_change", tolerance_change)?;
            }
        }
        Ok(())
    }

    /// Validates the settings and creates the optimizer for `parameter_count` parameters,
    /// with every buffer allocated up front.
    pub fn build<T: Real>(&self, parameter_count: usize) -> Result<Solver<T>> {
        self.validate()?;
        let n = parameter_count;
        Ok(match *self {
            OptimizerConfig::Sgd {
                momentum,
                dampening,
                nesterov,
                weight_decay,
                ..
            } => Solver::FirstOrder(Box::new(Sgd::<T>::new(
                n,
                momentum,
                dampening,
                nesterov,
                weight_decay,
            ))),
            OptimizerConfig::Adam {
                beta1,
                beta2,
                eps,
                weight_decay,
                amsgrad,
                ..
            } => Solver::FirstOrder(Box::new(Adam::<T>::new(
                n,
                (beta1, beta2),
                eps,
                weight_decay,
                amsgrad,
                false,
            ))),
            OptimizerConfig::AdamW {
                beta1,
                beta2,
                eps,
                weight_decay,
                amsgrad,
                ..
            } => Solver::FirstOrder(Box::new(Adam::<T>::new(
                n,
                (beta1, beta2),
                eps,
                weight_decay,
                amsgrad,
                true,
            ))),
            OptimizerConfig::RmsProp {
                alpha,
                eps,
                weight_decay,
                momentum,
                centered,
                ..
            } => Solver::FirstOrder(Box::new(RmsProp::<T>::new(
                n,
                alpha,
                eps,
                weight_decay,
                momentum,
                centered,
            ))),
            OptimizerConfig::Adagrad {
                lr_decay,
                weight_decay,
                initial_accumulator_value,
                eps,
                ..
            } => Solver::FirstOrder(Box::new(Adagrad::<T>::new(
                n,
                lr_decay,
                weight_decay,
                initial_accumulator_value,
                eps,
            ))),
            OptimizerConfig::Rprop {
                eta_minus,
                eta_plus,
                step_min,
                step_max,
                ..
            } => Solver::FirstOrder(Box::new(Rprop::<T>::new(
                n,
                (eta_minus, eta_plus),
                (step_min, step_max),
            ))),
            OptimizerConfig::Lbfgs {
                max_iter,
                max_eval,
                tolerance_grad,
                tolerance_change,
                history_size,
                strong_wolfe,
                ..
            } => Solver::Lbfgs(Lbfgs::new(
                n,
                LbfgsSettings {
                    max_iter,
                    max_eval,
                    tolerance_grad,
                    tolerance_change,
                    history_size,
                    strong_wolfe,
                },
            )),
        })
    }
}

/// A built optimizer: a first-order one stepping from a gradient, or L-BFGS, which
/// re-evaluates the loss through a closure.
// One solver per training run: the size of the L-BFGS variant does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Solver<T: Real> {
    /// SGD, Adam, AdamW, RMSprop, Adagrad or Rprop.
    FirstOrder(Box<dyn Optimizer<T>>),
    /// L-BFGS.
    Lbfgs(Lbfgs<T>),
}

impl<T: Real> Solver<T> {
    /// A snapshot of the optimizer's state, for checkpoints.
    pub fn state(&self) -> OptimizerState {
        match self {
            Solver::FirstOrder(optimizer) => optimizer.state(),
            Solver::Lbfgs(lbfgs) => lbfgs.state(),
        }
    }

    /// Restores a snapshot from [`Solver::state`]; an error if it does not fit.
    pub fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        match self {
            Solver::FirstOrder(optimizer) => optimizer.load_state(state),
            Solver::Lbfgs(lbfgs) => lbfgs.load_state(state),
        }
    }
}

impl<T: Real> std::fmt::Debug for Solver<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Solver::FirstOrder(_) => f.write_str("Solver::FirstOrder(..)"),
            Solver::Lbfgs(_) => f.write_str("Solver::Lbfgs(..)"),
        }
    }
}

fn invalid(name: &str, what: &str, value: f64, rule: &str) -> Error {
    Error::InvalidConfig(format!("{name}: {what} = {value} {rule}"))
}

/// Copies a buffer into the `f64` form of [`OptimizerState`] (exact for `f32`).
fn save_buffer<T: Real>(name: &str, values: &[T]) -> (String, Vec<f64>) {
    (
        name.to_string(),
        values.iter().map(|v| v.as_f64()).collect(),
    )
}

/// Finds buffer `name` of length `len` in `state`, or explains what is wrong.
fn find_buffer<'a>(state: &'a OptimizerState, name: &str, len: usize) -> Result<&'a [f64]> {
    let (_, values) = state
        .buffers
        .iter()
        .find(|(key, _)| key == name)
        .ok_or_else(|| Error::InvalidConfig(format!("optimizer state lacks buffer `{name}`")))?;
    if values.len() != len {
        return Err(Error::ShapeMismatch {
            what: format!("optimizer buffer `{name}`"),
            expected: vec![len],
            got: vec![values.len()],
        });
    }
    Ok(values)
}

/// Finds scalar `name` in `state`.
fn find_scalar(state: &OptimizerState, name: &str) -> Result<f64> {
    state
        .scalars
        .iter()
        .find(|(key, _)| key == name)
        .map(|&(_, value)| value)
        .ok_or_else(|| Error::InvalidConfig(format!("optimizer state lacks scalar `{name}`")))
}

/// Copies a checked buffer back into parameter precision.
fn copy_into<T: Real>(dst: &mut [T], src: &[f64]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = T::from_f64(s);
    }
}

/// PyTorch's CPU `lerp`: `a + w·(b − a)` for `|w| < 0.5`, else `b − (b − a)·(1 − w)`.
#[inline]
fn lerp<T: Real>(a: T, b: T, w: T) -> T {
    if w.abs() < T::from_f64(0.5) {
        a + w * (b - a)
    } else {
        b - (b - a) * (T::one() - w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_shared_among_threads_give_the_same_bits() {
        // Large enough to be split (see `update_in_parallel`), and not a multiple of a piece.
        let len = 4 * UPDATE_CHUNK + 17;
        let grads: Vec<f32> = (0..len)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 64.0)
            .collect();
        let momentum = OptimizerConfig::Sgd {
            lr: 0.1,
            momentum: 0.9,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        };
        for config in [momentum, OptimizerConfig::adam()] {
            let run = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let Ok(Solver::FirstOrder(mut optimizer)) = config.build::<f32>(len) else {
                    unreachable!()
                };
                let mut params: Vec<f32> = (0..len).map(|i| (i % 13) as f32 / 13.0).collect();
                pool.install(|| {
                    assert_eq!(update_in_parallel(len), threads > 1);
                    for _ in 0..3 {
                        optimizer.step(&mut params, &grads, config.lr());
                    }
                });
                params
            };
            let (one, three) = (run(1), run(3));
            assert!(
                one.iter()
                    .zip(&three)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{}",
                config.name()
            );
            assert_ne!(
                one,
                (0..len).map(|i| (i % 13) as f32 / 13.0).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn constructors_have_pytorch_defaults_and_names() {
        let all = [
            (OptimizerConfig::sgd(0.1), "sgd", 0.1),
            (OptimizerConfig::adam(), "adam", 1e-3),
            (OptimizerConfig::adamw(), "adamw", 1e-3),
            (OptimizerConfig::rmsprop(), "rmsprop", 1e-2),
            (OptimizerConfig::adagrad(), "adagrad", 1e-2),
            (OptimizerConfig::rprop(), "rprop", 1e-2),
            (OptimizerConfig::lbfgs(), "lbfgs", 1.0),
        ];
        for (config, name, lr) in all {
            assert_eq!(config.name(), name);
            let by_name = OptimizerConfig::by_name(name).unwrap();
            assert_eq!(by_name.name(), name);
            assert_eq!(config.lr(), lr);
            assert_eq!(config.clone().with_lr(0.5).lr(), 0.5);
            config.validate().unwrap();
            // The serde tag is the name.
            let json = serde_json::to_value(&config).unwrap();
            assert_eq!(json["kind"], name);
            let back: OptimizerConfig = serde_json::from_value(json).unwrap();
            assert_eq!(back, config);
            assert!(config.build::<f32>(3).is_ok());
        }
        assert!(matches!(
            OptimizerConfig::adamw(),
            OptimizerConfig::AdamW { weight_decay, .. } if weight_decay == 1e-2
        ));
    }

    #[test]
    fn options_an_optimizer_lacks_are_errors() {
        assert!(OptimizerConfig::by_name("sgdd").is_err());
        let adam = OptimizerConfig::adam();
        assert!(adam.clone().with_momentum(0.9).is_err());
        assert!(adam.clone().with_nesterov(true).is_err());
        assert!(adam.clone().with_nesterov(false).is_ok());
        assert!(OptimizerConfig::lbfgs().with_weight_decay(0.1).is_err());
        let sgd = OptimizerConfig::sgd(0.1)
            .with_momentum(0.9)
            .and_then(|c| c.with_nesterov(true))
            .and_then(|c| c.with_weight_decay(1e-4))
            .unwrap();
        assert!(matches!(
            sgd,
            OptimizerConfig::Sgd { momentum, nesterov: true, weight_decay, .. }
                if momentum == 0.9 && weight_decay == 1e-4
        ));
    }

    #[test]
    fn validate_rejects_out_of_range_settings() {
        let bad = [
            OptimizerConfig::sgd(-0.1),
            OptimizerConfig::sgd(f64::NAN),
            OptimizerConfig::Sgd {
                lr: 0.1,
                momentum: 0.0,
                dampening: 0.0,
                nesterov: true,
                weight_decay: 0.0,
            },
            OptimizerConfig::Sgd {
                lr: 0.1,
                momentum: 0.9,
                dampening: 0.1,
                nesterov: true,
                weight_decay: 0.0,
            },
            OptimizerConfig::Adam {
                lr: 1e-3,
                beta1: 1.0,
                beta2: 0.999,
                eps: 1e-8,
                weight_decay: 0.0,
                amsgrad: false,
            },
            OptimizerConfig::AdamW {
                lr: 1e-3,
                beta1: 0.9,
                beta2: -0.1,
                eps: 1e-8,
                weight_decay: 0.0,
                amsgrad: false,
            },
            OptimizerConfig::RmsProp {
                lr: 1e-2,
                alpha: 0.99,
                eps: -1.0,
                weight_decay: 0.0,
                momentum: 0.0,
                centered: false,
            },
            OptimizerConfig::Adagrad {
                lr: 1e-2,
                lr_decay: -0.1,
                weight_decay: 0.0,
                initial_accumulator_value: 0.0,
                eps: 1e-10,
            },
            OptimizerConfig::Rprop {
                lr: 1e-2,
                eta_minus: 1.5,
                eta_plus: 1.2,
                step_min: 1e-6,
                step_max: 50.0,
            },
            OptimizerConfig::Rprop {
                lr: 1e-2,
                eta_minus: 0.5,
                eta_plus: 1.2,
                step_min: 1.0,
                step_max: 0.5,
            },
            OptimizerConfig::Lbfgs {
                lr: 1.0,
                max_iter: 0,
                max_eval: 25,
                tolerance_grad: 1e-7,
                tolerance_change: 1e-9,
                history_size: 100,
                strong_wolfe: false,
            },
        ];
        for config in bad {
            let error = config.validate().unwrap_err();
            assert!(matches!(error, Error::InvalidConfig(_)), "{config:?}");
            assert!(config.build::<f64>(2).is_err());
        }
    }

    #[test]
    fn load_state_rejects_a_state_of_the_wrong_size() {
        let config = OptimizerConfig::adam();
        let small = config.build::<f64>(2).unwrap();
        let mut large = config.build::<f64>(3).unwrap();
        let error = large.load_state(&small.state()).unwrap_err();
        assert!(matches!(error, Error::ShapeMismatch { .. }));
        let mut lbfgs = OptimizerConfig::lbfgs().build::<f64>(3).unwrap();
        assert!(lbfgs.load_state(&small.state()).is_err());
    }
}
