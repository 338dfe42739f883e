//! Small synthetic datasets for demonstrations, tests and benchmarks.
//!
//! Every generator is a pure function of its arguments: the points come from a seeded
//! [`Rng`], and the few transcendental functions come from `libm`, so a seed gives the same
//! bits on every platform. Rows are interleaved by class (row `i` of a classification set
//! belongs to class `i % classes`), so any prefix of the rows is as balanced as it can be.
//!
//! ```
//! use backprop::datasets::{self, SyntheticTargets};
//!
//! let data = datasets::moons(200, 0.1, 7);
//! assert_eq!(data.inputs, 2);
//! assert_eq!(data.rows(), 200);
//! match &data.targets {
//!     SyntheticTargets::Classes { labels, classes } => {
//!         assert_eq!(*classes, 2);
//!         assert_eq!(labels.iter().filter(|&&c| c == 1).count(), 100);
//!     }
//!     SyntheticTargets::Values { .. } => unreachable!(),
//! }
//! ```

use crate::Rng;
use std::f64::consts::PI;

/// A generated dataset: a row-major feature matrix and its targets.
#[derive(Clone, Debug, PartialEq)]
pub struct Synthetic {
    /// Features, row-major, `rows × inputs`.
    pub x: Vec<f64>,
    /// Number of features per row.
    pub inputs: usize,
    /// Class labels or regression values, one entry (or `outputs` entries) per row.
    pub targets: SyntheticTargets,
    /// A name for each feature column (`x0`, `x1`, ...).
    pub feature_names: Vec<String>,
}

/// The targets of a [`Synthetic`] dataset.
#[derive(Clone, Debug, PartialEq)]
pub enum SyntheticTargets {
    /// Classification: one label in `0..classes` per row.
    Classes {
        /// The label of each row.
        labels: Vec<u32>,
        /// The number of classes.
        classes: usize,
    },
    /// Regression: `outputs` values per row, row-major.
    Values {
        /// The target values, `rows × outputs`.
        values: Vec<f64>,
        /// The number of values per row.
        outputs: usize,
    },
}

impl Synthetic {
    /// The number of rows (samples).
    pub fn rows(&self) -> usize {
        self.x.len().checked_div(self.inputs).unwrap_or(0)
    }

    /// The number of network outputs this dataset calls for (classes, or values per row).
    pub fn outputs(&self) -> usize {
        match &self.targets {
            SyntheticTargets::Classes { classes, .. } => *classes,
            SyntheticTargets::Values { outputs, .. } => *outputs,
        }
    }

    fn classification(x: Vec<f64>, inputs: usize, labels: Vec<u32>, classes: usize) -> Self {
        Self {
            x,
            inputs,
            targets: SyntheticTargets::Classes { labels, classes },
            feature_names: names(inputs),
        }
    }
}

fn names(inputs: usize) -> Vec<String> {
    (0..inputs).map(|k| format!("x{k}")).collect()
}

/// A standard normal sample by the Box–Muller transform, `√(−2 ln u₁) · cos(2π u₂)`.
fn gaussian(rng: &mut Rng) -> f64 {
    // 1 − u lies in (0, 1], so the logarithm is finite.
    let u1 = 1.0 - rng.uniform();
    let u2 = rng.uniform();
    (-2.0 * libm::log(u1)).sqrt() * libm::cos(2.0 * PI * u2)
}

/// The XOR problem: `n` points scattered around the corners `(±1, ±1)`, labelled 1 when the
/// two coordinates have opposite signs at the corner, 0 otherwise.
///
/// Row `i` sits at corner `i % 4`, plus Gaussian noise of standard deviation `noise` on each
/// coordinate, so the two classes are balanced (exactly, when `n` is a multiple of 4).
pub fn xor(n: usize, noise: f64, seed: u64) -> Synthetic {
    const CORNERS: [(f64, f64, u32); 4] = [
        (-1.0, -1.0, 0),
        (-1.0, 1.0, 1),
        (1.0, 1.0, 0),
        (1.0, -1.0, 1),
    ];
    let mut rng = Rng::new(seed);
    let mut x = Vec::with_capacity(2 * n);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let (cx, cy, label) = CORNERS[i % 4];
        x.push(cx + noise * gaussian(&mut rng));
        x.push(cy + noise * gaussian(&mut rng));
        labels.push(label);
    }
    Synthetic::classification(x, 2, labels, 2)
}

/// Two interleaving half circles (as scikit-learn's `make_moons`): class 0 on
/// `(cos t, sin t)`, class 1 on `(1 − cos t, ½ − sin t)`, with `t` uniform in `[0, π)`, plus
/// Gaussian noise of standard deviation `noise`. Rows alternate between the classes.
pub fn moons(n: usize, noise: f64, seed: u64) -> Synthetic {
    let mut rng = Rng::new(seed);
    let mut x = Vec::with_capacity(2 * n);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let t = PI * rng.uniform();
        let (c, s) = (libm::cos(t), libm::sin(t));
        let label = (i % 2) as u32;
        let (px, py) = if label == 0 {
            (c, s)
        } else {
            (1.0 - c, 0.5 - s)
        };
        x.push(px + noise * gaussian(&mut rng));
        x.push(py + noise * gaussian(&mut rng));
        labels.push(label);
    }
    Synthetic::classification(x, 2, labels, 2)
}

/// Two concentric circles (as scikit-learn's `make_circles`): class 0 on the unit circle,
/// class 1 on the circle of radius `factor`, at uniform angles, plus Gaussian noise of
/// standard deviation `noise`. Rows alternate between the classes.
pub fn circles(n: usize, noise: f64, factor: f64, seed: u64) -> Synthetic {
    let mut rng = Rng::new(seed);
    let mut x = Vec::with_capacity(2 * n);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let t = 2.0 * PI * rng.uniform();
        let label = (i % 2) as u32;
        let r = if label == 0 { 1.0 } else { factor };
        x.push(r * libm::cos(t) + noise * gaussian(&mut rng));
        x.push(r * libm::sin(t) + noise * gaussian(&mut rng));
        labels.push(label);
    }
    Synthetic::classification(x, 2, labels, 2)
}

/// Interleaved spirals, one arm per class, as in the CS231n notes: the `k`-th point of class
/// `j` has radius `r = k / (n − 1)` and angle `θ = 4j + 4r + noise · ε` (ε standard normal),
/// and sits at `(r sin θ, r cos θ)`.
///
/// There are `n_per_class · classes` rows; row `k · classes + j` is point `k` of class `j`.
pub fn spirals(n_per_class: usize, classes: usize, noise: f64, seed: u64) -> Synthetic {
    let mut rng = Rng::new(seed);
    let rows = n_per_class * classes;
    let mut x = Vec::with_capacity(2 * rows);
    let mut labels = Vec::with_capacity(rows);
    let denominator = n_per_class.saturating_sub(1).max(1) as f64;
    for k in 0..n_per_class {
        let r = k as f64 / denominator;
        for j in 0..classes {
            let theta = 4.0 * j as f64 + 4.0 * r + noise * gaussian(&mut rng);
            x.push(r * libm::sin(theta));
            x.push(r * libm::cos(theta));
            labels.push(j as u32);
        }
    }
    Synthetic::classification(x, 2, labels, classes)
}

/// A smooth nonlinear regression problem with one output.
///
/// Features are uniform in `[−2, 2)`; with `d = features`, the target is
/// `y = (1/√d) · Σₖ [sin(2 xₖ) + ½ xₖ x₍ₖ₊₁₎ mod d] + noise · ε` (ε standard normal).
pub fn regression(n: usize, features: usize, noise: f64, seed: u64) -> Synthetic {
    let mut rng = Rng::new(seed);
    let mut x = Vec::with_capacity(n * features);
    let mut values = Vec::with_capacity(n);
    let scale = 1.0 / (features.max(1) as f64).sqrt();
    for _ in 0..n {
        let start = x.len();
        for _ in 0..features {
            x.push(rng.uniform_in(-2.0, 2.0));
        }
        let row = &x[start..];
        let clean: f64 = (0..features)
            .map(|k| libm::sin(2.0 * row[k]) + 0.5 * row[k] * row[(k + 1) % features])
            .sum();
        values.push(scale * clean + noise * gaussian(&mut rng));
    }
    Synthetic {
        x,
        inputs: features,
        targets: SyntheticTargets::Values { values, outputs: 1 },
        feature_names: names(features),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(data: &Synthetic) -> (&[u32], usize) {
        match &data.targets {
            SyntheticTargets::Classes { labels, classes } => (labels, *classes),
            SyntheticTargets::Values { .. } => panic!("expected classes"),
        }
    }

    fn counts(data: &Synthetic) -> Vec<usize> {
        let (labels, classes) = labels(data);
        let mut counts = vec![0; classes];
        for &l in labels {
            counts[l as usize] += 1;
        }
        counts
    }

    #[test]
    fn shapes_match_the_arguments() {
        for data in [
            xor(10, 0.1, 1),
            moons(11, 0.1, 1),
            circles(12, 0.1, 0.5, 1),
            spirals(5, 3, 0.2, 1),
        ] {
            assert_eq!(data.inputs, 2);
            assert_eq!(data.feature_names, ["x0", "x1"]);
            assert_eq!(data.x.len(), 2 * data.rows());
            assert_eq!(labels(&data).0.len(), data.rows());
            assert!(data.x.iter().all(|v| v.is_finite()));
        }
        assert_eq!(spirals(5, 3, 0.2, 1).rows(), 15);
        assert_eq!(spirals(5, 3, 0.2, 1).outputs(), 3);
        let reg = regression(20, 4, 0.1, 1);
        assert_eq!((reg.rows(), reg.inputs, reg.outputs()), (20, 4, 1));
        assert_eq!(reg.feature_names, ["x0", "x1", "x2", "x3"]);
        match &reg.targets {
            SyntheticTargets::Values { values, outputs } => {
                assert_eq!((values.len(), *outputs), (20, 1));
                assert!(values.iter().all(|v| v.is_finite()));
            }
            SyntheticTargets::Classes { .. } => panic!("expected values"),
        }
    }

    #[test]
    fn same_seed_same_bits_other_seed_other_points() {
        type Generator = fn(u64) -> Synthetic;
        let generators: [Generator; 5] = [
            |s| xor(40, 0.2, s),
            |s| moons(40, 0.2, s),
            |s| circles(40, 0.1, 0.4, s),
            |s| spirals(20, 3, 0.2, s),
            |s| regression(40, 3, 0.1, s),
        ];
        for generate in generators {
            let (a, b, c) = (generate(5), generate(5), generate(6));
            let bits = |d: &Synthetic| d.x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&a), bits(&b));
            assert_eq!(a, b);
            assert_ne!(bits(&a), bits(&c));
        }
    }

    #[test]
    fn classes_are_balanced() {
        assert_eq!(counts(&xor(100, 0.1, 3)), [50, 50]);
        assert_eq!(counts(&moons(100, 0.1, 3)), [50, 50]);
        assert_eq!(counts(&circles(100, 0.1, 0.5, 3)), [50, 50]);
        assert_eq!(counts(&spirals(30, 4, 0.2, 3)), [30, 30, 30, 30]);
        // Interleaving keeps prefixes balanced too.
        assert_eq!(
            labels(&spirals(30, 4, 0.2, 3)).0[..8],
            [0, 1, 2, 3, 0, 1, 2, 3]
        );
    }

    #[test]
    fn noiseless_points_follow_their_shapes() {
        let data = xor(8, 0.0, 1);
        let (labels_, _) = labels(&data);
        for (row, &label) in data.x.chunks(2).zip(labels_) {
            let opposite = (row[0] > 0.0) != (row[1] > 0.0);
            assert_eq!(opposite as u32, label);
        }
        let data = circles(50, 0.0, 0.3, 2);
        let (labels_, _) = labels(&data);
        for (row, &label) in data.x.chunks(2).zip(labels_) {
            let r = row[0].hypot(row[1]);
            let expected = if label == 0 { 1.0 } else { 0.3 };
            assert!((r - expected).abs() < 1e-12, "r = {r}");
        }
        let data = spirals(10, 2, 0.0, 2);
        let radius_of_last = data.x[2 * 19].hypot(data.x[2 * 19 + 1]);
        assert!((radius_of_last - 1.0).abs() < 1e-12);
    }

    #[test]
    fn noise_has_the_requested_spread() {
        // With noise σ the regression residual around the clean function has std ≈ σ.
        let noisy = regression(4000, 2, 0.5, 9);
        let SyntheticTargets::Values { values: a, .. } = &noisy.targets else {
            panic!("expected values");
        };
        let scale = 1.0 / 2f64.sqrt();
        let residuals: Vec<f64> = noisy
            .x
            .chunks(2)
            .zip(a)
            .map(|(r, y)| {
                let f =
                    (2.0 * r[0]).sin() + 0.5 * r[0] * r[1] + (2.0 * r[1]).sin() + 0.5 * r[1] * r[0];
                y - scale * f
            })
            .collect();
        let mean = residuals.iter().sum::<f64>() / residuals.len() as f64;
        let var =
            residuals.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / residuals.len() as f64;
        assert!(mean.abs() < 0.05, "mean {mean}");
        assert!((var.sqrt() - 0.5).abs() < 0.03, "std {}", var.sqrt());
    }
}
