//! A steady-state training step (forward, backward, optimizer step) allocates nothing: a
//! counting global allocator sees no allocation after warm-up, with one thread and with two.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use backprop::optim::{OptimizerConfig, Solver};
use backprop::{
    Activation, Architecture, Init, Loss, Network, OutputActivation, Rng, Targets, Workspace,
};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_in_steady_state(threads: usize) -> usize {
    // Wide enough that the products run in parallel over several column blocks.
    let arch = Architecture::new(
        96,
        &[160, 70],
        Activation::Relu,
        10,
        OutputActivation::Softmax,
    );
    let rows = 40;
    let mut net = Network::<f32>::new(arch.clone(), Init::Auto, 1).unwrap();
    let mut ws = Workspace::new(&arch, rows);
    let Ok(Solver::FirstOrder(mut optimizer)) =
        OptimizerConfig::adam().build::<f32>(arch.parameter_count())
    else {
        unreachable!()
    };
    let mut rng = Rng::new(2);
    let x: Vec<f32> = (0..rows * 96).map(|_| rng.uniform() as f32).collect();
    let y: Vec<u32> = (0..rows).map(|_| rng.below(10) as u32).collect();
    let loss = Loss::cross_entropy();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        // Every worker takes its matrix scratch space now, as `fit` does.
        backprop::compute::matmul::reserve_thread_buffers::<f32>();
        let mut step = || {
            net.forward(&x, rows, &mut ws, false);
            net.backward(&x, rows, Targets::Classes(&y), &loss, &mut ws);
            optimizer.step(net.parameters_mut(), ws.gradients(), 0.001);
        };
        // Warm-up: thread-local packing buffers grow on each worker's first use.
        for _ in 0..20 {
            step();
        }
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        for _ in 0..20 {
            step();
        }
        ALLOCATIONS.load(Ordering::Relaxed) - before
    })
}

#[test]
fn a_training_step_allocates_nothing_after_warm_up() {
    assert_eq!(allocations_in_steady_state(1), 0, "1 thread");
    // With two threads, rayon may still take a stolen job's first packing on either worker;
    // once both have run every product, nothing more is allocated.
    assert_eq!(allocations_in_steady_state(2), 0, "2 threads");
}
