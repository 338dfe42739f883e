//! Resilient backpropagation (`torch.optim.Rprop`, single-tensor path).
//!
//! Per parameter, a step size `Δ` (starting at the learning rate of the first step) grows by
//! `η⁺` while the gradient keeps its sign and shrinks by `η⁻` when it flips, clamped to
//! `[Δ_min, Δ_max]`; `θ ← θ − sign(g)·Δ`. After a flip the gradient is taken as 0 for this
//! step and remembered as 0, so the next step neither grows nor shrinks `Δ`.

use super::{copy_into, find_buffer, save_buffer, Optimizer, OptimizerState};
use crate::error::Result;
use crate::real::Real;

/// Rprop (the PyTorch variant without weight backtracking).
#[derive(Clone, Debug)]
pub struct Rprop<T: Real> {
    eta_minus: f64,
    eta_plus: f64,
    step_min: f64,
    step_max: f64,
    steps: u64,
    prev: Vec<T>,
    step_size: Vec<T>,
}

impl<T: Real> Rprop<T> {
    /// An optimizer for `n` parameters; settings as in [`super::OptimizerConfig::Rprop`]
    /// (not validated here).
    pub fn new(
        n: usize,
        (eta_minus, eta_plus): (f64, f64),
        (step_min, step_max): (f64, f64),
    ) -> Self {
        Rprop {
            eta_minus,
            eta_plus,
            step_min,
            step_max,
            steps: 0,
            prev: vec![T::zero(); n],
            step_size: vec![T::zero(); n],
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
        assert_eq!(params.len(), self.prev.len(), "rprop: buffer length");
        if self.steps == 0 {
            self.step_size.fill(T::from_f64(lr));
        }
        self.steps += 1;
        let eta_minus = T::from_f64(self.eta_minus);
        let eta_plus = T::from_f64(self.eta_plus);
        let step_min = T::from_f64(self.step_min);
        let step_max = T::from_f64(self.step_max);
        for (((p, &g), prev), size) in params
            .iter_mut()
            .zip(grads)
            .zip(&mut self.prev)
            .zip(&mut self.step_size)
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

    fn state(&self) -> OptimizerState {
        OptimizerState {
            step: self.steps,
            buffers: vec![
                save_buffer("prev", &self.prev),
                save_buffer("step_size", &self.step_size),
            ],
            scalars: Vec::new(),
        }
    }

    fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        let prev = find_buffer(state, "prev", self.prev.len())?;
        let step_size = find_buffer(state, "step_size", self.step_size.len())?;
        copy_into(&mut self.prev, prev);
        copy_into(&mut self.step_size, step_size);
        self.steps = state.step;
        Ok(())
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
