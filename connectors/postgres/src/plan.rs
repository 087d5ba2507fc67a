//! Deciding where a starting task begins, from `snapshot.mode`, the stored offset and the
//! slot: take a (new or resumed) snapshot and then stream, or stream straight away — creating,
//! keeping or re-creating the slot as that needs.

use std::time::Duration;

use sluice_connect::api::{OffsetMap, SharedOffsetMap};
use tokio_postgres::Client;

use crate::config::{PostgresConfig, SnapshotMode};
use crate::error::{Error, Result};
use crate::lsn::Lsn;
use crate::offsets::{Resume, StreamPoint, snapshot_position};
use crate::slot::{self, ReplicationSession};
use crate::snapshot::SnapshotPlan;
use crate::stream::StreamStart;
use crate::tables::CapturedTable;

/// What the reader does.
#[derive(Debug)]
pub struct StartPlan {
    /// The snapshot to take first, with the slot session that must stay open until the
    /// snapshot transaction imported the exported snapshot.
    pub snapshot: Option<(SnapshotPlan, Option<ReplicationSession>)>,
    /// Where streaming begins; `None` for `initial_only` (stop after the snapshot).
    pub stream: Option<StreamStart>,
    /// What the slot is confirmed up to.
    pub confirmed: Lsn,
}

/// Plans the start. May drop and create the slot.
pub async fn plan_start(
    client: &Client,
    config: &PostgresConfig,
    tables: Vec<CapturedTable>,
    stored: Option<&OffsetMap>,
) -> Result<StartPlan> {
    let resume = stored.and_then(crate::offsets::parse);
    if stored.is_some() && resume.is_none() {
        tracing::warn!(
            ?stored,
            "the stored offset is not a PostgreSQL offset; starting afresh"
        );
    }
    let existing = slot::find_slot(client, config).await?;
    if let Some(info) = &existing {
        slot::check_slot(info, config)?;
    }
    let streams = config.snapshot_mode != SnapshotMode::InitialOnly;
    let snapshots = config.snapshot_mode != SnapshotMode::NoData;
    match resume {
        Some(Resume::Snapshot {
            slot_lsn,
            table,
            row,
            complete: false,
        }) if existing.is_some() && config.snapshot_mode != SnapshotMode::Always => {
            tracing::info!(%slot_lsn, table, row, "resuming the interrupted snapshot");
            let plan = SnapshotPlan {
                slot_lsn,
                snapshot_name: None,
                tables,
                resume_after: Some((table, row)),
            };
            Ok(StartPlan {
                snapshot: Some((plan, None)),
                stream: streams.then(|| StreamStart {
                    lsn: slot_lsn,
                    skip_through: None,
                    last_offset: stored.cloned().map(SharedOffsetMap::from),
                }),
                confirmed: slot_lsn,
            })
        }
        Some(Resume::Snapshot {
            slot_lsn,
            table,
            row,
            complete: true,
        }) if existing.is_some() && config.snapshot_mode != SnapshotMode::Always => Ok(StartPlan {
            snapshot: None,
            stream: streams.then(|| StreamStart {
                lsn: slot_lsn,
                skip_through: Some(snapshot_position(slot_lsn, table, row)),
                last_offset: stored.cloned().map(SharedOffsetMap::from),
            }),
            confirmed: slot_lsn,
        }),
        Some(Resume::Stream {
            commit,
            event_index,
            flushable,
        }) if existing.is_some() && config.snapshot_mode != SnapshotMode::Always => {
            let point = StreamPoint {
                commit,
                change_lsn: Lsn::INVALID,
                xid: 0,
                commit_micros: 0,
                event_index,
                flushable,
            };
            Ok(StartPlan {
                snapshot: None,
                stream: streams.then(|| StreamStart {
                    lsn: commit,
                    skip_through: Some(point.position()),
                    last_offset: stored.cloned().map(SharedOffsetMap::from),
                }),
                confirmed: flushable,
            })
        }
        Some(_) if existing.is_none() && config.snapshot_mode == SnapshotMode::WhenNeeded => {
            tracing::warn!("the slot is gone; taking a new snapshot (snapshot.mode=when_needed)");
            fresh_snapshot(client, config, tables, streams).await
        }
        Some(_) if existing.is_none() => Err(Error::ServerSetup {
            problem: format!(
                "an offset is stored but replication slot {:?} no longer exists, so the \
                 changes since then are lost",
                config.slot_name
            ),
            fix: "reset the connector's offsets (DELETE /connectors/<name>/offsets while \
                  stopped) to start with a new snapshot, or set snapshot.mode=when_needed"
                .into(),
        }),
        _ if snapshots => match existing {
            // The slot outlived the offsets: most likely a crash after the first snapshot
            // rows were written but before an offset was stored. Its exported snapshot is
            // gone, but it still stands at its consistent point: a snapshot read now,
            // numbered from that point, lets the runtime drop the rows already written, and
            // streaming from there loses nothing.
            Some(info) if config.snapshot_mode != SnapshotMode::Always => {
                let slot_lsn = info.confirmed_flush.unwrap_or_default();
                tracing::info!(%slot_lsn, "slot exists without stored offsets; snapshotting against it");
                Ok(StartPlan {
                    snapshot: Some((
                        SnapshotPlan {
                            slot_lsn,
                            snapshot_name: None,
                            tables,
                            resume_after: None,
                        },
                        None,
                    )),
                    stream: streams.then_some(StreamStart {
                        lsn: slot_lsn,
                        skip_through: None,
                        last_offset: None,
                    }),
                    confirmed: slot_lsn,
                })
            }
            _ => fresh_snapshot(client, config, tables, streams).await,
        },
        _ => {
            let confirmed = match existing {
                Some(info) => info.confirmed_flush.unwrap_or_default(),
                None => slot::create_slot(client, config).await?,
            };
            Ok(StartPlan {
                snapshot: None,
                stream: streams.then(|| StreamStart {
                    lsn: confirmed,
                    skip_through: None,
                    last_offset: stored.cloned().map(SharedOffsetMap::from),
                }),
                confirmed,
            })
        }
    }
}

async fn drop_slot(client: &Client, config: &PostgresConfig) -> Result<()> {
    tracing::info!(slot = %config.slot_name, "dropping the slot to take a snapshot consistent with a new one");
    slot::drop_slot(client, config, Duration::from_secs(30)).await
}

async fn fresh_snapshot(
    client: &Client,
    config: &PostgresConfig,
    tables: Vec<CapturedTable>,
    streams: bool,
) -> Result<StartPlan> {
    if slot::find_slot(client, config).await?.is_some() {
        drop_slot(client, config).await?;
    }
    let created = slot::create_slot_with_snapshot(config).await?;
    let slot_lsn = created.consistent_point;
    Ok(StartPlan {
        snapshot: Some((
            SnapshotPlan {
                slot_lsn,
                snapshot_name: Some(created.snapshot_name),
                tables,
                resume_after: None,
            },
            Some(created.session),
        )),
        stream: streams.then_some(StreamStart {
            lsn: slot_lsn,
            skip_through: None,
            last_offset: None,
        }),
        confirmed: slot_lsn,
    })
}
