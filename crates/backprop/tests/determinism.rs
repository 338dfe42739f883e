//! Same data and seed give bit-identical weights: across runs, thread counts, and a
//! checkpoint/resume through JSON.
//!
//! The thread-count tests use layers wide enough that their products are really cut into
//! several blocks, and check it with `parallel_task_count`; the tests of this binary run one
//! at a time so that none counts another's work.

mod common;

use backprop::datasets::{self, Synthetic, SyntheticTargets};
use backprop::schedule::Schedule;
use backprop::train::{
    fit, fit_resume, Checkpoint, Control, Dataset, EarlyStopping, EpochInfo, NoObserver, Observer,
    TargetData, TrainConfig, TrainReport, TrainState, Validation,
};
use backprop::{Activation, Architecture, Init, Loss, Network, OutputActivation};
use common::{adam, assert_same_bits, one_at_a_time, view, with_task_count};

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

fn data() -> Synthetic {
    datasets::spirals(120, 3, 0.1, 2)
}

fn network() -> Network<f64> {
    // 64 rows × 160 × 96: the second layer's products are cut into two or three column
    // blocks on 2 or 3 threads (forward, ∂L/∂W and δ alike).
    let arch = Architecture::new(
        2,
        &[160, 96],
        Activation::Tanh,
        3,
        OutputActivation::Softmax,
    );
    Network::new(arch, Init::Auto, 21).unwrap()
}

fn train(config: &TrainConfig) -> (Network<f64>, Vec<EpochInfo>) {
    let mut net = network();
    let report = common::train(&mut net, &Loss::cross_entropy(), &data(), config).unwrap();
    (net, report.history)
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
    let _serial = one_at_a_time();
    let (reference, history) = train(&config(Some(1)));
    for threads in [Some(1), Some(2), Some(3), None] {
        let ((net, other), tasks) = with_task_count(|| train(&config(threads)));
        if threads.is_some_and(|t| t > 1) {
            assert!(
                tasks > 1,
                "{threads:?} threads ran {tasks} tasks: nothing was split"
            );
        }
        let what = format!("threads {threads:?}");
        assert_same_bits(net.parameters(), reference.parameters(), &what);
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

/// Trains [`network`] until epoch `after`, and returns the network and the state saved
/// then, read back from JSON.
fn checkpoint_after(after: usize, config: &TrainConfig) -> (Network<f64>, TrainState) {
    let mut saver = SaveAndStop { after, saved: None };
    let loss = Loss::cross_entropy();
    fit(
        &mut network(),
        &loss,
        view(&data()),
        None,
        config,
        &mut saver,
    )
    .unwrap();
    let (net, json) = saver.saved.unwrap();
    (net, serde_json::from_str(&json).unwrap())
}

/// Resumes training `net` from `state`.
fn resume(
    net: &mut Network<f64>,
    config: &TrainConfig,
    state: &TrainState,
) -> backprop::Result<TrainReport> {
    let loss = Loss::cross_entropy();
    fit_resume(
        net,
        &loss,
        view(&data()),
        None,
        config,
        state,
        &mut NoObserver,
    )
}

#[test]
fn resuming_from_a_json_checkpoint_is_bit_identical() {
    let _serial = one_at_a_time();
    let config = config(Some(2));
    let (straight, history) = train(&config);
    let (mut resumed, state) = checkpoint_after(2, &config);
    assert_eq!(state.next_epoch, 3);
    let report = resume(&mut resumed, &config, &state).unwrap();
    assert_same_bits(resumed.parameters(), straight.parameters(), "resumed");
    assert_eq!(without_timings(&report.history), without_timings(&history));
}

#[test]
fn a_checkpoint_for_another_network_is_rejected() {
    let _serial = one_at_a_time();
    let config = config(Some(1));
    let (_, state) = checkpoint_after(1, &config);
    let arch = Architecture::new(2, &[8], Activation::Tanh, 3, OutputActivation::Softmax);
    let mut other = Network::new(arch, Init::Auto, 1).unwrap();
    let err = resume(&mut other, &config, &state).unwrap_err();
    assert!(err.to_string().contains("checkpoint"), "{err}");
}

/// A network wide enough that every product is split into column blocks whose widths depend
/// on the thread count, and Adam's update is shared among threads: still the same bits, in
/// `f32` as in `f64`.
#[test]
fn wide_f32_network_same_bits_for_1_2_and_3_threads() {
    let _serial = one_at_a_time();
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
        let loss = Loss::Mse;
        fit(&mut net, &loss, train_set, None, &config, &mut NoObserver).unwrap();
        net
    };
    let reference = run(1);
    for threads in [2, 3] {
        let (net, tasks) = with_task_count(|| run(threads));
        assert!(
            tasks > 1,
            "{threads} threads ran {tasks} tasks: nothing was split"
        );
        let what = format!("{threads} threads");
        assert_same_bits(net.parameters(), reference.parameters(), &what);
    }
}
