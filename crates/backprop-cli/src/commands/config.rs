//! `backprop config --example`: prints the example settings file ([`crate::config_example`]).

use std::io::Write;
use std::process::ExitCode;

use crate::cli::ConfigArgs;

/// Prints the file (`--example` is required by clap).
pub fn run(_args: &ConfigArgs) -> anyhow::Result<ExitCode> {
    std::io::stdout()
        .lock()
        .write_all(crate::config_example::text().as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
