//! `backprop cv` end to end: the real binary in a temporary folder, on small CSV files.

mod common;

use std::collections::BTreeSet;

use common::Dir;
use serde_json::{Map, Value};

/// Three classes of noisy points around three centers, with a text label (deterministic).
fn classes_csv(rows: usize) -> String {
    let mut text = String::from("a,b,label\n");
    for i in 0..rows {
        let class = i % 3;
        let jitter = ((i * 37) % 11) as f64 / 11.0 - 0.5;
        let (a, b) = [(0.0, 0.0), (1.5, 0.5), (0.5, 1.5)][class];
        let name = ["red", "green", "blue"][class];
        text += &format!("{:.3},{:.3},{name}\n", a + jitter, b - jitter * 0.7);
    }
    text
}

/// y = 2a − b + a small wobble.
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

const SMALL: &[&str] = &["--layers", "8", "--batch-size", "16", "--epochs", "5"];

fn cv_args<'a>(head: &[&'a str], tail: &[&'a str]) -> Vec<&'a str> {
    ["cv"]
        .iter()
        .chain(head)
        .chain(SMALL)
        .chain(tail)
        .copied()
        .collect()
}

fn json_lines(stdout: &str) -> Vec<Map<String, Value>> {
    stdout
        .lines()
        .map(|line| match serde_json::from_str(line) {
            Ok(Value::Object(object)) => object,
            other => panic!("not a JSON object: {line:?}: {other:?}"),
        })
        .collect()
}

fn float(line: &Map<String, Value>, key: &str) -> f64 {
    line.get(key)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("{key} is not a number in {line:?}"))
}

/// The fold lines and the summary line; checks each line's `event`.
fn folds_and_summary(stdout: &str) -> (Vec<Map<String, Value>>, Map<String, Value>) {
    let mut lines = json_lines(stdout);
    let summary = lines.pop().expect("a summary line");
    assert_eq!(summary["event"], "summary", "{summary:?}");
    for line in &lines {
        assert_eq!(line["event"], "fold", "{line:?}");
    }
    (lines, summary)
}

/// Each `cv_<score>_mean` / `_std` of the summary is the mean and population standard
/// deviation (ddof 0) of the folds' scores.
fn check_summary(folds: &[Map<String, Value>], summary: &Map<String, Value>, scores: &[&str]) {
    for score in scores {
        let values: Vec<f64> = folds.iter().map(|f| float(f, score)).collect();
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let std = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
        let (got_mean, got_std) = (
            float(summary, &format!("cv_{score}_mean")),
            float(summary, &format!("cv_{score}_std")),
        );
        assert!(
            (got_mean - mean).abs() < 1e-12,
            "{score}: {got_mean} vs {mean}"
        );
        assert!((got_std - std).abs() < 1e-12, "{score}: {got_std} vs {std}");
    }
}

#[test]
fn classification_folds_and_summary_carry_the_documented_keys() {
    let dir = Dir::new();
    dir.write("data.csv", &classes_csv(90));
    let out = dir.ok(&[
        "cv", "data.csv", "--folds", "3", "--json", "--layers", "8", "--lr", "0.01",
    ]);
    let (folds, summary) = folds_and_summary(&out);
    assert_eq!(folds.len(), 3, "{out}");
    for (i, fold) in folds.iter().enumerate() {
        assert_eq!(
            (fold["repeat"].clone(), fold["fold"].clone()),
            (1.into(), (i + 1).into())
        );
        assert_eq!(
            (fold["train_rows"].clone(), fold["test_rows"].clone()),
            (60.into(), 30.into())
        );
        for score in ["accuracy", "macro_f1"] {
            assert!(
                (0.0..=1.0).contains(&float(fold, score)),
                "{score} in {fold:?}"
            );
        }
        assert!(float(fold, "log_loss") > 0.0, "{fold:?}");
        assert!(fold.get("rmse").is_none());
    }
    check_summary(&folds, &summary, &["accuracy", "log_loss", "macro_f1"]);
    assert_eq!(summary["task"], "classify");
    assert_eq!(
        (summary["rows"].clone(), summary["folds"].clone()),
        (90.into(), 3.into())
    );
    // The stratified folds hold out 10 rows of each class: chance is 1/3.
    assert!(float(&summary, "cv_accuracy_mean") > 0.6, "{summary:?}");
}

#[test]
fn regression_reports_rmse_mae_and_r2() {
    let dir = Dir::new();
    dir.write("reg.csv", &regression_csv(50));
    let out = dir.ok(&cv_args(&["reg.csv", "--json"], &[]));
    let (folds, summary) = folds_and_summary(&out);
    assert_eq!(folds.len(), 5);
    assert!(folds
        .iter()
        .all(|f| f["test_rows"] == 10 && f["train_rows"] == 40));
    check_summary(&folds, &summary, &["rmse", "mae", "r2"]);
    for key in ["cv_rmse_mean", "cv_mae_mean", "cv_r2_mean", "cv_r2_std"] {
        assert!(summary.contains_key(key), "{key} missing from {summary:?}");
    }
    assert!(summary.get("cv_accuracy_mean").is_none());
    assert_eq!(summary["task"], "regress");
    // Five epochs are not enough: every fold says so, and so does the summary.
    assert!(folds.iter().all(|f| f["converged"] == false), "{folds:?}");
    assert_eq!(summary["converged"], false);
    let stderr =
        String::from_utf8_lossy(&dir.run(&cv_args(&["reg.csv", "--json"], &[])).stderr).to_string();
    assert!(
        stderr.contains("warning: not converged in folds 1, 2, 3, 4, 5"),
        "{stderr}"
    );
}

/// The keys that say how the folds were run rather than what they gave.
const RUN_KEYS: [&str; 5] = [
    "worker",
    "seconds",
    "workers",
    "threads_per_worker",
    "peak_concurrent_folds",
];

#[test]
fn one_and_two_threads_give_the_same_bits_and_two_run_folds_at_once() {
    let dir = Dir::new();
    dir.write("data.csv", &classes_csv(300));
    // Folds long enough (tenths of a second) that two workers overlap whatever the load.
    let run = |threads: &str| {
        let out = dir.ok(&[
            "cv",
            "data.csv",
            "--json",
            "--layers",
            "64,64",
            "--epochs",
            "40",
            "--patience",
            "0",
            "--dropout",
            "0.1",
            "--threads",
            threads,
        ]);
        folds_and_summary(&out)
    };
    let (one, one_summary) = run("1");
    let (two, two_summary) = run("2");
    assert_eq!(one_summary["workers"], 1);
    assert_eq!(one_summary["peak_concurrent_folds"], 1);
    assert!(one.iter().all(|f| f["worker"] == 0));
    // Two threads: two folds at a time, one thread each, and both workers trained folds.
    assert_eq!(two_summary["workers"], 2);
    assert_eq!(two_summary["threads_per_worker"], 1);
    assert_eq!(two_summary["peak_concurrent_folds"], 2, "{two_summary:?}");
    let workers: BTreeSet<u64> = two.iter().map(|f| f["worker"].as_u64().unwrap()).collect();
    assert_eq!(workers, BTreeSet::from([0, 1]));
    let results = |lines: &[Map<String, Value>]| -> Vec<String> {
        lines
            .iter()
            .map(|line| {
                let mut line = line.clone();
                RUN_KEYS.iter().for_each(|k| {
                    line.remove(*k);
                });
                // Printed shortest-round-trip, so equal text is equal bits.
                Value::Object(line).to_string()
            })
            .collect()
    };
    assert_eq!(results(&one), results(&two));
    assert_eq!(
        results(std::slice::from_ref(&one_summary)),
        results(std::slice::from_ref(&two_summary))
    );
    // Not every fold scored the same: the folds really differ.
    let losses: BTreeSet<String> = one.iter().map(|f| f["log_loss"].to_string()).collect();
    assert!(losses.len() > 1, "{losses:?}");
}

#[test]
fn repeats_give_folds_times_repeats_lines() {
    let dir = Dir::new();
    dir.write("data.csv", &classes_csv(60));
    let out = dir.ok(&cv_args(
        &["data.csv", "--folds", "3", "--repeats", "2", "--json"],
        &[],
    ));
    let (folds, summary) = folds_and_summary(&out);
    let labels: Vec<(u64, u64)> = folds
        .iter()
        .map(|f| (f["repeat"].as_u64().unwrap(), f["fold"].as_u64().unwrap()))
        .collect();
    assert_eq!(labels, [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3)]);
    assert_eq!(
        (summary["folds"].clone(), summary["repeats"].clone()),
        (3.into(), 2.into())
    );
    check_summary(&folds, &summary, &["accuracy", "log_loss", "macro_f1"]);
    // The second repeat cuts other folds: its scores are not the first repeat's again.
    let scores = |repeat: u64| -> Vec<String> {
        folds
            .iter()
            .filter(|f| f["repeat"] == repeat)
            .map(|f| f["log_loss"].to_string())
            .collect()
    };
    assert_ne!(scores(1), scores(2));
}

#[test]
fn text_output_has_a_table_and_mean_and_std_lines() {
    let dir = Dir::new();
    let mut data = classes_csv(60);
    data += "0.1,0.2,\n"; // no target: left out, with a note
    dir.write("data.csv", &data);
    let out = dir.ok(&cv_args(&["data.csv", "--folds", "4"], &[]));
    for needle in [
        "60 rows",
        "data.csv:62",
        "4 folds × 1 repeat, stratified by class, seed 0: 15 rows held out per fold",
        "fold  train  test  epochs  kept  accuracy  log_loss  macro_f1",
        "mean ± std over 4 folds",
    ] {
        assert!(out.contains(needle), "{needle:?} missing from\n{out}");
    }
    let line = |name: &str| {
        out.lines()
            .find(|l| l.starts_with(name) && l.contains(" ± "))
            .unwrap_or_else(|| panic!("no {name} line in\n{out}"))
            .to_string()
    };
    for name in ["accuracy", "log_loss", "macro_f1"] {
        let text = line(name);
        let parts: Vec<&str> = text.split_whitespace().collect();
        assert_eq!(parts.len(), 4, "{parts:?}");
        assert!(parts[1].parse::<f64>().is_ok() && parts[3].parse::<f64>().is_ok());
    }
    let table_rows = out
        .lines()
        .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .count();
    assert_eq!(table_rows, 4, "{out}");
}

#[test]
fn train_only_flags_are_refused_and_config_files_work() {
    let dir = Dir::new();
    dir.write("data.csv", &classes_csv(30));
    for (flag, value) in [
        ("--save", "m.safetensors"),
        ("--test", "data.csv"),
        ("--checkpoint", "ck"),
        ("--resume", "ck"),
        ("--plot", "p.svg"),
        ("--init", "m.safetensors"),
    ] {
        let err = dir.fails(&["cv", "data.csv", flag, value]);
        assert!(err.contains(&format!("{flag} is not a cv option")), "{err}");
    }
    // A config file shared with train: its output settings are left alone, with a note.
    dir.write(
        "run.toml",
        "layers = \"8\"\nepochs = 3\nsave = \"m.safetensors\"\nplot = \"p.svg\"\n",
    );
    let out = dir.ok(&["cv", "data.csv", "--config", "run.toml", "--folds", "3"]);
    assert!(out.contains("2 → 8 relu → 3 softmax"), "{out}");
    assert!(
        out.contains("`save`, `plot` only apply to `backprop train`"),
        "{out}"
    );
    assert!(!dir.path("m.safetensors").exists() && !dir.path("p.svg").exists());
    dir.write("warm.toml", "init = \"m.safetensors\"\n");
    let err = dir.fails(&["cv", "data.csv", "--config", "warm.toml"]);
    assert!(
        err.contains("warm.toml: `init` is not a cv setting"),
        "{err}"
    );
    let err = dir.fails(&["cv", "data.csv", "--folds", "1"]);
    assert!(err.contains("at least 2 folds"), "{err}");
}

#[test]
fn errors_stay_located_and_impossible_folds_are_explained() {
    let dir = Dir::new();
    // Line 4 of the file: a word among numbers; line 5: a missing cell.
    let with_line = |line: &str| -> String {
        let mut lines: Vec<String> = classes_csv(30).lines().map(String::from).collect();
        lines.insert(3, line.to_string());
        lines.join("\n") + "\n"
    };
    dir.write("bad.csv", &with_line("abc,0.5,red"));
    let err = dir.fails(&cv_args(&["bad.csv"], &[]));
    assert!(
        err.contains("bad.csv:4") && err.contains("\"abc\""),
        "{err}"
    );
    dir.write("gap.csv", &with_line(",0.5,red"));
    let err = dir.fails(&cv_args(&["gap.csv", "--missing", "error"], &[]));
    assert!(err.contains("gap.csv:4"), "{err}");

    // A category on one row only (line 9): the fold that holds it out never trained on it.
    let mut colors = String::from("a,color,label\n");
    for i in 0..30 {
        let color = if i == 7 {
            "mauve"
        } else {
            ["red", "blue"][i % 2]
        };
        colors += &format!(
            "{:.2},{color},{}\n",
            (i % 7) as f64 / 7.0,
            ["no", "yes"][i % 3 / 2]
        );
    }
    dir.write("colors.csv", &colors);
    let err = dir.fails(&cv_args(&["colors.csv", "--strict"], &[]));
    assert!(
        err.contains(": colors.csv:9: column \"color\" (2): \"mauve\""),
        "{err}"
    );
    assert!(err.starts_with("error: fold "), "{err}");
    let out = dir.run(&cv_args(&["colors.csv", "--json"], &[]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("column \"color\": 1 cell(s) hold values not seen in training (\"mauve\")"),
        "{stderr}"
    );

    dir.write("tiny.csv", &regression_csv(4));
    let err = dir.fails(&cv_args(&["tiny.csv"], &[]));
    assert!(err.contains("cannot cut 4 row(s) into 5 folds"), "{err}");

    let mut lonely = classes_csv(30);
    lonely += "5.0,5.0,purple\n";
    dir.write("lonely.csv", &lonely);
    let err = dir.fails(&cv_args(&["lonely.csv"], &[]));
    assert!(err.contains("\"purple\" has a single row"), "{err}");
}
