//! GEOMETRY values: MySQL's internal form (SRID + WKB) to Debezium's Geometry and Point
//! structs.

use sluice_schemas::{Struct, Value, logical};

use super::column::GeometryKind;
use super::value::bad;
use crate::error::{Error, Result};

/// MySQL's internal geometry value: a little-endian u32 SRID, then WKB. Debezium writes SRID
/// 0 as null.
pub(crate) fn geometry_value(bytes: &[u8], kind: GeometryKind) -> Result<Value> {
    if bytes.len() < 4 {
        return Err(bad("a geometry value shorter than its 4-byte SRID"));
    }
    let srid = i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let srid = if srid == 0 {
        Value::Null
    } else {
        Value::Int32(srid)
    };
    let wkb = bytes[4..].to_vec();
    // Built with the required schema; the table mapping re-wraps it in the field's schema
    // (optional or not) since struct values carry their schema.
    let schema = match kind {
        GeometryKind::Point => logical::point().build(),
        GeometryKind::Other(_) => logical::geometry().build(),
    };
    let values = match kind {
        GeometryKind::Point => {
            let (x, y) = wkb_point(&wkb)
                .ok_or_else(|| bad("a POINT column holds a geometry that is not a 2D point"))?;
            vec![
                Value::Float64(x),
                Value::Float64(y),
                Value::Bytes(wkb),
                srid,
            ]
        }
        GeometryKind::Other(_) => vec![Value::Bytes(wkb), srid],
    };
    Struct::from_values(schema, values)
        .map(Value::Struct)
        .map_err(|source| Error::ValueEncoding {
            column: String::new(),
            source,
        })
}

/// x and y of a 21-byte WKB point (byte order, type 1, two doubles).
fn wkb_point(wkb: &[u8]) -> Option<(f64, f64)> {
    if wkb.len() != 21 {
        return None;
    }
    let little = wkb[0] == 1;
    let num = |at: usize| -> Option<f64> {
        let raw: [u8; 8] = wkb.get(at..at + 8)?.try_into().ok()?;
        Some(if little {
            f64::from_le_bytes(raw)
        } else {
            f64::from_be_bytes(raw)
        })
    };
    let kind: [u8; 4] = wkb.get(1..5)?.try_into().ok()?;
    let kind = if little {
        u32::from_le_bytes(kind)
    } else {
        u32::from_be_bytes(kind)
    };
    (kind == 1).then_some((num(5)?, num(13)?))
}
