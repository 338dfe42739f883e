//! Any bytes as CSV or TSV, plain or gzip (first byte: bit 0 tab, bit 1 gzip), read, fitted and
//! encoded: errors, never panics; gzip data is cut off at 16 MiB as `--max-decompressed` would.
#![no_main]

use std::io::Read;

use backprop_data::{csv, FitOptions, Preprocessor, TargetSelect};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let delimiter = if mode & 1 == 1 { b'\t' } else { b',' };
    let table = if mode & 2 == 2 {
        let input = flate2::read::MultiGzDecoder::new(rest).take(16 << 20);
        csv::read(input, delimiter, "fuzz.csv.gz", &TargetSelect::Last)
    } else {
        csv::read(rest, delimiter, "fuzz.csv", &TargetSelect::Last)
    };
    let Ok(table) = table else { return };
    if let Ok((pre, _notes)) = Preprocessor::fit(&table, &FitOptions::default()) {
        pre.validate().expect("a fitted preprocessing is valid");
        let _ = pre.encode(&table);
    }
});
