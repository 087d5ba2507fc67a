//! Event groups in the order the server sends events: which group (transaction or
//! standalone DDL) each event belongs to, where that group starts, whether the event ends
//! it, and where a reconnect must start (a group boundary). The live client feeds it the
//! server's events; the same tracker placed over a binlog file gives the events the stream
//! would have seen (see the MySQL 8 fixture tests).
//!
//! Events unpacked from a TRANSACTION_PAYLOAD have no position of their own (`log_pos` 0);
//! they take the payload's, so the group after the payload's XID starts where the payload
//! ends.

use std::sync::Arc;

use super::client::{LiveBody, LiveEvent};
use super::mariadb::GroupKind;
use crate::binlog::EventBody;
use crate::offset::BinlogPosition;

/// TRANSACTION_PAYLOAD: the server sends it, then the events it holds.
const TRANSACTION_PAYLOAD_TYPE: u8 = 40;

#[derive(Debug, Clone, Copy)]
struct OpenGroup {
    start: u64,
    kind: GroupKind,
}

/// Where an event is in its binlog file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventSpan {
    pub start: u64,
    pub next: u64,
}

/// Assigns events to their groups and keeps the reconnect position at a group boundary.
#[derive(Debug, Clone)]
pub struct GroupTracker {
    file: Arc<str>,
    /// Where to ask the server to start after a reconnect: a group start or boundary.
    resume: BinlogPosition,
    group: Option<OpenGroup>,
    /// The span of the TRANSACTION_PAYLOAD whose inner events are arriving.
    payload: Option<EventSpan>,
}

impl GroupTracker {
    /// A tracker for a stream that starts at `from` (a group boundary).
    pub fn new(from: BinlogPosition) -> Self {
        Self {
            file: Arc::from(from.file.as_str()),
            resume: from,
            group: None,
            payload: None,
        }
    }

    /// The group boundary a reconnect starts from.
    pub fn resume(&self) -> &BinlogPosition {
        &self.resume
    }

    /// The binlog file events are coming from.
    pub fn file(&self) -> &Arc<str> {
        &self.file
    }

    /// After a disconnect: a group cut off is re-read whole from the resume position.
    pub fn restart(&mut self) {
        self.group = None;
        self.payload = None;
        self.file = Arc::from(self.resume.file.as_str());
    }

    /// Where an event with this header is: `log_pos` is where the next event starts; events
    /// inside a payload (`log_pos` 0) take the payload's span.
    pub fn span(&mut self, type_code: u8, event_size: u64, log_pos: u64) -> EventSpan {
        if log_pos == 0
            && let Some(payload) = self.payload
        {
            return payload;
        }
        let span = EventSpan {
            start: log_pos.saturating_sub(event_size),
            next: log_pos,
        };
        self.payload = (type_code == TRANSACTION_PAYLOAD_TYPE && log_pos > 0).then_some(span);
        span
    }

    /// Assigns the event to its group and moves the resume position past finished groups.
    pub fn place(
        &mut self,
        body: LiveBody,
        span: EventSpan,
        timestamp: u32,
        server_id: u32,
    ) -> LiveEvent {
        let EventSpan { start, next } = span;
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

impl LiveBody {
    /// The stream's view of a decoded binlog event; `None` for events it does not use
    /// (format description, the payload container, unknown types).
    pub fn from_binlog(body: EventBody) -> Option<Self> {
        Some(match body {
            EventBody::Rotate {
                next_file,
                position,
            } => LiveBody::Rotate(BinlogPosition::new(next_file, position)),
            EventBody::Gtid(gtid) => LiveBody::MySqlGtid(gtid),
            EventBody::PreviousGtids(set) => LiveBody::PreviousGtids(set),
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
            EventBody::TableMap(map) => LiveBody::TableMap(map),
            EventBody::Rows(rows) => LiveBody::Rows(rows),
            EventBody::FormatDescription { .. }
            | EventBody::TransactionPayload { .. }
            | EventBody::Other => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(text: &str) -> LiveBody {
        LiveBody::Query {
            thread_id: 1,
            schema: "db".into(),
            query: text.into(),
        }
    }

    #[test]
    fn payload_events_take_the_payload_span_and_move_the_resume_point_past_it() {
        let mut tracker = GroupTracker::new(BinlogPosition::new("mysql-bin.000057", 378));
        let gtid_span = tracker.span(33, 79, 457);
        let gtid = crate::binlog::GtidEvent {
            kind: crate::binlog::GtidKind::Assigned,
            gtid: crate::binlog::Gtid {
                sid: crate::binlog::Sid([1; 16]),
                gno: 12,
            },
            last_committed: 0,
            sequence_number: 0,
            immediate_commit_timestamp_us: 0,
            original_commit_timestamp_us: 0,
        };
        let placed = tracker.place(LiveBody::MySqlGtid(gtid), gtid_span, 0, 1);
        assert_eq!((placed.start, placed.group_start), (378, 378));
        let payload = tracker.span(TRANSACTION_PAYLOAD_TYPE, 194, 651);
        assert_eq!(
            payload,
            EventSpan {
                start: 457,
                next: 651
            }
        );
        let inner_begin = tracker.span(2, 50, 0);
        assert_eq!(inner_begin, payload);
        let begin = tracker.place(query("BEGIN"), inner_begin, 0, 1);
        assert!(!begin.ends_group);
        let xid_span = tracker.span(16, 31, 0);
        let xid = tracker.place(LiveBody::Xid, xid_span, 0, 1);
        assert!(xid.ends_group);
        assert_eq!(xid.group_start, 378);
        assert_eq!(
            tracker.resume(),
            &BinlogPosition::new("mysql-bin.000057", 651)
        );
        // The next top-level event ends the payload.
        assert_eq!(
            tracker.span(33, 79, 730),
            EventSpan {
                start: 651,
                next: 730
            }
        );
        assert_eq!(tracker.span(2, 10, 0), EventSpan { start: 0, next: 0 });
    }
}
