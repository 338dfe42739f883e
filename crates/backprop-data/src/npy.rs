//! NumPy `.npy` files (format versions 1, 2 and 3), read by hand.
//!
//! A dataset is a pair of files side by side: `NAMEX.npy` holds the features, a 2-D array of
//! floats, integers or booleans, and `NAMEy.npy` the targets, a 1-D array (or `n × 1`) with
//! one entry per row (for example `train_X.npy` and `train_y.npy`, or `X.npy` and `y.npy`).
//! Features are named `x0, x1, …`; the target column is named `y`. Without a `y` file the
//! table has no target (enough for `predict`).

use crate::error::{quote_short, Error, Location, Position, Result};
use crate::table::{Column, Table, Values};
use std::path::{Path, PathBuf};

/// The `y` file that goes with an `X` file (`…X.npy` → `…y.npy`); `None` if the name does
/// not end in `X.npy`.
pub fn targets_path(features: &Path) -> Option<PathBuf> {
    let name = features.file_name()?.to_str()?;
    let stem = name.strip_suffix("X.npy")?;
    Some(features.with_file_name(format!("{stem}y.npy")))
}

/// Reads `…X.npy` and, when it exists, `…y.npy`.
pub fn load(features: &Path) -> Result<Table> {
    let name = features.display().to_string();
    let y_path =
        targets_path(features).ok_or_else(|| Error::UnknownFormat { path: name.clone() })?;
    let x = Array::parse(&read(features)?, &name)?;
    let (rows, cols) = match x.shape[..] {
        // No values: a claim of 2³² columns must not make 2³² empty columns.
        [rows, cols] if rows == 0 || cols == 0 => {
            return Err(Error::Format {
                file: name,
                message: format!("the array of shape ({rows}, {cols}) holds no values"),
            })
        }
        [rows, cols] => (rows, cols),
        _ => {
            return Err(Error::Format {
                file: name,
                message: format!(
                    "expected a 2-D array (rows × features), found shape {:?}",
                    x.shape
                ),
            })
        }
    };
    let mut columns: Vec<Column> = (0..cols)
        .map(|c| Column {
            name: format!("x{c}"),
            number: c + 1,
            file: name.clone(),
            values: Values::Numbers(Vec::with_capacity(rows)),
        })
        .collect();
    for row in 0..rows {
        for (c, column) in columns.iter_mut().enumerate() {
            let i = if x.fortran_order {
                c * rows + row
            } else {
                row * cols + c
            };
            let v = finite(x.values[i], &name, row, &column.name, c + 1)?;
            if let Values::Numbers(values) = &mut column.values {
                values.push(v);
            }
        }
    }
    let mut target = None;
    if y_path.exists() {
        let y_name = y_path.display().to_string();
        let y = Array::parse(&read(&y_path)?, &y_name)?;
        if !(y.shape.len() == 1 || (y.shape.len() == 2 && y.shape[1] == 1)) || y.shape[0] != rows {
            return Err(Error::Format {
                file: y_name,
                message: format!(
                    "expected shape ({rows},) to match {name}, found {:?}",
                    y.shape
                ),
            });
        }
        let values = y
            .values
            .iter()
            .enumerate()
            .map(|(row, &v)| finite(v, &y_name, row, "y", 1))
            .collect::<Result<_>>()?;
        target = Some(columns.len());
        columns.push(Column {
            name: "y".to_string(),
            number: 1,
            file: y_name,
            values: Values::Numbers(values),
        });
    }
    Ok(Table::from_records(name, rows, columns, target))
}

fn finite(v: f64, file: &str, row: usize, column: &str, number: usize) -> Result<f64> {
    if v.is_finite() {
        return Ok(v);
    }
    Err(Error::NotFinite {
        location: Location {
            file: file.into(),
            position: Position::Record(row as u64 + 1),
        },
        column: column.to_string(),
        number,
        value: v.to_string(),
    })
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|cause| Error::Io {
        path: path.display().to_string(),
        cause,
    })
}

/// A decoded array: its shape, element order and values as `f64`.
#[derive(Debug)]
pub(crate) struct Array {
    pub shape: Vec<usize>,
    pub fortran_order: bool,
    pub values: Vec<f64>,
}

impl Array {
    /// Decodes a whole `.npy` file.
    pub fn parse(bytes: &[u8], name: &str) -> Result<Self> {
        let error = |message: String| Error::Format {
            file: name.to_string(),
            message,
        };
        if !bytes.starts_with(b"\x93NUMPY") || bytes.len() < 10 {
            return Err(error("not a NumPy .npy file (no \\x93NUMPY magic)".into()));
        }
        let (header_len, start) = match bytes[6] {
            1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
            2 | 3 if bytes.len() >= 12 => (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            ),
            v => return Err(error(format!("unsupported .npy format version {v}"))),
        };
        let header = bytes
            .get(start..start + header_len)
            .ok_or_else(|| error("the header is truncated".into()))?;
        let header =
            std::str::from_utf8(header).map_err(|_| error("the header is not text".into()))?;
        let descr = dict_value(header, "descr")
            .ok_or_else(|| error(format!("no 'descr' in header {}", quote_short(header))))?;
        let descr = descr.trim_matches(|c| c == '\'' || c == '"');
        let fortran_order = match dict_value(header, "fortran_order") {
            Some("True") => true,
            Some("False") => false,
            _ => {
                return Err(error(format!(
                    "no 'fortran_order' in header {}",
                    quote_short(header)
                )))
            }
        };
        let shape_text = dict_value(header, "shape")
            .ok_or_else(|| error(format!("no 'shape' in header {}", quote_short(header))))?;
        let shape = shape_text
            .trim_start_matches('(')
            .trim_end_matches(')')
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.trim_end_matches('L').parse::<usize>())
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|_| error(format!("cannot read the shape {}", quote_short(shape_text))))?;
        let (kind, size, big_endian) = dtype(descr).ok_or_else(|| {
            error(format!(
                "unsupported dtype {}; expected float32/64, (u)int8-64 or bool",
                quote_short(descr)
            ))
        })?;
        let data = &bytes[start + header_len..];
        // The shape is the file's claim: its byte count, computed without wrapping, must be
        // the data's before anything is allocated.
        let needed = shape
            .iter()
            .try_fold(size, |bytes, &d| bytes.checked_mul(d))
            .ok_or_else(|| {
                error(format!(
                    "shape {shape:?} of '{descr}' needs more bytes than any file holds"
                ))
            })?;
        if data.len() != needed {
            return Err(error(format!(
                "the data is {} bytes, but shape {shape:?} of '{descr}' needs {needed}",
                data.len(),
            )));
        }
        let count = needed / size;
        let mut values = Vec::with_capacity(count);
        for chunk in data.chunks_exact(size) {
            let mut b = [0u8; 8];
            if big_endian {
                b[..size].copy_from_slice(chunk);
                b[..size].reverse();
            } else {
                b[..size].copy_from_slice(chunk);
            }
            let v = match (kind, size) {
                ('f', 4) => f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
                ('f', 8) => f64::from_le_bytes(b),
                ('u' | 'b', _) => exact(u64::from_le_bytes(b) as i128, name)?,
                ('i', _) => {
                    // Sign-extend from `size` bytes.
                    let shift = 64 - 8 * size as u32;
                    exact(
                        ((u64::from_le_bytes(b) << shift) as i64 >> shift) as i128,
                        name,
                    )?
                }
                _ => unreachable!("dtype() admits only these"),
            };
            values.push(v);
        }
        Ok(Self {
            shape,
            fortran_order,
            values,
        })
    }
}

/// An integer as `f64`, refusing those beyond 2^53 that would be rounded.
fn exact(v: i128, name: &str) -> Result<f64> {
    if v.unsigned_abs() > 1 << 53 {
        return Err(Error::Format {
            file: name.to_string(),
            message: format!("the integer {v} cannot be represented exactly as a float"),
        });
    }
    Ok(v as f64)
}

/// `(kind, bytes, big_endian)` of a descr like `<f4`, `|u1`, `>i8`, `|b1`.
fn dtype(descr: &str) -> Option<(char, usize, bool)> {
    let mut chars = descr.chars();
    let order = chars.next()?;
    let kind = chars.next()?;
    let size: usize = chars.as_str().parse().ok()?;
    let big_endian = match order {
        '<' | '|' | '=' => false,
        '>' => true,
        _ => return None,
    };
    let ok = match kind {
        'f' => size == 4 || size == 8,
        'i' | 'u' => matches!(size, 1 | 2 | 4 | 8),
        'b' => size == 1,
        _ => false,
    };
    ok.then_some((kind, size, big_endian && size > 1))
}

/// The text of `key`'s value in the header's Python dict literal.
fn dict_value<'h>(header: &'h str, key: &str) -> Option<&'h str> {
    let after_key = header
        .split_once(&format!("'{key}'"))
        .or_else(|| header.split_once(&format!("\"{key}\"")))?
        .1;
    let value = after_key.trim_start().strip_prefix(':')?.trim_start();
    let end = if value.starts_with('(') {
        value.find(')')? + 1
    } else {
        value.find([',', '}']).unwrap_or(value.len())
    };
    Some(value[..end].trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `.npy` file as NumPy writes it (version 1, header padded to 64 bytes).
    fn npy(descr: &str, shape: &str, fortran: bool, data: &[u8]) -> Vec<u8> {
        let order = if fortran { "True" } else { "False" };
        let mut header =
            format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}");
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend((header.len() as u16).to_le_bytes());
        bytes.extend(header.as_bytes());
        bytes.extend(data);
        bytes
    }

    fn le<T: Copy, const N: usize>(values: &[T], to: fn(T) -> [u8; N]) -> Vec<u8> {
        values.iter().flat_map(|&v| to(v)).collect()
    }

    fn numbers(table: &Table, column: usize) -> Vec<f64> {
        table.columns[column]
            .values
            .numbers()
            .expect("numbers expected")
    }

    #[test]
    fn the_helper_writes_headers_as_numpy_does() {
        // The first 128 bytes of `np.save(f, np.arange(12, dtype=np.float32).reshape(4, 3))`.
        let numpy = [
            b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (4, 3), }"
                .as_slice(),
            &[b' '; 58],
            b"\n",
        ]
        .concat();
        assert_eq!(npy("<f4", "(4, 3)", false, &[]), numpy);
    }

    #[test]
    fn float32_features_with_int64_targets() {
        let dir = tempfile::tempdir().unwrap();
        let x = le(&[1.5f32, 2.0, -3.0, 4.25, 0.0, 6.0], f32::to_le_bytes);
        std::fs::write(
            dir.path().join("train_X.npy"),
            npy("<f4", "(3, 2)", false, &x),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("train_y.npy"),
            npy("<i8", "(3,)", false, &le(&[0i64, 1, -1], i64::to_le_bytes)),
        )
        .unwrap();
        let table = load(&dir.path().join("train_X.npy")).unwrap();
        assert_eq!(table.rows, 3);
        assert_eq!(table.names(), ["x0", "x1", "y"]);
        assert_eq!(numbers(&table, 0), [1.5, -3.0, 0.0]);
        assert_eq!(numbers(&table, 1), [2.0, 4.25, 6.0]);
        assert_eq!(numbers(&table, 2), [0.0, 1.0, -1.0]);
    }

    #[test]
    fn float64_fortran_order_and_big_endian() {
        let dir = tempfile::tempdir().unwrap();
        // Column-major 2 × 3: rows (1, 2, 3) and (4, 5, 6).
        let x = le(&[1f64, 4.0, 2.0, 5.0, 3.0, 6.0], f64::to_le_bytes);
        std::fs::write(dir.path().join("X.npy"), npy("<f8", "(2, 3)", true, &x)).unwrap();
        let y = le(&[0.25f64, 0.5], f64::to_be_bytes);
        std::fs::write(dir.path().join("y.npy"), npy(">f8", "(2, 1)", false, &y)).unwrap();
        let table = load(&dir.path().join("X.npy")).unwrap();
        assert_eq!(numbers(&table, 0), [1.0, 4.0]);
        assert_eq!(numbers(&table, 2), [3.0, 6.0]);
        assert_eq!(numbers(&table, 3), [0.25, 0.5]);
    }

    #[test]
    fn int_and_bool_dtypes_and_missing_targets() {
        let dir = tempfile::tempdir().unwrap();
        let x = le(&[-2i32, 7], i32::to_le_bytes);
        std::fs::write(dir.path().join("aX.npy"), npy("<i4", "(1, 2)", false, &x)).unwrap();
        let table = load(&dir.path().join("aX.npy")).unwrap();
        assert_eq!((numbers(&table, 0), table.target), (vec![-2.0], None));
        std::fs::write(
            dir.path().join("bX.npy"),
            npy("|b1", "(2, 1)", false, &[1, 0]),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("bX.npy"),
            npy("|u1", "(2, 1)", false, &[255, 0]),
        )
        .unwrap();
        assert_eq!(
            numbers(&load(&dir.path().join("bX.npy")).unwrap(), 0),
            [255.0, 0.0]
        );
    }

    #[test]
    fn bad_files_are_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let f4 = |v: &[f32]| le(v, f32::to_le_bytes);
        /// File name, X bytes, y bytes, expected message.
        type Case = (&'static str, Vec<u8>, Option<Vec<u8>>, &'static str);
        let cases: Vec<Case> = vec![
            (
                "magicX.npy",
                b"PK\x03\x04 not numpy".to_vec(),
                None,
                "no \\x93NUMPY magic",
            ),
            (
                "dtypeX.npy",
                npy("<c8", "(1, 1)", false, &[0; 8]),
                None,
                "unsupported dtype \"<c8\"",
            ),
            (
                "shapeX.npy",
                npy("<f4", "(3,)", false, &f4(&[1.0, 2.0, 3.0])),
                None,
                "expected a 2-D array",
            ),
            (
                "shortX.npy",
                npy("<f4", "(2, 2)", false, &f4(&[1.0, 2.0, 3.0])),
                None,
                "the data is 12 bytes, but shape [2, 2] of '<f4' needs 16",
            ),
            (
                "nanX.npy",
                npy("<f4", "(2, 2)", false, &f4(&[1.0, 2.0, 3.0, f32::NAN])),
                None,
                "nanX.npy: record 2: column \"x1\" (2): \"NaN\" is not a finite number",
            ),
            (
                "lenX.npy",
                npy("<f4", "(2, 1)", false, &f4(&[1.0, 2.0])),
                Some(npy("<f4", "(3,)", false, &f4(&[1.0, 2.0, 3.0]))),
                "leny.npy: expected shape (2,) to match",
            ),
            (
                "infX.npy",
                npy("<f4", "(2, 1)", false, &f4(&[1.0, 2.0])),
                Some(npy("<f4", "(2,)", false, &f4(&[1.0, f32::INFINITY]))),
                "infy.npy: record 2: column \"y\" (1): \"inf\" is not a finite number",
            ),
            (
                "bigX.npy",
                npy("<i8", "(1, 1)", false, &le(&[1i64 << 60], i64::to_le_bytes)),
                None,
                "cannot be represented exactly",
            ),
        ];
        for (name, x, y, expected) in cases {
            let path = dir.path().join(name);
            std::fs::write(&path, x).unwrap();
            if let Some(y) = y {
                std::fs::write(targets_path(&path).unwrap(), y).unwrap();
            }
            let msg = load(&path).unwrap_err().to_string();
            assert!(
                msg.contains(name.trim_end_matches("X.npy")) && msg.contains(expected),
                "{msg}"
            );
        }
        let msg = load(&dir.path().join("features.npy"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("*X.npy"), "{msg}");
    }
}
