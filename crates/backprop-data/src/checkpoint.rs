//! Training checkpoints: a folder holding the weights after the last finished epoch (as a
//! model file, usable like any other) and the trainer's state (`state.json`: optimizer
//! buffers, epoch, random streams, schedule, early stopping), both written atomically.
//!
//! The two files are written one after the other; the model's metadata records the epoch it
//! was saved after, so a crash between the two writes is detected on resume rather than
//! silently continuing from mismatched weights and state.

use std::path::{Path, PathBuf};

use backprop::train::TrainState;
use serde_json::json;

use crate::error::{Error, Result};
use crate::model_file::{Model, ModelMetadata};
use crate::write::write_atomic;

/// The weights file inside a checkpoint folder.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// The trainer state inside a checkpoint folder.
pub const STATE_FILE: &str = "state.json";

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
        model.save(&self.dir.join(WEIGHTS_FILE))?;
        let text =
            serde_json::to_string(state).expect("a trainer state of finite numbers serializes");
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
    let model = Model::load(&dir.join(WEIGHTS_FILE))?;
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
    if saved_epoch != Some(state.next_epoch as u64 - 1) {
        return Err(Error::model(format!(
            "the weights were saved after epoch {} but the state after epoch {} (an \
             interrupted write?)",
            saved_epoch.map_or("?".to_string(), |e| e.to_string()),
            state.next_epoch.saturating_sub(1)
        )));
    }
    Ok((model, state))
}
