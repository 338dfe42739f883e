//! Adagrad (`torch.optim.Adagrad`, single-tensor dense path).
//!
//! `S ← S + g²`, `θ ← θ − η_t·g / (√S + ε)` with `η_t = η / (1 + (t − 1)·lr_decay)`.

use super::{copy_into, find_buffer, save_buffer, Optimizer, OptimizerState};
use crate::error::Result;
use crate::real::Real;

/// Adagrad with learning-rate decay and L2 weight decay.
#[derive(Clone, Debug)]
pub struct Adagrad<T: Real> {
    lr_decay: f64,
    weight_decay: f64,
    eps: f64,
    steps: u64,
    sum: Vec<T>,
}

impl<T: Real> Adagrad<T> {
    /// An optimizer for `n` parameters; settings as in [`super::OptimizerConfig::Adagrad`]
    /// (not validated here).
    pub fn new(
        n: usize,
        lr_decay: f64,
        weight_decay: f64,
        initial_accumulator_value: f64,
        eps: f64,
    ) -> Self {
        Adagrad {
            lr_decay,
            weight_decay,
            eps,
            steps: 0,
            sum: vec![T::from_f64(initial_accumulator_value); n],
        }
    }
}

impl<T: Real> Optimizer<T> for Adagrad<T> {
    fn step(&mut self, params: &mut [T], grads: &[T], lr: f64) {
        assert_eq!(
            params.len(),
            grads.len(),
            "adagrad: parameter and gradient lengths"
        );
        assert_eq!(params.len(), self.sum.len(), "adagrad: buffer length");
        self.steps += 1;
        let clr = lr / (1.0 + (self.steps as f64 - 1.0) * self.lr_decay);
        let neg_clr = T::from_f64(-clr);
        let weight_decay = T::from_f64(self.weight_decay);
        let eps = T::from_f64(self.eps);
        for ((p, &g), s) in params.iter_mut().zip(grads).zip(&mut self.sum) {
            let mut g = g;
            if self.weight_decay != 0.0 {
                g += weight_decay * *p;
            }
            *s += T::one() * g * g;
            let std = s.sqrt() + eps;
            *p += neg_clr * g / std;
        }
    }

    fn state(&self) -> OptimizerState {
        OptimizerState {
            step: self.steps,
            buffers: vec![save_buffer("sum", &self.sum)],
            scalars: Vec::new(),
        }
    }

    fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        let sum = find_buffer(state, "sum", self.sum.len())?;
        copy_into(&mut self.sum, sum);
        self.steps = state.step;
        Ok(())
    }
}
