//! Decoding a Parquet file's footer (its metadata).
//!
//! The footer is Thrift that anyone can write. The parquet crate 60.1 skipped the fields it
//! does not know with a loop that took each element of a list of booleans as zero bytes,
//! so a footer of a few hundred bytes claiming nested lists of 2³¹ booleans kept it busy for
//! hours (fuzz finding 6). The workspace builds the crate with that fixed
//! (`vendor/PATCHES.md`), so the footer is decoded here in place, and a panic of the decoder
//! becomes the error of an unreadable file.

use crate::error::{Error, Result};
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};
use std::fs::File;

/// Decodes the footer of the Parquet file `file` (named `name` in errors).
pub(crate) fn decode(file: &File, name: &str) -> Result<ParquetMetaData> {
    let format_error = |message: String| Error::Format {
        file: name.to_string(),
        message,
    };
    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ParquetMetaDataReader::new().parse_and_finish(file)
    }));
    match decoded {
        Ok(Ok(metadata)) => Ok(metadata),
        Ok(Err(e)) => Err(format_error(format!("not a readable Parquet file ({e})"))),
        Err(_) => Err(format_error(
            "not a readable Parquet file (its footer made the parquet decoder fail)".to_string(),
        )),
    }
}
