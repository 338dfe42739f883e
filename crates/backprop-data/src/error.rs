//! The one error type of the data layer: everything a data file, a model file or a
//! checkpoint can get wrong, each message naming where the problem is.

use std::fmt;

/// Where in a file a row sits: a text line, or a record of a binary file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    /// A 1-based line of a text file (CSV, TSV).
    Line(u64),
    /// A 1-based record (sample) of a binary file (IDX, NumPy) or a built-in dataset.
    Record(u64),
}

/// A place in an input: the file and the row's position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The file as the user named it (or `builtin:NAME`); shared, so that an error stays
    /// small.
    pub file: std::sync::Arc<str>,
    /// The row's line or record.
    pub position: Position,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Position::Line(line) => write!(f, "{}:{line}", self.file),
            Position::Record(record) => write!(f, "{}: record {record}", self.file),
        }
    }
}

/// Everything that can be wrong with input data, a model file or a checkpoint.
///
/// Messages start with the location, like `data.csv:17: column "age" (3): "abc" is not a
/// number`; column numbers are 1-based, as a spreadsheet shows them. A message is complete on
/// its own (`to_string()` says everything; no variant hides a cause behind
/// [`std::error::Error::source`]), so every front end can show it as it is.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be opened or read.
    #[error("{path}: {cause}")]
    Io {
        /// The file.
        path: String,
        /// What the operating system said.
        cause: std::io::Error,
    },
    /// The CSV reader rejected the text (for example, invalid UTF-8).
    #[error("{location}: {message}")]
    Csv {
        /// Where.
        location: Location,
        /// The reader's message.
        message: String,
    },
    /// The file holds nothing, not even a header row.
    #[error("{file}: the file is empty (expected a header row naming the columns)")]
    Empty {
        /// The file.
        file: String,
    },
    /// The header row is not followed by data.
    #[error("{file}: the header row is not followed by any data rows")]
    NoRows {
        /// The file.
        file: String,
    },
    /// A header cell is empty.
    #[error("{file}:1: column {number} has an empty name in the header row")]
    EmptyColumnName {
        /// The file.
        file: String,
        /// The 1-based column number.
        number: usize,
    },
    /// Two columns share a name.
    #[error("{file}:1: column {} appears twice (columns {first} and {second})", crate::error::quote_short(.name))]
    DuplicateColumn {
        /// The file.
        file: String,
        /// The repeated name.
        name: String,
        /// The 1-based number of its first occurrence.
        first: usize,
        /// The 1-based number of its second occurrence.
        second: usize,
    },
    /// A row has more or fewer fields than the header.
    #[error("{location}: the row has {got} fields, but the header has {expected}")]
    Ragged {
        /// Where.
        location: Location,
        /// The header's field count.
        expected: usize,
        /// This row's field count.
        got: usize,
    },
    /// A cell holds a missing value where none may be: with `--missing error`, or in a column
    /// the model has no fill value for.
    #[error("{location}: column {} ({number}) has no value ({}); {why}", crate::error::quote_short(.column), crate::error::quote_short(.value))]
    MissingValue {
        /// Where.
        location: Location,
        /// The column's name.
        column: String,
        /// The column's 1-based number.
        number: usize,
        /// The cell's text (empty, `NA`, ...).
        value: String,
        /// Why it may not be missing, and what to do.
        why: String,
    },
    /// A cell of a numeric column is not a number.
    #[error("{location}: column {} ({number}): {} is not a number", crate::error::quote_short(.column), crate::error::quote_short(.value))]
    NotANumber {
        /// Where.
        location: Location,
        /// The column's name.
        column: String,
        /// The column's 1-based number.
        number: usize,
        /// The cell's text.
        value: String,
    },
    /// A cell of a boolean or date column is neither of its kind nor missing.
    #[error("{location}: column {} ({number}): {} is not {expected}", crate::error::quote_short(.column), crate::error::quote_short(.value))]
    NotOfKind {
        /// Where.
        location: Location,
        /// The column's name.
        column: String,
        /// The column's 1-based number.
        number: usize,
        /// The cell's text.
        value: String,
        /// What the column holds (`yes/no`, `an ISO-8601 date`).
        expected: String,
    },
    /// A cell holds NaN or an infinity.
    #[error("{location}: column {} ({number}): {} is not a finite number", crate::error::quote_short(.column), crate::error::quote_short(.value))]
    NotFinite {
        /// Where.
        location: Location,
        /// The column's name.
        column: String,
        /// The column's 1-based number.
        number: usize,
        /// The cell's text.
        value: String,
    },
    /// A column of the training data mixes numbers with text.
    #[error(
        "{location}: column {} ({number}): {} is {}, but {others} other \
         cells of the column are {}; a column must be all numbers or all text{}",
        crate::error::quote_short(.column),
        crate::error::quote_short(.value),
        if *.stray_number { "a number" } else { "not a number" },
        if *.stray_number { "text" } else { "numbers" },
        if *.stray_number { "" } else { " (if it marks a missing value, add it to --na-values)" }
    )]
    MixedColumn {
        /// Where the first cell of the minority kind is.
        location: Location,
        /// The column's name.
        column: String,
        /// The column's 1-based number.
        number: usize,
        /// The cell's text.
        value: String,
        /// Whether the stray cell is a number among text (else text among numbers).
        stray_number: bool,
        /// How many cells are of the majority kind.
        others: usize,
    },
    /// The requested target column does not exist.
    #[error("{file}: there is no column {target} to predict (the columns are: {columns}){hint}")]
    UnknownTarget {
        /// The file.
        file: String,
        /// The requested name or index, quoted when a name.
        target: String,
        /// The file's columns.
        columns: String,
        /// A suggestion (another delimiter), or empty.
        hint: String,
    },
    /// A column named in `--drop`, `--features`, `--keep` or `--id` does not exist.
    #[error("{file}: {option} names no column {name:?} (the columns are: {columns})")]
    UnknownColumn {
        /// The file.
        file: String,
        /// The option (`--drop`, ...).
        option: String,
        /// The name given.
        name: String,
        /// The file's columns.
        columns: String,
    },
    /// The target of a binary format is fixed and cannot be chosen.
    #[error(
        "{file}: the target of this format is its labels file; choosing a target column \
         applies to CSV, TSV, JSON Lines and Parquet files only"
    )]
    TargetNotSelectable {
        /// The file.
        file: String,
    },
    /// The data has no target column where one is needed.
    #[error("{file}: the target column {} is missing", crate::error::quote_short(.column))]
    MissingTarget {
        /// The file.
        file: String,
        /// The target's name.
        column: String,
    },
    /// Only the target column is present.
    #[error("{file}: there are no feature columns besides the target \"{target}\"")]
    NoFeatures {
        /// The file.
        file: String,
        /// The target's name.
        target: String,
    },
    /// A classification target holds a single class.
    #[error("{file}: the target {} has only one class ({}); nothing to learn", crate::error::quote_short(.column), crate::error::quote_short(.class))]
    SingleClass {
        /// The file.
        file: String,
        /// The target's name.
        column: String,
        /// The only class.
        class: String,
    },
    /// A file lacks feature columns the model was trained on.
    #[error(
        "{file}: the model's feature column(s) {missing} are missing (the file has: {columns})"
    )]
    MissingColumns {
        /// The file.
        file: String,
        /// The model's columns the file lacks, comma separated.
        missing: String,
        /// The file's columns.
        columns: String,
    },
    /// A categorical cell holds a category not seen in training.
    #[error(
        "{location}: column {} ({number}): {} is a category the model has not \
         seen (known: {known})",
        crate::error::quote_short(.column),
        crate::error::quote_short(.value)
    )]
    UnseenCategory {
        /// Where.
        location: Location,
        /// The column's name.
        column: String,
        /// The column's 1-based number.
        number: usize,
        /// The cell's text.
        value: String,
        /// The known categories, comma separated.
        known: String,
    },
    /// A target cell holds a class not seen in training.
    #[error(
        "{location}: column {} ({number}): class {} was not among the \
         training classes ({known})",
        crate::error::quote_short(.column),
        crate::error::quote_short(.value)
    )]
    UnseenClass {
        /// Where.
        location: Location,
        /// The target's name.
        column: String,
        /// The column's 1-based number.
        number: usize,
        /// The cell's text.
        value: String,
        /// The training classes, comma separated.
        known: String,
    },
    /// A binary file (IDX, NumPy, gzip) is malformed.
    #[error("{file}: {message}")]
    Format {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// `builtin:NAME` names no built-in dataset.
    #[error("there is no built-in dataset \"builtin:{name}\" (available: {known})")]
    UnknownBuiltin {
        /// The name after `builtin:`.
        name: String,
        /// The available names, comma separated.
        known: String,
    },
    /// The file's name says nothing about its format.
    #[error(
        "{path}: unknown data format; expected .csv or .tsv (optionally .gz), .jsonl or \
         .ndjson (JSON Lines, optionally .gz), .parquet, *-images-idx3-ubyte[.gz] (MNIST IDX), \
         *X.npy (NumPy, with *y.npy beside it), or builtin:NAME"
    )]
    UnknownFormat {
        /// The path.
        path: String,
    },
    /// The bytes of a model or weights file are not a valid safetensors file, or its
    /// metadata does not describe a backprop model (the message says what is wrong).
    #[error("{0}")]
    InvalidModel(String),
    /// The engine refused a network, tensor or setting read from a file.
    #[error(transparent)]
    Engine(#[from] backprop::Error),
    /// A model file could not be read or is not a valid model.
    #[error("cannot load the model {path}: {cause}")]
    LoadModel {
        /// The model file.
        path: String,
        /// What went wrong.
        cause: Box<Error>,
    },
    /// A file could not be written (the existing file, if any, is left as it was).
    #[error("cannot write {path}: {cause}")]
    Write {
        /// The file.
        path: String,
        /// What the operating system said.
        cause: std::io::Error,
    },
    /// A file given as starting weights (`--init`) cannot be used.
    #[error("cannot use {path} as initial weights: {cause}")]
    InitialWeights {
        /// The weights file.
        path: String,
        /// What went wrong.
        cause: Box<Error>,
    },
    /// A checkpoint folder cannot be resumed from.
    #[error("cannot resume from {dir}: {cause}")]
    Resume {
        /// The checkpoint folder.
        dir: String,
        /// What went wrong.
        cause: Box<Error>,
    },
    /// A scoring request's body does not hold rows the model can read (the message names the
    /// field of the body and the row, counted from 1).
    #[error("{message}")]
    Request {
        /// What is wrong, and where.
        message: String,
    },
    /// A line of a JSON Lines file is not an object of plain values.
    #[error("{location}: {message}")]
    Json {
        /// Where.
        location: Location,
        /// What is wrong, naming the key where there is one.
        message: String,
    },
    /// A column of a Parquet file has a type that cannot be a cell (a list, a struct, bytes).
    #[error(
        "{file}: column \"{column}\" ({number}) has the type {kind}, which is not read (a cell \
         is a number, text, a boolean, a date, a time or a timestamp)"
    )]
    UnsupportedColumn {
        /// The file.
        file: String,
        /// The column's name.
        column: String,
        /// The column's 1-based number.
        number: usize,
        /// The column's type, as the file declares it.
        kind: String,
    },
    /// A model that cannot be written in an export format (the message says what it lacks).
    #[error("cannot export the model to {format}: {message}")]
    Export {
        /// The format (`ONNX`).
        format: &'static str,
        /// What stands in the way.
        message: String,
    },
    /// The file's format is read only by a build with a cargo feature this one lacks.
    #[error(
        "{path}: reading {format} files needs backprop built with the `{feature}` feature \
         (for the command: cargo install --path crates/backprop-cli --features {feature})"
    )]
    MissingFeature {
        /// The file.
        path: String,
        /// The format, as people call it (`Parquet`).
        format: &'static str,
        /// The cargo feature that reads it.
        feature: &'static str,
    },
}

impl Error {
    /// An [`Error::InvalidModel`] with this message.
    pub(crate) fn model(message: impl Into<String>) -> Self {
        Error::InvalidModel(message.into())
    }
}

/// The result of a data operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Joins names for messages: `a, b, c`, cut short after `limit` names.
pub(crate) fn join_limited<S: AsRef<str>>(names: &[S], limit: usize) -> String {
    let mut out = names
        .iter()
        .take(limit)
        .map(|n| n.as_ref())
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > limit {
        out.push_str(&format!(", ... ({} in all)", names.len()));
    }
    out
}

/// The most characters of a cell or name that a message quotes.
pub(crate) const QUOTE_LIMIT: usize = 40;

/// `text` quoted for a message (`"abc"`), cut after [`QUOTE_LIMIT`] characters with its full
/// length (`"abcd..." (104857600 characters)`), so that a 100 MB cell makes a short error.
pub(crate) fn quote_short(text: &str) -> String {
    match text.char_indices().nth(QUOTE_LIMIT) {
        None => format!("\"{text}\""),
        Some((end, _)) => format!(
            "\"{}...\" ({} characters)",
            &text[..end],
            text.chars().count()
        ),
    }
}
