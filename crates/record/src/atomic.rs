//! Files written whole or not at all.

use std::io::Write;
use std::path::{Path, PathBuf};

/// A file that could not be written; the file at `path`, if any, is unchanged.
#[derive(Debug, thiserror::Error)]
#[error("writing {path}: {source}")]
pub struct WriteError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder
/// (`path` with extension `tmp`), synced, then renamed over `path`, and the
/// folder synced. A process killed at any moment leaves the old file or the new
/// one, never a part.
///
/// # Errors
/// [`WriteError`] naming the file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let fail = |source| WriteError {
        path: path.to_owned(),
        source,
    };
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp).map_err(fail)?;
    f.write_all(bytes).map_err(fail)?;
    f.sync_all().map_err(fail)?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(fail)?;
    // The rename itself reaches the disk with the folder's entry: a file
    // acknowledged as written (a replay chunk) survives a power loss.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(fail)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replaces_and_names_the_file_it_cannot_write() {
        let dir = std::env::temp_dir().join(format!("az-record-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.bin");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert!(!path.with_extension("tmp").exists());
        let missing = dir.join("no/such/folder/b.bin");
        let e = write_atomic(&missing, b"x").unwrap_err();
        assert!(e.to_string().contains("no/such/folder"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
