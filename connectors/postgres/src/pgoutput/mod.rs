//! A decoder for the pgoutput logical replication protocol, version 1.
//!
//! Each message the `pgoutput` plugin emits (through a replication connection's XLogData or
//! `pg_logical_slot_*_binary_changes`) decodes with [`decode`] into a [`Message`] that
//! borrows names and column values from the input bytes, so decoding allocates only the
//! vectors of columns and relation oids. [`RelationCache`] remembers the Relation and Type
//! messages that later changes refer to by oid.
//!
//! Only protocol version 1 is understood: the streaming (`S`, `E`, `c`, `A`) and two-phase
//! messages of later versions are rejected as unknown types.
//!
//! - [`decode`](mod@decode): the byte cursor, [`decode()`] and [`DecodeError`].
//! - [`tuple`]: [`TupleData`] and its [`ColumnValue`]s.
//! - [`relation`]: [`RelationCache`] and the owned relation descriptions it keeps.

pub mod decode;
#[cfg(test)]
mod encode;
pub mod relation;
pub mod tuple;

use std::fmt;

pub use crate::lsn::Lsn;
pub use decode::{DecodeError, decode};
pub use relation::{CachedColumn, CachedRelation, CachedType, RelationCache};
pub use tuple::{ColumnValue, TupleData};

/// A PostgreSQL object identifier (of a relation or a type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Oid(pub u32);

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A transaction id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Xid(pub u32);

impl fmt::Display for Xid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A timestamp as Postgres sends it: microseconds since 2000-01-01 00:00:00 UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PgTimestamp(pub i64);

impl PgTimestamp {
    /// Microseconds between the Unix epoch and the PostgreSQL epoch (2000-01-01).
    const UNIX_TO_PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

    /// The same instant in microseconds since the Unix epoch (saturating at the extremes).
    pub fn unix_micros(self) -> i64 {
        self.0.saturating_add(Self::UNIX_TO_PG_EPOCH_MICROS)
    }

    /// The same instant in milliseconds since the Unix epoch, rounded down.
    pub fn unix_millis(self) -> i64 {
        self.unix_micros().div_euclid(1000)
    }
}

/// One decoded pgoutput message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message<'a> {
    /// `B`: a transaction starts.
    Begin(Begin),
    /// `C`: the transaction commits.
    Commit(Commit),
    /// `O`: the transaction came from another node (replication origins).
    Origin(Origin<'a>),
    /// `R`: describes a relation before its first change in the session or after it changed.
    Relation(Relation<'a>),
    /// `Y`: describes a non-built-in type used by a following Relation message.
    Type(TypeMessage<'a>),
    /// `I`: a row was inserted.
    Insert(Insert<'a>),
    /// `U`: a row was updated.
    Update(Update<'a>),
    /// `D`: a row was deleted.
    Delete(Delete<'a>),
    /// `T`: relations were truncated.
    Truncate(Truncate),
    /// `M`: a logical decoding message (`pg_logical_emit_message`).
    Message(LogicalMessage<'a>),
}

/// `B`: the start of a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Begin {
    /// The LSN of the transaction's commit record.
    pub final_lsn: Lsn,
    pub commit_time: PgTimestamp,
    pub xid: Xid,
}

/// `C`: the end of a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Commit {
    /// Unused by protocol version 1 (always 0); kept so nothing is silently dropped.
    pub flags: u8,
    /// The LSN of the commit record.
    pub commit_lsn: Lsn,
    /// The LSN just past the commit record: where a consumer resumes after this transaction.
    pub end_lsn: Lsn,
    pub commit_time: PgTimestamp,
}

/// `O`: the replication origin of the current transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin<'a> {
    /// The commit LSN on the origin server.
    pub commit_lsn: Lsn,
    pub name: &'a str,
}

/// How a relation identifies the old row of updates and deletes (`pg_class.relreplident`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReplicaIdentity {
    /// `d`: the primary key columns (nothing when there is no primary key).
    Default,
    /// `n`: nothing.
    Nothing,
    /// `f`: every column.
    Full,
    /// `i`: the columns of a chosen unique index.
    Index,
}

impl ReplicaIdentity {
    /// The setting for its `relreplident` character, if it is one.
    pub fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            b'd' => Some(Self::Default),
            b'n' => Some(Self::Nothing),
            b'f' => Some(Self::Full),
            b'i' => Some(Self::Index),
            _ => None,
        }
    }

    /// Its `relreplident` character.
    pub fn as_byte(self) -> u8 {
        match self {
            Self::Default => b'd',
            Self::Nothing => b'n',
            Self::Full => b'f',
            Self::Index => b'i',
        }
    }
}

/// Whether a column belongs to the relation's replica identity key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyMembership {
    /// Flag bit 1 set: the column is part of the key.
    Key,
    NotKey,
}

/// `R`: a relation's description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation<'a> {
    pub oid: Oid,
    /// The schema; empty for `pg_catalog`.
    pub namespace: &'a str,
    pub name: &'a str,
    pub replica_identity: ReplicaIdentity,
    /// The published columns in table order (generated columns are never sent).
    pub columns: Vec<RelationColumn<'a>>,
}

/// One column of a [`Relation`] message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelationColumn<'a> {
    pub key: KeyMembership,
    pub name: &'a str,
    pub type_oid: Oid,
    /// `atttypmod`: e.g. the precision and scale of a numeric; -1 when there is none.
    pub type_modifier: i32,
}

/// `Y`: a data type's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeMessage<'a> {
    pub oid: Oid,
    /// The schema; empty for `pg_catalog`.
    pub namespace: &'a str,
    pub name: &'a str,
}

/// `I`: an inserted row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insert<'a> {
    pub relation: Oid,
    pub new: TupleData<'a>,
}

/// The old row an update or delete carries, depending on the replica identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OldTuple<'a> {
    /// `K`: only the key columns have values; the others are null.
    Key(TupleData<'a>),
    /// `O`: the whole old row (REPLICA IDENTITY FULL).
    Full(TupleData<'a>),
}

impl<'a> OldTuple<'a> {
    /// The tuple, whichever kind it is.
    pub fn tuple(&self) -> &TupleData<'a> {
        match self {
            Self::Key(tuple) | Self::Full(tuple) => tuple,
        }
    }
}

/// `U`: an updated row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update<'a> {
    pub relation: Oid,
    /// Absent when the key did not change and the identity is not FULL.
    pub old: Option<OldTuple<'a>>,
    pub new: TupleData<'a>,
}

/// `D`: a deleted row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delete<'a> {
    pub relation: Oid,
    pub old: OldTuple<'a>,
}

/// The options of a TRUNCATE, a bit set as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TruncateOptions(pub u8);

impl TruncateOptions {
    const CASCADE: u8 = 1;
    const RESTART_IDENTITY: u8 = 2;

    /// `TRUNCATE … CASCADE`.
    pub fn cascade(self) -> bool {
        self.0 & Self::CASCADE != 0
    }

    /// `TRUNCATE … RESTART IDENTITY`.
    pub fn restart_identity(self) -> bool {
        self.0 & Self::RESTART_IDENTITY != 0
    }
}

/// `T`: truncated relations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truncate {
    pub options: TruncateOptions,
    pub relations: Vec<Oid>,
}

/// Whether a logical decoding message belongs to a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transactionality {
    /// Flag 1: decoded at its transaction's commit, between Begin and Commit.
    Transactional,
    /// Flag 0: decoded immediately, outside any Begin/Commit.
    NonTransactional,
}

/// `M`: a message written with `pg_logical_emit_message`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogicalMessage<'a> {
    pub transactionality: Transactionality,
    pub lsn: Lsn,
    pub prefix: &'a str,
    pub content: &'a [u8],
}

#[cfg(test)]
mod tests;
