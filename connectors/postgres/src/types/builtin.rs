//! Postgres's built-in types by their fixed OIDs (`pg_type.dat`): what each scalar maps to,
//! and which element each built-in array type has, so the common types resolve even before
//! (or without) reading the catalog.

use super::column::{DEFAULT_TIME_PRECISION, TypeKind};

/// What a built-in scalar type maps to, its name, and how its modifier is read.
pub fn scalar(oid: u32, type_modifier: i32) -> Option<(&'static str, TypeKind)> {
    let precision = time_precision(type_modifier);
    let found = match oid {
        16 => ("bool", TypeKind::Boolean),
        17 => ("bytea", TypeKind::Bytea),
        18 => ("char", TypeKind::Text),
        19 => ("name", TypeKind::Text),
        20 => ("int8", TypeKind::Int64),
        21 => ("int2", TypeKind::Int16),
        23 => ("int4", TypeKind::Int32),
        25 => ("text", TypeKind::Text),
        26 => ("oid", TypeKind::Int64),
        114 => ("json", TypeKind::Json),
        142 => ("xml", TypeKind::Xml),
        650 => ("cidr", TypeKind::Text),
        700 => ("float4", TypeKind::Float32),
        701 => ("float8", TypeKind::Float64),
        774 => ("macaddr8", TypeKind::Text),
        790 => ("money", TypeKind::Money),
        829 => ("macaddr", TypeKind::Text),
        600 => ("point", TypeKind::Point),
        869 => ("inet", TypeKind::Text),
        1042 => ("bpchar", TypeKind::Text),
        1043 => ("varchar", TypeKind::Text),
        1082 => ("date", TypeKind::Date),
        1083 => ("time", TypeKind::Time { precision }),
        1114 => ("timestamp", TypeKind::Timestamp { precision }),
        1184 => ("timestamptz", TypeKind::TimestampTz { precision }),
        1186 => ("interval", TypeKind::Interval),
        1266 => ("timetz", TypeKind::TimeTz),
        // `bit` without a length is `bit(1)`; unbounded `varbit` is Integer.MAX_VALUE long.
        1560 => ("bit", bits(type_modifier, 1)),
        1562 => ("varbit", bits(type_modifier, i32::MAX as u32)),
        1700 => ("numeric", numeric(type_modifier)),
        2950 => ("uuid", TypeKind::Uuid),
        3802 => ("jsonb", TypeKind::Json),
        // Ranges are carried as their text.
        3904 => ("int4range", TypeKind::Text),
        3906 => ("numrange", TypeKind::Text),
        3908 => ("tsrange", TypeKind::Text),
        3910 => ("tstzrange", TypeKind::Text),
        3912 => ("daterange", TypeKind::Text),
        3926 => ("int8range", TypeKind::Text),
        _ => return None,
    };
    Some(found)
}

/// Built-in array types: (array oid, array name, element oid).
pub const ARRAYS: &[(u32, &str, u32)] = &[
    (1000, "_bool", 16),
    (1001, "_bytea", 17),
    (1002, "_char", 18),
    (1003, "_name", 19),
    (1016, "_int8", 20),
    (1005, "_int2", 21),
    (1007, "_int4", 23),
    (1009, "_text", 25),
    (1028, "_oid", 26),
    (199, "_json", 114),
    (143, "_xml", 142),
    (651, "_cidr", 650),
    (1021, "_float4", 700),
    (1022, "_float8", 701),
    (775, "_macaddr8", 774),
    (791, "_money", 790),
    (1040, "_macaddr", 829),
    (1041, "_inet", 869),
    (1017, "_point", 600),
    (1014, "_bpchar", 1042),
    (1015, "_varchar", 1043),
    (1182, "_date", 1082),
    (1183, "_time", 1083),
    (1115, "_timestamp", 1114),
    (1185, "_timestamptz", 1184),
    (1187, "_interval", 1186),
    (1270, "_timetz", 1266),
    (1561, "_bit", 1560),
    (1563, "_varbit", 1562),
    (1231, "_numeric", 1700),
    (2951, "_uuid", 2950),
    (3807, "_jsonb", 3802),
    (3905, "_int4range", 3904),
    (3907, "_numrange", 3906),
    (3909, "_tsrange", 3908),
    (3911, "_tstzrange", 3910),
    (3913, "_daterange", 3912),
    (3927, "_int8range", 3926),
];

/// The element of a built-in array type.
pub fn array(oid: u32) -> Option<(&'static str, u32)> {
    ARRAYS
        .iter()
        .find(|(array, _, _)| *array == oid)
        .map(|&(_, name, element)| (name, element))
}

/// Fractional digits of time/timestamp types: the modifier itself, 6 when there is none.
fn time_precision(type_modifier: i32) -> u8 {
    u8::try_from(type_modifier)
        .ok()
        .filter(|p| *p <= 6)
        .unwrap_or(DEFAULT_TIME_PRECISION)
}

fn bits(type_modifier: i32, unbounded: u32) -> TypeKind {
    TypeKind::Bits {
        length: u32::try_from(type_modifier)
            .ok()
            .filter(|n| *n > 0)
            .unwrap_or(unbounded),
    }
}

/// `numeric`'s modifier packs `((precision << 16) | scale) + 4`; the scale is an 11-bit signed
/// number since Postgres 15.
pub fn numeric(type_modifier: i32) -> TypeKind {
    if type_modifier < 4 {
        return TypeKind::NumericUnconstrained;
    }
    let packed = type_modifier - 4;
    let precision = ((packed >> 16) & 0xffff) as u32;
    let scale = ((packed & 0x7ff) ^ 1024) - 1024;
    TypeKind::Numeric { precision, scale }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modifiers_are_read() {
        assert_eq!(
            numeric((10 << 16 | 2) + 4),
            TypeKind::Numeric {
                precision: 10,
                scale: 2
            }
        );
        assert_eq!(numeric(-1), TypeKind::NumericUnconstrained);
        // numeric(3, -2), allowed since Postgres 15: scale stored as 11-bit two's complement.
        assert_eq!(
            numeric((3 << 16 | 0x7fe) + 4),
            TypeKind::Numeric {
                precision: 3,
                scale: -2
            }
        );
        assert_eq!(scalar(1083, 3).unwrap().1, TypeKind::Time { precision: 3 });
        assert_eq!(
            scalar(1114, -1).unwrap().1,
            TypeKind::Timestamp { precision: 6 }
        );
        assert_eq!(scalar(1560, 1).unwrap().1, TypeKind::Bits { length: 1 });
        assert_eq!(
            scalar(1562, -1).unwrap().1,
            TypeKind::Bits {
                length: i32::MAX as u32
            }
        );
        assert_eq!(array(1007), Some(("_int4", 23)));
        assert!(scalar(603, -1).is_none(), "box is not mapped");
    }
}
