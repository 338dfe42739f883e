//! The training loop: epochs of shuffled mini-batches, validation, early stopping, and
//! checkpoints through the observer.

use std::ops::Range;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::architecture::Architecture;
use crate::clip::clip_grad_norm;
use crate::error::{Error, Result};
use crate::loss::Loss;
use crate::network::Network;
use crate::optim::{all_finite, L2Gradient, Solver};
use crate::real::Real;
use crate::rng::Rng;
use crate::schedule::Scheduler;
use crate::train::batch::Batch;
use crate::train::config::{TrainConfig, Validation};
use crate::train::convergence::{still_improving, CONVERGENCE_WINDOW};
use crate::train::dataset::Dataset;
use crate::train::early_stopping::Tracker;
use crate::train::evaluate::{batch_weight, correct, evaluate_in, Evaluation, Tally, EVAL_BLOCK};
use crate::train::observer::{Checkpoint, Control, Observer};
use crate::train::progress::{EpochInfo, StepInfo};
use crate::train::split::split_validation;
use crate::train::state::TrainState;
use crate::workspace::Workspace;

/// Salt of the random stream that shuffles the training rows.
const SHUFFLE_SALT: u64 = 0x5_4ff1e;
/// Salt of the random stream that draws dropout masks.
const DROPOUT_SALT: u64 = 0xd_0d0;

/// Why training ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// All configured epochs ran.
    Completed,
    /// The monitored loss stopped improving (see [`crate::train::EarlyStopping`]).
    EarlyStopping,
    /// The observer returned [`Control::Stop`].
    Observer,
}

/// What a training run did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    /// One entry per epoch, including epochs run before a resume.
    pub history: Vec<EpochInfo>,
    /// The 1-based epoch with the lowest monitored loss (validation loss if there is
    /// validation data, else training loss).
    pub best_epoch: Option<usize>,
    /// That lowest monitored loss.
    pub best_loss: Option<f64>,
    /// Why training ended.
    pub stop_reason: StopReason,
    /// Whether training ended before the configured number of epochs.
    pub stopped_early: bool,
    /// Whether the network was reset to the weights of `best_epoch` (early stopping on).
    pub restored_best: bool,
    /// The training loss of the epoch whose weights the network now holds.
    pub final_train_loss: Option<f64>,
    /// The validation loss of the epoch whose weights the network now holds.
    pub final_val_loss: Option<f64>,
    /// False when all configured epochs ran and the monitored loss was still improving over
    /// the last ones (early stopping's patience, else [`CONVERGENCE_WINDOW`] epochs; see
    /// [`still_improving`]): more epochs or a larger learning rate would likely help.
    #[serde(default = "converged_by_default")]
    pub converged: bool,
    /// The epoch an observer stopped inside ([`Observer::stop_now`]): it is not in `history`.
    #[serde(default)]
    pub unfinished_epoch: Option<usize>,
}

/// Reports saved before `converged` existed are taken as converged.
fn converged_by_default() -> bool {
    true
}

impl TrainReport {
    /// The 1-based epoch whose weights the network holds after training: the best epoch when
    /// early stopping restored it, else the last epoch run (`None` if no epoch ran, or if
    /// the network holds the weights of a step inside [`TrainReport::unfinished_epoch`]).
    pub fn kept_epoch(&self) -> Option<usize> {
        if self.restored_best {
            self.best_epoch
        } else if self.unfinished_epoch.is_some() {
            None
        } else {
            self.history.last().map(|info| info.epoch)
        }
    }

    /// The report of the [`TrainReport::kept_epoch`] (its losses, accuracies and R²).
    pub fn kept(&self) -> Option<&EpochInfo> {
        self.kept_epoch().and_then(|e| self.history.get(e - 1))
    }
}

/// Trains `net` in place on `train`, evaluating on `validation` (or on a split of `train`,
/// see [`TrainConfig::validation`]) after every epoch. Warm start: `net` is trained from
/// whatever weights it holds.
///
/// # Errors
/// - [`Error::InvalidConfig`] for a setting out of range or a loss that does not fit the
///   network's output layer;
/// - [`Error::InvalidData`] / [`Error::ShapeMismatch`] for data that does not fit the network
///   or the loss (non-finite values, class indices out of range, wrong widths);
/// - [`Error::Diverged`] when a batch loss, the gradient or the updated weights stop being
///   finite; the network then keeps the weights from before that step.
pub fn fit<T: Real>(
    net: &mut Network<T>,
    loss: &Loss,
    train: Dataset<'_, T>,
    validation: Option<Dataset<'_, T>>,
    config: &TrainConfig,
    observer: &mut dyn Observer<T>,
) -> Result<TrainReport> {
    run(net, loss, train, validation, config, None, observer)
}

/// Continues a run from a checkpoint: `net` must hold the weights saved with `state` (from
/// [`Checkpoint::network`] and [`Checkpoint::state`]), and the data and `config` must be the
/// ones of the original run. Training then goes on from `state.next_epoch` to
/// `config.epochs` and ends with the same weights, bit for bit, as an uninterrupted run.
///
/// # Errors
/// As [`fit`], and [`Error::InvalidConfig`] if the state does not fit the network, data or
/// optimizer.
pub fn fit_resume<T: Real>(
    net: &mut Network<T>,
    loss: &Loss,
    train: Dataset<'_, T>,
    validation: Option<Dataset<'_, T>>,
    config: &TrainConfig,
    state: &TrainState,
    observer: &mut dyn Observer<T>,
) -> Result<TrainReport> {
    run(net, loss, train, validation, config, Some(state), observer)
}

fn run<T: Real>(
    net: &mut Network<T>,
    loss: &Loss,
    train: Dataset<'_, T>,
    validation: Option<Dataset<'_, T>>,
    config: &TrainConfig,
    resume: Option<&TrainState>,
    observer: &mut dyn Observer<T>,
) -> Result<TrainReport> {
    config.validate()?;
    check_loss_fits(net.architecture(), loss)?;
    train.check_for(net.architecture(), loss, "training data")?;
    if let Some(val) = &validation {
        val.check_for(net.architecture(), loss, "validation data")?;
        if config.validation != Validation::None {
            return Err(Error::InvalidConfig(
                "a validation set was given and a validation fraction was set: use one".into(),
            ));
        }
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.threads.unwrap_or(0))
        .build()
        .map_err(|e| Error::InvalidConfig(format!("cannot start the worker threads: {e}")))?;
    pool.install(|| {
        // Every worker takes its matrix scratch space now, not on its first product.
        crate::compute::matmul::reserve_thread_buffers::<T>();
        let mut trainer = Trainer::new(net, loss, train, validation, config)?;
        if let Some(state) = resume {
            trainer.load_state(state)?;
        }
        trainer.run(observer)
    })
}

/// The loss must be fused with the network's output activation, and class weights must
/// have one entry per output.
fn check_loss_fits(arch: &Architecture, loss: &Loss) -> Result<()> {
    if loss.output_activation() != arch.output {
        return Err(Error::InvalidConfig(format!(
            "the {} loss needs a {:?} output layer, but the network has {:?}",
            loss.name(),
            loss.output_activation(),
            arch.output
        )));
    }
    if let Loss::CrossEntropy {
        class_weights: Some(weights),
        ..
    } = loss
    {
        if weights.len() != arch.outputs {
            return Err(Error::InvalidConfig(format!(
                "{} class weights for {} classes",
                weights.len(),
                arch.outputs
            )));
        }
    }
    Ok(())
}

/// Validation rows: the caller's data set, or rows split off the training data, gathered a
/// block at a time when evaluated (no copy of the validation set is kept).
enum ValidationRows<'d, T> {
    Given(Dataset<'d, T>),
    Split {
        /// The rows of the training data held out.
        indices: Vec<usize>,
        /// Room for one block of them.
        block: Batch<T>,
    },
}

impl<T: Real> ValidationRows<'_, T> {
    fn rows(&self) -> usize {
        match self {
            ValidationRows::Given(data) => data.rows(),
            ValidationRows::Split { indices, .. } => indices.len(),
        }
    }

    /// Loss, accuracy and R² of `net` on these rows (`train` is the data they were split
    /// from); the same bits as evaluating a copy of them.
    fn evaluate(
        &mut self,
        net: &Network<T>,
        loss: &Loss,
        train: &Dataset<'_, T>,
        ws: &mut Workspace<T>,
    ) -> Evaluation {
        match self {
            ValidationRows::Given(data) => evaluate_in(net, loss, data, ws),
            ValidationRows::Split { indices, block } => {
                let mut tally = Tally::new(net);
                for piece in indices.chunks(ws.capacity().max(1)) {
                    block.gather(train, piece);
                    tally.add(net, loss, &block.view(), ws, None);
                }
                tally.result()
            }
        }
    }
}

/// Everything one run owns, allocated once before the first step.
struct Trainer<'n, 'd, T: Real> {
    net: &'n mut Network<T>,
    loss: &'d Loss,
    config: &'d TrainConfig,
    train: Dataset<'d, T>,
    train_indices: Vec<usize>,
    order: Vec<usize>,
    batch_size: usize,
    batch: Batch<T>,
    ws: Workspace<T>,
    validation: Option<(ValidationRows<'d, T>, Workspace<T>)>,
    solver: Solver<T>,
    /// L-BFGS evaluates trial points on this copy of the network.
    trial_net: Option<Network<T>>,
    scheduler: Scheduler,
    shuffle_rng: Rng,
    dropout_rng: Rng,
    /// The weights before the current update, to undo an update that made them non-finite.
    backup: Vec<T>,
    /// The network's weight ranges, for an L2 penalty that the optimizer adds in its pass.
    weight_ranges: Vec<Range<usize>>,
    tracker: Tracker<T>,
    history: Vec<EpochInfo>,
    next_epoch: usize,
}

impl<'n, 'd, T: Real> Trainer<'n, 'd, T> {
    fn new(
        net: &'n mut Network<T>,
        loss: &'d Loss,
        train: Dataset<'d, T>,
        validation: Option<Dataset<'d, T>>,
        config: &'d TrainConfig,
    ) -> Result<Self> {
        let arch = net.architecture().clone();
        let rows = train.rows();
        let (train_indices, validation) = match (config.validation.clone(), validation) {
            (Validation::Fraction(fraction), _) => {
                let (train_idx, val_idx) =
                    split_validation(rows, train.targets, fraction, config.seed)?;
                let block = Batch::new(&train, arch.outputs, val_idx.len().min(EVAL_BLOCK));
                let split = ValidationRows::Split {
                    indices: val_idx,
                    block,
                };
                (train_idx, Some(split))
            }
            (Validation::None, given) => ((0..rows).collect(), given.map(ValidationRows::Given)),
        };
        let validation = validation.map(|v| {
            let capacity = v.rows().min(EVAL_BLOCK);
            (v, Workspace::for_inference(&arch, capacity))
        });
        let n = train_indices.len();
        let solver = config.optimizer.build::<T>(net.parameters().len())?;
        let lbfgs = matches!(solver, Solver::Lbfgs(_));
        // L-BFGS needs the whole training set in every evaluation.
        let batch_size = if lbfgs { n } else { config.batch_size.min(n) };
        let mut batch = Batch::new(&train, arch.outputs, batch_size);
        if lbfgs {
            batch.gather(&train, &train_indices);
        }
        let scheduler = Scheduler::new(config.schedule.clone(), config.optimizer.lr());
        Ok(Self {
            trial_net: lbfgs.then(|| net.clone()),
            backup: net.parameters().to_vec(),
            weight_ranges: net.weight_ranges(),
            tracker: Tracker::new(config.early_stopping.clone(), net.parameters().len()),
            ws: Workspace::new(&arch, batch_size),
            net,
            loss,
            config,
            train,
            order: train_indices.clone(),
            train_indices,
            batch_size,
            batch,
            validation,
            solver,
            scheduler,
            shuffle_rng: Rng::derived(config.seed, SHUFFLE_SALT),
            dropout_rng: Rng::derived(config.seed, DROPOUT_SALT),
            history: Vec::new(),
            next_epoch: 1,
        })
    }

    fn steps_per_epoch(&self) -> usize {
        self.train_indices.len().div_ceil(self.batch_size)
    }

    /// The checkpoint of the run as it stands between epochs.
    fn state(&self) -> TrainState {
        TrainState {
            next_epoch: self.next_epoch,
            train_rows: self.train_indices.len(),
            parameter_count: self.net.parameters().len(),
            optimizer: self.solver.state(),
            scheduler: self.scheduler.state(),
            shuffle_rng: self.shuffle_rng.state(),
            dropout_rng: self.dropout_rng.state(),
            early_stopping: self.tracker.state(),
            history: self.history.clone(),
        }
    }

    fn load_state(&mut self, state: &TrainState) -> Result<()> {
        let bad = |message: String| Err(Error::InvalidConfig(format!("checkpoint: {message}")));
        if state.parameter_count != self.net.parameters().len() {
            return bad(format!(
                "saved for {} parameters, the network has {}",
                state.parameter_count,
                self.net.parameters().len()
            ));
        }
        if state.train_rows != self.train_indices.len() {
            return bad(format!(
                "saved for {} training rows, the data has {}",
                state.train_rows,
                self.train_indices.len()
            ));
        }
        if state.next_epoch == 0 || state.history.len() != state.next_epoch - 1 {
            return bad(format!(
                "next epoch {} does not follow a history of {} epochs",
                state.next_epoch,
                state.history.len()
            ));
        }
        self.solver.load_state(&state.optimizer)?;
        self.scheduler.load_state(&state.scheduler)?;
        let rng = |s| {
            Rng::from_state(s).ok_or_else(|| {
                Error::InvalidConfig("checkpoint: malformed random-generator state".into())
            })
        };
        self.shuffle_rng = rng(&state.shuffle_rng)?;
        self.dropout_rng = rng(&state.dropout_rng)?;
        self.tracker.load_state(&state.early_stopping)?;
        self.history = state.history.clone();
        self.next_epoch = state.next_epoch;
        Ok(())
    }

    fn run(mut self, observer: &mut dyn Observer<T>) -> Result<TrainReport> {
        let epochs = self.config.epochs;
        let mut stop_reason = StopReason::Completed;
        let mut unfinished_epoch = None;
        while self.next_epoch <= epochs {
            let epoch = self.next_epoch;
            let start = Instant::now();
            let lr = self.scheduler.lr();
            let finished = match self.solver {
                Solver::FirstOrder(_) => self.first_order_epoch(epoch, lr, observer)?,
                Solver::Lbfgs(_) => Some(self.lbfgs_epoch(epoch, lr, observer)?),
            };
            let Some((train_loss, train_accuracy)) = finished else {
                stop_reason = StopReason::Observer;
                unfinished_epoch = Some(epoch);
                break;
            };
            let train_seconds = start.elapsed().as_secs_f64();
            let validation = match &mut self.validation {
                Some((rows, ws)) => Some(rows.evaluate(self.net, self.loss, &self.train, ws)),
                None => None,
            };
            let val_loss = validation.map(|v| v.loss);
            let info = EpochInfo {
                epoch,
                epochs,
                train_loss,
                train_accuracy,
                val_loss,
                val_accuracy: validation.and_then(|v| v.accuracy),
                val_r2: validation.and_then(|v| v.r2),
                lr,
                seconds: start.elapsed().as_secs_f64(),
                samples_per_second: self.train_indices.len() as f64 / train_seconds.max(1e-12),
            };
            let monitored = val_loss.unwrap_or(train_loss);
            self.scheduler.end_epoch(monitored);
            let patience_ran_out = self.tracker.update(epoch, monitored, self.net.parameters());
            self.history.push(info.clone());
            self.next_epoch = epoch + 1;
            let control = {
                let state = || self.state();
                let checkpoint = Checkpoint {
                    network: &*self.net,
                    state: &state,
                };
                observer.on_epoch(&info, &checkpoint)
            };
            if patience_ran_out {
                stop_reason = StopReason::EarlyStopping;
                break;
            }
            if control == Control::Stop {
                stop_reason = StopReason::Observer;
                break;
            }
        }
        let restored_best = self.tracker.restore_best(self.net.parameters_mut());
        let window = self
            .config
            .early_stopping
            .as_ref()
            .map_or(CONVERGENCE_WINDOW, |rule| rule.patience);
        let converged =
            stop_reason != StopReason::Completed || !still_improving(&self.history, window);
        let mut report = TrainReport {
            converged,
            best_epoch: self.tracker.best_epoch(),
            best_loss: self.tracker.best_loss(),
            stop_reason,
            stopped_early: stop_reason != StopReason::Completed,
            restored_best,
            final_train_loss: None,
            final_val_loss: None,
            history: self.history,
            unfinished_epoch,
        };
        if let Some(kept) = report.kept() {
            (report.final_train_loss, report.final_val_loss) =
                (Some(kept.train_loss), kept.val_loss);
        }
        Ok(report)
    }

    /// One pass over the shuffled training rows; returns the epoch's mean loss and accuracy,
    /// or `None` when [`Observer::stop_now`] ended it after a step.
    /// Allocation-free: every buffer was sized in [`Trainer::new`].
    fn first_order_epoch(
        &mut self,
        epoch: usize,
        lr: f64,
        observer: &mut dyn Observer<T>,
    ) -> Result<Option<(f64, Option<f64>)>> {
        let steps_per_epoch = self.steps_per_epoch();
        let Solver::FirstOrder(optimizer) = &mut self.solver else {
            unreachable!("first-order epoch with L-BFGS")
        };
        let arch = self.net.architecture();
        let (outputs, output) = (arch.outputs, arch.output);
        let p = self.config.dropout;
        let dropout = p > 0.0;
        self.order.copy_from_slice(&self.train_indices);
        // A full batch sees every row whatever the order: shuffling it would only reorder sums.
        if self.config.shuffle && steps_per_epoch > 1 {
            self.shuffle_rng.shuffle(&mut self.order);
        }
        let (mut total, mut weight, mut hits) = (0.0f64, 0.0f64, Some(0usize));
        for (s, indices) in self.order.chunks(self.batch_size).enumerate() {
            let step = s + 1;
            let rows = indices.len();
            let batch = self.batch.rows_of(&self.train, indices);
            if dropout {
                self.ws.sample_dropout(p, rows, &mut self.dropout_rng);
            }
            self.net.forward(batch.x, rows, &mut self.ws, dropout);
            let mut loss = self
                .net
                .backward(batch.x, rows, batch.targets, self.loss, &mut self.ws);
            // Without clipping the penalty's gradient joins the optimizer's pass.
            let strength = self.config.l2_penalty / rows as f64;
            let l2 = (strength > 0.0 && self.config.clip_norm.is_none()).then(|| L2Gradient {
                factor: T::from_f64(strength),
                ranges: &self.weight_ranges,
            });
            if l2.is_some() {
                loss += self.net.l2_penalty(strength);
            } else if strength > 0.0 {
                loss += self.net.add_l2_penalty(strength, self.ws.gradients_mut());
            }
            // Check before stepping, so a bad batch never reaches the weights.
            if !loss.is_finite() {
                return Err(Error::Diverged { epoch, step, loss });
            }
            // Without clipping, the optimizer's checked step sees a non-finite gradient.
            let gradient_finite = match self.config.clip_norm {
                Some(max_norm) => clip_grad_norm(self.ws.gradients_mut(), max_norm).is_finite(),
                None => true,
            };
            if !gradient_finite {
                return Err(Error::Diverged {
                    epoch,
                    step,
                    loss: f64::NAN,
                });
            }
            let w = batch_weight(self.loss, batch.targets, rows);
            total += loss * w;
            weight += w;
            hits = hits
                .zip(correct(
                    self.ws.logits(rows),
                    outputs,
                    batch.targets,
                    output,
                ))
                .map(|(a, b)| a + b);
            // One pass saves the weights, steps and checks the gradient and the result.
            let params = self.net.parameters_mut();
            let sound = match l2 {
                Some(l2) => optimizer.step_checked_with_l2(
                    params,
                    self.ws.gradients_mut(),
                    lr,
                    &mut self.backup,
                    l2,
                ),
                None => optimizer.step_checked(params, self.ws.gradients(), lr, &mut self.backup),
            };
            if !sound {
                params.copy_from_slice(&self.backup);
                return Err(Error::Diverged {
                    epoch,
                    step,
                    loss: f64::NAN,
                });
            }
            observer.on_step(&StepInfo {
                epoch,
                epochs: self.config.epochs,
                step,
                steps_per_epoch,
                rows,
                loss,
                lr,
            });
            if observer.stop_now() {
                return Ok(None);
            }
        }
        let n = self.train_indices.len() as f64;
        Ok(Some((total / weight, hits.map(|h| h as f64 / n))))
    }

    /// One L-BFGS step on the whole training set (gathered once in [`Trainer::new`]).
    fn lbfgs_epoch(
        &mut self,
        epoch: usize,
        lr: f64,
        observer: &mut dyn Observer<T>,
    ) -> Result<(f64, Option<f64>)> {
        let Solver::Lbfgs(lbfgs) = &mut self.solver else {
            unreachable!("L-BFGS epoch with a first-order optimizer")
        };
        let trial = self.trial_net.as_mut().expect("L-BFGS has a trial network");
        let batch = self.batch.view();
        let rows = batch.rows();
        let (loss_fn, ws) = (self.loss, &mut self.ws);
        let l2_strength = self.config.l2_penalty / rows as f64;
        self.backup.copy_from_slice(self.net.parameters());
        let loss = lbfgs.step(self.net.parameters_mut(), lr, |params, grads| {
            trial.parameters_mut().copy_from_slice(params);
            let mut loss = trial.loss_and_gradient(batch.x, rows, batch.targets, loss_fn, ws);
            if l2_strength > 0.0 {
                loss += trial.add_l2_penalty(l2_strength, ws.gradients_mut());
            }
            grads.copy_from_slice(ws.gradients());
            loss
        });
        if !loss.is_finite() || !all_finite(self.net.parameters()) {
            self.net.parameters_mut().copy_from_slice(&self.backup);
            let loss = if loss.is_finite() { f64::NAN } else { loss };
            return Err(Error::Diverged {
                epoch,
                step: 1,
                loss,
            });
        }
        observer.on_step(&StepInfo {
            epoch,
            epochs: self.config.epochs,
            step: 1,
            steps_per_epoch: 1,
            rows,
            loss,
            lr,
        });
        Ok((loss, None))
    }
}
