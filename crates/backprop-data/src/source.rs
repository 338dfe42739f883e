//! From a file name or `builtin:NAME` to a [`Table`]: the format follows from the name.

use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::cells::Decimal;
use crate::error::{Error, Result};
use crate::preprocess::{EncodeOptions, Encoded, Preprocessor};
use crate::table::{Column, Table, TextCells, Values};
use crate::{builtin, csv, idx, jsonl, npy};

/// Which column of a CSV, TSV, JSON Lines or Parquet file is the target.
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
    /// The target column (CSV, TSV, JSON Lines and Parquet; other formats have their target
    /// in a separate file).
    pub target: TargetSelect,
    /// The field separator of a delimited text file (`None`: detected).
    pub delimiter: Option<u8>,
    /// The decimal mark of its numbers (`None`: detected).
    pub decimal: Option<Decimal>,
    /// The most bytes gzip data may inflate to (`None`: [`DEFAULT_MAX_DECOMPRESSED`]); more
    /// is an error naming the file, so a small `.gz` bomb cannot fill the memory.
    pub max_decompressed: Option<u64>,
}

/// The most bytes a gzip file may decompress to unless [`LoadOptions::max_decompressed`] says
/// otherwise: 16 GiB.
pub const DEFAULT_MAX_DECOMPRESSED: u64 = 16 << 30;

impl LoadOptions {
    /// The decompression limit in force.
    pub fn decompression_limit(&self) -> u64 {
        self.max_decompressed.unwrap_or(DEFAULT_MAX_DECOMPRESSED)
    }
}

/// A reader that passes on at most `limit` bytes of decompressed data and fails, rather than
/// ending, when there is more.
pub(crate) struct Limited<R> {
    inner: R,
    left: u64,
    limit: u64,
}

impl<R: Read> Limited<R> {
    /// `inner`, cut off with an error after `limit` bytes.
    pub(crate) fn new(inner: R, limit: u64) -> Self {
        Self {
            inner,
            left: limit,
            limit,
        }
    }
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(std::io::Error::other(format!(
                    "the gzip data decompresses to more than {} bytes (the limit; \
                     --max-decompressed raises it)",
                    self.limit
                ))),
            };
        }
        let room = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..room])?;
        self.left -= n as u64;
        Ok(n)
    }
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
    } else if base.ends_with(".jsonl") || base.ends_with(".ndjson") {
        jsonl::load(path, &options.target)
    } else if lower.ends_with(".parquet") {
        load_parquet(path, spec, options)
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

/// Parquet, read when the crate is built with the `parquet` feature.
#[cfg(feature = "parquet")]
fn load_parquet(path: &Path, _spec: &str, options: &LoadOptions) -> Result<Table> {
    crate::parquet::load(path, &options.target)
}

/// Without the `parquet` feature, an error saying how to get it.
#[cfg(not(feature = "parquet"))]
fn load_parquet(_path: &Path, spec: &str, _options: &LoadOptions) -> Result<Table> {
    Err(Error::MissingFeature {
        path: spec.to_string(),
        format: "Parquet",
        feature: "parquet",
    })
}

/// Opens a data file for reading; the error names it.
pub(crate) fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|cause| Error::Io {
        path: path.display().to_string(),
        cause,
    })
}

/// Opens a data file, decompressing it as it is read when its name ends in `.gz`.
/// Its decompressed bytes stop with an error after `limit`.
pub(crate) fn open_maybe_gz(path: &Path, limit: u64) -> Result<Box<dyn Read>> {
    let file = open(path)?;
    let gz = path.to_string_lossy().to_ascii_lowercase().ends_with(".gz");
    Ok(if gz {
        Box::new(Limited::new(MultiGzDecoder::new(file), limit))
    } else {
        Box::new(file)
    })
}

/// The columns of a text-celled table (CSV, JSON Lines, Parquet), numbered from 1 in order.
pub(crate) fn text_columns(names: Vec<String>, cells: Vec<TextCells>, file: &str) -> Vec<Column> {
    names
        .into_iter()
        .zip(cells)
        .enumerate()
        .map(|(i, (name, cells))| Column {
            name,
            number: i + 1,
            file: file.to_string(),
            values: Values::Text(cells),
        })
        .collect()
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
        let msg = load("data.xlsx", &LoadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with("data.xlsx: unknown data format") && msg.contains(".jsonl"),
            "{msg}"
        );
        for missing in ["missing.jsonl", "missing.ndjson.gz", "missing.parquet"] {
            let msg = load(missing, &LoadOptions::default())
                .unwrap_err()
                .to_string();
            assert!(msg.starts_with(&format!("{missing}: ")), "{msg}");
            if cfg!(feature = "parquet") || !missing.ends_with(".parquet") {
                assert!(!msg.contains("feature"), "{msg}");
            } else {
                assert!(msg.contains("--features parquet"), "{msg}");
            }
        }
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
