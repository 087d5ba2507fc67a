//! Floating-point text exactly as Java's `Double.toString` / `Float.toString` write it (which is
//! what Jackson, and so Kafka's JsonConverter, emits): shortest round-trip digits, plain notation
//! for magnitudes in [1e-3, 1e7) with at least one fraction digit (`100.0`), computerized
//! scientific notation otherwise (`1.0E7`, `1.5E-5`). Non-finite values are written as the quoted
//! strings `"NaN"`, `"Infinity"`, `"-Infinity"` (Jackson's default `WRITE_NAN_AS_STRINGS`).

/// Appends a float64 the way Kafka's JsonConverter writes it.
pub fn write_f64(out: &mut Vec<u8>, v: f64) {
    if !v.is_finite() {
        return write_non_finite(out, v.is_nan(), v.is_sign_negative());
    }
    if write_short_decimal(out, v) {
        return;
    }
    let mut buffer = ryu::Buffer::new();
    write_java_style(
        out,
        buffer.format_finite(v),
        v == 0.0 || (1e-3..1e7).contains(&v.abs()),
    );
}

/// Powers of ten a short decimal may have as its denominator.
const SHORT_DECIMAL_SCALES: [f64; 5] = [1.0, 10.0, 100.0, 1000.0, 10000.0];

/// The common case of prices, scores and quantities: a value in Java's plain range that is
/// exactly `m / 10^d` for a small `d` (`4.75`, `100.0`). The smallest such `d` gives the shortest
/// round-trip digits, so the text equals the general path's, which costs several times more
/// (the shortest-digits search). Returns false (writing nothing) for any other value.
fn write_short_decimal(out: &mut Vec<u8>, v: f64) -> bool {
    let magnitude = v.abs();
    if !(1e-3..1e7).contains(&magnitude) {
        return false;
    }
    for (places, scale) in SHORT_DECIMAL_SCALES.iter().enumerate() {
        let scaled = (magnitude * scale).round();
        if scaled / scale != magnitude {
            continue;
        }
        // Exact integer below 1e11: the conversion is lossless.
        let digits = scaled as u64;
        let pow = 10u64.pow(places as u32);
        if v.is_sign_negative() {
            out.push(b'-');
        }
        let mut buffer = itoa::Buffer::new();
        out.extend_from_slice(buffer.format(digits / pow).as_bytes());
        out.push(b'.');
        if places == 0 {
            out.push(b'0');
        } else {
            let fraction = buffer.format(digits % pow + pow).as_bytes();
            // `fraction` is "1" followed by exactly `places` digits (leading zeros kept).
            out.extend_from_slice(&fraction[1..]);
        }
        return true;
    }
    false
}

/// Appends a float32 the way Kafka's JsonConverter writes it.
pub fn write_f32(out: &mut Vec<u8>, v: f32) {
    if !v.is_finite() {
        return write_non_finite(out, v.is_nan(), v.is_sign_negative());
    }
    let mut buffer = ryu::Buffer::new();
    write_java_style(
        out,
        buffer.format_finite(v),
        v == 0.0 || (1e-3..1e7).contains(&v.abs()),
    );
}

fn write_non_finite(out: &mut Vec<u8>, nan: bool, negative: bool) {
    let text: &[u8] = match (nan, negative) {
        (true, _) => b"\"NaN\"",
        (false, false) => b"\"Infinity\"",
        (false, true) => b"\"-Infinity\"",
    };
    out.extend_from_slice(text);
}

/// Shortest digits (no leading or trailing zeros, at least one) and the decimal exponent of the
/// first digit, from ryu's text (`-0.001`, `123.0`, `1.5e-7`, `1e16`).
struct Digits {
    negative: bool,
    bytes: [u8; 24],
    len: usize,
    exponent: i32,
}

fn shortest_digits(text: &str) -> Digits {
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exp) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (text, 0),
    };
    let int_len = mantissa.find('.').unwrap_or(mantissa.len()) as i32;
    let mut digits = Digits {
        negative,
        bytes: [0; 24],
        len: 0,
        exponent: 0,
    };
    let mut leading_zeros = 0;
    for b in mantissa.bytes().filter(u8::is_ascii_digit) {
        if digits.len == 0 && b == b'0' {
            leading_zeros += 1;
        } else if digits.len < digits.bytes.len() {
            digits.bytes[digits.len] = b;
            digits.len += 1;
        }
    }
    while digits.len > 0 && digits.bytes[digits.len - 1] == b'0' {
        digits.len -= 1;
    }
    if digits.len == 0 {
        digits.bytes[0] = b'0';
        digits.len = 1;
        return digits;
    }
    digits.exponent = int_len - 1 - leading_zeros + exp;
    digits
}

fn write_java_style(out: &mut Vec<u8>, text: &str, plain: bool) {
    // In Java's plain range ryu already writes plain notation with at least one fraction digit
    // (`100.0`, `0.001`), which is exactly Java's text.
    if plain && !text.as_bytes().contains(&b'e') {
        out.extend_from_slice(text.as_bytes());
        return;
    }
    let parsed = shortest_digits(text);
    let digits = &parsed.bytes[..parsed.len];
    let exponent = parsed.exponent;
    if parsed.negative {
        out.push(b'-');
    }
    if plain {
        if exponent >= 0 {
            let int_len = exponent as usize + 1;
            for i in 0..int_len {
                out.push(*digits.get(i).unwrap_or(&b'0'));
            }
            out.push(b'.');
            if digits.len() > int_len {
                out.extend_from_slice(&digits[int_len..]);
            } else {
                out.push(b'0');
            }
        } else {
            out.extend_from_slice(b"0.");
            for _ in 0..(-exponent - 1) {
                out.push(b'0');
            }
            out.extend_from_slice(digits);
        }
    } else {
        out.push(digits[0]);
        out.push(b'.');
        if digits.len() > 1 {
            out.extend_from_slice(&digits[1..]);
        } else {
            out.push(b'0');
        }
        out.push(b'E');
        let mut buffer = itoa::Buffer::new();
        out.extend_from_slice(buffer.format(exponent).as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f64_text(v: f64) -> String {
        let mut out = Vec::new();
        write_f64(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    fn f32_text(v: f32) -> String {
        let mut out = Vec::new();
        write_f32(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn matches_java_double_to_string() {
        let table = [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (100.0, "100.0"),
            (1.5, "1.5"),
            (-12.25, "-12.25"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (1234567.0, "1234567.0"),
            (1e7, "1.0E7"),
            (12345678.9, "1.23456789E7"),
            (0.1, "0.1"),
            (1.0e-10, "1.0E-10"),
            (f64::MAX, "1.7976931348623157E308"),
            (f64::MIN_POSITIVE, "2.2250738585072014E-308"),
        ];
        for (v, expected) in table {
            assert_eq!(f64_text(v), expected, "{v:e}");
        }
        assert_eq!(f64_text(f64::NAN), "\"NaN\"");
        assert_eq!(f64_text(f64::NEG_INFINITY), "\"-Infinity\"");
    }

    /// The fast path's text, or the general path's when the fast path declines.
    fn short_decimal_text(v: f64) -> String {
        let mut fast = Vec::new();
        if !write_short_decimal(&mut fast, v) {
            return general_text(v);
        }
        String::from_utf8(fast).unwrap()
    }

    fn general_text(v: f64) -> String {
        let mut general = Vec::new();
        let mut buffer = ryu::Buffer::new();
        write_java_style(&mut general, buffer.format_finite(v), true);
        String::from_utf8(general).unwrap()
    }

    proptest::proptest! {
        #[test]
        fn text_parses_back_to_the_same_value(v in proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL | proptest::num::f64::ZERO) {
            let text = f64_text(v).replace('E', "e");
            proptest::prop_assert_eq!(text.parse::<f64>().unwrap(), v);
        }

        #[test]
        fn short_decimals_match_the_general_path(m in 0u64..100_000_000_000, places in 0u32..6, negative: bool) {
            let v = m as f64 / 10f64.powi(places as i32) * if negative { -1.0 } else { 1.0 };
            proptest::prop_assert_eq!(short_decimal_text(v), general_text(v));
        }

        #[test]
        fn any_plain_double_matches_the_general_path(v in 1e-3f64..1e7) {
            proptest::prop_assert_eq!(short_decimal_text(v), general_text(v));
        }

        #[test]
        fn f32_text_parses_back(v in proptest::num::f32::NORMAL | proptest::num::f32::ZERO) {
            let text = f32_text(v).replace('E', "e");
            proptest::prop_assert_eq!(text.parse::<f32>().unwrap(), v);
        }
    }

    #[test]
    fn matches_java_float_to_string() {
        assert_eq!(f32_text(1.1), "1.1");
        assert_eq!(f32_text(3.4028235e38), "3.4028235E38");
        assert_eq!(f32_text(0.3), "0.3");
        assert_eq!(f32_text(f32::INFINITY), "\"Infinity\"");
    }
}
