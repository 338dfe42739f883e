//! Helpers shared by the engine's behaviour tests.
#![allow(dead_code)]

pub mod counting;

use std::sync::{Mutex, MutexGuard};

use backprop::datasets::{Synthetic, SyntheticTargets};
use backprop::optim::{AdamConfig, OptimizerConfig, SgdConfig};
use backprop::train::{fit, Dataset, NoObserver, TargetData, TrainConfig, TrainReport};
use backprop::{Loss, Network, Real, Rng, Targets};

/// Adam with PyTorch's defaults and the given learning rate.
pub fn adam(lr: f64) -> OptimizerConfig {
    OptimizerConfig::Adam(AdamConfig {
        lr,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: 0.0,
        amsgrad: false,
    })
}

/// Plain SGD with momentum.
pub fn sgd(lr: f64, momentum: f64) -> OptimizerConfig {
    OptimizerConfig::Sgd(SgdConfig {
        lr,
        momentum,
        dampening: 0.0,
        nesterov: false,
        weight_decay: 0.0,
    })
}

/// A synthetic data set as a training view.
pub fn view(data: &Synthetic) -> Dataset<'_, f64> {
    let targets = match &data.targets {
        SyntheticTargets::Classes { labels, .. } => TargetData::Classes(labels),
        SyntheticTargets::Values { values, .. } => TargetData::Values(values),
    };
    Dataset::new(&data.x, data.inputs, targets).unwrap()
}

/// [`fit`] on a synthetic data set, without separate validation data or an observer.
pub fn train(
    net: &mut Network<f64>,
    loss: &Loss,
    data: &Synthetic,
    config: &TrainConfig,
) -> backprop::Result<TrainReport> {
    fit(net, loss, view(data), None, config, &mut NoObserver)
}

/// The fraction of rows whose predicted class is the label.
pub fn accuracy(predicted: &[usize], labels: &[u32]) -> f64 {
    let hits = predicted
        .iter()
        .zip(labels)
        .filter(|(p, &l)| **p == l as usize)
        .count();
    hits as f64 / labels.len() as f64
}

/// Every loss: each regression loss, binary cross-entropy, and cross-entropy plain, with
/// label smoothing, and with label smoothing and `class_weights` (one per output).
pub fn every_loss(class_weights: Vec<f64>) -> Vec<Loss> {
    vec![
        Loss::Mse,
        Loss::L1,
        Loss::Huber { delta: 1.0 },
        Loss::Bce,
        Loss::cross_entropy(),
        Loss::CrossEntropy {
            label_smoothing: 0.15,
            class_weights: None,
        },
        Loss::CrossEntropy {
            label_smoothing: 0.1,
            class_weights: Some(class_weights),
        },
    ]
}

/// The targets `loss` takes: the class labels or the values.
pub fn targets<'a, T>(loss: &Loss, values: &'a [T], classes: &'a [u32]) -> Targets<'a, T> {
    if loss.takes_class_targets() {
        Targets::Classes(classes)
    } else {
        Targets::Values(values)
    }
}

/// `rows × width` values drawn uniformly from `[-2, 2]`.
pub fn random_inputs<T: Real>(rows: usize, width: usize, seed: u64) -> Vec<T> {
    let mut rng = Rng::new(seed);
    (0..rows * width)
        .map(|_| T::from_f64(rng.uniform_in(-2.0, 2.0)))
        .collect()
}

/// A standard normal draw (Box–Muller).
pub fn normal(rng: &mut Rng) -> f64 {
    let u = 1.0 - rng.uniform();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * rng.uniform()).cos()
}

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Makes the tests of a binary that hold it run one after the other, so that the
/// process-wide [`backprop::parallel_task_count`] read by one of them counts its own work
/// only. Every test of such a binary holds it for its whole body.
pub fn one_at_a_time() -> MutexGuard<'static, ()> {
    // A test that failed while holding the lock leaves nothing to repair.
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `f` and returns its result with the number of tasks it handed to a thread pool of
/// more than one thread (call it with [`one_at_a_time`] held).
pub fn with_task_count<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let before = backprop::parallel_task_count();
    let result = f();
    (result, backprop::parallel_task_count() - before)
}

/// Asserts that `a` and `b` hold the same bits, naming the first difference.
#[track_caller]
pub fn assert_same_bits<T: Real>(a: &[T], b: &[T], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths differ");
    let same = |i: usize| a[i].as_f64().to_bits() == b[i].as_f64().to_bits();
    if let Some(i) = (0..a.len()).find(|&i| !same(i)) {
        let differing = (0..a.len()).filter(|&i| !same(i)).count();
        panic!(
            "{what}: {differing} values differ, the first at {i}: {} vs {}",
            a[i], b[i]
        );
    }
}
