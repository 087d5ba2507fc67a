//! Data-warehouse file sink: JSON lines, Avro and Parquet files, changelog and upsert modes,
//! exactly once (files are written under hidden temporary names, fsynced and renamed to names
//! that carry their offsets; progress is recovered from the files).
//!
//! # Layout
//!
//! - [`connector`]: `FileSinkConnector` (class `io.sluice.connector.file.FileSinkConnector`,
//!   alias `file`): configuration checks and task planning.
//! - [`config`]: declared keys and the typed `FileSinkConfig` (format, mode, rolling,
//!   partitioning, compression).
//! - [`task`]: `FileSinkTask`: routes records to partition writers, recovery in `open`,
//!   commits only what committed files hold.
//! - [`changelog`]: changelog mode per topic partition: rolling files, recovery of the next
//!   offset from committed file names.
//! - [`upsert`]: upsert mode per topic partition: current rows by key, snapshot replaced by
//!   rename, rebuild from the log with a durable marker.
//! - [`event`]: reading a record as a change (Debezium envelope, unwrapped row, schemaless map).
//! - [`columns`]: Connect schema → file column types; the column layout with metadata columns.
//! - [`cell`]: one column's value in one change, shared by the three formats.
//! - [`format`]: the `FormatWriter` interface and the choice of format.
//! - [`jsonl`], [`avro_file`], [`parquet_file`]: the three format writers.
//! - [`json`]: Connect values as JSON text (logical types readable).
//! - [`durable`]: temporary file → fsync → rename → directory fsync; cleanup of temporaries.
//! - [`naming`]: file and directory names (offset ranges, `dt=` directories, time zones).
//! - [`filestream`]: Kafka's `FileStreamSinkConnector` (`file` key, one value per line).
//! - [`error`]: the crate's error type and `Result` alias.

pub mod avro_file;
pub mod cell;
pub mod changelog;
pub mod columns;
pub mod config;
pub mod connector;
pub mod durable;
pub mod error;
pub mod event;
pub mod filestream;
pub mod format;
pub mod json;
pub mod jsonl;
pub mod naming;
pub mod parquet_file;
pub mod task;
pub mod upsert;

pub use connector::FileSinkConnector;
pub use error::{Error, Result};
pub use filestream::FileStreamSinkConnector;
pub use task::FileSinkTask;

/// Registers the file sink (`io.sluice.connector.file.FileSinkConnector`, alias `file`) and
/// Kafka's `org.apache.kafka.connect.file.FileStreamSinkConnector`.
// The signature is the one the binary calls for every connector crate.
#[allow(clippy::result_large_err)]
pub fn register(
    registry: &mut sluice_connect::registry::ConnectorRegistry,
) -> sluice_connect::Result<()> {
    let version = env!("CARGO_PKG_VERSION");
    registry.register_sink(connector::CLASS, &["file"], version, || {
        Box::new(FileSinkConnector)
    })?;
    registry.register_sink(filestream::CLASS, &[], version, || {
        Box::new(FileStreamSinkConnector)
    })
}
