//! The L2 penalty's gradient added inside the optimizer's pass
//! (`Optimizer::step_checked_with_l2`, which `fit` takes when it does not clip) is the same
//! step, to the bit, as the penalty added to the gradient first (`L2Gradient::add_to`, the
//! path `fit` keeps for clipping and the default of every optimizer): on every kernel path,
//! on one thread and on two, for updates small and large enough to be shared.

mod common;

use backprop::compute::{force_kernel_path, supported_kernel_paths};
use backprop::optim::{AdamConfig, L2Gradient, Optimizer, OptimizerConfig, Solver};
use backprop::train::{fit, Dataset, NoObserver, TargetData, TrainConfig};
use backprop::{Activation, Architecture, Init, Loss, Network, OutputActivation};
use common::{assert_same_bits, one_at_a_time, random_inputs};

/// Runs `check` with every kernel path this CPU runs forced, then restores the detected one.
fn on_every_path(check: impl Fn()) {
    let _serial = one_at_a_time();
    for path in supported_kernel_paths() {
        assert!(force_kernel_path(Some(path)));
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(&check));
        force_kernel_path(None);
        if let Err(panic) = result {
            std::panic::resume_unwind(panic);
        }
    }
}

fn optimizer(config: &OptimizerConfig, len: usize) -> Box<dyn Optimizer<f32>> {
    match config.build::<f32>(len) {
        Ok(Solver::FirstOrder(optimizer)) => optimizer,
        _ => unreachable!("a first-order optimizer"),
    }
}

#[test]
fn the_penalty_in_the_pass_is_the_penalty_added_first() {
    let configs = [
        OptimizerConfig::adam(),
        OptimizerConfig::Adam(AdamConfig {
            amsgrad: true,
            weight_decay: 0.01,
            ..AdamConfig::default()
        }),
        OptimizerConfig::adamw(),
        OptimizerConfig::sgd(0.1).with_momentum(0.9).unwrap(),
    ];
    on_every_path(|| {
        // The larger is split among two threads (four pieces of 2¹⁴ and a bit).
        for len in [4 * (1 << 14) + 17, 1000] {
            let grads: Vec<f32> = random_inputs(len, 1, 3);
            let start: Vec<f32> = random_inputs(len, 1, 4);
            // Two penalized ranges, with unpenalized gaps before, between and after.
            let ranges = [3..len / 2, len / 2 + 10..len - 5];
            let l2 = L2Gradient {
                factor: 0.03f32,
                ranges: &ranges,
            };
            for threads in [1, 2] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                for config in &configs {
                    let what = format!("{} on {threads} threads, {len} values", config.name());
                    pool.install(|| {
                        let (mut first, mut within) =
                            (optimizer(config, len), optimizer(config, len));
                        let (mut a, mut b) = (start.clone(), start.clone());
                        let (mut backup_a, mut backup_b) = (vec![0.0; len], vec![0.0; len]);
                        for _ in 0..3 {
                            let mut penalized = grads.clone();
                            l2.add_to(&a, &mut penalized);
                            assert!(first.step_checked(&mut a, &penalized, 1e-2, &mut backup_a));
                            let mut given = grads.clone();
                            assert!(within.step_checked_with_l2(
                                &mut b,
                                &mut given,
                                1e-2,
                                &mut backup_b,
                                l2
                            ));
                            assert_same_bits(&a, &b, &what);
                            assert_same_bits(&backup_a, &backup_b, &format!("{what}: backup"));
                        }
                        // A non-finite gradient in a penalized range or in a gap fails the step.
                        for bad in [len / 4, len / 2 + 3] {
                            let mut spoiled = grads.clone();
                            spoiled[bad] = f32::NAN;
                            let mut params = start.clone();
                            let mut fresh = optimizer(config, len);
                            let ok = fresh.step_checked_with_l2(
                                &mut params,
                                &mut spoiled,
                                1e-2,
                                &mut backup_b,
                                l2,
                            );
                            assert!(!ok, "{what}: NaN at {bad} passed");
                            assert_same_bits(&backup_b, &start, &format!("{what}: saved"));
                        }
                    });
                }
            }
        }
    });
}

/// `fit` with an L2 penalty and Adam: without clipping (the penalty in Adam's pass) and with
/// a clipping bound too large to clip (the penalty added to the gradient first), the same
/// weights and losses to the bit.
#[test]
fn fit_steps_the_same_with_the_penalty_in_the_pass() {
    let arch = Architecture::new(40, &[30], Activation::Relu, 4, OutputActivation::Softmax);
    let rows = 90;
    let x: Vec<f32> = random_inputs(rows, 40, 5);
    let y: Vec<u32> = (0..rows as u32).map(|i| i * 7 % 4).collect();
    let start = Network::<f32>::new(arch, Init::Auto, 6).unwrap();
    on_every_path(|| {
        let train = |clip_norm: Option<f64>| {
            let mut net = start.clone();
            let config = TrainConfig {
                epochs: 3,
                batch_size: 32,
                optimizer: OptimizerConfig::adam(),
                l2_penalty: 0.5,
                clip_norm,
                ..TrainConfig::default()
            };
            let data = Dataset::new(&x, 40, TargetData::Classes(&y)).unwrap();
            let report = fit(
                &mut net,
                &Loss::cross_entropy(),
                data,
                None,
                &config,
                &mut NoObserver,
            )
            .unwrap();
            let losses: Vec<f64> = report.history.iter().map(|e| e.train_loss).collect();
            (net, losses)
        };
        let (within, within_losses) = train(None);
        let (first, first_losses) = train(Some(1e30));
        assert_same_bits(within.parameters(), first.parameters(), "weights");
        assert_same_bits(&within_losses, &first_losses, "losses");
        assert_ne!(within.parameters(), start.parameters());
    });
}
