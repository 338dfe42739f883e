//! The command-line interface: subcommands and their flags (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::train_args::{LossName, TrainArgs};

/// Train, evaluate and use multilayer perceptrons from CSV, IDX and NumPy data.
#[derive(Debug, Parser)]
#[command(name = "backprop", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a network on a dataset and save it.
    Train(Box<TrainArgs>),
    /// Score a saved model on labelled data.
    Eval(EvalArgs),
    /// Write a saved model's predictions as CSV.
    Predict(PredictArgs),
    /// Describe a saved model.
    Inspect(InspectArgs),
    /// Check backpropagation against finite differences on a random network.
    Gradcheck(GradcheckArgs),
    /// List the built-in datasets.
    Datasets,
}

/// `backprop eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A model saved by `backprop train`.
    pub model: PathBuf,
    /// Labelled data with the model's feature columns and its target column.
    pub data: String,
    /// Print the metrics as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `backprop predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// A model saved by `backprop train`.
    pub model: PathBuf,
    /// Data with the model's feature columns (a target column, if present, is ignored).
    pub data: String,
    /// Add one probability column per class.
    #[arg(long)]
    pub proba: bool,
    /// Write to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `backprop inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A model saved by `backprop train`.
    pub model: PathBuf,
    /// Print the model's metadata as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `backprop gradcheck`.
#[derive(Debug, Args)]
pub struct GradcheckArgs {
    /// Layer widths from input to output, comma-separated.
    #[arg(long, default_value = "5,8,6,3")]
    pub layers: String,
    /// Hidden activation.
    #[arg(long, default_value = "tanh")]
    pub activation: String,
    /// Loss (its output activation follows).
    #[arg(long, value_enum, default_value = "ce")]
    pub loss: LossName,
    /// Rows in the random batch.
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// Random seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Largest relative error accepted.
    #[arg(long, default_value_t = 1e-6)]
    pub tolerance: f64,
}
