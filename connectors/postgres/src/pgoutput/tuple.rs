//! [`TupleData`]: the column values of one row in an Insert, Update or Delete message.

use std::str;

use super::decode::{Cursor, DecodeError};

/// One row's column values, in the order of its relation's columns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TupleData<'a> {
    pub columns: Vec<ColumnValue<'a>>,
}

/// One column's value as pgoutput sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnValue<'a> {
    /// `n`: SQL NULL.
    Null,
    /// `u`: a TOASTed value the change did not touch, so it was not sent.
    UnchangedToast,
    /// `t`: the value in the type's text output format.
    Text(&'a [u8]),
    /// `b`: the value in the type's binary format (only with the `binary` option).
    Binary(&'a [u8]),
}

impl<'a> ColumnValue<'a> {
    /// The text-format value as a `&str`: `None` for null, unchanged-TOAST and binary values,
    /// an error when the bytes are not UTF-8 (a database encoding other than UTF8).
    pub fn as_text(&self) -> Option<Result<&'a str, str::Utf8Error>> {
        match *self {
            Self::Text(bytes) => Some(str::from_utf8(bytes)),
            Self::Null | Self::UnchangedToast | Self::Binary(_) => None,
        }
    }

    /// The kind byte that introduces this value on the wire.
    pub fn kind_byte(&self) -> u8 {
        match self {
            Self::Null => b'n',
            Self::UnchangedToast => b'u',
            Self::Text(_) => b't',
            Self::Binary(_) => b'b',
        }
    }
}

impl<'a> TupleData<'a> {
    /// Reads `Int16 count` then each column: a kind byte, and for `t`/`b` an `Int32` length
    /// and that many bytes.
    pub(crate) fn read(cursor: &mut Cursor<'a>) -> Result<Self, DecodeError> {
        let count = cursor.read_u16("tuple column count")?;
        // Every column takes at least one byte, so a count larger than what is left is
        // malformed; checking first also bounds the allocation below.
        if usize::from(count) > cursor.remaining() {
            return Err(cursor.truncated("tuple columns", usize::from(count)));
        }
        let mut columns = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            let offset = cursor.offset();
            let value = match cursor.read_u8("tuple column kind")? {
                b'n' => ColumnValue::Null,
                b'u' => ColumnValue::UnchangedToast,
                b't' => ColumnValue::Text(cursor.read_counted_bytes("text column value")?),
                b'b' => ColumnValue::Binary(cursor.read_counted_bytes("binary column value")?),
                byte => return Err(DecodeError::UnknownColumnKind { offset, byte }),
            };
            columns.push(value);
        }
        Ok(Self { columns })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_column_kind() {
        let bytes = b"\x00\x04nut\x00\x00\x00\x0242b\x00\x00\x00\x01\xff";
        let mut cursor = Cursor::new(bytes);
        let tuple = TupleData::read(&mut cursor).unwrap();
        assert_eq!(
            tuple.columns,
            [
                ColumnValue::Null,
                ColumnValue::UnchangedToast,
                ColumnValue::Text(b"42"),
                ColumnValue::Binary(b"\xff"),
            ]
        );
        assert_eq!(cursor.remaining(), 0);
        assert_eq!(tuple.columns[2].as_text().unwrap().unwrap(), "42");
        assert!(tuple.columns[0].as_text().is_none());
    }

    #[test]
    fn unknown_column_kind_names_byte_and_offset() {
        let error = TupleData::read(&mut Cursor::new(b"\x00\x02nx")).unwrap_err();
        assert!(matches!(
            error,
            DecodeError::UnknownColumnKind {
                offset: 3,
                byte: b'x'
            }
        ));
    }

    #[test]
    fn column_count_beyond_the_input_is_truncation() {
        let error = TupleData::read(&mut Cursor::new(b"\xff\xffn")).unwrap_err();
        assert!(matches!(error, DecodeError::Truncated { offset: 2, .. }));
    }

    #[test]
    fn negative_length_is_rejected() {
        let error = TupleData::read(&mut Cursor::new(b"\x00\x01t\xff\xff\xff\xff")).unwrap_err();
        assert!(
            matches!(error, DecodeError::NegativeLength { length: -1, .. }),
            "{error}"
        );
    }
}
