//! Per-type checks for the semantic types: temporal types under every
//! `time.precision.mode`, ENUM/SET, JSON and geometry.

use mysql_async::Value as My;
use serde_json::json;
use sluice_schemas::Value;

use super::tests::{info, opts, schema_json, ty};
use super::*;
use crate::binlog::{Cell, ColumnInfo, ColumnType as Raw, Date};

#[test]
fn temporal_types_follow_time_precision_mode() {
    let o = opts();
    let date = ty(info(Raw::MYSQL_TYPE_DATE));
    let d = Date {
        year: 2024,
        month: 6,
        day: 15,
    };
    assert_eq!(
        date.binlog_value(&Cell::Date(d), &o).unwrap(),
        Value::Int32(19889)
    );
    assert_eq!(
        date.binlog_value(
            &Cell::Date(Date {
                year: 0,
                month: 0,
                day: 0
            }),
            &o
        )
        .unwrap(),
        Value::Null
    );
    assert_eq!(
        date.snapshot_value(&My::Bytes(b"0000-00-00".to_vec()), &o)
            .unwrap(),
        Value::Null
    );
    let datetime = |fsp| {
        ty(ColumnInfo {
            fsp: Some(fsp),
            ..info(Raw::MYSQL_TYPE_DATETIME2)
        })
    };
    let cell = Cell::DateTime {
        date: d,
        hour: 12,
        minute: 34,
        second: 56,
        micros: 789_000,
    };
    let micros = 1_718_454_896_789_000i64;
    assert_eq!(
        datetime(3).binlog_value(&cell, &o).unwrap(),
        Value::Int64(micros / 1000)
    );
    assert_eq!(
        datetime(6).binlog_value(&cell, &o).unwrap(),
        Value::Int64(micros)
    );
    assert_eq!(
        schema_json(&datetime(3), &o)["name"],
        "io.debezium.time.Timestamp"
    );
    assert_eq!(
        schema_json(&datetime(6), &o)["name"],
        "io.debezium.time.MicroTimestamp"
    );
    let connect = TypeOptions {
        time_precision: TimePrecisionMode::Connect,
        ..o
    };
    assert_eq!(
        datetime(6).binlog_value(&cell, &connect).unwrap(),
        Value::Int64(micros / 1000)
    );
    assert_eq!(
        schema_json(&datetime(6), &connect)["name"],
        "org.apache.kafka.connect.data.Timestamp"
    );

    let time = |fsp| {
        ty(ColumnInfo {
            fsp: Some(fsp),
            ..info(Raw::MYSQL_TYPE_TIME2)
        })
    };
    let negative = Cell::Time {
        negative: true,
        hours: 1,
        minute: 2,
        second: 3,
        micros: 500_000,
    };
    assert_eq!(
        time(3).binlog_value(&negative, &o).unwrap(),
        Value::Int64(-3_723_500_000)
    );
    assert_eq!(
        schema_json(&time(3), &o)["name"],
        "io.debezium.time.MicroTime"
    );
    let adaptive = TypeOptions {
        time_precision: TimePrecisionMode::Adaptive,
        ..o
    };
    assert_eq!(
        time(3).binlog_value(&negative, &adaptive).unwrap(),
        Value::Int32(-3_723_500)
    );
    assert_eq!(
        schema_json(&time(3), &adaptive)["name"],
        "io.debezium.time.Time"
    );

    let timestamp = |fsp| {
        ty(ColumnInfo {
            fsp: Some(fsp),
            ..info(Raw::MYSQL_TYPE_TIMESTAMP2)
        })
    };
    let ts = Cell::Timestamp {
        seconds: 1_718_454_896,
        micros: 500_000,
    };
    assert_eq!(
        timestamp(6).binlog_value(&ts, &o).unwrap(),
        Value::String("2024-06-15T12:34:56.500000Z".into())
    );
    assert_eq!(
        timestamp(0)
            .binlog_value(
                &Cell::Timestamp {
                    seconds: 1_718_454_896,
                    micros: 0
                },
                &o
            )
            .unwrap(),
        Value::String("2024-06-15T12:34:56Z".into())
    );
    assert_eq!(
        timestamp(6)
            .snapshot_value(&My::Bytes(b"2024-06-15 12:34:56.500000".to_vec()), &o)
            .unwrap(),
        Value::String("2024-06-15T12:34:56.500000Z".into())
    );
    assert_eq!(
        schema_json(&timestamp(6), &o)["name"],
        "io.debezium.time.ZonedTimestamp"
    );
    let year = ty(info(Raw::MYSQL_TYPE_YEAR));
    assert_eq!(
        year.binlog_value(&Cell::Year(2024), &o).unwrap(),
        Value::Int32(2024)
    );
    assert_eq!(
        year.snapshot_value(&My::Bytes(b"2024".to_vec()), &o)
            .unwrap(),
        Value::Int32(2024)
    );
}

#[test]
fn enums_sets_json_and_geometry() {
    let o = opts();
    let e = ty(ColumnInfo {
        enum_values: vec!["a,b".into(), "c'd".into()],
        ..info(Raw::MYSQL_TYPE_ENUM)
    });
    assert_eq!(
        e.binlog_value(&Cell::Enum(2), &o).unwrap(),
        Value::String("c'd".into())
    );
    assert_eq!(
        e.binlog_value(&Cell::Enum(0), &o).unwrap(),
        Value::String(Default::default())
    );
    assert!(e.binlog_value(&Cell::Enum(3), &o).is_err());
    assert_eq!(
        schema_json(&e, &o),
        json!({"type": "string", "optional": true, "name": "io.debezium.data.Enum", "version": 1,
               "parameters": {"allowed": "a\\,b,c'd"}})
    );
    let s = ty(ColumnInfo {
        set_values: vec!["x".into(), "y".into(), "z".into()],
        ..info(Raw::MYSQL_TYPE_SET)
    });
    assert_eq!(
        s.binlog_value(&Cell::Set(0b101), &o).unwrap(),
        Value::String("x,z".into())
    );
    assert_eq!(schema_json(&s, &o)["name"], "io.debezium.data.EnumSet");

    let j = ty(info(Raw::MYSQL_TYPE_JSON));
    assert_eq!(
        j.binlog_value(&Cell::Json(json!({"a": 1, "arr": ["x", true, null]})), &o)
            .unwrap(),
        Value::String(r#"{"a":1,"arr":["x",true,null]}"#.into())
    );
    assert_eq!(
        j.snapshot_value(
            &My::Bytes(br#"{"a": 1, "arr": ["x", true, null]}"#.to_vec()),
            &o
        )
        .unwrap(),
        Value::String(r#"{"a":1,"arr":["x",true,null]}"#.into())
    );

    let point_bytes: Vec<u8> = [
        &[0u8, 0, 0, 0][..],
        &[1, 1, 0, 0, 0],
        &1.0f64.to_le_bytes(),
        &2.0f64.to_le_bytes(),
    ]
    .concat();
    let point = ty(ColumnInfo {
        geometry_type: Some(1),
        ..info(Raw::MYSQL_TYPE_GEOMETRY)
    });
    let Value::Struct(p) = point
        .binlog_value(&Cell::Bytes(point_bytes.clone()), &o)
        .unwrap()
    else {
        panic!("a point is a struct");
    };
    assert_eq!(p.get("x"), Some(&Value::Float64(1.0)));
    assert_eq!(p.get("y"), Some(&Value::Float64(2.0)));
    assert_eq!(p.get("srid"), Some(&Value::Null));
    assert_eq!(p.get("wkb"), Some(&Value::Bytes(point_bytes[4..].to_vec())));
    let geometry = ty(info(Raw::MYSQL_TYPE_GEOMETRY));
    let mut with_srid = point_bytes.clone();
    with_srid[..4].copy_from_slice(&4326u32.to_le_bytes());
    let Value::Struct(g) = geometry.snapshot_value(&My::Bytes(with_srid), &o).unwrap() else {
        panic!("a geometry is a struct");
    };
    assert_eq!(g.get("srid"), Some(&Value::Int32(4326)));
    assert_eq!(
        schema_json(&geometry, &o)["name"],
        "io.debezium.data.geometry.Geometry"
    );
    assert_eq!(
        schema_json(&point, &o)["name"],
        "io.debezium.data.geometry.Point"
    );
}
