//! [`BinlogReader`]: walks a binlog file event by event — magic, framing, CRC32 per the
//! FORMAT_DESCRIPTION's checksum algorithm — and unpacks TRANSACTION_PAYLOAD events so their
//! inner events come out in order right after the container.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use mysql_common::binlog::EventStreamReader;
use mysql_common::binlog::consts::{BinlogChecksumAlg, BinlogVersion};
use mysql_common::binlog::events::Event;

use super::decode::{KnownTables, decode_body, remember_table};
use super::event::{BinlogEvent, EventBody, EventOrigin, FileOffset};
use super::framing::{self, FORMAT_DESCRIPTION_TYPE, TRANSACTION_PAYLOAD_TYPE};
use super::payload::TransactionPayload;
use crate::error::{Error, Result};

/// Reads decoded events from a binlog file (or any byte source holding one).
pub struct BinlogReader<R> {
    input: R,
    source: String,
    offset: u64,
    stream: EventStreamReader,
    tables: KnownTables,
    pending: VecDeque<BinlogEvent>,
    raw: Vec<u8>,
    failed: bool,
}

impl<R> std::fmt::Debug for BinlogReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BinlogReader")
            .field("source", &self.source)
            .field("offset", &self.offset)
            .field("tables", &self.tables.len())
            .finish_non_exhaustive()
    }
}

impl BinlogReader<BufReader<File>> {
    /// Opens a binlog file and checks its magic bytes.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| Error::Io {
            context: format!("opening binlog file {}", path.display()),
            source,
        })?;
        Self::new(BufReader::new(file), path)
    }
}

impl<R: Read> BinlogReader<R> {
    /// Wraps a byte source that starts with the binlog magic; `name` appears in errors.
    pub fn new(mut input: R, name: impl AsRef<Path>) -> Result<Self> {
        let name = name.as_ref();
        let magic = framing::read_magic(&mut input).map_err(|source| Error::Io {
            context: format!("reading the header of {}", name.display()),
            source,
        })?;
        if let Err(found) = magic {
            return Err(Error::NotABinlog {
                path: name.to_owned(),
                found,
            });
        }
        Ok(BinlogReader {
            input,
            source: name.display().to_string(),
            offset: framing::BINLOG_MAGIC.len() as u64,
            stream: EventStreamReader::new(BinlogVersion::Version4),
            tables: HashMap::new(),
            pending: VecDeque::new(),
            raw: Vec::new(),
            failed: false,
        })
    }

    /// Offset of the next top-level event in the file.
    pub fn offset(&self) -> FileOffset {
        FileOffset(self.offset)
    }

    /// The next event, or `None` at the end of the file.
    pub fn next_event(&mut self) -> Result<Option<BinlogEvent>> {
        if let Some(event) = self.pending.pop_front() {
            return Ok(Some(event));
        }
        let start = FileOffset(self.offset);
        let position = format!("{} offset {}", self.source, start.0);
        let Some(header) = framing::read_event(&mut self.input, &mut self.raw, &position)? else {
            return Ok(None);
        };
        self.offset += u64::from(header.event_size);
        let checksummed = if header.type_code == FORMAT_DESCRIPTION_TYPE {
            framing::check_min_size(&header, true, &position)?;
            framing::fde_checksum_alg(&self.raw)
                == BinlogChecksumAlg::BINLOG_CHECKSUM_ALG_CRC32 as u8
        } else {
            let crc = matches!(
                self.stream.get_fde().footer().get_checksum_alg(),
                Ok(Some(BinlogChecksumAlg::BINLOG_CHECKSUM_ALG_CRC32))
            );
            framing::check_min_size(&header, crc, &position)?;
            crc
        };
        if checksummed {
            framing::verify_crc32(&self.raw, &position)?;
        }
        let raw = std::mem::take(&mut self.raw);
        let event = self.stream.read(&raw[..]).map_err(|source| Error::Decode {
            context: position.clone(),
            source,
        });
        self.raw = raw;
        let event = event?.ok_or_else(|| framing::corrupt(&position, "empty event".into()))?;
        let body = self.decode(&event, &position)?;
        if header.type_code == TRANSACTION_PAYLOAD_TYPE {
            self.unpack_payload(&event, start, &position)?;
        }
        Ok(Some(BinlogEvent {
            header,
            origin: EventOrigin::File(start),
            body,
        }))
    }

    fn decode(&mut self, event: &Event, position: &str) -> Result<EventBody> {
        let body = decode_body(event, &self.tables, position)?;
        if let EventBody::TableMap(map) = &body {
            remember_table(&mut self.tables, event, map, position)?;
        }
        Ok(body)
    }

    /// Decompresses a TRANSACTION_PAYLOAD and queues its inner events (they carry no checksum).
    fn unpack_payload(&mut self, event: &Event, start: FileOffset, position: &str) -> Result<()> {
        let payload =
            TransactionPayload::parse(event.data()).map_err(|e| framing::corrupt(position, e))?;
        let inflated = payload.decompress().map_err(|source| Error::Decode {
            context: format!("{position}: decompressing the transaction payload"),
            source,
        })?;
        let mut rest = &inflated[..];
        while !rest.is_empty() {
            let inner_position =
                format!("{position}, payload byte {}", inflated.len() - rest.len());
            let (header, bytes) = framing::split_event(&mut rest, &inner_position)?;
            if header.type_code == TRANSACTION_PAYLOAD_TYPE
                || header.type_code == FORMAT_DESCRIPTION_TYPE
            {
                return Err(framing::corrupt(
                    &inner_position,
                    "nested payload/FDE event".into(),
                ));
            }
            let inner = self
                .stream
                .read_decompressed(bytes)
                .map_err(|source| Error::Decode {
                    context: inner_position.clone(),
                    source,
                })?
                .ok_or_else(|| framing::corrupt(&inner_position, "empty event".into()))?;
            let body = self.decode(&inner, &inner_position)?;
            self.pending.push_back(BinlogEvent {
                header,
                origin: EventOrigin::TransactionPayload(start),
                body,
            });
        }
        Ok(())
    }
}

impl<R: Read> Iterator for BinlogReader<R> {
    type Item = Result<BinlogEvent>;

    /// Yields events until the end of input; after an error it stops.
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let item = self.next_event().transpose();
        self.failed = matches!(item, Some(Err(_)));
        item
    }
}
