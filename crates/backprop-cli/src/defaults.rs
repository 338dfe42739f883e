//! The settings of `backprop train` that follow from the training data when their flag is not
//! given: the same rules for a CSV file, an IDX file or a built-in dataset, never the file's
//! format. Each was chosen by measurement over many datasets (`bench/defaults_study.py`, its
//! table in `bench/defaults_study.md`); the README's "Defaults" section says why.
//!
//! The data-independent defaults (`--scale auto`, no validation split, a standardized
//! regression target) are constants of [`crate::train_args`]; this module holds the rules that
//! need the training rows: the L2 penalty and the dropout.

use backprop_data::Task;

/// The L2 penalty of a classifier: scikit-learn's `alpha`. More (1e-3) or none changed no
/// dataset's accuracy by more than noise; 0.1 cost the MNIST digits 0.7 points.
pub const CLASSIFY_L2: f64 = 1e-4;

/// A regressor's L2 penalty is this divided by the training rows. On a standardized target a
/// network of 256 and 128 units fits the noise of a few hundred rows within ten epochs (R²
/// 0.90 on a linear problem whose ceiling is 0.995, 0.12 on diabetes), and a validation
/// split cannot stop it in time; the penalty of a fixed prior on the weights, spread over the
/// rows, regularizes small sets strongly (diabetes, 331 rows: 3.0) and large ones hardly
/// (100,000 rows: 0.01).
pub const REGRESS_L2_ROWS: f64 = 1000.0;

/// The L2 penalty for `rows` training rows of `task`, with the reason in words.
pub fn l2(task: Task, rows: usize) -> (f64, String) {
    match task {
        Task::Classify => (CLASSIFY_L2, format!("l2 {CLASSIFY_L2} (classification)")),
        Task::Regress => {
            let alpha = REGRESS_L2_ROWS / rows.max(1) as f64;
            (
                alpha,
                format!("l2 {alpha:.3e} (regression: {REGRESS_L2_ROWS} / {rows} rows)"),
            )
        }
    }
}

/// Dropout on the hidden layers when the rule turns it on.
pub const DROPOUT: f64 = 0.2;

/// At least this many training rows for dropout (below, it costs accuracy: iris lost 2.6
/// points with 0.1, 4.4 with 0.2).
pub const DROPOUT_MIN_ROWS: usize = 1000;

/// At least this many network inputs for dropout: wide inputs (pixels, many features) give a
/// large first layer that dropout regularizes; on a few inputs it only adds noise.
pub const DROPOUT_MIN_INPUTS: usize = 32;

/// The dropout for a training set of `rows` rows and `inputs` network inputs, with the
/// reason in words (for the header of `train`): [`DROPOUT`] with at least
/// [`DROPOUT_MIN_ROWS`] rows and [`DROPOUT_MIN_INPUTS`] inputs, none otherwise.
pub fn dropout(rows: usize, inputs: usize) -> (f64, String) {
    if rows >= DROPOUT_MIN_ROWS && inputs >= DROPOUT_MIN_INPUTS {
        (
            DROPOUT,
            format!(
                "dropout {DROPOUT}: {rows} rows ≥ {DROPOUT_MIN_ROWS} and {inputs} inputs ≥ \
                 {DROPOUT_MIN_INPUTS}"
            ),
        )
    } else {
        (
            0.0,
            format!(
                "no dropout: it needs {DROPOUT_MIN_ROWS} rows and {DROPOUT_MIN_INPUTS} inputs, \
                 the data has {rows} and {inputs}"
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regression_l2_shrinks_with_the_rows_and_classification_keeps_sklearns() {
        assert_eq!(l2(Task::Classify, 150).0, 1e-4);
        assert_eq!(l2(Task::Classify, 80_000).0, 1e-4);
        assert_eq!(l2(Task::Regress, 500).0, 2.0);
        assert_eq!(l2(Task::Regress, 100_000).0, 0.01);
        assert!(l2(Task::Regress, 500).1.contains("500 rows"));
    }

    #[test]
    fn dropout_needs_both_many_rows_and_wide_inputs() {
        assert_eq!(dropout(8000, 784).0, DROPOUT);
        assert_eq!(dropout(DROPOUT_MIN_ROWS, DROPOUT_MIN_INPUTS).0, DROPOUT);
        assert_eq!(dropout(112, 4).0, 0.0);
        assert_eq!(dropout(999, 784).0, 0.0);
        assert_eq!(dropout(100_000, 31).0, 0.0);
        assert!(dropout(112, 4).1.contains("112 and 4"));
    }
}
