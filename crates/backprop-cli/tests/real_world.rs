//! Files shaped like the ones users bring (`tests/data/`, written by `make_corpus.py`): each is
//! trained on, evaluated and predicted with the real binary, and what the command decided is
//! checked against what the README says it does.

mod common;

use std::path::PathBuf;

use common::Dir;
use serde_json::Value;

/// A corpus file's path.
fn data(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
        .display()
        .to_string()
}

/// Trains on a corpus file with a small, quick network (60 epochs unless `extra` says
/// otherwise); returns (stdout, stderr).
fn train(dir: &Dir, file: &str, extra: &[&str]) -> (String, String) {
    let path = data(file);
    let mut args = vec![
        "train", &path, "--layers", "16", "--lr", "0.01", "--seed", "1",
    ];
    if !extra.contains(&"--epochs") {
        args.extend(["--epochs", "60"]);
    }
    args.extend_from_slice(extra);
    let out = dir.run(&args);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "train {file}: {stderr}\n{stdout}");
    (stdout, stderr)
}

/// `eval --json` of the saved model on a corpus file: the metrics.
fn eval(dir: &Dir, file: &str, extra: &[&str]) -> Value {
    let path = data(file);
    let mut args = vec!["eval", "model.safetensors", &path, "--json"];
    args.extend_from_slice(extra);
    serde_json::from_str(dir.ok(&args).trim()).unwrap()
}

#[test]
fn semicolons_and_decimal_commas_are_detected() {
    let dir = Dir::new();
    let (out, _) = train(&dir, "eu_semicolon.csv", &["--target", "bought"]);
    assert!(
        out.contains("(separated by ';', decimal commas): 120 rows, 2 feature columns"),
        "{out}"
    );
    let metrics = eval(&dir, "eu_semicolon.csv", &[]);
    assert!(metrics["accuracy"].as_f64().unwrap() > 0.9, "{metrics}");
    // Forced to commas, the header is one field: the error says what to do.
    let path = data("eu_semicolon.csv");
    let err = dir.fails(&["train", &path, "--target", "bought", "--delimiter", ","]);
    assert!(err.contains("try --delimiter ';'"), "{err}");
}

#[test]
fn pipe_delimited_files_read_like_csv() {
    let dir = Dir::new();
    let (out, _) = train(&dir, "pipe.csv", &[]);
    assert!(
        out.contains("(separated by '|'): 120 rows, 3 feature columns → 4 inputs"),
        "{out}"
    );
    assert!(eval(&dir, "pipe.csv", &[])["accuracy"].as_f64().unwrap() > 0.85);
}

#[test]
fn missing_value_tokens_are_filled_and_rows_without_a_target_left_out() {
    let dir = Dir::new();
    let (out, _) = train(&dir, "na_tokens.csv", &[]);
    // 150 rows, of which 12 have no label (every 13th).
    assert!(out.contains("138 rows"), "{out}");
    assert!(
        out.contains("12 row(s) without a value in the target \"label\" were left out"),
        "{out}"
    );
    assert!(out.contains("column \"x\": filled"), "{out}");
    assert!(out.contains("column \"colour\": filled"), "{out}");
    assert!(out.contains("with a category of their own"), "{out}");
    assert!(out.contains("column \"z\": filled"), "{out}");
    let metrics = eval(&dir, "na_tokens.csv", &[]);
    assert_eq!(metrics["rows"], 138);
    assert!(metrics["accuracy"].as_f64().unwrap() > 0.8, "{metrics}");
    let path = data("na_tokens.csv");
    let err = dir.fails(&["train", &path, "--missing", "error"]);
    // Line 2 has no label either, so the first training row with a gap is line 9.
    assert!(
        err.contains("na_tokens.csv:9: column \"x\" (1) has no value (\"\")"),
        "{err}"
    );
    // Predictions for every row, also those without a label.
    let out = dir.ok(&["predict", "model.safetensors", &path]);
    assert_eq!(out.lines().count(), 151);
}

#[test]
fn identifiers_counters_dates_booleans_and_many_categories() {
    let dir = Dir::new();
    let (out, _) = train(&dir, "roles.csv", &["--epochs", "20"]);
    assert!(
        out.contains("column \"customer\" is not a feature"),
        "{out}"
    );
    assert!(
        out.contains("column \"row\" is not a feature: its integers count the rows"),
        "{out}"
    );
    assert!(out.contains("column \"signup\" is read as dates"), "{out}");
    assert!(
        out.contains("column \"member\" is read as booleans (true/false → 1/0)"),
        "{out}"
    );
    assert!(
        out.contains("column \"zip\": 1000 distinct values; the 50 most frequent"),
        "{out}"
    );
    // signup 5 + member 1 + zip 50 + other + x + z.
    assert!(out.contains("5 feature columns → 59 inputs"), "{out}");
    assert!(eval(&dir, "roles.csv", &[])["accuracy"].as_f64().unwrap() > 0.85);

    // --id passes the customer through; --keep and --drop change the roles.
    let (out, _) = train(
        &dir,
        "roles.csv",
        &[
            "--epochs", "5", "--id", "customer", "--keep", "row", "--drop", "zip",
        ],
    );
    assert!(out.contains("5 feature columns → 9 inputs"), "{out}");
    let path = data("roles_predict.csv");
    let run = dir.run(&["predict", "model.safetensors", &path, "--proba"]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some("customer,prediction,p_no,p_yes"));
    assert!(lines.next().unwrap().starts_with("k0,"), "{stdout}");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("ignored the column(s) the model does not use: extra"),
        "{stderr}"
    );
}

#[test]
fn spreadsheet_exports_with_bom_crlf_and_quotes() {
    let dir = Dir::new();
    let (out, _) = train(&dir, "excel.csv", &[]);
    assert!(out.contains("100 rows"), "{out}");
    assert!(
        out.contains("column \"name\" is not a feature: 100 distinct values"),
        "{out}"
    );
    assert!(eval(&dir, "excel.csv", &[])["accuracy"].as_f64().unwrap() > 0.85);
}

#[test]
fn located_errors_stay_located() {
    let dir = Dir::new();
    dir.write("bad.csv", "a;b;y\n1,5;x;1\n2,5;3;0\n1;2;1\n4;5;0\n");
    let err = dir.fails(&["train", "bad.csv"]);
    assert!(
        err.contains("bad.csv:2: column \"b\" (2): \"x\" is not a number"),
        "{err}"
    );
    dir.write(
        "date.csv",
        "when,x,y\n2024-01-01,1,a\n2024-13-01,2,b\n2024-01-03,3,a\n",
    );
    let err = dir.fails(&["train", "date.csv"]);
    assert!(
        err.contains("date.csv:3: column \"when\" (1): \"2024-13-01\" is not an ISO-8601 date"),
        "{err}"
    );
}

/// The weights of the model file at `path`, by tensor name.
fn weights(path: &std::path::Path) -> Vec<(String, Vec<u64>)> {
    let file = backprop_data::safetensors::from_bytes(&std::fs::read(path).unwrap()).unwrap();
    let mut tensors: Vec<(String, Vec<u64>)> = file
        .tensors
        .into_iter()
        .map(|t| (t.name, t.values.iter().map(|v| v.to_bits()).collect()))
        .collect();
    tensors.sort();
    tensors
}

#[test]
fn json_lines_and_parquet_train_the_csv_model_bit_for_bit() {
    let dir = Dir::new();
    let mut formats = vec!["csv", "jsonl"];
    if cfg!(feature = "parquet") {
        formats.push("parquet");
    }
    let mut models = Vec::new();
    for format in &formats {
        let save = format!("{format}.safetensors");
        let (out, _) = train(&dir, &format!("mixed.{format}"), &["--save", &save]);
        assert!(out.contains("60 rows"), "{format}: {out}");
        models.push(weights(&dir.path(&save)));
    }
    for (format, model) in formats.iter().zip(&models) {
        assert!(
            model == &models[0],
            "{format} trains another model than csv"
        );
    }
    if !cfg!(feature = "parquet") {
        let path = data("mixed.parquet");
        let err = dir.fails(&["train", &path]);
        assert!(err.contains("--features parquet"), "{err}");
    }
}
