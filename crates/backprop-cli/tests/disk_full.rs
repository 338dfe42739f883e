//! A full disk: the save fails with a message naming the path, the old model stays intact and
//! no temporary file is left; a checkpoint that cannot be written is a warning, and the final
//! `--save` still happens (issue 14). Needs root for a small tmpfs; skipped otherwise.
#![cfg(target_os = "linux")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::Dir;

/// A 1 MiB tmpfs mounted in `dir`, unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Dir) -> Option<Self> {
        let point = dir.path("full");
        std::fs::create_dir(&point).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
            .arg(&point)
            .output()
            .is_ok_and(|out| out.status.success());
        if !mounted {
            eprintln!("skipped: cannot mount a tmpfs (needs root)");
            return None;
        }
        Some(Tmpfs(point))
    }

    fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn data(dir: &Dir) {
    let mut text = String::from("a,b,y\n");
    for i in 0..100u32 {
        text += &format!("{},{},{}\n", i % 7, i % 5, i % 2);
    }
    dir.write("data.csv", &text);
}

fn relative(path: &Path, dir: &Dir) -> String {
    path.strip_prefix(dir.root()).unwrap().display().to_string()
}

#[test]
fn a_save_into_a_full_filesystem_fails_cleanly() {
    let dir = Dir::new();
    let Some(fs) = Tmpfs::mount(&dir) else { return };
    data(&dir);
    let target = relative(&fs.0.join("m.safetensors"), &dir);
    dir.ok(&[
        "train", "data.csv", "--epochs", "1", "--layers", "4", "--save", &target,
    ]);
    let before = dir.read(&target);
    // 512×512 weights alone are 1 MiB of f32: more than the filesystem holds.
    let err = dir.fails(&[
        "train", "data.csv", "--epochs", "1", "--layers", "512,512", "--save", &target,
    ]);
    assert!(err.contains(&target), "{err}");
    assert_eq!(dir.read(&target), before, "the old model is intact");
    assert_eq!(fs.entries(), ["m.safetensors"], "no temporary file is left");
}

#[test]
fn a_checkpoint_that_cannot_be_written_is_a_warning_and_the_save_happens() {
    let dir = Dir::new();
    let Some(fs) = Tmpfs::mount(&dir) else { return };
    data(&dir);
    let checkpoint = relative(&fs.0.join("ckpt"), &dir);
    let out = dir.run(&[
        "train",
        "data.csv",
        "--epochs",
        "3",
        "--layers",
        "512,512",
        "--checkpoint",
        &checkpoint,
        "--save",
        "m.safetensors",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stderr.matches("warning: cannot write").count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("training goes on"), "{stderr}");
    dir.ok(&["inspect", "m.safetensors"]);
}
