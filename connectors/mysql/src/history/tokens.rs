//! Tokens of a DDL statement for the schema model's applier: words, identifiers (backquoted
//! or double-quoted, quotes removed), string literals, numbers and punctuation. Comments are
//! dropped; executable comments (`/*!50001 … */`) keep their content, as the server runs it.

/// One token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// An unquoted word: keyword, identifier or number.
    Word(String),
    /// A quoted identifier.
    Ident(String),
    /// A string literal, unescaped.
    Str(String),
    /// `(`, `)`, `,`, `.`, `=`, `;` or another single character.
    Punct(char),
}

impl Token {
    /// Whether this is the unquoted keyword `keyword` (any case).
    pub fn is(&self, keyword: &str) -> bool {
        matches!(self, Token::Word(w) if w.eq_ignore_ascii_case(keyword))
    }

    /// The identifier this token names (a word or a quoted identifier).
    pub fn name(&self) -> Option<&str> {
        match self {
            Token::Word(w) | Token::Ident(w) => Some(w),
            _ => None,
        }
    }

    /// The token as SQL text (for type arguments and default expressions).
    pub fn sql(&self) -> String {
        match self {
            Token::Word(w) => w.clone(),
            Token::Ident(w) => format!("`{w}`"),
            Token::Str(s) => format!("'{}'", s.replace('\'', "''")),
            Token::Punct(c) => c.to_string(),
        }
    }
}

/// Splits `sql` into tokens; `None` when a quote or comment is not closed.
pub fn tokenize(sql: &str) -> Option<Vec<Token>> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            let executable = chars.get(i + 2) == Some(&'!');
            let end = find_pair(&chars, i + 2, '*', '/')?;
            if executable {
                // `/*!50001 body */`: tokenize the body after the version digits.
                let mut start = i + 3;
                while start < end && chars[start].is_ascii_digit() {
                    start += 1;
                }
                let body: String = chars[start..end].iter().collect();
                out.extend(tokenize(&body)?);
            }
            i = end + 2;
        } else if c == '#' || (c == '-' && chars.get(i + 1) == Some(&'-')) {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '`' || c == '"' || c == '\'' {
            let (text, next) = quoted(&chars, i)?;
            out.push(if c == '\'' {
                Token::Str(text)
            } else {
                Token::Ident(text)
            });
            i = next;
        } else if c.is_alphanumeric() || c == '_' || c == '$' || c == '@' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '$' | '@'))
            {
                i += 1;
            }
            out.push(Token::Word(chars[start..i].iter().collect()));
        } else {
            out.push(Token::Punct(c));
            i += 1;
        }
    }
    Some(out)
}

/// The index of `first` immediately followed by `second`, from `from` on.
fn find_pair(chars: &[char], from: usize, first: char, second: char) -> Option<usize> {
    (from..chars.len().saturating_sub(1)).find(|&j| chars[j] == first && chars[j + 1] == second)
}

/// The content of the quoted text starting at `start` (doubled quotes and, in strings,
/// backslash escapes unescaped) and the index after its closing quote.
fn quoted(chars: &[char], start: usize) -> Option<(String, usize)> {
    let quote = chars[start];
    let mut text = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        let c = chars[i];
        if c == quote {
            if chars.get(i + 1) == Some(&quote) {
                text.push(quote);
                i += 2;
                continue;
            }
            return Some((text, i + 1));
        }
        if c == '\\' && quote == '\'' && i + 1 < chars.len() {
            text.push(match chars[i + 1] {
                'n' => '\n',
                't' => '\t',
                '0' => '\0',
                other => other,
            });
            i += 2;
            continue;
        }
        text.push(c);
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_comments_and_executable_comments() {
        let tokens = tokenize(
            "/* x */ ALTER TABLE `a``b`.t -- c\n ADD c VARCHAR(3) DEFAULT 'it''s' /*!50001 FIRST */",
        )
        .unwrap();
        assert_eq!(
            tokens,
            [
                Token::Word("ALTER".into()),
                Token::Word("TABLE".into()),
                Token::Ident("a`b".into()),
                Token::Punct('.'),
                Token::Word("t".into()),
                Token::Word("ADD".into()),
                Token::Word("c".into()),
                Token::Word("VARCHAR".into()),
                Token::Punct('('),
                Token::Word("3".into()),
                Token::Punct(')'),
                Token::Word("DEFAULT".into()),
                Token::Str("it's".into()),
                Token::Word("FIRST".into()),
            ]
        );
        assert!(tokenize("ALTER TABLE `open").is_none());
        assert!(tokenize("x /* open").is_none());
    }
}
