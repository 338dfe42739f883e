//! Gathering rows of a data set into buffers allocated once.

use crate::loss::Targets;
use crate::real::Real;
use crate::train::dataset::Dataset;

/// Buffers for up to `capacity` rows of features and targets, filled by [`Batch::gather`]
/// without allocating.
pub(crate) struct Batch<T> {
    inputs: usize,
    outputs: usize,
    rows: usize,
    x: Vec<T>,
    classes: Option<Vec<u32>>,
    values: Vec<T>,
}

impl<T: Real> Batch<T> {
    /// Buffers shaped for `data`'s kind of targets, `outputs` values per row.
    pub(crate) fn new(data: &Dataset<'_, T>, outputs: usize, capacity: usize) -> Self {
        let classes = matches!(data.targets, Targets::Classes(_));
        Self {
            inputs: data.inputs,
            outputs,
            rows: 0,
            x: vec![T::zero(); capacity * data.inputs],
            classes: classes.then(|| vec![0; capacity]),
            values: if classes {
                Vec::new()
            } else {
                vec![T::zero(); capacity * outputs]
            },
        }
    }

    /// Copies the rows `indices` of `data`, in that order.
    ///
    /// # Panics
    /// If there are more indices than the capacity or an index is out of range.
    pub(crate) fn gather(&mut self, data: &Dataset<'_, T>, indices: &[usize]) {
        assert!(
            indices.len() * self.inputs <= self.x.len(),
            "batch over capacity"
        );
        let (inputs, outputs) = (self.inputs, self.outputs);
        for (dst, &i) in self.x.chunks_exact_mut(inputs).zip(indices) {
            dst.copy_from_slice(&data.x[i * inputs..(i + 1) * inputs]);
        }
        match (data.targets, &mut self.classes) {
            (Targets::Classes(src), Some(dst)) => {
                for (d, &i) in dst.iter_mut().zip(indices) {
                    *d = src[i];
                }
            }
            (Targets::Values(src), None) => {
                for (dst, &i) in self.values.chunks_exact_mut(outputs).zip(indices) {
                    dst.copy_from_slice(&src[i * outputs..(i + 1) * outputs]);
                }
            }
            _ => unreachable!("batch buffers were made for the other kind of targets"),
        }
        self.rows = indices.len();
    }

    /// The rows `indices` of `data`, in that order: a view of `data` itself when they are
    /// consecutive (no copy), else gathered into the buffers as by [`Batch::gather`].
    ///
    /// # Panics
    /// As [`Batch::gather`].
    pub(crate) fn rows_of<'a>(
        &'a mut self,
        data: &Dataset<'a, T>,
        indices: &[usize],
    ) -> Dataset<'a, T> {
        let consecutive = indices.windows(2).all(|w| w[1] == w[0].wrapping_add(1));
        match indices.first() {
            Some(&first) if consecutive => {
                let rows = first..first + indices.len();
                let (inputs, outputs) = (self.inputs, self.outputs);
                Dataset {
                    x: &data.x[rows.start * inputs..rows.end * inputs],
                    inputs,
                    targets: match data.targets {
                        Targets::Classes(c) => Targets::Classes(&c[rows]),
                        Targets::Values(v) => {
                            Targets::Values(&v[rows.start * outputs..rows.end * outputs])
                        }
                    },
                }
            }
            _ => {
                self.gather(data, indices);
                self.view()
            }
        }
    }

    /// The gathered rows as a data set (a view of the buffers).
    pub(crate) fn view(&self) -> Dataset<'_, T> {
        let rows = self.rows;
        Dataset {
            x: &self.x[..rows * self.inputs],
            inputs: self.inputs,
            targets: match &self.classes {
                Some(classes) => Targets::Classes(&classes[..rows]),
                None => Targets::Values(&self.values[..rows * self.outputs]),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three rows of two features.
    const X: [f64; 6] = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5];

    fn two_columns<'a>(x: &'a [f64], targets: Targets<'a, f64>) -> Dataset<'a, f64> {
        Dataset {
            x,
            inputs: 2,
            targets,
        }
    }

    #[test]
    fn gathers_rows_in_the_given_order() {
        let (x, y) = (X, [10.0, 11.0, 12.0]);
        let data = two_columns(&x, Targets::Values(&y));
        let mut batch = Batch::new(&data, 1, 2);
        batch.gather(&data, &[2, 0]);
        let view = batch.view();
        assert_eq!(view.x, &[2.0, 2.5, 0.0, 0.5]);
        assert!(matches!(view.targets, Targets::Values(v) if v == [12.0, 10.0]));
        batch.gather(&data, &[1]);
        assert_eq!(batch.view().x, &[1.0, 1.5]);
        let classes = [3u32, 4, 5];
        let data = two_columns(&x, Targets::Classes(&classes));
        let mut batch = Batch::new(&data, 6, 3);
        batch.gather(&data, &[1, 1, 2]);
        assert!(matches!(batch.view().targets, Targets::Classes(c) if c == [4, 4, 5]));
    }

    #[test]
    fn consecutive_rows_are_a_view_and_others_are_gathered() {
        let (x, y) = (X, [10.0, 11.0, 12.0]);
        let data = two_columns(&x, Targets::Values(&y));
        let mut batch = Batch::new(&data, 1, 2);
        let view = batch.rows_of(&data, &[1, 2]);
        assert!(
            std::ptr::eq(view.x.as_ptr(), &x[2]),
            "consecutive rows are not copied"
        );
        assert_eq!(view.x, &[1.0, 1.5, 2.0, 2.5]);
        assert!(matches!(view.targets, Targets::Values(v) if v == [11.0, 12.0]));
        let view = batch.rows_of(&data, &[2, 1]);
        assert!(!std::ptr::eq(view.x.as_ptr(), &x[4]));
        assert_eq!(view.x, &[2.0, 2.5, 1.0, 1.5]);
        assert!(matches!(view.targets, Targets::Values(v) if v == [12.0, 11.0]));
        let classes = [3u32, 4, 5];
        let data = two_columns(&x, Targets::Classes(&classes));
        let mut batch = Batch::new(&data, 6, 3);
        let view = batch.rows_of(&data, &[0, 1, 2]);
        assert!(matches!(view.targets, Targets::Classes(c) if c == [3, 4, 5]));
    }
}
