//! Text in → value out for every mapped type, checked against Debezium's own expectations
//! (`AbstractRecordsProducerTest`) where it has them.

use std::sync::Arc;

use sluice_schemas::Value;
use sluice_schemas::decimal::decode_decimal;

use crate::types::{
    BinaryHandlingMode, ColumnType, DecimalHandlingMode, IntervalHandlingMode, TimePrecisionMode,
    TypeCatalog, TypeKind, TypeOptions, UnknownTypes,
};

fn opts() -> TypeOptions {
    TypeOptions::default()
}

/// Decodes `text` as the built-in type `oid` with modifier `typmod`.
fn decode(oid: u32, typmod: i32, text: &str, opts: &TypeOptions) -> Value {
    TypeCatalog::builtin()
        .resolve(oid, typmod)
        .decode_text(text, opts)
        .unwrap_or_else(|e| panic!("{text:?} as oid {oid}: {e}"))
}

fn dflt(oid: u32, text: &str) -> Value {
    decode(oid, -1, text, &opts())
}

fn numeric_typmod(precision: i32, scale: i32) -> i32 {
    ((precision << 16) | scale) + 4
}

#[test]
fn integers_floats_and_booleans() {
    assert_eq!(dflt(21, "1"), Value::Int16(1));
    assert_eq!(dflt(23, "-123456"), Value::Int32(-123_456));
    assert_eq!(dflt(20, "1234567890123"), Value::Int64(1_234_567_890_123));
    assert_eq!(dflt(26, "4000000000"), Value::Int64(4_000_000_000));
    assert_eq!(dflt(700, "3.3"), Value::Float32(3.3));
    assert_eq!(dflt(701, "4.44"), Value::Float64(4.44));
    assert_eq!(dflt(701, "-Infinity"), Value::Float64(f64::NEG_INFINITY));
    assert!(matches!(dflt(700, "NaN"), Value::Float32(v) if v.is_nan()));
    assert_eq!(dflt(16, "t"), Value::Boolean(true));
    assert_eq!(dflt(16, "f"), Value::Boolean(false));
    let err = TypeCatalog::builtin()
        .resolve(21, -1)
        .decode_text("70000", &opts())
        .unwrap_err();
    assert!(err.to_string().contains("int2"), "{err}");
}

#[test]
fn strings_pass_through() {
    for oid in [
        25, 1043, 1042, 19, 114, 3802, 142, 2950, 869, 650, 829, 774, 3904, 3912,
    ] {
        assert_eq!(dflt(oid, "x y"), Value::String("x y".into()), "oid {oid}");
    }
}

#[test]
fn bytea_in_every_binary_mode() {
    assert_eq!(dflt(17, "\\x010203"), Value::Bytes(vec![1, 2, 3]));
    assert_eq!(
        dflt(17, "a\\\\b\\001"),
        Value::Bytes(vec![b'a', b'\\', b'b', 1])
    );
    let mode = |binary| TypeOptions { binary, ..opts() };
    assert_eq!(
        decode(17, -1, "\\x010203", &mode(BinaryHandlingMode::Base64)),
        Value::String("AQID".into())
    );
    assert_eq!(
        decode(17, -1, "\\x010203", &mode(BinaryHandlingMode::Hex)),
        Value::String("010203".into())
    );
    assert_eq!(
        decode(17, -1, "\\xfbff", &mode(BinaryHandlingMode::Base64UrlSafe)),
        Value::String("-_8=".into())
    );
    assert!(
        TypeCatalog::builtin()
            .resolve(17, -1)
            .decode_text("\\x0", &opts())
            .is_err()
    );
}

#[test]
fn dates_times_and_timestamps_adaptive() {
    assert_eq!(dflt(1082, "2016-11-04"), Value::Int32(17109));
    // Debezium's date infinities are the odd proleptic days of `-5877611-06-21`/`-22`.
    assert_eq!(
        dflt(1082, "infinity"),
        Value::Int32(crate::types::temporal::date_positive_infinity_days())
    );
    assert_eq!(dflt(1083, "13:51:30"), Value::Int64(49_890_000_000));
    assert_eq!(
        decode(1083, 3, "13:51:30.123", &opts()),
        Value::Int32(49_890_123)
    );
    assert_eq!(dflt(1083, "24:00:00"), Value::Int64(86_400_000_000));
    assert_eq!(
        dflt(1266, "13:51:30.123789+02"),
        Value::String("11:51:30.123789Z".into())
    );
    assert_eq!(
        dflt(1114, "2016-11-04 13:51:30.123456"),
        Value::Int64(1_478_267_490_123_456)
    );
    assert_eq!(
        decode(1114, 3, "2016-11-04 13:51:30.123", &opts()),
        Value::Int64(1_478_267_490_123)
    );
    assert_eq!(
        dflt(1114, "infinity"),
        Value::Int64(9_223_372_036_825_200_000)
    );
    assert_eq!(
        dflt(1114, "-infinity"),
        Value::Int64(-9_223_372_036_832_400_000)
    );
    assert_eq!(
        dflt(1184, "2016-11-04 13:51:30.123456+02"),
        Value::String("2016-11-04T11:51:30.123456Z".into())
    );
    assert_eq!(
        dflt(1184, "2020-04-01 11:51:02+00"),
        Value::String("2020-04-01T11:51:02.000000Z".into())
    );
    assert_eq!(
        decode(1184, 0, "2020-04-01 11:51:02+00", &opts()),
        Value::String("2020-04-01T11:51:02Z".into())
    );
    assert_eq!(dflt(1184, "-infinity"), Value::String("-infinity".into()));
}

#[test]
fn time_precision_modes() {
    let micros = TypeOptions {
        time: TimePrecisionMode::AdaptiveTimeMicroseconds,
        ..opts()
    };
    assert_eq!(
        decode(1083, 3, "13:51:30.123", &micros),
        Value::Int64(49_890_123_000)
    );
    let connect = TypeOptions {
        time: TimePrecisionMode::Connect,
        ..opts()
    };
    assert_eq!(
        decode(1083, 6, "13:51:30.123456", &connect),
        Value::Int32(49_890_123)
    );
    assert_eq!(
        decode(1114, 6, "1969-12-31 23:59:59.9995", &connect),
        Value::Int64(-1)
    );
    assert_eq!(decode(1082, -1, "1970-01-02", &connect), Value::Int32(1));
}

#[test]
fn intervals_in_both_modes() {
    assert_eq!(dflt(1186, "1 day 02:00:00"), Value::Int64(93_600_000_000));
    assert_eq!(
        dflt(1186, "-1 days -02:00:00"),
        Value::Int64(-93_600_000_000)
    );
    let string = TypeOptions {
        interval: IntervalHandlingMode::String,
        ..opts()
    };
    assert_eq!(
        decode(1186, -1, "1 year 2 mons 3 days 04:05:06.78", &string),
        Value::String("P1Y2M3DT4H5M6.78S".into())
    );
}

#[test]
fn numerics_and_money() {
    let v = decode(1700, numeric_typmod(10, 2), "12.50", &opts());
    assert_eq!(decode_decimal(v.as_bytes().unwrap(), 2), "12.50");
    let var = dflt(1700, "10.1111");
    let s = var.as_struct().unwrap();
    assert_eq!(s.get("scale"), Some(&Value::Int32(4)));
    assert_eq!(
        decode_decimal(s.get("value").unwrap().as_bytes().unwrap(), 4),
        "10.1111"
    );
    let money = dflt(790, "$1,234.11");
    assert_eq!(decode_decimal(money.as_bytes().unwrap(), 2), "1234.11");
    let string = TypeOptions {
        decimal: DecimalHandlingMode::String,
        ..opts()
    };
    assert_eq!(
        decode(1700, numeric_typmod(5, 2), "NaN", &string),
        Value::String("NAN".into())
    );
    let nan = TypeCatalog::builtin()
        .resolve(1700, numeric_typmod(5, 2))
        .decode_text("NaN", &opts())
        .unwrap_err();
    assert!(nan.to_string().contains("decimal.handling.mode"), "{nan}");
}

#[test]
fn bits_like_debezium() {
    // Debezium's bitbin_table expectations.
    assert_eq!(decode(1560, 1, "0", &opts()), Value::Boolean(false));
    assert_eq!(decode(1560, 1, "1", &opts()), Value::Boolean(true));
    assert_eq!(decode(1562, 1, "1", &opts()), Value::Boolean(true));
    assert_eq!(decode(1560, 2, "11", &opts()), Value::Bytes(vec![3]));
    assert_eq!(decode(1560, 7, "1000000", &opts()), Value::Bytes(vec![64]));
    assert_eq!(decode(1560, 2, "00", &opts()), Value::Bytes(vec![]));
    assert_eq!(
        decode(1560, 24, "000000110000001000000001", &opts()),
        Value::Bytes(vec![1, 2, 3])
    );
    let one_then_63_zeros = format!("1{}", "0".repeat(63));
    assert_eq!(
        decode(1560, 64, &one_then_63_zeros, &opts()),
        Value::Bytes(vec![0, 0, 0, 0, 0, 0, 0, 0x80])
    );
    assert_eq!(dflt(1562, "101"), Value::Bytes(vec![5]));
    assert_eq!(
        dflt(1562, "111011010001000110000001000000001"),
        Value::Bytes(vec![1, 2, 35, 0xda, 1])
    );
}

#[test]
fn arrays_enums_and_unknowns() {
    assert_eq!(
        dflt(1007, "{1,NULL,3}"),
        Value::Array(vec![Value::Int32(1), Value::Null, Value::Int32(3)])
    );
    assert_eq!(
        dflt(1009, r#"{"a b","c\"d",NULL}"#),
        Value::Array(vec![
            Value::String("a b".into()),
            Value::String("c\"d".into()),
            Value::Null
        ])
    );
    assert_eq!(
        dflt(1185, r#"{"2020-04-01 11:51:02+00"}"#),
        Value::Array(vec![Value::String("2020-04-01T11:51:02.000000Z".into())])
    );
    let labels: Arc<[String]> = vec!["sad".to_string(), "ok".to_string()].into();
    let mood = ColumnType::new("public.mood", TypeKind::Enum { labels });
    assert_eq!(
        mood.decode_text("ok", &opts()).unwrap(),
        Value::String("ok".into())
    );
    let unknown = ColumnType::new("tsquery", TypeKind::Unknown);
    assert!(unknown.decode_text("'fat'", &opts()).is_err());
    let include = TypeOptions {
        unknown: UnknownTypes::Include,
        ..opts()
    };
    assert_eq!(
        unknown.decode_text("'fat' <-> 'cat'", &include).unwrap(),
        Value::Bytes(b"'fat' <-> 'cat'".to_vec())
    );
    let hex = TypeOptions {
        binary: BinaryHandlingMode::Hex,
        ..include
    };
    assert_eq!(
        unknown.decode_text("'fat' <-> 'cat'", &hex).unwrap(),
        Value::String("2766617427203c2d3e202763617427".into())
    );
}
