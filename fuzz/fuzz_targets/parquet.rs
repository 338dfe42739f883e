//! Any bytes as a `.parquet` file, loaded through its path as users do, then fitted and
//! encoded: errors, never panics, and no allocation far beyond the input (the run's
//! `-rss_limit_mb`, and libFuzzer's malloc limit of the same size, catch one).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use backprop_data::{parquet, FitOptions, Preprocessor, TargetSelect};
use libfuzzer_sys::fuzz_target;

/// This process's scratch file.
fn file() -> &'static PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let dir =
            std::env::temp_dir().join(format!("backprop-fuzz-parquet-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        dir.join("fuzz.parquet")
    })
}

fuzz_target!(|data: &[u8]| {
    std::fs::write(file(), data).expect("the scratch file is writable");
    let Ok(table) = parquet::load(file(), &TargetSelect::Last) else {
        return;
    };
    if let Ok((pre, _notes)) = Preprocessor::fit(&table, &FitOptions::default()) {
        pre.validate().expect("a fitted preprocessing is valid");
        let _ = pre.encode(&table);
    }
});
