//! `backprop eval`: scores a saved model on labelled data.

use std::process::ExitCode;

use backprop_data::{load_encoded, Model};
use serde_json::json;

use crate::cli::EvalArgs;
use crate::reading::print_notes;
use crate::report::{classification_text, regression_text};
use crate::scoring::{score, Metrics};

/// Loads the model and the data, predicts, and prints the metrics.
pub fn run(args: &EvalArgs) -> anyhow::Result<ExitCode> {
    let model = Model::load(&args.model)?;
    let meta = &model.metadata;
    let (load, encode) = args.read.options()?;
    let data = load_encoded(&args.data, &meta.preprocessing, &load, &encode)?;
    print_notes(&data.notes);
    let scores = score(
        &model.network,
        &meta.loss,
        &meta.preprocessing,
        &data,
        &args.data,
    )?;
    let (rows, loss) = (scores.rows, scores.loss);
    let report = match (&scores.metrics, args.json) {
        (Metrics::Classification(m), true) => json!({"rows": rows, "loss": loss,
            "accuracy": m.accuracy, "macro_f1": m.macro_f1, "per_class": m.per_class,
            "confusion": m.confusion})
        .to_string(),
        (Metrics::Regression(m), true) => {
            json!({"rows": rows, "loss": loss, "rmse": m.rmse, "mae": m.mae, "r2": m.r2})
                .to_string()
        }
        (Metrics::Classification(m), false) => format!(
            "{rows} rows of {}\nloss      {loss:.6}\n{}",
            args.data,
            classification_text(m)
        ),
        (Metrics::Regression(m), false) => format!(
            "{rows} rows of {}\nloss  {loss:.6}\n{}",
            args.data,
            regression_text(m)
        ),
    };
    println!("{}", report.trim_end());
    Ok(ExitCode::SUCCESS)
}
