//! MySQL GTIDs: the 16-byte source id (SID), single GTIDs and GTID sets, formatted the way
//! MySQL prints them (`3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7`).

use std::fmt;

/// A server's UUID as it appears in GTIDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sid(pub [u8; 16]);

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

/// One transaction's global id: source id and sequence number (GNO).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Gtid {
    pub sid: Sid,
    pub gno: u64,
}

impl fmt::Display for Gtid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.sid, self.gno)
    }
}

/// A range of GNOs, `start..end` with `end` exclusive as the binlog stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GnoRange {
    pub start: u64,
    pub end_exclusive: u64,
}

impl fmt::Display for GnoRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let last = self.end_exclusive.saturating_sub(1);
        if last <= self.start {
            write!(f, "{}", self.start)
        } else {
            write!(f, "{}-{last}", self.start)
        }
    }
}

/// The GNO ranges executed for one source id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SidRanges {
    pub sid: Sid,
    pub ranges: Vec<GnoRange>,
}

/// A set of GTIDs (e.g. the content of a PREVIOUS_GTIDS event); empty when the server had
/// executed no GTID transaction before the file began.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GtidSet {
    pub sids: Vec<SidRanges>,
}

impl GtidSet {
    /// True when the set holds no GTID.
    pub fn is_empty(&self) -> bool {
        self.sids.iter().all(|s| s.ranges.is_empty())
    }
}

impl fmt::Display for GtidSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, sid) in self.sids.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}", sid.sid)?;
            for range in &sid.ranges {
                write!(f, ":{range}")?;
            }
        }
        Ok(())
    }
}

/// Why a PREVIOUS_GTIDS body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GtidSetDecodeError {
    /// The body ends before the counts it announces.
    Truncated { needed: usize, available: usize },
    /// MySQL 8.3+ tagged GTID sets (format byte 1) are not decoded yet.
    TaggedFormat,
}

impl fmt::Display for GtidSetDecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { needed, available } => {
                write!(
                    f,
                    "GTID set needs {needed} bytes, the event has {available}"
                )
            }
            Self::TaggedFormat => {
                f.write_str("tagged GTID sets (MySQL 8.3+) are not supported yet")
            }
        }
    }
}

impl std::error::Error for GtidSetDecodeError {}

fn take<'a>(buf: &mut &'a [u8], n: usize, total: usize) -> Result<&'a [u8], GtidSetDecodeError> {
    if buf.len() < n {
        return Err(GtidSetDecodeError::Truncated {
            needed: (total - buf.len()).saturating_add(n),
            available: total,
        });
    }
    let (head, rest) = buf.split_at(n);
    *buf = rest;
    Ok(head)
}

fn u64_le(bytes: &[u8]) -> u64 {
    let mut le = [0u8; 8];
    le.copy_from_slice(bytes);
    u64::from_le_bytes(le)
}

impl GtidSet {
    /// Decodes the binary GTID set of a PREVIOUS_GTIDS event: `n_sids: u64`, then per SID the
    /// 16-byte UUID, `n_intervals: u64` and `[start, end)` pairs of u64. Counts are checked
    /// against the bytes present before anything is allocated.
    pub fn decode(body: &[u8]) -> Result<Self, GtidSetDecodeError> {
        let total = body.len();
        let mut buf = body;
        let n_sids = u64_le(take(&mut buf, 8, total)?);
        if n_sids >> 56 != 0 {
            return Err(GtidSetDecodeError::TaggedFormat);
        }
        let mut sids = Vec::new();
        for _ in 0..n_sids {
            let mut sid = [0u8; 16];
            sid.copy_from_slice(take(&mut buf, 16, total)?);
            let n_ranges = u64_le(take(&mut buf, 8, total)?);
            let range_bytes = usize::try_from(n_ranges)
                .ok()
                .and_then(|n| n.checked_mul(16))
                .unwrap_or(usize::MAX);
            let mut ranges_buf = take(&mut buf, range_bytes, total)?;
            let mut ranges = Vec::with_capacity(ranges_buf.len() / 16);
            while let Some((pair, rest)) = ranges_buf.split_first_chunk::<16>() {
                ranges.push(GnoRange {
                    start: u64_le(&pair[..8]),
                    end_exclusive: u64_le(&pair[8..]),
                });
                ranges_buf = rest;
            }
            sids.push(SidRanges {
                sid: Sid(sid),
                ranges,
            });
        }
        Ok(GtidSet { sids })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SID: Sid = Sid([
        0x76, 0xf3, 0xe7, 0xbe, 0x67, 0x20, 0x11, 0xed, 0x9c, 0xad, 0x02, 0x42, 0xac, 0x11, 0x00,
        0x02,
    ]);

    #[test]
    fn sid_and_gtid_format_like_mysql() {
        assert_eq!(SID.to_string(), "76f3e7be-6720-11ed-9cad-0242ac110002");
        let gtid = Gtid { sid: SID, gno: 11 };
        assert_eq!(gtid.to_string(), "76f3e7be-6720-11ed-9cad-0242ac110002:11");
    }

    #[test]
    fn gtid_set_prints_inclusive_ranges_and_single_gnos() {
        let set = GtidSet {
            sids: vec![SidRanges {
                sid: SID,
                ranges: vec![
                    GnoRange {
                        start: 1,
                        end_exclusive: 11,
                    },
                    GnoRange {
                        start: 15,
                        end_exclusive: 16,
                    },
                ],
            }],
        };
        assert_eq!(
            set.to_string(),
            "76f3e7be-6720-11ed-9cad-0242ac110002:1-10:15"
        );
        assert!(!set.is_empty());
        assert!(GtidSet::default().is_empty());
        assert_eq!(GtidSet::default().to_string(), "");
    }

    #[test]
    fn decodes_binary_gtid_sets_and_rejects_lying_counts() {
        let mut body = 1u64.to_le_bytes().to_vec();
        body.extend_from_slice(&SID.0);
        body.extend_from_slice(&1u64.to_le_bytes());
        body.extend_from_slice(&1u64.to_le_bytes());
        body.extend_from_slice(&11u64.to_le_bytes());
        let set = GtidSet::decode(&body).expect("decode");
        assert_eq!(set.to_string(), "76f3e7be-6720-11ed-9cad-0242ac110002:1-10");
        assert_eq!(GtidSet::decode(&0u64.to_le_bytes()), Ok(GtidSet::default()));
        body[24..32].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(
            GtidSet::decode(&body),
            Err(GtidSetDecodeError::Truncated { .. })
        ));
        assert!(matches!(
            GtidSet::decode(&[1, 0, 0]),
            Err(GtidSetDecodeError::Truncated { .. })
        ));
        let tagged = [0, 0, 0, 0, 0, 0, 0, 1];
        assert_eq!(
            GtidSet::decode(&tagged),
            Err(GtidSetDecodeError::TaggedFormat)
        );
    }
}
