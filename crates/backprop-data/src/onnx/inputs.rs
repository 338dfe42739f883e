//! The stored preprocessing as ONNX nodes: from the graph's inputs (raw column values) to the
//! network's input matrix `[N, inputs]`, exactly as [`Preprocessor::encode`] computes it.
//!
//! - Numbers (`float`, NaN for a missing cell): cast to double, a NaN replaced by the fill
//!   value (`Where(IsNaN)`), `(x − offset) / scale` in double as the preprocessing does, cast
//!   to float; the missing indicator is `IsNaN` as 0/1. All numeric columns go through these
//!   nodes together, as one `[N, K]` matrix.
//! - Categories (`string`): `ai.onnx.ml.LabelEncoder` maps each category to its index, a
//!   missing-value text to the missing input's index, other texts to the `other` input's
//!   index or to -1 (no input set); `Equal` against `0..width` gives the one-hot block.
//! - Booleans (`string`): a `LabelEncoder` to 1/0 (every capitalization of the pair's words,
//!   the fill value for a missing-value text), and another to the missing indicator.
//!
//! A last `Gather` puts the blocks in the network's input order when it differs.

use super::graph::{float, int, ints, strings, Dim, Graph};
use super::proto::tensor_proto::DataType;
use crate::encoding::Encoding;
use crate::error::{Error, Result};
use crate::preprocess::Preprocessor;

/// The name of the one input of a model whose features are all numeric.
pub const NUMERIC_INPUT: &str = "input";

/// Whether the graph takes one `input` `[N, F]` (every feature numeric) rather than one input
/// per column.
pub fn single_input(pre: &Preprocessor) -> bool {
    pre.features
        .iter()
        .all(|f| matches!(f.encoding, Encoding::Numeric { .. }))
}

/// Declares the graph's inputs and adds the nodes of the preprocessing; returns the name of
/// the network's input matrix `[N, pre.inputs]`.
pub fn encode(graph: &mut Graph, pre: &Preprocessor) -> Result<String> {
    if let Some(date) = pre
        .features
        .iter()
        .find(|f| matches!(f.encoding, Encoding::Date { .. }))
    {
        return Err(Error::Export {
            format: "ONNX",
            message: format!(
                "the column {:?} holds dates, and reading ISO-8601 text needs operators ONNX \
                 lacks; train without it (--drop {:?}) or split it into numeric columns",
                date.name, date.name
            ),
        });
    }
    let mut na_values: Vec<String> = pre.na_values.clone();
    na_values.sort();
    na_values.dedup();
    // Where each block's columns sit in the concatenation, to put them in input order.
    let mut blocks: Vec<String> = Vec::new();
    let mut position = vec![0i64; pre.inputs];
    let mut next = 0i64;
    let starts: Vec<usize> = pre
        .features
        .iter()
        .scan(0, |start, f| {
            let here = *start;
            *start += f.encoding.width();
            Some(here)
        })
        .collect();

    // The numeric columns, together.
    let numeric: Vec<usize> = (0..pre.features.len())
        .filter(|&i| matches!(pre.features[i].encoding, Encoding::Numeric { .. }))
        .collect();
    let columns: Vec<String> = if single_input(pre) {
        let dims = [Dim::Batch, Dim::Fixed(pre.features.len())];
        vec![graph.input(NUMERIC_INPUT, DataType::Float, &dims)]
    } else {
        pre.features
            .iter()
            .map(|f| {
                let elem = match f.encoding {
                    Encoding::Numeric { .. } => DataType::Float,
                    _ => DataType::String,
                };
                graph.input(&f.name, elem, &[Dim::Batch, Dim::Fixed(1)])
            })
            .collect()
    };
    if !numeric.is_empty() {
        let x = if single_input(pre) {
            columns[0].clone()
        } else {
            let parts: Vec<&str> = numeric.iter().map(|&i| columns[i].as_str()).collect();
            concat(graph, &parts)
        };
        let (values, indicators) = numeric_block(graph, pre, &numeric, &x);
        blocks.push(values);
        for &i in &numeric {
            position[starts[i]] = next;
            next += 1;
        }
        if let Some(indicators) = indicators {
            blocks.push(indicators);
            for &i in &numeric {
                if pre.features[i].encoding.width() == 2 {
                    position[starts[i] + 1] = next;
                    next += 1;
                }
            }
        }
    }
    for (i, feature) in pre.features.iter().enumerate() {
        let block = match &feature.encoding {
            Encoding::Numeric { .. } | Encoding::Date { .. } => continue,
            Encoding::OneHot {
                categories,
                other,
                missing,
            } => one_hot(graph, &columns[i], categories, *other, *missing, &na_values),
            Encoding::Boolean {
                words,
                fill,
                indicator,
            } => boolean(graph, &columns[i], words, *fill, *indicator, &na_values),
        };
        blocks.push(block);
        for k in 0..feature.encoding.width() {
            position[starts[i] + k] = next;
            next += 1;
        }
    }
    let parts: Vec<&str> = blocks.iter().map(String::as_str).collect();
    let all = concat(graph, &parts);
    if position.iter().enumerate().all(|(i, &p)| p == i as i64) {
        return Ok(all);
    }
    let order = graph.int64s("input_order", &[position.len()], &position);
    Ok(graph.op("Gather", &[&all, &order], vec![int("axis", 1)]))
}

/// `Concat` along the columns, or the one part itself.
fn concat(graph: &mut Graph, parts: &[&str]) -> String {
    match parts {
        [one] => one.to_string(),
        _ => graph.op("Concat", parts, vec![int("axis", 1)]),
    }
}

/// The scaled values `[N, K]` of the numeric features `numeric` (whose raw values are the
/// columns of `x`), and their missing indicators `[N, J]` when J > 0 of them have one.
fn numeric_block(
    graph: &mut Graph,
    pre: &Preprocessor,
    numeric: &[usize],
    x: &str,
) -> (String, Option<String>) {
    let mut offsets = Vec::new();
    let mut scales = Vec::new();
    let mut fills = Vec::new();
    let mut with_indicator = Vec::new();
    for (k, &i) in numeric.iter().enumerate() {
        let Encoding::Numeric {
            offset,
            scale,
            fill,
            indicator,
        } = pre.features[i].encoding
        else {
            unreachable!("numeric features only")
        };
        offsets.push(offset);
        scales.push(scale);
        // A model without a fill value refuses missing cells; here they stay NaN.
        fills.push(fill.unwrap_or(f64::NAN));
        if indicator {
            with_indicator.push(k as i64);
        }
    }
    let k = numeric.len();
    let double = graph.op("Cast", &[x], vec![int("to", DataType::Double as i64)]);
    let nan = graph.op("IsNaN", &[&double], vec![]);
    let fill = graph.doubles("fill", &[k], &fills);
    let filled = graph.op("Where", &[&nan, &fill, &double], vec![]);
    let offset = graph.doubles("offset", &[k], &offsets);
    let centred = graph.op("Sub", &[&filled, &offset], vec![]);
    let scale = graph.doubles("scale", &[k], &scales);
    let scaled = graph.op("Div", &[&centred, &scale], vec![]);
    let values = graph.op("Cast", &[&scaled], vec![int("to", DataType::Float as i64)]);
    if with_indicator.is_empty() {
        return (values, None);
    }
    let which = graph.int64s("indicated", &[with_indicator.len()], &with_indicator);
    let picked = graph.op("Gather", &[&nan, &which], vec![int("axis", 1)]);
    let indicators = graph.op("Cast", &[&picked], vec![int("to", DataType::Float as i64)]);
    (values, Some(indicators))
}

/// The one-hot block `[N, width]` of a text column `[N, 1]`.
fn one_hot(
    graph: &mut Graph,
    column: &str,
    categories: &[String],
    other: bool,
    missing: bool,
    na_values: &[String],
) -> String {
    let width = categories.len() + usize::from(other) + usize::from(missing);
    let mut keys: Vec<String> = categories.to_vec();
    let mut values: Vec<i64> = (0..categories.len() as i64).collect();
    // A missing cell sets the missing input, or none (as an unseen value) without one.
    let missing_index = if missing { width as i64 - 1 } else { -1 };
    for na in na_values {
        keys.push(na.clone());
        values.push(missing_index);
    }
    let unknown = if other { categories.len() as i64 } else { -1 };
    let index = graph.ml_op(
        "LabelEncoder",
        &[column],
        vec![
            strings("keys_strings", &keys),
            ints("values_int64s", values),
            int("default_int64", unknown),
        ],
    );
    let range: Vec<i64> = (0..width as i64).collect();
    let range = graph.int64s("positions", &[width], &range);
    let hot = graph.op("Equal", &[&index, &range], vec![]);
    graph.op("Cast", &[&hot], vec![int("to", DataType::Float as i64)])
}

/// The block `[N, 1 or 2]` of a boolean column `[N, 1]`: 1/0, then the missing indicator.
fn boolean(
    graph: &mut Graph,
    column: &str,
    words: &str,
    fill: f64,
    indicator: bool,
    na_values: &[String],
) -> String {
    let (yes, no) = words.split_once('/').expect("words are yes/no");
    // A missing-value text is missing even when it spells a word (as `predict` reads it).
    let mut keys: Vec<String> = na_values.to_vec();
    let mut values = vec![fill as f32; na_values.len()];
    for (word, value) in [(yes, 1.0), (no, 0.0)] {
        for spelling in capitalizations(word) {
            if !keys.contains(&spelling) {
                keys.push(spelling);
                values.push(value);
            }
        }
    }
    // Any other text is refused by `predict`; here it reads as NaN.
    let value = graph.ml_op(
        "LabelEncoder",
        &[column],
        vec![
            strings("keys_strings", &keys),
            super::graph::floats("values_floats", values),
            float("default_float", f32::NAN),
        ],
    );
    if !indicator || na_values.is_empty() {
        return value;
    }
    let ones = vec![1.0; na_values.len()];
    let missing = graph.ml_op(
        "LabelEncoder",
        &[column],
        vec![
            strings("keys_strings", na_values),
            super::graph::floats("values_floats", ones),
            float("default_float", 0.0),
        ],
    );
    graph.op("Concat", &[&value, &missing], vec![int("axis", 1)])
}

/// Every spelling of an ASCII word in upper and lower case (`no`, `nO`, `No`, `NO`), as
/// booleans are compared without case.
fn capitalizations(word: &str) -> Vec<String> {
    let bytes = word.as_bytes();
    (0..1u32 << bytes.len())
        .map(|mask| {
            bytes
                .iter()
                .enumerate()
                .map(|(i, &b)| {
                    let c = b as char;
                    if mask >> i & 1 == 1 {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    }
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_capitalization_once() {
        let mut all = capitalizations("no");
        all.sort();
        assert_eq!(all, ["NO", "No", "nO", "no"]);
        assert_eq!(capitalizations("false").len(), 32);
    }
}
