//! Hostile files under a memory cap: the real binary, run with its address space limited by
//! `prlimit`, must end with a clear error rather than abort on an allocation (issue 14).

mod common;

use common::Dir;

/// The binary's address space in these runs: far below what the old code reserved (1 GiB for
/// a gzip trailer's claim), well above what a small training needs.
const CAP_BYTES: u64 = 768 << 20;

/// `prlimit --as=CAP backprop ARGS` in `dir`, or `None` (and a message) where `prlimit` is
/// not there.
fn run_capped(dir: &Dir, args: &[&str]) -> Option<std::process::Output> {
    let cap = format!("--as={CAP_BYTES}");
    let mut command = std::process::Command::new("prlimit");
    command
        .arg(cap)
        .arg(common::BIN)
        .args(args)
        .current_dir(dir.root());
    match command.output() {
        Ok(out) => Some(out),
        Err(e) => {
            eprintln!("skipped: prlimit is not available ({e})");
            None
        }
    }
}

/// A gzip member holding `data` in one stored block, whose trailer claims `claimed` bytes.
fn gzip_claiming(data: &[u8], claimed: u32) -> Vec<u8> {
    let mut bytes = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let len = data.len() as u16;
    bytes.push(1);
    bytes.extend_from_slice(&len.to_le_bytes());
    bytes.extend_from_slice(&(!len).to_le_bytes());
    bytes.extend_from_slice(data);
    bytes.extend_from_slice(&[0; 4]); // CRC32, wrong on purpose
    bytes.extend_from_slice(&claimed.to_le_bytes());
    bytes
}

#[test]
fn a_gzip_trailer_claiming_4_gb_reserves_nothing_of_it() {
    let dir = Dir::new();
    let mut idx = Vec::new();
    for word in [0x0000_0803u32, 1, 1, 1] {
        idx.extend_from_slice(&word.to_be_bytes());
    }
    idx.push(7);
    let bomb = gzip_claiming(&idx, u32::MAX);
    std::fs::write(dir.path("bomb-images-idx3-ubyte.gz"), &bomb).unwrap();
    let Some(out) = run_capped(&dir, &["train", "bomb-images-idx3-ubyte.gz"]) else {
        return;
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("bomb-images-idx3-ubyte.gz"), "{stderr}");
    assert!(stderr.contains("gzip"), "{stderr}");
    assert!(!stderr.contains("memory allocation"), "{stderr}");
}

#[test]
fn an_idx_header_of_zero_huge_images_is_an_error_under_the_cap() {
    let dir = Dir::new();
    let mut idx = Vec::new();
    for word in [0x0000_0803u32, 0, 0xFFFF, 0xFFFF] {
        idx.extend_from_slice(&word.to_be_bytes());
    }
    std::fs::write(dir.path("zero-images-idx3-ubyte"), &idx).unwrap();
    let Some(out) = run_capped(&dir, &["train", "zero-images-idx3-ubyte"]) else {
        return;
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("holds 0 images of 65535×65535"), "{stderr}");
}

#[test]
fn training_still_fits_under_the_cap() {
    // The cap itself leaves room for a real (small) run, so the tests above prove the limit.
    let dir = Dir::new();
    let mut text = String::from("a,b,y\n");
    for i in 0..200 {
        text += &format!("{},{},{}\n", i % 7, i % 5, i % 2);
    }
    dir.write("small.csv", &text);
    let Some(out) = run_capped(&dir, &["train", "small.csv", "--epochs", "2"]) else {
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
