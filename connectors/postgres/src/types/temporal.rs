//! Postgres's ISO text output of `date`, `time`, `timetz`, `timestamp` and `timestamptz`
//! (DateStyle ISO, the default of the server and of replication connections) read into epoch
//! days / microseconds, and Debezium's text forms written back: `ZonedTime` and
//! `ZonedTimestamp` in UTC as Java's `ISO_OFFSET_*` formatters print them.

use sluice_schemas::temporal::{days_from_civil, format_micro_time, parse_micro_time};

pub const MICROS_PER_SECOND: i64 = 1_000_000;
pub const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// Debezium's values for `timestamp 'infinity'` / `'-infinity'` in microseconds (the JDBC
/// driver's `DATE_POSITIVE_INFINITY` / `DATE_NEGATIVE_INFINITY`).
pub const TIMESTAMP_POSITIVE_INFINITY_MICROS: i64 = 9_223_372_036_825_200_000;
pub const TIMESTAMP_NEGATIVE_INFINITY_MICROS: i64 = -9_223_372_036_832_400_000;

/// Debezium maps `date 'infinity'` / `'-infinity'` to these (proleptic) days, `-5877611-06-21`
/// and `-5877611-06-22`.
pub fn date_positive_infinity_days() -> i32 {
    days_from_civil(-5_877_611, 6, 21)
}
pub fn date_negative_infinity_days() -> i32 {
    days_from_civil(-5_877_611, 6, 22)
}

/// A date, time or timestamp that is a real point, or Postgres's infinities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment<T> {
    At(T),
    PositiveInfinity,
    NegativeInfinity,
}

fn infinity<T>(text: &str) -> Option<Moment<T>> {
    match text {
        "infinity" => Some(Moment::PositiveInfinity),
        "-infinity" => Some(Moment::NegativeInfinity),
        _ => None,
    }
}

fn digits(part: &str, what: &'static str) -> Result<i64, &'static str> {
    if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) || part.len() > 9 {
        return Err(what);
    }
    part.parse().map_err(|_| what)
}

/// Splits a trailing ` BC` (dates before year 1) off.
fn era(text: &str) -> (&str, bool) {
    match text.strip_suffix(" BC") {
        Some(rest) => (rest, true),
        None => (text, false),
    }
}

/// `YYYY-MM-DD` (year may have more than 4 digits) as days since 1970-01-01; a BC year `y` is
/// the proleptic year `1 - y`.
fn parse_ymd(text: &str, before_christ: bool) -> Result<i32, &'static str> {
    // `YYYY-MM-DD`, the common form, without splitting and parsing each part.
    if let &[y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2] = text.as_bytes()
        && let (Some(century), Some(year), Some(month), Some(day)) = (
            two_digits(y1, y2),
            two_digits(y3, y4),
            two_digits(m1, m2),
            two_digits(d1, d2),
        )
        && (1..=12).contains(&month)
        && (1..=31).contains(&day)
    {
        let year = century * 100 + year;
        let year = if before_christ { 1 - year } else { year };
        return Ok(days_from_civil(year as i32, month as u32, day as u32));
    }
    let mut parts = text.splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return Err("expected YYYY-MM-DD");
    };
    let year = digits(y, "the year is not a number")?;
    let month = digits(m, "the month is not a number")?;
    let day = digits(d, "the day is not a number")?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err("month or day out of range");
    }
    let year = if before_christ { 1 - year } else { year };
    Ok(days_from_civil(year as i32, month as u32, day as u32))
}

/// A `date` value as days since the epoch.
pub fn parse_date(text: &str) -> Result<Moment<i32>, &'static str> {
    if let Some(special) = infinity(text) {
        return Ok(special);
    }
    let (date, bc) = era(text);
    parse_ymd(date, bc).map(Moment::At)
}

/// A `time` value (`HH:MM:SS[.ffffff]`, up to `24:00:00`) as microseconds past midnight.
/// The form Postgres prints is read byte by byte (every snapshot and streamed timestamp comes
/// through here); anything else goes to the general parser, which accepts the same values.
pub fn parse_time(text: &str) -> Result<i64, &'static str> {
    if let Some(micros) = printed_clock(text.as_bytes()) {
        return Ok(micros);
    }
    parse_micro_time(text).map_err(|_| "expected HH:MM:SS with an optional fraction")
}

/// `HH:MM:SS` with an optional 1–9 digit fraction (digits past the sixth dropped, as the
/// general parser does); `None` for any other form or out-of-range minutes or seconds.
fn printed_clock(bytes: &[u8]) -> Option<i64> {
    let (clock, fraction) = bytes.split_at_checked(8)?;
    let &[h1, h2, b':', m1, m2, b':', s1, s2] = clock else {
        return None;
    };
    let (hours, minutes, seconds) = (
        two_digits(h1, h2)?,
        two_digits(m1, m2)?,
        two_digits(s1, s2)?,
    );
    if minutes > 59 || seconds > 60 {
        return None;
    }
    let mut micros = 0;
    match fraction {
        [] => {}
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            let mut scale = 100_000;
            for &byte in digits {
                let digit = byte.wrapping_sub(b'0');
                if digit > 9 {
                    return None;
                }
                micros += i64::from(digit) * scale;
                scale /= 10;
            }
        }
        _ => return None,
    }
    Some(((hours * 60 + minutes) * 60 + seconds) * MICROS_PER_SECOND + micros)
}

fn two_digits(high: u8, low: u8) -> Option<i64> {
    let (high, low) = (high.wrapping_sub(b'0'), low.wrapping_sub(b'0'));
    (high < 10 && low < 10).then(|| i64::from(high * 10 + low))
}

/// Splits a UTC offset (`+02`, `-05:30`, `+00:53:28`) off the end of a time, in seconds east.
fn split_offset(text: &str) -> Result<(&str, i64), &'static str> {
    let at = text
        .rfind(['+', '-'])
        .ok_or("the value has no UTC offset")?;
    let (clock, offset) = text.split_at(at);
    let sign = if offset.starts_with('-') { -1 } else { 1 };
    let mut seconds = 0;
    let mut unit = 3600;
    for part in offset[1..].split(':') {
        if unit == 0 {
            return Err("the UTC offset has too many parts");
        }
        seconds += digits(part, "the UTC offset is not a number")? * unit;
        unit /= 60;
    }
    Ok((clock, sign * seconds))
}

/// A `timetz` value as microseconds past midnight UTC.
pub fn parse_time_tz(text: &str) -> Result<i64, &'static str> {
    let (clock, offset) = split_offset(text)?;
    let local = parse_time(clock)?;
    Ok((local - offset * MICROS_PER_SECOND).rem_euclid(MICROS_PER_DAY))
}

/// `ZonedTime`: the UTC time of day as Java's `ISO_OFFSET_TIME` prints it (`11:51:30.123Z`).
pub fn format_zoned_time(utc_micros: i64) -> String {
    let mut out = format_micro_time(utc_micros);
    out.push('Z');
    out
}

/// A `timestamp` (no zone) as microseconds since the epoch, read as if it were UTC.
pub fn parse_timestamp(text: &str) -> Result<Moment<i64>, &'static str> {
    if let Some(special) = infinity(text) {
        return Ok(special);
    }
    let (text, bc) = era(text);
    let (date, clock) = text.split_once(' ').ok_or("expected a date and a time")?;
    let days = parse_ymd(date, bc)?;
    at_micros(days, parse_time(clock)?, 0)
}

/// Epoch microseconds of a day, a time of day and a UTC offset; the latest Postgres years do
/// not fit in 64-bit epoch microseconds, which is an error rather than an overflow.
fn at_micros(days: i32, time: i64, offset_seconds: i64) -> Result<Moment<i64>, &'static str> {
    i64::from(days)
        .checked_mul(MICROS_PER_DAY)
        .and_then(|micros| micros.checked_add(time))
        .and_then(|micros| micros.checked_sub(offset_seconds * MICROS_PER_SECOND))
        .map(Moment::At)
        .ok_or("the timestamp is beyond what epoch microseconds can hold (after year 294247)")
}

/// A `timestamptz` as microseconds since the epoch (the offset applied).
pub fn parse_timestamp_tz(text: &str) -> Result<Moment<i64>, &'static str> {
    if let Some(special) = infinity(text) {
        return Ok(special);
    }
    let (text, bc) = era(text);
    let (date, clock) = text.split_once(' ').ok_or("expected a date and a time")?;
    let days = parse_ymd(date, bc)?;
    let (clock, offset) = split_offset(clock)?;
    at_micros(days, parse_time(clock)?, offset)
}

/// `ZonedTimestamp`: the UTC instant as Debezium prints it — Java's ISO year (4 digits, `+`
/// beyond 9999, `-` before year 0), the fraction with exactly `fraction_digits` digits when
/// that is 1–9, else Java's shortest form, and `Z`.
pub fn format_zoned_timestamp(epoch_micros: i64, fraction_digits: u8) -> String {
    let days = epoch_micros.div_euclid(MICROS_PER_DAY);
    let time = epoch_micros.rem_euclid(MICROS_PER_DAY);
    let (year, month, day) = sluice_schemas::temporal::civil_from_days(days as i32);
    let mut out = String::with_capacity(32);
    if year > 9999 {
        out.push('+');
        out.push_str(&year.to_string());
    } else if year < 0 {
        out.push_str(&format!("-{:04}", -i64::from(year)));
    } else {
        out.push_str(&format!("{year:04}"));
    }
    let seconds = time / MICROS_PER_SECOND;
    out.push_str(&format!(
        "-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    ));
    let nanos = format!("{:09}", (time % MICROS_PER_SECOND) * 1000);
    if (1..=9).contains(&fraction_digits) {
        out.push('.');
        out.push_str(&nanos[..usize::from(fraction_digits)]);
    } else if nanos != "000000000" {
        out.push('.');
        out.push_str(nanos.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Prints epoch microseconds the way Postgres's ISO DateStyle does (years ≤ 0 as BC).
    fn postgres_text(micros: i64) -> String {
        let days = micros.div_euclid(MICROS_PER_DAY);
        let time = micros.rem_euclid(MICROS_PER_DAY);
        let (year, month, day) = sluice_schemas::temporal::civil_from_days(days as i32);
        let seconds = time / MICROS_PER_SECOND;
        let clock = format!(
            "{:02}:{:02}:{:02}.{:06}",
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60,
            time % MICROS_PER_SECOND
        );
        if year <= 0 {
            format!("{:04}-{month:02}-{day:02} {clock} BC", 1 - year)
        } else {
            format!("{year:04}-{month:02}-{day:02} {clock}")
        }
    }

    proptest! {
        /// From 4713 BC to the year 294247 (where epoch microseconds end, as in Debezium).
        #[test]
        fn postgres_timestamps_parse_back(micros in -210_866_803_200_000_000i64..9_223_371_331_200_000_000 - 5_400_000_000) {
            let text = postgres_text(micros);
            prop_assert_eq!(parse_timestamp(&text), Ok(Moment::At(micros)));
            let with_zone = match text.strip_suffix(" BC") {
                Some(rest) => format!("{rest}-01:30 BC"),
                None => format!("{text}-01:30"),
            };
            prop_assert_eq!(
                parse_timestamp_tz(&with_zone),
                Ok(Moment::At(micros + 5_400_000_000))
            );
        }
    }

    fn at<T>(m: Result<Moment<T>, &'static str>) -> T {
        match m.unwrap() {
            Moment::At(v) => v,
            _ => panic!("not a point in time"),
        }
    }

    #[test]
    fn dates_with_eras_and_infinities() {
        assert_eq!(at(parse_date("2016-11-04")), 17109);
        assert_eq!(at(parse_date("1969-12-31")), -1);
        assert_eq!(at(parse_date("0001-12-31 BC")), days_from_civil(0, 12, 31));
        assert_eq!(at(parse_date("21016-01-01")), days_from_civil(21016, 1, 1));
        assert_eq!(parse_date("infinity"), Ok(Moment::PositiveInfinity));
        assert_eq!(parse_date("-infinity"), Ok(Moment::NegativeInfinity));
        assert!(parse_date("2016-13-01").is_err());
        assert!(parse_date("04/11/2016").is_err());
        assert!(date_positive_infinity_days() < 0);
        assert_eq!(
            date_negative_infinity_days() - date_positive_infinity_days(),
            1
        );
    }

    /// The byte-level reading of the printed form gives what the general parser gives, and
    /// leaves every other form to it.
    #[test]
    fn printed_clocks_read_like_the_general_parser() {
        for text in [
            "00:00:00",
            "13:51:30",
            "24:00:00",
            "23:59:60",
            "13:51:30.1",
            "13:51:30.123456",
            "13:51:30.123456789",
            "13:51:30.000001",
        ] {
            assert_eq!(
                printed_clock(text.as_bytes()),
                Some(parse_micro_time(text).unwrap()),
                "{text}"
            );
        }
        for text in [
            "13:51",
            "13:51:30.",
            "13:60:00",
            "13:51:61",
            "1:51:30",
            "13:51:30.1234567890",
            "13:51:3x",
            "13:51:30.12a",
            "13-51-30",
        ] {
            assert_eq!(printed_clock(text.as_bytes()), None, "{text}");
        }
        assert_eq!(parse_time("13:51").unwrap(), 49_860_000_000);
        assert!(parse_time("13:60:00").is_err());
        assert_eq!(at(parse_date("0099-01-01")), days_from_civil(99, 1, 1));
        assert!(parse_date("2016-00-10").is_err());
        assert!(parse_date("2016-01-32").is_err());
    }

    #[test]
    fn times_and_zoned_times() {
        assert_eq!(parse_time("13:51:30").unwrap(), 49_890_000_000);
        assert_eq!(parse_time("24:00:00").unwrap(), MICROS_PER_DAY);
        let utc = parse_time_tz("13:51:30.123789+02").unwrap();
        assert_eq!(format_zoned_time(utc), "11:51:30.123789Z");
        assert_eq!(
            format_zoned_time(parse_time_tz("13:51:30.123+02").unwrap()),
            "11:51:30.123Z"
        );
        assert_eq!(
            format_zoned_time(parse_time_tz("01:00:00-05:30").unwrap()),
            "06:30:00Z"
        );
        assert_eq!(
            format_zoned_time(parse_time_tz("00:30:00+01").unwrap()),
            "23:30:00Z"
        );
        assert!(parse_time_tz("13:51:30").is_err());
    }

    #[test]
    fn timestamps() {
        assert_eq!(
            at(parse_timestamp("2016-11-04 13:51:30.123456")),
            1_478_267_490_123_456
        );
        assert_eq!(
            at(parse_timestamp("1936-10-25 22:10:12.608")),
            -1_047_174_587_392_000
        );
        assert_eq!(parse_timestamp("infinity"), Ok(Moment::PositiveInfinity));
        // Debezium's test value for '4713-12-31T23:59:59.999999 BC'.
        assert_eq!(
            at(parse_timestamp("4713-12-31 23:59:59.999999 BC")),
            -210_831_897_600_000_001
        );
    }

    #[test]
    fn zoned_timestamps_print_like_debezium() {
        let tz = at(parse_timestamp_tz("2016-11-04 13:51:30.123456+02"));
        assert_eq!(format_zoned_timestamp(tz, 6), "2016-11-04T11:51:30.123456Z");
        let large = at(parse_timestamp_tz("21016-11-04 13:51:30+07"));
        assert_eq!(
            format_zoned_timestamp(large, 6),
            "+21016-11-04T06:51:30.000000Z"
        );
        let min = at(parse_timestamp_tz("4714-12-31 23:59:59.999999+00 BC"));
        assert_eq!(
            format_zoned_timestamp(min, 6),
            "-4713-12-31T23:59:59.999999Z"
        );
        let lmt = at(parse_timestamp_tz("1900-01-01 00:00:00+00:53:28"));
        assert_eq!(format_zoned_timestamp(lmt, 0), "1899-12-31T23:06:32Z");
        assert_eq!(
            format_zoned_timestamp(1_500_000, 0),
            "1970-01-01T00:00:01.5Z"
        );
        assert_eq!(
            format_zoned_timestamp(1_500_000, 3),
            "1970-01-01T00:00:01.500Z"
        );
    }
}
