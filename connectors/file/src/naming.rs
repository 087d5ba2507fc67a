//! Where files go and what they are called — the part of the exactly-once protocol that lives
//! in names.
//!
//! - A committed changelog file is `path/<topic>[/dt=YYYY-MM-DD]/<topic>+<partition>+<first>-<last>.<ext>`
//!   with offsets zero-padded to 20 digits, so names sort in offset order and say exactly
//!   which records they hold.
//! - An upsert snapshot is `path/<topic>/<topic>+<partition>.<ext>`, replaced by rename.
//! - Files being written are hidden (`.<name>.tmp`): no `*.<ext>` glob matches them and a
//!   crash leaves nothing half-written visible; they are deleted when the partition reopens.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use sluice_broker::Offset;
use sluice_schemas::temporal::civil_from_days;

use crate::error::{Error, Result};

/// The offsets a committed changelog file holds, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetRange {
    pub first: Offset,
    pub last: Offset,
}

/// The name of a committed changelog file.
pub fn committed_name(topic: &str, partition: i32, range: OffsetRange, ext: &str) -> String {
    format!(
        "{topic}+{partition}+{:020}-{:020}.{ext}",
        range.first.0, range.last.0
    )
}

/// The offsets in `name` when it is a committed changelog file of this topic partition.
pub fn parse_committed(name: &str, topic: &str, partition: i32, ext: &str) -> Option<OffsetRange> {
    let rest = name
        .strip_prefix(topic)?
        .strip_prefix('+')?
        .strip_prefix(partition.to_string().as_str())?
        .strip_prefix('+')?
        .strip_suffix(ext)?
        .strip_suffix('.')?;
    let (first, last) = rest.split_once('-')?;
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(first) || !all_digits(last) {
        return None;
    }
    let range = OffsetRange {
        first: Offset(first.parse().ok()?),
        last: Offset(last.parse().ok()?),
    };
    (range.first <= range.last).then_some(range)
}

/// The name of a topic partition's upsert snapshot.
pub fn snapshot_name(topic: &str, partition: i32, ext: &str) -> String {
    format!("{topic}+{partition}.{ext}")
}

/// The hidden name a file is written under before it is committed.
pub fn temporary_name(final_name: &str) -> String {
    format!(".{final_name}.tmp")
}

/// Whether `name` is a temporary file of this topic partition (left by a crash).
pub fn is_temporary_of(name: &str, topic: &str, partition: i32) -> bool {
    let prefix = format!(".{topic}+{partition}");
    name.ends_with(".tmp")
        && name.strip_prefix(&prefix).is_some_and(|rest| {
            rest.starts_with('+') || rest.starts_with('.') && !rest[1..].contains('+')
        })
}

/// `path/<topic>`.
pub fn topic_dir(root: &Path, topic: &str) -> PathBuf {
    root.join(topic)
}

/// The `dt=YYYY-MM-DD` directory name of a record timestamp in `zone`.
pub fn date_dir(timestamp_ms: i64, zone: UtcOffset) -> String {
    let local_ms = timestamp_ms + i64::from(zone.seconds) * 1000;
    let days = local_ms.div_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days as i32);
    format!("dt={year:04}-{month:02}-{day:02}")
}

/// The directories of a topic that may hold its files: `path/<topic>` and its `dt=*`
/// subdirectories.
pub fn data_dirs(topic_dir: &Path) -> Result<Vec<PathBuf>> {
    let mut dirs = vec![topic_dir.to_path_buf()];
    let entries = match std::fs::read_dir(topic_dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => {
            return Err(Error::io(
                format!("cannot list {}", topic_dir.display()),
                error,
            ));
        }
    };
    for entry in entries {
        let entry =
            entry.map_err(|e| Error::io(format!("cannot list {}", topic_dir.display()), e))?;
        let is_date_dir = entry.file_name().to_string_lossy().starts_with("dt=")
            && entry.file_type().is_ok_and(|t| t.is_dir());
        if is_date_dir {
            dirs.push(entry.path());
        }
    }
    Ok(dirs)
}

/// A fixed offset from UTC (`timezone=UTC`, `Z`, `+02:00`, `-0530`). Named zones need a
/// zone database this build does not carry, so they are refused with that explanation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UtcOffset {
    pub seconds: i32,
}

impl FromStr for UtcOffset {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let trimmed = text.trim();
        let refuse = |reason: &str| Error::Config {
            key: crate::config::TIMEZONE,
            value: text.to_string(),
            reason: reason.to_string(),
        };
        if ["utc", "z", "gmt", "etc/utc"].contains(&trimmed.to_ascii_lowercase().as_str()) {
            return Ok(Self::default());
        }
        let trimmed = trimmed
            .strip_prefix("UTC")
            .or_else(|| trimmed.strip_prefix("GMT"))
            .unwrap_or(trimmed);
        let (sign, rest) = match trimmed.as_bytes().first() {
            Some(b'+') => (1, &trimmed[1..]),
            Some(b'-') => (-1, &trimmed[1..]),
            _ => {
                return Err(refuse(
                    "use UTC or a fixed offset such as +02:00 (named zones are not supported)",
                ));
            }
        };
        let digits: String = rest.chars().filter(|c| *c != ':').collect();
        let (hours, minutes) = match digits.len() {
            1 | 2 => (digits.as_str(), "0"),
            4 => digits.split_at(2),
            _ => return Err(refuse("an offset looks like +02:00, -0530 or +5")),
        };
        let hours: i32 = hours
            .parse()
            .map_err(|_| refuse("an offset looks like +02:00, -0530 or +5"))?;
        let minutes: i32 = minutes
            .parse()
            .map_err(|_| refuse("an offset looks like +02:00, -0530 or +5"))?;
        if hours > 18 || minutes > 59 {
            return Err(refuse("offsets range from -18:00 to +18:00"));
        }
        Ok(Self {
            seconds: sign * (hours * 3600 + minutes * 60),
        })
    }
}

impl fmt::Display for UtcOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.seconds < 0 { '-' } else { '+' };
        let abs = self.seconds.abs();
        write!(f, "{sign}{:02}:{:02}", abs / 3600, abs % 3600 / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_names_round_trip_and_sort_by_offset() {
        let range = OffsetRange {
            first: Offset(7),
            last: Offset(1234),
        };
        let name = committed_name("db.inv.t-1", 3, range, "parquet");
        assert_eq!(
            name,
            "db.inv.t-1+3+00000000000000000007-00000000000000001234.parquet"
        );
        assert_eq!(
            parse_committed(&name, "db.inv.t-1", 3, "parquet"),
            Some(range)
        );
        assert_eq!(parse_committed(&name, "db.inv.t-1", 30, "parquet"), None);
        assert_eq!(parse_committed(&name, "db.inv.t", 3, "parquet"), None);
        assert_eq!(parse_committed(&name, "db.inv.t-1", 3, "avro"), None);
        assert_eq!(
            parse_committed(&temporary_name(&name), "db.inv.t-1", 3, "parquet"),
            None
        );
        let later = committed_name(
            "db.inv.t-1",
            3,
            OffsetRange {
                first: Offset(1235),
                last: Offset(99_999),
            },
            "parquet",
        );
        assert!(name < later);
    }

    #[test]
    fn temporary_files_are_recognised_per_partition() {
        let tmp = temporary_name("t+1+00000000000000000000-00000000000000000009.avro");
        assert!(is_temporary_of(&tmp, "t", 1));
        assert!(!is_temporary_of(&tmp, "t", 11));
        assert!(is_temporary_of(
            &temporary_name(&snapshot_name("t", 1, "avro")),
            "t",
            1
        ));
        assert!(!is_temporary_of("t+1.avro", "t", 1));
    }

    #[test]
    fn date_directories_follow_the_zone() {
        // 2024-03-01T23:30:00Z
        let ts = 1_709_335_800_000;
        assert_eq!(date_dir(ts, UtcOffset::default()), "dt=2024-03-01");
        let plus_one: UtcOffset = "+01:00".parse().unwrap();
        assert_eq!(date_dir(ts, plus_one), "dt=2024-03-02");
        let minus: UtcOffset = "-0530".parse().unwrap();
        assert_eq!(minus.seconds, -(5 * 3600 + 30 * 60));
        assert_eq!(minus.to_string(), "-05:30");
        assert!("Europe/Paris".parse::<UtcOffset>().is_err());
        assert!("+25:00".parse::<UtcOffset>().is_err());
    }
}
