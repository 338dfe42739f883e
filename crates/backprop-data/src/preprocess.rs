//! The fitted preprocessing that turns a [`Table`] into the engine's matrices: which columns
//! are features, how each is encoded (see [`crate::encoding`]), which rows have a target, and
//! what the target is. Fitted once on the training data and saved, as JSON, in the model file,
//! so that evaluation and prediction read new files exactly as the training file was read.
//!
//! What it decides for the user, each said in a [`Note`] and each with a flag that turns it
//! off: missing cells are filled ([`Missing`]), identifier-like columns are left out, text
//! columns with many values keep the most frequent, rows without a target are skipped, and at
//! prediction values training never saw are encoded as unknown ([`EncodeOptions::strict`]
//! refuses them instead).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::cells::default_na_values;
use crate::encoding::{fit_column, scaled, Encoding, Fitted, Outcome};
use crate::error::{join_limited, Error, Result};
use crate::notes::Note;
use crate::table::{Column, Table};
use crate::target::{EncodedTargets, TargetScaler, TargetSchema, Task};

/// How numeric features (and the five inputs of a date) are scaled. Each input's offset and
/// scale are learned from the training values and stored in its [`Encoding`],
/// so a model applies the same arithmetic to new data whatever the scaler was.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scaler {
    /// Decided per input from its training values: min-max when at least
    /// [`AUTO_MINMAX_SHARE`](crate::encoding::AUTO_MINMAX_SHARE) of them sit at the minimum or
    /// the maximum (pixels, counts, indicators, nearly constant columns), standard otherwise.
    /// Standardizing a column that is nearly constant divides by a tiny deviation, and a
    /// value outside the training range then becomes huge; its range is a safer unit.
    #[default]
    Auto,
    /// `(x − mean) / std` with the population standard deviation (1 where it is 0).
    Standard,
    /// `(x − min) / (max − min)` (1 where the range is 0), mapping training data to [0, 1].
    Minmax,
    /// No scaling.
    None,
}

impl FromStr for Scaler {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Scaler::Auto),
            "standard" => Ok(Scaler::Standard),
            "minmax" => Ok(Scaler::Minmax),
            "none" => Ok(Scaler::None),
            _ => Err(format!(
                "unknown scaler \"{s}\"; expected auto, standard, minmax or none"
            )),
        }
    }
}

impl fmt::Display for Scaler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scaler::Auto => "auto",
            Scaler::Standard => "standard",
            Scaler::Minmax => "minmax",
            Scaler::None => "none",
        })
    }
}

/// What to do with missing feature cells in training.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Missing {
    /// Fill them (see [`crate::encoding`]) and say so.
    #[default]
    Impute,
    /// Refuse them with an error naming the first one.
    Error,
}

/// At most this many categories per text column unless `--max-categories` says otherwise.
pub const DEFAULT_MAX_CATEGORIES: usize = 50;

/// How to learn the preprocessing from a training table.
#[derive(Clone, Debug, PartialEq)]
pub struct FitOptions {
    /// The scaler of numeric and date inputs.
    pub scaler: Scaler,
    /// Classification or regression (`None`: decided from the target column).
    pub task: Option<Task>,
    /// How a regression target is scaled for the network (default standardized).
    pub target_scaler: TargetScaler,
    /// The cell texts that mean "missing" ([`crate::cells::DEFAULT_NA_VALUES`]).
    pub na_values: Vec<String>,
    /// What to do with missing feature cells.
    pub missing: Missing,
    /// Columns that are not features.
    pub drop: Vec<String>,
    /// The only feature columns, if given.
    pub features: Option<Vec<String>>,
    /// Columns that are features even when they look like identifiers.
    pub keep: Vec<String>,
    /// The identifier column: never a feature, passed through to the predictions.
    pub id: Option<String>,
    /// The most categories a text column keeps; the rest are `other`.
    pub max_categories: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        Self {
            scaler: Scaler::Auto,
            task: None,
            target_scaler: TargetScaler::Standard,
            na_values: default_na_values(),
            missing: Missing::Impute,
            drop: Vec::new(),
            features: None,
            keep: Vec::new(),
            id: None,
            max_categories: DEFAULT_MAX_CATEGORIES,
        }
    }
}

impl FitOptions {
    /// The defaults with this scaler.
    pub fn scaled(scaler: Scaler) -> Self {
        Self {
            scaler,
            ..Self::default()
        }
    }
}

/// How to encode a table with a trained preprocessing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EncodeOptions {
    /// Refuse values training never saw (today's located error) rather than encoding them as
    /// unknown.
    pub strict: bool,
    /// Leave the target column alone even when the table has it: every row is encoded, and
    /// [`Encoded::targets`] is `None` (for prediction).
    pub ignore_target: bool,
}

/// One feature column of the training data and its encoding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Feature {
    /// The column's name.
    pub name: String,
    /// How the column becomes network inputs.
    #[serde(flatten)]
    pub encoding: Encoding,
}

/// A column of the training data that is not a feature, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LeftOut {
    /// The column's name.
    pub name: String,
    /// Why, with the flag that changes it.
    pub why: String,
}

/// The version of the JSON layout of [`Preprocessor`] this build writes.
pub const PREPROCESSOR_VERSION: u32 = 3;

/// Everything needed to read data the way the training data was read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Preprocessor {
    /// Layout version ([`PREPROCESSOR_VERSION`]; files of versions 1 and 2 read as version 3:
    /// version 2 added filled missing values, version 3 the `auto` scaler and standardized
    /// regression targets).
    pub version: u32,
    /// The scaler used for numeric features.
    pub scaler: Scaler,
    /// The feature columns in training-file order; their inputs follow in this order.
    pub features: Vec<Feature>,
    /// The number of network inputs (the sum of the features' widths).
    pub inputs: usize,
    /// The target.
    pub target: TargetSchema,
    /// The cell texts read as missing (version 1 files: only the empty cell).
    #[serde(default = "legacy_na_values")]
    pub na_values: Vec<String>,
    /// The identifier column passed through to predictions, if any.
    #[serde(default)]
    pub id: Option<String>,
    /// Training columns that are not features.
    #[serde(default)]
    pub left_out: Vec<LeftOut>,
}

/// Models written before missing values were filled refused empty cells and read everything
/// else as a value.
fn legacy_na_values() -> Vec<String> {
    vec![String::new()]
}

/// A table turned into the engine's matrices.
#[derive(Clone, Debug, PartialEq)]
pub struct Encoded {
    /// Inputs, row-major, `rows × inputs`.
    pub x: Vec<f32>,
    /// Number of rows (without those whose target is missing, when targets are encoded).
    pub rows: usize,
    /// Inputs per row.
    pub inputs: usize,
    /// Targets, when the table has the target column.
    pub targets: Option<EncodedTargets>,
    /// The identifier column's cells, one per row, when the model has one and the table too.
    pub ids: Option<Vec<String>>,
    /// What was decided on the way (skipped rows, unseen values, ignored columns).
    pub notes: Vec<Note>,
}

impl Preprocessor {
    /// Learns the schema, the scaling and the target from training data, with the notes that
    /// say what it decided.
    pub fn fit(table: &Table, options: &FitOptions) -> Result<(Self, Vec<Note>)> {
        check_named_columns(table, options)?;
        let (target, rows, mut notes) = TargetSchema::fit(
            table,
            options.task,
            options.target_scaler,
            &options.na_values,
        )?;
        let mut features = Vec::new();
        let mut left_out = Vec::new();
        let mut minmax = 0;
        for (i, column) in table.columns.iter().enumerate() {
            if Some(i) == table.target {
                continue;
            }
            let name = &column.name;
            let chosen = options.features.as_ref().is_some_and(|f| f.contains(name));
            let why = if options.id.as_ref() == Some(name) {
                Some("it is the identifier (--id); predictions carry it".to_string())
            } else if options.drop.contains(name) {
                Some("--drop".to_string())
            } else if options.features.is_some() && !chosen {
                Some("not among --features".to_string())
            } else {
                None
            };
            let why = match why {
                Some(why) => Some(why),
                None => {
                    let may_leave_out = !chosen && !options.keep.contains(name);
                    match fit_column(table, column, &rows, options, may_leave_out)? {
                        Fitted::Feature(encoding, column_notes, column_minmax) => {
                            notes.extend(column_notes);
                            minmax += column_minmax;
                            features.push(Feature {
                                name: name.clone(),
                                encoding,
                            });
                            None
                        }
                        Fitted::LeftOut(why) => {
                            notes.push(Note::LeftOut {
                                column: name.clone(),
                                why: why.clone(),
                            });
                            Some(why)
                        }
                    }
                }
            };
            if let Some(why) = why {
                left_out.push(LeftOut {
                    name: name.clone(),
                    why,
                });
            }
        }
        if features.is_empty() {
            return Err(Error::NoFeatures {
                file: table.source.clone(),
                target: target.name().to_string(),
            });
        }
        let inputs = features.iter().map(|f| f.encoding.width()).sum();
        if minmax > 0 {
            let scaled: usize = features.iter().map(|f| f.encoding.scaled_inputs()).sum();
            notes.push(Note::AutoScaled {
                minmax,
                standard: scaled - minmax,
            });
        }
        let preprocessor = Self {
            version: PREPROCESSOR_VERSION,
            scaler: options.scaler,
            features,
            inputs,
            target,
            na_values: options.na_values.clone(),
            id: options.id.clone(),
            left_out,
        };
        Ok((preprocessor, notes))
    }

    /// The preprocessing of data that arrives as a numeric matrix (a NumPy array or a pandas
    /// frame of numbers) with one column per name: every feature numeric and left as it is.
    pub fn numeric(names: Vec<String>, target: TargetSchema) -> Self {
        let features: Vec<Feature> = names
            .into_iter()
            .map(|name| Feature {
                name,
                encoding: Encoding::Numeric {
                    offset: 0.0,
                    scale: 1.0,
                    fill: None,
                    indicator: false,
                },
            })
            .collect();
        Self {
            version: PREPROCESSOR_VERSION,
            scaler: Scaler::None,
            inputs: features.len(),
            features,
            target,
            na_values: default_na_values(),
            id: None,
            left_out: Vec::new(),
        }
    }

    /// Encodes a row-major numeric matrix with one column per feature (`rows × features`, as
    /// [`Preprocessor::numeric`] describes the data, or a model trained on a table whose
    /// features are all numeric): each value scaled as the feature says, a NaN filled as a
    /// missing cell.
    ///
    /// # Errors
    /// [`Error::InvalidModel`] when a feature is not numeric (categories, booleans and dates
    /// need the table), [`Error::Engine`] with a shape mismatch when `x` is not
    /// `rows × features`, [`Error::InvalidData`](backprop::Error::InvalidData) for a NaN in a
    /// column without a fill value.
    ///
    /// The values may be `f64` or `f32` (widened one at a time: no `f64` copy of the matrix).
    pub fn transform_numeric<V: Copy + Into<f64>>(&self, x: &[V], rows: usize) -> Result<Vec<f32>> {
        let width = self.features.len();
        if x.len() != rows * width {
            return Err(backprop::Error::ShapeMismatch {
                what: "features".into(),
                expected: vec![rows, width],
                got: vec![rows, x.len().checked_div(rows).unwrap_or(x.len())],
            }
            .into());
        }
        self.numeric_feature_names()?;
        let mut out = Vec::with_capacity(rows * self.inputs);
        for (r, row) in x.chunks_exact(width.max(1)).enumerate() {
            for (c, (&v, feature)) in row.iter().zip(&self.features).enumerate() {
                let v: f64 = v.into();
                let Encoding::Numeric {
                    offset,
                    scale,
                    fill,
                    indicator,
                } = feature.encoding
                else {
                    unreachable!("checked: every feature is numeric")
                };
                let value = match (v.is_nan(), fill) {
                    (false, _) => v,
                    (true, Some(fill)) => fill,
                    (true, None) => {
                        return Err(backprop::Error::InvalidData(format!(
                            "row {}, feature {} ({:?}) is NaN, and the model has no fill value \
                             for it",
                            r + 1,
                            c + 1,
                            feature.name
                        ))
                        .into())
                    }
                };
                out.push(scaled(value, offset, scale));
                if indicator {
                    out.push(f32::from(u8::from(v.is_nan())));
                }
            }
        }
        Ok(out)
    }

    /// [`Preprocessor::transform_numeric`] for `f32` values, borrowed as they are when the
    /// preprocessing would give them back unchanged (every feature numeric, unscaled, without
    /// a missing-value indicator, and no value NaN), else the transformed copy with the same
    /// errors. Scaling by offset 0 and scale 1 in `f64` returns every non-NaN `f32` to the bit,
    /// so both ways give the same values.
    ///
    /// # Errors
    /// As [`Preprocessor::transform_numeric`].
    pub fn transform_numeric_f32<'a>(&self, x: &'a [f32], rows: usize) -> Result<Cow<'a, [f32]>> {
        if self.passes_numbers_through() && x.len() == rows * self.features.len() && !any_nan(x) {
            return Ok(Cow::Borrowed(x));
        }
        self.transform_numeric(x, rows).map(Cow::Owned)
    }

    /// Whether every feature is a numeric column taken as it is: offset 0, scale 1 and no
    /// missing-value indicator (a NaN would still need its fill value).
    fn passes_numbers_through(&self) -> bool {
        self.inputs == self.features.len()
            && self.features.iter().all(|feature| {
                matches!(
                    feature.encoding,
                    Encoding::Numeric {
                        offset,
                        scale,
                        indicator: false,
                        ..
                    } if offset == 0.0 && scale == 1.0
                )
            })
    }

    /// The feature names, when every feature is numeric: the columns of the numeric matrix
    /// [`Preprocessor::transform_numeric`] takes.
    ///
    /// # Errors
    /// [`Error::InvalidModel`] naming the first feature that is not numeric.
    pub fn numeric_feature_names(&self) -> Result<Vec<&str>> {
        self.features
            .iter()
            .map(|feature| {
                let how = match feature.encoding {
                    Encoding::Numeric { .. } => return Ok(feature.name.as_str()),
                    Encoding::OneHot { .. } => "one-hot encodes",
                    Encoding::Boolean { .. } => "reads booleans in",
                    Encoding::Date { .. } => "reads dates in",
                };
                Err(Error::model(format!(
                    "the model {how} the column {:?}: it needs the table the model was trained \
                     on (a CSV file), not a numeric matrix",
                    feature.name
                )))
            })
            .collect()
    }

    /// The network's input count.
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// The network's output count: the number of classes, or 1 for regression.
    pub fn outputs(&self) -> usize {
        self.target.classes().map_or(1, <[String]>::len)
    }

    /// A name per network input: the column name, `column=category` for one-hot inputs,
    /// `column.year` for dates, `column=(missing)` for missing indicators.
    pub fn input_names(&self) -> Vec<String> {
        self.features
            .iter()
            .flat_map(|f| f.encoding.input_names(&f.name))
            .collect()
    }

    /// [`Preprocessor::encode_with`] with the default options.
    pub fn encode(&self, table: &Table) -> Result<Encoded> {
        self.encode_with(table, &EncodeOptions::default())
    }

    /// Encodes a table read with the training schema: the features of every row as the
    /// model's inputs, and, when the table has the target column, the targets, leaving out
    /// (and noting) rows whose target is missing. Columns in any order; columns the model does
    /// not use are ignored and noted; a missing feature column is an error naming it.
    pub fn encode_with(&self, table: &Table, options: &EncodeOptions) -> Result<Encoded> {
        let columns = self.match_columns(table)?;
        let mut notes = Vec::new();
        let target = table
            .column(self.target.name())
            .filter(|_| !options.ignore_target);
        let (targets, rows) = match target {
            Some(_) => {
                let (targets, rows, skipped) = self.target.encode(table, &self.na_values)?;
                notes.extend(skipped);
                (Some(targets), rows)
            }
            None => (None, (0..table.rows).collect()),
        };
        let mut x = vec![0f32; rows.len() * self.inputs];
        let mut offset = 0;
        for (feature, column) in self.features.iter().zip(&columns) {
            let width = feature.encoding.width();
            let mut unseen: Vec<String> = Vec::new();
            let mut unseen_cells = 0;
            let mut encoded_as = "";
            for (i, &row) in rows.iter().enumerate() {
                let start = i * self.inputs + offset;
                let out = &mut x[start..start + width];
                let outcome = feature.encoding.encode(
                    table,
                    column,
                    row,
                    &self.na_values,
                    options.strict,
                    out,
                )?;
                if let Outcome::Unseen {
                    value,
                    encoded_as: how,
                } = outcome
                {
                    unseen_cells += 1;
                    encoded_as = how;
                    if unseen.len() < 5 && !unseen.contains(&value) {
                        unseen.push(value);
                    }
                }
            }
            if unseen_cells > 0 {
                notes.push(Note::Unseen {
                    column: feature.name.clone(),
                    cells: unseen_cells,
                    examples: unseen,
                    encoded_as: encoded_as.to_string(),
                });
            }
            offset += width;
        }
        // A set of the known names: a table of MNIST has 784 columns (none to look up when
        // the table has just the features, in order).
        let ignored: Vec<String> = if self.features_in_order(table) {
            Vec::new()
        } else {
            let known = self.known_names();
            table
                .columns
                .iter()
                .map(|c| &c.name)
                .filter(|name| !known.contains(name.as_str()))
                .cloned()
                .collect()
        };
        if !ignored.is_empty() {
            notes.push(Note::Ignored { columns: ignored });
        }
        let ids = self
            .id
            .as_ref()
            .and_then(|id| table.column(id))
            .map(|column| {
                rows.iter()
                    .map(|&row| table.text(column, row).into_owned())
                    .collect()
            });
        Ok(Encoded {
            x,
            rows: rows.len(),
            inputs: self.inputs,
            targets,
            ids,
            notes,
        })
    }

    /// The name of class `index`, for printing predictions.
    pub fn class_name(&self, index: usize) -> Option<&str> {
        self.target.classes()?.get(index).map(String::as_str)
    }

    /// Whether the table's columns are the features, in training order, and nothing else (a
    /// prediction request's rows often are).
    fn features_in_order(&self, table: &Table) -> bool {
        table.columns.len() == self.features.len()
            && table
                .columns
                .iter()
                .zip(&self.features)
                .all(|(c, f)| c.name == f.name)
    }

    /// The names of the columns the model uses or knows (a new file's other columns are
    /// ignored).
    fn known_names(&self) -> HashSet<&str> {
        let mut known: HashSet<&str> = self.features.iter().map(|f| f.name.as_str()).collect();
        known.extend(self.left_out.iter().map(|l| l.name.as_str()));
        known.insert(self.target.name());
        known.extend(self.id.as_deref());
        known
    }

    /// The table's column for each feature, or an error naming those it lacks.
    fn match_columns<'t>(&self, table: &'t Table) -> Result<Vec<&'t Column>> {
        if self.features_in_order(table) {
            return Ok(table.columns.iter().collect());
        }
        // By name through a map: features × columns string comparisons add up for wide data.
        let mut by_name: HashMap<&str, &Column> = HashMap::with_capacity(table.columns.len());
        for column in &table.columns {
            by_name.entry(column.name.as_str()).or_insert(column);
        }
        let missing: Vec<&str> = self
            .features
            .iter()
            .filter(|f| !by_name.contains_key(f.name.as_str()))
            .map(|f| f.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(Error::MissingColumns {
                file: table.source.clone(),
                missing: join_limited(&missing, 20),
                columns: join_limited(&table.names(), 20),
            });
        }
        Ok(self
            .features
            .iter()
            .filter_map(|f| by_name.get(f.name.as_str()).copied())
            .collect())
    }
}

/// Every column named in the options must exist (a typo must not silently keep a column).
fn check_named_columns(table: &Table, options: &FitOptions) -> Result<()> {
    let mut named: Vec<(&str, &String)> = Vec::new();
    named.extend(options.drop.iter().map(|n| ("--drop", n)));
    named.extend(options.keep.iter().map(|n| ("--keep", n)));
    named.extend(options.id.iter().map(|n| ("--id", n)));
    if let Some(features) = &options.features {
        named.extend(features.iter().map(|n| ("--features", n)));
    }
    for (option, name) in named {
        if table.column(name).is_none() {
            return Err(Error::UnknownColumn {
                file: table.source.clone(),
                option: option.to_string(),
                name: name.clone(),
                columns: join_limited(&table.names(), 20),
            });
        }
    }
    Ok(())
}

mod validate;

/// Whether any value is NaN, in blocks that the compiler vectorizes (no early exit inside a
/// block).
fn any_nan(x: &[f32]) -> bool {
    x.chunks(4096)
        .any(|block| block.iter().fold(false, |nan, v| nan | v.is_nan()))
}

#[cfg(test)]
mod tests;
