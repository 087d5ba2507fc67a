//! Test-only binlog encoder: builds events byte by byte from the documented v4 format so unit
//! tests can exercise the reader without a server or the shared fixtures.

/// FDE post-header lengths of MySQL 8.0 (index i = event type i + 1).
const POST_HEADER_LENGTHS: [u8; 40] = [
    0, 13, 0, 8, 0, 0, 0, 0, 4, 0, 4, 0, 0, 0, 97, 0, 4, 26, 8, 0, 0, 0, 8, 8, 8, 2, 0, 0, 0, 10,
    10, 10, 42, 42, 0, 18, 52, 0, 10, 40,
];

/// Length-encoded integer as MySQL packs it.
pub fn lenenc(value: u64) -> Vec<u8> {
    match value {
        0..=250 => vec![value as u8],
        251..=0xffff => [&[0xfc][..], &(value as u16).to_le_bytes()].concat(),
        0x1_0000..=0xff_ffff => [&[0xfd][..], &value.to_le_bytes()[..3]].concat(),
        _ => [&[0xfe][..], &value.to_le_bytes()[..]].concat(),
    }
}

/// A whole event: header, body, and a CRC32 trailer when `crc` is set.
pub fn event(type_code: u8, body: &[u8], crc: bool) -> Vec<u8> {
    let size = 19 + body.len() + if crc { 4 } else { 0 };
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&1_700_000_000u32.to_le_bytes());
    out.push(type_code);
    out.extend_from_slice(&7u32.to_le_bytes());
    out.extend_from_slice(&(size as u32).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(body);
    if crc {
        let sum = crc32fast::hash(&out);
        out.extend_from_slice(&sum.to_le_bytes());
    }
    out
}

/// FORMAT_DESCRIPTION for "8.0.36" with checksum algorithm CRC32 or OFF.
pub fn format_description(crc: bool) -> Vec<u8> {
    let mut body = 4u16.to_le_bytes().to_vec();
    let mut version = [0u8; 50];
    version[..6].copy_from_slice(b"8.0.36");
    body.extend_from_slice(&version);
    body.extend_from_slice(&1_700_000_000u32.to_le_bytes());
    body.push(19);
    body.extend_from_slice(&POST_HEADER_LENGTHS);
    body.push(u8::from(crc));
    // The FDE always carries a checksum slot; with OFF it is not verified.
    if crc {
        event(15, &body, true)
    } else {
        let mut out = event(15, &body, false);
        out.extend_from_slice(&[0; 4]);
        let size = out.len() as u32;
        out[9..13].copy_from_slice(&size.to_le_bytes());
        out
    }
}

/// A binlog file: magic, FDE, then the given events.
pub fn file(crc: bool, events: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"\xfebin".to_vec();
    out.extend(format_description(crc));
    for e in events {
        out.extend_from_slice(e);
    }
    out
}

/// GTID event body (MySQL 8 layout with logical timestamps and commit timestamps).
pub fn gtid_body(
    sid: [u8; 16],
    gno: u64,
    last_committed: u64,
    sequence: u64,
    commit_us: u64,
) -> Vec<u8> {
    let mut body = vec![1u8];
    body.extend_from_slice(&sid);
    body.extend_from_slice(&gno.to_le_bytes());
    body.push(2); // logical timestamp type code
    body.extend_from_slice(&last_committed.to_le_bytes());
    body.extend_from_slice(&sequence.to_le_bytes());
    body.extend_from_slice(&commit_us.to_le_bytes()[..7]); // high bit clear: original = immediate
    body.extend(lenenc(300)); // transaction length
    body.extend_from_slice(&80036u32.to_le_bytes()); // immediate server version, same as original
    body
}

/// One column for [`table_map_body`]: type code and its metadata bytes.
pub struct Column {
    pub type_code: u8,
    pub meta: Vec<u8>,
}

/// TABLE_MAP body; `optional` is a list of (field type, value bytes) TLVs.
pub fn table_map_body(
    table_id: u64,
    schema: &str,
    table: &str,
    columns: &[Column],
    optional: &[(u8, Vec<u8>)],
) -> Vec<u8> {
    let mut body = table_id.to_le_bytes()[..6].to_vec();
    body.extend_from_slice(&1u16.to_le_bytes());
    for name in [schema, table] {
        body.push(name.len() as u8);
        body.extend_from_slice(name.as_bytes());
        body.push(0);
    }
    body.extend(lenenc(columns.len() as u64));
    body.extend(columns.iter().map(|c| c.type_code));
    let meta: Vec<u8> = columns.iter().flat_map(|c| c.meta.clone()).collect();
    body.extend(lenenc(meta.len() as u64));
    body.extend(meta);
    body.extend(vec![0xffu8; columns.len().div_ceil(8)]); // every column nullable
    for (field, value) in optional {
        body.push(*field);
        body.extend(lenenc(value.len() as u64));
        body.extend_from_slice(value);
    }
    body
}

/// WRITE_ROWS v2 body with every column present; each row is (null bitmap, value bytes).
pub fn write_rows_body(table_id: u64, column_count: usize, rows: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut body = table_id.to_le_bytes()[..6].to_vec();
    body.extend_from_slice(&1u16.to_le_bytes()); // STMT_END_F
    body.extend_from_slice(&2u16.to_le_bytes()); // extra-data length includes itself: none
    body.extend(lenenc(column_count as u64));
    body.extend(vec![0xffu8; column_count.div_ceil(8)]);
    for (nulls, values) in rows {
        body.extend_from_slice(nulls);
        body.extend_from_slice(values);
    }
    body
}

/// TRANSACTION_PAYLOAD body holding `inner` events compressed with zstd.
pub fn zstd_payload_body(inner: &[u8]) -> Vec<u8> {
    let compressed = zstd::encode_all(inner, 3).expect("zstd compress");
    let mut body = Vec::new();
    for (field, value) in [
        (1u64, compressed.len() as u64),
        (2, 0),
        (3, inner.len() as u64),
    ] {
        let value = lenenc(value);
        body.extend(lenenc(field));
        body.extend(lenenc(value.len() as u64));
        body.extend(value);
    }
    body.extend(lenenc(0)); // end of fields
    body.extend(compressed);
    body
}
