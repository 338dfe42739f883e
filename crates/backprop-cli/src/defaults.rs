//! The settings of `backprop train` that follow from the training data when their flag is not
//! given: the same rules for a CSV file, an IDX file or a built-in dataset, never the file's
//! format. Each was chosen by measurement over many datasets (`bench/defaults_study.py`, its
//! table in `bench/defaults_study.md`); the README's "Defaults" section says why.
//!
//! The data-independent defaults (`--scale auto`, no validation split, a standardized
//! regression target) are constants of [`crate::train_args`]; this module holds the rules that
//! need the training rows and the task: the L2 penalty and the dropout. (The number of inputs
//! was measured too, and left out: dropout helped 8 features as much as 40.)

use backprop_data::Task;

/// A classifier's L2 penalty is this divided by the training rows: 0.0125 on the 8,000 MNIST
/// digits (95.95% over three seeds, against 95.57% with scikit-learn's 1e-4), 0.044 on 2,250
/// rows of 8 features (90.4% against 89.4%); ten times more or less was worse on most sets.
pub const CLASSIFY_L2_ROWS: f64 = 100.0;

/// A regressor's L2 penalty is this divided by the training rows. On a standardized target a
/// network of 256 and 128 units fits the noise of a few hundred rows within ten epochs (R²
/// 0.90 on a linear problem whose ceiling is 0.995, 0.12 on diabetes), and a validation
/// split cannot stop it in time; with this penalty, 0.996 and 0.38 (scikit-learn: 0.997 and
/// 0.38).
pub const REGRESS_L2_ROWS: f64 = 1000.0;

/// The L2 penalty for `rows` training rows of `task`, with the reason in words: a fixed
/// penalty spread over the rows, as the prior of a Bayesian network is, so that small sets
/// are regularized strongly and large ones hardly (100,000 rows: 0.001 and 0.01).
pub fn l2(task: Task, rows: usize) -> (f64, String) {
    let (numerator, what) = match task {
        Task::Classify => (CLASSIFY_L2_ROWS, "classification"),
        Task::Regress => (REGRESS_L2_ROWS, "regression"),
    };
    let alpha = numerator / rows.max(1) as f64;
    (
        alpha,
        format!("l2 {alpha:.3e} ({what}: {numerator} / {rows} rows)"),
    )
}

/// Dropout on the hidden layers of a classifier with enough rows.
pub const DROPOUT: f64 = 0.2;

/// At least this many training rows for dropout: it added 5 points on a generated problem of
/// 1,500 rows and 40 features, 0.4 on one of 2,250 rows and 8 features, 0.2 on digits (1,347
/// rows), and cost up to half a point on the small sets (moons, circles, breast cancer).
pub const DROPOUT_MIN_ROWS: usize = 1000;

/// The dropout for a training set of `rows` rows of `task`, with the reason in words:
/// [`DROPOUT`] for a classifier with at least [`DROPOUT_MIN_ROWS`] rows, none otherwise. A
/// regressor gets none: it cost R² on six of the seven regression sets measured (up to 0.009;
/// the L2 penalty regularizes them already).
pub fn dropout(task: Task, rows: usize) -> (f64, String) {
    match task {
        Task::Classify if rows >= DROPOUT_MIN_ROWS => (
            DROPOUT,
            format!("dropout {DROPOUT} (classification with {rows} rows ≥ {DROPOUT_MIN_ROWS})"),
        ),
        Task::Classify => (
            0.0,
            format!("no dropout ({rows} rows < {DROPOUT_MIN_ROWS})"),
        ),
        Task::Regress => (0.0, "no dropout (regression)".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l2_shrinks_with_the_rows_ten_times_stronger_for_regression() {
        assert_eq!(l2(Task::Classify, 8000).0, 0.0125);
        assert_eq!(l2(Task::Classify, 100_000).0, 0.001);
        assert_eq!(l2(Task::Regress, 500).0, 2.0);
        assert_eq!(l2(Task::Regress, 100_000).0, 0.01);
        assert!(l2(Task::Regress, 500).1.contains("500 rows"));
        assert!(l2(Task::Classify, 0).0.is_finite());
    }

    #[test]
    fn dropout_for_classifiers_with_many_rows() {
        assert_eq!(dropout(Task::Classify, 8000).0, DROPOUT);
        assert_eq!(dropout(Task::Classify, DROPOUT_MIN_ROWS).0, DROPOUT);
        assert_eq!(dropout(Task::Classify, 999).0, 0.0);
        assert_eq!(dropout(Task::Regress, 100_000).0, 0.0);
        assert!(dropout(Task::Classify, 112).1.contains("112 rows"));
    }
}
