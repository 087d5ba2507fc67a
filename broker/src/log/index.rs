//! Sparse segment indexes kept in memory and mirrored to files: the offset index (`.index`,
//! relative offset → byte position) and the time index (`.timeindex`, max timestamp of all
//! earlier records → relative offset). Entries are added in lock step, one per
//! `index_interval_bytes` of log, and point at batch starts.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

const OFFSET_ENTRY: usize = 8;
const TIME_ENTRY: usize = 12;

/// One offset index entry: the batch at `position` starts at `base + relative_offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetEntry {
    pub relative_offset: u32,
    pub position: u32,
}

/// One time index entry: every record before `base + relative_offset` has a timestamp
/// `<= max_timestamp_before`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeEntry {
    pub max_timestamp_before: i64,
    pub relative_offset: u32,
}

/// The two sparse indexes of one segment.
#[derive(Debug)]
pub struct SegmentIndex {
    offset_path: PathBuf,
    time_path: PathBuf,
    offsets: Vec<OffsetEntry>,
    times: Vec<TimeEntry>,
    /// How many entries are already in the files.
    written: usize,
    offset_file: Option<File>,
    time_file: Option<File>,
}

impl SegmentIndex {
    /// An empty index for a segment whose log is `log_path` (`x.log` → `x.index`, `x.timeindex`).
    pub fn empty(log_path: &Path) -> SegmentIndex {
        SegmentIndex {
            offset_path: log_path.with_extension("index"),
            time_path: log_path.with_extension("timeindex"),
            offsets: Vec::new(),
            times: Vec::new(),
            written: 0,
            offset_file: None,
            time_file: None,
        }
    }

    /// Loads both index files if they exist and are consistent with a log of `log_len` bytes.
    /// Returns `None` when either is missing, torn or out of order, so the caller rebuilds.
    pub fn load(log_path: &Path, log_len: u64) -> io::Result<Option<SegmentIndex>> {
        let mut index = SegmentIndex::empty(log_path);
        let (Some(offset_bytes), Some(time_bytes)) = (
            read_if_exists(&index.offset_path)?,
            read_if_exists(&index.time_path)?,
        ) else {
            return Ok(None);
        };
        if offset_bytes.len() % OFFSET_ENTRY != 0
            || time_bytes.len() % TIME_ENTRY != 0
            || offset_bytes.len() / OFFSET_ENTRY != time_bytes.len() / TIME_ENTRY
        {
            return Ok(None);
        }
        for (o, t) in offset_bytes
            .chunks_exact(OFFSET_ENTRY)
            .zip(time_bytes.chunks_exact(TIME_ENTRY))
        {
            let entry = OffsetEntry {
                relative_offset: u32::from_be_bytes(o[0..4].try_into().expect("4 bytes")),
                position: u32::from_be_bytes(o[4..8].try_into().expect("4 bytes")),
            };
            let time = TimeEntry {
                max_timestamp_before: i64::from_be_bytes(t[0..8].try_into().expect("8 bytes")),
                relative_offset: u32::from_be_bytes(t[8..12].try_into().expect("4 bytes")),
            };
            let ordered = index.offsets.last().is_none_or(|last| {
                last.relative_offset < entry.relative_offset && last.position < entry.position
            }) && index
                .times
                .last()
                .is_none_or(|last| last.max_timestamp_before <= time.max_timestamp_before);
            if !ordered
                || u64::from(entry.position) >= log_len
                || time.relative_offset != entry.relative_offset
            {
                return Ok(None);
            }
            index.offsets.push(entry);
            index.times.push(time);
        }
        index.written = index.offsets.len();
        Ok(Some(index))
    }

    /// Adds an entry for the batch written at `position`. It reaches the files at the next
    /// [`SegmentIndex::sync`] (when the segment is sealed): the active segment's indexes are
    /// rebuilt by recovery anyway, so appends pay no index syscalls.
    pub fn push(&mut self, offset: OffsetEntry, max_timestamp_before: i64) {
        self.offsets.push(offset);
        self.times.push(TimeEntry {
            max_timestamp_before,
            relative_offset: offset.relative_offset,
        });
    }

    /// Throws away both files and entries; the next `push` starts fresh files.
    pub fn reset(&mut self) -> io::Result<()> {
        self.offsets.clear();
        self.times.clear();
        self.written = 0;
        self.offset_file = None;
        self.time_file = None;
        for path in [&self.offset_path, &self.time_path] {
            match std::fs::remove_file(path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    /// Writes the entries not yet in the files and makes both files (possibly empty) durable.
    pub fn sync(&mut self) -> io::Result<()> {
        let mut o = Vec::with_capacity((self.offsets.len() - self.written) * OFFSET_ENTRY);
        let mut t = Vec::with_capacity((self.times.len() - self.written) * TIME_ENTRY);
        for (offset, time) in self.offsets[self.written..]
            .iter()
            .zip(&self.times[self.written..])
        {
            o.extend_from_slice(&offset.relative_offset.to_be_bytes());
            o.extend_from_slice(&offset.position.to_be_bytes());
            t.extend_from_slice(&time.max_timestamp_before.to_be_bytes());
            t.extend_from_slice(&time.relative_offset.to_be_bytes());
        }
        let (offset_file, time_file) = self.files()?;
        offset_file.write_all(&o)?;
        time_file.write_all(&t)?;
        offset_file.sync_data()?;
        time_file.sync_data()?;
        self.written = self.offsets.len();
        Ok(())
    }

    /// Deletes both index files.
    pub fn remove_files(&mut self) -> io::Result<()> {
        self.reset()
    }

    /// The position of the last indexed batch starting at or before `relative_offset`
    /// (0, the segment start, when none is).
    pub fn position_for(&self, relative_offset: u32) -> u32 {
        let i = self
            .offsets
            .partition_point(|e| e.relative_offset <= relative_offset);
        if i == 0 {
            0
        } else {
            self.offsets[i - 1].position
        }
    }

    /// Where to start scanning for the first record with timestamp `>= timestamp`: the last
    /// entry whose earlier records are all older than `timestamp` (segment start when none).
    pub fn position_for_timestamp(&self, timestamp: i64) -> u32 {
        let i = self
            .times
            .partition_point(|e| e.max_timestamp_before < timestamp);
        if i == 0 {
            0
        } else {
            self.offsets[i - 1].position
        }
    }

    /// The last offset entry, where a header-only scan of the tail can start.
    pub fn last_offset_entry(&self) -> Option<OffsetEntry> {
        self.offsets.last().copied()
    }

    /// The largest timestamp covered by the time index.
    pub fn last_max_timestamp(&self) -> Option<i64> {
        self.times.last().map(|t| t.max_timestamp_before)
    }

    /// Number of entries (the same in both indexes).
    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    /// True when no batch has been indexed.
    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    fn files(&mut self) -> io::Result<(&mut File, &mut File)> {
        if self.offset_file.is_none() {
            self.offset_file = Some(append_file(&self.offset_path)?);
        }
        if self.time_file.is_none() {
            self.time_file = Some(append_file(&self.time_path)?);
        }
        match (&mut self.offset_file, &mut self.time_file) {
            (Some(o), Some(t)) => Ok((o, t)),
            _ => unreachable!("both index files were opened above"),
        }
    }
}

fn append_file(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

fn read_if_exists(path: &Path) -> io::Result<Option<Vec<u8>>> {
    match File::open(path) {
        Ok(mut file) => {
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes)?;
            Ok(Some(bytes))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entry(relative_offset: u32, position: u32) -> OffsetEntry {
        OffsetEntry {
            relative_offset,
            position,
        }
    }

    #[test]
    fn lookups_pick_the_last_entry_at_or_before_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("00000000000000000000.log");
        let mut index = SegmentIndex::empty(&log);
        index.push(entry(10, 4_100), 1_000);
        index.push(entry(25, 8_300), 1_500);
        assert_eq!(index.position_for(0), 0);
        assert_eq!(index.position_for(9), 0);
        assert_eq!(index.position_for(10), 4_100);
        assert_eq!(index.position_for(24), 4_100);
        assert_eq!(index.position_for(1_000), 8_300);
        assert_eq!(index.position_for_timestamp(900), 0);
        assert_eq!(index.position_for_timestamp(1_001), 4_100);
        assert_eq!(index.position_for_timestamp(1_500), 4_100);
        assert_eq!(index.position_for_timestamp(9_999), 8_300);
    }

    #[test]
    fn files_reload_and_inconsistent_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("00000000000000000000.log");
        let mut index = SegmentIndex::empty(&log);
        index.push(entry(3, 100), 5);
        index.push(entry(9, 900), 7);
        index.sync().unwrap();
        let loaded = SegmentIndex::load(&log, 1_000).unwrap().unwrap();
        assert_eq!(loaded.offsets, index.offsets);
        assert_eq!(loaded.times, index.times);
        // A log shorter than an indexed position means the index is stale.
        assert!(SegmentIndex::load(&log, 900).unwrap().is_none());
        // A torn entry means the index is stale.
        let mut f = OpenOptions::new()
            .append(true)
            .open(log.with_extension("index"))
            .unwrap();
        f.write_all(&[1, 2, 3]).unwrap();
        assert!(SegmentIndex::load(&log, 1_000).unwrap().is_none());
        index.reset().unwrap();
        assert!(SegmentIndex::load(&log, 1_000).unwrap().is_none());
    }

    proptest! {
        #[test]
        fn position_lookup_matches_a_linear_scan(
            gaps in proptest::collection::vec((1u32..50, 1u32..5_000), 0..60),
            probe in 0u32..3_000,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let mut index = SegmentIndex::empty(&dir.path().join("0.log"));
            let (mut rel, mut pos) = (0u32, 0u32);
            let mut entries = Vec::new();
            for (dr, dp) in gaps {
                rel += dr;
                pos += dp;
                index.push(entry(rel, pos), i64::from(rel));
                entries.push(entry(rel, pos));
            }
            let expected = entries.iter().rev().find(|e| e.relative_offset <= probe).map_or(0, |e| e.position);
            prop_assert_eq!(index.position_for(probe), expected);
        }
    }
}
