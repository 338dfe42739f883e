//! Decoding a Parquet file's footer (its metadata) under a deadline.
//!
//! The parquet crate (60.1) decodes the footer's Thrift with a skipper for the fields it does
//! not know that takes the elements of a list of booleans as zero bytes each, where the
//! compact protocol writes one byte per element (its typed reader reads that byte). A footer
//! of a few hundred bytes can so claim lists of 2³¹ booleans, nested, and keep the decoder
//! busy for minutes or hours; the `parquet` fuzz target found a 1,175-byte file that took
//! 39 s (issue 14). Nothing in the decoder can be interrupted, and telling such a footer from
//! an honest one in advance would take a second decoder of the whole Parquet schema, so the
//! decoding runs on a thread of its own and the file is refused when it has not finished
//! within [`deadline`]: 3 s, plus 1 s per MiB of footer, hundreds of times what an honest
//! footer takes. The thread cannot be stopped: it runs on, alone, until the decoder gives up
//! (in the command line the process ends with the error first).

use crate::error::{Error, Result};
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::sync::mpsc;
use std::time::Duration;

/// The most time the footer of `footer_bytes` bytes may take to decode.
pub(crate) fn deadline(footer_bytes: u64) -> Duration {
    Duration::from_secs(3) + Duration::from_secs_f64(footer_bytes as f64 / (1u64 << 20) as f64)
}

/// Decodes the footer of the Parquet file `file` (named `name` in errors); a file whose
/// footer takes longer than [`deadline`] is refused.
pub(crate) fn decode(file: &File, name: &str) -> Result<ParquetMetaData> {
    let format_error = |message: String| Error::Format {
        file: name.to_string(),
        message,
    };
    let io_error = |cause| Error::Io {
        path: name.to_string(),
        cause,
    };
    let footer_bytes = claimed_footer_length(file).map_err(io_error)?;
    let reader = file.try_clone().map_err(io_error)?;
    let (send, receive) = mpsc::channel();
    let decoder = std::thread::Builder::new()
        .name("parquet footer".to_string())
        .spawn(move || {
            let decoded =
                std::panic::catch_unwind(|| ParquetMetaDataReader::new().parse_and_finish(&reader));
            // The receiver is gone when the deadline passed first: nothing to tell.
            let _ = send.send(decoded);
        })
        .map_err(io_error)?;
    let limit = deadline(footer_bytes);
    let decoded = receive.recv_timeout(limit);
    if decoded.is_ok() {
        // The thread has sent its result and is ending: joined, not left behind (only a
        // decoder past its deadline is).
        let _ = decoder.join();
    }
    match decoded {
        Ok(Ok(Ok(metadata))) => Ok(metadata),
        Ok(Ok(Err(e))) => Err(format_error(format!("not a readable Parquet file ({e})"))),
        Ok(Err(_)) => Err(format_error(
            "not a readable Parquet file (its footer made the parquet decoder fail)".to_string(),
        )),
        Err(_) => Err(format_error(format!(
            "not a readable Parquet file (its footer of {footer_bytes} bytes was still being \
             decoded after {:.0} s, where an honest footer takes milliseconds; its lists \
             claim far more elements than it holds)",
            limit.as_secs_f64()
        ))),
    }
}

/// The footer length that the last 8 bytes of the file claim (0 for a file too short to
/// have them; the decoder then says what is wrong), capped at the file's length.
fn claimed_footer_length(file: &File) -> std::io::Result<u64> {
    let length = file.metadata()?.len();
    if length < 8 {
        return Ok(0);
    }
    let mut file = file;
    file.seek(SeekFrom::End(-8))?;
    let mut tail = [0u8; 4];
    file.read_exact(&mut tail)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(u64::from(u32::from_le_bytes(tail)).min(length))
}
