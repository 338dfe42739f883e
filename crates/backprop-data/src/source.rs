//! From a file name or `builtin:NAME` to a [`Table`]: the format follows from the name.

use std::path::Path;

use crate::cells::Decimal;
use crate::error::{Error, Result};
use crate::preprocess::{EncodeOptions, Encoded, Preprocessor};
use crate::table::Table;
use crate::{builtin, csv, idx, npy};

/// Which column of a CSV/TSV file is the target.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TargetSelect {
    /// The last column (the default for training).
    #[default]
    Last,
    /// A column by name, or else by 0-based index (the `--target` option).
    Column(String),
    /// The column with this name if the file has it (evaluation and prediction files).
    IfPresent(String),
    /// No target.
    None,
}

/// How to read a data source.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// The target column (CSV and TSV; other formats have their target in a separate file).
    pub target: TargetSelect,
    /// The field separator of a delimited text file (`None`: detected).
    pub delimiter: Option<u8>,
    /// The decimal mark of its numbers (`None`: detected).
    pub decimal: Option<Decimal>,
}

impl LoadOptions {
    /// Options for a training file: `--target` by name or index, else the last column.
    pub fn training(target: Option<&str>) -> Self {
        Self {
            target: target.map_or(TargetSelect::Last, |t| TargetSelect::Column(t.to_string())),
            ..Self::default()
        }
    }

    /// Options for a file read with a trained model's schema (the target is optional).
    pub fn for_model(preprocessor: &Preprocessor) -> Self {
        Self {
            target: TargetSelect::IfPresent(preprocessor.target.name().to_string()),
            ..Self::default()
        }
    }
}

/// Loads a dataset: `builtin:NAME`, or a file whose format is told by its name.
pub fn load(spec: &str, options: &LoadOptions) -> Result<Table> {
    if let Some(name) = spec.strip_prefix("builtin:") {
        let table = builtin::load(name)?;
        return fixed_target(table, options);
    }
    let path = Path::new(spec);
    let lower = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let base = lower.strip_suffix(".gz").unwrap_or(&lower);
    if base.ends_with(".csv") || base.ends_with(".tsv") {
        csv::load(path, options)
    } else if base.contains("images-idx3") {
        fixed_target(idx::load(path)?, options)
    } else if base.ends_with(".npy") {
        fixed_target(npy::load(path)?, options)
    } else {
        Err(Error::UnknownFormat {
            path: spec.to_string(),
        })
    }
}

/// Reads `spec` with a trained model's schema and encodes it: the features as the model's
/// inputs, and the targets when the file has the target column. `options` gives the delimiter
/// and decimal mark if they should not be detected (its target is the model's).
pub fn load_encoded(
    spec: &str,
    preprocessor: &Preprocessor,
    options: &LoadOptions,
    encode: &EncodeOptions,
) -> Result<Encoded> {
    let options = LoadOptions {
        target: TargetSelect::IfPresent(preprocessor.target.name().to_string()),
        ..options.clone()
    };
    let table = load(spec, &options)?;
    preprocessor.encode_with(&table, encode)
}

/// Formats whose target lives in its own file accept only a target choice that names it.
fn fixed_target(table: Table, options: &LoadOptions) -> Result<Table> {
    match &options.target {
        TargetSelect::Column(name) if table.target_column().is_none_or(|c| &c.name != name) => {
            Err(Error::TargetNotSelectable {
                file: table.source.clone(),
            })
        }
        _ => Ok(table),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EncodedTargets, FitOptions, Scaler, Task};

    #[test]
    fn dispatches_on_prefix_and_extension() {
        let xor = load("builtin:xor", &LoadOptions::default()).unwrap();
        let pre = Preprocessor::fit(&xor, &FitOptions::scaled(Scaler::Standard))
            .unwrap()
            .0;
        assert_eq!((pre.inputs(), pre.outputs()), (2, 2));
        assert_eq!(pre.target.classes().unwrap(), ["0", "1"]);
        let regression = load("builtin:regression", &LoadOptions::default()).unwrap();
        let pre = Preprocessor::fit(&regression, &FitOptions::scaled(Scaler::Standard))
            .unwrap()
            .0;
        assert_eq!((pre.inputs(), pre.target.task()), (4, Task::Regress));
        let msg = load("data.parquet", &LoadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with("data.parquet: unknown data format"),
            "{msg}"
        );
        let msg = load("missing.csv", &LoadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(msg.starts_with("missing.csv: "), "{msg}");
    }

    #[test]
    fn formats_with_a_labels_file_refuse_another_target() {
        let named = LoadOptions::training(Some("label"));
        assert!(load("builtin:xor", &named).is_ok());
        let msg = load("builtin:xor", &LoadOptions::training(Some("x0")))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("builtin:xor: the target of this format is its labels file"),
            "{msg}"
        );
    }

    #[test]
    fn mnist_end_to_end_through_the_preprocessor() {
        let train = load("builtin:mnist10k", &LoadOptions::default()).unwrap();
        let pre = Preprocessor::fit(&train, &FitOptions::scaled(Scaler::None))
            .unwrap()
            .0;
        assert_eq!((pre.inputs(), pre.outputs()), (784, 10));
        let test = load("builtin:mnist10k-test", &LoadOptions::for_model(&pre)).unwrap();
        let encoded = pre.encode(&test).unwrap();
        assert_eq!((encoded.rows, encoded.x.len()), (2000, 2000 * 784));
        let Some(EncodedTargets::Classes(labels)) = encoded.targets else {
            panic!("classes expected")
        };
        assert_eq!(labels[..10], [3, 8, 8, 0, 9, 0, 9, 0, 4, 5]);
        assert!(encoded.x.iter().all(|p| (0.0..=1.0).contains(p)));
    }
}
