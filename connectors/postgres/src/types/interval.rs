//! `interval` values in Postgres's default output style (`IntervalStyle = postgres`:
//! `1 year 2 mons -3 days +04:05:06.78`) read into their fields, and Debezium's two forms:
//! `MicroDuration` (microseconds, a month being 365.25 / 12 days, computed in floating point as
//! Debezium does so the numbers match) and `Interval` (`P1Y2M3DT4H5M6.78S`).

/// An interval's fields as the JDBC driver's `PGInterval` holds them; the time part's sign
/// applies to hours, minutes and seconds alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IntervalFields {
    pub years: i64,
    pub months: i64,
    pub days: i64,
    pub hours: i64,
    pub minutes: i64,
    /// Seconds with their fraction, in microseconds (carries the time part's sign).
    pub second_micros: i64,
}

const DAYS_PER_MONTH_AVG: f64 = 365.25 / 12.0;

fn number(text: &str) -> Result<i64, &'static str> {
    text.parse().map_err(|_| "a field is not a whole number")
}

/// `[-+]H:MM:SS[.ffffff]` (hours may exceed 24).
fn parse_clock(text: &str, fields: &mut IntervalFields) -> Result<(), &'static str> {
    let (negative, clock) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let mut parts = clock.split(':');
    let (Some(h), Some(m)) = (parts.next(), parts.next()) else {
        return Err("expected H:MM:SS in the time part");
    };
    let s = parts.next().unwrap_or("0");
    if parts.next().is_some() {
        return Err("the time part has too many `:`");
    }
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    if fraction.len() > 6 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err("the seconds' fraction must be up to 6 digits");
    }
    let micros = if fraction.is_empty() {
        0
    } else {
        number(&format!("{fraction:0<6}"))?
    };
    let sign = if negative { -1 } else { 1 };
    fields.hours = sign * number(h)?;
    fields.minutes = sign * number(m)?;
    fields.second_micros = sign * (number(whole)? * 1_000_000 + micros);
    Ok(())
}

/// Reads an interval printed in the `postgres` style (also accepts `postgres_verbose`'s
/// `@ … ago` and unit names `hours`/`mins`/`secs`).
pub fn parse_interval(text: &str) -> Result<IntervalFields, &'static str> {
    let mut fields = IntervalFields::default();
    let mut tokens = text.split_whitespace().peekable();
    let mut negate_all = false;
    while let Some(token) = tokens.next() {
        if token == "@" {
            continue;
        }
        if token == "ago" {
            negate_all = true;
            continue;
        }
        if token.contains(':') {
            parse_clock(token, &mut fields)?;
            continue;
        }
        let unit = tokens.next().ok_or("a number without a unit")?;
        let unit = unit.trim_end_matches('s');
        if matches!(unit, "sec" | "second") {
            let (whole, fraction) = token.split_once('.').unwrap_or((token, ""));
            let negative = whole.starts_with('-');
            let mut micros = number(whole)?.abs() * 1_000_000;
            if !fraction.is_empty() {
                if fraction.len() > 6 {
                    return Err("the seconds' fraction must be up to 6 digits");
                }
                micros += number(&format!("{fraction:0<6}"))?;
            }
            fields.second_micros = if negative { -micros } else { micros };
            continue;
        }
        let value = number(token)?;
        match unit {
            "year" | "yr" => fields.years = value,
            "mon" | "month" => fields.months = value,
            "day" => fields.days = value,
            "hour" | "hr" => fields.hours = value,
            "min" | "minute" => fields.minutes = value,
            _ => return Err("an unknown unit (expected years, mons, days or a time)"),
        }
    }
    if negate_all {
        fields = IntervalFields {
            years: -fields.years,
            months: -fields.months,
            days: -fields.days,
            hours: -fields.hours,
            minutes: -fields.minutes,
            second_micros: -fields.second_micros,
        };
    }
    Ok(fields)
}

impl IntervalFields {
    fn seconds_f64(&self) -> f64 {
        let whole = self.second_micros / 1_000_000;
        let micros = self.second_micros % 1_000_000;
        whole as f64 + micros as f64 / 1e6
    }

    /// `io.debezium.time.MicroDuration`.
    pub fn micro_duration(&self) -> i64 {
        let days = (self.years * 12 + self.months) as f64 * DAYS_PER_MONTH_AVG + self.days as f64;
        let seconds = ((days * 24.0 + self.hours as f64) * 60.0 + self.minutes as f64) * 60.0
            + self.seconds_f64();
        // Java's `(long)` cast: truncation toward zero, saturating.
        (seconds * 1e6) as i64
    }

    /// `io.debezium.time.Interval`: `P<y>Y<m>M<d>DT<h>H<min>M<s>S`, seconds without trailing
    /// zeros.
    pub fn iso_string(&self) -> String {
        let negative = self.second_micros < 0;
        let magnitude = self.second_micros.unsigned_abs();
        let mut seconds = format!(
            "{}{}",
            if negative { "-" } else { "" },
            magnitude / 1_000_000
        );
        let fraction = magnitude % 1_000_000;
        if fraction != 0 {
            seconds.push('.');
            seconds.push_str(format!("{fraction:06}").trim_end_matches('0'));
        }
        format!(
            "P{}Y{}M{}DT{}H{}M{}S",
            self.years, self.months, self.days, self.hours, self.minutes, seconds
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_style_fields() {
        let f = parse_interval("1 year 2 mons 3 days 04:05:06.78").unwrap();
        assert_eq!(
            f,
            IntervalFields {
                years: 1,
                months: 2,
                days: 3,
                hours: 4,
                minutes: 5,
                second_micros: 6_780_000
            }
        );
        let f = parse_interval("-1 days -02:00:00").unwrap();
        assert_eq!((f.days, f.hours, f.minutes), (-1, -2, 0));
        let f = parse_interval("-1 years -2 mons +3 days -00:00:00.5").unwrap();
        assert_eq!(
            (f.years, f.months, f.days, f.second_micros),
            (-1, -2, 3, -500_000)
        );
        assert_eq!(
            parse_interval("00:00:00").unwrap(),
            IntervalFields::default()
        );
        assert_eq!(parse_interval("100:00:00").unwrap().hours, 100);
        let f = parse_interval("@ 1 day 2 hours 3 mins 4.5 secs ago").unwrap();
        assert_eq!(
            (f.days, f.hours, f.minutes, f.second_micros),
            (-1, -2, -3, -4_500_000)
        );
        assert!(parse_interval("1 fortnight").is_err());
        assert!(parse_interval("5").is_err());
    }

    #[test]
    fn micro_durations_match_debezium() {
        let day_two_hours = parse_interval("1 day 02:00:00").unwrap();
        assert_eq!(day_two_hours.micro_duration(), 93_600_000_000);
        // One month is 30.4375 days.
        assert_eq!(
            parse_interval("1 mon").unwrap().micro_duration(),
            2_629_800_000_000
        );
        assert_eq!(
            parse_interval("-1 days -02:00:00")
                .unwrap()
                .micro_duration(),
            -93_600_000_000
        );
        // Debezium's own expectation: durationMicros(1, 2, 3, 4, 5, 6.78) computed in doubles.
        let full = parse_interval("1 year 2 mons 3 days 04:05:06.78").unwrap();
        let expected = {
            let days = 14.0 * (365.25 / 12.0) + 3.0;
            ((((days * 24.0 + 4.0) * 60.0) + 5.0) * 60.0 + 6.78) * 1e6
        } as i64;
        assert_eq!(full.micro_duration(), expected);
    }

    #[test]
    fn iso_strings() {
        let full = parse_interval("1 year 2 mons 3 days 04:05:06.78").unwrap();
        assert_eq!(full.iso_string(), "P1Y2M3DT4H5M6.78S");
        assert_eq!(IntervalFields::default().iso_string(), "P0Y0M0DT0H0M0S");
        assert_eq!(
            parse_interval("-00:00:00.5").unwrap().iso_string(),
            "P0Y0M0DT0H0M-0.5S"
        );
    }
}
