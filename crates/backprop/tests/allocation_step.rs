//! A steady-state training step (forward, backward, optimizer step) allocates nothing: a
//! counting global allocator sees no allocation after warm-up, with one thread and with two.

mod common;

use backprop::optim::{OptimizerConfig, Solver};
use backprop::{
    Activation, Architecture, Init, Loss, Network, OutputActivation, Rng, Targets, Workspace,
};
use common::counting::{allocations, Counting};
use common::with_task_count;

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations of 20 steps after 20 steps of warm-up, and the tasks those 20 handed out.
fn allocations_in_steady_state(threads: usize) -> (usize, usize) {
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
        let before = allocations();
        let ((), tasks) = with_task_count(|| (0..20).for_each(|_| step()));
        (allocations() - before, tasks)
    })
}

#[test]
fn a_training_step_allocates_nothing_after_warm_up() {
    assert_eq!(allocations_in_steady_state(1), (0, 0), "1 thread");
    // With two threads, rayon may still take a stolen job's first packing on either worker;
    // once both have run every product, nothing more is allocated.
    let (allocated, tasks) = allocations_in_steady_state(2);
    assert!(
        tasks > 20,
        "2 threads: {tasks} tasks in 20 steps: the products were not split"
    );
    assert_eq!(allocated, 0, "2 threads");
}
