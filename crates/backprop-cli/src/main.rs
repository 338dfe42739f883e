//! The `backprop` command: train, evaluate, predict, inspect and tune multilayer perceptrons.
//!
//! A thin front end: argument parsing ([`cli`], and [`train_args`] for the one settings
//! struct of `train` that clap and `--config FILE.toml` share; [`tune_args`] and
//! [`tune_space`] for `tune`), one module per subcommand ([`commands`]; `tune` trains its
//! trials with [`tune_trial`] and reports them with [`tune_report`]), progress and text
//! output ([`progress`], [`report`], [`plot`]). Files are read and written by
//! `backprop-data`, and every number is computed by the engine (`backprop`): [`scoring`]
//! only asks it for the loss, predictions and metrics.

mod cli;
mod commands;
mod defaults;
mod fitting;
mod interrupt;
mod plot;
mod progress;
mod reading;
mod report;
mod resume;
mod scoring;
mod train_args;
mod tune_args;
mod tune_report;
mod tune_space;
mod tune_trial;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
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
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: cli::Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        cli::Command::Gradcheck(args) => commands::gradcheck::run(&args),
        cli::Command::Eval(args) => commands::eval::run(&args),
        cli::Command::Predict(args) => commands::predict::run(&args),
        cli::Command::Serve(args) => commands::serve::run(&args),
        cli::Command::Inspect(args) => commands::inspect::run(&args),
        cli::Command::Export(args) => commands::export::run(&args),
        cli::Command::Datasets => commands::datasets::run(),
        cli::Command::Train(args) => commands::train::run(*args),
        cli::Command::Cv(args) => commands::cv::run(*args),
        cli::Command::Tune(args) => commands::tune::run(*args),
    }
}
