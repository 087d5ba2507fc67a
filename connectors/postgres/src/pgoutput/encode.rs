//! A test-only encoder: writes a [`Message`] in pgoutput's wire format, so tests can check
//! that decoding inverts it.

use super::tuple::{ColumnValue, TupleData};
use super::{KeyMembership, Message, OldTuple, Transactionality};

/// The bytes pgoutput would send for `message`.
pub(crate) fn encode(message: &Message<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    match message {
        Message::Begin(begin) => {
            out.push(b'B');
            out.extend(begin.final_lsn.0.to_be_bytes());
            out.extend(begin.commit_time.0.to_be_bytes());
            out.extend(begin.xid.0.to_be_bytes());
        }
        Message::Commit(commit) => {
            out.push(b'C');
            out.push(commit.flags);
            out.extend(commit.commit_lsn.0.to_be_bytes());
            out.extend(commit.end_lsn.0.to_be_bytes());
            out.extend(commit.commit_time.0.to_be_bytes());
        }
        Message::Origin(origin) => {
            out.push(b'O');
            out.extend(origin.commit_lsn.0.to_be_bytes());
            put_str(&mut out, origin.name);
        }
        Message::Relation(relation) => {
            out.push(b'R');
            out.extend(relation.oid.0.to_be_bytes());
            put_str(&mut out, relation.namespace);
            put_str(&mut out, relation.name);
            out.push(relation.replica_identity.as_byte());
            out.extend(count_u16(relation.columns.len()).to_be_bytes());
            for column in &relation.columns {
                out.push(u8::from(column.key == KeyMembership::Key));
                put_str(&mut out, column.name);
                out.extend(column.type_oid.0.to_be_bytes());
                out.extend(column.type_modifier.to_be_bytes());
            }
        }
        Message::Type(type_message) => {
            out.push(b'Y');
            out.extend(type_message.oid.0.to_be_bytes());
            put_str(&mut out, type_message.namespace);
            put_str(&mut out, type_message.name);
        }
        Message::Insert(insert) => {
            out.push(b'I');
            out.extend(insert.relation.0.to_be_bytes());
            out.push(b'N');
            put_tuple(&mut out, &insert.new);
        }
        Message::Update(update) => {
            out.push(b'U');
            out.extend(update.relation.0.to_be_bytes());
            if let Some(old) = &update.old {
                put_old(&mut out, old);
            }
            out.push(b'N');
            put_tuple(&mut out, &update.new);
        }
        Message::Delete(delete) => {
            out.push(b'D');
            out.extend(delete.relation.0.to_be_bytes());
            put_old(&mut out, &delete.old);
        }
        Message::Truncate(truncate) => {
            out.push(b'T');
            let count = u32::try_from(truncate.relations.len()).expect("test sizes fit");
            out.extend(count.to_be_bytes());
            out.push(truncate.options.0);
            for oid in &truncate.relations {
                out.extend(oid.0.to_be_bytes());
            }
        }
        Message::Message(message) => {
            out.push(b'M');
            out.push(u8::from(
                message.transactionality == Transactionality::Transactional,
            ));
            out.extend(message.lsn.0.to_be_bytes());
            put_str(&mut out, message.prefix);
            put_counted(&mut out, message.content);
        }
    }
    out
}

fn count_u16(count: usize) -> u16 {
    u16::try_from(count).expect("test sizes fit")
}

fn put_str(out: &mut Vec<u8>, text: &str) {
    out.extend(text.as_bytes());
    out.push(0);
}

fn put_counted(out: &mut Vec<u8>, bytes: &[u8]) {
    let length = i32::try_from(bytes.len()).expect("test sizes fit");
    out.extend(length.to_be_bytes());
    out.extend(bytes);
}

fn put_old(out: &mut Vec<u8>, old: &OldTuple<'_>) {
    match old {
        OldTuple::Key(tuple) => {
            out.push(b'K');
            put_tuple(out, tuple);
        }
        OldTuple::Full(tuple) => {
            out.push(b'O');
            put_tuple(out, tuple);
        }
    }
}

fn put_tuple(out: &mut Vec<u8>, tuple: &TupleData<'_>) {
    out.extend(count_u16(tuple.columns.len()).to_be_bytes());
    for value in &tuple.columns {
        out.push(value.kind_byte());
        match value {
            ColumnValue::Null | ColumnValue::UnchangedToast => {}
            ColumnValue::Text(bytes) | ColumnValue::Binary(bytes) => put_counted(out, bytes),
        }
    }
}
