//! Partial JSON updates (`binlog_row_value_options=PARTIAL_JSON`): applying the
//! REPLACE/INSERT/REMOVE changes of a [`JsonPatch`] list to the before-image document gives
//! the full after-image document Debezium emits.

use serde_json::Value as Json;

use crate::binlog::{JsonPatch, JsonPatchOp};
use crate::error::Result;
use crate::types::value::bad;

/// One step of a MySQL JSON path: `.key`, `."quoted key"` or `[index]`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// Parses `$`, `$.a.b`, `$."a b"[2]`; wildcards and ranges never appear in binlog diffs.
fn parse_path(path: &str) -> Result<Vec<Step>> {
    let err = |why: &str| bad(format!("JSON path `{path}`: {why}"));
    let rest = path
        .trim()
        .strip_prefix('$')
        .ok_or_else(|| err("does not start with `$`"))?;
    let mut steps = Vec::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' if chars.peek() == Some(&'"') => {
                chars.next();
                let mut key = String::new();
                loop {
                    match chars.next() {
                        Some('\\') => key.push(chars.next().ok_or_else(|| err("ends in `\\`"))?),
                        Some('"') => break,
                        Some(c) => key.push(c),
                        None => return Err(err("has an unclosed quote")),
                    }
                }
                steps.push(Step::Key(key));
            }
            '.' => {
                let mut key = String::new();
                while let Some(&c) = chars.peek() {
                    if c == '.' || c == '[' {
                        break;
                    }
                    key.push(c);
                    chars.next();
                }
                if key.is_empty() {
                    return Err(err("has an empty key"));
                }
                steps.push(Step::Key(key));
            }
            '[' => {
                let mut digits = String::new();
                for c in chars.by_ref() {
                    if c == ']' {
                        break;
                    }
                    digits.push(c);
                }
                let index = digits
                    .trim()
                    .parse()
                    .map_err(|_| err("has an array index that is not a number"))?;
                steps.push(Step::Index(index));
            }
            ' ' => {}
            _ => return Err(err("has an unexpected character")),
        }
    }
    Ok(steps)
}

/// Applies `patches` in order to a copy of `before`.
pub fn apply_json_diff(before: &Json, patches: &[JsonPatch]) -> Result<Json> {
    let mut doc = before.clone();
    for patch in patches {
        apply_one(&mut doc, patch)?;
    }
    Ok(doc)
}

fn apply_one(doc: &mut Json, patch: &JsonPatch) -> Result<()> {
    let steps = parse_path(&patch.path)?;
    let missing = || {
        bad(format!(
            "JSON diff {:?} at `{}`: the before image has no such location",
            patch.operation, patch.path
        ))
    };
    let Some((last, parents)) = steps.split_last() else {
        // `$` itself: only a REPLACE of the whole document makes sense.
        return match (&patch.operation, &patch.value) {
            (JsonPatchOp::Replace, Some(value)) => {
                *doc = value.clone();
                Ok(())
            }
            _ => Err(missing()),
        };
    };
    let mut parent = &mut *doc;
    for step in parents {
        parent = match (step, parent) {
            (Step::Key(key), Json::Object(map)) => map.get_mut(key).ok_or_else(missing)?,
            (Step::Index(i), Json::Array(items)) => items.get_mut(*i).ok_or_else(missing)?,
            _ => return Err(missing()),
        };
    }
    let value = || patch.value.clone().ok_or_else(missing);
    match (&patch.operation, last, parent) {
        (JsonPatchOp::Remove, Step::Key(key), Json::Object(map)) => {
            map.shift_remove(key).ok_or_else(missing)?;
        }
        (JsonPatchOp::Remove, Step::Index(i), Json::Array(items)) if *i < items.len() => {
            items.remove(*i);
        }
        (JsonPatchOp::Replace | JsonPatchOp::Insert, Step::Key(key), Json::Object(map)) => {
            map.insert(key.clone(), value()?);
        }
        (JsonPatchOp::Replace, Step::Index(i), Json::Array(items)) if *i < items.len() => {
            items[*i] = value()?;
        }
        (JsonPatchOp::Insert, Step::Index(i), Json::Array(items)) => {
            // JSON_ARRAY_INSERT past the end appends.
            let at = (*i).min(items.len());
            items.insert(at, value()?);
        }
        _ => return Err(missing()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn patch(operation: JsonPatchOp, path: &str, value: Option<Json>) -> JsonPatch {
        JsonPatch {
            operation,
            path: path.into(),
            value,
        }
    }

    #[test]
    fn replace_insert_remove() {
        let before = json!({"age": 24, "name": "Joe", "tags": ["a", "b"], "o": {"k x": 1}});
        let after = apply_json_diff(
            &before,
            &[
                patch(JsonPatchOp::Replace, "$.age", Some(json!(25))),
                patch(JsonPatchOp::Insert, "$.city", Some(json!("Oslo"))),
                patch(JsonPatchOp::Insert, "$.tags[1]", Some(json!("z"))),
                patch(JsonPatchOp::Remove, "$.tags[0]", None),
                patch(JsonPatchOp::Replace, "$.o.\"k x\"", Some(json!(2))),
                patch(JsonPatchOp::Remove, "$.name", None),
            ],
        )
        .unwrap();
        assert_eq!(
            after,
            json!({"age": 25, "tags": ["z", "b"], "o": {"k x": 2}, "city": "Oslo"})
        );
        // Key order is kept (serde_json preserve_order): the document text is stable.
        assert_eq!(
            after.to_string(),
            r#"{"age":25,"tags":["z","b"],"o":{"k x":2},"city":"Oslo"}"#
        );
    }

    #[test]
    fn a_path_missing_from_the_before_image_is_an_error() {
        let err = apply_json_diff(
            &json!({"a": 1}),
            &[patch(JsonPatchOp::Replace, "$.b.c", Some(json!(1)))],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("$.b.c"), "{err}");
        assert!(parse_path("a.b").is_err());
    }
}
