//! Column defaults: `information_schema.COLUMNS.COLUMN_DEFAULT` text to the value Debezium puts
//! in the field schema's `default`.
//!
//! MariaDB quotes string defaults (`'abc'`) and writes `NULL` and expressions
//! (`current_timestamp()`) unquoted; MySQL 8 writes string defaults unquoted. A default of
//! `CURRENT_TIMESTAMP`/`NOW()` becomes the epoch, as Debezium documents; other expressions and
//! NULL give no default.

use mysql_async::Value as MyValue;
use sluice_schemas::Value;

use super::column::{ColumnType, TypeKind};
use super::options::TypeOptions;

fn is_current_timestamp(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let name = lower.split('(').next().unwrap_or("").trim();
    matches!(
        name,
        "current_timestamp" | "now" | "localtime" | "localtimestamp"
    )
}

/// MariaDB's quoting: `'it''s'` → `it's`; `None` when `text` is not one quoted literal.
fn unquote(text: &str) -> Option<String> {
    let inner = text.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' if chars.peek() == Some(&'\'') => {
                chars.next();
                out.push('\'');
            }
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('0') => out.push('\0'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    Some(out)
}

/// `b'101'` (BIT defaults as both servers print them) → the number.
fn bit_literal(text: &str) -> Option<u64> {
    let digits = text.strip_prefix("b'")?.strip_suffix('\'')?;
    u64::from_str_radix(digits, 2).ok()
}

impl ColumnType {
    /// The schema default for a column whose catalog `COLUMN_DEFAULT` is `column_default`;
    /// `None` when there is none Debezium would write (NULL, an expression, a zero date,
    /// GEOMETRY/JSON, or text that does not parse as the column's type).
    pub fn default_value(&self, column_default: &str, opts: &TypeOptions) -> Option<Value> {
        let text = column_default.trim();
        if text.eq_ignore_ascii_case("NULL") {
            return None;
        }
        if matches!(self.kind, TypeKind::Geometry(_) | TypeKind::Json) {
            return None;
        }
        if is_current_timestamp(text) {
            return match self.kind {
                TypeKind::Timestamp { .. } | TypeKind::DateTime { .. } => self.zero_value(opts),
                _ => None,
            };
        }
        if let Some(bits) = bit_literal(text) {
            return Some(self.bits_value(bits));
        }
        let literal = match unquote(text) {
            Some(unquoted) => unquoted,
            // An unquoted function call or parenthesised expression is not a literal.
            None if text.contains('(') => return None,
            None => text.to_owned(),
        };
        match self.snapshot_value(&MyValue::Bytes(literal.into_bytes()), opts) {
            Ok(Value::Null) | Err(_) => None,
            Ok(value) => Some(value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Charset, IntWidth, Signedness};

    fn t(kind: TypeKind) -> ColumnType {
        ColumnType::new(kind)
    }

    #[test]
    fn literals_of_both_servers() {
        let o = TypeOptions::default();
        let int = t(TypeKind::Integer {
            width: IntWidth::Int,
            sign: Signedness::Signed,
        });
        assert_eq!(int.default_value("42", &o), Some(Value::Int32(42)));
        assert_eq!(int.default_value("NULL", &o), None);
        let text = t(TypeKind::VarString {
            charset: Charset::Utf8mb4,
            length: Some(10),
        });
        assert_eq!(
            text.default_value("'it''s'", &o),
            Some(Value::String("it's".into()))
        );
        assert_eq!(
            text.default_value("plain", &o),
            Some(Value::String("plain".into()))
        );
        assert_eq!(text.default_value("uuid()", &o), None);
        let date = t(TypeKind::Date);
        assert_eq!(
            date.default_value("'2000-01-01'", &o),
            Some(Value::Int32(10957))
        );
        assert_eq!(date.default_value("'0000-00-00'", &o), None);
        let ts = t(TypeKind::Timestamp { fsp: 0 });
        assert_eq!(
            ts.default_value("current_timestamp()", &o),
            Some(Value::String("1970-01-01T00:00:00Z".into()))
        );
        assert_eq!(
            ts.default_value("CURRENT_TIMESTAMP", &o),
            Some(Value::String("1970-01-01T00:00:00Z".into()))
        );
        let bit = t(TypeKind::Bit { length: 1 });
        assert_eq!(bit.default_value("b'1'", &o), Some(Value::Boolean(true)));
        let e = t(TypeKind::Enum {
            values: vec!["a".into(), "b".into()],
        });
        assert_eq!(e.default_value("'b'", &o), Some(Value::String("b".into())));
    }
}
