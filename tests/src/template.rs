//! Pristine data directories, initialised once per machine and copied for every server.
//!
//! `initdb` and `mariadb-install-db` cost about a CPU-second each, while copying their result
//! takes a fraction of that; with dozens of end-to-end tests on a small machine this is most of
//! a server's start time. The first server of a kind runs the setup program into a staging
//! directory and renames it into place, which is atomic, so concurrent tests (in this or other
//! processes) either see a complete template or none and create their own. Templates are never
//! modified after that: every server still gets a fresh private copy.
//!
//! Templates live in `/tmp/sluice-test-templates-<uid>/<kind>-<fingerprint>/data`. The
//! fingerprint covers the setup program's modification time and every setup argument, so an
//! upgraded server package or changed harness settings make a new template rather than reuse
//! a stale one.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};
use crate::os_user::RunAs;
use crate::server_process::run_setup_command;

/// Name of the data directory inside a template (and inside a staging directory).
pub(crate) const DATA: &str = "data";

/// A fingerprint of a setup program and its settings.
pub(crate) fn fingerprint(program: &Path, settings: &[&str]) -> Result<u64> {
    let modified = program
        .metadata()
        .and_then(|meta| meta.modified())
        .map_err(|source| Error::io(format!("stat {}", program.display()), source))?;
    let mut hasher = DefaultHasher::new();
    program.hash(&mut hasher);
    modified.hash(&mut hasher);
    settings.hash(&mut hasher);
    Ok(hasher.finish())
}

/// Fills `dest` (which must not exist yet) with a copy of the `kind` template, first creating
/// the template with `create` if needed. `create` receives an empty staging directory owned by
/// `owner` and must leave the initialised data directory at `<staging>/data`.
pub(crate) async fn copy_template<F>(
    kind: &str,
    fingerprint: u64,
    owner: &RunAs,
    create: F,
    dest: &Path,
) -> Result<()>
where
    F: AsyncFnOnce(&Path) -> Result<()>,
{
    let template = template_dir(kind, fingerprint)?;
    if !template.join(DATA).is_dir() {
        create_template(&template, owner, create).await?;
    }
    // `cp -a` keeps the owner (the service account) and the 0700 modes the servers insist on.
    let mut copy = Command::new("cp");
    copy.arg("-a").arg(template.join(DATA)).arg(dest);
    let scratch = dest.parent().unwrap_or(dest);
    run_setup_command(copy, scratch).await
}

fn template_dir(kind: &str, fingerprint: u64) -> Result<PathBuf> {
    // Per user: a template made by root is owned by a service account and 0700, so another
    // user could not copy it.
    let euid = rustix::process::geteuid().as_raw();
    let root = PathBuf::from(format!("/tmp/sluice-test-templates-{euid}"));
    std::fs::create_dir_all(&root)
        .map_err(|source| Error::io(format!("create {}", root.display()), source))?;
    Ok(root.join(format!("{kind}-{fingerprint:016x}")))
}

async fn create_template<F>(template: &Path, owner: &RunAs, create: F) -> Result<()>
where
    F: AsyncFnOnce(&Path) -> Result<()>,
{
    let parent = template.parent().expect("templates live in a directory");
    let name = template
        .file_name()
        .expect("templates have a name")
        .to_string_lossy();
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}-staging-"))
        .tempdir_in(parent)
        .map_err(|source| {
            Error::io(
                format!("create a staging dir in {}", parent.display()),
                source,
            )
        })?;
    owner.give(staging.path())?;
    create(staging.path()).await?;
    match std::fs::rename(staging.path(), template) {
        Ok(()) => {
            // Now at its final path; nothing left for the guard to delete.
            let _ = staging.keep();
            Ok(())
        }
        // Another test finished first; its template is as good as ours, which drop deletes.
        Err(_) if template.join(DATA).is_dir() => Ok(()),
        Err(source) => Err(Error::io(
            format!("move the new template into {}", template.display()),
            source,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_changes_with_settings() {
        let sh = Path::new("/bin/sh");
        let a = fingerprint(sh, &["--x=1"]).unwrap();
        assert_eq!(a, fingerprint(sh, &["--x=1"]).unwrap());
        assert_ne!(a, fingerprint(sh, &["--x=2"]).unwrap());
    }

    #[tokio::test]
    async fn template_is_created_once_and_copied() {
        let kind = format!("selftest-{}", std::process::id());
        let unique = fingerprint(Path::new("/bin/sh"), &[&kind]).unwrap();
        let scratch = tempfile::tempdir().unwrap();
        let mut creations = 0;
        for copy in ["one", "two"] {
            let dest = scratch.path().join(copy);
            copy_template(
                &kind,
                unique,
                &RunAs::CurrentUser,
                async |staging: &Path| {
                    creations += 1;
                    std::fs::create_dir(staging.join(DATA)).unwrap();
                    std::fs::write(staging.join(DATA).join("marker"), b"pristine").unwrap();
                    Ok(())
                },
                &dest,
            )
            .await
            .unwrap();
            assert_eq!(std::fs::read(dest.join("marker")).unwrap(), b"pristine");
        }
        assert_eq!(creations, 1);
        std::fs::remove_dir_all(template_dir(&kind, unique).unwrap()).unwrap();
    }
}
