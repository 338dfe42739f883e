//! [`NativeModel`]: a model file in memory, as the Python estimators hold it.

use std::borrow::Cow;
use std::path::PathBuf;

use backprop::prediction::{argmax_rows, class_count, class_probabilities};
use backprop::{Activation, Architecture, HiddenLayer, Init, Loss, Network, OutputActivation};
use backprop_data::{Model, ModelMetadata, Preprocessor, TargetSchema};
use numpy::ndarray::{Array1, Array2};
use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use serde_json::json;

use crate::training::{self, Data};
use crate::{data_error, engine_error};

/// The target's name in the preprocessing of models built from NumPy arrays (which name
/// none); the command line names it after the CSV column.
const TARGET_NAME: &str = "y";

/// A trained (or freshly initialized) network with the metadata of its model file.
#[pyclass(module = "backprop._native")]
pub struct NativeModel {
    model: Model,
}

/// Raw features from NumPy, `rows × features`: `float64` (what scikit-learn's validation
/// gives) or `float32`.
#[derive(FromPyObject)]
pub enum Features<'py> {
    /// Double precision.
    F64(PyReadonlyArray2<'py, f64>),
    /// Single precision.
    F32(PyReadonlyArray2<'py, f32>),
}

/// The borrowed values of [`Features`], which may cross to a thread without the GIL.
#[derive(Clone, Copy)]
enum Raw<'a> {
    F64(&'a [f64]),
    F32(&'a [f32]),
}

impl Features<'_> {
    /// The values and the row count, or a `ValueError` if the array is not C-contiguous.
    fn raw(&self) -> PyResult<(Raw<'_>, usize)> {
        let not_contiguous = |_| PyValueError::new_err("X must be a C-contiguous array");
        Ok(match self {
            Features::F64(x) => (
                Raw::F64(x.as_slice().map_err(not_contiguous)?),
                x.shape()[0],
            ),
            Features::F32(x) => (
                Raw::F32(x.as_slice().map_err(not_contiguous)?),
                x.shape()[0],
            ),
        })
    }

    /// The network's inputs: every column scaled as the preprocessing says (the array itself,
    /// not a copy, when that leaves `float32` values unchanged).
    pub fn transform(&self, pre: &Preprocessor) -> PyResult<Cow<'_, [f32]>> {
        let (raw, rows) = self.raw()?;
        transform(pre, raw, rows)
    }
}

fn transform<'a>(pre: &Preprocessor, raw: Raw<'a>, rows: usize) -> PyResult<Cow<'a, [f32]>> {
    let scaled = match raw {
        Raw::F64(x) => pre.transform_numeric(x, rows).map(Cow::Owned),
        Raw::F32(x) => pre.transform_numeric_f32(x, rows),
    };
    scaled.map_err(data_error)
}

/// Every row of class probabilities in `f64`, divided by its sum: the `f32` softmax sums to 1
/// only to `f32` precision, and scikit-learn's users expect rows that sum to 1.
///
/// (Belongs in `backprop::prediction` if another front end wants it.)
fn normalized_rows(probabilities: &[f32], classes: usize) -> Vec<f64> {
    let mut out: Vec<f64> = probabilities.iter().map(|&p| f64::from(p)).collect();
    for row in out.chunks_exact_mut(classes) {
        let sum: f64 = row.iter().sum();
        row.iter_mut().for_each(|p| *p /= sum);
    }
    out
}

impl NativeModel {
    /// The network's outputs for the raw features `x`, computed without the GIL.
    fn forward(&self, py: Python<'_>, x: &Features<'_>) -> PyResult<(Vec<f32>, usize)> {
        let (raw, rows) = x.raw()?;
        let Model { metadata, network } = &self.model;
        py.detach(|| {
            let pre = &metadata.preprocessing;
            let inputs = transform(pre, raw, rows)?;
            let mut outputs = network.predict(&inputs);
            // A model from the command line may have learned a standardized target.
            pre.target.restore_outputs(&mut outputs);
            Ok((outputs, rows))
        })
    }

    /// One probability per class for every row of `x`, with the row and class counts.
    fn probabilities(
        &self,
        py: Python<'_>,
        x: &Features<'_>,
    ) -> PyResult<(Vec<f32>, usize, usize)> {
        let (out, rows) = self.forward(py, x)?;
        let arch = self.architecture();
        Ok((class_probabilities(arch, out), rows, class_count(arch)))
    }

    fn architecture(&self) -> &Architecture {
        self.model.network.architecture()
    }
}

#[pymethods]
impl NativeModel {
    /// A new model with weights initialized from `seed` (the engine's automatic
    /// initialization: He for ReLU-like activations, Xavier otherwise): `inputs` numeric
    /// features (named `feature_names`, else `x0`, `x1`, ...), hidden layers of `hidden`
    /// units with `activations` (one name per layer, as the engine spells them).
    ///
    /// A classifier when `classes` (the class names in output order; `numeric_classes` when
    /// they are numbers) is given: softmax outputs with cross-entropy, weighted by
    /// `class_weights` if given. Otherwise a regressor of `outputs` values with the mean
    /// squared error.
    #[new]
    #[pyo3(signature = (inputs, hidden, activations, seed, *, feature_names=None, classes=None, numeric_classes=false, class_weights=None, outputs=1))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        inputs: usize,
        hidden: Vec<usize>,
        activations: Vec<String>,
        seed: u64,
        feature_names: Option<Vec<String>>,
        classes: Option<Vec<String>>,
        numeric_classes: bool,
        class_weights: Option<Vec<f64>>,
        outputs: usize,
    ) -> PyResult<Self> {
        if activations.len() != hidden.len() {
            return Err(PyValueError::new_err(format!(
                "activation lists {} activations for {} hidden layers",
                activations.len(),
                hidden.len()
            )));
        }
        let hidden = hidden
            .into_iter()
            .zip(&activations)
            .map(|(units, name)| {
                let activation: Activation = name
                    .parse()
                    .map_err(|e| PyValueError::new_err(format!("{e}")))?;
                Ok(HiddenLayer { units, activation })
            })
            .collect::<PyResult<Vec<_>>>()?;
        let names = feature_names.unwrap_or_else(|| (0..inputs).map(|i| format!("x{i}")).collect());
        let name = TARGET_NAME.to_string();
        let (outputs, output, loss, target) = match classes {
            Some(classes) => (
                classes.len(),
                OutputActivation::Softmax,
                Loss::CrossEntropy {
                    label_smoothing: 0.0,
                    class_weights,
                },
                TargetSchema::Classify {
                    name,
                    classes,
                    numeric: numeric_classes,
                },
            ),
            None => (
                outputs,
                OutputActivation::Identity,
                Loss::Mse,
                // Values as given: the estimators scale their targets themselves.
                TargetSchema::Regress { name, scale: None },
            ),
        };
        let architecture = Architecture {
            inputs,
            hidden,
            outputs,
            output,
        };
        architecture.validate().map_err(engine_error)?;
        let network = Network::new(architecture.clone(), Init::Auto, seed).map_err(engine_error)?;
        let preprocessing = Preprocessor::numeric(names, target);
        let training = json!({"trained_by": "python"});
        let metadata = ModelMetadata::new(architecture, loss, preprocessing, training);
        let model = Model::new(metadata, network).map_err(data_error)?;
        Ok(Self { model })
    }

    /// Reads a model from the bytes of a model file.
    #[staticmethod]
    fn from_bytes(data: &[u8]) -> PyResult<Self> {
        let model = Model::from_bytes(data).map_err(data_error)?;
        Ok(Self { model })
    }

    /// Reads the model file at `path` (`OSError` if it cannot be read, `ValueError` if it is
    /// not a valid model).
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<Self> {
        let model = Model::load(&path).map_err(data_error)?;
        Ok(Self { model })
    }

    /// Writes the model file to `path`, atomically (`OSError` on failure).
    fn save(&self, path: PathBuf) -> PyResult<()> {
        self.model.save(&path).map_err(data_error)
    }

    /// The bytes of the model file.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.model.to_bytes())
    }

    /// The whole metadata as JSON, for inspection (the estimators read the accessors below).
    fn metadata_json(&self) -> String {
        self.model.metadata.to_json()
    }

    /// The training summary as JSON: epochs, best epoch and loss, stop reason, optimizer,
    /// seed, and what the writer added (for Python: the estimator and its parameters).
    fn training_json(&self) -> String {
        self.model.metadata.training.to_string()
    }

    /// `"classify"` or `"regress"`.
    #[getter]
    fn task(&self) -> String {
        self.model.metadata.task.to_string()
    }

    /// The class names in output order (`None` for a regressor).
    #[getter]
    fn classes(&self) -> Option<Vec<String>> {
        self.model.metadata.classes.clone()
    }

    /// Whether the class names are numbers (the command line reads numeric labels).
    #[getter]
    fn numeric_classes(&self) -> bool {
        matches!(
            self.model.metadata.preprocessing.target,
            TargetSchema::Classify { numeric: true, .. }
        )
    }

    /// The names of the feature columns, one per column of `X`; a `ValueError` if the model
    /// one-hot encodes a column (it then needs the command line and the CSV file).
    #[getter]
    fn feature_names(&self) -> PyResult<Vec<String>> {
        let pre = &self.model.metadata.preprocessing;
        let names = pre.numeric_feature_names().map_err(data_error)?;
        Ok(names.into_iter().map(String::from).collect())
    }

    /// The hidden layers as `(units, activation)` pairs.
    #[getter]
    fn hidden_layers(&self) -> Vec<(usize, String)> {
        let hidden = &self.architecture().hidden;
        hidden
            .iter()
            .map(|layer| (layer.units, layer.activation.into()))
            .collect()
    }

    /// The number of network outputs.
    #[getter]
    fn outputs(&self) -> usize {
        self.architecture().outputs
    }

    /// The output activation: `softmax`, `sigmoid` or `identity`.
    #[getter]
    fn output_activation(&self) -> String {
        match self.architecture().output {
            OutputActivation::Softmax => "softmax",
            OutputActivation::Sigmoid => "sigmoid",
            OutputActivation::Identity => "identity",
        }
        .to_string()
    }

    fn __repr__(&self) -> String {
        format!("NativeModel({})", self.architecture())
    }

    /// Trains the network in place (warm start from its weights) with the model's loss and
    /// `config_json`, the engine's `TrainConfig` as JSON (see [`training::config_from_json`]:
    /// the optimizer may name only the settings it changes). `x` holds raw features, scaled
    /// as the model's preprocessing says; targets are class indices (`classes`, for
    /// cross-entropy) or a `rows × outputs` matrix (`values`); validation data is optional.
    /// `training_json` (a JSON object) is stored with the run's summary in the metadata.
    /// Returns the `TrainReport` as JSON.
    ///
    /// Raises `KeyboardInterrupt` on Ctrl-C, after the current epoch; the weights are then
    /// those of the last finished epoch.
    #[pyo3(signature = (x, classes, values, config_json, training_json, x_val=None, classes_val=None, values_val=None))]
    #[allow(clippy::too_many_arguments)]
    fn fit(
        &mut self,
        py: Python<'_>,
        x: Features<'_>,
        classes: Option<PyReadonlyArray1<'_, u32>>,
        values: Option<PyReadonlyArray2<'_, f32>>,
        config_json: &str,
        training_json: &str,
        x_val: Option<Features<'_>>,
        classes_val: Option<PyReadonlyArray1<'_, u32>>,
        values_val: Option<PyReadonlyArray2<'_, f32>>,
    ) -> PyResult<String> {
        let config = training::config_from_json(config_json)?;
        let pre = &self.model.metadata.preprocessing;
        // A regressor from the command line learned a standardized target: so must its
        // further training.
        let standardized = |values: &Option<PyReadonlyArray2<'_, f32>>, what: &str| match (
            pre.target.scale(),
            values,
        ) {
            (Some(scale), Some(values)) => values
                .as_slice()
                .map(|v| Some(v.iter().map(|&y| scale.standardize(y)).collect::<Vec<_>>()))
                .map_err(|_| {
                    PyValueError::new_err(format!("the {what} targets must be C-contiguous"))
                }),
            _ => Ok(None),
        };
        let train_values = standardized(&values, "training data")?;
        let val_values = standardized(&values_val, "validation data")?;
        let train = match &train_values {
            Some(v) => Data::with_values(x.transform(pre)?, v),
            None => Data::new(
                x.transform(pre)?,
                classes.as_ref(),
                values.as_ref(),
                "training data",
            )?,
        };
        let validation = match (&x_val, &val_values) {
            (Some(x_val), Some(v)) => Some(Data::with_values(x_val.transform(pre)?, v)),
            (Some(x_val), None) => Some(Data::new(
                x_val.transform(pre)?,
                classes_val.as_ref(),
                values_val.as_ref(),
                "validation data",
            )?),
            (None, _) => None,
        };
        let Model { metadata, network } = &mut self.model;
        let report = training::train(
            py,
            network,
            &metadata.loss,
            &train,
            validation.as_ref(),
            &config,
        )?;
        metadata.training = training::summary(&report, &config, training_json)?;
        Ok(serde_json::to_string(&report).expect("a training report serializes"))
    }

    /// The network's outputs for every row of the raw features `x`: probabilities after
    /// softmax or sigmoid for classifiers, values for regressors, as a `rows × outputs`
    /// `float32` array.
    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: Features<'py>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let (out, rows) = self.forward(py, &x)?;
        let out = Array2::from_shape_vec((rows, self.architecture().outputs), out)
            .expect("predict returns rows × outputs values");
        Ok(out.into_pyarray(py))
    }

    /// One probability per class for every row of `x` (also two for a single sigmoid
    /// output), as a `rows × classes` `float64` array whose rows sum to 1.
    fn predict_proba<'py>(
        &self,
        py: Python<'py>,
        x: Features<'py>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let (proba, rows, classes) = self.probabilities(py, &x)?;
        let proba = normalized_rows(&proba, classes);
        let proba =
            Array2::from_shape_vec((rows, classes), proba).expect("rows × classes probabilities");
        Ok(proba.into_pyarray(py))
    }

    /// The index of the most probable class of every row of `x` (the first on ties).
    fn predict_classes<'py>(
        &self,
        py: Python<'py>,
        x: Features<'py>,
    ) -> PyResult<Bound<'py, PyArray1<usize>>> {
        let (proba, _, classes) = self.probabilities(py, &x)?;
        let indices = argmax_rows(&proba, classes);
        Ok(Array1::from(indices).into_pyarray(py))
    }

    /// The layers' parameters as `(weight [out, in], bias [out])` pairs of `float32` arrays.
    #[allow(clippy::type_complexity)]
    fn layers<'py>(
        &self,
        py: Python<'py>,
    ) -> Vec<(Bound<'py, PyArray2<f32>>, Bound<'py, PyArray1<f32>>)> {
        let tensors = self.model.network.named_tensors();
        // In layer order: layers.{i}.weight, then layers.{i}.bias.
        tensors
            .chunks_exact(2)
            .map(|pair| {
                let (weight, bias) = (&pair[0], &pair[1]);
                let shape = (weight.shape[0], weight.shape[1]);
                let weight = Array2::from_shape_vec(shape, weight.data.to_vec())
                    .expect("a layer's weight is fan_out × fan_in");
                let bias = Array1::from(bias.data.to_vec());
                (weight.into_pyarray(py), bias.into_pyarray(py))
            })
            .collect()
    }
}
