//! The error type of the engine: everything a user's data, settings or files can cause.

/// What can go wrong when building, training or loading a network.
///
/// A caller's bug in a hot kernel (mismatched buffer lengths) is a panic documented under
/// `# Panics` instead; every variant here can be caused by input data or settings.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum Error {
    /// The layer sizes or activations do not describe a valid network.
    #[error("invalid architecture: {0}")]
    InvalidArchitecture(String),
    /// A training or optimizer setting is out of its range.
    #[error("invalid setting: {0}")]
    InvalidConfig(String),
    /// Data of the wrong shape: `what` names the thing, `expected` and `got` its dimensions.
    #[error("shape mismatch for {what}: expected {expected:?}, got {got:?}")]
    ShapeMismatch {
        /// What had the wrong shape (a tensor name, "features", "targets", ...).
        what: String,
        /// The shape that was required.
        expected: Vec<usize>,
        /// The shape that was given.
        got: Vec<usize>,
    },
    /// Data that cannot be trained on (a non-finite value, a class index out of range, ...).
    #[error("invalid data: {0}")]
    InvalidData(String),
    /// The loss became NaN or infinite; the network keeps the last good weights.
    #[error(
        "training diverged at epoch {epoch}, step {step}: the loss became {loss} \
         (try a smaller learning rate)"
    )]
    Diverged {
        /// 1-based epoch in which the loss stopped being finite.
        epoch: usize,
        /// 1-based step within that epoch.
        step: usize,
        /// The non-finite loss value.
        loss: f64,
    },
    /// A model or weights file that cannot be read as a network.
    #[error("invalid model file: {0}")]
    InvalidModel(String),
}

/// `Result` with the engine's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
