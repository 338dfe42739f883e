//! The training rows' R² per epoch for the `--plot` of a regression run. The engine reports a
//! classifier's training accuracy itself (from the batches it trains on) but no training R²,
//! so the CLI asks the engine's [`evaluate`] for it after every epoch, on an evenly spaced
//! sample of at most [`MAX_ROWS`] of the rows the run trains on (the validation split, drawn
//! as the engine draws it, left out): one forward pass over a thousand rows per epoch, without
//! dropout.

use backprop::train::{evaluate, split_validation, TrainConfig, Validation};
use backprop::{Dataset, Loss, Network, Targets};
use backprop_data::EncodedTargets;

use crate::fitting::Prepared;

/// The most training rows the R² is measured on.
pub const MAX_ROWS: usize = 1000;

/// A copy of some of the training rows, to score the network on after each epoch.
pub struct TrainingSample {
    x: Vec<f32>,
    y: Vec<f32>,
    inputs: usize,
}

impl TrainingSample {
    /// The sample of a regression's training rows under `config` (its validation split and
    /// seed), or `None` for classification.
    pub fn new(prepared: &Prepared, config: &TrainConfig) -> anyhow::Result<Option<Self>> {
        let pre = &prepared.metadata.preprocessing;
        let (EncodedTargets::Values(values), None) = (&prepared.y, pre.target.classes()) else {
            return Ok(None);
        };
        let rows = prepared.rows;
        let train = match config.validation {
            Validation::Fraction(fraction) => {
                split_validation(rows, Targets::Values(values), fraction, config.seed)?.0
            }
            Validation::None => (0..rows).collect(),
        };
        let inputs = pre.inputs();
        let outputs = values.len() / rows.max(1);
        let every = train.len().div_ceil(MAX_ROWS).max(1);
        let mut sample = Self {
            x: Vec::new(),
            y: Vec::new(),
            inputs,
        };
        for &row in train.iter().step_by(every) {
            sample
                .x
                .extend_from_slice(&prepared.x[row * inputs..(row + 1) * inputs]);
            sample
                .y
                .extend_from_slice(&values[row * outputs..(row + 1) * outputs]);
        }
        Ok(Some(sample))
    }

    /// The R² of `net` on the sample (`None` if the engine cannot score it).
    pub fn r2(&self, net: &Network<f32>, loss: &Loss) -> Option<f64> {
        let data = Dataset::new(&self.x, self.inputs, Targets::Values(&self.y)).ok()?;
        evaluate(net, loss, &data).ok()?.r2
    }
}
