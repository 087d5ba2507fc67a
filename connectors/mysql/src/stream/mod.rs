//! Streaming from the binlog.
//!
//! - [`client`]: the replica connection, event decoding, reconnects, resuming by GTIDs.
//! - [`groups`]: which event group each event belongs to; the reconnect position.
//! - [`executed`]: the executed GTIDs offsets carry (MariaDB position, MySQL set).
//! - [`changes`]: live events into change records; DDL handed on.
//! - [`mariadb`]: MariaDB's GTID, GTID_LIST, BINLOG_CHECKPOINT and ANNOTATE_ROWS events.
//! - [`transactions`]: transaction metadata — BEGIN/END records and the events' blocks.

pub mod changes;
pub mod client;
pub mod executed;
pub mod groups;
pub mod mariadb;
pub mod transactions;
