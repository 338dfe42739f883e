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
    let mut text = String::from("a,b,c,y\n");
    for i in 0..4000u32 {
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
    assert!(
        stderr.contains(&format!(
            "interrupted at epoch {epochs}: saved the best weights (epoch {kept}) to model.safetensors"
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
