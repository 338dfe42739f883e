//! Losses fused with the output activation, computed from the logits `zᴸ` for stability.
//!
//! The seeds' output error `δᴸ = ∇ₐL ⊙ σ'(zᴸ)` is computed in one step as `∂L/∂zᴸ`: for
//! sigmoid + binary cross-entropy and softmax + cross-entropy it is `p − y`, which never
//! divides by a probability that may have rounded to zero. Every loss is the *mean* over the
//! batch with PyTorch's conventions (`MSELoss`, `L1Loss`, `HuberLoss`, `BCEWithLogitsLoss`,
//! `CrossEntropyLoss` with `weight` and `label_smoothing`), so values can be compared.

use serde::{Deserialize, Serialize};

use crate::real::{r, sigmoid, Real};

/// The function applied to the last layer's `z` to produce predictions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputActivation {
    /// Raw values: regression.
    Identity,
    /// Independent probabilities per output: binary and multi-label classification.
    Sigmoid,
    /// One probability distribution over the outputs: multiclass classification.
    Softmax,
}

impl std::fmt::Display for OutputActivation {
    /// `identity`, `sigmoid` or `softmax`, as in the model file.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OutputActivation::Identity => "identity",
            OutputActivation::Sigmoid => "sigmoid",
            OutputActivation::Softmax => "softmax",
        })
    }
}

/// A training loss. The output activation follows from it (see [`Loss::output_activation`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Loss {
    /// Mean squared error over samples and outputs, `mean((z − y)²)`.
    Mse,
    /// Mean absolute error, `mean(|z − y|)`; the gradient at 0 is 0, as in PyTorch.
    L1,
    /// Huber loss: `½d²` for `|d| < delta`, else `delta·(|d| − ½delta)`, averaged.
    Huber {
        /// Where the loss turns from quadratic to linear (PyTorch default 1).
        delta: f64,
    },
    /// Binary cross-entropy from logits, one independent sigmoid per output; targets in `[0, 1]`.
    Bce,
    /// Softmax cross-entropy from logits against class indices.
    CrossEntropy {
        /// Weight of the smoothing term ε: the target becomes `(1 − ε)·onehot + ε/C`.
        #[serde(default)]
        label_smoothing: f64,
        /// Optional weight per class; the mean is then weighted as in PyTorch.
        #[serde(default)]
        class_weights: Option<Vec<f64>>,
    },
}

/// The targets of a batch of `rows` samples.
#[derive(Clone, Copy, Debug)]
pub enum Targets<'a, T> {
    /// One class index per row, for [`Loss::CrossEntropy`].
    Classes(&'a [u32]),
    /// A row-major `rows × outputs` matrix of values, for regression losses and [`Loss::Bce`].
    Values(&'a [T]),
}

impl<T> Targets<'_, T> {
    /// Number of rows given `outputs` values per row.
    pub fn rows(&self, outputs: usize) -> usize {
        match self {
            Targets::Classes(classes) => classes.len(),
            Targets::Values(values) => values.len() / outputs.max(1),
        }
    }
}

impl Loss {
    /// Cross-entropy with no smoothing and no class weights.
    pub fn cross_entropy() -> Self {
        Loss::CrossEntropy {
            label_smoothing: 0.0,
            class_weights: None,
        }
    }

    /// The output activation this loss is fused with.
    pub fn output_activation(&self) -> OutputActivation {
        match self {
            Loss::Mse | Loss::L1 | Loss::Huber { .. } => OutputActivation::Identity,
            Loss::Bce => OutputActivation::Sigmoid,
            Loss::CrossEntropy { .. } => OutputActivation::Softmax,
        }
    }

    /// Whether the targets are class indices ([`Targets::Classes`]) rather than values.
    pub fn takes_class_targets(&self) -> bool {
        matches!(self, Loss::CrossEntropy { .. })
    }

    /// Short name: `mse`, `l1`, `huber`, `bce` or `ce`.
    pub fn name(&self) -> &'static str {
        match self {
            Loss::Mse => "mse",
            Loss::L1 => "l1",
            Loss::Huber { .. } => "huber",
            Loss::Bce => "bce",
            Loss::CrossEntropy { .. } => "ce",
        }
    }

    /// The mean loss of a batch of logits (row-major `rows × outputs`).
    ///
    /// # Panics
    /// If the targets' kind or shape does not fit the loss, or a class index is out of range.
    #[track_caller]
    pub fn value<T: Real>(&self, logits: &[T], outputs: usize, targets: Targets<'_, T>) -> f64 {
        self.evaluate(logits, outputs, targets, None)
    }

    /// The mean loss, and `grad = ∂L/∂zᴸ` (the output error δᴸ) for every logit.
    ///
    /// # Panics
    /// As [`Loss::value`], and if `grad` is not as long as `logits`.
    #[track_caller]
    pub fn value_and_gradient<T: Real>(
        &self,
        logits: &[T],
        outputs: usize,
        targets: Targets<'_, T>,
        grad: &mut [T],
    ) -> f64 {
        assert_eq!(
            grad.len(),
            logits.len(),
            "loss: gradient and logits lengths differ"
        );
        self.evaluate(logits, outputs, targets, Some(grad))
    }

    #[track_caller]
    fn evaluate<T: Real>(
        &self,
        logits: &[T],
        outputs: usize,
        targets: Targets<'_, T>,
        grad: Option<&mut [T]>,
    ) -> f64 {
        assert!(
            outputs > 0 && logits.len().is_multiple_of(outputs),
            "loss: logits are not rows × {outputs}"
        );
        let rows = logits.len() / outputs;
        match (self, targets) {
            (
                Loss::CrossEntropy {
                    label_smoothing,
                    class_weights,
                },
                Targets::Classes(classes),
            ) => {
                assert_eq!(
                    classes.len(),
                    rows,
                    "loss: {rows} rows of logits but {} targets",
                    classes.len()
                );
                cross_entropy(
                    logits,
                    outputs,
                    classes,
                    *label_smoothing,
                    class_weights.as_deref(),
                    grad,
                )
            }
            (Loss::CrossEntropy { .. }, Targets::Values(_)) => {
                panic!("loss: cross-entropy takes class indices as targets")
            }
            (_, Targets::Values(values)) => {
                assert_eq!(
                    values.len(),
                    logits.len(),
                    "loss: targets must be rows × {outputs}"
                );
                elementwise(self, logits, values, grad)
            }
            (_, Targets::Classes(_)) => panic!("loss: {} takes values as targets", self.name()),
        }
    }
}

/// The losses that are a mean of one term per (sample, output).
fn elementwise<T: Real>(loss: &Loss, logits: &[T], targets: &[T], grad: Option<&mut [T]>) -> f64 {
    let count = logits.len().max(1) as f64;
    let scale = r::<T>(1.0 / count);
    let mut total = 0.0f64;
    let term = |z: T, y: T| -> (f64, T) {
        match loss {
            Loss::Mse => {
                let d = z - y;
                ((d * d).as_f64(), r::<T>(2.0) * d)
            }
            Loss::L1 => {
                let d = z - y;
                let sign = if d > T::zero() {
                    T::one()
                } else if d < T::zero() {
                    -T::one()
                } else {
                    T::zero()
                };
                (d.abs().as_f64(), sign)
            }
            Loss::Huber { delta } => {
                let d = z - y;
                let delta_t = r::<T>(*delta);
                if d.abs() < delta_t {
                    ((r::<T>(0.5) * d * d).as_f64(), d)
                } else {
                    let value = delta_t * (d.abs() - r::<T>(0.5) * delta_t);
                    (value.as_f64(), delta_t * d.signum())
                }
            }
            Loss::Bce => {
                // max(z, 0) − z·y + ln(1 + e^{−|z|}): finite for any z; gradient σ(z) − y.
                let value = z.max(T::zero()) - z * y + (-z.abs()).exp().ln_1p();
                (value.as_f64(), sigmoid(z) - y)
            }
            Loss::CrossEntropy { .. } => unreachable!("handled by cross_entropy"),
        }
    };
    match grad {
        Some(grad) => {
            for ((&z, &y), g) in logits.iter().zip(targets).zip(grad.iter_mut()) {
                let (value, dz) = term(z, y);
                total += value;
                *g = dz * scale;
            }
        }
        None => {
            for (&z, &y) in logits.iter().zip(targets) {
                total += term(z, y).0;
            }
        }
    }
    total / count
}

/// Softmax cross-entropy with PyTorch's `weight` and `label_smoothing` semantics:
///
/// `L = [(1 − ε)·Σᵢ −w_{yᵢ} log p_{yᵢ} + (ε/C)·Σᵢ Σ_c −w_c log p_c] / Σᵢ w_{yᵢ}`
///
/// with `w = 1` when no weights are given (then the denominator is the batch size), and
/// `∂L/∂z_{ij} = [(1 − ε)·w_{yᵢ}(p_j − [j = yᵢ]) + (ε/C)(p_j·Σ_c w_c − w_j)] / Σᵢ w_{yᵢ}`.
fn cross_entropy<T: Real>(
    logits: &[T],
    classes_count: usize,
    classes: &[u32],
    smoothing: f64,
    weights: Option<&[f64]>,
    mut grad: Option<&mut [T]>,
) -> f64 {
    if let Some(weights) = weights {
        assert_eq!(
            weights.len(),
            classes_count,
            "loss: {} class weights for {classes_count} classes",
            weights.len()
        );
    }
    let weight = |c: usize| weights.map_or(1.0, |w| w[c]);
    let weight_sum_all: f64 = (0..classes_count).map(weight).sum();
    let normalizer: f64 = classes
        .iter()
        .map(|&c| {
            assert!(
                (c as usize) < classes_count,
                "loss: class {c} out of range 0..{classes_count}"
            );
            weight(c as usize)
        })
        .sum();
    if classes.is_empty() || normalizer == 0.0 {
        return 0.0;
    }
    let smooth_share = smoothing / classes_count as f64;
    let mut total = 0.0f64;
    for (row, &class) in classes.iter().enumerate() {
        let class = class as usize;
        let z = &logits[row * classes_count..(row + 1) * classes_count];
        // log pⱼ = zⱼ − m − ln Σₖ e^{zₖ − m}, with m = max z: the log-sum-exp trick.
        let max = z.iter().fold(T::neg_infinity(), |m, &v| m.max(v));
        let sum_exp: T = z.iter().map(|&v| (v - max).exp()).sum();
        let log_norm = max + sum_exp.ln();
        let log_p = |j: usize| (z[j] - log_norm).as_f64();
        let mut row_loss = -(1.0 - smoothing) * weight(class) * log_p(class);
        if smoothing != 0.0 {
            let smooth: f64 = (0..classes_count).map(|j| -weight(j) * log_p(j)).sum();
            row_loss += smooth_share * smooth;
        }
        total += row_loss;
        if let Some(grad) = grad.as_deref_mut() {
            let g = &mut grad[row * classes_count..(row + 1) * classes_count];
            let target_weight = (1.0 - smoothing) * weight(class);
            for (j, slot) in g.iter_mut().enumerate() {
                let p = (z[j] - log_norm).exp().as_f64();
                let hard = target_weight * (p - if j == class { 1.0 } else { 0.0 });
                let soft = smooth_share * (p * weight_sum_all - weight(j));
                *slot = r::<T>((hard + soft) / normalizer);
            }
        }
    }
    total / normalizer
}

impl OutputActivation {
    /// Turns one row of logits into predictions in place: identity, sigmoid per output, or a
    /// softmax whose entries sum to 1.
    pub fn apply_in_place<T: Real>(self, row: &mut [T]) {
        match self {
            OutputActivation::Identity => {}
            OutputActivation::Sigmoid => row.iter_mut().for_each(|v| *v = sigmoid(*v)),
            OutputActivation::Softmax => {
                let max = row.iter().fold(T::neg_infinity(), |m, &v| m.max(v));
                let mut sum = T::zero();
                for v in row.iter_mut() {
                    *v = (*v - max).exp();
                    sum += *v;
                }
                let inv = T::one() / sum;
                row.iter_mut().for_each(|v| *v *= inv);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_losses() -> Vec<Loss> {
        vec![
            Loss::Mse,
            Loss::L1,
            Loss::Huber { delta: 1.0 },
            Loss::Bce,
            Loss::cross_entropy(),
            Loss::CrossEntropy {
                label_smoothing: 0.1,
                class_weights: Some(vec![0.5, 2.0, 1.0]),
            },
        ]
    }

    fn targets_for(_loss: &Loss) -> (Vec<f64>, Vec<u32>) {
        (vec![0.0, 1.0, 0.5, 1.0, 0.0, 0.3], vec![2, 0])
    }

    #[test]
    fn gradient_matches_finite_difference() {
        let logits = vec![0.3, -1.2, 2.0, 0.7, 0.1, -0.4];
        for loss in all_losses() {
            let (values, classes) = targets_for(&loss);
            let targets = if loss.takes_class_targets() {
                Targets::Classes(&classes)
            } else {
                Targets::Values(&values)
            };
            let mut grad = vec![0.0; logits.len()];
            loss.value_and_gradient(&logits, 3, targets, &mut grad);
            for i in 0..logits.len() {
                let h = 1e-6;
                let mut plus = logits.clone();
                plus[i] += h;
                let mut minus = logits.clone();
                minus[i] -= h;
                let numeric =
                    (loss.value(&plus, 3, targets) - loss.value(&minus, 3, targets)) / (2.0 * h);
                assert!(
                    (grad[i] - numeric).abs() < 1e-7,
                    "{loss:?} logit {i}: {} vs {numeric}",
                    grad[i]
                );
            }
        }
    }

    #[test]
    fn extreme_logits_give_finite_loss_and_gradient() {
        let logits = vec![1e4f32, -1e4, 0.0, -1e4, 1e4, 1e4];
        for loss in all_losses() {
            let (values, classes) = targets_for(&loss);
            let values: Vec<f32> = values.iter().map(|&v| v as f32).collect();
            let targets = if loss.takes_class_targets() {
                Targets::Classes(&classes)
            } else {
                Targets::Values(&values)
            };
            let mut grad = vec![0.0f32; logits.len()];
            let value = loss.value_and_gradient(&logits, 3, targets, &mut grad);
            assert!(
                value.is_finite() && grad.iter().all(|g| g.is_finite()),
                "{loss:?}: {value} {grad:?}"
            );
        }
    }

    #[test]
    fn bce_at_huge_logits_is_exact() {
        // Confidently right: loss ≈ 0. Confidently wrong: loss = |z|.
        let right = Loss::Bce.value(&[1e4f64, -1e4], 1, Targets::Values(&[1.0, 0.0]));
        let wrong = Loss::Bce.value(&[1e4f64, -1e4], 1, Targets::Values(&[0.0, 1.0]));
        assert_eq!(right, 0.0);
        assert_eq!(wrong, 1e4);
    }

    #[test]
    fn softmax_rows_sum_to_one() {
        for row in [[1e4f32, -1e4, 0.0], [0.1, 0.2, 0.3], [-1e4, -1e4, -1e4]] {
            let mut row = row;
            OutputActivation::Softmax.apply_in_place(&mut row);
            let sum: f32 = row.iter().sum();
            assert!((sum - 1.0).abs() < 1e-6, "{row:?}");
        }
    }
}
