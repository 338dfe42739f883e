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

/// libfuzzer-sys's panic hook aborts on every panic, even one that is caught. `parquet::load`
/// catches the panics of the parquet crate's page decoders on purpose (they become an error,
/// see `crates/backprop-data/src/parquet.rs`), so this target replaces that hook with one that
/// prints the panic on one line (no backtrace, which would slow the run): a panic that
/// escapes `load` still ends the run, as libfuzzer-sys aborts when its own `catch_unwind`
/// around the target sees one, and prints the stack then.
fn caught_panics_are_errors() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| std::panic::set_hook(Box::new(|info| eprintln!("panic: {info}"))));
}

fuzz_target!(|data: &[u8]| {
    caught_panics_are_errors();
    std::fs::write(file(), data).expect("the scratch file is writable");
    let Ok(table) = parquet::load(file(), &TargetSelect::Last) else {
        return;
    };
    if let Ok((pre, _notes)) = Preprocessor::fit(&table, &FitOptions::default()) {
        pre.validate().expect("a fitted preprocessing is valid");
        let _ = pre.encode(&table);
    }
});
