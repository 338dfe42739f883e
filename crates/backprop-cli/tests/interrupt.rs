//! Ctrl-C during `backprop train`: the real binary is sent SIGINT mid-training, saves the
//! best weights so far, says so, exits 130, and the model it wrote loads (issue 14).
#![cfg(unix)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use common::Dir;
use serde_json::Value;

/// Enough rows that an epoch takes a moment and many epochs run.
fn data(dir: &Dir) {
    rows(dir, 4000);
}

fn rows(dir: &Dir, n: u32) {
    let mut text = String::from("a,b,c,y\n");
    for i in 0..n {
        let (a, b, c) = (i % 17, (i * 7) % 13, (i * 3) % 11);
        text += &format!("{a},{b},{c},{}\n", (a + b + c) % 3);
    }
    dir.write("data.csv", &text);
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
}

/// The CPU time (user + system) the running `child` has used, from `/proc`; `None` once it
/// has exited.
fn cpu_seconds(child: &Child) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", child.id())).ok()?;
    // The fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    if fields.first() == Some(&"Z") {
        return None;
    }
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    let per_second =
        String::from_utf8(Command::new("getconf").arg("CLK_TCK").output().ok()?.stdout)
            .ok()?
            .trim()
            .parse::<f64>()
            .ok()?;
    Some(ticks / per_second)
}

/// Starts `backprop train ... --json`, waits for the stream's third epoch record, sends
/// `signal_name`, and returns the records and the exit status.
fn interrupt_after_epoch_3(
    dir: &Dir,
    signal_name: &str,
    extra: &[&str],
) -> (Vec<Value>, i32, String) {
    let mut args = vec![
        "train",
        "data.csv",
        "--epochs",
        "100000",
        "--patience",
        "100000",
        "--layers",
        "32",
        "--save",
        "model.safetensors",
        "--json",
    ];
    args.extend_from_slice(extra);
    let mut child = dir
        .command(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start backprop");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut records = Vec::new();
    let mut epochs = 0;
    for line in lines.by_ref() {
        let record: Value = serde_json::from_str(&line.unwrap()).unwrap();
        if record["event"] == "epoch" {
            epochs += 1;
        }
        records.push(record);
        if epochs == 3 {
            signal(&child, signal_name);
            break;
        }
    }
    for line in lines {
        records.push(serde_json::from_str(&line.unwrap()).unwrap());
    }
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    (records, output.status.code().unwrap_or(-1), stderr)
}

#[test]
fn sigint_mid_training_saves_the_best_weights_and_exits_130() {
    let dir = Dir::new();
    data(&dir);
    let (records, code, stderr) = interrupt_after_epoch_3(&dir, "INT", &["--checkpoint", "ckpt"]);
    assert_eq!(code, 130, "{stderr}");
    let summary = records.last().expect("a summary record");
    assert_eq!(summary["event"], "summary", "{records:?}");
    assert_eq!(summary["stop_reason"], "interrupted", "{summary}");
    let epochs = summary["epochs_run"].as_u64().unwrap();
    assert!((3..100_000).contains(&epochs), "{summary}");
    let kept = summary["kept_epoch"].as_u64().unwrap();
    // The signal came inside an epoch (stopped after a step) or in its validation.
    let running = summary["unfinished_epoch"].as_u64().unwrap_or(epochs);
    assert!([epochs, epochs + 1].contains(&running), "{summary}");
    assert!(
        stderr.contains(&format!(
            "interrupted at epoch {running}: saved the best weights (epoch {kept}) to model.safetensors"
        )),
        "{stderr}"
    );
    let inspected: Value =
        serde_json::from_str(&dir.ok(&["inspect", "model.safetensors", "--json"])).unwrap();
    assert_eq!(
        inspected["training"]["stop_reason"], "interrupted",
        "{inspected}"
    );
    assert_eq!(inspected["training"]["epochs"], epochs, "{inspected}");
    // The checkpoint of the last epoch is there and resumable.
    assert!(dir.path("ckpt").exists());
    dir.ok(&[
        "train",
        "data.csv",
        "--epochs",
        &(epochs + 1).to_string(),
        "--patience",
        "100000",
        "--layers",
        "32",
        "--resume",
        "ckpt",
        "--save",
        "resumed.safetensors",
    ]);
}

#[test]
fn sigterm_is_an_interrupt_too() {
    let dir = Dir::new();
    data(&dir);
    let (records, code, stderr) = interrupt_after_epoch_3(&dir, "TERM", &[]);
    assert_eq!(code, 130, "{stderr}");
    assert_eq!(records.last().unwrap()["stop_reason"], "interrupted");
    dir.ok(&["inspect", "model.safetensors"]);
}

/// Starts `backprop train` on `n` rows with batch 1 and a wide network, so one epoch takes
/// many seconds; sends SIGINT once the header is out (training is about to start) and
/// returns the output, the exit status and the seconds from the signal to the exit.
fn interrupt_the_first_epoch(dir: &Dir, command: &str, extra: &[&str]) -> (String, i32, f64) {
    rows(dir, 50_000);
    let mut args = vec![
        command,
        "data.csv",
        "--batch-size",
        "1",
        "--layers",
        "256,256",
    ];
    args.extend_from_slice(extra);
    let mut child = dir
        .command(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start backprop");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut text = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        text += &line;
        text.push('\n');
        if line.starts_with("optimizer") {
            break;
        }
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    signal(&child, "INT");
    let sent = std::time::Instant::now();
    for line in lines {
        text += &line.unwrap();
        text.push('\n');
    }
    let output = child.wait_with_output().unwrap();
    let seconds = sent.elapsed().as_secs_f64();
    text += &String::from_utf8_lossy(&output.stderr);
    (text, output.status.code().unwrap_or(-1), seconds)
}

#[test]
fn sigint_inside_a_long_first_epoch_stops_after_the_step_and_saves() {
    let dir = Dir::new();
    // Two epochs at most: a run that waited for the end of the epoch would show epoch 1 done.
    let (text, code, seconds) = interrupt_the_first_epoch(
        &dir,
        "train",
        &["--epochs", "2", "--save", "model.safetensors"],
    );
    assert_eq!(code, 130, "{text}");
    assert!(
        seconds < 5.0,
        "{seconds} s from the signal to the exit\n{text}"
    );
    assert!(
        text.contains("interrupted at epoch 1: saved the weights of step "),
        "{text}"
    );
    assert!(text.contains(" to model.safetensors"), "{text}");
    let inspected: Value =
        serde_json::from_str(&dir.ok(&["inspect", "model.safetensors", "--json"])).unwrap();
    let training = &inspected["training"];
    assert_eq!(training["stop_reason"], "interrupted", "{inspected}");
    assert_eq!(training["epochs"], 0, "{inspected}");
    assert_eq!(training["unfinished_epoch"], 1, "{inspected}");
    dir.ok(&[
        "predict",
        "model.safetensors",
        "data.csv",
        "--output",
        "p.csv",
    ]);
}

#[test]
fn sigint_inside_the_first_epoch_of_every_cv_fold_reports_nothing_and_exits_130() {
    let dir = Dir::new();
    let (text, code, seconds) =
        interrupt_the_first_epoch(&dir, "cv", &["--folds", "3", "--epochs", "2"]);
    assert_eq!(code, 130, "{text}");
    assert!(
        seconds < 5.0,
        "{seconds} s from the signal to the exit\n{text}"
    );
    assert!(
        text.contains("interrupted before a fold finished: nothing to report"),
        "{text}"
    );
}

#[test]
fn sigint_during_cv_reports_the_folds_done() {
    let dir = Dir::new();
    data(&dir);
    // One fold at a time, each about 3 s of CPU time here (20 folds: a minute uninterrupted).
    // The signal comes once the run has used 6 s of CPU time, which is one fold or more and
    // not all of them on a machine of any load; wall-clock time would depend on the load.
    let child = dir
        .command(&[
            "cv",
            "data.csv",
            "--folds",
            "20",
            "--epochs",
            "1000",
            "--patience",
            "0",
            "--layers",
            "32",
            "--threads",
            "1",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start backprop");
    while cpu_seconds(&child).is_some_and(|used| used < 6.0) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    signal(&child, "INT");
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stdout}\n{stderr}");
    let records: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary = records.last().unwrap();
    assert_eq!(summary["event"], "summary", "{stdout}");
    assert_eq!(summary["stop_reason"], "interrupted", "{summary}");
    let done = summary["folds_done"].as_u64().unwrap();
    assert!((1..20).contains(&done), "{summary}");
    assert_eq!(summary["folds_planned"], 20, "{summary}");
    let folds = records.iter().filter(|r| r["event"] == "fold").count();
    assert_eq!(folds as u64, done, "{stdout}");
    assert!(
        stderr.contains(&format!("interrupted: {done} of 20 folds done")),
        "{stderr}"
    );
}

#[test]
fn sigint_during_tune_keeps_the_best_trial_so_far_and_saves_it_retrained() {
    let dir = Dir::new();
    let mut child = dir
        .command(&[
            "tune",
            "builtin:moons",
            "--trials",
            "100",
            "--epochs",
            "3000",
            "--patience",
            "0",
            "--layers",
            "16",
            "--save",
            "model.safetensors",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start backprop");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut records: Vec<Value> = Vec::new();
    for line in lines.by_ref() {
        let record: Value = serde_json::from_str(&line.unwrap()).unwrap();
        let scored = record["event"] == "trial" && record["val_loss"].is_number();
        records.push(record);
        if scored {
            signal(&child, "INT");
            break;
        }
    }
    for line in lines {
        records.push(serde_json::from_str(&line.unwrap()).unwrap());
    }
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    let summary = records.last().unwrap();
    assert_eq!(summary["event"], "summary", "{records:?}");
    assert_eq!(summary["stop_reason"], "interrupted", "{summary}");
    let trials = summary["trials"].as_u64().unwrap();
    assert!((1..100).contains(&trials), "{summary}");
    assert!(
        stderr.contains(&format!(
            "interrupted after {trials} trials: saved the best settings"
        )),
        "{stderr}"
    );
    let inspected: Value =
        serde_json::from_str(&dir.ok(&["inspect", "model.safetensors", "--json"])).unwrap();
    assert_eq!(
        inspected["training"]["stop_reason"], "interrupted",
        "{inspected}"
    );
}
