//! Measures backprop on the benchmark configurations and prints one line of JSON.
//!
//! ```text
//! cargo run --release --example throughput -- --config B --batch 32 --threads 2 --seconds 2
//! cargo run --release --example throughput -- --mode infer --config B --batch 1 --threads 1
//! cargo run --release --example throughput -- --mode gemm --threads 2
//! ```
//!
//! Modes:
//! - `train` (default): forward + backward + optimizer step on a preallocated [`Workspace`],
//!   going through the mnist10k training set (8000 samples, pixels/255) in order, batch after
//!   batch, for `--seconds` after a short warm-up. Reports samples/s, steps/s and GFLOP/s
//!   (forward `2·batch·Σ fan_in·fan_out` flops, a step counted as 3× forward).
//! - `infer`: [`Network::predict_into`] on `--batch` rows at a time; reports µs per call.
//! - `gemm`: the GEMM ceiling, best of a few `1024×1024×1024` f32 products through
//!   [`matmul`], one block of rows per thread (the best split of one product).
//!
//! Configurations (`--config`): `A` 784-128-10 ReLU + SGD(momentum 0.9); `B` 784-256-128-10
//! ReLU + Adam; `C` 784-1024-1024-10 ReLU + Adam; `tiny` 4-16-16-3 tanh + Adam on 150 synthetic
//! iris-sized samples. `--weights file.safetensors` loads `layers.{i}.weight`/`.bias` (f32),
//! e.g. the PyTorch model of `bench/compare_torch.py`, and prints a checksum of the outputs.

use std::io::Read;
use std::time::{Duration, Instant};

use backprop::compute::matmul::{matmul, Accum, MatMut, MatRef};
use backprop::optim::{OptimizerConfig, Solver};
use backprop::{
    Activation, Architecture, Init, Loss, Network, OutputActivation, Rng, Targets, Workspace,
};

const DEFAULT_DATA: &str = "/work/shared/data/mnist10k";

struct Args {
    mode: String,
    config: String,
    batch: usize,
    threads: usize,
    seconds: f64,
    data: String,
    weights: Option<String>,
}

fn parse_args() -> Args {
    let mut args = Args {
        mode: "train".into(),
        config: "B".into(),
        batch: 32,
        threads: 1,
        seconds: 2.0,
        data: DEFAULT_DATA.into(),
        weights: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .unwrap_or_else(|| usage(&format!("{flag} needs a value")))
        };
        match flag.as_str() {
            "--mode" => args.mode = value(),
            "--config" => args.config = value(),
            "--batch" => args.batch = value().parse().unwrap_or_else(|_| usage("bad --batch")),
            "--threads" => {
                args.threads = value().parse().unwrap_or_else(|_| usage("bad --threads"))
            }
            "--seconds" => {
                args.seconds = value().parse().unwrap_or_else(|_| usage("bad --seconds"))
            }
            "--data" => args.data = value(),
            "--weights" => args.weights = Some(value()),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    args
}

fn usage(message: &str) -> ! {
    eprintln!("{message}\nusage: throughput [--mode train|infer|gemm] [--config A|B|C|tiny] [--batch N] [--threads N] [--seconds S] [--data DIR] [--weights FILE]");
    std::process::exit(2)
}

/// Architecture and optimizer of a benchmark configuration.
fn configuration(name: &str) -> (Architecture, OptimizerConfig) {
    let softmax = OutputActivation::Softmax;
    let relu = Activation::Relu;
    let sgd = OptimizerConfig::sgd(0.01).with_momentum(0.9).unwrap();
    match name {
        "A" => (Architecture::new(784, &[128], relu, 10, softmax), sgd),
        "B" => (
            Architecture::new(784, &[256, 128], relu, 10, softmax),
            OptimizerConfig::adam(),
        ),
        "C" => (
            Architecture::new(784, &[1024, 1024], relu, 10, softmax),
            OptimizerConfig::adam(),
        ),
        "tiny" => (
            Architecture::new(4, &[16, 16], Activation::Tanh, 3, softmax),
            OptimizerConfig::adam(),
        ),
        other => usage(&format!("unknown config {other}")),
    }
}

/// Reads a gzip'd IDX file: its dimensions and its bytes.
fn read_idx(path: &str) -> (Vec<usize>, Vec<u8>) {
    let file = std::fs::File::open(path).unwrap_or_else(|e| usage(&format!("{path}: {e}")));
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut bytes)
        .unwrap_or_else(|e| usage(&format!("{path}: {e}")));
    let dims = usize::from(bytes[3]);
    let shape = (0..dims)
        .map(|d| {
            let b = &bytes[4 + 4 * d..8 + 4 * d];
            u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize
        })
        .collect();
    (shape, bytes[4 + 4 * dims..].to_vec())
}

/// The training inputs (row-major, `n × inputs`) and class labels of a configuration.
fn dataset(config: &str, dir: &str) -> (Vec<f32>, Vec<u32>) {
    if config == "tiny" {
        // 150 samples of 4 features in 3 classes, like iris; only the shapes matter here.
        let mut rng = Rng::new(7);
        let x = (0..150 * 4)
            .map(|_| rng.uniform_in(0.0, 8.0) as f32)
            .collect();
        let y = (0..150).map(|i| (i / 50) as u32).collect();
        return (x, y);
    }
    let (_, pixels) = read_idx(&format!("{dir}/train-images-idx3-ubyte.gz"));
    let (_, labels) = read_idx(&format!("{dir}/train-labels-idx1-ubyte.gz"));
    let x = pixels.iter().map(|&p| f32::from(p) / 255.0).collect();
    (x, labels.iter().map(|&l| u32::from(l)).collect())
}

fn load_network(arch: &Architecture, weights: Option<&str>) -> Network<f32> {
    let Some(path) = weights else {
        return Network::new(arch.clone(), Init::PytorchDefault, 42).expect("valid architecture");
    };
    let bytes = std::fs::read(path).unwrap_or_else(|e| usage(&format!("{path}: {e}")));
    let tensors = safetensors::SafeTensors::deserialize(&bytes)
        .unwrap_or_else(|e| usage(&format!("{path}: {e}")));
    let owned: Vec<(String, Vec<usize>, Vec<f64>)> = tensors
        .tensors()
        .into_iter()
        .map(|(name, view)| {
            let values = view
                .data()
                .chunks_exact(4)
                .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
                .collect();
            (name, view.shape().to_vec(), values)
        })
        .collect();
    Network::from_named_tensors(
        arch.clone(),
        owned
            .iter()
            .map(|(n, s, v)| (n.as_str(), s.as_slice(), v.clone())),
    )
    .unwrap_or_else(|e| usage(&format!("{path}: {e}")))
}

/// Multiply-adds of one forward pass of one sample.
fn macs_per_sample(arch: &Architecture) -> usize {
    (0..arch.layer_count())
        .map(|l| {
            let (i, o) = arch.layer_shape(l);
            i * o
        })
        .sum()
}

/// The process's peak resident memory (`VmHWM` on Linux), in bytes; `None` elsewhere.
fn peak_rss_bytes() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Runs `step` for `seconds` (after a warm-up) and returns (calls, elapsed seconds).
fn time_loop(seconds: f64, mut step: impl FnMut(usize)) -> (usize, f64) {
    let warmup = Instant::now();
    let mut i = 0;
    while i < 3 || warmup.elapsed() < Duration::from_secs_f64((seconds * 0.1).min(0.3)) {
        step(i);
        i += 1;
    }
    let start = Instant::now();
    let budget = Duration::from_secs_f64(seconds);
    let mut calls = 0;
    loop {
        step(i + calls);
        calls += 1;
        let elapsed = start.elapsed();
        if elapsed >= budget {
            return (calls, elapsed.as_secs_f64());
        }
    }
}

fn train(args: &Args) -> String {
    let (arch, optimizer) = configuration(&args.config);
    let (x, y) = dataset(&args.config, &args.data);
    let inputs = arch.inputs;
    let batch = args.batch;
    let batches = y.len() / batch;
    assert!(batches > 0, "batch larger than the data set");
    let mut net = load_network(&arch, args.weights.as_deref());
    let mut ws = Workspace::<f32>::new(&arch, batch);
    let loss = Loss::cross_entropy();
    let Ok(Solver::FirstOrder(mut optimizer)) = optimizer.build::<f32>(arch.parameter_count())
    else {
        unreachable!("benchmark optimizers are first-order")
    };
    let lr = match args.config.as_str() {
        "A" => 0.01,
        _ => 0.001,
    };
    let mut last_loss = 0.0;
    let (steps, elapsed) = time_loop(args.seconds, |i| {
        let b = i % batches;
        let xb = &x[b * batch * inputs..(b + 1) * batch * inputs];
        let yb = &y[b * batch..(b + 1) * batch];
        net.forward(xb, batch, &mut ws, false);
        last_loss = net.backward(xb, batch, Targets::Classes(yb), &loss, &mut ws);
        optimizer.step(net.parameters_mut(), ws.gradients(), lr);
    });
    let flops = 3.0 * 2.0 * (batch * macs_per_sample(&arch)) as f64;
    let peak = peak_rss_bytes();
    // What training must hold: the data, the parameters, the optimizer's state and one
    // batch of activations (z and a of every layer).
    let optimizer_values: usize = optimizer.state().buffers.iter().map(|(_, b)| b.len()).sum();
    let activations = batch * 2 * arch.widths()[1..].iter().sum::<usize>();
    let bound = 4 * (x.len() + y.len() + arch.parameter_count() + optimizer_values + activations);
    let mib = |bytes: usize| bytes as f64 / (1u64 << 20) as f64;
    format!(
        "{{\"engine\":\"backprop\",\"mode\":\"train\",\"config\":\"{}\",\"batch\":{batch},\"threads\":{},\"steps\":{steps},\"seconds\":{elapsed:.4},\"steps_per_s\":{:.3},\"samples_per_s\":{:.1},\"gflops\":{:.3},\"loss\":{last_loss:.6},\"peak_rss_mib\":{},\"memory_bound_mib\":{:.2}}}",
        args.config,
        args.threads,
        steps as f64 / elapsed,
        (steps * batch) as f64 / elapsed,
        flops * steps as f64 / elapsed / 1e9,
        peak.map_or("null".to_string(), |p| format!("{:.2}", mib(p))),
        mib(bound),
    )
}

fn infer(args: &Args) -> String {
    let (arch, _) = configuration(&args.config);
    let (x, _) = dataset(&args.config, &args.data);
    let inputs = arch.inputs;
    let outputs = arch.outputs;
    let batch = args.batch;
    let blocks = x.len() / inputs / batch;
    assert!(blocks > 0, "batch larger than the data set");
    let net = load_network(&arch, args.weights.as_deref());
    let mut ws = Workspace::<f32>::for_inference(&arch, batch);
    let mut out = vec![0.0f32; batch * outputs];
    let (calls, elapsed) = time_loop(args.seconds, |i| {
        let b = i % blocks;
        net.predict_into(
            &x[b * batch * inputs..(b + 1) * batch * inputs],
            batch,
            &mut ws,
            &mut out,
        );
    });
    // The first block's outputs, summed: lets a caller check it ran the same model.
    net.predict_into(&x[..batch * inputs], batch, &mut ws, &mut out);
    let checksum: f64 = out
        .iter()
        .enumerate()
        .map(|(i, &v)| f64::from(v) * (1 + i % outputs) as f64)
        .sum();
    format!(
        "{{\"engine\":\"backprop\",\"mode\":\"infer\",\"config\":\"{}\",\"batch\":{batch},\"threads\":{},\"calls\":{calls},\"seconds\":{elapsed:.4},\"us_per_call\":{:.4},\"samples_per_s\":{:.1},\"checksum\":{checksum:.6}}}",
        args.config,
        args.threads,
        elapsed * 1e6 / calls as f64,
        (calls * batch) as f64 / elapsed,
    )
}

fn gemm_ceiling(args: &Args) -> String {
    const N: usize = 1024;
    // One block of rows per thread: the best split of one large product.
    let block = N.div_ceil(args.threads.max(1));
    let mut rng = Rng::new(1);
    let a: Vec<f32> = (0..N * N)
        .map(|_| rng.uniform_in(-1.0, 1.0) as f32)
        .collect();
    let b: Vec<f32> = (0..N * N)
        .map(|_| rng.uniform_in(-1.0, 1.0) as f32)
        .collect();
    let mut c = vec![0.0f32; N * N];
    let mut best = f64::INFINITY;
    let start = Instant::now();
    let mut reps = 0;
    while reps < 3 || (start.elapsed().as_secs_f64() < args.seconds && reps < 50) {
        let t = Instant::now();
        use rayon::prelude::*;
        c.par_chunks_mut(block * N)
            .zip(a.par_chunks(block * N))
            .for_each(|(c, a)| {
                let rows = c.len() / N;
                matmul(
                    MatMut::row_major(c, rows, N),
                    Accum::Replace,
                    MatRef::row_major(a, rows, N),
                    MatRef::row_major(&b, N, N),
                )
            });
        best = best.min(t.elapsed().as_secs_f64());
        reps += 1;
    }
    let gflops = 2.0 * (N * N * N) as f64 / best / 1e9;
    format!(
        "{{\"engine\":\"backprop\",\"mode\":\"gemm\",\"kernel\":\"{}\",\"n\":{N},\"threads\":{},\"reps\":{reps},\"best_seconds\":{best:.6},\"gflops\":{gflops:.3}}}",
        backprop::compute::kernel_path(),
        args.threads
    )
}

fn main() {
    let args = parse_args();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.max(1))
        .build()
        .expect("thread pool");
    let line = pool.install(|| match args.mode.as_str() {
        "train" => train(&args),
        "infer" => infer(&args),
        "gemm" => gemm_ceiling(&args),
        other => usage(&format!("unknown mode {other}")),
    });
    println!("{line}");
}
