//! Adam and AdamW (`torch.optim.Adam` / `torch.optim.AdamW`, single-tensor path).
//!
//! `m ← β₁·m + (1 − β₁)·g`, `v ← β₂·v + (1 − β₂)·g²`, and
//! `θ ← θ − (η / (1 − β₁ᵗ))·m / (√v / √(1 − β₂ᵗ) + ε)`, with `v` replaced by its running
//! maximum for AMSGrad. Adam adds `λ·θ` to the gradient; AdamW first shrinks
//! `θ ← θ·(1 − η·λ)` (decoupled weight decay).

use rayon::prelude::*;

use super::{
    copy_into, find_buffer, lerp, save_buffer, update_in_parallel, Optimizer, OptimizerState,
    UPDATE_CHUNK,
};
use crate::error::Result;
use crate::real::Real;

/// Adam, or AdamW when built with decoupled weight decay.
#[derive(Clone, Debug)]
pub struct Adam<T: Real> {
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    amsgrad: bool,
    decoupled: bool,
    steps: u64,
    exp_avg: Vec<T>,
    exp_avg_sq: Vec<T>,
    /// Running maximum of `exp_avg_sq` (empty without AMSGrad).
    max_exp_avg_sq: Vec<T>,
}

impl<T: Real> Adam<T> {
    /// An optimizer for `n` parameters; `decoupled` selects AdamW's weight decay. Settings
    /// as in [`super::OptimizerConfig::Adam`] (not validated here).
    pub fn new(
        n: usize,
        (beta1, beta2): (f64, f64),
        eps: f64,
        weight_decay: f64,
        amsgrad: bool,
        decoupled: bool,
    ) -> Self {
        Adam {
            beta1,
            beta2,
            eps,
            weight_decay,
            amsgrad,
            decoupled,
            steps: 0,
            exp_avg: vec![T::zero(); n],
            exp_avg_sq: vec![T::zero(); n],
            max_exp_avg_sq: vec![T::zero(); if amsgrad { n } else { 0 }],
        }
    }
}

impl<T: Real> Optimizer<T> for Adam<T> {
    fn step(&mut self, params: &mut [T], grads: &[T], lr: f64) {
        assert_eq!(
            params.len(),
            grads.len(),
            "adam: parameter and gradient lengths"
        );
        assert_eq!(params.len(), self.exp_avg.len(), "adam: buffer length");
        self.steps += 1;
        // Scalars are Python floats in PyTorch: computed in f64, rounded once to T.
        let step = self.steps as f64;
        let bias_correction1 = 1.0 - self.beta1.powf(step);
        let bias_correction2 = 1.0 - self.beta2.powf(step);
        let step_size = lr / bias_correction1;
        let bias_correction2_sqrt = T::from_f64(bias_correction2.powf(0.5));
        let neg_step_size = T::from_f64(-step_size);
        let decay = T::from_f64(1.0 - lr * self.weight_decay);
        let weight_decay = T::from_f64(self.weight_decay);
        let w1 = T::from_f64(1.0 - self.beta1);
        let beta2 = T::from_f64(self.beta2);
        let w2 = T::from_f64(1.0 - self.beta2);
        let eps = T::from_f64(self.eps);
        if self.weight_decay == 0.0 && !self.amsgrad {
            // The common case, as one branch-free pass over four slices so it vectorizes;
            // the same operations in the same order as the general loop below.
            let lerp_small = w1.abs() < T::from_f64(0.5);
            let w1_complement = T::one() - w1;
            let update =
                |params: &mut [T], grads: &[T], exp_avg: &mut [T], exp_avg_sq: &mut [T]| {
                    let slices = params
                        .iter_mut()
                        .zip(grads)
                        .zip(exp_avg.iter_mut().zip(exp_avg_sq.iter_mut()));
                    for ((p, &g), (m, v)) in slices {
                        let new_m = if lerp_small {
                            *m + w1 * (g - *m)
                        } else {
                            g - (g - *m) * w1_complement
                        };
                        *m = new_m;
                        let new_v = *v * beta2 + w2 * g * g;
                        *v = new_v;
                        let denom = new_v.sqrt() / bias_correction2_sqrt + eps;
                        *p += neg_step_size * new_m / denom;
                    }
                };
            if update_in_parallel(params.len()) {
                crate::compute::parallel::count_parallel_tasks(params.len().div_ceil(UPDATE_CHUNK));
                params
                    .par_chunks_mut(UPDATE_CHUNK)
                    .zip(grads.par_chunks(UPDATE_CHUNK))
                    .zip(self.exp_avg.par_chunks_mut(UPDATE_CHUNK))
                    .zip(self.exp_avg_sq.par_chunks_mut(UPDATE_CHUNK))
                    .for_each(|(((p, g), m), v)| update(p, g, m, v));
            } else {
                update(params, grads, &mut self.exp_avg, &mut self.exp_avg_sq);
            }
            return;
        }
        for (i, (p, &g)) in params.iter_mut().zip(grads).enumerate() {
            let mut g = g;
            if self.weight_decay != 0.0 {
                if self.decoupled {
                    *p *= decay;
                } else {
                    g += weight_decay * *p;
                }
            }
            let m = lerp(self.exp_avg[i], g, w1);
            self.exp_avg[i] = m;
            let v = self.exp_avg_sq[i] * beta2 + w2 * g * g;
            self.exp_avg_sq[i] = v;
            let v = if self.amsgrad {
                let old = self.max_exp_avg_sq[i];
                // torch.maximum propagates NaN.
                let max = if old.is_nan() || old > v { old } else { v };
                self.max_exp_avg_sq[i] = max;
                max
            } else {
                v
            };
            let denom = v.sqrt() / bias_correction2_sqrt + eps;
            *p += neg_step_size * m / denom;
        }
    }

    fn state(&self) -> OptimizerState {
        OptimizerState {
            step: self.steps,
            buffers: vec![
                save_buffer("exp_avg", &self.exp_avg),
                save_buffer("exp_avg_sq", &self.exp_avg_sq),
                save_buffer("max_exp_avg_sq", &self.max_exp_avg_sq),
            ],
            scalars: Vec::new(),
        }
    }

    fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        let exp_avg = find_buffer(state, "exp_avg", self.exp_avg.len())?;
        let exp_avg_sq = find_buffer(state, "exp_avg_sq", self.exp_avg_sq.len())?;
        let max_exp_avg_sq = find_buffer(state, "max_exp_avg_sq", self.max_exp_avg_sq.len())?;
        copy_into(&mut self.exp_avg, exp_avg);
        copy_into(&mut self.exp_avg_sq, exp_avg_sq);
        copy_into(&mut self.max_exp_avg_sq, max_exp_avg_sq);
        self.steps = state.step;
        Ok(())
    }
}
