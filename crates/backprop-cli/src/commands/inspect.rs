//! `backprop inspect`: what a model file holds.

use std::fmt::Write as _;
use std::process::ExitCode;

use crate::cli::InspectArgs;
use backprop_data::model_file::Model;
use crate::scoring::preprocessor;

/// Prints the architecture, parameter count, preprocessing, classes and training summary.
pub fn run(args: &InspectArgs) -> anyhow::Result<ExitCode> {
    let model = Model::load(&args.model)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&model.metadata)?);
        return Ok(ExitCode::SUCCESS);
    }
    let meta = &model.metadata;
    let arch = &meta.architecture;
    let mut out = String::new();
    writeln!(out, "model          {}", args.model.display())?;
    writeln!(
        out,
        "format         version {}, written by backprop {}",
        meta.format_version, meta.library_version
    )?;
    writeln!(out, "task           {}", meta.task)?;
    let widths: Vec<String> = arch.widths().iter().map(|w| w.to_string()).collect();
    writeln!(out, "architecture   {}", widths.join("-"))?;
    for (i, layer) in arch.hidden.iter().enumerate() {
        writeln!(
            out,
            "  layer {i}      {} units, {}",
            layer.units, layer.activation
        )?;
    }
    writeln!(
        out,
        "  output       {} units, {:?}",
        arch.outputs, arch.output
    )?;
    writeln!(out, "loss           {}", serde_json::to_string(&meta.loss)?)?;
    writeln!(out, "parameters     {}", arch.parameter_count())?;
    if let Ok(pre) = preprocessor(&model) {
        let one_hot = pre
            .features
            .iter()
            .filter(|f| matches!(f.encoding, backprop_data::Encoding::OneHot { .. }))
            .count();
        writeln!(
            out,
            "preprocessing  {} feature columns ({} one-hot encoded) -> {} inputs, scaling {}",
            pre.features.len(),
            one_hot,
            pre.inputs(),
            pre.scaler
        )?;
        writeln!(out, "target         {}", pre.target.name())?;
    }
    if let Some(classes) = &meta.classes {
        writeln!(out, "classes        {}", classes.join(", "))?;
    }
    if !meta.training.is_null() {
        writeln!(
            out,
            "training       {}",
            serde_json::to_string_pretty(&meta.training)?.replace('\n', "\n               ")
        )?;
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}
