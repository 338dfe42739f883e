//! RMSprop (`torch.optim.RMSprop`, single-tensor path).
//!
//! `v ← α·v + (1 − α)·g²`; centered: `ḡ ← α·ḡ + (1 − α)·g` and `s = √(v − ḡ²) + ε`, else
//! `s = √v + ε`; with momentum `b ← μ·b + g/s`, `θ ← θ − η·b`, else `θ ← θ − η·g/s`.

use super::{copy_into, find_buffer, lerp, save_buffer, Optimizer, OptimizerState};
use crate::error::Result;
use crate::real::Real;

/// RMSprop with optional momentum, centering and L2 weight decay.
#[derive(Clone, Debug)]
pub struct RmsProp<T: Real> {
    alpha: f64,
    eps: f64,
    weight_decay: f64,
    momentum: f64,
    centered: bool,
    steps: u64,
    square_avg: Vec<T>,
    /// Momentum buffer (empty without momentum).
    momentum_buffer: Vec<T>,
    /// Mean gradient (empty unless centered).
    grad_avg: Vec<T>,
}

impl<T: Real> RmsProp<T> {
    /// An optimizer for `n` parameters; settings as in [`super::OptimizerConfig::RmsProp`]
    /// (not validated here).
    pub fn new(
        n: usize,
        alpha: f64,
        eps: f64,
        weight_decay: f64,
        momentum: f64,
        centered: bool,
    ) -> Self {
        RmsProp {
            alpha,
            eps,
            weight_decay,
            momentum,
            centered,
            steps: 0,
            square_avg: vec![T::zero(); n],
            momentum_buffer: vec![T::zero(); if momentum > 0.0 { n } else { 0 }],
            grad_avg: vec![T::zero(); if centered { n } else { 0 }],
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
        assert_eq!(
            params.len(),
            self.square_avg.len(),
            "rmsprop: buffer length"
        );
        self.steps += 1;
        let weight_decay = T::from_f64(self.weight_decay);
        let alpha = T::from_f64(self.alpha);
        let w = T::from_f64(1.0 - self.alpha);
        let eps = T::from_f64(self.eps);
        let momentum = T::from_f64(self.momentum);
        let neg_lr = T::from_f64(-lr);
        for (i, (p, &g)) in params.iter_mut().zip(grads).enumerate() {
            let mut g = g;
            if self.weight_decay != 0.0 {
                g += weight_decay * *p;
            }
            let v = self.square_avg[i] * alpha + w * g * g;
            self.square_avg[i] = v;
            let avg = if self.centered {
                let mean = lerp(self.grad_avg[i], g, w);
                self.grad_avg[i] = mean;
                (v + -mean * mean).sqrt()
            } else {
                v.sqrt()
            } + eps;
            if self.momentum > 0.0 {
                let b = self.momentum_buffer[i] * momentum + g / avg;
                self.momentum_buffer[i] = b;
                *p += neg_lr * b;
            } else {
                *p += neg_lr * g / avg;
            }
        }
    }

    fn state(&self) -> OptimizerState {
        OptimizerState {
            step: self.steps,
            buffers: vec![
                save_buffer("square_avg", &self.square_avg),
                save_buffer("momentum_buffer", &self.momentum_buffer),
                save_buffer("grad_avg", &self.grad_avg),
            ],
            scalars: Vec::new(),
        }
    }

    fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        let square_avg = find_buffer(state, "square_avg", self.square_avg.len())?;
        let momentum_buffer = find_buffer(state, "momentum_buffer", self.momentum_buffer.len())?;
        let grad_avg = find_buffer(state, "grad_avg", self.grad_avg.len())?;
        copy_into(&mut self.square_avg, square_avg);
        copy_into(&mut self.momentum_buffer, momentum_buffer);
        copy_into(&mut self.grad_avg, grad_avg);
        self.steps = state.step;
        Ok(())
    }
}
