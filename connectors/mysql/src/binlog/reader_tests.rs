//! Unit tests of the reader on byte-built events (see `test_encoder`), plus a property test
//! that arbitrary bytes end in errors, never panics.

use proptest::prelude::*;

use super::test_encoder::{self as enc, Column};
use super::*;
use crate::error::Error;

const SID: [u8; 16] = [0x11; 16];

fn read(bytes: &[u8]) -> Result<Vec<BinlogEvent>, Error> {
    BinlogReader::new(bytes, "test.bin")?.collect()
}

fn users_table_map() -> Vec<u8> {
    let columns = [
        Column {
            type_code: 3,
            meta: vec![],
        }, // LONG
        Column {
            type_code: 15,
            meta: 20u16.to_le_bytes().to_vec(),
        }, // VARCHAR(maxlen 20)
    ];
    let names = [&[2u8][..], b"id", &[4], b"name"].concat();
    // SIGNEDNESS (1): one bit per numeric column, MSB first: id UNSIGNED.
    // COLUMN_NAME (4), SIMPLE_PRIMARY_KEY (8): column 0.
    enum_free_table(&columns, &[(1, vec![0x80]), (4, names), (8, vec![0])])
}

fn enum_free_table(columns: &[Column], optional: &[(u8, Vec<u8>)]) -> Vec<u8> {
    enc::event(
        19,
        &enc::table_map_body(42, "shop", "users", columns, optional),
        true,
    )
}

fn users_rows() -> Vec<u8> {
    let rows = [
        (
            vec![0b00],
            [&u32::MAX.to_le_bytes()[..], &[2], b"hi"].concat(),
        ),
        (vec![0b10], 7u32.to_le_bytes().to_vec()), // name is NULL: only id's value follows
    ];
    enc::event(30, &enc::write_rows_body(42, 2, &rows), true)
}

#[test]
fn decodes_a_byte_built_gtid_event() {
    let gtid = enc::event(
        33,
        &enc::gtid_body(SID, 77, 5, 6, 1_700_000_000_123_456),
        true,
    );
    let events = read(&enc::file(true, &[gtid])).expect("decode");
    assert_eq!(
        events[0].body,
        EventBody::FormatDescription {
            server_version: "8.0.36".into(),
            checksum: ChecksumAlgorithm::Crc32
        }
    );
    let EventBody::Gtid(g) = events[1].body else {
        panic!("{:?}", events[1])
    };
    assert_eq!(g.kind, GtidKind::Assigned);
    assert_eq!(
        g.gtid.to_string(),
        "11111111-1111-1111-1111-111111111111:77"
    );
    assert_eq!((g.last_committed, g.sequence_number), (5, 6));
    assert_eq!(g.immediate_commit_timestamp_us, 1_700_000_000_123_456);
    assert_eq!(g.original_commit_timestamp_us, 1_700_000_000_123_456);
    assert_eq!(
        events[1].origin,
        EventOrigin::File(FileOffset(4 + events[0].header.event_size as u64))
    );
    assert_eq!(events[1].header.server_id, 7);
}

#[test]
fn decodes_table_map_metadata_and_write_rows() {
    let events = read(&enc::file(true, &[users_table_map(), users_rows()])).expect("decode");
    let EventBody::TableMap(map) = &events[1].body else {
        panic!("{:?}", events[1])
    };
    assert_eq!(
        (map.schema.as_str(), map.table.as_str(), map.table_id),
        ("shop", "users", 42)
    );
    assert_eq!(map.column_names(), Some(vec!["id", "name"]));
    assert_eq!(map.columns[0].unsigned, Some(true));
    assert_eq!(map.columns[1].unsigned, None, "VARCHAR has no signedness");
    assert_eq!(map.primary_key, [0]);
    let EventBody::Rows(rows) = &events[2].body else {
        panic!("{:?}", events[2])
    };
    assert_eq!(rows.kind, RowsKind::Insert);
    assert_eq!(rows.rows.len(), 2);
    assert_eq!(
        rows.rows[0].after.as_deref(),
        Some(&[Cell::UInt(u64::from(u32::MAX)), Cell::Bytes(b"hi".to_vec())][..])
    );
    assert_eq!(
        rows.rows[1].after.as_deref(),
        Some(&[Cell::UInt(7), Cell::Null][..])
    );
    assert_eq!(rows.rows[0].before, None);
}

#[test]
fn unpacks_a_zstd_transaction_payload_without_inner_checksums() {
    let inner = [
        enc::event(
            19,
            &enc::table_map_body(
                42,
                "shop",
                "users",
                &[Column {
                    type_code: 3,
                    meta: vec![],
                }],
                &[],
            ),
            false,
        ),
        enc::event(
            30,
            &enc::write_rows_body(42, 1, &[(vec![0], 5i32.to_le_bytes().to_vec())]),
            false,
        ),
        enc::event(16, &9u64.to_le_bytes(), false),
    ]
    .concat();
    let payload = enc::event(40, &enc::zstd_payload_body(&inner), true);
    let events = read(&enc::file(true, &[payload])).expect("decode");
    let payload_at = FileOffset(4 + events[0].header.event_size as u64);
    assert_eq!(events[1].origin, EventOrigin::File(payload_at));
    assert!(
        matches!(events[1].body, EventBody::TransactionPayload { uncompressed_size, .. } if uncompressed_size == inner.len() as u64)
    );
    assert!(
        events[2..]
            .iter()
            .all(|e| e.origin == EventOrigin::TransactionPayload(payload_at))
    );
    let EventBody::Rows(rows) = &events[3].body else {
        panic!("{:?}", events[3])
    };
    assert_eq!(rows.rows[0].after.as_deref(), Some(&[Cell::Int(5)][..]));
    assert_eq!(events[4].body, EventBody::Xid(9));
}

#[test]
fn checksum_off_files_are_read_without_trailers() {
    let xid = enc::event(16, &3u64.to_le_bytes(), false);
    let events = read(&enc::file(false, &[xid])).expect("decode");
    assert!(matches!(
        events[0].body,
        EventBody::FormatDescription {
            checksum: ChecksumAlgorithm::None,
            ..
        }
    ));
    assert_eq!(events[1].body, EventBody::Xid(3));
}

#[test]
fn corrupted_crc_is_reported_with_position() {
    let mut bytes = enc::file(true, &[enc::event(16, &3u64.to_le_bytes(), true)]);
    let last = bytes.len() - 6;
    bytes[last] ^= 0xff; // flip a byte of the XID body
    let err = read(&bytes).expect_err("corrupt");
    let text = err.to_string();
    assert!(
        text.contains("CRC32 mismatch") && text.contains("test.bin offset"),
        "{text}"
    );
}

#[test]
fn wrong_magic_names_the_file_and_the_fix() {
    let err = BinlogReader::new(&b"GIF89a"[..], "picture.gif").expect_err("not a binlog");
    assert!(matches!(&err, Error::NotABinlog { found, .. } if found == b"GIF8"));
    assert!(
        err.to_string()
            .contains("picture.gif is not a MySQL binlog file"),
        "{err}"
    );
}

#[test]
fn truncated_event_and_unknown_table_are_errors() {
    let mut bytes = enc::file(true, &[enc::event(16, &3u64.to_le_bytes(), true)]);
    bytes.truncate(bytes.len() - 3);
    let err = read(&bytes).expect_err("truncated");
    assert!(err.to_string().contains("truncated event"), "{err}");

    let err = read(&enc::file(true, &[users_rows()])).expect_err("no table map");
    assert!(
        matches!(err, Error::MissingTableMap { table_id: 42, .. }),
        "{err}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_after_a_valid_header_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..300)) {
        for crc in [true, false] {
            let mut bytes = enc::file(crc, &[]);
            bytes.extend_from_slice(&tail);
            let _ = read(&bytes);
        }
    }

    #[test]
    fn random_event_bodies_never_panic(type_code in 0u8..45, body in proptest::collection::vec(any::<u8>(), 0..200)) {
        // A correct frame and checksum around garbage reaches the content parsers.
        let _ = read(&enc::file(true, &[users_table_map(), enc::event(type_code, &body, true)]));
        let _ = read(&enc::file(false, &[users_table_map(), enc::event(type_code, &body, false)]));
    }

    #[test]
    fn mutated_valid_files_never_panic(at in 0usize..400, byte in any::<u8>()) {
        let mut bytes = enc::file(true, &[users_table_map(), users_rows()]);
        let at = at % bytes.len();
        bytes[at] = byte;
        let _ = read(&bytes);
    }
}
