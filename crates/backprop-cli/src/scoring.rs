//! Scoring a network on labelled data: one forward pass through the engine gives the loss and
//! the predictions, and the engine's metrics turn them into accuracy and per-class scores, or
//! RMSE and R². Shared by `eval`, `train --test` and `cv`.

use anyhow::Context;
use backprop::metrics::{self, ClassificationMetrics, RegressionMetrics};
use backprop::prediction::{argmax_rows, class_probabilities};
use backprop::train::evaluate_with_predictions;
use backprop::{Dataset, Loss, Network};
use backprop_data::{Encoded, EncodedTargets, Preprocessor};

/// How a network did on labelled data.
pub struct Scores {
    /// Rows scored.
    pub rows: usize,
    /// The mean loss, in the units the network learned (a regression target standardized by
    /// the model is scored in standardized units; the metrics are in the target's units).
    pub loss: f64,
    /// The log-loss of the class probabilities (classifiers; see
    /// [`backprop::metrics::log_loss`]).
    pub log_loss: Option<f64>,
    /// Accuracy and per-class scores, or regression errors.
    pub metrics: Metrics,
}

/// Classification or regression metrics.
pub enum Metrics {
    /// For a classifier.
    Classification(ClassificationMetrics),
    /// For a regressor.
    Regression(RegressionMetrics),
}

/// Scores `network` (trained with `loss` on data read by `preprocessor`) on `data`, which must
/// hold the target column; `file` names the data in messages.
pub fn score(
    network: &Network<f32>,
    loss: &Loss,
    preprocessor: &Preprocessor,
    data: &Encoded,
    file: &str,
) -> anyhow::Result<Scores> {
    let targets = data.targets.as_ref().with_context(|| {
        format!(
            "{file}: the data has no target column {:?}",
            preprocessor.target.name()
        )
    })?;
    let loss_targets = preprocessor.target.network_targets(targets, loss)?;
    let dataset = Dataset::new(&data.x, data.inputs, loss_targets.as_targets())?;
    let (evaluation, predictions) = evaluate_with_predictions(network, loss, &dataset)?;
    let mut log_loss = None;
    let metrics = match (targets, preprocessor.target.classes()) {
        (EncodedTargets::Classes(truth), Some(classes)) => {
            let probabilities = class_probabilities(network.architecture(), predictions);
            let predicted = argmax_rows(&probabilities, classes.len());
            log_loss = Some(metrics::log_loss(truth, &probabilities, classes.len()));
            Metrics::Classification(metrics::classification(truth, &predicted, classes))
        }
        (EncodedTargets::Values(truth), _) => {
            let mut predictions = predictions;
            preprocessor.target.restore_outputs(&mut predictions);
            Metrics::Regression(metrics::regression(truth, &predictions))
        }
        (EncodedTargets::Classes(_), None) => {
            anyhow::bail!("the model is a classifier but its metadata lists no classes")
        }
    };
    Ok(Scores {
        rows: data.rows,
        loss: evaluation.loss,
        log_loss,
        metrics,
    })
}
