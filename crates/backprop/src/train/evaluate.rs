//! Loss, accuracy and R² of a network on a data set, block by block, without allocating in
//! the loop; optionally the predictions of the same forward pass.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::loss::{Loss, OutputActivation, Targets};
use crate::network::Network;
use crate::prediction::argmax;
use crate::real::Real;
use crate::train::dataset::Dataset;
use crate::workspace::Workspace;

/// Rows per block when evaluating (fixed, so results do not depend on anything else).
pub(crate) const EVAL_BLOCK: usize = 256;

/// How well a network does on a data set.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The mean loss (for weighted cross-entropy the weighted mean, as PyTorch takes it).
    pub loss: f64,
    /// The fraction of rows classified right, for classification (softmax outputs with class
    /// targets, or one sigmoid output with 0/1 targets).
    pub accuracy: Option<f64>,
    /// The coefficient of determination `1 − SS_res / SS_tot` of identity (regression)
    /// outputs, averaged over the outputs as scikit-learn's `r2_score` does; a constant target
    /// counts 1 when predicted exactly and 0 otherwise.
    pub r2: Option<f64>,
}

/// The loss, accuracy and R² of `net` on `data`, in blocks of 256 rows.
///
/// # Errors
/// [`crate::Error::InvalidData`] or [`crate::Error::ShapeMismatch`] when the data does not fit
/// the network and loss (see [`Dataset::check_for`]).
pub fn evaluate<T: Real>(
    net: &Network<T>,
    loss: &Loss,
    data: &Dataset<'_, T>,
) -> Result<Evaluation> {
    data.check_for(net.architecture(), loss, "data")?;
    let mut ws = Workspace::for_inference(net.architecture(), data.rows().min(EVAL_BLOCK));
    let mut tally = Tally::new(net);
    tally.add(net, loss, data, &mut ws, None);
    Ok(tally.result())
}

/// [`evaluate`], and the predictions of the same forward pass (`rows × outputs`, as
/// [`Network::predict`] returns them: probabilities for classifiers, values for regression).
///
/// # Errors
/// As [`evaluate`].
pub fn evaluate_with_predictions<T: Real>(
    net: &Network<T>,
    loss: &Loss,
    data: &Dataset<'_, T>,
) -> Result<(Evaluation, Vec<T>)> {
    data.check_for(net.architecture(), loss, "data")?;
    let mut ws = Workspace::for_inference(net.architecture(), data.rows().min(EVAL_BLOCK));
    let mut predictions = vec![T::zero(); data.rows() * net.architecture().outputs];
    let mut tally = Tally::new(net);
    tally.add(net, loss, data, &mut ws, Some(&mut predictions));
    Ok((tally.result(), predictions))
}

/// The weight a batch's mean loss carries in a mean over several batches: its row count, or
/// for cross-entropy with class weights the sum of its rows' weights (PyTorch's weighted mean).
pub(crate) fn batch_weight(loss: &Loss, targets: Targets<'_, impl Real>, rows: usize) -> f64 {
    match (loss, targets) {
        (
            Loss::CrossEntropy {
                class_weights: Some(weights),
                ..
            },
            Targets::Classes(classes),
        ) => classes.iter().map(|&c| weights[c as usize]).sum(),
        _ => rows as f64,
    }
}

/// Correct predictions among the logits of a batch, for classification: arg-max against the
/// class for softmax, `z ≥ 0` against `y ≥ ½` for a single sigmoid output. `None` otherwise.
pub(crate) fn correct<T: Real>(
    logits: &[T],
    outputs: usize,
    targets: Targets<'_, T>,
    output: OutputActivation,
) -> Option<usize> {
    match (output, targets) {
        (OutputActivation::Softmax, Targets::Classes(classes)) => Some(
            logits
                .chunks_exact(outputs)
                .zip(classes)
                .filter(|(row, &c)| argmax(row) == c as usize)
                .count(),
        ),
        (OutputActivation::Sigmoid, Targets::Values(values)) if outputs == 1 => Some(
            logits
                .iter()
                .zip(values)
                .filter(|(z, y)| (z.as_f64() >= 0.0) == (y.as_f64() >= 0.5))
                .count(),
        ),
        _ => None,
    }
}

/// The evaluation of `net` on `data` in blocks of the workspace's capacity. The workspace must
/// not hold dropout masks.
pub(crate) fn evaluate_in<T: Real>(
    net: &Network<T>,
    loss: &Loss,
    data: &Dataset<'_, T>,
    ws: &mut Workspace<T>,
) -> Evaluation {
    let mut tally = Tally::new(net);
    tally.add(net, loss, data, ws, None);
    tally.result()
}

/// Sums over one output's targets `y` and predictions `ŷ`, for R².
#[derive(Clone, Copy, Debug, Default)]
struct FitSums {
    y: f64,
    y_squared: f64,
    squared_error: f64,
}

/// Running sums of an evaluation fed in pieces (as gathered rows of a larger data set):
/// feeding the pieces one after the other gives the same bits as one [`evaluate`] call on
/// all the rows, when each piece is a whole number of the workspace's blocks.
pub(crate) struct Tally {
    total: f64,
    weight: f64,
    hits: Option<usize>,
    rows: usize,
    /// One entry per output of an identity (regression) output layer, else empty.
    fit: Vec<FitSums>,
}

impl Tally {
    /// Nothing seen yet, for the outputs of `net`.
    pub(crate) fn new<T: Real>(net: &Network<T>) -> Self {
        let arch = net.architecture();
        let regression = arch.output == OutputActivation::Identity;
        Self {
            total: 0.0,
            weight: 0.0,
            hits: Some(0),
            rows: 0,
            fit: vec![FitSums::default(); if regression { arch.outputs } else { 0 }],
        }
    }

    /// Evaluates `data` in blocks of the workspace's capacity and adds it to the sums; with
    /// `predictions` (`rows × outputs`), also writes the network's predictions there.
    pub(crate) fn add<T: Real>(
        &mut self,
        net: &Network<T>,
        loss: &Loss,
        data: &Dataset<'_, T>,
        ws: &mut Workspace<T>,
        mut predictions: Option<&mut [T]>,
    ) {
        let (inputs, outputs) = (data.inputs, net.architecture().outputs);
        let output = net.architecture().output;
        let block = ws.capacity().max(1);
        let rows = data.rows();
        let mut start = 0;
        while start < rows {
            let n = block.min(rows - start);
            let x = &data.x[start * inputs..(start + n) * inputs];
            let targets = match data.targets {
                Targets::Classes(c) => Targets::Classes(&c[start..start + n]),
                Targets::Values(v) => Targets::Values(&v[start * outputs..(start + n) * outputs]),
            };
            net.forward(x, n, ws, false);
            let logits = ws.logits(n);
            let w = batch_weight(loss, targets, n);
            self.total += loss.value(logits, outputs, targets) * w;
            self.weight += w;
            self.hits = self
                .hits
                .zip(correct(logits, outputs, targets, output))
                .map(|(a, b)| a + b);
            if let (false, Targets::Values(values)) = (self.fit.is_empty(), targets) {
                // Identity outputs: the logits are the predictions.
                for (row, truth) in logits
                    .chunks_exact(outputs)
                    .zip(values.chunks_exact(outputs))
                {
                    for ((sums, &p), &y) in self.fit.iter_mut().zip(row).zip(truth) {
                        let (p, y) = (p.as_f64(), y.as_f64());
                        sums.y += y;
                        sums.y_squared += y * y;
                        sums.squared_error += (y - p) * (y - p);
                    }
                }
            }
            if let Some(out) = predictions.as_deref_mut() {
                let out = &mut out[start * outputs..(start + n) * outputs];
                out.copy_from_slice(logits);
                out.chunks_exact_mut(outputs)
                    .for_each(|row| output.apply_in_place(row));
            }
            start += n;
        }
        self.rows += rows;
    }

    /// The evaluation of everything added.
    pub(crate) fn result(&self) -> Evaluation {
        let n = self.rows as f64;
        let r2 = (!self.fit.is_empty() && self.rows > 0).then(|| {
            let per_output = self.fit.iter().map(|s| {
                let total = s.y_squared - s.y * s.y / n;
                match (total > 0.0, s.squared_error == 0.0) {
                    (true, _) => 1.0 - s.squared_error / total,
                    (false, true) => 1.0,
                    (false, false) => 0.0,
                }
            });
            per_output.sum::<f64>() / self.fit.len() as f64
        });
        Evaluation {
            loss: self.total / self.weight,
            accuracy: self.hits.map(|h| h as f64 / n),
            r2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Activation;
    use crate::architecture::Architecture;
    use crate::init::Init;

    #[test]
    fn blockwise_mean_matches_one_block() {
        let arch = Architecture::new(2, &[4], Activation::Tanh, 3, OutputActivation::Softmax);
        let net = Network::<f64>::new(arch.clone(), Init::Auto, 1).unwrap();
        let x: Vec<f64> = (0..20).map(|i| (i as f64 * 0.37).sin()).collect();
        let classes: Vec<u32> = (0..10).map(|i| i % 3).collect();
        let data = Dataset {
            x: &x,
            inputs: 2,
            targets: Targets::Classes(&classes),
        };
        let loss = Loss::CrossEntropy {
            label_smoothing: 0.0,
            class_weights: Some(vec![1.0, 2.0, 0.5]),
        };
        let whole = evaluate_in(&net, &loss, &data, &mut Workspace::for_inference(&arch, 10));
        let blocks = evaluate_in(&net, &loss, &data, &mut Workspace::for_inference(&arch, 3));
        assert!(
            (whole.loss - blocks.loss).abs() < 1e-12,
            "{whole:?} vs {blocks:?}"
        );
        assert_eq!(whole.accuracy, blocks.accuracy);
        assert_eq!(whole.r2, None);
        let predicted = net.predict_classes(&x);
        let expected = predicted
            .iter()
            .zip(&classes)
            .filter(|(p, &c)| **p == c as usize)
            .count();
        assert_eq!(whole.accuracy, Some(expected as f64 / 10.0));
        let (public, predictions) = evaluate_with_predictions(&net, &loss, &data).unwrap();
        assert_eq!(predictions, net.predict(&x));
        assert!((public.loss - whole.loss).abs() < 1e-12);
    }

    #[test]
    fn r2_averages_the_outputs_like_scikit_learn() {
        // One linear layer, z = W x + b, with weights chosen by hand.
        let arch = Architecture::new(1, &[], Activation::Identity, 2, OutputActivation::Identity);
        let net = Network::<f64>::from_parameters(arch, vec![1.0, 0.0, 0.0, 2.0]).unwrap();
        let x = [1.0, 2.0, 3.0];
        // Output 0 predicts x (targets 1, 2, 5), output 1 predicts 2 (a constant target 2).
        let y = [1.0, 2.0, 2.0, 2.0, 5.0, 2.0];
        let data = Dataset::new(&x, 1, Targets::Values(&y)).unwrap();
        let scores = evaluate(&net, &Loss::Mse, &data).unwrap();
        // Output 0: SS_res = 4, SS_tot = 26/3; output 1: a constant predicted exactly.
        let expected = ((1.0 - 4.0 / (26.0 / 3.0)) + 1.0) / 2.0;
        assert!((scores.r2.unwrap() - expected).abs() < 1e-12, "{scores:?}");
        assert_eq!(scores.accuracy, None);
        assert!((scores.loss - 4.0 / 6.0).abs() < 1e-12);
    }
}
