//! The command-line arguments the source benchmark examples share.

/// The first command-line argument as a row count, or `default` when there is none.
pub fn rows_arg(default: i64) -> anyhow::Result<i64> {
    Ok(std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(default))
}
