//! # backprop-data
//!
//! The data layer of backprop, shared by every front end (the `backprop` command, the Python
//! package, and the servers to come): reading datasets, turning their columns into the
//! engine's matrices, and the model file. The engine (`backprop`) never touches a file; this
//! crate does all of it and never does the engine's arithmetic.
//!
//! - **Datasets** ([`load`]): `.csv`/`.tsv` (optionally `.gz`), JSON Lines
//!   (`.jsonl`/`.ndjson`, optionally `.gz`, [`jsonl`]), Parquet (`.parquet`, with the
//!   `parquet` feature), MNIST IDX (`*-images-idx3-ubyte[.gz]` with `*-labels-idx1-ubyte[.gz]`
//!   beside it), NumPy (`*X.npy` with `*y.npy` beside it) and `builtin:NAME`
//!   ([`builtin::list`]), each read into a [`Table`] of named columns that remembers where
//!   every row came from. JSON Lines and Parquet give the table a CSV file of the same data
//!   gives, so a model trained on either is the one trained on the CSV file.
//! - **Preprocessing** ([`Preprocessor`]): fitted on the training table (feature scaling,
//!   one-hot categories, class labels), stored in the model, re-applied to new data.
//! - **The model file** ([`model_file`]): one `.safetensors` file with the weights and the
//!   [`ModelMetadata`]; [`safetensors`] reads and writes the bytes, [`pytorch`] maps the names
//!   of a PyTorch `nn.Sequential` state dict; [`checkpoint`] saves and resumes training runs.
//! - **Predictions** ([`predictions`]): a model's answers as CSV.
//! - **Errors** ([`Error`]): one type; every message names the file, the 1-based line, the
//!   column and the value where that applies.
//!
//! Training data, from file to engine:
//!
//! ```
//! use backprop_data::{load, LoadOptions, Preprocessor, Scaler};
//!
//! let table = load("builtin:xor", &LoadOptions::training(None))?;
//! let pre = Preprocessor::fit(&table, Scaler::Standard, None)?;
//! let x = pre.transform(&table)?; // rows × pre.inputs(), row-major f32
//! let y = pre.encode_target(&table)?; // class indices or values
//! assert_eq!((pre.inputs(), pre.outputs(), x.len()), (2, 2, table.rows * 2));
//! # let _ = y;
//! # Ok::<(), backprop_data::Error>(())
//! ```
//!
//! New data is read with a trained model's schema, [`LoadOptions::for_model`], and encoded
//! with [`Preprocessor::encode`] (its targets are `Some` when the file has the target column).
#![deny(missing_docs)]

pub mod builtin;
pub mod checkpoint;
pub mod csv;
pub mod error;
pub mod idx;
pub mod jsonl;
pub mod model_file;
pub mod npy;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod predictions;
pub mod preprocess;
pub mod pytorch;
pub mod safetensors;
mod source;
pub mod table;
pub mod target;
mod write;

pub use error::{Error, Location, Position, Result};
pub use model_file::{Model, ModelMetadata};
pub use preprocess::{Encoded, Encoding, Feature, Preprocessor, Scaler};
pub use source::{load, load_encoded, LoadOptions, TargetSelect};
pub use table::{Column, Table, Values};
pub use target::{EncodedTargets, TargetSchema, Task};
pub use write::write_atomic;
