//! Making files appear atomically and durably: a file is written under a hidden temporary
//! name, finished, fsynced, renamed to its final name and its directory fsynced — so after a
//! crash a visible file is always whole. Also the cleanup of temporaries a crash left behind.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};

use crate::columns::Layout;
use crate::error::{Error, Result};
use crate::format::{FileSpec, FormatWriter, open_writer};
use crate::naming::{is_temporary_of, temporary_name};

/// A file being written under its temporary name.
#[derive(Debug)]
pub struct PendingFile {
    dir: PathBuf,
    temporary: PathBuf,
    /// Our own handle, kept to fsync once the writer is done with its clone.
    file: File,
    writer: Box<dyn FormatWriter>,
}

impl PendingFile {
    /// Creates `dir/.<name>.tmp` (and `dir`) and a writer for it.
    pub fn create(dir: &Path, name: &str, spec: FileSpec, layout: Option<Layout>) -> Result<Self> {
        ensure_dir(dir)?;
        let temporary = dir.join(temporary_name(name));
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temporary)
            .map_err(|e| Error::io(format!("cannot create {}", temporary.display()), e))?;
        let clone = file
            .try_clone()
            .map_err(|e| Error::io(format!("cannot reopen {}", temporary.display()), e))?;
        let writer = open_writer(spec, layout, clone, &temporary)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            temporary,
            file,
            writer,
        })
    }

    pub fn writer(&mut self) -> &mut dyn FormatWriter {
        &mut *self.writer
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Finishes the file, fsyncs it, renames it to `dir/<name>` and fsyncs the directory.
    pub fn commit(self, name: &str) -> Result<PathBuf> {
        let Self {
            dir,
            temporary,
            file,
            writer,
        } = self;
        writer.finish()?;
        file.sync_all()
            .map_err(|e| Error::io(format!("cannot fsync {}", temporary.display()), e))?;
        drop(file);
        let target = dir.join(name);
        fs::rename(&temporary, &target).map_err(|e| {
            Error::io(
                format!(
                    "cannot rename {} to {}",
                    temporary.display(),
                    target.display()
                ),
                e,
            )
        })?;
        sync_dir(&dir)?;
        Ok(target)
    }

    /// Drops the file without making it visible.
    pub fn abandon(self) {
        drop(self.writer);
        if let Err(error) = fs::remove_file(&self.temporary) {
            tracing::warn!(path = %self.temporary.display(), %error, "cannot remove an abandoned temporary file");
        }
    }
}

/// Writes a small file atomically: temporary name, fsync, rename, fsync of the directory.
pub fn write_atomically(dir: &Path, name: &str, content: &[u8]) -> Result<()> {
    ensure_dir(dir)?;
    let temporary = dir.join(temporary_name(name));
    fs::write(&temporary, content)
        .map_err(|e| Error::io(format!("cannot write {}", temporary.display()), e))?;
    File::open(&temporary)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io(format!("cannot fsync {}", temporary.display()), e))?;
    let target = dir.join(name);
    fs::rename(&temporary, &target)
        .map_err(|e| Error::io(format!("cannot rename to {}", target.display()), e))?;
    sync_dir(dir)
}

/// Creates `dir` (and its parents) when missing, making the new entries durable.
pub fn ensure_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let missing: Vec<&Path> = dir.ancestors().take_while(|a| !a.is_dir()).collect();
    fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("cannot create directory {}", dir.display()), e))?;
    for created in missing {
        if let Some(parent) = created.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent)?;
        }
    }
    Ok(())
}

/// fsync of a directory, so renames and new entries in it survive a crash.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(format!("cannot fsync directory {}", dir.display()), e))
}

/// Deletes the temporary files of one topic partition in `dirs` (left by a crash).
pub fn remove_temporaries(dirs: &[PathBuf], topic: &str, partition: i32) -> Result<usize> {
    let mut removed = 0;
    for dir in dirs {
        for name in file_names(dir)? {
            if is_temporary_of(&name, topic, partition) {
                let path = dir.join(&name);
                fs::remove_file(&path)
                    .map_err(|e| Error::io(format!("cannot remove {}", path.display()), e))?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

/// The file names in `dir` (none when it does not exist).
pub fn file_names(dir: &Path) -> Result<Vec<String>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(Error::io(format!("cannot list {}", dir.display()), error)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(format!("cannot list {}", dir.display()), e))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    Ok(names)
}
