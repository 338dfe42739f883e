//! RMSprop (`torch.optim.RMSprop`, single-tensor path).
//!
//! `v ← α·v + (1 − α)·g²`; centered: `ḡ ← α·ḡ + (1 − α)·g` and `s = √(v − ḡ²) + ε`, else
//! `s = √v + ε`; with momentum `b ← μ·b + g/s`, `θ ← θ − η·b`, else `θ ← θ − η·g/s`.

use serde::{Deserialize, Serialize};

use super::{lerp, Buffers, Check, Optimizer};
use crate::error::Result;
use crate::real::Real;

/// The settings of [`RmsProp`], with PyTorch's defaults (`lr = 1e-2`, `alpha = 0.99`,
/// `eps = 1e-8`, no weight decay, no momentum, not centered). Missing fields of a serialized
/// form take these defaults.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RmsPropConfig {
    /// Learning rate (default 1e-2).
    pub lr: f64,
    /// Smoothing constant of the squared-gradient average (default 0.99).
    pub alpha: f64,
    /// Added to the denominator for numerical stability (default 1e-8).
    pub eps: f64,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f64,
    /// Momentum factor (default 0).
    pub momentum: f64,
    /// Normalize by the centered second moment, an estimate of the variance (default off).
    pub centered: bool,
}

impl Default for RmsPropConfig {
    fn default() -> Self {
        RmsPropConfig {
            lr: 1e-2,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
        }
    }
}

impl RmsPropConfig {
    /// Checks the settings against the ranges PyTorch accepts (plus finiteness).
    ///
    /// # Errors
    /// [`crate::Error::InvalidConfig`] naming the setting and its value.
    pub fn validate(&self) -> Result<()> {
        let check = Check("rmsprop");
        check.non_negative("lr", self.lr)?;
        check.non_negative("alpha", self.alpha)?;
        check.non_negative("eps", self.eps)?;
        check.non_negative("weight_decay", self.weight_decay)?;
        check.non_negative("momentum", self.momentum)
    }
}

/// RMSprop with optional momentum, centering and L2 weight decay.
#[derive(Clone, Debug)]
pub struct RmsProp<T: Real> {
    config: RmsPropConfig,
    /// `square_avg`, `momentum_buffer` (empty without momentum) and `grad_avg` (the mean
    /// gradient; empty unless centered).
    buffers: Buffers<T>,
}

impl<T: Real> RmsProp<T> {
    /// An optimizer for `n` parameters (settings not validated here: use
    /// [`super::OptimizerConfig::build`]).
    pub fn new(n: usize, config: RmsPropConfig) -> Self {
        let sized = |on: bool| vec![T::zero(); if on { n } else { 0 }];
        RmsProp {
            config,
            buffers: Buffers::new(
                &["square_avg", "momentum_buffer", "grad_avg"],
                [
                    sized(true),
                    sized(config.momentum > 0.0),
                    sized(config.centered),
                ],
            ),
        }
    }
}

impl<T: Real> Optimizer<T> for RmsProp<T> {
    fn step(&mut self, params: &mut [T], grads: &[T], lr: f64) {
        assert_eq!(
            params.len(),
            grads.len(),
            "rmsprop: parameter and gradient lengths"
        );
        let c = self.config;
        let (steps, [square_avg, momentum_buffer, grad_avg]) = self.buffers.split_mut();
        assert_eq!(params.len(), square_avg.len(), "rmsprop: buffer length");
        *steps += 1;
        let weight_decay = T::from_f64(c.weight_decay);
        let alpha = T::from_f64(c.alpha);
        let w = T::from_f64(1.0 - c.alpha);
        let eps = T::from_f64(c.eps);
        let momentum = T::from_f64(c.momentum);
        let neg_lr = T::from_f64(-lr);
        for (i, (p, &g)) in params.iter_mut().zip(grads).enumerate() {
            let mut g = g;
            if c.weight_decay != 0.0 {
                g += weight_decay * *p;
            }
            let v = square_avg[i] * alpha + w * g * g;
            square_avg[i] = v;
            let avg = if c.centered {
                let mean = lerp(grad_avg[i], g, w);
                grad_avg[i] = mean;
                (v + -mean * mean).sqrt()
            } else {
                v.sqrt()
            } + eps;
            if c.momentum > 0.0 {
                let b = momentum_buffer[i] * momentum + g / avg;
                momentum_buffer[i] = b;
                *p += neg_lr * b;
            } else {
                *p += neg_lr * g / avg;
            }
        }
    }

    fn buffers(&self) -> &Buffers<T> {
        &self.buffers
    }

    fn buffers_mut(&mut self) -> &mut Buffers<T> {
        &mut self.buffers
    }
}
