//! Gradient checking: backpropagation's `∂L/∂θ` against central finite differences, in `f64`.
//!
//! For every parameter `θᵢ` the numeric derivative is the central difference
//!
//! `gᵢ ≈ (L(θ + h·eᵢ) − L(θ − h·eᵢ)) / 2h`,
//!
//! whose truncation error is `O(h²)`, and the error reported for it is
//!
//! `err = |g_analytic − g_numeric| / max(1, |g_numeric|)`:
//!
//! an absolute error for small gradients and a relative one for large gradients. In `f64`, with
//! `h ≈ 1e-6`, a correct backward pass gives errors around `1e-9` or below; a wrong one gives
//! errors near `1`.
//!
//! ```
//! use backprop::gradcheck::random_gradient_check;
//! use backprop::{Activation, Architecture, Loss, OutputActivation};
//!
//! let arch = Architecture::new(4, &[5], Activation::Tanh, 3, OutputActivation::Softmax);
//! let report = random_gradient_check(&arch, &Loss::cross_entropy(), 6, 42).unwrap();
//! assert!(report.worst() < 1e-6, "{report}");
//! ```

use std::fmt;

use crate::architecture::Architecture;
use crate::error::{Error, Result};
use crate::init::Init;
use crate::loss::{Loss, Targets};
use crate::network::Network;
use crate::rng::Rng;
use crate::workspace::Workspace;

/// The finite-difference step [`random_gradient_check`] uses: small enough that the `O(h²)`
/// truncation error is negligible, large enough that rounding (`≈ ε·|L|/h`) stays near `1e-10`.
pub const DEFAULT_STEP: f64 = 1e-6;

/// The worst gradient errors of one dense layer (see the [module docs](self) for the formula).
#[derive(Clone, Debug, PartialEq)]
pub struct LayerReport {
    /// Index of the dense layer, from 0 (the input side).
    pub layer: usize,
    /// `(fan_in, fan_out)` of the layer.
    pub shape: (usize, usize),
    /// Largest error over the layer's weights `W`.
    pub worst_weight_error: f64,
    /// Largest error over the layer's biases `b`.
    pub worst_bias_error: f64,
}

impl LayerReport {
    /// The larger of the weight and bias errors.
    pub fn worst(&self) -> f64 {
        self.worst_weight_error.max(self.worst_bias_error)
    }
}

/// The outcome of a gradient check: per-layer worst errors.
#[derive(Clone, Debug, PartialEq)]
pub struct GradientReport {
    /// One entry per dense layer, input side first.
    pub layers: Vec<LayerReport>,
    /// The mean loss at the checked parameters.
    pub loss: f64,
    /// The finite-difference step `h` that was used.
    pub step: f64,
}

impl GradientReport {
    /// The largest error over every parameter of every layer (NaN if any error is NaN).
    pub fn worst(&self) -> f64 {
        self.layers
            .iter()
            .map(LayerReport::worst)
            .fold(0.0, |m, e| {
                if e.is_nan() || m.is_nan() {
                    f64::NAN
                } else {
                    m.max(e)
                }
            })
    }
}

impl fmt::Display for GradientReport {
    /// A table with one line per layer, then the worst error overall.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:>5}  {:>11}  {:>12}  {:>12}",
            "layer", "shape", "weight error", "bias error"
        )?;
        for layer in &self.layers {
            let shape = format!("{}→{}", layer.shape.0, layer.shape.1);
            writeln!(
                f,
                "{:>5}  {:>11}  {:>12.3e}  {:>12.3e}",
                layer.layer, shape, layer.worst_weight_error, layer.worst_bias_error
            )?;
        }
        write!(
            f,
            "worst error {:.3e} (loss {:.6}, step {:e}; error = |analytic − numeric| / max(1, |numeric|))",
            self.worst(),
            self.loss,
            self.step
        )
    }
}

/// `|analytic − numeric| / max(1, |numeric|)`.
pub fn gradient_error(analytic: f64, numeric: f64) -> f64 {
    (analytic - numeric).abs() / numeric.abs().max(1.0)
}

/// Checks the gradients of `net` on one batch: `x` is row-major `rows × inputs`, `targets` fit
/// `loss` (class indices for cross-entropy, `rows × outputs` values otherwise), `step` is the
/// finite-difference step `h`.
///
/// Costs two forward passes per parameter: meant for small networks.
///
/// # Errors
/// [`Error::ShapeMismatch`] if `x` or the targets do not fit the network,
/// [`Error::InvalidData`] for a class index out of range or a wrong kind of targets, and
/// [`Error::InvalidConfig`] for a step that is not positive and finite.
pub fn check_gradients(
    net: &Network<f64>,
    loss: &Loss,
    x: &[f64],
    targets: Targets<'_, f64>,
    step: f64,
) -> Result<GradientReport> {
    let rows = validate(net, loss, x, targets, step)?;
    let mut ws = Workspace::new(net.architecture(), rows.max(1));
    let loss_value = net.loss_and_gradient(x, rows, targets, loss, &mut ws);
    let analytic = ws.gradients().to_vec();
    let numeric = numeric_gradient(net, loss, x, targets, step)?;
    let mut layers = Vec::with_capacity(net.layer_count());
    let mut offset = 0;
    for layer in 0..net.layer_count() {
        let (fan_in, fan_out) = net.architecture().layer_shape(layer);
        let worst = |range: std::ops::Range<usize>| {
            range
                .map(|i| gradient_error(analytic[i], numeric[i]))
                .fold(0.0f64, |m, e| if e.is_nan() { f64::NAN } else { m.max(e) })
        };
        let weights = offset..offset + fan_in * fan_out;
        let biases = weights.end..weights.end + fan_out;
        offset = biases.end;
        layers.push(LayerReport {
            layer,
            shape: (fan_in, fan_out),
            worst_weight_error: worst(weights),
            worst_bias_error: worst(biases),
        });
    }
    Ok(GradientReport {
        layers,
        loss: loss_value,
        step,
    })
}

/// The central-difference gradient `(L(θ + h·eᵢ) − L(θ − h·eᵢ)) / 2h` for every parameter, in
/// the layout of [`Network::parameters`].
///
/// # Errors
/// As [`check_gradients`].
pub fn numeric_gradient(
    net: &Network<f64>,
    loss: &Loss,
    x: &[f64],
    targets: Targets<'_, f64>,
    step: f64,
) -> Result<Vec<f64>> {
    let rows = validate(net, loss, x, targets, step)?;
    let outputs = net.architecture().outputs;
    let mut ws = Workspace::for_inference(net.architecture(), rows.max(1));
    Ok(central_differences(net, step, |probe| {
        probe.forward(x, rows, &mut ws, false);
        loss.value(ws.logits(rows), outputs, targets)
    }))
}

/// The central differences `(f(θ + h·eᵢ) − f(θ − h·eᵢ)) / 2h` of any function `f` of the
/// parameters, in the layout of [`Network::parameters`]: `loss_at(probe)` evaluates `f` on a
/// copy of `net` with one parameter moved by `±step`. For losses [`numeric_gradient`] does not
/// compute itself, such as the loss through dropout masks held fixed.
///
/// ```
/// use backprop::gradcheck::central_differences;
/// use backprop::{Activation, Architecture, Init, Network, OutputActivation};
///
/// // f(θ) = ½ Σ θᵢ², whose gradient is θ.
/// let arch = Architecture::new(2, &[3], Activation::Tanh, 1, OutputActivation::Identity);
/// let net = Network::<f64>::new(arch, Init::Auto, 0)?;
/// let f = |probe: &Network<f64>| probe.parameters().iter().map(|p| p * p / 2.0).sum();
/// let gradient = central_differences(&net, 1e-6, f);
/// for (g, p) in gradient.iter().zip(net.parameters()) {
///     assert!((g - p).abs() < 1e-8);
/// }
/// # Ok::<(), backprop::Error>(())
/// ```
pub fn central_differences(
    net: &Network<f64>,
    step: f64,
    mut loss_at: impl FnMut(&Network<f64>) -> f64,
) -> Vec<f64> {
    let mut probe = net.clone();
    let mut gradient = vec![0.0; net.parameters().len()];
    for (i, g) in gradient.iter_mut().enumerate() {
        let original = net.parameters()[i];
        probe.parameters_mut()[i] = original + step;
        let plus = loss_at(&probe);
        probe.parameters_mut()[i] = original - step;
        let minus = loss_at(&probe);
        probe.parameters_mut()[i] = original;
        *g = (plus - minus) / (2.0 * step);
    }
    gradient
}

/// Checks shapes and settings, returning the number of rows.
fn validate(
    net: &Network<f64>,
    loss: &Loss,
    x: &[f64],
    targets: Targets<'_, f64>,
    step: f64,
) -> Result<usize> {
    let arch = net.architecture();
    if !(step.is_finite() && step > 0.0) {
        return Err(Error::InvalidConfig(format!(
            "finite-difference step must be positive and finite, got {step}"
        )));
    }
    if !x.len().is_multiple_of(arch.inputs) {
        return Err(Error::ShapeMismatch {
            what: "features".into(),
            expected: vec![x.len() / arch.inputs, arch.inputs],
            got: vec![x.len()],
        });
    }
    let rows = x.len() / arch.inputs;
    match targets {
        Targets::Classes(classes) => {
            if !loss.takes_class_targets() {
                return Err(Error::InvalidData(format!(
                    "{} takes values as targets, not class indices",
                    loss.name()
                )));
            }
            if classes.len() != rows {
                return Err(Error::ShapeMismatch {
                    what: "targets".into(),
                    expected: vec![rows],
                    got: vec![classes.len()],
                });
            }
            if let Some((row, &c)) = classes
                .iter()
                .enumerate()
                .find(|(_, &c)| c as usize >= arch.outputs)
            {
                return Err(Error::InvalidData(format!(
                    "row {}: class {c} out of range 0..{}",
                    row + 1,
                    arch.outputs
                )));
            }
        }
        Targets::Values(values) => {
            if loss.takes_class_targets() {
                return Err(Error::InvalidData(
                    "cross-entropy takes class indices as targets".into(),
                ));
            }
            if values.len() != rows * arch.outputs {
                return Err(Error::ShapeMismatch {
                    what: "targets".into(),
                    expected: vec![rows, arch.outputs],
                    got: vec![values.len()],
                });
            }
        }
    }
    if let Loss::CrossEntropy {
        class_weights: Some(weights),
        ..
    } = loss
    {
        if weights.len() != arch.outputs {
            return Err(Error::ShapeMismatch {
                what: "class weights".into(),
                expected: vec![arch.outputs],
                got: vec![weights.len()],
            });
        }
    }
    Ok(rows)
}

/// Builds a random network for `arch` (PyTorch's default initialization, so activations are
/// not saturated), `rows` standard-normal input rows and targets that fit `loss`, all from
/// `seed`, and checks its gradients with [`DEFAULT_STEP`].
///
/// Targets are class indices for cross-entropy, uniform values in `[0, 1]` for binary
/// cross-entropy, and normal values for squared error. For L1 and Huber, whose derivatives
/// jump where `|z − y|` is 0 or `delta`, each target is placed at a random distance from the
/// prediction that keeps well clear of those kinks (on both sides of `delta` for Huber), so
/// the finite differences are honest.
///
/// # Errors
/// [`Error::InvalidArchitecture`] for an invalid architecture or `rows == 0`, and
/// [`Error::ShapeMismatch`] for class weights of the wrong length.
pub fn random_gradient_check(
    arch: &Architecture,
    loss: &Loss,
    rows: usize,
    seed: u64,
) -> Result<GradientReport> {
    if rows == 0 {
        return Err(Error::InvalidConfig(
            "a gradient check needs at least one row".into(),
        ));
    }
    let net = Network::<f64>::new(arch.clone(), Init::PytorchDefault, seed)?;
    let mut rng = Rng::derived(seed, 0x6752_6164);
    let x: Vec<f64> = (0..rows * arch.inputs).map(|_| normal(&mut rng)).collect();
    let outputs = arch.outputs;
    if loss.takes_class_targets() {
        let classes: Vec<u32> = (0..rows).map(|_| rng.below(outputs) as u32).collect();
        return check_gradients(&net, loss, &x, Targets::Classes(&classes), DEFAULT_STEP);
    }
    let mut ws = Workspace::for_inference(arch, rows);
    net.forward(&x, rows, &mut ws, false);
    let values: Vec<f64> = ws
        .logits(rows)
        .iter()
        .map(|&z| match loss {
            Loss::Bce => rng.uniform(),
            Loss::L1 => z + random_sign(&mut rng) * rng.uniform_in(0.1, 2.0),
            Loss::Huber { delta } => {
                let distance = if rng.uniform() < 0.5 {
                    rng.uniform_in(0.1, 0.9)
                } else {
                    rng.uniform_in(1.1, 3.0)
                };
                z + random_sign(&mut rng) * distance * delta.abs()
            }
            _ => normal(&mut rng),
        })
        .collect();
    check_gradients(&net, loss, &x, Targets::Values(&values), DEFAULT_STEP)
}

/// A standard normal number (Box–Muller).
fn normal(rng: &mut Rng) -> f64 {
    let u = 1.0 - rng.uniform(); // in (0, 1], so the logarithm is finite
    let v = rng.uniform();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

fn random_sign(rng: &mut Rng) -> f64 {
    if rng.uniform() < 0.5 {
        -1.0
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Activation, OutputActivation};

    #[test]
    fn numeric_gradient_of_a_linear_model_is_exact() {
        // One identity layer, MSE on one row: L = mean_j (w_j·x + b_j − y_j)², so
        // ∂L/∂w_jk = 2(z_j − y_j)·x_k / outputs and ∂L/∂b_j = 2(z_j − y_j) / outputs.
        let arch = Architecture::new(2, &[], Activation::Identity, 2, OutputActivation::Identity);
        let net = Network::from_parameters(arch, vec![0.5, -1.0, 2.0, 0.25, 0.1, -0.3]).unwrap();
        let x = [1.5, -2.0];
        let y = [0.7, 1.1];
        let numeric = numeric_gradient(&net, &Loss::Mse, &x, Targets::Values(&y), 1e-5).unwrap();
        let z = [0.5 * 1.5 + 2.0 + 0.1, 2.0 * 1.5 - 0.5 - 0.3];
        let d = [z[0] - y[0], z[1] - y[1]];
        let expected = [
            d[0] * x[0],
            d[0] * x[1],
            d[1] * x[0],
            d[1] * x[1],
            d[0],
            d[1],
        ];
        for (n, e) in numeric.iter().zip(expected) {
            assert!((n - e).abs() < 1e-9, "{numeric:?} vs {expected:?}");
        }
    }

    #[test]
    fn a_wrong_gradient_is_reported() {
        assert_eq!(gradient_error(2.0, 1.0), 1.0);
        assert_eq!(gradient_error(30.0, 20.0), 0.5);
        assert!(gradient_error(f64::NAN, 1.0).is_nan());
    }

    #[test]
    fn random_check_passes_for_every_loss() {
        let losses = [
            Loss::Mse,
            Loss::L1,
            Loss::Huber { delta: 1.0 },
            Loss::Bce,
            Loss::CrossEntropy {
                label_smoothing: 0.1,
                class_weights: Some(vec![1.0, 2.0, 0.5]),
            },
        ];
        for loss in losses {
            let arch =
                Architecture::new(4, &[5, 3], Activation::Tanh, 3, OutputActivation::Identity);
            let report = random_gradient_check(&arch, &loss, 5, 7).unwrap();
            assert_eq!(report.layers.len(), 3);
            assert!(report.worst() < 1e-6, "{loss:?}\n{report}");
            assert!(report.to_string().contains("worst error"));
        }
    }

    #[test]
    fn bad_input_is_an_error() {
        let arch = Architecture::new(2, &[3], Activation::Relu, 2, OutputActivation::Softmax);
        let net = Network::<f64>::new(arch.clone(), Init::Auto, 1).unwrap();
        let ce = Loss::cross_entropy();
        let x = [0.1, 0.2];
        assert!(matches!(
            check_gradients(&net, &ce, &x[..1], Targets::Classes(&[0]), 1e-6),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(matches!(
            check_gradients(&net, &ce, &x, Targets::Classes(&[2]), 1e-6),
            Err(Error::InvalidData(_))
        ));
        assert!(matches!(
            check_gradients(&net, &Loss::Mse, &x, Targets::Classes(&[0]), 1e-6),
            Err(Error::InvalidData(_))
        ));
        assert!(matches!(
            check_gradients(&net, &ce, &x, Targets::Classes(&[0]), 0.0),
            Err(Error::InvalidConfig(_))
        ));
        assert!(random_gradient_check(&arch, &ce, 0, 1).is_err());
    }
}
