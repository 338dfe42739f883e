//! Helpers shared by the training tests.
#![allow(dead_code)]

use backprop::datasets::{Synthetic, SyntheticTargets};
use backprop::optim::{AdamConfig, OptimizerConfig, SgdConfig};
use backprop::train::{Dataset, TargetData};

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

/// The fraction of rows whose predicted class is the label.
pub fn accuracy(predicted: &[usize], labels: &[u32]) -> f64 {
    let hits = predicted
        .iter()
        .zip(labels)
        .filter(|(p, &l)| **p == l as usize)
        .count();
    hits as f64 / labels.len() as f64
}
