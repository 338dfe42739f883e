//! Tracking the best epoch, and stopping when the monitored loss stops improving.

use crate::error::{Error, Result};
use crate::real::Real;
use crate::train::config::EarlyStopping;
use crate::train::state::EarlyStoppingState;

/// The best monitored loss so far, its epoch and (when early stopping is on) its weights.
pub(crate) struct Tracker<T> {
    rule: Option<EarlyStopping>,
    best_loss: Option<f64>,
    best_epoch: usize,
    without_improvement: usize,
    /// Sized once to the parameter count when early stopping is on; empty otherwise.
    best_parameters: Vec<T>,
}

impl<T: Real> Tracker<T> {
    pub(crate) fn new(rule: Option<EarlyStopping>, parameter_count: usize) -> Self {
        let best_parameters = if rule.is_some() {
            vec![T::zero(); parameter_count]
        } else {
            Vec::new()
        };
        Self {
            rule,
            best_loss: None,
            best_epoch: 0,
            without_improvement: 0,
            best_parameters,
        }
    }

    /// Restores the bookkeeping of a checkpoint.
    pub(crate) fn load_state(&mut self, state: &EarlyStoppingState) -> Result<()> {
        if self.rule.is_some() && state.best_epoch > 0 {
            if state.best_parameters.len() != self.best_parameters.len() {
                return Err(Error::InvalidConfig(format!(
                    "the checkpoint's best weights have {} values, the network {}",
                    state.best_parameters.len(),
                    self.best_parameters.len()
                )));
            }
            for (p, &v) in self.best_parameters.iter_mut().zip(&state.best_parameters) {
                *p = T::from_f64(v);
            }
        }
        self.best_loss = state.best_loss;
        self.best_epoch = state.best_epoch;
        self.without_improvement = state.epochs_without_improvement;
        Ok(())
    }

    pub(crate) fn state(&self) -> EarlyStoppingState {
        EarlyStoppingState {
            best_loss: self.best_loss,
            best_epoch: self.best_epoch,
            epochs_without_improvement: self.without_improvement,
            best_parameters: if self.best_epoch > 0 {
                self.best_parameters.iter().map(|v| v.as_f64()).collect()
            } else {
                Vec::new()
            },
        }
    }

    /// Records an epoch's monitored loss; returns true when early stopping says stop.
    /// An improvement is a loss below `best − min_delta` (a NaN loss never improves).
    pub(crate) fn update(&mut self, epoch: usize, loss: f64, parameters: &[T]) -> bool {
        let min_delta = self.rule.as_ref().map_or(0.0, |r| r.min_delta);
        let improved = match self.best_loss {
            None => !loss.is_nan(),
            Some(best) => loss < best - min_delta,
        };
        if improved {
            self.best_loss = Some(loss);
            self.best_epoch = epoch;
            self.without_improvement = 0;
            if self.rule.is_some() {
                self.best_parameters.copy_from_slice(parameters);
            }
        } else {
            self.without_improvement += 1;
        }
        self.rule
            .as_ref()
            .is_some_and(|r| self.without_improvement >= r.patience)
    }

    /// Copies the best weights into `parameters` if early stopping is on and an epoch was
    /// recorded; returns whether it did.
    pub(crate) fn restore_best(&self, parameters: &mut [T]) -> bool {
        if self.rule.is_some() && self.best_epoch > 0 {
            parameters.copy_from_slice(&self.best_parameters);
            true
        } else {
            false
        }
    }

    pub(crate) fn best_epoch(&self) -> Option<usize> {
        (self.best_epoch > 0).then_some(self.best_epoch)
    }

    pub(crate) fn best_loss(&self) -> Option<f64> {
        self.best_loss
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_after_patience_and_keeps_the_best_weights() {
        let mut t = Tracker::<f64>::new(Some(EarlyStopping::new(2)), 1);
        assert!(!t.update(1, 1.0, &[1.0]));
        assert!(!t.update(2, 0.5, &[2.0]));
        assert!(!t.update(3, 0.6, &[3.0]));
        assert!(t.update(4, 0.5, &[4.0]));
        assert_eq!(t.best_epoch(), Some(2));
        let mut p = [9.0];
        assert!(t.restore_best(&mut p));
        assert_eq!(p, [2.0]);
    }

    #[test]
    fn min_delta_demands_a_real_improvement_and_state_round_trips() {
        let rule = EarlyStopping {
            patience: 5,
            min_delta: 0.1,
        };
        let mut t = Tracker::<f32>::new(Some(rule.clone()), 2);
        t.update(1, 1.0, &[1.0, 2.0]);
        t.update(2, 0.95, &[3.0, 4.0]);
        assert_eq!(t.best_epoch(), Some(1));
        let mut u = Tracker::<f32>::new(Some(rule), 2);
        u.load_state(&t.state()).unwrap();
        assert_eq!(u.state(), t.state());
    }

    #[test]
    fn without_a_rule_it_only_tracks() {
        let mut t = Tracker::<f64>::new(None, 3);
        for epoch in 1..10 {
            assert!(!t.update(epoch, epoch as f64, &[0.0; 3]));
        }
        assert_eq!(t.best_epoch(), Some(1));
        assert!(!t.restore_best(&mut [0.0; 3]));
    }
}
