//! Appends write large keys and values straight from the records' buffers (vectored writes):
//! the segment file must hold exactly the bytes of the contiguous encoding, batch after batch,
//! also when a batch has more slices than one `writev` takes, and reopen without a torn tail.

mod common;

use bytes::Bytes;
use sluice_broker::codec::batch::encode_batch;
use sluice_broker::codec::batch_buf::BY_REFERENCE_MIN;
use sluice_broker::{Header, Offset, Record};

/// A record whose key and value have the given lengths (`None`: null), with two headers.
fn record(n: usize, key_len: Option<usize>, value_len: Option<usize>) -> Record {
    let bytes = |len: usize, salt: usize| {
        Bytes::from(
            (0..len)
                .map(|i| (i * 31 + n * 7 + salt) as u8)
                .collect::<Vec<u8>>(),
        )
    };
    Record {
        key: key_len.map(|len| bytes(len, 1)),
        value: value_len.map(|len| bytes(len, 2)),
        headers: vec![
            Header {
                key: "__sluice.task".into(),
                value: Some(Bytes::from_static(b"c-0@0")),
            },
            Header {
                key: format!("h{n}").into(),
                value: Some(bytes(BY_REFERENCE_MIN + n % 64, 3)),
            },
        ],
        timestamp_ms: 1_700_000_000_000 + (n as i64 % 5) - 2,
    }
}

/// Field sizes on both sides of the by-reference threshold, empty and null.
fn mixed_batch(first: usize, count: usize) -> Vec<Record> {
    let sizes = [
        None,
        Some(0),
        Some(1),
        Some(BY_REFERENCE_MIN - 1),
        Some(BY_REFERENCE_MIN),
        Some(BY_REFERENCE_MIN + 1),
        Some(3_500),
        Some(70_000),
    ];
    (first..first + count)
        .map(|n| record(n, sizes[n % sizes.len()], sizes[(n / 3 + 4) % sizes.len()]))
        .collect()
}

/// Appends `batches` one by one, then checks the file against the contiguous encoding and
/// that a reopened log serves the same records without truncating anything.
fn appended_file_equals_contiguous_encoding(batches: Vec<Vec<Record>>) {
    let dir = tempfile::tempdir().unwrap();
    let log = common::open_log(dir.path(), 1 << 30);
    let mut expected = Vec::new();
    let mut next = Offset(0);
    for records in &batches {
        let info = log.append(records).unwrap();
        assert_eq!(info.base_offset, next);
        encode_batch(&mut expected, next, records);
        next = info.last_offset.plus(1);
    }
    let file = std::fs::read(dir.path().join("00000000000000000000.log")).unwrap();
    assert_eq!(file.len(), expected.len(), "segment length");
    assert!(
        file == expected,
        "segment bytes differ from the contiguous encoding"
    );
    drop(log);

    let reopened = common::open_log(dir.path(), 1 << 30);
    assert!(
        reopened.torn_tail().is_none(),
        "nothing torn after clean appends"
    );
    assert_eq!(reopened.high_watermark(), next);
    let read = common::read_all(&reopened, Offset(0)).unwrap();
    let stored: Vec<&Record> = read.iter().map(|r| &r.record).collect();
    let appended: Vec<&Record> = batches.iter().flatten().collect();
    assert!(stored == appended, "records read back differ");
}

#[test]
fn segments_hold_the_contiguous_encodings_bytes() {
    appended_file_equals_contiguous_encoding(vec![
        mixed_batch(0, 1),
        mixed_batch(1, 17),
        mixed_batch(18, 3),
    ]);
}

#[test]
fn batches_of_more_slices_than_one_writev_takes_are_written_whole() {
    // Each record refers to its value and a header value: four slices a record with the
    // framing between them, 2,400 in all, more than the kernel's 1,024 per writev (and under
    // the test log's 1 MiB batch limit).
    let many: Vec<Record> = (0..600)
        .map(|n| record(n, None, Some(BY_REFERENCE_MIN + n % 100)))
        .collect();
    appended_file_equals_contiguous_encoding(vec![mixed_batch(0, 5), many, mixed_batch(5, 5)]);
}
