//! Column character sets: MySQL/MariaDB collation ids (from the TABLE_MAP charset metadata)
//! and charset names (from information_schema) to a [`Charset`], and decoding of the bytes a
//! binlog row image holds for a character column into text.

use std::fmt;

use crate::error::{Error, Result};

/// The character set of a string column, as far as decoding its bytes needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    Utf8mb4,
    /// `utf8` / `utf8mb3`: a subset of UTF-8, decoded the same way.
    Utf8mb3,
    /// MySQL's latin1, which is Windows-1252 (not ISO-8859-1) for bytes 0x80-0x9f.
    Latin1,
    Ascii,
    /// The `binary` pseudo charset: BINARY/VARBINARY/BLOB columns.
    Binary,
    /// UCS-2, big-endian.
    Ucs2,
    /// UTF-16, big-endian.
    Utf16,
    Utf16le,
    /// UTF-32, big-endian.
    Utf32,
}

impl Charset {
    /// The charset's MySQL name.
    pub fn name(self) -> &'static str {
        match self {
            Charset::Utf8mb4 => "utf8mb4",
            Charset::Utf8mb3 => "utf8mb3",
            Charset::Latin1 => "latin1",
            Charset::Ascii => "ascii",
            Charset::Binary => "binary",
            Charset::Ucs2 => "ucs2",
            Charset::Utf16 => "utf16",
            Charset::Utf16le => "utf16le",
            Charset::Utf32 => "utf32",
        }
    }

    /// The charset of a collation id, for the ids MySQL 8 and MariaDB 10.5+ assign to these
    /// charsets; `None` for collations of other charsets.
    pub fn from_collation_id(id: u16) -> Option<Charset> {
        Some(match id {
            5 | 8 | 15 | 31 | 47..=49 | 94 => Charset::Latin1,
            11 | 65 => Charset::Ascii,
            63 => Charset::Binary,
            33 | 83 | 76 | 192..=215 | 223 => Charset::Utf8mb3,
            45 | 46 | 224..=247 | 255..=323 => Charset::Utf8mb4,
            35 | 90 | 128..=151 | 159 => Charset::Ucs2,
            54 | 55 | 101..=124 => Charset::Utf16,
            56 | 62 => Charset::Utf16le,
            60 | 61 | 160..=183 => Charset::Utf32,
            _ => return None,
        })
    }

    /// The charset named `name` (`CHARACTER_SET_NAME` of information_schema, any case).
    pub fn from_name(name: &str) -> Option<Charset> {
        Some(match name.to_ascii_lowercase().as_str() {
            "utf8mb4" => Charset::Utf8mb4,
            "utf8" | "utf8mb3" => Charset::Utf8mb3,
            "latin1" => Charset::Latin1,
            "ascii" => Charset::Ascii,
            "binary" => Charset::Binary,
            "ucs2" => Charset::Ucs2,
            "utf16" => Charset::Utf16,
            "utf16le" => Charset::Utf16le,
            "utf32" => Charset::Utf32,
            _ => return None,
        })
    }

    /// Decodes a column value's bytes. Invalid sequences become U+FFFD, as Java's decoder
    /// (and so Debezium) does, rather than failing the whole event.
    /// [`Charset::decode`] of bytes the caller gives up: valid UTF-8 keeps its buffer.
    pub fn decode_owned(self, bytes: Vec<u8>) -> String {
        match self {
            Charset::Utf8mb4 | Charset::Utf8mb3 | Charset::Binary => String::from_utf8(bytes)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            _ => self.decode(&bytes),
        }
    }

    pub fn decode(self, bytes: &[u8]) -> String {
        match self {
            Charset::Utf8mb4 | Charset::Utf8mb3 | Charset::Binary => {
                String::from_utf8_lossy(bytes).into_owned()
            }
            Charset::Ascii => bytes
                .iter()
                .map(|&b| if b.is_ascii() { b as char } else { '\u{fffd}' })
                .collect(),
            Charset::Latin1 => bytes.iter().map(|&b| cp1252(b)).collect(),
            Charset::Ucs2 | Charset::Utf16 => utf16(bytes, u16::from_be_bytes),
            Charset::Utf16le => utf16(bytes, u16::from_le_bytes),
            Charset::Utf32 => bytes
                .chunks(4)
                .map(|c| {
                    let unit = c.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b));
                    char::from_u32(unit).unwrap_or('\u{fffd}')
                })
                .collect(),
        }
    }
}

impl fmt::Display for Charset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> String {
    let units = bytes
        .chunks(2)
        .map(|c| unit([c[0], *c.get(1).unwrap_or(&0)]));
    char::decode_utf16(units)
        .map(|c| c.unwrap_or('\u{fffd}'))
        .collect()
}

/// Windows-1252 bytes 0x80-0x9f; the five bytes it leaves undefined map to the C1 control of
/// the same number, as MySQL's latin1 does.
const CP1252_HIGH: [char; 32] = [
    '\u{20ac}', '\u{81}', '\u{201a}', '\u{192}', '\u{201e}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{2c6}', '\u{2030}', '\u{160}', '\u{2039}', '\u{152}', '\u{8d}', '\u{17d}', '\u{8f}',
    '\u{90}', '\u{2018}', '\u{2019}', '\u{201c}', '\u{201d}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{2dc}', '\u{2122}', '\u{161}', '\u{203a}', '\u{153}', '\u{9d}', '\u{17e}', '\u{178}',
];

fn cp1252(byte: u8) -> char {
    match byte {
        0x80..=0x9f => CP1252_HIGH[usize::from(byte - 0x80)],
        _ => char::from(byte),
    }
}

/// The charset of a binlog column from its collation id, or an error naming the column.
pub(crate) fn charset_of_collation(id: u16, column: &str) -> Result<Charset> {
    Charset::from_collation_id(id).ok_or_else(|| Error::UnsupportedCharset {
        column: column.to_owned(),
        charset: format!("collation id {id}"),
    })
}

/// The charset named in information_schema, or an error naming the column.
pub(crate) fn charset_of_name(name: &str, column: &str) -> Result<Charset> {
    Charset::from_name(name).ok_or_else(|| Error::UnsupportedCharset {
        column: column.to_owned(),
        charset: name.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_is_windows_1252() {
        // 'Ÿ€ señor' as MySQL latin1 stores it (the zongji fixture's vc_latin1).
        let bytes = [0x9f, 0x80, 0x20, 0x73, 0x65, 0xf1, 0x6f, 0x72];
        assert_eq!(Charset::Latin1.decode(&bytes), "Ÿ€ señor");
        assert_eq!(Charset::Latin1.decode(b"caf\xe9 \xf1"), "café ñ");
    }

    #[test]
    fn wide_charsets_decode() {
        assert_eq!(
            Charset::Ucs2.decode(&[0, b'h', 0, 0xe9, 0, b'l', 0, b'l', 0, b'o']),
            "héllo"
        );
        assert_eq!(
            Charset::Utf16le.decode(&[b'a', 0, 0x3d, 0xd8, 0x00, 0xde]),
            "a😀"
        );
        assert_eq!(Charset::Utf32.decode(&[0, 1, 0xf6, 0x00]), "😀");
        assert_eq!(Charset::Ascii.decode(b"ok\xff"), "ok\u{fffd}");
    }

    #[test]
    fn collation_ids_and_names() {
        assert_eq!(Charset::from_collation_id(8), Some(Charset::Latin1));
        assert_eq!(Charset::from_collation_id(45), Some(Charset::Utf8mb4));
        assert_eq!(Charset::from_collation_id(255), Some(Charset::Utf8mb4));
        assert_eq!(Charset::from_collation_id(33), Some(Charset::Utf8mb3));
        assert_eq!(Charset::from_collation_id(63), Some(Charset::Binary));
        assert_eq!(Charset::from_collation_id(35), Some(Charset::Ucs2));
        assert_eq!(Charset::from_collation_id(1), None);
        assert_eq!(Charset::from_name("UTF8"), Some(Charset::Utf8mb3));
        assert_eq!(Charset::from_name("latin1"), Some(Charset::Latin1));
        let err = charset_of_collation(1, "db.t.c").unwrap_err().to_string();
        assert!(
            err.contains("db.t.c") && err.contains("collation id 1"),
            "{err}"
        );
    }
}
