//! Column defaults (`pg_get_expr(adbin, adrelid)`) as field-schema default values, the way
//! Debezium's `PostgresDefaultValueConverter` reads them: the literal inside quotes
//! (`'abc'::text` → `abc`) or the raw constant (`12.5`, `true`); a function call or
//! `CURRENT_*` (e.g. `nextval(…)` of a serial, `now()`) gives the type's placeholder (0, the
//! epoch, …); types Debezium has no default mapper for get no default.

use sluice_schemas::Value;

use super::column::{ColumnType, TypeKind};
use super::options::TypeOptions;

/// The placeholder Debezium uses when the default is computed by the server; `None` for types
/// without a default mapper.
fn generated_placeholder(ty: &ColumnType) -> Option<&'static str> {
    let placeholder = match ty.kind() {
        TypeKind::Bits { .. } => "0",
        TypeKind::Boolean => "false",
        TypeKind::Text if matches!(ty.name(), "bpchar" | "varchar" | "text") => "",
        TypeKind::Numeric { .. } | TypeKind::NumericUnconstrained => "0.0",
        TypeKind::Float32 | TypeKind::Float64 => "0.0",
        TypeKind::Int16 | TypeKind::Int32 => "0",
        TypeKind::Int64 if ty.name() == "int8" => "0",
        TypeKind::Json => "{}",
        TypeKind::Xml => "",
        TypeKind::Uuid => "00000000-0000-0000-0000-000000000000",
        TypeKind::Date | TypeKind::Timestamp { .. } | TypeKind::TimestampTz { .. } => "1970-01-01",
        TypeKind::Time { .. } => "00:00",
        TypeKind::Interval => "00:00:00",
        TypeKind::Enum { .. } => return None,
        _ => return None,
    };
    Some(placeholder)
}

/// `name(…)` / `(name(…)…` — a function call — or a `CURRENT_*` / `LOCALTIME*` keyword.
fn is_generated(expression: &str) -> bool {
    let lower = expression.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "current_timestamp" | "current_time" | "current_date" | "localtime" | "localtimestamp"
    ) {
        return true;
    }
    let body = expression.strip_prefix('(').unwrap_or(expression);
    let name_len = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(body.len());
    // Like Debezium's pattern, a call at the start is enough (`now() - interval '1 day'`).
    name_len > 0 && body[name_len..].starts_with('(') && body.contains(')')
}

/// The literal text of a default: inside the first quotes (`''` unescaped), or the raw
/// expression; `None` for `NULL::type`.
fn literal(expression: &str) -> Option<String> {
    let Some(start) = expression.find('\'') else {
        return (!expression.starts_with("NULL::")).then(|| expression.to_string());
    };
    let mut out = String::new();
    let mut chars = expression[start + 1..].chars().peekable();
    while let Some(ch) = chars.next() {
        if ch == '\'' {
            if chars.peek() == Some(&'\'') {
                chars.next();
                out.push('\'');
            } else {
                return Some(out);
            }
        } else {
            out.push(ch);
        }
    }
    None
}

/// The default value of a column of type `ty` whose default expression is `expression`, in
/// the column's Connect representation; `None` when Debezium would give none.
pub fn default_value(ty: &ColumnType, expression: &str, opts: &TypeOptions) -> Option<Value> {
    let expression = expression.trim();
    let is_enum = matches!(ty.kind(), TypeKind::Enum { .. });
    let placeholder = generated_placeholder(ty);
    if placeholder.is_none() && !is_enum {
        return None;
    }
    let text = if is_generated(expression) {
        placeholder?.to_string()
    } else {
        literal(expression)?
    };
    // Date-only texts stand for midnight (UTC) in timestamp columns.
    let text = match ty.kind() {
        TypeKind::Timestamp { .. } if !text.contains(' ') => format!("{text} 00:00:00"),
        TypeKind::TimestampTz { .. } if !text.contains(' ') => format!("{text} 00:00:00+00"),
        TypeKind::Bits { length } if *length <= 1 => text.trim().to_string(),
        _ => text,
    };
    match ty.decode_text(&text, opts).ok()? {
        // Kafka Connect cannot carry struct defaults (KAFKA-12694); Debezium drops them too.
        Value::Struct(_) => None,
        value => Some(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::TypeCatalog;

    fn default_of(oid: u32, typmod: i32, expression: &str) -> Option<Value> {
        let ty = TypeCatalog::builtin().resolve(oid, typmod);
        default_value(&ty, expression, &TypeOptions::default())
    }

    #[test]
    fn literals_and_raw_constants() {
        assert_eq!(default_of(23, -1, "7"), Some(Value::Int32(7)));
        assert_eq!(default_of(23, -1, "'-1'::integer"), Some(Value::Int32(-1)));
        assert_eq!(
            default_of(25, -1, "'it''s'::text"),
            Some(Value::String("it's".into()))
        );
        assert_eq!(default_of(16, -1, "true"), Some(Value::Boolean(true)));
        assert_eq!(
            default_of(
                1114,
                -1,
                "'2020-01-02 03:04:05'::timestamp without time zone"
            ),
            Some(Value::Int64(1_577_934_245_000_000))
        );
        assert_eq!(
            default_of(1082, -1, "'1970-01-02'::date"),
            Some(Value::Int32(1))
        );
        assert_eq!(default_of(25, -1, "NULL::text"), None);
    }

    #[test]
    fn generated_defaults_get_placeholders() {
        assert_eq!(
            default_of(23, -1, "nextval('t_id_seq'::regclass)"),
            Some(Value::Int32(0))
        );
        assert_eq!(
            default_of(1184, -1, "now()"),
            Some(Value::String("1970-01-01T00:00:00.000000Z".into()))
        );
        assert_eq!(
            default_of(1114, -1, "CURRENT_TIMESTAMP"),
            Some(Value::Int64(0))
        );
        assert_eq!(
            default_of(2950, -1, "gen_random_uuid()"),
            Some(Value::String("00000000-0000-0000-0000-000000000000".into()))
        );
        assert_eq!(
            default_of(1186, -1, "(now() - now())"),
            Some(Value::Int64(0))
        );
        assert_eq!(
            default_of(1186, -1, "'1 day'::interval"),
            Some(Value::Int64(86_400_000_000))
        );
    }

    #[test]
    fn types_without_mappers_and_struct_values_get_none() {
        assert_eq!(default_of(17, -1, "'\\x00'::bytea"), None);
        assert_eq!(default_of(869, -1, "'1.2.3.4'::inet"), None);
        assert_eq!(
            default_of(1700, -1, "1.5"),
            None,
            "VariableScaleDecimal is a struct"
        );
        assert!(default_of(1700, (5 << 16 | 2) + 4, "1.5").is_some());
    }
}
