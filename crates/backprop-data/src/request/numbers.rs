//! The fast path of the commonest request: rows of JSON numbers (`[[v1, v2, ...], ...]`, or
//! one row `[v1, v2, ...]`, an MLflow `dataframe_split` of the feature columns in order, or one
//! Open Inference Protocol tensor `[N, F]`; see [`Layout`]) for a model whose features are all
//! numeric, read straight from the body's bytes into the network's inputs:
//! no [`Value`] per number, no table, no text.
//!
//! The inputs are the very bits the general path ([`super::positional`], [`super::split`] or
//! [`super::tensors`], then [`super::encode`]) gives, and so the bits of the same rows in a CSV file: serde_json
//! (with its `float_roundtrip` feature) reads a number as the correctly rounded `f64`, as
//! `str::parse::<f64>` reads a cell, an integer as `i64`/`u64` converted the way
//! [`serde_json::Number::as_f64`] converts it, and both paths scale it with the one function
//! [`crate::encoding`] uses.
//!
//! Anything else (a `null`, a string, a row of the wrong length, an array of objects, malformed
//! JSON) makes [`NumericReader::read`] give `None`, and the caller reads the body the general
//! way, which accepts what it can and words every error. So this path never words an error
//! of its own, and no answer depends on which path read the request.

use std::fmt;

use serde::de::{value::MapAccessDeserializer, Visitor};
use serde::de::{DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::encoding::{scaled, Encoding};
use crate::preprocess::Preprocessor;

/// Reads numeric rows for one model (made once, used for every request).
#[derive(Clone, Debug)]
pub struct NumericReader {
    /// Network inputs per row.
    inputs: usize,
    /// Per feature column, in training order: its offset, its scale and its input's index.
    features: Vec<(f64, f64, usize)>,
    /// The feature columns' names.
    names: Vec<String>,
}

/// How a field of the body holds its rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `[[v1, v2, ...], ...]` or one row `[v1, v2, ...]`, one value per feature column in
    /// training order (as [`super::positional`] reads them).
    Rows,
    /// `{"columns": [...], "data": [[...], ...]}` whose columns are the feature columns in
    /// training order (as [`super::split`] reads it).
    Split,
    /// One Open Inference Protocol tensor `[N, F]` of the `F` feature columns in training
    /// order, named other than every one (as [`super::tensors`] reads it).
    Tensor,
}

/// A JSON object body read by [`NumericReader::read`].
#[derive(Debug)]
pub struct Body {
    /// The body's fields; the field the rows came from holds `null` (its rows are in `rows`).
    pub fields: Map<String, Value>,
    /// The rows, when one of the row fields held rows of numbers.
    pub rows: Option<NumericRows>,
}

/// Rows of numbers, encoded.
#[derive(Debug)]
pub struct NumericRows {
    /// The field of the body that held them.
    pub field: String,
    /// The number of rows.
    pub rows: usize,
    /// The network's inputs, `rows × inputs`, row-major.
    pub x: Vec<f32>,
}

impl NumericReader {
    /// The reader for a model whose features are all numeric, or `None` when one is not.
    pub fn new(pre: &Preprocessor) -> Option<Self> {
        let mut features = Vec::with_capacity(pre.features.len());
        let mut input = 0;
        for feature in &pre.features {
            let Encoding::Numeric { offset, scale, .. } = feature.encoding else {
                return None;
            };
            features.push((offset, scale, input));
            input += feature.encoding.width();
        }
        (input == pre.inputs).then(|| Self {
            inputs: pre.inputs,
            features,
            names: pre.features.iter().map(|f| f.name.clone()).collect(),
        })
    }

    /// `body` as a JSON object whose fields are [`Value`]s, except the first of `row_fields`
    /// present when it holds rows of numbers in its [`Layout`] (an object where rows may be,
    /// MLflow's columnar `inputs`, stays a [`Value`]).
    ///
    /// `None` when the body is anything else, or its rows hold anything but numbers: read it
    /// the general way then (which words the error, if there is one).
    pub fn read(&self, body: &[u8], row_fields: &[(&str, Layout)]) -> Option<Body> {
        let mut json = serde_json::Deserializer::from_slice(body);
        let body = BodySeed {
            reader: self,
            row_fields,
        }
        .deserialize(&mut json)
        .ok()?;
        json.end().ok()?;
        Some(body)
    }

    /// Appends one row's inputs to `x`, from one value per feature column.
    fn push_row(&self, x: &mut Vec<f32>, values: impl IntoIterator<Item = f64>) {
        let start = x.len();
        x.resize(start + self.inputs, 0.0);
        let row = &mut x[start..];
        for (&(offset, scale, input), value) in self.features.iter().zip(values) {
            row[input] = scaled(value, offset, scale);
        }
    }
}

/// A visitor that is its own seed: `deserializer.$method(self)`.
macro_rules! seed {
    ($seed:ty, $value:ty, $method:ident) => {
        impl<'de> DeserializeSeed<'de> for $seed {
            type Value = $value;
            fn deserialize<D: Deserializer<'de>>(
                self,
                deserializer: D,
            ) -> Result<$value, D::Error> {
                deserializer.$method(self)
            }
        }
    };
}

/// The whole body: an object.
struct BodySeed<'r> {
    reader: &'r NumericReader,
    row_fields: &'r [(&'r str, Layout)],
}

seed!(BodySeed<'_>, Body, deserialize_map);

impl<'de> Visitor<'de> for BodySeed<'_> {
    type Value = Body;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Body, A::Error> {
        let mut fields = Map::new();
        let mut rows = None;
        while let Some(key) = map.next_key::<String>()? {
            let layout = self.row_fields.iter().find(|(f, _)| *f == key).map(|f| f.1);
            if let (None, Some(layout)) = (&rows, layout) {
                let reader = self.reader;
                let read = match layout {
                    Layout::Rows => map.next_value_seed(RowsSeed {
                        reader,
                        scalars: true,
                    })?,
                    Layout::Split => map.next_value_seed(SplitSeed(reader))?,
                    Layout::Tensor => map.next_value_seed(TensorsSeed(reader))?,
                };
                match read {
                    Rows::Numbers { rows: n, x } => {
                        rows = Some(NumericRows {
                            field: key.clone(),
                            rows: n,
                            x,
                        });
                        fields.insert(key, Value::Null);
                    }
                    Rows::Other(value) => {
                        fields.insert(key, value);
                    }
                }
            } else if rows.as_ref().is_some_and(|r| r.field == key) {
                // A second copy of the rows' field: the general path decides what it means.
                return Err(A::Error::custom("a row field appears twice"));
            } else {
                fields.insert(key, map.next_value::<Value>()?);
            }
        }
        Ok(Body { fields, rows })
    }
}

/// A row field: an array of rows of numbers (or one row), or an object kept as a [`Value`].
enum Rows {
    Numbers { rows: usize, x: Vec<f32> },
    Other(Value),
}

struct RowsSeed<'r> {
    reader: &'r NumericReader,
    /// Whether one row of scalars may stand for the array of rows.
    scalars: bool,
}

seed!(RowsSeed<'_>, Rows, deserialize_any);

impl<'de> Visitor<'de> for RowsSeed<'_> {
    type Value = Rows;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("rows of numbers, or an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Rows, A::Error> {
        Value::deserialize(MapAccessDeserializer::new(map)).map(Rows::Other)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Rows, A::Error> {
        let reader = self.reader;
        let width = reader.features.len();
        let mut x = Vec::with_capacity(reader.inputs);
        let mut rows = 0;
        // One row of scalars: the array is the row.
        let mut scalars: Vec<f64> = Vec::new();
        while let Some(element) = seq.next_element_seed(ElementSeed { reader, x: &mut x })? {
            match element {
                Element::Row if scalars.is_empty() => rows += 1,
                Element::Scalar(v) if rows == 0 && self.scalars => scalars.push(v),
                _ => return Err(A::Error::custom("rows and scalars mixed")),
            }
        }
        if !scalars.is_empty() {
            if scalars.len() != width {
                return Err(A::Error::custom("a row of the wrong length"));
            }
            reader.push_row(&mut x, scalars);
            rows = 1;
        }
        if rows == 0 {
            return Err(A::Error::custom("no rows"));
        }
        Ok(Rows::Numbers { rows, x })
    }
}

/// An element of the rows array: a row (its inputs appended to `x`) or a number.
enum Element {
    Row,
    Scalar(f64),
}

struct ElementSeed<'r, 'x> {
    reader: &'r NumericReader,
    x: &'x mut Vec<f32>,
}

seed!(ElementSeed<'_, '_>, Element, deserialize_any);

impl<'de> Visitor<'de> for ElementSeed<'_, '_> {
    type Value = Element;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a row of numbers, or a number")
    }

    fn visit_u64<E>(self, v: u64) -> Result<Element, E> {
        Ok(Element::Scalar(v as f64))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Element, E> {
        Ok(Element::Scalar(v as f64))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Element, E> {
        Ok(Element::Scalar(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Element, A::Error> {
        let reader = self.reader;
        let start = self.x.len();
        self.x.resize(start + reader.inputs, 0.0);
        let row = &mut self.x[start..];
        for &(offset, scale, input) in &reader.features {
            let Some(value) = seq.next_element_seed(NumberSeed)? else {
                return Err(A::Error::custom("a row of the wrong length"));
            };
            row[input] = scaled(value, offset, scale);
        }
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(A::Error::custom("a row of the wrong length"));
        }
        Ok(Element::Row)
    }
}

/// MLflow's `dataframe_split` whose columns are the feature columns in training order.
struct SplitSeed<'r>(&'r NumericReader);

seed!(SplitSeed<'_>, Rows, deserialize_map);

impl<'de> Visitor<'de> for SplitSeed<'_> {
    type Value = Rows;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("columns and rows of numbers")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Rows, A::Error> {
        let reader = self.0;
        let (mut columns, mut data) = (None, None);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "columns" if columns.is_none() => columns = Some(map.next_value::<Vec<String>>()?),
                "data" if data.is_none() => {
                    data = Some(map.next_value_seed(RowsSeed {
                        reader,
                        scalars: false,
                    })?)
                }
                "index" => {
                    map.next_value::<IgnoredAny>()?;
                }
                _ => return Err(A::Error::custom("not a split of numbers")),
            }
        }
        // As `super::split` reads the names (trimmed), they must be the features, in order.
        let in_order = columns.is_some_and(|columns| {
            columns.len() == reader.names.len()
                && columns
                    .iter()
                    .zip(&reader.names)
                    .all(|(c, n)| c.trim() == n)
        });
        match data {
            Some(rows @ Rows::Numbers { .. }) if in_order => Ok(rows),
            _ => Err(A::Error::custom("not a split of numbers")),
        }
    }
}

/// The `inputs` of an Open Inference Protocol request: exactly one tensor, of numbers.
struct TensorsSeed<'r>(&'r NumericReader);

seed!(TensorsSeed<'_>, Rows, deserialize_seq);

impl<'de> Visitor<'de> for TensorsSeed<'_> {
    type Value = Rows;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("one tensor")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Rows, A::Error> {
        let reader = self.0;
        let Some(tensor) = seq.next_element::<Tensor>()? else {
            return Err(A::Error::custom("no tensor"));
        };
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(A::Error::custom("several tensors"));
        }
        // As `super::tensors` reads one tensor [N, F] named other than every feature column.
        let width = reader.features.len();
        let fits = matches!(tensor.shape.as_slice(), &[n, f] if n > 0 && f == width
                && n.checked_mul(f) == Some(tensor.data.len()))
            && super::NUMERIC.contains(&tensor.datatype.as_str())
            && tensor.datatype != "BOOL"
            && !reader.names.contains(&tensor.name);
        if !fits {
            return Err(A::Error::custom("not one tensor [N, F] of numbers"));
        }
        let rows = tensor.shape[0];
        let mut x = Vec::with_capacity(rows * reader.inputs);
        for row in tensor.data.chunks_exact(width) {
            reader.push_row(&mut x, row.iter().copied());
        }
        Ok(Rows::Numbers { rows, x })
    }
}

/// One input tensor of numbers; its other fields are ignored, as the general path ignores
/// them.
#[derive(Deserialize)]
struct Tensor {
    name: String,
    shape: Vec<usize>,
    datatype: String,
    #[serde(deserialize_with = "flat_numbers")]
    data: Vec<f64>,
}

/// Numbers, flat or nested in arrays, in order.
fn flat_numbers<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<f64>, D::Error> {
    let mut out = Vec::new();
    FlatSeed(&mut out).deserialize(deserializer)?;
    Ok(out)
}

struct FlatSeed<'o>(&'o mut Vec<f64>);

seed!(FlatSeed<'_>, (), deserialize_any);

impl<'de> Visitor<'de> for FlatSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("numbers")
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.0.push(v as f64);
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.0.push(v as f64);
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.0.push(v);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(FlatSeed(&mut *self.0))?.is_some() {}
        Ok(())
    }
}

/// A JSON number as `f64` (as [`serde_json::Number::as_f64`] gives it); anything else fails.
struct NumberSeed;

seed!(NumberSeed, f64, deserialize_any);

impl Visitor<'_> for NumberSeed {
    type Value = f64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number")
    }

    fn visit_u64<E>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_i64<E>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_f64<E>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }
}

#[cfg(test)]
mod tests;
