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
//! - **Export** ([`onnx`], [`torch_export`]): a model as one ONNX graph with its
//!   preprocessing, or as a PyTorch `nn.Sequential` state dict.
//! - **Predictions** ([`predictions`]): a model's answers as CSV; [`request`] reads the rows
//!   of a prediction server's requests (JSON or CSV bodies) into a [`Table`]; [`records`]
//!   writes any table
//!   of text fields as CSV (the log of `backprop tune`).
//! - **Errors** ([`Error`]): one type; every message names the file, the 1-based line, the
//!   column and the value where that applies.
//!
//! Training data, from file to engine:
//!
//! ```
//! use backprop_data::{load, FitOptions, LoadOptions, Preprocessor};
//!
//! let table = load("builtin:xor", &LoadOptions::training(None))?;
//! let (pre, notes) = Preprocessor::fit(&table, &FitOptions::default())?;
//! let encoded = pre.encode(&table)?; // x: rows × pre.inputs(), row-major f32
//! let y = encoded.targets.expect("the table has its target"); // class indices or values
//! assert_eq!((pre.inputs(), pre.outputs(), encoded.rows), (2, 2, table.rows));
//! assert!(notes.is_empty(), "nothing to decide for a clean table");
//! # let _ = y;
//! # Ok::<(), backprop_data::Error>(())
//! ```
//!
//! New data is read with a trained model's schema, [`LoadOptions::for_model`], and encoded
//! with [`Preprocessor::encode`] (its targets are `Some` when the file has the target column).
//! Every decision taken for the user (filled gaps, left-out columns, skipped rows, unseen
//! values) comes back as a [`Note`] for the front end to show.
#![deny(missing_docs)]

pub mod builtin;
pub mod cells;
pub mod checkpoint;
pub mod csv;
pub mod date;
#[cfg(feature = "parquet")]
mod embedded_schema;
pub mod encoding;
pub mod error;
pub mod idx;
pub mod jsonl;
pub mod model_file;
pub mod notes;
pub mod npy;
pub mod onnx;
#[cfg(feature = "parquet")]
pub mod parquet;
#[cfg(feature = "parquet")]
mod parquet_footer;
pub mod plane;
pub mod predictions;
pub mod preprocess;
pub mod pytorch;
pub mod records;
pub mod request;
pub mod safetensors;
mod source;
pub mod table;
pub mod target;
pub mod torch_export;
mod write;

pub use cells::Decimal;
pub use encoding::Encoding;
pub use error::{Error, Location, Position, Result};
pub use model_file::{Model, ModelMetadata};
pub use notes::Note;
pub use preprocess::{EncodeOptions, Encoded, Feature, FitOptions, Missing, Preprocessor, Scaler};
pub use source::{load, load_encoded, LoadOptions, TargetSelect, DEFAULT_MAX_DECOMPRESSED};
pub use table::{Column, Table, Values};
pub use target::{EncodedTargets, TargetScale, TargetScaler, TargetSchema, Task};
pub use write::write_atomic;
