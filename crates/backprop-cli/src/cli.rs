//! The command-line interface: subcommands and their flags (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Deserialize;

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

/// Classification or regression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Predict a class.
    Classify,
    /// Predict a number.
    Regress,
}

/// Loss names on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossName {
    /// Mean squared error (regression).
    Mse,
    /// Mean absolute error (regression).
    L1,
    /// Huber loss with delta 1 (regression).
    Huber,
    /// Binary cross-entropy on one sigmoid output (two classes).
    Bce,
    /// Softmax cross-entropy (two or more classes).
    Ce,
}

/// Optimizer names on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerName {
    /// Stochastic gradient descent (with --momentum, --nesterov).
    Sgd,
    /// Adam.
    Adam,
    /// Adam with decoupled weight decay.
    Adamw,
    /// RMSprop.
    Rmsprop,
    /// Adagrad.
    Adagrad,
    /// Resilient backpropagation (full batch).
    Rprop,
    /// L-BFGS (full batch; for small data).
    Lbfgs,
}

/// Feature scaling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScaleName {
    /// Zero mean, unit variance per feature.
    Standard,
    /// Each feature to [0, 1].
    Minmax,
    /// As given.
    None,
}

/// `backprop train`. Every setting can also come from `--config FILE.toml` (same names, with
/// `_` for `-`); a flag given on the command line wins over the file.
#[derive(Debug, Default, Args, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainArgs {
    /// Training data: a CSV/TSV file (optionally .gz), an MNIST IDX images file, an X .npy
    /// file, or a built-in dataset such as builtin:mnist10k (see `backprop datasets`).
    #[serde(default)]
    pub data: Option<String>,
    /// Target column, by name or 0-based index (default: the last column).
    #[arg(long)]
    pub target: Option<String>,
    /// Force classification or regression (default: inferred from the target column).
    #[arg(long, value_enum)]
    pub task: Option<Task>,
    /// Held-out test data, scored after training.
    #[arg(long)]
    pub test: Option<String>,
    /// Fraction of the training data held out for validation (stratified, random).
    #[arg(long)]
    pub val_fraction: Option<f64>,
    /// Hidden layer widths, comma-separated (e.g. 256,128); empty for none.
    #[arg(long)]
    pub layers: Option<String>,
    /// Hidden activation: relu, tanh, sigmoid, leaky_relu(0.01), elu, gelu, silu, softplus, identity.
    #[arg(long)]
    pub activation: Option<String>,
    /// Loss (default: ce for classes, mse for numbers).
    #[arg(long, value_enum)]
    pub loss: Option<LossName>,
    /// Optimizer (default adam).
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerName>,
    /// Learning rate (default: the optimizer's usual one, 0.001 for adam).
    #[arg(long)]
    pub lr: Option<f64>,
    /// Momentum for sgd and rmsprop.
    #[arg(long)]
    pub momentum: Option<f64>,
    /// Nesterov momentum (sgd).
    #[arg(long)]
    #[serde(default)]
    pub nesterov: bool,
    /// Weight decay (L2; decoupled for adamw).
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Mini-batch size (default 64; larger than the data means full batch).
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Total number of epochs, also when resuming (default 200).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Stop after this many epochs without improvement of the validation loss, and keep the
    /// best weights (default 10; 0 turns early stopping off).
    #[arg(long)]
    pub patience: Option<usize>,
    /// Dropout probability on hidden layers (default 0, or 0.3 for image data: IDX files and builtin:mnist10k).
    #[arg(long)]
    pub dropout: Option<f64>,
    /// Random seed for initialization, shuffling, splitting and dropout (default 0).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Feature scaling (default standard; none for image data, whose pixels are already in [0, 1]).
    #[arg(long, value_enum)]
    pub scale: Option<ScaleName>,
    /// Keep the data order instead of shuffling every epoch.
    #[arg(long)]
    #[serde(default)]
    pub no_shuffle: bool,
    /// Start from these weights: a backprop model, a bare safetensors weights file, or a
    /// PyTorch nn.Sequential state dict.
    #[arg(long, value_name = "MODEL")]
    pub init: Option<PathBuf>,
    /// Where to save the trained model (default model.safetensors).
    #[arg(long, value_name = "MODEL")]
    pub save: Option<PathBuf>,
    /// Save a checkpoint into this folder after every epoch.
    #[arg(long, value_name = "DIR")]
    pub checkpoint: Option<PathBuf>,
    /// Continue training from the checkpoint in this folder.
    #[arg(long, value_name = "DIR")]
    pub resume: Option<PathBuf>,
    /// Read settings from a TOML file.
    #[arg(long, value_name = "FILE.toml")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Print one JSON object per epoch (and one for the test set) instead of text.
    #[arg(long)]
    #[serde(default)]
    pub json: bool,
    /// Draw the loss and accuracy curves to an SVG or PNG file.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
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
