//! `backprop eval`: scores a saved model on labelled data.

use std::process::ExitCode;

use backprop_data::{load_encoded, Model};
use serde_json::json;

use crate::cli::EvalArgs;
use crate::report::{classification_text, regression_text};
use crate::scoring::{score, Metrics};
use crate::style::print_notes;
use crate::verbosity;

/// Loads the model and the data, predicts, and prints the metrics (under `--quiet`, the
/// headline scores on one line).
pub fn run(args: &EvalArgs) -> anyhow::Result<ExitCode> {
    let start = std::time::Instant::now();
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
    verbosity::detail(&format!(
        "scored {rows} rows of {} with {} ({}) in {:.3}s",
        args.data,
        args.model.display(),
        model.network.architecture(),
        start.elapsed().as_secs_f64()
    ));
    let report = match (&scores.metrics, args.json) {
        (Metrics::Classification(m), true) => json!({"rows": rows, "loss": loss,
            "accuracy": m.accuracy, "macro_f1": m.macro_f1, "per_class": m.per_class,
            "confusion": m.confusion})
        .to_string(),
        (Metrics::Regression(m), true) => {
            json!({"rows": rows, "loss": loss, "rmse": m.rmse, "mae": m.mae, "r2": m.r2})
                .to_string()
        }
        (Metrics::Classification(m), false) if verbosity::quiet() => format!(
            "accuracy {:.4}  macro F1 {:.4}  loss {loss:.6}  ({rows} rows)",
            m.accuracy, m.macro_f1
        ),
        (Metrics::Regression(m), false) if verbosity::quiet() => format!(
            "rmse {:.6}  mae {:.6}  r2 {:.6}  loss {loss:.6}  ({rows} rows)",
            m.rmse, m.mae, m.r2
        ),
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
