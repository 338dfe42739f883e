//! `backprop inspect`: what a model file holds, as readable text (`--json` for the document).

use std::fmt::Write as _;
use std::process::ExitCode;

use backprop::Loss;
use backprop_data::predictions::significant;
use backprop_data::{Encoding, Model, TargetSchema};
use serde_json::Value;

use crate::cli::InspectArgs;

/// Prints the architecture, the loss, the preprocessing column by column, and the training
/// summary.
pub fn run(args: &InspectArgs) -> anyhow::Result<ExitCode> {
    let model = Model::load(&args.model)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&model.metadata)?);
        return Ok(ExitCode::SUCCESS);
    }
    let meta = &model.metadata;
    let arch = &meta.architecture;
    let pre = &meta.preprocessing;
    let mut out = String::new();
    writeln!(out, "model          {}", args.model.display())?;
    writeln!(
        out,
        "format         version {}, written by backprop {}",
        meta.format_version, meta.library_version
    )?;
    writeln!(out, "architecture   {arch}")?;
    writeln!(out, "parameters     {}", arch.parameter_count())?;
    writeln!(out, "loss           {}", loss_text(&meta.loss))?;
    let target = match &pre.target {
        TargetSchema::Classify { name, classes, .. } => {
            format!(
                "{name:?}, {} classes: {}",
                classes.len(),
                classes.join(", ")
            )
        }
        TargetSchema::Regress { name, scale } => match scale {
            Some(s) => format!(
                "{name:?}, a number (learned standardized: mean {}, std {})",
                significant(s.mean, 6),
                significant(s.std, 6)
            ),
            None => format!("{name:?}, a number"),
        },
    };
    writeln!(out, "target         {target}")?;
    let na: Vec<String> = pre.na_values.iter().map(|v| format!("{v:?}")).collect();
    writeln!(
        out,
        "inputs         {} from {} feature columns; scaling {}; missing values: {}",
        pre.inputs(),
        pre.features.len(),
        pre.scaler,
        na.join(" ")
    )?;
    let width = pre
        .features
        .iter()
        .map(|f| f.name.chars().count())
        .chain(pre.left_out.iter().map(|l| l.name.chars().count()))
        .max()
        .unwrap_or(0)
        .max(12);
    for feature in &pre.features {
        writeln!(
            out,
            "  {:<width$} {}",
            feature.name,
            encoding_text(&feature.encoding)
        )?;
    }
    for left in &pre.left_out {
        writeln!(out, "  {:<width$} not a feature: {}", left.name, left.why)?;
    }
    if let Some(id) = &pre.id {
        writeln!(out, "identifier     {id:?} (predict writes it first)")?;
    }
    if let Value::Object(summary) = &meta.training {
        writeln!(out, "training")?;
        let width = summary.keys().map(String::len).max().unwrap_or(0);
        for (key, value) in summary {
            writeln!(out, "  {key:<width$} {}", value_text(value))?;
        }
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

/// `cross-entropy (label smoothing 0.1, class weights 1, 2)`, `mean squared error`, ...
fn loss_text(loss: &Loss) -> String {
    match loss {
        Loss::Mse => "mean squared error".to_string(),
        Loss::L1 => "mean absolute error".to_string(),
        Loss::Huber { delta } => format!("Huber (delta {delta})"),
        Loss::Bce => "binary cross-entropy on one sigmoid output".to_string(),
        Loss::CrossEntropy {
            label_smoothing,
            class_weights,
        } => {
            let mut text = "softmax cross-entropy".to_string();
            if *label_smoothing > 0.0 {
                text += &format!(", label smoothing {label_smoothing}");
            }
            if let Some(weights) = class_weights {
                let weights: Vec<String> = weights.iter().map(|w| significant(*w, 4)).collect();
                text += &format!(", class weights {}", weights.join(" "));
            }
            text
        }
    }
}

/// One line per feature column: its kind, scaling, fill value and inputs.
fn encoding_text(encoding: &Encoding) -> String {
    let number = |v: f64| significant(v, 6);
    let indicator = |on: bool| if on { " + a missing indicator" } else { "" };
    match encoding {
        Encoding::Numeric {
            offset,
            scale,
            fill,
            indicator: marked,
        } => {
            let fill = fill.map_or("none (missing cells refused)".to_string(), number);
            format!(
                "number, (x − {}) / {}, fill {fill}{}",
                number(*offset),
                number(*scale),
                indicator(*marked)
            )
        }
        Encoding::Boolean {
            words,
            fill,
            indicator: marked,
        } => format!("boolean {words} → 1/0, fill {fill}{}", indicator(*marked)),
        Encoding::Date {
            indicator: marked, ..
        } => format!(
            "date → year, month, day, weekday, days since 1970 (scaled), fill the medians{}",
            indicator(*marked)
        ),
        Encoding::OneHot {
            categories,
            other,
            missing,
        } => {
            let shown: Vec<&str> = categories.iter().take(8).map(String::as_str).collect();
            let more = if categories.len() > 8 { ", …" } else { "" };
            let mut text = format!(
                "text, {} categories ({}{more})",
                categories.len(),
                shown.join(", ")
            );
            if *other {
                text += " + other";
            }
            if *missing {
                text += " + missing";
            }
            text
        }
    }
}

/// A summary value as text: strings bare, floats to 6 significant digits, objects as
/// `key value` pairs.
fn value_text(value: &Value) -> String {
    match value {
        Value::Null => "-".to_string(),
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_f64() => n.as_f64().map_or(n.to_string(), |v| significant(v, 6)),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k} {}", value_text(v)))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Array(items) => items.iter().map(value_text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn losses_columns_and_summaries_read_as_text() {
        assert_eq!(loss_text(&Loss::cross_entropy()), "softmax cross-entropy");
        let numeric = Encoding::Numeric {
            offset: 35.0,
            scale: 11.180339887,
            fill: Some(35.0),
            indicator: true,
        };
        assert_eq!(
            encoding_text(&numeric),
            "number, (x − 35) / 11.1803, fill 35 + a missing indicator"
        );
        let summary = json!({"optimizer": {"kind": "adam", "lr": 0.001}, "seconds": 1.23456789});
        assert_eq!(value_text(&summary["optimizer"]), "kind adam, lr 0.001");
        assert_eq!(value_text(&summary["seconds"]), "1.23457");
    }
}
