//! `eval`, `predict` and `inspect` on a model saved by `train`, run as a user would: the real
//! binary in a temporary folder.

mod common;

use std::path::{Path, PathBuf};

use common::Dir;

use backprop::{Architecture, Network};
use backprop_data::pytorch::network_from_tensors;
use backprop_data::safetensors::from_bytes as read_safetensors;
use serde_json::Value;

/// Three well-separated classes in two numeric features plus a categorical one.
fn flowers_csv(rows: usize, seed: u64) -> String {
    let mut state = seed;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as f64) / (1u64 << 31) as f64
    };
    let mut text = String::from("length,width,colour,species\n");
    let names = ["setosa", "versicolor", "virginica"];
    for i in 0..rows {
        let class = i % 3;
        let length = 1.0 + 2.0 * class as f64 + 0.5 * next();
        let width = 5.0 - 1.5 * class as f64 + 0.5 * next();
        let colour = ["red", "blue"][(next() * 2.0) as usize % 2];
        text += &format!("{length:.3},{width:.3},{colour},{}\n", names[class]);
    }
    text
}

struct Trained {
    dir: Dir,
    model: PathBuf,
}

/// Trains a classifier on flowers.csv and saves it as flowers.safetensors.
fn trained_classifier() -> Trained {
    let dir = Dir::new();
    dir.write("flowers.csv", &flowers_csv(90, 1));
    dir.write("test.csv", &flowers_csv(30, 2));
    dir.ok(&[
        "train",
        "flowers.csv",
        "--target",
        "species",
        "--layers",
        "8",
        "--epochs",
        "30",
        "--lr",
        "0.05",
        "--save",
        "flowers.safetensors",
    ]);
    let model = dir.path("flowers.safetensors");
    assert!(model.exists());
    Trained { dir, model }
}

/// The model file's metadata document and network, read with the library alone.
fn read_model(path: &Path) -> (Value, Network<f32>) {
    let file = read_safetensors(&std::fs::read(path).unwrap()).unwrap();
    let metadata: Value = serde_json::from_str(&file.metadata["backprop"]).unwrap();
    let arch: Architecture = serde_json::from_value(metadata["architecture"].clone()).unwrap();
    (metadata, network_from_tensors(arch, file.tensors).unwrap())
}

/// Encodes test.csv by hand from the stored preprocessing: numeric `(x − offset)/scale`,
/// one-hot categories.
fn encode_by_hand(metadata: &Value, csv: &str) -> Vec<f32> {
    let features = metadata["preprocessing"]["features"].as_array().unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let mut x = Vec::new();
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        for feature in features {
            let column = header.iter().position(|h| *h == feature["name"]).unwrap();
            let cell = cells[column];
            match feature["kind"].as_str().unwrap() {
                "numeric" => {
                    let value: f64 = cell.parse().unwrap();
                    let offset = feature["offset"].as_f64().unwrap();
                    let scale = feature["scale"].as_f64().unwrap();
                    x.push(((value - offset) / scale) as f32);
                }
                _ => {
                    for category in feature["categories"].as_array().unwrap() {
                        x.push(if category == cell { 1.0 } else { 0.0 });
                    }
                }
            }
        }
    }
    x
}

#[test]
fn predict_from_the_saved_file_equals_predicting_in_process() {
    let t = trained_classifier();
    let (metadata, network) = read_model(&t.model);
    let test_csv = String::from_utf8(t.dir.read("test.csv")).unwrap();
    let expected = network.predict(&encode_by_hand(&metadata, &test_csv));

    let out = t.dir.ok(&[
        "predict",
        "flowers.safetensors",
        "test.csv",
        "--proba",
        "--precision",
        "full",
    ]);
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some("prediction,p_setosa,p_versicolor,p_virginica")
    );
    let mut got = Vec::new();
    let classes = ["setosa", "versicolor", "virginica"];
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        let probabilities: Vec<f32> = cells[1..].iter().map(|c| c.parse().unwrap()).collect();
        let sum: f32 = probabilities.iter().sum();
        assert!((sum - 1.0).abs() < 1e-5, "{line}");
        let best = (0..3)
            .max_by(|&a, &b| probabilities[a].total_cmp(&probabilities[b]))
            .unwrap();
        assert_eq!(cells[0], classes[best]);
        got.extend(probabilities);
    }
    assert_eq!(got.len(), 30 * 3);
    // Shortest round-trip printing of f32: the same bits come back.
    assert_eq!(got, expected);
}

#[test]
fn predict_writes_a_file_and_eval_scores_it() {
    let t = trained_classifier();
    t.dir.ok(&[
        "predict",
        "flowers.safetensors",
        "test.csv",
        "-o",
        "out.csv",
    ]);
    let written = String::from_utf8(t.dir.read("out.csv")).unwrap();
    assert_eq!(written.lines().count(), 31);
    assert_eq!(written.lines().next(), Some("prediction"));

    let text = t.dir.ok(&["eval", "flowers.safetensors", "test.csv"]);
    assert!(text.contains("accuracy"), "{text}");
    assert!(text.contains("confusion matrix"), "{text}");
    let json: Value = serde_json::from_str(
        t.dir
            .ok(&["eval", "flowers.safetensors", "test.csv", "--json"])
            .trim(),
    )
    .unwrap();
    let accuracy = json["accuracy"].as_f64().unwrap();
    assert!(
        accuracy > 0.9,
        "well-separated classes: accuracy {accuracy}"
    );
    let confusion: Vec<Vec<u64>> = serde_json::from_value(json["confusion"].clone()).unwrap();
    assert_eq!(confusion.iter().flatten().sum::<u64>(), 30);
    assert_eq!(json["per_class"].as_array().unwrap().len(), 3);
}

#[test]
fn inspect_describes_the_model() {
    let t = trained_classifier();
    let text = t.dir.ok(&["inspect", "flowers.safetensors"]);
    // 2 numeric features + 2 colours in, 8 hidden, 3 classes out.
    assert!(text.contains("4 → 8 relu → 3 softmax"), "{text}");
    assert!(
        text.contains(&format!("{}", 4 * 8 + 8 + 8 * 3 + 3)),
        "{text}"
    );
    assert!(text.contains("setosa, versicolor, virginica"), "{text}");
    let json: Value =
        serde_json::from_str(&t.dir.ok(&["inspect", "flowers.safetensors", "--json"])).unwrap();
    assert_eq!(json["task"], "classify");
    assert_eq!(json["format_version"], 1);
}

#[test]
fn eval_rejects_a_class_the_model_never_saw() {
    let t = trained_classifier();
    let bad = flowers_csv(6, 3).replace("virginica", "sunflower");
    t.dir.write("bad.csv", &bad);
    let err = t.dir.fails(&["eval", "flowers.safetensors", "bad.csv"]);
    // Row 3 of the data is the first virginica: line 4 of the file.
    assert!(err.contains("bad.csv:4"), "{err}");
    assert!(err.contains("species"), "{err}");
    assert!(err.contains("sunflower"), "{err}");
}

#[test]
fn predict_needs_the_feature_columns_and_says_what_it_did_not_know() {
    let t = trained_classifier();
    t.dir.write("other.csv", "length,height,colour\n1,2,red\n");
    let err = t
        .dir
        .fails(&["predict", "flowers.safetensors", "other.csv"]);
    assert!(
        err.contains("other.csv: the model's feature column(s) width are missing"),
        "{err}"
    );

    t.dir.write(
        "green.csv",
        "id,colour,length,width,extra\n7,red,1,2,x\n8,green,1,2,y\n",
    );
    let out = t.dir.run(&["predict", "flowers.safetensors", "green.csv"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "note: column \"colour\": 1 cell(s) hold values not seen in training (\"green\")"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("note: ignored the column(s) the model does not use: id, extra"),
        "{stderr}"
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);
    let err = t
        .dir
        .fails(&["predict", "flowers.safetensors", "green.csv", "--strict"]);
    assert!(err.contains("green.csv:3"), "{err}");
    assert!(err.contains("colour"), "{err}");
    assert!(err.contains("green"), "{err}");
}

#[test]
fn eval_needs_the_target_column_and_a_real_model() {
    let t = trained_classifier();
    t.dir
        .write("unlabelled.csv", "length,width,colour\n1,2,red\n");
    let err = t
        .dir
        .fails(&["eval", "flowers.safetensors", "unlabelled.csv"]);
    assert!(err.contains("species"), "{err}");

    let err = t.dir.fails(&["eval", "missing.safetensors", "test.csv"]);
    assert!(err.contains("missing.safetensors"), "{err}");

    std::fs::write(t.dir.path("junk.safetensors"), b"not a model at all").unwrap();
    let err = t.dir.fails(&["predict", "junk.safetensors", "test.csv"]);
    assert!(err.contains("junk.safetensors"), "{err}");
}

#[test]
fn regression_models_predict_numbers_and_report_r2() {
    let dir = Dir::new();
    let mut csv = String::from("a,b,y\n");
    for i in 0..80 {
        let a = (i as f64 * 0.37).sin();
        let b = (i as f64 * 0.11).cos();
        csv += &format!("{a:.4},{b:.4},{:.4}\n", 2.0 * a - b + 0.5);
    }
    dir.write("lin.csv", &csv);
    dir.ok(&[
        "train",
        "lin.csv",
        "--task",
        "regress",
        "--layers",
        "",
        "--epochs",
        "60",
        "--lr",
        "0.05",
        "--save",
        "lin.safetensors",
    ]);
    let json: Value = serde_json::from_str(
        dir.ok(&["eval", "lin.safetensors", "lin.csv", "--json"])
            .trim(),
    )
    .unwrap();
    assert!(json["r2"].as_f64().unwrap() > 0.9, "{json}");
    assert!(json["rmse"].as_f64().unwrap() >= 0.0);
    let out = dir.ok(&["predict", "lin.safetensors", "lin.csv"]);
    assert_eq!(out.lines().count(), 81);
    let err = dir.fails(&["predict", "lin.safetensors", "lin.csv", "--proba"]);
    assert!(err.contains("--proba"), "{err}");
}

/// The README's first command: default flags on the built-in MNIST subset reach at least 95%
/// on its 2,000 held-out test digits.
#[test]
fn default_training_on_mnist10k_reaches_95_percent() {
    let dir = Dir::new();
    let out = dir.ok(&[
        "train",
        "builtin:mnist10k",
        "--test",
        "builtin:mnist10k-test",
        "--json",
    ]);
    let last: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    let accuracy = last["test_accuracy"].as_f64().unwrap();
    assert!(accuracy >= 0.95, "test accuracy {accuracy}");
    assert!(dir.path("model.safetensors").exists());
}

/// The model file with its metadata document changed by `edit`, same weights.
fn edited_model(from: &Path, to: &Path, edit: impl FnOnce(&mut Value)) {
    let (mut metadata, network) = read_model(from);
    edit(&mut metadata);
    let map = std::collections::BTreeMap::from([("backprop".to_string(), metadata.to_string())]);
    std::fs::write(to, backprop_data::safetensors::to_bytes(&network, &map)).unwrap();
}

#[test]
fn a_model_whose_preprocessing_disagrees_with_its_network_is_refused_at_load() {
    let t = trained_classifier();
    let colour = |v: &mut Value| -> usize {
        let features = v["preprocessing"]["features"].as_array().unwrap();
        features.iter().position(|f| f["name"] == "colour").unwrap()
    };
    // The reproducer: one extra category panicked predict and eval (index out of
    // bounds) while inspect accepted the file.
    edited_model(&t.model, &t.dir.path("extra.safetensors"), |v| {
        let i = colour(v);
        v["preprocessing"]["features"][i]["categories"]
            .as_array_mut()
            .unwrap()
            .push("zzz".into());
    });
    // A category twice keeps the width but breaks the encoder's search.
    edited_model(&t.model, &t.dir.path("twice.safetensors"), |v| {
        let i = colour(v);
        v["preprocessing"]["features"][i]["categories"] = serde_json::json!(["red", "red"]);
    });
    // A scale of zero would divide every value by it.
    edited_model(&t.model, &t.dir.path("zero.safetensors"), |v| {
        v["preprocessing"]["features"][0]["scale"] = serde_json::json!(0.0);
    });
    // Four class names in the target for three softmax outputs.
    edited_model(&t.model, &t.dir.path("classes.safetensors"), |v| {
        v["preprocessing"]["target"]["classes"] =
            serde_json::json!(["setosa", "versicolor", "virginica", "x"]);
        v["classes"] = v["preprocessing"]["target"]["classes"].clone();
    });
    let expected = [
        ("extra.safetensors", "encode 5 inputs, but it says 4"),
        ("twice.safetensors", "\"red\" appears twice"),
        ("zero.safetensors", "scale 0"),
        ("classes.safetensors", "4 class names for a network with 3"),
    ];
    for (file, says) in expected {
        for command in ["predict", "eval", "inspect"] {
            let mut args = vec![command, file];
            if command != "inspect" {
                args.push("test.csv");
            }
            let err = t.dir.fails(&args);
            assert!(err.contains(file), "{command} {file}: {err}");
            assert!(err.contains(says), "{command} {file}: {err}");
        }
    }
}

#[test]
fn inspect_summarises_huge_metadata() {
    let t = trained_classifier();
    // 50 MB of training notes and 5000 left-out columns with long names.
    edited_model(&t.model, &t.dir.path("huge.safetensors"), |v| {
        v["training"]["notes"] = Value::String("x".repeat(50 << 20));
        v["preprocessing"]["left_out"] = (0..5000)
            .map(|i| serde_json::json!({"name": format!("{i}{}", "n".repeat(1000)), "why": "--drop"}))
            .collect();
    });
    let out = t.dir.ok(&["inspect", "huge.safetensors"]);
    assert!(out.len() < 20_000, "{} bytes of output", out.len());
    assert!(
        out.contains("… and 4950 more left-out columns (--json lists them)"),
        "{out:.2000}"
    );
    assert!(
        out.contains(&format!("({} characters)", 50 << 20)),
        "{out:.2000}"
    );
}
