//! `backprop._native`: the Rust half of the Python package `backprop`.
//!
//! The estimators (`backprop.MLPClassifier`, `backprop.MLPRegressor`) live in Python and
//! follow scikit-learn's conventions: they check parameters and arrays and keep the fitted
//! attributes. Everything else is here, over the engine (`backprop`) and the data crate
//! (`backprop-data`): a [`model::NativeModel`] is exactly the model file of the `backprop`
//! command ([`backprop_data::Model`]), built from plain arguments (layer widths, activations,
//! class names or output count, feature names, seed); it applies the model's input scaling,
//! trains ([`training`]), predicts, and reads and writes the same `.safetensors` bytes, so a
//! model trained in Python is served by `backprop predict` and the other way round.
//!
//! Arrays cross the boundary through NumPy: features come in as C-contiguous `float64` or
//! `float32` arrays borrowed for the duration of the call (scaled into the network's `f32`
//! inputs by [`backprop_data::Preprocessor::transform_numeric`]), predictions go out as
//! arrays that take over the Rust vector.
//!
//! Errors become the exceptions scikit-learn users expect ([`engine_error`],
//! [`data_error`]).

#![deny(missing_docs)]

use backprop_data::Error as DataError;
use pyo3::exceptions::{PyFloatingPointError, PyOSError, PyValueError};
use pyo3::prelude::*;

pub mod model;
pub mod training;

/// An engine error as the Python exception scikit-learn would raise: `FloatingPointError` when
/// training diverged, `ValueError` for everything else (bad settings, data or shapes).
pub fn engine_error(err: backprop::Error) -> PyErr {
    match err {
        backprop::Error::Diverged { .. } => PyFloatingPointError::new_err(err.to_string()),
        other => PyValueError::new_err(other.to_string()),
    }
}

/// A data-crate error (its message is complete in `to_string()`) as a Python exception:
/// `OSError` when a file could not be read or written, the engine's mapping for an engine
/// error, `ValueError` for everything else (a file that is not a valid model, bad data).
pub fn data_error(err: DataError) -> PyErr {
    match err {
        DataError::Engine(engine) => engine_error(engine),
        err if is_io(&err) => PyOSError::new_err(err.to_string()),
        err => PyValueError::new_err(err.to_string()),
    }
}

/// Whether the error is an operating-system failure, also when wrapped by the model loader.
fn is_io(err: &DataError) -> bool {
    match err {
        DataError::Io { .. } | DataError::Write { .. } => true,
        DataError::LoadModel { cause, .. } => is_io(cause),
        _ => false,
    }
}

/// Pieces of work handed to a thread pool of more than one thread so far in this process
/// (`backprop::parallel_task_count`): a diagnostic for tests that claim that the results are
/// the same on 1 and 2 threads, proving that the work really was split.
#[pyfunction]
fn _parallel_task_count() -> usize {
    backprop::parallel_task_count()
}

/// The native module `backprop._native`.
#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<model::NativeModel>()?;
    module.add_function(wrap_pyfunction!(_parallel_task_count, module)?)?;
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
