//! `backprop eval`: scores a saved model on labelled data.

use std::process::ExitCode;

use anyhow::Context;
use serde_json::json;

use crate::cli::EvalArgs;
use backprop_data::EncodedTargets;
use backprop::metrics;
use backprop_data::model_file::Model;
use crate::scoring::{classes_from, engine_targets, load_for_model, mean_loss, predictions};

/// Loads the model and the data, predicts, and prints the metrics.
pub fn run(args: &EvalArgs) -> anyhow::Result<ExitCode> {
    let model = Model::load(&args.model)?;
    let data = load_for_model(&model, &args.data)?;
    let target_name = data.preprocessor.target.name().to_string();
    let targets = data.encoded.targets.as_ref().with_context(|| {
        format!(
            "{}: eval needs the target column {target_name:?}, which the data lacks",
            args.data
        )
    })?;
    let network = &model.network;
    let rows = data.encoded.rows;
    let x = &data.encoded.x;
    let loss = mean_loss(
        network,
        &model.metadata.loss,
        x,
        rows,
        &engine_targets(targets, &model.metadata.loss)?,
    );
    let outputs = predictions(network, x);
    let report = match targets {
        EncodedTargets::Classes(truth) => {
            let classes = data
                .preprocessor
                .target
                .classes()
                .context("the model is a classifier but its metadata lists no classes")?;
            let predicted = classes_from(&outputs, classes.len());
            let m = metrics::classification(truth, &predicted, classes);
            if args.json {
                json!({"rows": rows, "loss": loss, "accuracy": m.accuracy, "macro_f1": m.macro_f1,
                       "per_class": m.per_class, "confusion": m.confusion})
                .to_string()
            } else {
                format!(
                    "{rows} rows of {}\nloss      {loss:.6}\n{}",
                    args.data,
                    m.to_text()
                )
            }
        }
        EncodedTargets::Values(truth) => {
            let m = metrics::regression(truth, &outputs);
            if args.json {
                json!({"rows": rows, "loss": loss, "rmse": m.rmse, "mae": m.mae, "r2": m.r2})
                    .to_string()
            } else {
                format!(
                    "{rows} rows of {}\nloss  {loss:.6}\n{}",
                    args.data,
                    m.to_text()
                )
            }
        }
    };
    println!("{}", report.trim_end());
    Ok(ExitCode::SUCCESS)
}
