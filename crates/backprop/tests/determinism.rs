//! Same data and seed give bit-identical weights: across runs, thread counts, and a
//! checkpoint/resume through JSON.

mod common;

use backprop::datasets::{self, SyntheticTargets};
use backprop::schedule::Schedule;
use backprop::train::{
    fit, fit_resume, Checkpoint, Control, Dataset, EarlyStopping, EpochInfo, NoObserver, Observer,
    TargetData, TrainConfig, TrainState, Validation,
};
use backprop::{Activation, Architecture, Init, Loss, Network, OutputActivation};
use common::{adam, view};

/// Mini-batches, shuffling, dropout, a plateau schedule, a validation split and early
/// stopping all at once.
fn config(threads: Option<usize>) -> TrainConfig {
    TrainConfig {
        epochs: 4,
        batch_size: 64,
        optimizer: adam(0.01),
        schedule: Schedule::ReduceOnPlateau {
            factor: 0.5,
            patience: 0,
            threshold: 1e-4,
            cooldown: 0,
            min_lr: 0.0,
        },
        dropout: 0.2,
        validation: Validation::Fraction(0.2),
        early_stopping: Some(EarlyStopping::new(10)),
        threads,
        seed: 11,
        ..TrainConfig::default()
    }
}

fn network() -> Network<f64> {
    // 64 rows × 32 × 32 is enough work for the parallel path of the hidden layer.
    let arch = Architecture::new(2, &[32, 32], Activation::Tanh, 3, OutputActivation::Softmax);
    Network::new(arch, Init::Auto, 21).unwrap()
}

fn train(config: &TrainConfig) -> (Network<f64>, Vec<EpochInfo>) {
    let data = datasets::spirals(120, 3, 0.1, 2);
    let mut net = network();
    let report = fit(
        &mut net,
        &Loss::cross_entropy(),
        view(&data),
        None,
        config,
        &mut NoObserver,
    )
    .unwrap();
    (net, report.history)
}

/// Asserts bit-identical parameters, naming the first difference.
#[track_caller]
fn assert_same_bits(a: &Network<f64>, b: &Network<f64>, what: &str) {
    let (a, b) = (a.parameters(), b.parameters());
    assert_eq!(a.len(), b.len());
    if let Some(i) = (0..a.len()).find(|&i| a[i].to_bits() != b[i].to_bits()) {
        panic!("{what}: parameter {i} differs: {} vs {}", a[i], b[i]);
    }
}

fn without_timings(history: &[EpochInfo]) -> Vec<EpochInfo> {
    history
        .iter()
        .map(|h| EpochInfo {
            seconds: 0.0,
            samples_per_second: 0.0,
            ..h.clone()
        })
        .collect()
}

#[test]
fn same_seed_same_bits_for_1_2_and_3_threads() {
    let (reference, history) = train(&config(Some(1)));
    for threads in [Some(1), Some(2), Some(3), None] {
        let (net, other) = train(&config(threads));
        assert_same_bits(&net, &reference, &format!("threads {threads:?}"));
        assert_eq!(without_timings(&other), without_timings(&history));
    }
    let (other_seed, _) = train(&TrainConfig {
        seed: 12,
        ..config(Some(1))
    });
    assert_ne!(other_seed.parameters(), reference.parameters());
}

/// Saves a checkpoint (network and JSON state) after a given epoch, then stops.
struct SaveAndStop {
    after: usize,
    saved: Option<(Network<f64>, String)>,
}

impl Observer<f64> for SaveAndStop {
    fn on_epoch(&mut self, info: &EpochInfo, checkpoint: &Checkpoint<'_, f64>) -> Control {
        if info.epoch < self.after {
            return Control::Continue;
        }
        let json = serde_json::to_string(&checkpoint.state()).unwrap();
        self.saved = Some((checkpoint.network().clone(), json));
        Control::Stop
    }
}

#[test]
fn resuming_from_a_json_checkpoint_is_bit_identical() {
    let config = config(Some(2));
    let (straight, history) = train(&config);

    let data = datasets::spirals(120, 3, 0.1, 2);
    let mut net = network();
    let mut saver = SaveAndStop {
        after: 2,
        saved: None,
    };
    fit(
        &mut net,
        &Loss::cross_entropy(),
        view(&data),
        None,
        &config,
        &mut saver,
    )
    .unwrap();
    let (mut resumed, json) = saver.saved.unwrap();
    let state: TrainState = serde_json::from_str(&json).unwrap();
    assert_eq!(state.next_epoch, 3);
    let report = fit_resume(
        &mut resumed,
        &Loss::cross_entropy(),
        view(&data),
        None,
        &config,
        &state,
        &mut NoObserver,
    )
    .unwrap();
    assert_same_bits(&resumed, &straight, "resumed");
    assert_eq!(without_timings(&report.history), without_timings(&history));
}

#[test]
fn a_checkpoint_for_another_network_is_rejected() {
    let data = datasets::spirals(120, 3, 0.1, 2);
    let config = config(Some(1));
    let mut saver = SaveAndStop {
        after: 1,
        saved: None,
    };
    fit(
        &mut network(),
        &Loss::cross_entropy(),
        view(&data),
        None,
        &config,
        &mut saver,
    )
    .unwrap();
    let state: TrainState = serde_json::from_str(&saver.saved.unwrap().1).unwrap();
    let arch = Architecture::new(2, &[8], Activation::Tanh, 3, OutputActivation::Softmax);
    let mut other = Network::new(arch, Init::Auto, 1).unwrap();
    let err = fit_resume(
        &mut other,
        &Loss::cross_entropy(),
        view(&data),
        None,
        &config,
        &state,
        &mut NoObserver,
    )
    .unwrap_err();
    assert!(err.to_string().contains("checkpoint"), "{err}");
}

/// A network wide enough that every product is split into column blocks whose widths depend
/// on the thread count, and Adam's update is shared among threads: still the same bits, in
/// `f32` as in `f64`.
#[test]
fn wide_f32_network_same_bits_for_1_2_and_3_threads() {
    let data = datasets::regression(192, 40, 0.1, 5);
    let SyntheticTargets::Values { values, .. } = &data.targets else {
        unreachable!()
    };
    let x: Vec<f32> = data.x.iter().map(|&v| v as f32).collect();
    let y: Vec<f32> = values.iter().map(|&v| v as f32).collect();
    let train_set = Dataset::new(&x, data.inputs, TargetData::Values(&y)).unwrap();
    // 40·400 + 400·300 + 300 weights: over 100 000 parameters, so Adam runs in pieces.
    let arch = Architecture::new(
        40,
        &[400, 300],
        Activation::Tanh,
        1,
        OutputActivation::Identity,
    );
    let run = |threads| {
        let mut net = Network::<f32>::new(arch.clone(), Init::Auto, 3).unwrap();
        let config = TrainConfig {
            epochs: 2,
            batch_size: 64,
            optimizer: adam(0.001),
            threads: Some(threads),
            validation: Validation::None,
            seed: 4,
            ..TrainConfig::default()
        };
        fit(
            &mut net,
            &Loss::Mse,
            train_set,
            None,
            &config,
            &mut NoObserver,
        )
        .unwrap();
        net
    };
    let reference = run(1);
    for threads in [2, 3] {
        let net = run(threads);
        let (a, b) = (net.parameters(), reference.parameters());
        if let Some(i) = (0..a.len()).find(|&i| a[i].to_bits() != b[i].to_bits()) {
            panic!(
                "{threads} threads: parameter {i} differs: {} vs {}",
                a[i], b[i]
            );
        }
    }
}
