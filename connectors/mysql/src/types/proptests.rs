//! Property tests: for random values, the binlog cell and the snapshot text of the same column
//! value map to the same Connect value (the invariant that makes snapshot and streaming events
//! of one row identical).

use mysql_async::Value as My;
use proptest::prelude::*;
use sluice_schemas::Value;
use sluice_schemas::decimal::decode_decimal;
use sluice_schemas::temporal::civil_from_days;

use super::*;
use crate::binlog::{Cell, Date};

const WIDTHS: [(IntWidth, u32); 5] = [
    (IntWidth::Tiny, 8),
    (IntWidth::Small, 16),
    (IntWidth::Medium, 24),
    (IntWidth::Int, 32),
    (IntWidth::Big, 64),
];

fn integer(width: IntWidth, sign: Signedness) -> ColumnType {
    ColumnType::new(TypeKind::Integer { width, sign })
}

fn all_options() -> impl Strategy<Value = TypeOptions> {
    (
        prop_oneof![
            Just(DecimalHandlingMode::Precise),
            Just(DecimalHandlingMode::Double),
            Just(DecimalHandlingMode::String)
        ],
        prop_oneof![
            Just(TimePrecisionMode::Adaptive),
            Just(TimePrecisionMode::AdaptiveTimeMicroseconds),
            Just(TimePrecisionMode::Connect)
        ],
        prop_oneof![
            Just(BigintUnsignedHandlingMode::Long),
            Just(BigintUnsignedHandlingMode::Precise)
        ],
    )
        .prop_map(|(decimal, time_precision, bigint_unsigned)| TypeOptions {
            decimal,
            time_precision,
            bigint_unsigned,
            binary: BinaryHandlingMode::Bytes,
        })
}

/// Micros truncated to `fsp` digits, as the server stores them.
fn truncate(micros: u32, fsp: u8) -> u32 {
    let unit = 10u32.pow(6 - u32::from(fsp));
    micros / unit * unit
}

fn fraction(micros: u32, fsp: u8) -> String {
    if fsp == 0 {
        String::new()
    } else {
        format!(".{}", &format!("{micros:06}")[..usize::from(fsp)])
    }
}

proptest! {
    #[test]
    fn integers_agree(raw in any::<u64>(), which in 0usize..5, unsigned in any::<bool>(), opts in all_options()) {
        let (width, bits) = WIDTHS[which];
        let (cell, text, sign) = if unsigned {
            let v = if bits == 64 { raw } else { raw % (1u64 << bits) };
            (Cell::UInt(v), v.to_string(), Signedness::Unsigned)
        } else {
            let v = ((raw << (64 - bits)) as i64) >> (64 - bits);
            (Cell::Int(v), v.to_string(), Signedness::Signed)
        };
        let ty = integer(width, sign);
        let streamed = ty.binlog_value(&cell, &opts).unwrap();
        prop_assert_eq!(&streamed, &ty.snapshot_value(&My::Bytes(text.into_bytes()), &opts).unwrap());
        prop_assert!(!matches!(streamed, Value::Null));
    }

    #[test]
    fn datetimes_agree(days in -200_000i32..2_900_000, second_of_day in 0u32..86_400,
                       micros in 0u32..1_000_000, fsp in 0u8..=6, opts in all_options()) {
        let (year, month, day) = civil_from_days(days);
        prop_assume!((1..=9999).contains(&year));
        let micros = truncate(micros, fsp);
        let (hour, minute, second) = (second_of_day / 3600, second_of_day / 60 % 60, second_of_day % 60);
        let date = Date { year: year as u16, month: month as u8, day: day as u8 };
        let cell = Cell::DateTime { date, hour: hour as u8, minute: minute as u8, second: second as u8, micros };
        let text = format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}{}", fraction(micros, fsp));
        let ty = ColumnType::new(TypeKind::DateTime { fsp });
        prop_assert_eq!(
            ty.binlog_value(&cell, &opts).unwrap(),
            ty.snapshot_value(&My::Bytes(text.into_bytes()), &opts).unwrap()
        );
        let date_ty = ColumnType::new(TypeKind::Date);
        prop_assert_eq!(
            date_ty.binlog_value(&Cell::Date(date), &opts).unwrap(),
            Value::Int32(days)
        );
    }

    #[test]
    fn timestamps_agree(seconds in 1i64..(1 << 31), micros in 0u32..1_000_000, fsp in 0u8..=6) {
        let micros = truncate(micros, fsp);
        let (year, month, day) = civil_from_days(seconds.div_euclid(86_400) as i32);
        let s = seconds.rem_euclid(86_400);
        let text = format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}{}", s / 3600, s / 60 % 60, s % 60, fraction(micros, fsp));
        let ty = ColumnType::new(TypeKind::Timestamp { fsp });
        let opts = TypeOptions::default();
        let streamed = ty.binlog_value(&Cell::Timestamp { seconds, micros }, &opts).unwrap();
        prop_assert_eq!(&streamed, &ty.snapshot_value(&My::Bytes(text.clone().into_bytes()), &opts).unwrap());
        // ZonedTimestamp is the same text with T, the fsp digits and Z.
        prop_assert_eq!(streamed, Value::String(format!("{}Z", text.replace(' ', "T")).into()));
    }

    #[test]
    fn times_agree(negative in any::<bool>(), hours in 0u32..=838, minute in 0u8..60, second in 0u8..60,
                   micros in 0u32..1_000_000, fsp in 0u8..=6, opts in all_options()) {
        let micros = truncate(micros, fsp);
        let cell = Cell::Time { negative, hours, minute, second, micros };
        let sign = if negative { "-" } else { "" };
        let text = format!("{sign}{hours:02}:{minute:02}:{second:02}{}", fraction(micros, fsp));
        let ty = ColumnType::new(TypeKind::Time { fsp });
        prop_assert_eq!(
            ty.binlog_value(&cell, &opts).unwrap(),
            ty.snapshot_value(&My::Bytes(text.into_bytes()), &opts).unwrap()
        );
    }

    #[test]
    fn precise_decimals_round_trip(unscaled in any::<i64>(), scale in 0u32..=18) {
        let digits = unscaled.unsigned_abs().to_string();
        let padded = format!("{digits:0>width$}", width = scale as usize + 1);
        let (int, frac) = padded.split_at(padded.len() - scale as usize);
        let sign = if unscaled < 0 { "-" } else { "" };
        let text = if scale == 0 { format!("{sign}{int}") } else { format!("{sign}{int}.{frac}") };
        let ty = ColumnType::new(TypeKind::Decimal { precision: 65, scale });
        let Value::Bytes(bytes) = ty.binlog_value(&Cell::Decimal(text.clone()), &TypeOptions::default()).unwrap() else {
            panic!("precise decimals are bytes");
        };
        prop_assert_eq!(decode_decimal(&bytes, scale as i32), text);
    }
}
