//! Holding out a validation set: random, seeded, and stratified by class.

use crate::error::{Error, Result};
use crate::loss::Targets;
use crate::rng::Rng;

/// Salt of the random stream that chooses the validation rows (see [`Rng::derived`]).
pub(crate) const SPLIT_SALT: u64 = 0x5e11_7000;

/// Splits the rows `0..rows` into training and validation indices, each sorted ascending.
///
/// About `fraction` of the rows go to validation: `round(fraction · rows)`, at least one and
/// leaving at least one for training. The rows are drawn at random from `seed`, never taken
/// from the tail. For class targets the split is *stratified*: each class contributes
/// `fraction` of its rows (the rounding remainders go to the classes with the largest
/// fractional parts, ties to the smaller class index), so both sides keep the class
/// proportions. The same targets, fraction and seed always give the same split.
///
/// `targets` only matters for its classes; for [`Targets::Values`] the split is a plain random
/// one and `targets` may be empty.
///
/// # Errors
/// [`Error::InvalidConfig`] if `fraction` is not strictly between 0 and 1, and
/// [`Error::InvalidData`] if there are fewer than two rows.
pub fn split_validation<T>(
    rows: usize,
    targets: Targets<'_, T>,
    fraction: f64,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>)> {
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(Error::InvalidConfig(format!(
            "validation fraction must be strictly between 0 and 1, got {fraction}"
        )));
    }
    if rows < 2 {
        return Err(Error::InvalidData(format!(
            "cannot hold out a validation set from {rows} row(s)"
        )));
    }
    let total = ((fraction * rows as f64).round() as usize).clamp(1, rows - 1);
    let mut rng = Rng::derived(seed, SPLIT_SALT);
    let mut is_val = vec![false; rows];
    match targets {
        Targets::Classes(classes) if classes.len() == rows => {
            let class_count = classes.iter().map(|&c| c as usize + 1).max().unwrap_or(0);
            let mut members: Vec<Vec<usize>> = vec![Vec::new(); class_count];
            for (i, &c) in classes.iter().enumerate() {
                members[c as usize].push(i);
            }
            // Largest-remainder apportionment of `total` validation rows over the classes.
            let exact: Vec<f64> = members
                .iter()
                .map(|m| m.len() as f64 * total as f64 / rows as f64)
                .collect();
            let mut take: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
            let mut order: Vec<usize> = (0..class_count).collect();
            order.sort_by(|&a, &b| {
                let (ra, rb) = (exact[a] - take[a] as f64, exact[b] - take[b] as f64);
                rb.total_cmp(&ra).then(a.cmp(&b))
            });
            let mut left = total - take.iter().sum::<usize>();
            for &c in order.iter().cycle().take(class_count * 2) {
                if left == 0 {
                    break;
                }
                if take[c] < members[c].len() {
                    take[c] += 1;
                    left -= 1;
                }
            }
            for (class_rows, &n) in members.iter_mut().zip(&take) {
                rng.shuffle(class_rows);
                for &i in &class_rows[..n] {
                    is_val[i] = true;
                }
            }
        }
        _ => {
            let mut all: Vec<usize> = (0..rows).collect();
            rng.shuffle(&mut all);
            for &i in &all[..total] {
                is_val[i] = true;
            }
        }
    }
    let (val, train): (Vec<usize>, Vec<usize>) = (0..rows).partition(|&i| is_val[i]);
    Ok((train, val))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_split_is_disjoint_complete_and_deterministic() {
        let (train, val) = split_validation::<f64>(100, Targets::Values(&[]), 0.2, 7).unwrap();
        assert_eq!((train.len(), val.len()), (80, 20));
        let mut all: Vec<usize> = train.iter().chain(&val).copied().collect();
        all.sort();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        assert_eq!(
            split_validation::<f64>(100, Targets::Values(&[]), 0.2, 7).unwrap(),
            (train.clone(), val.clone())
        );
        let (_, other) = split_validation::<f64>(100, Targets::Values(&[]), 0.2, 8).unwrap();
        assert_ne!(other, val);
        // Not the tail of the data.
        assert_ne!(val, (80..100).collect::<Vec<_>>());
    }

    #[test]
    fn class_split_keeps_proportions() {
        // 60 of class 0, 30 of class 1, 10 of class 2, in blocks (sorted data).
        let classes: Vec<u32> = (0..100)
            .map(|i| {
                if i < 60 {
                    0
                } else if i < 90 {
                    1
                } else {
                    2
                }
            })
            .collect();
        let (train, val) =
            split_validation::<f64>(100, Targets::Classes(&classes), 0.3, 1).unwrap();
        let count = |idx: &[usize], c: u32| idx.iter().filter(|&&i| classes[i] == c).count();
        assert_eq!([count(&val, 0), count(&val, 1), count(&val, 2)], [18, 9, 3]);
        assert_eq!(
            [count(&train, 0), count(&train, 1), count(&train, 2)],
            [42, 21, 7]
        );
    }

    #[test]
    fn rounding_remainders_still_sum_to_the_total() {
        let classes: Vec<u32> = (0..10).map(|i| i % 3).collect();
        let (train, val) = split_validation::<f64>(10, Targets::Classes(&classes), 0.5, 3).unwrap();
        assert_eq!((train.len(), val.len()), (5, 5));
    }

    #[test]
    fn bad_fractions_and_tiny_data_are_errors() {
        assert!(split_validation::<f64>(10, Targets::Values(&[]), 0.0, 0).is_err());
        assert!(split_validation::<f64>(10, Targets::Values(&[]), 1.0, 0).is_err());
        assert!(split_validation::<f64>(1, Targets::Values(&[]), 0.5, 0).is_err());
        let (train, val) = split_validation::<f64>(3, Targets::Values(&[]), 0.01, 0).unwrap();
        assert_eq!((train.len(), val.len()), (2, 1));
    }
}
