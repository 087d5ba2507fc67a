//! Avro binary datum → Connect value, driven by a [`Node`] plan compiled once per writer schema
//! (see [`super::from_avro`]).

use crate::schema::SchemaRef;
use crate::value::{Struct, Value};
use crate::{Error, Result};

/// Which Connect integer an Avro `int` stands for (`connect.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntWidth {
    Int8,
    Int16,
    Int32,
}

/// How to read one Avro value.
#[derive(Debug, Clone)]
pub enum Node {
    Null,
    Boolean,
    Int(IntWidth),
    Long,
    Float,
    Double,
    Bytes,
    String,
    Fixed(usize),
    Enum(Vec<String>),
    Array(Box<Node>),
    /// An Avro map (string keys).
    Map(Box<Node>),
    /// An array of key/value records standing for a map with non-string keys.
    MapEntries {
        key: Box<Node>,
        value: Box<Node>,
    },
    Record {
        schema: SchemaRef,
        fields: Vec<Node>,
    },
    /// A `[null, T]` or `[T, null]` union.
    Optional {
        null_index: u8,
        inner: Box<Node>,
    },
}

/// A cursor over datum bytes.
#[derive(Debug)]
pub struct Reader<'a> {
    data: &'a [u8],
    position: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Self { data, position: 0 }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.position
    }

    fn malformed(&self, reason: impl Into<String>) -> Error {
        Error::MalformedAvro {
            offset: self.position,
            reason: reason.into(),
        }
    }

    fn take(&mut self, count: usize) -> Result<&'a [u8]> {
        if self.remaining() < count {
            return Err(self.malformed(format!(
                "needs {count} more bytes, only {} left",
                self.remaining()
            )));
        }
        let slice = &self.data[self.position..self.position + count];
        self.position += count;
        Ok(slice)
    }

    /// A zig-zag varint.
    pub fn long(&mut self) -> Result<i64> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = *self.take(1)?.first().expect("took one byte");
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(((value >> 1) as i64) ^ -((value & 1) as i64));
            }
        }
        Err(self.malformed("varint longer than 10 bytes"))
    }

    fn length(&mut self) -> Result<usize> {
        let length = self.long()?;
        usize::try_from(length).map_err(|_| self.malformed(format!("negative length {length}")))
    }

    fn bytes(&mut self) -> Result<&'a [u8]> {
        let length = self.length()?;
        self.take(length)
    }

    /// The item count of the next array/map block (0 ends the sequence).
    fn block_count(&mut self) -> Result<usize> {
        let count = self.long()?;
        if count < 0 {
            // A negative count is followed by the block's size in bytes, which we do not need.
            self.long()?;
        }
        usize::try_from(count.unsigned_abs()).map_err(|_| self.malformed("block count too large"))
    }
}

impl Node {
    /// Reads one value.
    pub fn decode(&self, reader: &mut Reader<'_>) -> Result<Value> {
        Ok(match self {
            Node::Null => Value::Null,
            Node::Boolean => match reader.take(1)?[0] {
                0 => Value::Boolean(false),
                1 => Value::Boolean(true),
                other => return Err(reader.malformed(format!("boolean byte {other}"))),
            },
            Node::Int(width) => {
                let value = reader.long()?;
                let out_of_range = || reader.malformed(format!("{value} does not fit {width:?}"));
                match width {
                    IntWidth::Int8 => Value::Int8(i8::try_from(value).map_err(|_| out_of_range())?),
                    IntWidth::Int16 => {
                        Value::Int16(i16::try_from(value).map_err(|_| out_of_range())?)
                    }
                    IntWidth::Int32 => {
                        Value::Int32(i32::try_from(value).map_err(|_| out_of_range())?)
                    }
                }
            }
            Node::Long => Value::Int64(reader.long()?),
            Node::Float => Value::Float32(f32::from_le_bytes(
                reader.take(4)?.try_into().expect("4 bytes"),
            )),
            Node::Double => Value::Float64(f64::from_le_bytes(
                reader.take(8)?.try_into().expect("8 bytes"),
            )),
            Node::Bytes => Value::Bytes(reader.bytes()?.to_vec()),
            Node::String => {
                let bytes = reader.bytes()?;
                let text = std::str::from_utf8(bytes)
                    .map_err(|e| reader.malformed(format!("string is not UTF-8: {e}")))?;
                Value::String(text.into())
            }
            Node::Fixed(size) => Value::Bytes(reader.take(*size)?.to_vec()),
            Node::Enum(symbols) => {
                let index = reader.long()?;
                let symbol = usize::try_from(index).ok().and_then(|i| symbols.get(i));
                Value::String(
                    symbol
                        .ok_or_else(|| {
                            reader.malformed(format!("enum index {index} out of range"))
                        })?
                        .as_str()
                        .into(),
                )
            }
            Node::Array(item) => Value::Array(read_blocks(reader, |r| item.decode(r))?),
            Node::Map(value) => Value::Map(read_blocks(reader, |r| {
                Ok((Node::String.decode(r)?, value.decode(r)?))
            })?),
            Node::MapEntries { key, value } => Value::Map(read_blocks(reader, |r| {
                Ok((key.decode(r)?, value.decode(r)?))
            })?),
            Node::Record { schema, fields } => {
                let mut values = Vec::with_capacity(fields.len());
                for field in fields {
                    values.push(field.decode(reader)?);
                }
                // The plan was compiled from this schema, so the values fit it by construction.
                Value::Struct(Struct::from_trusted_values(schema.clone(), values))
            }
            Node::Optional { null_index, inner } => {
                let branch = reader.long()?;
                if branch == i64::from(*null_index) {
                    Value::Null
                } else if branch == 1 - i64::from(*null_index) {
                    inner.decode(reader)?
                } else {
                    return Err(
                        reader.malformed(format!("union branch {branch} of a two-branch union"))
                    );
                }
            }
        })
    }
}

/// Reads the blocks of an Avro array or map (counts, then items, until a zero count).
fn read_blocks<T>(
    reader: &mut Reader<'_>,
    mut item: impl FnMut(&mut Reader<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut items = Vec::new();
    loop {
        let count = reader.block_count()?;
        if count == 0 {
            return Ok(items);
        }
        // Every item takes at least one byte, so a corrupt count cannot reserve unbounded memory.
        items.reserve(count.min(reader.remaining()));
        for _ in 0..count {
            items.push(item(reader)?);
        }
    }
}
