//! Datasets built into the binary: `builtin:mnist10k` (real MNIST digits, embedded) and the
//! engine's synthetic problems, each with a held-out `-test` twin drawn with another seed.

use crate::error::{Error, Result};
use crate::table::{Column, Table, Values};
use backprop::datasets::{self, Synthetic, SyntheticTargets};

/// A built-in dataset's name and a one-line description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuiltinInfo {
    /// The name after `builtin:`.
    pub name: &'static str,
    /// What it is, in one line.
    pub description: &'static str,
}

const LIST: &[BuiltinInfo] = &[
    BuiltinInfo {
        name: "mnist10k",
        description: "8000 real MNIST handwritten digits, 28×28 pixels in [0,1], 10 classes",
    },
    BuiltinInfo {
        name: "mnist10k-test",
        description: "the 2000 held-out digits of mnist10k",
    },
    BuiltinInfo {
        name: "xor",
        description: "400 noisy points around the corners of a square, 2 classes (XOR)",
    },
    BuiltinInfo {
        name: "xor-test",
        description: "200 held-out points of xor",
    },
    BuiltinInfo {
        name: "moons",
        description: "500 points on two interleaving half circles, 2 classes",
    },
    BuiltinInfo {
        name: "moons-test",
        description: "200 held-out points of moons",
    },
    BuiltinInfo {
        name: "circles",
        description: "500 points on two concentric circles, 2 classes",
    },
    BuiltinInfo {
        name: "circles-test",
        description: "200 held-out points of circles",
    },
    BuiltinInfo {
        name: "spirals",
        description: "300 points on three interleaved spiral arms, 3 classes",
    },
    BuiltinInfo {
        name: "spirals-test",
        description: "150 held-out points of spirals",
    },
    BuiltinInfo {
        name: "regression",
        description: "1000 rows of a smooth nonlinear function of 4 features plus noise, 1 output",
    },
    BuiltinInfo {
        name: "regression-test",
        description: "500 held-out rows of regression",
    },
];

/// Every built-in dataset, for `backprop datasets`.
pub fn list() -> &'static [BuiltinInfo] {
    LIST
}

const TRAIN_SEED: u64 = 1;
const TEST_SEED: u64 = 2;

const MNIST_TRAIN_IMAGES: &[u8] =
    include_bytes!("../../../data/mnist10k/train-images-idx3-ubyte.gz");
const MNIST_TRAIN_LABELS: &[u8] =
    include_bytes!("../../../data/mnist10k/train-labels-idx1-ubyte.gz");
const MNIST_TEST_IMAGES: &[u8] = include_bytes!("../../../data/mnist10k/t10k-images-idx3-ubyte.gz");
const MNIST_TEST_LABELS: &[u8] = include_bytes!("../../../data/mnist10k/t10k-labels-idx1-ubyte.gz");

/// Loads `builtin:NAME` (give `NAME`).
pub fn load(name: &str) -> Result<Table> {
    let (base, test) = match name.strip_suffix("-test") {
        Some(base) => (base, true),
        None => (name, false),
    };
    let seed = if test { TEST_SEED } else { TRAIN_SEED };
    let source = format!("builtin:{name}");
    let synthetic = match base {
        "mnist10k" => {
            let (images, labels) = if test {
                (MNIST_TEST_IMAGES, MNIST_TEST_LABELS)
            } else {
                (MNIST_TRAIN_IMAGES, MNIST_TRAIN_LABELS)
            };
            let mut table = crate::idx::from_bytes(images, &source, Some((labels, &source)))?;
            table.source = source;
            return Ok(table);
        }
        "xor" => datasets::xor(if test { 200 } else { 400 }, 0.25, seed),
        "moons" => datasets::moons(if test { 200 } else { 500 }, 0.15, seed),
        "circles" => datasets::circles(if test { 200 } else { 500 }, 0.08, 0.5, seed),
        "spirals" => datasets::spirals(if test { 50 } else { 100 }, 3, 0.2, seed),
        "regression" => datasets::regression(if test { 500 } else { 1000 }, 4, 0.1, seed),
        _ => {
            let names: Vec<&str> = LIST.iter().map(|b| b.name).collect();
            return Err(Error::UnknownBuiltin {
                name: name.to_string(),
                known: names.join(", "),
            });
        }
    };
    Ok(from_synthetic(synthetic, source))
}

/// A synthetic dataset as a table: features `x0, x1, …` and a target `label` (class index)
/// or `y` (value).
pub fn from_synthetic(data: Synthetic, source: String) -> Table {
    let rows = data.rows();
    let mut columns: Vec<Column> = data
        .feature_names
        .iter()
        .enumerate()
        .map(|(c, name)| Column {
            name: name.clone(),
            number: c + 1,
            file: source.clone(),
            values: Values::Numbers((0..rows).map(|r| data.x[r * data.inputs + c]).collect()),
        })
        .collect();
    let (name, values) = match data.targets {
        SyntheticTargets::Classes { labels, .. } => {
            ("label", labels.into_iter().map(f64::from).collect())
        }
        SyntheticTargets::Values { values, .. } => ("y", values),
    };
    columns.push(Column {
        name: name.to_string(),
        number: columns.len() + 1,
        file: source.clone(),
        values: Values::Numbers(values),
    });
    let target = Some(columns.len() - 1);
    Table::from_records(source, rows, columns, target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_dataset_loads_with_a_target() {
        for info in list() {
            let table = load(info.name).unwrap();
            assert!(table.rows > 0 && table.target.is_some(), "{}", info.name);
            assert_eq!(table.source, format!("builtin:{}", info.name));
            assert!(!info.description.is_empty());
        }
        let mnist = load("mnist10k-test").unwrap();
        assert_eq!((mnist.rows, mnist.columns.len()), (2000, 785));
        let spirals = load("spirals").unwrap();
        assert_eq!(
            (spirals.rows, spirals.names()),
            (300, vec!["x0", "x1", "label"])
        );
        let regression = load("regression").unwrap();
        assert_eq!(regression.target_column().unwrap().name, "y");
    }

    #[test]
    fn test_splits_are_drawn_with_another_seed() {
        let (train, test) = (load("moons").unwrap(), load("moons-test").unwrap());
        let first = |t: &Table| t.columns[0].values.number(0).expect("numbers expected");
        assert_ne!(first(&train), first(&test));
        assert_eq!(first(&train), first(&load("moons").unwrap()));
    }

    #[test]
    fn unknown_names_list_the_available_ones() {
        let msg = load("mnist").unwrap_err().to_string();
        assert!(
            msg.contains("\"builtin:mnist\"") && msg.contains("mnist10k, mnist10k-test, xor"),
            "{msg}"
        );
    }
}
