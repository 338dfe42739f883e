//! Running a saved model on data: re-applying its preprocessing, computing probabilities,
//! classes and the loss. Shared by `eval`, `predict` and `train --test`.

use anyhow::{bail, Context};
use backprop::{Loss, Network, OutputActivation, Targets, Workspace};

use backprop_data::{self, EncodedTargets, LoadOptions, Preprocessor};
use backprop_data::model_file::Model;

/// Data encoded with a model's preprocessing.
pub struct ModelData {
    /// The preprocessing stored in the model.
    pub preprocessor: Preprocessor,
    /// Features (`rows × inputs`) and, when the file has the target column, its targets.
    pub encoded: data::Encoded,
}

/// The model's preprocessing, from its metadata.
pub fn preprocessor(model: &Model) -> anyhow::Result<Preprocessor> {
    serde_json::from_value(model.metadata.preprocessing.clone())
        .context("the model's preprocessing metadata is missing or invalid")
}

/// Loads `spec` with the model's feature columns and encodes it.
pub fn load_for_model(model: &Model, spec: &str) -> anyhow::Result<ModelData> {
    let preprocessor = preprocessor(model)?;
    let table = data::load(spec, &LoadOptions::for_model(&preprocessor))?;
    let encoded = preprocessor.encode(&table)?;
    Ok(ModelData {
        preprocessor,
        encoded,
    })
}

/// The network's outputs for every row: values for regression, one probability per class for
/// classification (a single sigmoid output becomes the two columns `1 − p`, `p`).
pub fn predictions(network: &Network<f32>, x: &[f32]) -> Vec<f32> {
    let raw = network.predict(x);
    let arch = network.architecture();
    if arch.output == OutputActivation::Sigmoid && arch.outputs == 1 {
        raw.iter().flat_map(|&p| [1.0 - p, p]).collect()
    } else {
        raw
    }
}

/// The arg-max class of each row of `probabilities` (`columns` per row).
pub fn classes_from(probabilities: &[f32], columns: usize) -> Vec<usize> {
    probabilities
        .chunks_exact(columns)
        .map(|row| {
            let mut best = 0;
            for (i, &p) in row.iter().enumerate() {
                if p > row[best] {
                    best = i;
                }
            }
            best
        })
        .collect()
}

/// The engine's view of encoded targets for `loss`: class indices for cross-entropy, `0/1`
/// values for binary cross-entropy on one output, values for regression.
pub fn engine_targets(targets: &EncodedTargets, loss: &Loss) -> anyhow::Result<EngineTargets> {
    Ok(match (targets, loss) {
        (EncodedTargets::Classes(classes), Loss::CrossEntropy { .. }) => {
            EngineTargets::Classes(classes.clone())
        }
        (EncodedTargets::Classes(classes), Loss::Bce) => {
            EngineTargets::Values(classes.iter().map(|&c| c as f32).collect())
        }
        (EncodedTargets::Values(values), Loss::Mse | Loss::L1 | Loss::Huber { .. }) => {
            EngineTargets::Values(values.clone())
        }
        (EncodedTargets::Classes(_), _) => {
            bail!(
                "the loss {} is for regression, but the target holds classes",
                loss.name()
            )
        }
        (EncodedTargets::Values(_), _) => {
            bail!(
                "the loss {} is for classification, but the target holds numbers",
                loss.name()
            )
        }
    })
}

/// Owned targets in the form the engine takes.
pub enum EngineTargets {
    /// Class indices.
    Classes(Vec<u32>),
    /// Values, `rows × outputs`.
    Values(Vec<f32>),
}

impl EngineTargets {
    /// Borrowed as [`Targets`].
    pub fn as_targets(&self) -> Targets<'_, f32> {
        match self {
            EngineTargets::Classes(c) => Targets::Classes(c),
            EngineTargets::Values(v) => Targets::Values(v),
        }
    }
}

/// The mean loss of the network on `rows` rows of `x`.
pub fn mean_loss(
    network: &Network<f32>,
    loss: &Loss,
    x: &[f32],
    rows: usize,
    targets: &EngineTargets,
) -> f64 {
    if rows == 0 {
        return 0.0;
    }
    let mut workspace = Workspace::for_inference(network.architecture(), rows);
    network.forward(x, rows, &mut workspace, false);
    loss.value(
        workspace.logits(rows),
        network.architecture().outputs,
        targets.as_targets(),
    )
}
