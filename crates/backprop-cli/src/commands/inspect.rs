//! `backprop inspect`: what a model file holds.

use std::fmt::Write as _;
use std::process::ExitCode;

use backprop_data::{Encoding, Model};

use crate::cli::InspectArgs;

/// Prints the architecture, parameter count, preprocessing, classes and training summary.
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
    writeln!(out, "task           {}", meta.task)?;
    writeln!(out, "architecture   {arch}")?;
    writeln!(out, "loss           {}", serde_json::to_string(&meta.loss)?)?;
    writeln!(out, "parameters     {}", arch.parameter_count())?;
    let one_hot = pre
        .features
        .iter()
        .filter(|f| matches!(f.encoding, Encoding::OneHot { .. }))
        .count();
    writeln!(
        out,
        "preprocessing  {} feature columns ({one_hot} one-hot encoded) -> {} inputs, scaling {}",
        pre.features.len(),
        pre.inputs(),
        pre.scaler
    )?;
    writeln!(out, "target         {}", pre.target.name())?;
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
