//! Turns one framed event into an [`EventBody`]. Event content parsing is delegated to
//! mysql_common's binlog structs; this module maps them onto our owned model and decodes row
//! images against our [`TableMap`]s.

use std::collections::HashMap;

use mysql_common::binlog::consts::BinlogChecksumAlg;
use mysql_common::binlog::events::{Event, EventData, RowsEventData, TableMapEvent};
use mysql_common::binlog::row::BinlogRow;

use super::cell::Cell;
use super::event::{
    ChecksumAlgorithm, EventBody, GtidEvent, GtidKind, RowChange, RowsEvent, RowsKind,
};
use super::gtid::{Gtid, GtidSet, Sid};

use super::framing::TRANSACTION_PAYLOAD_TYPE;
use super::payload::TransactionPayload;

const PREVIOUS_GTIDS_TYPE: u8 = 35;
use super::table::TableMap;
use crate::error::{Error, Result};

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
    tables: &HashMap<u64, (TableMapEvent<'static>, TableMap)>,
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
    tables: &HashMap<u64, (TableMapEvent<'static>, TableMap)>,
    position: &str,
) -> Result<RowsEvent> {
    let kind = match rows {
        RowsEventData::WriteRowsEvent(_) | RowsEventData::WriteRowsEventV1(_) => RowsKind::Insert,
        RowsEventData::UpdateRowsEvent(_) | RowsEventData::UpdateRowsEventV1(_) => RowsKind::Update,
        RowsEventData::PartialUpdateRowsEvent(_) => RowsKind::PartialUpdate,
        RowsEventData::DeleteRowsEvent(_) | RowsEventData::DeleteRowsEventV1(_) => RowsKind::Delete,
    };
    let table_id = rows.table_id();
    let Some((raw_map, map)) = tables.get(&table_id) else {
        return Err(Error::MissingTableMap {
            table_id,
            position: position.to_owned(),
        });
    };
    if rows.num_columns() != map.columns.len() as u64 {
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
    let mut changes = Vec::new();
    for row in rows.rows(raw_map) {
        let (before, after) = row.map_err(|e| decode_error(position, e))?;
        let before_bits = rows.columns_before_image();
        let after_bits = rows.columns_after_image();
        let before = before
            .map(|r| {
                image(
                    r,
                    |i| before_bits.is_none_or(|b| b.get(i).is_some_and(|x| *x)),
                    map,
                )
            })
            .transpose()?;
        let after = after
            .map(|r| {
                image(
                    r,
                    |i| after_bits.is_none_or(|b| b.get(i).is_some_and(|x| *x)),
                    map,
                )
            })
            .transpose()?;
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

/// Spreads the values of the columns present in the image over all table columns.
fn image(mut row: BinlogRow, present: impl Fn(usize) -> bool, map: &TableMap) -> Result<Vec<Cell>> {
    let mut next_value = 0;
    let mut cells = Vec::with_capacity(map.columns.len());
    for (index, column) in map.columns.iter().enumerate() {
        if present(index) {
            cells.push(Cell::from_binlog(row.take(next_value), column)?);
            next_value += 1;
        } else {
            cells.push(Cell::Absent);
        }
    }
    Ok(cells)
}
