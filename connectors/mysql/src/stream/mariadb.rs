//! MariaDB's own binlog events, which mysql_common does not decode: GTID (0xA2), GTID_LIST
//! (0xA3), BINLOG_CHECKPOINT (0xA1) and ANNOTATE_ROWS (0xA0), plus MariaDB GTIDs
//! (`domain-server-sequence`) and the GTID position (one GTID per domain).

use std::fmt;

/// ANNOTATE_ROWS: the statement behind the following rows events.
pub const ANNOTATE_ROWS_TYPE: u8 = 0xA0;
/// BINLOG_CHECKPOINT: names the oldest binlog file crash recovery still needs.
pub const BINLOG_CHECKPOINT_TYPE: u8 = 0xA1;
/// GTID: starts an event group (transaction or standalone DDL).
pub const GTID_TYPE: u8 = 0xA2;
/// GTID_LIST: the GTID position at the start of a binlog file.
pub const GTID_LIST_TYPE: u8 = 0xA3;

/// GTID flag: the group has no terminating COMMIT/XID (DDL and other standalone events).
const FL_STANDALONE: u8 = 1;
/// GTID flag: a commit id for group commit follows the flags.
const FL_GROUP_COMMIT_ID: u8 = 2;

/// One MariaDB GTID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MariaGtid {
    pub domain: u32,
    pub server_id: u32,
    pub sequence: u64,
}

impl fmt::Display for MariaGtid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", self.domain, self.server_id, self.sequence)
    }
}

impl MariaGtid {
    /// Parses `domain-server-sequence`.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().splitn(3, '-');
        Some(Self {
            domain: parts.next()?.parse().ok()?,
            server_id: parts.next()?.parse().ok()?,
            sequence: parts.next()?.parse().ok()?,
        })
    }
}

/// Whether an event group ends with COMMIT/XID or is a single standalone event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    Transaction,
    Standalone,
}

/// A decoded MariaDB GTID event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MariaGtidEvent {
    pub gtid: MariaGtid,
    pub kind: GroupKind,
}

/// Why a MariaDB event body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TruncatedEvent {
    pub event: &'static str,
    pub needed: usize,
    pub available: usize,
}

impl fmt::Display for TruncatedEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MariaDB {} event needs {} bytes, it has {}",
            self.event, self.needed, self.available
        )
    }
}

impl std::error::Error for TruncatedEvent {}

fn need(event: &'static str, body: &[u8], needed: usize) -> Result<(), TruncatedEvent> {
    if body.len() < needed {
        return Err(TruncatedEvent {
            event,
            needed,
            available: body.len(),
        });
    }
    Ok(())
}

fn u32_at(body: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([body[at], body[at + 1], body[at + 2], body[at + 3]])
}

fn u64_at(body: &[u8], at: usize) -> u64 {
    let mut bytes = [0; 8];
    bytes.copy_from_slice(&body[at..at + 8]);
    u64::from_le_bytes(bytes)
}

/// Decodes a GTID event body (checksum stripped); the server id comes from the header.
pub fn decode_gtid(body: &[u8], header_server_id: u32) -> Result<MariaGtidEvent, TruncatedEvent> {
    need("GTID", body, 13)?;
    let flags = body[12];
    if flags & FL_GROUP_COMMIT_ID != 0 {
        need("GTID", body, 21)?;
    }
    Ok(MariaGtidEvent {
        gtid: MariaGtid {
            domain: u32_at(body, 8),
            server_id: header_server_id,
            sequence: u64_at(body, 0),
        },
        kind: if flags & FL_STANDALONE != 0 {
            GroupKind::Standalone
        } else {
            GroupKind::Transaction
        },
    })
}

/// Decodes a GTID_LIST event body into its GTIDs.
pub fn decode_gtid_list(body: &[u8]) -> Result<Vec<MariaGtid>, TruncatedEvent> {
    need("GTID_LIST", body, 4)?;
    // The top 4 bits of the count are flags.
    let count = (u32_at(body, 0) & 0x0fff_ffff) as usize;
    need("GTID_LIST", body, 4 + count.saturating_mul(16))?;
    Ok((0..count)
        .map(|i| {
            let at = 4 + i * 16;
            MariaGtid {
                domain: u32_at(body, at),
                server_id: u32_at(body, at + 4),
                sequence: u64_at(body, at + 8),
            }
        })
        .collect())
}

/// The statement text of an ANNOTATE_ROWS event.
pub fn decode_annotate_rows(body: &[u8]) -> String {
    String::from_utf8_lossy(body).into_owned()
}

/// A MariaDB GTID position: the last GTID of each replication domain, as
/// `@@gtid_binlog_pos` prints it (`0-1-42,1-2-7`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GtidPosition {
    /// Sorted by domain; at most one GTID per domain.
    gtids: Vec<MariaGtid>,
}

impl GtidPosition {
    /// Parses a comma-separated GTID list; blank means empty.
    pub fn parse(text: &str) -> Option<Self> {
        let mut position = Self::default();
        for part in text.split(',').filter(|p| !p.trim().is_empty()) {
            position.advance(MariaGtid::parse(part)?);
        }
        Some(position)
    }

    /// Records that `gtid` was executed: it replaces its domain's previous GTID.
    pub fn advance(&mut self, gtid: MariaGtid) {
        match self.gtids.binary_search_by_key(&gtid.domain, |g| g.domain) {
            Ok(index) => self.gtids[index] = gtid,
            Err(index) => self.gtids.insert(index, gtid),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.gtids.is_empty()
    }
}

impl fmt::Display for GtidPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, gtid) in self.gtids.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{gtid}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gtid_event_with_and_without_commit_id() {
        let mut body = Vec::new();
        body.extend_from_slice(&42u64.to_le_bytes());
        body.extend_from_slice(&3u32.to_le_bytes());
        body.push(FL_STANDALONE);
        let event = decode_gtid(&body, 7).unwrap();
        assert_eq!(event.gtid.to_string(), "3-7-42");
        assert_eq!(event.kind, GroupKind::Standalone);

        body[12] = FL_GROUP_COMMIT_ID;
        assert!(
            decode_gtid(&body, 7).is_err(),
            "commit id announced but missing"
        );
        body.extend_from_slice(&9u64.to_le_bytes());
        assert_eq!(decode_gtid(&body, 7).unwrap().kind, GroupKind::Transaction);
    }

    #[test]
    fn gtid_list_ignores_flag_bits() {
        let mut body = Vec::new();
        body.extend_from_slice(&(0x1000_0002u32).to_le_bytes());
        for (domain, server, seq) in [(0u32, 1u32, 10u64), (2, 5, 77)] {
            body.extend_from_slice(&domain.to_le_bytes());
            body.extend_from_slice(&server.to_le_bytes());
            body.extend_from_slice(&seq.to_le_bytes());
        }
        let list = decode_gtid_list(&body).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].to_string(), "2-5-77");
        assert!(decode_gtid_list(&body[..20]).is_err());
    }

    #[test]
    fn positions_keep_one_gtid_per_domain() {
        let mut position = GtidPosition::parse("1-2-7, 0-1-41").unwrap();
        position.advance(MariaGtid::parse("0-1-42").unwrap());
        assert_eq!(position.to_string(), "0-1-42,1-2-7");
        assert!(GtidPosition::parse("").unwrap().is_empty());
        assert_eq!(GtidPosition::parse("x-1"), None);
    }
}
