//! `--quiet` and `-v`: quiet prints the final line only (warnings and errors still on
//! stderr); verbose prints more than the default.

mod common;

use common::Dir;

/// stdout and stderr of a successful run.
fn run(dir: &Dir, args: &[&str]) -> (String, String) {
    let out = dir.run(args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "backprop {args:?}: {stderr}");
    (String::from_utf8(out.stdout).unwrap(), stderr)
}

const TRAIN: &[&str] = &[
    "train",
    "builtin:moons",
    "--layers",
    "8",
    "--epochs",
    "3",
    "--patience",
    "0",
    "--val-fraction",
    "0.2",
    "--save",
    "m.safetensors",
];

#[test]
fn quiet_train_prints_the_saved_line_and_warns_on_stderr() {
    let dir = Dir::new();
    let (default, _) = run(&dir, TRAIN);
    let last = default.lines().last().unwrap().to_string();
    assert!(last.starts_with("saved      m.safetensors ("), "{default}");
    for quiet in ["--quiet", "-q"] {
        let (stdout, stderr) = run(&dir, &[&[quiet], TRAIN].concat());
        assert_eq!(stdout.lines().count(), 1, "{stdout}");
        assert!(
            stdout.starts_with("saved      m.safetensors (") && stdout.ends_with("s)\n"),
            "{stdout:?}"
        );
        // Three epochs do not converge: the warning goes to stderr, nothing else does.
        assert!(stderr.starts_with("warning: not converged"), "{stderr:?}");
        assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    }
    // The flag is global: after the command too.
    let (stdout, _) = run(&dir, &[TRAIN, &["-q", "--json"]].concat());
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(summary["event"], "summary");
}

#[test]
fn verbose_train_adds_steps_and_times_and_keeps_the_epoch_lines() {
    let dir = Dir::new();
    let (default, _) = run(&dir, TRAIN);
    let (verbose, _) = run(&dir, &[TRAIN, &["-v"]].concat());
    assert!(verbose.lines().count() > default.lines().count());
    let steps: Vec<&str> = verbose
        .lines()
        .filter(|l| l.starts_with("  step "))
        .collect();
    assert!(steps.len() >= 3, "{verbose}");
    assert!(
        steps[0].contains("batch loss ") && steps[0].contains("lr "),
        "{}",
        steps[0]
    );
    assert!(verbose.contains("\ntime       reading "), "{verbose}");
    let epochs = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with("epoch "))
            .map(|l| l.split("  lr ").next().unwrap().to_string())
            .collect()
    };
    assert_eq!(epochs(&verbose), epochs(&default));
    assert_eq!(epochs(&default).len(), 3);
}

#[test]
fn quiet_and_verbose_together_are_refused() {
    let dir = Dir::new();
    let out = dir.run(&[&["-q", "-v"], TRAIN].concat());
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--quiet") && stderr.contains("--verbose"),
        "{stderr}"
    );
}

#[test]
fn quiet_eval_predict_export_cv_and_gradcheck_print_their_result_only() {
    let dir = Dir::new();
    run(&dir, TRAIN);
    let (stdout, stderr) = run(&dir, &["-q", "eval", "m.safetensors", "builtin:moons-test"]);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.starts_with("accuracy ") && stdout.contains("(200 rows)"),
        "{stdout}"
    );
    assert!(stderr.is_empty(), "{stderr}");
    let (default, _) = run(&dir, &["eval", "m.safetensors", "builtin:moons-test"]);
    assert!(default.lines().count() > 5, "{default}");
    let (verbose, detail) = run(&dir, &["eval", "-v", "m.safetensors", "builtin:moons-test"]);
    assert_eq!(verbose, default);
    assert!(detail.starts_with("scored 200 rows"), "{detail}");

    let (csv, stderr) = run(
        &dir,
        &["predict", "-q", "m.safetensors", "builtin:moons-test"],
    );
    assert_eq!(csv.lines().count(), 201, "a header and a row each");
    assert!(stderr.is_empty(), "{stderr}");
    let (_, detail) = run(
        &dir,
        &["predict", "-v", "m.safetensors", "builtin:moons-test"],
    );
    assert!(detail.contains("predicted 200 rows"), "{detail}");

    let (snippet, stderr) = run(
        &dir,
        &["export", "-q", "m.safetensors", "-o", "m.pt.safetensors"],
    );
    assert!(snippet.contains("import torch"), "{snippet}");
    assert!(stderr.is_empty(), "{stderr}");
    let (_, stderr) = run(&dir, &["export", "m.safetensors", "-o", "m.pt.safetensors"]);
    assert!(stderr.starts_with("wrote m.pt.safetensors"), "{stderr}");

    let cv = [
        "cv",
        "builtin:moons",
        "--layers",
        "8",
        "--epochs",
        "4",
        "--folds",
        "3",
        "-q",
    ];
    let (stdout, _) = run(&dir, &cv);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let (verbose, _) = run(&dir, &cv[..cv.len() - 1]);
    assert!(!verbose.contains("time       fold"), "{verbose}");
    let (verbose, _) = run(&dir, &[&cv[..cv.len() - 1], &["-v"]].concat());
    assert!(verbose.contains("time       fold 3: "), "{verbose}");
    assert!(
        stdout.starts_with("accuracy ") && stdout.contains(" ± "),
        "{stdout}"
    );

    let (stdout, _) = run(&dir, &["gradcheck", "-q"]);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.starts_with("ok: worst relative error"), "{stdout}");
}

#[test]
fn quiet_tune_prints_the_saved_line() {
    let dir = Dir::new();
    let (stdout, _) = run(
        &dir,
        &[
            "tune",
            "builtin:moons",
            "--trials",
            "3",
            "--epochs",
            "3",
            "--save",
            "t.safetensors",
            "--quiet",
        ],
    );
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.starts_with("saved      t.safetensors ("), "{stdout}");
    let verbose = [
        "tune",
        "builtin:moons",
        "--trials",
        "3",
        "--epochs",
        "3",
        "--save",
        "t.safetensors",
        "-v",
    ];
    let (stdout, _) = run(&dir, &verbose);
    assert!(stdout.contains("\ntime       search "), "{stdout}");
    assert!(stdout.ends_with(")\n") && stdout.contains("\nsaved      t.safetensors"));
}
