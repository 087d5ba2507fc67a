//! The live binlog connection: registers as a replica, asks for the binlog from a position,
//! decodes each event (MariaDB's own events here, the rest through [`crate::binlog`]) and
//! annotates it with the event group (transaction or standalone DDL) it belongs to.
//! When the connection drops it reconnects with backoff from the start of the group in
//! progress, so a group is always read whole after its TABLE_MAP events.
//!
//! On MariaDB, the first connection asks for the binlog by GTID position when the stored
//! offset has one (`@slave_connect_state`, strict mode), so a resume does not depend on the
//! binlog file names; if the server refuses that position it falls back to file/pos. Later
//! reconnects use the file/pos tracked in this run.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use mysql_async::prelude::Queryable;
use mysql_async::{BinlogStream, BinlogStreamRequest};
use mysql_common::binlog::events::Event;

use super::mariadb::{self, GroupKind, GtidPosition, MariaGtidEvent};
use crate::binlog::decode::{KnownTables, decode_body, remember_table};
use crate::binlog::{EventBody, GtidEvent, TableMap};
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
    /// Where to ask the server to start after a reconnect: a group start or boundary.
    resume: BinlogPosition,
    file: Arc<str>,
    group: Option<OpenGroup>,
    tables: KnownTables,
    backoff: Duration,
    /// The GTID position to ask for on the first connection (MariaDB), until it delivered.
    gtid_start: Option<GtidPosition>,
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

#[derive(Debug, Clone, Copy)]
struct OpenGroup {
    start: u64,
    kind: GroupKind,
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
            file: Arc::from(from.file.as_str()),
            resume: from,
            group: None,
            tables: HashMap::new(),
            backoff: FIRST_BACKOFF,
            gtid_start: None,
        }
    }

    /// Starts from the GTID position `gtids` (the position before the group to resume) on
    /// MariaDB, with the file/pos given to [`Self::new`] as the fallback.
    pub fn with_gtid_start(mut self, gtids: Option<&str>) -> Self {
        self.gtid_start = gtids
            .filter(|_| self.flavour == Flavour::MariaDb)
            .and_then(GtidPosition::parse)
            .filter(|position| !position.is_empty());
        self
    }

    /// The next event worth handing on; reconnects on connection loss. Errors are final.
    pub async fn next_event(&mut self) -> Result<LiveEvent> {
        loop {
            if self.stream.is_none() {
                match self.open().await {
                    Ok(connected) => self.stream = Some(connected),
                    Err(error) if is_retryable(&error) => {
                        tracing::warn!(%error, resume = %self.resume, "binlog connection failed; retrying");
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
                    // The server refused the GTID position (e.g. not in its binlog).
                    tracing::warn!(error = %source, resume = %self.resume, "binlog by GTID position refused; falling back to file/pos");
                    self.gtid_start = None;
                    self.drop_connection();
                    continue;
                }
                Ok(Some(Err(source))) => {
                    let error = self.read_error(source).await;
                    if !is_retryable(&error) {
                        return Err(error);
                    }
                    tracing::warn!(%error, resume = %self.resume, "binlog stream broke; reconnecting");
                    self.drop_connection();
                    self.wait_backoff().await;
                    continue;
                }
                Ok(None) | Err(_) => {
                    tracing::warn!(resume = %self.resume, "binlog stream ended or went silent; reconnecting");
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
        self.group = None;
        self.file = Arc::from(self.resume.file.as_str());
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
        let mut request = BinlogStreamRequest::new(self.config.server_id);
        if let Some(gtids) = &self.gtid_start {
            // The server ignores the file/pos of the request once this is set.
            conn.query_drop(format!("SET @slave_connect_state='{gtids}'"))
                .await
                .map_err(setup("ask for the binlog by GTID position"))?;
            conn.query_drop("SET @slave_gtid_strict_mode=1")
                .await
                .map_err(setup("ask for GTID strict mode"))?;
        } else {
            request = request
                .with_filename(self.resume.file.as_bytes())
                .with_pos(self.resume.pos);
        }
        let stream = conn
            .get_binlog_stream(request)
            .await
            .map_err(|source| Error::Database {
                context: format!("request the binlog from {}", self.resume),
                source,
            })?;
        match &self.gtid_start {
            Some(gtids) => {
                tracing::info!(gtids = %gtids, "binlog stream opened at a GTID position")
            }
            None => tracing::info!(from = %self.resume, "binlog stream opened"),
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
                position: self.resume.to_string(),
                oldest,
            };
        }
        Error::Database {
            context: format!("read the binlog after {}", self.resume),
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
        let size = u64::from(header.event_size());
        let next = u64::from(header.log_pos());
        let start = next.saturating_sub(size);
        let server_id = header.server_id();
        let timestamp = header.timestamp();
        let position = || format!("{}:{start}", self.file);
        let format_seen = self.stream.as_ref().is_some_and(|s| s.format_seen);

        let body = match type_code {
            HEARTBEAT_TYPE => return Ok(None),
            FORMAT_DESCRIPTION_TYPE => {
                if let Some(connected) = self.stream.as_mut() {
                    connected.format_seen = true;
                }
                return Ok(None);
            }
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
            _ => match decode_body(&event, &self.tables, &position())? {
                EventBody::Rotate {
                    next_file,
                    position,
                } => LiveBody::Rotate(BinlogPosition::new(next_file, position)),
                EventBody::Gtid(gtid) => LiveBody::MySqlGtid(gtid),
                EventBody::Query {
                    thread_id,
                    schema,
                    query,
                } => LiveBody::Query {
                    thread_id,
                    schema,
                    query,
                },
                EventBody::RowsQuery { query } => LiveBody::RowsQuery(query),
                EventBody::Xid(_) => LiveBody::Xid,
                EventBody::TableMap(map) => {
                    remember_table(&mut self.tables, &event, &map, &position())?;
                    LiveBody::TableMap(map)
                }
                EventBody::Rows(rows) => LiveBody::Rows(rows),
                _ => return Ok(None),
            },
        };
        Ok(Some(self.place(body, start, next, timestamp, server_id)))
    }

    /// Assigns the event to its group and moves the resume position past finished groups.
    fn place(
        &mut self,
        body: LiveBody,
        start: u64,
        next: u64,
        timestamp: u32,
        server_id: u32,
    ) -> LiveEvent {
        let mut ends_group = false;
        match &body {
            LiveBody::Rotate(to) => {
                self.file = Arc::from(to.file.as_str());
                if self.group.is_none() {
                    self.resume = to.clone();
                }
            }
            LiveBody::MariaGtid(gtid) => {
                self.group = Some(OpenGroup {
                    start,
                    kind: gtid.kind,
                });
            }
            LiveBody::MySqlGtid(_) => {
                self.group = Some(OpenGroup {
                    start,
                    kind: GroupKind::Transaction,
                });
            }
            LiveBody::Xid => ends_group = true,
            LiveBody::Query { query, .. } => {
                let begin = query.trim().eq_ignore_ascii_case("BEGIN");
                ends_group = !begin;
            }
            _ => {}
        }
        let group_start = match self.group {
            Some(group) => group.start,
            None => start,
        };
        if self.group.is_some_and(|g| g.kind == GroupKind::Standalone)
            && matches!(body, LiveBody::Query { .. })
        {
            ends_group = true;
        }
        if ends_group {
            self.group = None;
            if next > 0 {
                self.resume = BinlogPosition::new(self.file.to_string(), next);
            }
        }
        LiveEvent {
            file: self.file.clone(),
            start,
            next,
            timestamp,
            server_id,
            group_start,
            ends_group,
            body,
        }
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
