//! `org.apache.kafka.connect.transforms.RegexRouter`: when the whole topic name matches
//! `regex`, the topic becomes `replacement`, in which `$1`, `${name}` and `\$` work as in
//! Java's `Matcher.replaceFirst`.

use regex::{Captures, Regex};

use super::Transform;
use super::config::TransformConfig;
use super::predicate::full_match_regex;
use crate::api::ConnectRecord;
use crate::error::Result;

/// One piece of a parsed replacement.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Group(usize),
    Named(String),
}

/// Renames topics that match a regex.
#[derive(Debug)]
pub struct RegexRouter {
    regex: Regex,
    replacement: Vec<Piece>,
}

impl RegexRouter {
    pub fn new(config: &TransformConfig<'_>) -> Result<Self> {
        config.warn_unknown(&["regex", "replacement"]);
        let pattern = config.required(
            "regex",
            "a Java-style regex the whole topic name must match",
        )?;
        let regex = full_match_regex(pattern).map_err(|err| {
            config.invalid("regex", pattern, &format!("not a valid regex: {err}"))
        })?;
        let raw = config.required(
            "replacement",
            "the new topic name; $1 refers to the first group",
        )?;
        let replacement = parse_java_replacement(raw, &regex)
            .map_err(|reason| config.invalid("replacement", raw, &reason))?;
        Ok(Self { regex, replacement })
    }

    /// The new name for `topic`, or `None` when it does not match.
    pub fn route(&self, topic: &str) -> Option<String> {
        let captures = self.regex.captures(topic)?;
        Some(expand(&self.replacement, &captures))
    }
}

impl<R: ConnectRecord> Transform<R> for RegexRouter {
    fn apply(&self, mut record: R) -> Result<Option<R>> {
        if let Some(topic) = self.route(record.topic()) {
            record.set_topic(topic);
        }
        Ok(Some(record))
    }
}

fn expand(pieces: &[Piece], captures: &Captures<'_>) -> String {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Literal(text) => out.push_str(text),
            Piece::Group(index) => out.push_str(captures.get(*index).map_or("", |m| m.as_str())),
            Piece::Named(name) => out.push_str(captures.name(name).map_or("", |m| m.as_str())),
        }
    }
    out
}

/// Parses Java's replacement syntax against `regex`'s groups. Like Java, `$12` means group 12
/// only when the regex has 12 groups, else group 1 followed by `2`.
fn parse_java_replacement(raw: &str, regex: &Regex) -> std::result::Result<Vec<Piece>, String> {
    // Group 0 is the whole match (our added wrapper is non-capturing).
    let groups = regex.captures_len() - 1;
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped) => literal.push(escaped),
                None => return Err("ends with a lone '\\'; write '\\\\' for a backslash".into()),
            },
            '$' => {
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                match chars.peek().copied() {
                    Some('{') => {
                        chars.next();
                        let mut name = String::new();
                        let mut closed = false;
                        for c in chars.by_ref() {
                            if c == '}' {
                                closed = true;
                                break;
                            }
                            name.push(c);
                        }
                        if !closed {
                            return Err(format!("\"${{{name}\" lacks its closing '}}'"));
                        }
                        let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                            && name.chars().all(|c| c.is_ascii_alphanumeric());
                        if !valid {
                            return Err(format!(
                                "\"${{{name}}}\" is not a valid group name reference"
                            ));
                        }
                        if !regex.capture_names().flatten().any(|n| n == name) {
                            return Err(format!("the regex has no group named {name:?}"));
                        }
                        pieces.push(Piece::Named(name));
                    }
                    Some(d) if d.is_ascii_digit() => {
                        chars.next();
                        let mut number = d.to_digit(10).unwrap_or_default() as usize;
                        while let Some(next) = chars.peek().and_then(|c| c.to_digit(10)) {
                            let longer = number * 10 + next as usize;
                            if longer > groups {
                                break;
                            }
                            number = longer;
                            chars.next();
                        }
                        if number > groups {
                            return Err(format!(
                                "refers to group {number} but the regex has {groups}"
                            ));
                        }
                        pieces.push(Piece::Group(number));
                    }
                    _ => {
                        return Err("'$' must be followed by a group number or {name}; write '\\$' for a dollar sign".into());
                    }
                }
            }
            other => literal.push(other),
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Props;

    fn router(regex: &str, replacement: &str) -> Result<RegexRouter> {
        let props: Props = [
            ("transforms.r.regex", regex),
            ("transforms.r.replacement", replacement),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        RegexRouter::new(&TransformConfig::new("transforms", "r", &props))
    }

    #[test]
    fn java_group_references() {
        let r = router(r"dbserver1\.(\w+)\.(\w+)", "$2_from_$1").unwrap();
        assert_eq!(
            r.route("dbserver1.inventory.customers").as_deref(),
            Some("customers_from_inventory")
        );
        // Whole-name match only, as Matcher.matches().
        assert_eq!(r.route("x.dbserver1.inventory.customers"), None);
        let named = router(r"(?P<db>\w+)\.(?P<table>\w+)", r"${table}\$$1x").unwrap();
        assert_eq!(named.route("inv.orders").as_deref(), Some("orders$invx"));
        // "$12" with one group is group 1 then "2".
        let digits = router(r"(a)", "$12").unwrap();
        assert_eq!(digits.route("a").as_deref(), Some("a2"));
        assert_eq!(
            router(".*", "fixed").unwrap().route("anything").as_deref(),
            Some("fixed")
        );
    }

    #[test]
    fn bad_replacements_are_named() {
        let err = router("(a)", "$2").unwrap_err().to_string();
        assert!(
            err.contains("transforms.r.replacement") && err.contains("group 2"),
            "{err}"
        );
        let err = router("(a)", "x$").unwrap_err().to_string();
        assert!(err.contains("'$' must be followed"), "{err}");
        let err = router("(a)", "${nope}").unwrap_err().to_string();
        assert!(err.contains("no group named"), "{err}");
        let err = router("(", "x").unwrap_err().to_string();
        assert!(
            err.contains("transforms.r.regex") && err.contains("not a valid regex"),
            "{err}"
        );
        let err = router("a", "x\\").unwrap_err().to_string();
        assert!(err.contains("lone"), "{err}");
    }
}
