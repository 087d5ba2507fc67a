//! Values of the `hstore` extension and the geometric `point`, in Debezium's forms: an hstore
//! as a JSON object text (`hstore.handling.mode=json`, the default) or a Connect map, a point as
//! `io.debezium.data.geometry.Point` {x, y, wkb, srid}.

use sluice_schemas::{SchemaRef, Struct, Value, logical};

/// Reads hstore's text output (`"a"=>"1", "b"=>NULL`) into its pairs, in the server's order.
pub fn parse_hstore(text: &str) -> Result<Vec<(String, Option<String>)>, &'static str> {
    let mut pairs = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let (key, after_key) = quoted(rest)?;
        let after_arrow = after_key
            .trim_start()
            .strip_prefix("=>")
            .ok_or("expected `=>` after a key")?
            .trim_start();
        let (value, after_value) = if let Some(after_null) = after_arrow.strip_prefix("NULL") {
            (None, after_null)
        } else {
            let (value, after) = quoted(after_arrow)?;
            (Some(value), after)
        };
        pairs.push((key, value));
        rest = after_value.trim_start();
        if let Some(next) = rest.strip_prefix(',') {
            rest = next.trim_start();
        } else if !rest.is_empty() {
            return Err("expected `,` between pairs");
        }
    }
    Ok(pairs)
}

/// A `"…"` string with backslash escapes; returns it and the text after the closing quote.
fn quoted(text: &str) -> Result<(String, &str), &'static str> {
    let body = text.strip_prefix('"').ok_or("expected a quoted string")?;
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((at, ch)) = chars.next() {
        match ch {
            '"' => return Ok((out, &body[at + 1..])),
            '\\' => out.push(chars.next().ok_or("a backslash ends the value")?.1),
            _ => out.push(ch),
        }
    }
    Err("a quoted string is not closed")
}

/// The pairs as compact JSON object text, keeping their order (`{"a":"1","b":null}`).
pub fn hstore_json(pairs: &[(String, Option<String>)]) -> String {
    let mut out = String::from("{");
    for (index, (key, value)) in pairs.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::Value::from(key.as_str()).to_string());
        out.push(':');
        match value {
            Some(v) => out.push_str(&serde_json::Value::from(v.as_str()).to_string()),
            None => out.push_str("null"),
        }
    }
    out.push('}');
    out
}

/// The pairs as a Connect map value.
pub fn hstore_map(pairs: Vec<(String, Option<String>)>) -> Value {
    Value::Map(
        pairs
            .into_iter()
            .map(|(k, v)| (Value::String(k.into()), v.map_or(Value::Null, Value::from)))
            .collect(),
    )
}

/// A `point` (`(1.5,-2)`) as Debezium's `Point` struct: x, y, and the point as little-endian
/// WKB; no SRID.
pub fn point(text: &str, schema: &SchemaRef) -> Result<Value, String> {
    let inner = text
        .trim()
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .ok_or("expected (x,y)")?;
    let (x, y) = inner.split_once(',').ok_or("expected (x,y)")?;
    let parse = |v: &str| {
        v.trim()
            .parse::<f64>()
            .map_err(|_| "a coordinate is not a number")
    };
    let (x, y) = (parse(x)?, parse(y)?);
    let mut wkb = Vec::with_capacity(21);
    wkb.push(1); // little-endian
    wkb.extend_from_slice(&1u32.to_le_bytes()); // WKB type 1: Point
    wkb.extend_from_slice(&x.to_le_bytes());
    wkb.extend_from_slice(&y.to_le_bytes());
    let values = vec![
        Value::Float64(x),
        Value::Float64(y),
        Value::Bytes(wkb),
        Value::Null,
    ];
    Struct::from_values(schema.clone(), values)
        .map(Value::Struct)
        .map_err(|e| e.to_string())
}

/// The `Point` schema, built once per call site by the caller when converting many values.
pub fn point_schema() -> SchemaRef {
    logical::point().optional().build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hstore_text_to_json_and_map() {
        let pairs = parse_hstore(r#""a"=>"1", "b c"=>NULL, "q\"uote"=>"back\\slash""#).unwrap();
        assert_eq!(
            hstore_json(&pairs),
            r#"{"a":"1","b c":null,"q\"uote":"back\\slash"}"#
        );
        assert_eq!(parse_hstore("").unwrap(), vec![]);
        match hstore_map(pairs) {
            Value::Map(entries) => assert_eq!(entries.len(), 3),
            other => panic!("{other:?}"),
        }
        for bad in [r#""a"=>"#, r#""a""1""#, r#""a"=>"1" "b"=>"2""#, r#"a=>"1""#] {
            assert!(parse_hstore(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn points_carry_wkb() {
        let value = point("(1,2)", &point_schema()).unwrap();
        let s = value.as_struct().unwrap();
        assert_eq!(s.get("x"), Some(&Value::Float64(1.0)));
        let wkb = s.get("wkb").unwrap().as_bytes().unwrap();
        assert_eq!(wkb.len(), 21);
        assert_eq!(&wkb[..5], &[1, 1, 0, 0, 0]);
        assert_eq!(&wkb[5..13], &1.0f64.to_le_bytes());
        assert!(point("1,2", &point_schema()).is_err());
    }
}
