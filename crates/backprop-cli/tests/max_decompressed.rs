//! `--max-decompressed SIZE` on every command that reads data: gzip data that inflates past
//! it stops with an error naming the file, the limit and the flag (issue 14).

mod common;

use std::io::Write;

use common::Dir;

/// `data.csv.gz`: two feature columns and a class, about 180 kB inflated.
fn gzipped(dir: &Dir) {
    let mut text = String::from("a,b,y\n");
    for i in 0..30_000u32 {
        text += &format!("{},{},{}\n", i % 7, i % 5, (i % 7 + i % 5) % 2);
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    std::fs::write(dir.path("data.csv.gz"), gz.finish().unwrap()).unwrap();
}

fn assert_limit_error(stderr: &str, limit: u64) {
    assert!(stderr.contains("data.csv.gz"), "{stderr}");
    assert!(
        stderr.contains(&format!("more than {limit} bytes")),
        "{stderr}"
    );
    assert!(stderr.contains("--max-decompressed raises it"), "{stderr}");
}

#[test]
fn every_command_that_reads_data_takes_the_limit() {
    let dir = Dir::new();
    gzipped(&dir);
    let small = ["--max-decompressed", "64KiB"];
    let large = ["--max-decompressed", "1MiB"];
    for command in [
        &["train", "data.csv.gz", "--epochs", "1"][..],
        &["cv", "data.csv.gz", "--epochs", "1", "--folds", "2"],
        &["tune", "data.csv.gz", "--epochs", "1", "--trials", "1"],
    ] {
        let stderr = dir.fails(&[command, &small].concat());
        assert_limit_error(&stderr, 64 << 10);
    }
    dir.ok(&[
        &["train", "data.csv.gz", "--epochs", "1", "--layers", "4"][..],
        &large,
    ]
    .concat());
    for command in [
        &["eval", "model.safetensors", "data.csv.gz"][..],
        &["predict", "model.safetensors", "data.csv.gz"],
    ] {
        let stderr = dir.fails(&[command, &small].concat());
        assert_limit_error(&stderr, 64 << 10);
        dir.ok(&[command, &large].concat());
    }
    // The default (16 GiB) reads it, and so does a plain byte count or a decimal unit.
    dir.ok(&["eval", "model.safetensors", "data.csv.gz"]);
    dir.ok(&[
        "eval",
        "model.safetensors",
        "data.csv.gz",
        "--max-decompressed",
        "1000000",
    ]);
    let stderr = dir.fails(&[
        "eval",
        "model.safetensors",
        "data.csv.gz",
        "--max-decompressed",
        "100KB",
    ]);
    assert_limit_error(&stderr, 100_000);
}

#[test]
fn the_config_file_takes_it_and_bad_sizes_name_the_flag() {
    let dir = Dir::new();
    gzipped(&dir);
    dir.write("run.toml", "max_decompressed = \"32KiB\"\nepochs = 1\n");
    let stderr = dir.fails(&["train", "data.csv.gz", "--config", "run.toml"]);
    assert_limit_error(&stderr, 32 << 10);
    for bad in ["2X", "1.5G", "0", "lots"] {
        let stderr = dir.fails(&["train", "data.csv.gz", "--max-decompressed", bad]);
        assert!(stderr.contains("--max-decompressed"), "{bad}: {stderr}");
        assert!(stderr.contains(bad), "{bad}: {stderr}");
    }
}
