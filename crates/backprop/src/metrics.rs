//! Scores of predictions against known targets: accuracy, per-class precision / recall / F1
//! and the confusion matrix for classification; RMSE, MAE and R² for regression.

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
    /// Unweighted mean of the per-class F1 scores.
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
    let macro_f1 = per_class.iter().map(|s| s.f1).sum::<f64>() / k.max(1) as f64;
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
}
