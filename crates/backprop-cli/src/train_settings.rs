//! The settings of `backprop train`: command-line flags merged over a `--config FILE.toml`,
//! checked, with the defaults filled in, and the engine settings that follow from them
//! (optimizer, loss and output layer).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use backprop::optim::OptimizerConfig;
use backprop::{Activation, Loss};

use crate::cli::{LossName, OptimizerName, ScaleName, Task as TaskName, TrainArgs};
use backprop_data::{Scaler, Task};
use crate::settings::{loss_from_name, parse_widths};

/// Hidden layer widths when `--layers` is not given.
pub const DEFAULT_LAYERS: &str = "256,128";
/// Mini-batch size when `--batch-size` is not given.
pub const DEFAULT_BATCH_SIZE: usize = 64;
/// Epochs when `--epochs` is not given.
pub const DEFAULT_EPOCHS: usize = 200;
/// Early-stopping patience when `--patience` is not given.
pub const DEFAULT_PATIENCE: usize = 10;
/// Dropout on image data (IDX files, `builtin:mnist*`) when `--dropout` is not given; other
/// data gets none, since dropout costs accuracy on small tabular sets.
pub const DEFAULT_IMAGE_DROPOUT: f64 = 0.3;
/// Validation fraction when `--val-fraction` is not given.
pub const DEFAULT_VAL_FRACTION: f64 = 0.1;
/// The model file when `--save` is not given.
pub const DEFAULT_SAVE: &str = "model.safetensors";

/// Every setting of a training run, resolved.
#[derive(Clone, Debug)]
pub struct TrainSettings {
    /// The training data spec (a path or `builtin:NAME`).
    pub data: String,
    /// `--target`.
    pub target: Option<String>,
    /// `--task` (None: inferred from the target column).
    pub task: Option<Task>,
    /// `--test`.
    pub test: Option<String>,
    /// Validation fraction; 0 means no validation split.
    pub val_fraction: f64,
    /// Hidden layer widths.
    pub layers: Vec<usize>,
    /// Hidden activation.
    pub activation: Activation,
    /// `--loss` (None: follows from the task).
    pub loss: Option<LossName>,
    /// The optimizer with its learning rate and options.
    pub optimizer: OptimizerConfig,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Total epochs (also when resuming).
    pub epochs: usize,
    /// Early-stopping patience; 0 turns early stopping off.
    pub patience: usize,
    /// Dropout probability on hidden layers.
    pub dropout: f64,
    /// Seed of initialization, split, shuffling and dropout.
    pub seed: u64,
    /// Worker threads (None: all cores).
    pub threads: Option<usize>,
    /// Feature scaling (None: standard, except for image data already in [0, 1]).
    pub scale: Option<Scaler>,
    /// Shuffle the rows every epoch.
    pub shuffle: bool,
    /// `--init`.
    pub init: Option<PathBuf>,
    /// Where the model goes.
    pub save: PathBuf,
    /// `--checkpoint` (with `--resume` and no `--checkpoint`, the resume folder).
    pub checkpoint: Option<PathBuf>,
    /// `--resume`.
    pub resume: Option<PathBuf>,
    /// JSON lines on stdout.
    pub json: bool,
    /// `--plot`.
    pub plot: Option<PathBuf>,
}

/// Reads a `--config` file: TOML with the flags' names (`_` for `-`); an unknown key is an
/// error that names it.
pub fn read_config(path: &Path) -> anyhow::Result<TrainArgs> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    toml::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}: {}",
            path.display(),
            e.to_string().trim_end().replace('\n', " ")
        )
    })
}

/// The command line over the config file: a flag given on the command line wins; a switch
/// (`--nesterov`, `--no-shuffle`, `--json`) is on if either turns it on.
pub fn merge(cli: TrainArgs, file: TrainArgs) -> TrainArgs {
    TrainArgs {
        data: cli.data.or(file.data),
        target: cli.target.or(file.target),
        task: cli.task.or(file.task),
        test: cli.test.or(file.test),
        val_fraction: cli.val_fraction.or(file.val_fraction),
        layers: cli.layers.or(file.layers),
        activation: cli.activation.or(file.activation),
        loss: cli.loss.or(file.loss),
        optimizer: cli.optimizer.or(file.optimizer),
        lr: cli.lr.or(file.lr),
        momentum: cli.momentum.or(file.momentum),
        nesterov: cli.nesterov || file.nesterov,
        weight_decay: cli.weight_decay.or(file.weight_decay),
        batch_size: cli.batch_size.or(file.batch_size),
        epochs: cli.epochs.or(file.epochs),
        patience: cli.patience.or(file.patience),
        dropout: cli.dropout.or(file.dropout),
        seed: cli.seed.or(file.seed),
        threads: cli.threads.or(file.threads),
        scale: cli.scale.or(file.scale),
        no_shuffle: cli.no_shuffle || file.no_shuffle,
        init: cli.init.or(file.init),
        save: cli.save.or(file.save),
        checkpoint: cli.checkpoint.or(file.checkpoint),
        resume: cli.resume.or(file.resume),
        config: cli.config,
        json: cli.json || file.json,
        plot: cli.plot.or(file.plot),
    }
}

/// Fills in the defaults and checks every value's range.
pub fn resolve(args: TrainArgs) -> anyhow::Result<TrainSettings> {
    let Some(data) = args.data else {
        bail!("no training data: give DATA (a file or builtin:NAME) or `data` in the config file");
    };
    let val_fraction = args.val_fraction.unwrap_or(DEFAULT_VAL_FRACTION);
    if !(0.0..1.0).contains(&val_fraction) {
        bail!("--val-fraction must be at least 0 and below 1 (0 for no validation), got {val_fraction}");
    }
    let layers =
        parse_widths(args.layers.as_deref().unwrap_or(DEFAULT_LAYERS)).context("--layers")?;
    let activation: Activation = match &args.activation {
        Some(name) => name
            .parse()
            .map_err(|e| anyhow::anyhow!("--activation {name}: {e}"))?,
        None => Activation::Relu,
    };
    let optimizer = optimizer_config(
        args.optimizer.unwrap_or(OptimizerName::Adam),
        args.lr,
        args.momentum,
        args.nesterov,
        args.weight_decay,
    )?;
    let batch_size = args.batch_size.unwrap_or(DEFAULT_BATCH_SIZE);
    if batch_size == 0 {
        bail!("--batch-size must be at least 1");
    }
    let epochs = args.epochs.unwrap_or(DEFAULT_EPOCHS);
    if epochs == 0 {
        bail!("--epochs must be at least 1");
    }
    let image = is_image_data(&data);
    let dropout = args
        .dropout
        .unwrap_or(if image { DEFAULT_IMAGE_DROPOUT } else { 0.0 });
    if !(0.0..1.0).contains(&dropout) {
        bail!("--dropout must be at least 0 and below 1, got {dropout}");
    }
    if args.threads == Some(0) {
        bail!("--threads must be at least 1 (leave it out to use every core)");
    }
    let checkpoint = args.checkpoint.or_else(|| args.resume.clone());
    Ok(TrainSettings {
        data,
        target: args.target,
        task: args.task.map(|t| match t {
            TaskName::Classify => Task::Classify,
            TaskName::Regress => Task::Regress,
        }),
        test: args.test,
        val_fraction,
        layers,
        activation,
        loss: args.loss,
        optimizer,
        batch_size,
        epochs,
        patience: args.patience.unwrap_or(DEFAULT_PATIENCE),
        dropout,
        seed: args.seed.unwrap_or(0),
        threads: args.threads,
        scale: args.scale.map(|s| match s {
            ScaleName::Standard => Scaler::Standard,
            ScaleName::Minmax => Scaler::Minmax,
            ScaleName::None => Scaler::None,
        }),
        shuffle: !args.no_shuffle,
        init: args.init,
        save: args.save.unwrap_or_else(|| PathBuf::from(DEFAULT_SAVE)),
        checkpoint,
        resume: args.resume,
        json: args.json,
        plot: args.plot,
    })
}

/// The optimizer from its name and the options that apply to it; an option the optimizer
/// does not have is an error rather than silently ignored.
pub fn optimizer_config(
    name: OptimizerName,
    lr: Option<f64>,
    momentum: Option<f64>,
    nesterov: bool,
    weight_decay: Option<f64>,
) -> anyhow::Result<OptimizerConfig> {
    let mut config = match name {
        OptimizerName::Sgd => OptimizerConfig::sgd(0.01),
        OptimizerName::Adam => OptimizerConfig::adam(),
        OptimizerName::Adamw => OptimizerConfig::adamw(),
        OptimizerName::Rmsprop => OptimizerConfig::rmsprop(),
        OptimizerName::Adagrad => OptimizerConfig::adagrad(),
        OptimizerName::Rprop => OptimizerConfig::rprop(),
        OptimizerName::Lbfgs => OptimizerConfig::lbfgs(),
    };
    let optimizer = config.name();
    if let Some(lr) = lr {
        config = config.with_lr(lr);
    }
    match (&mut config, momentum) {
        (OptimizerConfig::Sgd { momentum: m, .. }, Some(v))
        | (OptimizerConfig::RmsProp { momentum: m, .. }, Some(v)) => *m = v,
        (_, Some(_)) => bail!("--momentum applies to sgd and rmsprop, not {optimizer}"),
        (_, None) => {}
    }
    match &mut config {
        OptimizerConfig::Sgd { nesterov: n, .. } => *n = nesterov,
        _ if nesterov => bail!("--nesterov applies to sgd, not {optimizer}"),
        _ => {}
    }
    if let Some(v) = weight_decay {
        match &mut config {
            OptimizerConfig::Sgd { weight_decay, .. }
            | OptimizerConfig::Adam { weight_decay, .. }
            | OptimizerConfig::AdamW { weight_decay, .. }
            | OptimizerConfig::RmsProp { weight_decay, .. }
            | OptimizerConfig::Adagrad { weight_decay, .. } => *weight_decay = v,
            _ => bail!("--weight-decay does not apply to {optimizer}"),
        }
    }
    config
        .validate()
        .map_err(|e| anyhow::anyhow!("--optimizer {optimizer}: {e}"))?;
    Ok(config)
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
            loss_from_name(other, 1).name()
        ),
        (Task::Regress, Some(name @ (LossName::Mse | LossName::L1 | LossName::Huber))) => name,
        (Task::Regress, Some(other)) => bail!(
            "--loss {} is a classification loss, but the task is regression: use mse, l1 or \
             huber, or --task classify",
            loss_from_name(other, 1).name()
        ),
    };
    let outputs = match (task, name) {
        (Task::Classify, LossName::Ce) => classes,
        _ => 1,
    };
    Ok((loss_from_name(name, outputs), outputs))
}

/// Whether `spec` names image data (MNIST IDX files or a built-in MNIST set), which gets its
/// own defaults: no feature scaling (pixels are already in [0, 1]) and some dropout.
pub fn is_image_data(spec: &str) -> bool {
    let lower = spec.to_ascii_lowercase();
    lower.starts_with("builtin:mnist") || lower.contains("images-idx3")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_in_and_flags_win_over_the_file() {
        let file: TrainArgs =
            toml::from_str("data = \"a.csv\"\nepochs = 3\nlr = 0.5\noptimizer = \"sgd\"\nmomentum = 0.9\nnesterov = true").unwrap();
        let cli = TrainArgs {
            epochs: Some(7),
            ..TrainArgs::default()
        };
        let settings = resolve(merge(cli, file)).unwrap();
        assert_eq!(settings.data, "a.csv");
        assert_eq!(settings.epochs, 7);
        assert_eq!(settings.layers, vec![256, 128]);
        assert_eq!(settings.batch_size, 64);
        assert_eq!(settings.patience, DEFAULT_PATIENCE);
        assert_eq!(settings.dropout, 0.0, "no dropout on tabular data");
        assert_eq!(settings.optimizer.lr(), 0.5);
        assert!(matches!(
            settings.optimizer,
            OptimizerConfig::Sgd { nesterov: true, .. }
        ));
        assert_eq!(settings.save, PathBuf::from("model.safetensors"));
    }

    #[test]
    fn image_data_is_recognized() {
        assert!(is_image_data("builtin:mnist10k"));
        assert!(is_image_data("data/train-images-idx3-ubyte.gz"));
        assert!(!is_image_data("iris.csv"));
        assert!(!is_image_data("builtin:spirals"));
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = toml::from_str::<TrainArgs>("epochz = 3")
            .unwrap_err()
            .to_string();
        assert!(err.contains("epochz"), "{err}");
    }

    #[test]
    fn options_an_optimizer_lacks_are_errors() {
        assert!(optimizer_config(OptimizerName::Adam, None, Some(0.9), false, None).is_err());
        assert!(optimizer_config(OptimizerName::Adam, None, None, true, None).is_err());
        assert!(optimizer_config(OptimizerName::Lbfgs, None, None, false, Some(0.1)).is_err());
        let sgd = optimizer_config(OptimizerName::Sgd, Some(0.1), Some(0.9), true, None).unwrap();
        assert!(matches!(
            sgd,
            OptimizerConfig::Sgd { lr, momentum, nesterov: true, .. } if lr == 0.1 && momentum == 0.9
        ));
        assert!(optimizer_config(OptimizerName::Sgd, Some(-1.0), None, false, None).is_err());
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
