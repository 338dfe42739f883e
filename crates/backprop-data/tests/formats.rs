//! The formats that hold a table, CSV, JSON Lines and Parquet: the same data in any of them
//! loads into the same table, and so into the same model inputs and the same model; and each
//! format's bad input is an error that says where.

use backprop_data::{
    load, EncodedTargets, FitOptions, LoadOptions, Preprocessor, Scaler, Table, Values,
};
use std::path::{Path, PathBuf};

/// A table with numbers (a float and an integer column), text, booleans and dates.
const CSV: &str = "\
x,count,color,flag,day,label
0.5,3,red,true,2024-01-05,cat
-1.25,10,blue,false,2023-12-31,dog
2,0,red,true,2024-02-29,dog
3.75,-4,green,false,2024-01-05,cat
";

/// The same table as JSON Lines, spelled as JSON writers do (`2.0`, `3.75e0`, padded text,
/// keys in another order).
const JSONL: &str = r#"{"x": 0.5, "count": 3, "color": "red", "flag": true, "day": "2024-01-05", "label": "cat"}
{"x": -1.25, "count": 10, "color": " blue ", "flag": false, "day": "2023-12-31", "label": "dog"}

{"x": 2.0, "count": 0, "color": "red", "flag": true, "day": "2024-02-29", "label": "dog"}
{"label": "cat", "day": "2024-01-05", "flag": false, "color": "green", "count": -4, "x": 3.75e0}
"#;

/// The table with empty cells.
const CSV_GAPS: &str = "\
x,count,color,flag,day,label
0.5,3,red,true,2024-01-05,cat
,10,blue,false,2023-12-31,dog
2,,red,,2024-02-29,dog
3.75,-4,,false,,cat
";

/// The same, with `null` and with keys left out.
const JSONL_GAPS: &str = r#"{"x": 0.5, "count": 3, "color": "red", "flag": true, "day": "2024-01-05", "label": "cat"}
{"x": null, "count": 10, "color": "blue", "flag": false, "day": "2023-12-31", "label": "dog"}
{"x": 2, "count": null, "color": "red", "day": "2024-02-29", "label": "dog"}
{"x": 3.75, "count": -4, "color": null, "flag": false, "label": "cat"}
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn read(path: &Path) -> Table {
    load(path.to_str().unwrap(), &LoadOptions::training(None)).unwrap()
}

/// Every column's text cells.
fn cells(table: &Table) -> Vec<Vec<String>> {
    table
        .columns
        .iter()
        .map(|column| match &column.values {
            Values::Text(cells) => cells.iter().map(str::to_string).collect(),
            other => panic!("column {} is not text: {other:?}", column.name),
        })
        .collect()
}

fn assert_same_table(expected: &Table, got: &Table) {
    assert_eq!(got.names(), expected.names(), "{}", got.source);
    assert_eq!(got.target, expected.target, "{}", got.source);
    assert_eq!(got.rows, expected.rows, "{}", got.source);
    assert_eq!(cells(got), cells(expected), "{}", got.source);
}

/// What training sees of a table: the fitted preprocessor, the inputs' bits and the targets.
type ModelInputs = (Preprocessor, Vec<u32>, EncodedTargets);

fn model_inputs(table: &Table) -> backprop_data::Result<ModelInputs> {
    let (pre, _) = Preprocessor::fit(table, &FitOptions::scaled(Scaler::Standard))?;
    let encoded = pre.encode(table)?;
    let x = encoded.x.iter().map(|v| v.to_bits()).collect();
    let y = encoded.targets.expect("the table has its target");
    Ok((pre, x, y))
}

/// The tables give bit-identical model inputs, or all fail the same way (the messages differ
/// only in where they point: a line of a text file, a record of a Parquet file).
fn assert_same_model_inputs(tables: &[&Table]) -> bool {
    let results: Vec<_> = tables.iter().map(|t| model_inputs(t)).collect();
    match &results[0] {
        Ok(first) => {
            for (table, result) in tables.iter().zip(&results) {
                match result {
                    Ok(inputs) => assert_eq!(inputs, first, "{}", table.source),
                    Err(e) => panic!("{}: {e}, but {} fits", table.source, tables[0].source),
                }
            }
            true
        }
        Err(first) => {
            for (table, result) in tables.iter().zip(&results) {
                match result {
                    Ok(_) => panic!("{} fits, but {}: {first}", table.source, tables[0].source),
                    Err(e) => assert_eq!(
                        std::mem::discriminant(e),
                        std::mem::discriminant(first),
                        "{e} / {first}"
                    ),
                }
            }
            false
        }
    }
}

#[test]
fn csv_and_json_lines_give_the_same_table_and_model_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let csv = read(&write(dir.path(), "t.csv", CSV));
    let jsonl = read(&write(dir.path(), "t.jsonl", JSONL));
    assert_eq!(csv.names(), ["x", "count", "color", "flag", "day", "label"]);
    assert_same_table(&csv, &jsonl);
    assert!(assert_same_model_inputs(&[&csv, &jsonl]), "the table fits");
    // `.ndjson` and gzip are the same reader.
    let ndjson = read(&write(dir.path(), "t.ndjson", JSONL));
    assert_same_table(&csv, &ndjson);
    let gz = dir.path().join("t.jsonl.gz");
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    std::io::Write::write_all(&mut encoder, JSONL.as_bytes()).unwrap();
    encoder.finish().unwrap();
    assert_same_table(&csv, &read(&gz));
}

#[test]
fn empty_cells_and_nulls_are_the_same_missing_values() {
    let dir = tempfile::tempdir().unwrap();
    let csv = read(&write(dir.path(), "gaps.csv", CSV_GAPS));
    let jsonl = read(&write(dir.path(), "gaps.jsonl", JSONL_GAPS));
    assert_same_table(&csv, &jsonl);
    assert_eq!(cells(&jsonl)[3], ["true", "false", "", "false"]);
    assert!(
        assert_same_model_inputs(&[&csv, &jsonl]),
        "missing values are filled the same way in both"
    );
    // The target is chosen as for CSV.
    let by_name = LoadOptions::training(Some("color"));
    let csv = load(dir.path().join("gaps.csv").to_str().unwrap(), &by_name).unwrap();
    let jsonl = load(dir.path().join("gaps.jsonl").to_str().unwrap(), &by_name).unwrap();
    assert_eq!((csv.target, jsonl.target), (Some(2), Some(2)));
}

#[test]
fn bad_json_lines_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "syntax.jsonl",
            "{\"a\": 1}\n{\"a\": 2,}\n",
            ":2: the line is not one JSON object",
        ),
        (
            "array.jsonl",
            "\n[1, 2]\n",
            ":2: the line is not one JSON object",
        ),
        (
            "nested.jsonl",
            "{\"a\": 1}\n{\"a\": 1, \"b\": {\"c\": 2}}\n",
            ":2: key \"b\" (column 2) holds an object",
        ),
        (
            "list.jsonl",
            "{\"a\": [1]}\n",
            ":1: key \"a\" (column 1) holds an array",
        ),
        (
            "twice.jsonl",
            "{\"a\": 1, \"a\": 2}\n",
            ":1: key \"a\" appears twice",
        ),
    ];
    for (name, body, expected) in cases {
        let path = write(dir.path(), name, body);
        let err = load(path.to_str().unwrap(), &LoadOptions::default()).unwrap_err();
        let msg = err.to_string();
        let want = format!("{}{expected}", path.display());
        assert!(msg.starts_with(&want), "{name}: {msg}");
    }
}

/// The files under `crates/backprop-cli/tests/data`, made by `make_formats.py` there.
fn cli_data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../backprop-cli/tests/data")
        .join(name)
}

#[test]
fn the_cli_test_files_hold_one_table() {
    let csv = read(&cli_data("mixed.csv"));
    let jsonl = read(&cli_data("mixed.jsonl"));
    assert_eq!(csv.names(), ["x", "color", "flag", "day", "label"]);
    assert_eq!((csv.rows, csv.target), (60, Some(4)));
    let cells = cells(&csv);
    assert!(cells.iter().any(|c| c.iter().any(String::is_empty)));
    let mut classes = cells[4].clone();
    classes.sort();
    classes.dedup();
    assert_eq!(classes, ["no", "yes"]);
    assert_same_table(&csv, &jsonl);
    assert!(assert_same_model_inputs(&[&csv, &jsonl]), "the table fits");
}

#[cfg(not(feature = "parquet"))]
#[test]
fn parquet_without_the_feature_says_how_to_build() {
    let path = cli_data("mixed.parquet");
    let err = load(path.to_str().unwrap(), &LoadOptions::default()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with(path.to_str().unwrap())
            && msg.contains("`parquet` feature")
            && msg.contains("cargo install --path crates/backprop-cli --features parquet"),
        "{msg}"
    );
}

#[cfg(feature = "parquet")]
mod with_parquet {
    use super::*;
    use arrow_array::builder::{ListBuilder, StringBuilder};
    use arrow_array::{
        ArrayRef, BinaryArray, BooleanArray, Date32Array, Float64Array, Int64Array, RecordBatch,
        StringArray, StructArray,
    };
    use arrow_schema::{DataType, Field};
    use parquet::arrow::ArrowWriter;
    use parquet::basic::Compression;
    use parquet::file::properties::WriterProperties;
    use std::sync::Arc;

    /// Writes the columns as a Snappy-compressed Parquet file.
    pub(crate) fn write_parquet(dir: &Path, name: &str, columns: Vec<(&str, ArrayRef)>) -> PathBuf {
        let path = dir.join(name);
        let batch = RecordBatch::try_from_iter(columns).unwrap();
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build();
        let file = std::fs::File::create(&path).unwrap();
        let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        path
    }

    /// 2024-01-05, 2023-12-31 and 2024-02-29 as days since 1970-01-01.
    const DAYS: [i32; 3] = [19_727, 19_722, 19_782];

    fn table(dir: &Path, name: &str, gaps: bool) -> PathBuf {
        let (x, count, color, flag, day): (ArrayRef, ArrayRef, ArrayRef, ArrayRef, ArrayRef) =
            if gaps {
                (
                    Arc::new(Float64Array::from(vec![
                        Some(0.5),
                        None,
                        Some(2.0),
                        Some(3.75),
                    ])),
                    Arc::new(Int64Array::from(vec![Some(3), Some(10), None, Some(-4)])),
                    Arc::new(StringArray::from(vec![
                        Some("red"),
                        Some("blue"),
                        Some("red"),
                        None,
                    ])),
                    Arc::new(BooleanArray::from(vec![
                        Some(true),
                        Some(false),
                        None,
                        Some(false),
                    ])),
                    Arc::new(Date32Array::from(vec![
                        Some(DAYS[0]),
                        Some(DAYS[1]),
                        Some(DAYS[2]),
                        None,
                    ])),
                )
            } else {
                (
                    Arc::new(Float64Array::from(vec![0.5, -1.25, 2.0, 3.75])),
                    Arc::new(Int64Array::from(vec![3, 10, 0, -4])),
                    Arc::new(StringArray::from(vec!["red", " blue", "red", "green"])),
                    Arc::new(BooleanArray::from(vec![true, false, true, false])),
                    Arc::new(Date32Array::from(vec![DAYS[0], DAYS[1], DAYS[2], DAYS[0]])),
                )
            };
        let label: ArrayRef = Arc::new(StringArray::from(vec!["cat", "dog", "dog", "cat"]));
        write_parquet(
            dir,
            name,
            vec![
                ("x", x),
                ("count", count),
                ("color", color),
                ("flag", flag),
                ("day", day),
                ("label", label),
            ],
        )
    }

    #[test]
    fn parquet_gives_the_csv_table_and_model_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let csv = read(&write(dir.path(), "t.csv", CSV));
        let jsonl = read(&write(dir.path(), "t.jsonl", JSONL));
        let parquet = read(&table(dir.path(), "t.parquet", false));
        assert_same_table(&csv, &parquet);
        assert!(
            assert_same_model_inputs(&[&csv, &jsonl, &parquet]),
            "the table fits"
        );

        let csv = read(&write(dir.path(), "gaps.csv", CSV_GAPS));
        let jsonl = read(&write(dir.path(), "gaps.jsonl", JSONL_GAPS));
        let parquet = read(&table(dir.path(), "gaps.parquet", true));
        assert_same_table(&csv, &parquet);
        assert!(
            assert_same_model_inputs(&[&csv, &jsonl, &parquet]),
            "gaps are filled"
        );
        let location = parquet.location(&parquet.columns[0], 1).to_string();
        assert_eq!(
            location,
            format!("{}: record 2", dir.path().join("gaps.parquet").display())
        );
    }

    #[test]
    fn the_cli_test_parquet_file_holds_the_same_table() {
        let csv = read(&cli_data("mixed.csv"));
        let parquet = read(&cli_data("mixed.parquet"));
        assert_same_table(&csv, &parquet);
        assert!(
            assert_same_model_inputs(&[&csv, &parquet]),
            "the table fits"
        );
    }

    #[test]
    fn unsupported_types_name_the_column_and_the_type() {
        let dir = tempfile::tempdir().unwrap();
        let ok: ArrayRef = Arc::new(Int64Array::from(vec![1, 2]));
        let mut list = ListBuilder::new(StringBuilder::new());
        list.append_value([Some("a")]);
        list.append_value([Some("b"), None]);
        let list: ArrayRef = Arc::new(list.finish());
        let bytes: ArrayRef = Arc::new(BinaryArray::from(vec![&b"a"[..], &b"b"[..]]));
        let record: ArrayRef = Arc::new(StructArray::from(vec![(
            Arc::new(Field::new("inner", DataType::Int64, false)),
            ok.clone(),
        )]));
        let cases = [
            (
                "list.parquet",
                list,
                "column \"tags\" (2) has the type List(",
            ),
            (
                "binary.parquet",
                bytes,
                "column \"tags\" (2) has the type Binary",
            ),
            (
                "struct.parquet",
                record,
                "column \"tags\" (2) has the type Struct(",
            ),
        ];
        for (name, column, expected) in cases {
            let path = write_parquet(dir.path(), name, vec![("id", ok.clone()), ("tags", column)]);
            let msg = load(path.to_str().unwrap(), &LoadOptions::default())
                .unwrap_err()
                .to_string();
            let want = format!("{}: {expected}", path.display());
            assert!(msg.starts_with(&want), "{name}: {msg}");
        }
    }

    #[test]
    fn a_file_that_is_not_parquet_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "fake.parquet", CSV);
        let msg = load(path.to_str().unwrap(), &LoadOptions::default())
            .unwrap_err()
            .to_string();
        let want = format!("{}: not a readable Parquet file", path.display());
        assert!(msg.starts_with(&want), "{msg}");
    }
}
