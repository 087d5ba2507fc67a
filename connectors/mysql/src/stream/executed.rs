//! The GTIDs the stream has gone past, as the offsets carry them (`gtids`): MariaDB's GTID
//! position (one GTID per domain) or MySQL's executed GTID set. The server's events decide
//! which one is in use; an offset's text is read back by its shape (a MySQL set has `uuid:`).
//!
//! A group's GTID counts only once the group is finished ([`ExecutedGtids::commit`]), so the
//! text taken at a group's start is the position *before* it — what a resume asks the server
//! for, with the event/row index of the offset skipping what of the group was emitted.
//!
//! A MySQL set is only written into offsets while it is complete: it starts from the stored
//! offset, the snapshot's `@@gtid_executed`, or the first PREVIOUS_GTIDS event. GTIDs seen
//! before any of these would make a partial set, and resuming from a partial set would make
//! the server send everything outside it again; until then offsets carry file/pos only.

use super::mariadb::{GtidPosition, MariaGtid};
use crate::binlog::{Gtid, GtidSet};

/// MySQL's executed set, once it is known to be complete.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum MySqlSet {
    #[default]
    Unknown,
    Known(GtidSet),
}

/// The GTID of the group being read, added when the group ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupGtid {
    MariaDb(MariaGtid),
    MySql(Gtid),
}

/// The executed GTIDs of the stream so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecutedGtids {
    mariadb: GtidPosition,
    mysql: MySqlSet,
}

impl ExecutedGtids {
    /// From an offset's or snapshot's `gtids` text; text that is neither form is ignored
    /// (the stream then resumes by file/pos).
    pub fn from_text(text: Option<&str>) -> Self {
        let mut executed = Self::default();
        let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
            return executed;
        };
        if text.contains(':') {
            match GtidSet::parse(text) {
                Ok(set) => executed.mysql = MySqlSet::Known(set),
                Err(error) => tracing::warn!(%error, "ignoring the stored GTID set"),
            }
        } else if let Some(position) = GtidPosition::parse(text) {
            executed.mariadb = position;
        }
        executed
    }

    /// A PREVIOUS_GTIDS event: everything executed before its binlog file began. It starts
    /// the set when none is known; otherwise it adds what it has (it holds nothing new when
    /// the stream read the binlog in order).
    pub fn previous_gtids(&mut self, previous: &GtidSet) {
        match &mut self.mysql {
            MySqlSet::Known(set) => set.union(previous),
            MySqlSet::Unknown => {
                let mut set = GtidSet::default();
                set.union(previous);
                self.mysql = MySqlSet::Known(set);
            }
        }
    }

    /// A group finished: its GTID is executed.
    pub fn commit(&mut self, gtid: GroupGtid) {
        match gtid {
            GroupGtid::MariaDb(gtid) => self.mariadb.advance(gtid),
            GroupGtid::MySql(gtid) => {
                if let MySqlSet::Known(set) = &mut self.mysql {
                    set.add(gtid);
                }
            }
        }
    }

    /// Whether a MySQL transaction was executed before (emitted by an earlier run).
    pub fn contains(&self, gtid: Gtid) -> bool {
        matches!(&self.mysql, MySqlSet::Known(set) if set.contains(gtid))
    }

    /// The MySQL set when known and not empty: what a resume asks the server for.
    pub fn mysql_set(&self) -> Option<&GtidSet> {
        match &self.mysql {
            MySqlSet::Known(set) if !set.is_empty() => Some(set),
            _ => None,
        }
    }

    /// The text for offsets: the MySQL set when known and not empty, else the MariaDB
    /// position when not empty.
    pub fn text(&self) -> Option<String> {
        if let Some(set) = self.mysql_set() {
            return Some(set.to_string());
        }
        (!self.mariadb.is_empty()).then(|| self.mariadb.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binlog::Sid;

    const SID: &str = "76f3e7be-6720-11ed-9cad-0242ac110002";

    fn mysql(gno: u64) -> Gtid {
        Gtid {
            sid: Sid::parse(SID).unwrap(),
            gno,
        }
    }

    #[test]
    fn mysql_set_is_written_only_once_complete() {
        let mut executed = ExecutedGtids::from_text(None);
        executed.commit(GroupGtid::MySql(mysql(11)));
        assert_eq!(
            executed.text(),
            None,
            "a set missing 1-10 must not be stored"
        );
        executed.previous_gtids(&GtidSet::parse(&format!("{SID}:1-11")).unwrap());
        executed.commit(GroupGtid::MySql(mysql(12)));
        assert_eq!(executed.text(), Some(format!("{SID}:1-12")));
        assert!(executed.contains(mysql(3)) && !executed.contains(mysql(13)));

        let stored = ExecutedGtids::from_text(Some(&format!("{SID}:1-5:7")));
        assert_eq!(stored.text(), Some(format!("{SID}:1-5:7")));
        // An empty PREVIOUS_GTIDS makes the set known (and empty).
        let mut fresh = ExecutedGtids::default();
        fresh.previous_gtids(&GtidSet::default());
        fresh.commit(GroupGtid::MySql(mysql(1)));
        assert_eq!(fresh.text(), Some(format!("{SID}:1")));
    }

    #[test]
    fn mariadb_positions_read_back() {
        let mut executed = ExecutedGtids::from_text(Some("0-1-41"));
        assert_eq!(executed.mysql_set(), None);
        executed.commit(GroupGtid::MariaDb(MariaGtid::parse("0-1-42").unwrap()));
        assert_eq!(executed.text().as_deref(), Some("0-1-42"));
        assert_eq!(ExecutedGtids::from_text(Some("")).text(), None);
    }
}
