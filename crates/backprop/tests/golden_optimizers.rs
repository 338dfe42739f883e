//! Training against PyTorch: the weights of a small network after 5 full-batch steps of every
//! optimizer, with a StepLR schedule and gradient-norm clipping, must match `torch.optim`.
//!
//! `tests/golden/make_optimizer_golden.py` (needs torch; CI only reads its committed output)
//! trains a 4-6-3 tanh network with MSE. The schedule (`lr · γ^⌊step / step_size⌋`) and the
//! clipping (`g ← g · min(1, max_norm / (‖g‖₂ + 1e-6))`, PyTorch's `clip_grad_norm_`) are
//! written out here, so that only the optimizers are under test. Tolerance:
//! `|a − b| ≤ tol · max(1, |b|)` with `tol = 1e-10` in `f64` and `1e-5` in `f32`.

use std::collections::BTreeMap;

use backprop::optim::{OptimizerConfig, Solver};
use backprop::{
    Activation, Architecture, Loss, Network, OutputActivation, Real, Targets, Workspace,
};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Golden {
    dtype: String,
    widths: Vec<usize>,
    steps: usize,
    step_lr: StepLr,
    clip_grad_norm: f64,
    inputs: Vec<f64>,
    targets: Vec<f64>,
    initial: BTreeMap<String, Tensor>,
    runs: Vec<Run>,
}

#[derive(Deserialize)]
struct StepLr {
    step_size: usize,
    gamma: f64,
}

#[derive(Deserialize)]
struct Tensor {
    shape: Vec<usize>,
    data: Vec<f64>,
}

#[derive(Deserialize)]
struct Run {
    name: String,
    kind: String,
    settings: BTreeMap<String, Value>,
    clipped: bool,
    losses: Vec<f64>,
    gradient_norms: Vec<f64>,
    #[serde(rename = "final")]
    final_tensors: BTreeMap<String, Tensor>,
}

fn load(file: &str) -> Golden {
    let path = format!("{}/tests/golden/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The engine's configuration from the script's settings (backprop's field names).
fn config(run: &Run) -> OptimizerConfig {
    let f = |key: &str| {
        run.settings[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{}: {key}", run.name))
    };
    let b = |key: &str| run.settings[key].as_bool().expect(key);
    let u = |key: &str| run.settings[key].as_u64().expect(key) as usize;
    match run.kind.as_str() {
        "sgd" => OptimizerConfig::Sgd {
            lr: f("lr"),
            momentum: f("momentum"),
            dampening: f("dampening"),
            nesterov: b("nesterov"),
            weight_decay: f("weight_decay"),
        },
        "adam" | "adamw" => {
            let (lr, beta1, beta2, eps) = (f("lr"), f("beta1"), f("beta2"), f("eps"));
            let (weight_decay, amsgrad) = (f("weight_decay"), b("amsgrad"));
            if run.kind == "adam" {
                OptimizerConfig::Adam {
                    lr,
                    beta1,
                    beta2,
                    eps,
                    weight_decay,
                    amsgrad,
                }
            } else {
                OptimizerConfig::AdamW {
                    lr,
                    beta1,
                    beta2,
                    eps,
                    weight_decay,
                    amsgrad,
                }
            }
        }
        "rmsprop" => OptimizerConfig::RmsProp {
            lr: f("lr"),
            alpha: f("alpha"),
            eps: f("eps"),
            weight_decay: f("weight_decay"),
            momentum: f("momentum"),
            centered: b("centered"),
        },
        "adagrad" => OptimizerConfig::Adagrad {
            lr: f("lr"),
            lr_decay: f("lr_decay"),
            weight_decay: f("weight_decay"),
            initial_accumulator_value: f("initial_accumulator_value"),
            eps: f("eps"),
        },
        "rprop" => OptimizerConfig::Rprop {
            lr: f("lr"),
            eta_minus: f("eta_minus"),
            eta_plus: f("eta_plus"),
            step_min: f("step_min"),
            step_max: f("step_max"),
        },
        "lbfgs" => OptimizerConfig::Lbfgs {
            lr: f("lr"),
            max_iter: u("max_iter"),
            max_eval: u("max_eval"),
            tolerance_grad: f("tolerance_grad"),
            tolerance_change: f("tolerance_change"),
            history_size: u("history_size"),
            strong_wolfe: b("strong_wolfe"),
        },
        other => panic!("unknown optimizer {other}"),
    }
}

fn network<T: Real>(arch: &Architecture, tensors: &BTreeMap<String, Tensor>) -> Network<T> {
    Network::from_named_tensors(
        arch.clone(),
        tensors
            .iter()
            .map(|(name, t)| (name.as_str(), t.shape.as_slice(), t.data.clone())),
    )
    .unwrap()
}

/// PyTorch's `clip_grad_norm_`: returns the norm before clipping.
fn clip_grad_norm<T: Real>(grads: &mut [T], max_norm: f64) -> f64 {
    let norm = grads
        .iter()
        .map(|g| g.as_f64() * g.as_f64())
        .sum::<f64>()
        .sqrt();
    let coefficient = T::from_f64((max_norm / (norm + 1e-6)).min(1.0));
    grads.iter_mut().for_each(|g| *g *= coefficient);
    norm
}

fn check_all<T: Real>(file: &str, tolerance: f64) -> f64 {
    let golden = load(file);
    assert_eq!(golden.dtype, T::NAME);
    let w = &golden.widths;
    let arch = Architecture::new(
        w[0],
        &w[1..w.len() - 1],
        Activation::Tanh,
        w[w.len() - 1],
        OutputActivation::Identity,
    );
    let rows = golden.inputs.len() / w[0];
    let x: Vec<T> = golden.inputs.iter().map(|&v| T::from_f64(v)).collect();
    let y: Vec<T> = golden.targets.iter().map(|&v| T::from_f64(v)).collect();
    let close = |got: f64, want: f64| (got - want).abs() <= tolerance * want.abs().max(1.0);
    let mut worst = 0.0f64;
    let mut kinds = std::collections::BTreeSet::new();
    for run in &golden.runs {
        kinds.insert(run.kind.clone());
        let mut net = network::<T>(&arch, &golden.initial);
        let mut solver = config(run)
            .build::<T>(net.parameters().len())
            .unwrap_or_else(|e| panic!("{}: {e}", run.name));
        let mut ws = Workspace::new(&arch, rows);
        let mut clipped_steps = 0;
        for step in 0..golden.steps {
            let lr = config(run).lr()
                * golden
                    .step_lr
                    .gamma
                    .powi((step / golden.step_lr.step_size) as i32);
            let loss = match &mut solver {
                Solver::FirstOrder(optimizer) => {
                    let loss =
                        net.loss_and_gradient(&x, rows, Targets::Values(&y), &Loss::Mse, &mut ws);
                    let norm = clip_grad_norm(ws.gradients_mut(), golden.clip_grad_norm);
                    assert!(
                        close(norm, run.gradient_norms[step]),
                        "{} step {step}: gradient norm {norm} vs {}",
                        run.name,
                        run.gradient_norms[step]
                    );
                    clipped_steps += usize::from(norm > golden.clip_grad_norm);
                    optimizer.step(net.parameters_mut(), ws.gradients(), lr);
                    loss
                }
                Solver::Lbfgs(lbfgs) => {
                    assert!(!run.clipped);
                    let mut params = net.parameters().to_vec();
                    let mut probe = net.clone();
                    let loss = lbfgs.step(&mut params, lr, |theta, grad| {
                        probe.parameters_mut().copy_from_slice(theta);
                        let loss = probe.loss_and_gradient(
                            &x,
                            rows,
                            Targets::Values(&y),
                            &Loss::Mse,
                            &mut ws,
                        );
                        grad.copy_from_slice(ws.gradients());
                        loss
                    });
                    net.parameters_mut().copy_from_slice(&params);
                    loss
                }
            };
            worst = worst.max((loss - run.losses[step]).abs() / run.losses[step].abs().max(1.0));
            assert!(
                close(loss, run.losses[step]),
                "{} {}: loss before step {step} is {loss}, PyTorch {}",
                T::NAME,
                run.name,
                run.losses[step]
            );
        }
        if run.clipped {
            assert!(clipped_steps > 0, "{}: clipping never engaged", run.name);
        }
        for tensor in net.named_tensors() {
            let want = &run.final_tensors[&tensor.name].data;
            for (i, (&got, &want)) in tensor.data.iter().zip(want).enumerate() {
                let got = got.as_f64();
                worst = worst.max((got - want).abs() / want.abs().max(1.0));
                assert!(
                    close(got, want),
                    "{} {}: {}[{i}] after {} steps is {got}, PyTorch {want}",
                    T::NAME,
                    run.name,
                    tensor.name,
                    golden.steps
                );
            }
        }
    }
    assert_eq!(kinds.len(), 7, "every optimizer kind is covered: {kinds:?}");
    worst
}

#[test]
fn f64_training_matches_pytorch_within_1e_10() {
    let worst = check_all::<f64>("optimizers_f64.json", 1e-10);
    eprintln!("f64: worst relative error {worst:.2e}");
}

#[test]
fn f32_training_matches_pytorch_within_1e_5() {
    let worst = check_all::<f32>("optimizers_f32.json", 1e-5);
    eprintln!("f32: worst relative error {worst:.2e}");
}
