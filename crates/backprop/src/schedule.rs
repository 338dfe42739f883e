//! Learning-rate schedules, epoch by epoch, with PyTorch's semantics.
//!
//! A [`Scheduler`] gives the rate of the current epoch ([`Scheduler::lr`]) and moves to the
//! next epoch when told the epoch's metric ([`Scheduler::end_epoch`]):
//!
//! - [`Schedule::Constant`]: the base rate throughout.
//! - [`Schedule::Step`]: `StepLR`, the rate multiplied by `gamma` every `step_size` epochs.
//! - [`Schedule::Exponential`]: `ExponentialLR`, the rate multiplied by `gamma` every epoch.
//! - [`Schedule::Cosine`]: linear warm-up `η·(e + 1)/warmup_epochs` for epochs
//!   `e < warmup_epochs`, then `CosineAnnealingLR`'s closed form
//!   `η_min + (η − η_min)·(1 + cos(π·k/n))/2` with `k = e − warmup_epochs` and
//!   `n = t_max − warmup_epochs`, and `η_min` from epoch `t_max` on (where PyTorch's closed form
//!   would start rising again). Equals `LambdaLR` with that factor while `e < t_max`.
//! - [`Schedule::ReduceOnPlateau`]: `ReduceLROnPlateau` in mode `min` with relative
//!   threshold: the rate is multiplied by `factor` (not below `min_lr`) once the metric has
//!   not improved on the best by a factor `1 − threshold` for more than `patience` epochs,
//!   then waits `cooldown` epochs.
//!
//! Multiplicative schedules update the rate in place epoch by epoch, as PyTorch's chainable
//! form does, so the rates agree to the bit.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How the learning rate changes over epochs (serialized with a `kind` tag).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    /// The base rate throughout.
    #[default]
    Constant,
    /// Multiply by `gamma` every `step_size` epochs (`StepLR`).
    Step {
        /// Epochs between decays (at least 1).
        step_size: usize,
        /// Decay factor.
        gamma: f64,
    },
    /// Multiply by `gamma` every epoch (`ExponentialLR`).
    Exponential {
        /// Decay factor.
        gamma: f64,
    },
    /// Linear warm-up, then cosine annealing down to `eta_min` at epoch `t_max`.
    Cosine {
        /// Epochs of linear warm-up (0 for none).
        warmup_epochs: usize,
        /// Epoch at which the rate reaches `eta_min` (more than `warmup_epochs`).
        t_max: usize,
        /// Final rate.
        eta_min: f64,
    },
    /// Reduce the rate when the metric stops improving (`ReduceLROnPlateau`, mode `min`,
    /// relative threshold).
    ReduceOnPlateau {
        /// Factor applied on a plateau (in `[0, 1)`).
        factor: f64,
        /// Epochs without improvement tolerated before reducing.
        patience: usize,
        /// Relative improvement needed to count as better.
        threshold: f64,
        /// Epochs to wait after a reduction before counting again.
        cooldown: usize,
        /// Lower bound on the rate.
        min_lr: f64,
    },
}

impl Schedule {
    /// Checks the settings, giving [`Error::InvalidConfig`] for one out of range.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str, value: String, rule: &str| {
            Err(Error::InvalidConfig(format!(
                "schedule: {what} = {value} {rule}"
            )))
        };
        match *self {
            Schedule::Constant => Ok(()),
            Schedule::Step { step_size, gamma } => {
                if step_size == 0 {
                    return bad("step_size", "0".into(), "must be at least 1");
                }
                if !(gamma.is_finite() && gamma > 0.0) {
                    return bad("gamma", gamma.to_string(), "must be finite and > 0");
                }
                Ok(())
            }
            Schedule::Exponential { gamma } => {
                if !(gamma.is_finite() && gamma > 0.0) {
                    return bad("gamma", gamma.to_string(), "must be finite and > 0");
                }
                Ok(())
            }
            Schedule::Cosine {
                warmup_epochs,
                t_max,
                eta_min,
            } => {
                if t_max <= warmup_epochs {
                    return bad(
                        "t_max",
                        t_max.to_string(),
                        &format!("must be larger than warmup_epochs = {warmup_epochs}"),
                    );
                }
                if !(eta_min.is_finite() && eta_min >= 0.0) {
                    return bad("eta_min", eta_min.to_string(), "must be finite and >= 0");
                }
                Ok(())
            }
            Schedule::ReduceOnPlateau {
                factor,
                threshold,
                min_lr,
                ..
            } => {
                if !(0.0..1.0).contains(&factor) {
                    return bad("factor", factor.to_string(), "must be in [0, 1)");
                }
                if !(threshold.is_finite() && threshold >= 0.0) {
                    return bad(
                        "threshold",
                        threshold.to_string(),
                        "must be finite and >= 0",
                    );
                }
                if !(min_lr.is_finite() && min_lr >= 0.0) {
                    return bad("min_lr", min_lr.to_string(), "must be finite and >= 0");
                }
                Ok(())
            }
        }
    }
}

/// The progress of a [`Scheduler`], for checkpoints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SchedulerState {
    /// Epochs completed (0-based index of the current epoch).
    pub epoch: usize,
    /// The rate of the current epoch.
    pub lr: f64,
    /// Best metric so far (plateau only; `None` before the first epoch).
    pub best: Option<f64>,
    /// Consecutive epochs without improvement (plateau only).
    pub num_bad_epochs: usize,
    /// Epochs of cooldown left (plateau only).
    pub cooldown_counter: usize,
}

/// Smallest change of rate `ReduceLROnPlateau` applies (its `eps`).
const PLATEAU_EPS: f64 = 1e-8;

/// Steps a [`Schedule`] from a base learning rate, epoch by epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct Scheduler {
    schedule: Schedule,
    base_lr: f64,
    state: SchedulerState,
}

impl Scheduler {
    /// A scheduler at epoch 0 (settings are not checked here: see [`Schedule::validate`]).
    pub fn new(schedule: Schedule, base_lr: f64) -> Self {
        let mut scheduler = Scheduler {
            schedule,
            base_lr,
            state: SchedulerState {
                epoch: 0,
                lr: base_lr,
                best: None,
                num_bad_epochs: 0,
                cooldown_counter: 0,
            },
        };
        if let Schedule::Cosine { .. } = scheduler.schedule {
            scheduler.state.lr = scheduler.cosine_lr(0);
        }
        scheduler
    }

    /// The learning rate for the current epoch.
    pub fn lr(&self) -> f64 {
        self.state.lr
    }

    /// The schedule being followed.
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// Ends the current epoch: `metric` is the epoch's validation loss (or training loss when
    /// there is no validation set); only [`Schedule::ReduceOnPlateau`] looks at it.
    pub fn end_epoch(&mut self, metric: f64) {
        self.state.epoch += 1;
        let epoch = self.state.epoch;
        match self.schedule {
            Schedule::Constant => {}
            Schedule::Step { step_size, gamma } => {
                if epoch.is_multiple_of(step_size) {
                    self.state.lr *= gamma;
                }
            }
            Schedule::Exponential { gamma } => self.state.lr *= gamma,
            Schedule::Cosine { .. } => self.state.lr = self.cosine_lr(epoch),
            Schedule::ReduceOnPlateau {
                factor,
                patience,
                threshold,
                cooldown,
                min_lr,
            } => {
                let state = &mut self.state;
                let best = state.best.unwrap_or(f64::INFINITY);
                if metric < best * (1.0 - threshold) {
                    state.best = Some(metric);
                    state.num_bad_epochs = 0;
                } else {
                    state.num_bad_epochs += 1;
                }
                if state.cooldown_counter > 0 {
                    state.cooldown_counter -= 1;
                    state.num_bad_epochs = 0;
                }
                if state.num_bad_epochs > patience {
                    let old_lr = state.lr;
                    let reduced = old_lr * factor;
                    // Python's max(reduced, min_lr).
                    let new_lr = if min_lr > reduced { min_lr } else { reduced };
                    if old_lr - new_lr > PLATEAU_EPS {
                        state.lr = new_lr;
                    }
                    state.cooldown_counter = cooldown;
                    state.num_bad_epochs = 0;
                }
            }
        }
    }

    /// Warm-up then cosine annealing, in closed form for `epoch`.
    fn cosine_lr(&self, epoch: usize) -> f64 {
        let Schedule::Cosine {
            warmup_epochs,
            t_max,
            eta_min,
        } = self.schedule
        else {
            return self.base_lr;
        };
        if epoch < warmup_epochs {
            return self.base_lr * ((epoch + 1) as f64 / warmup_epochs as f64);
        }
        let k = epoch - warmup_epochs;
        let n = t_max.saturating_sub(warmup_epochs);
        if k >= n {
            return eta_min;
        }
        let progress = std::f64::consts::PI * k as f64 / n as f64;
        eta_min + (self.base_lr - eta_min) * (1.0 + progress.cos()) / 2.0
    }

    /// A snapshot of the progress, for checkpoints.
    pub fn state(&self) -> SchedulerState {
        self.state.clone()
    }

    /// Restores a snapshot from [`Scheduler::state`]; an error if its rate is not a finite,
    /// non-negative number.
    pub fn load_state(&mut self, state: &SchedulerState) -> Result<()> {
        if !(state.lr.is_finite() && state.lr >= 0.0) {
            return Err(Error::InvalidConfig(format!(
                "scheduler state: learning rate {} must be finite and >= 0",
                state.lr
            )));
        }
        self.state = state.clone();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rates(schedule: Schedule, base: f64, metrics: &[f64]) -> Vec<f64> {
        let mut scheduler = Scheduler::new(schedule, base);
        let mut out = vec![scheduler.lr()];
        for &m in metrics {
            scheduler.end_epoch(m);
            out.push(scheduler.lr());
        }
        out
    }

    #[test]
    fn step_decays_every_step_size_epochs() {
        let r = rates(
            Schedule::Step {
                step_size: 2,
                gamma: 0.5,
            },
            1.0,
            &[0.0; 5],
        );
        assert_eq!(r, vec![1.0, 1.0, 0.5, 0.5, 0.25, 0.25]);
    }

    #[test]
    fn cosine_warms_up_then_anneals_and_holds() {
        let schedule = Schedule::Cosine {
            warmup_epochs: 2,
            t_max: 6,
            eta_min: 0.1,
        };
        let r = rates(schedule, 1.0, &[0.0; 8]);
        assert_eq!(r[0], 0.5);
        assert_eq!(r[1], 1.0);
        assert_eq!(r[2], 1.0);
        assert!((r[4] - 0.55).abs() < 1e-15);
        assert_eq!(r[6], 0.1);
        assert_eq!(r[8], 0.1);
    }

    #[test]
    fn plateau_reduces_after_patience_and_cools_down() {
        let schedule = Schedule::ReduceOnPlateau {
            factor: 0.5,
            patience: 1,
            threshold: 0.0,
            cooldown: 1,
            min_lr: 0.2,
        };
        let r = rates(schedule, 1.0, &[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
        assert_eq!(r, vec![1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]);
    }

    #[test]
    fn state_round_trips_through_json() {
        let schedule = Schedule::ReduceOnPlateau {
            factor: 0.1,
            patience: 0,
            threshold: 1e-4,
            cooldown: 0,
            min_lr: 0.0,
        };
        let mut a = Scheduler::new(schedule.clone(), 0.1);
        a.end_epoch(1.0);
        a.end_epoch(2.0);
        let json = serde_json::to_string(&a.state()).unwrap();
        let mut b = Scheduler::new(schedule, 0.1);
        b.load_state(&serde_json::from_str(&json).unwrap()).unwrap();
        for m in [0.5, 0.6, 0.7] {
            a.end_epoch(m);
            b.end_epoch(m);
            assert_eq!(a.lr().to_bits(), b.lr().to_bits());
        }
    }

    #[test]
    fn validate_rejects_bad_settings() {
        assert!(Schedule::Step {
            step_size: 0,
            gamma: 0.5
        }
        .validate()
        .is_err());
        assert!(Schedule::Cosine {
            warmup_epochs: 3,
            t_max: 3,
            eta_min: 0.0
        }
        .validate()
        .is_err());
        assert!(Schedule::ReduceOnPlateau {
            factor: 1.0,
            patience: 0,
            threshold: 0.0,
            cooldown: 0,
            min_lr: 0.0
        }
        .validate()
        .is_err());
        assert!(Schedule::Exponential { gamma: 0.9 }.validate().is_ok());
    }

    #[test]
    fn serde_uses_kind_tag() {
        let json = serde_json::to_string(&Schedule::Exponential { gamma: 0.5 }).unwrap();
        assert_eq!(json, r#"{"kind":"exponential","gamma":0.5}"#);
        let back: Schedule = serde_json::from_str(r#"{"kind":"reduce_on_plateau","factor":0.1,"patience":10,"threshold":0.0001,"cooldown":0,"min_lr":0.0}"#).unwrap();
        assert!(matches!(
            back,
            Schedule::ReduceOnPlateau { patience: 10, .. }
        ));
    }
}
