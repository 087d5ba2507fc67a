//! The throwaway directory each server keeps everything in: data, sockets, binlogs, logs.
//!
//! It is created under, in order of preference: `$SLUICE_TEST_TMPDIR`; `/dev/shm`, a memory
//! filesystem, because on small virtual machines writing a fresh data directory to disk is
//! most of a server's start time and durability is worthless here; `/tmp`. `$TMPDIR` is not
//! used because the server's service account must be able to traverse every parent directory,
//! and Unix socket paths are limited to about 100 bytes. It is deleted when dropped.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::error::{Error, Result};
use crate::os_user::RunAs;

/// Environment variable naming the directory to create scratch directories in.
pub const SCRATCH_PARENT_VAR: &str = "SLUICE_TEST_TMPDIR";

/// Where scratch directories go when the variable is unset and `/dev/shm` is missing.
const FALLBACK_PARENT: &str = "/tmp";

/// The directory scratch directories are created in.
pub fn scratch_parent() -> PathBuf {
    if let Some(dir) = std::env::var_os(SCRATCH_PARENT_VAR) {
        return PathBuf::from(dir);
    }
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        shm.to_path_buf()
    } else {
        PathBuf::from(FALLBACK_PARENT)
    }
}

/// A temporary directory owned by a server's OS account, removed on drop.
#[derive(Debug)]
pub struct ScratchDir {
    dir: TempDir,
}

impl ScratchDir {
    /// Creates `<scratch parent>/<prefix>XXXXXX` and gives it to `owner`.
    pub fn create(prefix: &str, owner: &RunAs) -> Result<Self> {
        let parent = scratch_parent();
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir_in(&parent)
            .map_err(|source| {
                let context = format!(
                    "create a scratch directory in {} (set {SCRATCH_PARENT_VAR} to use another)",
                    parent.display()
                );
                Error::io(context, source)
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
        assert!(root.starts_with(scratch_parent()));
        drop(scratch);
        assert!(!root.exists());
    }
}
