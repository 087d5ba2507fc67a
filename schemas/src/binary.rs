//! `binary.handling.mode`, shared by the sources: how binary column values (MySQL
//! BINARY/VARBINARY/BLOB, Postgres `bytea`) are represented in change events.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};

use crate::value::Value;

/// `binary.handling.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BinaryHandlingMode {
    /// Raw bytes (the default).
    #[default]
    Bytes,
    /// A base64 string (standard alphabet, padded).
    Base64,
    /// A base64 string with the URL-safe alphabet (padded, as Java's URL encoder writes it).
    Base64UrlSafe,
    /// A lowercase hex string.
    Hex,
}

impl BinaryHandlingMode {
    /// `bytes` as this mode represents them.
    pub fn value(self, bytes: Vec<u8>) -> Value {
        match self {
            BinaryHandlingMode::Bytes => Value::Bytes(bytes),
            BinaryHandlingMode::Base64 => Value::String(STANDARD.encode(bytes).into()),
            BinaryHandlingMode::Base64UrlSafe => Value::String(URL_SAFE.encode(bytes).into()),
            BinaryHandlingMode::Hex => Value::String(hex(&bytes).into()),
        }
    }
}

/// Lowercase hex text of `bytes`, built in one allocation.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mode_represents_bytes_like_debezium() {
        let bytes = vec![0x00, 0xfb, 0xff, 0x10];
        assert_eq!(
            BinaryHandlingMode::Bytes.value(bytes.clone()),
            Value::Bytes(bytes.clone())
        );
        assert_eq!(
            BinaryHandlingMode::Base64.value(bytes.clone()),
            Value::String("APv/EA==".into())
        );
        assert_eq!(
            BinaryHandlingMode::Base64UrlSafe.value(bytes.clone()),
            Value::String("APv_EA==".into())
        );
        assert_eq!(
            BinaryHandlingMode::Hex.value(bytes),
            Value::String("00fbff10".into())
        );
    }
}
