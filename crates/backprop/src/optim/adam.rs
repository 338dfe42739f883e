//! Adam and AdamW (`torch.optim.Adam` / `torch.optim.AdamW`, single-tensor path).
//!
//! `m ← β₁·m + (1 − β₁)·g`, `v ← β₂·v + (1 − β₂)·g²`, and
//! `θ ← θ − (η / (1 − β₁ᵗ))·m / (√v / √(1 − β₂ᵗ) + ε)`, with `v` replaced by its running
//! maximum for AMSGrad. Adam adds `λ·θ` to the gradient; AdamW first shrinks
//! `θ ← θ·(1 − η·λ)` (decoupled weight decay).
//!
//! Every variant runs as one branch-free pass over the slices, so it vectorizes, shared among
//! threads for large parameter counts; each element is updated alone, so neither changes a
//! bit (the tests hold it to PyTorch's element-by-element loop).

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use std::ops::Range;

use super::{update_in_parallel, Buffers, Check, L2Gradient, Optimizer, UPDATE_CHUNK};
use crate::compute::simd;
use crate::error::Result;
use crate::real::Real;

/// The settings of Adam, with PyTorch's defaults (`lr = 1e-3`, betas `(0.9, 0.999)`,
/// `eps = 1e-8`, no weight decay, no AMSGrad). Missing fields of a serialized form take these
/// defaults.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AdamConfig {
    /// Learning rate (default 1e-3).
    pub lr: f64,
    /// Decay of the first-moment estimate (default 0.9).
    pub beta1: f64,
    /// Decay of the second-moment estimate (default 0.999).
    pub beta2: f64,
    /// Added to the denominator for numerical stability (default 1e-8).
    pub eps: f64,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f64,
    /// Use the maximum of past second moments (AMSGrad; default off).
    pub amsgrad: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
        }
    }
}

impl AdamConfig {
    /// Checks the settings against the ranges PyTorch accepts (plus finiteness).
    ///
    /// # Errors
    /// [`crate::Error::InvalidConfig`] naming the setting and its value.
    pub fn validate(&self) -> Result<()> {
        self.check("adam")
    }

    fn check(&self, name: &'static str) -> Result<()> {
        let check = Check(name);
        check.non_negative("lr", self.lr)?;
        check.beta("beta1", self.beta1)?;
        check.beta("beta2", self.beta2)?;
        check.non_negative("eps", self.eps)?;
        check.non_negative("weight_decay", self.weight_decay)
    }
}

/// The settings of AdamW: those of [`AdamConfig`], with the weight decay decoupled and
/// PyTorch's default of 0.01 for it. Missing fields of a serialized form take the defaults.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AdamWConfig {
    /// Learning rate (default 1e-3).
    pub lr: f64,
    /// Decay of the first-moment estimate (default 0.9).
    pub beta1: f64,
    /// Decay of the second-moment estimate (default 0.999).
    pub beta2: f64,
    /// Added to the denominator for numerical stability (default 1e-8).
    pub eps: f64,
    /// Decoupled weight decay: `θ ← θ·(1 − η·λ)` before each update (default 0.01).
    pub weight_decay: f64,
    /// Use the maximum of past second moments (AMSGrad; default off).
    pub amsgrad: bool,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        let adam = AdamConfig::default();
        AdamWConfig {
            lr: adam.lr,
            beta1: adam.beta1,
            beta2: adam.beta2,
            eps: adam.eps,
            weight_decay: 1e-2,
            amsgrad: adam.amsgrad,
        }
    }
}

impl AdamWConfig {
    /// Checks the settings against the ranges PyTorch accepts (plus finiteness).
    ///
    /// # Errors
    /// [`crate::Error::InvalidConfig`] naming the setting and its value.
    pub fn validate(&self) -> Result<()> {
        self.as_adam().check("adamw")
    }

    /// The same numbers as Adam's settings (the weight decay is applied differently).
    fn as_adam(&self) -> AdamConfig {
        AdamConfig {
            lr: self.lr,
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
            weight_decay: self.weight_decay,
            amsgrad: self.amsgrad,
        }
    }
}

/// Adam, or AdamW when built with [`Adam::adamw`].
#[derive(Clone, Debug)]
pub struct Adam<T: Real> {
    config: AdamConfig,
    /// AdamW's weight decay.
    decoupled: bool,
    /// `exp_avg`, `exp_avg_sq` and `max_exp_avg_sq` (the running maximum of `exp_avg_sq`;
    /// empty without AMSGrad).
    buffers: Buffers<T>,
}

/// [`Coefficients::pass`] as a [`simd::Loop`], so that it is compiled for the widest unit.
struct Pass<'a, T, D> {
    c: Coefficients<T>,
    decay: D,
    params: &'a mut [T],
    grads: &'a [T],
    exp_avg: &'a mut [T],
    exp_avg_sq: &'a mut [T],
    max: &'a mut [T],
    backup: &'a mut [T],
}

impl<T: Real, D: Fn(&mut T, T) -> T + Copy> simd::Loop for Pass<'_, T, D> {
    type Output = bool;

    #[inline(always)]
    fn run(self) -> bool {
        // Held in registers, not read through a reference that the stores might alias.
        let c = self.c;
        let slices = self
            .params
            .iter_mut()
            .zip(self.grads)
            .zip(self.exp_avg.iter_mut().zip(self.exp_avg_sq.iter_mut()));
        let mut ok = true;
        match (self.max.is_empty(), self.backup.is_empty()) {
            (true, true) => {
                for ((p, &g), (m, v)) in slices {
                    c.element(self.decay, p, g, m, v, None);
                }
            }
            (false, true) => {
                for (((p, &g), (m, v)), max) in slices.zip(self.max) {
                    c.element(self.decay, p, g, m, v, Some(max));
                }
            }
            // A non-finite gradient makes the updated parameter non-finite (∞/∞ is NaN).
            (true, false) => {
                for (((p, &g), (m, v)), old) in slices.zip(self.backup) {
                    *old = *p;
                    c.element(self.decay, p, g, m, v, None);
                    ok &= p.is_finite();
                }
            }
            (false, false) => {
                for (((p, &g), (m, v)), (max, old)) in
                    slices.zip(self.max.iter_mut().zip(self.backup))
                {
                    *old = *p;
                    c.element(self.decay, p, g, m, v, Some(max));
                    ok &= p.is_finite();
                }
            }
        }
        ok
    }
}

impl<T: Real> Adam<T> {
    /// Adam for `n` parameters (settings not validated here: use
    /// [`super::OptimizerConfig::build`]).
    pub fn new(n: usize, config: AdamConfig) -> Self {
        Adam {
            config,
            decoupled: false,
            buffers: Buffers::new(
                &["exp_avg", "exp_avg_sq", "max_exp_avg_sq"],
                [
                    vec![T::zero(); n],
                    vec![T::zero(); n],
                    vec![T::zero(); if config.amsgrad { n } else { 0 }],
                ],
            ),
        }
    }

    /// AdamW for `n` parameters (settings not validated here).
    pub fn adamw(n: usize, config: AdamWConfig) -> Self {
        Adam {
            decoupled: true,
            ..Adam::new(n, config.as_adam())
        }
    }
}

/// The scalars of one step, computed in `f64` and rounded once to `T` (they are Python
/// floats in PyTorch).
#[derive(Clone, Copy)]
struct Coefficients<T> {
    /// `1 − β₁`, the weight of `lerp(m, g, 1 − β₁)`.
    w1: T,
    /// `1 − w1` in `T`, for the second form of PyTorch's `lerp`.
    w1_complement: T,
    /// Which form of `lerp` PyTorch takes: `|w1| < 0.5`.
    lerp_small: bool,
    beta2: T,
    /// `1 − β₂`.
    w2: T,
    bias_correction2_sqrt: T,
    eps: T,
    /// `−η / (1 − β₁ᵗ)`.
    neg_step_size: T,
}

impl<T: Real> Coefficients<T> {
    fn new(config: &AdamConfig, step: u64, lr: f64) -> Self {
        let step = step as f64;
        let bias_correction1 = 1.0 - config.beta1.powf(step);
        let bias_correction2 = 1.0 - config.beta2.powf(step);
        let w1 = T::from_f64(1.0 - config.beta1);
        Coefficients {
            w1,
            w1_complement: T::one() - w1,
            lerp_small: w1.abs() < T::from_f64(0.5),
            beta2: T::from_f64(config.beta2),
            w2: T::from_f64(1.0 - config.beta2),
            bias_correction2_sqrt: T::from_f64(bias_correction2.powf(0.5)),
            eps: T::from_f64(config.eps),
            neg_step_size: T::from_f64(-lr / bias_correction1),
        }
    }

    /// One element, with `decay` giving the gradient to use (and decaying `p` for AdamW),
    /// and `max` the AMSGrad running maximum if any. PyTorch's operations in its order.
    #[inline(always)]
    fn element(
        &self,
        decay: impl Fn(&mut T, T) -> T,
        p: &mut T,
        g: T,
        m: &mut T,
        v: &mut T,
        max: Option<&mut T>,
    ) {
        let g = decay(p, g);
        // PyTorch's CPU `lerp(m, g, w1)` (see `super::lerp`).
        let new_m = if self.lerp_small {
            *m + self.w1 * (g - *m)
        } else {
            g - (g - *m) * self.w1_complement
        };
        *m = new_m;
        let new_v = *v * self.beta2 + self.w2 * g * g;
        *v = new_v;
        let v = match max {
            Some(max) => {
                // torch.maximum propagates NaN.
                let old = *max;
                *max = if old.is_nan() || old > new_v {
                    old
                } else {
                    new_v
                };
                *max
            }
            None => new_v,
        };
        let denom = v.sqrt() / self.bias_correction2_sqrt + self.eps;
        *p += self.neg_step_size * new_m / denom;
    }

    /// One pass over a piece of the slices (`max` empty without AMSGrad), compiled for the
    /// widest vector unit. With a `backup` (empty for none) each parameter is first saved
    /// there, and the result tells whether every updated one is finite; without, it is `true`.
    #[inline(always)]
    fn pass(
        &self,
        decay: impl Fn(&mut T, T) -> T + Copy,
        params: &mut [T],
        grads: &[T],
        (exp_avg, exp_avg_sq, max): (&mut [T], &mut [T], &mut [T]),
        backup: &mut [T],
    ) -> bool {
        simd::widest_loop(
            params.len(),
            Pass {
                c: *self,
                decay,
                params,
                grads,
                exp_avg,
                exp_avg_sq,
                max,
                backup,
            },
        )
    }

    /// The update of every parameter, shared among the threads of the current pool when
    /// large enough; `backup` as in [`Coefficients::pass`] (empty or as long as `params`).
    fn update(
        &self,
        decay: impl Fn(&mut T, T) -> T + Copy + Sync,
        params: &mut [T],
        grads: &[T],
        [exp_avg, exp_avg_sq, max]: [&mut [T]; 3],
        backup: &mut [T],
    ) -> bool {
        if !update_in_parallel(params.len()) {
            return self.pass(decay, params, grads, (exp_avg, exp_avg_sq, max), backup);
        }
        crate::compute::parallel::count_parallel_tasks(params.len().div_ceil(UPDATE_CHUNK));
        // Empty buffers (no AMSGrad, no backup) are handed out as empty pieces.
        let n = params.len();
        params
            .par_chunks_mut(UPDATE_CHUNK)
            .zip(grads.par_chunks(UPDATE_CHUNK))
            .zip(exp_avg.par_chunks_mut(UPDATE_CHUNK))
            .zip(exp_avg_sq.par_chunks_mut(UPDATE_CHUNK))
            .zip(optional_pieces(max, n))
            .zip(optional_pieces(backup, n))
            .map(|(((((p, g), m), v), max), old)| self.pass(decay, p, g, (m, v, max), old))
            .reduce(|| true, |a, b| a & b)
    }
}

impl<T: Real> Coefficients<T> {
    /// [`Coefficients::update`] with an L2 penalty's gradient added to the gradient of the
    /// parameters in its ranges (before `decay`, as when the gradient held it), one range or
    /// gap between ranges after another; without a penalty, one update of everything.
    fn update_penalized(
        &self,
        decay: impl Fn(&mut T, T) -> T + Copy + Sync,
        l2: Option<L2Gradient<'_, T>>,
        params: &mut [T],
        grads: &[T],
        buffers: &mut [Vec<T>; 3],
        backup: &mut [T],
    ) -> bool {
        let [exp_avg, exp_avg_sq, max] = buffers;
        let Some(l2) = l2 else {
            return self.update(decay, params, grads, [exp_avg, exp_avg_sq, max], backup);
        };
        let factor = l2.factor;
        let penalized = move |p: &mut T, g: T| decay(p, g + factor * *p);
        let n = params.len();
        let mut segment = |range: Range<usize>, with_l2: bool| {
            let pieces = [
                &mut exp_avg[range.clone()],
                &mut exp_avg_sq[range.clone()],
                piece(max, range.clone()),
            ];
            let (params, grads) = (&mut params[range.clone()], &grads[range.clone()]);
            let backup = piece(backup, range);
            if with_l2 {
                self.update(penalized, params, grads, pieces, backup)
            } else {
                self.update(decay, params, grads, pieces, backup)
            }
        };
        let (mut ok, mut start) = (true, 0);
        for range in l2.ranges {
            ok &= segment(start..range.start, false);
            ok &= segment(range.clone(), true);
            start = range.end;
        }
        ok & segment(start..n, false)
    }
}

/// `values[range]`, or `values` itself when it is empty (an absent buffer).
fn piece<T>(values: &mut [T], range: Range<usize>) -> &mut [T] {
    if values.is_empty() {
        values
    } else {
        &mut values[range]
    }
}

/// `values` in pieces of [`UPDATE_CHUNK`], or, when it is empty, as many empty pieces as
/// `n` values make, so that an absent buffer zips with the others.
fn optional_pieces<T: Real>(
    values: &mut [T],
    n: usize,
) -> impl IndexedParallelIterator<Item = &mut [T]> {
    let pieces = n.div_ceil(UPDATE_CHUNK);
    let empty = values.is_empty();
    let size = if empty { 1 } else { UPDATE_CHUNK };
    let filler = rayon::iter::repeat_n((), if empty { pieces } else { 0 });
    values
        .par_chunks_mut(size)
        .chain(filler.map(|()| Default::default()))
}

impl<T: Real> Adam<T> {
    /// One step; `backup` as in [`Coefficients::pass`] (empty for none), `l2` an L2
    /// penalty's gradient to add to `grads`.
    fn update(
        &mut self,
        params: &mut [T],
        grads: &[T],
        lr: f64,
        backup: &mut [T],
        l2: Option<L2Gradient<'_, T>>,
    ) -> bool {
        assert_eq!(
            params.len(),
            grads.len(),
            "adam: parameter and gradient lengths"
        );
        let (steps, buffers) = self.buffers.split_mut();
        assert_eq!(params.len(), buffers[0].len(), "adam: buffer length");
        *steps += 1;
        let c = Coefficients::<T>::new(&self.config, *steps, lr);
        let weight_decay = self.config.weight_decay;
        // The decay is chosen once per step, so that each variant's loop is branch-free.
        if weight_decay == 0.0 {
            c.update_penalized(|_, g| g, l2, params, grads, buffers, backup)
        } else if self.decoupled {
            let decay = T::from_f64(1.0 - lr * weight_decay);
            let shrink = move |p: &mut T, g: T| {
                *p *= decay;
                g
            };
            c.update_penalized(shrink, l2, params, grads, buffers, backup)
        } else {
            let weight_decay = T::from_f64(weight_decay);
            let coupled = move |p: &mut T, g: T| g + weight_decay * *p;
            c.update_penalized(coupled, l2, params, grads, buffers, backup)
        }
    }
}

impl<T: Real> Optimizer<T> for Adam<T> {
    fn step(&mut self, params: &mut [T], grads: &[T], lr: f64) {
        self.update(params, grads, lr, &mut [], None);
    }

    fn step_checked(&mut self, params: &mut [T], grads: &[T], lr: f64, backup: &mut [T]) -> bool {
        assert_eq!(params.len(), backup.len(), "adam: backup length");
        self.update(params, grads, lr, backup, None)
    }

    fn step_checked_with_l2(
        &mut self,
        params: &mut [T],
        grads: &mut [T],
        lr: f64,
        backup: &mut [T],
        l2: L2Gradient<'_, T>,
    ) -> bool {
        assert_eq!(params.len(), backup.len(), "adam: backup length");
        self.update(params, grads, lr, backup, Some(l2))
    }

    fn buffers(&self) -> &Buffers<T> {
        &self.buffers
    }

    fn buffers_mut(&mut self) -> &mut Buffers<T> {
        &mut self.buffers
    }
}

#[cfg(test)]
mod tests {
    use super::super::{lerp, OptimizerConfig};
    use super::*;

    /// The element-by-element loop that PyTorch's single-tensor Adam reads as (and this file
    /// ran for weight decay and AMSGrad before they joined the fast path): the reference.
    fn reference_step<T: Real>(adam: &mut Adam<T>, params: &mut [T], grads: &[T], lr: f64) {
        let (config, decoupled) = (adam.config, adam.decoupled);
        let (steps, [exp_avg, exp_avg_sq, max_exp_avg_sq]) = adam.buffers.split_mut();
        *steps += 1;
        let step = *steps as f64;
        let bias_correction1 = 1.0 - config.beta1.powf(step);
        let bias_correction2 = 1.0 - config.beta2.powf(step);
        let step_size = lr / bias_correction1;
        let bias_correction2_sqrt = T::from_f64(bias_correction2.powf(0.5));
        let neg_step_size = T::from_f64(-step_size);
        let decay = T::from_f64(1.0 - lr * config.weight_decay);
        let weight_decay = T::from_f64(config.weight_decay);
        let w1 = T::from_f64(1.0 - config.beta1);
        let beta2 = T::from_f64(config.beta2);
        let w2 = T::from_f64(1.0 - config.beta2);
        let eps = T::from_f64(config.eps);
        for (i, (p, &g)) in params.iter_mut().zip(grads).enumerate() {
            let mut g = g;
            if config.weight_decay != 0.0 {
                if decoupled {
                    *p *= decay;
                } else {
                    g += weight_decay * *p;
                }
            }
            let m = lerp(exp_avg[i], g, w1);
            exp_avg[i] = m;
            let v = exp_avg_sq[i] * beta2 + w2 * g * g;
            exp_avg_sq[i] = v;
            let v = if config.amsgrad {
                let old = max_exp_avg_sq[i];
                let max = if old.is_nan() || old > v { old } else { v };
                max_exp_avg_sq[i] = max;
                max
            } else {
                v
            };
            let denom = v.sqrt() / bias_correction2_sqrt + eps;
            *p += neg_step_size * m / denom;
        }
    }

    /// Same bits, or both NaN (a NaN's payload is not part of the result).
    fn same<T: Real>(a: &[T], b: &[T]) -> bool {
        a.len() == b.len()
            && a.iter().zip(b).all(|(x, y)| {
                x.as_f64().to_bits() == y.as_f64().to_bits() || (x.is_nan() && y.is_nan())
            })
    }

    fn fast_path_matches_reference<T: Real>() {
        // Split among threads (see `update_in_parallel`), and not a multiple of a piece.
        let len = 4 * UPDATE_CHUNK + 17;
        let adam = OptimizerConfig::adam();
        let adamw = OptimizerConfig::adamw();
        let amsgrad = |config: OptimizerConfig| match config {
            OptimizerConfig::Adam(c) => OptimizerConfig::Adam(AdamConfig { amsgrad: true, ..c }),
            OptimizerConfig::AdamW(c) => OptimizerConfig::AdamW(AdamWConfig { amsgrad: true, ..c }),
            _ => unreachable!(),
        };
        let l2 = adam.clone().with_weight_decay(0.1).unwrap();
        // beta1 = 0.3 takes lerp's second form.
        let other_lerp = OptimizerConfig::Adam(AdamConfig {
            beta1: 0.3,
            weight_decay: 0.05,
            ..AdamConfig::default()
        });
        let variants = [
            adam.clone(),
            l2.clone(),
            amsgrad(adam.clone()),
            amsgrad(l2),
            adamw.clone(),
            adamw.clone().with_weight_decay(0.0).unwrap(),
            amsgrad(adamw),
            other_lerp.clone(),
            amsgrad(other_lerp),
        ];
        let start: Vec<T> = (0..len)
            .map(|i| T::from_f64((i % 13) as f64 / 13.0 - 0.4))
            .collect();
        for config in variants {
            let build = || match config {
                OptimizerConfig::Adam(c) => Adam::<T>::new(len, c),
                OptimizerConfig::AdamW(c) => Adam::<T>::adamw(len, c),
                _ => unreachable!(),
            };
            for threads in [1, 3] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let (mut fast, mut reference) = (build(), build());
                let (mut p_fast, mut p_reference) = (start.clone(), start.clone());
                let tasks_before = crate::parallel_task_count();
                pool.install(|| {
                    assert_eq!(update_in_parallel(len), threads > 1);
                    for step in 0..4 {
                        // Gradients that change sign and size from step to step, a NaN and
                        // zeros of both signs (AMSGrad keeps the NaN in its maximum).
                        let mut grads: Vec<T> = (0..len)
                            .map(|i| {
                                let k = ((i * 37 + step * 11) % 101) as f64 - 50.0;
                                T::from_f64(k / 64.0 * (1.0 + step as f64))
                            })
                            .collect();
                        grads[5] = T::nan();
                        grads[6] = T::zero();
                        grads[7] = -T::zero();
                        let lr = config.lr() * 10.0 / (1.0 + step as f64);
                        fast.step(&mut p_fast, &grads, lr);
                        reference_step(&mut reference, &mut p_reference, &grads, lr);
                    }
                });
                let tasks = crate::parallel_task_count() - tasks_before;
                if threads > 1 {
                    // Other tests may add to the counter, never take from it.
                    let pieces = len.div_ceil(UPDATE_CHUNK);
                    assert!(tasks >= 4 * pieces, "{config:?}: {tasks} parallel tasks");
                }
                let label = format!("{} {config:?} on {threads} threads", T::NAME);
                assert!(same(&p_fast, &p_reference), "{label}: parameters");
                for name in ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"] {
                    let (a, b) = (fast.buffers.get(name), reference.buffers.get(name));
                    assert!(same(a.unwrap(), b.unwrap()), "{label}: {name}");
                }
                assert_ne!(p_fast[0], start[0], "{label}: the parameters moved");
            }
        }
    }

    #[test]
    fn fast_path_matches_the_element_loop_bit_for_bit_f32() {
        fast_path_matches_reference::<f32>();
    }

    #[test]
    fn fast_path_matches_the_element_loop_bit_for_bit_f64() {
        fast_path_matches_reference::<f64>();
    }
}
