//! Zigzag-encoded variable-length integers as used by Kafka records (protobuf style):
//! `varint` for 32-bit and `varlong` for 64-bit values.

use super::batch::DecodeError;

/// Appends `value` as a zigzag varint (at most 5 bytes).
pub fn put_varint(out: &mut Vec<u8>, value: i32) {
    put_unsigned(out, ((value << 1) ^ (value >> 31)) as u32 as u64);
}

/// Appends `value` as a zigzag varlong (at most 10 bytes).
pub fn put_varlong(out: &mut Vec<u8>, value: i64) {
    put_unsigned(out, ((value << 1) ^ (value >> 63)) as u64);
}

fn put_unsigned(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The encoded size of `value` as a zigzag varint.
pub fn varint_len(value: i32) -> usize {
    unsigned_len(((value << 1) ^ (value >> 31)) as u32 as u64)
}

/// The encoded size of `value` as a zigzag varlong.
pub fn varlong_len(value: i64) -> usize {
    unsigned_len(((value << 1) ^ (value >> 63)) as u64)
}

fn unsigned_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Reads a zigzag varint from the front of `buf`, advancing it.
pub fn get_varint(buf: &mut &[u8]) -> Result<i32, DecodeError> {
    let raw = get_unsigned(buf, 5)?;
    if raw > u32::MAX as u64 {
        return Err(DecodeError::VarintOverflow);
    }
    let raw = raw as u32;
    Ok(((raw >> 1) as i32) ^ -((raw & 1) as i32))
}

/// Reads a zigzag varlong from the front of `buf`, advancing it.
pub fn get_varlong(buf: &mut &[u8]) -> Result<i64, DecodeError> {
    let raw = get_unsigned(buf, 10)?;
    Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64))
}

fn get_unsigned(buf: &mut &[u8], max_bytes: usize) -> Result<u64, DecodeError> {
    let mut value = 0u64;
    for i in 0..max_bytes {
        let Some((&byte, rest)) = buf.split_first() else {
            return Err(DecodeError::Truncated { what: "varint" });
        };
        *buf = rest;
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(DecodeError::VarintOverflow)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_encodings_match_kafka() {
        let mut out = Vec::new();
        put_varint(&mut out, -1);
        assert_eq!(out, [0x01]);
        out.clear();
        put_varint(&mut out, 1);
        assert_eq!(out, [0x02]);
        out.clear();
        put_varint(&mut out, 300);
        assert_eq!(out, [0xd8, 0x04]);
        out.clear();
        put_varint(&mut out, i32::MIN);
        assert_eq!(out, [0xff, 0xff, 0xff, 0xff, 0x0f]);
    }

    #[test]
    fn overlong_varint_is_rejected() {
        let bytes = [0xffu8; 6];
        assert!(matches!(
            get_varint(&mut &bytes[..]),
            Err(DecodeError::VarintOverflow)
        ));
        let truncated = [0x80u8];
        assert!(matches!(
            get_varint(&mut &truncated[..]),
            Err(DecodeError::Truncated { .. })
        ));
    }

    proptest! {
        #[test]
        fn varint_round_trips(v: i32) {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            prop_assert_eq!(out.len(), varint_len(v));
            let mut slice = &out[..];
            prop_assert_eq!(get_varint(&mut slice).unwrap(), v);
            prop_assert!(slice.is_empty());
        }

        #[test]
        fn varlong_round_trips(v: i64) {
            let mut out = Vec::new();
            put_varlong(&mut out, v);
            prop_assert_eq!(out.len(), varlong_len(v));
            let mut slice = &out[..];
            prop_assert_eq!(get_varlong(&mut slice).unwrap(), v);
            prop_assert!(slice.is_empty());
        }
    }
}
