//! Training from Python: the settings (with the optimizer's defaults from the engine), the run
//! on a thread of its own so that Ctrl-C is heard, and the summary stored in the model file.
//!
//! Training runs with the GIL released, on a thread of its own, while the calling thread waits
//! for it and checks for signals (`PyErr_CheckSignals` only works on the main thread, and the
//! engine runs its observer on a worker of its thread pool). On Ctrl-C the training thread is
//! told to stop after the current epoch, and `fit` raises `KeyboardInterrupt` once it has.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::Duration;

use backprop::optim::OptimizerConfig;
use backprop::train::{
    fit, Checkpoint, Control, Dataset, EpochInfo, Observer, TrainConfig, TrainReport,
};
use backprop::{Loss, Network, Targets};
use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use serde_json::{json, Map, Value};

use crate::engine_error;

/// How often the waiting thread looks for signals while training runs.
const SIGNAL_POLL: Duration = Duration::from_millis(100);

/// The engine's `TrainConfig` from JSON; fields left out keep their defaults. The
/// `optimizer` object needs only its `kind` and the settings it changes: the rest are the
/// engine's defaults for that optimizer ([`optimizer_from`]). Every setting is validated, so
/// a bad value gets the engine's message as a `ValueError`.
pub fn config_from_json(text: &str) -> PyResult<TrainConfig> {
    let invalid =
        |e: serde_json::Error| PyValueError::new_err(format!("invalid training settings: {e}"));
    let mut value: Value = serde_json::from_str(text).map_err(invalid)?;
    if let Some(Value::Object(settings)) = value.get("optimizer") {
        let optimizer = optimizer_from(settings)?;
        value["optimizer"] = serde_json::to_value(optimizer).expect("an optimizer serializes");
    }
    let config: TrainConfig = serde_json::from_value(value).map_err(invalid)?;
    config.validate().map_err(engine_error)?;
    Ok(config)
}

/// `OptimizerConfig::by_name(kind)` overlaid with the other keys of `settings`: the defaults
/// serialized to a JSON object, the given keys written over them (each must be a setting of
/// that optimizer), and the result read back and validated.
///
/// (A candidate for the engine, as `OptimizerConfig::with_settings`.)
pub fn optimizer_from(settings: &Map<String, Value>) -> PyResult<OptimizerConfig> {
    let Some(kind) = settings.get("kind").and_then(Value::as_str) else {
        return Err(PyValueError::new_err(
            "the optimizer settings need a \"kind\" (the optimizer's name)",
        ));
    };
    let defaults = OptimizerConfig::by_name(kind).map_err(engine_error)?;
    let Value::Object(mut fields) =
        serde_json::to_value(&defaults).expect("an optimizer serializes")
    else {
        unreachable!("an optimizer serializes to a JSON object")
    };
    for (key, value) in settings {
        if !fields.contains_key(key) {
            let known: Vec<&str> = fields.keys().map(String::as_str).collect();
            return Err(PyValueError::new_err(format!(
                "the {kind} optimizer has no setting {key:?} (its settings: {})",
                known.join(", ")
            )));
        }
        fields.insert(key.clone(), value.clone());
    }
    let optimizer: OptimizerConfig = serde_json::from_value(Value::Object(fields))
        .map_err(|e| PyValueError::new_err(format!("invalid {kind} settings: {e}")))?;
    optimizer.validate().map_err(engine_error)?;
    Ok(optimizer)
}

/// Training or validation data: the scaled inputs (the caller's array when scaling leaves it
/// unchanged) and borrowed targets.
pub struct Data<'a> {
    x: Cow<'a, [f32]>,
    targets: Targets<'a, f32>,
}

impl<'a> Data<'a> {
    /// `x` (the network's inputs, row-major) with class indices or target values.
    pub fn new(
        x: Cow<'a, [f32]>,
        classes: Option<&'a PyReadonlyArray1<'_, u32>>,
        values: Option<&'a PyReadonlyArray2<'_, f32>>,
        what: &str,
    ) -> PyResult<Self> {
        let not_contiguous =
            || PyValueError::new_err(format!("the {what} targets must be C-contiguous"));
        let targets = match (classes, values) {
            (Some(classes), None) => {
                Targets::Classes(classes.as_slice().map_err(|_| not_contiguous())?)
            }
            (None, Some(values)) => {
                Targets::Values(values.as_slice().map_err(|_| not_contiguous())?)
            }
            _ => {
                return Err(PyValueError::new_err(format!(
                    "the {what} needs either class indices or target values"
                )))
            }
        };
        Ok(Self { x, targets })
    }

    /// `x` with target values given as a slice (values in the network's units).
    pub fn with_values(x: Cow<'a, [f32]>, values: &'a [f32]) -> Self {
        Self {
            x,
            targets: Targets::Values(values),
        }
    }

    fn dataset(&self, inputs: usize) -> backprop::Result<Dataset<'_, f32>> {
        Dataset::new(&self.x, inputs, self.targets)
    }
}

/// Stops training after the current epoch once `stop` is set.
struct StopFlag<'a> {
    stop: &'a AtomicBool,
}

impl Observer<f32> for StopFlag<'_> {
    fn on_epoch(&mut self, _info: &EpochInfo, _checkpoint: &Checkpoint<'_, f32>) -> Control {
        if self.stop.load(Ordering::Relaxed) {
            Control::Stop
        } else {
            Control::Continue
        }
    }
}

/// Trains `network` in place on a thread of its own, with the GIL released, while this
/// thread polls for signals; on Ctrl-C training stops after the current epoch and the
/// signal's exception (`KeyboardInterrupt`) is returned.
pub fn train(
    py: Python<'_>,
    network: &mut Network<f32>,
    loss: &Loss,
    train: &Data<'_>,
    validation: Option<&Data<'_>>,
    config: &TrainConfig,
) -> PyResult<TrainReport> {
    let inputs = network.architecture().inputs;
    let stop = AtomicBool::new(false);
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let done_rx = Mutex::new(done_rx);
    let (outcome, interrupt) = std::thread::scope(|scope| {
        let trainer = scope.spawn(|| {
            let mut run = || {
                let validation = validation.map(|v| v.dataset(inputs)).transpose()?;
                let mut observer = StopFlag { stop: &stop };
                let train = train.dataset(inputs)?;
                fit(network, loss, train, validation, config, &mut observer)
            };
            let report = run();
            // The receiver outlives this thread; a failed send cannot happen.
            let _ = done_tx.send(());
            report
        });
        let mut interrupt = None;
        loop {
            let finished = py.detach(|| {
                let receiver = done_rx.lock().unwrap_or_else(|e| e.into_inner());
                !matches!(
                    receiver.recv_timeout(SIGNAL_POLL),
                    Err(mpsc::RecvTimeoutError::Timeout)
                )
            });
            if finished {
                break;
            }
            if interrupt.is_none() {
                if let Err(err) = py.check_signals() {
                    stop.store(true, Ordering::Relaxed);
                    interrupt = Some(err);
                }
            }
        }
        (trainer.join(), interrupt)
    });
    if let Some(err) = interrupt {
        return Err(err);
    }
    outcome
        .map_err(|_| PyRuntimeError::new_err("the training thread panicked"))?
        .map_err(engine_error)
}

/// The training summary of the model file: what the run did and with which optimizer and
/// seed, plus the keys of `extra_json` (a JSON object from the caller).
pub fn summary(report: &TrainReport, config: &TrainConfig, extra_json: &str) -> PyResult<Value> {
    let extra: Map<String, Value> = serde_json::from_str(extra_json)
        .map_err(|e| PyValueError::new_err(format!("invalid training summary: {e}")))?;
    let mut summary = json!({
        "epochs": report.history.len(),
        "best_epoch": report.best_epoch,
        "best_loss": report.best_loss,
        "stop_reason": report.stop_reason,
        "converged": report.converged,
        "final_train_loss": report.final_train_loss,
        "final_val_loss": report.final_val_loss,
        "optimizer": config.optimizer,
        "l2_penalty": config.l2_penalty,
        "seed": config.seed,
    });
    summary
        .as_object_mut()
        .expect("the summary is an object")
        .extend(extra);
    Ok(summary)
}
