//! The settings of `backprop train`: one struct read by clap from the command line and by
//! serde from `--config FILE.toml`, merged (flags win), then resolved into the engine's
//! [`TrainConfig`] and the few settings only the command has. Ranges are checked once, by
//! [`TrainConfig::validate`]; a new flag is one field here, with its doc comment (the `--help`
//! text, default included), plus the line of [`TrainArgs::resolve`] that hands it on.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use backprop::optim::OptimizerConfig;
use backprop::train::{EarlyStopping, TrainConfig, Validation};
use backprop::{Activation, Loss};
use backprop_data::{FitOptions, LoadOptions, Missing, Scaler, TargetScaler, TargetSelect, Task};
use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::defaults;
use crate::reading::{load_options, names, DecimalName};

/// `backprop train`. Every setting can also come from `--config FILE.toml` (same names, with
/// `_` for `-`); a flag given on the command line wins over the file.
#[derive(Clone, Debug, Default, Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainArgs {
    /// Training data: a CSV/TSV or JSON Lines (.jsonl, .ndjson) file (optionally .gz), a
    /// .parquet file (in a build with `--features parquet`), an MNIST IDX images file, an X
    /// .npy file, or a built-in dataset such as builtin:mnist10k (see `backprop datasets`).
    pub data: Option<String>,
    /// Target column, by name or 0-based index (default: the last column).
    #[arg(long)]
    pub target: Option<String>,
    /// Force classification or regression (default: inferred from the target column).
    #[arg(long, value_enum)]
    pub task: Option<TaskName>,
    /// Columns that are not features, comma-separated.
    #[arg(long, value_name = "COLS")]
    pub drop: Option<String>,
    /// The only feature columns, comma-separated (default: every column but the target).
    #[arg(long, value_name = "COLS")]
    pub features: Option<String>,
    /// Columns to use as features even when they look like identifiers (nearly all values
    /// distinct, or integers counting the rows), which are otherwise left out with a note.
    #[arg(long, value_name = "COLS")]
    pub keep: Option<String>,
    /// The identifier column: never a feature; `predict` writes it as its first column.
    #[arg(long, value_name = "COL")]
    pub id: Option<String>,
    /// Cell texts that mean "missing", comma-separated; an empty item is the empty cell
    /// (default: the empty cell, NA, N/A, NaN, nan, null, NULL, ?, -).
    #[arg(long, value_name = "LIST", allow_hyphen_values = true)]
    pub na_values: Option<String>,
    /// Missing feature cells: impute fills numbers, booleans and dates with the training
    /// median plus a 0/1 input that marks them, and gives text a category of their own;
    /// error refuses them (default impute). Rows without a target are always left out, with a note.
    #[arg(long, value_enum)]
    pub missing: Option<MissingName>,
    /// Most categories a text column keeps; rarer values become "other" (default 50).
    #[arg(long, value_name = "N")]
    pub max_categories: Option<usize>,
    /// Field separator of a delimited text file (default: detected among , ; tab |).
    #[arg(long, value_name = "C")]
    pub delimiter: Option<String>,
    /// Decimal mark of its numbers (default: comma when the file is not comma-separated and
    /// writes its numbers 1,5).
    #[arg(long, value_enum)]
    pub decimal: Option<DecimalName>,
    /// The most bytes gzip data may inflate to: bytes, or with a unit (512MiB, 2G = 2 GiB,
    /// 2GB = 2·10⁹); more is an error (default 16GiB).
    #[arg(long, value_name = "SIZE")]
    pub max_decompressed: Option<String>,
    /// Held-out test data, scored after training.
    #[arg(long)]
    pub test: Option<String>,
    /// Fraction of the training data held out for validation, stratified and random (default
    /// 0: none. Every row trains, and early stopping watches the training loss, as
    /// scikit-learn's defaults do; a 10% split was 11 rows of iris, whose noise stopped
    /// training at epoch 1, and was worse or equal on each of the 17 datasets measured).
    #[arg(long, value_parser = crate::accepted::finite)]
    #[serde(default, deserialize_with = "crate::accepted::finite_number")]
    pub val_fraction: Option<f64>,
    /// Hidden layer widths, comma-separated (default 256,128); empty for none. In the
    /// config file also a list: `layers = [256, 128]`.
    #[arg(long)]
    #[serde(default, deserialize_with = "crate::accepted::widths")]
    pub layers: Option<String>,
    /// Hidden activation (default relu): relu, tanh, sigmoid, leaky_relu (slope 0.01, or
    /// leaky_relu(SLOPE)), elu (alpha 1, or elu(ALPHA)), gelu, silu, softplus, identity.
    #[arg(long, value_name = "NAME")]
    pub activation: Option<String>,
    /// Loss (default: ce for several classes, bce for two, mse for numbers).
    #[arg(long, value_enum)]
    pub loss: Option<LossName>,
    /// Optimizer (default adam).
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerName>,
    /// Learning rate (default: the optimizer's usual one, 0.001 for adam, 0.01 for sgd).
    #[arg(long, value_parser = crate::accepted::finite)]
    #[serde(default, deserialize_with = "crate::accepted::finite_number")]
    pub lr: Option<f64>,
    /// Momentum for sgd and rmsprop (default 0).
    #[arg(long, value_parser = crate::accepted::finite)]
    #[serde(default, deserialize_with = "crate::accepted::finite_number")]
    pub momentum: Option<f64>,
    /// Nesterov momentum (sgd).
    #[arg(long)]
    #[serde(default)]
    pub nesterov: bool,
    /// Weight decay (L2 added to the gradient; decoupled for adamw, default 0.01 there).
    #[arg(long, value_parser = crate::accepted::finite)]
    #[serde(default, deserialize_with = "crate::accepted::finite_number")]
    pub weight_decay: Option<f64>,
    /// L2 penalty on the weights (not the biases), as scikit-learn's alpha: each batch's mean
    /// loss gains alpha/(2·rows)·ΣW², with every optimizer (default: a fixed penalty spread
    /// over the training rows, 100 / rows for classification and 1000 / rows for regression,
    /// where a network fits the noise of a standardized target within a few epochs; 0 turns
    /// it off).
    #[arg(long, value_name = "ALPHA", value_parser = crate::accepted::finite)]
    #[serde(default, deserialize_with = "crate::accepted::finite_number")]
    pub l2: Option<f64>,
    /// Mini-batch size (default 64; as large as the data or more means full batch).
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Total number of epochs, also when resuming (default 200).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Stop after this many epochs without improvement of the monitored loss (the validation
    /// loss with --val-fraction, else the training loss), and keep the best weights (default
    /// 10; 0 turns early stopping off).
    #[arg(long)]
    pub patience: Option<usize>,
    /// The smallest decrease of the monitored loss that counts as an improvement for early
    /// stopping (default 0).
    #[arg(long, value_name = "DELTA", value_parser = crate::accepted::finite)]
    #[serde(default, deserialize_with = "crate::accepted::finite_number")]
    pub min_delta: Option<f64>,
    /// Dropout probability on hidden layers (default: 0.2 for classification with at least
    /// 1000 training rows, else 0: it costs accuracy on small sets, and R² in regression,
    /// which the L2 penalty regularizes).
    #[arg(long, value_parser = crate::accepted::finite)]
    #[serde(default, deserialize_with = "crate::accepted::finite_number")]
    pub dropout: Option<f64>,
    /// Random seed for initialization, shuffling, splitting and dropout (default 0).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Feature scaling, decided per numeric input from its training values and stored in the
    /// model (default auto: min-max when at least half the values sit at the minimum or the
    /// maximum, as pixels, counts and indicators do, standard otherwise; standardizing a
    /// nearly constant column, such as a border pixel, divides by a tiny deviation and blows
    /// up the values beyond its training range).
    #[arg(long, value_enum)]
    pub scale: Option<ScaleName>,
    /// Scaling of a regression target: standard makes the network learn (y − mean) / std of
    /// the training targets and turns its predictions back into the target's units (stored in
    /// the model); none learns the values as they are (default standard: the optimizer's
    /// usual learning rate then fits any target's scale).
    #[arg(long, value_enum, value_name = "SCALER")]
    pub scale_target: Option<TargetScaleName>,
    /// Keep the data order instead of shuffling every epoch.
    #[arg(long)]
    #[serde(default)]
    pub no_shuffle: bool,
    /// Start from these weights: a backprop model, a bare safetensors weights file, or a
    /// PyTorch nn.Sequential state dict.
    #[arg(long, value_name = "MODEL", value_parser = crate::accepted::utf8_path)]
    pub init: Option<PathBuf>,
    /// Where to save the trained model (default model.safetensors).
    #[arg(long, value_name = "MODEL", value_parser = crate::accepted::utf8_path)]
    pub save: Option<PathBuf>,
    /// Save a checkpoint into this folder after every epoch.
    #[arg(long, value_name = "DIR", value_parser = crate::accepted::utf8_path)]
    pub checkpoint: Option<PathBuf>,
    /// Continue training from the checkpoint in this folder.
    #[arg(long, value_name = "DIR", value_parser = crate::accepted::utf8_path)]
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
    #[arg(long, value_name = "FILE", value_parser = crate::accepted::utf8_path)]
    pub plot: Option<PathBuf>,
}

/// Classification or regression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskName {
    /// Predict a class.
    Classify,
    /// Predict a number.
    Regress,
}

/// Loss names on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
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

impl LossName {
    /// The engine's loss of this name.
    pub fn loss(self) -> Loss {
        match self {
            LossName::Mse => Loss::Mse,
            LossName::L1 => Loss::L1,
            LossName::Huber => Loss::Huber { delta: 1.0 },
            LossName::Bce => Loss::Bce,
            LossName::Ce => Loss::cross_entropy(),
        }
    }
}

/// Optimizer names on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
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

/// What to do with missing feature cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingName {
    /// Fill them in, and say how.
    Impute,
    /// Refuse them, naming the first one.
    Error,
}

/// Feature scaling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScaleName {
    /// Min-max or standard, per input, from its training values.
    Auto,
    /// Zero mean, unit variance per feature.
    Standard,
    /// Each feature to [0, 1].
    Minmax,
    /// As given.
    None,
}

/// Regression target scaling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetScaleName {
    /// Zero mean, unit variance over the training targets.
    Standard,
    /// As given.
    None,
}

/// Hidden layer widths when `--layers` is not given.
pub const DEFAULT_LAYERS: &str = "256,128";
/// Mini-batch size when `--batch-size` is not given.
pub const DEFAULT_BATCH_SIZE: usize = 64;
/// Epochs when `--epochs` is not given.
pub const DEFAULT_EPOCHS: usize = 200;
/// Early-stopping patience when `--patience` is not given.
pub const DEFAULT_PATIENCE: usize = 10;
/// Validation fraction when `--val-fraction` is not given: none, every row trains.
pub const DEFAULT_VAL_FRACTION: f64 = 0.0;
/// The model file when `--save` is not given.
pub const DEFAULT_SAVE: &str = "model.safetensors";

/// A training run, resolved: the engine's settings and what the command does around them.
#[derive(Clone, Debug)]
pub struct TrainPlan {
    /// The training data spec (a path or `builtin:NAME`).
    pub data: String,
    /// How to read the training and test files (`--target`, `--delimiter`, `--decimal`).
    pub load: LoadOptions,
    /// How to learn the preprocessing (`--scale`, `--task`, the column roles, missing values).
    pub fit: FitOptions,
    /// `--test`.
    pub test: Option<String>,
    /// Hidden layer widths.
    pub layers: Vec<usize>,
    /// Hidden activation.
    pub activation: Activation,
    /// `--loss` (None: follows from the task).
    pub loss: Option<LossName>,
    /// `--init`.
    pub init: Option<PathBuf>,
    /// Where the model goes.
    pub save: PathBuf,
    /// `--checkpoint` (with `--resume` and no `--checkpoint`, the resume folder).
    pub checkpoint: Option<PathBuf>,
    /// `--resume`.
    pub resume: Option<PathBuf>,
    /// Whether `--lr` (or `lr` in the config file) was given: a resumed run then continues
    /// at that rate rather than the checkpoint's.
    pub lr_given: bool,
    /// JSON lines on stdout.
    pub json: bool,
    /// `--plot`.
    pub plot: Option<PathBuf>,
    /// Everything the engine's training loop takes, validated; the settings left to the data
    /// are placeholders until [`TrainPlan::settle`].
    pub config: TrainConfig,
    /// `--dropout` if given; `None` leaves it to [`defaults::dropout`].
    pub dropout: Option<f64>,
    /// `--l2` if given; `None` leaves it to [`defaults::l2`].
    pub l2: Option<f64>,
    /// What [`TrainPlan::settle`] decided from the data, a phrase each, for the header.
    pub decided: Vec<String>,
}

impl TrainPlan {
    /// Fills in the settings that follow from the training data (`rows` rows of `task`) when
    /// their flags were not given, and notes what it decided.
    pub fn settle(&mut self, rows: usize, task: Task) {
        let (config, decided) = self.settled(&self.config, rows, task);
        self.config = config;
        self.decided = decided;
    }

    /// `config` (the plan's, or a variation of it) with the settings that follow from the
    /// data filled in as [`TrainPlan::settle`] does, and what was decided.
    pub fn settled(
        &self,
        config: &TrainConfig,
        rows: usize,
        task: Task,
    ) -> (TrainConfig, Vec<String>) {
        let mut config = config.clone();
        let mut decided = Vec::new();
        if self.l2.is_none() {
            let (l2, why) = defaults::l2(task, rows);
            config.l2_penalty = l2;
            decided.push(why);
        }
        // L-BFGS takes no dropout (its line search needs a deterministic loss).
        let lbfgs = matches!(config.optimizer, OptimizerConfig::Lbfgs(_));
        if self.dropout.is_none() && !lbfgs {
            let (dropout, why) = defaults::dropout(task, rows);
            config.dropout = dropout;
            decided.push(why);
        }
        (config, decided)
    }
}

impl TrainArgs {
    /// These settings (from the command line) over those of `--config`, if given: a flag
    /// given on the command line wins; a switch (`--nesterov`, `--no-shuffle`, `--json`) is
    /// on if either turns it on.
    pub fn with_config_file(self) -> anyhow::Result<Self> {
        match &self.config {
            Some(path) => Ok(self.clone().over(read_config(path)?)),
            None => Ok(self),
        }
    }

    /// `self` over `file`, field by field, through their serialized form: a field that is
    /// unset (`None`) or `false` in `self` takes the file's value.
    pub fn over(self, file: TrainArgs) -> TrainArgs {
        let config = self.config.clone();
        let (Ok(Value::Object(mine)), Ok(Value::Object(mut merged))) =
            (serde_json::to_value(&self), serde_json::to_value(&file))
        else {
            unreachable!("settings serialize to an object")
        };
        for (key, value) in mine {
            if !matches!(value, Value::Null | Value::Bool(false)) {
                merged.insert(key, value);
            }
        }
        let mut args: TrainArgs = serde_json::from_value(Value::Object(merged))
            .expect("merged settings have the fields of the struct");
        args.config = config;
        args
    }

    /// Fills in the defaults and checks everything before any data is read.
    pub fn resolve(self) -> anyhow::Result<TrainPlan> {
        let Some(data) = self.data else {
            bail!(
                "no training data: give DATA (a file or builtin:NAME) or `data` in the config file"
            );
        };
        let layers =
            parse_widths(self.layers.as_deref().unwrap_or(DEFAULT_LAYERS)).context("--layers")?;
        let activation: Activation = match &self.activation {
            Some(name) => crate::accepted::activation(name).context("--activation")?,
            None => Activation::Relu,
        };
        let val_fraction = self.val_fraction.unwrap_or(DEFAULT_VAL_FRACTION);
        let patience = self.patience.unwrap_or(DEFAULT_PATIENCE);
        let config = TrainConfig {
            epochs: self.epochs.unwrap_or(DEFAULT_EPOCHS),
            batch_size: self.batch_size.unwrap_or(DEFAULT_BATCH_SIZE),
            optimizer: optimizer(
                self.optimizer.unwrap_or(OptimizerName::Adam),
                self.lr,
                self.momentum,
                self.nesterov,
                self.weight_decay,
            )?,
            shuffle: !self.no_shuffle,
            seed: self.seed.unwrap_or(0),
            validation: if val_fraction == 0.0 {
                Validation::None
            } else {
                Validation::Fraction(val_fraction)
            },
            early_stopping: (patience > 0).then(|| EarlyStopping {
                patience,
                min_delta: self.min_delta.unwrap_or(0.0),
            }),
            // Until `settle` applies the rule of `defaults::dropout`.
            dropout: self.dropout.unwrap_or(0.0),
            // Until `settle` applies the rule of `defaults::l2`.
            l2_penalty: self.l2.unwrap_or(0.0),
            threads: self.threads,
            ..TrainConfig::default()
        };
        config.validate()?;
        if self.init.is_some() && self.resume.is_some() {
            bail!("--init and --resume cannot be combined: a resumed run continues from its checkpoint's weights");
        }
        let scaler = match self.scale {
            Some(ScaleName::Standard) => Scaler::Standard,
            Some(ScaleName::Minmax) => Scaler::Minmax,
            Some(ScaleName::None) => Scaler::None,
            Some(ScaleName::Auto) | None => Scaler::Auto,
        };
        let defaults = FitOptions::default();
        let fit = FitOptions {
            scaler,
            target_scaler: match self.scale_target {
                Some(TargetScaleName::None) => TargetScaler::None,
                Some(TargetScaleName::Standard) | None => TargetScaler::Standard,
            },
            task: self.task.map(|t| match t {
                TaskName::Classify => Task::Classify,
                TaskName::Regress => Task::Regress,
            }),
            na_values: match &self.na_values {
                Some(list) => list.split(',').map(|t| t.trim().to_string()).collect(),
                None => defaults.na_values,
            },
            missing: match self.missing {
                Some(MissingName::Error) => Missing::Error,
                Some(MissingName::Impute) | None => Missing::Impute,
            },
            drop: self.drop.as_deref().map(names).unwrap_or_default(),
            features: self.features.as_deref().map(names),
            keep: self.keep.as_deref().map(names).unwrap_or_default(),
            id: self.id,
            max_categories: self.max_categories.unwrap_or(defaults.max_categories),
        };
        if fit.max_categories == 0 {
            bail!("--max-categories must be at least 1");
        }
        let load = LoadOptions {
            target: self.target.map_or(TargetSelect::Last, TargetSelect::Column),
            ..load_options(
                self.delimiter.as_deref(),
                self.decimal,
                self.max_decompressed.as_deref(),
            )?
        };
        Ok(TrainPlan {
            load,
            fit,
            test: self.test,
            layers,
            activation,
            loss: self.loss,
            init: self.init,
            save: self.save.unwrap_or_else(|| PathBuf::from(DEFAULT_SAVE)),
            checkpoint: self.checkpoint.or_else(|| self.resume.clone()),
            resume: self.resume,
            lr_given: self.lr.is_some(),
            json: self.json,
            plot: self.plot,
            data,
            config,
            dropout: self.dropout,
            l2: self.l2,
            decided: Vec::new(),
        })
    }
}

/// Reads a `--config` file: TOML with the flags' names (`_` for `-`); an unknown key is an
/// error that names it.
fn read_config(path: &Path) -> anyhow::Result<TrainArgs> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    parse_config(&text, &path.display().to_string())
}

/// Parses the text of a `--config` file named `name` (for messages): TOML with the flags'
/// names (`_` for `-`). An unknown key, a value of the wrong type or bad TOML is an error that
/// names the file, the line and column, and the key; ranges are checked later, by
/// [`TrainArgs::resolve`].
pub fn parse_config(text: &str, name: &str) -> anyhow::Result<TrainArgs> {
    toml::from_str(text)
        .map_err(|e| anyhow::anyhow!("{name}: {}", e.to_string().trim_end().replace('\n', " ")))
}

/// The optimizer from its name and the options given for it; an option the optimizer does not
/// have is an error rather than silently ignored.
fn optimizer(
    name: OptimizerName,
    lr: Option<f64>,
    momentum: Option<f64>,
    nesterov: bool,
    weight_decay: Option<f64>,
) -> anyhow::Result<OptimizerConfig> {
    let name = name.to_possible_value().expect("no skipped names");
    let mut config = OptimizerConfig::by_name(name.get_name())?;
    if let Some(lr) = lr {
        config = config.with_lr(lr);
    }
    if let Some(momentum) = momentum {
        config = config.with_momentum(momentum)?;
    }
    config = config.with_nesterov(nesterov)?;
    if let Some(weight_decay) = weight_decay {
        config = config.with_weight_decay(weight_decay)?;
    }
    Ok(config)
}

/// Parses comma-separated widths like `256,128` (empty text gives no widths).
pub fn parse_widths(text: &str) -> anyhow::Result<Vec<usize>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|part| {
            let width: usize = part
                .trim()
                .parse()
                .with_context(|| format!("{part:?} is not a layer width (a positive integer)"))?;
            if width == 0 {
                bail!("a layer width must be at least 1");
            }
            Ok(width)
        })
        .collect()
}

/// The loss and the number of outputs for a task: several classes → softmax + `ce`, two
/// classes → one sigmoid output + `bce`, numbers → identity + `mse`. `--loss` overrides, but
/// must suit the task.
pub fn choose_loss(
    task: Task,
    classes: usize,
    requested: Option<LossName>,
) -> anyhow::Result<(Loss, usize)> {
    let name = match (task, requested) {
        (Task::Classify, _) if classes < 2 => {
            bail!("classification needs at least two classes, the target has {classes}")
        }
        (Task::Classify, None) if classes == 2 => LossName::Bce,
        (Task::Classify, None) => LossName::Ce,
        (Task::Regress, None) => LossName::Mse,
        (Task::Classify, Some(LossName::Ce)) => LossName::Ce,
        (Task::Classify, Some(LossName::Bce)) if classes == 2 => LossName::Bce,
        (Task::Classify, Some(LossName::Bce)) => bail!(
            "--loss bce needs two classes, the target has {classes}: use ce (softmax) instead"
        ),
        (Task::Classify, Some(other)) => bail!(
            "--loss {} is a regression loss, but the task is classification: use ce or bce, or \
             --task regress",
            other.loss().name()
        ),
        (Task::Regress, Some(name @ (LossName::Mse | LossName::L1 | LossName::Huber))) => name,
        (Task::Regress, Some(other)) => bail!(
            "--loss {} is a classification loss, but the task is regression: use mse, l1 or \
             huber, or --task classify",
            other.loss().name()
        ),
    };
    let outputs = match (task, name) {
        (Task::Classify, LossName::Ce) => classes,
        _ => 1,
    };
    Ok((name.loss(), outputs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_in_and_flags_win_over_the_file() {
        let file: TrainArgs = toml::from_str(
            "data = \"a.csv\"\nepochs = 3\nlr = 0.5\noptimizer = \"sgd\"\nmomentum = 0.9\n\
             nesterov = true\nlayers = \"4\"",
        )
        .unwrap();
        let cli = TrainArgs {
            epochs: Some(7),
            layers: Some(String::new()),
            ..TrainArgs::default()
        };
        let plan = cli.over(file).resolve().unwrap();
        assert_eq!(plan.data, "a.csv");
        assert_eq!(plan.config.epochs, 7);
        assert_eq!(plan.layers, Vec::<usize>::new(), "an empty flag still wins");
        assert_eq!(plan.config.batch_size, 64);
        assert_eq!(plan.config.early_stopping, Some(EarlyStopping::new(10)));
        assert_eq!((plan.dropout, plan.l2), (None, None), "left to the data");
        assert_eq!(plan.config.validation, Validation::None);
        assert_eq!(plan.config.optimizer.lr(), 0.5);
        assert_eq!(
            plan.config.optimizer,
            OptimizerConfig::sgd(0.5)
                .with_momentum(0.9)
                .and_then(|c| c.with_nesterov(true))
                .unwrap()
        );
        assert_eq!(plan.save, PathBuf::from("model.safetensors"));
        assert_eq!(plan.fit.scaler, Scaler::Auto);
        assert_eq!(plan.fit.target_scaler, TargetScaler::Standard);
        assert_eq!(plan.fit.na_values, FitOptions::default().na_values);
        assert_eq!(plan.load.target, TargetSelect::Last);
    }

    #[test]
    fn every_source_gets_the_same_rules_from_its_data() {
        for spec in [
            "builtin:mnist10k",
            "data/train-images-idx3-ubyte.gz",
            "digits.csv",
        ] {
            let plan = TrainArgs {
                data: Some(spec.into()),
                ..TrainArgs::default()
            }
            .resolve()
            .unwrap();
            assert_eq!(plan.fit.scaler, Scaler::Auto, "{spec}");
            let mut wide = plan.clone();
            wide.settle(8000, Task::Classify);
            assert_eq!(wide.config.dropout, defaults::DROPOUT, "{spec}");
            assert_eq!(wide.config.l2_penalty, 0.0125, "{spec}");
            assert_eq!(wide.decided.len(), 2, "{:?}", wide.decided);
            let mut small = plan;
            small.settle(500, Task::Regress);
            assert_eq!(small.config.dropout, 0.0, "{spec}");
            assert_eq!(small.config.l2_penalty, 2.0, "{spec}");
        }
    }

    #[test]
    fn given_flags_are_not_overruled_by_the_data() {
        let mut plan = TrainArgs {
            data: Some("a.csv".into()),
            dropout: Some(0.05),
            l2: Some(0.0),
            scale: Some(ScaleName::Standard),
            scale_target: Some(TargetScaleName::None),
            val_fraction: Some(0.2),
            min_delta: Some(1e-3),
            ..TrainArgs::default()
        }
        .resolve()
        .unwrap();
        plan.settle(8000, Task::Regress);
        assert_eq!(plan.config.dropout, 0.05);
        assert!(plan.decided.is_empty());
        assert_eq!(plan.config.l2_penalty, 0.0);
        assert_eq!(
            (plan.fit.scaler, plan.fit.target_scaler),
            (Scaler::Standard, TargetScaler::None)
        );
        assert_eq!(plan.config.validation, Validation::Fraction(0.2));
        assert_eq!(plan.config.early_stopping.unwrap().min_delta, 1e-3);
        let mut lbfgs = TrainArgs {
            data: Some("a.csv".into()),
            optimizer: Some(OptimizerName::Lbfgs),
            ..TrainArgs::default()
        }
        .resolve()
        .unwrap();
        lbfgs.settle(8000, Task::Classify);
        assert_eq!(lbfgs.config.dropout, 0.0, "L-BFGS takes no dropout");
        lbfgs.config.validate().unwrap();
    }

    #[test]
    fn column_and_missing_value_flags_reach_the_data_layer() {
        let plan = TrainArgs {
            data: Some("a.csv".into()),
            target: Some("y".into()),
            drop: Some("a, b".into()),
            features: Some("c".into()),
            id: Some("key".into()),
            na_values: Some(",-999".into()),
            missing: Some(MissingName::Error),
            delimiter: Some(";".into()),
            decimal: Some(DecimalName::Comma),
            max_categories: Some(7),
            ..TrainArgs::default()
        }
        .resolve()
        .unwrap();
        assert_eq!(plan.fit.drop, ["a", "b"]);
        assert_eq!(plan.fit.features, Some(vec!["c".to_string()]));
        assert_eq!(plan.fit.id.as_deref(), Some("key"));
        assert_eq!(plan.fit.na_values, ["", "-999"]);
        assert_eq!(
            (plan.fit.missing, plan.fit.max_categories),
            (Missing::Error, 7)
        );
        assert_eq!(plan.load.target, TargetSelect::Column("y".into()));
        assert_eq!(
            (plan.load.delimiter, plan.load.decimal),
            (Some(b';'), Some(backprop_data::Decimal::Comma))
        );
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = toml::from_str::<TrainArgs>("epochz = 3")
            .unwrap_err()
            .to_string();
        assert!(err.contains("epochz"), "{err}");
    }

    /// Every setting, given in the file, comes through the merge with an empty command line
    /// unchanged (the merge goes through JSON, which has no NaN or infinity: those are refused
    /// when the file is read, with the line and column).
    #[test]
    fn the_merge_keeps_every_setting_and_refuses_non_finite_numbers() {
        let names = match serde_json::to_value(TrainArgs::default()) {
            Ok(Value::Object(fields)) => fields.keys().cloned().collect::<Vec<_>>(),
            _ => unreachable!("settings serialize to an object"),
        };
        let mut floats = 0;
        for key in &names {
            for value in ["nan", "inf", "-inf"] {
                let err = parse_config(&format!("{key} = {value}"), "a.toml").unwrap_err();
                assert!(err.to_string().contains("line 1, column"), "{key}: {err}");
            }
            let samples = [
                "0.25",
                "3",
                "true",
                "\"4\"",
                "\"classify\"",
                "\"mse\"",
                "\"sgd\"",
                "\"error\"",
                "\"comma\"",
                "\"minmax\"",
                "\"none\"",
            ];
            let given = samples
                .iter()
                .find_map(|value| parse_config(&format!("{key} = {value}"), "a.toml").ok())
                .unwrap_or_else(|| panic!("{key} takes none of the sample values"));
            floats += usize::from(parse_config(&format!("{key} = 0.25"), "a.toml").is_ok());
            let merged = TrainArgs::default().over(given.clone());
            assert_eq!(format!("{merged:?}"), format!("{given:?}"), "{key}");
        }
        assert_eq!(floats, 7, "the number settings");
        let err = parse_config("epochs = 2\nlr = nan\n", "a.toml").unwrap_err();
        assert!(err.to_string().contains("line 2, column 6"), "{err}");
        assert!(err.to_string().contains("not a finite number"), "{err}");
    }

    #[test]
    fn out_of_range_values_are_refused_by_the_engine() {
        let bad = |args: TrainArgs| {
            let args = TrainArgs {
                data: Some("a.csv".into()),
                ..args
            };
            args.resolve().unwrap_err().to_string()
        };
        assert!(bad(TrainArgs {
            dropout: Some(1.0),
            ..TrainArgs::default()
        })
        .contains("dropout"));
        assert!(bad(TrainArgs {
            val_fraction: Some(1.5),
            ..TrainArgs::default()
        })
        .contains("validation fraction"));
        assert!(bad(TrainArgs {
            epochs: Some(0),
            ..TrainArgs::default()
        })
        .contains("epochs"));
        assert!(bad(TrainArgs {
            momentum: Some(0.9),
            ..TrainArgs::default()
        })
        .contains("momentum applies to sgd and rmsprop, not adam"));
        assert!(bad(TrainArgs {
            optimizer: Some(OptimizerName::Lbfgs),
            weight_decay: Some(0.1),
            ..TrainArgs::default()
        })
        .contains("lbfgs"));
        assert!(bad(TrainArgs {
            optimizer: Some(OptimizerName::Sgd),
            lr: Some(-1.0),
            ..TrainArgs::default()
        })
        .contains("lr"));
    }

    #[test]
    fn widths_parse_and_reject_nonsense() {
        assert_eq!(parse_widths("256, 128").unwrap(), vec![256, 128]);
        assert_eq!(parse_widths("").unwrap(), Vec::<usize>::new());
        assert!(parse_widths("12,x").is_err());
        assert!(parse_widths("0").is_err());
    }

    #[test]
    fn the_loss_follows_the_task_and_overrides_must_fit() {
        let (loss, outputs) = choose_loss(Task::Classify, 2, None).unwrap();
        assert_eq!((loss.name(), outputs), ("bce", 1));
        let (loss, outputs) = choose_loss(Task::Classify, 2, Some(LossName::Ce)).unwrap();
        assert_eq!((loss.name(), outputs), ("ce", 2));
        let (loss, outputs) = choose_loss(Task::Classify, 5, None).unwrap();
        assert_eq!((loss.name(), outputs), ("ce", 5));
        let (loss, outputs) = choose_loss(Task::Regress, 0, Some(LossName::Huber)).unwrap();
        assert_eq!((loss.name(), outputs), ("huber", 1));
        assert!(choose_loss(Task::Classify, 3, Some(LossName::Bce)).is_err());
        assert!(choose_loss(Task::Classify, 3, Some(LossName::Mse)).is_err());
        assert!(choose_loss(Task::Regress, 0, Some(LossName::Ce)).is_err());
    }
}
