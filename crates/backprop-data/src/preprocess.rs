//! The fitted preprocessing that turns a [`Table`] into the engine's matrices: which columns
//! are features, how each is encoded (scaled number or one-hot category), and what the target
//! is. Fitted once on the training data and saved, as JSON, in the model file, so that
//! evaluation and prediction read new files exactly as the training file was read.
//!
//! A feature column is numeric when every training cell is a finite number, categorical when
//! no cell is a number; a column that mixes the two is an error (nothing is coerced). Empty,
//! NaN and infinite cells are errors. Numbers are scaled as `x' = (x − offset) / scale`;
//! categories become one-hot groups in sorted order.

use crate::error::{join_limited, Error, Result};
use crate::table::{classify, number_name, Cell, Column, Table, Values};
use crate::target::{EncodedTargets, TargetSchema, Task};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How numeric features are scaled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scaler {
    /// `(x − mean) / std` with the population standard deviation (1 where it is 0).
    #[default]
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
            "standard" => Ok(Scaler::Standard),
            "minmax" => Ok(Scaler::Minmax),
            "none" => Ok(Scaler::None),
            _ => Err(format!(
                "unknown scaler \"{s}\"; expected standard, minmax or none"
            )),
        }
    }
}

impl fmt::Display for Scaler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scaler::Standard => "standard",
            Scaler::Minmax => "minmax",
            Scaler::None => "none",
        })
    }
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

/// How one column becomes network inputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Encoding {
    /// One input, `(x − offset) / scale`.
    Numeric {
        /// Subtracted first.
        offset: f64,
        /// Divided by next (never 0).
        scale: f64,
    },
    /// One input per category, 1 for the row's category and 0 for the others.
    OneHot {
        /// The categories, sorted; input `i` of the group is `categories[i]`.
        categories: Vec<String>,
    },
}

impl Encoding {
    /// The number of network inputs this column takes.
    pub fn width(&self) -> usize {
        match self {
            Encoding::Numeric { .. } => 1,
            Encoding::OneHot { categories } => categories.len(),
        }
    }
}

/// The version of the JSON layout of [`Preprocessor`].
pub const PREPROCESSOR_VERSION: u32 = 1;

/// Everything needed to read data the way the training data was read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Preprocessor {
    /// Layout version ([`PREPROCESSOR_VERSION`]).
    pub version: u32,
    /// The scaler used for numeric features.
    pub scaler: Scaler,
    /// The feature columns in training-file order; their inputs follow in this order.
    pub features: Vec<Feature>,
    /// The number of network inputs (the sum of the features' widths).
    pub inputs: usize,
    /// The target.
    pub target: TargetSchema,
}

/// A table turned into the engine's matrices.
#[derive(Clone, Debug, PartialEq)]
pub struct Encoded {
    /// Inputs, row-major, `rows × inputs`.
    pub x: Vec<f32>,
    /// Number of rows.
    pub rows: usize,
    /// Inputs per row.
    pub inputs: usize,
    /// Targets, when the table has the target column.
    pub targets: Option<EncodedTargets>,
}

impl Preprocessor {
    /// Learns the schema, the scaling and the target from training data. `task` overrides the
    /// automatic choice between classification and regression.
    pub fn fit(table: &Table, scaler: Scaler, task: Option<Task>) -> Result<Self> {
        let target = TargetSchema::fit(table, task)?;
        let mut features = Vec::new();
        for (i, column) in table.columns.iter().enumerate() {
            if Some(i) == table.target {
                continue;
            }
            let encoding = match numeric_or_categories(table, column)? {
                Kind::Numeric(values) => fit_scale(&values, scaler),
                Kind::Categorical(categories) => Encoding::OneHot { categories },
            };
            features.push(Feature {
                name: column.name.clone(),
                encoding,
            });
        }
        if features.is_empty() {
            return Err(Error::NoFeatures {
                file: table.source.clone(),
                target: target.name().to_string(),
            });
        }
        let inputs = features.iter().map(|f| f.encoding.width()).sum();
        Ok(Self {
            version: PREPROCESSOR_VERSION,
            scaler,
            features,
            inputs,
            target,
        })
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
                },
            })
            .collect();
        Self {
            version: PREPROCESSOR_VERSION,
            scaler: Scaler::None,
            inputs: features.len(),
            features,
            target,
        }
    }

    /// Encodes a row-major numeric matrix with one column per feature (`rows × features`, as
    /// [`Preprocessor::numeric`] describes the data, or a model trained on a table whose
    /// features are all numeric): each value scaled as the feature says.
    ///
    /// # Errors
    /// [`Error::InvalidModel`] when a feature is one-hot encoded (categories need the table),
    /// [`Error::Engine`] with a shape mismatch when `x` is not `rows × features`.
    pub fn transform_numeric(&self, x: &[f64], rows: usize) -> Result<Vec<f32>> {
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
        let scales: Vec<(f64, f64)> = self
            .features
            .iter()
            .filter_map(|feature| match feature.encoding {
                Encoding::Numeric { offset, scale } => Some((offset, scale)),
                Encoding::OneHot { .. } => None,
            })
            .collect();
        Ok(x.chunks_exact(width.max(1))
            .flat_map(|row| {
                row.iter()
                    .zip(&scales)
                    .map(|(&v, &(offset, scale))| ((v - offset) / scale) as f32)
            })
            .collect())
    }

    /// The feature names, when every feature is numeric: the columns of the numeric matrix
    /// [`Preprocessor::transform_numeric`] takes.
    ///
    /// # Errors
    /// [`Error::InvalidModel`] naming the first one-hot encoded feature.
    pub fn numeric_feature_names(&self) -> Result<Vec<&str>> {
        self.features
            .iter()
            .map(|feature| match feature.encoding {
                Encoding::Numeric { .. } => Ok(feature.name.as_str()),
                Encoding::OneHot { .. } => Err(Error::model(format!(
                    "the model one-hot encodes the column {:?}: categorical features need the \
                     table the model was trained on (a CSV file), not a numeric matrix",
                    feature.name
                ))),
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

    /// A name per network input: the column name, or `column=category` for one-hot inputs.
    pub fn input_names(&self) -> Vec<String> {
        let mut names = Vec::with_capacity(self.inputs);
        for feature in &self.features {
            match &feature.encoding {
                Encoding::Numeric { .. } => names.push(feature.name.clone()),
                Encoding::OneHot { categories } => {
                    names.extend(categories.iter().map(|c| format!("{}={c}", feature.name)));
                }
            }
        }
        names
    }

    /// Encodes the features of a table read with the training schema, row-major. The table's
    /// columns must be the model's features (in any order), plus optionally the target.
    pub fn transform(&self, table: &Table) -> Result<Vec<f32>> {
        let columns = self.match_columns(table)?;
        let mut x = vec![0f32; table.rows * self.inputs];
        let mut offset = 0;
        for (feature, column) in self.features.iter().zip(columns) {
            match &feature.encoding {
                Encoding::Numeric {
                    offset: shift,
                    scale,
                } => {
                    let values = table.numbers(column)?;
                    for (row, v) in values.into_iter().enumerate() {
                        x[row * self.inputs + offset] = ((v - shift) / scale) as f32;
                    }
                }
                Encoding::OneHot { categories } => {
                    for row in 0..table.rows {
                        let text = category_text(table, column, row)?;
                        let index =
                            categories
                                .binary_search(&text)
                                .map_err(|_| Error::UnseenCategory {
                                    location: table.location(column, row),
                                    column: column.name.clone(),
                                    number: column.number,
                                    value: text.clone(),
                                    known: join_limited(categories, 20),
                                })?;
                        x[row * self.inputs + offset + index] = 1.0;
                    }
                }
            }
            offset += feature.encoding.width();
        }
        Ok(x)
    }

    /// Encodes the table's target column: class indices or values. An error if the table lacks
    /// the target column, or (classification) holds a class the model never saw.
    pub fn encode_target(&self, table: &Table) -> Result<EncodedTargets> {
        self.target.encode(table)
    }

    /// Features and, when present, targets.
    pub fn encode(&self, table: &Table) -> Result<Encoded> {
        let x = self.transform(table)?;
        let targets = match table.column(self.target.name()) {
            Some(_) => Some(self.encode_target(table)?),
            None => None,
        };
        Ok(Encoded {
            x,
            rows: table.rows,
            inputs: self.inputs,
            targets,
        })
    }

    /// The name of class `index`, for printing predictions.
    pub fn class_name(&self, index: usize) -> Option<&str> {
        self.target.classes()?.get(index).map(String::as_str)
    }

    /// The table's column for each feature, or an error naming the difference.
    fn match_columns<'t>(&self, table: &'t Table) -> Result<Vec<&'t Column>> {
        let target = self.target.name();
        let missing: Vec<&str> = self
            .features
            .iter()
            .filter(|f| table.column(&f.name).is_none())
            .map(|f| f.name.as_str())
            .collect();
        let unexpected: Vec<&str> = table
            .columns
            .iter()
            .filter(|c| c.name != target && !self.features.iter().any(|f| f.name == c.name))
            .map(|c| c.name.as_str())
            .collect();
        if !missing.is_empty() || !unexpected.is_empty() {
            return Err(Error::ColumnMismatch {
                file: table.source.clone(),
                missing: join_limited(&missing, 20),
                unexpected: join_limited(&unexpected, 20),
            });
        }
        Ok(self
            .features
            .iter()
            .filter_map(|f| table.column(&f.name))
            .collect())
    }
}

enum Kind {
    Numeric(Vec<f64>),
    Categorical(Vec<String>),
}

/// Decides a training column's kind; mixed columns, empty and non-finite cells are errors.
fn numeric_or_categories(table: &Table, column: &Column) -> Result<Kind> {
    let cells = match &column.values {
        Values::Text(cells) => cells,
        numeric => return Ok(Kind::Numeric(numeric.numbers().expect("a numeric column"))),
    };
    let mut numbers = Vec::with_capacity(cells.len());
    let (mut first_number, mut first_text, mut texts) = (None, None, 0usize);
    for (row, cell) in cells.iter().enumerate() {
        match classify(cell) {
            Cell::Number(v) => {
                numbers.push(v);
                first_number.get_or_insert(row);
            }
            Cell::Text(_) => {
                texts += 1;
                first_text.get_or_insert(row);
            }
            bad => return Err(table.cell_error(column, row, bad, cell)),
        }
    }
    match (first_number, first_text) {
        (_, None) => Ok(Kind::Numeric(numbers)),
        (None, Some(_)) => {
            let mut categories: Vec<String> = cells.iter().map(str::to_string).collect();
            categories.sort_unstable();
            categories.dedup();
            Ok(Kind::Categorical(categories))
        }
        (Some(number_row), Some(text_row)) => {
            // The minority kind is the likely mistake.
            let stray_text = numbers.len() >= texts;
            let row = if stray_text { text_row } else { number_row };
            Err(Error::MixedColumn {
                location: table.location(column, row),
                column: column.name.clone(),
                number: column.number,
                value: cells.get(row).to_string(),
                stray_number: !stray_text,
                others: if stray_text { numbers.len() } else { texts },
            })
        }
    }
}

fn fit_scale(values: &[f64], scaler: Scaler) -> Encoding {
    let n = values.len() as f64;
    let (offset, scale) = match scaler {
        Scaler::None => (0.0, 1.0),
        Scaler::Standard => {
            let mean = values.iter().sum::<f64>() / n;
            let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
            let std = var.sqrt();
            (mean, if std > 0.0 { std } else { 1.0 })
        }
        Scaler::Minmax => {
            let min = values.iter().copied().fold(f64::INFINITY, f64::min);
            let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (min, if max > min { max - min } else { 1.0 })
        }
    };
    Encoding::Numeric { offset, scale }
}

/// A cell of a categorical column as text; empty cells are errors.
fn category_text(table: &Table, column: &Column, row: usize) -> Result<String> {
    let text = match &column.values {
        Values::Text(cells) => cells.get(row).to_string(),
        numeric => number_name(numeric.number(row).expect("a numeric column")),
    };
    if text.is_empty() {
        return Err(table.cell_error(column, row, Cell::Empty, ""));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{load, LoadOptions};

    /// Writes `body` to `name` in a fresh temp dir and loads it for training.
    fn table(
        dir: &tempfile::TempDir,
        name: &str,
        body: &str,
        options: &LoadOptions,
    ) -> Result<Table> {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        load(path.to_str().unwrap(), options)
    }

    fn fit(body: &str, scaler: Scaler) -> Result<Preprocessor> {
        let dir = tempfile::tempdir().unwrap();
        let t = table(&dir, "train.csv", body, &LoadOptions::default())?;
        Preprocessor::fit(&t, scaler, None)
    }

    fn fit_error(body: &str) -> String {
        fit(body, Scaler::Standard).unwrap_err().to_string()
    }

    const TRAIN: &str =
        "age,color,height,label\n20,red,1.5,yes\n30,blue,1.7,no\n40,red,1.9,yes\n50,green,1.6,no\n";

    #[test]
    fn numeric_and_one_hot_layout_with_standard_scaling() {
        let dir = tempfile::tempdir().unwrap();
        let t = table(&dir, "train.csv", TRAIN, &LoadOptions::default()).unwrap();
        let pre = Preprocessor::fit(&t, Scaler::Standard, None).unwrap();
        assert_eq!(pre.inputs(), 5);
        assert_eq!(pre.outputs(), 2);
        assert_eq!(
            pre.input_names(),
            ["age", "color=blue", "color=green", "color=red", "height"]
        );
        let Encoding::Numeric { offset, scale } = pre.features[0].encoding else {
            panic!("age is numeric")
        };
        assert_eq!(offset, 35.0);
        assert!((scale - 125f64.sqrt()).abs() < 1e-12);
        let x = pre.transform(&t).unwrap();
        assert_eq!(x.len(), 4 * 5);
        let row0 = &x[..5];
        assert!((row0[0] - (-15.0 / 125f64.sqrt()) as f32).abs() < 1e-6);
        assert_eq!(&row0[1..4], [0.0, 0.0, 1.0]);
        assert_eq!(&x[5 + 1..5 + 4], [1.0, 0.0, 0.0]);
        let mean_height: f32 = x.chunks(5).map(|r| r[4]).sum::<f32>() / 4.0;
        assert!(mean_height.abs() < 1e-6);
        assert_eq!(
            pre.encode_target(&t).unwrap(),
            EncodedTargets::Classes(vec![1, 0, 1, 0])
        );
        assert_eq!(pre.class_name(1), Some("yes"));
    }

    #[test]
    fn numeric_matrices_are_scaled_like_the_table() {
        let body = "a,b,y\n1,10,0\n3,30,1\n5,20,0\n";
        let pre = fit(body, Scaler::Standard).unwrap();
        assert_eq!(pre.numeric_feature_names().unwrap(), ["a", "b"]);
        let dir = tempfile::tempdir().unwrap();
        let t = table(&dir, "train.csv", body, &LoadOptions::default()).unwrap();
        let matrix = [1.0, 10.0, 3.0, 30.0, 5.0, 20.0];
        assert_eq!(
            pre.transform_numeric(&matrix, 3).unwrap(),
            pre.transform(&t).unwrap()
        );
        let short = pre.transform_numeric(&matrix[..5], 3).unwrap_err();
        assert!(matches!(
            short,
            Error::Engine(backprop::Error::ShapeMismatch { .. })
        ));

        let plain = Preprocessor::numeric(
            vec!["p".into(), "q".into()],
            TargetSchema::Regress { name: "y".into() },
        );
        assert_eq!((plain.inputs(), plain.scaler), (2, Scaler::None));
        assert_eq!(
            plain.transform_numeric(&[1.5, -2.0], 1).unwrap(),
            [1.5, -2.0]
        );

        let categorical = fit("a,c,y\n1,red,0\n2,blue,1\n", Scaler::None).unwrap();
        let message = categorical
            .transform_numeric(&[1.0, 0.0], 1)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("one-hot encodes the column \"c\""),
            "{message}"
        );
        assert!(categorical.numeric_feature_names().is_err());
    }

    #[test]
    fn minmax_none_and_constant_columns() {
        let body = "a,b,y\n2,7,0.5\n4,7,1.5\n6,7,2.5\n";
        let pre = fit(body, Scaler::Minmax).unwrap();
        assert_eq!(
            pre.features[0].encoding,
            Encoding::Numeric {
                offset: 2.0,
                scale: 4.0
            }
        );
        assert_eq!(
            pre.features[1].encoding,
            Encoding::Numeric {
                offset: 7.0,
                scale: 1.0
            }
        );
        let pre = fit(body, Scaler::Standard).unwrap();
        assert_eq!(
            pre.features[1].encoding,
            Encoding::Numeric {
                offset: 7.0,
                scale: 1.0
            }
        );
        let pre = fit(body, Scaler::None).unwrap();
        assert_eq!(
            pre.features[0].encoding,
            Encoding::Numeric {
                offset: 0.0,
                scale: 1.0
            }
        );
        assert_eq!(pre.target.task(), Task::Regress);
    }

    #[test]
    fn json_round_trip_is_exact_and_self_describing() {
        let pre = fit(TRAIN, Scaler::Standard).unwrap();
        let json = serde_json::to_string(&pre).unwrap();
        assert!(
            json.contains("\"kind\":\"one_hot\"") && json.contains("\"task\":\"classify\""),
            "{json}"
        );
        assert!(
            json.contains("\"scaler\":\"standard\"") && json.contains("\"version\":1"),
            "{json}"
        );
        let back: Preprocessor = serde_json::from_str(&json).unwrap();
        assert_eq!(back, pre);
    }

    #[test]
    fn mixed_columns_name_the_stray_cell() {
        let msg = fit_error("age,y\n20,1\n30,0\nabc,1\n40,0\n50,1\n");
        assert!(
            msg.contains(
                "train.csv:4: column \"age\" (1): \"abc\" is not a number, but 4 other cells"
            ),
            "{msg}"
        );
        let msg = fit_error("x,color,y\n1,red,1\n2,7,0\n3,blue,1\n4,red,0\n");
        assert!(
            msg.contains("train.csv:3: column \"color\" (2): \"7\" is a number, but 3 other cells"),
            "{msg}"
        );
    }

    #[test]
    fn empty_nan_and_infinite_cells_are_errors() {
        let cases = [
            (
                "a,b,y\n1,2,0\n3,,1\n",
                "train.csv:3: column \"b\" (2) is empty",
            ),
            (
                "a,b,y\n1,2,0\nNaN,4,1\n",
                "train.csv:3: column \"a\" (1): \"NaN\" is not a finite number",
            ),
            (
                "a,b,y\n1,inf,0\n3,4,1\n",
                "train.csv:2: column \"b\" (2): \"inf\" is not a finite number",
            ),
            (
                "a,b,y\n1,2,0\n3,4,\n",
                "train.csv:3: column \"y\" (3) is empty",
            ),
            (
                "a,b,y\n1,2,0\n3,4,nan\n",
                "train.csv:3: column \"y\" (3): \"nan\" is not a finite number",
            ),
        ];
        for (body, expected) in cases {
            let msg = fit_error(body);
            assert!(msg.contains(expected), "{msg}");
        }
    }

    #[test]
    fn training_needs_features_a_target_and_two_classes() {
        let msg = fit_error("y\n1\n2\n");
        assert!(
            msg.contains("no feature columns besides the target \"y\""),
            "{msg}"
        );
        let msg = fit_error("a,y\n1,same\n2,same\n");
        assert!(msg.contains("only one class (\"same\")"), "{msg}");
        let dir = tempfile::tempdir().unwrap();
        let t = table(
            &dir,
            "t.csv",
            "a,b\n1,2\n",
            &LoadOptions::for_model(&fit(TRAIN, Scaler::None).unwrap()),
        )
        .unwrap();
        let msg = Preprocessor::fit(&t, Scaler::None, None)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("t.csv") && msg.contains("missing"), "{msg}");
    }

    #[test]
    fn test_files_are_read_with_the_training_schema() {
        let pre = fit(TRAIN, Scaler::Standard).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let options = LoadOptions::for_model(&pre);
        // Reordered columns, no target: fine.
        let t = table(
            &dir,
            "predict.csv",
            "height,color,age\n1.5,red,20\n",
            &options,
        )
        .unwrap();
        let trained = table(&dir, "train.csv", TRAIN, &LoadOptions::default()).unwrap();
        assert_eq!(
            pre.transform(&t).unwrap(),
            pre.transform(&trained).unwrap()[..5]
        );
        let encoded = pre.encode(&t).unwrap();
        assert_eq!(
            (encoded.rows, encoded.inputs, encoded.targets),
            (1, 5, None)
        );
        let msg = pre.encode_target(&t).unwrap_err().to_string();
        assert!(
            msg.contains("predict.csv: the target column \"label\" is missing"),
            "{msg}"
        );

        let cases = [
            (
                "cols.csv",
                "age,colour,height\n1,red,2\n",
                "cols.csv: the columns differ",
                "missing: [color]; not in the model: [colour]",
            ),
            (
                "cat.csv",
                "age,color,height,label\n1,red,2,yes\n1,purple,2,no\n",
                "cat.csv:3: column \"color\" (2): \"purple\" is a category the model has not seen",
                "known: blue, green, red",
            ),
            (
                "num.csv",
                "age,color,height\n1,red,2\n1,red,tall\n",
                "num.csv:3: column \"height\" (3): \"tall\" is not a number",
                "",
            ),
            (
                "gap.csv",
                "age,color,height\n1,,2\n",
                "gap.csv:2: column \"color\" (2) is empty",
                "",
            ),
        ];
        for (name, body, expected, more) in cases {
            let t = table(&dir, name, body, &options).unwrap();
            let msg = pre.transform(&t).unwrap_err().to_string();
            assert!(msg.contains(expected) && msg.contains(more), "{msg}");
        }
        let t = table(
            &dir,
            "eval.csv",
            "age,color,height,label\n1,red,2,yes\n1,red,2,maybe\n",
            &options,
        )
        .unwrap();
        let msg = pre.encode(&t).unwrap_err().to_string();
        assert!(
            msg.contains("eval.csv:3: column \"label\" (4): class \"maybe\" was not among the training classes (no, yes)"),
            "{msg}"
        );
    }
}
