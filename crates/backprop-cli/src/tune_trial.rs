//! Training the trials of `backprop tune`: one job takes a trial from one rung to the next,
//! continuing its network and training state in memory, on the rows every trial shares.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use backprop::train::{Checkpoint, Control, EpochInfo, Observer, StopReason, TrainState};
use backprop::tune::{Job, JobOutput, Outcome, Point};
use backprop::{Init, Network};
use backprop_data::Table;

use crate::fitting::Prepared;
use crate::interrupt;
use crate::train_args::{TrainArgs, TrainPlan};
use crate::tune_space::trial_args;

/// Where a trial stopped, to continue from: its network after the job's last epoch (not the
/// early-stopping best, which is in the state) and the training state.
pub struct TrialState {
    network: Network<f32>,
    state: TrainState,
}

/// What a job did, for the leaderboard and the table of trials.
#[derive(Clone, Debug, Default)]
pub struct JobRecord {
    /// Epochs the trial has run in all.
    pub epochs: usize,
    /// The epoch whose weights it keeps (the best one with early stopping, else the last).
    pub kept_epoch: Option<usize>,
    /// The validation loss of that epoch (the score).
    pub val_loss: Option<f64>,
    /// Its validation accuracy (classification).
    pub val_accuracy: Option<f64>,
    /// Its validation R² (regression).
    pub val_r2: Option<f64>,
    /// Whether early stopping ended the trial.
    pub early_stopped: bool,
    /// Why the trial failed, if it did.
    pub error: Option<String>,
    /// Wall-clock seconds of the job.
    pub seconds: f64,
}

/// The rows every trial trains on: the table and the preprocessing fitted on it once, plus
/// a refit for each other preprocessing a trial asks for (say another `scale`).
pub struct TrialData<'t> {
    table: &'t Table,
    prepared: Mutex<Vec<(TrainPlan, Arc<Prepared>)>>,
}

impl<'t> TrialData<'t> {
    /// The table, with `prepared` fitted on it by `plan`.
    pub fn new(table: &'t Table, plan: &TrainPlan, prepared: Prepared) -> Self {
        Self {
            table,
            prepared: Mutex::new(vec![(plan.clone(), Arc::new(prepared))]),
        }
    }

    /// The prepared rows for `plan`: those already fitted with the same preprocessing
    /// settings, or a new fit.
    pub fn prepared(&self, plan: &TrainPlan) -> anyhow::Result<Arc<Prepared>> {
        let mut fitted = self.prepared.lock().expect("prepared data lock");
        if let Some((_, prepared)) = fitted.iter().find(|(p, _)| p.fit == plan.fit) {
            return Ok(Arc::clone(prepared));
        }
        let prepared = Arc::new(Prepared::new(plan, self.table)?);
        fitted.push((plan.clone(), Arc::clone(&prepared)));
        Ok(prepared)
    }

    /// The preprocessing every trial starts from.
    pub fn base(&self) -> Arc<Prepared> {
        Arc::clone(&self.prepared.lock().expect("prepared data lock")[0].1)
    }
}

/// Runs the jobs of a search.
pub struct TrialRunner<'a> {
    /// The shared rows.
    pub data: &'a TrialData<'a>,
    /// The settings every trial starts from.
    pub base: &'a TrainArgs,
    /// Threads each job trains on.
    pub threads_per_job: usize,
    /// The epochs of the last rung (its jobs need not keep a state).
    pub last_rung: usize,
    /// When running jobs stop (`--time`).
    pub deadline: Option<Instant>,
}

impl TrialRunner<'_> {
    /// A trial's settings, resolved.
    pub fn plan(&self, point: &Point) -> anyhow::Result<TrainPlan> {
        trial_args(self.base, point)?.0.resolve()
    }

    /// The virtual cost of an epoch of the trial: its parameter count (1 if its settings do
    /// not resolve; it then fails at once).
    pub fn weight(&self, point: &Point) -> u64 {
        self.plan(point)
            .and_then(|plan| self.data.base().architecture_for(&plan))
            .map_or(1, |arch| arch.parameter_count() as u64)
    }

    /// Trains the trial of `job` up to `job.to_epochs`, from `state` if given.
    pub fn run(
        &self,
        job: &Job,
        point: &Point,
        state: Option<TrialState>,
    ) -> JobOutput<TrialState, JobRecord> {
        let start = Instant::now();
        let (outcome, state, mut record) = match self.train(job, point, state) {
            Ok(done) => done,
            Err(e) => (
                Outcome::Scored {
                    score: f64::INFINITY,
                    done: true,
                },
                None,
                JobRecord {
                    error: Some(format!("{e:#}")),
                    ..JobRecord::default()
                },
            ),
        };
        record.seconds = start.elapsed().as_secs_f64();
        JobOutput {
            outcome,
            state,
            record,
        }
    }

    fn train(
        &self,
        job: &Job,
        point: &Point,
        state: Option<TrialState>,
    ) -> anyhow::Result<(Outcome, Option<TrialState>, JobRecord)> {
        let plan = self.plan(point)?;
        let prepared = self.data.prepared(&plan)?;
        let task = prepared.metadata.preprocessing.target.task();
        // The data's rules (L2, dropout) where the trial leaves them open, as `train` does.
        let (mut config, _) = plan.settled(&plan.config, prepared.rows, task);
        config.epochs = job.to_epochs;
        config.threads = Some(self.threads_per_job);
        let (mut network, resume) = match state {
            Some(TrialState { network, state }) => (network, Some(state)),
            None => {
                let arch = prepared.architecture_for(&plan)?;
                (Network::new(arch, Init::Auto, config.seed)?, None)
            }
        };
        let mut observer = JobObserver {
            keep_at: (job.to_epochs < self.last_rung).then_some(job.to_epochs),
            deadline: self.deadline,
            kept: None,
        };
        let report = prepared.train(&mut network, &config, resume.as_ref(), &mut observer)?;
        let kept = report.kept();
        let record = JobRecord {
            epochs: report.history.len(),
            kept_epoch: report.kept_epoch(),
            val_loss: kept.and_then(|k| k.val_loss),
            val_accuracy: kept.and_then(|k| k.val_accuracy),
            val_r2: kept.and_then(|k| k.val_r2),
            early_stopped: report.stop_reason == StopReason::EarlyStopping,
            ..JobRecord::default()
        };
        let outcome = match report.stop_reason {
            StopReason::Observer => Outcome::Interrupted,
            reason => Outcome::Scored {
                score: record.val_loss.unwrap_or(f64::INFINITY),
                done: reason == StopReason::EarlyStopping,
            },
        };
        Ok((outcome, observer.kept, record))
    }
}

/// Keeps the network and state after the job's last epoch, and stops at the deadline.
struct JobObserver {
    keep_at: Option<usize>,
    deadline: Option<Instant>,
    kept: Option<TrialState>,
}

impl Observer<f32> for JobObserver {
    fn on_epoch(&mut self, info: &EpochInfo, checkpoint: &Checkpoint<'_, f32>) -> Control {
        if self.keep_at == Some(info.epoch) {
            self.kept = Some(TrialState {
                network: checkpoint.network().clone(),
                state: checkpoint.state(),
            });
        }
        // A job that has run its last epoch is complete, deadline (or signal) or not.
        let late = self.deadline.is_some_and(|d| Instant::now() >= d);
        if info.epoch < info.epochs && (late || interrupt::requested()) {
            Control::Stop
        } else {
            Control::Continue
        }
    }

    fn stop_now(&mut self) -> bool {
        interrupt::requested()
    }
}
