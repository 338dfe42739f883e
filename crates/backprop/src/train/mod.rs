//! Training: the loop that turns data into weights.
//!
//! [`fit`] runs epochs over a [`Dataset`]: every epoch shuffles the training rows, cuts them
//! into batches of [`TrainConfig::batch_size`] rows, and for each batch runs the forward pass
//! (with inverted dropout on the hidden layers if [`TrainConfig::dropout`] > 0), the backward
//! pass, optional gradient clipping, and one optimizer update
//! `θ ← θ − α ∂L/∂θ` (or the chosen optimizer's rule) with the schedule's learning rate α.
//! After the epoch it evaluates the validation data, advances the schedule, updates early
//! stopping and reports to the [`Observer`]. L-BFGS instead takes one full-batch step per
//! epoch (it ignores `batch_size`); its line search re-evaluates the whole training set.
//!
//! For cross-validation and searches, [`KFold`] cuts the rows into (stratified) folds and
//! [`run_concurrently`] runs independent trainings side by side, each on its share of the
//! threads ([`ThreadShare`]), with the same results for any share.
//!
//! ```
//! use backprop::train::{fit, Dataset, NoObserver, TargetData, TrainConfig};
//! use backprop::optim::OptimizerConfig;
//! use backprop::{Activation, Architecture, Init, Loss, Network, OutputActivation};
//!
//! let x = [0.0f64, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
//! let y = [0u32, 1, 1, 0];
//! let arch = Architecture::new(2, &[8], Activation::Tanh, 2, OutputActivation::Softmax);
//! let mut net = Network::<f64>::new(arch, Init::Auto, 1)?;
//! let config = TrainConfig {
//!     epochs: 300,
//!     batch_size: 4,
//!     optimizer: OptimizerConfig::adam().with_lr(0.05),
//!     ..TrainConfig::default()
//! };
//! let data = Dataset::new(&x, 2, TargetData::Classes(&y))?;
//! let report = fit(&mut net, &Loss::cross_entropy(), data, None, &config, &mut NoObserver)?;
//! assert_eq!(net.predict_classes(&x), vec![0, 1, 1, 0]);
//! assert_eq!(report.history.len(), 300);
//! # Ok::<(), backprop::Error>(())
//! ```
//!
//! # Determinism
//!
//! For the same network weights, data (values and row order), loss, [`TrainConfig`] (seed
//! included) and element type, [`fit`] produces **bit-identical** weights, losses, metrics
//! and errors on every run, for every value of [`TrainConfig::threads`], on the same platform
//! and build. In detail:
//! - every random choice (validation split, per-epoch shuffle, dropout masks) comes from
//!   [`crate::Rng`] streams derived from `seed`, one stream per purpose, so turning dropout on
//!   does not change the shuffle order or the split, and each is drawn on one thread;
//! - the forward and backward passes split each matrix product into column blocks, and the
//!   kernel sums every output element in an order that depends only on the inner dimension,
//!   not on the block (rows are cut only into fixed blocks; see [`crate::compute`]),
//!   so the thread count only decides who computes which elements; optimizer updates are
//!   element-wise (shared among threads in pieces for large networks), and losses and
//!   evaluation are sequential;
//! - a run resumed with [`fit_resume`] from a [`TrainState`] saved after epoch `k` (and the
//!   network's weights at that moment) ends bit-identical to an uninterrupted run, also after
//!   a JSON round trip of the state.
//!
//! Not promised: identical bits across platforms, CPU features (the matrix kernels may pick
//! different SIMD code paths), compiler or dependency versions, or between `f32` and `f64`.
//! Timings (`seconds`, `samples_per_second`) are measurements, not results.
//!
//! # Allocation
//!
//! All buffers (batch rows, workspace, optimizer state, backup of the weights) are sized
//! before the first step; a steady-state step allocates nothing, provided the observer's
//! `on_step` does not.

mod batch;
mod concurrent;
mod config;
mod convergence;
mod dataset;
mod early_stopping;
mod evaluate;
mod folds;
mod observer;
mod progress;
mod split;
mod state;
mod trainer;

pub use concurrent::{run_concurrently, Concurrent, Finished, ThreadShare};
pub use config::{EarlyStopping, TrainConfig, Validation};
pub use convergence::{still_improving, CONVERGENCE_WINDOW, PROGRESS_TOLERANCE};
pub use dataset::{Dataset, TargetData};
pub use evaluate::{evaluate, evaluate_with_predictions, Evaluation};
pub use folds::{Fold, KFold};
pub use observer::{Checkpoint, Control, NoObserver, Observer};
pub use progress::{EpochInfo, StepInfo};
pub use split::split_validation;
pub use state::{EarlyStoppingState, TrainState};
pub use trainer::{fit, fit_resume, StopReason, TrainReport};
