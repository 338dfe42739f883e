//! # backprop
//!
//! A fast, deterministic engine for multilayer perceptrons trained by backpropagation.
//!
//! A network is a stack of dense layers `z = W·a + b`, each followed by an element-wise
//! activation; the last layer's activation is fused with the loss (identity + squared error,
//! sigmoid + binary cross-entropy, softmax + cross-entropy). Gradients come from the δ
//! recursion of backpropagation, computed as matrix products over a mini-batch.
#![deny(missing_docs)]

pub mod activation;
pub mod architecture;
pub mod error;
pub mod gradcheck;
pub mod init;
mod kernel;
pub mod loss;
pub mod matmul;
pub mod network;
pub mod optim;
mod parallel;
mod propagation;
pub mod real;
pub mod rng;
pub mod workspace;

pub use activation::Activation;
pub use architecture::{Architecture, HiddenLayer};
pub use error::{Error, Result};
pub use init::Init;
pub use loss::{Loss, OutputActivation, Targets};
pub use network::{NamedTensor, Network};
pub use real::Real;
pub use rng::{Rng, RngState};
pub use workspace::Workspace;
