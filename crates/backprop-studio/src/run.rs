//! One playground run. The engine trains on a thread of its own (never on the server's event
//! loop); after every epoch the run reports the epoch's losses and, at most every
//! [`UPDATE_EVERY`] (and whenever it pauses or ends), the network's outputs on a
//! [`GRID`] × [`GRID`] grid of the plane, the decision boundary the page draws (and, for a
//! small network, each hidden neuron's outputs: [`crate::neurons`]). A run can be
//! paused, stepped one epoch at a time, resumed and stopped; it stops when nobody listens.
//!
//! The reports do not touch training: a run's losses are the same bits whatever the page
//! does, so a link with the same settings gives the same loss curve.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use backprop::datasets::SyntheticTargets;
use backprop::train::{
    fit, split_validation, Checkpoint, Control, Dataset, EpochInfo, Observer, StopReason,
};
use backprop::{Init, Network, Targets};
use backprop_data::plane;
use serde_json::json;
use tokio::sync::mpsc::Sender;

use crate::neurons::{self, NeuronGrid};
use crate::settings::Plan;

/// Cells per side of the grid of the decision boundary.
pub const GRID: usize = 50;
/// The least time between two reports of the grid.
pub const UPDATE_EVERY: Duration = Duration::from_millis(50);

/// A report to the page: the Server-Sent Event's name and its JSON data.
pub type Report = (&'static str, String);

/// What the page asked of a run.
#[derive(Default)]
struct Asked {
    paused: bool,
    /// Epochs still allowed while paused (the `step` button).
    steps: usize,
    stopped: bool,
}

/// Pauses, steps and stops a run from another thread.
#[derive(Default)]
pub struct RunControl {
    asked: Mutex<Asked>,
    changed: Condvar,
}

impl RunControl {
    fn update(&self, change: impl FnOnce(&mut Asked)) {
        change(&mut self.asked.lock().unwrap_or_else(|e| e.into_inner()));
        self.changed.notify_all();
    }

    /// Holds the run after its current epoch.
    pub fn pause(&self) {
        self.update(|a| a.paused = true);
    }

    /// Lets a paused run go on.
    pub fn resume(&self) {
        self.update(|a| {
            a.paused = false;
            a.steps = 0;
        });
    }

    /// Pauses the run, and lets it run one more epoch.
    pub fn step(&self) {
        self.update(|a| {
            a.paused = true;
            a.steps += 1;
        });
    }

    /// Ends the run after its current epoch.
    pub fn stop(&self) {
        self.update(|a| a.stopped = true);
    }

    /// Whether the run would wait after this epoch.
    fn holds(&self) -> bool {
        let a = self.asked.lock().unwrap_or_else(|e| e.into_inner());
        a.paused && a.steps == 0 && !a.stopped
    }

    /// Waits while the run is paused with no step allowed, calling `on_hold` (without the
    /// lock) once before the first wait; `true` when the run is to stop.
    fn wait_turn(&self, mut on_hold: impl FnMut()) -> bool {
        let mut told = false;
        let mut a = self.asked.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if a.stopped {
                return true;
            }
            if !a.paused {
                return false;
            }
            if a.steps > 0 {
                a.steps -= 1;
                return false;
            }
            if !told {
                drop(a);
                on_hold();
                told = true;
                // Asked again: a step or a resume may have come in meanwhile.
                a = self.asked.lock().unwrap_or_else(|e| e.into_inner());
                continue;
            }
            a = self.changed.wait(a).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Starts the run of `plan` on a thread of its own; its reports go to `reports`: `start`
/// (the points and the grid's geometry), `progress` (epochs and, when due, the grid), then
/// `done` or `error`.
pub fn start(plan: Plan, id: u64, control: Arc<RunControl>, reports: Sender<Report>) {
    std::thread::Builder::new()
        .name(format!("studio-run-{id}"))
        .spawn(move || {
            if let Err(message) = train(plan, id, &control, &reports) {
                let _ = reports.blocking_send(("error", json!({ "message": message }).to_string()));
            }
        })
        .expect("a thread for the run");
}

/// The range the page's colours span: probabilities for a classifier, the targets' range
/// for a regressor.
fn output_range(targets: &SyntheticTargets) -> (f32, f32) {
    match targets {
        SyntheticTargets::Classes { .. } => (0.0, 1.0),
        SyntheticTargets::Values { values, .. } => plane::value_range(values.iter().copied()),
    }
}

fn train(
    plan: Plan,
    id: u64,
    control: &RunControl,
    reports: &Sender<Report>,
) -> Result<(), String> {
    let data = &plan.data;
    let rows = data.rows();
    let inputs = plan.features.len();
    let x = plane::expand(&data.x, &plan.features);
    let targets = RowTargets::of(&data.targets);
    let (train_rows, val_rows) = split_validation(
        rows,
        targets.as_targets(),
        1.0 - plan.train_share,
        plan.config.seed,
    )
    .map_err(|e| e.to_string())?;
    let gather = |rows: &[usize]| -> Vec<f32> {
        rows.iter()
            .flat_map(|&r| x[r * inputs..(r + 1) * inputs].iter().copied())
            .collect()
    };
    let (x_train, x_val) = (gather(&train_rows), gather(&val_rows));
    let (y_train, y_val) = (targets.pick(&train_rows), targets.pick(&val_rows));
    let train_set =
        Dataset::new(&x_train, inputs, y_train.as_targets()).map_err(|e| e.to_string())?;
    let val_set = Dataset::new(&x_val, inputs, y_val.as_targets()).map_err(|e| e.to_string())?;

    let classify = matches!(targets, RowTargets::Classes(_));
    let extent = plane::extent(&data.x);
    let (low, high) = output_range(&data.targets);
    let mut validation = vec![false; rows];
    val_rows.iter().for_each(|&r| validation[r] = true);
    let labels: Vec<f64> = match &data.targets {
        SyntheticTargets::Classes { labels, .. } => labels.iter().map(|&l| f64::from(l)).collect(),
        SyntheticTargets::Values { values, .. } => values.clone(),
    };
    let start = json!({
        "id": id,
        "points": data.x.chunks_exact(2).zip(&labels).map(|(p, &t)| [p[0], p[1], t]).collect::<Vec<_>>(),
        "validation": validation,
        "extent": extent,
        "grid": GRID,
        "neuron_cells": neurons::CELLS,
        "hidden": plan.architecture.hidden.iter().map(|l| l.units).collect::<Vec<_>>(),
        "task": if classify { "classify" } else { "regress" },
        "low": low,
        "high": high,
        "epochs": plan.config.epochs,
        "parameters": plan.architecture.parameter_count(),
    });
    if reports.blocking_send(("start", start.to_string())).is_err() {
        return Ok(());
    }
    let mut network = Network::new(plan.architecture.clone(), Init::Auto, plan.config.seed)
        .map_err(|e| e.to_string())?;
    let mut observer = Reporter {
        control,
        reports,
        grid: plane::expand(&plane::grid(GRID, extent), &plan.features),
        neurons: NeuronGrid::new(&plan.architecture, &plan.features, extent),
        classify,
        low,
        high,
        pending: Vec::new(),
        last_grid: None,
        gone: false,
        pace: plan.pace,
        next_epoch_at: Instant::now(),
    };
    let report = fit(
        &mut network,
        &plan.loss,
        train_set,
        Some(val_set),
        &plan.config,
        &mut observer,
    )
    .map_err(|e| e.to_string())?;
    if !observer.gone {
        let reason = match report.stop_reason {
            StopReason::Completed => "completed",
            StopReason::EarlyStopping => "early stopping",
            StopReason::Observer => "stopped",
        };
        let done = json!({ "stop_reason": reason, "epochs": report.history.len() });
        let _ = reports.blocking_send(("done", done.to_string()));
    }
    Ok(())
}

/// The targets of the points, as the engine takes them.
enum RowTargets {
    Classes(Vec<u32>),
    Values(Vec<f32>),
}

impl RowTargets {
    fn of(targets: &SyntheticTargets) -> Self {
        match targets {
            SyntheticTargets::Classes { labels, .. } => RowTargets::Classes(labels.clone()),
            SyntheticTargets::Values { values, .. } => {
                RowTargets::Values(values.iter().map(|&v| v as f32).collect())
            }
        }
    }

    /// The targets of `rows`, in that order (one output per row).
    fn pick(&self, rows: &[usize]) -> Self {
        match self {
            RowTargets::Classes(c) => RowTargets::Classes(rows.iter().map(|&r| c[r]).collect()),
            RowTargets::Values(v) => RowTargets::Values(rows.iter().map(|&r| v[r]).collect()),
        }
    }

    fn as_targets(&self) -> Targets<'_, f32> {
        match self {
            RowTargets::Classes(c) => Targets::Classes(c),
            RowTargets::Values(v) => Targets::Values(v),
        }
    }
}

/// The run's observer: collects the epochs' losses and sends them with the grid when due,
/// then waits while the run is paused.
struct Reporter<'a> {
    control: &'a RunControl,
    reports: &'a Sender<Report>,
    /// The network inputs of the grid's cells.
    grid: Vec<f32>,
    /// The per-neuron thumbnails' grid, for a small network.
    neurons: Option<NeuronGrid>,
    classify: bool,
    low: f32,
    high: f32,
    /// `[epoch, train loss, validation loss]` not sent yet.
    pending: Vec<[f64; 3]>,
    last_grid: Option<Instant>,
    /// The page is gone: nobody listens.
    gone: bool,
    /// The least time between two epochs.
    pace: Option<Duration>,
    /// When the next epoch may start.
    next_epoch_at: Instant,
}

impl Reporter<'_> {
    /// Shades of the network's outputs on the grid: the probability of class 1 for a
    /// classifier (of its second softmax output), the value for a regressor.
    fn shades(&self, network: &Network<f32>) -> Vec<u8> {
        let out = network.predict(&self.grid);
        let outputs = network.architecture().outputs;
        let picked: Vec<f32> = if self.classify {
            out.chunks_exact(outputs).map(|o| o[1]).collect()
        } else {
            out.chunks_exact(outputs).map(|o| o[0]).collect()
        };
        plane::shades(&picked, self.low, self.high)
    }

    /// Sends the epochs not sent yet and the grid; marks the page gone when nobody listens.
    fn report(&mut self, network: &Network<f32>, paused: bool) {
        if self.gone {
            return;
        }
        let neurons = self.neurons.as_mut().map(|grid| grid.shades(network));
        let progress = json!({
            "epochs": std::mem::take(&mut self.pending),
            "grid": self.shades(network),
            "neurons": neurons,
            "paused": paused,
        });
        if self
            .reports
            .blocking_send(("progress", progress.to_string()))
            .is_err()
        {
            self.gone = true;
        }
        self.last_grid = Some(Instant::now());
    }
}

impl Observer<f32> for Reporter<'_> {
    fn on_epoch(&mut self, info: &EpochInfo, checkpoint: &Checkpoint<'_, f32>) -> Control {
        self.pending.push([
            info.epoch as f64,
            info.train_loss,
            info.val_loss.unwrap_or(f64::NAN),
        ]);
        let network = checkpoint.network();
        let due = self.last_grid.is_none_or(|t| t.elapsed() >= UPDATE_EVERY);
        // A run about to hold reports once, when it holds (below).
        if !self.control.holds() && (due || info.epoch == info.epochs) {
            self.report(network, false);
        }
        if let Some(pace) = self.pace {
            // After a pause the schedule starts again from now.
            self.next_epoch_at = (self.next_epoch_at + pace).max(Instant::now());
            std::thread::sleep(self.next_epoch_at.saturating_duration_since(Instant::now()));
        }
        let control = self.control;
        let stop = control.wait_turn(|| self.report(network, true));
        if stop || self.gone {
            Control::Stop
        } else {
            Control::Continue
        }
    }
}
