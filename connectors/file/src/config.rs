//! The file sink's configuration: declared keys (for `validate` and the REST API) and the
//! typed [`FileSinkConfig`] the task runs with. `topics` / `topics.regex` belong to the
//! runtime; everything else here is checked up front with errors that name the key and
//! say what would be accepted.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sluice_connect::config::{ConfigDef, ConfigKey, Props};

use crate::error::{Error, Result};
use crate::naming::UtcOffset;

pub const PATH: &str = "path";
pub const FORMAT: &str = "format";
pub const MODE: &str = "mode";
pub const FLUSH_SIZE: &str = "flush.size";
pub const ROTATE_INTERVAL_MS: &str = "rotate.interval.ms";
pub const FILE_SIZE_MAX_BYTES: &str = "file.size.max.bytes";
pub const PARTITION_BY: &str = "partition.by";
pub const TIMEZONE: &str = "timezone";
pub const COMPRESSION: &str = "compression";

/// The file format written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    JsonLines,
    Avro,
    Parquet,
}

impl Format {
    /// The file name extension (without the dot).
    pub fn extension(self) -> &'static str {
        match self {
            Self::JsonLines => "jsonl",
            Self::Avro => "avro",
            Self::Parquet => "parquet",
        }
    }
}

/// Every event as a row, or the table's current state by key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Changelog,
    Upsert,
}

/// How files are spread over directories below `path/<topic>/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionBy {
    None,
    /// `dt=YYYY-MM-DD/` from the record timestamp in the configured time zone.
    Date,
}

/// Block or page compression, per format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Snappy,
    Zstd,
    Deflate,
}

macro_rules! parse_choice {
    ($type:ty, $key:expr, { $($text:literal => $variant:expr),* $(,)? }) => {
        impl FromStr for $type {
            type Err = Error;
            fn from_str(text: &str) -> Result<Self> {
                match text.trim().to_ascii_lowercase().as_str() {
                    $($text => Ok($variant),)*
                    _ => Err(Error::Config {
                        key: $key,
                        value: text.to_string(),
                        reason: format!("must be one of {}", [$($text),*].join(", ")),
                    }),
                }
            }
        }
    };
}

parse_choice!(Format, FORMAT, {"jsonl" => Format::JsonLines, "avro" => Format::Avro, "parquet" => Format::Parquet});
parse_choice!(Mode, MODE, {"changelog" => Mode::Changelog, "upsert" => Mode::Upsert});
parse_choice!(PartitionBy, PARTITION_BY, {"none" => PartitionBy::None, "date" => PartitionBy::Date});

/// The keys this connector declares.
pub fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(ConfigKey::string(PATH).required().doc(
            "Directory the files are written under; each topic gets its own directory path/<topic>/.",
        ))
        .define(
            ConfigKey::string(FORMAT)
                .default("jsonl")
                .one_of(&["jsonl", "avro", "parquet"])
                .doc("File format: jsonl (one JSON object per line), avro (object container files) or parquet."),
        )
        .define(
            ConfigKey::string(MODE)
                .default("changelog")
                .one_of(&["changelog", "upsert"])
                .doc("changelog: one row per change event with __op/__position/… columns; upsert: the table's current rows by key."),
        )
        .define(
            ConfigKey::long(FLUSH_SIZE)
                .default("10000")
                .at_least(1)
                .doc("Records per file before it is committed (changelog mode)."),
        )
        .define(
            ConfigKey::long(ROTATE_INTERVAL_MS)
                .default("60000")
                .at_least(1)
                .doc("Longest time, in wall-clock milliseconds, a file stays open before it is committed; in upsert mode, how often the current state is rewritten."),
        )
        .define(
            ConfigKey::long(FILE_SIZE_MAX_BYTES)
                .default("268435456")
                .at_least(1)
                .doc("Bytes after which an open file is committed and a new one started (changelog mode)."),
        )
        .define(
            ConfigKey::string(PARTITION_BY)
                .default("none")
                .one_of(&["none", "date"])
                .doc("none: files directly under path/<topic>/; date: under path/<topic>/dt=YYYY-MM-DD/ by record timestamp (changelog mode)."),
        )
        .define(
            ConfigKey::string(TIMEZONE)
                .default("UTC")
                .doc("Time zone of partition.by=date: UTC or a fixed offset such as +02:00."),
        )
        .define(ConfigKey::string(COMPRESSION).doc(
            "parquet: snappy (default), zstd or none; avro: null (default), deflate or snappy; jsonl: none.",
        ))
}

/// The validated configuration of a file sink task.
#[derive(Debug, Clone)]
pub struct FileSinkConfig {
    pub path: PathBuf,
    pub format: Format,
    pub mode: Mode,
    pub flush_size: u64,
    pub rotate_interval: Duration,
    pub file_size_max_bytes: u64,
    pub partition_by: PartitionBy,
    pub timezone: UtcOffset,
    pub compression: Compression,
}

impl FileSinkConfig {
    /// Parses and cross-checks the properties of a connector or task.
    pub fn parse(props: &Props) -> Result<Self> {
        let declared = |source| Error::Declared {
            source: Box::new(source),
        };
        let parsed = config_def().parse(props).map_err(declared)?;
        let text = |key: &'static str| parsed.required_string(key).map_err(declared);
        let path = PathBuf::from(text(PATH)?);
        if path.as_os_str().is_empty() {
            return Err(Error::Config {
                key: PATH,
                value: String::new(),
                reason: "give the directory the files go to".into(),
            });
        }
        let format: Format = text(FORMAT)?.parse()?;
        let mode: Mode = text(MODE)?.parse()?;
        let partition_by: PartitionBy = text(PARTITION_BY)?.parse()?;
        if mode == Mode::Upsert && partition_by == PartitionBy::Date {
            return Err(Error::Config {
                key: PARTITION_BY,
                value: "date".into(),
                reason: "mode=upsert keeps one current-state file per topic partition, which has no date; use partition.by=none or mode=changelog".into(),
            });
        }
        let timezone: UtcOffset = text(TIMEZONE)?.parse()?;
        let compression = compression(format, parsed.string(COMPRESSION))?;
        let positive = |key| {
            parsed
                .integer(key)
                .map(|n| n.max(1) as u64)
                .map_err(declared)
        };
        Ok(Self {
            path,
            format,
            mode,
            flush_size: positive(FLUSH_SIZE)?,
            rotate_interval: Duration::from_millis(positive(ROTATE_INTERVAL_MS)?),
            file_size_max_bytes: positive(FILE_SIZE_MAX_BYTES)?,
            partition_by,
            timezone,
            compression,
        })
    }
}

/// The compression for `format`: its default when unset, else one the format supports.
fn compression(format: Format, wanted: Option<&str>) -> Result<Compression> {
    let (allowed, default): (&[(&str, Compression)], Compression) = match format {
        Format::Parquet => (
            &[
                ("snappy", Compression::Snappy),
                ("zstd", Compression::Zstd),
                ("none", Compression::None),
                ("uncompressed", Compression::None),
            ],
            Compression::Snappy,
        ),
        Format::Avro => (
            &[
                ("null", Compression::None),
                ("none", Compression::None),
                ("deflate", Compression::Deflate),
                ("snappy", Compression::Snappy),
            ],
            Compression::None,
        ),
        Format::JsonLines => (&[("none", Compression::None)], Compression::None),
    };
    let Some(wanted) = wanted.map(str::trim).filter(|w| !w.is_empty()) else {
        return Ok(default);
    };
    allowed
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(wanted))
        .map(|(_, compression)| *compression)
        .ok_or_else(|| Error::Config {
            key: COMPRESSION,
            value: wanted.to_string(),
            reason: format!(
                "format {} supports {}",
                format.extension(),
                allowed
                    .iter()
                    .map(|(name, _)| *name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Props {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_fill_in_and_compression_follows_the_format() {
        let config =
            FileSinkConfig::parse(&props(&[("path", "/w"), ("format", "parquet")])).unwrap();
        assert_eq!(config.format, Format::Parquet);
        assert_eq!(config.mode, Mode::Changelog);
        assert_eq!(config.compression, Compression::Snappy);
        assert_eq!(config.flush_size, 10_000);
        let avro = FileSinkConfig::parse(&props(&[
            ("path", "/w"),
            ("format", "avro"),
            ("compression", "deflate"),
        ]))
        .unwrap();
        assert_eq!(avro.compression, Compression::Deflate);
    }

    #[test]
    fn bad_values_name_the_key_and_the_choices() {
        let error = FileSinkConfig::parse(&props(&[
            ("path", "/w"),
            ("format", "jsonl"),
            ("compression", "zstd"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("compression") && error.contains("supports none"),
            "{error}"
        );
        let error = FileSinkConfig::parse(&props(&[("path", "/w"), ("format", "csv")]))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("format") && error.contains("jsonl"),
            "{error}"
        );
        let error = FileSinkConfig::parse(&props(&[
            ("path", "/w"),
            ("mode", "upsert"),
            ("partition.by", "date"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(error.contains("partition.by"), "{error}");
        let error = FileSinkConfig::parse(&props(&[("format", "avro")]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("path"), "{error}");
        let error = FileSinkConfig::parse(&props(&[("path", "/w"), ("timezone", "Europe/Paris")]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("timezone"), "{error}");
    }
}
