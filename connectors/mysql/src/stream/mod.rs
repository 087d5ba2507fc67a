//! Streaming from the binlog.
//!
//! - [`client`]: the replica connection, event decoding, event groups, reconnects.
//! - [`changes`]: live events into change records; DDL handed on.
//! - [`mariadb`]: MariaDB's GTID, GTID_LIST, BINLOG_CHECKPOINT and ANNOTATE_ROWS events.
//! - [`transactions`]: transaction metadata — BEGIN/END records and the events' blocks.

pub mod changes;
pub mod client;
pub mod mariadb;
pub mod transactions;
