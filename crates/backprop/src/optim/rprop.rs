//! Resilient backpropagation (`torch.optim.Rprop`, single-tensor path).
//!
//! Per parameter, a step size `Δ` (starting at the learning rate of the first step) grows by
//! `η⁺` while the gradient keeps its sign and shrinks by `η⁻` when it flips, clamped to
//! `[Δ_min, Δ_max]`; `θ ← θ − sign(g)·Δ`. After a flip the gradient is taken as 0 for this
//! step and remembered as 0, so the next step neither grows nor shrinks `Δ`.

use serde::{Deserialize, Serialize};

use super::{Buffers, Check, Optimizer};
use crate::error::{Error, Result};
use crate::real::Real;

/// The settings of [`Rprop`], with PyTorch's defaults (`lr = 1e-2`, etas `(0.5, 1.2)`, step
/// sizes `(1e-6, 50)`). Missing fields of a serialized form take these defaults.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RpropConfig {
    /// Initial step size (default 1e-2).
    pub lr: f64,
    /// Factor for shrinking a step when the gradient changes sign, in (0, 1) (default 0.5).
    pub eta_minus: f64,
    /// Factor for growing a step when the gradient keeps its sign, above 1 (default 1.2).
    pub eta_plus: f64,
    /// Smallest step size (default 1e-6).
    pub step_min: f64,
    /// Largest step size (default 50).
    pub step_max: f64,
}

impl Default for RpropConfig {
    fn default() -> Self {
        RpropConfig {
            lr: 1e-2,
            eta_minus: 0.5,
            eta_plus: 1.2,
            step_min: 1e-6,
            step_max: 50.0,
        }
    }
}

impl RpropConfig {
    /// Checks the settings against the ranges PyTorch accepts (plus finiteness).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the setting and its value.
    pub fn validate(&self) -> Result<()> {
        let check = Check("rprop");
        check.non_negative("lr", self.lr)?;
        if !(self.eta_minus > 0.0 && self.eta_minus < 1.0) {
            return Err(check.fail("eta_minus", self.eta_minus, "must be in (0, 1)"));
        }
        if !(self.eta_plus > 1.0 && self.eta_plus.is_finite()) {
            return Err(check.fail("eta_plus", self.eta_plus, "must be finite and > 1"));
        }
        check.non_negative("step_min", self.step_min)?;
        check.non_negative("step_max", self.step_max)?;
        if self.step_min > self.step_max {
            return Err(Error::InvalidConfig(format!(
                "rprop: step_min {} is larger than step_max {}",
                self.step_min, self.step_max
            )));
        }
        Ok(())
    }
}

/// Rprop (the PyTorch variant without weight backtracking).
#[derive(Clone, Debug)]
pub struct Rprop<T: Real> {
    config: RpropConfig,
    /// `prev` (the last gradient, 0 after a flip) and `step_size`.
    buffers: Buffers<T>,
}

impl<T: Real> Rprop<T> {
    /// An optimizer for `n` parameters (settings not validated here: use
    /// [`super::OptimizerConfig::build`]).
    pub fn new(n: usize, config: RpropConfig) -> Self {
        Rprop {
            config,
            buffers: Buffers::new(
                &["prev", "step_size"],
                [vec![T::zero(); n], vec![T::zero(); n]],
            ),
        }
    }
}

impl<T: Real> Optimizer<T> for Rprop<T> {
    /// `lr` only sets the initial step sizes, on the first step (as PyTorch does).
    fn step(&mut self, params: &mut [T], grads: &[T], lr: f64) {
        assert_eq!(
            params.len(),
            grads.len(),
            "rprop: parameter and gradient lengths"
        );
        let c = self.config;
        let (steps, [prev, step_size]) = self.buffers.split_mut();
        assert_eq!(params.len(), prev.len(), "rprop: buffer length");
        if *steps == 0 {
            step_size.fill(T::from_f64(lr));
        }
        *steps += 1;
        let eta_minus = T::from_f64(c.eta_minus);
        let eta_plus = T::from_f64(c.eta_plus);
        let step_min = T::from_f64(c.step_min);
        let step_max = T::from_f64(c.step_max);
        for (((p, &g), prev), size) in params
            .iter_mut()
            .zip(grads)
            .zip(prev.iter_mut())
            .zip(step_size.iter_mut())
        {
            // The product is rounded in T before its sign is taken, as in PyTorch.
            let product = g * *prev;
            let flipped = product < T::zero();
            let factor = if product > T::zero() {
                eta_plus
            } else if flipped {
                eta_minus
            } else if product == T::zero() {
                T::one()
            } else {
                product // NaN stays NaN
            };
            let scaled = *size * factor;
            // clamp_(min, max) as in PyTorch: min first, then max; NaN propagates.
            *size = if scaled < step_min {
                step_min
            } else if scaled > step_max {
                step_max
            } else {
                scaled
            };
            let g = if flipped { T::zero() } else { g };
            *p += -sign(g) * *size;
            *prev = g;
        }
    }

    fn buffers(&self) -> &Buffers<T> {
        &self.buffers
    }

    fn buffers_mut(&mut self) -> &mut Buffers<T> {
        &mut self.buffers
    }
}

/// `torch.sign`: −1, 0 or 1 (NaN stays NaN).
#[inline]
fn sign<T: Real>(x: T) -> T {
    if x > T::zero() {
        T::one()
    } else if x < T::zero() {
        -T::one()
    } else {
        x
    }
}
