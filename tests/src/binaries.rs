//! Where the server programs live, and the check that they are installed.
//!
//! The paths are the Debian packages' (installed by `scripts/setup.sh`). PostgreSQL's server
//! programs are not on `PATH` on Debian, so every program is addressed by its full path.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Directory holding PostgreSQL 15's server programs on Debian.
pub const POSTGRES_BIN_DIR: &str = "/usr/lib/postgresql/15/bin";

/// A program the harness runs, named and located.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Program {
    /// Short name used in messages, e.g. `initdb`.
    pub name: &'static str,
    /// Absolute path of the executable.
    pub path: &'static str,
}

pub(crate) const INITDB: Program = Program {
    name: "initdb",
    path: "/usr/lib/postgresql/15/bin/initdb",
};
pub(crate) const POSTGRES: Program = Program {
    name: "postgres",
    path: "/usr/lib/postgresql/15/bin/postgres",
};
pub(crate) const MARIADB_INSTALL_DB: Program = Program {
    name: "mariadb-install-db",
    path: "/usr/bin/mariadb-install-db",
};
pub(crate) const MARIADBD: Program = Program {
    name: "mariadbd",
    path: "/usr/sbin/mariadbd",
};

impl Program {
    /// Returns the program's path, or an error naming it and `scripts/setup.sh` when it is
    /// missing or not executable.
    pub fn require(self) -> Result<PathBuf> {
        let path = Path::new(self.path);
        let executable = path
            .metadata()
            .map(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
            .unwrap_or(false);
        if executable {
            Ok(path.to_path_buf())
        } else {
            Err(Error::MissingBinary {
                program: self.name,
                path: path.to_path_buf(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_program_error_names_it_and_setup_script() {
        let absent = Program {
            name: "no-such-server",
            path: "/nonexistent/bin/no-such-server",
        };
        let message = absent.require().unwrap_err().to_string();
        assert!(message.contains("no-such-server"), "{message}");
        assert!(
            message.contains("/nonexistent/bin/no-such-server"),
            "{message}"
        );
        assert!(message.contains("scripts/setup.sh"), "{message}");
    }

    #[test]
    fn directory_is_not_a_program() {
        let dir = Program {
            name: "tmp",
            path: "/tmp",
        };
        assert!(matches!(dir.require(), Err(Error::MissingBinary { .. })));
    }
}
