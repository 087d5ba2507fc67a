//! Per-type checks: binlog cells and snapshot text to values, and the schema JSON the
//! converter writes, against Debezium's documented MySQL mapping.

use mysql_async::Value as My;
use serde_json::json;
use sluice_schemas::Value;
use sluice_schemas::json::{JsonConverter, JsonConverterConfig};

use super::*;
use crate::binlog::{Cell, ColumnInfo, ColumnType as Raw, DecimalDigits};

pub(super) fn info(column_type: Raw) -> ColumnInfo {
    ColumnInfo {
        column_type,
        name: Some("c".into()),
        unsigned: None,
        enum_values: Vec::new(),
        set_values: Vec::new(),
        geometry_type: None,
        nullable: true,
        decimal: None,
        fsp: None,
        max_length: None,
        pack_length: None,
        bit_length: None,
        collation: None,
    }
}

pub(super) fn ty(info: ColumnInfo) -> ColumnType {
    ColumnType::from_binlog(&info).unwrap()
}

pub(super) fn unsigned(column_type: Raw) -> ColumnType {
    ty(ColumnInfo {
        unsigned: Some(true),
        ..info(column_type)
    })
}

pub(super) fn opts() -> TypeOptions {
    TypeOptions::default()
}

pub(super) fn schema_json(t: &ColumnType, opts: &TypeOptions) -> serde_json::Value {
    let converter = JsonConverter::new(JsonConverterConfig::default());
    serde_json::from_slice(&converter.schema_json(&t.schema(true, opts)).unwrap()).unwrap()
}

#[test]
fn integers_widen_for_unsigned_like_debezium() {
    let o = opts();
    let cases = [
        (
            ty(info(Raw::MYSQL_TYPE_TINY)),
            Cell::Int(-128),
            Value::Int16(-128),
        ),
        (
            unsigned(Raw::MYSQL_TYPE_TINY),
            Cell::UInt(255),
            Value::Int16(255),
        ),
        (
            unsigned(Raw::MYSQL_TYPE_SHORT),
            Cell::UInt(65535),
            Value::Int32(65535),
        ),
        (
            ty(info(Raw::MYSQL_TYPE_INT24)),
            Cell::Int(-8388608),
            Value::Int32(-8388608),
        ),
        (
            unsigned(Raw::MYSQL_TYPE_LONG),
            Cell::UInt(4294967295),
            Value::Int64(4294967295),
        ),
        (
            ty(info(Raw::MYSQL_TYPE_LONGLONG)),
            Cell::Int(i64::MIN),
            Value::Int64(i64::MIN),
        ),
        (
            unsigned(Raw::MYSQL_TYPE_LONGLONG),
            Cell::UInt(u64::MAX),
            Value::Int64(-1),
        ),
    ];
    for (t, cell, want) in cases {
        assert_eq!(
            t.binlog_value(&cell, &o).unwrap(),
            want,
            "{}",
            t.type_name()
        );
    }
    let precise = TypeOptions {
        bigint_unsigned: BigintUnsignedHandlingMode::Precise,
        ..o
    };
    let big = unsigned(Raw::MYSQL_TYPE_LONGLONG);
    assert_eq!(
        big.binlog_value(&Cell::UInt(u64::MAX), &precise).unwrap(),
        Value::Bytes(vec![0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
    );
    assert_eq!(
        schema_json(&big, &precise),
        json!({"type": "bytes", "optional": true, "name": "org.apache.kafka.connect.data.Decimal",
               "version": 1, "parameters": {"scale": "0", "connect.decimal.precision": "20"}})
    );
    let err = ty(info(Raw::MYSQL_TYPE_TINY))
        .snapshot_value(&My::Bytes(b"300".to_vec()), &o)
        .unwrap_err()
        .to_string();
    assert!(err.contains("out of range"), "{err}");
}

#[test]
fn decimals_in_three_modes() {
    let t = ty(ColumnInfo {
        decimal: Some(DecimalDigits {
            precision: 10,
            scale: 2,
        }),
        ..info(Raw::MYSQL_TYPE_NEWDECIMAL)
    });
    let cell = Cell::Decimal("-12.50".into());
    // -1250 as two's complement.
    assert_eq!(
        t.binlog_value(&cell, &opts()).unwrap(),
        Value::Bytes(vec![0xfb, 0x1e])
    );
    assert_eq!(
        schema_json(&t, &opts()),
        json!({"type": "bytes", "optional": true, "name": "org.apache.kafka.connect.data.Decimal",
               "version": 1, "parameters": {"scale": "2", "connect.decimal.precision": "10"}})
    );
    let double = TypeOptions {
        decimal: DecimalHandlingMode::Double,
        ..opts()
    };
    assert_eq!(
        t.binlog_value(&cell, &double).unwrap(),
        Value::Float64(-12.5)
    );
    let string = TypeOptions {
        decimal: DecimalHandlingMode::String,
        ..opts()
    };
    assert_eq!(
        t.snapshot_value(&My::Bytes(b"-12.50".to_vec()), &string)
            .unwrap(),
        Value::String("-12.50".into())
    );
}

#[test]
fn bits_are_boolean_or_little_endian_bytes() {
    let one = ty(ColumnInfo {
        bit_length: Some(1),
        ..info(Raw::MYSQL_TYPE_BIT)
    });
    assert_eq!(
        one.binlog_value(&Cell::Bit(1), &opts()).unwrap(),
        Value::Boolean(true)
    );
    let ten = ty(ColumnInfo {
        bit_length: Some(10),
        ..info(Raw::MYSQL_TYPE_BIT)
    });
    // b'1000000001' = 0x201: little-endian, 2 bytes.
    assert_eq!(
        ten.binlog_value(&Cell::Bit(0x201), &opts()).unwrap(),
        Value::Bytes(vec![1, 2])
    );
    assert_eq!(
        ten.snapshot_value(&My::Bytes(vec![2, 1]), &opts()).unwrap(),
        Value::Bytes(vec![1, 2])
    );
    assert_eq!(
        schema_json(&ten, &opts()),
        json!({"type": "bytes", "optional": true, "name": "io.debezium.data.Bits", "version": 1,
               "parameters": {"length": "10"}})
    );
}

#[test]
fn strings_use_the_column_charset_and_binary_follows_the_mode() {
    let latin1 = ty(ColumnInfo {
        collation: Some(8),
        max_length: Some(20),
        ..info(Raw::MYSQL_TYPE_VARCHAR)
    });
    assert_eq!(
        latin1
            .binlog_value(&Cell::Bytes(b"se\xf1or \x80".to_vec()), &opts())
            .unwrap(),
        Value::String("señor €".into())
    );
    // Snapshots arrive in the connection's utf8mb4.
    assert_eq!(
        latin1
            .snapshot_value(&My::Bytes("señor €".as_bytes().to_vec()), &opts())
            .unwrap(),
        Value::String("señor €".into())
    );
    let binary4 = ty(ColumnInfo {
        collation: Some(63),
        max_length: Some(4),
        ..info(Raw::MYSQL_TYPE_STRING)
    });
    assert_eq!(binary4.type_name(), "BINARY");
    assert_eq!(
        binary4
            .binlog_value(&Cell::Bytes(vec![0xde, 0xad]), &opts())
            .unwrap(),
        Value::Bytes(vec![0xde, 0xad, 0, 0])
    );
    for (mode, want) in [
        (BinaryHandlingMode::Base64, "3q0AAA=="),
        (BinaryHandlingMode::Hex, "dead0000"),
    ] {
        let o = TypeOptions {
            binary: mode,
            ..opts()
        };
        assert_eq!(
            binary4
                .binlog_value(&Cell::Bytes(vec![0xde, 0xad]), &o)
                .unwrap(),
            Value::String(want.into())
        );
        assert_eq!(schema_json(&binary4, &o)["type"], "string");
    }
    let blob = ty(ColumnInfo {
        collation: Some(63),
        pack_length: Some(3),
        ..info(Raw::MYSQL_TYPE_BLOB)
    });
    assert_eq!(blob.type_name(), "MEDIUMBLOB");
    let text = ty(ColumnInfo {
        collation: Some(45),
        pack_length: Some(2),
        ..info(Raw::MYSQL_TYPE_BLOB)
    });
    assert_eq!(text.describe().type_name, "TEXT");
    assert_eq!(text.describe().charset_name.as_deref(), Some("utf8mb4"));
}

#[test]
fn float_and_double() {
    let o = opts();
    let f = ty(info(Raw::MYSQL_TYPE_FLOAT));
    assert_eq!(
        f.binlog_value(&Cell::Float(1.25), &o).unwrap(),
        Value::Float32(1.25)
    );
    assert_eq!(
        f.snapshot_value(&My::Bytes(b"0.1".to_vec()), &o).unwrap(),
        Value::Float32(0.1)
    );
    assert_eq!(schema_json(&f, &o)["type"], "float");
    let d = ty(info(Raw::MYSQL_TYPE_DOUBLE));
    assert_eq!(
        d.snapshot_value(&My::Double(-2.5), &o).unwrap(),
        Value::Float64(-2.5)
    );
    assert_eq!(schema_json(&d, &o)["type"], "double");
}

#[test]
fn binlog_and_catalog_types_agree() {
    let catalog = |data_type: &str, column_type: &str, charset: Option<&str>| {
        ColumnType::from_information_schema(&InformationSchemaColumn {
            column_name: "c".into(),
            data_type: data_type.into(),
            column_type: column_type.into(),
            character_set_name: charset.map(Into::into),
            numeric_precision: Some(30),
            numeric_scale: Some(10),
            datetime_precision: Some(3),
            character_maximum_length: Some(20),
            ..Default::default()
        })
        .unwrap()
    };
    let pairs = [
        (
            catalog("decimal", "decimal(30,10)", None),
            ty(ColumnInfo {
                decimal: Some(DecimalDigits {
                    precision: 30,
                    scale: 10,
                }),
                ..info(Raw::MYSQL_TYPE_NEWDECIMAL)
            }),
        ),
        (
            catalog("varchar", "varchar(20)", Some("utf8mb4")),
            ty(ColumnInfo {
                collation: Some(45),
                max_length: Some(80),
                ..info(Raw::MYSQL_TYPE_VARCHAR)
            }),
        ),
        (
            catalog("datetime", "datetime(3)", None),
            ty(ColumnInfo {
                fsp: Some(3),
                ..info(Raw::MYSQL_TYPE_DATETIME2)
            }),
        ),
        (
            catalog("bigint", "bigint(20) unsigned", None),
            unsigned(Raw::MYSQL_TYPE_LONGLONG),
        ),
    ];
    for (from_catalog, from_binlog) in pairs {
        assert_eq!(from_catalog, from_binlog);
    }
}

#[test]
fn descriptions_for_schema_changes() {
    let catalog = |data_type: &str, column_type: &str| {
        ColumnType::from_information_schema(&InformationSchemaColumn {
            column_name: "c".into(),
            data_type: data_type.into(),
            column_type: column_type.into(),
            character_set_name: Some("latin1".into()),
            numeric_precision: Some(12),
            numeric_scale: Some(4),
            datetime_precision: Some(6),
            character_maximum_length: Some(20),
            ..Default::default()
        })
        .unwrap()
        .describe()
    };
    let d = catalog("int", "int(10) unsigned");
    assert_eq!(
        (d.type_name.as_str(), d.jdbc_type),
        ("INT UNSIGNED", describe::jdbc::INTEGER)
    );
    let d = catalog("tinyint", "tinyint(1)");
    assert_eq!(
        (d.type_name.as_str(), d.jdbc_type),
        ("TINYINT", describe::jdbc::SMALLINT)
    );
    let d = catalog("decimal", "decimal(12,4)");
    assert_eq!(
        (d.length, d.scale, d.jdbc_type),
        (Some(12), Some(4), describe::jdbc::DECIMAL)
    );
    let d = catalog("varchar", "varchar(20)");
    assert_eq!(
        (d.length, d.charset_name.as_deref()),
        (Some(20), Some("latin1"))
    );
    let d = catalog("enum", "enum('a','b')");
    assert_eq!(
        (d.enum_values, d.jdbc_type),
        (vec!["a".to_string(), "b".to_string()], describe::jdbc::CHAR)
    );
    let d = catalog("timestamp", "timestamp(6)");
    assert_eq!(
        (d.length, d.jdbc_type),
        (Some(6), describe::jdbc::TIMESTAMP_WITH_TIMEZONE)
    );
    let d = catalog("mediumblob", "mediumblob");
    assert_eq!((d.type_name.as_str(), d.charset_name), ("MEDIUMBLOB", None));
    let d = catalog("point", "point");
    assert_eq!(
        (d.type_name.as_str(), d.jdbc_type),
        ("POINT", describe::jdbc::OTHER)
    );
}

#[test]
fn value_errors_name_the_column() {
    let err = ty(info(Raw::MYSQL_TYPE_DATE))
        .binlog_value(&Cell::Int(5), &opts())
        .unwrap_err();
    assert!(
        err.to_string().starts_with("cannot convert a value:"),
        "{err}"
    );
    let named = err.in_column("db.t.d").to_string();
    assert!(
        named.contains("of column db.t.d") && named.contains("DATE"),
        "{named}"
    );
}
