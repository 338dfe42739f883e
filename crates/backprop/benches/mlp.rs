//! One training step (forward + backward + optimizer step on a preallocated workspace) and
//! inference, for the configurations of `bench/compare_torch.py` (synthetic inputs of the same
//! shapes; the script compares with PyTorch on mnist10k).
//!
//! `cargo bench -p backprop --bench mlp`; the optimizer updates alone:
//! `cargo bench -p backprop --bench mlp -- optimizer_step`

use std::hint::black_box;

use backprop::optim::{OptimizerConfig, Solver};
use backprop::{
    Activation, Architecture, Init, Loss, Network, OutputActivation, Rng, Targets, Workspace,
};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn configuration(name: &str) -> (Architecture, OptimizerConfig, f64) {
    let softmax = OutputActivation::Softmax;
    match name {
        "A" => (
            Architecture::new(784, &[128], Activation::Relu, 10, softmax),
            OptimizerConfig::sgd(0.01).with_momentum(0.9).unwrap(),
            0.01,
        ),
        "B" => (
            Architecture::new(784, &[256, 128], Activation::Relu, 10, softmax),
            OptimizerConfig::adam(),
            0.001,
        ),
        "C" => (
            Architecture::new(784, &[1024, 1024], Activation::Relu, 10, softmax),
            OptimizerConfig::adam(),
            0.001,
        ),
        _ => (
            Architecture::new(4, &[16, 16], Activation::Tanh, 3, softmax),
            OptimizerConfig::adam(),
            0.001,
        ),
    }
}

fn inputs(rows: usize, width: usize) -> (Vec<f32>, Vec<u32>) {
    let mut rng = Rng::new(3);
    let x = (0..rows * width).map(|_| rng.uniform() as f32).collect();
    let y = (0..rows).map(|_| rng.below(3) as u32).collect();
    (x, y)
}

fn training_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("train_step");
    for (name, batch) in [
        ("A", 32),
        ("A", 128),
        ("B", 32),
        ("B", 128),
        ("C", 32),
        ("C", 128),
        ("tiny", 16),
    ] {
        let (arch, optimizer, lr) = configuration(name);
        let mut net = Network::<f32>::new(arch.clone(), Init::PytorchDefault, 1).unwrap();
        let mut ws = Workspace::new(&arch, batch);
        let Ok(Solver::FirstOrder(mut optimizer)) = optimizer.build::<f32>(arch.parameter_count())
        else {
            unreachable!()
        };
        let (x, y) = inputs(batch, arch.inputs);
        let loss = Loss::cross_entropy();
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_function(BenchmarkId::new(name, batch), |b| {
            b.iter(|| {
                net.forward(&x, batch, &mut ws, false);
                let value = net.backward(&x, batch, Targets::Classes(&y), &loss, &mut ws);
                optimizer.step(net.parameters_mut(), ws.gradients(), lr);
                black_box(value)
            })
        });
    }
    group.finish();
}

fn inference(c: &mut Criterion) {
    let mut group = c.benchmark_group("predict");
    let (arch, _, _) = configuration("B");
    let net = Network::<f32>::new(arch.clone(), Init::PytorchDefault, 1).unwrap();
    for batch in [1, 1000] {
        let mut ws = Workspace::for_inference(&arch, batch);
        let (x, _) = inputs(batch, arch.inputs);
        let mut out = vec![0.0f32; batch * arch.outputs];
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_function(BenchmarkId::new("B", batch), |b| {
            b.iter(|| {
                net.predict_into(&x, batch, &mut ws, &mut out);
                black_box(out[0])
            })
        });
    }
    group.finish();
}

/// One optimizer update of 1M `f32` parameters, without forward and backward: Adam and AdamW,
/// each with and without weight decay, on 1 and 2 threads.
fn optimizer_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("optimizer_step");
    let n = 1_000_000;
    // No zero gradient: under L2 decay alone a parameter would shrink, over the thousands of
    // steps a measurement takes, into subnormal numbers, whose arithmetic is far slower.
    let grads: Vec<f32> = (0..n)
        .map(|i| ((i * 37 % 101) as f32 - 50.5) / 64.0)
        .collect();
    let (adam, adamw) = (OptimizerConfig::adam(), OptimizerConfig::adamw());
    let variants = [
        ("adam", adam.clone()),
        ("adam_decay", adam.with_weight_decay(1e-4).unwrap()),
        (
            "adamw_no_decay",
            adamw.clone().with_weight_decay(0.0).unwrap(),
        ),
        ("adamw", adamw),
    ];
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        for (name, config) in &variants {
            let Ok(Solver::FirstOrder(mut optimizer)) = config.build::<f32>(n) else {
                unreachable!()
            };
            let mut params: Vec<f32> = (0..n).map(|i| (i % 13) as f32 / 13.0).collect();
            let id = BenchmarkId::new(*name, format!("{threads} threads"));
            group.throughput(Throughput::Elements(n as u64));
            group.bench_function(id, |b| {
                pool.install(|| b.iter(|| optimizer.step(&mut params, &grads, config.lr())))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, training_step, inference, optimizer_step);
criterion_main!(benches);
