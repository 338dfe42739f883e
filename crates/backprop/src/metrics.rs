//! Scores of predictions against known targets: accuracy, per-class precision / recall / F1,
//! the confusion matrix and the log-loss for classification; RMSE, MAE and R² for regression;
//! and the mean and standard deviation of a score over cross-validation folds.

use serde::Serialize;

/// Precision, recall and F1 of one class.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassScores {
    /// The class label.
    pub class: String,
    /// Of the rows predicted as this class, the fraction that are.
    pub precision: f64,
    /// Of the rows of this class, the fraction predicted as it.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Rows of this class.
    pub support: usize,
}

/// Classification scores.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassificationMetrics {
    /// Fraction of rows predicted right.
    pub accuracy: f64,
    /// Unweighted mean of the F1 scores of the classes that occur in the truth or the
    /// predictions (as scikit-learn's `f1_score(average="macro")`, which takes its labels
    /// from both): a class absent from both, as in a small test fold, does not count.
    pub macro_f1: f64,
    /// Per-class scores, in class order.
    pub per_class: Vec<ClassScores>,
    /// `confusion[true][predicted]` row counts.
    pub confusion: Vec<Vec<usize>>,
}

/// Regression scores.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RegressionMetrics {
    /// Root mean squared error.
    pub rmse: f64,
    /// Mean absolute error.
    pub mae: f64,
    /// Coefficient of determination, `1 − SS_res / SS_tot` (as scikit-learn's `r2_score`).
    pub r2: f64,
}

/// `0/0` counts as 0, as scikit-learn does (with a warning) for classes never predicted.
fn ratio(numerator: usize, denominator: usize) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

/// Scores predicted class indices against true ones; `classes` names the indices.
///
/// # Panics
/// If the slices differ in length or an index is not below `classes.len()`.
pub fn classification(
    truth: &[u32],
    predicted: &[usize],
    classes: &[String],
) -> ClassificationMetrics {
    assert_eq!(truth.len(), predicted.len(), "metrics: lengths differ");
    let k = classes.len();
    let mut confusion = vec![vec![0usize; k]; k];
    for (&t, &p) in truth.iter().zip(predicted) {
        confusion[t as usize][p] += 1;
    }
    let correct: usize = (0..k).map(|c| confusion[c][c]).sum();
    let per_class: Vec<ClassScores> = classes
        .iter()
        .enumerate()
        .map(|(c, name)| {
            let support: usize = confusion[c].iter().sum();
            let predicted_as: usize = confusion.iter().map(|row| row[c]).sum();
            let precision = ratio(confusion[c][c], predicted_as);
            let recall = ratio(confusion[c][c], support);
            let f1 = if precision + recall == 0.0 {
                0.0
            } else {
                2.0 * precision * recall / (precision + recall)
            };
            ClassScores {
                class: name.clone(),
                precision,
                recall,
                f1,
                support,
            }
        })
        .collect();
    let (mut f1_sum, mut present) = (0.0, 0usize);
    for (c, scores) in per_class.iter().enumerate() {
        let predicted_as: usize = confusion.iter().map(|row| row[c]).sum();
        if scores.support > 0 || predicted_as > 0 {
            f1_sum += scores.f1;
            present += 1;
        }
    }
    let macro_f1 = f1_sum / present.max(1) as f64;
    ClassificationMetrics {
        accuracy: ratio(correct, truth.len()),
        macro_f1,
        per_class,
        confusion,
    }
}

/// Scores predicted values against true ones.
///
/// # Panics
/// If the slices differ in length.
pub fn regression(truth: &[f32], predicted: &[f32]) -> RegressionMetrics {
    assert_eq!(truth.len(), predicted.len(), "metrics: lengths differ");
    let n = truth.len().max(1) as f64;
    let mean = truth.iter().map(|&t| t as f64).sum::<f64>() / n;
    let (mut squared, mut absolute, mut total) = (0.0, 0.0, 0.0);
    for (&t, &p) in truth.iter().zip(predicted) {
        let error = p as f64 - t as f64;
        squared += error * error;
        absolute += error.abs();
        total += (t as f64 - mean).powi(2);
    }
    // scikit-learn: a constant target gives R² = 1 for a perfect fit, else 0.
    let r2 = if total == 0.0 {
        if squared == 0.0 {
            1.0
        } else {
            0.0
        }
    } else {
        1.0 - squared / total
    };
    RegressionMetrics {
        rmse: (squared / n).sqrt(),
        mae: absolute / n,
        r2,
    }
}

/// The smallest probability the log-loss takes: `f32::EPSILON` (2⁻²³), as scikit-learn's
/// `log_loss` clips `float32` probabilities to `[ε, 1 − ε]`, so that a confident mistake costs
/// about 15.9 rather than infinity.
pub const LOG_LOSS_EPSILON: f64 = f32::EPSILON as f64;

/// The mean negative log-likelihood of the true classes, `−(1/n) Σᵢ ln pᵢ,yᵢ`, from one
/// probability per class and row (`probabilities` is row-major, `truth.len() × classes`; a
/// binary classifier's single sigmoid output as two columns, see
/// [`crate::prediction::class_probabilities`]). Each probability is first clipped to
/// `[ε, 1 − ε]` with ε = [`LOG_LOSS_EPSILON`], as scikit-learn's `log_loss` does; rows are not
/// renormalized (softmax rows already sum to 1). 0 rows give 0.
///
/// # Panics
/// If `probabilities` is not `truth.len() × classes` or a class index is not below `classes`.
pub fn log_loss(truth: &[u32], probabilities: &[f32], classes: usize) -> f64 {
    assert_eq!(
        probabilities.len(),
        truth.len() * classes,
        "log_loss: probabilities are not rows × classes"
    );
    let total: f64 = truth
        .iter()
        .zip(probabilities.chunks_exact(classes.max(1)))
        .map(|(&t, row)| {
            let p = f64::from(row[t as usize]).clamp(LOG_LOSS_EPSILON, 1.0 - LOG_LOSS_EPSILON);
            -p.ln()
        })
        .sum();
    total / truth.len().max(1) as f64
}

/// The mean and the standard deviation of a score over cross-validation folds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct MeanStd {
    /// The arithmetic mean.
    pub mean: f64,
    /// The population standard deviation `√(Σ (x − mean)² / n)` (ddof 0: numpy's `np.std`
    /// default, and scikit-learn's `std_test_score` in `cv_results_`).
    pub std: f64,
}

impl MeanStd {
    /// The mean and standard deviation of `values`, summed in `f64` in the order given (NaN
    /// for no values).
    pub fn of(values: &[f64]) -> Self {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        Self {
            mean,
            std: variance.sqrt(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_scores_match_a_hand_count() {
        let classes: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let truth = [0, 0, 1, 1, 2, 2];
        let predicted = [0, 1, 1, 1, 2, 0];
        let m = classification(&truth, &predicted, &classes);
        assert!((m.accuracy - 4.0 / 6.0).abs() < 1e-12);
        assert_eq!(
            m.confusion,
            vec![vec![1, 1, 0], vec![0, 2, 0], vec![1, 0, 1]]
        );
        // class b: predicted 3 times, right twice; support 2.
        assert!((m.per_class[1].precision - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.per_class[1].recall - 1.0).abs() < 1e-12);
        assert!((m.per_class[1].f1 - 0.8).abs() < 1e-12);
    }

    #[test]
    fn regression_scores_match_a_hand_count() {
        let m = regression(&[1.0, 2.0, 3.0], &[1.0, 2.0, 5.0]);
        assert!((m.rmse - (4.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!((m.mae - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.r2 - (1.0 - 4.0 / 2.0)).abs() < 1e-12);
        assert_eq!(regression(&[2.0, 2.0], &[2.0, 2.0]).r2, 1.0);
    }

    #[test]
    fn macro_f1_leaves_out_classes_neither_true_nor_predicted() {
        let classes: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        // Class c occurs nowhere: the mean is over a (F1 2/3) and b (F1 0.8).
        let m = classification(&[0, 0, 1, 1], &[0, 1, 1, 1], &classes);
        assert!(
            (m.macro_f1 - (2.0 / 3.0 + 0.8) / 2.0).abs() < 1e-12,
            "{}",
            m.macro_f1
        );
        // Predicted but never true still counts (with F1 0).
        let m = classification(&[0, 0], &[0, 2], &classes);
        assert!(
            (m.macro_f1 - (2.0 / 3.0) / 2.0).abs() < 1e-12,
            "{}",
            m.macro_f1
        );
    }

    #[test]
    fn log_loss_matches_a_hand_count_and_clips() {
        // −(ln 0.8 + ln 0.25) / 2
        let loss = log_loss(&[0, 1], &[0.8, 0.2, 0.75, 0.25], 2);
        assert!(
            (loss - -(0.8f64.ln() + 0.25f64.ln()) / 2.0).abs() < 1e-6,
            "{loss}"
        );
        let certain_and_wrong = log_loss(&[1], &[1.0, 0.0], 2);
        assert!((certain_and_wrong - -(LOG_LOSS_EPSILON.ln())).abs() < 1e-12);
        assert!(log_loss(&[2], &[0.0, 0.0, 1.0], 3) < 1e-6);
        assert_eq!(log_loss(&[], &[], 3), 0.0);
    }

    #[test]
    fn mean_and_std_are_numpys() {
        // Python's statistics.pstdev([0.9, 0.95, 1.0, 0.85]) (ddof 0, as np.std): 0.0559016994...
        let s = MeanStd::of(&[0.9, 0.95, 1.0, 0.85]);
        assert!((s.mean - 0.925).abs() < 1e-15);
        assert!(
            (s.std - 0.055_901_699_437_494_74).abs() < 1e-12,
            "{}",
            s.std
        );
        assert_eq!(MeanStd::of(&[3.0]).std, 0.0);
        assert!(MeanStd::of(&[]).mean.is_nan());
    }
}
