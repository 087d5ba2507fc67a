//! Round-trip, layout and corruption tests for the RecordBatch v2 codec.

use bytes::Bytes;
use proptest::prelude::*;

use super::*;

fn record(key: Option<&str>, value: Option<&str>, ts: i64) -> Record {
    Record {
        key: key.map(|k| Bytes::copy_from_slice(k.as_bytes())),
        value: value.map(|v| Bytes::copy_from_slice(v.as_bytes())),
        headers: Vec::new(),
        timestamp_ms: ts,
    }
}

#[test]
fn header_fields_sit_where_the_kafka_spec_puts_them() {
    let mut out = Vec::new();
    let records = [
        record(Some("k"), Some("v"), 1_000),
        record(None, None, 1_005),
    ];
    encode_batch(&mut out, Offset(42), &records);
    let header = BatchHeader::parse(&out).unwrap();
    assert_eq!(header.base_offset, Offset(42));
    assert_eq!(header.total_len(), out.len());
    assert_eq!(header.magic, 2);
    assert_eq!(header.partition_leader_epoch, -1);
    assert_eq!(header.last_offset_delta, 1);
    assert_eq!(header.base_timestamp, 1_000);
    assert_eq!(header.max_timestamp, 1_005);
    assert_eq!(header.producer_id, -1);
    assert_eq!(header.producer_epoch, -1);
    assert_eq!(header.base_sequence, -1);
    assert_eq!(header.record_count, 2);
    assert_eq!(header.crc, crc32c::crc32c(&out[21..]));
    // First record, byte by byte: length 8, attributes, tsDelta 0, offsetDelta 0,
    // key len 1 'k', value len 1 'v', 0 headers (zigzag varints).
    assert_eq!(&out[61..70], &[16, 0, 0, 0, 2, b'k', 2, b'v', 0]);
    // Second record: null key and value are length -1 (zigzag 0x01); tsDelta 5, offsetDelta 1.
    assert_eq!(&out[70..], &[12, 0, 10, 2, 1, 1, 0]);
}

#[test]
fn crc_detects_a_flipped_bit_and_ignores_base_offset() {
    let mut out = Vec::new();
    encode_batch(&mut out, Offset(0), &[record(Some("a"), Some("b"), 7)]);
    set_base_offset(&mut out, Offset(9_000));
    verify_crc(&out).unwrap();
    assert_eq!(BatchHeader::parse(&out).unwrap().base_offset, Offset(9_000));
    let last = out.len() - 1;
    out[last] ^= 0x10;
    assert!(matches!(verify_crc(&out), Err(DecodeError::Crc { .. })));
}

#[test]
fn wrong_magic_and_short_length_are_rejected() {
    let mut out = Vec::new();
    encode_batch(&mut out, Offset(0), &[record(None, Some("x"), 0)]);
    let mut bad_magic = out.clone();
    bad_magic[16] = 1;
    assert!(matches!(
        BatchHeader::parse(&bad_magic),
        Err(DecodeError::Magic(1))
    ));
    let mut bad_length = out.clone();
    bad_length[8..12].copy_from_slice(&10i32.to_be_bytes());
    assert!(matches!(
        BatchHeader::parse(&bad_length),
        Err(DecodeError::BadLength(10))
    ));
    assert!(matches!(
        BatchHeader::parse(&out[..30]),
        Err(DecodeError::Truncated { .. })
    ));
}

#[test]
fn explicit_deltas_keep_offsets_and_range() {
    let a = record(Some("a"), Some("1"), 100);
    let b = record(Some("b"), None, 150);
    let layout = BatchLayout {
        base_offset: Offset(10),
        base_timestamp: 90,
        last_offset_delta: 9,
    };
    let mut out = Vec::new();
    encode_batch_entries(&mut out, layout, [(3, &a), (7, &b)].into_iter());
    let header = BatchHeader::parse(&out).unwrap();
    assert_eq!(header.last_offset(), Offset(19));
    let decoded = decode_records(&Bytes::from(out)).unwrap();
    assert_eq!(decoded[0].offset, Offset(13));
    assert_eq!(decoded[1].offset, Offset(17));
    assert_eq!(decoded[0].record, a);
    assert_eq!(decoded[1].record, b);
}

fn arb_bytes() -> impl Strategy<Value = Option<Bytes>> {
    proptest::option::of(proptest::collection::vec(any::<u8>(), 0..300).prop_map(Bytes::from))
}

fn arb_record() -> impl Strategy<Value = Record> {
    let header = ("[a-zA-Z0-9_.é]{0,20}", arb_bytes()).prop_map(|(key, value)| Header {
        key: key.into(),
        value,
    });
    (
        arb_bytes(),
        arb_bytes(),
        proptest::collection::vec(header, 0..4),
        -1_000_000_000_000i64..4_000_000_000_000,
    )
        .prop_map(|(key, value, headers, timestamp_ms)| Record {
            key,
            value,
            headers,
            timestamp_ms,
        })
}

proptest! {
    #[test]
    fn batches_round_trip(records in proptest::collection::vec(arb_record(), 1..20), base in 0i64..1 << 40) {
        let mut out = Vec::new();
        encode_batch(&mut out, Offset(base), &records);
        verify_crc(&out).unwrap();
        let header = BatchHeader::parse(&out).unwrap();
        prop_assert_eq!(header.total_len(), out.len());
        prop_assert_eq!(header.last_offset(), Offset(base + records.len() as i64 - 1));
        let max_ts = records.iter().map(|r| r.timestamp_ms).max().unwrap();
        prop_assert_eq!(header.max_timestamp, max_ts);
        let decoded = decode_records(&Bytes::from(out)).unwrap();
        prop_assert_eq!(decoded.len(), records.len());
        for (i, (got, want)) in decoded.iter().zip(&records).enumerate() {
            prop_assert_eq!(got.offset, Offset(base + i as i64));
            prop_assert_eq!(&got.record, want);
        }
    }

    #[test]
    fn any_single_byte_change_after_the_crc_is_caught(
        records in proptest::collection::vec(arb_record(), 1..5),
        position in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let mut out = Vec::new();
        encode_batch(&mut out, Offset(0), &records);
        let at = 21 + position.index(out.len() - 21);
        out[at] ^= flip;
        prop_assert!(verify_crc(&out).is_err());
    }

    #[test]
    fn lz4_batches_round_trip_with_the_same_header(records in proptest::collection::vec(arb_record(), 1..20), base in 0i64..1 << 40) {
        let mut plain = Vec::new();
        encode_batch(&mut plain, Offset(base), &records);
        let mut packed = Vec::new();
        encode_batch_with(&mut packed, Offset(base), &records, Codec::Lz4);
        verify_crc(&packed).unwrap();
        let (p, z) = (BatchHeader::parse(&plain).unwrap(), BatchHeader::parse(&packed).unwrap());
        prop_assert_eq!(z.total_len(), packed.len());
        prop_assert_eq!(z.attributes, 3);
        prop_assert_eq!(
            (z.base_offset, z.last_offset_delta, z.base_timestamp, z.max_timestamp, z.record_count),
            (p.base_offset, p.last_offset_delta, p.base_timestamp, p.max_timestamp, p.record_count)
        );
        let decoded = decode_records(&Bytes::from(packed)).unwrap();
        let plain_decoded = decode_records(&Bytes::from(plain)).unwrap();
        prop_assert_eq!(decoded, plain_decoded);
    }

    #[test]
    fn decoding_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = BatchHeader::parse(&bytes);
        let _ = decode_records(&Bytes::from(bytes));
    }
}

/// The LZ4 section is compressed while the records are encoded, in pieces: the frame must be
/// byte for byte the one compressing the whole uncompressed section at once gives (fields
/// below and above the staging limit, frames of several 64 KiB blocks).
#[test]
fn streamed_lz4_sections_equal_one_shot_compression() {
    let records: Vec<Record> = (0..400)
        .map(|i| {
            let len = match i % 7 {
                0 => 40_000,
                1 => 16 << 10,
                2 => 600,
                _ => 30 + i % 50,
            };
            let text: String = (0..len)
                .map(|j| (b'a' + ((i + j / 7) % 26) as u8) as char)
                .collect();
            let mut r = record(Some(&format!("key-{i}")), Some(&text), 1_000 + i as i64);
            r.headers.push(Header {
                key: "__sluice.task".into(),
                value: Some(Bytes::from_static(b"c-0@0")),
            });
            r
        })
        .collect();
    let mut plain = Vec::new();
    encode_batch(&mut plain, Offset(7), &records);
    let mut one_shot = plain[..BATCH_HEADER_LEN].to_vec();
    crate::codec::compression::compress_lz4(&plain[BATCH_HEADER_LEN..], &mut one_shot);
    let mut streamed = Vec::new();
    encode_batch_with(&mut streamed, Offset(7), &records, Codec::Lz4);
    assert!(plain.len() > 8 * (64 << 10), "several LZ4 blocks");
    assert_eq!(streamed.len(), one_shot.len());
    assert!(
        streamed[BATCH_HEADER_LEN..] == one_shot[BATCH_HEADER_LEN..],
        "the streamed frame differs"
    );
    verify_crc(&streamed).unwrap();
    let decoded = decode_records(&Bytes::from(streamed)).unwrap();
    assert_eq!(decoded.len(), records.len());
    assert!(decoded.iter().zip(&records).all(|(d, r)| d.record == *r));
}
