//! TRANSACTION_PAYLOAD (type 40, MySQL 8.0.20+ binlog_transaction_compression): the header
//! fields and zstd decompression of the inner events. Ours, because the length fields come
//! from the file and must be checked before they size anything.

use std::io::Read;

/// How the payload is compressed (header field 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadCompression {
    Zstd,
    None,
}

/// The decoded header of a TRANSACTION_PAYLOAD event and its (still compressed) bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionPayload<'a> {
    pub compression: PayloadCompression,
    pub uncompressed_size: u64,
    pub payload: &'a [u8],
}

/// An uncompressed payload larger than this is treated as corrupt rather than allocated.
const MAX_UNCOMPRESSED: u64 = 1 << 30;

fn lenenc(buf: &mut &[u8]) -> Result<u64, String> {
    let (&first, rest) = buf
        .split_first()
        .ok_or("header ends inside a length-encoded integer")?;
    let width = match first {
        0..=250 => {
            *buf = rest;
            return Ok(u64::from(first));
        }
        0xfc => 2,
        0xfd => 3,
        0xfe => 8,
        _ => {
            return Err(format!(
                "invalid length-encoded integer prefix {first:#04x}"
            ));
        }
    };
    let bytes = rest
        .get(..width)
        .ok_or("header ends inside a length-encoded integer")?;
    *buf = &rest[width..];
    Ok(bytes
        .iter()
        .rev()
        .fold(0, |acc, b| (acc << 8) | u64::from(*b)))
}

impl<'a> TransactionPayload<'a> {
    /// Parses the header fields (type, length, value — all length-encoded) up to the end mark.
    pub fn parse(body: &'a [u8]) -> Result<Self, String> {
        let mut buf = body;
        let (mut compression, mut uncompressed_size, mut payload_size) = (None, 0, None);
        loop {
            let field = lenenc(&mut buf)?;
            if field == 0 {
                break;
            }
            let length = usize::try_from(lenenc(&mut buf)?).map_err(|e| e.to_string())?;
            let mut value = buf
                .get(..length)
                .ok_or("header field longer than the event")?;
            buf = &buf[length..];
            match field {
                1 => payload_size = Some(lenenc(&mut value)?),
                2 => {
                    compression = Some(match lenenc(&mut value)? {
                        0 => PayloadCompression::Zstd,
                        255 => PayloadCompression::None,
                        other => return Err(format!("unknown payload compression {other}")),
                    })
                }
                3 => uncompressed_size = lenenc(&mut value)?,
                _ => {} // newer fields are skippable by design
            }
        }
        if payload_size.is_some_and(|size| size != buf.len() as u64) {
            return Err(format!(
                "payload size {payload_size:?} but {} bytes follow",
                buf.len()
            ));
        }
        let compression = compression.ok_or("the header names no compression type")?;
        Ok(TransactionPayload {
            compression,
            uncompressed_size,
            payload: buf,
        })
    }

    /// The inner events' bytes, bounded by the announced uncompressed size.
    pub fn decompress(&self) -> std::io::Result<Vec<u8>> {
        if self.uncompressed_size > MAX_UNCOMPRESSED {
            return Err(std::io::Error::other(format!(
                "uncompressed size {} is implausible",
                self.uncompressed_size
            )));
        }
        match self.compression {
            PayloadCompression::None => Ok(self.payload.to_vec()),
            PayloadCompression::Zstd => {
                let mut out = Vec::new();
                zstd::stream::read::Decoder::new(self.payload)?
                    .take(self.uncompressed_size + 1)
                    .read_to_end(&mut out)?;
                if out.len() as u64 != self.uncompressed_size {
                    return Err(std::io::Error::other(format!(
                        "payload inflated to {} bytes, header says {}",
                        out.len(),
                        self.uncompressed_size
                    )));
                }
                Ok(out)
            }
        }
    }
}
