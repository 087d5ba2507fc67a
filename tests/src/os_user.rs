//! Which OS account a server runs as, and handing it the files it needs.
//!
//! PostgreSQL refuses to run as root and MariaDB should not, so when the tests run as root each
//! server runs as its Debian service account (`postgres`, `mysql`). Otherwise the server runs
//! as the current user, who already owns the scratch directory.
//!
//! The switch uses std's `CommandExt::uid`/`gid` rather than a wrapper such as `runuser`, so
//! the spawned child *is* the server: the harness can signal and reap it directly, and killing
//! it never leaves an orphaned server behind a dead wrapper.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use crate::error::{Error, Result};

/// The account a server process runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunAs {
    /// The tests do not run as root: the server runs as the current user.
    CurrentUser,
    /// The tests run as root: the server runs as this service account.
    ServiceAccount {
        /// Account name, e.g. `postgres`.
        name: &'static str,
        /// Its numeric user id.
        uid: u32,
        /// Its primary group id.
        gid: u32,
    },
}

impl RunAs {
    /// Chooses the account for a server whose service account is `account`.
    pub fn for_service(account: &'static str) -> Result<Self> {
        if !rustix::process::geteuid().is_root() {
            return Ok(Self::CurrentUser);
        }
        let uid = lookup_id(account, "-u")?;
        let gid = lookup_id(account, "-g")?;
        Ok(Self::ServiceAccount {
            name: account,
            uid,
            gid,
        })
    }

    /// Makes `command` run as this account.
    pub fn apply(&self, command: &mut Command) {
        if let Self::ServiceAccount { uid, gid, .. } = *self {
            command.uid(uid).gid(gid);
        }
    }

    /// Gives `path` (one file or directory, not recursive) to this account.
    pub fn give(&self, path: &Path) -> Result<()> {
        if let Self::ServiceAccount { name, uid, gid } = *self {
            std::os::unix::fs::chown(path, Some(uid), Some(gid)).map_err(|source| {
                Error::io(format!("chown {} to {name}", path.display()), source)
            })?;
        }
        Ok(())
    }
}

/// Runs `id <flag> <account>` so that accounts from any NSS source are found, not only
/// `/etc/passwd`.
fn lookup_id(account: &'static str, flag: &str) -> Result<u32> {
    let output = Command::new("id")
        .arg(flag)
        .arg(account)
        .output()
        .map_err(|source| Error::io(format!("run `id {flag} {account}`"), source))?;
    if !output.status.success() {
        return Err(Error::MissingOsUser { user: account });
    }
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .map_err(|_| Error::MissingOsUser { user: account })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_account_is_reported_by_name_when_root() {
        let result = RunAs::for_service("sluice-no-such-account");
        if rustix::process::geteuid().is_root() {
            let message = result.unwrap_err().to_string();
            assert!(message.contains("sluice-no-such-account"), "{message}");
        } else {
            assert_eq!(result.unwrap(), RunAs::CurrentUser);
        }
    }
}
