//! [`decode`]: one pgoutput message from its bytes, over a bounds-checked [`Cursor`].
//!
//! Every read checks the remaining length first, so malformed input of any shape ends in a
//! [`DecodeError`] naming the byte offset and the field, never in a panic.

use std::str;

use super::tuple::TupleData;
use super::{
    Begin, Commit, Delete, Insert, KeyMembership, LogicalMessage, Message, Oid, OldTuple, Origin,
    PgTimestamp, Relation, RelationColumn, ReplicaIdentity, Transactionality, Truncate,
    TruncateOptions, TypeMessage, Update, Xid,
};
use crate::lsn::Lsn;

/// Why bytes are not a valid pgoutput (protocol version 1) message.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The message ends inside a field.
    #[error(
        "message truncated at byte offset {offset}: {field} needs {needed} more bytes, \
         {available} left"
    )]
    Truncated {
        offset: usize,
        field: &'static str,
        needed: usize,
        available: usize,
    },
    /// The first byte is not a protocol version 1 message type.
    #[error(
        "unknown pgoutput message type byte {byte:#04x} ({shown:?}); only protocol version 1 \
         is understood, so start replication with proto_version '1' and without the \
         streaming or two_phase options",
        shown = char::from(*byte)
    )]
    UnknownMessageType { byte: u8 },
    /// The input is empty.
    #[error("empty pgoutput message: expected at least the message type byte")]
    Empty,
    /// A null-terminated string has no terminator before the message ends.
    #[error("{field} starting at byte offset {offset} has no terminating NUL byte")]
    UnterminatedString { offset: usize, field: &'static str },
    /// A name is not UTF-8 (pgoutput sends names in the database encoding; use UTF8).
    #[error("{field} at byte offset {offset} is not valid UTF-8")]
    InvalidUtf8 {
        offset: usize,
        field: &'static str,
        #[source]
        source: str::Utf8Error,
    },
    /// A length field is negative.
    #[error("{field} at byte offset {offset} has negative length {length}")]
    NegativeLength {
        offset: usize,
        field: &'static str,
        length: i32,
    },
    /// A tuple column starts with a kind other than `n`, `u`, `t` or `b`.
    #[error(
        "tuple column at byte offset {offset} has unknown kind byte {byte:#04x}; \
         expected n, u, t or b"
    )]
    UnknownColumnKind { offset: usize, byte: u8 },
    /// A tuple is introduced by an unexpected marker byte.
    #[error("expected {expected} at byte offset {offset}, found byte {byte:#04x}")]
    UnexpectedTupleMarker {
        offset: usize,
        byte: u8,
        expected: &'static str,
    },
    /// A Relation message has a replica identity other than `d`, `n`, `f` or `i`.
    #[error("replica identity byte {byte:#04x} at byte offset {offset} is none of d, n, f, i")]
    UnknownReplicaIdentity { offset: usize, byte: u8 },
    /// Bytes remain after a complete message.
    #[error("{count} unexpected bytes after a complete {message} message (offset {offset})")]
    TrailingBytes {
        offset: usize,
        count: usize,
        message: &'static str,
    },
}

/// Decodes one pgoutput message; the result borrows names and values from `bytes`.
pub fn decode(bytes: &[u8]) -> Result<Message<'_>, DecodeError> {
    let mut cursor = Cursor::new(bytes);
    let kind = *bytes.first().ok_or(DecodeError::Empty)?;
    cursor.position = 1;
    let (message, name) = match kind {
        b'B' => (Message::Begin(read_begin(&mut cursor)?), "Begin"),
        b'C' => (Message::Commit(read_commit(&mut cursor)?), "Commit"),
        b'O' => (Message::Origin(read_origin(&mut cursor)?), "Origin"),
        b'R' => (Message::Relation(read_relation(&mut cursor)?), "Relation"),
        b'Y' => (Message::Type(read_type(&mut cursor)?), "Type"),
        b'I' => (Message::Insert(read_insert(&mut cursor)?), "Insert"),
        b'U' => (Message::Update(read_update(&mut cursor)?), "Update"),
        b'D' => (Message::Delete(read_delete(&mut cursor)?), "Delete"),
        b'T' => (Message::Truncate(read_truncate(&mut cursor)?), "Truncate"),
        b'M' => (Message::Message(read_message(&mut cursor)?), "Message"),
        byte => return Err(DecodeError::UnknownMessageType { byte }),
    };
    if cursor.remaining() > 0 {
        return Err(DecodeError::TrailingBytes {
            offset: cursor.position,
            count: cursor.remaining(),
            message: name,
        });
    }
    Ok(message)
}

fn read_begin(cursor: &mut Cursor<'_>) -> Result<Begin, DecodeError> {
    Ok(Begin {
        final_lsn: cursor.read_lsn("Begin final LSN")?,
        commit_time: cursor.read_timestamp("Begin commit timestamp")?,
        xid: Xid(cursor.read_u32("Begin xid")?),
    })
}

fn read_commit(cursor: &mut Cursor<'_>) -> Result<Commit, DecodeError> {
    Ok(Commit {
        flags: cursor.read_u8("Commit flags")?,
        commit_lsn: cursor.read_lsn("Commit LSN")?,
        end_lsn: cursor.read_lsn("Commit end LSN")?,
        commit_time: cursor.read_timestamp("Commit timestamp")?,
    })
}

fn read_origin<'a>(cursor: &mut Cursor<'a>) -> Result<Origin<'a>, DecodeError> {
    Ok(Origin {
        commit_lsn: cursor.read_lsn("Origin commit LSN")?,
        name: cursor.read_str("Origin name")?,
    })
}

fn read_relation<'a>(cursor: &mut Cursor<'a>) -> Result<Relation<'a>, DecodeError> {
    let oid = Oid(cursor.read_u32("Relation oid")?);
    let namespace = cursor.read_str("Relation namespace")?;
    let name = cursor.read_str("Relation name")?;
    let offset = cursor.position;
    let byte = cursor.read_u8("Relation replica identity")?;
    let replica_identity = ReplicaIdentity::from_byte(byte)
        .ok_or(DecodeError::UnknownReplicaIdentity { offset, byte })?;
    let count = usize::from(cursor.read_u16("Relation column count")?);
    // A column takes at least 10 bytes (flags, NUL, type oid, typmod): checking first keeps
    // a corrupt count from reserving memory the input cannot fill.
    const MIN_COLUMN_BYTES: usize = 10;
    if count * MIN_COLUMN_BYTES > cursor.remaining() {
        return Err(cursor.truncated("Relation columns", count * MIN_COLUMN_BYTES));
    }
    let mut columns = Vec::with_capacity(count);
    for _ in 0..count {
        let flags = cursor.read_u8("Relation column flags")?;
        columns.push(RelationColumn {
            key: if flags & 1 != 0 {
                KeyMembership::Key
            } else {
                KeyMembership::NotKey
            },
            name: cursor.read_str("Relation column name")?,
            type_oid: Oid(cursor.read_u32("Relation column type oid")?),
            type_modifier: cursor.read_i32("Relation column type modifier")?,
        });
    }
    Ok(Relation {
        oid,
        namespace,
        name,
        replica_identity,
        columns,
    })
}

fn read_type<'a>(cursor: &mut Cursor<'a>) -> Result<TypeMessage<'a>, DecodeError> {
    Ok(TypeMessage {
        oid: Oid(cursor.read_u32("Type oid")?),
        namespace: cursor.read_str("Type namespace")?,
        name: cursor.read_str("Type name")?,
    })
}

fn read_insert<'a>(cursor: &mut Cursor<'a>) -> Result<Insert<'a>, DecodeError> {
    let relation = Oid(cursor.read_u32("Insert relation oid")?);
    expect_marker(cursor, b'N', "'N' (new tuple) in an Insert")?;
    Ok(Insert {
        relation,
        new: TupleData::read(cursor)?,
    })
}

fn read_update<'a>(cursor: &mut Cursor<'a>) -> Result<Update<'a>, DecodeError> {
    let relation = Oid(cursor.read_u32("Update relation oid")?);
    // The old tuple is optional: without it the new tuple's 'N' comes straight away.
    let old = if cursor.peek() == Some(b'N') {
        None
    } else {
        Some(read_old_tuple(cursor, "'K', 'O' or 'N' in an Update")?)
    };
    expect_marker(cursor, b'N', "'N' (new tuple) in an Update")?;
    Ok(Update {
        relation,
        old,
        new: TupleData::read(cursor)?,
    })
}

fn read_delete<'a>(cursor: &mut Cursor<'a>) -> Result<Delete<'a>, DecodeError> {
    let relation = Oid(cursor.read_u32("Delete relation oid")?);
    Ok(Delete {
        relation,
        old: read_old_tuple(cursor, "'K' or 'O' in a Delete")?,
    })
}

/// A `K` (key columns) or `O` (whole row) marker and the old tuple it introduces.
fn read_old_tuple<'a>(
    cursor: &mut Cursor<'a>,
    expected: &'static str,
) -> Result<OldTuple<'a>, DecodeError> {
    let offset = cursor.position;
    match cursor.read_u8(expected)? {
        b'K' => Ok(OldTuple::Key(TupleData::read(cursor)?)),
        b'O' => Ok(OldTuple::Full(TupleData::read(cursor)?)),
        byte => Err(DecodeError::UnexpectedTupleMarker {
            offset,
            byte,
            expected,
        }),
    }
}

fn read_truncate(cursor: &mut Cursor<'_>) -> Result<Truncate, DecodeError> {
    let count = cursor.read_u32("Truncate relation count")? as usize;
    let options = TruncateOptions(cursor.read_u8("Truncate options")?);
    if count.saturating_mul(4) > cursor.remaining() {
        return Err(cursor.truncated("Truncate relation oids", count.saturating_mul(4)));
    }
    let relations = (0..count)
        .map(|_| cursor.read_u32("Truncate relation oid").map(Oid))
        .collect::<Result<_, _>>()?;
    Ok(Truncate { options, relations })
}

fn read_message<'a>(cursor: &mut Cursor<'a>) -> Result<LogicalMessage<'a>, DecodeError> {
    let flags = cursor.read_u8("Message flags")?;
    Ok(LogicalMessage {
        transactionality: if flags & 1 != 0 {
            Transactionality::Transactional
        } else {
            Transactionality::NonTransactional
        },
        lsn: cursor.read_lsn("Message LSN")?,
        prefix: cursor.read_str("Message prefix")?,
        content: cursor.read_counted_bytes("Message content")?,
    })
}

fn expect_marker(
    cursor: &mut Cursor<'_>,
    marker: u8,
    expected: &'static str,
) -> Result<(), DecodeError> {
    let offset = cursor.position;
    match cursor.read_u8(expected)? {
        byte if byte == marker => Ok(()),
        byte => Err(DecodeError::UnexpectedTupleMarker {
            offset,
            byte,
            expected,
        }),
    }
}

/// Big-endian reads over a byte slice; each names its field for the error it may return.
#[derive(Debug)]
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, position: 0 }
    }

    pub(crate) fn offset(&self) -> usize {
        self.position
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.position).copied()
    }

    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len() - self.position
    }

    pub(crate) fn truncated(&self, field: &'static str, needed: usize) -> DecodeError {
        DecodeError::Truncated {
            offset: self.position,
            field,
            needed,
            available: self.remaining(),
        }
    }

    fn take(&mut self, count: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        if count > self.remaining() {
            return Err(self.truncated(field, count));
        }
        let taken = &self.bytes[self.position..self.position + count];
        self.position += count;
        Ok(taken)
    }

    fn take_array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let mut array = [0; N];
        array.copy_from_slice(self.take(N, field)?);
        Ok(array)
    }

    pub(crate) fn read_u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take_array::<1>(field)?[0])
    }

    pub(crate) fn read_u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.take_array(field)?))
    }

    pub(crate) fn read_u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.take_array(field)?))
    }

    pub(crate) fn read_i32(&mut self, field: &'static str) -> Result<i32, DecodeError> {
        Ok(i32::from_be_bytes(self.take_array(field)?))
    }

    fn read_lsn(&mut self, field: &'static str) -> Result<Lsn, DecodeError> {
        Ok(Lsn(u64::from_be_bytes(self.take_array(field)?)))
    }

    fn read_timestamp(&mut self, field: &'static str) -> Result<PgTimestamp, DecodeError> {
        Ok(PgTimestamp(i64::from_be_bytes(self.take_array(field)?)))
    }

    /// An `Int32` length then that many bytes.
    pub(crate) fn read_counted_bytes(
        &mut self,
        field: &'static str,
    ) -> Result<&'a [u8], DecodeError> {
        let offset = self.position;
        let length = self.read_i32(field)?;
        let length = usize::try_from(length).map_err(|_| DecodeError::NegativeLength {
            offset,
            field,
            length,
        })?;
        self.take(length, field)
    }

    /// A NUL-terminated UTF-8 string.
    pub(crate) fn read_str(&mut self, field: &'static str) -> Result<&'a str, DecodeError> {
        let offset = self.position;
        let rest = &self.bytes[offset..];
        let length = rest
            .iter()
            .position(|&byte| byte == 0)
            .ok_or(DecodeError::UnterminatedString { offset, field })?;
        let text = str::from_utf8(&rest[..length]).map_err(|source| DecodeError::InvalidUtf8 {
            offset,
            field,
            source,
        })?;
        self.position += length + 1;
        Ok(text)
    }
}
