//! Cross-validation folds: seeded k-fold splits of row indices, stratified by class for class
//! targets (as scikit-learn's `StratifiedKFold(shuffle=True)`), plain shuffled k-fold for
//! values (as `KFold(shuffle=True)`), repeated with a new shuffle each time (as
//! `RepeatedStratifiedKFold`).

use crate::error::{Error, Result};
use crate::loss::Targets;
use crate::rng::Rng;

/// Salt of the random stream that shuffles the rows of the first repeat (see
/// [`Rng::derived`]); repeat `r` uses the stream `FOLDS_SALT + r`.
pub(crate) const FOLDS_SALT: u64 = 0xf01d_0000_0000;

/// How to cut rows into cross-validation folds (see [`KFold::split`]).
///
/// ```
/// use backprop::train::KFold;
/// use backprop::Targets;
///
/// let classes = [0u32, 0, 0, 0, 1, 1, 1, 1, 1, 1];
/// let folds = KFold { folds: 2, repeats: 1, seed: 7 }.split::<f32>(10, Targets::Classes(&classes))?;
/// assert_eq!(folds.len(), 2);
/// for fold in &folds {
///     // Every fold holds out 2 rows of class 0 and 3 of class 1.
///     let held_out_zeros = fold.test.iter().filter(|&&row| classes[row] == 0).count();
///     assert_eq!((fold.test.len(), held_out_zeros), (5, 2));
/// }
/// # Ok::<(), backprop::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KFold {
    /// Folds per repeat: each row is held out in exactly one of them (at least 2).
    pub folds: usize,
    /// How many times the rows are shuffled and cut again (at least 1).
    pub repeats: usize,
    /// The seed of the shuffles; each repeat draws its own stream from it.
    pub seed: u64,
}

/// One split of cross-validation: train on `train`, score on `test`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fold {
    /// The 0-based repeat the fold belongs to.
    pub repeat: usize,
    /// The 0-based index of the fold within its repeat.
    pub index: usize,
    /// The rows to train on, ascending.
    pub train: Vec<usize>,
    /// The rows held out, ascending.
    pub test: Vec<usize>,
}

impl KFold {
    /// Checks the settings, before any data is read: at least 2 folds and 1 repeat.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the bad setting.
    pub fn validate(&self) -> Result<()> {
        if self.folds < 2 {
            return Err(Error::InvalidConfig(format!(
                "cross-validation needs at least 2 folds, got {}",
                self.folds
            )));
        }
        if self.repeats == 0 {
            return Err(Error::InvalidConfig(
                "cross-validation needs at least 1 repeat".into(),
            ));
        }
        Ok(())
    }

    /// Cuts the rows `0..rows` into folds: `repeats × folds` of them, ordered by repeat and
    /// then by fold.
    ///
    /// In each repeat the rows are shuffled from the seed and dealt to the folds in turn, so
    /// the test folds differ in size by at most one row. For class targets the shuffled rows
    /// are dealt class by class: each class is spread over the folds as evenly as it can be
    /// (its count in two folds differs by at most one), which keeps the class proportions in
    /// every fold. A class with fewer rows than folds is missing from some test folds, and a
    /// class with a single row from one fold's training rows: callers that need every class in
    /// every training set must check for those. For [`Targets::Values`] the split is a plain
    /// random one and the values are not read (they may be empty).
    ///
    /// The same rows, targets and settings always give the same folds.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for fewer than 2 folds or no repeat; [`Error::InvalidData`]
    /// for more folds than rows, or class targets that are not one per row.
    pub fn split<T>(&self, rows: usize, targets: Targets<'_, T>) -> Result<Vec<Fold>> {
        self.validate()?;
        if self.folds > rows {
            return Err(Error::InvalidData(format!(
                "cannot cut {rows} row(s) into {} folds: every fold needs at least one row to \
                 hold out",
                self.folds
            )));
        }
        let classes = match targets {
            Targets::Classes(classes) if classes.len() != rows => {
                return Err(Error::InvalidData(format!(
                    "{} class labels for {rows} rows",
                    classes.len()
                )))
            }
            Targets::Classes(classes) => Some(classes),
            Targets::Values(_) => None,
        };
        let mut folds = Vec::with_capacity(self.repeats * self.folds);
        for repeat in 0..self.repeats {
            let mut rng = Rng::derived(self.seed, FOLDS_SALT.wrapping_add(repeat as u64));
            let order = match classes {
                Some(classes) => rows_by_class(classes, &mut rng),
                None => {
                    let mut all: Vec<usize> = (0..rows).collect();
                    rng.shuffle(&mut all);
                    all
                }
            };
            let mut fold_of = vec![0usize; rows];
            for (position, &row) in order.iter().enumerate() {
                fold_of[row] = position % self.folds;
            }
            for index in 0..self.folds {
                let (test, train) = (0..rows).partition(|&row| fold_of[row] == index);
                folds.push(Fold {
                    repeat,
                    index,
                    train,
                    test,
                });
            }
        }
        Ok(folds)
    }
}

/// The rows grouped by class (classes in index order), each group shuffled.
fn rows_by_class(classes: &[u32], rng: &mut Rng) -> Vec<usize> {
    let class_count = classes.iter().map(|&c| c as usize + 1).max().unwrap_or(0);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); class_count];
    for (row, &class) in classes.iter().enumerate() {
        members[class as usize].push(row);
    }
    for group in &mut members {
        rng.shuffle(group);
    }
    members.concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(rows: &[usize], classes: &[u32], class: u32) -> usize {
        rows.iter().filter(|&&row| classes[row] == class).count()
    }

    /// 23 rows of class 0, 12 of class 1 and 5 of class 2, sorted as files often are.
    fn sorted_classes() -> Vec<u32> {
        (0..40)
            .map(|i| match i {
                0..23 => 0,
                23..35 => 1,
                _ => 2,
            })
            .collect()
    }

    #[test]
    fn every_row_is_held_out_exactly_once_per_repeat() {
        let classes = sorted_classes();
        for targets in [Targets::Classes(&classes), Targets::Values(&[][..])] {
            let kfold = KFold {
                folds: 4,
                repeats: 3,
                seed: 1,
            };
            let folds = kfold.split::<f32>(40, targets).unwrap();
            assert_eq!(folds.len(), 12);
            for repeat in 0..3 {
                let mut held_out = vec![0; 40];
                for fold in folds.iter().filter(|f| f.repeat == repeat) {
                    fold.test.iter().for_each(|&row| held_out[row] += 1);
                    // Train and test are disjoint and cover every row.
                    let mut all: Vec<usize> =
                        fold.train.iter().chain(&fold.test).copied().collect();
                    all.sort_unstable();
                    assert_eq!(all, (0..40).collect::<Vec<_>>());
                    assert!(fold.train.windows(2).all(|w| w[0] < w[1]), "ascending");
                    assert!(fold.test.windows(2).all(|w| w[0] < w[1]), "ascending");
                    assert_eq!(fold.test.len(), 10);
                }
                assert!(held_out.iter().all(|&n| n == 1), "{held_out:?}");
            }
            let indices: Vec<(usize, usize)> = folds.iter().map(|f| (f.repeat, f.index)).collect();
            assert_eq!(indices[..5], [(0, 0), (0, 1), (0, 2), (0, 3), (1, 0)]);
        }
    }

    #[test]
    fn every_fold_keeps_the_class_proportions() {
        let classes = sorted_classes();
        let folds = KFold {
            folds: 5,
            repeats: 2,
            seed: 3,
        }
        .split::<f32>(40, Targets::Classes(&classes))
        .unwrap();
        for fold in &folds {
            // 23, 12 and 5 rows over 5 folds: 4 or 5, 2 or 3, and exactly 1 per test fold.
            let held_out = [0, 1, 2].map(|c| count(&fold.test, &classes, c));
            assert!((4..=5).contains(&held_out[0]), "{held_out:?}");
            assert!((2..=3).contains(&held_out[1]), "{held_out:?}");
            assert_eq!(held_out[2], 1, "{held_out:?}");
            assert_eq!(fold.test.len(), 8);
        }
        // Not the file's blocks: the rows of a class are shuffled before they are dealt.
        let first_zeros: Vec<usize> = folds[0]
            .test
            .iter()
            .copied()
            .filter(|&r| classes[r] == 0)
            .collect();
        assert_ne!(first_zeros, vec![0, 5, 10, 15, 20]);
    }

    #[test]
    fn the_same_seed_gives_the_same_folds_and_repeats_differ() {
        let classes = sorted_classes();
        let kfold = KFold {
            folds: 3,
            repeats: 2,
            seed: 11,
        };
        let a = kfold.split::<f32>(40, Targets::Classes(&classes)).unwrap();
        assert_eq!(
            a,
            kfold.split::<f32>(40, Targets::Classes(&classes)).unwrap()
        );
        assert_ne!(
            a[0].test, a[3].test,
            "the second repeat has its own shuffle"
        );
        let other = KFold { seed: 12, ..kfold };
        assert_ne!(
            a,
            other.split::<f32>(40, Targets::Classes(&classes)).unwrap()
        );
        let plain = kfold.split::<f32>(40, Targets::Values(&[])).unwrap();
        assert_eq!(plain, kfold.split::<f32>(40, Targets::Values(&[])).unwrap());
        assert_ne!(plain[0].test, (0..14).collect::<Vec<_>>(), "shuffled");
    }

    #[test]
    fn impossible_folds_are_errors() {
        let split = |folds: usize, repeats: usize, rows: usize| {
            KFold {
                folds,
                repeats,
                seed: 0,
            }
            .split::<f32>(rows, Targets::Values(&[]))
        };
        assert!(matches!(split(1, 1, 10), Err(Error::InvalidConfig(_))));
        assert!(matches!(split(2, 0, 10), Err(Error::InvalidConfig(_))));
        let Err(Error::InvalidData(message)) = split(6, 1, 5) else {
            panic!("more folds than rows")
        };
        assert!(message.contains("5 row(s) into 6 folds"), "{message}");
        assert_eq!(split(5, 1, 5).unwrap().len(), 5, "one row per fold is fine");
        let wrong = KFold {
            folds: 2,
            repeats: 1,
            seed: 0,
        }
        .split::<f32>(4, Targets::Classes(&[0, 1, 0]));
        assert!(matches!(wrong, Err(Error::InvalidData(_))));
    }
}
