//! Errors raised by the test harness while preparing real servers.

/// Harness failures, each naming what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A required program is not installed.
    #[error("{program} not found at {path}: run scripts/setup.sh to install it")]
    MissingBinary { program: String, path: String },
}
