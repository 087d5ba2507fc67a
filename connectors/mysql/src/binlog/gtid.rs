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
}
