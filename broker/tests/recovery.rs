//! Crash recovery of the storage core: tails cut or corrupted at random byte positions lose
//! only the damaged batch and what follows it; corrupt sealed segments are never served.

mod common;

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use common::{XorShift, copy_dir, open_log, read_all, value_for};
use sluice_broker::log::AppendInfo;
use sluice_broker::{Error, Offset, Record};

/// Writes `batches` batches of 1–5 records; returns the acks and the record values by offset.
fn write_log(dir: &Path, batches: u64, segment_bytes: u64) -> (Vec<AppendInfo>, Vec<Record>) {
    let log = open_log(dir, segment_bytes);
    let mut acks = Vec::new();
    let mut written = Vec::new();
    let mut rng = XorShift(7);
    for _ in 0..batches {
        let n = 1 + rng.below(5);
        let records: Vec<Record> = (0..n)
            .map(|i| Record::new(None, Some(value_for(written.len() as u64 + i))))
            .collect();
        let ack = log.append(&records).unwrap();
        assert_eq!(ack.base_offset, Offset(written.len() as i64));
        written.extend(records);
        acks.push(ack);
    }
    (acks, written)
}

fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    files.sort();
    files
}

/// Batch boundaries (start positions) of a segment file, from the codec.
fn batch_starts(path: &Path) -> Vec<(u64, Offset, Offset)> {
    let bytes = std::fs::read(path).unwrap();
    let mut at = 0usize;
    let mut out = Vec::new();
    while at < bytes.len() {
        let header = sluice_broker::codec::BatchHeader::parse(&bytes[at..]).unwrap();
        out.push((at as u64, header.base_offset, header.last_offset()));
        at += header.total_len();
    }
    out
}

#[test]
fn tail_cut_at_random_positions_keeps_every_complete_batch() {
    let original = tempfile::tempdir().unwrap();
    let (_acks, written) = write_log(original.path(), 120, 4096);
    let segments = segment_files(original.path());
    assert!(segments.len() >= 3, "the test needs sealed segments too");
    let tail_name = segments.last().unwrap().file_name().unwrap().to_owned();
    let tail_len = std::fs::metadata(segments.last().unwrap()).unwrap().len();
    let starts = batch_starts(segments.last().unwrap());
    let mut rng = XorShift(99);
    for round in 0..40 {
        let cut = if round == 0 {
            0
        } else {
            rng.below(tail_len + 1)
        };
        let copy = tempfile::tempdir().unwrap();
        copy_dir(original.path(), copy.path());
        let tail = copy.path().join(&tail_name);
        OpenOptions::new()
            .write(true)
            .open(&tail)
            .unwrap()
            .set_len(cut)
            .unwrap();
        // Indexes may be stale or missing after a crash; drop them in half the rounds.
        if round % 2 == 0 {
            let _ = std::fs::remove_file(tail.with_extension("index"));
        }

        let log = open_log(copy.path(), 4096);
        // The surviving end: the last batch that lies completely before the cut.
        let survivors_end = starts
            .iter()
            .filter(|(pos, ..)| *pos < cut)
            .zip(starts.iter().skip(1).map(|(p, ..)| *p).chain([tail_len]))
            .filter(|(_, end)| *end <= cut)
            .map(|((_, _, last), _)| last.plus(1))
            .last()
            .unwrap_or(starts[0].1);
        assert_eq!(log.high_watermark(), survivors_end, "cut at {cut}");
        let records = read_all(&log, Offset(0)).unwrap();
        assert_eq!(records.len() as i64, survivors_end.0);
        for r in &records {
            assert_eq!(
                r.record.value, written[r.offset.0 as usize].value,
                "offset {}",
                r.offset
            );
        }
        // The log keeps working after recovery, at the next dense offset.
        let ack = log
            .append(&[Record::new(None, Some("after".into()))])
            .unwrap();
        assert_eq!(ack.base_offset, survivors_end);
        drop(log);
        let reopened = open_log(copy.path(), 4096);
        assert_eq!(reopened.high_watermark(), survivors_end.plus(1));
        assert!(
            reopened.torn_tail().is_none(),
            "a clean reopen truncates nothing"
        );
    }
}

#[test]
fn corrupted_tail_byte_truncates_from_the_damaged_batch() {
    let original = tempfile::tempdir().unwrap();
    let (_acks, written) = write_log(original.path(), 60, 1 << 20);
    let segments = segment_files(original.path());
    let tail_name = segments.last().unwrap().file_name().unwrap().to_owned();
    let starts = batch_starts(segments.last().unwrap());
    let tail_len = std::fs::metadata(segments.last().unwrap()).unwrap().len();
    let mut rng = XorShift(1234);
    for _ in 0..40 {
        let position = rng.below(tail_len);
        let copy = tempfile::tempdir().unwrap();
        copy_dir(original.path(), copy.path());
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(copy.path().join(&tail_name))
            .unwrap();
        let mut byte = [0u8];
        file.read_exact_at(&mut byte, position).unwrap();
        file.write_all_at(&[byte[0] ^ 0x5a], position).unwrap();
        drop(file);

        let (damaged_start, damaged_base, _) =
            *starts.iter().rev().find(|(p, ..)| *p <= position).unwrap();
        let log = open_log(copy.path(), 1 << 20);
        // The base offset field is outside the CRC: damage there is caught by the offset order
        // check, or by the length/magic checks in the other header fields.
        let torn = log.torn_tail().expect("damage is detected");
        assert_eq!(torn.position, damaged_start, "flip at {position}");
        assert_eq!(log.high_watermark(), damaged_base);
        let records = read_all(&log, Offset(0)).unwrap();
        assert_eq!(records.len() as i64, damaged_base.0);
        for r in &records {
            assert_eq!(r.record.value, written[r.offset.0 as usize].value);
        }
    }
}

#[test]
fn corruption_in_a_sealed_segment_is_reported_not_served() {
    let original = tempfile::tempdir().unwrap();
    let (_acks, _written) = write_log(original.path(), 120, 4096);
    let segments = segment_files(original.path());
    let first = &segments[0];
    let starts = batch_starts(first);
    let (victim_pos, victim_base, _) = starts[starts.len() / 2];
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(first)
        .unwrap();
    // Flip a byte in the victim's record area (covered by the CRC).
    file.write_all_at(&[0xff], victim_pos + 65).unwrap();
    drop(file);
    for drop_indexes in [false, true] {
        if drop_indexes {
            std::fs::remove_file(first.with_extension("index")).unwrap();
        }
        let log = open_log(original.path(), 4096);
        let hw = log.high_watermark();
        // Everything before the victim is still served.
        let before = log.read(Offset(0), 1).unwrap();
        assert_eq!(before.batches[0].header.base_offset, Offset(0));
        // Reading the victim fails loudly with its location.
        match log.read(victim_base, 1 << 20) {
            Err(Error::Corrupt { path, position, .. }) => {
                assert_eq!(&path, first);
                assert_eq!(position, victim_pos);
            }
            other => panic!("corrupt batch was served or misreported: {other:?}"),
        }
        // Data in later segments stays readable, and the log still accepts writes.
        let second_base = batch_starts(&segments[1])[0].1;
        assert!(!log.read(second_base, 1).unwrap().batches.is_empty());
        assert_eq!(
            log.append(&[Record::new(None, None)]).unwrap().base_offset,
            hw
        );
    }
}
