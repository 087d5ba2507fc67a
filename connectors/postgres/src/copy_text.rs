//! Rows of `COPY … TO STDOUT` in text format: tab-separated fields, `\N` for NULL, backslash
//! escapes for tab, newline, carriage return, backslash and the rest. After unescaping, each
//! field is exactly the type's text output — the same text pgoutput sends — so the snapshot
//! and the stream share one value decoder.

use std::borrow::Cow;

use crate::table::Cell;

/// The complete rows at the start of `data` (COPY output as it arrives, possibly ending
/// mid-row) as text, each row ending in `\n`, and their length in bytes: what follows waits for
/// the next message. The rows are checked as UTF-8 at once, and are then split with `str`'s
/// memchr search (`split_terminator('\n')`) rather than byte by byte.
pub fn complete_rows(data: &[u8]) -> Result<(&str, usize), std::str::Utf8Error> {
    // PostgreSQL sends a row per message, so the last byte is normally the `\n`.
    let complete = data
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |end| end + 1);
    Ok((std::str::from_utf8(&data[..complete])?, complete))
}

/// Splits one row (without its trailing newline) into its fields, borrowing the text when a
/// field has no escapes. `None` is SQL NULL.
pub fn split_row(line: &str) -> Result<Vec<Option<Cow<'_, str>>>, String> {
    let mut fields = Vec::with_capacity(16);
    for raw in line.split('\t') {
        if raw == "\\N" {
            fields.push(None);
        } else if raw.contains('\\') {
            fields.push(Some(Cow::Owned(unescape(raw)?)));
        } else {
            fields.push(Some(Cow::Borrowed(raw)));
        }
    }
    Ok(fields)
}

/// Splits one row into `cells` (cleared first) without an intermediate list: fields without
/// escapes borrow the line, escaped ones are unescaped into `unescaped` (which must be empty)
/// and borrowed from there. A row without escapes (NULL's `\N` aside) allocates nothing
/// beyond `cells`' growth, and is read in one pass over its bytes.
pub fn split_cells<'a>(
    line: &'a str,
    unescaped: &'a mut Vec<String>,
    cells: &mut Vec<Cell<'a>>,
) -> Result<(), String> {
    debug_assert!(unescaped.is_empty());
    cells.clear();
    // Tabs and backslashes are ASCII, so every cut below is at a character boundary.
    let mut start = 0;
    let mut backslash = false;
    let mut escaped_fields = false;
    let mut field = |end: usize, backslash: bool, cells: &mut Vec<Cell<'a>>| {
        let raw = &line[start..end];
        cells.push(if !backslash {
            Cell::Text(raw)
        } else if raw == "\\N" {
            Cell::Null
        } else {
            escaped_fields = true;
            // Unescaped below; until then the raw text marks the field.
            Cell::UnchangedToast
        });
        start = end + 1;
    };
    for (at, byte) in line.bytes().enumerate() {
        match byte {
            b'\t' => {
                field(at, backslash, cells);
                backslash = false;
            }
            b'\\' => backslash = true,
            _ => {}
        }
    }
    field(line.len(), backslash, cells);
    if escaped_fields {
        unescape_fields(line, unescaped, cells)?;
    }
    Ok(())
}

/// Fills the fields `split_cells` marked as escaped (rare: text with tabs, newlines or
/// backslashes), found again by splitting the line.
fn unescape_fields<'a>(
    line: &'a str,
    unescaped: &'a mut Vec<String>,
    cells: &mut [Cell<'a>],
) -> Result<(), String> {
    let escaped = |cell: &Cell<'_>| *cell == Cell::UnchangedToast;
    for (raw, cell) in line.split('\t').zip(cells.iter()) {
        if escaped(cell) {
            unescaped.push(unescape(raw)?);
        }
    }
    let mut owned = unescaped.iter();
    for cell in cells.iter_mut().filter(|cell| escaped(cell)) {
        *cell = Cell::Text(owned.next().expect("unescaped above").as_str());
    }
    Ok(())
}

fn unescape(raw: &str) -> Result<String, String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        index += 1;
        if byte != b'\\' {
            out.push(byte);
            continue;
        }
        let Some(&next) = bytes.get(index) else {
            return Err(format!("field {raw:?} ends with a lone backslash"));
        };
        index += 1;
        match next {
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(0x0b),
            b'0'..=b'7' => {
                let mut value = u32::from(next - b'0');
                for _ in 0..2 {
                    match bytes.get(index) {
                        Some(&digit @ b'0'..=b'7') => {
                            value = value * 8 + u32::from(digit - b'0');
                            index += 1;
                        }
                        _ => break,
                    }
                }
                out.push(value as u8);
            }
            b'x' => {
                let mut value = 0u32;
                let mut digits = 0;
                while digits < 2 {
                    match bytes.get(index).and_then(|b| (*b as char).to_digit(16)) {
                        Some(digit) => {
                            value = value * 16 + digit;
                            index += 1;
                            digits += 1;
                        }
                        None => break,
                    }
                }
                if digits == 0 {
                    out.push(b'x');
                } else {
                    out.push(value as u8);
                }
            }
            other => out.push(other),
        }
    }
    String::from_utf8(out)
        .map_err(|_| format!("field {raw:?} unescapes to bytes that are not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_fields_nulls_and_escapes() {
        let fields = split_row("1\t\\N\ta\\tb\\nc\\\\d\t\\101\\x42").unwrap();
        let texts: Vec<Option<&str>> = fields.iter().map(|f| f.as_deref()).collect();
        assert_eq!(texts, [Some("1"), None, Some("a\tb\nc\\d"), Some("AB")]);
        assert!(matches!(fields[0], Some(Cow::Borrowed(_))));
        assert_eq!(split_row("").unwrap(), vec![Some(Cow::Borrowed(""))]);
        assert!(split_row("bad\\").is_err());
    }

    #[test]
    fn complete_rows_stop_at_the_last_line_end() {
        assert_eq!(complete_rows(b"1\ta\n").unwrap(), ("1\ta\n", 4));
        assert_eq!(complete_rows(b"1\n2\n3").unwrap(), ("1\n2\n", 4));
        assert_eq!(complete_rows(b"partial").unwrap(), ("", 0));
        // A row cut inside a multi-byte character waits whole for its end.
        let text = "1\t\u{e4}\n2\t\u{f6}\n";
        let cut = text.len() - 2;
        assert_eq!(
            complete_rows(&text.as_bytes()[..cut]).unwrap(),
            ("1\t\u{e4}\n", 5)
        );
        assert!(complete_rows(b"1\t\xff\n").is_err());
        assert_eq!(complete_rows(b"\n").unwrap(), ("\n", 1));
    }

    #[test]
    fn cells_equal_the_split_fields() {
        for line in [
            "1\t\\N\ta\\tb\\nc\\\\d\t\\101\\x42",
            "7\tplain\t\t\\N",
            "",
            "x\\\\N\t\\\\",
        ] {
            let fields = split_row(line).unwrap();
            let expected: Vec<Cell<'_>> = fields
                .iter()
                .map(|f| f.as_deref().map_or(Cell::Null, Cell::Text))
                .collect();
            let mut unescaped = Vec::new();
            let mut cells = vec![Cell::UnchangedToast];
            split_cells(line, &mut unescaped, &mut cells).unwrap();
            assert_eq!(cells, expected, "{line:?}");
        }
        let mut unescaped = Vec::new();
        assert!(split_cells("ok\tbad\\", &mut unescaped, &mut Vec::new()).is_err());
    }
}
