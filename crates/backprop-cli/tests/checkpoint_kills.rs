//! Checkpoints as one unit: SIGKILL at random moments of `train --checkpoint` never leaves a
//! checkpoint that `--resume` refuses (issue 14; it refused 44% of them when the weights and
//! the state were two files written one after the other).
#![cfg(unix)]

mod common;

use std::time::Duration;

use common::Dir;

/// How many kills, as the issue asks: 17 s of test time on a 2-core Xeon (40 took 7 s).
const KILLS: usize = 100;

#[test]
fn a_kill_at_any_moment_leaves_a_resumable_checkpoint() {
    let dir = Dir::new();
    let mut text = String::from("a,b,c,y\n");
    for i in 0..64u32 {
        text += &format!("{},{},{},{}\n", i % 7, i % 5, i % 3, i % 2);
    }
    dir.write("data.csv", &text);
    // Wide layers and tiny epochs: most of the time goes into writing checkpoints.
    let train = [
        "train",
        "data.csv",
        "--layers",
        "256,256",
        "--epochs",
        "100000",
        "--patience",
        "0",
        "--checkpoint",
        "ckpt",
        "--save",
        "m.safetensors",
    ];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut checked = 0;
    for _ in 0..KILLS {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let mut child = dir.command(&train).spawn().expect("start backprop");
        std::thread::sleep(Duration::from_millis(60 + state % 200));
        child.kill().unwrap();
        child.wait().unwrap();
        if !dir.path("ckpt/model.safetensors").exists() {
            continue;
        }
        // --epochs 1 is past any checkpoint: the answer "nothing to train" comes only after
        // the checkpoint was read and accepted.
        let out = dir.run(&[
            "train",
            "data.csv",
            "--layers",
            "256,256",
            "--patience",
            "0",
            "--resume",
            "ckpt",
            "--epochs",
            "1",
            "--save",
            "r.safetensors",
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("nothing to train: the checkpoint is at epoch"),
            "{stderr}"
        );
        checked += 1;
    }
    assert!(
        checked >= KILLS / 2,
        "only {checked} of {KILLS} runs got to a checkpoint"
    );
}
