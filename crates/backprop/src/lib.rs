//! # backprop
//!
//! A fast, deterministic engine for multilayer perceptrons trained by backpropagation.
//!
//! A network is a stack of dense layers `z = W·a + b`, each followed by an element-wise
//! activation; the last layer's activation is fused with the loss (identity + squared error,
//! sigmoid + binary cross-entropy, softmax + cross-entropy). Gradients come from the δ
//! recursion of backpropagation, computed as matrix products over a mini-batch:
//!
//! `δᴸ = ∇ₐL ⊙ σ'(zᴸ)`,  `δˡ = (Wˡ⁺¹)ᵀ δˡ⁺¹ ⊙ σ'(zˡ)`,  `∂L/∂Wˡ = δˡ (aˡ⁻¹)ᵀ`,  `∂L/∂bˡ = δˡ`.
//!
//! Train a classifier on two interleaved spirals and predict:
//!
//! ```
//! use backprop::datasets::{spirals, SyntheticTargets};
//! use backprop::optim::OptimizerConfig;
//! use backprop::train::{fit, Dataset, NoObserver, TargetData, TrainConfig};
//! use backprop::{Activation, Architecture, Init, Loss, Network, OutputActivation};
//!
//! // 2 spiral arms of 100 points each: x is row-major, 2 features per row.
//! let data = spirals(100, 2, 0.0, 7);
//! let x: Vec<f32> = data.x.iter().map(|&v| v as f32).collect();
//! let SyntheticTargets::Classes { labels, .. } = &data.targets else { unreachable!() };
//!
//! // 2 inputs → 32 → 32 → 2 classes, tanh hidden layers, softmax + cross-entropy.
//! let arch = Architecture::new(2, &[32, 32], Activation::Tanh, 2, OutputActivation::Softmax);
//! let mut net = Network::<f32>::new(arch, Init::Auto, 0)?;
//! let config = TrainConfig {
//!     epochs: 300,
//!     batch_size: 32,
//!     optimizer: OptimizerConfig::adam().with_lr(0.01),
//!     seed: 0,
//!     ..TrainConfig::default()
//! };
//! let train = Dataset::new(&x, 2, TargetData::Classes(labels))?;
//! fit(&mut net, &Loss::cross_entropy(), train, None, &config, &mut NoObserver)?;
//!
//! let predicted = net.predict_classes(&x);
//! let correct = predicted.iter().zip(labels).filter(|(p, y)| **p == **y as usize).count();
//! assert!(correct as f64 / labels.len() as f64 > 0.95);
//! # Ok::<(), backprop::Error>(())
//! ```
//!
//! Where to look next: [`train`] (the training loop, its settings and what is promised about
//! determinism), [`optim`] and [`schedule`] (PyTorch's optimizers and schedules),
//! [`gradcheck`] (backpropagation against finite differences), [`tune`] (hyperparameter search), [`metrics`] (scores of
//! predictions), [`Network`] (parameters and inference), [`compute`] (the matrix product,
//! its split across threads and the vectorized functions under all of it; the crate's only
//! `unsafe` code). Files (datasets, the model file) are the `backprop-data` crate's: the
//! engine reads and writes none.
#![deny(missing_docs)]

pub mod activation;
pub mod architecture;
pub mod clip;
pub mod compute;
pub mod datasets;
pub mod error;
pub mod gradcheck;
pub mod init;
pub mod loss;
pub mod metrics;
pub mod network;
pub mod optim;
pub mod prediction;
mod propagation;
pub mod rng;
pub mod schedule;
pub mod train;
pub mod tune;
pub mod workspace;

// The element type lives with the arithmetic it is for, and keeps its path `backprop::real`.
#[doc(inline)]
pub use compute::real;

pub use activation::Activation;
pub use architecture::{Architecture, HiddenLayer};
pub use compute::parallel_task_count;
pub use error::{Error, Result};
pub use init::Init;
pub use loss::{Loss, OutputActivation, Targets};
pub use network::{NamedTensor, Network};
pub use real::Real;
pub use rng::{Rng, RngState};
pub use train::{fit, fit_resume, Dataset, TargetData, TrainConfig, TrainReport};
pub use workspace::Workspace;
