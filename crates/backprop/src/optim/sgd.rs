//! Stochastic gradient descent (`torch.optim.SGD`, single-tensor path).
//!
//! With `g ← ∇L + λ·θ`, momentum buffer `b₁ = g`, `b_t = μ·b_{t−1} + (1 − τ)·g`, and
//! `θ ← θ − η·(g + μ·b_t)` (Nesterov) or `θ ← θ − η·b_t`.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{checked_by_copy, update_in_parallel, Buffers, Check, Optimizer, UPDATE_CHUNK};
use crate::compute::simd;
use crate::error::{Error, Result};
use crate::real::Real;

/// The settings of [`Sgd`]: PyTorch's defaults, except the learning rate, which PyTorch
/// requires and the engine sets to 0.01. Missing fields of a serialized form take these
/// defaults.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SgdConfig {
    /// Learning rate (default 0.01).
    pub lr: f64,
    /// Momentum factor (default 0: no momentum).
    pub momentum: f64,
    /// Dampening for momentum (default 0).
    pub dampening: f64,
    /// Nesterov momentum, which needs `momentum > 0` and `dampening = 0` (default off).
    pub nesterov: bool,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f64,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig {
            lr: 0.01,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        }
    }
}

impl SgdConfig {
    /// Checks the settings against the ranges PyTorch accepts (plus finiteness).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the setting and its value.
    pub fn validate(&self) -> Result<()> {
        let check = Check("sgd");
        check.non_negative("lr", self.lr)?;
        check.non_negative("momentum", self.momentum)?;
        check.non_negative("weight_decay", self.weight_decay)?;
        check.finite("dampening", self.dampening)?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(Error::InvalidConfig(format!(
                "sgd: nesterov momentum needs momentum > 0 and dampening = 0 \
                 (got momentum {}, dampening {})",
                self.momentum, self.dampening
            )));
        }
        Ok(())
    }
}

/// SGD with optional momentum, dampening, Nesterov momentum and L2 weight decay.
#[derive(Clone, Debug)]
pub struct Sgd<T: Real> {
    config: SgdConfig,
    /// `momentum_buffer` (empty without momentum).
    buffers: Buffers<T>,
}

impl<T: Real> Sgd<T> {
    /// An optimizer for `n` parameters (settings not validated here: use
    /// [`super::OptimizerConfig::build`]).
    pub fn new(n: usize, config: SgdConfig) -> Self {
        let buffer_len = if config.momentum != 0.0 { n } else { 0 };
        Sgd {
            config,
            buffers: Buffers::new(&["momentum_buffer"], [vec![T::zero(); buffer_len]]),
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
        let c = self.config;
        let weight_decay = T::from_f64(c.weight_decay);
        let momentum = T::from_f64(c.momentum);
        let keep = T::from_f64(1.0 - c.dampening);
        let neg_lr = T::from_f64(-lr);
        let (steps, [buffer]) = self.buffers.split_mut();
        let first = *steps == 0;
        *steps += 1;
        if c.momentum != 0.0 {
            assert_eq!(params.len(), buffer.len(), "sgd: buffer length");
        }
        if c.momentum != 0.0 && c.weight_decay == 0.0 && !c.nesterov && !first {
            // The common case, branch-free so it vectorizes: the same operations in the same
            // order as the general loop below.
            let k = Momentum {
                momentum,
                keep,
                neg_lr,
            };
            if update_in_parallel(params.len()) {
                crate::compute::parallel::count_parallel_tasks(params.len().div_ceil(UPDATE_CHUNK));
                params
                    .par_chunks_mut(UPDATE_CHUNK)
                    .zip(grads.par_chunks(UPDATE_CHUNK))
                    .zip(buffer.par_chunks_mut(UPDATE_CHUNK))
                    .for_each(|((p, g), b)| k.update(p, g, b));
            } else {
                k.update(params, grads, buffer);
            }
            return;
        }
        for (i, (p, &g)) in params.iter_mut().zip(grads).enumerate() {
            let mut g = g;
            if c.weight_decay != 0.0 {
                g += weight_decay * *p;
            }
            if c.momentum != 0.0 {
                let b = &mut buffer[i];
                *b = if first { g } else { *b * momentum + keep * g };
                g = if c.nesterov { g + momentum * *b } else { *b };
            }
            *p += neg_lr * g;
        }
    }

    fn step_checked(&mut self, params: &mut [T], grads: &[T], lr: f64, backup: &mut [T]) -> bool {
        let c = self.config;
        let common = c.momentum != 0.0 && c.weight_decay == 0.0 && !c.nesterov;
        if !common || self.buffers.steps() == 0 {
            return checked_by_copy(self, params, grads, lr, backup);
        }
        assert_eq!(
            params.len(),
            grads.len(),
            "sgd: parameter and gradient lengths"
        );
        assert_eq!(params.len(), backup.len(), "sgd: backup length");
        let k = Momentum {
            momentum: T::from_f64(c.momentum),
            keep: T::from_f64(1.0 - c.dampening),
            neg_lr: T::from_f64(-lr),
        };
        let (steps, [buffer]) = self.buffers.split_mut();
        assert_eq!(params.len(), buffer.len(), "sgd: buffer length");
        *steps += 1;
        if !update_in_parallel(params.len()) {
            return k.update_checked(params, grads, buffer, backup);
        }
        crate::compute::parallel::count_parallel_tasks(params.len().div_ceil(UPDATE_CHUNK));
        params
            .par_chunks_mut(UPDATE_CHUNK)
            .zip(grads.par_chunks(UPDATE_CHUNK))
            .zip(buffer.par_chunks_mut(UPDATE_CHUNK))
            .zip(backup.par_chunks_mut(UPDATE_CHUNK))
            .map(|(((p, g), b), old)| k.update_checked(p, g, b, old))
            .reduce(|| true, |a, b| a & b)
    }

    fn buffers(&self) -> &Buffers<T> {
        &self.buffers
    }

    fn buffers_mut(&mut self) -> &mut Buffers<T> {
        &mut self.buffers
    }
}

/// The coefficients of the common momentum update (no weight decay, no Nesterov, after the
/// first step): `b ← μ·b + (1 − τ)·g`, `θ ← θ − η·b`.
#[derive(Clone, Copy)]
struct Momentum<T> {
    momentum: T,
    keep: T,
    neg_lr: T,
}

impl<T: Real> Momentum<T> {
    /// The update of one piece, compiled for the widest vector unit.
    fn update(self, params: &mut [T], grads: &[T], buffer: &mut [T]) {
        simd::widest(params.len(), move || {
            let k = self;
            for ((p, &g), b) in params.iter_mut().zip(grads).zip(buffer) {
                *b = *b * k.momentum + k.keep * g;
                *p += k.neg_lr * *b;
            }
        })
    }

    /// [`Momentum::update`] that first saves each parameter in `backup` and tells whether
    /// every updated one is finite (a non-finite gradient makes it non-finite: `0·∞` is NaN).
    fn update_checked(
        self,
        params: &mut [T],
        grads: &[T],
        buffer: &mut [T],
        backup: &mut [T],
    ) -> bool {
        simd::widest(params.len(), move || {
            let k = self;
            let mut ok = true;
            let slices = params
                .iter_mut()
                .zip(grads)
                .zip(buffer.iter_mut().zip(backup));
            for ((p, &g), (b, old)) in slices {
                *old = *p;
                *b = *b * k.momentum + k.keep * g;
                *p += k.neg_lr * *b;
                ok &= p.is_finite();
            }
            ok
        })
    }
}
