//! Postgres's array text format (`{1,2,NULL}`, `{"a b","c\"d"}`, `{{1,2},{3,4}}`,
//! `[0:1]={7,8}`) split into element texts. Nested (multi-dimensional) arrays are flattened in
//! row-major order, because a column's Connect schema is a one-level array of its element type.

use std::borrow::Cow;

/// Why an array literal could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrayParseError {
    pub reason: &'static str,
}

/// The elements of an array literal, left to right: `None` for `NULL`, otherwise the element's
/// text with quotes and backslash escapes removed.
pub fn parse_array(text: &str) -> Result<Vec<Option<Cow<'_, str>>>, ArrayParseError> {
    let mut rest = text.trim();
    // Arrays whose lower bound is not 1 carry their dimensions first: `[0:2]={…}`.
    if rest.starts_with('[') {
        let at = rest.find('=').ok_or(ArrayParseError {
            reason: "dimension decoration without `=`",
        })?;
        rest = rest[at + 1..].trim_start();
    }
    let mut parser = Parser {
        text: rest,
        pos: 0,
        out: Vec::new(),
    };
    parser.array()?;
    if !parser.text[parser.pos..].trim().is_empty() {
        return Err(ArrayParseError {
            reason: "text after the closing `}`",
        });
    }
    Ok(parser.out)
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    out: Vec<Option<Cow<'a, str>>>,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8, reason: &'static str) -> Result<(), ArrayParseError> {
        self.skip_spaces();
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(ArrayParseError { reason })
        }
    }

    /// `{` element (`,` element)* `}` or `{}`.
    fn array(&mut self) -> Result<(), ArrayParseError> {
        self.expect(b'{', "an array must start with `{`")?;
        self.skip_spaces();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.skip_spaces();
            match self.peek() {
                Some(b'{') => self.array()?,
                Some(b'"') => {
                    let element = self.quoted()?;
                    self.out.push(Some(element));
                }
                Some(_) => {
                    let element = self.unquoted()?;
                    self.out.push(element);
                }
                None => {
                    return Err(ArrayParseError {
                        reason: "the array ends before its closing `}`",
                    });
                }
            }
            self.skip_spaces();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => {
                    return Err(ArrayParseError {
                        reason: "expected `,` or `}` after an element",
                    });
                }
            }
        }
    }

    /// Moves past one character of the element starting at `start`. A backslash escape makes
    /// the element owned (the backslash dropped); later characters are then copied as well.
    fn advance(&mut self, start: usize, owned: &mut Option<String>) -> Result<(), ArrayParseError> {
        let mut chars = self.text[self.pos..].chars();
        let ch = chars.next().unwrap_or('\0');
        if ch == '\\' {
            let buffer = owned.get_or_insert_with(|| self.text[start..self.pos].to_string());
            let escaped = chars.next().ok_or(ArrayParseError {
                reason: "a backslash ends the array",
            })?;
            buffer.push(escaped);
            self.pos += 1 + escaped.len_utf8();
        } else {
            if let Some(buffer) = owned.as_mut() {
                buffer.push(ch);
            }
            self.pos += ch.len_utf8();
        }
        Ok(())
    }

    fn quoted(&mut self) -> Result<Cow<'a, str>, ArrayParseError> {
        self.pos += 1; // the opening quote
        let start = self.pos;
        let mut owned: Option<String> = None;
        loop {
            let Some(byte) = self.peek() else {
                return Err(ArrayParseError {
                    reason: "a quoted element is not closed",
                });
            };
            match byte {
                b'"' => {
                    let element = match owned {
                        Some(s) => Cow::Owned(s),
                        None => Cow::Borrowed(&self.text[start..self.pos]),
                    };
                    self.pos += 1;
                    return Ok(element);
                }
                _ => self.advance(start, &mut owned)?,
            }
        }
    }

    /// An unquoted element runs to the next `,` or `}`; `NULL` in any case means null.
    fn unquoted(&mut self) -> Result<Option<Cow<'a, str>>, ArrayParseError> {
        let start = self.pos;
        let mut owned: Option<String> = None;
        while let Some(byte) = self.peek() {
            match byte {
                b',' | b'}' => break,
                b'{' | b'"' => {
                    return Err(ArrayParseError {
                        reason: "`{` or `\"` inside an unquoted element",
                    });
                }
                _ => self.advance(start, &mut owned)?,
            }
        }
        let element = match owned {
            Some(s) => Cow::Owned(s.trim_end().to_string()),
            None => Cow::Borrowed(self.text[start..self.pos].trim_end()),
        };
        if element.is_empty() {
            return Err(ArrayParseError {
                reason: "an empty unquoted element",
            });
        }
        if element.eq_ignore_ascii_case("NULL") {
            return Ok(None);
        }
        Ok(Some(element))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn elements(text: &str) -> Vec<Option<String>> {
        parse_array(text)
            .unwrap()
            .into_iter()
            .map(|e| e.map(Cow::into_owned))
            .collect()
    }

    fn some(items: &[&str]) -> Vec<Option<String>> {
        items.iter().map(|s| Some(s.to_string())).collect()
    }

    #[test]
    fn plain_quoted_null_and_empty() {
        assert_eq!(elements("{1,2,3}"), some(&["1", "2", "3"]));
        assert_eq!(elements("{}"), Vec::<Option<String>>::new());
        assert_eq!(
            elements(r#"{"a b",NULL,"NULL",null,""}"#),
            vec![
                Some("a b".to_string()),
                None,
                Some("NULL".to_string()),
                None,
                Some(String::new())
            ]
        );
    }

    #[test]
    fn escapes_and_special_characters() {
        assert_eq!(
            elements(r#"{"say \"hi\"","back\\slash","a,b","{x}","ünï"}"#),
            some(&["say \"hi\"", "back\\slash", "a,b", "{x}", "ünï"])
        );
        assert_eq!(elements(r"{a\,b}"), some(&["a,b"]));
    }

    #[test]
    fn nested_arrays_flatten_and_bounds_are_skipped() {
        assert_eq!(elements("{{1,2},{3,NULL}}"), {
            let mut v = some(&["1", "2", "3"]);
            v.push(None);
            v
        });
        assert_eq!(elements("[0:1]={7,8}"), some(&["7", "8"]));
        assert_eq!(elements("{{}}"), Vec::<Option<String>>::new());
    }

    #[test]
    fn malformed_arrays_are_refused() {
        for bad in [
            "", "1,2", "{1,2", "{\"a}", "{1,,2}", "{1} x", "{a\"b}", "[1:2]{1}",
        ] {
            assert!(parse_array(bad).is_err(), "{bad:?} should be refused");
        }
    }

    /// Writes elements the way Postgres's array output does.
    fn quote(element: &str) -> String {
        let needs_quotes = element.is_empty()
            || element.eq_ignore_ascii_case("null")
            || element
                .chars()
                .any(|c| matches!(c, '{' | '}' | ',' | '"' | '\\') || c.is_whitespace());
        if !needs_quotes {
            return element.to_string();
        }
        let escaped: String = element
            .chars()
            .flat_map(|c| match c {
                '"' | '\\' => vec!['\\', c],
                _ => vec![c],
            })
            .collect();
        format!("\"{escaped}\"")
    }

    proptest! {
        #[test]
        fn printed_arrays_parse_back(items in proptest::collection::vec(proptest::option::of(".{0,8}"), 0..6)) {
            let printed: Vec<String> = items
                .iter()
                .map(|item| item.as_deref().map_or("NULL".to_string(), quote))
                .collect();
            let text = format!("{{{}}}", printed.join(","));
            prop_assert_eq!(elements(&text), items);
        }
    }
}
