//! The throwaway directory each server keeps everything in: data, sockets, binlogs, logs.
//!
//! It lives under `/tmp` (not `$TMPDIR`) because the server's service account must be able to
//! traverse every parent directory, and because Unix socket paths are limited to about 100
//! bytes. It is deleted when dropped.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::error::{Error, Result};
use crate::os_user::RunAs;

/// Parent of every scratch directory.
const SCRATCH_PARENT: &str = "/tmp";

/// A temporary directory owned by a server's OS account, removed on drop.
#[derive(Debug)]
pub struct ScratchDir {
    dir: TempDir,
}

impl ScratchDir {
    /// Creates `/tmp/<prefix>XXXXXX` and gives it to `owner`.
    pub fn create(prefix: &str, owner: &RunAs) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir_in(SCRATCH_PARENT)
            .map_err(|source| {
                Error::io(
                    format!("create a scratch directory in {SCRATCH_PARENT}"),
                    source,
                )
            })?;
        owner.give(dir.path())?;
        Ok(Self { dir })
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Creates the subdirectory `name`, owned by `owner`, and returns its path.
    pub fn subdir(&self, name: &str, owner: &RunAs) -> Result<PathBuf> {
        let path = self.dir.path().join(name);
        std::fs::create_dir(&path)
            .map_err(|source| Error::io(format!("create {}", path.display()), source))?;
        owner.give(&path)?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_dir_is_removed_on_drop() {
        let scratch = ScratchDir::create("sluice-scratch-test-", &RunAs::CurrentUser).unwrap();
        let sub = scratch.subdir("data", &RunAs::CurrentUser).unwrap();
        std::fs::write(sub.join("file"), b"x").unwrap();
        let root = scratch.path().to_path_buf();
        assert!(root.starts_with(SCRATCH_PARENT));
        drop(scratch);
        assert!(!root.exists());
    }
}
