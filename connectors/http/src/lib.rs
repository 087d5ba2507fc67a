//! HTTP sink: batched delivery with retries, idempotency keys and a dead-letter topic.
//!
//! Delivery is at least once: offsets are committed only after a 2xx, every request
//! carries `Idempotency-Key: <topic>-<partition>-<first offset>-<last offset>` and every
//! event its id `<topic>-<partition>-<offset>`; batches are cut from offsets (see
//! [`batch`]) so a batch redelivered after a crash carries the same key.
//!
//! # Layout
//!
//! - [`config`]: the declared keys and the typed [`config::HttpSinkConfig`].
//! - [`connector`]: the `SinkConnector` (`connector.class` = `http`).
//! - [`task`]: the `SinkTask`: `put` serializes and batches, `flush` commits what was
//!   acknowledged.
//! - [`state`]: per-partition queues, rewinds of rejected batches, pauses, committable
//!   offsets.
//! - [`dispatch`]: the background sender (in-flight limit, linger and retry timers).
//! - [`batch`]: the deterministic batch-cutting rule and idempotency keys.
//! - [`body`]: body formats (json-array, ndjson, single) and content types.
//! - [`event`]: one record as a JSON event (plain envelope or CloudEvents).
//! - [`schemaless`]: JSON for values without a Connect schema.
//! - [`retry`]: retryable or final, backoff with jitter, `Retry-After`.
//! - [`sender`]: the rustls `reqwest` client, request headers and one attempt.
//! - [`httptime`]: RFC 3339 output and HTTP-date parsing.
//! - [`error`]: the crate's error type and `Result` alias.

pub mod batch;
pub mod body;
pub mod config;
pub mod connector;
pub mod dispatch;
pub mod error;
pub mod event;
pub mod httptime;
pub mod retry;
pub mod schemaless;
pub mod sender;
pub mod state;
pub mod task;

pub use connector::HttpSinkConnector;
pub use error::{Error, Result};

/// Registers the HTTP sink under `io.sluice.connector.http.HttpSinkConnector` and `http`.
// The signature is the one the binary calls for every connector crate.
#[allow(clippy::result_large_err)]
pub fn register(
    registry: &mut sluice_connect::registry::ConnectorRegistry,
) -> sluice_connect::Result<()> {
    registry.register_sink(
        sluice_connect::registry::classes::HTTP_SINK,
        &["http"],
        env!("CARGO_PKG_VERSION"),
        || Box::new(HttpSinkConnector),
    )
}
