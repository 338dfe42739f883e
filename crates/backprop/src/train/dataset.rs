//! Training data as borrowed slices, checked once before training.

use crate::architecture::Architecture;
use crate::error::{Error, Result};
use crate::loss::{Loss, OutputActivation, Targets};
use crate::optim::all_finite;
use crate::real::Real;

/// The targets of a data set: class indices or a `rows × outputs` matrix of values.
/// The same type as the loss's [`Targets`].
pub type TargetData<'a, T> = Targets<'a, T>;

/// A data set: features `x` (row-major `rows × inputs`) and one target per row.
#[derive(Clone, Copy, Debug)]
pub struct Dataset<'a, T> {
    /// Features, row-major `rows × inputs`.
    pub x: &'a [T],
    /// Features per row.
    pub inputs: usize,
    /// Class indices (for [`Loss::CrossEntropy`]) or values `rows × outputs`.
    pub targets: TargetData<'a, T>,
}

impl<'a, T: Real> Dataset<'a, T> {
    /// A data set after checking that `x` is a whole number of rows, every feature is finite
    /// and the targets have one entry (or row) per row of `x`.
    pub fn new(x: &'a [T], inputs: usize, targets: TargetData<'a, T>) -> Result<Self> {
        let data = Self { x, inputs, targets };
        data.check_features()?;
        Ok(data)
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.x.len() / self.inputs.max(1)
    }

    fn check_features(&self) -> Result<()> {
        if self.inputs == 0 {
            return Err(Error::InvalidData(
                "a data set needs at least one input".into(),
            ));
        }
        if !self.x.len().is_multiple_of(self.inputs) {
            return Err(Error::InvalidData(format!(
                "{} feature values are not a whole number of rows of {} inputs",
                self.x.len(),
                self.inputs
            )));
        }
        if self.x.is_empty() {
            return Err(Error::InvalidData("the data set has no rows".into()));
        }
        if let Some(i) = first_non_finite(self.x) {
            return Err(Error::InvalidData(format!(
                "feature {} of row {} is {} (features must be finite)",
                i % self.inputs + 1,
                i / self.inputs + 1,
                self.x[i]
            )));
        }
        if let Targets::Values(values) = self.targets {
            if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                return Err(Error::InvalidData(format!(
                    "target value {} is {} (targets must be finite)",
                    i + 1,
                    values[i]
                )));
            }
        }
        Ok(())
    }

    /// Checks that the data fits a network and loss: as [`Dataset::new`], plus the input
    /// width, the kind and shape of the targets, class indices below the number of outputs,
    /// and binary cross-entropy targets in `[0, 1]`. `what` names the data in messages
    /// ("training data", "validation data").
    pub fn check_for(&self, arch: &Architecture, loss: &Loss, what: &str) -> Result<()> {
        self.check_features().map_err(|e| prefix(e, what))?;
        let rows = self.rows();
        if self.inputs != arch.inputs {
            return Err(Error::ShapeMismatch {
                what: format!("{what} features"),
                expected: vec![rows, arch.inputs],
                got: vec![rows, self.inputs],
            });
        }
        let outputs = arch.outputs;
        match (self.targets, loss.takes_class_targets()) {
            (Targets::Classes(classes), true) => {
                if classes.len() != rows {
                    return Err(Error::ShapeMismatch {
                        what: format!("{what} class targets"),
                        expected: vec![rows],
                        got: vec![classes.len()],
                    });
                }
                if let Some(i) = classes.iter().position(|&c| c as usize >= outputs) {
                    return Err(Error::InvalidData(format!(
                        "{what}: class {} in row {} is out of range for {outputs} outputs \
                         (classes are 0 to {})",
                        classes[i],
                        i + 1,
                        outputs - 1
                    )));
                }
            }
            (Targets::Values(values), false) => {
                if values.len() != rows * outputs {
                    return Err(Error::ShapeMismatch {
                        what: format!("{what} targets"),
                        expected: vec![rows, outputs],
                        got: if values.len() % outputs == 0 {
                            vec![values.len() / outputs, outputs]
                        } else {
                            vec![values.len()]
                        },
                    });
                }
                if loss.output_activation() == OutputActivation::Sigmoid {
                    if let Some(i) = values
                        .iter()
                        .position(|v| !(v.as_f64() >= 0.0 && v.as_f64() <= 1.0))
                    {
                        return Err(Error::InvalidData(format!(
                            "{what}: binary cross-entropy target {} (row {}) is {}, not in [0, 1]",
                            i % outputs + 1,
                            i / outputs + 1,
                            values[i]
                        )));
                    }
                }
            }
            (Targets::Values(_), true) => {
                return Err(Error::InvalidData(format!(
                    "{what}: the {} loss needs class indices as targets, not values",
                    loss.name()
                )))
            }
            (Targets::Classes(_), false) => {
                return Err(Error::InvalidData(format!(
                    "{what}: the {} loss needs target values, not class indices",
                    loss.name()
                )))
            }
        }
        Ok(())
    }
}

/// The index of the first value that is not finite: the blocks are scanned with
/// [`all_finite`] (vectorized), the bad one then value by value.
fn first_non_finite<T: Real>(x: &[T]) -> Option<usize> {
    const BLOCK: usize = 1024;
    let block = x.chunks(BLOCK).position(|block| !all_finite(block))?;
    let start = block * BLOCK;
    x[start..]
        .iter()
        .position(|v| !v.is_finite())
        .map(|i| start + i)
}

fn prefix(error: Error, what: &str) -> Error {
    match error {
        Error::InvalidData(message) => Error::InvalidData(format!("{what}: {message}")),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Activation;

    fn arch(outputs: usize, output: OutputActivation) -> Architecture {
        Architecture::new(2, &[3], Activation::Tanh, outputs, output)
    }

    #[test]
    fn good_data_passes() {
        let x = [0.0f64, 1.0, 2.0, 3.0];
        let data = Dataset::new(&x, 2, Targets::Classes(&[0, 2])).unwrap();
        assert_eq!(data.rows(), 2);
        data.check_for(
            &arch(3, OutputActivation::Softmax),
            &Loss::cross_entropy(),
            "training data",
        )
        .unwrap();
        let y = [0.5f64, 1.0];
        Dataset::new(&x, 2, Targets::Values(&y))
            .unwrap()
            .check_for(
                &arch(1, OutputActivation::Sigmoid),
                &Loss::Bce,
                "training data",
            )
            .unwrap();
    }

    #[test]
    fn the_first_non_finite_feature_is_named_past_the_first_block() {
        // 7 inputs, 400 rows: the bad values lie in the third block of 1024 values.
        let mut x = vec![0.5f32; 7 * 400];
        x[7 * 330 + 4] = f32::INFINITY;
        x[7 * 350] = f32::NAN;
        let classes = vec![0u32; 400];
        let err = Dataset::new(&x, 7, Targets::Classes(&classes)).unwrap_err();
        assert!(
            err.to_string().contains("feature 5 of row 331 is inf"),
            "{err}"
        );
        x[7 * 330 + 4] = 1.0;
        let err = Dataset::new(&x, 7, Targets::Classes(&classes)).unwrap_err();
        assert!(
            err.to_string().contains("feature 1 of row 351 is NaN"),
            "{err}"
        );
        x[7 * 350] = 1.0;
        assert!(Dataset::new(&x, 7, Targets::Classes(&classes)).is_ok());
    }

    #[test]
    fn bad_data_is_rejected_with_a_clear_error() {
        let x = [0.0f64, 1.0, 2.0, 3.0];
        assert!(matches!(
            Dataset::new(&x[..3], 2, Targets::<f64>::Classes(&[0])),
            Err(Error::InvalidData(_))
        ));
        let nan = [0.0f64, f64::NAN];
        let err = Dataset::new(&nan, 2, Targets::<f64>::Classes(&[0])).unwrap_err();
        assert!(err.to_string().contains("feature 2 of row 1"), "{err}");
        let ce = Loss::cross_entropy();
        let softmax = arch(3, OutputActivation::Softmax);
        let data = Dataset {
            x: &x[..],
            inputs: 2,
            targets: Targets::Classes(&[0, 3]),
        };
        let err = data.check_for(&softmax, &ce, "training data").unwrap_err();
        assert!(err.to_string().contains("class 3 in row 2"), "{err}");
        let data = Dataset {
            x: &x[..],
            inputs: 2,
            targets: Targets::Classes(&[0]),
        };
        assert!(matches!(
            data.check_for(&softmax, &ce, "t"),
            Err(Error::ShapeMismatch { .. })
        ));
        let data = Dataset {
            x: &x[..],
            inputs: 1,
            targets: Targets::Classes(&[0, 0, 0, 0]),
        };
        assert!(matches!(
            data.check_for(&softmax, &ce, "t"),
            Err(Error::ShapeMismatch { .. })
        ));
        let values = [0.0f64, 2.0];
        let data = Dataset {
            x: &x[..],
            inputs: 2,
            targets: Targets::Values(&values),
        };
        assert!(matches!(
            data.check_for(&softmax, &ce, "t"),
            Err(Error::InvalidData(_))
        ));
        let sigmoid = arch(1, OutputActivation::Sigmoid);
        assert!(matches!(
            data.check_for(&sigmoid, &Loss::Bce, "t"),
            Err(Error::InvalidData(_))
        ));
        let data = Dataset {
            x: &x[..],
            inputs: 2,
            targets: Targets::Values(&values[..1]),
        };
        assert!(matches!(
            data.check_for(&sigmoid, &Loss::Bce, "t"),
            Err(Error::ShapeMismatch { .. })
        ));
    }
}
