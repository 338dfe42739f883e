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
//! Files are written atomically ([`write_atomic`]): a crash or a full disk never leaves a
//! half-written model over a good one. See `backprop::safetensors_io` for reading a model in
//! PyTorch.

// The commands that use this module are written separately; until they land, parts are unused.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use anyhow::{anyhow, bail, Context};
use backprop::safetensors_io::{
    network_from_tensors, normalize_tensor_names, read_safetensors, to_safetensors, LoadedTensor,
    TensorFile,
};
use backprop::{Architecture, Loss, Network, OutputActivation};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The version of the metadata layout this build writes, and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

/// The `__metadata__` key that holds [`ModelMetadata`] as JSON.
pub const METADATA_KEY: &str = "backprop";

/// Tasks a model can be trained for.
pub const TASKS: [&str; 2] = ["classify", "regress"];

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
    /// How raw input columns become the network's inputs (defined by the data module).
    #[serde(default)]
    pub preprocessing: Value,
    /// Class names in output order, for classifiers.
    #[serde(default)]
    pub classes: Option<Vec<String>>,
    /// `classify` or `regress`.
    pub task: String,
    /// A summary of training: epochs run, best epoch, final losses and metrics, seconds,
    /// optimizer settings, seed, ...
    #[serde(default)]
    pub training: Value,
}

impl ModelMetadata {
    /// Metadata for a model written by this build (current format and library version).
    pub fn new(
        architecture: Architecture,
        loss: Loss,
        task: &str,
        classes: Option<Vec<String>>,
        preprocessing: Value,
        training: Value,
    ) -> Self {
        Self {
            format_version: FORMAT_VERSION,
            library_version: env!("CARGO_PKG_VERSION").to_string(),
            architecture,
            loss,
            preprocessing,
            classes,
            task: task.to_string(),
            training,
        }
    }

    /// Parses the JSON of the `backprop` metadata key, checking the format version first so
    /// that a file from a newer backprop gets a clear message rather than a parse error.
    pub fn from_json(text: &str) -> anyhow::Result<Self> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| anyhow!("the {METADATA_KEY:?} metadata is not valid JSON: {e}"))?;
        let version = value
            .get("format_version")
            .ok_or_else(|| anyhow!("the {METADATA_KEY:?} metadata has no format_version"))?;
        let version = version
            .as_u64()
            .filter(|&v| v >= 1)
            .ok_or_else(|| anyhow!("format_version {version} is not a positive integer"))?;
        if version > u64::from(FORMAT_VERSION) {
            let writer = value
                .get("library_version")
                .and_then(Value::as_str)
                .unwrap_or("an unknown version");
            bail!(
                "the model has format version {version} (written by backprop {writer}), but this \
                 backprop {} reads format version {FORMAT_VERSION} or older: upgrade backprop",
                env!("CARGO_PKG_VERSION")
            );
        }
        let metadata: Self = serde_json::from_value(value)
            .map_err(|e| anyhow!("the {METADATA_KEY:?} metadata is invalid: {e}"))?;
        metadata.validate()?;
        Ok(metadata)
    }

    /// Checks that the parts agree: a valid architecture whose output activation is the
    /// loss's, a known task, and class names (and class weights) that fit the outputs.
    pub fn validate(&self) -> anyhow::Result<()> {
        let arch = &self.architecture;
        arch.validate()?;
        if self.loss.output_activation() != arch.output {
            bail!(
                "the loss {} needs the output activation {}, but the architecture has {}",
                self.loss.name(),
                json_name(&self.loss.output_activation()),
                json_name(&arch.output)
            );
        }
        if !TASKS.contains(&self.task.as_str()) {
            bail!(
                "unknown task {:?}: expected one of {}",
                self.task,
                TASKS.join(", ")
            );
        }
        if let Loss::CrossEntropy {
            class_weights: Some(weights),
            ..
        } = &self.loss
        {
            if weights.len() != arch.outputs {
                bail!(
                    "{} class weights for {} outputs",
                    weights.len(),
                    arch.outputs
                );
            }
        }
        if let Some(classes) = &self.classes {
            // A single sigmoid output is a binary classifier with two class names.
            let fits = classes.len() == arch.outputs
                || (arch.output == OutputActivation::Sigmoid
                    && arch.outputs == 1
                    && classes.len() == 2);
            if !fits {
                bail!(
                    "{} class names for a network with {} {} output(s)",
                    classes.len(),
                    arch.outputs,
                    json_name(&arch.output)
                );
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
    pub fn new(metadata: ModelMetadata, network: Network<f32>) -> anyhow::Result<Self> {
        if &metadata.architecture != network.architecture() {
            bail!("the metadata's architecture is not the network's");
        }
        metadata.validate()?;
        Ok(Self { metadata, network })
    }

    /// The bytes of the model file.
    pub fn to_bytes(&self) -> Vec<u8> {
        let json = serde_json::to_string(&self.metadata)
            .expect("metadata of strings, numbers and finite settings serializes");
        let metadata = BTreeMap::from([(METADATA_KEY.to_string(), json)]);
        to_safetensors(&self.network, &metadata)
    }

    /// Reads a model from the bytes of a model file, validating the metadata (present,
    /// JSON, a format version this build knows, consistent) and the tensors (shapes as the
    /// architecture says, finite values).
    pub fn from_bytes(bytes: &[u8]) -> anyhow::Result<Self> {
        Self::from_tensor_file(read_safetensors(bytes)?)
    }

    fn from_tensor_file(file: TensorFile) -> anyhow::Result<Self> {
        let Some(json) = file.metadata.get(METADATA_KEY) else {
            bail!(
                "it has no {METADATA_KEY:?} metadata, so it is a bare weights file rather than \
                 a backprop model; to start training from these weights, pass it to \
                 `backprop train --init FILE`"
            );
        };
        let metadata = ModelMetadata::from_json(json)?;
        let network = network_from_tensors(metadata.architecture.clone(), file.tensors)?;
        Ok(Self { metadata, network })
    }

    /// Writes the model to `path` atomically (see [`write_atomic`]).
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        write_atomic(path, &self.to_bytes())
            .with_context(|| format!("cannot write the model {}", path.display()))
    }

    /// Reads and validates the model file at `path` (see [`Model::from_bytes`]).
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let context = || format!("cannot load the model {}", path.display());
        let bytes = std::fs::read(path).with_context(context)?;
        Self::from_bytes(&bytes).with_context(context)
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
    fallback_arch: impl FnOnce(&[LoadedTensor]) -> backprop::Result<Architecture>,
) -> anyhow::Result<Network<f32>> {
    let context = || format!("cannot use {} as initial weights", path.display());
    let bytes = std::fs::read(path).with_context(context)?;
    initial_weights_from_bytes(&bytes, fallback_arch).with_context(context)
}

fn initial_weights_from_bytes(
    bytes: &[u8],
    fallback_arch: impl FnOnce(&[LoadedTensor]) -> backprop::Result<Architecture>,
) -> anyhow::Result<Network<f32>> {
    let file = read_safetensors(bytes)?;
    if file.metadata.contains_key(METADATA_KEY) {
        return Ok(Model::from_tensor_file(file)?.network);
    }
    let tensors = normalize_tensor_names(file.tensors)?;
    let arch = fallback_arch(&tensors)?;
    Ok(network_from_tensors(arch, tensors)?)
}

/// Replaces the file at `path` with `bytes`, atomically: the bytes go to a temporary file in
/// the same directory, which is flushed to disk (`sync_all`) and then renamed over `path`;
/// on Unix the directory is then synced so the rename itself survives a crash.
///
/// If any step fails, an existing file at `path` is left as it was and the temporary file is
/// removed. The new file gets the usual permissions (`0o666` less the umask).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |file| file.write_all(bytes))
}

/// [`write_atomic`] with the writing done by `write` (a test seam for failing writes).
fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} does not name a file", path.display()),
        )
    })?;
    let prefix = format!(".{}.", name.to_string_lossy());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    // Dropping `temp` on any early return deletes the temporary file.
    let mut temp = builder.tempfile_in(dir)?;
    write(temp.as_file_mut())?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use backprop::safetensors_io::architecture_from_shapes;
    use backprop::{Activation, Init};
    use serde_json::json;

    fn metadata() -> ModelMetadata {
        ModelMetadata::new(
            Architecture::new(4, &[6, 5], Activation::Tanh, 3, OutputActivation::Softmax),
            Loss::cross_entropy(),
            "classify",
            Some(vec!["a".into(), "b".into(), "c".into()]),
            json!({"standardize": {"mean": [0.5, 1.0, 0.0, 2.0], "std": [1.0, 2.0, 1.0, 0.5]}}),
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
        to_safetensors(&model.network, &metadata)
    }

    fn load_error(bytes: &[u8]) -> String {
        format!("{:#}", Model::from_bytes(bytes).unwrap_err())
    }

    /// Files in `dir`, sorted.
    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
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
        let bare = to_safetensors(&model().network, &BTreeMap::new());
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
        let bytes = to_safetensors(&model().network, &metadata);
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
        assert!(load_error(&task).contains("unknown task \"cluster\""));
        let classes = with_metadata(&model, |v| v["classes"] = json!(["a", "b"]));
        assert!(load_error(&classes).contains("2 class names"));
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
        assert!(message.contains("layers.0.weight"), "{message}");
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
        let never = |_: &[LoadedTensor]| -> backprop::Result<Architecture> {
            panic!("a full model carries its architecture")
        };
        let from_model = initial_weights_from_bytes(&model.to_bytes(), never).unwrap();
        assert_eq!(from_model, model.network);

        let bare = to_safetensors(&model.network, &BTreeMap::new());
        let from_bare = initial_weights_from_bytes(&bare, |tensors| {
            architecture_from_shapes(tensors, &[Activation::Tanh], OutputActivation::Softmax)
        })
        .unwrap();
        assert_eq!(from_bare, model.network);

        let torch = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../backprop/tests/golden/torch_sequential.safetensors");
        let from_torch = load_initial_weights(&torch, |tensors| {
            architecture_from_shapes(tensors, &[Activation::Relu], OutputActivation::Softmax)
        })
        .unwrap();
        assert_eq!(from_torch.architecture().widths(), [4, 8, 3]);

        let refused = load_initial_weights(&torch, |_| {
            Err(backprop::Error::InvalidArchitecture("widths differ".into()))
        });
        let message = format!("{:#}", refused.unwrap_err());
        assert!(
            message.contains("torch_sequential.safetensors"),
            "{message}"
        );
        assert!(message.contains("widths differ"), "{message}");
    }

    #[test]
    fn atomic_write_replaces_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.bin");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        assert_eq!(entries(dir.path()), ["out.bin"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o600, 0o600, "readable and writable by its owner");
        }
    }

    /// Proves: if writing the bytes fails midway (disk full, I/O error), the old file keeps
    /// its content and the partly written temporary file is removed.
    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        std::fs::write(&path, b"old model").unwrap();
        let result = write_atomic_with(&path, |file| {
            file.write_all(b"half of the new")?;
            Err(io::Error::other("disk full"))
        });
        assert_eq!(result.unwrap_err().to_string(), "disk full");
        assert_eq!(std::fs::read(&path).unwrap(), b"old model");
        assert_eq!(entries(dir.path()), ["model.safetensors"]);
    }

    /// Proves: if the final rename fails (here because the target is a non-empty directory,
    /// which works even as root), the target is untouched and the temporary file is removed.
    #[test]
    fn a_failed_rename_leaves_the_target_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("model.safetensors");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("inside"), b"kept").unwrap();
        let err = model().save(&target).unwrap_err();
        assert!(format!("{err:#}").contains("model.safetensors"));
        assert_eq!(std::fs::read(target.join("inside")).unwrap(), b"kept");
        assert_eq!(entries(dir.path()), ["model.safetensors"]);
    }

    #[test]
    fn writing_into_a_missing_directory_fails_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/dir/model.safetensors");
        assert!(write_atomic(&path, b"x").is_err());
        assert!(entries(dir.path()).is_empty());
    }
}
