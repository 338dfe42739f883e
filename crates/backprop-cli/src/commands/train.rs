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

use anyhow::bail;
use backprop::train::{
    Checkpoint, Control, EpochInfo, Observer, StepInfo, TrainReport, TrainState,
};
use backprop::{Architecture, Loss, Network};
use backprop_data::checkpoint::{self, CheckpointWriter};
use backprop_data::model_file::load_initial_weights;
use backprop_data::pytorch::architecture_from_shapes;
use backprop_data::{
    load, load_encoded, Decimal, EncodeOptions, Encoded, Model, ModelMetadata, Table,
};
use serde_json::{json, Map, Value};

use crate::fitting::Prepared;
use crate::interrupt;
use crate::plot;
use crate::progress::{number, Progress};
use crate::resume;
use crate::scoring::{score, Metrics, Scores};
use crate::style;
use crate::train_args::{TrainArgs, TrainPlan};
use crate::train_r2::TrainingSample;
use crate::verbosity;

/// Runs `backprop train`.
pub fn run(args: TrainArgs) -> anyhow::Result<ExitCode> {
    let begun = Instant::now();
    let mut plan = args.with_config_file()?.resolve()?;
    if let Some(path) = &plan.plot {
        plot::format_of(path)?;
    }
    check_save_folder(&plan.save)?;

    let table = load(&plan.data, &plan.load)?;
    let prepared = Prepared::new(&plan, &table)?;
    let task = prepared.metadata.preprocessing.target.task();
    plan.settle(prepared.rows, task);
    let mut notes = prepared.notes.clone();
    let reading = reading_note(&table);
    // Training needs only the encoded rows from here on: free the table's copy of the data.
    drop(table);
    let pre = &prepared.metadata.preprocessing;
    let test = match &plan.test {
        Some(spec) => {
            let test = load_encoded(spec, pre, &plan.load, &EncodeOptions::default())?;
            notes.extend(test.notes.iter().map(|n| format!("{spec}: {n}")));
            Some(test)
        }
        None => None,
    };

    let arch = prepared.architecture();
    let mut resume = match &plan.resume {
        Some(dir) => Some(checkpoint::read(dir)?),
        None => None,
    };
    let mut net = match (&resume, &plan.init) {
        (Some((model, _)), _) => {
            if &model.metadata.preprocessing != pre {
                bail!(
                    "the checkpoint in {} was made with other data or preprocessing (columns, \
                     classes, --scale): resume with the same data and flags",
                    plan.resume
                        .as_ref()
                        .map_or(String::new(), |d| d.display().to_string())
                );
            }
            model.network.clone()
        }
        (None, Some(path)) => {
            let net = load_initial_weights(path, |tensors| {
                architecture_from_shapes(tensors, &[plan.activation], arch.output)
            })?;
            same_architecture(&net, arch, &format!("--init {}", path.display()))?;
            net
        }
        (None, None) => prepared.fresh_network(&plan.config)?,
    };
    // After the data check above, so that other data is named before the flags.
    let resume_line = match &mut resume {
        Some((model, state)) => Some(resume::apply(
            &mut plan,
            arch,
            &prepared.metadata.loss,
            model,
            state,
        )?),
        None => None,
    };
    if resume.is_some() {
        // What the flags above did not name (the inputs and outputs the data makes).
        same_architecture(&net, arch, "the checkpoint")?;
    }

    let metadata = prepared.metadata.clone();
    let loss = metadata.loss.clone();
    let rows = prepared.rows;
    let progress = Progress::new(plan.json);
    if plan.json {
        notes.iter().for_each(|note| style::note(note));
    } else {
        print_header(
            &progress,
            &plan,
            rows,
            &metadata,
            reading.as_deref(),
            &notes,
        );
        if let Some(line) = &resume_line {
            progress.println(line);
        }
    }
    // The training R² of a regression, for the plot's score panel.
    let sample = match &plan.plot {
        Some(_) => TrainingSample::new(&prepared, &plan.config)?,
        None => None,
    };
    let mut observer = RunObserver {
        progress: &progress,
        sample: sample.as_ref().map(|s| (s, &loss)),
        train_r2: Vec::new(),
        checkpoints: match &plan.checkpoint {
            Some(dir) => {
                // The run's optimizer settings, for the rules of a later --resume.
                let mut metadata = metadata.clone();
                metadata.training = json!({ resume::OPTIMIZER_KEY: plan.config.optimizer });
                Some(CheckpointWriter::new(dir, metadata)?)
            }
            None => None,
        },
        checkpoint_warned: false,
        interrupted: false,
        last_step: None,
    };
    let start = Instant::now();
    let reading_seconds = start.duration_since(begun).as_secs_f64();
    let config = &plan.config;
    interrupt::install()?;
    let result = prepared.train(
        &mut net,
        config,
        resume.as_ref().map(|(_, state)| state),
        &mut observer,
    );
    progress.finish();
    let mut report = result?;
    let seconds = start.elapsed().as_secs_f64();
    let interrupted = observer.interrupted;
    let last_step = observer.last_step;
    let train_r2 = std::mem::take(&mut observer.train_r2);

    // From here on: the test rows (if any) and the save, for `-v`'s time line.
    let saving = Instant::now();
    let test_metrics = match (&test, &plan.test) {
        (Some(data), Some(spec)) => Some(test_scores(&net, &loss, &metadata, data, spec)?),
        _ => None,
    };
    if let Some(metrics) = &test_metrics {
        if plan.json {
            let mut line = Map::new();
            line.insert("event".into(), "test".into());
            line.extend(metrics.clone());
            progress.println(&Value::Object(line).to_string());
        } else {
            let rows = test.as_ref().map_or(0, |t| t.rows);
            progress.println(&test_text(metrics, rows));
        }
    }
    let mut metadata = metadata;
    metadata.training = summary(&plan, &report, test_metrics.as_ref(), seconds);
    if interrupted {
        metadata.training["stop_reason"] = "interrupted".into();
        // The epochs ran, not the ones asked for: the run did not converge, it was cut.
        report.converged = true;
    }
    Model::new(metadata.clone(), net)?.save(&plan.save)?;
    let saving_seconds = saving.elapsed().as_secs_f64();
    let warning = (!report.converged).then(|| not_converged(&report));
    match &warning {
        Some(warning) if plan.json || verbosity::quiet() => style::warning(warning),
        Some(warning) => progress.println(&format!("{}{warning}", style::label("warning", 11))),
        None => {}
    }
    if let Some(path) = &plan.plot {
        let curves = plot::Curves {
            title: plot::title(
                &plan.data,
                &metadata.architecture,
                plan.config.optimizer.name(),
            ),
            subtitle: plot::subtitle(
                &report,
                plan.config.epochs,
                plan.config
                    .early_stopping
                    .as_ref()
                    .map_or(0, |e| e.patience),
            ),
            history: &report.history,
            score: match task {
                backprop_data::Task::Classify => plot::Score::Accuracy,
                backprop_data::Task::Regress => plot::Score::R2,
            },
            train_r2: &train_r2,
            kept_epoch: report.kept_epoch(),
            penalized: plan.config.l2_penalty > 0.0,
        };
        plot::draw(path, &curves)?;
        if !plan.json {
            progress.println(&format!("plot       {}", path.display()));
        }
    }
    if verbosity::verbose() && !plan.json {
        progress.println(&format!(
            "time       reading {reading_seconds:.2}s, training {seconds:.2}s, test and \
             saving {:.2}s",
            saving_seconds
        ));
    }
    if plan.json {
        progress.result(&summary_line(&metadata.training, &plan).to_string());
        if interrupted {
            eprintln!("{}", interrupted_line(&report, last_step, &plan.save));
        }
    } else if interrupted {
        progress.result(&interrupted_line(&report, last_step, &plan.save));
    } else {
        if let Some(line) = stop_line(&report) {
            progress.println(&line);
        }
        progress.result(&format!(
            "saved      {} ({:.1}s)",
            plan.save.display(),
            seconds
        ));
    }
    if interrupted {
        return Ok(ExitCode::from(interrupt::EXIT_STATUS));
    }
    Ok(ExitCode::SUCCESS)
}

/// `interrupted at epoch N: saved the best weights (epoch K) to PATH`, where N is the epoch
/// that was running; without a best epoch to restore inside an epoch, `saved the weights of
/// step S of T` (`last_step`: the last step's epoch, step and steps per epoch).
pub(crate) fn interrupted_line(
    report: &TrainReport,
    last_step: Option<(usize, usize, usize)>,
    save: &Path,
) -> String {
    let epoch = report.unfinished_epoch.unwrap_or(report.history.len());
    let saved = match (report.kept_epoch(), last_step) {
        (Some(kept), _) => format!("the best weights (epoch {kept})"),
        (None, Some((_, step, steps))) => format!("the weights of step {step} of {steps}"),
        (None, None) => "the initial weights".to_string(),
    };
    format!(
        "interrupted at epoch {epoch}: saved {saved} to {}",
        save.display()
    )
}

/// Fails early when the model's folder does not exist, rather than after training.
pub(crate) fn check_save_folder(save: &Path) -> anyhow::Result<()> {
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
            "{what} has the architecture {}, but the data and flags call for {arch}",
            net.architecture()
        );
    }
    Ok(())
}

/// Test metrics as JSON keys: `test_loss` and `test_accuracy` (classification) or
/// `test_rmse` and `test_r2` (regression).
pub(crate) fn test_scores(
    net: &Network<f32>,
    loss: &Loss,
    metadata: &ModelMetadata,
    test: &Encoded,
    spec: &str,
) -> anyhow::Result<Map<String, Value>> {
    let Scores { loss, metrics, .. } = score(net, loss, &metadata.preprocessing, test, spec)?;
    let mut out = Map::new();
    let mut put = |key: &str, value: f64| {
        out.insert(key.to_string(), number(value).unwrap_or(Value::Null));
    };
    put("test_loss", loss);
    match metrics {
        Metrics::Classification(m) => put("test_accuracy", m.accuracy),
        Metrics::Regression(m) => {
            put("test_rmse", m.rmse);
            put("test_r2", m.r2);
        }
    }
    Ok(out)
}

pub(crate) fn test_text(metrics: &Map<String, Value>, rows: usize) -> String {
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

/// `stopped    early after epoch N; kept the weights of epoch K` or `best       epoch K (its
/// weights are kept)`, the first word in the best epoch's colour; `None` when the last epoch's
/// weights are kept.
fn stop_line(report: &TrainReport) -> Option<String> {
    let last = report.history.len();
    match (report.stopped_early, report.kept_epoch()) {
        (true, Some(kept)) if report.restored_best => Some(format!(
            "{}early after epoch {last}; kept the weights of epoch {kept}",
            style::label("stopped", 11)
        )),
        (false, Some(kept)) if report.restored_best && kept != last => Some(format!(
            "{}epoch {kept} (its weights are kept)",
            style::label("best", 11)
        )),
        _ => None,
    }
}

/// `separated by ';', decimal commas` when the file was not a plain comma-separated one.
pub(crate) fn reading_note(table: &Table) -> Option<String> {
    let delimiter = match table.delimiter? {
        b',' => None,
        b'\t' => Some("tab-separated".to_string()),
        other => Some(format!("separated by '{}'", char::from(other))),
    };
    let decimal = (table.decimal == Decimal::Comma).then(|| "decimal commas".to_string());
    let parts: Vec<String> = delimiter.into_iter().chain(decimal).collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The lines that describe a run before it starts: data, notes, task, network, optimizer.
pub(crate) fn print_header(
    progress: &Progress,
    plan: &TrainPlan,
    rows: usize,
    metadata: &ModelMetadata,
    reading: Option<&str>,
    notes: &[String],
) {
    let pre = &metadata.preprocessing;
    let config = &plan.config;
    progress.println(&format!(
        "data       {}{}: {} rows, {} feature columns → {} inputs, target {:?}",
        plan.data,
        reading.map_or(String::new(), |r| format!(" ({r})")),
        rows,
        pre.features.len(),
        pre.inputs(),
        pre.target.name()
    ));
    for note in notes {
        progress.println(&format!("{}{note}", style::label("note", 11)));
    }
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
    let arch = &metadata.architecture;
    progress.println(&format!(
        "network    {arch}, {} parameters, loss {}",
        arch.parameter_count(),
        metadata.loss.name()
    ));
    let patience = config.early_stopping.as_ref().map_or(0, |e| e.patience);
    let validation = match config.validation {
        backprop::train::Validation::Fraction(f) => format!(", validation {}%", f * 100.0),
        backprop::train::Validation::None => String::new(),
    };
    let target_scaling = match pre.target.scale() {
        Some(_) => ", target standardized",
        None => "",
    };
    progress.println(&format!(
        "optimizer  {} lr {}, batch {}, {} epochs, patience {patience}, dropout {}, l2 {}, \
         seed {}, scaling {}{target_scaling}{validation}",
        config.optimizer.name(),
        config.optimizer.lr(),
        config.batch_size,
        config.epochs,
        config.dropout,
        config.l2_penalty,
        config.seed,
        pre.scaler,
    ));
    if !plan.decided.is_empty() {
        progress.println(&format!("decided    {}", plan.decided.join("; ")));
    }
}

/// The `training` summary stored in the model file.
fn summary(
    plan: &TrainPlan,
    report: &TrainReport,
    test: Option<&Map<String, Value>>,
    seconds: f64,
) -> Value {
    let config = &plan.config;
    json!({
        "data": plan.data,
        "test_data": plan.test,
        "epochs": report.history.len(),
        "best_epoch": report.best_epoch,
        "kept_epoch": report.kept_epoch(),
        "unfinished_epoch": report.unfinished_epoch,
        "stop_reason": report.stop_reason,
        "converged": report.converged,
        "final_train_loss": report.final_train_loss,
        "final_val_loss": report.final_val_loss,
        "val_accuracy": report.kept().and_then(|kept| kept.val_accuracy),
        "val_r2": report.kept().and_then(|kept| kept.val_r2),
        "test": test,
        "seconds": seconds,
        "optimizer": config.optimizer,
        "batch_size": config.batch_size,
        "max_epochs": config.epochs,
        "patience": config.early_stopping.as_ref().map_or(0, |e| e.patience),
        "val_fraction": match config.validation {
            backprop::train::Validation::Fraction(f) => f,
            backprop::train::Validation::None => 0.0,
        },
        "dropout": config.dropout,
        "l2_penalty": config.l2_penalty,
        "min_delta": config.early_stopping.as_ref().map_or(0.0, |e| e.min_delta),
        "shuffle": config.shuffle,
        "seed": config.seed,
        "init": plan.init,
        "resumed_from": plan.resume,
    })
}

/// The last JSON line of `train --json`: `"event": "summary"`, why and when training
/// stopped (`stop_reason`, `best_epoch`, `kept_epoch`, `epochs_run`, `converged`), the kept
/// epoch's losses and validation score, the test metrics, the seconds and the `model` path.
fn summary_line(training: &Value, plan: &TrainPlan) -> Value {
    let mut line = Map::new();
    line.insert("event".into(), "summary".into());
    for (key, name) in [
        ("stop_reason", "stop_reason"),
        ("converged", "converged"),
        ("epochs", "epochs_run"),
        ("best_epoch", "best_epoch"),
        ("kept_epoch", "kept_epoch"),
        ("unfinished_epoch", "unfinished_epoch"),
        ("final_train_loss", "train_loss"),
        ("final_val_loss", "val_loss"),
        ("val_accuracy", "val_accuracy"),
        ("val_r2", "val_r2"),
        ("seconds", "seconds"),
    ] {
        line.insert(name.into(), training[key].clone());
    }
    if let Some(Value::Object(test)) = training.get("test") {
        line.extend(test.clone());
    }
    line.insert("model".into(), plan.save.display().to_string().into());
    Value::Object(line)
}

/// The warning for a run that ran out of epochs while still improving.
fn not_converged(report: &TrainReport) -> String {
    let monitored = match report.history.last().and_then(|e| e.val_loss) {
        Some(_) => "validation loss",
        None => "training loss",
    };
    format!(
        "not converged: the {monitored} was still falling when the {} epochs ran out; \
         raise --epochs (or --lr)",
        report.history.len()
    )
}

/// Prints epochs, draws the bar and writes checkpoints; a checkpoint that cannot be written
/// is warned about once and training goes on.
struct RunObserver<'p> {
    progress: &'p Progress,
    /// The training rows to measure a regression's R² on after each epoch, for the plot.
    sample: Option<(&'p TrainingSample, &'p Loss)>,
    /// That R² per epoch (`None` for epochs before a resume).
    train_r2: Vec<Option<f64>>,
    checkpoints: Option<CheckpointWriter>,
    /// Whether a failed checkpoint write has been warned about (once per run).
    checkpoint_warned: bool,
    /// Whether a first Ctrl-C or SIGTERM stopped training (after a step or an epoch).
    interrupted: bool,
    /// The epoch, step and steps per epoch of the last step.
    last_step: Option<(usize, usize, usize)>,
}

impl Observer<f32> for RunObserver<'_> {
    fn on_step(&mut self, info: &StepInfo) {
        self.progress.step(info);
        self.last_step = Some((info.epoch, info.step, info.steps_per_epoch));
    }

    fn stop_now(&mut self) -> bool {
        self.interrupted |= interrupt::requested();
        self.interrupted
    }

    fn on_epoch(&mut self, info: &EpochInfo, checkpoint: &Checkpoint<'_, f32>) -> Control {
        self.progress.epoch(info);
        if let Some((sample, loss)) = self.sample {
            self.train_r2.resize(info.epoch, None);
            self.train_r2[info.epoch - 1] = sample.r2(checkpoint.network(), loss);
        }
        if let Some(writer) = &self.checkpoints {
            let state: TrainState = checkpoint.state();
            // A checkpoint that cannot be written (a full disk) is a warning, not the end of
            // the run: the final --save may still succeed, and the previous checkpoint stays.
            if let Err(e) = writer.write(checkpoint.network(), &state) {
                if !self.checkpoint_warned {
                    style::warning(&format!("{e} (training goes on without this checkpoint)"));
                    self.checkpoint_warned = true;
                }
            }
        }
        // Checked after the checkpoint, so an interrupted run leaves one of its last epoch.
        if interrupt::requested() {
            self.interrupted = true;
            return Control::Stop;
        }
        Control::Continue
    }
}
