//! Stochastic gradient descent (`torch.optim.SGD`, single-tensor path).
//!
//! With `g ← ∇L + λ·θ`, momentum buffer `b₁ = g`, `b_t = μ·b_{t−1} + (1 − τ)·g`, and
//! `θ ← θ − η·(g + μ·b_t)` (Nesterov) or `θ ← θ − η·b_t`.

use rayon::prelude::*;

use super::{
    copy_into, find_buffer, save_buffer, update_in_parallel, Optimizer, OptimizerState,
    UPDATE_CHUNK,
};
use crate::error::Result;
use crate::real::Real;

/// SGD with optional momentum, dampening, Nesterov momentum and L2 weight decay.
#[derive(Clone, Debug)]
pub struct Sgd<T: Real> {
    momentum: f64,
    dampening: f64,
    nesterov: bool,
    weight_decay: f64,
    steps: u64,
    /// Momentum buffer (empty without momentum).
    buffer: Vec<T>,
}

impl<T: Real> Sgd<T> {
    /// An optimizer for `n` parameters; settings as in [`super::OptimizerConfig::Sgd`]
    /// (not validated here: use [`super::OptimizerConfig::build`]).
    pub fn new(n: usize, momentum: f64, dampening: f64, nesterov: bool, weight_decay: f64) -> Self {
        let buffer_len = if momentum != 0.0 { n } else { 0 };
        Sgd {
            momentum,
            dampening,
            nesterov,
            weight_decay,
            steps: 0,
            buffer: vec![T::zero(); buffer_len],
        }
    }
}

impl<T: Real> Optimizer<T> for Sgd<T> {
    fn step(&mut self, params: &mut [T], grads: &[T], lr: f64) {
        assert_eq!(
            params.len(),
            grads.len(),
            "sgd: parameter and gradient lengths"
        );
        let weight_decay = T::from_f64(self.weight_decay);
        let momentum = T::from_f64(self.momentum);
        let keep = T::from_f64(1.0 - self.dampening);
        let neg_lr = T::from_f64(-lr);
        let first = self.steps == 0;
        if self.momentum != 0.0 {
            assert_eq!(params.len(), self.buffer.len(), "sgd: buffer length");
        }
        if self.momentum != 0.0 && self.weight_decay == 0.0 && !self.nesterov && !first {
            // The common case, branch-free so it vectorizes: the same operations in the same
            // order as the general loop below.
            let update = |params: &mut [T], grads: &[T], buffer: &mut [T]| {
                for ((p, &g), b) in params.iter_mut().zip(grads).zip(buffer) {
                    *b = *b * momentum + keep * g;
                    *p += neg_lr * *b;
                }
            };
            if update_in_parallel(params.len()) {
                crate::compute::parallel::count_parallel_tasks(params.len().div_ceil(UPDATE_CHUNK));
                params
                    .par_chunks_mut(UPDATE_CHUNK)
                    .zip(grads.par_chunks(UPDATE_CHUNK))
                    .zip(self.buffer.par_chunks_mut(UPDATE_CHUNK))
                    .for_each(|((p, g), b)| update(p, g, b));
            } else {
                update(params, grads, &mut self.buffer);
            }
            self.steps += 1;
            return;
        }
        for (i, (p, &g)) in params.iter_mut().zip(grads).enumerate() {
            let mut g = g;
            if self.weight_decay != 0.0 {
                g += weight_decay * *p;
            }
            if self.momentum != 0.0 {
                let b = &mut self.buffer[i];
                *b = if first { g } else { *b * momentum + keep * g };
                g = if self.nesterov { g + momentum * *b } else { *b };
            }
            *p += neg_lr * g;
        }
        self.steps += 1;
    }

    fn state(&self) -> OptimizerState {
        OptimizerState {
            step: self.steps,
            buffers: vec![save_buffer("momentum_buffer", &self.buffer)],
            scalars: Vec::new(),
        }
    }

    fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        let buffer = find_buffer(state, "momentum_buffer", self.buffer.len())?;
        copy_into(&mut self.buffer, buffer);
        self.steps = state.step;
        Ok(())
    }
}
