//! Backpropagation's gradients against central finite differences in `f64`, over random shapes:
//! every activation × every loss × 1 to 4 dense layers × batches of 1 and 8 rows, and through
//! fixed dropout masks.
//!
//! Passes when `|analytic − numeric| ≤ 1e-6 · max(1, |numeric|)` for every parameter.
//! Finite differences are only honest where the loss is smooth, so the checks keep clear of
//! kinks: targets for L1 and Huber sit well away from `|z − y| ∈ {0, delta}`, and a case whose
//! ReLU-like pre-activations come within `KINK_MARGIN` of 0 is skipped (rare, and counted).

mod common;

use backprop::gradcheck::{central_differences, numeric_gradient};
use backprop::{
    Activation, Architecture, HiddenLayer, Init, Loss, Network, Rng, Targets, Workspace,
};
use common::{every_loss, normal, targets};
use proptest::prelude::*;

const STEP: f64 = 1e-6;
const TOLERANCE: f64 = 1e-6;
/// A pre-activation this close to a kink could be crossed by a perturbation of `STEP`.
const KINK_MARGIN: f64 = 1e-4;

/// `Activation::ALL` plus non-default parameters, whose kinks and slopes differ.
fn activations() -> Vec<Activation> {
    let mut all = Activation::ALL.to_vec();
    all.push(Activation::LeakyRelu { slope: 0.2 });
    all.push(Activation::Elu { alpha: 0.7 });
    all
}

/// Every loss, with random class weights for the weighted cross-entropy.
fn losses(outputs: usize, rng: &mut Rng) -> Vec<Loss> {
    every_loss((0..outputs).map(|_| rng.uniform_in(0.2, 2.0)).collect())
}

/// Whether `activation`'s derivative jumps at `z = 0`.
fn has_kink(activation: Activation) -> bool {
    match activation {
        Activation::Relu | Activation::LeakyRelu { .. } => true,
        Activation::Elu { alpha } => alpha != 1.0,
        _ => false,
    }
}

/// A plain-loop forward pass: every layer's `z`, to find kinks and to check the engine's logits.
fn reference_pre_activations(net: &Network<f64>, x: &[f64], rows: usize) -> Vec<Vec<f64>> {
    let arch = net.architecture();
    let tensors = net.named_tensors();
    let mut input = x.to_vec();
    let mut all = Vec::new();
    for layer in 0..arch.layer_count() {
        let (fan_in, fan_out) = arch.layer_shape(layer);
        let (w, b) = (tensors[2 * layer].data, tensors[2 * layer + 1].data);
        let mut z = vec![0.0; rows * fan_out];
        for r in 0..rows {
            for o in 0..fan_out {
                z[r * fan_out + o] = b[o]
                    + (0..fan_in)
                        .map(|i| w[o * fan_in + i] * input[r * fan_in + i])
                        .sum::<f64>();
            }
        }
        if let Some(activation) = arch.layer_activation(layer) {
            input = vec![0.0; z.len()];
            activation.apply(&z, &mut input);
        }
        all.push(z);
    }
    all
}

fn sign(rng: &mut Rng) -> f64 {
    if rng.uniform() < 0.5 {
        -1.0
    } else {
        1.0
    }
}

/// Targets for `loss` given the logits: classes, probabilities, or values away from kinks.
fn targets_for(loss: &Loss, logits: &[f64], outputs: usize, rng: &mut Rng) -> (Vec<f64>, Vec<u32>) {
    let rows = logits.len() / outputs;
    let classes = (0..rows).map(|_| rng.below(outputs) as u32).collect();
    let values = logits
        .iter()
        .map(|&z| match loss {
            Loss::Mse => normal(rng),
            Loss::L1 => z + sign(rng) * rng.uniform_in(0.05, 2.0),
            // Both sides of delta = 1: quadratic and linear.
            Loss::Huber { .. } if rng.uniform() < 0.5 => z + sign(rng) * rng.uniform_in(0.05, 0.95),
            Loss::Huber { .. } => z + sign(rng) * rng.uniform_in(1.05, 3.0),
            _ => rng.uniform(),
        })
        .collect();
    (values, classes)
}

struct Outcome {
    checked: usize,
    skipped: usize,
    worst: f64,
}

fn check_shape(widths: &[usize], rows: usize, seed: u64, outcome: &mut Outcome) {
    let mut rng = Rng::new(seed);
    let (inputs, outputs) = (widths[0], widths[widths.len() - 1]);
    let x: Vec<f64> = (0..rows * inputs).map(|_| normal(&mut rng)).collect();
    for activation in activations() {
        for loss in losses(outputs, &mut rng) {
            let arch = Architecture {
                inputs,
                hidden: widths[1..widths.len() - 1]
                    .iter()
                    .map(|&units| HiddenLayer { units, activation })
                    .collect(),
                outputs,
                output: loss.output_activation(),
            };
            let net = Network::<f64>::new(arch.clone(), Init::PytorchDefault, rng.next_u64())
                .expect("valid architecture");
            let z = reference_pre_activations(&net, &x, rows);
            if has_kink(activation)
                && z[..z.len() - 1]
                    .iter()
                    .flatten()
                    .any(|v| v.abs() < KINK_MARGIN)
            {
                outcome.skipped += 1;
                continue;
            }
            let (values, classes) = targets_for(&loss, &z[z.len() - 1], outputs, &mut rng);
            let targets = targets(&loss, &values, &classes);

            let mut ws = Workspace::new(&arch, rows);
            net.loss_and_gradient(&x, rows, targets, &loss, &mut ws);
            for (engine, reference) in ws.logits(rows).iter().zip(&z[z.len() - 1]) {
                assert!(
                    (engine - reference).abs() <= 1e-12 * reference.abs().max(1.0),
                    "logits differ from the reference forward pass: {engine} vs {reference}"
                );
            }
            let numeric = numeric_gradient(&net, &loss, &x, targets, STEP).unwrap();
            for (i, (&a, &n)) in ws.gradients().iter().zip(&numeric).enumerate() {
                let error = (a - n).abs() / n.abs().max(1.0);
                outcome.worst = outcome.worst.max(error);
                assert!(
                    error <= TOLERANCE,
                    "widths {widths:?}, {rows} rows, {activation}, {loss:?}: parameter {i}: \
                     analytic {a} vs numeric {n}"
                );
            }
            outcome.checked += 1;
        }
    }
}

fn shapes() -> impl Strategy<Value = Vec<usize>> {
    // inputs, 0 to 3 hidden widths, outputs (≥ 2: softmax and multi-label sigmoid).
    (
        1usize..=5,
        prop::collection::vec(1usize..=6, 0..=3),
        2usize..=4,
    )
        .prop_map(|(inputs, hidden, outputs)| {
            let mut widths = vec![inputs];
            widths.extend(hidden);
            widths.push(outputs);
            widths
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn backprop_matches_finite_differences(widths in shapes(), seed in any::<u64>()) {
        let mut outcome = Outcome { checked: 0, skipped: 0, worst: 0.0 };
        for rows in [1, 8] {
            check_shape(&widths, rows, seed ^ rows as u64, &mut outcome);
        }
        // Skips are rare accidents near a kink, never the rule.
        prop_assert!(outcome.skipped * 10 <= outcome.checked, "skipped {} of {}", outcome.skipped, outcome.checked + outcome.skipped);
        if std::env::var_os("GRADCHECK_VERBOSE").is_some() {
            eprintln!("{widths:?}: {} checked, {} skipped, worst {:.2e}", outcome.checked, outcome.skipped, outcome.worst);
        }
    }
}

/// Every depth from 1 to 4 dense layers, every activation and loss, batches of 1 and 8, on
/// fixed shapes, so the exhaustive grid is covered whatever shapes proptest draws.
#[test]
fn every_depth_activation_and_loss() {
    let mut outcome = Outcome {
        checked: 0,
        skipped: 0,
        worst: 0.0,
    };
    for (seed, widths) in [
        vec![3, 4],
        vec![4, 5, 3],
        vec![2, 6, 4, 2],
        vec![5, 3, 4, 6, 3],
    ]
    .iter()
    .enumerate()
    {
        for rows in [1, 8] {
            check_shape(widths, rows, 100 + seed as u64, &mut outcome);
        }
    }
    assert!(outcome.skipped * 10 <= outcome.checked);
    assert!(outcome.worst <= TOLERANCE);
    eprintln!(
        "{} checked, {} skipped, worst error {:.2e}",
        outcome.checked, outcome.skipped, outcome.worst
    );
}

/// A smooth network, its inputs and class targets, and a training workspace holding dropout
/// masks sampled once (30 % of the hidden units of each row dropped).
fn with_dropout_masks(
    activation: Activation,
    rows: usize,
    seed: u64,
) -> (Network<f64>, Vec<f64>, Vec<u32>, Workspace<f64>) {
    let mut rng = Rng::new(seed);
    let arch = Architecture::new(
        4,
        &[6, 5],
        activation,
        3,
        Loss::cross_entropy().output_activation(),
    );
    let net = Network::<f64>::new(arch.clone(), Init::PytorchDefault, rng.next_u64()).unwrap();
    let x = (0..rows * 4).map(|_| normal(&mut rng)).collect();
    let y = (0..rows).map(|_| rng.below(3) as u32).collect();
    let mut ws = Workspace::new(&arch, rows);
    ws.sample_dropout(0.3, rows, &mut rng);
    (net, x, y, ws)
}

/// The gradient of the loss with dropout, the masks held fixed, against central differences
/// of that same loss: the backward pass multiplies δ by the masks the forward pass used.
#[test]
fn backprop_through_fixed_dropout_masks_matches_finite_differences() {
    let (rows, loss) = (8, Loss::cross_entropy());
    for activation in [
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::Gelu,
        Activation::Softplus,
    ] {
        let (net, x, y, mut ws) = with_dropout_masks(activation, rows, 31);
        let targets = Targets::Classes(&y);
        let mut probe_ws = ws.clone();
        net.forward(&x, rows, &mut ws, true);
        net.backward(&x, rows, targets, &loss, &mut ws);
        let analytic = ws.gradients().to_vec();

        // The masks matter: without them the gradient is another one.
        let mut plain = Workspace::new(net.architecture(), rows);
        net.loss_and_gradient(&x, rows, targets, &loss, &mut plain);
        let moved = analytic
            .iter()
            .zip(plain.gradients())
            .filter(|(a, p)| (*a - *p).abs() > 1e-3);
        assert!(
            moved.count() > analytic.len() / 4,
            "{activation}: dropout changed too little"
        );

        let numeric = central_differences(&net, STEP, |probe| {
            probe.forward(&x, rows, &mut probe_ws, true);
            loss.value(probe_ws.logits(rows), 3, targets)
        });
        for (i, (&a, &n)) in analytic.iter().zip(&numeric).enumerate() {
            let error = (a - n).abs() / n.abs().max(1.0);
            assert!(
                error <= TOLERANCE,
                "{activation} with dropout: parameter {i}: analytic {a} vs numeric {n}"
            );
        }
    }
}

/// Masks left in a workspace by a training step do not leak into a later pass without
/// dropout: its loss and gradient are those of a workspace that never saw a mask.
#[test]
fn a_pass_without_dropout_ignores_masks_left_in_the_workspace() {
    let (rows, loss) = (8, Loss::cross_entropy());
    let (net, x, y, mut ws) = with_dropout_masks(Activation::Tanh, rows, 32);
    let targets = Targets::Classes(&y);
    net.forward(&x, rows, &mut ws, true);
    net.backward(&x, rows, targets, &loss, &mut ws);
    let value = net.loss_and_gradient(&x, rows, targets, &loss, &mut ws);

    let mut fresh = Workspace::new(net.architecture(), rows);
    let expected = net.loss_and_gradient(&x, rows, targets, &loss, &mut fresh);
    assert_eq!(value.to_bits(), expected.to_bits());
    let differing = ws
        .gradients()
        .iter()
        .zip(fresh.gradients())
        .filter(|(a, b)| a.to_bits() != b.to_bits())
        .count();
    assert_eq!(
        differing, 0,
        "{differing} gradients differ from a fresh workspace's"
    );
}
