//! Where the MySQL 8 binlog fixtures are: /work/shared/fixtures/mysql8 (FIXTURES.md there
//! describes them), next to the repository checkout. They are read by path, never copied
//! into the repo; the tests that need them fail, never skip, when the directory is missing.

use std::path::PathBuf;

/// The path of fixture file `name`; panics with what is missing when the directory is absent.
pub fn fixture(name: &str) -> PathBuf {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/mysql8"
    ));
    assert!(
        dir.is_dir(),
        "the MySQL 8 binlog fixtures are missing: expected the directory {} (shared/fixtures/mysql8 \
         next to the repository checkout, see its FIXTURES.md); these tests cannot run without it",
        dir.display()
    );
    dir.join(name)
}
