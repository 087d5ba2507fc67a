//! [`ColumnType`]: a column's type as resolved from the catalog (domains unwrapped, type
//! modifiers read), and the Connect schema Debezium gives it under the current
//! [`TypeOptions`]. Reading values lives in [`super::decode`].

use std::sync::Arc;

use sluice_schemas::{SchemaBuilder, SchemaRef, logical};

use super::options::{
    BinaryHandlingMode, DecimalHandlingMode, HstoreHandlingMode, IntervalHandlingMode,
    TimePrecisionMode, TypeOptions, UnknownTypes,
};

/// Debezium's `io.debezium.data.Xml` (not among sluice-schemas' shared names).
pub const XML: &str = "io.debezium.data.Xml";

/// The fractional-second digits Postgres keeps when a temporal type has no modifier.
pub const DEFAULT_TIME_PRECISION: u8 = 6;

/// What a column holds, as far as the mapping is concerned.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeKind {
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Boolean,
    /// Carried as a plain string: char/varchar/text/citext/name/inet/cidr/macaddr/ranges/….
    Text,
    /// `xml`: a string named `io.debezium.data.Xml`.
    Xml,
    Json,
    Uuid,
    Bytea,
    Date,
    /// `time(p)`; `precision` is 6 when the column has no modifier.
    Time {
        precision: u8,
    },
    TimeTz,
    Timestamp {
        precision: u8,
    },
    TimestampTz {
        precision: u8,
    },
    Interval,
    /// `numeric(p, s)`; a negative scale is possible since Postgres 15.
    Numeric {
        precision: u32,
        scale: i32,
    },
    /// `numeric` without precision and scale.
    NumericUnconstrained,
    Money,
    /// `bit(n)` / `varbit(n)`; unbounded `varbit` has `length` `i32::MAX` as in Debezium.
    Bits {
        length: u32,
    },
    Enum {
        labels: Arc<[String]>,
    },
    /// The geometric `point`: `io.debezium.data.geometry.Point`.
    Point,
    /// The `hstore` extension type.
    Hstore,
    Array(Box<ColumnType>),
    /// A type Sluice has no mapping for (geometric, tsquery, composite, extension types, …).
    Unknown,
}

/// A resolved column type: its Postgres name (for messages) and what it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnType {
    name: Arc<str>,
    kind: TypeKind,
    /// The column's default expression (`pg_get_expr(adbin, adrelid)`), when it has one.
    default_expression: Option<Arc<str>>,
}

impl ColumnType {
    pub fn new(name: impl Into<Arc<str>>, kind: TypeKind) -> ColumnType {
        ColumnType {
            name: name.into(),
            kind,
            default_expression: None,
        }
    }

    /// The same type for a column with this default expression; its schema then carries the
    /// default value Debezium would give (see [`super::default`]).
    pub fn with_default_expression(mut self, expression: impl Into<Arc<str>>) -> ColumnType {
        self.default_expression = Some(expression.into());
        self
    }

    pub fn default_expression(&self) -> Option<&str> {
        self.default_expression.as_deref()
    }

    /// The type's name as the catalog has it (`int4`, `_text`, `public.mood`).
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn kind(&self) -> &TypeKind {
        &self.kind
    }

    /// Whether values of this type are not understood and their text is passed through.
    pub fn is_unknown(&self) -> bool {
        match &self.kind {
            TypeKind::Unknown => true,
            TypeKind::Array(element) => element.is_unknown(),
            _ => false,
        }
    }

    /// The Connect schema of a column of this type; `None` when the type is unknown and
    /// `include.unknown.datatypes` is false (the column is left out, as Debezium does).
    pub fn schema(&self, optional: bool, opts: &TypeOptions) -> Option<SchemaRef> {
        let builder = self.builder(opts)?;
        let builder = if optional {
            builder.optional()
        } else {
            builder
        };
        let default = self
            .default_expression
            .as_deref()
            .and_then(|expression| super::default::default_value(self, expression, opts));
        Some(match default {
            // A default that does not fit the schema is dropped rather than failing the table.
            Some(value) => builder
                .clone()
                .default_value(value)
                .try_build()
                .unwrap_or_else(|_| builder.build()),
            None => builder.build(),
        })
    }

    fn builder(&self, opts: &TypeOptions) -> Option<SchemaBuilder> {
        let builder = match &self.kind {
            TypeKind::Int16 => SchemaBuilder::int16(),
            TypeKind::Int32 => SchemaBuilder::int32(),
            TypeKind::Int64 => SchemaBuilder::int64(),
            TypeKind::Float32 => SchemaBuilder::float32(),
            TypeKind::Float64 => SchemaBuilder::float64(),
            TypeKind::Boolean => SchemaBuilder::boolean(),
            TypeKind::Text => SchemaBuilder::string(),
            TypeKind::Xml => SchemaBuilder::string().name(XML).version(1),
            TypeKind::Json => logical::json(),
            TypeKind::Uuid => logical::uuid(),
            TypeKind::Bytea => binary_builder(opts.binary),
            TypeKind::Date => match opts.time {
                TimePrecisionMode::Connect => logical::connect_date(),
                _ => logical::date(),
            },
            TypeKind::Time { precision } => match opts.time {
                TimePrecisionMode::Connect => logical::connect_time(),
                TimePrecisionMode::AdaptiveTimeMicroseconds => logical::micro_time(),
                TimePrecisionMode::Adaptive if *precision <= 3 => logical::time(),
                TimePrecisionMode::Adaptive => logical::micro_time(),
            },
            TypeKind::TimeTz => logical::zoned_time(),
            TypeKind::Timestamp { precision } => match opts.time {
                TimePrecisionMode::Connect => logical::connect_timestamp(),
                _ if *precision <= 3 => logical::timestamp(),
                _ => logical::micro_timestamp(),
            },
            TypeKind::TimestampTz { .. } => logical::zoned_timestamp(),
            TypeKind::Interval => match opts.interval {
                IntervalHandlingMode::Numeric => logical::micro_duration(),
                IntervalHandlingMode::String => logical::interval(),
            },
            TypeKind::Numeric { precision, scale } => match opts.decimal {
                DecimalHandlingMode::Precise => logical::decimal_with_precision(*precision, *scale),
                DecimalHandlingMode::Double => SchemaBuilder::float64(),
                DecimalHandlingMode::String => SchemaBuilder::string(),
            },
            TypeKind::NumericUnconstrained => match opts.decimal {
                DecimalHandlingMode::Precise => logical::variable_scale_decimal(),
                DecimalHandlingMode::Double => SchemaBuilder::float64(),
                DecimalHandlingMode::String => SchemaBuilder::string(),
            },
            TypeKind::Money => match opts.decimal {
                DecimalHandlingMode::Precise => {
                    logical::decimal(i32::from(opts.money_fraction_digits))
                }
                DecimalHandlingMode::Double => SchemaBuilder::float64(),
                DecimalHandlingMode::String => SchemaBuilder::string(),
            },
            TypeKind::Bits { length } if *length <= 1 => SchemaBuilder::boolean(),
            TypeKind::Bits { length } => logical::bits(*length),
            TypeKind::Enum { labels } => logical::enumeration(labels),
            TypeKind::Point => logical::point(),
            TypeKind::Hstore => match opts.hstore {
                HstoreHandlingMode::Json => logical::json(),
                HstoreHandlingMode::Map => SchemaBuilder::map(
                    SchemaBuilder::string().build(),
                    SchemaBuilder::string().optional().build(),
                ),
            },
            TypeKind::Array(element) => {
                let element_builder = element.builder(opts)?;
                // Debezium leaves enum elements required; every other element may be null.
                let element_schema = match element.kind {
                    TypeKind::Enum { .. } => element_builder.build(),
                    _ => element_builder.optional().build(),
                };
                SchemaBuilder::array(element_schema)
            }
            TypeKind::Unknown => match opts.unknown {
                UnknownTypes::Include => binary_builder(opts.binary),
                UnknownTypes::Skip => return None,
            },
        };
        Some(builder)
    }
}

/// The schema of `bytea`-like values under `binary.handling.mode`.
pub(crate) fn binary_builder(mode: BinaryHandlingMode) -> SchemaBuilder {
    match mode {
        BinaryHandlingMode::Bytes => SchemaBuilder::bytes(),
        _ => SchemaBuilder::string(),
    }
}

#[cfg(test)]
mod tests {
    use sluice_schemas::SchemaType;

    use super::*;

    fn ty(kind: TypeKind) -> ColumnType {
        ColumnType::new("t", kind)
    }

    fn describe(schema: &SchemaRef) -> (SchemaType, Option<&str>, bool) {
        (schema.schema_type(), schema.name(), schema.is_optional())
    }

    #[test]
    fn adaptive_picks_by_precision() {
        let opts = TypeOptions::default();
        let time3 = ty(TypeKind::Time { precision: 3 })
            .schema(true, &opts)
            .unwrap();
        assert_eq!(
            describe(&time3),
            (SchemaType::Int32, Some(logical::TIME), true)
        );
        let time6 = ty(TypeKind::Time { precision: 6 })
            .schema(false, &opts)
            .unwrap();
        assert_eq!(
            describe(&time6),
            (SchemaType::Int64, Some(logical::MICRO_TIME), false)
        );
        let ts0 = ty(TypeKind::Timestamp { precision: 0 })
            .schema(true, &opts)
            .unwrap();
        assert_eq!(ts0.name(), Some(logical::TIMESTAMP));
        let ts6 = ty(TypeKind::Timestamp { precision: 6 })
            .schema(true, &opts)
            .unwrap();
        assert_eq!(ts6.name(), Some(logical::MICRO_TIMESTAMP));
    }

    #[test]
    fn connect_mode_uses_kafkas_types() {
        let opts = TypeOptions {
            time: TimePrecisionMode::Connect,
            ..TypeOptions::default()
        };
        let date = ty(TypeKind::Date).schema(true, &opts).unwrap();
        assert_eq!(date.name(), Some(logical::CONNECT_DATE));
        let time = ty(TypeKind::Time { precision: 6 })
            .schema(true, &opts)
            .unwrap();
        assert_eq!(time.name(), Some(logical::CONNECT_TIME));
        let ts = ty(TypeKind::Timestamp { precision: 6 })
            .schema(true, &opts)
            .unwrap();
        assert_eq!(ts.name(), Some(logical::CONNECT_TIMESTAMP));
    }

    #[test]
    fn numeric_schemas_follow_decimal_mode() {
        let precise = TypeOptions::default();
        let fixed = ty(TypeKind::Numeric {
            precision: 10,
            scale: 2,
        });
        let schema = fixed.schema(true, &precise).unwrap();
        assert_eq!(schema.parameter("scale"), Some("2"));
        assert_eq!(schema.parameter("connect.decimal.precision"), Some("10"));
        let variable = ty(TypeKind::NumericUnconstrained)
            .schema(true, &precise)
            .unwrap();
        assert_eq!(variable.name(), Some(logical::VARIABLE_SCALE_DECIMAL));
        let double = TypeOptions {
            decimal: DecimalHandlingMode::Double,
            ..precise
        };
        assert_eq!(
            fixed.schema(true, &double).unwrap().schema_type(),
            SchemaType::Float64
        );
        let money = ty(TypeKind::Money).schema(true, &precise).unwrap();
        assert_eq!(money.parameter("scale"), Some("2"));
        assert_eq!(money.parameter("connect.decimal.precision"), None);
    }

    #[test]
    fn bits_enums_arrays_and_unknowns() {
        let opts = TypeOptions::default();
        let bit1 = ty(TypeKind::Bits { length: 1 })
            .schema(true, &opts)
            .unwrap();
        assert_eq!(bit1.schema_type(), SchemaType::Boolean);
        let bits = ty(TypeKind::Bits { length: 9 })
            .schema(true, &opts)
            .unwrap();
        assert_eq!(bits.parameter("length"), Some("9"));
        let labels: Arc<[String]> = vec!["a".to_string(), "b".to_string()].into();
        let enumeration = ty(TypeKind::Enum {
            labels: labels.clone(),
        });
        assert_eq!(
            enumeration
                .schema(true, &opts)
                .unwrap()
                .parameter("allowed"),
            Some("a,b")
        );
        let array = ty(TypeKind::Array(Box::new(ty(TypeKind::Int32))))
            .schema(true, &opts)
            .unwrap();
        assert!(array.is_optional());
        let items = array.value_schema().unwrap();
        assert_eq!(
            (items.schema_type(), items.is_optional()),
            (SchemaType::Int32, true)
        );
        let enum_array = ty(TypeKind::Array(Box::new(enumeration)))
            .schema(true, &opts)
            .unwrap();
        assert!(!enum_array.value_schema().unwrap().is_optional());
        let unknown = ty(TypeKind::Unknown);
        assert!(unknown.schema(true, &opts).is_none());
        let include = TypeOptions {
            unknown: UnknownTypes::Include,
            ..opts
        };
        assert_eq!(
            unknown.schema(true, &include).unwrap().schema_type(),
            SchemaType::Bytes
        );
        assert!(ty(TypeKind::Array(Box::new(unknown))).is_unknown());
    }
}
