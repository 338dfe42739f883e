//! Optimizers: how parameters move given their gradients.
//!
//! Each follows PyTorch's update rule and defaults (`torch.optim`), so a run can be compared
//! step by step, and each has its settings struct beside its rule ([`SgdConfig`] in `sgd.rs`,
//! ...), gathered by [`OptimizerConfig`]. First-order optimizers implement [`Optimizer`] and
//! work on the flat parameter and gradient vectors of [`crate::Network`]; L-BFGS needs to
//! re-evaluate the loss and has its own entry point ([`Solver::Lbfgs`]).

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::compute::simd;
use crate::error::{Error, Result};
use crate::real::Real;

mod adagrad;
mod adam;
mod lbfgs;
mod rmsprop;
mod rprop;
mod sgd;
mod state;

pub use adagrad::{Adagrad, AdagradConfig};
pub use adam::{Adam, AdamConfig, AdamWConfig};
pub use lbfgs::{Lbfgs, LbfgsConfig};
pub use rmsprop::{RmsProp, RmsPropConfig};
pub use rprop::{Rprop, RpropConfig};
pub use sgd::{Sgd, SgdConfig};
pub use state::{Buffers, OptimizerState};

/// Elements per piece when an element-wise update is shared among threads: large enough
/// that handing a piece to a thread is cheap next to the work, small enough to balance.
pub(crate) const UPDATE_CHUNK: usize = 1 << 14;

/// Whether an element-wise update of `len` parameters is worth splitting over the threads of
/// the current rayon pool. Each element is updated alone, so the split never changes a bit.
pub(crate) fn update_in_parallel(len: usize) -> bool {
    len >= 4 * UPDATE_CHUNK && rayon::current_num_threads() > 1
}

/// [`Optimizer::step_checked`] for any optimizer: a copy, a check of the gradient, the step
/// and a check of the result.
pub(crate) fn checked_by_copy<T: Real, O: Optimizer<T> + ?Sized>(
    optimizer: &mut O,
    params: &mut [T],
    grads: &[T],
    lr: f64,
    backup: &mut [T],
) -> bool {
    backup.copy_from_slice(params);
    if !all_finite(grads) {
        return false;
    }
    optimizer.step(params, grads, lr);
    all_finite(params)
}

/// Whether every value is finite. Within each chunk an and-reduction of `is_finite`, which the
/// compiler vectorizes (a sum would be a chain of dependent additions it may not reorder);
/// the scan stops at the first chunk with a bad value.
pub(crate) fn all_finite<T: Real>(values: &[T]) -> bool {
    values
        .chunks(1024)
        .all(|chunk| chunk.iter().fold(true, |ok, v| ok & v.is_finite()))
}

/// The settings of an optimizer, with PyTorch's defaults (see [`OptimizerConfig::sgd`],
/// [`OptimizerConfig::adam`], ...). Serializable into configs and model files, as the
/// optimizer's settings tagged by `kind`: `{"kind": "adam", "lr": 0.001, ...}`; settings
/// left out take their defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OptimizerConfig {
    /// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and
    /// weight decay (`torch.optim.SGD`).
    Sgd(SgdConfig),
    /// Adam (`torch.optim.Adam`): L2 weight decay added to the gradient.
    Adam(AdamConfig),
    /// AdamW (`torch.optim.AdamW`): decoupled weight decay. Tagged `adamw`.
    #[serde(rename = "adamw", alias = "adam_w")]
    AdamW(AdamWConfig),
    /// RMSprop (`torch.optim.RMSprop`). Tagged `rmsprop`.
    #[serde(rename = "rmsprop", alias = "rms_prop")]
    RmsProp(RmsPropConfig),
    /// Adagrad (`torch.optim.Adagrad`).
    Adagrad(AdagradConfig),
    /// Resilient backpropagation (`torch.optim.Rprop`): per-parameter step sizes driven by
    /// the sign of the gradient. Meant for full-batch training.
    Rprop(RpropConfig),
    /// Limited-memory BFGS (`torch.optim.LBFGS`) for full-batch training of small data.
    Lbfgs(LbfgsConfig),
}

/// The gradient of an L2 penalty, `factor·θ` for the parameters in `ranges` (disjoint and in
/// increasing order: the weights, not the biases), for
/// [`Optimizer::step_checked_with_l2`].
#[derive(Clone, Copy, Debug)]
pub struct L2Gradient<'a, T> {
    /// The penalty's strength in `T`.
    pub factor: T,
    /// The penalized parameters.
    pub ranges: &'a [Range<usize>],
}

impl<T: Real> L2Gradient<'_, T> {
    /// `grads += factor·params` over the ranges.
    pub fn add_to(&self, params: &[T], grads: &mut [T]) {
        let factor = self.factor;
        for range in self.ranges {
            let (grads, params) = (&mut grads[range.clone()], &params[range.clone()]);
            simd::widest(grads.len(), || {
                grads
                    .iter_mut()
                    .zip(params)
                    .for_each(|(g, &p)| *g += factor * p);
            });
        }
    }
}

/// A first-order optimizer over a flat parameter vector.
pub trait Optimizer<T: Real>: Send {
    /// One update of `params` from `grads` (same length), with learning rate `lr` (the
    /// configured rate as adjusted by a schedule).
    ///
    /// # Panics
    /// If the slices differ in length from each other or from the optimizer's buffers.
    fn step(&mut self, params: &mut [T], grads: &[T], lr: f64);

    /// [`Optimizer::step`] for a training loop that watches for divergence: `backup` (as
    /// long as `params`) receives the parameters from before the step, and the result says
    /// whether the step was sound, every gradient and every updated parameter finite. When it
    /// is `false`, the caller restores `params` from `backup` (the optimizer's own buffers
    /// are then spoiled: stop using it). The updated parameters are the same bits as
    /// [`Optimizer::step`]'s.
    ///
    /// The default copies, checks the gradient, steps and checks the result (three extra
    /// passes over the parameters); SGD with momentum and Adam do it within their update
    /// pass, where a non-finite gradient always makes the updated parameter non-finite.
    ///
    /// # Panics
    /// As [`Optimizer::step`], and if `backup` differs in length from `params`.
    fn step_checked(&mut self, params: &mut [T], grads: &[T], lr: f64, backup: &mut [T]) -> bool {
        checked_by_copy(self, params, grads, lr, backup)
    }

    /// [`Optimizer::step_checked`] on `grads` plus an L2 penalty's gradient `l2` (which
    /// `grads` does not hold yet): the same bits as adding it to `grads` first, as the
    /// default does. Adam adds it within its update pass instead (no pass of its own over the
    /// weights and gradients), so `grads` is left as it was.
    ///
    /// # Panics
    /// As [`Optimizer::step_checked`], and if a range of `l2` lies outside `params`.
    fn step_checked_with_l2(
        &mut self,
        params: &mut [T],
        grads: &mut [T],
        lr: f64,
        backup: &mut [T],
        l2: L2Gradient<'_, T>,
    ) -> bool {
        l2.add_to(params, grads);
        self.step_checked(params, grads, lr, backup)
    }

    /// The steps taken and the named buffers carried between steps.
    fn buffers(&self) -> &Buffers<T>;

    /// The same, to restore them ([`Optimizer::load_state`]).
    fn buffers_mut(&mut self) -> &mut Buffers<T>;

    /// A snapshot of the internal state, for checkpoints.
    fn state(&self) -> OptimizerState {
        self.buffers().save()
    }

    /// Restores a snapshot from [`Optimizer::state`]; an error if it does not fit.
    fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        self.buffers_mut().load(state)
    }
}

impl OptimizerConfig {
    /// Plain SGD with learning rate `lr` (PyTorch: no momentum, dampening or weight decay).
    pub fn sgd(lr: f64) -> Self {
        OptimizerConfig::Sgd(SgdConfig {
            lr,
            ..SgdConfig::default()
        })
    }

    /// Adam with PyTorch's defaults: `lr = 1e-3`, betas `(0.9, 0.999)`, `eps = 1e-8`.
    pub fn adam() -> Self {
        OptimizerConfig::Adam(AdamConfig::default())
    }

    /// AdamW with PyTorch's defaults: as [`OptimizerConfig::adam`] plus `weight_decay = 1e-2`.
    pub fn adamw() -> Self {
        OptimizerConfig::AdamW(AdamWConfig::default())
    }

    /// RMSprop with PyTorch's defaults: `lr = 1e-2`, `alpha = 0.99`, `eps = 1e-8`.
    pub fn rmsprop() -> Self {
        OptimizerConfig::RmsProp(RmsPropConfig::default())
    }

    /// Adagrad with PyTorch's defaults: `lr = 1e-2`, `eps = 1e-10`.
    pub fn adagrad() -> Self {
        OptimizerConfig::Adagrad(AdagradConfig::default())
    }

    /// Rprop with PyTorch's defaults: `lr = 1e-2`, etas `(0.5, 1.2)`, step sizes `(1e-6, 50)`.
    pub fn rprop() -> Self {
        OptimizerConfig::Rprop(RpropConfig::default())
    }

    /// L-BFGS with PyTorch's defaults: `lr = 1`, `max_iter = 20`, `max_eval = 25`,
    /// `tolerance_grad = 1e-7`, `tolerance_change = 1e-9`, `history_size = 100`, no line
    /// search.
    pub fn lbfgs() -> Self {
        OptimizerConfig::Lbfgs(LbfgsConfig::default())
    }

    /// The optimizer called `name` (`sgd`, `adam`, `adamw`, `rmsprop`, `adagrad`, `rprop` or
    /// `lbfgs`, as [`OptimizerConfig::name`] gives them) with PyTorch's defaults; SGD, which
    /// has no default rate in PyTorch, gets `lr = 0.01`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the known optimizers.
    pub fn by_name(name: &str) -> Result<Self> {
        Ok(match name {
            "sgd" => OptimizerConfig::Sgd(SgdConfig::default()),
            "adam" => OptimizerConfig::adam(),
            "adamw" => OptimizerConfig::adamw(),
            "rmsprop" => OptimizerConfig::rmsprop(),
            "adagrad" => OptimizerConfig::adagrad(),
            "rprop" => OptimizerConfig::rprop(),
            "lbfgs" => OptimizerConfig::lbfgs(),
            _ => {
                return Err(Error::InvalidConfig(format!(
                    "unknown optimizer {name:?}: expected one of sgd, adam, adamw, rmsprop, \
                     adagrad, rprop, lbfgs"
                )))
            }
        })
    }

    /// The same settings with momentum `value` (SGD and RMSprop).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an optimizer without momentum.
    pub fn with_momentum(mut self, value: f64) -> Result<Self> {
        match &mut self {
            OptimizerConfig::Sgd(c) => c.momentum = value,
            OptimizerConfig::RmsProp(c) => c.momentum = value,
            other => {
                return Err(Error::InvalidConfig(format!(
                    "momentum applies to sgd and rmsprop, not {}",
                    other.name()
                )))
            }
        }
        Ok(self)
    }

    /// The same settings with Nesterov momentum on or off (SGD).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when turning it on for another optimizer.
    pub fn with_nesterov(mut self, on: bool) -> Result<Self> {
        match &mut self {
            OptimizerConfig::Sgd(c) => c.nesterov = on,
            other if on => {
                return Err(Error::InvalidConfig(format!(
                    "nesterov applies to sgd, not {}",
                    other.name()
                )))
            }
            _ => {}
        }
        Ok(self)
    }

    /// The same settings with weight decay `value` (every optimizer but Rprop and L-BFGS;
    /// decoupled for AdamW, added to the gradient for the others).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for Rprop and L-BFGS.
    pub fn with_weight_decay(mut self, value: f64) -> Result<Self> {
        match &mut self {
            OptimizerConfig::Sgd(c) => c.weight_decay = value,
            OptimizerConfig::Adam(c) => c.weight_decay = value,
            OptimizerConfig::AdamW(c) => c.weight_decay = value,
            OptimizerConfig::RmsProp(c) => c.weight_decay = value,
            OptimizerConfig::Adagrad(c) => c.weight_decay = value,
            other => {
                return Err(Error::InvalidConfig(format!(
                    "weight decay does not apply to {}",
                    other.name()
                )))
            }
        }
        Ok(self)
    }

    /// The configured learning rate.
    pub fn lr(&self) -> f64 {
        match self {
            OptimizerConfig::Sgd(c) => c.lr,
            OptimizerConfig::Adam(c) => c.lr,
            OptimizerConfig::AdamW(c) => c.lr,
            OptimizerConfig::RmsProp(c) => c.lr,
            OptimizerConfig::Adagrad(c) => c.lr,
            OptimizerConfig::Rprop(c) => c.lr,
            OptimizerConfig::Lbfgs(c) => c.lr,
        }
    }

    /// The same settings with learning rate `new_lr`.
    pub fn with_lr(mut self, new_lr: f64) -> Self {
        let lr = match &mut self {
            OptimizerConfig::Sgd(c) => &mut c.lr,
            OptimizerConfig::Adam(c) => &mut c.lr,
            OptimizerConfig::AdamW(c) => &mut c.lr,
            OptimizerConfig::RmsProp(c) => &mut c.lr,
            OptimizerConfig::Adagrad(c) => &mut c.lr,
            OptimizerConfig::Rprop(c) => &mut c.lr,
            OptimizerConfig::Lbfgs(c) => &mut c.lr,
        };
        *lr = new_lr;
        self
    }

    /// The optimizer's short name: `sgd`, `adam`, `adamw`, `rmsprop`, `adagrad`, `rprop` or
    /// `lbfgs` (the `kind` tag of the serialized form).
    pub fn name(&self) -> &'static str {
        match self {
            OptimizerConfig::Sgd(_) => "sgd",
            OptimizerConfig::Adam(_) => "adam",
            OptimizerConfig::AdamW(_) => "adamw",
            OptimizerConfig::RmsProp(_) => "rmsprop",
            OptimizerConfig::Adagrad(_) => "adagrad",
            OptimizerConfig::Rprop(_) => "rprop",
            OptimizerConfig::Lbfgs(_) => "lbfgs",
        }
    }

    /// Checks every setting against the ranges PyTorch accepts (plus finiteness), giving
    /// [`Error::InvalidConfig`] naming the optimizer, the setting and its value.
    pub fn validate(&self) -> Result<()> {
        match self {
            OptimizerConfig::Sgd(c) => c.validate(),
            OptimizerConfig::Adam(c) => c.validate(),
            OptimizerConfig::AdamW(c) => c.validate(),
            OptimizerConfig::RmsProp(c) => c.validate(),
            OptimizerConfig::Adagrad(c) => c.validate(),
            OptimizerConfig::Rprop(c) => c.validate(),
            OptimizerConfig::Lbfgs(c) => c.validate(),
        }
    }

    /// Validates the settings and creates the optimizer for `parameter_count` parameters,
    /// with every buffer allocated up front.
    pub fn build<T: Real>(&self, parameter_count: usize) -> Result<Solver<T>> {
        self.validate()?;
        let n = parameter_count;
        let first_order = |optimizer: Box<dyn Optimizer<T>>| Solver::FirstOrder(optimizer);
        Ok(match *self {
            OptimizerConfig::Sgd(c) => first_order(Box::new(Sgd::new(n, c))),
            OptimizerConfig::Adam(c) => first_order(Box::new(Adam::new(n, c))),
            OptimizerConfig::AdamW(c) => first_order(Box::new(Adam::adamw(n, c))),
            OptimizerConfig::RmsProp(c) => first_order(Box::new(RmsProp::new(n, c))),
            OptimizerConfig::Adagrad(c) => first_order(Box::new(Adagrad::new(n, c))),
            OptimizerConfig::Rprop(c) => first_order(Box::new(Rprop::new(n, c))),
            OptimizerConfig::Lbfgs(c) => Solver::Lbfgs(Lbfgs::new(n, c)),
        })
    }
}

/// A built optimizer: a first-order one stepping from a gradient, or L-BFGS, which
/// re-evaluates the loss through a closure.
// One solver per training run: the size of the L-BFGS variant does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Solver<T: Real> {
    /// SGD, Adam, AdamW, RMSprop, Adagrad or Rprop.
    FirstOrder(Box<dyn Optimizer<T>>),
    /// L-BFGS.
    Lbfgs(Lbfgs<T>),
}

impl<T: Real> Solver<T> {
    /// A snapshot of the optimizer's state, for checkpoints.
    pub fn state(&self) -> OptimizerState {
        match self {
            Solver::FirstOrder(optimizer) => optimizer.state(),
            Solver::Lbfgs(lbfgs) => lbfgs.state(),
        }
    }

    /// Restores a snapshot from [`Solver::state`]; an error if it does not fit.
    pub fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        match self {
            Solver::FirstOrder(optimizer) => optimizer.load_state(state),
            Solver::Lbfgs(lbfgs) => lbfgs.load_state(state),
        }
    }
}

impl<T: Real> std::fmt::Debug for Solver<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Solver::FirstOrder(_) => f.write_str("Solver::FirstOrder(..)"),
            Solver::Lbfgs(_) => f.write_str("Solver::Lbfgs(..)"),
        }
    }
}

/// The range checks of the settings of the optimizer it names, as errors that say which
/// optimizer, which setting, its value and the rule.
#[derive(Clone, Copy)]
struct Check(&'static str);

impl Check {
    fn fail(self, what: &str, value: f64, rule: &str) -> Error {
        Error::InvalidConfig(format!("{}: {what} = {value} {rule}", self.0))
    }

    fn non_negative(self, what: &str, value: f64) -> Result<()> {
        if value.is_finite() && value >= 0.0 {
            Ok(())
        } else {
            Err(self.fail(what, value, "must be finite and at least 0"))
        }
    }

    fn finite(self, what: &str, value: f64) -> Result<()> {
        if value.is_finite() {
            Ok(())
        } else {
            Err(self.fail(what, value, "must be finite"))
        }
    }

    /// A decay rate of a moving average: in `[0, 1)`.
    fn beta(self, what: &str, value: f64) -> Result<()> {
        if (0.0..1.0).contains(&value) {
            Ok(())
        } else {
            Err(self.fail(what, value, "must be in [0, 1)"))
        }
    }
}

/// PyTorch's CPU `lerp`: `a + w·(b − a)` for `|w| < 0.5`, else `b − (b − a)·(1 − w)`.
#[inline]
fn lerp<T: Real>(a: T, b: T, w: T) -> T {
    if w.abs() < T::from_f64(0.5) {
        a + w * (b - a)
    } else {
        b - (b - a) * (T::one() - w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checked_steps_match_plain_steps_and_catch_non_finite_values() {
        // Large enough to be split on 2 threads (see `update_in_parallel`), and not a multiple
        // of a piece; a small one stays on one thread.
        let momentum = OptimizerConfig::sgd(0.1).with_momentum(0.9).unwrap();
        let amsgrad = OptimizerConfig::Adam(AdamConfig {
            amsgrad: true,
            weight_decay: 0.01,
            ..AdamConfig::default()
        });
        let configs = [
            momentum,
            OptimizerConfig::adam(),
            amsgrad,
            OptimizerConfig::adamw(),
            OptimizerConfig::rmsprop(),
        ];
        for len in [4 * UPDATE_CHUNK + 17, 1000] {
            let grads: Vec<f32> = (0..len)
                .map(|i| ((i * 37 % 101) as f32 - 50.0) / 64.0)
                .collect();
            let start: Vec<f32> = (0..len).map(|i| (i % 13) as f32 / 13.0).collect();
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(2)
                .build()
                .unwrap();
            for config in &configs {
                let build = || match config.build::<f32>(len) {
                    Ok(Solver::FirstOrder(optimizer)) => optimizer,
                    _ => unreachable!(),
                };
                let name = config.name();
                pool.install(|| {
                    let (mut plain, mut checked) = (build(), build());
                    let (mut a, mut b) = (start.clone(), start.clone());
                    let mut backup = vec![0.0f32; len];
                    for _ in 0..3 {
                        let before = b.clone();
                        plain.step(&mut a, &grads, config.lr());
                        assert!(checked.step_checked(&mut b, &grads, config.lr(), &mut backup));
                        let same = |x: &[f32], y: &[f32]| {
                            x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
                        };
                        assert!(same(&a, &b), "{name}: checked step differs");
                        assert!(same(&backup, &before), "{name}: backup");
                    }
                    // A NaN or an infinite gradient, or an update that overflows, fails.
                    for (bad, lr) in [(f32::NAN, 1.0), (f32::INFINITY, 1.0), (1.0, 1e39)] {
                        let mut optimizer = build();
                        let mut params = start.clone();
                        assert!(optimizer.step_checked(&mut params, &grads, 1e-3, &mut backup));
                        let mut spoiled = grads.clone();
                        spoiled[len - 3] = bad;
                        if bad == 1.0 {
                            spoiled[len - 3] = 3e38;
                        }
                        let before = params.clone();
                        let ok = optimizer.step_checked(&mut params, &spoiled, lr, &mut backup);
                        assert!(!ok, "{name}: {bad} gradient, lr {lr}");
                        assert_eq!(backup, before, "{name}: backup");
                    }
                });
            }
        }
    }

    #[test]
    fn updates_shared_among_threads_give_the_same_bits() {
        // Large enough to be split (see `update_in_parallel`), and not a multiple of a piece.
        let len = 4 * UPDATE_CHUNK + 17;
        let grads: Vec<f32> = (0..len)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 64.0)
            .collect();
        let momentum = OptimizerConfig::Sgd(SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        });
        for config in [momentum, OptimizerConfig::adam()] {
            let run = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let Ok(Solver::FirstOrder(mut optimizer)) = config.build::<f32>(len) else {
                    unreachable!()
                };
                let mut params: Vec<f32> = (0..len).map(|i| (i % 13) as f32 / 13.0).collect();
                pool.install(|| {
                    assert_eq!(update_in_parallel(len), threads > 1);
                    for _ in 0..3 {
                        optimizer.step(&mut params, &grads, config.lr());
                    }
                });
                params
            };
            let (one, three) = (run(1), run(3));
            assert!(
                one.iter()
                    .zip(&three)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{}",
                config.name()
            );
            assert_ne!(
                one,
                (0..len).map(|i| (i % 13) as f32 / 13.0).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn constructors_have_pytorch_defaults_and_names() {
        let all = [
            (OptimizerConfig::sgd(0.1), "sgd", 0.1),
            (OptimizerConfig::adam(), "adam", 1e-3),
            (OptimizerConfig::adamw(), "adamw", 1e-3),
            (OptimizerConfig::rmsprop(), "rmsprop", 1e-2),
            (OptimizerConfig::adagrad(), "adagrad", 1e-2),
            (OptimizerConfig::rprop(), "rprop", 1e-2),
            (OptimizerConfig::lbfgs(), "lbfgs", 1.0),
        ];
        for (config, name, lr) in all {
            assert_eq!(config.name(), name);
            let by_name = OptimizerConfig::by_name(name).unwrap();
            assert_eq!(by_name.name(), name);
            assert_eq!(config.lr(), lr);
            assert_eq!(config.clone().with_lr(0.5).lr(), 0.5);
            config.validate().unwrap();
            // The serde tag is the name.
            let json = serde_json::to_value(&config).unwrap();
            assert_eq!(json["kind"], name);
            let back: OptimizerConfig = serde_json::from_value(json).unwrap();
            assert_eq!(back, config);
            assert!(config.build::<f32>(3).is_ok());
        }
        assert!(matches!(
            OptimizerConfig::adamw(),
            OptimizerConfig::AdamW(AdamWConfig { weight_decay, .. }) if weight_decay == 1e-2
        ));
    }

    #[test]
    fn options_an_optimizer_lacks_are_errors() {
        assert!(OptimizerConfig::by_name("sgdd").is_err());
        let adam = OptimizerConfig::adam();
        assert!(adam.clone().with_momentum(0.9).is_err());
        assert!(adam.clone().with_nesterov(true).is_err());
        assert!(adam.clone().with_nesterov(false).is_ok());
        assert!(OptimizerConfig::lbfgs().with_weight_decay(0.1).is_err());
        let sgd = OptimizerConfig::sgd(0.1)
            .with_momentum(0.9)
            .and_then(|c| c.with_nesterov(true))
            .and_then(|c| c.with_weight_decay(1e-4))
            .unwrap();
        assert!(matches!(
            sgd,
            OptimizerConfig::Sgd(SgdConfig { momentum, nesterov: true, weight_decay, .. })
                if momentum == 0.9 && weight_decay == 1e-4
        ));
    }

    #[test]
    fn validate_rejects_out_of_range_settings() {
        let bad = [
            OptimizerConfig::sgd(-0.1),
            OptimizerConfig::sgd(f64::NAN),
            OptimizerConfig::sgd(0.1).with_nesterov(true).unwrap(),
            OptimizerConfig::Sgd(SgdConfig {
                momentum: 0.9,
                dampening: 0.1,
                nesterov: true,
                ..SgdConfig::default()
            }),
            OptimizerConfig::Adam(AdamConfig {
                beta1: 1.0,
                ..AdamConfig::default()
            }),
            OptimizerConfig::AdamW(AdamWConfig {
                beta2: -0.1,
                ..AdamWConfig::default()
            }),
            OptimizerConfig::RmsProp(RmsPropConfig {
                eps: -1.0,
                ..RmsPropConfig::default()
            }),
            OptimizerConfig::Adagrad(AdagradConfig {
                lr_decay: -0.1,
                ..AdagradConfig::default()
            }),
            OptimizerConfig::Rprop(RpropConfig {
                eta_minus: 1.5,
                ..RpropConfig::default()
            }),
            OptimizerConfig::Rprop(RpropConfig {
                step_min: 1.0,
                step_max: 0.5,
                ..RpropConfig::default()
            }),
            OptimizerConfig::Lbfgs(LbfgsConfig {
                max_iter: 0,
                ..LbfgsConfig::default()
            }),
        ];
        for config in bad {
            let error = config.validate().unwrap_err();
            assert!(matches!(error, Error::InvalidConfig(_)), "{config:?}");
            assert!(config.build::<f64>(2).is_err());
        }
        let error = OptimizerConfig::adam()
            .with_lr(-1.0)
            .validate()
            .unwrap_err();
        let message = "adam: lr = -1 must be finite and at least 0";
        assert!(error.to_string().contains(message), "{error}");
    }

    /// Every optimizer's settings as `serde_json` wrote them before each optimizer had its
    /// own settings struct (model files and checkpoints hold these).
    pub(super) const WRITTEN_BEFORE: [&str; 8] = [
        r#"{"kind":"sgd","lr":0.01,"momentum":0.9,"dampening":0.0,"nesterov":false,"weight_decay":0.1}"#,
        r#"{"kind":"adam","lr":0.001,"beta1":0.9,"beta2":0.999,"eps":1e-8,"weight_decay":0.1,"amsgrad":false}"#,
        r#"{"kind":"adam","lr":0.01,"beta1":0.8,"beta2":0.9,"eps":1e-6,"weight_decay":0.0,"amsgrad":true}"#,
        r#"{"kind":"adamw","lr":0.001,"beta1":0.9,"beta2":0.999,"eps":1e-8,"weight_decay":0.01,"amsgrad":false}"#,
        r#"{"kind":"rmsprop","lr":0.01,"alpha":0.9,"eps":1e-8,"weight_decay":0.0,"momentum":0.5,"centered":true}"#,
        r#"{"kind":"adagrad","lr":0.01,"lr_decay":0.0,"weight_decay":0.0,"initial_accumulator_value":0.0,"eps":1e-10}"#,
        r#"{"kind":"rprop","lr":0.01,"eta_minus":0.5,"eta_plus":1.2,"step_min":1e-6,"step_max":50.0}"#,
        r#"{"kind":"lbfgs","lr":1.0,"max_iter":3,"max_eval":4,"tolerance_grad":1e-7,"tolerance_change":1e-9,"history_size":2,"strong_wolfe":true}"#,
    ];

    #[test]
    fn settings_written_before_read_and_write_the_same() {
        let expected = [
            OptimizerConfig::Sgd(SgdConfig {
                momentum: 0.9,
                weight_decay: 0.1,
                ..SgdConfig::default()
            }),
            OptimizerConfig::adam().with_weight_decay(0.1).unwrap(),
            OptimizerConfig::Adam(AdamConfig {
                lr: 0.01,
                beta1: 0.8,
                beta2: 0.9,
                eps: 1e-6,
                amsgrad: true,
                ..AdamConfig::default()
            }),
            OptimizerConfig::adamw(),
            OptimizerConfig::RmsProp(RmsPropConfig {
                alpha: 0.9,
                momentum: 0.5,
                centered: true,
                ..RmsPropConfig::default()
            }),
            OptimizerConfig::adagrad(),
            OptimizerConfig::rprop(),
            OptimizerConfig::Lbfgs(LbfgsConfig {
                max_iter: 3,
                max_eval: 4,
                history_size: 2,
                strong_wolfe: true,
                ..LbfgsConfig::default()
            }),
        ];
        for (json, expected) in WRITTEN_BEFORE.iter().zip(expected) {
            let config: OptimizerConfig = serde_json::from_str(json).unwrap();
            assert_eq!(config, expected, "{json}");
            assert_eq!(serde_json::to_string(&config).unwrap(), *json);
        }
        for (alias, name) in [("adam_w", "adamw"), ("rms_prop", "rmsprop")] {
            let json = format!(r#"{{"kind":"{alias}"}}"#);
            let config: OptimizerConfig = serde_json::from_str(&json).unwrap();
            assert_eq!(config, OptimizerConfig::by_name(name).unwrap());
        }
    }

    #[test]
    fn settings_left_out_take_the_defaults() {
        let read = |json: &str| serde_json::from_str::<OptimizerConfig>(json).unwrap();
        assert_eq!(
            read(r#"{"kind":"adam","lr":0.01}"#),
            OptimizerConfig::adam().with_lr(0.01)
        );
        assert_eq!(read(r#"{"kind":"adamw"}"#), OptimizerConfig::adamw());
        assert_eq!(
            read(r#"{"kind":"sgd","momentum":0.9,"nesterov":true}"#),
            OptimizerConfig::sgd(0.01)
                .with_momentum(0.9)
                .and_then(|c| c.with_nesterov(true))
                .unwrap()
        );
        for name in ["rmsprop", "adagrad", "rprop", "lbfgs"] {
            let json = format!(r#"{{"kind":"{name}"}}"#);
            assert_eq!(read(&json), OptimizerConfig::by_name(name).unwrap());
        }
        let lbfgs = read(r#"{"kind":"lbfgs","max_iter":5,"strong_wolfe":true}"#);
        let OptimizerConfig::Lbfgs(c) = lbfgs else {
            unreachable!()
        };
        assert_eq!((c.max_iter, c.max_eval, c.strong_wolfe), (5, 25, true));
    }

    #[test]
    fn load_state_rejects_a_state_of_the_wrong_size() {
        let config = OptimizerConfig::adam();
        let small = config.build::<f64>(2).unwrap();
        let mut large = config.build::<f64>(3).unwrap();
        let error = large.load_state(&small.state()).unwrap_err();
        assert!(matches!(error, Error::ShapeMismatch { .. }));
        let mut lbfgs = OptimizerConfig::lbfgs().build::<f64>(3).unwrap();
        assert!(lbfgs.load_state(&small.state()).is_err());
    }
}
