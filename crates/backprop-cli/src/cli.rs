//! The command-line interface: subcommands and their flags (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::examples;
use crate::reading::ReadArgs;
use crate::train_args::{LossName, TrainArgs};
use crate::tune_args::TuneArgs;

/// Train, evaluate and use multilayer perceptrons from CSV, IDX and NumPy data.
#[derive(Debug, Parser)]
#[command(name = "backprop", version, about, long_about = None)]
pub struct Cli {
    /// What to do (none: a short usage with the common commands).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Colour: auto (on a terminal, unless NO_COLOR is set), always or never.
    #[arg(long, value_name = "WHEN", value_enum, global = true, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
    /// Print errors, warnings and the final line only: no header, notes, epoch lines or
    /// progress bar.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more: the batch loss and learning rate every few training steps, the time spent
    /// reading, training and saving, the rows read.
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    /// On a terminal, unless the NO_COLOR environment variable is set.
    Auto,
    /// Always, also into a pipe or file.
    Always,
    /// Never.
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a network on a dataset and save it.
    #[command(after_help = examples::TRAIN)]
    Train(Box<TrainArgs>),
    /// Cross-validate the training settings: train and score one network per fold.
    #[command(after_help = examples::CV)]
    Cv(Box<CvArgs>),
    /// Search for good training settings, then train and save the best.
    ///
    /// Random search with asynchronous successive halving (ASHA): trials drawn from the search
    /// space (--space, or the default one) train for a few epochs, the best third of each
    /// rung goes on to three times as many, up to --epochs. Every trial uses the same
    /// training rows and validation split (--val-fraction, --seed) and is scored by its
    /// validation loss. Trials train at the same time on the cores; with --trials (not
    /// --time) and a seed the result is the same for any --threads. Prints a line per
    /// result and a leaderboard, writes every trial to tune.csv (--log), then retrains the
    /// best settings on train + validation for the epochs they were best at, scores --test
    /// and saves the model (--save) with the settings and the search in its training
    /// summary.
    #[command(after_help = examples::TUNE)]
    Tune(Box<TuneArgs>),
    /// Score a saved model on labelled data.
    #[command(after_help = examples::EVAL)]
    Eval(EvalArgs),
    /// Write a saved model's predictions as CSV.
    #[command(after_help = examples::PREDICT)]
    Predict(PredictArgs),
    /// Serve saved models' predictions over HTTP (MLflow, TF Serving / KServe V1 and KServe V2
    /// protocols), batching concurrent requests.
    #[command(after_help = examples::SERVE)]
    Serve(ServeArgs),
    /// Watch and steer training in the browser: the playground of 2-D datasets (spirals,
    /// xor, moons, circles, regression), live decision boundary and loss curves, the whole
    /// run in the page's URL.
    #[command(after_help = examples::STUDIO)]
    Studio(StudioArgs),
    /// Describe a saved model.
    #[command(after_help = examples::INSPECT)]
    Inspect(InspectArgs),
    /// Export a saved model to ONNX (with its preprocessing) or to a PyTorch state dict.
    #[command(after_help = examples::EXPORT)]
    Export(crate::commands::export::ExportArgs),
    /// Check backpropagation against finite differences on a random network.
    #[command(after_help = examples::GRADCHECK)]
    Gradcheck(GradcheckArgs),
    /// List the built-in datasets.
    #[command(after_help = examples::DATASETS)]
    Datasets,
    /// Print a shell completion script for bash, zsh, fish, powershell or elvish.
    #[command(after_help = examples::COMPLETIONS)]
    Completions(CompletionsArgs),
    /// Print the man page of backprop, or of one command, as roff.
    #[command(after_help = examples::MAN)]
    Man(ManArgs),
    /// Print an example settings file for `--config`: every key, its default and meaning.
    #[command(after_help = examples::CONFIG)]
    Config(ConfigArgs),
}

/// `backprop completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `backprop man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// The command whose page to print (default: backprop itself).
    pub command: Option<String>,
}

/// `backprop config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Print a commented TOML file with every setting of `train` (and `cv`, `tune`).
    #[arg(long, required = true)]
    pub example: bool,
}

/// `backprop cv`: the settings of `train` (flags or `--config FILE.toml`) and how to cut the
/// folds. `--save`, `--test`, `--checkpoint`, `--resume`, `--plot` and `--init` are refused.
#[derive(Debug, Args)]
pub struct CvArgs {
    /// Folds per repeat: every row is held out in exactly one of them (stratified by class
    /// for a class target).
    #[arg(long, value_name = "K", default_value_t = 5)]
    pub folds: usize,
    /// How many times the rows are shuffled and cut into folds again (each from its own
    /// stream of --seed).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub repeats: usize,
    /// Refuse values that a fold's training rows never had (categories, missing cells) in its
    /// held-out rows, instead of encoding them as unknown.
    #[arg(long)]
    pub strict: bool,
    /// The training settings, as for `backprop train`.
    #[command(flatten, next_help_heading = "Training (as for `backprop train`)")]
    pub train: TrainArgs,
}

/// `backprop eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A model saved by `backprop train`.
    pub model: PathBuf,
    /// Labelled data with the model's feature columns and its target column (rows without a
    /// target value are left out, with a note).
    pub data: String,
    /// Print the metrics as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// How to read the data.
    #[command(flatten)]
    pub read: ReadArgs,
}

/// `backprop predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// A model saved by `backprop train`.
    pub model: PathBuf,
    /// Data with the model's feature columns, in any order (other columns are ignored, with a
    /// note; the model's identifier column, if any, is written first).
    pub data: String,
    /// Add one probability column per class.
    #[arg(long)]
    pub proba: bool,
    /// Significant digits of the numbers written (default 6), or `full` for the shortest text
    /// that reads back as the same float.
    #[arg(long, value_name = "N|full", default_value = "6")]
    pub precision: String,
    /// Write to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// How to read the data.
    #[command(flatten)]
    pub read: ReadArgs,
}

impl PredictArgs {
    /// `--precision`: `None` for full precision.
    pub fn precision(&self) -> anyhow::Result<Option<usize>> {
        match self.precision.as_str() {
            "full" => Ok(None),
            digits => match digits.parse::<usize>() {
                Ok(n) if (1..=17).contains(&n) => Ok(Some(n)),
                _ => anyhow::bail!(
                    "--precision {digits}: give a number of digits from 1 to 17, or full"
                ),
            },
        }
    }
}

/// `backprop serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Models saved by `backprop train`: PATH (named by its file stem) or NAME=PATH.
    #[arg(required = true, value_name = "MODEL")]
    pub models: Vec<String>,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// The port (0: any free port; the address is printed).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The most rows gathered from concurrent requests into one batch.
    #[arg(long, value_name = "ROWS", default_value_t = 256)]
    pub max_batch: usize,
    /// The longest a batch waits for more requests, in microseconds.
    #[arg(long, value_name = "US", default_value_t = 500)]
    pub max_wait_us: u64,
    /// Compute threads per model (default: one per core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// The largest request body (413 above it): bytes, or with KiB, MiB, GiB, KB, MB, GB.
    #[arg(long, value_name = "SIZE", default_value = "16MiB")]
    pub max_body: String,
    /// Refuse values the model never saw in training (categories, missing cells) instead of
    /// encoding them as unknown (as `backprop predict --strict`).
    #[arg(long)]
    pub strict: bool,
    /// `info`: one line per request on standard error.
    #[arg(long, value_enum, default_value_t = LogLevel::Off)]
    pub log: LogLevel,
}

/// `backprop studio`.
#[derive(Debug, Args)]
pub struct StudioArgs {
    /// The address to listen on (loopback: the page trains whatever it is asked to).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// The port (0: any free port; the address is printed).
    #[arg(long, default_value_t = 8090)]
    pub port: u16,
    /// Open the page in the default browser once the studio listens.
    #[arg(long)]
    pub open: bool,
}

/// `backprop serve --log`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogLevel {
    /// No request log.
    Off,
    /// One line per request.
    Info,
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
