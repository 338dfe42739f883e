//! MNIST's IDX format: an images file (`*-images-idx3-ubyte`, magic `0x00000803`, then the
//! big-endian dimensions `n, rows, cols` and `n·rows·cols` unsigned bytes) and, beside it, a
//! labels file (the same name with `images-idx3` replaced by `labels-idx1`; magic
//! `0x00000801`, dimension `n`, then `n` bytes). Either may be gzip-compressed (`.gz`).
//!
//! Pixels become features `p0 … p{rows·cols−1}` scaled to [0, 1] (byte / 255); labels become
//! the numeric target column `label`. Without a labels file the table has no target.

use super::error::{DataError, Result};
use super::table::{Column, Table, Values};
use flate2::read::MultiGzDecoder;
use std::io::Read;
use std::path::Path;

const IMAGES_MAGIC: u32 = 0x0000_0803;
const LABELS_MAGIC: u32 = 0x0000_0801;

/// The labels file that goes with an images file, if the name follows the MNIST convention.
pub fn labels_path(images: &Path) -> Option<std::path::PathBuf> {
    let name = images.file_name()?.to_str()?;
    name.contains("images-idx3")
        .then(|| images.with_file_name(name.replacen("images-idx3", "labels-idx1", 1)))
}

/// Reads an images file and, when it exists, its labels file.
pub fn load(images: &Path) -> Result<Table> {
    let images_name = images.display().to_string();
    let image_bytes = read_file(images)?;
    let labels = match labels_path(images) {
        Some(path) if path.exists() => Some((read_file(&path)?, path.display().to_string())),
        _ => None,
    };
    from_bytes(
        &image_bytes,
        &images_name,
        labels
            .as_ref()
            .map(|(bytes, name)| (bytes.as_slice(), name.as_str())),
    )
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|cause| DataError::Io {
        path: path.display().to_string(),
        cause,
    })
}

/// Builds a table from the bytes of an images file and optionally a labels file (each
/// possibly gzip-compressed, recognized by its magic bytes); the names are for messages.
pub fn from_bytes(
    images: &[u8],
    images_name: &str,
    labels: Option<(&[u8], &str)>,
) -> Result<Table> {
    let images = gunzip(images, images_name)?;
    let dims = header(&images, images_name, IMAGES_MAGIC, 3)?;
    let (n, width) = (dims[0], dims[1] * dims[2]);
    let pixels = body(&images, images_name, 16, n * width)?;
    let mut columns: Vec<Column> = (0..width)
        .map(|p| Column {
            name: format!("p{p}"),
            number: p + 1,
            file: images_name.to_string(),
            values: Values::Numbers(Vec::with_capacity(n)),
        })
        .collect();
    for image in pixels.chunks_exact(width.max(1)) {
        for (column, &byte) in columns.iter_mut().zip(image) {
            if let Values::Numbers(v) = &mut column.values {
                v.push(f64::from(byte) / 255.0);
            }
        }
    }
    let mut target = None;
    if let Some((bytes, name)) = labels {
        let bytes = gunzip(bytes, name)?;
        let count = header(&bytes, name, LABELS_MAGIC, 1)?[0];
        if count != n {
            return Err(DataError::Format {
                file: name.to_string(),
                message: format!("holds {count} labels, but {images_name} holds {n} images"),
            });
        }
        let labels = body(&bytes, name, 8, n)?;
        target = Some(columns.len());
        columns.push(Column {
            name: "label".to_string(),
            number: 1,
            file: name.to_string(),
            values: Values::Numbers(labels.iter().map(|&l| f64::from(l)).collect()),
        });
    }
    Ok(Table::from_records(
        images_name.to_string(),
        n,
        columns,
        target,
    ))
}

/// Decompresses gzip data (recognized by its magic bytes `1f 8b`); other data is returned as is.
pub(crate) fn gunzip<'a>(bytes: &'a [u8], name: &str) -> Result<std::borrow::Cow<'a, [u8]>> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes.into());
    }
    let mut out = Vec::new();
    MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|e| DataError::Format {
            file: name.to_string(),
            message: format!("cannot decompress the gzip data: {e}"),
        })?;
    Ok(out.into())
}

/// Checks the magic number and reads `rank` big-endian dimensions.
fn header(bytes: &[u8], name: &str, magic: u32, rank: usize) -> Result<Vec<usize>> {
    let format_error = |message: String| DataError::Format {
        file: name.to_string(),
        message,
    };
    let word = |i: usize| {
        bytes
            .get(4 * i..4 * i + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let found = word(0).ok_or_else(|| {
        format_error(format!(
            "too short for an IDX header ({} bytes)",
            bytes.len()
        ))
    })?;
    if found != magic {
        return Err(format_error(format!(
            "not an IDX file of {} (magic number {found:#010x}, expected {magic:#010x})",
            if rank == 3 { "images" } else { "labels" }
        )));
    }
    (1..=rank)
        .map(|i| {
            word(i)
                .map(|d| d as usize)
                .ok_or_else(|| format_error("the IDX header is truncated".to_string()))
        })
        .collect()
}

/// The `len` bytes after the header, which must be exactly all that remains.
fn body<'a>(bytes: &'a [u8], name: &str, start: usize, len: usize) -> Result<&'a [u8]> {
    let expected = start + len;
    if bytes.len() != expected {
        let what = if bytes.len() < expected {
            "truncated"
        } else {
            "longer than its header says"
        };
        return Err(DataError::Format {
            file: name.to_string(),
            message: format!(
                "the file is {what}: {} bytes, expected {expected}",
                bytes.len()
            ),
        });
    }
    Ok(&bytes[start..])
}
