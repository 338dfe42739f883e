//! MNIST's IDX format: an images file (`*-images-idx3-ubyte`, magic `0x00000803`, then the
//! big-endian dimensions `n, rows, cols` and `n·rows·cols` unsigned bytes) and, beside it, a
//! labels file (the same name with `images-idx3` replaced by `labels-idx1`; magic
//! `0x00000801`, dimension `n`, then `n` bytes). Either may be gzip-compressed (`.gz`).
//!
//! Pixels become features `p0 … p{rows·cols−1}` scaled to [0, 1] (byte / 255); labels become
//! the numeric target column `label`. Without a labels file the table has no target.

use crate::error::{Error, Result};
use crate::table::{Column, Table, Values};
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
    std::fs::read(path).map_err(|cause| Error::Io {
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
    let images = gunzip(images, images_name)?.into_owned();
    let dims = header(&images, images_name, IMAGES_MAGIC, 3)?;
    // The dimensions are the file's claim: checked against its size (without wrapping)
    // before a column is made.
    let format_error = |message: String| Error::Format {
        file: images_name.to_string(),
        message,
    };
    let (n, width) = (dims[0], dims[1].saturating_mul(dims[2]));
    if n == 0 || width == 0 {
        return Err(format_error(format!(
            "holds {n} images of {}×{} pixels: nothing to read",
            dims[1], dims[2]
        )));
    }
    let pixels = n
        .checked_mul(width)
        .filter(|p| p.checked_add(16).is_some())
        .ok_or_else(|| {
            format_error(format!(
                "claims {n} images of {}×{} pixels, more bytes than any file holds",
                dims[1], dims[2]
            ))
        })?;
    body(&images, images_name, 16, pixels)?;
    // Pixels stay bytes in the decompressed file (value byte / 255), each column a strided
    // view of it: a table of f64 would take 8 times the memory.
    let images = std::sync::Arc::new(images);
    let mut columns: Vec<Column> = (0..width)
        .map(|p| Column {
            name: format!("p{p}"),
            number: p + 1,
            file: images_name.to_string(),
            values: Values::Bytes {
                data: images.clone(),
                start: 16 + p,
                stride: width,
                len: n,
                divisor: 255.0,
            },
        })
        .collect();
    let mut target = None;
    if let Some((bytes, name)) = labels {
        let bytes = gunzip(bytes, name)?;
        let count = header(&bytes, name, LABELS_MAGIC, 1)?[0];
        if count != n {
            return Err(Error::Format {
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
    // A gzip member ends with its uncompressed size mod 2³²: reserve that much at once rather
    // than doubling. A hint only, and one the file may lie about: never more than deflate's
    // best ratio (1032:1) allows for these bytes (a wrong or multi-member size just means
    // more growing).
    let size_hint = bytes
        .last_chunk::<4>()
        .map_or(0, |size| u32::from_le_bytes(*size) as usize);
    let mut out = Vec::with_capacity(size_hint.min(bytes.len().saturating_mul(1032)).min(1 << 30));
    crate::source::Limited::new(
        MultiGzDecoder::new(bytes),
        crate::source::DEFAULT_MAX_DECOMPRESSED,
    )
    .read_to_end(&mut out)
    .map_err(|e| Error::Format {
        file: name.to_string(),
        message: format!("cannot decompress the gzip data: {e}"),
    })?;
    Ok(out.into())
}

/// Checks the magic number and reads `rank` big-endian dimensions.
fn header(bytes: &[u8], name: &str, magic: u32, rank: usize) -> Result<Vec<usize>> {
    let format_error = |message: String| Error::Format {
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
        return Err(Error::Format {
            file: name.to_string(),
            message: format!(
                "the file is {what}: {} bytes, expected {expected}",
                bytes.len()
            ),
        });
    }
    Ok(&bytes[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../data/mnist10k")
            .join(name)
    }

    fn labels(table: &Table) -> Vec<f64> {
        let values = &table.target_column().unwrap().values;
        values.numbers().expect("labels are numbers")
    }

    #[test]
    fn reads_the_bundled_mnist_files() {
        let table = load(&bundled("train-images-idx3-ubyte.gz")).unwrap();
        assert_eq!(table.rows, 8000);
        assert_eq!(table.columns.len(), 785);
        assert_eq!(table.columns[0].name, "p0");
        assert_eq!(table.columns[783].name, "p783");
        assert_eq!(table.target_column().unwrap().name, "label");
        let train_labels = labels(&table);
        assert_eq!(
            train_labels[..10],
            [3.0, 8.0, 1.0, 0.0, 4.0, 0.0, 9.0, 3.0, 4.0, 9.0]
        );
        let mut counts = [0usize; 10];
        train_labels.iter().for_each(|&l| counts[l as usize] += 1);
        assert_eq!(counts, [784, 882, 805, 828, 789, 679, 811, 882, 755, 785]);
        let mut ink = 0.0;
        for column in &table.columns[..784] {
            let v = column.values.numbers().expect("pixels are numbers");
            assert!(v.iter().all(|p| (0.0..=1.0).contains(p)));
            ink += v.iter().sum::<f64>();
        }
        // Digits are mostly background: about 13% ink on average.
        let mean = ink / (8000.0 * 784.0);
        assert!((0.08..0.2).contains(&mean), "mean pixel {mean}");
        let test = load(&bundled("t10k-images-idx3-ubyte.gz")).unwrap();
        assert_eq!(test.rows, 2000);
        assert_eq!(
            labels(&test)[..10],
            [3.0, 8.0, 8.0, 0.0, 9.0, 0.0, 9.0, 0.0, 4.0, 5.0]
        );
    }

    fn images(n: u32, rows: u32, cols: u32, pixels: &[u8]) -> Vec<u8> {
        let mut bytes = IMAGES_MAGIC.to_be_bytes().to_vec();
        for d in [n, rows, cols] {
            bytes.extend(d.to_be_bytes());
        }
        bytes.extend(pixels);
        bytes
    }

    fn label_bytes(labels: &[u8]) -> Vec<u8> {
        let mut bytes = LABELS_MAGIC.to_be_bytes().to_vec();
        bytes.extend((labels.len() as u32).to_be_bytes());
        bytes.extend(labels);
        bytes
    }

    #[test]
    fn small_uncompressed_files_beside_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let img = dir.path().join("tiny-images-idx3-ubyte");
        std::fs::write(&img, images(2, 1, 2, &[0, 255, 51, 102])).unwrap();
        let table = load(&img).unwrap();
        assert_eq!((table.rows, table.target), (2, None));
        let p1 = table.columns[1]
            .values
            .numbers()
            .expect("pixels are numbers");
        assert_eq!(p1, [1.0, 0.4]);
        std::fs::write(
            dir.path().join("tiny-labels-idx1-ubyte"),
            label_bytes(&[7, 2]),
        )
        .unwrap();
        let table = load(&img).unwrap();
        assert_eq!(labels(&table), [7.0, 2.0]);
    }

    #[test]
    fn malformed_files_are_errors_naming_the_file() {
        let good = images(2, 1, 2, &[0, 1, 2, 3]);
        /// Images bytes, labels bytes, expected message.
        type Case = (Vec<u8>, Option<Vec<u8>>, &'static str);
        let cases: Vec<Case> = vec![
            (vec![0, 0], None, "too short"),
            (
                label_bytes(&[1]),
                None,
                "magic number 0x00000801, expected 0x00000803",
            ),
            (good[..10].to_vec(), None, "header is truncated"),
            (
                good[..18].to_vec(),
                None,
                "truncated: 18 bytes, expected 20",
            ),
            (
                [good.clone(), vec![9]].concat(),
                None,
                "longer than its header says",
            ),
            (
                good.clone(),
                Some(label_bytes(&[1, 2, 3])),
                "holds 3 labels, but imgs holds 2 images",
            ),
            (
                good.clone(),
                Some(label_bytes(&[1, 2])[..9].to_vec()),
                "truncated: 9 bytes, expected 10",
            ),
            (vec![0x1f, 0x8b, 1, 2, 3], None, "cannot decompress"),
        ];
        for (image_bytes, label_file, expected) in cases {
            let labels = label_file.as_ref().map(|b| (b.as_slice(), "lbls"));
            let msg = from_bytes(&image_bytes, "imgs", labels)
                .unwrap_err()
                .to_string();
            assert!(msg.contains(expected), "{msg}");
            assert!(msg.starts_with("imgs") || msg.starts_with("lbls"), "{msg}");
        }
        let msg = load(Path::new("/nonexistent/x-images-idx3-ubyte"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("/nonexistent/x-images-idx3-ubyte"), "{msg}");
    }
}
