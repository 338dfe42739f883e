//! The library half of the `backprop` command: reading datasets and the model file, shared
//! with other front ends (the Python package reads and writes the very same model files).
//!
//! - [`data`]: loading CSV, IDX, NumPy and built-in datasets, and the fitted
//!   [`data::Preprocessor`] stored in a model.
//! - [`model_file`]: the `.safetensors` model file, [`model_file::Model`] and
//!   [`model_file::ModelMetadata`].
#![deny(missing_docs)]

pub mod data;
pub mod model_file;
