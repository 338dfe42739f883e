//! Whether a run that used all its epochs was still learning when they ran out, the check
//! behind scikit-learn's `ConvergenceWarning` ("maximum iterations reached and the
//! optimization hasn't converged yet").

use crate::train::progress::EpochInfo;

/// The relative decrease of the monitored loss over the last epochs that still counts as
/// progress (scikit-learn's `tol`, 1e-4, is absolute; a relative one suits losses of any
/// scale, such as a squared error in the target's units).
pub const PROGRESS_TOLERANCE: f64 = 1e-4;

/// The epochs looked back over when early stopping is off (with early stopping, its
/// patience): scikit-learn's `n_iter_no_change`.
pub const CONVERGENCE_WINDOW: usize = 10;

/// Whether the monitored loss (the validation loss where there is one, else the training
/// loss) reached, within the last `window` epochs of `history`, a low more than
/// [`PROGRESS_TOLERANCE`] (relative) below its best before them. A run of at most `window`
/// epochs compares with its first epoch; a single epoch always counts as still improving
/// (nothing shows that it stopped).
pub fn still_improving(history: &[EpochInfo], window: usize) -> bool {
    let monitored: Vec<f64> = history
        .iter()
        .map(|info| info.val_loss.unwrap_or(info.train_loss))
        .collect();
    let window = window.max(1);
    let split = match monitored.len() {
        0 => return false,
        1 => return true,
        n if n <= window => 1,
        n => n - window,
    };
    let low = |losses: &[f64]| losses.iter().copied().fold(f64::INFINITY, f64::min);
    let (before, recent) = (low(&monitored[..split]), low(&monitored[split..]));
    if !before.is_finite() {
        return recent.is_finite();
    }
    before - recent > PROGRESS_TOLERANCE * before.abs()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(losses: &[f64]) -> Vec<EpochInfo> {
        losses
            .iter()
            .enumerate()
            .map(|(i, &loss)| EpochInfo {
                epoch: i + 1,
                epochs: losses.len(),
                train_loss: loss,
                train_accuracy: None,
                val_loss: None,
                val_accuracy: None,
                val_r2: None,
                lr: 1e-3,
                seconds: 0.0,
                samples_per_second: 0.0,
            })
            .collect()
    }

    #[test]
    fn a_falling_loss_is_still_improving_a_flat_one_is_not() {
        let falling: Vec<f64> = (0..30).map(|i| 1.0 / (1.0 + i as f64)).collect();
        assert!(still_improving(&history(&falling), 10));
        let mut flat = falling[..20].to_vec();
        flat.extend(std::iter::repeat_n(flat[19] * (1.0 - 1e-6), 10));
        assert!(
            !still_improving(&history(&flat), 10),
            "1e-6 relative is no progress"
        );
        let mut bumpy = flat.clone();
        bumpy[25] = flat[19] * 0.99;
        assert!(still_improving(&history(&bumpy), 10));
    }

    #[test]
    fn the_validation_loss_is_monitored_when_there_is_one() {
        let mut runs = history(&[3.0, 2.0, 1.0, 0.5]);
        for (info, val) in runs.iter_mut().zip([1.0, 1.0, 1.0, 1.0]) {
            info.val_loss = Some(val);
        }
        assert!(
            !still_improving(&runs, 2),
            "the training loss falls, the validation loss does not"
        );
    }

    #[test]
    fn short_runs_compare_with_their_first_epoch() {
        assert!(still_improving(&history(&[2.0, 1.0, 0.9]), 10));
        assert!(!still_improving(&history(&[1.0, 1.0, 1.0]), 10));
        assert!(still_improving(&history(&[1.0]), 10));
        assert!(!still_improving(&[], 10));
        assert!(still_improving(&history(&[f64::NAN, 1.0]), 10));
    }
}
