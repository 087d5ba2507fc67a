//! Date and time encodings used by the Connect and Debezium temporal types: days since the epoch
//! ↔ `YYYY-MM-DD`, time of day ↔ `HH:MM:SS.ffffff`, epoch microseconds ↔ ISO-8601 timestamps
//! (`io.debezium.time.ZonedTimestamp` prints UTC as `…Z`, fraction without trailing zeros, as
//! Java's `ISO_OFFSET_DATE_TIME` does).

use crate::error::{Error, Result};

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

fn invalid(text: &str, reason: impl Into<String>) -> Error {
    Error::InvalidTemporal {
        text: text.to_string(),
        reason: reason.into(),
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(year: i32, month: u32, day: u32) -> i32 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) as i32
}

/// The (year, month, day) of a day count since 1970-01-01.
pub fn civil_from_days(days: i32) -> (i32, u32, u32) {
    let z = i64::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    (year, month, day)
}

/// `YYYY-MM-DD` for a day count.
pub fn format_date(days: i32) -> String {
    let mut out = String::with_capacity(10);
    push_date(&mut out, days);
    out
}

/// Appends `YYYY-MM-DD` (years outside 0..=9999 as Rust's `{:04}` writes them: `-001`, `10000`).
fn push_date(out: &mut String, days: i32) {
    let (y, m, d) = civil_from_days(days);
    match u32::try_from(y) {
        Ok(year) if year <= 9999 => {
            push_two_digits(out, year / 100);
            push_two_digits(out, year % 100);
        }
        _ => out.push_str(&format!("{y:04}")),
    }
    out.push('-');
    push_two_digits(out, m);
    out.push('-');
    push_two_digits(out, d);
}

/// Appends `value` (below 100) as two digits.
fn push_two_digits(out: &mut String, value: u32) {
    out.push(char::from(b'0' + (value / 10 % 10) as u8));
    out.push(char::from(b'0' + (value % 10) as u8));
}

/// Appends `HH:MM:SS` for seconds past midnight (below one day).
fn push_clock(out: &mut String, secs: i64) {
    let secs = secs as u32;
    push_two_digits(out, secs / 3600);
    out.push(':');
    push_two_digits(out, secs / 60 % 60);
    out.push(':');
    push_two_digits(out, secs % 60);
}

fn number(text: &str, part: &str, what: &str) -> Result<u32> {
    if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(text, format!("the {what} is not a number")));
    }
    part.parse()
        .map_err(|_| invalid(text, format!("the {what} is out of range")))
}

/// Parses `YYYY-MM-DD` to days since the epoch.
pub fn parse_date(text: &str) -> Result<i32> {
    let mut parts = text.splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid(text, "expected YYYY-MM-DD"));
    };
    let (year, month, day) = (
        number(text, y, "year")?,
        number(text, m, "month")?,
        number(text, d, "day")?,
    );
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(invalid(text, "month or day out of range"));
    }
    Ok(days_from_civil(year as i32, month, day))
}

/// Appends `.f…` with trailing zeros removed (nothing when the fraction is zero).
fn push_fraction(out: &mut String, nanos: u32) {
    if nanos == 0 {
        return;
    }
    out.push('.');
    let mut rest = nanos;
    let mut divisor = 100_000_000;
    while rest != 0 {
        out.push(char::from(b'0' + (rest / divisor % 10) as u8));
        rest %= divisor;
        divisor /= 10;
    }
}

/// `HH:MM:SS[.f]` for microseconds past midnight.
pub fn format_micro_time(micros: i64) -> String {
    let micros = micros.rem_euclid(MICROS_PER_DAY);
    let mut out = String::with_capacity(15);
    push_clock(&mut out, micros / MICROS_PER_SECOND);
    push_fraction(&mut out, (micros % MICROS_PER_SECOND) as u32 * 1000);
    out
}

/// Parses `HH:MM[:SS[.f]]` to microseconds past midnight.
pub fn parse_micro_time(text: &str) -> Result<i64> {
    let (clock, fraction) = match text.split_once('.') {
        Some((c, f)) => (c, f),
        None => (text, ""),
    };
    let mut parts = clock.split(':');
    let hours = number(text, parts.next().unwrap_or(""), "hour")?;
    let minutes = number(text, parts.next().unwrap_or(""), "minute")?;
    let seconds = match parts.next() {
        Some(s) => number(text, s, "second")?,
        None => 0,
    };
    if minutes > 59 || seconds > 60 || parts.next().is_some() {
        return Err(invalid(
            text,
            "expected HH:MM:SS with minutes and seconds below 60",
        ));
    }
    let mut micros = 0i64;
    if !fraction.is_empty() {
        if fraction.len() > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(text, "the fraction must be 1 to 9 digits"));
        }
        // Microseconds: the first six digits, padded with zeros (digits past the sixth are
        // truncated, as Debezium does).
        let digits = fraction.as_bytes();
        micros = (0..6).fold(0i64, |acc, i| {
            acc * 10 + digits.get(i).map_or(0, |d| i64::from(d - b'0'))
        });
    }
    Ok(
        (i64::from(hours) * 3600 + i64::from(minutes) * 60 + i64::from(seconds))
            * MICROS_PER_SECOND
            + micros,
    )
}

/// ISO-8601 UTC timestamp (`2018-06-20T13:37:03.5Z`) for microseconds since the epoch, as
/// Debezium writes `ZonedTimestamp`.
pub fn format_zoned_timestamp_micros(epoch_micros: i64) -> String {
    let days = epoch_micros.div_euclid(MICROS_PER_DAY);
    let time = epoch_micros.rem_euclid(MICROS_PER_DAY);
    let mut out = String::with_capacity(28);
    push_date(&mut out, days as i32);
    out.push('T');
    push_clock(&mut out, time / MICROS_PER_SECOND);
    push_fraction(&mut out, (time % MICROS_PER_SECOND) as u32 * 1000);
    out.push('Z');
    out
}

/// Parses `YYYY-MM-DD[T| ]HH:MM[:SS[.f]][Z|±HH:MM]` to microseconds since the epoch (UTC; an
/// offset is subtracted, no offset means UTC).
pub fn parse_timestamp_micros(text: &str) -> Result<i64> {
    let split = text
        .find(['T', ' '])
        .ok_or_else(|| invalid(text, "expected a date and a time"))?;
    let days = parse_date(&text[..split])?;
    let rest = &text[split + 1..];
    let (clock, offset_secs) = if let Some(clock) = rest.strip_suffix('Z') {
        (clock, 0i64)
    } else if let Some(at) = rest.rfind(['+', '-']) {
        let (h, m) = rest[at + 1..]
            .split_once(':')
            .unwrap_or((&rest[at + 1..], "0"));
        let secs = i64::from(number(text, h, "offset hour")?) * 3600
            + i64::from(number(text, m, "offset minute")?) * 60;
        (
            &rest[..at],
            if &rest[at..=at] == "-" { -secs } else { secs },
        )
    } else {
        (rest, 0)
    };
    let micros = parse_micro_time(clock)?;
    Ok(i64::from(days) * MICROS_PER_DAY + micros - offset_secs * MICROS_PER_SECOND)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2018, 1, 19), 17550);
        assert_eq!(format_date(-1), "1969-12-31");
        assert_eq!(parse_date("2000-02-29").unwrap(), 11016);
        assert!(parse_date("2000-13-01").is_err());
        assert!(parse_date("nope").is_err());
    }

    #[test]
    fn times_and_timestamps() {
        assert_eq!(format_micro_time(3_723_000_500), "01:02:03.0005");
        assert_eq!(parse_micro_time("01:02:03.0005").unwrap(), 3_723_000_500);
        assert_eq!(
            parse_micro_time("23:59").unwrap(),
            (23 * 3600 + 59 * 60) * 1_000_000
        );
        assert_eq!(
            format_zoned_timestamp_micros(1_529_501_823_000_000),
            "2018-06-20T13:37:03Z"
        );
        assert_eq!(
            format_zoned_timestamp_micros(1_529_501_823_500_000),
            "2018-06-20T13:37:03.5Z"
        );
        assert_eq!(
            parse_timestamp_micros("2018-06-20T15:37:03+02:00").unwrap(),
            1_529_501_823_000_000
        );
        assert_eq!(
            parse_timestamp_micros("2018-06-20 13:37:03.5").unwrap(),
            1_529_501_823_500_000
        );
        assert!(parse_timestamp_micros("2018-06-20").is_err());
    }

    proptest! {
        #[test]
        fn dates_round_trip(days in -1_000_000i32..1_000_000) {
            let (y, m, d) = civil_from_days(days);
            prop_assert_eq!(days_from_civil(y, m, d), days);
            if (0..=9999).contains(&y) {
                prop_assert_eq!(parse_date(&format_date(days)).unwrap(), days);
            }
        }

        #[test]
        fn text_matches_the_format_macro(days in -3_000_000i32..3_000_000, micros in 0i64..86_400_000_000) {
            let (y, m, d) = civil_from_days(days);
            prop_assert_eq!(format_date(days), format!("{y:04}-{m:02}-{d:02}"));
            let secs = micros / 1_000_000;
            let nanos = (micros % 1_000_000) * 1000;
            let mut expected = format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
            if nanos != 0 {
                expected.push_str(format!(".{nanos:09}").trim_end_matches('0'));
            }
            prop_assert_eq!(format_micro_time(micros), expected.clone());
            let epoch = i64::from(days) * 86_400_000_000 + micros;
            prop_assert_eq!(
                format_zoned_timestamp_micros(epoch),
                format!("{y:04}-{m:02}-{d:02}T{expected}Z")
            );
        }

        #[test]
        fn fractions_are_read_to_the_microsecond(digits in "[0-9]{1,9}") {
            let expected: i64 = format!("{digits:0<6}")[..6].parse().unwrap();
            prop_assert_eq!(parse_micro_time(&format!("00:00:00.{digits}")).unwrap(), expected);
        }

        #[test]
        fn timestamps_round_trip(micros in 0i64..253_402_300_799_000_000) {
            prop_assert_eq!(parse_timestamp_micros(&format_zoned_timestamp_micros(micros)).unwrap(), micros);
        }
    }
}
