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
            let shown: Vec<String> = classes.iter().take(SHOWN).map(|c| short(c)).collect();
            let more = if classes.len() > SHOWN { ", …" } else { "" };
            format!(
                "{:?}, {} classes: {}{more}",
                short(name),
                classes.len(),
                shown.join(", ")
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
        .take(SHOWN)
        .map(|f| short(&f.name).chars().count())
        .chain(
            pre.left_out
                .iter()
                .take(SHOWN)
                .map(|l| short(&l.name).chars().count()),
        )
        .max()
        .unwrap_or(0)
        .max(12);
    for feature in pre.features.iter().take(SHOWN) {
        writeln!(
            out,
            "  {:<width$} {}",
            short(&feature.name),
            encoding_text(&feature.encoding)
        )?;
    }
    more_line(&mut out, pre.features.len(), "feature columns")?;
    for left in pre.left_out.iter().take(SHOWN) {
        writeln!(
            out,
            "  {:<width$} not a feature: {}",
            short(&left.name),
            short_text(&left.why, 200)
        )?;
    }
    more_line(&mut out, pre.left_out.len(), "left-out columns")?;
    if let Some(id) = &pre.id {
        writeln!(out, "identifier     {id:?} (predict writes it first)")?;
    }
    if let Value::Object(summary) = &meta.training {
        writeln!(out, "training")?;
        let width = summary
            .keys()
            .take(SHOWN)
            .map(|k| short(k).chars().count())
            .max()
            .unwrap_or(0);
        for (key, value) in summary.iter().take(SHOWN) {
            writeln!(
                out,
                "  {:<width$} {}",
                short(key),
                short_text(&value_text(value), 200)
            )?;
        }
        more_line(&mut out, summary.len(), "training entries")?;
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

/// At most this many classes, columns or training entries are listed; `--json` has them all.
const SHOWN: usize = 50;

/// A name cut to 60 characters (`abc… (70000 characters)`), so that huge metadata prints
/// small.
fn short(name: &str) -> String {
    short_text(name, 60)
}

/// `text` cut after `limit` characters, with its length.
fn short_text(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        None => text.to_string(),
        Some((end, _)) => format!("{}… ({} characters)", &text[..end], text.chars().count()),
    }
}

/// `  … and 950 more feature columns (--json lists them)` when `count` is over [`SHOWN`].
fn more_line(out: &mut String, count: usize, what: &str) -> std::fmt::Result {
    if count > SHOWN {
        writeln!(
            out,
            "  … and {} more {what} (--json lists them)",
            count - SHOWN
        )?;
    }
    Ok(())
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
            let shown: Vec<String> = categories.iter().take(8).map(|c| short(c)).collect();
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
