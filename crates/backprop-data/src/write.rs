//! Writing a file so that a failure never leaves a broken file in place of a good one.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

/// Replaces the file at `path` with `bytes`, atomically: the bytes go to a temporary file in
/// the same directory, which is flushed to disk (`sync_all`) and then renamed over `path`;
/// on Unix the directory is then synced so the rename itself survives a crash.
///
/// If any step fails, an existing file at `path` is left as it was and the temporary file is
/// removed. The new file gets the usual permissions (`0o666` less the umask).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |file| file.write_all(bytes))
}

/// [`write_atomic`] with the writing done by `write` (a test seam for failing writes).
fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} does not name a file", path.display()),
        )
    })?;
    let prefix = format!(".{}.", name.to_string_lossy());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    // Dropping `temp` on any early return deletes the temporary file.
    let mut temp = builder.tempfile_in(dir)?;
    write(temp.as_file_mut())?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    remove_stale_temporaries(dir, &prefix);
    Ok(())
}

/// A temporary file of ours older than this was left by a killed save, not one in progress.
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// Removes the temporary files a killed save of the same target left beside it: names
/// `.{name}.XXXXXX.tmp` (six random characters, as `tempfile` makes them) last modified more
/// than [`STALE_AFTER`] ago, so that a save running now in another process keeps its own.
/// Best effort: a file that cannot be removed stays.
fn remove_stale_temporaries(dir: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = std::time::SystemTime::now();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let ours = name
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(".tmp"))
            .is_some_and(|random| {
                random.len() == 6 && random.bytes().all(|b| b.is_ascii_alphanumeric())
            });
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|modified| {
                now.duration_since(modified)
                    .is_ok_and(|age| age > STALE_AFTER)
            });
        if ours && stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Files in `dir`, sorted (for tests that check no temporary file is left behind).
#[cfg(test)]
pub(crate) fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_save_removes_the_stale_temporaries_of_killed_saves() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        let stale = dir.path().join(".m.safetensors.aB3xYz.tmp");
        let fresh = dir.path().join(".m.safetensors.Qw9rT2.tmp");
        let other = dir.path().join(".other.safetensors.aB3xYz.tmp");
        let mine = dir.path().join(".m.safetensors.notes.tmp");
        for file in [&stale, &fresh, &other, &mine] {
            std::fs::write(file, b"partial").unwrap();
        }
        for file in [&stale, &other, &mine] {
            File::options()
                .write(true)
                .open(file)
                .unwrap()
                .set_modified(old)
                .unwrap();
        }
        write_atomic(&path, b"model").unwrap();
        // The old temporary of this target goes; one that may be a save in progress, another
        // target's and a name not of our pattern stay.
        assert_eq!(
            entries(dir.path()),
            [
                ".m.safetensors.Qw9rT2.tmp",
                ".m.safetensors.notes.tmp",
                ".other.safetensors.aB3xYz.tmp",
                "m.safetensors"
            ]
        );
    }

    #[test]
    fn atomic_write_replaces_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.bin");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        assert_eq!(entries(dir.path()), ["out.bin"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o600, 0o600, "readable and writable by its owner");
        }
    }

    /// Proves: if writing the bytes fails midway (disk full, I/O error), the old file keeps
    /// its content and the partly written temporary file is removed.
    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        std::fs::write(&path, b"old model").unwrap();
        let result = write_atomic_with(&path, |file| {
            file.write_all(b"half of the new")?;
            Err(io::Error::other("disk full"))
        });
        assert_eq!(result.unwrap_err().to_string(), "disk full");
        assert_eq!(std::fs::read(&path).unwrap(), b"old model");
        assert_eq!(entries(dir.path()), ["model.safetensors"]);
    }

    /// Proves: if the final rename fails (here because the target is a non-empty directory,
    /// which works even as root), the target is untouched and the temporary file is removed.
    #[test]
    fn a_failed_rename_leaves_the_target_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("model.safetensors");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("inside"), b"kept").unwrap();
        assert!(write_atomic(&target, b"new").is_err());
        assert_eq!(std::fs::read(target.join("inside")).unwrap(), b"kept");
        assert_eq!(entries(dir.path()), ["model.safetensors"]);
    }

    #[test]
    fn writing_into_a_missing_directory_fails_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/dir/model.safetensors");
        assert!(write_atomic(&path, b"x").is_err());
        assert!(entries(dir.path()).is_empty());
    }
}
