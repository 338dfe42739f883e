//! `backprop man [COMMAND]`: the man page (clap_mangen) of backprop or of one command, as roff
//! on standard output (`backprop man train | man -l -`).

use std::io::Write;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::CommandFactory;

use crate::cli::{Cli, ManArgs};

/// Renders the page.
pub fn run(args: &ManArgs) -> anyhow::Result<ExitCode> {
    let mut root = Cli::command();
    root.build();
    let page = match &args.command {
        None => root,
        Some(name) => {
            let Some(command) = root.find_subcommand(name) else {
                let names: Vec<&str> = root
                    .get_subcommands()
                    .map(|c| c.get_name())
                    .filter(|&n| n != "help")
                    .collect();
                bail!(
                    "unknown command {name:?}: expected one of {}",
                    names.join(", ")
                );
            };
            // The page is named `backprop-train`, as git's and cargo's are (leaked: one name per run).
            let full = format!("backprop-{}", command.get_name());
            command.clone().name(full.leak() as &str)
        }
    };
    let mut roff = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut roff)
        .context("cannot render the man page")?;
    std::io::stdout().lock().write_all(&roff)?;
    Ok(ExitCode::SUCCESS)
}
