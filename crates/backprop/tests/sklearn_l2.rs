//! The L2 penalty against scikit-learn's `alpha`: `golden/make_sklearn_golden.py` (needs
//! scikit-learn; CI only reads its output, `golden/sklearn_l2.json`) fixes the parameters of
//! small `MLPClassifier`s and an `MLPRegressor` and records the loss and gradients of one
//! batch from their `_backprop`. The engine's `loss_and_gradient` plus
//! `add_l2_penalty(alpha / rows, …)` must give the same within 1e-10 (`f64`), weights
//! penalized and biases not. And training through `fit` with `l2_penalty` moves the weights
//! and leaves the biases' gradients alone.

use backprop::optim::OptimizerConfig;
use backprop::train::{fit, Dataset, NoObserver, TargetData, TrainConfig};
use backprop::{
    Activation, Architecture, Init, Loss, Network, OutputActivation, Targets, Workspace,
};
use serde::Deserialize;

#[derive(Deserialize)]
struct Golden {
    cases: Vec<Case>,
}

/// One batch through one scikit-learn estimator. Its layouts: `coefs[i]` is `[in][out]`.
#[derive(Deserialize)]
struct Case {
    name: String,
    activation: String,
    out_activation: String,
    loss_function: String,
    alpha: f64,
    inputs: Vec<Vec<f64>>,
    /// Class labels for a classifier, values for the one-output regressor.
    targets: Vec<f64>,
    coefs: Vec<Vec<Vec<f64>>>,
    intercepts: Vec<Vec<f64>>,
    loss: f64,
    coef_grads: Vec<Vec<Vec<f64>>>,
    intercept_grads: Vec<Vec<f64>>,
}

fn golden() -> Golden {
    serde_json::from_str(include_str!("golden/sklearn_l2.json"))
        .expect("golden/sklearn_l2.json parses")
}

/// scikit-learn's `[in][out]` matrix as our row-major `[out, in]` one.
fn transposed(matrix: &[Vec<f64>]) -> Vec<f64> {
    let (rows, cols) = (matrix.len(), matrix[0].len());
    (0..cols)
        .flat_map(|j| (0..rows).map(move |i| (i, j)))
        .map(|(i, j)| matrix[i][j])
        .collect()
}

/// scikit-learn's per-layer matrices and vectors as our named tensors.
fn named_tensors(
    coefs: &[Vec<Vec<f64>>],
    intercepts: &[Vec<f64>],
) -> Vec<(String, Vec<usize>, Vec<f64>)> {
    let layers = coefs.iter().zip(intercepts).enumerate();
    layers
        .flat_map(|(i, (coef, intercept))| {
            let (fan_in, fan_out) = (coef.len(), coef[0].len());
            [
                (
                    format!("layers.{i}.weight"),
                    vec![fan_out, fan_in],
                    transposed(coef),
                ),
                (format!("layers.{i}.bias"), vec![fan_out], intercept.clone()),
            ]
        })
        .collect()
}

impl Case {
    fn architecture(&self) -> Architecture {
        let activation = match self.activation.as_str() {
            "relu" => Activation::Relu,
            "tanh" => Activation::Tanh,
            "logistic" => Activation::Sigmoid,
            other => panic!("{}: hidden activation {other}", self.name),
        };
        let output = match self.out_activation.as_str() {
            "softmax" => OutputActivation::Softmax,
            "logistic" => OutputActivation::Sigmoid,
            "identity" => OutputActivation::Identity,
            other => panic!("{}: output activation {other}", self.name),
        };
        let widths: Vec<usize> = self.coefs.iter().map(|c| c[0].len()).collect();
        let (hidden, outputs) = widths.split_at(widths.len() - 1);
        Architecture::new(self.coefs[0].len(), hidden, activation, outputs[0], output)
    }

    /// A network holding `coefs` and `intercepts` (the parameters, or their gradients).
    fn network_of(&self, coefs: &[Vec<Vec<f64>>], intercepts: &[Vec<f64>]) -> Network<f64> {
        let named = named_tensors(coefs, intercepts);
        let named = named
            .iter()
            .map(|(name, shape, data)| (name.as_str(), shape.as_slice(), data.clone()));
        Network::from_named_tensors(self.architecture(), named).unwrap()
    }

    fn network(&self) -> Network<f64> {
        self.network_of(&self.coefs, &self.intercepts)
    }

    /// The engine's loss and gradient of the batch without the penalty, on scikit-learn's
    /// scale: its `squared_error` is half the mean squared error (for one output).
    fn data_loss_and_gradient(&self, net: &Network<f64>) -> (f64, Vec<f64>) {
        let rows = self.inputs.len();
        let x: Vec<f64> = self.inputs.concat();
        let mut ws = Workspace::new(net.architecture(), rows);
        let labels: Vec<u32> = self.targets.iter().map(|&t| t as u32).collect();
        let (loss, targets, scale) = match self.loss_function.as_str() {
            "log_loss" if self.out_activation == "softmax" => {
                (Loss::cross_entropy(), Targets::Classes(&labels), 1.0)
            }
            "log_loss" => (Loss::Bce, Targets::Values(&self.targets), 1.0),
            "squared_error" => {
                assert_eq!(net.architecture().outputs, 1, "{}", self.name);
                (Loss::Mse, Targets::Values(&self.targets), 0.5)
            }
            other => panic!("{}: loss {other}", self.name),
        };
        let value = net.loss_and_gradient(&x, rows, targets, &loss, &mut ws);
        let grads = ws.gradients().iter().map(|g| g * scale).collect();
        (value * scale, grads)
    }

    /// scikit-learn's gradient in the layout of our parameters.
    fn expected_gradient(&self) -> Vec<f64> {
        let gradient = self.network_of(&self.coef_grads, &self.intercept_grads);
        gradient.parameters().to_vec()
    }
}

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-10 * want.abs().max(1.0)
}

#[test]
fn loss_and_gradient_with_the_penalty_match_scikit_learn() {
    let golden = golden();
    assert_eq!(golden.cases.len(), 3);
    for case in &golden.cases {
        assert!(case.alpha > 0.0);
        let net = case.network();
        let rows = case.inputs.len();
        let (data_loss, mut grads) = case.data_loss_and_gradient(&net);
        let penalty = net.add_l2_penalty(case.alpha / rows as f64, &mut grads);
        assert!(penalty > 0.0);
        let loss = data_loss + penalty;
        assert!(
            close(loss, case.loss),
            "{}: loss {loss}, scikit-learn {}",
            case.name,
            case.loss
        );
        // Without the penalty the loss is off: the test can fail.
        assert!(!close(data_loss, case.loss), "{}", case.name);
        let expected = case.expected_gradient();
        for (i, (&got, &want)) in grads.iter().zip(&expected).enumerate() {
            assert!(
                close(got, want),
                "{}: gradient[{i}] {got}, scikit-learn {want}",
                case.name
            );
        }
    }
}

#[test]
fn the_penalty_adds_alpha_over_rows_times_the_weights_and_spares_the_biases() {
    for case in &golden().cases {
        let net = case.network();
        let (_, plain) = case.data_loss_and_gradient(&net);
        let mut penalized = plain.clone();
        let strength = case.alpha / case.inputs.len() as f64;
        net.add_l2_penalty(strength, &mut penalized);
        // The tensors lie in the parameters in order, weights then bias per layer.
        let mut offset = 0;
        for tensor in net.named_tensors() {
            let range = offset..offset + tensor.data.len();
            offset = range.end;
            assert_eq!(&net.parameters()[range.clone()], tensor.data);
            let (plain, penalized) = (&plain[range.clone()], &penalized[range]);
            if tensor.name.ends_with(".bias") {
                assert_eq!(plain, penalized, "{}: {} penalized", case.name, tensor.name);
            } else {
                for ((&p, &q), &w) in plain.iter().zip(penalized).zip(tensor.data) {
                    assert_eq!(q, p + strength * w, "{}: {}", case.name, tensor.name);
                }
            }
        }
        assert_eq!(offset, net.parameters().len());
    }
}

/// One full-batch step of plain SGD with and without `l2_penalty`, from the same weights:
/// the biases end bit-identical (their gradients are the same) and every weight `w` ends
/// `lr·α/rows·w` lower.
#[test]
fn fit_with_l2_penalty_moves_the_weights_and_spares_the_biases() {
    let x: Vec<f64> = (0..24).map(|i| ((i * 7 % 11) as f64 - 5.0) / 4.0).collect();
    let y: Vec<u32> = (0..8).map(|i| i % 3).collect();
    let arch = Architecture::new(3, &[5], Activation::Tanh, 3, OutputActivation::Softmax);
    let start = Network::<f64>::new(arch, Init::PytorchDefault, 4).unwrap();
    let (lr, alpha) = (0.1, 0.8);
    let train = |l2_penalty: f64| {
        let mut net = start.clone();
        let config = TrainConfig {
            epochs: 1,
            batch_size: 8,
            optimizer: OptimizerConfig::sgd(lr),
            l2_penalty,
            ..TrainConfig::default()
        };
        let data = Dataset::new(&x, 3, TargetData::Classes(&y)).unwrap();
        let loss = Loss::cross_entropy();
        fit(&mut net, &loss, data, None, &config, &mut NoObserver).unwrap();
        net
    };
    let (plain, penalized) = (train(0.0), train(alpha));
    let strength = alpha / 8.0;
    let tensors = start.named_tensors().into_iter().zip(plain.named_tensors());
    for ((w0, a), b) in tensors.zip(penalized.named_tensors()) {
        if w0.name.ends_with(".bias") {
            assert_eq!(a.data, b.data, "{}", w0.name);
            continue;
        }
        assert_ne!(a.data, b.data, "{}", w0.name);
        for ((&w, &a), &b) in w0.data.iter().zip(a.data).zip(b.data) {
            let expected = a - lr * strength * w;
            assert!(
                (b - expected).abs() <= 1e-12,
                "{}: {b} vs {expected}",
                w0.name
            );
        }
    }
}
