//! The model file: one `.safetensors` file with the weights and everything needed to predict.
//!
//! Tensors are f32 `layers.{i}.weight` `[out, in]` and `layers.{i}.bias` `[out]`; the
//! safetensors `__metadata__` (a string → string map) holds one key, `backprop`, whose value
//! is [`ModelMetadata`] as JSON:
//!
//! ```json
//! {
//!   "format_version": 1,
//!   "library_version": "0.1.0",
//!   "architecture": {"inputs": 4, "hidden": [{"units": 8, "activation": "relu"}],
//!                    "outputs": 3, "output": "softmax"},
//!   "loss": {"kind": "cross_entropy", "label_smoothing": 0.0, "class_weights": null},
//!   "preprocessing": {...},
//!   "classes": ["setosa", "versicolor", "virginica"],
//!   "task": "classify",
//!   "training": {"epochs": 40, "best_epoch": 31, "seed": 1, ...}
//! }
//! ```
//!
//! Files are written atomically ([`crate::write_atomic`]): a crash or a full disk never
//! leaves a half-written model over a good one. See [`crate::pytorch`] for reading a model in
//! PyTorch.

use std::collections::BTreeMap;
use std::path::Path;

use backprop::{Architecture, Loss, Network, OutputActivation};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{join_limited, Error, Result};
use crate::preprocess::Preprocessor;
use crate::pytorch::{network_from_tensors, normalize_tensor_names};
use crate::safetensors::{self, LoadedTensor, TensorFile};
use crate::target::Task;
use crate::write::write_atomic;

/// The version of the metadata layout this build writes, and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

/// The `__metadata__` key that holds [`ModelMetadata`] as JSON.
pub const METADATA_KEY: &str = "backprop";

/// Everything besides the weights that is needed to predict with a model (and to know how it
/// was made).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelMetadata {
    /// Layout version of this metadata ([`FORMAT_VERSION`] when written).
    pub format_version: u32,
    /// The version of backprop that wrote the file.
    pub library_version: String,
    /// Layer widths and activations.
    pub architecture: Architecture,
    /// The training loss (fixes the output activation).
    pub loss: Loss,
    /// How raw input columns become the network's inputs.
    pub preprocessing: Preprocessor,
    /// Class names in output order, for classifiers.
    #[serde(default)]
    pub classes: Option<Vec<String>>,
    /// `classify` or `regress`.
    pub task: Task,
    /// A summary of training: epochs run, best epoch, final losses and metrics, seconds,
    /// optimizer settings, seed, ...
    #[serde(default)]
    pub training: Value,
}

impl ModelMetadata {
    /// Metadata for a model written by this build (current format and library version); the
    /// task and the class names are the preprocessing's.
    pub fn new(
        architecture: Architecture,
        loss: Loss,
        preprocessing: Preprocessor,
        training: Value,
    ) -> Self {
        Self {
            format_version: FORMAT_VERSION,
            library_version: env!("CARGO_PKG_VERSION").to_string(),
            architecture,
            loss,
            classes: preprocessing.target.classes().map(<[String]>::to_vec),
            task: preprocessing.target.task(),
            preprocessing,
            training,
        }
    }

    /// Parses the JSON of the `backprop` metadata key, checking the format version first so
    /// that a file from a newer backprop gets a clear message rather than a parse error.
    pub fn from_json(text: &str) -> Result<Self> {
        // Only the two version fields are kept from this first pass (the rest is skipped, not
        // built as a tree: 50 MB of metadata must not cost gigabytes).
        #[derive(Deserialize)]
        struct Versions {
            format_version: Option<Value>,
            library_version: Option<Value>,
        }
        let value: Versions = serde_json::from_str(text).map_err(|e| {
            Error::model(format!(
                "the {METADATA_KEY:?} metadata is not valid JSON: {e}"
            ))
        })?;
        let version = value.format_version.as_ref().ok_or_else(|| {
            Error::model(format!(
                "the {METADATA_KEY:?} metadata has no format_version"
            ))
        })?;
        let version = version.as_u64().filter(|&v| v >= 1).ok_or_else(|| {
            Error::model(format!(
                "format_version {version} is not a positive integer"
            ))
        })?;
        if version > u64::from(FORMAT_VERSION) {
            let writer = value
                .library_version
                .as_ref()
                .and_then(Value::as_str)
                .unwrap_or("an unknown version");
            return Err(Error::model(format!(
                "the model has format version {version} (written by backprop {writer}), but this \
                 backprop {} reads format version {FORMAT_VERSION} or older: upgrade backprop",
                env!("CARGO_PKG_VERSION")
            )));
        }
        let metadata: Self = serde_json::from_str(text)
            .map_err(|e| Error::model(format!("the {METADATA_KEY:?} metadata is invalid: {e}")))?;
        metadata.validate()?;
        Ok(metadata)
    }

    /// The metadata as JSON, the value of the model file's `backprop` key.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self)
            .expect("metadata of strings, numbers and finite settings serializes")
    }

    /// Checks that the parts agree: a valid architecture whose output activation is the
    /// loss's, a known task, and class names (and class weights) that fit the outputs.
    pub fn validate(&self) -> Result<()> {
        let arch = &self.architecture;
        arch.validate()?;
        if self.loss.output_activation() != arch.output {
            return Err(Error::model(format!(
                "the loss {} needs the output activation {}, but the architecture has {}",
                self.loss.name(),
                json_name(&self.loss.output_activation()),
                json_name(&arch.output)
            )));
        }
        if self.task != self.preprocessing.target.task() {
            return Err(Error::model(format!(
                "the task is {} but the preprocessing's target is for {}",
                self.task,
                self.preprocessing.target.task()
            )));
        }
        self.preprocessing.validate()?;
        if self.preprocessing.inputs != arch.inputs {
            return Err(Error::model(format!(
                "the preprocessing makes {} inputs, but the network takes {}",
                self.preprocessing.inputs, arch.inputs
            )));
        }
        if let Loss::CrossEntropy {
            class_weights: Some(weights),
            ..
        } = &self.loss
        {
            if weights.len() != arch.outputs {
                return Err(Error::model(format!(
                    "{} class weights for {} outputs",
                    weights.len(),
                    arch.outputs
                )));
            }
        }
        let target_classes = self.preprocessing.target.classes();
        if let (Some(classes), Some(target)) = (&self.classes, target_classes) {
            if classes.as_slice() != target {
                return Err(Error::model(format!(
                    "the class names ({}) are not the preprocessing's target classes ({})",
                    join_limited(classes, 10),
                    join_limited(target, 10)
                )));
            }
        }
        for classes in [self.classes.as_deref(), target_classes]
            .into_iter()
            .flatten()
        {
            // A single sigmoid output is a binary classifier with two class names.
            let fits = classes.len() == arch.outputs
                || (arch.output == OutputActivation::Sigmoid
                    && arch.outputs == 1
                    && classes.len() == 2);
            if !fits {
                return Err(Error::model(format!(
                    "{} class names for a network with {} {} output(s)",
                    classes.len(),
                    arch.outputs,
                    json_name(&arch.output)
                )));
            }
        }
        Ok(())
    }
}

/// The name of a unit enum variant as it appears in the metadata (`softmax`, ...).
fn json_name(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(name)) => name,
        other => format!("{other:?}"),
    }
}

/// A trained network with its metadata, as stored in a model file.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// Everything besides the weights.
    pub metadata: ModelMetadata,
    /// The weights (f32, as stored).
    pub network: Network<f32>,
}

impl Model {
    /// A model, checking that the metadata describes the network.
    pub fn new(metadata: ModelMetadata, network: Network<f32>) -> Result<Self> {
        if &metadata.architecture != network.architecture() {
            return Err(Error::model(
                "the metadata's architecture is not the network's",
            ));
        }
        metadata.validate()?;
        Ok(Self { metadata, network })
    }

    /// The bytes of the model file.
    pub fn to_bytes(&self) -> Vec<u8> {
        let metadata = BTreeMap::from([(METADATA_KEY.to_string(), self.metadata.to_json())]);
        safetensors::to_bytes(&self.network, &metadata)
    }

    /// Reads a model from the bytes of a model file, validating the metadata (present,
    /// JSON, a format version this build knows, consistent) and the tensors (shapes as the
    /// architecture says, finite values).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::from_tensor_file(safetensors::from_bytes(bytes)?)
    }

    /// A model from a parsed safetensors file (see [`Model::from_bytes`]).
    pub(crate) fn from_tensor_file(file: TensorFile) -> Result<Self> {
        let Some(json) = file.metadata.get(METADATA_KEY) else {
            return Err(Error::model(format!(
                "it has no {METADATA_KEY:?} metadata, so it is a bare weights file rather than \
                 a backprop model; to start training from these weights, pass it to \
                 `backprop train --init FILE`"
            )));
        };
        let metadata = ModelMetadata::from_json(json)?;
        let network = network_from_tensors(metadata.architecture.clone(), file.tensors)?;
        Self::new(metadata, network)
    }

    /// Writes the model to `path` atomically (see [`write_atomic`]).
    pub fn save(&self, path: &Path) -> Result<()> {
        write_atomic(path, &self.to_bytes()).map_err(|cause| Error::Write {
            path: path.display().to_string(),
            cause,
        })
    }

    /// Reads and validates the model file at `path` (see [`Model::from_bytes`]).
    pub fn load(path: &Path) -> Result<Self> {
        let loaded = std::fs::read(path)
            .map_err(|cause| Error::Io {
                path: path.display().to_string(),
                cause,
            })
            .and_then(|bytes| Self::from_bytes(&bytes));
        loaded.map_err(|cause| Error::LoadModel {
            path: path.display().to_string(),
            cause: Box::new(cause),
        })
    }
}

/// Starting weights for `--init`, from any of:
/// - a backprop model file (its own architecture is used);
/// - a bare weights file with tensors `layers.{i}.weight` / `layers.{i}.bias` and no metadata;
/// - a PyTorch `nn.Sequential` of `nn.Linear` and activation modules, saved with
///   `safetensors.torch.save_file(net.state_dict(), path)` (names like `0.weight`, or with a
///   prefix such as `model.0.weight`).
///
/// For the last two, `fallback_arch` gets the tensors renamed to `layers.{i}.*` and returns
/// the architecture (typically `architecture_from_shapes` with the configured activations, or
/// the configured architecture after comparing widths). The caller should check that the
/// returned network's architecture is the one it trains.
pub fn load_initial_weights(
    path: &Path,
    fallback_arch: impl FnOnce(&[LoadedTensor]) -> Result<Architecture>,
) -> Result<Network<f32>> {
    let loaded = std::fs::read(path)
        .map_err(|cause| Error::Io {
            path: path.display().to_string(),
            cause,
        })
        .and_then(|bytes| initial_weights_from_bytes(&bytes, fallback_arch));
    loaded.map_err(|cause| Error::InitialWeights {
        path: path.display().to_string(),
        cause: Box::new(cause),
    })
}

fn initial_weights_from_bytes(
    bytes: &[u8],
    fallback_arch: impl FnOnce(&[LoadedTensor]) -> Result<Architecture>,
) -> Result<Network<f32>> {
    let file = safetensors::from_bytes(bytes)?;
    if file.metadata.contains_key(METADATA_KEY) {
        return Ok(Model::from_tensor_file(file)?.network);
    }
    let tensors = normalize_tensor_names(file.tensors)?;
    let arch = fallback_arch(&tensors)?;
    network_from_tensors(arch, tensors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pytorch::architecture_from_shapes;
    use crate::target::TargetSchema;
    use crate::write::entries;
    use backprop::{Activation, Init};
    use serde_json::json;

    fn metadata() -> ModelMetadata {
        let names = ["w", "x", "y", "z"].map(String::from).to_vec();
        let target = TargetSchema::Classify {
            name: "label".into(),
            classes: vec!["a".into(), "b".into(), "c".into()],
            numeric: false,
        };
        ModelMetadata::new(
            Architecture::new(4, &[6, 5], Activation::Tanh, 3, OutputActivation::Softmax),
            Loss::cross_entropy(),
            Preprocessor::numeric(names, target),
            json!({"epochs": 3, "best_epoch": 2, "seed": 9, "optimizer": {"kind": "adam"}}),
        )
    }

    fn model() -> Model {
        let metadata = metadata();
        let network = Network::new(metadata.architecture.clone(), Init::Auto, 5).unwrap();
        Model::new(metadata, network).unwrap()
    }

    /// The metadata JSON of `model` edited by `edit`, written back with the same weights.
    fn with_metadata(model: &Model, edit: impl FnOnce(&mut Value)) -> Vec<u8> {
        let mut value = serde_json::to_value(&model.metadata).unwrap();
        edit(&mut value);
        let metadata = BTreeMap::from([(METADATA_KEY.to_string(), value.to_string())]);
        safetensors::to_bytes(&model.network, &metadata)
    }

    fn load_error(bytes: &[u8]) -> String {
        format!("{:#}", Model::from_bytes(bytes).unwrap_err())
    }

    #[test]
    fn save_then_load_gives_the_same_model() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        let model = model();
        model.save(&path).unwrap();
        let loaded = Model::load(&path).unwrap();
        assert_eq!(loaded, model);
        assert_eq!(loaded.network.parameters(), model.network.parameters());
        assert_eq!(loaded.metadata.format_version, FORMAT_VERSION);
        assert_eq!(loaded.metadata.library_version, env!("CARGO_PKG_VERSION"));
        assert_eq!(entries(dir.path()), ["model.safetensors"]);
    }

    #[test]
    fn metadata_json_has_the_documented_layout() {
        let text = serde_json::to_string(&metadata()).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["format_version"], 1);
        assert_eq!(value["architecture"]["hidden"][0]["activation"], "tanh");
        assert_eq!(value["architecture"]["output"], "softmax");
        assert_eq!(value["loss"]["kind"], "cross_entropy");
        assert_eq!(value["task"], "classify");
        assert_eq!(value["classes"][2], "c");
        assert_eq!(ModelMetadata::from_json(&text).unwrap(), metadata());
    }

    #[test]
    fn a_bare_weights_file_points_to_init() {
        let bare = safetensors::to_bytes(&model().network, &BTreeMap::new());
        let message = load_error(&bare);
        assert!(message.contains("bare weights file"), "{message}");
        assert!(message.contains("--init"), "{message}");
    }

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.safetensors");
        let message = format!("{:#}", Model::load(&missing).unwrap_err());
        assert!(message.contains("missing.safetensors"), "{message}");
        let garbage = dir.path().join("garbage.safetensors");
        std::fs::write(&garbage, b"abc").unwrap();
        let message = format!("{:#}", Model::load(&garbage).unwrap_err());
        assert!(message.contains("garbage.safetensors"), "{message}");
        assert!(message.contains("too short"), "{message}");
    }

    #[test]
    fn rejects_metadata_that_is_not_json() {
        let metadata = BTreeMap::from([(METADATA_KEY.to_string(), "{not json".to_string())]);
        let bytes = safetensors::to_bytes(&model().network, &metadata);
        assert!(load_error(&bytes).contains("not valid JSON"));
    }

    #[test]
    fn rejects_a_newer_or_missing_format_version() {
        let model = model();
        let newer = with_metadata(&model, |v| {
            v["format_version"] = json!(FORMAT_VERSION + 1);
            v["library_version"] = json!("9.0.0");
            v["architecture"] = json!("a layout this build does not know");
        });
        let message = load_error(&newer);
        assert!(message.contains("format version 2"), "{message}");
        assert!(message.contains("backprop 9.0.0"), "{message}");
        assert!(message.contains("upgrade"), "{message}");
        let missing = with_metadata(&model, |v| {
            v.as_object_mut().unwrap().remove("format_version");
        });
        assert!(load_error(&missing).contains("no format_version"));
        let zero = with_metadata(&model, |v| v["format_version"] = json!(0));
        assert!(load_error(&zero).contains("not a positive integer"));
    }

    #[test]
    fn rejects_inconsistent_metadata() {
        let model = model();
        let no_units = with_metadata(&model, |v| {
            v["architecture"]["hidden"][0]["units"] = json!(0)
        });
        assert!(load_error(&no_units).contains("hidden layer 0 has no units"));
        let wrong_loss = with_metadata(&model, |v| v["loss"] = json!({"kind": "mse"}));
        assert!(load_error(&wrong_loss)
            .contains("needs the output activation identity, but the architecture has softmax"));
        let task = with_metadata(&model, |v| v["task"] = json!("cluster"));
        assert!(load_error(&task).contains("cluster"));
        let classes = with_metadata(&model, |v| v["classes"] = json!(["a", "b"]));
        assert!(load_error(&classes).contains("are not the preprocessing's target classes"));
        let classes = with_metadata(&model, |v| {
            v["classes"] = json!(["a", "b"]);
            v["preprocessing"]["target"]["classes"] = json!(["a", "b"]);
        });
        assert!(load_error(&classes).contains("2 class names"));
        let unsorted = with_metadata(&model, |v| {
            v["classes"] = json!(["b", "a", "c"]);
            v["preprocessing"]["target"]["classes"] = json!(["b", "a", "c"]);
        });
        assert!(load_error(&unsorted).contains("must be sorted"));
        let extra_input = with_metadata(&model, |v| {
            v["preprocessing"]["features"][1]["indicator"] = json!(true);
        });
        assert!(load_error(&extra_input).contains("encode 5 inputs, but it says 4"));
        let missing_field = with_metadata(&model, |v| {
            v.as_object_mut().unwrap().remove("loss");
        });
        assert!(load_error(&missing_field).contains("missing field `loss`"));
    }

    #[test]
    fn rejects_tensors_that_do_not_fit_the_architecture() {
        let model = model();
        let wider = with_metadata(&model, |v| {
            v["architecture"]["hidden"][0]["units"] = json!(7)
        });
        let message = load_error(&wider);
        assert!(
            message.contains("shape mismatch for layers.0."),
            "{message}"
        );
    }

    #[test]
    fn rejects_non_finite_weights() {
        let mut bytes = model().to_bytes();
        let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let data = 8 + header_len;
        bytes[data..data + 4].copy_from_slice(&f32::NAN.to_le_bytes());
        assert!(load_error(&bytes).contains("non-finite"));
    }

    #[test]
    fn initial_weights_from_a_model_a_bare_file_or_pytorch() {
        let model = model();
        let never = |_: &[LoadedTensor]| -> Result<Architecture> {
            panic!("a full model carries its architecture")
        };
        let from_model = initial_weights_from_bytes(&model.to_bytes(), never).unwrap();
        assert_eq!(from_model, model.network);

        let bare = safetensors::to_bytes(&model.network, &BTreeMap::new());
        let from_bare = initial_weights_from_bytes(&bare, |tensors| {
            architecture_from_shapes(tensors, &[Activation::Tanh], OutputActivation::Softmax)
        })
        .unwrap();
        assert_eq!(from_bare, model.network);

        let torch =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/torch_sequential.safetensors");
        let from_torch = load_initial_weights(&torch, |tensors| {
            architecture_from_shapes(tensors, &[Activation::Relu], OutputActivation::Softmax)
        })
        .unwrap();
        assert_eq!(from_torch.architecture().widths(), [4, 8, 3]);

        let refused = load_initial_weights(&torch, |_| {
            Err(backprop::Error::InvalidArchitecture("widths differ".into()).into())
        });
        let message = format!("{:#}", refused.unwrap_err());
        assert!(
            message.contains("torch_sequential.safetensors"),
            "{message}"
        );
        assert!(message.contains("widths differ"), "{message}");
    }
}
