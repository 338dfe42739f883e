//! The numeric fast path against the general path and a CSV file.

use super::*;
use crate::request::{csv, encode, instances};
use crate::{FitOptions, Preprocessor};

const ROWS: &[(&str, Layout)] = &[("instances", Layout::Rows), ("inputs", Layout::Rows)];
const TENSOR: &[(&str, Layout)] = &[("inputs", Layout::Tensor)];

/// Numbers whose text a careless reader rounds wrongly, or reads as another kind.
const AWKWARD: [&str; 12] = [
    "0.30000000000000004",
    "1e-310",
    "123456789012345678901234567890",
    "-0",
    "9007199254740993",
    "-12345678901234567890",
    "2.2250738585072011e-308",
    "4.9e-324",
    "1.00000000000000011102230246251565404236316680908203125",
    "1.7976931348623157e308",
    "18446744073709551615",
    "-0.000001e-5",
];

/// A regressor's preprocessing with three numeric columns (one with missing values, so
/// that it has an indicator input) and the target `y`.
fn numeric(scaler: crate::Scaler) -> Preprocessor {
    let mut text = String::from("a,b,c,y\n");
    for i in 0..40 {
        let b = if i % 9 == 4 {
            String::new()
        } else {
            format!("{}", i as f64 * 0.7 - 3.0)
        };
        text.push_str(&format!("{},{b},{},{}\n", i * i, (i as f64).sin(), i % 5));
    }
    let table = crate::csv::read(
        text.as_bytes(),
        b',',
        "train.csv",
        &crate::TargetSelect::Column("y".into()),
    )
    .unwrap();
    Preprocessor::fit(&table, &FitOptions::scaled(scaler))
        .unwrap()
        .0
}

#[test]
fn serde_json_reads_numbers_as_str_parse_does() {
    for text in AWKWARD {
        let json: f64 = serde_json::from_str(text).unwrap();
        let parsed: f64 = text.parse().unwrap();
        assert_eq!(json.to_bits(), parsed.to_bits(), "{text}");
    }
}

#[test]
fn numeric_rows_give_the_bits_of_the_general_path_and_of_a_csv_file() {
    for scaler in [crate::Scaler::None, crate::Scaler::Auto] {
        let pre = numeric(scaler);
        assert_eq!(pre.inputs, 4, "b has a missing-value indicator");
        let reader = NumericReader::new(&pre).unwrap();
        let rows: Vec<[&str; 3]> = (0..AWKWARD.len())
            .map(|i| {
                [
                    AWKWARD[i],
                    AWKWARD[(i + 5) % AWKWARD.len()],
                    AWKWARD[(i + 7) % AWKWARD.len()],
                ]
            })
            .chain([["1", "-2", "3.5"]])
            .collect();
        let json_rows: Vec<String> = rows.iter().map(|r| format!("[{}]", r.join(", "))).collect();
        let body = format!(
            "{{\"params\": {{\"proba\": false}}, \"instances\": [{}]}}",
            json_rows.join(", ")
        );
        let read = reader.read(body.as_bytes(), ROWS).unwrap();
        let fast = read.rows.unwrap();
        assert_eq!((fast.field.as_str(), fast.rows), ("instances", rows.len()));
        assert_eq!(read.fields["instances"], Value::Null);
        assert_eq!(read.fields["params"], serde_json::json!({"proba": false}));

        let value: Value = serde_json::from_str(&body).unwrap();
        let general = encode(
            &pre,
            &instances(&value["instances"], "i", &pre).unwrap(),
            false,
        );
        let lines: Vec<String> = rows.iter().map(|r| r.join(",")).collect();
        let file = format!("a,b,c\n{}\n", lines.join("\n"));
        let from_csv = encode(&pre, &csv(file.as_bytes(), &pre).unwrap(), false).unwrap();
        let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&fast.x), bits(&general.unwrap()), "{scaler}");
        assert_eq!(bits(&fast.x), bits(&from_csv), "{scaler}");

        // One row of scalars is that row.
        let one = reader
            .read(format!("{{\"inputs\": {}}}", json_rows[3]).as_bytes(), ROWS)
            .unwrap()
            .rows
            .unwrap();
        assert_eq!(bits(&one.x), bits(&from_csv[3 * 4..4 * 4]));
    }
}

#[test]
fn a_split_of_the_features_in_order_gives_the_bits_of_the_general_path() {
    let pre = numeric(crate::Scaler::Auto);
    let reader = NumericReader::new(&pre).unwrap();
    let split = &[("dataframe_split", Layout::Split)];
    let data = AWKWARD[..9]
        .chunks(3)
        .map(|row| format!("[{}]", row.join(", ")))
        .collect::<Vec<_>>()
        .join(", ");
    let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    for body in [
        format!(r#"{{"dataframe_split": {{"columns": ["a", "b", " c"], "data": [{data}]}}}}"#),
        format!(
            r#"{{"dataframe_split": {{"index": [7, 8, 9], "data": [{data}], "columns": ["a", "b", "c"]}}}}"#
        ),
    ] {
        let fast = reader.read(body.as_bytes(), split).unwrap().rows.unwrap();
        let value: Value = serde_json::from_str(&body).unwrap();
        let table = crate::request::split(&value["dataframe_split"], "s", &pre).unwrap();
        assert_eq!(fast.rows, 3);
        assert_eq!(bits(&fast.x), bits(&encode(&pre, &table, false).unwrap()));
    }
    for split_value in [
        r#"{"columns": ["b", "a", "c"], "data": [[1, 2, 3]]}"#,
        r#"{"columns": ["a", "b"], "data": [[1, 2, 3]]}"#,
        r#"{"columns": ["a", "b", "c", "y"], "data": [[1, 2, 3, 4]]}"#,
        r#"{"columns": ["a", "b", "c"], "data": [1, 2, 3]}"#,
        r#"{"columns": ["a", "b", "c"], "data": [[1, 2, null]]}"#,
        r#"{"columns": ["a", "b", "c"], "data": [[1, 2, 3]], "extra": 1}"#,
        r#"{"data": [[1, 2, 3]]}"#,
        r#"{"columns": ["a", "b", "c"]}"#,
    ] {
        let body = format!(r#"{{"dataframe_split": {split_value}}}"#);
        assert!(
            reader.read(body.as_bytes(), split).is_none(),
            "{split_value}"
        );
    }
}

#[test]
fn one_tensor_of_numbers_gives_the_bits_of_the_general_path() {
    let pre = numeric(crate::Scaler::Auto);
    let reader = NumericReader::new(&pre).unwrap();
    let flat = AWKWARD[..9].join(", ");
    let nested = AWKWARD[..9]
        .chunks(3)
        .map(|row| format!("[{}]", row.join(", ")))
        .collect::<Vec<_>>()
        .join(", ");
    let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    for data in [flat, format!("[{nested}]")] {
        let body = format!(
            "{{\"id\": \"r\", \"inputs\": [{{\"name\": \"input\", \"shape\": [3, 3], \
             \"datatype\": \"FP64\", \"data\": [{data}], \"parameters\": {{}}}}]}}"
        );
        let read = reader.read(body.as_bytes(), TENSOR).unwrap();
        assert_eq!(read.fields["id"], serde_json::json!("r"));
        let fast = read.rows.unwrap();
        assert_eq!(fast.rows, 3);
        let value: Value = serde_json::from_str(&body).unwrap();
        let table = crate::request::tensors(&value["inputs"], &pre).unwrap();
        assert_eq!(bits(&fast.x), bits(&encode(&pre, &table, false).unwrap()));
    }
    for inputs in [
        r#"[{"name": "input", "shape": [1, 3], "datatype": "FP32", "data": [1, null, 3]}]"#,
        r#"[{"name": "input", "shape": [1, 3], "datatype": "BOOL", "data": [1, 2, 3]}]"#,
        r#"[{"name": "input", "shape": [1, 3], "datatype": "FP32", "data": [1, 2]}]"#,
        r#"[{"name": "input", "shape": [1, 2], "datatype": "FP32", "data": [1, 2]}]"#,
        r#"[{"name": "input", "shape": [0, 3], "datatype": "FP32", "data": []}]"#,
        r#"[{"name": "a", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]}]"#,
        r#"[{"name": "input", "shape": [3], "datatype": "FP32", "data": [1, 2, 3]}]"#,
        r#"[{"name": "a", "shape": [1], "datatype": "FP32", "data": [1]},
            {"name": "b", "shape": [1], "datatype": "FP32", "data": [2]}]"#,
        r#"[]"#,
    ] {
        let body = format!("{{\"inputs\": {inputs}}}");
        assert!(reader.read(body.as_bytes(), TENSOR).is_none(), "{inputs}");
    }
}

#[test]
fn anything_but_numbers_is_left_to_the_general_path() {
    let pre = numeric(crate::Scaler::Auto);
    let reader = NumericReader::new(&pre).unwrap();
    let fields = ROWS;
    for body in [
        r#"{"instances": [[1, null, 3]]}"#,
        r#"{"instances": [[1, "2", 3]]}"#,
        r#"{"instances": [[1, 2]]}"#,
        r#"{"instances": [[1, 2, 3, 4]]}"#,
        r#"{"instances": [[1, 2, 3], 4]}"#,
        r#"{"instances": [1, 2]}"#,
        r#"{"instances": []}"#,
        r#"{"instances": [{"a": 1, "b": 2, "c": 3}]}"#,
        r#"{"instances": [[1, 2, 3]], "instances": [[1, 2, 3]]}"#,
        r#"{"instances": [[1, 2, 3]]} x"#,
        r#"{"instances": [[1, 2, 3e999]]}"#,
        r#"[[1, 2, 3]]"#,
        r#"{"instances": [[1, 2, 3]"#,
    ] {
        assert!(reader.read(body.as_bytes(), fields).is_none(), "{body}");
    }
    // Other shapes stay values, read once.
    let body = r#"{"inputs": {"a": [1], "b": [2], "c": [3]}, "dataframe_split": 1}"#;
    let read = reader.read(body.as_bytes(), fields).unwrap();
    assert!(read.rows.is_none());
    assert_eq!(read.fields["inputs"]["c"], serde_json::json!([3]));
    assert_eq!(read.fields["dataframe_split"], serde_json::json!(1));
    // A model with a text column has no numeric reader.
    let table = crate::load("builtin:xor", &crate::LoadOptions::training(None)).unwrap();
    let mut xor = Preprocessor::fit(&table, &FitOptions::default()).unwrap().0;
    assert!(NumericReader::new(&xor).is_some());
    xor.features[0].encoding = Encoding::OneHot {
        categories: vec!["x".into()],
        other: false,
        missing: false,
    };
    assert!(NumericReader::new(&xor).is_none());
}
