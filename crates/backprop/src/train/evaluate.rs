//! Loss and accuracy of a network on a data set, block by block, without allocating.

use crate::loss::{Loss, OutputActivation, Targets};
use crate::network::Network;
use crate::propagation::argmax;
use crate::real::Real;
use crate::train::dataset::Dataset;
use crate::workspace::Workspace;

/// Rows per block when evaluating (fixed, so results do not depend on anything else).
pub(crate) const EVAL_BLOCK: usize = 256;

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

/// Mean loss and (for classification) accuracy of `net` on `data`, in blocks of the
/// workspace's capacity. The workspace must not hold dropout masks.
pub(crate) fn evaluate<T: Real>(
    net: &Network<T>,
    loss: &Loss,
    data: &Dataset<'_, T>,
    ws: &mut Workspace<T>,
) -> (f64, Option<f64>) {
    let mut tally = Tally::new();
    tally.add(net, loss, data, ws);
    tally.result()
}

/// Running sums of an evaluation fed in pieces (as gathered rows of a larger data set):
/// feeding the pieces one after the other gives the same bits as one [`evaluate`] call on
/// all the rows, when each piece is a whole number of the workspace's blocks.
pub(crate) struct Tally {
    total: f64,
    weight: f64,
    hits: Option<usize>,
    rows: usize,
}

impl Tally {
    /// Nothing seen yet.
    pub(crate) fn new() -> Self {
        Self {
            total: 0.0,
            weight: 0.0,
            hits: Some(0),
            rows: 0,
        }
    }

    /// Evaluates `data` in blocks of the workspace's capacity and adds it to the sums.
    pub(crate) fn add<T: Real>(
        &mut self,
        net: &Network<T>,
        loss: &Loss,
        data: &Dataset<'_, T>,
        ws: &mut Workspace<T>,
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
            start += n;
        }
        self.rows += rows;
    }

    /// Mean loss and (for classification) accuracy of everything added.
    pub(crate) fn result(&self) -> (f64, Option<f64>) {
        (
            self.total / self.weight,
            self.hits.map(|h| h as f64 / self.rows as f64),
        )
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
        let (whole, acc) = evaluate(&net, &loss, &data, &mut Workspace::for_inference(&arch, 10));
        let (blocks, acc3) = evaluate(&net, &loss, &data, &mut Workspace::for_inference(&arch, 3));
        assert!((whole - blocks).abs() < 1e-12, "{whole} vs {blocks}");
        assert_eq!(acc, acc3);
        let predicted = net.predict_classes(&x);
        let expected = predicted
            .iter()
            .zip(&classes)
            .filter(|(p, &c)| **p == c as usize)
            .count();
        assert_eq!(acc, Some(expected as f64 / 10.0));
    }
}
