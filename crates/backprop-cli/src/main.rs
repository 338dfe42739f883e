//! The `backprop` command: train, evaluate, predict, inspect and tune multilayer perceptrons.
//!
//! A thin front end: argument parsing ([`cli`], and [`train_args`] for the one settings
//! struct of `train` that clap and `--config FILE.toml` share; [`tune_args`] and
//! [`tune_space`] for `tune`), one module per subcommand ([`commands`]; `tune` trains its
//! trials with [`tune_trial`] and reports them with [`tune_report`]), progress and text
//! output ([`progress`], [`report`], [`plot`] with [`train_r2`] for a regression's training
//! R²), how much is printed ([`verbosity`]: `--quiet`, `-v`) and in which colours
//! ([`style`]). Files are read and written by
//! `backprop-data`, and every number is computed by the engine (`backprop`): [`scoring`]
//! only asks it for the loss, predictions and metrics.

// The settings modules live in the library (`src/lib.rs`), where the fuzz target reaches them;
// these names let the binary's modules keep writing `crate::train_args` and the like.
use backprop_cli::{accepted, config_example, reading, train_args, tune_space};

mod cli;
mod commands;
mod examples;
mod fitting;
mod interrupt;
mod plot;
mod progress;
mod report;
mod resume;
mod scoring;
mod style;
mod train_r2;
mod tune_args;
mod tune_report;
mod tune_trial;
mod verbosity;

use std::process::ExitCode;

use clap::Parser;

use cli::Command;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    style::set_color(cli.color);
    verbosity::set(cli.quiet, cli.verbose);
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            // A closed pipe (`backprop predict ... | head`) is not an error.
            if err.chain().any(|cause| {
                cause
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            style::error(&format!("{err:#}"));
            ExitCode::from(2)
        }
    }
}

fn run(cli: cli::Cli) -> anyhow::Result<ExitCode> {
    let Some(command) = cli.command else {
        println!("{}", examples::SHORT_USAGE);
        return Ok(ExitCode::SUCCESS);
    };
    match command {
        Command::Gradcheck(args) => commands::gradcheck::run(&args),
        Command::Eval(args) => commands::eval::run(&args),
        Command::Predict(args) => commands::predict::run(&args),
        Command::Serve(args) => commands::serve::run(&args),
        Command::Studio(args) => commands::studio::run(&args),
        Command::Inspect(args) => commands::inspect::run(&args),
        Command::Export(args) => commands::export::run(&args),
        Command::Datasets => commands::datasets::run(),
        Command::Train(args) => commands::train::run(*args),
        Command::Cv(args) => commands::cv::run(*args),
        Command::Tune(args) => commands::tune::run(*args),
        Command::Completions(args) => commands::completions::run(&args),
        Command::Man(args) => commands::man::run(&args),
        Command::Config(args) => commands::config::run(&args),
    }
}
