//! `train --resume`: each flag is applied (lr, epochs, patience, threads: said in the header)
//! or refused naming the flag and the checkpoint's value (issue 14).

mod common;

use common::Dir;
use serde_json::Value;

/// Three classes in three numeric columns, and a checkpoint after 2 epochs at lr 0.05.
fn checkpointed() -> Dir {
    let dir = Dir::new();
    let mut text = String::from("a,b,c,y\n");
    for i in 0..300u32 {
        let (a, b, c) = (i % 17, (i * 7) % 13, (i * 3) % 11);
        text += &format!("{a},{b},{c},{}\n", (a + b + c) % 3);
    }
    dir.write("data.csv", &text);
    dir.ok(&[
        "train",
        "data.csv",
        "--epochs",
        "2",
        "--lr",
        "0.05",
        "--layers",
        "8",
        "--checkpoint",
        "ckpt",
        "--save",
        "first.safetensors",
    ]);
    dir
}

/// `train data.csv --resume ckpt EXTRA`, with `--layers 8` and `--save resumed.safetensors`
/// unless EXTRA gives them.
fn resume_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["train", "data.csv", "--resume", "ckpt"];
    args.extend_from_slice(extra);
    for (flag, value) in [("--layers", "8"), ("--save", "resumed.safetensors")] {
        if !extra.contains(&flag) {
            args.extend([flag, value]);
        }
    }
    args
}

/// The learning rates of the epoch records of a `--json` run.
fn epoch_rates(stdout: &str) -> Vec<(u64, f64)> {
    stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["event"] == "epoch")
        .map(|r| (r["epoch"].as_u64().unwrap(), r["lr"].as_f64().unwrap()))
        .collect()
}

#[test]
fn an_explicit_lr_is_applied_and_said() {
    let dir = checkpointed();
    let header = dir.ok(&resume_args(&[
        "--epochs",
        "4",
        "--lr",
        "0.01",
        "--checkpoint",
        "ck2",
    ]));
    assert!(
        header.contains("lr 0.01 (the checkpoint's was 0.05; the schedule continues from 0.01)"),
        "{header}"
    );
    assert!(header.contains("adam lr 0.01"), "{header}");
    let json = dir.ok(&resume_args(&[
        "--epochs",
        "4",
        "--lr",
        "0.01",
        "--json",
        "--save",
        "again.safetensors",
    ]));
    assert_eq!(epoch_rates(&json), [(3, 0.01), (4, 0.01)]);
}

#[test]
fn without_lr_the_checkpoint_rate_goes_on() {
    let dir = checkpointed();
    let header = dir.ok(&resume_args(&[
        "--epochs",
        "4",
        "--patience",
        "7",
        "--threads",
        "1",
        "--checkpoint",
        "ck2",
    ]));
    assert!(header.contains("the checkpoint's lr 0.05"), "{header}");
    assert!(header.contains("adam lr 0.05"), "{header}");
    assert!(
        header.contains("epochs 4, patience 7, threads 1"),
        "{header}"
    );
    let json = dir.ok(&resume_args(&[
        "--epochs",
        "3",
        "--json",
        "--save",
        "j.safetensors",
    ]));
    assert_eq!(epoch_rates(&json), [(3, 0.05)]);
}

#[test]
fn settings_the_checkpoint_cannot_continue_with_are_refused_by_name() {
    let dir = checkpointed();
    let cases: [(&[&str], &str); 3] = [
        (
            &["--epochs", "4", "--optimizer", "sgd"],
            "--optimizer sgd: the checkpoint was trained with adam",
        ),
        (
            &["--epochs", "4", "--layers", "16"],
            "--layers 16: the checkpoint's network has hidden layers 8",
        ),
        (
            &["--epochs", "4", "--activation", "tanh"],
            "--activation tanh: the checkpoint was trained with relu",
        ),
    ];
    for (extra, says) in cases {
        let err = dir.fails(&resume_args(extra));
        assert!(err.contains(says), "{extra:?}: {err}");
        assert!(!dir.path("resumed.safetensors").exists());
    }
}

#[test]
fn a_checkpoint_at_or_past_epochs_trains_nothing_and_writes_nothing() {
    let dir = checkpointed();
    let before = dir.read("ckpt/model.safetensors");
    for epochs in ["2", "1"] {
        let err = dir.fails(&resume_args(&["--epochs", epochs]));
        assert!(
            err.contains("nothing to train: the checkpoint is at epoch 2"),
            "{err}"
        );
        assert!(!dir.path("resumed.safetensors").exists());
    }
    assert_eq!(dir.read("ckpt/model.safetensors"), before);
}

#[test]
fn another_loss_is_refused_by_name() {
    let dir = Dir::new();
    let mut text = String::from("a,b,y\n");
    for i in 0..200u32 {
        text += &format!("{},{},{}\n", i % 7, i % 5, (i % 7 + i % 5) % 2);
    }
    dir.write("data.csv", &text);
    dir.ok(&[
        "train",
        "data.csv",
        "--epochs",
        "2",
        "--layers",
        "8",
        "--checkpoint",
        "ckpt",
        "--save",
        "first.safetensors",
    ]);
    let err = dir.fails(&resume_args(&["--epochs", "4", "--loss", "ce"]));
    assert!(
        err.contains("--loss ce: the checkpoint was trained with the loss bce"),
        "{err}"
    );
}
