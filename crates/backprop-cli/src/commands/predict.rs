//! `backprop predict`: a saved model's predictions as CSV.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use anyhow::{bail, Context};
use backprop_data::predictions::{self, Format};
use backprop_data::{load_encoded, write_atomic, Model};

use crate::cli::PredictArgs;
use crate::style::print_notes;

/// Writes one row per input row: the prediction, then (with `--proba`) one probability per class.
pub fn run(args: &PredictArgs) -> anyhow::Result<ExitCode> {
    let start = std::time::Instant::now();
    let model = Model::load(&args.model)?;
    let preprocessor = &model.metadata.preprocessing;
    let classes = preprocessor.target.classes();
    if args.proba && classes.is_none() {
        bail!(
            "--proba needs a classification model; {} predicts numbers",
            args.model.display()
        );
    }
    let (load, mut encode) = args.read.options()?;
    encode.ignore_target = true;
    let data = load_encoded(&args.data, preprocessor, &load, &encode)?;
    print_notes(&data.notes);
    let outputs = predictions::outputs(&model, &data.x);
    let mut csv = Vec::new();
    let ids = match (&preprocessor.id, &data.ids) {
        (Some(name), Some(ids)) => Some((name.as_str(), ids.as_slice())),
        _ => None,
    };
    let format = Format {
        classes,
        proba: args.proba,
        precision: args.precision()?,
        ids,
        outputs: predictions::width(&model),
    };
    predictions::write_csv(&mut csv, &outputs, &format)?;
    crate::verbosity::detail(&format!(
        "predicted {} rows of {} with {} ({}) in {:.3}s",
        data.rows,
        args.data,
        args.model.display(),
        model.network.architecture(),
        start.elapsed().as_secs_f64()
    ));
    match &args.output {
        Some(path) => {
            write_atomic(path, &csv).with_context(|| format!("cannot write {}", path.display()))?
        }
        None => {
            let mut out = BufWriter::new(io::stdout().lock());
            out.write_all(&csv)?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
