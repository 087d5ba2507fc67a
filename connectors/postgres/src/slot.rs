//! The logical replication slot: looking it up, creating it (with an exported snapshot when
//! a snapshot follows, so the snapshot and the stream meet exactly at the slot's consistent
//! point), dropping it.

use std::time::Duration;

use pgwire_replication::{ReplicationClient, ReplicationConfig};
use tokio_postgres::Client;

use crate::config::{PLUGIN, PostgresConfig};
use crate::connection::SESSION_OPTIONS;
use crate::error::{Error, Result};
use crate::lsn::Lsn;

/// What `pg_replication_slots` says about a slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotInfo {
    pub plugin: Option<String>,
    pub database: Option<String>,
    /// The pid of the walsender using it, if one does.
    pub active_pid: Option<i32>,
    pub confirmed_flush: Option<Lsn>,
}

/// A slot just created with an exported snapshot. The snapshot stays importable only while
/// `session` is open and idle, so keep it until the snapshot transaction has imported it.
#[derive(Debug)]
pub struct CreatedSlot {
    pub consistent_point: Lsn,
    pub snapshot_name: String,
    pub session: ReplicationSession,
}

/// The replication session that created a slot (opaque; drop it to end the session).
pub struct ReplicationSession(#[allow(dead_code)] ReplicationClient);

impl std::fmt::Debug for ReplicationSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReplicationSession")
    }
}

/// The slot named in `config`, if it exists.
pub async fn find_slot(client: &Client, config: &PostgresConfig) -> Result<Option<SlotInfo>> {
    let row = client
        .query_opt(
            "SELECT plugin::text, database::text, active_pid, confirmed_flush_lsn::text
             FROM pg_replication_slots WHERE slot_name = $1",
            &[&config.slot_name],
        )
        .await
        .map_err(|source| Error::postgres("look up the replication slot", source))?;
    let Some(row) = row else { return Ok(None) };
    let confirmed: Option<String> = row.get(3);
    Ok(Some(SlotInfo {
        plugin: row.get(0),
        database: row.get(1),
        active_pid: row.get(2),
        confirmed_flush: confirmed.and_then(|text| text.parse().ok()),
    }))
}

/// Checks that an existing slot can serve this connector.
pub fn check_slot(info: &SlotInfo, config: &PostgresConfig) -> Result<()> {
    if info.plugin.as_deref() != Some(PLUGIN) {
        return Err(Error::ServerSetup {
            problem: format!(
                "replication slot {:?} exists but uses plugin {:?}, not pgoutput",
                config.slot_name,
                info.plugin.as_deref().unwrap_or("(physical slot)")
            ),
            fix: format!(
                "choose another slot.name, or drop the slot with SELECT \
                 pg_drop_replication_slot('{}')",
                config.slot_name
            ),
        });
    }
    if info.database.as_deref() != Some(config.dbname.as_str()) {
        return Err(Error::ServerSetup {
            problem: format!(
                "replication slot {:?} belongs to database {:?}, not {:?}",
                config.slot_name,
                info.database.as_deref().unwrap_or("?"),
                config.dbname
            ),
            fix: "give each connector its own slot.name".into(),
        });
    }
    Ok(())
}

/// The replication-protocol configuration for `config`'s slot and publication.
pub async fn replication_config(config: &PostgresConfig) -> ReplicationConfig {
    let tls = crate::tls::replication_tls(&config.tls, &config.hostname, config.port).await;
    ReplicationConfig::new(
        config.hostname.clone(),
        config.user.clone(),
        config.password_text().to_string(),
        config.dbname.clone(),
        config.slot_name.clone(),
        config.publication_name.clone(),
    )
    .with_port(config.port)
    .with_options(SESSION_OPTIONS)
    .with_application_name(format!("sluice-{}", config.topic_prefix))
    .with_status_interval(config.status_interval)
    .with_wakeup_interval(Duration::from_secs(1))
    .with_tls(tls)
}

/// The error of a failed replication-protocol step, [`Error::Tls`] when TLS failed.
pub fn replication_failure(
    config: &PostgresConfig,
    context: &str,
    source: pgwire_replication::PgWireError,
) -> Error {
    if let pgwire_replication::PgWireError::Tls(reason) = &source {
        let reason = reason.clone();
        return Error::Tls {
            context: context.to_string(),
            mode: config.tls.mode,
            fix: crate::tls::fix_for(&config.tls, &config.hostname, &reason),
            reason,
            source: Box::new(source),
        };
    }
    Error::Replication {
        context: context.to_string(),
        source,
    }
}

fn replication_error(
    config: &PostgresConfig,
    context: &str,
) -> impl FnOnce(pgwire_replication::PgWireError) -> Error {
    move |source| replication_failure(config, context, source)
}

/// Creates the slot on a replication session and exports its snapshot.
pub async fn create_slot_with_snapshot(config: &PostgresConfig) -> Result<CreatedSlot> {
    let context = format!("create replication slot {:?}", config.slot_name);
    let mut session = ReplicationClient::connect_gated(replication_config(config).await)
        .await
        .map_err(replication_error(config, &context))?;
    let rows = session
        .simple_query(&format!(
            "CREATE_REPLICATION_SLOT {} LOGICAL {PLUGIN} EXPORT_SNAPSHOT",
            config.slot_name
        ))
        .await
        .map_err(replication_error(config, &context))?;
    // Columns: slot_name, consistent_point, snapshot_name, output_plugin.
    let row = rows.first().ok_or_else(|| Error::ServerSetup {
        problem: format!("{context}: the server answered without a row"),
        fix: "check the server log".into(),
    })?;
    let text = |index: usize| {
        row.get(index)
            .and_then(|cell| cell.as_ref())
            .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
    };
    let consistent_point: Lsn = text(1).unwrap_or_default().parse()?;
    let snapshot_name = text(2).ok_or_else(|| Error::ServerSetup {
        problem: format!("{context}: the server exported no snapshot"),
        fix: "use PostgreSQL 10 or newer".into(),
    })?;
    tracing::info!(slot = %config.slot_name, %consistent_point, %snapshot_name, "created replication slot");
    Ok(CreatedSlot {
        consistent_point,
        snapshot_name,
        session: ReplicationSession(session),
    })
}

/// Creates the slot without a snapshot; returns its consistent point.
pub async fn create_slot(client: &Client, config: &PostgresConfig) -> Result<Lsn> {
    let row = client
        .query_one(
            "SELECT lsn::text FROM pg_create_logical_replication_slot($1, 'pgoutput')",
            &[&config.slot_name],
        )
        .await
        .map_err(|source| {
            Error::postgres(
                format!("create replication slot {:?}", config.slot_name),
                source,
            )
        })?;
    row.get::<_, String>(0).parse()
}

/// Drops the slot, waiting up to `patience` for a walsender still holding it to let go.
pub async fn drop_slot(client: &Client, config: &PostgresConfig, patience: Duration) -> Result<()> {
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        let result = client
            .execute(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
                 WHERE slot_name = $1",
                &[&config.slot_name],
            )
            .await;
        match result {
            Ok(_) => return Ok(()),
            Err(source) => {
                let active = source
                    .as_db_error()
                    .is_some_and(|db| db.code().code() == "55006");
                if !active || tokio::time::Instant::now() >= deadline {
                    return Err(Error::postgres(
                        format!("drop replication slot {:?}", config.slot_name),
                        source,
                    ));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}
