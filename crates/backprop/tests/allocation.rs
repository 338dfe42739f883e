//! A steady-state training step allocates nothing: a counting global allocator, read from
//! the observer's `on_step`, sees no allocation between step 3 and the end of an epoch.

mod common;

use backprop::datasets;
use backprop::train::{fit, Observer, StepInfo, TrainConfig};
use backprop::{Activation, Architecture, Init, Loss, Network, OutputActivation};
use common::counting::{allocations, Counting};
use common::{adam, view, with_task_count};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Records the allocation count at step 3 of each epoch and the growth by the epoch's end.
#[derive(Default)]
struct AllocationWatch {
    at_step_3: usize,
    growth_per_epoch: [usize; 8],
}

impl Observer<f64> for AllocationWatch {
    fn on_step(&mut self, info: &StepInfo) {
        let now = allocations();
        if info.step == 3 {
            self.at_step_3 = now;
        }
        if info.step == info.steps_per_epoch {
            self.growth_per_epoch[info.epoch - 1] = now - self.at_step_3;
        }
    }
}

/// Allocations per epoch after step 3, and the tasks handed to the thread pool.
fn steady_state_allocations(threads: usize, clip: Option<f64>) -> ([usize; 8], usize) {
    let data = datasets::spirals(320, 2, 0.1, 1); // 640 rows: 10 steps of 64
                                                  // 64 rows × 160 × 96 multiply-adds: the second layer's products are cut into column
                                                  // blocks on two threads.
    let arch = Architecture::new(
        2,
        &[160, 96],
        Activation::Relu,
        2,
        OutputActivation::Softmax,
    );
    let mut net = Network::<f64>::new(arch, Init::Auto, 3).unwrap();
    let config = TrainConfig {
        epochs: 8,
        batch_size: 64,
        optimizer: adam(0.01),
        dropout: 0.1,
        clip_norm: clip,
        threads: Some(threads),
        ..TrainConfig::default()
    };
    let mut watch = AllocationWatch::default();
    let loss = Loss::cross_entropy();
    let (_, tasks) =
        with_task_count(|| fit(&mut net, &loss, view(&data), None, &config, &mut watch).unwrap());
    (watch.growth_per_epoch, tasks)
}

// One test per binary: the counter is global, and tests running in parallel would disturb
// each other, so the cases run one after the other.
#[test]
fn a_steady_state_step_does_not_allocate_on_one_or_two_threads() {
    // The first epoch is the warm-up: worker threads start and take their packing space, and
    // the process's other threads (the test harness, a finished pool shutting down) may
    // allocate while it runs. From the second epoch on, steps allocate nothing.
    for (threads, clip, case) in [
        (1, None, "one thread"),
        (1, Some(1.0), "clipping"),
        (2, Some(1.0), "two threads"),
    ] {
        // The previous case's thread pool shuts down asynchronously, and its exiting threads
        // may allocate: let it finish before counting again.
        std::thread::sleep(std::time::Duration::from_millis(200));
        let (growth, tasks) = steady_state_allocations(threads, clip);
        assert_eq!(tasks > 0, threads > 1, "{case}: {tasks} parallel tasks");
        assert_eq!(
            growth[1..],
            [0; 7],
            "{case}: allocations per epoch {growth:?}"
        );
    }
}
