//! From network outputs to answers: the predicted class of each row, and one probability per
//! class also for a binary classifier with a single sigmoid output.

use crate::architecture::Architecture;
use crate::loss::OutputActivation;
use crate::real::Real;

/// Index of the largest value (the first one on ties).
///
/// # Panics
/// If `row` is empty.
pub fn argmax<T: PartialOrd>(row: &[T]) -> usize {
    let mut best = 0;
    for (i, v) in row.iter().enumerate() {
        if *v > row[best] {
            best = i;
        }
    }
    best
}

/// The arg-max column of every row of a row-major matrix with `columns` columns.
///
/// # Panics
/// If `columns` is 0.
pub fn argmax_rows<T: PartialOrd>(values: &[T], columns: usize) -> Vec<usize> {
    values.chunks_exact(columns).map(argmax).collect()
}

/// One probability per class for every row of `predictions` (the network's outputs, as
/// [`crate::Network::predict`] returns them): a single sigmoid output `p` becomes the two
/// columns `1 − p`, `p` (class 1 is the positive one); other outputs are returned as they are.
pub fn class_probabilities<T: Real>(arch: &Architecture, predictions: Vec<T>) -> Vec<T> {
    if arch.output == OutputActivation::Sigmoid && arch.outputs == 1 {
        predictions
            .iter()
            .flat_map(|&p| [T::one() - p, p])
            .collect()
    } else {
        predictions
    }
}

/// The number of classes a classifier with this architecture tells apart: its outputs, or 2
/// for a single sigmoid output.
pub fn class_count(arch: &Architecture) -> usize {
    if arch.output == OutputActivation::Sigmoid && arch.outputs == 1 {
        2
    } else {
        arch.outputs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Activation;

    #[test]
    fn argmax_takes_the_first_of_ties() {
        assert_eq!(argmax(&[0.1, 0.7, 0.7]), 1);
        assert_eq!(argmax_rows(&[0.9f32, 0.1, 0.2, 0.8], 2), [0, 1]);
    }

    #[test]
    fn a_single_sigmoid_gives_two_class_columns() {
        let binary = Architecture::new(2, &[3], Activation::Tanh, 1, OutputActivation::Sigmoid);
        assert_eq!(
            class_probabilities(&binary, vec![0.25f32, 1.0]),
            [0.75, 0.25, 0.0, 1.0]
        );
        assert_eq!(class_count(&binary), 2);
        let softmax = Architecture::new(2, &[3], Activation::Tanh, 3, OutputActivation::Softmax);
        assert_eq!(
            class_probabilities(&softmax, vec![0.2f32, 0.3, 0.5]),
            [0.2, 0.3, 0.5]
        );
        assert_eq!(class_count(&softmax), 3);
    }
}
