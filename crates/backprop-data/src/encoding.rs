//! How one column of a table becomes network inputs: learned from the training rows and
//! applied to any row (by [`crate::Preprocessor`]).
//!
//! The kind follows from the training cells, never from the file format:
//! - every present cell a number: **numeric**, scaled; a column whose integers count the
//!   rows (1, 2, 3, ...) is an identifier and left out;
//! - every present cell a word of one boolean pair (`true/false`, `yes/no`, `y/n`, `t/f`, in any
//!   case): **boolean**, 0 or 1;
//! - every present cell an ISO-8601 date or timestamp: **date**, five numeric inputs (year,
//!   month, day, weekday, days since 1970), scaled;
//! - otherwise **text**: one-hot categories, at most `max_categories` of the most frequent ones
//!   plus `other`; a text column whose values are (nearly) all distinct is an identifier and
//!   left out.
//!
//! Missing cells are filled: numbers, booleans and dates with the training median plus a 0/1
//! input that says the cell was missing, text with an input of its own. A column that mixes
//! numbers and words is an error naming the first cell of the minority kind.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::cells::{boolean, boolean_words, Cell};
use crate::date;
use crate::error::{join_limited, Error, Result};
use crate::notes::Note;
use crate::preprocess::{FitOptions, Missing, Scaler};
use crate::table::{Column, Table};

/// How one column becomes network inputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Encoding {
    /// One input, `(x − offset) / scale`; a missing cell takes `fill`, and with `indicator`
    /// a second input is 1 for it and 0 otherwise.
    Numeric {
        /// Subtracted first.
        offset: f64,
        /// Divided by next (never 0).
        scale: f64,
        /// The value of a missing cell (the training median); `None` in models written before
        /// missing values were filled, which refuse them.
        #[serde(default)]
        fill: Option<f64>,
        /// Whether a missing-indicator input follows.
        #[serde(default)]
        indicator: bool,
    },
    /// One input, 1 for the true word of `words` and 0 for the false one.
    Boolean {
        /// The pair, `true/false`, `yes/no`, `y/n` or `t/f`.
        words: String,
        /// The value of a missing cell (the more frequent one).
        fill: f64,
        /// Whether a missing-indicator input follows.
        indicator: bool,
    },
    /// Five inputs from an ISO-8601 date or timestamp, each `(x − offset) / scale`: year,
    /// month, day of month, weekday (0 = Monday), days since 1970-01-01.
    Date {
        /// Subtracted first, one per input.
        offsets: Vec<f64>,
        /// Divided by next, one per input.
        scales: Vec<f64>,
        /// The values of a missing cell (the training medians), one per input.
        fill: Vec<f64>,
        /// Whether a missing-indicator input follows.
        indicator: bool,
    },
    /// One input per category, 1 for the row's category and 0 for the others.
    OneHot {
        /// The categories, sorted; input `i` of the group is `categories[i]`.
        categories: Vec<String>,
        /// Whether an `other` input follows for every value not in `categories` (the column
        /// had more distinct values than `--max-categories`).
        #[serde(default)]
        other: bool,
        /// Whether a last input is 1 for a missing cell.
        #[serde(default)]
        missing: bool,
    },
}

/// What encoding one cell found worth telling.
pub(crate) enum Outcome {
    /// Encoded as the model learned it.
    Known,
    /// A value training did not see, or a missing value training never had, encoded as
    /// `encoded_as`.
    Unseen {
        /// The cell's text.
        value: String,
        /// How it was encoded.
        encoded_as: &'static str,
    },
}

impl Encoding {
    /// The number of network inputs this column takes.
    pub fn width(&self) -> usize {
        match self {
            Encoding::Numeric { indicator, .. } | Encoding::Boolean { indicator, .. } => {
                1 + usize::from(*indicator)
            }
            Encoding::Date { indicator, .. } => date::FEATURES.len() + usize::from(*indicator),
            Encoding::OneHot {
                categories,
                other,
                missing,
            } => categories.len() + usize::from(*other) + usize::from(*missing),
        }
    }

    /// The number of inputs scaled by the [`Scaler`]: 1 for a number, 5 for a date, none for
    /// booleans and categories (and missing indicators), which stay 0/1.
    pub fn scaled_inputs(&self) -> usize {
        match self {
            Encoding::Numeric { .. } => 1,
            Encoding::Date { .. } => date::FEATURES.len(),
            Encoding::Boolean { .. } | Encoding::OneHot { .. } => 0,
        }
    }

    /// A name per input, for column `name`: `age`, `age=missing`, `when.year`, `colour=red`.
    pub fn input_names(&self, name: &str) -> Vec<String> {
        let mut names = match self {
            Encoding::Numeric { .. } | Encoding::Boolean { .. } => vec![name.to_string()],
            Encoding::Date { .. } => date::FEATURES
                .iter()
                .map(|f| format!("{name}.{f}"))
                .collect(),
            Encoding::OneHot {
                categories, other, ..
            } => {
                let mut names: Vec<String> =
                    categories.iter().map(|c| format!("{name}={c}")).collect();
                if *other {
                    names.push(format!("{name}=(other)"));
                }
                names
            }
        };
        if self.has_missing_input() {
            names.push(format!("{name}=(missing)"));
        }
        names
    }

    /// Whether the last input says that the cell was missing.
    fn has_missing_input(&self) -> bool {
        match self {
            Encoding::Numeric { indicator, .. }
            | Encoding::Boolean { indicator, .. }
            | Encoding::Date { indicator, .. } => *indicator,
            Encoding::OneHot { missing, .. } => *missing,
        }
    }

    /// Writes the inputs of cell `row` of `column` into `out` (`width()` values, zeroed by
    /// the caller). With `strict`, a value the model has not seen is an error rather than
    /// encoded as unknown.
    pub(crate) fn encode(
        &self,
        table: &Table,
        column: &Column,
        row: usize,
        na_values: &[String],
        strict: bool,
        out: &mut [f32],
    ) -> Result<Outcome> {
        let cell = table.cell(column, row, na_values);
        let missing = matches!(cell, Cell::Missing);
        if missing && self.has_missing_input() {
            *out.last_mut().expect("a missing input") = 1.0;
        }
        match self {
            Encoding::Numeric {
                offset,
                scale,
                fill,
                ..
            } => {
                let value = match (cell, fill) {
                    (Cell::Number(v), _) => v,
                    (Cell::Missing, Some(fill)) => *fill,
                    (other, _) => return Err(table.not_a_number(column, row, other)),
                };
                out[0] = scaled(value, *offset, *scale);
            }
            Encoding::Boolean { words, fill, .. } => {
                out[0] = match cell {
                    Cell::Missing => *fill as f32,
                    Cell::Text(text) => match boolean(text) {
                        Some((pair, value)) if boolean_words(pair) == *words => f32::from(value),
                        _ => return Err(not_of_kind(table, column, row, words)),
                    },
                    _ => return Err(not_of_kind(table, column, row, words)),
                };
            }
            Encoding::Date {
                offsets,
                scales,
                fill,
                ..
            } => {
                let values = match cell {
                    Cell::Missing => fill.clone().try_into().expect("five date inputs"),
                    Cell::Text(text) => match date::parse(text) {
                        Some(date) => date.features(),
                        None => return Err(not_of_kind(table, column, row, "an ISO-8601 date")),
                    },
                    _ => return Err(not_of_kind(table, column, row, "an ISO-8601 date")),
                };
                for (i, v) in values.iter().enumerate() {
                    out[i] = scaled(*v, offsets[i], scales[i]);
                }
            }
            Encoding::OneHot {
                categories, other, ..
            } => {
                if missing {
                    return if self.has_missing_input() {
                        Ok(Outcome::Known)
                    } else if strict {
                        Err(missing_value(table, column, row, "the model saw no missing values in this column and --strict refuses them"))
                    } else {
                        Ok(Outcome::Unseen {
                            value: table.text(column, row).into_owned(),
                            encoded_as: "unknown (all zeros)",
                        })
                    };
                }
                if let Cell::NonFinite = cell {
                    return Err(table.not_a_number(column, row, cell));
                }
                let text = table.text(column, row);
                match categories.binary_search_by(|c| c.as_str().cmp(&text)) {
                    Ok(index) => out[index] = 1.0,
                    Err(_) if *other => out[categories.len()] = 1.0,
                    Err(_) if strict => {
                        return Err(Error::UnseenCategory {
                            location: table.location(column, row),
                            column: column.name.clone(),
                            number: column.number,
                            value: text.into_owned(),
                            known: join_limited(categories, 20),
                        })
                    }
                    Err(_) => {
                        return Ok(Outcome::Unseen {
                            value: text.into_owned(),
                            encoded_as: "unknown (all zeros)",
                        })
                    }
                }
            }
        }
        Ok(Outcome::Known)
    }
}

/// The network input of a number: `(value − offset) / scale` in `f64`, then rounded to `f32`.
/// Every path from a number to an input goes through here (a file's cells, a request's
/// numbers, a numeric matrix), so they give the same bits.
#[inline]
pub(crate) fn scaled(value: f64, offset: f64, scale: f64) -> f32 {
    ((value - offset) / scale) as f32
}

/// A column learned from training rows: a feature, or left out (and why).
pub(crate) enum Fitted {
    /// The column is a feature: its encoding, the notes about it, and how many of its inputs
    /// [`Scaler::Auto`] min-max scaled rather than standardized.
    Feature(Encoding, Vec<Note>, usize),
    /// The column is not a feature; the reason names the flag that changes it.
    LeftOut(String),
}

/// What the training cells of a column hold.
struct Scan<'t> {
    /// `(row, value)` of the number cells.
    numbers: Vec<(usize, f64)>,
    /// `(row, text)` of the text cells.
    texts: Vec<(usize, &'t str)>,
    /// Rows whose cell is missing.
    missing: Vec<usize>,
}

/// Learns the encoding of `column` from the training `rows`. `may_leave_out` allows leaving it
/// out as an identifier (not for columns the user named).
pub(crate) fn fit_column(
    table: &Table,
    column: &Column,
    rows: &[usize],
    options: &FitOptions,
    may_leave_out: bool,
) -> Result<Fitted> {
    let scan = scan(table, column, rows, &options.na_values)?;
    if scan.missing.len() == rows.len() {
        return Ok(Fitted::LeftOut(
            "every training cell is missing".to_string(),
        ));
    }
    if let (Missing::Error, Some(&row)) = (options.missing, scan.missing.first()) {
        return Err(missing_value(
            table,
            column,
            row,
            "--missing error refuses missing values (the default, --missing impute, fills them in)",
        ));
    }
    let mut notes = Vec::new();
    let mut minmax = 0;
    let indicator = !scan.missing.is_empty();
    let filled = |with: String, notes: &mut Vec<Note>, indicator: bool| {
        if !scan.missing.is_empty() {
            notes.push(Note::Filled {
                column: column.name.clone(),
                cells: scan.missing.len(),
                rows: rows.len(),
                with,
                indicator,
            });
        }
    };
    let encoding = if scan.texts.is_empty() {
        let values: Vec<f64> = scan.numbers.iter().map(|&(_, v)| v).collect();
        if may_leave_out && scan.missing.is_empty() && counts_rows(&scan.numbers) {
            return Ok(Fitted::LeftOut(
                "its integers count the rows (1, 2, 3, ...), as an identifier does; --keep NAME \
                 makes it a feature, --id NAME passes it through to the predictions"
                    .to_string(),
            ));
        }
        let fill = median(&values);
        let (offset, scale, chosen) = fit_scale(
            &with_fill(&values, scan.missing.len(), fill),
            options.scaler,
        );
        minmax += auto_minmax(options.scaler, chosen);
        if let Some(row) = out_of_scale(&scan.numbers, offset, scale) {
            return Err(not_of_kind(
                table,
                column,
                row,
                "a number the scaler can bring into range (the column's spread overflows: \
                 max − min, the mean or the standard deviation is not finite, or a scaled \
                 value is beyond ±3.4e38)",
            ));
        }
        filled(format!("the median {fill}"), &mut notes, indicator);
        Encoding::Numeric {
            offset,
            scale,
            fill: Some(fill),
            indicator,
        }
    } else if !scan.numbers.is_empty() {
        return Err(mixed(table, column, &scan));
    } else if let Some(pair) = one_boolean_pair(&scan.texts) {
        let ones = scan
            .texts
            .iter()
            .filter(|(_, t)| boolean(t).is_some_and(|b| b.1))
            .count();
        let fill = if 2 * ones > scan.texts.len() {
            1.0
        } else {
            0.0
        };
        let words = boolean_words(pair);
        notes.push(Note::ReadAs {
            column: column.name.clone(),
            kind: format!("booleans ({words} → 1/0)"),
        });
        filled(
            format!("{fill}, the more frequent value"),
            &mut notes,
            indicator,
        );
        Encoding::Boolean {
            words,
            fill,
            indicator,
        }
    } else if let Some(dates) = all_dates(&scan.texts) {
        let mut offsets = Vec::new();
        let mut scales = Vec::new();
        let mut fills = Vec::new();
        for i in 0..date::FEATURES.len() {
            let values: Vec<f64> = dates.iter().map(|d| d[i]).collect();
            let fill = median(&values);
            let (offset, scale, chosen) = fit_scale(
                &with_fill(&values, scan.missing.len(), fill),
                options.scaler,
            );
            minmax += auto_minmax(options.scaler, chosen);
            offsets.push(offset);
            scales.push(scale);
            fills.push(fill);
        }
        notes.push(Note::ReadAs {
            column: column.name.clone(),
            kind: "dates (year, month, day, weekday, days since 1970-01-01)".to_string(),
        });
        filled("the median date".to_string(), &mut notes, indicator);
        Encoding::Date {
            offsets,
            scales,
            fill: fills,
            indicator,
        }
    } else if let Some(&(row, _)) = stray_date(&scan.texts) {
        return Err(not_of_kind(
            table,
            column,
            row,
            "an ISO-8601 date, as most cells of the column are",
        ));
    } else {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for &(_, text) in &scan.texts {
            *counts.entry(text).or_default() += 1;
        }
        let present = scan.texts.len();
        if may_leave_out && present >= 20 && 10 * counts.len() >= 9 * present {
            return Ok(Fitted::LeftOut(format!(
                "{} distinct values in {present} rows: an identifier rather than a category; \
                 --keep NAME makes it a feature, --id NAME passes it through to the predictions",
                counts.len()
            )));
        }
        let mut by_frequency: Vec<(&str, usize)> = counts.into_iter().collect();
        by_frequency.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let distinct = by_frequency.len();
        let other = distinct > options.max_categories;
        let mut categories: Vec<String> = by_frequency
            .iter()
            .take(options.max_categories)
            .map(|(c, _)| c.to_string())
            .collect();
        categories.sort_unstable();
        if other {
            notes.push(Note::Capped {
                column: column.name.clone(),
                kept: categories.len(),
                distinct,
            });
        }
        filled("a category of their own".to_string(), &mut notes, false);
        Encoding::OneHot {
            categories,
            other,
            missing: indicator,
        }
    };
    Ok(Fitted::Feature(encoding, notes, minmax))
}

/// 1 when [`Scaler::Auto`] chose min-max scaling for an input, else 0.
fn auto_minmax(asked: Scaler, chosen: Scaler) -> usize {
    usize::from(asked == Scaler::Auto && chosen == Scaler::Minmax)
}

/// Reads the training cells; a non-finite number is an error.
fn scan<'t>(table: &Table, column: &'t Column, rows: &[usize], na: &[String]) -> Result<Scan<'t>> {
    let mut scan = Scan {
        numbers: Vec::new(),
        texts: Vec::new(),
        missing: Vec::new(),
    };
    for &row in rows {
        match table.cell(column, row, na) {
            Cell::Number(v) => scan.numbers.push((row, v)),
            Cell::Text(text) => scan.texts.push((row, text)),
            Cell::Missing => scan.missing.push(row),
            bad @ Cell::NonFinite => return Err(table.not_a_number(column, row, bad)),
        }
    }
    Ok(scan)
}

/// The error for a column that mixes numbers and words, at the first cell of the minority.
fn mixed(table: &Table, column: &Column, scan: &Scan<'_>) -> Error {
    let stray_text = scan.numbers.len() >= scan.texts.len();
    let row = if stray_text {
        scan.texts[0].0
    } else {
        scan.numbers[0].0
    };
    Error::MixedColumn {
        location: table.location(column, row),
        column: column.name.clone(),
        number: column.number,
        value: table.text(column, row).into_owned(),
        stray_number: !stray_text,
        others: if stray_text {
            scan.numbers.len()
        } else {
            scan.texts.len()
        },
    }
}

fn missing_value(table: &Table, column: &Column, row: usize, why: &str) -> Error {
    Error::MissingValue {
        location: table.location(column, row),
        column: column.name.clone(),
        number: column.number,
        value: table.text(column, row).into_owned(),
        why: why.to_string(),
    }
}

pub(crate) fn not_of_kind(table: &Table, column: &Column, row: usize, expected: &str) -> Error {
    Error::NotOfKind {
        location: table.location(column, row),
        column: column.name.clone(),
        number: column.number,
        value: table.text(column, row).into_owned(),
        expected: expected.to_string(),
    }
}

/// The one boolean pair every text belongs to, if there is one.
fn one_boolean_pair(texts: &[(usize, &str)]) -> Option<usize> {
    let mut pair = None;
    for &(_, text) in texts {
        let (this, _) = boolean(text)?;
        if pair.is_some_and(|p| p != this) {
            return None;
        }
        pair = Some(this);
    }
    pair
}

/// The date features of every text, if every one is a date.
fn all_dates(texts: &[(usize, &str)]) -> Option<Vec<[f64; 5]>> {
    texts
        .iter()
        .map(|&(_, text)| date::parse(text).map(|d| d.features()))
        .collect()
}

/// In a column whose texts are mostly dates (at least two, and more than half), the first text
/// that is not one: a typo rather than a category.
fn stray_date<'a, 't>(texts: &'a [(usize, &'t str)]) -> Option<&'a (usize, &'t str)> {
    let dates = texts
        .iter()
        .filter(|(_, t)| date::parse(t).is_some())
        .count();
    if dates >= 2 && 2 * dates > texts.len() {
        texts.iter().find(|(_, t)| date::parse(t).is_none())
    } else {
        None
    }
}

/// Whether the `(row, value)` pairs count the rows: integers that go up (or down) by exactly
/// as much as the row index, a row number rather than a measurement. Only for 20 rows or more.
fn counts_rows(numbers: &[(usize, f64)]) -> bool {
    let Some(&(first_row, first)) = numbers.first() else {
        return false;
    };
    numbers.len() >= 20
        && numbers.iter().all(|(_, v)| v.fract() == 0.0)
        && [1.0, -1.0].iter().any(|step| {
            numbers
                .iter()
                .all(|&(row, v)| v - first == step * (row - first_row) as f64)
        })
}

/// The median (the mean of the two middle values for an even count). `values` is not empty.
fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// `values` and `missing` copies of `fill`: the column as training sees it after filling.
fn with_fill(values: &[f64], missing: usize, fill: f64) -> Vec<f64> {
    let mut all = values.to_vec();
    all.extend(std::iter::repeat_n(fill, missing));
    all
}

/// At least this share of a column's training values at its minimum or maximum makes
/// [`Scaler::Auto`] min-max scale it: pixels (mostly 0), counts (mostly 0), indicators (all at
/// one end or the other). Standardizing such a column divides by a tiny standard deviation
/// when it is nearly constant, and a value beyond the training range (a stroke on a border
/// pixel of a test digit) becomes huge; its range is a safer unit.
pub const AUTO_MINMAX_SHARE: f64 = 0.5;

/// The offset and scale of `scaler` for these values, with the scaler that produced them
/// (what [`Scaler::Auto`] chose; the scaler itself otherwise).
/// The row of a value whose scaled input would not be a finite `f32` (numbers near the
/// ends of `f64`, found by the `parquet` fuzz target: `1e308` and `-1e308` overflow
/// `max − min` and the variance), the one farthest from the offset; `None` when all are fine.
fn out_of_scale(numbers: &[(usize, f64)], offset: f64, scale: f64) -> Option<usize> {
    let bad = |&&(_, v): &&(usize, f64)| !scaled(v, offset, scale).is_finite();
    if !offset.is_finite() || !scale.is_finite() || numbers.iter().any(|n| bad(&n)) {
        let farthest = numbers.iter().max_by(|a, b| {
            let distance = |v: f64| (v / 2.0 - offset / 2.0).abs();
            distance(a.1).total_cmp(&distance(b.1))
        });
        return farthest.map(|&(row, _)| row);
    }
    None
}

pub(crate) fn fit_scale(values: &[f64], scaler: Scaler) -> (f64, f64, Scaler) {
    let n = values.len() as f64;
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let scaler = match scaler {
        Scaler::Auto => {
            let at_bounds = values.iter().filter(|&&v| v == min || v == max).count();
            if at_bounds as f64 >= AUTO_MINMAX_SHARE * n {
                Scaler::Minmax
            } else {
                Scaler::Standard
            }
        }
        other => other,
    };
    let (offset, scale) = match scaler {
        Scaler::None => (0.0, 1.0),
        Scaler::Standard | Scaler::Auto => {
            let mean = values.iter().sum::<f64>() / n;
            let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
            let std = var.sqrt();
            (mean, if std > 0.0 { std } else { 1.0 })
        }
        Scaler::Minmax => (min, if max > min { max - min } else { 1.0 }),
    };
    (offset, scale, scaler)
}
