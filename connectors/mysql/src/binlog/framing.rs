//! Event framing, independent of event content: the file magic, the 19-byte v4 common header,
//! size sanity checks and the CRC32 trailer. Everything here is checked before any byte is
//! handed to a content parser, so malformed input ends in an error, never a panic.

use std::io::{self, Read};

use super::event::EventHeader;
use crate::error::{Error, Result};

/// The first four bytes of every binlog file.
pub const BINLOG_MAGIC: [u8; 4] = [0xfe, b'b', b'i', b'n'];
/// Length of the v4 common event header.
pub const HEADER_LEN: usize = 19;
/// Length of the CRC32 trailer when the checksum algorithm is CRC32.
pub const CHECKSUM_LEN: usize = 4;
/// MySQL caps events at max_allowed_packet (1 GiB); anything larger is corruption.
const MAX_EVENT_SIZE: u32 = 1 << 30;
/// The smallest FORMAT_DESCRIPTION body: version, server version, timestamp, header length.
const MIN_FDE_BODY: usize = 2 + 50 + 4 + 1;
pub(crate) const FORMAT_DESCRIPTION_TYPE: u8 = 15;
/// Offset of the low byte of the header flags.
const FLAGS_AT: usize = 17;
/// LOG_EVENT_BINLOG_IN_USE_F: the file was not closed cleanly (or is still being written).
const BINLOG_IN_USE_FLAG: u8 = 0x01;
pub(crate) const TRANSACTION_PAYLOAD_TYPE: u8 = 40;

impl EventHeader {
    /// Parses the common header (all fields little-endian).
    pub fn parse(bytes: &[u8; HEADER_LEN]) -> Self {
        let u32_at = |at: usize| {
            u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        EventHeader {
            timestamp: u32_at(0),
            type_code: bytes[4],
            server_id: u32_at(5),
            event_size: u32_at(9),
            log_pos: u32_at(13),
            flags: u16::from_le_bytes([bytes[17], bytes[18]]),
        }
    }
}

pub(crate) fn corrupt(position: &str, detail: String) -> Error {
    Error::Decode {
        context: position.to_owned(),
        source: io::Error::new(io::ErrorKind::InvalidData, detail),
    }
}

/// Reads as many bytes as are available up to `buf.len()`; returns how many were read.
fn read_up_to(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Reads the file magic; `Ok(Err(found))` when the bytes are not the binlog magic.
pub(crate) fn read_magic(input: &mut impl Read) -> io::Result<Result<(), Vec<u8>>> {
    let mut magic = [0u8; 4];
    let n = read_up_to(input, &mut magic)?;
    if n == 4 && magic == BINLOG_MAGIC {
        Ok(Ok(()))
    } else {
        Ok(Err(magic[..n].to_vec()))
    }
}

/// Reads one whole event (header included) into `raw`; `Ok(None)` at a clean end of input.
pub(crate) fn read_event(
    input: &mut impl Read,
    raw: &mut Vec<u8>,
    position: &str,
) -> Result<Option<EventHeader>> {
    let mut header_bytes = [0u8; HEADER_LEN];
    let io_error = |source| Error::Io {
        context: format!("reading the event at {position}"),
        source,
    };
    match read_up_to(input, &mut header_bytes).map_err(io_error)? {
        0 => return Ok(None),
        HEADER_LEN => {}
        n => {
            return Err(corrupt(
                position,
                format!("truncated event header: {n} of 19 bytes"),
            ));
        }
    }
    let header = EventHeader::parse(&header_bytes);
    if (header.event_size as usize) < HEADER_LEN || header.event_size > MAX_EVENT_SIZE {
        return Err(corrupt(
            position,
            format!("impossible event size {}", header.event_size),
        ));
    }
    raw.clear();
    raw.extend_from_slice(&header_bytes);
    let body_len = header.event_size as usize - HEADER_LEN;
    // Grow with the bytes actually present rather than trusting a possibly corrupt size.
    let got = input
        .take(body_len as u64)
        .read_to_end(raw)
        .map_err(io_error)?;
    if got < body_len {
        return Err(corrupt(
            position,
            format!("truncated event: {got} of {body_len} body bytes"),
        ));
    }
    Ok(Some(header))
}

/// Splits the next event off a decompressed TRANSACTION_PAYLOAD buffer.
pub(crate) fn split_event<'a>(
    buf: &mut &'a [u8],
    position: &str,
) -> Result<(EventHeader, &'a [u8])> {
    let Some(header_bytes) = buf.first_chunk::<HEADER_LEN>() else {
        return Err(corrupt(
            position,
            format!("truncated inner event header: {} bytes", buf.len()),
        ));
    };
    let header = EventHeader::parse(header_bytes);
    let size = header.event_size as usize;
    if size < HEADER_LEN || size > buf.len() {
        return Err(corrupt(
            position,
            format!(
                "impossible inner event size {size} ({} bytes left)",
                buf.len()
            ),
        ));
    }
    let (event, rest) = buf.split_at(size);
    *buf = rest;
    Ok((header, event))
}

/// Checks that an event is large enough for its parser: the FDE needs its fixed fields plus
/// the checksum descriptor, and every checksummed event needs room for its trailer.
pub(crate) fn check_min_size(
    header: &EventHeader,
    checksummed: bool,
    position: &str,
) -> Result<()> {
    let body = header.event_size as usize - HEADER_LEN;
    let needed = if header.type_code == FORMAT_DESCRIPTION_TYPE {
        MIN_FDE_BODY + 1 + CHECKSUM_LEN
    } else if checksummed {
        CHECKSUM_LEN
    } else {
        0
    };
    if body < needed {
        return Err(corrupt(
            position,
            format!(
                "event type {} too short: {body} body bytes",
                header.type_code
            ),
        ));
    }
    Ok(())
}

/// The checksum algorithm byte an FDE announces (just before its own 4-byte checksum).
pub(crate) fn fde_checksum_alg(raw: &[u8]) -> u8 {
    raw[raw.len() - CHECKSUM_LEN - 1]
}

/// Verifies the CRC32 trailer (zlib CRC-32 over everything before it).
pub(crate) fn verify_crc32(raw: &[u8], position: &str) -> Result<()> {
    let (covered, trailer) = raw.split_at(raw.len() - CHECKSUM_LEN);
    let stored = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let mut hasher = crc32fast::Hasher::new();
    if covered[4] == FORMAT_DESCRIPTION_TYPE && covered[FLAGS_AT] & BINLOG_IN_USE_FLAG != 0 {
        // The server sets IN_USE on an open file's FDE after checksumming it, so the checksum
        // covers the flags with that bit clear.
        hasher.update(&covered[..FLAGS_AT]);
        hasher.update(&[covered[FLAGS_AT] & !BINLOG_IN_USE_FLAG]);
        hasher.update(&covered[FLAGS_AT + 1..]);
    } else {
        hasher.update(covered);
    }
    let computed = hasher.finalize();
    if stored != computed {
        return Err(corrupt(
            position,
            format!("CRC32 mismatch: event says {stored:#010x}, bytes give {computed:#010x}"),
        ));
    }
    Ok(())
}
