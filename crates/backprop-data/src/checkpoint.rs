//! Training checkpoints: a folder holding the weights after the last finished epoch (as a
//! model file, usable like any other) and the trainer's state (optimizer buffers, epoch,
//! random streams, schedule, early stopping).
//!
//! The checkpoint is one unit: the state travels inside the model file's metadata (key
//! [`STATE_KEY`]), and that one file is written atomically, so a kill at any moment leaves
//! either the previous checkpoint or the new one, never weights of one epoch with the state
//! of another. `state.json` beside it holds the same state for people and tools; the reader
//! uses it only for checkpoints written before the state moved into the model file (whose
//! metadata records the epoch, so a mismatched pair is detected).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use backprop::train::TrainState;
use serde_json::json;

use crate::error::{Error, Result};
use crate::model_file::{Model, ModelMetadata, METADATA_KEY};
use crate::write::write_atomic;

/// The weights file inside a checkpoint folder.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// The trainer state inside a checkpoint folder.
pub const STATE_FILE: &str = "state.json";

/// The safetensors metadata key (beside the model's `backprop`) that holds the trainer state
/// as JSON.
pub const STATE_KEY: &str = "backprop_trainer_state";

/// The metadata key (inside `training`) with the epoch the weights were saved after.
const EPOCH_KEY: &str = "checkpoint_epoch";

/// Writes a checkpoint after every epoch into one folder.
pub struct CheckpointWriter {
    dir: PathBuf,
    /// The run's metadata; the checkpoint's epoch is added to its `training` object (which
    /// is replaced when it is not an object).
    metadata: ModelMetadata,
}

impl CheckpointWriter {
    /// A writer into `dir`, which is created if needed.
    pub fn new(dir: &Path, metadata: ModelMetadata) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|cause| Error::Write {
            path: dir.display().to_string(),
            cause,
        })?;
        Ok(Self {
            dir: dir.to_path_buf(),
            metadata,
        })
    }

    /// Saves `network` and `state` (taken after the same epoch).
    pub fn write(&self, network: &backprop::Network<f32>, state: &TrainState) -> Result<()> {
        let mut metadata = self.metadata.clone();
        // The run's settings (the caller's `training` object) with the epoch added.
        let epoch = json!(state.next_epoch - 1);
        match &mut metadata.training {
            serde_json::Value::Object(map) => {
                map.insert(EPOCH_KEY.to_string(), epoch);
            }
            other => *other = json!({ EPOCH_KEY: epoch }),
        }
        let model = Model::new(metadata, network.clone())?;
        let text =
            serde_json::to_string(state).expect("a trainer state of finite numbers serializes");
        let map = BTreeMap::from([
            (METADATA_KEY.to_string(), model.metadata.to_json()),
            (STATE_KEY.to_string(), text.clone()),
        ]);
        // The unit: weights and state in one file, renamed into place at once.
        let weights = self.dir.join(WEIGHTS_FILE);
        let bytes = crate::safetensors::to_bytes(&model.network, &map);
        write_atomic(&weights, &bytes).map_err(|cause| Error::Write {
            path: weights.display().to_string(),
            cause,
        })?;
        let path = self.dir.join(STATE_FILE);
        write_atomic(&path, text.as_bytes()).map_err(|cause| Error::Write {
            path: path.display().to_string(),
            cause,
        })
    }
}

/// Reads the checkpoint in `dir`: the model and the state to resume from.
pub fn read(dir: &Path) -> Result<(Model, TrainState)> {
    read_parts(dir).map_err(|cause| Error::Resume {
        dir: dir.display().to_string(),
        cause: Box::new(cause),
    })
}

fn read_parts(dir: &Path) -> Result<(Model, TrainState)> {
    let weights = dir.join(WEIGHTS_FILE);
    let in_file = std::fs::read(&weights)
        .map_err(|cause| Error::Io {
            path: weights.display().to_string(),
            cause,
        })
        .and_then(|bytes| {
            let mut file = crate::safetensors::from_bytes(&bytes)?;
            let state = file.metadata.remove(STATE_KEY);
            Ok((Model::from_tensor_file(file)?, state))
        })
        .map_err(|cause| Error::LoadModel {
            path: weights.display().to_string(),
            cause: Box::new(cause),
        })?;
    let model = match in_file {
        (model, Some(text)) => {
            let state = serde_json::from_str(&text).map_err(|e| Error::Format {
                file: weights.display().to_string(),
                message: format!("its {STATE_KEY:?} metadata is not a trainer state: {e}"),
            })?;
            return Ok((model, state));
        }
        (model, None) => model,
    };
    // A checkpoint from before the state moved into the model file.
    let path = dir.join(STATE_FILE);
    let text = std::fs::read_to_string(&path).map_err(|cause| Error::Io {
        path: path.display().to_string(),
        cause,
    })?;
    let state: TrainState = serde_json::from_str(&text).map_err(|e| Error::Format {
        file: path.display().to_string(),
        message: format!("not a trainer state: {e}"),
    })?;
    let saved_epoch = model
        .metadata
        .training
        .get(EPOCH_KEY)
        .and_then(|v| v.as_u64());
    if saved_epoch != (state.next_epoch as u64).checked_sub(1) {
        return Err(Error::model(format!(
            "the weights were saved after epoch {} but the state after epoch {} (an \
             interrupted write?)",
            saved_epoch.map_or("?".to_string(), |e| e.to_string()),
            state.next_epoch.saturating_sub(1)
        )));
    }
    Ok((model, state))
}
