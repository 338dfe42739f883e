//! `backprop gradcheck`: backpropagation against central finite differences on a random network.

use std::process::ExitCode;

use anyhow::{bail, Context};
use backprop::gradcheck::random_gradient_check;
use backprop::{Activation, Architecture};

use crate::cli::GradcheckArgs;
use crate::train_args::parse_widths;

/// Builds the random network, prints the per-layer table, and fails above the tolerance.
pub fn run(args: &GradcheckArgs) -> anyhow::Result<ExitCode> {
    let widths = parse_widths(&args.layers).context("--layers")?;
    if widths.len() < 2 {
        bail!("--layers needs at least an input and an output width, like 4,16,3");
    }
    let activation: Activation =
        crate::accepted::activation(&args.activation).context("--activation")?;
    let outputs = *widths.last().expect("checked above");
    let loss = args.loss.loss();
    let arch = Architecture::new(
        widths[0],
        &widths[1..widths.len() - 1],
        activation,
        outputs,
        loss.output_activation(),
    );
    let report = random_gradient_check(&arch, &loss, args.batch, args.seed)?;
    crate::verbosity::info(&format!(
        "gradient check: layers {}, activation {activation}, loss {}, batch {}, seed {}",
        args.layers,
        loss.name(),
        args.batch,
        args.seed
    ));
    crate::verbosity::info(&report.to_string());
    let worst = report.worst();
    if worst > args.tolerance {
        println!(
            "FAILED: worst relative error {worst:.3e} exceeds the tolerance {:.1e}",
            args.tolerance
        );
        return Ok(ExitCode::from(1));
    }
    println!(
        "ok: worst relative error {worst:.3e} is within the tolerance {:.1e}",
        args.tolerance
    );
    Ok(ExitCode::SUCCESS)
}
