//! The training loop learns: classic problems reach high accuracy, early stopping keeps the
//! best weights, and divergence is reported without corrupting the network.

mod common;

use backprop::datasets::{self, SyntheticTargets};
use backprop::train::{
    fit, Checkpoint, Control, EarlyStopping, EpochInfo, NoObserver, Observer, StopReason,
    TargetData, TrainConfig,
};
use backprop::{Activation, Architecture, Dataset, Error, Init, Loss, Network, OutputActivation};
use common::{accuracy, adam, sgd, train, view};

#[test]
fn xor_is_learned_perfectly() {
    let data = datasets::xor(32, 0.1, 3);
    let SyntheticTargets::Classes { labels, .. } = &data.targets else {
        unreachable!()
    };
    let arch = Architecture::new(2, &[8], Activation::Tanh, 2, OutputActivation::Softmax);
    let mut net = Network::<f64>::new(arch, Init::Auto, 1).unwrap();
    let config = TrainConfig {
        epochs: 100,
        batch_size: 8,
        optimizer: adam(0.05),
        ..TrainConfig::default()
    };
    let report = train(&mut net, &Loss::cross_entropy(), &data, &config).unwrap();
    assert_eq!(accuracy(&net.predict_classes(&data.x), labels), 1.0);
    assert_eq!(report.stop_reason, StopReason::Completed);
    assert_eq!(report.history.len(), 100);
    assert_eq!(report.history.last().unwrap().train_accuracy, Some(1.0));
}

#[test]
fn two_spirals_reach_99_percent_training_accuracy() {
    let data = datasets::spirals(100, 2, 0.0, 5);
    let SyntheticTargets::Classes { labels, .. } = &data.targets else {
        unreachable!()
    };
    let arch = Architecture::new(2, &[32, 32], Activation::Tanh, 2, OutputActivation::Softmax);
    let mut net = Network::<f64>::new(arch, Init::Auto, 2).unwrap();
    let config = TrainConfig {
        epochs: 300,
        batch_size: 50,
        optimizer: adam(0.01),
        ..TrainConfig::default()
    };
    train(&mut net, &Loss::cross_entropy(), &data, &config).unwrap();
    let acc = accuracy(&net.predict_classes(&data.x), labels);
    assert!(acc >= 0.99, "spirals training accuracy {acc}");
}

#[test]
fn noisy_regression_reaches_r2_above_095() {
    let data = datasets::regression(300, 2, 0.05, 7);
    let SyntheticTargets::Values { values, .. } = &data.targets else {
        unreachable!()
    };
    let arch = Architecture::new(
        2,
        &[32, 32],
        Activation::Tanh,
        1,
        OutputActivation::Identity,
    );
    let mut net = Network::<f64>::new(arch, Init::Auto, 3).unwrap();
    let config = TrainConfig {
        epochs: 150,
        batch_size: 32,
        optimizer: adam(0.01),
        validation: backprop::train::Validation::Fraction(0.2),
        ..TrainConfig::default()
    };
    let report = train(&mut net, &Loss::Mse, &data, &config).unwrap();
    let predicted = net.predict(&data.x);
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let total: f64 = values.iter().map(|y| (y - mean).powi(2)).sum();
    let residual: f64 = values
        .iter()
        .zip(&predicted)
        .map(|(y, p)| (y - p).powi(2))
        .sum();
    let r2 = 1.0 - residual / total;
    assert!(r2 > 0.95, "R² = {r2}");
    assert!(report.final_val_loss.unwrap() < 0.05 * total / values.len() as f64);
}

/// Keeps a copy of the network after every epoch.
#[derive(Default)]
struct Snapshots {
    weights: Vec<Vec<f64>>,
}

impl Observer<f64> for Snapshots {
    fn on_epoch(&mut self, _: &EpochInfo, checkpoint: &Checkpoint<'_, f64>) -> Control {
        self.weights
            .push(checkpoint.network().parameters().to_vec());
        Control::Continue
    }
}

#[test]
fn early_stopping_restores_the_best_weights() {
    // Validation targets are the negated training targets: fitting the training data makes
    // the validation loss worse, so it bottoms out early.
    let x: Vec<f64> = (0..40).map(|i| i as f64 / 20.0 - 1.0).collect();
    let y: Vec<f64> = x.iter().map(|v| 0.5 * v + 0.3).collect();
    let y_val: Vec<f64> = y.iter().map(|v| -v).collect();
    let arch = Architecture::new(1, &[4], Activation::Tanh, 1, OutputActivation::Identity);
    let mut net = Network::<f64>::new(arch, Init::Auto, 4).unwrap();
    let patience = 3;
    let config = TrainConfig {
        epochs: 200,
        batch_size: 10,
        optimizer: adam(0.05),
        early_stopping: Some(EarlyStopping::new(patience)),
        ..TrainConfig::default()
    };
    let train = Dataset::new(&x, 1, TargetData::Values(&y)).unwrap();
    let val = Dataset::new(&x, 1, TargetData::Values(&y_val)).unwrap();
    let mut snapshots = Snapshots::default();
    let report = fit(
        &mut net,
        &Loss::Mse,
        train,
        Some(val),
        &config,
        &mut snapshots,
    )
    .unwrap();
    assert_eq!(report.stop_reason, StopReason::EarlyStopping);
    assert!(report.stopped_early && report.restored_best);
    let best = report.best_epoch.unwrap();
    assert_eq!(report.history.len(), best + patience);
    let losses: Vec<f64> = report.history.iter().map(|h| h.val_loss.unwrap()).collect();
    let lowest = losses.iter().copied().fold(f64::INFINITY, f64::min);
    assert_eq!(losses[best - 1], lowest);
    assert_eq!(report.final_val_loss, Some(lowest));
    assert_eq!(net.parameters(), &snapshots.weights[best - 1][..]);
    assert_ne!(net.parameters(), &snapshots.weights.last().unwrap()[..]);
    // The restored network really has the best validation loss.
    let predicted = net.predict(&x);
    let mse = Loss::Mse.value(&predicted, 1, TargetData::Values(&y_val));
    assert!((mse - lowest).abs() < 1e-12, "{mse} vs {lowest}");
}

#[test]
fn a_huge_learning_rate_diverges_with_epoch_and_step_and_finite_weights() {
    let data = datasets::regression(64, 2, 0.1, 9);
    let arch = Architecture::new(2, &[16], Activation::Relu, 1, OutputActivation::Identity);
    let mut net = Network::<f64>::new(arch, Init::Auto, 5).unwrap();
    let config = TrainConfig {
        epochs: 50,
        batch_size: 16,
        optimizer: sgd(1e30, 0.0),
        ..TrainConfig::default()
    };
    let err = train(&mut net, &Loss::Mse, &data, &config).unwrap_err();
    let Error::Diverged { epoch, step, .. } = err else {
        panic!("expected divergence, got {err}")
    };
    assert!(
        epoch >= 1 && (1..=4).contains(&step),
        "epoch {epoch}, step {step}"
    );
    let message = err.to_string();
    assert!(
        message.contains(&format!("epoch {epoch}, step {step}")),
        "{message}"
    );
    assert!(net.parameters().iter().all(|p| p.is_finite()));
}

/// Stops after a given epoch.
struct StopAfter(usize);

impl Observer<f64> for StopAfter {
    fn on_epoch(&mut self, info: &EpochInfo, _: &Checkpoint<'_, f64>) -> Control {
        if info.epoch >= self.0 {
            Control::Stop
        } else {
            Control::Continue
        }
    }
}

#[test]
fn the_observer_can_stop_training() {
    let data = datasets::xor(16, 0.1, 1);
    let arch = Architecture::new(2, &[4], Activation::Tanh, 2, OutputActivation::Softmax);
    let mut net = Network::<f64>::new(arch, Init::Auto, 1).unwrap();
    let config = TrainConfig {
        epochs: 10,
        batch_size: 4,
        ..TrainConfig::default()
    };
    let report = fit(
        &mut net,
        &Loss::cross_entropy(),
        view(&data),
        None,
        &config,
        &mut StopAfter(3),
    )
    .unwrap();
    assert_eq!(report.stop_reason, StopReason::Observer);
    assert_eq!(report.history.len(), 3);
    let info = &report.history[2];
    assert_eq!((info.epoch, info.epochs), (3, 10));
    assert!(info.val_loss.is_none() && info.train_accuracy.is_some());
}

/// Stops inside an epoch, after a given number of steps in all.
struct StopAfterSteps {
    steps: usize,
    seen: usize,
}

impl Observer<f64> for StopAfterSteps {
    fn on_step(&mut self, _: &backprop::train::StepInfo) {
        self.seen += 1;
    }

    fn stop_now(&mut self) -> bool {
        self.seen >= self.steps
    }
}

#[test]
fn the_observer_can_stop_inside_an_epoch() {
    let data = datasets::xor(16, 0.1, 1);
    let arch = Architecture::new(2, &[4], Activation::Tanh, 2, OutputActivation::Softmax);
    let config = TrainConfig {
        epochs: 10,
        batch_size: 4, // 4 steps an epoch: step 10 is the second of epoch 3
        ..TrainConfig::default()
    };
    let mut net = Network::<f64>::new(arch.clone(), Init::Auto, 1).unwrap();
    let mut observer = StopAfterSteps { steps: 10, seen: 0 };
    let report = fit(
        &mut net,
        &Loss::cross_entropy(),
        view(&data),
        None,
        &config,
        &mut observer,
    )
    .unwrap();
    assert_eq!(observer.seen, 10);
    assert_eq!(report.stop_reason, StopReason::Observer);
    assert_eq!(report.unfinished_epoch, Some(3));
    assert_eq!(report.history.len(), 2);
    assert!(!report.restored_best);
    assert_eq!(report.kept_epoch(), None);
    // The network holds the weights after step 10, not those of epoch 2.
    let mut two_epochs = Network::<f64>::new(arch, Init::Auto, 1).unwrap();
    let config_two = TrainConfig {
        epochs: 2,
        ..config.clone()
    };
    train(&mut two_epochs, &Loss::cross_entropy(), &data, &config_two).unwrap();
    assert_ne!(net.parameters(), two_epochs.parameters());
}

#[test]
fn mismatched_loss_and_data_are_errors_not_panics() {
    let data = datasets::xor(16, 0.1, 1);
    let arch = Architecture::new(2, &[4], Activation::Tanh, 2, OutputActivation::Softmax);
    let mut net = Network::<f64>::new(arch, Init::Auto, 1).unwrap();
    let config = TrainConfig::default();
    let err = train(&mut net, &Loss::Mse, &data, &config).unwrap_err();
    assert!(matches!(err, Error::InvalidConfig(_)), "{err}");
    let x = [0.0f64, 1.0];
    let bad = Dataset::new(&x, 2, TargetData::Classes(&[2])).unwrap();
    let err = fit(
        &mut net,
        &Loss::cross_entropy(),
        bad,
        None,
        &config,
        &mut NoObserver,
    )
    .unwrap_err();
    assert!(matches!(err, Error::InvalidData(_)), "{err}");
}

#[test]
fn lbfgs_takes_one_full_batch_step_per_epoch_and_learns() {
    let data = datasets::regression(100, 2, 0.05, 4);
    let arch = Architecture::new(2, &[16], Activation::Tanh, 1, OutputActivation::Identity);
    let mut net = Network::<f64>::new(arch, Init::Auto, 6).unwrap();
    let config = TrainConfig {
        epochs: 15,
        batch_size: 7, // ignored by L-BFGS
        optimizer: backprop::optim::OptimizerConfig::lbfgs(),
        ..TrainConfig::default()
    };
    #[derive(Default)]
    struct Steps(Vec<(usize, usize, usize)>);
    impl Observer<f64> for Steps {
        fn on_step(&mut self, info: &backprop::train::StepInfo) {
            self.0.push((info.step, info.steps_per_epoch, info.rows));
        }
    }
    let mut steps = Steps::default();
    let report = fit(&mut net, &Loss::Mse, view(&data), None, &config, &mut steps).unwrap();
    assert_eq!(steps.0, vec![(1, 1, 100); 15]);
    let first = report.history[0].train_loss;
    let last = report.history.last().unwrap().train_loss;
    assert!(
        last < 0.1 * first,
        "L-BFGS loss went from {first} to {last}"
    );
}
