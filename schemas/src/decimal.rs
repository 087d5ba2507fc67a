//! Decimal encoding as Kafka Connect's `Decimal` logical type stores it: the unscaled value as a
//! big-endian two's-complement byte string of minimal length (Java's `BigInteger.toByteArray`),
//! with the scale in the schema. Converts from and to decimal text of any precision.

use crate::error::{Error, Result};

/// A decimal parsed from text: sign, digits of the unscaled value (no leading zeros) and scale.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DecimalDigits {
    negative: bool,
    digits: Vec<u8>,
    scale: i64,
}

fn invalid(text: &str, reason: impl Into<String>) -> Error {
    Error::InvalidDecimal {
        text: text.to_string(),
        reason: reason.into(),
    }
}

fn parse(text: &str) -> Result<DecimalDigits> {
    let bytes = text.trim().as_bytes();
    let (negative, rest) = match bytes.first() {
        Some(b'-') => (true, &bytes[1..]),
        Some(b'+') => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    let (mantissa, exponent) = match rest.iter().position(|&b| b == b'e' || b == b'E') {
        Some(at) => {
            let exp_text = std::str::from_utf8(&rest[at + 1..]).unwrap_or("");
            let exp: i64 = exp_text
                .parse()
                .map_err(|_| invalid(text, "the exponent is not an integer"))?;
            (&rest[..at], exp)
        }
        None => (rest, 0),
    };
    let mut digits = Vec::with_capacity(mantissa.len());
    let mut fraction_len: i64 = 0;
    let mut seen_point = false;
    for &b in mantissa {
        match b {
            b'0'..=b'9' => {
                digits.push(b - b'0');
                if seen_point {
                    fraction_len += 1;
                }
            }
            b'.' if !seen_point => seen_point = true,
            _ => {
                return Err(invalid(
                    text,
                    "expected digits with an optional point and exponent",
                ));
            }
        }
    }
    if digits.is_empty() {
        return Err(invalid(text, "no digits"));
    }
    let first_nonzero = digits.iter().position(|&d| d != 0).unwrap_or(digits.len());
    digits.drain(..first_nonzero);
    Ok(DecimalDigits {
        negative: negative && !digits.is_empty(),
        digits,
        scale: fraction_len - exponent,
    })
}

/// Rescales to exactly `scale`, refusing to drop non-zero digits.
fn rescale(mut d: DecimalDigits, scale: i32, text: &str) -> Result<DecimalDigits> {
    let target = i64::from(scale);
    if target >= d.scale {
        if !d.digits.is_empty() {
            let extra = usize::try_from(target - d.scale)
                .map_err(|_| invalid(text, "scale out of range"))?;
            d.digits.resize(d.digits.len() + extra, 0);
        }
    } else {
        let drop = usize::try_from(d.scale - target).unwrap_or(usize::MAX);
        let keep = d.digits.len().saturating_sub(drop);
        if d.digits[keep..].iter().any(|&x| x != 0) {
            return Err(invalid(
                text,
                format!("it has more fractional digits than the scale {scale} allows"),
            ));
        }
        d.digits.truncate(keep);
        if d.digits.is_empty() {
            d.negative = false;
        }
    }
    d.scale = target;
    Ok(d)
}

/// Decimal digits → magnitude as little-endian base-2^32 limbs.
fn digits_to_limbs(digits: &[u8]) -> Vec<u32> {
    let mut limbs: Vec<u32> = Vec::with_capacity(digits.len() / 9 + 1);
    for chunk in digits.chunks(9) {
        let mut multiplier: u64 = 1;
        let mut add: u64 = 0;
        for &d in chunk {
            multiplier *= 10;
            add = add * 10 + u64::from(d);
        }
        let mut carry = add;
        for limb in limbs.iter_mut() {
            let v = u64::from(*limb) * multiplier + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            limbs.push(carry as u32);
        }
    }
    limbs
}

/// Magnitude limbs → decimal digits (no leading zeros; empty for zero).
fn limbs_to_digits(mut limbs: Vec<u32>) -> Vec<u8> {
    let mut groups: Vec<u32> = Vec::new();
    while limbs.iter().any(|&l| l != 0) {
        let mut rem: u64 = 0;
        for limb in limbs.iter_mut().rev() {
            let v = (rem << 32) | u64::from(*limb);
            *limb = (v / 1_000_000_000) as u32;
            rem = v % 1_000_000_000;
        }
        groups.push(rem as u32);
        while limbs.last() == Some(&0) {
            limbs.pop();
        }
    }
    let mut digits = Vec::with_capacity(groups.len() * 9);
    for (i, group) in groups.iter().rev().enumerate() {
        let text = if i == 0 {
            group.to_string()
        } else {
            format!("{group:09}")
        };
        digits.extend(text.bytes().map(|b| b - b'0'));
    }
    digits
}

/// Magnitude + sign → minimal big-endian two's complement (zero is `[0]`).
fn to_twos_complement(negative: bool, limbs: &[u32]) -> Vec<u8> {
    let mut be: Vec<u8> = limbs.iter().rev().flat_map(|l| l.to_be_bytes()).collect();
    be.insert(0, 0);
    if negative {
        negate(&mut be);
    }
    minimal_twos_complement(&be, negative).to_vec()
}

/// Two's-complement negation in place (big-endian).
fn negate(be: &mut [u8]) {
    for b in be.iter_mut() {
        *b = !*b;
    }
    for b in be.iter_mut().rev() {
        let (v, overflow) = b.overflowing_add(1);
        *b = v;
        if !overflow {
            break;
        }
    }
}

/// Drops redundant sign bytes, as `BigInteger.toByteArray` does.
fn minimal_twos_complement(be: &[u8], negative: bool) -> &[u8] {
    let sign_byte = if negative { 0xff } else { 0x00 };
    let mut start = 0;
    while start + 1 < be.len()
        && be[start] == sign_byte
        && (be[start + 1] & 0x80) == (sign_byte & 0x80)
    {
        start += 1;
    }
    &be[start..]
}

/// Two's complement → (negative, magnitude limbs).
fn from_twos_complement(bytes: &[u8]) -> (bool, Vec<u32>) {
    let negative = bytes.first().is_some_and(|b| b & 0x80 != 0);
    let mut magnitude = bytes.to_vec();
    if negative {
        negate(&mut magnitude);
    }
    let limbs = magnitude
        .rchunks(4)
        .map(|chunk| chunk.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)))
        .collect();
    (negative, limbs)
}

/// Encodes decimal text (`"-12.50"`, `"1E+3"`) as the unscaled value at `scale`, failing when the
/// text has more fractional digits than `scale` keeps.
pub fn encode_decimal(text: &str, scale: i32) -> Result<Vec<u8>> {
    let d = rescale(parse(text)?, scale, text)?;
    Ok(to_twos_complement(d.negative, &digits_to_limbs(&d.digits)))
}

/// Encodes decimal text at its own scale (as Debezium's VariableScaleDecimal does): returns the
/// unscaled bytes and the scale (`"1.50"` → scale 2).
pub fn encode_decimal_natural(text: &str) -> Result<(Vec<u8>, i32)> {
    let d = parse(text)?;
    let scale = i32::try_from(d.scale).map_err(|_| invalid(text, "scale out of range"))?;
    Ok((
        to_twos_complement(d.negative, &digits_to_limbs(&d.digits)),
        scale,
    ))
}

/// Encodes an unscaled integer (the fast path for values that fit in 128 bits).
pub fn encode_unscaled(unscaled: i128) -> Vec<u8> {
    minimal_twos_complement(&unscaled.to_be_bytes(), unscaled < 0).to_vec()
}

fn unscaled_digits(bytes: &[u8]) -> (bool, Vec<u8>) {
    let (negative, limbs) = from_twos_complement(bytes);
    (negative, limbs_to_digits(limbs))
}

/// Decodes unscaled bytes at `scale` to plain decimal text, as `BigDecimal.toPlainString`
/// writes it (`"-12.50"`, `"0.05"`, `"1200"` for scale -2).
pub fn decode_decimal(bytes: &[u8], scale: i32) -> String {
    let (negative, mut digits) = unscaled_digits(bytes);
    if digits.is_empty() {
        digits.push(0);
    }
    let mut out = String::with_capacity(digits.len() + 3);
    if negative {
        out.push('-');
    }
    let len = digits.len() as i64;
    let scale = i64::from(scale);
    let push_digits =
        |out: &mut String, ds: &[u8]| out.extend(ds.iter().map(|&d| char::from(b'0' + d)));
    if scale <= 0 {
        push_digits(&mut out, &digits);
        if digits != [0] {
            out.extend(std::iter::repeat_n('0', (-scale) as usize));
        }
    } else if scale >= len {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (scale - len) as usize));
        push_digits(&mut out, &digits);
    } else {
        let int_len = (len - scale) as usize;
        push_digits(&mut out, &digits[..int_len]);
        out.push('.');
        push_digits(&mut out, &digits[int_len..]);
    }
    out
}

/// Decodes unscaled bytes at `scale` to text as Java's `BigDecimal.toString` writes it (what
/// Kafka's JsonConverter emits for `decimal.format=NUMERIC`): plain when the scale is not negative
/// and the adjusted exponent is at least -6, scientific (`1.23E+4`, `1E-7`) otherwise.
pub fn decode_decimal_java(bytes: &[u8], scale: i32) -> String {
    let (negative, mut digits) = unscaled_digits(bytes);
    if digits.is_empty() {
        digits.push(0);
    }
    let adjusted = -i64::from(scale) + (digits.len() as i64 - 1);
    if scale >= 0 && adjusted >= -6 {
        return decode_decimal(bytes, scale);
    }
    let mut out = String::with_capacity(digits.len() + 8);
    if negative {
        out.push('-');
    }
    out.push(char::from(b'0' + digits[0]));
    if digits.len() > 1 {
        out.push('.');
        out.extend(digits[1..].iter().map(|&d| char::from(b'0' + d)));
    }
    out.push('E');
    if adjusted >= 0 {
        out.push('+');
    }
    out.push_str(&adjusted.to_string());
    out
}

/// Appends what [`decode_decimal_java`] returns; without allocating for the common case, an
/// unscaled value of at most 16 bytes (up to 38 digits) written in plain notation.
pub fn write_decimal_java(out: &mut Vec<u8>, bytes: &[u8], scale: i32) {
    if let Some(unscaled) = small_unscaled(bytes) {
        let mut buffer = itoa::Buffer::new();
        let digits = buffer.format(unscaled.unsigned_abs()).as_bytes();
        let len = digits.len() as i64;
        let scale = i64::from(scale);
        // Java's plain-notation condition, as in `decode_decimal_java`.
        if scale >= 0 && len - 1 - scale >= -6 {
            if unscaled < 0 {
                out.push(b'-');
            }
            if scale == 0 {
                out.extend_from_slice(digits);
            } else if scale >= len {
                out.extend_from_slice(b"0.");
                out.resize(out.len() + (scale - len) as usize, b'0');
                out.extend_from_slice(digits);
            } else {
                let int_len = (len - scale) as usize;
                out.extend_from_slice(&digits[..int_len]);
                out.push(b'.');
                out.extend_from_slice(&digits[int_len..]);
            }
            return;
        }
    }
    out.extend_from_slice(decode_decimal_java(bytes, scale).as_bytes());
}

/// The unscaled value of big-endian two's-complement bytes that fit an `i128`.
fn small_unscaled(bytes: &[u8]) -> Option<i128> {
    let first = *bytes.first()?;
    if bytes.len() > 16 {
        return None;
    }
    let mut be = [if first & 0x80 != 0 { 0xff } else { 0 }; 16];
    be[16 - bytes.len()..].copy_from_slice(bytes);
    Some(i128::from_be_bytes(be))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encoding_table_matches_java_big_integer() {
        // (text, scale, BigInteger.toByteArray of the unscaled value)
        let table: &[(&str, i32, &[u8])] = &[
            ("0", 0, &[0x00]),
            ("0.00", 2, &[0x00]),
            ("1", 0, &[0x01]),
            ("-1", 0, &[0xff]),
            ("127", 0, &[0x7f]),
            ("128", 0, &[0x00, 0x80]),
            ("-128", 0, &[0x80]),
            ("-129", 0, &[0xff, 0x7f]),
            ("255", 0, &[0x00, 0xff]),
            ("256", 0, &[0x01, 0x00]),
            ("12.50", 2, &[0x04, 0xe2]),
            ("-12.5", 2, &[0xfb, 0x1e]),
            ("1.5", 3, &[0x05, 0xdc]),
            ("1E+3", 0, &[0x03, 0xe8]),
            ("32767", 0, &[0x7f, 0xff]),
            ("-32768", 0, &[0x80, 0x00]),
            ("4294967296", 0, &[0x01, 0x00, 0x00, 0x00, 0x00]),
        ];
        for (text, scale, expected) in table {
            assert_eq!(
                encode_decimal(text, *scale).unwrap(),
                *expected,
                "{text} at scale {scale}"
            );
        }
    }

    #[test]
    fn decoding_writes_plain_and_java_forms() {
        assert_eq!(decode_decimal(&[0x04, 0xe2], 2), "12.50");
        assert_eq!(decode_decimal(&[0xfb, 0x1e], 2), "-12.50");
        assert_eq!(decode_decimal(&[0x05], 2), "0.05");
        assert_eq!(decode_decimal(&[0x0c], -2), "1200");
        assert_eq!(decode_decimal(&[0x00], 3), "0.000");
        assert_eq!(decode_decimal_java(&[0x0c], -2), "1.2E+3");
        assert_eq!(decode_decimal_java(&[0x01], 7), "1E-7");
        assert_eq!(decode_decimal_java(&[0x01], 6), "0.000001");
        assert_eq!(decode_decimal_java(&[0x00], -1), "0E+1");
        assert_eq!(decode_decimal_java(&[0x04, 0xe2], 2), "12.50");
    }

    #[test]
    fn too_many_fraction_digits_are_refused() {
        let err = encode_decimal("1.234", 2).unwrap_err();
        assert!(
            err.to_string()
                .contains("more fractional digits than the scale 2"),
            "{err}"
        );
        assert_eq!(
            encode_decimal("1.230", 2).unwrap(),
            encode_decimal("1.23", 2).unwrap()
        );
        assert!(encode_decimal("12a", 0).is_err());
        assert!(encode_decimal("", 0).is_err());
        assert!(encode_decimal("1.2.3", 0).is_err());
    }

    #[test]
    fn natural_scale_is_kept() {
        assert_eq!(
            encode_decimal_natural("1.50").unwrap(),
            (vec![0x00, 0x96], 2)
        );
        assert_eq!(encode_decimal_natural("-0.001").unwrap(), (vec![0xff], 3));
    }

    proptest! {
        #[test]
        fn written_java_text_matches_decode(unscaled: i128, scale in -8i32..40, trim in 0usize..16) {
            let full = unscaled.to_be_bytes();
            // Sign-extended forms of any length that still hold the value, and the full form.
            let sign = if unscaled < 0 { 0xff } else { 0 };
            let mut redundant = full.iter().take_while(|&&b| b == sign).count().min(15);
            if (full[redundant] & 0x80 != 0) != (unscaled < 0) {
                redundant -= 1;
            }
            let bytes = &full[trim.min(redundant)..];
            let mut out = Vec::new();
            write_decimal_java(&mut out, bytes, scale);
            prop_assert_eq!(String::from_utf8(out).unwrap(), decode_decimal_java(bytes, scale));
        }

        #[test]
        fn i128_round_trips(v in any::<i128>(), scale in 0i32..20) {
            let bytes = encode_unscaled(v);
            let text = decode_decimal(&bytes, scale);
            prop_assert_eq!(encode_decimal(&text, scale).unwrap(), bytes);
        }

        #[test]
        fn long_digit_strings_round_trip(neg in any::<bool>(), digits in "[1-9][0-9]{0,80}", scale in 0i32..40) {
            let text = format!("{}{}", if neg { "-" } else { "" }, digits);
            let bytes = encode_decimal(&text, 0).unwrap();
            let back = decode_decimal(&bytes, 0);
            prop_assert_eq!(&back, &text);
            let scaled = decode_decimal(&bytes, scale);
            prop_assert_eq!(encode_decimal(&scaled, scale).unwrap(), bytes);
        }
    }
}
