//! The rows of a scoring request (a prediction server's JSON or CSV body) as a [`Table`], so
//! that they go through the same preprocessing as a file given to `backprop predict`.
//!
//! Every shape a client may send becomes text cells exactly as [`crate::jsonl`] reads a JSON
//! Lines file (a number becomes the shortest text that reads back as the same `f64`, `null`
//! an empty, missing cell, a string its trimmed text), so a request's rows give the network
//! the very inputs the same rows in a CSV file give:
//!
//! - **records** ([`records`]): `[{"column": value, ...}, ...]` (MLflow `dataframe_records`,
//!   `instances` of objects);
//! - **split** ([`split`]): `{"columns": [...], "data": [[...], ...]}` (MLflow
//!   `dataframe_split`);
//! - **positional rows** ([`positional`]): `[[v1, v2, ...], ...]`, the model's feature
//!   columns in training order (TF Serving / KServe V1 `instances`);
//! - **columnar** ([`columnar`]): `{"column": [v, ...], ...}` (MLflow `inputs`);
//! - **tensors** ([`tensors`]): the `inputs` of an Open Inference Protocol (KServe V2) request;
//! - **CSV** ([`csv()`]): a body with a header row.
//!
//! Rows of numbers for an all-numeric model take a faster road to the same inputs
//! ([`NumericReader`]).
//!
//! [`encode`] then turns the table into the network's inputs and refuses columns the model
//! does not know. Errors are [`Error::Request`], naming the field of the body and the row
//! (rows counted from 1), or the preprocessing's own located errors, which name the row as
//! `request: record N` (or `request:N`, the line, for CSV).

mod numbers;

pub use numbers::{Body, Layout, NumericReader, NumericRows};

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::encoding::Encoding;
use crate::error::{Error, Result};
use crate::notes::Note;
use crate::preprocess::{EncodeOptions, Preprocessor};
use crate::source::TargetSelect;
use crate::table::{Column, Table, TextCells, Values};

/// The name a request's table goes by in messages.
pub const SOURCE: &str = "request";

/// An [`Error::Request`] with this message.
pub fn error(message: impl Into<String>) -> Error {
    Error::Request {
        message: message.into(),
    }
}

/// A cell's text, as [`crate::jsonl`] reads it, or what the value is when it cannot be a cell.
pub fn cell(value: &Value) -> std::result::Result<Cow<'_, str>, &'static str> {
    match value {
        Value::String(text) => Ok(Cow::Borrowed(text.trim())),
        Value::Number(number) => Ok(Cow::Owned(match (number.as_i64(), number.as_u64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(u)) => u.to_string(),
            _ => format!("{}", number.as_f64().unwrap_or(f64::NAN)),
        })),
        Value::Bool(true) => Ok(Cow::Borrowed("true")),
        Value::Bool(false) => Ok(Cow::Borrowed("false")),
        Value::Null => Ok(Cow::Borrowed("")),
        Value::Array(_) => Err("an array"),
        Value::Object(_) => Err("an object"),
    }
}

/// Columns gathered row by row.
struct Builder<'p> {
    names: Vec<String>,
    index: HashMap<String, usize>,
    cells: Vec<Cells>,
    rows: usize,
    pre: &'p Preprocessor,
    /// The model's numeric feature columns (made when first needed).
    numeric: Option<HashSet<&'p str>>,
}

/// The cells of a column: numbers while every value is a JSON number and the model reads the
/// column as numbers (the very numbers it would parse from their text), else text.
enum Cells {
    Numbers(Vec<f64>),
    Text(TextCells),
}

impl Cells {
    /// Appends the cell `value`, whose text `text()` gives.
    fn push<'v>(
        &mut self,
        value: &'v Value,
        text: impl FnOnce() -> Result<Cow<'v, str>>,
    ) -> Result<()> {
        if let (Cells::Numbers(numbers), Value::Number(n)) = (&mut *self, value) {
            numbers.push(n.as_f64().unwrap_or(f64::NAN));
            return Ok(());
        }
        let text = text()?;
        self.push_text(&text);
        Ok(())
    }

    fn push_text(&mut self, text: &str) {
        if let Cells::Numbers(numbers) = self {
            // Rust's shortest text of an f64 reads back as the same f64.
            let mut cells = TextCells::default();
            for x in numbers.iter() {
                cells.push(&format!("{x}"));
            }
            *self = Cells::Text(cells);
        }
        if let Cells::Text(cells) = self {
            cells.push(text);
        }
    }
}

impl<'p> Builder<'p> {
    fn new(pre: &'p Preprocessor) -> Self {
        Self {
            names: Vec::new(),
            index: HashMap::new(),
            cells: Vec::new(),
            rows: 0,
            pre,
            numeric: None,
        }
    }

    fn with_names(names: Vec<String>, field: &str, pre: &'p Preprocessor) -> Result<Self> {
        let mut builder = Builder::new(pre);
        for name in names {
            builder.add_column(&name, field)?;
        }
        Ok(builder)
    }

    /// The model's feature columns, in training order (no names to look up: they are the
    /// model's own).
    fn features(pre: &'p Preprocessor) -> Self {
        let mut builder = Builder::new(pre);
        for feature in &pre.features {
            builder.names.push(feature.name.clone());
            builder.cells.push(match feature.encoding {
                Encoding::Numeric { .. } => Cells::Numbers(Vec::new()),
                _ => Cells::Text(TextCells::default()),
            });
        }
        builder
    }

    /// Whether the model reads column `name` as numbers.
    fn is_numeric(&mut self, name: &str) -> bool {
        let pre = self.pre;
        self.numeric
            .get_or_insert_with(|| {
                pre.features
                    .iter()
                    .filter(|f| matches!(f.encoding, Encoding::Numeric { .. }))
                    .map(|f| f.name.as_str())
                    .collect()
            })
            .contains(name)
    }

    /// Appends `value` to column `column` as row `row`'s cell (`field` for messages).
    fn push(&mut self, column: usize, value: &Value, field: &str, row: usize) -> Result<()> {
        let name = &self.names[column];
        self.cells[column].push(value, || cell_at(value, field, row, name))
    }

    /// Adds a column (empty cells for the rows so far), or an error if it exists.
    fn add_column(&mut self, name: &str, field: &str) -> Result<usize> {
        let name = name.trim();
        if name.is_empty() {
            return Err(error(format!("{field}: a column name is empty")));
        }
        if self.index.contains_key(name) {
            return Err(error(format!("{field}: column \"{name}\" appears twice")));
        }
        self.index.insert(name.to_string(), self.names.len());
        self.names.push(name.to_string());
        let numbers = self.rows == 0 && self.is_numeric(name);
        self.cells.push(if numbers {
            Cells::Numbers(Vec::new())
        } else {
            Cells::Text(std::iter::repeat_n("", self.rows).collect())
        });
        Ok(self.names.len() - 1)
    }

    fn into_table(self, target: &str) -> Result<Table> {
        if self.rows == 0 {
            return Err(error("the request has no rows"));
        }
        let target = self.names.iter().position(|n| n == target);
        let columns = self
            .names
            .into_iter()
            .zip(self.cells)
            .enumerate()
            .map(|(i, (name, cells))| Column {
                name,
                number: i + 1,
                file: SOURCE.to_string(),
                values: match cells {
                    Cells::Numbers(numbers) => Values::Numbers(numbers),
                    Cells::Text(cells) => Values::Text(cells),
                },
            })
            .collect();
        Ok(Table::from_records(
            SOURCE.to_string(),
            self.rows,
            columns,
            target,
        ))
    }
}

/// The text of `value` as row `row`'s (0-based) cell of `column`, or an error naming them.
fn cell_at<'v>(value: &'v Value, field: &str, row: usize, column: &str) -> Result<Cow<'v, str>> {
    cell(value).map_err(|kind| {
        error(format!(
            "{field}: row {}, column \"{column}\": {kind} is not a cell value (a cell is a \
             string, a number, a boolean or null)",
            row + 1
        ))
    })
}

fn as_array<'v>(value: &'v Value, field: &str, what: &str) -> Result<&'v [Value]> {
    value
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| error(format!("{field} must be {what}, not {}", kind(value))))
}

/// What kind of JSON value this is, for messages.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `[{"column": value, ...}, ...]`: one object per row; a key an object lacks is a missing
/// cell. `field` names the part of the body in messages (`dataframe_records`).
pub fn records(value: &Value, field: &str, pre: &Preprocessor) -> Result<Table> {
    let rows = as_array(value, field, "an array of objects (one per row)")?;
    let mut builder = Builder::new(pre);
    let mut set: Vec<bool> = Vec::new();
    for (row, record) in rows.iter().enumerate() {
        let Value::Object(object) = record else {
            return Err(error(format!(
                "{field}: row {} is {}, not an object of column values",
                row + 1,
                kind(record)
            )));
        };
        for (key, value) in object {
            let column = match builder.index.get(key.trim()) {
                Some(&column) => column,
                None => {
                    set.push(false);
                    builder.add_column(key, field)?
                }
            };
            builder.push(column, value, field, row)?;
            set[column] = true;
        }
        for (cells, was_set) in builder.cells.iter_mut().zip(set.iter_mut()) {
            if !*was_set {
                cells.push_text("");
            }
            *was_set = false;
        }
        builder.rows += 1;
    }
    builder.into_table(pre.target.name())
}

/// `{"columns": [...], "data": [[...], ...]}`: each row of `data` holds one value per name of
/// `columns` (any `index` is ignored).
pub fn split(value: &Value, field: &str, pre: &Preprocessor) -> Result<Table> {
    let Value::Object(object) = value else {
        return Err(error(format!(
            "{field} must be an object with \"columns\" and \"data\", not {}",
            kind(value)
        )));
    };
    for key in object.keys() {
        if !["columns", "data", "index"].contains(&key.as_str()) {
            return Err(error(format!(
                "{field}: unknown field \"{key}\" (expected \"columns\", \"data\" and an \
                 optional \"index\")"
            )));
        }
    }
    let Some(columns) = object.get("columns") else {
        return Err(error(format!("{field}: \"columns\" is missing")));
    };
    let names = as_array(columns, &format!("{field}.columns"), "an array of names")?
        .iter()
        .map(|name| match name {
            Value::String(name) => Ok(name.clone()),
            other => Err(error(format!(
                "{field}.columns: a column name must be a string, not {}",
                kind(other)
            ))),
        })
        .collect::<Result<Vec<_>>>()?;
    let data = object
        .get("data")
        .ok_or_else(|| error(format!("{field}: \"data\" is missing")))?;
    let rows = as_array(data, &format!("{field}.data"), "an array of rows")?;
    let builder = Builder::with_names(names, &format!("{field}.data"), pre)?;
    rows_of(rows, builder, &format!("{field}.data"), "the columns", pre)
}

/// `[[v1, v2, ...], ...]`: each row holds one value per feature column of the model, in the
/// order of training (see [`Preprocessor::features`]).
pub fn positional(value: &Value, field: &str, pre: &Preprocessor) -> Result<Table> {
    let rows = as_array(value, field, "an array of rows")?;
    rows_of(
        rows,
        Builder::features(pre),
        field,
        "the model's feature columns",
        pre,
    )
}

fn rows_of(
    rows: &[Value],
    mut builder: Builder<'_>,
    field: &str,
    what: &str,
    pre: &Preprocessor,
) -> Result<Table> {
    for (row, values) in rows.iter().enumerate() {
        let Value::Array(values) = values else {
            return Err(error(format!(
                "{field}: row {} is {}, not an array of values",
                row + 1,
                kind(values)
            )));
        };
        if values.len() != builder.names.len() {
            return Err(error(format!(
                "{field}: row {} has {} values, but there are {} columns ({what}: {})",
                row + 1,
                values.len(),
                builder.names.len(),
                limited(&builder.names)
            )));
        }
        for (column, value) in values.iter().enumerate() {
            builder.push(column, value, field, row)?;
        }
        builder.rows += 1;
    }
    builder.into_table(pre.target.name())
}

/// `{"column": [v, ...], ...}`: one array of cells per column, all of the same length.
pub fn columnar(value: &Value, field: &str, pre: &Preprocessor) -> Result<Table> {
    let Value::Object(object) = value else {
        return Err(error(format!(
            "{field} must be an object of columns, not {}",
            kind(value)
        )));
    };
    columns_of(object, field, pre)
}

fn columns_of(object: &Map<String, Value>, field: &str, pre: &Preprocessor) -> Result<Table> {
    let mut builder = Builder::new(pre);
    let mut rows = None;
    for (name, values) in object {
        let values = match values {
            Value::Array(values) => values.as_slice(),
            scalar => std::slice::from_ref(scalar),
        };
        match rows {
            None => rows = Some((name, values.len())),
            Some((first, n)) if n != values.len() => {
                return Err(error(format!(
                    "{field}: column \"{name}\" has {} values, but \"{first}\" has {n}",
                    values.len()
                )))
            }
            Some(_) => {}
        }
        let column = builder.add_column(name, field)?;
        for (row, value) in values.iter().enumerate() {
            builder.push(column, value, field, row)?;
        }
    }
    builder.rows = rows.map_or(0, |(_, n)| n);
    builder.into_table(pre.target.name())
}

/// MLflow's `instances` / `inputs` and TF Serving's `instances`: an array of objects
/// ([`records`]), an array of arrays ([`positional`]), a single row of scalars (one value per
/// feature column), or an object of columns ([`columnar`]).
pub fn instances(value: &Value, field: &str, pre: &Preprocessor) -> Result<Table> {
    match value {
        Value::Object(_) => columnar(value, field, pre),
        Value::Array(rows) => match rows.first() {
            Some(Value::Object(_)) => records(value, field, pre),
            Some(Value::Array(_)) => positional(value, field, pre),
            Some(_) => positional(&Value::Array(vec![value.clone()]), field, pre),
            None => Err(error(format!("{field}: the request has no rows"))),
        },
        other => Err(error(format!(
            "{field} must be an array of rows or an object of columns, not {}",
            kind(other)
        ))),
    }
}

/// The `inputs` of an Open Inference Protocol request: either one tensor per feature column
/// (named by it, shape `[N]` or `[N, 1]`), or one tensor of shape `[N, F]` holding the `F`
/// feature columns in training order. `data` may be flat (row-major) or nested.
pub fn tensors(value: &Value, pre: &Preprocessor) -> Result<Table> {
    let inputs = as_array(value, "inputs", "an array of tensors")?;
    let mut parsed = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        parsed.push(Tensor::read(input, i)?);
    }
    if inputs.is_empty() {
        return Err(error("inputs: the request has no tensors"));
    }
    let features = pre.features.len();
    if let [one] = parsed.as_slice() {
        if one.shape.len() == 2 && pre.features.iter().all(|f| f.name != one.name) {
            if one.shape[1] != features {
                return Err(error(format!(
                    "inputs[0] (\"{}\"): shape {:?} has {} columns, but the model has {features} \
                     feature columns ({})",
                    one.name,
                    one.shape,
                    one.shape[1],
                    limited(
                        &pre.features
                            .iter()
                            .map(|f| f.name.clone())
                            .collect::<Vec<_>>()
                    )
                )));
            }
            let mut builder = Builder::features(pre);
            for (k, value) in one.data.iter().enumerate() {
                let (row, column) = (k / features, k % features);
                one.check(value, row, &builder.names[column])?;
                builder.push(column, value, "inputs[0]", row)?;
            }
            builder.rows = one.shape[0];
            return builder.into_table(pre.target.name());
        }
    }
    let mut builder = Builder::new(pre);
    let mut rows = None;
    for (i, tensor) in parsed.iter().enumerate() {
        let field = format!("inputs[{i}] (\"{}\")", tensor.name);
        if tensor.shape.len() > 2 || tensor.shape.get(1).is_some_and(|&w| w != 1) {
            return Err(error(format!(
                "{field}: shape {:?}; a column's tensor has the shape [N] or [N, 1] (or send \
                 one tensor [N, {features}] of the feature columns in training order)",
                tensor.shape
            )));
        }
        match rows {
            None => rows = Some(tensor.shape[0]),
            Some(n) if n != tensor.shape[0] => {
                return Err(error(format!(
                    "{field}: {} rows, but inputs[0] has {n}",
                    tensor.shape[0]
                )))
            }
            Some(_) => {}
        }
        let column = builder.add_column(&tensor.name, "inputs")?;
        for (row, value) in tensor.data.iter().enumerate() {
            tensor.check(value, row, &tensor.name)?;
            builder.push(column, value, &format!("inputs[{i}]"), row)?;
        }
    }
    builder.rows = rows.unwrap_or(0);
    builder.into_table(pre.target.name())
}

/// One input tensor of an Open Inference Protocol request.
struct Tensor<'v> {
    index: usize,
    name: String,
    shape: Vec<usize>,
    datatype: String,
    data: Vec<&'v Value>,
}

/// The datatypes of the Open Inference Protocol that hold numbers.
pub(crate) const NUMERIC: [&str; 12] = [
    "BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16",
    "FP32", "FP64",
];

impl<'v> Tensor<'v> {
    fn read(value: &'v Value, index: usize) -> Result<Self> {
        let field = format!("inputs[{index}]");
        let Value::Object(object) = value else {
            return Err(error(format!(
                "{field} must be an object, not {}",
                kind(value)
            )));
        };
        let text = |key: &str| match object.get(key) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(error(format!(
                "{field}.{key} must be a string, not {}",
                kind(other)
            ))),
            None => Err(error(format!("{field}: \"{key}\" is missing"))),
        };
        let name = text("name")?;
        let field = format!("inputs[{index}] (\"{name}\")");
        let datatype = text("datatype")?;
        if datatype != "BYTES" && !NUMERIC.contains(&datatype.as_str()) {
            return Err(error(format!(
                "{field}: unknown datatype \"{datatype}\" (expected BYTES, BOOL, INT*, UINT*, \
                 FP16, FP32 or FP64)"
            )));
        }
        let shape = object
            .get("shape")
            .ok_or_else(|| error(format!("{field}: \"shape\" is missing")))?;
        let shape = as_array(shape, &format!("{field}.shape"), "an array of sizes")?
            .iter()
            .map(|d| {
                d.as_u64().map(|d| d as usize).ok_or_else(|| {
                    error(format!(
                        "{field}.shape: {d} is not a size (a non-negative integer)"
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        if shape.is_empty() {
            return Err(error(format!(
                "{field}: the shape is empty (expected [N, ...])"
            )));
        }
        let mut data = Vec::new();
        let raw = object
            .get("data")
            .ok_or_else(|| error(format!("{field}: \"data\" is missing")))?;
        flatten(raw, &mut data);
        let expected = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if expected != Some(data.len()) {
            return Err(error(format!(
                "{field}: shape {shape:?} needs {} values, but \"data\" has {}",
                expected.map_or("too many".to_string(), |n| n.to_string()),
                data.len()
            )));
        }
        Ok(Self {
            index,
            name,
            shape,
            datatype,
            data,
        })
    }

    /// Checks the value against the datatype, then gives its text.
    fn check(&self, value: &Value, row: usize, column: &str) -> Result<()> {
        let fits = match value {
            Value::String(_) => self.datatype == "BYTES",
            Value::Bool(_) => self.datatype == "BOOL" || self.datatype == "BYTES",
            Value::Number(_) => self.datatype != "BOOL",
            Value::Null => true,
            _ => false,
        };
        if !fits {
            return Err(error(format!(
                "inputs[{}] (\"{}\"): row {}, column \"{column}\": {} does not fit the datatype \
                 {}",
                self.index,
                self.name,
                row + 1,
                kind(value),
                self.datatype
            )));
        }
        Ok(())
    }
}

fn flatten<'v>(value: &'v Value, out: &mut Vec<&'v Value>) {
    match value {
        Value::Array(items) => items.iter().for_each(|item| flatten(item, out)),
        other => out.push(other),
    }
}

/// A CSV body with a header row (the delimiter is a comma).
pub fn csv(body: &[u8], pre: &Preprocessor) -> Result<Table> {
    let target = TargetSelect::IfPresent(pre.target.name().to_string());
    crate::csv::read(body, b',', SOURCE, &target)
}

/// The network's inputs for a request's table: [`Preprocessor::encode_with`] with the target
/// column left alone, and a column the model does not know refused (a server must not guess
/// that a misspelled column was meant). With `strict`, values the model never saw in training
/// (categories, missing cells of a column that had none) are refused, as `backprop predict
/// --strict` refuses them.
pub fn encode(pre: &Preprocessor, table: &Table, strict: bool) -> Result<Vec<f32>> {
    let options = EncodeOptions {
        strict,
        ignore_target: true,
    };
    let encoded = pre.encode_with(table, &options)?;
    for note in &encoded.notes {
        if let Note::Ignored { columns } = note {
            let known: Vec<String> = pre.features.iter().map(|f| f.name.clone()).collect();
            return Err(error(format!(
                "unknown column(s) {}: the model's feature columns are {}",
                columns
                    .iter()
                    .map(|c| format!("\"{c}\""))
                    .collect::<Vec<_>>()
                    .join(", "),
                limited(&known)
            )));
        }
    }
    Ok(encoded.x)
}

/// Names, comma separated, at most 20 of them.
fn limited(names: &[String]) -> String {
    let mut text = names
        .iter()
        .take(20)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > 20 {
        text.push_str(&format!(", … ({} in all)", names.len()));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{load, FitOptions, LoadOptions, Preprocessor};
    use serde_json::json;

    fn xor() -> Preprocessor {
        let table = load("builtin:xor", &LoadOptions::training(None)).unwrap();
        Preprocessor::fit(&table, &FitOptions::default()).unwrap().0
    }

    #[test]
    fn every_shape_gives_the_inputs_a_csv_file_gives() {
        let pre = xor();
        let names: Vec<String> = pre.features.iter().map(|f| f.name.clone()).collect();
        let (a, b) = (names[0].as_str(), names[1].as_str());
        let csv_body = format!("{a},{b}\n0.25,1e2\n-3,\n");
        let want = encode(&pre, &csv(csv_body.as_bytes(), &pre).unwrap(), false).unwrap();
        let tables = [
            records(&json!([{a: 0.25, b: 100.0}, {a: -3, b: null}]), "r", &pre),
            split(
                &json!({"columns": [a, b], "data": [[0.25, 1e2], [-3, null]]}),
                "s",
                &pre,
            ),
            instances(&json!([[0.25, 100], [-3.0, ""]]), "i", &pre),
        ];
        for table in &tables {
            let x = encode(&pre, table.as_ref().unwrap(), false).unwrap();
            assert_eq!(x, want);
        }
        let columnar = instances(&json!({a: [0.25, -3], b: [100, null]}), "c", &pre).unwrap();
        assert_eq!(encode(&pre, &columnar, false).unwrap(), want);
    }

    #[test]
    fn shapes_that_do_not_fit_name_the_field_and_row() {
        let pre = xor();
        let err = instances(&json!([[1, 2], [1, 2, 3]]), "instances", &pre).unwrap_err();
        assert!(
            err.to_string().starts_with("instances: row 2 has 3 values"),
            "{err}"
        );
        let err = records(&json!([{"x0": {"deep": 1}}]), "dataframe_records", &pre).unwrap_err();
        assert!(
            err.to_string().contains("row 1, column \"x0\": an object"),
            "{err}"
        );
        let err = instances(&json!({"x0": [1, 2], "x1": [3]}), "inputs", &pre).unwrap_err();
        assert!(
            err.to_string()
                .contains("\"x1\" has 1 values, but \"x0\" has 2"),
            "{err}"
        );
        let table = records(&json!([{"x0": 1, "x1": 2, "x9": 3}]), "r", &pre).unwrap();
        let err = encode(&pre, &table, false).unwrap_err().to_string();
        assert!(err.starts_with("unknown column(s) \"x9\""), "{err}");
        let tensor =
            json!([{"name": "input", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]}]);
        let err = tensors(&tensor, &pre).unwrap_err().to_string();
        assert!(err.contains("has 3 columns, but the model has 2"), "{err}");
    }
}
