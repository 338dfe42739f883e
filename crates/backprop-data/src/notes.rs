//! What the data layer decided for the user: filled gaps, left-out columns, capped categories,
//! skipped rows, unseen values. Nothing is decided silently: every decision is a [`Note`] that
//! the front end shows (the command prints them before training and on stderr when predicting).

use std::fmt;

/// One decision, with what it concerned and the option that turns it off.
#[derive(Clone, Debug, PartialEq)]
pub enum Note {
    /// Missing cells of a feature column were filled in.
    Filled {
        /// The column.
        column: String,
        /// How many cells.
        cells: usize,
        /// Out of how many rows.
        rows: usize,
        /// What they were filled with (`the median 3.5`, `a "missing" category`).
        with: String,
        /// Whether a 0/1 missing-indicator input was added.
        indicator: bool,
    },
    /// A column is not a feature.
    LeftOut {
        /// The column.
        column: String,
        /// Why, in words, with the flag that changes it.
        why: String,
    },
    /// A column read as booleans or dates rather than as text.
    ReadAs {
        /// The column.
        column: String,
        /// `booleans (yes/no → 1/0)`, `dates (year, month, day, weekday, days since 1970)`.
        kind: String,
    },
    /// A text column with many categories kept only the most frequent.
    Capped {
        /// The column.
        column: String,
        /// Categories kept.
        kept: usize,
        /// Distinct values in all.
        distinct: usize,
    },
    /// Rows without a target value were left out.
    SkippedRows {
        /// How many.
        rows: usize,
        /// The first few locations (`train.csv:7`).
        first: Vec<String>,
        /// The target column.
        target: String,
    },
    /// A class has fewer than two training rows.
    RareClass {
        /// The class.
        class: String,
        /// Its rows.
        rows: usize,
    },
    /// Values a model has not seen in training, encoded as unknown (all zeros) or as the
    /// column's `other` category.
    Unseen {
        /// The column.
        column: String,
        /// How many cells.
        cells: usize,
        /// The first few values.
        examples: Vec<String>,
        /// How they were encoded.
        encoded_as: String,
    },
    /// `--scale auto` min-max scaled some numeric inputs (see [`crate::Scaler::Auto`]).
    AutoScaled {
        /// Inputs min-max scaled: most of their values at the minimum or maximum.
        minmax: usize,
        /// Inputs standardized.
        standard: usize,
    },
    /// Columns of a file that the model does not use.
    Ignored {
        /// The columns.
        columns: Vec<String>,
    },
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::Filled {
                column,
                cells,
                rows,
                with,
                indicator,
            } => {
                write!(
                    f,
                    "column {column:?}: filled {cells} of {rows} cells with {with}"
                )?;
                if *indicator {
                    write!(f, ", plus a 0/1 input that says which")?;
                }
                write!(f, " (--missing error refuses them)")
            }
            Note::LeftOut { column, why } => write!(f, "column {column:?} is not a feature: {why}"),
            Note::ReadAs { column, kind } => write!(f, "column {column:?} is read as {kind}"),
            Note::Capped {
                column,
                kept,
                distinct,
            } => write!(
                f,
                "column {column:?}: {distinct} distinct values; the {kept} most frequent are \
                 categories, the rest \"other\" (--max-categories N changes it)"
            ),
            Note::SkippedRows {
                rows,
                first,
                target,
            } => write!(
                f,
                "{rows} row(s) without a value in the target {target:?} were left out (first: {})",
                first.join(", ")
            ),
            Note::RareClass { class, rows } => write!(
                f,
                "class {class:?} has only {rows} row(s): too few to learn it or to be split \
                 between training and validation"
            ),
            Note::Unseen {
                column,
                cells,
                examples,
                encoded_as,
            } => write!(
                f,
                "column {column:?}: {cells} cell(s) hold values not seen in training ({}), \
                 encoded as {encoded_as} (--strict refuses them)",
                examples
                    .iter()
                    .map(|e| format!("{e:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Note::AutoScaled { minmax, standard } => write!(
                f,
                "scaling: {minmax} numeric input(s) with most values at their minimum or maximum \
                 are min-max scaled to [0, 1], {standard} standardized (--scale standard, minmax \
                 or none applies one rule to all)"
            ),
            Note::Ignored { columns } => write!(
                f,
                "ignored the column(s) the model does not use: {}",
                columns.join(", ")
            ),
        }
    }
}
