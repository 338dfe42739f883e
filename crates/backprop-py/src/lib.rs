//! `backprop._native`: the Rust half of the Python package `backprop`.
//!
//! The estimators (`backprop.MLPClassifier`, `backprop.MLPRegressor`) live in Python and
//! follow scikit-learn's conventions; this module only holds a trained model and runs the
//! engine. A [`NativeModel`] is exactly the model file of the `backprop` command
//! ([`backprop_cli::model_file::Model`]): a network of `f32` weights with its metadata, read and
//! written as the same `.safetensors` bytes, so a model trained in Python is served by
//! `backprop predict` and the other way round.
//!
//! Arrays cross the boundary through NumPy without copies: features come in as C-contiguous
//! `float32` arrays borrowed for the duration of the call, predictions go out as arrays that
//! take over the Rust vector.
//!
//! Training runs with the GIL released, on a thread of its own, while the calling thread waits
//! for it and checks for signals (`PyErr_CheckSignals` only works on the main thread, and the
//! engine runs its observer on a worker of its thread pool). On Ctrl-C the training thread is
//! told to stop after the current epoch, and `fit` raises `KeyboardInterrupt` once it has.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::Duration;

use backprop::train::{fit, Checkpoint, Control, Dataset, EpochInfo, Observer, TrainConfig};
use backprop::{Init, Network, Targets};
use backprop_cli::model_file::{Model, ModelMetadata};
use numpy::ndarray::{Array1, Array2};
use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyFloatingPointError, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// How often the waiting thread looks for signals while training runs.
const SIGNAL_POLL: Duration = Duration::from_millis(100);

/// An engine error as the Python exception scikit-learn would raise: `FloatingPointError` when
/// training diverged, `ValueError` for everything else (bad settings, data or shapes).
fn engine_error(err: backprop::Error) -> PyErr {
    match err {
        backprop::Error::Diverged { .. } => PyFloatingPointError::new_err(err.to_string()),
        other => PyValueError::new_err(other.to_string()),
    }
}

/// A model-file error (anyhow, with its causes) as a `ValueError`.
fn model_error(err: anyhow::Error) -> PyErr {
    PyValueError::new_err(format!("{err:#}"))
}

/// A C-contiguous 2-D array as a slice, or a `ValueError` naming it.
fn contiguous<'a, T: numpy::Element>(
    array: &'a PyReadonlyArray2<'_, T>,
    what: &str,
) -> PyResult<&'a [T]> {
    array
        .as_slice()
        .map_err(|_| PyValueError::new_err(format!("{what} must be a C-contiguous array")))
}

/// A trained (or freshly initialized) network with the metadata of its model file.
#[pyclass(module = "backprop._native")]
pub struct NativeModel {
    model: Model,
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

/// Borrowed training or validation data.
struct Data<'a> {
    x: &'a [f32],
    inputs: usize,
    targets: Targets<'a, f32>,
}

impl<'a> Data<'a> {
    fn new(
        x: &'a PyReadonlyArray2<'_, f32>,
        classes: Option<&'a PyReadonlyArray1<'_, u32>>,
        values: Option<&'a PyReadonlyArray2<'_, f32>>,
        what: &str,
    ) -> PyResult<Self> {
        let inputs = x.shape()[1];
        let x = contiguous(x, what)?;
        let targets = match (classes, values) {
            (Some(classes), None) => Targets::Classes(classes.as_slice().map_err(|_| {
                PyValueError::new_err(format!("the {what} classes must be contiguous"))
            })?),
            (None, Some(values)) => Targets::Values(contiguous(values, what)?),
            _ => {
                return Err(PyValueError::new_err(format!(
                    "the {what} needs either class indices or target values"
                )))
            }
        };
        Ok(Self { x, inputs, targets })
    }

    fn dataset(&self) -> backprop::Result<Dataset<'a, f32>> {
        Dataset::new(self.x, self.inputs, self.targets)
    }
}

#[pymethods]
impl NativeModel {
    /// A new model from its metadata (JSON of the model file's `backprop` key), with weights
    /// initialized from `seed` (the engine's automatic initialization: He for ReLU-like
    /// activations, Xavier otherwise).
    #[new]
    fn new(metadata_json: &str, seed: u64) -> PyResult<Self> {
        let metadata = ModelMetadata::from_json(metadata_json).map_err(model_error)?;
        let network =
            Network::new(metadata.architecture.clone(), Init::Auto, seed).map_err(engine_error)?;
        let model = Model::new(metadata, network).map_err(model_error)?;
        Ok(Self { model })
    }

    /// Reads a model from the bytes of a model file.
    #[staticmethod]
    fn from_bytes(data: &[u8]) -> PyResult<Self> {
        let model = Model::from_bytes(data).map_err(model_error)?;
        Ok(Self { model })
    }

    /// Reads the model file at `path`.
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<Self> {
        let bytes = std::fs::read(&path).map_err(|e| {
            PyOSError::new_err(format!("cannot read the model {}: {e}", path.display()))
        })?;
        let model = Model::from_bytes(&bytes)
            .map_err(|e| PyValueError::new_err(format!("{}: {e:#}", path.display())))?;
        Ok(Self { model })
    }

    /// Writes the model file to `path`, atomically.
    fn save(&self, path: PathBuf) -> PyResult<()> {
        self.model
            .save(&path)
            .map_err(|e| PyOSError::new_err(format!("{e:#}")))
    }

    /// The bytes of the model file.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.model.to_bytes())
    }

    /// The metadata as JSON.
    fn metadata_json(&self) -> String {
        serde_json::to_string(&self.model.metadata).expect("metadata serializes")
    }

    /// Replaces the metadata (for example the training summary after `fit`); the
    /// architecture must stay the network's.
    fn set_metadata_json(&mut self, metadata_json: &str) -> PyResult<()> {
        let metadata = ModelMetadata::from_json(metadata_json).map_err(model_error)?;
        self.model = Model::new(metadata, self.model.network.clone()).map_err(model_error)?;
        Ok(())
    }

    /// Trains the network in place (warm start from its weights) with the model's loss and
    /// `config_json` (the engine's `TrainConfig` as JSON). Targets are class indices
    /// (`classes`, for cross-entropy) or a `rows × outputs` matrix (`values`); validation data
    /// is optional. Returns the `TrainReport` as JSON.
    ///
    /// Raises `KeyboardInterrupt` on Ctrl-C, after the current epoch; the weights are then
    /// those of the last finished epoch.
    #[pyo3(signature = (x, classes, values, config_json, x_val=None, classes_val=None, values_val=None))]
    #[allow(clippy::too_many_arguments)]
    fn fit(
        &mut self,
        py: Python<'_>,
        x: PyReadonlyArray2<'_, f32>,
        classes: Option<PyReadonlyArray1<'_, u32>>,
        values: Option<PyReadonlyArray2<'_, f32>>,
        config_json: &str,
        x_val: Option<PyReadonlyArray2<'_, f32>>,
        classes_val: Option<PyReadonlyArray1<'_, u32>>,
        values_val: Option<PyReadonlyArray2<'_, f32>>,
    ) -> PyResult<String> {
        let config: TrainConfig = serde_json::from_str(config_json)
            .map_err(|e| PyValueError::new_err(format!("invalid training settings: {e}")))?;
        let train = Data::new(&x, classes.as_ref(), values.as_ref(), "training data")?;
        let validation = match &x_val {
            Some(x_val) => Some(Data::new(
                x_val,
                classes_val.as_ref(),
                values_val.as_ref(),
                "validation data",
            )?),
            None => None,
        };
        let loss = self.model.metadata.loss.clone();
        let network = &mut self.model.network;
        let stop = AtomicBool::new(false);
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let done_rx = Mutex::new(done_rx);
        let (outcome, interrupt) = std::thread::scope(|scope| {
            let trainer = scope.spawn(|| {
                let mut run = || {
                    let validation = validation.as_ref().map(Data::dataset).transpose()?;
                    let mut observer = StopFlag { stop: &stop };
                    fit(
                        network,
                        &loss,
                        train.dataset()?,
                        validation,
                        &config,
                        &mut observer,
                    )
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
        let report = outcome
            .map_err(|_| PyRuntimeError::new_err("the training thread panicked"))?
            .map_err(engine_error)?;
        Ok(serde_json::to_string(&report).expect("a training report serializes"))
    }

    /// The network's outputs for every row of `x` (`rows × inputs`, C-contiguous `float32`):
    /// probabilities after softmax or sigmoid for classifiers, values for regressors, as a
    /// `rows × outputs` `float32` array.
    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let arch = self.model.network.architecture();
        let (rows, inputs) = (x.shape()[0], x.shape()[1]);
        if inputs != arch.inputs {
            return Err(PyValueError::new_err(format!(
                "X has {inputs} features, but the model expects {}",
                arch.inputs
            )));
        }
        let outputs = arch.outputs;
        let data = contiguous(&x, "X")?;
        let network = &self.model.network;
        let out = py.detach(|| network.predict(data));
        let out = Array2::from_shape_vec((rows, outputs), out)
            .expect("predict returns rows × outputs values");
        Ok(out.into_pyarray(py))
    }

    /// The layers' parameters as `(weight [out, in], bias [out])` pairs of `float32` arrays.
    #[allow(clippy::type_complexity)]
    fn layers<'py>(
        &self,
        py: Python<'py>,
    ) -> Vec<(Bound<'py, PyArray2<f32>>, Bound<'py, PyArray1<f32>>)> {
        let network = &self.model.network;
        let arch = network.architecture();
        let params = network.parameters();
        let mut offset = 0;
        (0..arch.layer_count())
            .map(|i| {
                let (fan_in, fan_out) = arch.layer_shape(i);
                let weight = params[offset..offset + fan_in * fan_out].to_vec();
                offset += fan_in * fan_out;
                let bias = params[offset..offset + fan_out].to_vec();
                offset += fan_out;
                let weight = Array2::from_shape_vec((fan_out, fan_in), weight)
                    .expect("a layer's weight is fan_out × fan_in");
                (weight.into_pyarray(py), Array1::from(bias).into_pyarray(py))
            })
            .collect()
    }
}

/// The native module `backprop._native`.
#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<NativeModel>()?;
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
