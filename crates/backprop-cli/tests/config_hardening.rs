//! Settings that once slipped through `--config` and the flags (issue 14, the `config` fuzz
//! target of `fuzz/`): each is refused with the value, and for a file its line and column.

mod common;

use common::Dir;

/// Before: `--lr nan` (or `lr = nan` in the file, or `inf`) became "not given" on its way
/// through the merge of the flags with the file, so training ran at the default rate.
#[test]
fn nan_and_infinite_numbers_are_refused_not_dropped() {
    let dir = Dir::new();
    dir.write("train.csv", "a,label\n1,x\n2,y\n3,x\n4,y\n");
    dir.write("run.toml", "data = \"train.csv\"\nepochs = 1\n");
    for flag in [
        "--lr",
        "--dropout",
        "--val-fraction",
        "--momentum",
        "--weight-decay",
        "--l2",
        "--min-delta",
    ] {
        for value in ["nan", "inf", "-inf"] {
            let given = format!("{flag}={value}");
            let err = dir.fails(&["train", "--config", "run.toml", &given]);
            assert!(
                err.contains(flag) && err.contains(value) && err.contains("finite"),
                "{flag} {value}: {err}"
            );
        }
    }
    dir.write("nan.toml", "data = \"train.csv\"\nepochs = 1\nlr = nan\n");
    let err = dir.fails(&["train", "--config", "nan.toml"]);
    assert!(
        err.contains("nan.toml") && err.contains("line 3") && err.contains("not a finite number"),
        "{err}"
    );
    dir.write("inf.toml", "data = \"train.csv\"\ndropout = -inf\n");
    let err = dir.fails(&["cv", "--config", "inf.toml"]);
    assert!(err.contains("inf.toml") && err.contains("line 2"), "{err}");
    assert!(!dir.path("model.safetensors").exists());
}

/// Before: a path flag that is not UTF-8 (`--save $'\xff'`), given with `--config` or to
/// `tune`, panicked where the settings are serialized for the merge; now clap refuses it.
#[cfg(unix)]
#[test]
fn a_path_flag_that_is_not_utf8_is_refused_not_a_panic() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    let dir = Dir::new();
    dir.write("train.csv", "a,label\n1,x\n2,y\n3,x\n4,y\n");
    dir.write("run.toml", "data = \"train.csv\"\nepochs = 1\n");
    let bad = OsStr::from_bytes(b"model-\xff.safetensors");
    for args in [
        &["train", "--config", "run.toml", "--save"][..],
        &["tune", "train.csv", "--trials", "1", "--save"][..],
        &["cv", "--config", "run.toml", "--plot"][..],
    ] {
        let out = dir.command(args).arg(bad).output().expect("run backprop");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(stderr.contains("UTF-8"), "{args:?}: {stderr}");
    }
}
