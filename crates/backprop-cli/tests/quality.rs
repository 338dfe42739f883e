//! Learning quality with the defaults of `backprop train`: not that a run finishes, but that it
//! learns real data as well as it should. Fixed seeds and small files (written by
//! `tests/data/make_quality.py`), a few seconds each in a debug build.

mod common;

use common::Dir;
use serde_json::Value;

/// A file of `tests/data`.
fn data(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The number under `key` in the JSON lines of a run (the test metrics line).
fn metric(stdout: &str, key: &str) -> f64 {
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find_map(|record| record.get(key).and_then(Value::as_f64))
        .unwrap_or_else(|| panic!("no {key} in the output:\n{stdout}"))
}

#[test]
fn iris_with_defaults_is_at_least_90_percent_right_on_every_seed() {
    // 112 training rows: a 10% validation split would be 11 rows, and early stopping on it
    // kept the weights of epoch 1 on one seed (68% before the defaults followed the data).
    let dir = Dir::new();
    let (train, test) = (data("iris_train.csv"), data("iris_test.csv"));
    let mut accuracies = Vec::new();
    for seed in 0..5 {
        let seed = seed.to_string();
        let out = dir.ok(&[
            "train", &train, "--target", "species", "--test", &test, "--seed", &seed, "--json",
        ]);
        accuracies.push(metric(&out, "test_accuracy"));
    }
    assert!(
        accuracies.iter().all(|&a| a >= 0.90),
        "test accuracies of seeds 0-4: {accuracies:?}"
    );
}

#[test]
fn a_target_of_50_000_is_learned_and_predicted_in_its_own_units() {
    let dir = Dir::new();
    let (train, test) = (data("target50k_train.csv"), data("target50k_test.csv"));
    let out = dir.ok(&["train", &train, "--test", &test, "--json"]);
    let r2 = metric(&out, "test_r2");
    assert!(r2 >= 0.98, "test R² {r2}");

    // The model stores the standardization; eval and predict undo it.
    let eval = dir.ok(&["eval", "model.safetensors", &test, "--json"]);
    assert_eq!(metric(&eval, "r2"), r2, "eval scores what train scored");
    let predictions = dir.ok(&["predict", "model.safetensors", &test]);
    let values: Vec<f64> = predictions
        .lines()
        .skip(1)
        .map(|line| line.parse().expect("a number per row"))
        .collect();
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    assert_eq!(values.len(), 200);
    assert!(
        (45_000.0..55_000.0).contains(&mean),
        "mean prediction {mean}"
    );
    let rmse = metric(&out, "test_rmse");
    assert!(
        rmse > 100.0 && rmse < 2_000.0,
        "RMSE in the target's units: {rmse}"
    );
}

#[test]
fn the_header_says_what_the_data_decided() {
    let dir = Dir::new();
    let out = dir.ok(&[
        "train",
        &data("iris_train.csv"),
        "--target",
        "species",
        "--epochs",
        "1",
    ]);
    assert!(
        out.contains(
            "decided    l2 8.929e-1 (classification: 100 / 112 rows); no dropout (112 rows < 1000)"
        ),
        "{out}"
    );
    assert!(out.contains("scaling auto"), "{out}");
    let out = dir.ok(&[
        "train",
        &data("target50k_train.csv"),
        "--epochs",
        "1",
        "--l2",
        "0",
    ]);
    assert!(out.contains("target standardized"), "{out}");
    assert!(
        out.contains("decided    no dropout (regression)"),
        "a given --l2 is not decided: {out}"
    );
}
