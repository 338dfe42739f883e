//! `backprop completions SHELL`: the shell completion script (clap_complete), on standard output.

use std::process::ExitCode;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};

/// Writes the script for `args.shell`.
pub fn run(args: &CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "backprop", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}
