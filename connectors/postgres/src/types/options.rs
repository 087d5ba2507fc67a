//! The connector settings that change how column values are represented, read from the
//! connector's properties with Debezium's names, values and defaults.

use sluice_connect::config::Props;

use crate::error::{Error, Result};

/// `decimal.handling.mode`: how `numeric` and `money` values are represented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalHandlingMode {
    /// `org.apache.kafka.connect.data.Decimal` bytes (or `VariableScaleDecimal` when the column
    /// has no scale). Debezium's default.
    Precise,
    /// A `float64`, losing precision.
    Double,
    /// The plain decimal text.
    String,
}

/// `time.precision.mode`: which Connect/Debezium types carry dates, times and timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimePrecisionMode {
    /// The column's precision picks the type: `Time`/`Timestamp` (ms) up to 3 fractional
    /// digits, `MicroTime`/`MicroTimestamp` up to 6. The Postgres connector's default.
    Adaptive,
    /// Like adaptive, but every `time` is a `MicroTime`.
    AdaptiveTimeMicroseconds,
    /// Kafka Connect's own `Date`, `Time`, `Timestamp` (millisecond precision).
    Connect,
}

/// `include.unknown.datatypes`: what happens to columns of types Sluice has no mapping for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownTypes {
    /// The value's text is sent per `binary.handling.mode` (bytes by default), as Debezium does.
    Include,
    /// The column is left out of the event schemas (Debezium's default).
    Skip,
}

/// `interval.handling.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntervalHandlingMode {
    /// `io.debezium.time.MicroDuration`: int64 microseconds, a month counted as 30.4375 days.
    Numeric,
    /// `io.debezium.time.Interval`: ISO-8601 text `PnYnMnDTnHnMnS`.
    String,
}

/// `binary.handling.mode`: how `bytea` (and included unknown types) are represented.
pub use sluice_schemas::binary::BinaryHandlingMode;

/// `hstore.handling.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HstoreHandlingMode {
    /// `io.debezium.data.Json` object text (Debezium's default).
    Json,
    /// A Connect map of string to optional string.
    Map,
}

/// Every value-representation setting of the Postgres connector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeOptions {
    pub decimal: DecimalHandlingMode,
    pub time: TimePrecisionMode,
    pub unknown: UnknownTypes,
    pub interval: IntervalHandlingMode,
    pub binary: BinaryHandlingMode,
    pub hstore: HstoreHandlingMode,
    /// `money.fraction.digits`: the scale of `money` values (default 2).
    pub money_fraction_digits: u8,
}

impl Default for TypeOptions {
    fn default() -> Self {
        TypeOptions {
            decimal: DecimalHandlingMode::Precise,
            time: TimePrecisionMode::Adaptive,
            unknown: UnknownTypes::Skip,
            interval: IntervalHandlingMode::Numeric,
            binary: BinaryHandlingMode::Bytes,
            hstore: HstoreHandlingMode::Json,
            money_fraction_digits: 2,
        }
    }
}

fn invalid(key: &str, value: &str, reason: impl Into<String>) -> Error {
    Error::InvalidTypeOption {
        key: key.to_string(),
        value: value.to_string(),
        reason: reason.into(),
    }
}

/// Looks `key` up and maps its lower-cased, trimmed value through `choices`.
fn choose<T: Copy>(props: &Props, key: &str, default: T, choices: &[(&str, T)]) -> Result<T> {
    let Some(raw) = props.get(key) else {
        return Ok(default);
    };
    let wanted = raw.trim().to_ascii_lowercase();
    if wanted.is_empty() {
        return Ok(default);
    }
    choices
        .iter()
        .find(|(name, _)| *name == wanted)
        .map(|&(_, value)| value)
        .ok_or_else(|| {
            let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
            invalid(key, raw, format!("use one of {}", names.join(", ")))
        })
}

impl TypeOptions {
    /// Reads `decimal.handling.mode`, `time.precision.mode`, `include.unknown.datatypes`,
    /// `interval.handling.mode`, `binary.handling.mode`, `hstore.handling.mode`,
    /// `money.fraction.digits`, with
    /// Debezium's defaults for absent keys and an error naming the key for a bad value.
    pub fn from_props(props: &Props) -> Result<Self> {
        let defaults = TypeOptions::default();
        let time_key = "time.precision.mode";
        if let Some(raw) = props.get(time_key) {
            let wanted = raw.trim().to_ascii_lowercase();
            if matches!(
                wanted.as_str(),
                "isostring" | "microseconds" | "nanoseconds" | "structured"
            ) {
                return Err(invalid(
                    time_key,
                    raw,
                    "Sluice supports adaptive (the default), adaptive_time_microseconds and connect",
                ));
            }
        }
        let money_key = "money.fraction.digits";
        let money_fraction_digits = match props.get(money_key) {
            None => defaults.money_fraction_digits,
            Some(raw) => raw
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|digits| *digits <= 30)
                .ok_or_else(|| invalid(money_key, raw, "use an integer from 0 to 30"))?,
        };
        Ok(TypeOptions {
            decimal: choose(
                props,
                "decimal.handling.mode",
                defaults.decimal,
                &[
                    ("precise", DecimalHandlingMode::Precise),
                    ("double", DecimalHandlingMode::Double),
                    ("string", DecimalHandlingMode::String),
                ],
            )?,
            time: choose(
                props,
                time_key,
                defaults.time,
                &[
                    ("adaptive", TimePrecisionMode::Adaptive),
                    (
                        "adaptive_time_microseconds",
                        TimePrecisionMode::AdaptiveTimeMicroseconds,
                    ),
                    ("connect", TimePrecisionMode::Connect),
                ],
            )?,
            unknown: choose(
                props,
                "include.unknown.datatypes",
                defaults.unknown,
                &[
                    ("true", UnknownTypes::Include),
                    ("false", UnknownTypes::Skip),
                ],
            )?,
            interval: choose(
                props,
                "interval.handling.mode",
                defaults.interval,
                &[
                    ("numeric", IntervalHandlingMode::Numeric),
                    ("string", IntervalHandlingMode::String),
                ],
            )?,
            binary: choose(
                props,
                "binary.handling.mode",
                defaults.binary,
                &[
                    ("bytes", BinaryHandlingMode::Bytes),
                    ("base64", BinaryHandlingMode::Base64),
                    ("base64-url-safe", BinaryHandlingMode::Base64UrlSafe),
                    ("hex", BinaryHandlingMode::Hex),
                ],
            )?,
            hstore: choose(
                props,
                "hstore.handling.mode",
                defaults.hstore,
                &[
                    ("json", HstoreHandlingMode::Json),
                    ("map", HstoreHandlingMode::Map),
                ],
            )?,
            money_fraction_digits,
        })
    }
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
    fn absent_keys_give_debeziums_defaults() {
        let opts = TypeOptions::from_props(&Props::new()).unwrap();
        assert_eq!(opts, TypeOptions::default());
        assert_eq!(opts.decimal, DecimalHandlingMode::Precise);
        assert_eq!(opts.time, TimePrecisionMode::Adaptive);
        assert_eq!(opts.unknown, UnknownTypes::Skip);
    }

    #[test]
    fn every_value_is_read_case_insensitively() {
        let opts = TypeOptions::from_props(&props(&[
            ("decimal.handling.mode", "STRING"),
            ("time.precision.mode", " connect "),
            ("include.unknown.datatypes", "true"),
            ("interval.handling.mode", "string"),
            ("binary.handling.mode", "base64-url-safe"),
            ("money.fraction.digits", "4"),
            ("hstore.handling.mode", "map"),
        ]))
        .unwrap();
        assert_eq!(opts.decimal, DecimalHandlingMode::String);
        assert_eq!(opts.time, TimePrecisionMode::Connect);
        assert_eq!(opts.unknown, UnknownTypes::Include);
        assert_eq!(opts.interval, IntervalHandlingMode::String);
        assert_eq!(opts.binary, BinaryHandlingMode::Base64UrlSafe);
        assert_eq!(opts.money_fraction_digits, 4);
        assert_eq!(opts.hstore, HstoreHandlingMode::Map);
    }

    #[test]
    fn bad_values_name_the_key_and_the_choices() {
        let err = TypeOptions::from_props(&props(&[("decimal.handling.mode", "exact")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("decimal.handling.mode"), "{err}");
        assert!(err.contains("precise, double, string"), "{err}");
        let err = TypeOptions::from_props(&props(&[("time.precision.mode", "nanoseconds")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("adaptive_time_microseconds"), "{err}");
        assert!(TypeOptions::from_props(&props(&[("money.fraction.digits", "-1")])).is_err());
        assert!(TypeOptions::from_props(&props(&[("include.unknown.datatypes", "yes")])).is_err());
    }
}
