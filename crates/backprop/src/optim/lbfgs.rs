//! Limited-memory BFGS (`torch.optim.LBFGS`), step for step, with its optional strong-Wolfe
//! line search.
//!
//! Each call of [`Lbfgs::step`] evaluates the loss and gradient at the current parameters,
//! then runs up to `max_iter` quasi-Newton iterations: the search direction `d = −H·g` comes
//! from the two-loop recursion over the last `history_size` pairs `(s, y)` (`s` the step,
//! `y` the change of gradient, kept when `yᵀs > 1e-10`), with `H₀ = (yᵀs / yᵀy)·I`; the step
//! length is `min(1, 1/‖g‖₁)·lr` on the very first iteration and `lr` after, or what the
//! strong-Wolfe line search finds (`c₁ = 1e-4`, `c₂ = 0.9`, at most `max_eval` evaluations
//! per step in all). Iterations stop on `max|g| ≤ tolerance_grad`, on a step or a loss change
//! below `tolerance_change`, or when the evaluations run out, exactly as in PyTorch.
//!
//! Buffers are allocated in [`Lbfgs::new`], except the history pairs, which are allocated
//! one by one during the first `history_size` accepted iterations (sizing all of them up
//! front would cost `2·history_size·n` values even for runs that never fill the history) and
//! then reused as a ring.

use serde::{Deserialize, Serialize};

use super::state::{find_buffer, find_scalar, save_buffer};
use super::{Check, OptimizerState};
use crate::error::{Error, Result};
use crate::real::Real;

/// Sufficient-decrease constant of the strong-Wolfe conditions.
const C1: f64 = 1e-4;
/// Curvature constant of the strong-Wolfe conditions.
const C2: f64 = 0.9;

/// The settings of [`Lbfgs`], with PyTorch's defaults (`lr = 1`, `max_iter = 20`,
/// `max_eval = 25`, `tolerance_grad = 1e-7`, `tolerance_change = 1e-9`, `history_size = 100`,
/// no line search). Missing fields of a serialized form take these defaults.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LbfgsConfig {
    /// Learning rate: the step length before any line search (default 1).
    pub lr: f64,
    /// Iterations per optimizer step (default 20).
    pub max_iter: usize,
    /// Function evaluations per optimizer step (default 25; PyTorch's default is
    /// `max_iter · 5/4`, which this is only for the default `max_iter`).
    pub max_eval: usize,
    /// Stop when the largest gradient entry falls below this (default 1e-7).
    pub tolerance_grad: f64,
    /// Stop when the loss or the step changes less than this (default 1e-9).
    pub tolerance_change: f64,
    /// Number of past updates remembered (default 100).
    pub history_size: usize,
    /// Use the strong-Wolfe line search (PyTorch `line_search_fn="strong_wolfe"`; default
    /// off).
    pub strong_wolfe: bool,
}

impl Default for LbfgsConfig {
    fn default() -> Self {
        LbfgsConfig {
            lr: 1.0,
            max_iter: 20,
            max_eval: 25,
            tolerance_grad: 1e-7,
            tolerance_change: 1e-9,
            history_size: 100,
            strong_wolfe: false,
        }
    }
}

impl LbfgsConfig {
    /// Checks the settings against the ranges PyTorch accepts (plus finiteness).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the setting and its value.
    pub fn validate(&self) -> Result<()> {
        let check = Check("lbfgs");
        check.non_negative("lr", self.lr)?;
        for (what, value) in [
            ("max_iter", self.max_iter),
            ("max_eval", self.max_eval),
            ("history_size", self.history_size),
        ] {
            if value == 0 {
                return Err(check.fail(what, 0.0, "must be at least 1"));
            }
        }
        check.non_negative("tolerance_grad", self.tolerance_grad)?;
        check.non_negative("tolerance_change", self.tolerance_change)
    }
}

/// The L-BFGS optimizer over a flat parameter vector.
#[derive(Clone, Debug)]
pub struct Lbfgs<T: Real> {
    config: LbfgsConfig,
    /// Function evaluations over all steps.
    func_evals: u64,
    /// Iterations over all steps.
    n_iter: u64,
    /// Last search direction.
    d: Vec<T>,
    /// Last step length.
    t: f64,
    /// History of gradient changes `y` (ring, oldest at `head` once full).
    old_dirs: Vec<Vec<T>>,
    /// History of steps `s`, parallel to `old_dirs`.
    old_stps: Vec<Vec<T>>,
    /// `1 / yᵀs` per history entry, parallel to `old_dirs`.
    ro: Vec<T>,
    /// Index of the oldest history entry.
    head: usize,
    /// Scale of the initial inverse Hessian.
    h_diag: T,
    prev_flat_grad: Vec<T>,
    prev_loss: f64,
    // Scratch.
    al: Vec<T>,
    flat_grad: Vec<T>,
    q: Vec<T>,
    y: Vec<T>,
    s: Vec<T>,
    x_trial: Vec<T>,
    g_new: Vec<T>,
    g_prev: Vec<T>,
    bracket_g: [Vec<T>; 2],
}

impl<T: Real> Lbfgs<T> {
    /// An optimizer for `n` parameters (settings not validated here: use
    /// [`super::OptimizerConfig::build`]).
    pub fn new(n: usize, config: LbfgsConfig) -> Self {
        let zeros = || vec![T::zero(); n];
        let ls = |on: bool| if on { vec![T::zero(); n] } else { Vec::new() };
        let wolfe = config.strong_wolfe;
        Lbfgs {
            config,
            func_evals: 0,
            n_iter: 0,
            d: zeros(),
            t: 0.0,
            old_dirs: Vec::new(),
            old_stps: Vec::new(),
            ro: Vec::new(),
            head: 0,
            h_diag: T::one(),
            prev_flat_grad: zeros(),
            prev_loss: 0.0,
            al: vec![T::zero(); config.history_size.min(1 << 16)],
            flat_grad: zeros(),
            q: zeros(),
            y: zeros(),
            s: zeros(),
            x_trial: ls(wolfe),
            g_new: ls(wolfe),
            g_prev: ls(wolfe),
            bracket_g: [ls(wolfe), ls(wolfe)],
        }
    }

    /// The settings this optimizer runs with (its steps take their learning rate as an
    /// argument, which a schedule may have changed from `lr`).
    pub fn config(&self) -> &LbfgsConfig {
        &self.config
    }

    /// Function evaluations made over all steps so far.
    pub fn func_evals(&self) -> u64 {
        self.func_evals
    }

    /// One optimizer step (up to `max_iter` iterations) from `params`, with step length
    /// `lr`. `closure(x, grad)` must return the loss at parameters `x` and write its gradient
    /// into `grad`; it is called at least once and at most `max_eval` times (plus one in the
    /// strong-Wolfe search, as in PyTorch). Returns the loss at the starting parameters, as
    /// PyTorch's `step` does.
    ///
    /// # Panics
    /// If `params` does not have the length given to [`Lbfgs::new`].
    pub fn step(
        &mut self,
        params: &mut [T],
        lr: f64,
        mut closure: impl FnMut(&[T], &mut [T]) -> f64,
    ) -> f64 {
        assert_eq!(params.len(), self.d.len(), "lbfgs: parameter length");
        let LbfgsConfig {
            max_iter,
            max_eval,
            tolerance_grad,
            tolerance_change,
            history_size,
            strong_wolfe,
            ..
        } = self.config;
        let orig_loss = closure(params, &mut self.flat_grad);
        let mut loss = orig_loss;
        let mut current_evals = 1;
        self.func_evals += 1;
        if max_abs(&self.flat_grad) <= T::from_f64(tolerance_grad) {
            return orig_loss;
        }
        let mut n_iter = 0;
        while n_iter < max_iter {
            n_iter += 1;
            self.n_iter += 1;
            if self.n_iter == 1 {
                for (d, &g) in self.d.iter_mut().zip(&self.flat_grad) {
                    *d = -g;
                }
                self.old_dirs.clear();
                self.old_stps.clear();
                self.ro.clear();
                self.head = 0;
                self.h_diag = T::one();
            } else {
                self.update_direction(history_size);
            }
            self.prev_flat_grad.copy_from_slice(&self.flat_grad);
            self.prev_loss = loss;

            self.t = if self.n_iter == 1 {
                let sum = self.flat_grad.iter().map(|g| g.abs().as_f64()).sum::<f64>();
                let inverse = T::one() / T::from_f64(sum);
                // Python's min(1.0, x): x only when x < 1.0.
                if inverse < T::one() {
                    (inverse * T::from_f64(lr)).as_f64()
                } else {
                    lr
                }
            } else {
                lr
            };

            let gtd = dot(&self.flat_grad, &self.d);
            if gtd > T::from_f64(-tolerance_change) {
                break;
            }
            let gtd = gtd.as_f64();

            let mut opt_cond = false;
            let ls_func_evals;
            if strong_wolfe {
                let (new_loss, t, evals) =
                    self.strong_wolfe(params, &mut closure, loss, gtd, max_eval - current_evals);
                loss = new_loss;
                self.t = t;
                ls_func_evals = evals;
                add_scaled(params, self.t, &self.d);
                opt_cond = max_abs(&self.flat_grad) <= T::from_f64(tolerance_grad);
            } else {
                add_scaled(params, self.t, &self.d);
                if n_iter != max_iter {
                    loss = closure(params, &mut self.flat_grad);
                    opt_cond = max_abs(&self.flat_grad) <= T::from_f64(tolerance_grad);
                    ls_func_evals = 1;
                } else {
                    ls_func_evals = 0;
                }
            }
            current_evals += ls_func_evals;
            self.func_evals += ls_func_evals as u64;

            if n_iter == max_iter || current_evals >= max_eval || opt_cond {
                break;
            }
            let t = T::from_f64(self.t);
            let largest_step = self.d.iter().fold(T::zero(), |m, &d| {
                let v = (d * t).abs();
                if v > m || v.is_nan() {
                    v
                } else {
                    m
                }
            });
            if largest_step <= T::from_f64(tolerance_change) {
                break;
            }
            if (loss - self.prev_loss).abs() < tolerance_change {
                break;
            }
        }
        orig_loss
    }

    /// Updates the history with the last step and computes the new direction `d = −H·g` by
    /// the two-loop recursion.
    fn update_direction(&mut self, history_size: usize) {
        let t = T::from_f64(self.t);
        for i in 0..self.d.len() {
            self.y[i] = self.flat_grad[i] - self.prev_flat_grad[i];
            self.s[i] = self.d[i] * t;
        }
        let ys = dot(&self.y, &self.s);
        if ys > T::from_f64(1e-10) {
            if self.old_dirs.len() == history_size {
                let slot = self.head;
                self.old_dirs[slot].copy_from_slice(&self.y);
                self.old_stps[slot].copy_from_slice(&self.s);
                self.ro[slot] = T::one() / ys;
                self.head = (self.head + 1) % history_size;
            } else {
                self.old_dirs.push(self.y.clone());
                self.old_stps.push(self.s.clone());
                self.ro.push(T::one() / ys);
            }
            self.h_diag = ys / dot(&self.y, &self.y);
        }
        let num_old = self.old_dirs.len();
        if self.al.len() < num_old {
            self.al.resize(num_old, T::zero());
        }
        for (q, &g) in self.q.iter_mut().zip(&self.flat_grad) {
            *q = -g;
        }
        for i in (0..num_old).rev() {
            let slot = (self.head + i) % num_old;
            let al = dot(&self.old_stps[slot], &self.q) * self.ro[slot];
            self.al[i] = al;
            for (q, &y) in self.q.iter_mut().zip(&self.old_dirs[slot]) {
                *q += -al * y;
            }
        }
        for (d, &q) in self.d.iter_mut().zip(&self.q) {
            *d = q * self.h_diag;
        }
        for i in 0..num_old {
            let slot = (self.head + i) % num_old;
            let be = dot(&self.old_dirs[slot], &self.d) * self.ro[slot];
            let alpha = self.al[i] - be;
            for (d, &s) in self.d.iter_mut().zip(&self.old_stps[slot]) {
                *d += alpha * s;
            }
        }
    }

    /// PyTorch's `_strong_wolfe` from `x` along `self.d`, starting at step `self.t`, with
    /// loss `f` and directional derivative `gtd` at `x` (gradient in `self.flat_grad`).
    /// Leaves the gradient at the chosen point in `self.flat_grad`; returns its loss, the
    /// step length and the evaluations made.
    fn strong_wolfe(
        &mut self,
        x: &[T],
        closure: &mut impl FnMut(&[T], &mut [T]) -> f64,
        f: f64,
        gtd: f64,
        max_ls: usize,
    ) -> (f64, f64, usize) {
        let tolerance_change = self.config.tolerance_change;
        let d_norm = max_abs(&self.d).as_f64();
        let mut t = self.t;
        let (mut f_new, mut gtd_new) = self.evaluate(x, t, closure);
        let mut ls_func_evals = 1;

        let (mut t_prev, mut f_prev, mut gtd_prev) = (0.0, f, gtd);
        self.g_prev.copy_from_slice(&self.flat_grad);
        let mut done = false;
        let mut ls_iter = 0;
        let mut bracket = [0.0; 2];
        let mut bracket_f = [0.0; 2];
        let mut bracket_gtd = [0.0; 2];
        let mut bracket_len = 0;
        while ls_iter < max_ls {
            let armijo_fails = f_new > f + C1 * t * gtd || (ls_iter > 1 && f_new >= f_prev);
            let curvature_holds = gtd_new.abs() <= -C2 * gtd;
            if armijo_fails || (!curvature_holds && gtd_new >= 0.0) {
                bracket = [t_prev, t];
                bracket_f = [f_prev, f_new];
                self.bracket_g[0].copy_from_slice(&self.g_prev);
                self.bracket_g[1].copy_from_slice(&self.g_new);
                bracket_gtd = [gtd_prev, gtd_new];
                bracket_len = 2;
                break;
            }
            if curvature_holds {
                bracket = [t, 0.0];
                bracket_f = [f_new, 0.0];
                self.bracket_g[0].copy_from_slice(&self.g_new);
                bracket_len = 1;
                done = true;
                break;
            }
            // Extrapolate.
            let min_step = t + 0.01 * (t - t_prev);
            let max_step = t * 10.0;
            let previous = t;
            t = cubic_interpolate(
                t_prev,
                f_prev,
                gtd_prev,
                t,
                f_new,
                gtd_new,
                Some((min_step, max_step)),
            );
            t_prev = previous;
            f_prev = f_new;
            self.g_prev.copy_from_slice(&self.g_new);
            gtd_prev = gtd_new;
            (f_new, gtd_new) = self.evaluate(x, t, closure);
            ls_func_evals += 1;
            ls_iter += 1;
        }
        if ls_iter == max_ls {
            bracket = [0.0, t];
            bracket_f = [f, f_new];
            self.bracket_g[0].copy_from_slice(&self.flat_grad);
            self.bracket_g[1].copy_from_slice(&self.g_new);
            bracket_len = 2;
        }

        // Zoom.
        let mut insuf_progress = false;
        let order = |bf: &[f64; 2], len: usize| {
            if bf[0] <= bf[len - 1] {
                (0, 1)
            } else {
                (1, 0)
            }
        };
        let (mut low, mut high) = order(&bracket_f, bracket_len);
        while !done && ls_iter < max_ls {
            if (bracket[1] - bracket[0]).abs() * d_norm < tolerance_change {
                break;
            }
            t = cubic_interpolate(
                bracket[0],
                bracket_f[0],
                bracket_gtd[0],
                bracket[1],
                bracket_f[1],
                bracket_gtd[1],
                None,
            );
            let b_max = py_max(bracket[0], bracket[1]);
            let b_min = py_min(bracket[0], bracket[1]);
            let eps = 0.1 * (b_max - b_min);
            if py_min(b_max - t, t - b_min) < eps {
                if insuf_progress || t >= b_max || t <= b_min {
                    t = if (t - b_max).abs() < (t - b_min).abs() {
                        b_max - eps
                    } else {
                        b_min + eps
                    };
                    insuf_progress = false;
                } else {
                    insuf_progress = true;
                }
            } else {
                insuf_progress = false;
            }
            (f_new, gtd_new) = self.evaluate(x, t, closure);
            ls_func_evals += 1;
            ls_iter += 1;

            if f_new > f + C1 * t * gtd || f_new >= bracket_f[low] {
                bracket[high] = t;
                bracket_f[high] = f_new;
                self.bracket_g[high].copy_from_slice(&self.g_new);
                bracket_gtd[high] = gtd_new;
                (low, high) = order(&bracket_f, 2);
            } else {
                if gtd_new.abs() <= -C2 * gtd {
                    done = true;
                } else if gtd_new * (bracket[high] - bracket[low]) >= 0.0 {
                    bracket[high] = bracket[low];
                    bracket_f[high] = bracket_f[low];
                    let [b0, b1] = &mut self.bracket_g;
                    if high == 0 {
                        b0.copy_from_slice(b1);
                    } else {
                        b1.copy_from_slice(b0);
                    }
                    bracket_gtd[high] = bracket_gtd[low];
                }
                bracket[low] = t;
                bracket_f[low] = f_new;
                self.bracket_g[low].copy_from_slice(&self.g_new);
                bracket_gtd[low] = gtd_new;
            }
        }
        self.flat_grad.copy_from_slice(&self.bracket_g[low]);
        (bracket_f[low], bracket[low], ls_func_evals)
    }

    /// Loss and directional derivative at `x + t·d` (gradient left in `self.g_new`).
    fn evaluate(
        &mut self,
        x: &[T],
        t: f64,
        closure: &mut impl FnMut(&[T], &mut [T]) -> f64,
    ) -> (f64, f64) {
        let step = T::from_f64(t);
        for ((trial, &x), &d) in self.x_trial.iter_mut().zip(x).zip(&self.d) {
            *trial = x + step * d;
        }
        let loss = closure(&self.x_trial, &mut self.g_new);
        (loss, dot(&self.g_new, &self.d).as_f64())
    }

    /// A snapshot of the state, for checkpoints: the direction, last step, history and
    /// previous gradient, so that a resumed run continues bit for bit.
    pub fn state(&self) -> OptimizerState {
        let len = self.old_dirs.len();
        let ordered = |ring: &[Vec<T>]| -> Vec<f64> {
            (0..len)
                .flat_map(|i| ring[(self.head + i) % len].iter().map(|v| v.as_f64()))
                .collect()
        };
        let ro: Vec<f64> = (0..len)
            .map(|i| self.ro[(self.head + i) % len].as_f64())
            .collect();
        OptimizerState {
            step: self.n_iter,
            buffers: vec![
                save_buffer("d", &self.d),
                save_buffer("prev_flat_grad", &self.prev_flat_grad),
                ("old_dirs".to_string(), ordered(&self.old_dirs)),
                ("old_stps".to_string(), ordered(&self.old_stps)),
                ("ro".to_string(), ro),
            ],
            scalars: vec![
                ("func_evals".to_string(), self.func_evals as f64),
                ("t".to_string(), self.t),
                ("h_diag".to_string(), self.h_diag.as_f64()),
                ("prev_loss".to_string(), self.prev_loss),
                ("history_len".to_string(), len as f64),
            ],
        }
    }

    /// Restores a snapshot from [`Lbfgs::state`]; an error if it does not fit.
    pub fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        let n = self.d.len();
        let len_value = find_scalar(state, "history_len")?;
        let len = len_value as usize;
        if len_value.fract() != 0.0 || len_value < 0.0 || len > self.config.history_size {
            return Err(Error::InvalidConfig(format!(
                "lbfgs state: history length {len_value} is not an integer in 0..={}",
                self.config.history_size
            )));
        }
        let d = find_buffer(state, "d", n)?;
        let prev_flat_grad = find_buffer(state, "prev_flat_grad", n)?;
        let old_dirs = find_buffer(state, "old_dirs", len * n)?;
        let old_stps = find_buffer(state, "old_stps", len * n)?;
        let ro = find_buffer(state, "ro", len)?;
        let func_evals = find_scalar(state, "func_evals")?;
        let t = find_scalar(state, "t")?;
        let h_diag = find_scalar(state, "h_diag")?;
        let prev_loss = find_scalar(state, "prev_loss")?;

        let to_t = |values: &[f64]| values.iter().map(|&v| T::from_f64(v)).collect::<Vec<T>>();
        self.d = to_t(d);
        self.prev_flat_grad = to_t(prev_flat_grad);
        self.old_dirs = (0..len)
            .map(|i| to_t(&old_dirs[i * n..(i + 1) * n]))
            .collect();
        self.old_stps = (0..len)
            .map(|i| to_t(&old_stps[i * n..(i + 1) * n]))
            .collect();
        self.ro = to_t(ro);
        self.head = 0;
        self.n_iter = state.step;
        self.func_evals = func_evals as u64;
        self.t = t;
        self.h_diag = T::from_f64(h_diag);
        self.prev_loss = prev_loss;
        Ok(())
    }
}

/// PyTorch's `_cubic_interpolate`: the minimizer of the cubic through two points with their
/// slopes, clamped to `bounds` (default: between the points); the midpoint of the bounds
/// when the cubic has no minimizer.
fn cubic_interpolate(
    x1: f64,
    f1: f64,
    g1: f64,
    x2: f64,
    f2: f64,
    g2: f64,
    bounds: Option<(f64, f64)>,
) -> f64 {
    let (lo, hi) = bounds.unwrap_or(if x1 <= x2 { (x1, x2) } else { (x2, x1) });
    let d1 = g1 + g2 - 3.0 * (f1 - f2) / (x1 - x2);
    let d2_square = d1 * d1 - g1 * g2;
    if d2_square >= 0.0 {
        let d2 = d2_square.sqrt();
        let min_pos = if x1 <= x2 {
            x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2.0 * d2))
        } else {
            x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2.0 * d2))
        };
        py_min(py_max(min_pos, lo), hi)
    } else {
        (lo + hi) / 2.0
    }
}

/// Python's `max(a, b)`: `b` only when `b > a`.
fn py_max(a: f64, b: f64) -> f64 {
    if b > a {
        b
    } else {
        a
    }
}

/// Python's `min(a, b)`: `b` only when `b < a`.
fn py_min(a: f64, b: f64) -> f64 {
    if b < a {
        b
    } else {
        a
    }
}

/// Dot product, accumulated in `f64` and rounded to `T`.
fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    T::from_f64(
        a.iter()
            .zip(b)
            .map(|(&x, &y)| x.as_f64() * y.as_f64())
            .sum(),
    )
}

/// The largest absolute entry (NaN if any entry is NaN, like `abs().max()`).
fn max_abs<T: Real>(values: &[T]) -> T {
    values.iter().fold(T::zero(), |m, &v| {
        let v = v.abs();
        if v > m || v.is_nan() || m.is_nan() {
            if m.is_nan() {
                m
            } else {
                v
            }
        } else {
            m
        }
    })
}

/// `params += t·d` in parameter precision.
fn add_scaled<T: Real>(params: &mut [T], t: f64, d: &[T]) {
    let t = T::from_f64(t);
    for (p, &d) in params.iter_mut().zip(d) {
        *p += t * d;
    }
}
