//! The connector settings that change how column values are represented, under Debezium's
//! keys and defaults: `decimal.handling.mode`, `time.precision.mode`,
//! `bigint.unsigned.handling.mode` and `binary.handling.mode`.

use sluice_connect::config::Props;

use crate::error::{Error, Result};

/// `decimal.handling.mode`: how DECIMAL columns are represented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DecimalHandlingMode {
    /// `org.apache.kafka.connect.data.Decimal` bytes (the default).
    #[default]
    Precise,
    /// A float64, losing precision.
    Double,
    /// The plain decimal text.
    String,
}

/// `time.precision.mode`: how DATE/TIME/DATETIME columns are represented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimePrecisionMode {
    /// Milli- or microsecond types chosen by the column's fsp, TIME included.
    Adaptive,
    /// Like `Adaptive`, but TIME is always `io.debezium.time.MicroTime` (Debezium's MySQL
    /// default).
    #[default]
    AdaptiveTimeMicroseconds,
    /// Kafka Connect's own Date/Time/Timestamp logical types (millisecond precision).
    Connect,
}

/// `bigint.unsigned.handling.mode`: how BIGINT UNSIGNED columns are represented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BigintUnsignedHandlingMode {
    /// int64; values above `i64::MAX` wrap to negative numbers (the default, as in Debezium).
    #[default]
    Long,
    /// `Decimal` with scale 0 and precision 20, exact for every value.
    Precise,
}

/// `binary.handling.mode`: how BINARY/VARBINARY/BLOB columns are represented.
pub use sluice_schemas::binary::BinaryHandlingMode;

/// The four representation settings, read once from the connector configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TypeOptions {
    pub decimal: DecimalHandlingMode,
    pub time_precision: TimePrecisionMode,
    pub bigint_unsigned: BigintUnsignedHandlingMode,
    pub binary: BinaryHandlingMode,
}

pub const DECIMAL_HANDLING_MODE: &str = "decimal.handling.mode";
pub const TIME_PRECISION_MODE: &str = "time.precision.mode";
pub const BIGINT_UNSIGNED_HANDLING_MODE: &str = "bigint.unsigned.handling.mode";
pub const BINARY_HANDLING_MODE: &str = "binary.handling.mode";

/// Looks `key` up (trimmed, case-insensitive like Debezium's enum parsing) among `choices`;
/// an absent key gives the default.
fn choose<T: Copy + Default>(
    props: &Props,
    key: &'static str,
    choices: &[(&'static str, T)],
) -> Result<T> {
    let Some(raw) = props.get(key) else {
        return Ok(T::default());
    };
    let wanted = raw.trim().to_ascii_lowercase();
    choices
        .iter()
        .find(|(name, _)| *name == wanted)
        .map(|(_, value)| *value)
        .ok_or_else(|| Error::InvalidOption {
            key,
            value: raw.clone(),
            allowed: choices
                .iter()
                .map(|(name, _)| *name)
                .collect::<Vec<_>>()
                .join(", "),
        })
}

impl TypeOptions {
    /// Reads the four keys, defaulting absent ones; an unknown value is an error naming the
    /// key and the accepted values.
    pub fn from_props(props: &Props) -> Result<Self> {
        use BigintUnsignedHandlingMode as Bigint;
        use BinaryHandlingMode as Binary;
        use DecimalHandlingMode as Decimal;
        use TimePrecisionMode as Time;
        Ok(TypeOptions {
            decimal: choose(
                props,
                DECIMAL_HANDLING_MODE,
                &[
                    ("precise", Decimal::Precise),
                    ("double", Decimal::Double),
                    ("string", Decimal::String),
                ],
            )?,
            time_precision: choose(
                props,
                TIME_PRECISION_MODE,
                &[
                    ("adaptive_time_microseconds", Time::AdaptiveTimeMicroseconds),
                    ("adaptive", Time::Adaptive),
                    ("connect", Time::Connect),
                ],
            )?,
            bigint_unsigned: choose(
                props,
                BIGINT_UNSIGNED_HANDLING_MODE,
                &[("long", Bigint::Long), ("precise", Bigint::Precise)],
            )?,
            binary: choose(
                props,
                BINARY_HANDLING_MODE,
                &[
                    ("bytes", Binary::Bytes),
                    ("base64", Binary::Base64),
                    ("base64-url-safe", Binary::Base64UrlSafe),
                    ("hex", Binary::Hex),
                ],
            )?,
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
    fn absent_keys_give_debezium_defaults() {
        let opts = TypeOptions::from_props(&Props::new()).unwrap();
        assert_eq!(opts.decimal, DecimalHandlingMode::Precise);
        assert_eq!(
            opts.time_precision,
            TimePrecisionMode::AdaptiveTimeMicroseconds
        );
        assert_eq!(opts.bigint_unsigned, BigintUnsignedHandlingMode::Long);
        assert_eq!(opts.binary, BinaryHandlingMode::Bytes);
    }

    #[test]
    fn values_are_read_case_insensitively() {
        let opts = TypeOptions::from_props(&props(&[
            ("decimal.handling.mode", "STRING"),
            ("time.precision.mode", " connect "),
            ("bigint.unsigned.handling.mode", "precise"),
            ("binary.handling.mode", "base64-url-safe"),
        ]))
        .unwrap();
        assert_eq!(opts.decimal, DecimalHandlingMode::String);
        assert_eq!(opts.time_precision, TimePrecisionMode::Connect);
        assert_eq!(opts.bigint_unsigned, BigintUnsignedHandlingMode::Precise);
        assert_eq!(opts.binary, BinaryHandlingMode::Base64UrlSafe);
    }

    #[test]
    fn a_bad_value_names_the_key_and_the_choices() {
        let err = TypeOptions::from_props(&props(&[("binary.handling.mode", "octal")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("binary.handling.mode"), "{err}");
        assert!(err.contains("octal"), "{err}");
        assert!(err.contains("bytes, base64, base64-url-safe, hex"), "{err}");
    }
}
