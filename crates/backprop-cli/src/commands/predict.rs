//! `backprop predict`: a saved model's predictions as CSV.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use anyhow::{bail, Context};

use crate::cli::PredictArgs;
use backprop_data::model_file::write_atomic;
use backprop_data::model_file::Model;
use crate::scoring::{classes_from, load_for_model, predictions};

/// Writes one row per input row: the prediction, then (with `--proba`) one probability per class.
pub fn run(args: &PredictArgs) -> anyhow::Result<ExitCode> {
    let model = Model::load(&args.model)?;
    let data = load_for_model(&model, &args.data)?;
    let outputs = predictions(&model.network, &data.encoded.x);
    let classes = data.preprocessor.target.classes();
    if args.proba && classes.is_none() {
        bail!(
            "--proba needs a classification model; {} predicts numbers",
            args.model.display()
        );
    }
    let mut csv = Vec::new();
    write_csv(&mut csv, &outputs, classes, args.proba)?;
    match &args.output {
        Some(path) => {
            write_atomic(path, &csv).with_context(|| format!("writing {}", path.display()))?
        }
        None => {
            let mut out = BufWriter::new(io::stdout().lock());
            out.write_all(&csv)?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn write_csv(
    out: &mut Vec<u8>,
    outputs: &[f32],
    classes: Option<&[String]>,
    proba: bool,
) -> anyhow::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    match classes {
        Some(classes) => {
            let mut header = vec!["prediction".to_string()];
            if proba {
                header.extend(classes.iter().map(|c| format!("p_{c}")));
            }
            writer.write_record(&header)?;
            let k = classes.len();
            for (row, class) in outputs.chunks_exact(k).zip(classes_from(outputs, k)) {
                let mut record = vec![classes[class].clone()];
                if proba {
                    record.extend(row.iter().map(|p| p.to_string()));
                }
                writer.write_record(&record)?;
            }
        }
        None => {
            writer.write_record(["prediction"])?;
            for value in outputs {
                writer.write_record([value.to_string()])?;
            }
        }
    }
    writer.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_a_prediction_and_probability_columns() {
        let classes = vec!["cat".to_string(), "dog".to_string()];
        let mut out = Vec::new();
        write_csv(&mut out, &[0.25, 0.75, 0.9, 0.1], Some(&classes), true).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "prediction,p_cat,p_dog\ndog,0.25,0.75\ncat,0.9,0.1\n"
        );
    }
}
