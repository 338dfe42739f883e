//! Any bytes as an IDX images file, and (when the first byte is odd) the rest split in two as
//! images and labels: errors, never panics or allocations beyond the input's size.
#![no_main]

use backprop_data::idx;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        let _ = idx::from_bytes(rest, "images-idx3-ubyte", None);
    } else {
        let cut = usize::from(mode) * rest.len() / 256;
        let (images, labels) = rest.split_at(cut);
        let _ = idx::from_bytes(
            images,
            "images-idx3-ubyte",
            Some((labels, "labels-idx1-ubyte")),
        );
    }
});
