//! Our RecordBatch v2 bytes against an independent implementation (the `kafka-protocol`
//! crate's record codec): what we store decodes there unchanged, and batches it encodes (as a
//! Kafka producer would send them) decode here, so stored batches can be served as-is over the
//! Kafka protocol.

use bytes::{Bytes, BytesMut};
use kafka_protocol::indexmap::IndexMap;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{
    Compression, Record as KafkaRecord, RecordBatchDecoder, RecordBatchEncoder,
    RecordEncodeOptions, TimestampType,
};
use proptest::prelude::*;
use sluice_broker::codec::Codec;
use sluice_broker::codec::batch::{
    decode_records, encode_batch, encode_batch_vectored, encode_batch_with, verify_crc,
};
use sluice_broker::{Header, Offset, Record};

fn arb_bytes() -> impl Strategy<Value = Option<Bytes>> {
    proptest::option::of(proptest::collection::vec(any::<u8>(), 0..200).prop_map(Bytes::from))
}

fn arb_record() -> impl Strategy<Value = Record> {
    // Kafka headers are a map in this crate, so keys are made unique below.
    let header = ("[a-z]{1,8}", arb_bytes()).prop_map(|(key, value)| Header {
        key: key.into(),
        value,
    });
    (
        arb_bytes(),
        arb_bytes(),
        proptest::collection::vec(header, 0..3),
        0i64..4_000_000_000_000,
    )
        .prop_map(|(key, value, mut headers, timestamp_ms)| {
            headers.sort_by(|a, b| a.key.cmp(&b.key));
            headers.dedup_by(|a, b| a.key == b.key);
            Record {
                key,
                value,
                headers,
                timestamp_ms,
            }
        })
}

/// The record as the Kafka codec models it at `base + index`. Without idempotence the batch's
/// base sequence is -1 and that codec derives record sequences as base + offset delta.
fn to_kafka(record: &Record, base: i64, index: usize) -> KafkaRecord {
    let mut headers = IndexMap::new();
    for h in &record.headers {
        headers.insert(StrBytes::from_string(h.key.to_string()), h.value.clone());
    }
    KafkaRecord {
        transactional: false,
        control: false,
        delete_horizon: false,
        partition_leader_epoch: -1,
        producer_id: -1,
        producer_epoch: -1,
        timestamp_type: TimestampType::Creation,
        offset: base + index as i64,
        sequence: index as i32 - 1,
        timestamp: record.timestamp_ms,
        key: record.key.clone(),
        value: record.value.clone(),
        headers,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn stored_batches_decode_with_an_independent_kafka_codec(
        records in proptest::collection::vec(arb_record(), 1..12),
        base in 0i64..1 << 40,
    ) {
        let mut ours = Vec::new();
        encode_batch(&mut ours, Offset(base), &records);
        let mut buf = Bytes::from(ours);
        let decoded = RecordBatchDecoder::decode(&mut buf).unwrap();
        prop_assert_eq!(decoded.version, 2);
        prop_assert_eq!(decoded.compression, Compression::None);
        prop_assert_eq!(decoded.records.len(), records.len());
        for (i, (theirs, want)) in decoded.records.iter().zip(&records).enumerate() {
            prop_assert_eq!(theirs, &to_kafka(want, base, i));
        }
    }

    #[test]
    fn batches_from_a_kafka_encoder_decode_here(
        records in proptest::collection::vec(arb_record(), 1..12),
        base in 0i64..1 << 40,
    ) {
        let kafka: Vec<KafkaRecord> = records.iter().enumerate().map(|(i, r)| to_kafka(r, base, i)).collect();
        let mut buf = BytesMut::new();
        let options = RecordEncodeOptions { version: 2, compression: Compression::None };
        RecordBatchEncoder::encode(&mut buf, &kafka, &options).unwrap();
        let bytes = buf.freeze();
        verify_crc(&bytes).unwrap();
        let decoded = decode_records(&bytes).unwrap();
        prop_assert_eq!(decoded.len(), records.len());
        for (i, (got, want)) in decoded.iter().zip(&records).enumerate() {
            prop_assert_eq!(got.offset, Offset(base + i as i64));
            prop_assert_eq!(&got.record, want);
        }
    }
}

/// Some values long enough to be written by reference in a vectored batch.
fn arb_record_with_large_values() -> impl Strategy<Value = Record> {
    let large = proptest::option::of(
        proptest::collection::vec(any::<u8>(), 400..3_000).prop_map(Bytes::from),
    );
    (arb_record(), large).prop_map(|(mut record, large)| {
        if large.is_some() {
            record.value = large;
        }
        record
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// What the broker appends (the vectored encoding, large fields by reference) is, byte
    /// for byte, what the contiguous encoder (also with LZ4) and an independent Kafka encoder
    /// produce. (With
    /// timestamps in order: that encoder takes the smallest as the base timestamp, where this
    /// broker, like Kafka's Java producer, takes the first record's.)
    #[test]
    fn vectored_batches_are_byte_identical_to_a_kafka_encoders(
        mut records in proptest::collection::vec(arb_record_with_large_values(), 1..12),
        base in 0i64..1 << 40,
    ) {
        let mut timestamps: Vec<i64> = records.iter().map(|r| r.timestamp_ms).collect();
        timestamps.sort_unstable();
        for (record, timestamp) in records.iter_mut().zip(timestamps) {
            record.timestamp_ms = timestamp;
        }
        let vectored = encode_batch_vectored(Offset(base), &records, Codec::None, 0).unwrap().to_vec();
        let mut contiguous = Vec::new();
        encode_batch(&mut contiguous, Offset(base), &records);
        prop_assert_eq!(&vectored, &contiguous);
        let lz4 = encode_batch_vectored(Offset(base), &records, Codec::Lz4, 0).unwrap().to_vec();
        let mut contiguous_lz4 = Vec::new();
        encode_batch_with(&mut contiguous_lz4, Offset(base), &records, Codec::Lz4);
        prop_assert_eq!(&lz4, &contiguous_lz4);

        let kafka: Vec<KafkaRecord> = records.iter().enumerate().map(|(i, r)| to_kafka(r, base, i)).collect();
        let mut buf = BytesMut::new();
        let options = RecordEncodeOptions { version: 2, compression: Compression::None };
        RecordBatchEncoder::encode(&mut buf, &kafka, &options).unwrap();
        prop_assert_eq!(&vectored[..], &buf[..]);
    }
}
