//! `numeric` and `money` text into Debezium's three decimal representations (precise bytes,
//! `float64`, plain string), including `NaN` / `±Infinity`, which only the double and string
//! modes can carry (Debezium fails the same way in precise mode).

use sluice_schemas::decimal::{encode_decimal, encode_decimal_natural, encode_unscaled};
use sluice_schemas::{Struct, Value, logical};

use super::options::DecimalHandlingMode;

/// Why a numeric text could not be converted.
pub type NumericError = String;

/// Postgres's special numeric values, with Debezium's string-mode spelling.
fn special(text: &str) -> Option<(&'static str, f64)> {
    match text {
        "NaN" => Some(("NAN", f64::NAN)),
        "Infinity" => Some(("POSITIVE_INFINITY", f64::INFINITY)),
        "-Infinity" => Some(("NEGATIVE_INFINITY", f64::NEG_INFINITY)),
        _ => None,
    }
}

fn special_in_precise_mode(text: &str) -> NumericError {
    format!(
        "{text} cannot be represented as a Decimal; set decimal.handling.mode to string \
         (or double) to capture NaN and infinite numerics"
    )
}

fn parse_f64(text: &str) -> Result<f64, NumericError> {
    text.parse().map_err(|_| "not a decimal number".to_string())
}

/// A `numeric(p, s)` value.
pub fn fixed_numeric(
    text: &str,
    scale: i32,
    mode: DecimalHandlingMode,
) -> Result<Value, NumericError> {
    if let Some((name, double)) = special(text) {
        return match mode {
            DecimalHandlingMode::Precise => Err(special_in_precise_mode(text)),
            DecimalHandlingMode::Double => Ok(Value::Float64(double)),
            DecimalHandlingMode::String => Ok(Value::String(name.into())),
        };
    }
    match mode {
        DecimalHandlingMode::Precise => match short_unscaled(text, scale) {
            Some(unscaled) => Ok(Value::Bytes(encode_unscaled(unscaled))),
            None => encode_decimal(text, scale)
                .map(Value::Bytes)
                .map_err(|e| e.to_string()),
        },
        DecimalHandlingMode::Double => parse_f64(text).map(Value::Float64),
        DecimalHandlingMode::String => Ok(Value::String(text.into())),
    }
}

/// The unscaled value of a plain `[-]digits[.digits]` text at `scale` when it fits in 36
/// digits and has no more fractional digits than `scale` — every value of a `numeric(p, s)`
/// with `p` ≤ 36, as Postgres prints it. `None` sends the text to the general parser (long
/// values, exponents, anything unusual), which gives the same bytes or the error.
fn short_unscaled(text: &str, scale: i32) -> Option<i128> {
    const MAX_DIGITS: usize = 36;
    let scale = usize::try_from(scale).ok()?;
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if whole.is_empty()
        || fraction.len() > scale
        || whole.len() + scale > MAX_DIGITS
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let magnitude = whole
        .bytes()
        .chain(fraction.bytes())
        .chain(std::iter::repeat_n(b'0', scale - fraction.len()))
        .fold(0i128, |value, digit| value * 10 + i128::from(digit - b'0'));
    Some(if negative { -magnitude } else { magnitude })
}

/// Drops trailing fractional zeros (`10.1000` → `10.1`, `2.000` → `2`), as Debezium's
/// `stripTrailingZeros` does before building a `VariableScaleDecimal` (a negative scale is
/// never produced: `100` stays `100`).
fn strip_fraction_zeros(text: &str) -> &str {
    match text.split_once('.') {
        Some(_) => text.trim_end_matches('0').trim_end_matches('.'),
        None => text,
    }
}

/// A `numeric` without precision and scale.
pub fn unconstrained_numeric(text: &str, mode: DecimalHandlingMode) -> Result<Value, NumericError> {
    if mode != DecimalHandlingMode::Precise {
        return fixed_numeric(text, 0, mode);
    }
    if special(text).is_some() {
        return Err(special_in_precise_mode(text));
    }
    let (bytes, scale) =
        encode_decimal_natural(strip_fraction_zeros(text)).map_err(|e| e.to_string())?;
    let schema = logical::variable_scale_decimal().optional().build();
    let value = Struct::from_values(schema, vec![Value::Int32(scale), Value::Bytes(bytes)])
        .map_err(|e| e.to_string())?;
    Ok(Value::Struct(value))
}

/// A `money` value printed for an lc_monetary with `.` as decimal point (`$1,234.56`,
/// `-$1,234.56`, `($1,234.56)`): currency symbols and group separators are dropped.
pub fn money(
    text: &str,
    fraction_digits: u8,
    mode: DecimalHandlingMode,
) -> Result<Value, NumericError> {
    let negative = text.contains('-') || text.contains('(');
    let digits: String = text
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    if digits.is_empty() {
        return Err("no digits in the money value".to_string());
    }
    let plain = if negative {
        format!("-{digits}")
    } else {
        digits
    };
    match mode {
        DecimalHandlingMode::Precise => encode_decimal(&plain, i32::from(fraction_digits))
            .map(Value::Bytes)
            .map_err(|e| e.to_string()),
        DecimalHandlingMode::Double => parse_f64(&plain).map(Value::Float64),
        // Debezium prints the driver's double: `1234.5`, not `1234.50`.
        DecimalHandlingMode::String => {
            parse_f64(&plain).map(|v| Value::String(v.to_string().into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use sluice_schemas::decimal::decode_decimal;

    use super::*;

    fn bytes(value: Value) -> Vec<u8> {
        match value {
            Value::Bytes(b) => b,
            other => panic!("expected bytes, got {other:?}"),
        }
    }

    #[test]
    fn fixed_scale_in_every_mode() {
        let precise = fixed_numeric("12.50", 2, DecimalHandlingMode::Precise).unwrap();
        assert_eq!(bytes(precise), vec![0x04, 0xe2]);
        assert_eq!(
            fixed_numeric("-0.01", 2, DecimalHandlingMode::Double).unwrap(),
            Value::Float64(-0.01)
        );
        assert_eq!(
            fixed_numeric("1.10", 2, DecimalHandlingMode::String).unwrap(),
            Value::String("1.10".into())
        );
    }

    /// The short-value path gives exactly the general encoder's bytes, and leaves what it
    /// does not handle (exponents, too many digits or fractional digits) to it.
    #[test]
    fn short_values_encode_as_the_general_parser_does() {
        let texts = [
            "0",
            "-0",
            "0.00",
            "-0.00",
            "1",
            "-1",
            "12.5",
            "12.50",
            "-12.50",
            "127",
            "128",
            "-128",
            "-129",
            "255",
            "256",
            "0.01",
            "-0.01",
            "99999999.99",
            "-99999999.99",
            "123456789012345678901234567890.12",
            "1.234",
            "1e3",
            "+5",
            ".5",
            "5.",
            "-",
            "",
            "12a",
            "999999999999999999999999999999999999.99",
        ];
        for scale in [0, 2, 5] {
            for text in texts {
                let general = encode_decimal(text, scale).map_err(|e| e.to_string());
                let chosen = fixed_numeric(text, scale, DecimalHandlingMode::Precise);
                assert_eq!(
                    chosen,
                    general.map(Value::Bytes),
                    "{text:?} at scale {scale}"
                );
            }
        }
        assert_eq!(short_unscaled("-12.5", 2), Some(-1250));
        assert_eq!(short_unscaled("1.234", 2), None);
        assert_eq!(short_unscaled("1", -1), None);
    }

    #[test]
    fn special_values_per_mode() {
        let err = fixed_numeric("NaN", 2, DecimalHandlingMode::Precise).unwrap_err();
        assert!(err.contains("decimal.handling.mode"), "{err}");
        assert!(unconstrained_numeric("Infinity", DecimalHandlingMode::Precise).is_err());
        assert_eq!(
            fixed_numeric("NaN", 2, DecimalHandlingMode::String).unwrap(),
            Value::String("NAN".into())
        );
        assert_eq!(
            unconstrained_numeric("-Infinity", DecimalHandlingMode::String).unwrap(),
            Value::String("NEGATIVE_INFINITY".into())
        );
        match fixed_numeric("NaN", 0, DecimalHandlingMode::Double).unwrap() {
            Value::Float64(v) => assert!(v.is_nan()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn variable_scale_strips_trailing_zeros() {
        let value = unconstrained_numeric("10.1000", DecimalHandlingMode::Precise).unwrap();
        let s = value.as_struct().unwrap();
        assert_eq!(s.get("scale"), Some(&Value::Int32(1)));
        assert_eq!(s.get("value"), Some(&Value::Bytes(vec![101])));
        let hundred = unconstrained_numeric("100", DecimalHandlingMode::Precise).unwrap();
        assert_eq!(
            hundred.as_struct().unwrap().get("scale"),
            Some(&Value::Int32(0))
        );
        let zero = unconstrained_numeric("0.000", DecimalHandlingMode::Precise).unwrap();
        assert_eq!(
            zero.as_struct().unwrap().get("value"),
            Some(&Value::Bytes(vec![0]))
        );
    }

    #[test]
    fn money_texts() {
        let v = bytes(money("$1,234.11", 2, DecimalHandlingMode::Precise).unwrap());
        assert_eq!(decode_decimal(&v, 2), "1234.11");
        let v = bytes(money("-$1,234.11", 2, DecimalHandlingMode::Precise).unwrap());
        assert_eq!(decode_decimal(&v, 2), "-1234.11");
        let v = bytes(money("($5.00)", 2, DecimalHandlingMode::Precise).unwrap());
        assert_eq!(decode_decimal(&v, 2), "-5.00");
        assert_eq!(
            money("$1,234.50", 2, DecimalHandlingMode::String).unwrap(),
            Value::String("1234.5".into())
        );
        assert!(money("$", 2, DecimalHandlingMode::Precise).is_err());
    }
}
