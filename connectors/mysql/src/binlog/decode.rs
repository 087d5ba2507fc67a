//! Turns one framed event into an [`EventBody`]. Event content parsing is delegated to
//! mysql_common's binlog structs; this module maps them onto our owned model and decodes row
//! images against our [`TableMap`]s.

use std::collections::HashMap;

use mysql_common::binlog::consts::BinlogChecksumAlg;
use mysql_common::binlog::events::{Event, EventData, RowsEventData, TableMapEvent};
use mysql_common::io::ParseBuf;

use super::event::{
    ChecksumAlgorithm, EventBody, GtidEvent, GtidKind, RowChange, RowsEvent, RowsKind,
};
use super::gtid::{Gtid, GtidSet, Sid};

use super::framing::TRANSACTION_PAYLOAD_TYPE;
use super::payload::TransactionPayload;

const PREVIOUS_GTIDS_TYPE: u8 = 35;
use super::row_image::{ImageColumns, RowLayout, decode_image};
use super::table::TableMap;
use crate::error::{Error, Result};

/// The TABLE_MAPs seen so far, by table id: how to decode the table's row images, and our
/// description of it.
pub(crate) type KnownTables = HashMap<u64, (RowLayout, TableMap)>;

/// Remembers the TABLE_MAP `event` (already decoded into `map`) for the rows events after it.
pub(crate) fn remember_table(
    tables: &mut KnownTables,
    event: &Event,
    map: &TableMap,
    position: &str,
) -> Result<()> {
    let layout = event
        .read_event::<TableMapEvent<'_>>()
        .and_then(|raw| RowLayout::from_event(&raw))
        .map_err(|source| decode_error(position, source))?;
    tables.insert(map.table_id, (layout, map.clone()));
    Ok(())
}

fn decode_error(position: &str, source: std::io::Error) -> Error {
    Error::Decode {
        context: position.to_owned(),
        source,
    }
}

fn gtid_event(event: &mysql_common::binlog::events::GtidEvent, kind: GtidKind) -> GtidEvent {
    GtidEvent {
        kind,
        gtid: Gtid {
            sid: Sid(event.sid()),
            gno: event.gno(),
        },
        last_committed: event.last_committed(),
        sequence_number: event.sequence_number(),
        immediate_commit_timestamp_us: event.immediate_commit_timestamp(),
        original_commit_timestamp_us: event.original_commit_timestamp(),
    }
}

/// Decodes the body of `event`; `tables` holds the TABLE_MAPs seen so far (raw and ours).
pub(crate) fn decode_body(
    event: &Event,
    tables: &KnownTables,
    position: &str,
) -> Result<EventBody> {
    if event.header().event_type_raw() == PREVIOUS_GTIDS_TYPE {
        // Ours: mysql_common trusts the SID count and can attempt huge allocations.
        return GtidSet::decode(event.data())
            .map(EventBody::PreviousGtids)
            .map_err(|e| {
                decode_error(
                    position,
                    std::io::Error::new(std::io::ErrorKind::InvalidData, e),
                )
            });
    }
    if event.header().event_type_raw() == TRANSACTION_PAYLOAD_TYPE {
        let payload = TransactionPayload::parse(event.data())
            .map_err(|e| decode_error(position, std::io::Error::other(e)))?;
        return Ok(EventBody::TransactionPayload {
            compressed_size: payload.payload.len() as u64,
            uncompressed_size: payload.uncompressed_size,
        });
    }
    let Some(data) = event.read_data().map_err(|e| decode_error(position, e))? else {
        return Ok(EventBody::Other);
    };
    Ok(match data {
        EventData::FormatDescriptionEvent(fde) => EventBody::FormatDescription {
            // The field is NUL-padded to 50 bytes.
            server_version: fde.server_version().trim_end_matches('\0').to_owned(),
            checksum: match event.footer().get_checksum_alg() {
                Ok(Some(BinlogChecksumAlg::BINLOG_CHECKSUM_ALG_CRC32)) => ChecksumAlgorithm::Crc32,
                _ => ChecksumAlgorithm::None,
            },
        },
        EventData::RotateEvent(rotate) => EventBody::Rotate {
            next_file: rotate.name().into_owned(),
            position: rotate.position(),
        },
        EventData::GtidEvent(gtid) => EventBody::Gtid(gtid_event(&gtid, GtidKind::Assigned)),
        EventData::AnonymousGtidEvent(gtid) => {
            EventBody::Gtid(gtid_event(&gtid.0, GtidKind::Anonymous))
        }
        EventData::QueryEvent(query) => EventBody::Query {
            thread_id: query.thread_id(),
            schema: query.schema().into_owned(),
            query: query.query().into_owned(),
        },
        EventData::RowsQueryEvent(query) => EventBody::RowsQuery {
            query: query.query().into_owned(),
        },
        EventData::XidEvent(xid) => EventBody::Xid(xid.xid),
        EventData::TableMapEvent(table) => EventBody::TableMap(TableMap::from_event(&table)?),
        EventData::RowsEvent(rows) => EventBody::Rows(decode_rows(&rows, tables, position)?),
        _ => EventBody::Other,
    })
}

fn decode_rows(
    rows: &RowsEventData<'_>,
    tables: &KnownTables,
    position: &str,
) -> Result<RowsEvent> {
    let kind = match rows {
        RowsEventData::WriteRowsEvent(_) | RowsEventData::WriteRowsEventV1(_) => RowsKind::Insert,
        RowsEventData::UpdateRowsEvent(_) | RowsEventData::UpdateRowsEventV1(_) => RowsKind::Update,
        RowsEventData::PartialUpdateRowsEvent(_) => RowsKind::PartialUpdate,
        RowsEventData::DeleteRowsEvent(_) | RowsEventData::DeleteRowsEventV1(_) => RowsKind::Delete,
    };
    let table_id = rows.table_id();
    let Some((layout, map)) = tables.get(&table_id) else {
        return Err(Error::MissingTableMap {
            table_id,
            position: position.to_owned(),
        });
    };
    if rows.num_columns() != map.columns.len() as u64 || layout.column_count() != map.columns.len()
    {
        return Err(decode_error(
            position,
            std::io::Error::other(format!(
                "rows event has {} columns but the TABLE_MAP of {}.{} has {}",
                rows.num_columns(),
                map.schema,
                map.table,
                map.columns.len()
            )),
        ));
    }
    let before_columns = rows
        .columns_before_image()
        .map(|bits| ImageColumns::new(bits.iter().map(|bit| *bit).collect()));
    let after_columns = rows
        .columns_after_image()
        .map(|bits| ImageColumns::new(bits.iter().map(|bit| *bit).collect()));
    let shared_after = kind == RowsKind::PartialUpdate;
    let mut data = ParseBuf(rows.rows_data());
    let mut changes = Vec::new();
    while !data.is_empty() {
        let before = before_columns
            .as_ref()
            .map(|columns| decode_image(&mut data, columns, false, layout, map, position))
            .transpose()?;
        let after = after_columns
            .as_ref()
            .map(|columns| decode_image(&mut data, columns, shared_after, layout, map, position))
            .transpose()?;
        if before.is_none() && after.is_none() {
            break;
        }
        changes.push(RowChange { before, after });
    }
    Ok(RowsEvent {
        kind,
        table_id,
        schema: map.schema.clone(),
        table: map.table.clone(),
        rows: changes,
    })
}
