//! Any bytes as `fuzzX.npy` (and, when the first byte is odd, the rest split into an X and a
//! y file), loaded through the file path as users do: errors, never panics.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use backprop_data::npy;
use libfuzzer_sys::fuzz_target;

fn folder() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("backprop-fuzz-npy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let x = folder().join("fuzzX.npy");
    let y = folder().join("fuzzy.npy");
    let _ = std::fs::remove_file(&y);
    if mode & 1 == 0 {
        std::fs::write(&x, rest).unwrap();
    } else {
        let cut = usize::from(mode) * rest.len() / 256;
        std::fs::write(&x, &rest[..cut]).unwrap();
        std::fs::write(&y, &rest[cut..]).unwrap();
    }
    let _ = npy::load(&x);
});
