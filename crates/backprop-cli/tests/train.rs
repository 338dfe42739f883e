//! `backprop train` end to end: the real binary in a temporary folder, on small CSV files.

mod common;

use common::Dir;
use safetensors::SafeTensors;
use serde_json::Value;

/// Three classes of points around three centers, with a text label (deterministic).
fn classes_csv(rows: usize) -> String {
    let mut text = String::from("a,b,label\n");
    for i in 0..rows {
        let class = i % 3;
        let jitter = ((i * 37) % 11) as f64 / 11.0 - 0.5;
        let (a, b) = [(0.0, 0.0), (3.0, 0.5), (1.0, 3.0)][class];
        let name = ["red", "green", "blue"][class];
        text += &format!("{:.3},{:.3},{name}\n", a + jitter, b - jitter * 0.5);
    }
    text
}

/// y = 2a − b + small wobble.
fn regression_csv(rows: usize) -> String {
    let mut text = String::from("a,b,y\n");
    for i in 0..rows {
        let a = (i % 7) as f64 / 7.0;
        let b = (i % 5) as f64 / 5.0;
        let y = 2.0 * a - b + 0.01 * ((i * 13) % 3) as f64;
        text += &format!("{a:.4},{b:.4},{y:.4}\n");
    }
    text
}

const SMALL: &[&str] = &["--layers", "8", "--batch-size", "16"];

fn args<'a>(head: &[&'a str], tail: &[&'a str]) -> Vec<&'a str> {
    head.iter().chain(SMALL).chain(tail).copied().collect()
}

fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON: {line:?}: {e}"))
        })
        .collect()
}

/// The tensors of a safetensors file: name → (shape, bytes).
fn tensors(bytes: &[u8]) -> Vec<(String, Vec<usize>, Vec<u8>)> {
    let file = SafeTensors::deserialize(bytes).expect("a valid safetensors file");
    let mut all: Vec<_> = file
        .tensors()
        .into_iter()
        .map(|(name, view)| (name, view.shape().to_vec(), view.data().to_vec()))
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

fn metadata(bytes: &[u8]) -> Value {
    let (_, meta) = SafeTensors::read_metadata(bytes).expect("a safetensors header");
    let json = &meta.metadata().as_ref().expect("metadata")["backprop"];
    serde_json::from_str(json).expect("JSON metadata")
}

#[test]
fn trains_saves_and_reports_json_lines() {
    let dir = Dir::new();
    dir.write("train.csv", &classes_csv(90));
    dir.write("test.csv", &classes_csv(30));
    let out = dir.ok(&args(
        &[
            "train",
            "train.csv",
            "--test",
            "test.csv",
            "--epochs",
            "3",
            "--json",
        ],
        &["--save", "m.safetensors", "--val-fraction", "0.2"],
    ));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 5, "{out}");
    for (i, line) in lines[..3].iter().enumerate() {
        assert_eq!(line["event"], "epoch");
        assert_eq!(line["epoch"], i + 1);
        for key in [
            "train_loss",
            "val_loss",
            "val_accuracy",
            "seconds",
            "samples_per_second",
        ] {
            assert!(line[key].is_number(), "{key} in {line}");
        }
    }
    let test = &lines[3];
    assert_eq!(test["event"], "test");
    assert!(test["test_loss"].is_number(), "{test}");
    let accuracy = test["test_accuracy"].as_f64().expect("test_accuracy");
    assert!((0.0..=1.0).contains(&accuracy));
    let summary = &lines[4];
    assert_eq!(summary["event"], "summary");
    assert_eq!(summary["epochs_run"], 3);
    assert_eq!(summary["stop_reason"], "completed");
    assert_eq!(summary["model"], "m.safetensors");
    assert_eq!(summary["test_accuracy"], test["test_accuracy"]);
    assert!(summary["best_epoch"].is_u64() && summary["converged"].is_boolean());

    let bytes = dir.read("m.safetensors");
    let shapes: Vec<(String, Vec<usize>)> = tensors(&bytes)
        .into_iter()
        .map(|(name, shape, _)| (name, shape))
        .collect();
    let expected = [
        ("layers.0.bias", vec![8]),
        ("layers.0.weight", vec![8, 2]),
        ("layers.1.bias", vec![3]),
        ("layers.1.weight", vec![3, 8]),
    ];
    let expected: Vec<(String, Vec<usize>)> = expected
        .into_iter()
        .map(|(n, s)| (n.to_string(), s))
        .collect();
    assert_eq!(shapes, expected);
    let meta = metadata(&bytes);
    assert_eq!(meta["task"], "classify");
    assert_eq!(meta["classes"], serde_json::json!(["blue", "green", "red"]));
    assert_eq!(meta["architecture"]["output"], "softmax");
    assert_eq!(meta["training"]["epochs"], 3);
    assert_eq!(
        meta["training"]["test"]["test_accuracy"],
        test["test_accuracy"]
    );
}

#[test]
fn text_output_has_header_epochs_test_and_save_lines() {
    let dir = Dir::new();
    dir.write("train.csv", &classes_csv(60));
    let out = dir.ok(&args(
        &["train", "train.csv", "--test", "train.csv", "--epochs", "2"],
        &["--val-fraction", "0.2"],
    ));
    for needle in [
        "60 rows",
        "3 classes",
        "2 → 8 relu → 3 softmax",
        "51 parameters",
        "adam",
        "epoch 1/2",
        "val acc",
        "test       accuracy",
        "saved      model.safetensors",
    ] {
        assert!(out.contains(needle), "{needle:?} missing from\n{out}");
    }
    assert!(dir.path("model.safetensors").is_file());
}

#[test]
fn two_classes_get_one_sigmoid_output_and_regression_reports_rmse() {
    let dir = Dir::new();
    let two: String = classes_csv(60)
        .lines()
        .filter(|l| !l.ends_with("blue"))
        .map(|l| format!("{l}\n"))
        .collect();
    dir.write("two.csv", &two);
    dir.ok(&args(
        &["train", "two.csv", "--epochs", "1"],
        &["--save", "b.safetensors"],
    ));
    let meta = metadata(&dir.read("b.safetensors"));
    assert_eq!(meta["architecture"]["outputs"], 1);
    assert_eq!(meta["architecture"]["output"], "sigmoid");
    assert_eq!(meta["loss"]["kind"], "bce");

    dir.write("reg.csv", &regression_csv(70));
    let out = dir.ok(&args(
        &[
            "train", "reg.csv", "--test", "reg.csv", "--epochs", "2", "--json",
        ],
        &["--save", "r.safetensors"],
    ));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 4);
    assert!(lines[0].get("val_accuracy").is_none());
    assert!(lines[2]["test_rmse"].is_number() && lines[2]["test_r2"].is_number());
    assert_eq!(metadata(&dir.read("r.safetensors"))["task"], "regress");

    let err = dir.fails(&["train", "reg.csv", "--loss", "ce"]);
    assert!(err.contains("--loss ce"), "{err}");
    dir.write("three.csv", &classes_csv(30));
    let err = dir.fails(&["train", "three.csv", "--loss", "bce"]);
    assert!(err.contains("bce") && err.contains("3"), "{err}");
}

#[test]
fn resuming_gives_the_same_weights_as_training_straight_through() {
    let dir = Dir::new();
    dir.write("train.csv", &classes_csv(60));
    let common = ["--dropout", "0.2", "--seed", "3"];
    let straight = args(&["train", "train.csv", "--epochs", "4"], &common);
    dir.ok(&[straight.as_slice(), &["--save", "straight.safetensors"]].concat());
    let first = args(&["train", "train.csv", "--epochs", "2"], &common);
    dir.ok(&[
        first.as_slice(),
        &["--checkpoint", "ck", "--save", "half.safetensors"],
    ]
    .concat());
    assert!(dir.path("ck/model.safetensors").is_file() && dir.path("ck/state.json").is_file());
    let state: Value = serde_json::from_slice(&dir.read("ck/state.json")).unwrap();
    assert_eq!(state["next_epoch"], 3);
    let second = args(&["train", "train.csv", "--epochs", "4", "--json"], &common);
    let out = dir.ok(&[
        second.as_slice(),
        &["--resume", "ck", "--save", "resumed.safetensors"],
    ]
    .concat());
    let epochs: Vec<u64> = json_lines(&out)
        .iter()
        .filter(|l| l["event"] == "epoch")
        .map(|l| l["epoch"].as_u64().unwrap())
        .collect();
    assert_eq!(epochs, [3, 4]);
    let straight = tensors(&dir.read("straight.safetensors"));
    let resumed = tensors(&dir.read("resumed.safetensors"));
    assert_eq!(straight, resumed);
    assert_ne!(straight, tensors(&dir.read("half.safetensors")));
    let err = dir.fails(&[second.as_slice(), &["--resume", "ck", "--scale", "minmax"]].concat());
    assert!(err.contains("other data or preprocessing"), "{err}");
}

#[test]
fn an_existing_model_survives_a_failed_run() {
    let dir = Dir::new();
    dir.write("train.csv", &classes_csv(30));
    dir.write("bad.csv", "a,b,label\n1,2,red\n3,oops,green\n4,5,red\n");
    dir.ok(&args(
        &["train", "train.csv", "--epochs", "1"],
        &["--save", "m.safetensors"],
    ));
    let before = dir.read("m.safetensors");
    dir.fails(&["train", "bad.csv", "--save", "m.safetensors"]);
    assert_eq!(dir.read("m.safetensors"), before);
    let err = dir.fails(&[
        "train",
        "train.csv",
        "--save",
        "no/such/folder/m.safetensors",
    ]);
    assert!(err.contains("no/such/folder"), "{err}");
    let leftovers: Vec<_> = std::fs::read_dir(dir.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn check_png(bytes: &[u8]) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&bytes[12..16], b"IHDR");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert!(width >= 100 && height >= 100, "{width}×{height}");
    assert_eq!(&bytes[bytes.len() - 8..bytes.len() - 4], b"IEND");
}

fn check_svg(text: &str) {
    let start = text.trim_start();
    assert!(
        start.starts_with("<svg") || start.starts_with("<?xml"),
        "{start:.80}"
    );
    assert!(text.trim_end().ends_with("</svg>"));
    assert!(text.matches("<polyline").count() >= 3 || text.matches("<path").count() >= 3);
}

#[test]
fn plots_are_valid_svg_and_png_with_text() {
    let dir = Dir::new();
    dir.write("train.csv", &classes_csv(30));
    let base = args(
        &["train", "train.csv", "--epochs", "3"],
        &["--val-fraction", "0.2"],
    );
    dir.ok(&[base.as_slice(), &["--plot", "curves.svg"]].concat());
    let svg = String::from_utf8(dir.read("curves.svg")).unwrap();
    check_svg(&svg);
    // The font is built in: text on every machine, with or without installed fonts.
    assert!(svg.matches("<text").count() >= 10, "{svg:.400}");
    dir.ok(&[base.as_slice(), &["--plot", "curves.png"]].concat());
    check_png(&dir.read("curves.png"));
    let err = dir.fails(&[base.as_slice(), &["--plot", "curves.pdf"]].concat());
    assert!(err.contains(".svg or .png"), "{err}");
}

#[test]
fn bad_data_is_located() {
    let dir = Dir::new();
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "ragged.csv",
            "a,b,label\n1,2,x\n3,4\n5,6,y\n",
            &["ragged.csv:3", "2 fields"],
        ),
        (
            "word.csv",
            "a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,abc,y\n9,8,x\n",
            &["word.csv:5", "\"b\" (2)", "\"abc\""],
        ),
        (
            "inf.csv",
            "a,b,label\n1,2,x\n3,inf,y\n5,6,x\n",
            &["inf.csv:3", "\"b\" (2)", "\"inf\"", "not a finite number"],
        ),
        ("empty.csv", "", &["empty.csv", "empty"]),
        ("header.csv", "a,b,label\n", &["header.csv", "no", "rows"]),
    ];
    // Missing values are filled unless --missing error refuses them.
    dir.write("gap.csv", "a,b,label\n1,2,x\n3,NaN,y\n5,,x\n");
    let err = dir.fails(&["train", "gap.csv", "--epochs", "1", "--missing", "error"]);
    assert!(
        err.contains("gap.csv:3: column \"b\" (2) has no value (\"NaN\")"),
        "{err}"
    );
    for (name, text, needles) in cases {
        dir.write(name, text);
        let err = dir.fails(&["train", name, "--epochs", "1"]);
        for needle in *needles {
            assert!(
                err.contains(needle),
                "{name}: {needle:?} missing from {err}"
            );
        }
    }
    dir.write("train.csv", &classes_csv(30));
    let err = dir.fails(&["train", "train.csv", "--target", "colour"]);
    assert!(err.contains("train.csv") && err.contains("colour"), "{err}");
    let err = dir.fails(&["train", "missing.csv"]);
    assert!(err.contains("missing.csv"), "{err}");
    dir.write("other.csv", "a,c,label\n1,2,red\n3,4,green\n");
    let err = dir.fails(&["train", "train.csv", "--test", "other.csv", "--epochs", "1"]);
    assert!(
        err.contains("other.csv") && err.contains("missing"),
        "{err}"
    );
    assert!(!dir.path("model.safetensors").exists());
}

#[test]
fn config_file_settings_and_flags_that_override_them() {
    let dir = Dir::new();
    dir.write("train.csv", &classes_csv(30));
    dir.write(
        "run.toml",
        "data = \"train.csv\"\nlayers = \"4\"\nepochs = 2\njson = true\nsave = \"c.safetensors\"\n",
    );
    let lines = json_lines(&dir.ok(&["train", "--config", "run.toml"]));
    assert_eq!(lines.len(), 3);
    let meta = metadata(&dir.read("c.safetensors"));
    assert_eq!(meta["architecture"]["hidden"][0]["units"], 4);
    let lines = json_lines(&dir.ok(&[
        "train", "--config", "run.toml", "--epochs", "3", "--layers", "5",
    ]));
    assert_eq!(lines.len(), 4);
    let meta = metadata(&dir.read("c.safetensors"));
    assert_eq!(meta["architecture"]["hidden"][0]["units"], 5);
    dir.write("typo.toml", "epochz = 2\n");
    let err = dir.fails(&["train", "train.csv", "--config", "typo.toml"]);
    assert!(err.contains("epochz") && err.contains("typo.toml"), "{err}");
}

#[test]
fn init_warm_starts_and_rejects_another_architecture() {
    let dir = Dir::new();
    dir.write("train.csv", &classes_csv(30));
    dir.ok(&args(
        &["train", "train.csv", "--epochs", "1"],
        &["--save", "a.safetensors"],
    ));
    let out = dir.ok(&args(
        &[
            "train",
            "train.csv",
            "--epochs",
            "1",
            "--init",
            "a.safetensors",
            "--patience",
            "0",
        ],
        &["--save", "b.safetensors", "--lr", "1e-9", "--json"],
    ));
    assert_eq!(json_lines(&out).len(), 2);
    // With a learning rate of 1e-9 the weights barely move from the initial ones.
    let (a, b) = (
        tensors(&dir.read("a.safetensors")),
        tensors(&dir.read("b.safetensors")),
    );
    for ((name, _, x), (_, _, y)) in a.iter().zip(&b) {
        let floats = |bytes: &[u8]| -> Vec<f32> {
            bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect()
        };
        for (p, q) in floats(x).iter().zip(floats(y)) {
            assert!((p - q).abs() < 1e-5, "{name}: {p} vs {q}");
        }
    }
    let err = dir.fails(&[
        "train",
        "train.csv",
        "--layers",
        "6",
        "--init",
        "a.safetensors",
    ]);
    assert!(
        err.contains("2 → 8 relu → 3 softmax") && err.contains("2 → 6 relu → 3 softmax"),
        "{err}"
    );
}

#[test]
fn a_run_cut_short_by_its_epochs_says_it_had_not_converged() {
    let dir = Dir::new();
    dir.write("train.csv", &classes_csv(90));
    let short = args(&["train", "train.csv", "--epochs", "3"], &[]);
    let text = dir.ok(&short);
    assert!(
        text.contains("warning    not converged: the training loss was still falling")
            && text.contains("raise --epochs"),
        "{text}"
    );
    let lines = json_lines(&dir.ok(&[short.as_slice(), &["--json"]].concat()));
    assert_eq!(lines.last().unwrap()["converged"], false);
    assert_eq!(
        metadata(&dir.read("model.safetensors"))["training"]["converged"],
        false
    );

    // Labels that the features do not explain: the validation loss soon stops falling.
    let mut noise = String::from("a,b,label\n");
    for i in 0..90 {
        let (a, b) = ((i * 37 % 11) as f64, (i * 17 % 13) as f64);
        noise += &format!("{a},{b},{}\n", ["x", "y"][(i * i / 7) % 2]);
    }
    dir.write("noise.csv", &noise);
    let long = args(
        &["train", "noise.csv", "--epochs", "2000", "--patience", "3"],
        &["--val-fraction", "0.2", "--json"],
    );
    let summary = json_lines(&dir.ok(&long)).pop().unwrap();
    assert_eq!(summary["stop_reason"], "early_stopping", "{summary}");
    assert_eq!(summary["converged"], true);
    assert!(summary["epochs_run"].as_u64().unwrap() < 2000);
    let text = dir.ok(&long[..long.len() - 1]);
    assert!(!text.contains("not converged"), "{text}");
}
