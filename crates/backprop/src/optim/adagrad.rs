//! Adagrad (`torch.optim.Adagrad`, single-tensor dense path).
//!
//! `S ← S + g²`, `θ ← θ − η_t·g / (√S + ε)` with `η_t = η / (1 + (t − 1)·lr_decay)`.

use serde::{Deserialize, Serialize};

use super::{Buffers, Check, Optimizer};
use crate::error::Result;
use crate::real::Real;

/// The settings of [`Adagrad`], with PyTorch's defaults (`lr = 1e-2`, `eps = 1e-10`, no
/// learning-rate decay, no weight decay, sums starting at 0). Missing fields of a serialized
/// form take these defaults.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AdagradConfig {
    /// Learning rate (default 1e-2).
    pub lr: f64,
    /// Learning-rate decay per step (default 0).
    pub lr_decay: f64,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f64,
    /// Starting value of the squared-gradient sums (default 0).
    pub initial_accumulator_value: f64,
    /// Added to the denominator for numerical stability (default 1e-10).
    pub eps: f64,
}

impl Default for AdagradConfig {
    fn default() -> Self {
        AdagradConfig {
            lr: 1e-2,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
        }
    }
}

impl AdagradConfig {
    /// Checks the settings against the ranges PyTorch accepts (plus finiteness).
    ///
    /// # Errors
    /// [`crate::Error::InvalidConfig`] naming the setting and its value.
    pub fn validate(&self) -> Result<()> {
        let check = Check("adagrad");
        check.non_negative("lr", self.lr)?;
        check.non_negative("lr_decay", self.lr_decay)?;
        check.non_negative("weight_decay", self.weight_decay)?;
        check.non_negative("initial_accumulator_value", self.initial_accumulator_value)?;
        check.non_negative("eps", self.eps)
    }
}

/// Adagrad with learning-rate decay and L2 weight decay.
#[derive(Clone, Debug)]
pub struct Adagrad<T: Real> {
    config: AdagradConfig,
    /// `sum`, the squared-gradient sums.
    buffers: Buffers<T>,
}

impl<T: Real> Adagrad<T> {
    /// An optimizer for `n` parameters (settings not validated here: use
    /// [`super::OptimizerConfig::build`]).
    pub fn new(n: usize, config: AdagradConfig) -> Self {
        let sum = vec![T::from_f64(config.initial_accumulator_value); n];
        Adagrad {
            config,
            buffers: Buffers::new(&["sum"], [sum]),
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
        let c = self.config;
        let (steps, [sum]) = self.buffers.split_mut();
        assert_eq!(params.len(), sum.len(), "adagrad: buffer length");
        *steps += 1;
        let clr = lr / (1.0 + (*steps as f64 - 1.0) * c.lr_decay);
        let neg_clr = T::from_f64(-clr);
        let weight_decay = T::from_f64(c.weight_decay);
        let eps = T::from_f64(c.eps);
        for ((p, &g), s) in params.iter_mut().zip(grads).zip(sum.iter_mut()) {
            let mut g = g;
            if c.weight_decay != 0.0 {
                g += weight_decay * *p;
            }
            *s += T::one() * g * g;
            let std = s.sqrt() + eps;
            *p += neg_clr * g / std;
        }
    }

    fn buffers(&self) -> &Buffers<T> {
        &self.buffers
    }

    fn buffers_mut(&mut self) -> &mut Buffers<T> {
        &mut self.buffers
    }
}
