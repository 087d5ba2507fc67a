//! MySQL GTID sets as the stream tracks them: MySQL's text form (`@@gtid_executed`,
//! `uuid:1-5:7,uuid2:1-3`) read and written, one GTID added with interval merging, union
//! (a PREVIOUS_GTIDS event into the tracked set) and containment.
//!
//! A set built by these operations is normalised the way MySQL prints it: SIDs in byte order,
//! each with sorted, disjoint, non-adjacent, non-empty ranges — so equal sets print equally.

use std::fmt;

use super::gtid::{GnoRange, Gtid, GtidSet, Sid, SidRanges};

/// Why a GTID set text could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GtidSetParseError {
    pub text: String,
    pub reason: String,
}

impl fmt::Display for GtidSetParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a MySQL GTID set (expected uuid:1-5:7,uuid2:3 as @@gtid_executed \
             prints it): {}",
            self.text, self.reason
        )
    }
}

impl std::error::Error for GtidSetParseError {}

impl Sid {
    /// Parses a server UUID, with or without dashes.
    pub fn parse(text: &str) -> Option<Self> {
        let hex: Vec<u8> = text.bytes().filter(|b| *b != b'-').collect();
        if hex.len() != 32 || text.len() != 32 && text.len() != 36 {
            return None;
        }
        let mut sid = [0u8; 16];
        for (byte, pair) in sid.iter_mut().zip(hex.chunks_exact(2)) {
            let digits = std::str::from_utf8(pair).ok()?;
            *byte = u8::from_str_radix(digits, 16).ok()?;
        }
        Some(Self(sid))
    }
}

impl GtidSet {
    /// Parses MySQL's text form; blank means the empty set. Whitespace and line breaks (as in
    /// `SHOW MASTER STATUS`) are ignored; a SID may appear more than once.
    pub fn parse(text: &str) -> Result<Self, GtidSetParseError> {
        let error = |reason: String| GtidSetParseError {
            text: text.to_owned(),
            reason,
        };
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let mut set = Self::default();
        for part in compact.split(',').filter(|p| !p.is_empty()) {
            let mut fields = part.split(':');
            let uuid = fields.next().unwrap_or_default();
            let sid =
                Sid::parse(uuid).ok_or_else(|| error(format!("{uuid:?} is not a server UUID")))?;
            let mut any = false;
            for range in fields {
                any = true;
                let (start, last) = match range.split_once('-') {
                    Some((start, last)) => (start, last),
                    None => (range, range),
                };
                let number = |n: &str| {
                    n.parse::<u64>().ok().filter(|n| (1..u64::MAX).contains(n)).ok_or_else(|| {
                        if n.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
                            error(format!(
                                "{n:?} looks like a GTID tag (MySQL 8.3+), which is not supported"
                            ))
                        } else {
                            error(format!("{n:?} is not a transaction number (1 or more)"))
                        }
                    })
                };
                let (start, last) = (number(start)?, number(last)?);
                if last < start {
                    return Err(error(format!("the range {range} ends before it starts")));
                }
                set.add_range(sid, start, last + 1);
            }
            if !any {
                return Err(error(format!("{uuid} has no transaction numbers")));
            }
        }
        Ok(set)
    }

    /// Adds one GTID, merging it with the ranges it touches.
    pub fn add(&mut self, gtid: Gtid) {
        self.add_range(gtid.sid, gtid.gno, gtid.gno.saturating_add(1));
    }

    /// Adds every GTID of `other`.
    pub fn union(&mut self, other: &GtidSet) {
        for sid in &other.sids {
            for range in &sid.ranges {
                self.add_range(sid.sid, range.start, range.end_exclusive);
            }
        }
    }

    /// Whether `gtid` is in the set.
    pub fn contains(&self, gtid: Gtid) -> bool {
        let Ok(index) = self.sids.binary_search_by_key(&gtid.sid, |s| s.sid) else {
            return false;
        };
        let ranges = &self.sids[index].ranges;
        // The first range ending after `gno` is the only one that can hold it.
        let at = ranges.partition_point(|r| r.end_exclusive <= gtid.gno);
        ranges.get(at).is_some_and(|r| r.start <= gtid.gno)
    }

    /// Adds `start..end_exclusive` of `sid`; an empty range adds nothing.
    pub fn add_range(&mut self, sid: Sid, start: u64, end_exclusive: u64) {
        if start >= end_exclusive {
            return;
        }
        let index = match self.sids.binary_search_by_key(&sid, |s| s.sid) {
            Ok(index) => index,
            Err(index) => {
                self.sids.insert(
                    index,
                    SidRanges {
                        sid,
                        ranges: Vec::new(),
                    },
                );
                index
            }
        };
        let ranges = &mut self.sids[index].ranges;
        // Ranges overlapping or adjacent to the new one: first..last, all merged into one.
        let first = ranges.partition_point(|r| r.end_exclusive < start);
        let last = ranges.partition_point(|r| r.start <= end_exclusive);
        let merged = GnoRange {
            start: ranges.get(first).map_or(start, |r| r.start.min(start)),
            end_exclusive: ranges[first..last]
                .last()
                .map_or(end_exclusive, |r| r.end_exclusive.max(end_exclusive)),
        };
        ranges.splice(first..last, [merged]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const A: &str = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    const B: &str = "76f3e7be-6720-11ed-9cad-0242ac110002";

    fn gtid(sid: &str, gno: u64) -> Gtid {
        Gtid {
            sid: Sid::parse(sid).unwrap(),
            gno,
        }
    }

    #[test]
    fn parses_what_mysql_prints_and_prints_it_back() {
        let text = format!("{A}:1-5:7,\n{B}:1-3");
        let set = GtidSet::parse(&text).unwrap();
        assert_eq!(set.to_string(), format!("{A}:1-5:7,{B}:1-3"));
        assert!(set.contains(gtid(A, 5)) && set.contains(gtid(A, 7)));
        assert!(!set.contains(gtid(A, 6)) && !set.contains(gtid(B, 4)));
        assert!(GtidSet::parse("  ").unwrap().is_empty());
        // Out of order, overlapping and repeated parts normalise; uppercase hex is accepted.
        let messy = format!("{B}:3:1-2,{}:7:2-4:1,{A}:5", A.to_uppercase());
        assert_eq!(GtidSet::parse(&messy).unwrap(), set);
    }

    #[test]
    fn bad_text_says_what_is_wrong() {
        for (text, says) in [
            ("nope:1-3".to_owned(), "not a server UUID"),
            (format!("{A}:5-3"), "ends before it starts"),
            (format!("{A}:0"), "transaction number"),
            (A.to_owned(), "no transaction numbers"),
            (format!("{A}:tag:1-3"), "GTID tag"),
        ] {
            let error = GtidSet::parse(&text).unwrap_err().to_string();
            assert!(error.contains(says), "{text}: {error}");
        }
    }

    #[test]
    fn adding_merges_neighbours() {
        let mut set = GtidSet::parse(&format!("{A}:1-3:5-6:9")).unwrap();
        set.add(gtid(A, 4));
        assert_eq!(set.to_string(), format!("{A}:1-6:9"));
        set.add(gtid(A, 8));
        set.add(gtid(A, 8));
        assert_eq!(set.to_string(), format!("{A}:1-6:8-9"));
        set.add(gtid(B, 2));
        set.add(gtid(A, 7));
        assert_eq!(set.to_string(), format!("{A}:1-9,{B}:2"));
        let mut other = GtidSet::parse(&format!("{B}:1-4")).unwrap();
        other.union(&set);
        assert_eq!(other.to_string(), format!("{A}:1-9,{B}:1-4"));
    }

    fn sid() -> impl Strategy<Value = Sid> {
        prop_oneof![Just(Sid::parse(A).unwrap()), Just(Sid::parse(B).unwrap())]
    }

    fn gtids() -> impl Strategy<Value = Vec<Gtid>> {
        proptest::collection::vec(
            (sid(), 1u64..40).prop_map(|(sid, gno)| Gtid { sid, gno }),
            0..60,
        )
    }

    proptest! {
        /// Adding GTIDs one by one gives the set of exactly those GTIDs, normalised, and its
        /// text reads back to the same set.
        #[test]
        fn add_contains_format_parse_round_trip(added in gtids()) {
            let mut set = GtidSet::default();
            for gtid in &added {
                set.add(*gtid);
            }
            for sid in [Sid::parse(A).unwrap(), Sid::parse(B).unwrap()] {
                for gno in 1..41 {
                    let gtid = Gtid { sid, gno };
                    prop_assert_eq!(set.contains(gtid), added.contains(&gtid));
                }
            }
            for sid in &set.sids {
                prop_assert!(!sid.ranges.is_empty());
                for pair in sid.ranges.windows(2) {
                    prop_assert!(pair[0].end_exclusive < pair[1].start, "{}", set);
                }
            }
            let text = set.to_string();
            prop_assert_eq!(GtidSet::parse(&text).unwrap(), set.clone());
            // The union of two halves is the whole, in any order.
            let (left, right) = added.split_at(added.len() / 2);
            let half = |gtids: &[Gtid]| {
                let mut s = GtidSet::default();
                gtids.iter().for_each(|g| s.add(*g));
                s
            };
            let mut joined = half(right);
            joined.union(&half(left));
            prop_assert_eq!(joined, set);
        }
    }
}
