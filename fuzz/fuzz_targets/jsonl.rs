//! Any bytes as JSON Lines, read, fitted and encoded: errors, never panics.
#![no_main]

use backprop_data::{jsonl, FitOptions, Preprocessor, TargetSelect};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(table) = jsonl::read(data, "fuzz.jsonl", &TargetSelect::Last) else {
        return;
    };
    if let Ok((pre, _notes)) = Preprocessor::fit(&table, &FitOptions::default()) {
        pre.validate().expect("a fitted preprocessing is valid");
        let _ = pre.encode(&table);
    }
});
