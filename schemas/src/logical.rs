//! Logical and semantic type names: Kafka Connect's `org.apache.kafka.connect.data.*` logical
//! types and Debezium's `io.debezium.time.*` / `io.debezium.data.*` semantic types, each with a
//! constructor returning a [`SchemaBuilder`] with the base type, name, version and parameters
//! exactly as Kafka Connect and Debezium define them (callers add `.optional()`, a default, …).
//!
//! Value encodings live beside: [`crate::decimal`] (unscaled two's-complement bytes ↔ decimal text)
//! and [`crate::temporal`] (days, times of day and timestamps ↔ ISO-8601 text).

use crate::schema::{
    BYTES_SCHEMA, FLOAT64_SCHEMA, INT32_SCHEMA, OPTIONAL_BYTES_SCHEMA, OPTIONAL_INT32_SCHEMA,
    SchemaBuilder,
};

/// `bytes`: unscaled value, big-endian two's complement; parameter `scale`.
pub const DECIMAL: &str = "org.apache.kafka.connect.data.Decimal";
/// The Decimal parameter holding the scale.
pub const DECIMAL_SCALE: &str = "scale";
/// The parameter Debezium adds to Decimal schemas with the column's precision.
pub const DECIMAL_PRECISION: &str = "connect.decimal.precision";
/// `int32`: days since 1970-01-01.
pub const CONNECT_DATE: &str = "org.apache.kafka.connect.data.Date";
/// `int32`: milliseconds since midnight.
pub const CONNECT_TIME: &str = "org.apache.kafka.connect.data.Time";
/// `int64`: milliseconds since the epoch.
pub const CONNECT_TIMESTAMP: &str = "org.apache.kafka.connect.data.Timestamp";

/// `int32`: days since the epoch.
pub const DATE: &str = "io.debezium.time.Date";
/// `int32`: milliseconds past midnight.
pub const TIME: &str = "io.debezium.time.Time";
/// `int64`: microseconds past midnight.
pub const MICRO_TIME: &str = "io.debezium.time.MicroTime";
/// `int64`: nanoseconds past midnight.
pub const NANO_TIME: &str = "io.debezium.time.NanoTime";
/// `int64`: milliseconds since the epoch, no zone.
pub const TIMESTAMP: &str = "io.debezium.time.Timestamp";
/// `int64`: microseconds since the epoch, no zone.
pub const MICRO_TIMESTAMP: &str = "io.debezium.time.MicroTimestamp";
/// `int64`: nanoseconds since the epoch, no zone.
pub const NANO_TIMESTAMP: &str = "io.debezium.time.NanoTimestamp";
/// `string`: ISO-8601 date-time with offset.
pub const ZONED_TIMESTAMP: &str = "io.debezium.time.ZonedTimestamp";
/// `string`: ISO-8601 time with offset.
pub const ZONED_TIME: &str = "io.debezium.time.ZonedTime";
/// `int32`: a year.
pub const YEAR: &str = "io.debezium.time.Year";
/// `int64`: approximate microseconds of an interval (a month is 365.25/12 days).
pub const MICRO_DURATION: &str = "io.debezium.time.MicroDuration";
/// `string`: an ISO-8601 duration (`P1Y2M3DT4H5M6.78S`).
pub const INTERVAL: &str = "io.debezium.time.Interval";

/// `string`: JSON text.
pub const JSON: &str = "io.debezium.data.Json";
/// `string`: one of the values in parameter `allowed`.
pub const ENUM: &str = "io.debezium.data.Enum";
/// `string`: comma-separated subset of the values in parameter `allowed`.
pub const ENUM_SET: &str = "io.debezium.data.EnumSet";
/// The Enum/EnumSet parameter listing the permitted values, comma-separated.
pub const ENUM_ALLOWED: &str = "allowed";
/// `bytes`: a bit string, little-endian; parameter `length`.
pub const BITS: &str = "io.debezium.data.Bits";
/// The Bits parameter holding the number of bits.
pub const BITS_LENGTH: &str = "length";
/// `string`: a UUID.
pub const UUID: &str = "io.debezium.data.Uuid";
/// `struct {scale: int32, value: bytes}`: a decimal of any scale.
pub const VARIABLE_SCALE_DECIMAL: &str = "io.debezium.data.VariableScaleDecimal";
/// `struct {wkb: bytes, srid: optional int32}`.
pub const GEOMETRY: &str = "io.debezium.data.geometry.Geometry";
/// `struct {x, y: float64, wkb: optional bytes, srid: optional int32}`.
pub const POINT: &str = "io.debezium.data.geometry.Point";

fn named(base: SchemaBuilder, name: &str) -> SchemaBuilder {
    base.name(name).version(1)
}

/// Kafka's Decimal with the given scale (`Decimal.builder(scale)`).
pub fn decimal(scale: i32) -> SchemaBuilder {
    named(SchemaBuilder::bytes(), DECIMAL).parameter(DECIMAL_SCALE, scale.to_string())
}

/// Debezium's Decimal for a column of known precision: Kafka's Decimal plus the
/// `connect.decimal.precision` parameter, after `scale`.
pub fn decimal_with_precision(precision: u32, scale: i32) -> SchemaBuilder {
    decimal(scale).parameter(DECIMAL_PRECISION, precision.to_string())
}

pub fn connect_date() -> SchemaBuilder {
    named(SchemaBuilder::int32(), CONNECT_DATE)
}
pub fn connect_time() -> SchemaBuilder {
    named(SchemaBuilder::int32(), CONNECT_TIME)
}
pub fn connect_timestamp() -> SchemaBuilder {
    named(SchemaBuilder::int64(), CONNECT_TIMESTAMP)
}

pub fn date() -> SchemaBuilder {
    named(SchemaBuilder::int32(), DATE)
}
pub fn time() -> SchemaBuilder {
    named(SchemaBuilder::int32(), TIME)
}
pub fn micro_time() -> SchemaBuilder {
    named(SchemaBuilder::int64(), MICRO_TIME)
}
pub fn nano_time() -> SchemaBuilder {
    named(SchemaBuilder::int64(), NANO_TIME)
}
pub fn timestamp() -> SchemaBuilder {
    named(SchemaBuilder::int64(), TIMESTAMP)
}
pub fn micro_timestamp() -> SchemaBuilder {
    named(SchemaBuilder::int64(), MICRO_TIMESTAMP)
}
pub fn nano_timestamp() -> SchemaBuilder {
    named(SchemaBuilder::int64(), NANO_TIMESTAMP)
}
pub fn zoned_timestamp() -> SchemaBuilder {
    named(SchemaBuilder::string(), ZONED_TIMESTAMP)
}
pub fn zoned_time() -> SchemaBuilder {
    named(SchemaBuilder::string(), ZONED_TIME)
}
pub fn year() -> SchemaBuilder {
    named(SchemaBuilder::int32(), YEAR)
}
pub fn micro_duration() -> SchemaBuilder {
    named(SchemaBuilder::int64(), MICRO_DURATION)
}
pub fn interval() -> SchemaBuilder {
    named(SchemaBuilder::string(), INTERVAL)
}

pub fn json() -> SchemaBuilder {
    named(SchemaBuilder::string(), JSON)
}

/// An enum with the given permitted values (joined with commas, as Debezium does).
pub fn enumeration<S: AsRef<str>>(allowed: &[S]) -> SchemaBuilder {
    named(SchemaBuilder::string(), ENUM).parameter(ENUM_ALLOWED, join(allowed))
}

/// A set of the given permitted values.
pub fn enum_set<S: AsRef<str>>(allowed: &[S]) -> SchemaBuilder {
    named(SchemaBuilder::string(), ENUM_SET).parameter(ENUM_ALLOWED, join(allowed))
}

fn join<S: AsRef<str>>(items: &[S]) -> String {
    let parts: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    parts.join(",")
}

/// A bit string of `length` bits.
pub fn bits(length: u32) -> SchemaBuilder {
    named(SchemaBuilder::bytes(), BITS).parameter(BITS_LENGTH, length.to_string())
}

pub fn uuid() -> SchemaBuilder {
    named(SchemaBuilder::string(), UUID)
}

pub fn variable_scale_decimal() -> SchemaBuilder {
    named(SchemaBuilder::struct_(), VARIABLE_SCALE_DECIMAL)
        .doc("Variable scaled decimal")
        .field("scale", INT32_SCHEMA.clone())
        .field("value", BYTES_SCHEMA.clone())
}

pub fn geometry() -> SchemaBuilder {
    named(SchemaBuilder::struct_(), GEOMETRY)
        .doc("Geometry")
        .field("wkb", BYTES_SCHEMA.clone())
        .field("srid", OPTIONAL_INT32_SCHEMA.clone())
}

pub fn point() -> SchemaBuilder {
    named(SchemaBuilder::struct_(), POINT)
        .doc("Geometry (POINT)")
        .field("x", FLOAT64_SCHEMA.clone())
        .field("y", FLOAT64_SCHEMA.clone())
        .field("wkb", OPTIONAL_BYTES_SCHEMA.clone())
        .field("srid", OPTIONAL_INT32_SCHEMA.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::SchemaType;

    #[test]
    fn decimal_has_scale_then_precision() {
        let s = decimal_with_precision(10, 2).optional().build();
        assert_eq!(s.schema_type(), SchemaType::Bytes);
        assert_eq!(s.name(), Some(DECIMAL));
        assert_eq!(s.version(), Some(1));
        assert_eq!(s.parameter("scale"), Some("2"));
        assert_eq!(
            s.parameters()[1],
            ("connect.decimal.precision".to_string(), "10".to_string())
        );
    }

    #[test]
    fn semantic_types_have_their_base_types() {
        let cases = [
            (date().build(), SchemaType::Int32, DATE),
            (micro_time().build(), SchemaType::Int64, MICRO_TIME),
            (
                micro_timestamp().build(),
                SchemaType::Int64,
                MICRO_TIMESTAMP,
            ),
            (
                zoned_timestamp().build(),
                SchemaType::String,
                ZONED_TIMESTAMP,
            ),
            (year().build(), SchemaType::Int32, YEAR),
            (micro_duration().build(), SchemaType::Int64, MICRO_DURATION),
            (json().build(), SchemaType::String, JSON),
            (bits(9).build(), SchemaType::Bytes, BITS),
            (geometry().build(), SchemaType::Struct, GEOMETRY),
        ];
        for (schema, base, name) in cases {
            assert_eq!((schema.schema_type(), schema.name()), (base, Some(name)));
            assert_eq!(schema.version(), Some(1), "{name}");
        }
    }

    #[test]
    fn enum_joins_allowed_values() {
        let s = enumeration(&["a", "b", "c"]).build();
        assert_eq!(s.parameter(ENUM_ALLOWED), Some("a,b,c"));
        assert_eq!(point().build().fields().len(), 4);
        assert_eq!(
            variable_scale_decimal().build().doc(),
            Some("Variable scaled decimal")
        );
    }
}
