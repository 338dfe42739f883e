//! The target column: deciding between classification and regression, naming the classes,
//! and encoding targets as class indices or values.

use backprop::{Loss, Targets};

use crate::cells::{number_name, Cell};
use crate::error::{join_limited, Error, Result};
use crate::notes::Note;
use crate::table::{Column, Table};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The learning task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Predict one of a fixed set of classes.
    Classify,
    /// Predict a real value.
    Regress,
}

impl FromStr for Task {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "classify" | "classification" => Ok(Task::Classify),
            "regress" | "regression" => Ok(Task::Regress),
            _ => Err(format!(
                "unknown task \"{s}\"; expected classify or regress"
            )),
        }
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Task::Classify => "classify",
            Task::Regress => "regress",
        })
    }
}

/// At most this many distinct integers make a numeric target a classification target.
pub const MAX_AUTO_CLASSES: usize = 20;

/// How a regression target is scaled for the network to learn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetScaler {
    /// `(y − mean) / std` over the training targets ([`TargetScale`]); predictions are turned
    /// back into the target's units.
    #[default]
    Standard,
    /// The network learns the values as they are.
    None,
}

impl fmt::Display for TargetScaler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TargetScaler::Standard => "standard",
            TargetScaler::None => "none",
        })
    }
}

/// The standardization of a regression target: the network learns `(y − mean) / std`, and
/// its outputs `o` mean `o · std + mean` in the target's units.
///
/// A target of 50,000 ± 10,000 left as it is starts the mean squared error near 2.5·10⁹ and
/// needs a learning rate tuned to it; standardized, every target starts near 1 and the
/// optimizer's usual learning rate fits.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetScale {
    /// The mean of the training targets.
    pub mean: f64,
    /// Their population standard deviation (1 where it is 0).
    pub std: f64,
}

impl TargetScale {
    /// The mean and standard deviation of `values` (not empty).
    pub fn fit(values: &[f64]) -> Self {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
        let std = var.sqrt();
        Self {
            mean,
            std: if std > 0.0 && std.is_finite() {
                std
            } else {
                1.0
            },
        }
    }

    /// A target value in the network's units.
    pub fn standardize(&self, value: f32) -> f32 {
        ((f64::from(value) - self.mean) / self.std) as f32
    }

    /// A network output in the target's units.
    pub fn restore(&self, output: f32) -> f32 {
        (f64::from(output) * self.std + self.mean) as f32
    }
}

/// What the model predicts, as stored in the model file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "task", rename_all = "snake_case")]
pub enum TargetSchema {
    /// Classification; output `i` of the network is `classes[i]`.
    Classify {
        /// The target column's name.
        name: String,
        /// The class names, sorted (numerically when `numeric`).
        classes: Vec<String>,
        /// Whether the classes are numbers (then `"1"` and `"1.0"` are the same class).
        numeric: bool,
    },
    /// Regression of one value.
    Regress {
        /// The target column's name.
        name: String,
        /// How the network's outputs become values: `None` (models written before targets
        /// were standardized, `--scale-target none`, the Python package) when they are the
        /// values themselves.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scale: Option<TargetScale>,
    },
}

/// Encoded targets, ready for the engine.
#[derive(Clone, Debug, PartialEq)]
pub enum EncodedTargets {
    /// A class index per row.
    Classes(Vec<u32>),
    /// A value per row.
    Values(Vec<f32>),
}

impl EncodedTargets {
    /// The targets in the form `loss` takes them: class indices for cross-entropy, `0/1`
    /// values for binary cross-entropy on one sigmoid output (class 1 is the positive one),
    /// values for regression.
    ///
    /// # Errors
    /// [`Error::Engine`] with an invalid setting when the loss is for the other task.
    pub fn for_loss(&self, loss: &Loss) -> Result<EncodedTargets> {
        let mismatch = |holds: &str, task: &str| {
            Err(backprop::Error::InvalidConfig(format!(
                "the loss {} is for {task}, but the target holds {holds}",
                loss.name()
            ))
            .into())
        };
        match (self, loss) {
            (EncodedTargets::Classes(_), Loss::CrossEntropy { .. }) => Ok(self.clone()),
            (EncodedTargets::Classes(classes), Loss::Bce) => Ok(EncodedTargets::Values(
                classes.iter().map(|&c| c as f32).collect(),
            )),
            (EncodedTargets::Values(_), Loss::Mse | Loss::L1 | Loss::Huber { .. }) => {
                Ok(self.clone())
            }
            (EncodedTargets::Classes(_), _) => mismatch("classes", "regression"),
            (EncodedTargets::Values(_), _) => mismatch("numbers", "classification"),
        }
    }

    /// Borrowed as the engine's [`Targets`].
    pub fn as_targets(&self) -> Targets<'_, f32> {
        match self {
            EncodedTargets::Classes(classes) => Targets::Classes(classes),
            EncodedTargets::Values(values) => Targets::Values(values),
        }
    }
}

impl TargetSchema {
    /// The target column's name.
    pub fn name(&self) -> &str {
        match self {
            TargetSchema::Classify { name, .. } | TargetSchema::Regress { name, .. } => name,
        }
    }

    /// The task.
    pub fn task(&self) -> Task {
        match self {
            TargetSchema::Classify { .. } => Task::Classify,
            TargetSchema::Regress { .. } => Task::Regress,
        }
    }

    /// The class names, for classification.
    pub fn classes(&self) -> Option<&[String]> {
        match self {
            TargetSchema::Classify { classes, .. } => Some(classes),
            TargetSchema::Regress { .. } => None,
        }
    }

    /// The scaling of a regression target's values for the network (`None` for a classifier
    /// and for values the network learns as they are).
    pub fn scale(&self) -> Option<&TargetScale> {
        match self {
            TargetSchema::Regress { scale, .. } => scale.as_ref(),
            TargetSchema::Classify { .. } => None,
        }
    }

    /// The encoded targets in the form the network learns them with `loss`: those of
    /// [`EncodedTargets::for_loss`], and regression values standardized when the schema says
    /// so ([`TargetScale`]).
    ///
    /// # Errors
    /// As [`EncodedTargets::for_loss`].
    pub fn network_targets(&self, targets: &EncodedTargets, loss: &Loss) -> Result<EncodedTargets> {
        let for_loss = targets.for_loss(loss)?;
        Ok(match (self.scale(), for_loss) {
            (Some(scale), EncodedTargets::Values(values)) => {
                EncodedTargets::Values(values.iter().map(|&v| scale.standardize(v)).collect())
            }
            (_, other) => other,
        })
    }

    /// Turns the network's outputs of a regressor into values in the target's units, in
    /// place (nothing to do for a classifier or unscaled values).
    pub fn restore_outputs(&self, outputs: &mut [f32]) {
        if let Some(scale) = self.scale() {
            outputs.iter_mut().for_each(|o| *o = scale.restore(*o));
        }
    }

    /// Learns the target from the training table's target column; `task` overrides the
    /// automatic choice (classification when the target is text, or holds at most
    /// [`MAX_AUTO_CLASSES`] distinct integers and fewer distinct values than half the rows),
    /// and `scaler` says how a regression target is scaled for the network.
    /// Returns the schema, the rows that have a target (the training rows) and notes: rows
    /// without a target value, classes with a single row.
    pub fn fit(
        table: &Table,
        task: Option<Task>,
        scaler: TargetScaler,
        na_values: &[String],
    ) -> Result<(Self, Vec<usize>, Vec<Note>)> {
        let column = table.target_column().ok_or_else(|| Error::MissingTarget {
            file: table.source.clone(),
            column: "(none chosen)".to_string(),
        })?;
        let name = column.name.clone();
        let mut cells = scan(table, column, na_values)?;
        let mut notes: Vec<Note> = skipped(table, column, &cells.missing).into_iter().collect();
        // Moved, not copied: 8 bytes a row (issue 14, memory amplification).
        let rows = std::mem::take(&mut cells.rows);
        if rows.is_empty() {
            return Err(Error::NoRows {
                file: table.source.clone(),
            });
        }
        let numbers = cells.first_text.is_none().then_some(&cells.numbers);
        let task = task.unwrap_or_else(|| match numbers {
            None => Task::Classify,
            Some(values) => match distinct_sorted_up_to(values, MAX_AUTO_CLASSES) {
                Some(distinct)
                    if distinct.iter().all(|v| v.fract() == 0.0)
                        && 2 * distinct.len() < rows.len() =>
                {
                    Task::Classify
                }
                _ => Task::Regress,
            },
        });
        if let (Task::Regress, Some(values)) = (task, numbers) {
            check_in_f32_range(table, column, &rows, values)?;
        }
        let schema = match (task, numbers) {
            (Task::Regress, Some(values)) => TargetSchema::Regress {
                name,
                scale: match scaler {
                    TargetScaler::Standard => Some(TargetScale::fit(values)),
                    TargetScaler::None => None,
                },
            },
            (Task::Regress, None) => {
                let row = cells.first_text.expect("a text target has a text cell");
                return Err(table.not_a_number(column, row, table.cell(column, row, na_values)));
            }
            (Task::Classify, Some(values)) => TargetSchema::Classify {
                name,
                classes: distinct_sorted(values)
                    .into_iter()
                    .map(number_name)
                    .collect(),
                numeric: true,
            },
            (Task::Classify, None) => {
                let mut classes: Vec<String> = rows
                    .iter()
                    .map(|&row| table.text(column, row).into_owned())
                    .collect();
                classes.sort_unstable();
                classes.dedup();
                TargetSchema::Classify {
                    name,
                    classes,
                    numeric: false,
                }
            }
        };
        if let TargetSchema::Classify { classes, name, .. } = &schema {
            if classes.len() < 2 {
                return Err(Error::SingleClass {
                    file: table.source.clone(),
                    column: name.clone(),
                    class: classes[0].clone(),
                });
            }
            let (EncodedTargets::Classes(labels), _, _) = schema.encode(table, na_values)? else {
                unreachable!("a classifier encodes classes")
            };
            let mut counts = vec![0usize; classes.len()];
            labels.iter().for_each(|&l| counts[l as usize] += 1);
            for (class, &count) in classes.iter().zip(&counts) {
                if count < 2 {
                    notes.push(Note::RareClass {
                        class: class.clone(),
                        rows: count,
                    });
                }
            }
        }
        Ok((schema, rows, notes))
    }

    /// Encodes the table's target column (found by name): class indices, or values, for the
    /// rows that have a target value, with those rows and a note about the others.
    pub fn encode(
        &self,
        table: &Table,
        na_values: &[String],
    ) -> Result<(EncodedTargets, Vec<usize>, Option<Note>)> {
        let column = table
            .column(self.name())
            .ok_or_else(|| Error::MissingTarget {
                file: table.source.clone(),
                column: self.name().to_string(),
            })?;
        let cells = scan(table, column, na_values)?;
        let note = skipped(table, column, &cells.missing);
        let targets = match self {
            TargetSchema::Regress { .. } => {
                if let Some(row) = cells.first_text {
                    return Err(table.not_a_number(
                        column,
                        row,
                        table.cell(column, row, na_values),
                    ));
                }
                check_in_f32_range(table, column, &cells.rows, &cells.numbers)?;
                EncodedTargets::Values(cells.numbers.iter().map(|&v| v as f32).collect())
            }
            TargetSchema::Classify {
                classes, numeric, ..
            } => {
                let unseen = |row: usize, value: &str| Error::UnseenClass {
                    location: table.location(column, row),
                    column: column.name.clone(),
                    number: column.number,
                    value: value.to_string(),
                    known: join_limited(classes, 20),
                };
                let mut labels = Vec::with_capacity(cells.rows.len());
                if *numeric {
                    if let Some(row) = cells.first_text {
                        return Err(unseen(row, &table.text(column, row)));
                    }
                    let values: Vec<f64> = classes
                        .iter()
                        .map(|c| c.parse().unwrap_or(f64::NAN))
                        .collect();
                    for (&row, &v) in cells.rows.iter().zip(&cells.numbers) {
                        let index = values.iter().position(|&c| c == v);
                        labels.push(index.ok_or_else(|| unseen(row, &number_name(v)))? as u32);
                    }
                } else {
                    for &row in &cells.rows {
                        let text = table.text(column, row);
                        let index = classes
                            .binary_search_by(|c| c.as_str().cmp(&text))
                            .map_err(|_| unseen(row, &text))?;
                        labels.push(index as u32);
                    }
                }
                EncodedTargets::Classes(labels)
            }
        };
        Ok((targets, cells.rows, note))
    }
}

/// The target cells of a column: which rows have a value, and of what kind.
struct TargetCells {
    /// Rows with a value, in order.
    rows: Vec<usize>,
    /// The numbers of those rows, when every value is a number.
    numbers: Vec<f64>,
    /// The first row whose value is text, if any.
    first_text: Option<usize>,
    /// Rows whose target is missing.
    missing: Vec<usize>,
}

/// Reads a target column; an infinite value is an error.
fn scan(table: &Table, column: &Column, na_values: &[String]) -> Result<TargetCells> {
    let mut cells = TargetCells {
        rows: Vec::with_capacity(table.rows),
        numbers: Vec::with_capacity(table.rows),
        first_text: None,
        missing: Vec::new(),
    };
    for row in 0..table.rows {
        match table.cell(column, row, na_values) {
            Cell::Number(v) => cells.numbers.push(v),
            Cell::Text(_) => {
                cells.first_text.get_or_insert(row);
            }
            Cell::Missing => {
                cells.missing.push(row);
                continue;
            }
            bad @ Cell::NonFinite => return Err(table.not_a_number(column, row, bad)),
        }
        cells.rows.push(row);
    }
    Ok(cells)
}

/// Refuses, located, the first regression target beyond the range of an `f32` (±3.4e38):
/// the network learns `f32` targets, where such a value is an infinity, and its mean and
/// standard deviation overflow (`1e308`; found while fixing the `parquet` fuzz target's
/// scaler overflow of the features, issue 14). `rows[i]` holds `values[i]`.
fn check_in_f32_range(
    table: &Table,
    column: &Column,
    rows: &[usize],
    values: &[f64],
) -> Result<()> {
    match values.iter().position(|v| v.abs() > f64::from(f32::MAX)) {
        Some(i) => Err(crate::encoding::not_of_kind(
            table,
            column,
            rows[i],
            "a regression target within the range of a 32-bit float (±3.4e38), which the \
             network learns in",
        )),
        None => Ok(()),
    }
}

/// The note about rows without a target, if there are any.
fn skipped(table: &Table, column: &Column, missing: &[usize]) -> Option<Note> {
    (!missing.is_empty()).then(|| Note::SkippedRows {
        rows: missing.len(),
        first: missing
            .iter()
            .take(5)
            .map(|&row| table.location(column, row).to_string())
            .collect(),
        target: column.name.clone(),
    })
}

/// The distinct values in [`f64::total_cmp`] order, or `None` as soon as there are more than
/// `limit`: memory for `limit` values, not a copy of the column.
fn distinct_sorted_up_to(values: &[f64], limit: usize) -> Option<Vec<f64>> {
    // The key `total_cmp` compares (an involution: applied twice it gives the bits back).
    let key = |bits: i64| bits ^ (((bits >> 63) as u64) >> 1) as i64;
    let mut distinct = std::collections::BTreeSet::new();
    for v in values {
        distinct.insert(key(v.to_bits() as i64));
        // One more: -0.0 and 0.0 are two keys but one value.
        if distinct.len() > limit + 1 {
            return None;
        }
    }
    let mut sorted: Vec<f64> = distinct
        .into_iter()
        .map(|k| f64::from_bits(key(k) as u64))
        .collect();
    sorted.dedup();
    (sorted.len() <= limit).then_some(sorted)
}

fn distinct_sorted(values: &[f64]) -> Vec<f64> {
    let mut distinct = values.to_vec();
    distinct.sort_unstable_by(f64::total_cmp);
    distinct.dedup();
    distinct
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{csv, TargetSelect};

    #[test]
    fn distinct_values_up_to_a_limit_match_a_sort() {
        let values = [3.0, -0.0, 0.0, -2.5, 3.0, 1e300, -1e300, 0.0];
        assert_eq!(
            distinct_sorted_up_to(&values, 10).unwrap(),
            distinct_sorted(&values)
        );
        // -0.0 and 0.0 are one value, as in the sort.
        assert_eq!(distinct_sorted_up_to(&values, 5).unwrap().len(), 5);
        assert!(distinct_sorted_up_to(&values, 4).is_none());
    }

    fn table(body: &str) -> Table {
        csv::read(body.as_bytes(), b',', "t.csv", &TargetSelect::Last).unwrap()
    }

    /// The schema learned with the default missing-value texts.
    fn fit(table: &Table, task: Option<Task>) -> Result<TargetSchema> {
        TargetSchema::fit(
            table,
            task,
            TargetScaler::None,
            &crate::cells::default_na_values(),
        )
        .map(|(schema, _, _)| schema)
    }

    /// The targets of `table` encoded with `schema`.
    fn encode(schema: &TargetSchema, table: &Table) -> Result<EncodedTargets> {
        schema
            .encode(table, &crate::cells::default_na_values())
            .map(|(targets, _, _)| targets)
    }

    fn rows(labels: &[&str]) -> String {
        let mut body = String::from("x,y\n");
        for (i, l) in labels.iter().enumerate() {
            body.push_str(&format!("{i},{l}\n"));
        }
        body
    }

    #[test]
    fn few_distinct_integers_classify_others_regress() {
        let schema = fit(&table(&rows(&["10", "9", "2", "9", "10", "2", "2"])), None).unwrap();
        assert_eq!(
            schema,
            TargetSchema::Classify {
                name: "y".into(),
                classes: vec!["2".into(), "9".into(), "10".into()],
                numeric: true
            }
        );
        let floats = fit(&table(&rows(&["1.5", "2", "1.5", "2", "1.5"])), None).unwrap();
        assert_eq!(floats.task(), Task::Regress);
        // As many distinct values as half the rows: regression.
        let half = fit(&table(&rows(&["1", "2", "1", "2"])), None).unwrap();
        assert_eq!(half.task(), Task::Regress);
        let many: Vec<String> = (0..100).map(|i| (i % 25).to_string()).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(
            fit(&table(&rows(&many)), None).unwrap().task(),
            Task::Regress
        );
        let overridden = fit(&table(&rows(&many)), Some(Task::Classify)).unwrap();
        assert_eq!(overridden.classes().unwrap().len(), 25);
    }

    #[test]
    fn text_classes_sort_lexicographically() {
        let schema = fit(&table(&rows(&["dog", "cat", "Zebra", "cat"])), None).unwrap();
        assert_eq!(schema.classes().unwrap(), ["Zebra", "cat", "dog"]);
        let encoded = encode(&schema, &table(&rows(&["dog", "cat", "Zebra", "cat"]))).unwrap();
        assert_eq!(encoded, EncodedTargets::Classes(vec![2, 1, 0, 1]));
    }

    #[test]
    fn regressing_a_text_target_names_the_cell() {
        let msg = fit(&table(&rows(&["1.5", "2", "big"])), Some(Task::Regress))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("t.csv:4: column \"y\" (2): \"big\" is not a number"),
            "{msg}"
        );
    }

    #[test]
    fn numeric_classes_match_by_value_and_unseen_ones_are_located() {
        let schema = fit(&table(&rows(&["0", "1", "0", "1", "0"])), None).unwrap();
        let encoded = encode(&schema, &table(&rows(&["1.0", "0", "1e0"]))).unwrap();
        assert_eq!(encoded, EncodedTargets::Classes(vec![1, 0, 1]));
        let msg = encode(&schema, &table(&rows(&["1", "7"])))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains(
                "t.csv:3: column \"y\" (2): class \"7\" was not among the training classes (0, 1)"
            ),
            "{msg}"
        );
        let values = TargetSchema::Regress {
            name: "y".into(),
            scale: None,
        };
        assert_eq!(
            encode(&values, &table(&rows(&["0.5", "-2"]))).unwrap(),
            EncodedTargets::Values(vec![0.5, -2.0])
        );
    }

    #[test]
    fn task_parses_and_prints() {
        assert_eq!("classify".parse::<Task>().unwrap(), Task::Classify);
        assert_eq!("regress".parse::<Task>().unwrap(), Task::Regress);
        assert!("cluster".parse::<Task>().is_err());
        assert_eq!(Task::Regress.to_string(), "regress");
    }
}
