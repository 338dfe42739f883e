//! A table of text fields as a CSV file (the log of `backprop tune`): a header and rows,
//! quoted where a field needs it (`128,64`), written atomically so a reader never sees half
//! a file.

use std::path::Path;

use crate::error::{Error, Result};
use crate::write::write_atomic;

/// Writes `header` and `rows` to `path` as CSV, replacing the file atomically (see
/// [`write_atomic`]).
///
/// # Errors
/// [`Error::Write`] naming the file if it cannot be written.
pub fn write_records(path: &Path, header: &[String], rows: &[Vec<String>]) -> Result<()> {
    let write_error = |cause: std::io::Error| Error::Write {
        path: path.display().to_string(),
        cause,
    };
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    for record in std::iter::once(header).chain(rows.iter().map(Vec::as_slice)) {
        writer
            .write_record(record)
            .map_err(|e| write_error(std::io::Error::other(e)))?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| write_error(std::io::Error::other(e.to_string())))?;
    write_atomic(path, &bytes).map_err(write_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_with_commas_are_quoted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.csv");
        let header = vec!["trial".to_string(), "layers".to_string()];
        write_records(&path, &header, &[vec!["0".into(), "128,64".into()]]).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "trial,layers\n0,\"128,64\"\n"
        );
        let missing = dir.path().join("no/such/folder/log.csv");
        let err = write_records(&missing, &header, &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("cannot write") && err.contains("log.csv"),
            "{err}"
        );
    }
}
