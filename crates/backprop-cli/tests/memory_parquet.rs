//! Memory amplification in Parquet (issue 14, fuzz finding 10): a 2 KB file whose Snappy page
//! claims 1.4 GB uncompressed made the parquet crate zero-fill a buffer of that size before
//! decompressing (1.37 GB of resident memory for 0.7 s, then an error). With the vendored
//! patch (vendor/PATCHES.md) the claim is refused first. The real binary's peak resident
//! memory (`VmHWM`, polled from /proc) is asserted. Alone in its file, so nothing else runs
//! beside it.
#![cfg(all(target_os = "linux", feature = "parquet"))]

mod common;

use common::Dir;

#[test]
fn a_snappy_page_claiming_gigabytes_is_refused_before_they_are_allocated() {
    let dir = Dir::new();
    let input = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../backprop-data/tests/data/page-snappy-size-claim.parquet"
    );
    std::fs::copy(input, dir.path("claim.parquet")).unwrap();
    let (highest, output) =
        common::run_with_peak_memory(dir.command(&["train", "claim.parquet", "--epochs", "1"]));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("a Snappy page of 0 bytes cannot decompress to the 1396275880 bytes"),
        "{stderr}"
    );
    // The command's own footprint is a few MB; the claim was 1.4 GB.
    assert!(highest < 100 << 20, "peak {highest} bytes");
}
