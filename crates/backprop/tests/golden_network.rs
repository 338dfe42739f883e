//! Forward and backward passes against PyTorch, value for value.
//!
//! `tests/golden/make_network_golden.py` (needs torch; CI only reads its committed output)
//! builds 5-7-4-3 networks with every hidden activation and every loss, runs a batch of 6 rows
//! through `torch.nn`, and stores weights, inputs, targets, outputs, loss and gradients. Here
//! the engine loads the same weights and must agree within `|a − b| ≤ tol · max(1, |b|)`:
//! `tol = 1e-10` in `f64`, `1e-5` in `f32`.

use std::collections::BTreeMap;

use backprop::{
    Activation, Architecture, Loss, Network, OutputActivation, Real, Targets, Workspace,
};
use serde::Deserialize;

#[derive(Deserialize)]
struct Golden {
    dtype: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    activation: Activation,
    loss: Loss,
    output: OutputActivation,
    widths: Vec<usize>,
    rows: usize,
    inputs: Vec<f64>,
    targets: GoldenTargets,
    tensors: BTreeMap<String, Tensor>,
    outputs: Vec<f64>,
    loss_value: f64,
    gradients: BTreeMap<String, Vec<f64>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum GoldenTargets {
    Classes(Vec<u32>),
    Values(Vec<f64>),
}

#[derive(Deserialize)]
struct Tensor {
    shape: Vec<usize>,
    data: Vec<f64>,
}

fn load(file: &str) -> Golden {
    let path = format!("{}/tests/golden/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn close(got: f64, want: f64, tolerance: f64) -> bool {
    (got - want).abs() <= tolerance * want.abs().max(1.0)
}

/// Runs every case in `T`, returning the worst `|a − b| / max(1, |b|)` seen.
fn check_all<T: Real>(file: &str, tolerance: f64) -> f64 {
    let golden = load(file);
    assert_eq!(golden.dtype, T::NAME);
    assert!(golden.cases.len() >= 90, "too few cases in {file}");
    let mut worst = 0.0f64;
    let mut compare = |what: &str, case: &str, got: &[T], want: &[f64]| {
        assert_eq!(got.len(), want.len(), "{case}: {what} length");
        for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
            let g = g.as_f64();
            worst = worst.max((g - w).abs() / w.abs().max(1.0));
            assert!(
                close(g, w, tolerance),
                "{file} {case}: {what}[{i}] = {g}, PyTorch {w}"
            );
        }
    };
    for case in &golden.cases {
        let depth = case.widths.len();
        let arch = Architecture::new(
            case.widths[0],
            &case.widths[1..depth - 1],
            case.activation,
            case.widths[depth - 1],
            case.output,
        );
        assert_eq!(case.loss.output_activation(), case.output, "{}", case.name);
        let net = Network::<T>::from_named_tensors(
            arch.clone(),
            case.tensors
                .iter()
                .map(|(name, t)| (name.as_str(), t.shape.as_slice(), t.data.clone())),
        )
        .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let x: Vec<T> = case.inputs.iter().map(|&v| T::from_f64(v)).collect();
        let values: Vec<T>;
        let targets = match &case.targets {
            GoldenTargets::Classes(classes) => Targets::Classes(classes),
            GoldenTargets::Values(v) => {
                values = v.iter().map(|&v| T::from_f64(v)).collect();
                Targets::Values(&values)
            }
        };

        compare("outputs", &case.name, &net.predict(&x), &case.outputs);

        let mut ws = Workspace::new(&arch, case.rows);
        let loss = net.loss_and_gradient(&x, case.rows, targets, &case.loss, &mut ws);
        compare("loss", &case.name, &[T::from_f64(loss)], &[case.loss_value]);
        let mut offset = 0;
        for tensor in net.named_tensors() {
            let len = tensor.data.len();
            let want = &case.gradients[&tensor.name];
            let what = format!("∂L/∂{}", tensor.name);
            compare(
                &what,
                &case.name,
                &ws.gradients()[offset..offset + len],
                want,
            );
            offset += len;
        }
        assert_eq!(offset, ws.gradients().len());
    }
    worst
}

#[test]
fn f64_matches_pytorch_within_1e_10() {
    let worst = check_all::<f64>("network_f64.json", 1e-10);
    eprintln!("f64: worst relative error {worst:.2e}");
}

#[test]
fn f32_matches_pytorch_within_1e_5() {
    let worst = check_all::<f32>("network_f32.json", 1e-5);
    eprintln!("f32: worst relative error {worst:.2e}");
}

#[test]
fn every_activation_and_loss_is_covered() {
    let golden = load("network_f64.json");
    for activation in Activation::ALL {
        assert!(
            golden.cases.iter().any(|c| c.activation == activation),
            "{activation} has no golden case"
        );
    }
    for loss in ["mse", "l1", "huber", "bce", "ce"] {
        assert!(golden.cases.iter().any(|c| c.loss.name() == loss), "{loss}");
    }
    assert!(golden.cases.iter().any(|c| matches!(
        &c.loss,
        Loss::CrossEntropy { label_smoothing, class_weights: Some(_) } if *label_smoothing > 0.0
    )));
}
