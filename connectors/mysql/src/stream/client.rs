//! The live binlog connection: registers as a replica, asks for the binlog from a position,
//! decodes each event (MariaDB's own events here, the rest through [`crate::binlog`]) and
//! places it in its event group (transaction or standalone DDL, [`super::groups`]).
//! When the connection drops it reconnects with backoff from the start of the group in
//! progress, so a group is always read whole after its TABLE_MAP events.
//!
//! When the stored offset has GTIDs, the first connection asks for the binlog by them, so a
//! resume does not depend on the binlog file names: on MariaDB with `@slave_connect_state`
//! (strict mode), on MySQL with COM_BINLOG_DUMP_GTID and the executed set (the server sends
//! only transactions outside it). If the server refuses, it falls back to file/pos — except
//! when MySQL says transactions outside the set were purged: that is
//! [`Error::BinlogPurged`], as for a purged file. Later reconnects use the file/pos tracked
//! in this run.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use mysql_async::prelude::Queryable;
use mysql_async::{BinlogStream, BinlogStreamRequest};
use mysql_common::binlog::events::Event;

use super::groups::GroupTracker;
use super::mariadb::{self, GtidPosition, MariaGtidEvent};
use crate::binlog::decode::{KnownTables, decode_body, remember_table};
use crate::binlog::{EventBody, GtidEvent, GtidSet, TableMap};
use crate::config::SourceConfig;
use crate::connection;
use crate::error::{Error, Result};
use crate::flavour::Flavour;
use crate::offset::BinlogPosition;

/// How often the server sends a heartbeat when idle; a silent connection for three periods
/// is taken as dead.
const SERVER_HEARTBEAT: Duration = Duration::from_secs(2);
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// The server error "could not find first log file / position" (purged or unknown binlog).
const ER_MASTER_FATAL_ERROR_READING_BINLOG: u16 = 1236;
/// Authentication failures: reconnecting cannot help.
const ER_ACCESS_DENIED: [u16; 3] = [1045, 1044, 1227];
const HEARTBEAT_TYPE: u8 = 27;
const ROTATE_TYPE: u8 = 4;
const FORMAT_DESCRIPTION_TYPE: u8 = 15;

/// What a decoded live event carries.
#[derive(Debug, Clone)]
pub enum LiveBody {
    /// The server switched to another binlog file (real rotate or the one sent on connect).
    Rotate(BinlogPosition),
    /// A MariaDB GTID: a new event group starts.
    MariaGtid(MariaGtidEvent),
    /// A MySQL GTID or ANONYMOUS_GTID: a new event group starts.
    MySqlGtid(GtidEvent),
    /// MySQL's PREVIOUS_GTIDS: the GTIDs executed before this binlog file.
    PreviousGtids(GtidSet),
    Query {
        thread_id: u32,
        schema: String,
        query: String,
    },
    /// The statement of the rows events that follow (ANNOTATE_ROWS / ROWS_QUERY).
    RowsQuery(String),
    TableMap(TableMap),
    Rows(crate::binlog::RowsEvent),
    Xid,
}

/// One event of the live stream.
#[derive(Debug, Clone)]
pub struct LiveEvent {
    pub file: Arc<str>,
    /// Where the event starts in `file`.
    pub start: u64,
    /// Where the next event starts.
    pub next: u64,
    /// Server time of the event, seconds since the epoch.
    pub timestamp: u32,
    pub server_id: u32,
    /// Where the event group this event belongs to starts.
    pub group_start: u64,
    /// True for the last event of its group (XID, COMMIT, or a standalone DDL).
    pub ends_group: bool,
    pub body: LiveBody,
}

/// Reads the binlog of one server, reconnecting as needed.
#[derive(Debug)]
pub struct BinlogClient {
    config: SourceConfig,
    flavour: Flavour,
    checksum_on: bool,
    stream: Option<Connected>,
    /// Event groups and the group boundary a reconnect starts from.
    groups: GroupTracker,
    tables: KnownTables,
    backoff: Duration,
    /// The GTIDs to ask for on the first connection, until that connection delivered.
    gtid_start: Option<GtidStart>,
}

/// Where the first connection asks the server to start, by GTIDs.
#[derive(Debug, Clone)]
enum GtidStart {
    /// MariaDB: `@slave_connect_state`, the position before the group to resume.
    MariaDb(GtidPosition),
    /// MySQL: COM_BINLOG_DUMP_GTID with the executed set; the server sends only
    /// transactions outside it.
    MySql(GtidSet),
}

impl std::fmt::Display for GtidStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::MariaDb(position) => write!(f, "{position}"),
            Self::MySql(set) => write!(f, "{set}"),
        }
    }
}

/// A live connection and what this connection has seen so far.
struct Connected {
    stream: BinlogStream,
    format_seen: bool,
}

impl std::fmt::Debug for Connected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connected")
            .field("format_seen", &self.format_seen)
            .finish_non_exhaustive()
    }
}

impl BinlogClient {
    /// A client that will start reading at `from` (a group boundary) on first use.
    pub fn new(
        config: SourceConfig,
        flavour: Flavour,
        checksum: &str,
        from: BinlogPosition,
    ) -> Self {
        Self {
            config,
            flavour,
            checksum_on: !checksum.eq_ignore_ascii_case("NONE"),
            stream: None,
            groups: GroupTracker::new(from),
            tables: HashMap::new(),
            backoff: FIRST_BACKOFF,
            gtid_start: None,
        }
    }

    /// Starts from the GTIDs `gtids` (those executed before the group to resume: a MariaDB
    /// position or a MySQL set), with the file/pos given to [`Self::new`] as the fallback.
    pub fn with_gtid_start(mut self, gtids: Option<&str>) -> Self {
        self.gtid_start = gtids.and_then(|text| match self.flavour {
            Flavour::MariaDb => GtidPosition::parse(text)
                .filter(|position| !position.is_empty())
                .map(GtidStart::MariaDb),
            Flavour::MySql => match GtidSet::parse(text) {
                Ok(set) if !set.is_empty() => Some(GtidStart::MySql(set)),
                Ok(_) => None,
                Err(error) => {
                    tracing::warn!(%error, "stored GTID set unreadable; resuming by file/pos");
                    None
                }
            },
        });
        self
    }

    /// The next event worth handing on; reconnects on connection loss. Errors are final.
    pub async fn next_event(&mut self) -> Result<LiveEvent> {
        loop {
            if self.stream.is_none() {
                match self.open().await {
                    Ok(connected) => self.stream = Some(connected),
                    Err(error) if is_retryable(&error) => {
                        tracing::warn!(%error, resume = %self.groups.resume(), "binlog connection failed; retrying");
                        self.wait_backoff().await;
                        continue;
                    }
                    Err(error) => return Err(error),
                }
            }
            let Some(connected) = self.stream.as_mut() else {
                continue;
            };
            let next = tokio::time::timeout(SERVER_HEARTBEAT * 3, connected.stream.next()).await;
            let event = match next {
                Ok(Some(Ok(event))) => event,
                Ok(Some(Err(source))) if self.gtid_start.is_some() => {
                    if let Some(GtidStart::MySql(set)) = &self.gtid_start
                        && gtids_purged(&source)
                    {
                        // Transactions outside the set are gone: file/pos cannot help.
                        return Err(Error::BinlogPurged {
                            position: format!("after the GTID set {set}"),
                            oldest: self
                                .oldest_binlog()
                                .await
                                .unwrap_or_else(|| "unknown".into()),
                        });
                    }
                    // The server refused the GTIDs (e.g. not in its binlog).
                    tracing::warn!(error = %source, resume = %self.groups.resume(), "binlog by GTIDs refused; falling back to file/pos");
                    self.gtid_start = None;
                    self.drop_connection();
                    continue;
                }
                Ok(Some(Err(source))) => {
                    let error = self.read_error(source).await;
                    if !is_retryable(&error) {
                        return Err(error);
                    }
                    tracing::warn!(%error, resume = %self.groups.resume(), "binlog stream broke; reconnecting");
                    self.drop_connection();
                    self.wait_backoff().await;
                    continue;
                }
                Ok(None) | Err(_) => {
                    tracing::warn!(resume = %self.groups.resume(), "binlog stream ended or went silent; reconnecting");
                    self.drop_connection();
                    self.wait_backoff().await;
                    continue;
                }
            };
            self.backoff = FIRST_BACKOFF;
            if let Some(live) = self.handle(event)? {
                // The GTID position delivered: later reconnects use file/pos.
                self.gtid_start = None;
                return Ok(live);
            }
        }
    }

    fn drop_connection(&mut self) {
        // A group cut off by the disconnect is re-read whole from its start.
        self.stream = None;
        self.groups.restart();
    }

    async fn wait_backoff(&mut self) {
        tokio::time::sleep(self.backoff).await;
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
    }

    async fn open(&mut self) -> Result<Connected> {
        let mut conn = connection::connect(&self.config).await?;
        let setup = |context: &'static str| {
            move |source| Error::Database {
                context: context.into(),
                source,
            }
        };
        if self.flavour == Flavour::MariaDb {
            // Capability 4 (GTID): real GTID events instead of BEGIN/dummy substitutes.
            conn.query_drop("SET @mariadb_slave_capability=4")
                .await
                .map_err(setup("announce MariaDB replica capabilities"))?;
        }
        conn.query_drop(format!(
            "SET @master_heartbeat_period={}",
            SERVER_HEARTBEAT.as_nanos()
        ))
        .await
        .map_err(setup("set the replication heartbeat period"))?;
        let resume = self.groups.resume().clone();
        let mut request = BinlogStreamRequest::new(self.config.server_id);
        if let Some(GtidStart::MySql(set)) = &self.gtid_start {
            // COM_BINLOG_DUMP_GTID: the server picks the file; no file name, position 4.
            request = request.with_gtid().with_gtid_set(dump_sids(set));
        } else if let Some(GtidStart::MariaDb(gtids)) = &self.gtid_start {
            // The server ignores the file/pos of the request once this is set.
            conn.query_drop(format!("SET @slave_connect_state='{gtids}'"))
                .await
                .map_err(setup("ask for the binlog by GTID position"))?;
            conn.query_drop("SET @slave_gtid_strict_mode=1")
                .await
                .map_err(setup("ask for GTID strict mode"))?;
        } else {
            request = request
                .with_filename(resume.file.as_bytes())
                .with_pos(resume.pos);
        }
        let stream = conn
            .get_binlog_stream(request)
            .await
            .map_err(|source| Error::Database {
                context: format!("request the binlog from {resume}"),
                source,
            })?;
        match &self.gtid_start {
            Some(gtids) => {
                tracing::info!(gtids = %gtids, "binlog stream opened at a GTID position")
            }
            None => tracing::info!(from = %resume, "binlog stream opened"),
        }
        Ok(Connected {
            stream,
            format_seen: false,
        })
    }

    /// Turns a stream error into ours; a purged position gets its own error.
    async fn read_error(&self, source: mysql_async::Error) -> Error {
        if let mysql_async::Error::Server(server) = &source
            && server.code == ER_MASTER_FATAL_ERROR_READING_BINLOG
        {
            let oldest = self
                .oldest_binlog()
                .await
                .unwrap_or_else(|| "unknown".into());
            return Error::BinlogPurged {
                position: self.groups.resume().to_string(),
                oldest,
            };
        }
        Error::Database {
            context: format!("read the binlog after {}", self.groups.resume()),
            source,
        }
    }

    async fn oldest_binlog(&self) -> Option<String> {
        let mut conn = connection::connect(&self.config).await.ok()?;
        let rows: Vec<mysql_async::Row> = conn.query("SHOW BINARY LOGS").await.ok()?;
        let _ = conn.disconnect().await;
        rows.first()?.get::<String, _>(0)
    }

    fn handle(&mut self, event: Event) -> Result<Option<LiveEvent>> {
        let header = event.header();
        let type_code = header.event_type_raw();
        let server_id = header.server_id();
        let timestamp = header.timestamp();
        match type_code {
            HEARTBEAT_TYPE => return Ok(None),
            FORMAT_DESCRIPTION_TYPE => {
                if let Some(connected) = self.stream.as_mut() {
                    connected.format_seen = true;
                }
                return Ok(None);
            }
            _ => {}
        }
        let span = self.groups.span(
            type_code,
            u64::from(header.event_size()),
            u64::from(header.log_pos()),
        );
        let position = || format!("{}:{}", self.groups.file(), span.start);
        let format_seen = self.stream.as_ref().is_some_and(|s| s.format_seen);

        let body = match type_code {
            ROTATE_TYPE if !format_seen => {
                // The rotate sent on connect comes before the format description, so the
                // reader has not stripped its checksum yet (mysql_async#189).
                let data = event.data();
                let mut name_end = data.len();
                if self.checksum_on {
                    name_end = name_end.saturating_sub(4);
                }
                let pos = data
                    .get(..8)
                    .map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()))
                    .unwrap_or(4);
                let name = String::from_utf8_lossy(data.get(8..name_end).unwrap_or_default());
                LiveBody::Rotate(BinlogPosition::new(name, pos))
            }
            mariadb::GTID_TYPE => {
                LiveBody::MariaGtid(mariadb::decode_gtid(event.data(), server_id).map_err(
                    |source| Error::MariaDbEvent {
                        position: position(),
                        source,
                    },
                )?)
            }
            mariadb::ANNOTATE_ROWS_TYPE => {
                LiveBody::RowsQuery(mariadb::decode_annotate_rows(event.data()))
            }
            mariadb::GTID_LIST_TYPE | mariadb::BINLOG_CHECKPOINT_TYPE => return Ok(None),
            _ => {
                let body = decode_body(&event, &self.tables, &position())?;
                if let EventBody::TableMap(map) = &body {
                    remember_table(&mut self.tables, &event, map, &position())?;
                }
                match LiveBody::from_binlog(body) {
                    Some(body) => body,
                    None => return Ok(None),
                }
            }
        };
        Ok(Some(self.groups.place(body, span, timestamp, server_id)))
    }
}

/// Whether reconnecting may help: lost connections do, refused logins and purged binlogs do not.
fn is_retryable(error: &Error) -> bool {
    match error {
        Error::Database { source, .. } => match source {
            mysql_async::Error::Server(server) => {
                !ER_ACCESS_DENIED.contains(&server.code)
                    && server.code != ER_MASTER_FATAL_ERROR_READING_BINLOG
            }
            mysql_async::Error::Io(_) | mysql_async::Error::Driver(_) => true,
            _ => false,
        },
        _ => false,
    }
}

/// Whether the server refused a GTID request because transactions outside the set were
/// purged (MySQL: error 1236, "... purged required binary logs ...").
fn gtids_purged(error: &mysql_async::Error) -> bool {
    matches!(error, mysql_async::Error::Server(server)
        if server.code == ER_MASTER_FATAL_ERROR_READING_BINLOG
            && server.message.to_ascii_lowercase().contains("purged"))
}

/// The SID block of COM_BINLOG_DUMP_GTID for `set`: each SID with its `[start, end)` ranges.
pub fn dump_sids(set: &GtidSet) -> Vec<mysql_common::packets::Sid<'static>> {
    set.sids
        .iter()
        .map(|sid| {
            mysql_common::packets::Sid::new(sid.sid.0).with_intervals(
                sid.ranges
                    .iter()
                    .map(|range| {
                        mysql_common::packets::GnoInterval::new(range.start, range.end_exclusive)
                    })
                    .collect(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use mysql_common::misc::raw::Either;
    use mysql_common::packets::binlog_request::BinlogRequest;
    use mysql_common::proto::MySerialize;

    use super::*;
    use crate::binlog::Sid;

    fn u32_at(bytes: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
    }

    fn u64_at(bytes: &[u8], at: usize) -> u64 {
        u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
    }

    /// The request a GTID resume sends, byte by byte, against the protocol's layout:
    /// command 0x1e, flags u16 (0x04 BINLOG_THROUGH_GTID), server_id u32, filename length
    /// u32 + name, position u64, data size u32, then the SID block in MySQL's binary GTID-set
    /// form (n_sids u64; per SID the 16-byte UUID, n_intervals u64, [start, end) u64 pairs) —
    /// the form PREVIOUS_GTIDS uses, so our PREVIOUS_GTIDS decoder must read it back.
    #[test]
    fn binlog_dump_gtid_request_bytes_follow_the_protocol() {
        let a = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
        let b = "76f3e7be-6720-11ed-9cad-0242ac110002";
        let set = GtidSet::parse(&format!("{b}:1-10,{a}:1-5:7")).unwrap();
        // The same request mysql_async builds for `BinlogStreamRequest::with_gtid()
        // .with_gtid_set(dump_sids(..))`: no file name, position 4.
        let request = BinlogRequest::new(5400)
            .with_use_gtid(true)
            .with_sids(dump_sids(&set));
        let Either::Right(command) = request.as_cmd() else {
            panic!("a GTID request must be COM_BINLOG_DUMP_GTID");
        };
        let mut bytes = Vec::new();
        command.serialize(&mut bytes);

        assert_eq!(bytes[0], 0x1e, "COM_BINLOG_DUMP_GTID");
        assert_eq!(
            u16::from_le_bytes([bytes[1], bytes[2]]),
            0x04,
            "BINLOG_THROUGH_GTID"
        );
        assert_eq!(u32_at(&bytes, 3), 5400, "server_id");
        assert_eq!(
            u32_at(&bytes, 7),
            0,
            "empty file name: the server picks the file"
        );
        assert_eq!(u64_at(&bytes, 11), 4, "position");
        let data_size = u32_at(&bytes, 19) as usize;
        let data = &bytes[23..];
        assert_eq!(
            data.len(),
            data_size,
            "data size covers the SID block exactly"
        );
        // n_sids, then SIDs in byte order (a < b), each with its intervals.
        let expected: Vec<u8> = [
            2u64.to_le_bytes().to_vec(),
            Sid::parse(a).unwrap().0.to_vec(),
            2u64.to_le_bytes().to_vec(),
            [1u64, 6, 7, 8]
                .iter()
                .flat_map(|n| n.to_le_bytes())
                .collect(),
            Sid::parse(b).unwrap().0.to_vec(),
            1u64.to_le_bytes().to_vec(),
            [1u64, 11].iter().flat_map(|n| n.to_le_bytes()).collect(),
        ]
        .concat();
        assert_eq!(data, expected.as_slice());
        assert_eq!(data_size, 8 + (16 + 8 + 2 * 16) + (16 + 8 + 16));
        assert_eq!(GtidSet::decode(data).unwrap(), set);
    }

    #[test]
    fn only_purge_errors_of_a_gtid_request_are_final() {
        let server = |code: u16, message: &str| {
            mysql_async::Error::Server(mysql_async::ServerError {
                code,
                message: message.into(),
                state: "HY000".into(),
            })
        };
        assert!(gtids_purged(&server(
            1236,
            "Cannot replicate because the source purged required binary logs."
        )));
        assert!(!gtids_purged(&server(
            1236,
            "Cannot replicate anonymous transaction when AUTO_POSITION = 1"
        )));
        assert!(!gtids_purged(&server(1045, "Access denied (purged)")));
    }
}
