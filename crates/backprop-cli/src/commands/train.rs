//! `backprop train`: read the data, fit the preprocessing, train, score the test data, save.
//!
//! The loss and output layer follow from the task (see [`choose_loss`]): several classes get
//! softmax + cross-entropy, two classes one sigmoid output + binary cross-entropy (the second
//! class, `classes[1]`, is the positive one), numbers an identity output + mean squared error.
//! Everything that can be checked before training (settings, data, test data, `--init`,
//! `--resume`, the plot's format, the save folder) is checked first, so a bad input never
//! costs a training run, and the model file is only replaced once training succeeded.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};
use backprop_data::pytorch::architecture_from_shapes;
use backprop::train::{
    fit, fit_resume, Checkpoint, Control, EarlyStopping, EpochInfo, Observer, StepInfo,
    TrainConfig, TrainReport, TrainState, Validation,
};
use backprop::{Architecture, Dataset, Init, Loss, Network, OutputActivation};
use serde_json::{json, Value};

use backprop_data::checkpoint::{self, CheckpointWriter};
use crate::cli::TrainArgs;
use backprop_data::{self, EncodedTargets, LoadOptions, Preprocessor, Scaler};
use backprop::metrics;
use backprop_data::model_file::{load_initial_weights, Model, ModelMetadata};
use crate::plot;
use crate::progress::{number, Progress};
use crate::scoring::{classes_from, engine_targets, mean_loss, predictions, EngineTargets};
use crate::train_settings::{
    choose_loss, is_image_data, merge, read_config, resolve, TrainSettings,
};

/// Runs `backprop train`.
pub fn run(args: TrainArgs) -> anyhow::Result<ExitCode> {
    let args = match &args.config {
        Some(path) => {
            let file = read_config(path)?;
            merge(args, file)
        }
        None => args,
    };
    let s = resolve(args)?;
    if let Some(path) = &s.plot {
        plot::format_of(path)?;
    }
    check_save_folder(&s.save)?;
    if s.init.is_some() && s.resume.is_some() {
        bail!("--init and --resume cannot be combined: a resumed run continues from its checkpoint's weights");
    }

    let table = data::load(&s.data, &LoadOptions::training(s.target.as_deref()))?;
    let scaler = s.scale.unwrap_or(if is_image_data(&s.data) {
        Scaler::None
    } else {
        Scaler::Standard
    });
    let pre = Preprocessor::fit(&table, scaler, s.task)?;
    let task = pre.target.task();
    let classes: Option<Vec<String>> = pre.target.classes().map(<[String]>::to_vec);
    let (loss, outputs) = choose_loss(task, classes.as_ref().map_or(0, Vec::len), s.loss)?;
    let x = pre.transform(&table)?;
    let y = engine_targets(&pre.encode_target(&table)?, &loss)?;
    // Training needs only `x` and `y` from here on: free the table's copy of the data.
    let rows = table.rows;
    drop(table);
    let test = match &s.test {
        Some(spec) => Some(load_test(spec, &pre, &loss)?),
        None => None,
    };

    let arch = Architecture::new(
        pre.inputs(),
        &s.layers,
        s.activation,
        outputs,
        loss.output_activation(),
    );
    arch.validate()?;
    let resume = match &s.resume {
        Some(dir) => Some(checkpoint::read(dir)?),
        None => None,
    };
    let mut net = match (&resume, &s.init) {
        (Some((model, _)), _) => {
            same_architecture(&model.network, &arch, "the checkpoint")?;
            if model.metadata.preprocessing != serde_json::to_value(&pre)? {
                bail!(
                    "the checkpoint in {} was made with other data or preprocessing (columns, \
                     classes, --scale): resume with the same data and flags",
                    s.resume
                        .as_ref()
                        .map_or(String::new(), |d| d.display().to_string())
                );
            }
            model.network.clone()
        }
        (None, Some(path)) => {
            let net = load_initial_weights(path, |tensors| {
                architecture_from_shapes(tensors, &[s.activation], arch.output)
            })?;
            same_architecture(&net, &arch, &format!("--init {}", path.display()))?;
            net
        }
        (None, None) => Network::new(arch.clone(), Init::Auto, s.seed)?,
    };

    let config = TrainConfig {
        epochs: s.epochs,
        batch_size: s.batch_size,
        optimizer: s.optimizer.clone(),
        shuffle: s.shuffle,
        seed: s.seed,
        validation: if s.val_fraction > 0.0 {
            Validation::Fraction(s.val_fraction)
        } else {
            Validation::None
        },
        early_stopping: (s.patience > 0).then(|| EarlyStopping::new(s.patience)),
        dropout: s.dropout,
        threads: s.threads,
        ..TrainConfig::default()
    };
    config.validate()?;
    let metadata = ModelMetadata::new(
        arch.clone(),
        loss.clone(),
        &task.to_string(),
        classes.clone(),
        serde_json::to_value(&pre).context("cannot serialize the preprocessing")?,
        Value::Null,
    );
    let progress = Progress::new(s.json);
    if !s.json {
        print_header(&progress, &s, rows, &pre, &arch, &loss, scaler, &config);
    }
    let mut observer = RunObserver {
        progress: &progress,
        checkpoints: match &s.checkpoint {
            Some(dir) => Some(CheckpointWriter::new(dir, metadata.clone())?),
            None => None,
        },
        failure: None,
    };
    let train = Dataset::new(&x, pre.inputs(), y.as_targets())?;
    let start = Instant::now();
    let result = match &resume {
        Some((_, state)) => fit_resume(&mut net, &loss, train, None, &config, state, &mut observer),
        None => fit(&mut net, &loss, train, None, &config, &mut observer),
    };
    progress.finish();
    if let Some(failure) = observer.failure {
        return Err(failure);
    }
    let report = result?;
    let seconds = start.elapsed().as_secs_f64();

    let test_metrics = test
        .as_ref()
        .map(|t| score(&net, &loss, classes.as_deref(), t));
    if let Some(metrics) = &test_metrics {
        if s.json {
            progress.println(&Value::Object(metrics.clone()).to_string());
        } else {
            progress.println(&test_text(metrics, test.as_ref().map_or(0, |t| t.rows)));
        }
    }
    let mut metadata = metadata;
    metadata.training = summary(&s, &config, &report, test_metrics.as_ref(), seconds);
    Model::new(metadata, net)?.save(&s.save)?;
    if !s.json {
        progress.println(&format!(
            "{}saved      {} ({:.1}s)",
            stop_line(&report),
            s.save.display(),
            seconds
        ));
    }
    if let Some(path) = &s.plot {
        plot::draw(path, &report.history)?;
        if !s.json {
            progress.println(&format!("plot       {}", path.display()));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Fails early when the model's folder does not exist, rather than after training.
fn check_save_folder(save: &Path) -> anyhow::Result<()> {
    let folder = match save.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !folder.is_dir() {
        bail!(
            "cannot save the model to {}: the folder {} does not exist",
            save.display(),
            folder.display()
        );
    }
    if save.is_dir() {
        bail!(
            "cannot save the model to {}: it is a folder",
            save.display()
        );
    }
    Ok(())
}

/// The architecture of loaded weights must be the one the data and flags imply.
fn same_architecture(net: &Network<f32>, arch: &Architecture, what: &str) -> anyhow::Result<()> {
    if net.architecture() != arch {
        bail!(
            "{what} has the architecture {}, but the data and flags call for {}",
            describe(net.architecture()),
            describe(arch)
        );
    }
    Ok(())
}

/// `784 → 256 relu → 128 relu → 10 softmax`.
pub fn describe(arch: &Architecture) -> String {
    let mut text = arch.inputs.to_string();
    for layer in &arch.hidden {
        text += &format!(" → {} {}", layer.units, layer.activation);
    }
    let output = match arch.output {
        OutputActivation::Identity => "identity",
        OutputActivation::Sigmoid => "sigmoid",
        OutputActivation::Softmax => "softmax",
    };
    text + &format!(" → {} {output}", arch.outputs)
}

/// Test data, encoded with the training schema.
struct TestData {
    x: Vec<f32>,
    rows: usize,
    /// The targets as encoded (class indices or values), for the metrics.
    encoded: EncodedTargets,
    /// The targets as the loss takes them.
    targets: EngineTargets,
}

fn load_test(spec: &str, pre: &Preprocessor, loss: &Loss) -> anyhow::Result<TestData> {
    let table = data::load(spec, &LoadOptions::for_model(pre))?;
    let encoded = pre.encode(&table)?;
    let Some(targets) = encoded.targets else {
        bail!(
            "{spec}: the test data has no target column {:?}",
            pre.target.name()
        );
    };
    Ok(TestData {
        x: encoded.x,
        rows: encoded.rows,
        targets: engine_targets(&targets, loss)?,
        encoded: targets,
    })
}

/// Test metrics as JSON keys: `test_loss` and `test_accuracy` (classification) or
/// `test_rmse` and `test_r2` (regression).
fn score(
    net: &Network<f32>,
    loss: &Loss,
    classes: Option<&[String]>,
    test: &TestData,
) -> serde_json::Map<String, Value> {
    let mut metrics = serde_json::Map::new();
    let mut put = |key: &str, value: f64| {
        metrics.insert(key.to_string(), number(value).unwrap_or(Value::Null));
    };
    put(
        "test_loss",
        mean_loss(net, loss, &test.x, test.rows, &test.targets),
    );
    let outputs = predictions(net, &test.x);
    match (&test.encoded, classes) {
        (EncodedTargets::Classes(truth), Some(classes)) => {
            let predicted = classes_from(&outputs, classes.len());
            put(
                "test_accuracy",
                metrics::classification(truth, &predicted, classes).accuracy,
            );
        }
        (EncodedTargets::Values(truth), _) => {
            let m = metrics::regression(truth, &outputs);
            put("test_rmse", m.rmse);
            put("test_r2", m.r2);
        }
        (EncodedTargets::Classes(_), None) => unreachable!("class targets come with class names"),
    }
    metrics
}

fn test_text(metrics: &serde_json::Map<String, Value>, rows: usize) -> String {
    let get = |key: &str| metrics.get(key).and_then(Value::as_f64).unwrap_or(f64::NAN);
    if metrics.contains_key("test_accuracy") {
        format!(
            "test       accuracy {:.2}%  loss {:.4}  ({rows} rows)",
            get("test_accuracy") * 100.0,
            get("test_loss")
        )
    } else {
        format!(
            "test       rmse {:.4}  r2 {:.4}  loss {:.4}  ({rows} rows)",
            get("test_rmse"),
            get("test_r2"),
            get("test_loss")
        )
    }
}

fn stop_line(report: &TrainReport) -> String {
    match (
        report.stopped_early,
        report.best_epoch,
        report.restored_best,
    ) {
        (true, Some(best), true) => format!(
            "stopped    early after epoch {}; kept the weights of epoch {best}\n",
            report.history.len()
        ),
        (false, Some(best), true) if best != report.history.len() => {
            format!("best       epoch {best} (its weights are kept)\n")
        }
        _ => String::new(),
    }
}

#[allow(clippy::too_many_arguments)]
fn print_header(
    progress: &Progress,
    s: &TrainSettings,
    rows: usize,
    pre: &Preprocessor,
    arch: &Architecture,
    loss: &Loss,
    scaler: Scaler,
    config: &TrainConfig,
) {
    progress.println(&format!(
        "data       {}: {} rows, {} feature columns → {} inputs, target {:?}",
        s.data,
        rows,
        pre.features.len(),
        pre.inputs(),
        pre.target.name()
    ));
    let task = match pre.target.classes() {
        Some(classes) => {
            let mut names = classes
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            if classes.len() > 10 {
                names += ", …";
            }
            format!("classify, {} classes: {names}", classes.len())
        }
        None => "regress".to_string(),
    };
    progress.println(&format!("task       {task}"));
    progress.println(&format!(
        "network    {}, {} parameters, loss {}",
        describe(arch),
        arch.parameter_count(),
        loss.name()
    ));
    progress.println(&format!(
        "optimizer  {} lr {}, batch {}, {} epochs, patience {}, dropout {}, seed {}, scaling {scaler}{}",
        config.optimizer.name(),
        config.optimizer.lr(),
        config.batch_size,
        config.epochs,
        s.patience,
        config.dropout,
        config.seed,
        if s.val_fraction > 0.0 {
            format!(", validation {}%", s.val_fraction * 100.0)
        } else {
            String::new()
        }
    ));
}

/// The `training` summary stored in the model file.
fn summary(
    s: &TrainSettings,
    config: &TrainConfig,
    report: &TrainReport,
    test: Option<&serde_json::Map<String, Value>>,
    seconds: f64,
) -> Value {
    let kept = report
        .best_epoch
        .filter(|_| report.restored_best)
        .or(report.history.last().map(|h| h.epoch));
    let val_accuracy = kept
        .and_then(|e| report.history.get(e - 1))
        .and_then(|h| h.val_accuracy);
    json!({
        "data": s.data,
        "test_data": s.test,
        "epochs": report.history.len(),
        "best_epoch": report.best_epoch,
        "stop_reason": report.stop_reason,
        "final_train_loss": report.final_train_loss,
        "final_val_loss": report.final_val_loss,
        "val_accuracy": val_accuracy,
        "test": test,
        "seconds": seconds,
        "optimizer": config.optimizer,
        "batch_size": config.batch_size,
        "max_epochs": config.epochs,
        "patience": s.patience,
        "val_fraction": s.val_fraction,
        "dropout": config.dropout,
        "shuffle": config.shuffle,
        "seed": config.seed,
        "init": s.init,
        "resumed_from": s.resume,
    })
}

/// Prints epochs, draws the bar and writes checkpoints; a checkpoint that cannot be written
/// stops training (its error is reported after the run).
struct RunObserver<'p> {
    progress: &'p Progress,
    checkpoints: Option<CheckpointWriter>,
    failure: Option<anyhow::Error>,
}

impl Observer<f32> for RunObserver<'_> {
    fn on_step(&mut self, info: &StepInfo) {
        self.progress.step(info);
    }

    fn on_epoch(&mut self, info: &EpochInfo, checkpoint: &Checkpoint<'_, f32>) -> Control {
        self.progress.epoch(info);
        if let Some(writer) = &self.checkpoints {
            let state: TrainState = checkpoint.state();
            if let Err(e) = writer.write(checkpoint.network(), &state) {
                self.failure = Some(e);
                return Control::Stop;
            }
        }
        Control::Continue
    }
}
