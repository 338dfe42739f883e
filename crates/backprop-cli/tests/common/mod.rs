//! Helpers shared by the command-line tests: a temporary folder to run the real binary in.
#![allow(dead_code)] // Each test binary uses its own part of the helpers.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_backprop");

/// A temporary folder to run the binary in.
pub struct Dir(tempfile::TempDir);

impl Dir {
    pub fn new() -> Self {
        Dir(tempfile::tempdir().expect("a temporary folder"))
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).expect("write a test file");
        path
    }

    pub fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
    }

    /// The folder itself.
    pub fn root(&self) -> &Path {
        self.0.path()
    }

    /// `backprop ARGS` to run in the folder (add environment variables before running it).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command.args(args).current_dir(self.0.path());
        command
    }

    /// Runs `backprop ARGS` in the folder (stdout and stderr are pipes, so no progress bar).
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run backprop")
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "backprop {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stdout).expect("UTF-8 output")
    }

    /// Runs and expects the usage-error exit status 2 with an `error:` message; returns it.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(
            out.status.code(),
            Some(2),
            "backprop {args:?} should fail with status 2: {stderr}"
        );
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        stderr
    }
}

/// Runs `command` (stdout discarded, stderr piped) to its end, polling its peak resident
/// memory (`VmHWM` in /proc, every 2 ms); returns that peak in bytes (0 where /proc has no
/// such line) and the output.
pub fn run_with_peak_memory(mut command: Command) -> (u64, Output) {
    let mut child = command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run backprop");
    let peak = |pid: u32| -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    };
    let pid = child.id();
    let mut highest = 0;
    while child.try_wait().expect("wait for backprop").is_none() {
        highest = highest.max(peak(pid).unwrap_or(0));
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    (
        highest,
        child.wait_with_output().expect("the output of backprop"),
    )
}
