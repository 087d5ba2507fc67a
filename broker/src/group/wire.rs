//! Big-endian primitives of Kafka's classic (non-flexible) encoding, shared by the
//! `__consumer_offsets` records and the consumer embedded protocol: int16-length strings,
//! int32-length bytes, int32-counted arrays, with -1 marking null.

use crate::error::{Error, Result};

/// Appends Kafka-encoded primitives to a byte buffer.
#[derive(Debug, Default)]
pub(super) struct WireWriter {
    buf: Vec<u8>,
}

impl WireWriter {
    pub(super) fn new() -> Self {
        Self::default()
    }

    pub(super) fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    pub(super) fn i16(&mut self, value: i16) -> &mut Self {
        self.buf.extend_from_slice(&value.to_be_bytes());
        self
    }

    pub(super) fn i32(&mut self, value: i32) -> &mut Self {
        self.buf.extend_from_slice(&value.to_be_bytes());
        self
    }

    pub(super) fn i64(&mut self, value: i64) -> &mut Self {
        self.buf.extend_from_slice(&value.to_be_bytes());
        self
    }

    /// A non-null string; Kafka limits strings to `i16::MAX` bytes, longer ones are cut at a
    /// character boundary rather than producing an unreadable record.
    pub(super) fn string(&mut self, value: &str) -> &mut Self {
        let mut end = value.len().min(i16::MAX as usize);
        while !value.is_char_boundary(end) {
            end -= 1;
        }
        self.i16(end as i16);
        self.buf.extend_from_slice(&value.as_bytes()[..end]);
        self
    }

    pub(super) fn nullable_string(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(value) => self.string(value),
            None => self.i16(-1),
        }
    }

    pub(super) fn bytes(&mut self, value: &[u8]) -> &mut Self {
        self.i32(value.len() as i32);
        self.buf.extend_from_slice(value);
        self
    }

    pub(super) fn nullable_bytes(&mut self, value: Option<&[u8]>) -> &mut Self {
        match value {
            Some(value) => self.bytes(value),
            None => self.i32(-1),
        }
    }

    pub(super) fn array_len(&mut self, len: usize) -> &mut Self {
        self.i32(len as i32)
    }
}

/// Reads Kafka-encoded primitives; every failure names what was being decoded.
#[derive(Debug)]
pub(super) struct WireReader<'a> {
    buf: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> WireReader<'a> {
    /// `what` names the structure for error messages, e.g. "OffsetCommitValue".
    pub(super) fn new(buf: &'a [u8], what: &'static str) -> Self {
        Self { buf, pos: 0, what }
    }

    pub(super) fn malformed(&self, reason: impl Into<String>) -> Error {
        Error::MalformedGroupData {
            what: self.what,
            reason: reason.into(),
        }
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8]> {
        let remaining = self.buf.len() - self.pos;
        if len > remaining {
            return Err(self.malformed(format!(
                "needs {len} more bytes at byte {} but only {remaining} remain",
                self.pos
            )));
        }
        let slice = &self.buf[self.pos..self.pos + len];
        self.pos += len;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(super) fn i16(&mut self) -> Result<i16> {
        Ok(i16::from_be_bytes(self.array()?))
    }

    pub(super) fn i32(&mut self) -> Result<i32> {
        Ok(i32::from_be_bytes(self.array()?))
    }

    pub(super) fn i64(&mut self) -> Result<i64> {
        Ok(i64::from_be_bytes(self.array()?))
    }

    pub(super) fn nullable_string(&mut self) -> Result<Option<String>> {
        let len = self.i16()?;
        if len < 0 {
            return Ok(None);
        }
        let raw = self.take(len as usize)?;
        match std::str::from_utf8(raw) {
            Ok(text) => Ok(Some(text.to_owned())),
            Err(_) => Err(self.malformed("a string is not valid UTF-8")),
        }
    }

    pub(super) fn string(&mut self) -> Result<String> {
        self.nullable_string()?
            .ok_or_else(|| self.malformed("a required string is null"))
    }

    pub(super) fn nullable_bytes(&mut self) -> Result<Option<Vec<u8>>> {
        let len = self.i32()?;
        if len < 0 {
            return Ok(None);
        }
        Ok(Some(self.take(len as usize)?.to_vec()))
    }

    pub(super) fn bytes(&mut self) -> Result<Vec<u8>> {
        self.nullable_bytes()?
            .ok_or_else(|| self.malformed("required bytes are null"))
    }

    /// An array length; a null array (-1) reads as empty. The length is checked against the
    /// remaining bytes (each element takes at least `min_element_bytes`) so a corrupt count
    /// cannot make us reserve huge amounts of memory.
    pub(super) fn array_len(&mut self, min_element_bytes: usize) -> Result<usize> {
        let len = self.i32()?;
        if len < 0 {
            return Ok(0);
        }
        let len = len as usize;
        let remaining = self.buf.len() - self.pos;
        if len.saturating_mul(min_element_bytes.max(1)) > remaining {
            return Err(self.malformed(format!(
                "array claims {len} elements but only {remaining} bytes remain"
            )));
        }
        Ok(len)
    }

    pub(super) fn is_at_end(&self) -> bool {
        self.pos == self.buf.len()
    }
}
