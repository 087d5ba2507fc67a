//! Recognising DDL in QUERY events: which statements change schemas (and so go to the
//! schema-change topic) and which tables they touch. Comments are skipped; DML, grants,
//! transaction control and MariaDB's dummy events are not DDL.

/// What a DDL statement did to one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableChangeKind {
    Create,
    Alter,
    Drop,
}

impl TableChangeKind {
    /// The `type` of a Debezium `tableChanges` entry.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Create => "CREATE",
            Self::Alter => "ALTER",
            Self::Drop => "DROP",
        }
    }
}

/// A table a DDL statement touched: (database, table, change).
pub type TouchedTable = (String, String, TableChangeKind);

/// Strips leading whitespace and `/* … */`, `-- …` and `# …` comments.
fn skip_comments(mut text: &str) -> &str {
    loop {
        text = text.trim_start();
        if let Some(rest) = text.strip_prefix("/*") {
            // Executable comments (`/*!50001 …*/`) are kept out too: the statement follows.
            text = rest.find("*/").map_or("", |end| &rest[end + 2..]);
        } else if text.starts_with("--") || text.starts_with('#') {
            text = text.find('\n').map_or("", |end| &text[end + 1..]);
        } else {
            return text;
        }
    }
}

/// Splits into words, keeping backquoted identifiers whole (quotes removed).
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '`' if quoted && chars.peek() == Some(&'`') => {
                chars.next();
                current.push('`');
            }
            '`' => quoted = !quoted,
            c if quoted => current.push(c),
            c if c.is_whitespace() || c == ',' || c == ';' || c == '(' => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
                if c == '(' {
                    out.push("(".into());
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn first_word(query: &str) -> String {
    skip_comments(query)
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase()
}

/// Whether `query` changes a schema.
pub fn is_ddl(query: &str) -> bool {
    let body = skip_comments(query);
    let upper: String = body
        .chars()
        .take(64)
        .collect::<String>()
        .to_ascii_uppercase();
    match first_word(query).as_str() {
        "CREATE" | "ALTER" | "DROP" => {
            !(upper.contains(" USER ") || upper.contains(" ROLE ") || upper.contains(" SERVER "))
        }
        "RENAME" => upper.starts_with("RENAME TABLE"),
        "TRUNCATE" => true,
        _ => false,
    }
}

/// Whether `query` is a TRUNCATE TABLE (a data change in Debezium's eyes, not a schema one).
pub fn is_truncate(query: &str) -> bool {
    first_word(query) == "TRUNCATE"
}

/// `db.table` or `table` (in `default_db`).
fn qualified(name: &str, default_db: &str) -> (String, String) {
    match name.split_once('.') {
        Some((db, table)) => (db.to_owned(), table.to_owned()),
        None => (default_db.to_owned(), name.to_owned()),
    }
}

fn is_keyword(word: &str, keyword: &str) -> bool {
    word.eq_ignore_ascii_case(keyword)
}

/// The tables a DDL statement touched (empty for database-level or unrecognised DDL).
pub fn touched_tables(query: &str, default_db: &str) -> Vec<TouchedTable> {
    let words = words(skip_comments(query));
    let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
    let after = |keyword: &str| upper.iter().position(|w| w == keyword).map(|i| i + 1);
    let skip_if_exists = |mut i: usize| {
        while i < upper.len() && matches!(upper[i].as_str(), "IF" | "NOT" | "EXISTS") {
            i += 1;
        }
        i
    };
    let Some(first) = upper.first() else {
        return Vec::new();
    };
    match first.as_str() {
        "CREATE" if upper.iter().take(4).any(|w| w == "TABLE") => after("TABLE")
            .map(skip_if_exists)
            .and_then(|i| words.get(i))
            .map(|name| {
                let (db, table) = qualified(name, default_db);
                vec![(db, table, TableChangeKind::Create)]
            })
            .unwrap_or_default(),
        "ALTER" if upper.iter().take(4).any(|w| w == "TABLE") => {
            let Some(name) = after("TABLE")
                .map(skip_if_exists)
                .and_then(|i| words.get(i))
            else {
                return Vec::new();
            };
            let (db, table) = qualified(name, default_db);
            // ALTER TABLE a RENAME [TO|AS] b drops a and creates b.
            let rename = upper.iter().position(|w| w == "RENAME").and_then(|i| {
                let mut j = i + 1;
                if matches!(upper.get(j).map(String::as_str), Some("TO" | "AS")) {
                    j += 1;
                }
                (!matches!(
                    upper.get(i + 1).map(String::as_str),
                    Some("COLUMN" | "INDEX" | "KEY")
                ))
                .then(|| words.get(j))
                .flatten()
            });
            match rename {
                Some(new_name) => {
                    let (new_db, new_table) = qualified(new_name, &db);
                    vec![
                        (db, table, TableChangeKind::Drop),
                        (new_db, new_table, TableChangeKind::Create),
                    ]
                }
                None => vec![(db, table, TableChangeKind::Alter)],
            }
        }
        "DROP" if upper.iter().take(3).any(|w| w == "TABLE") => {
            let start = after("TABLE").map(skip_if_exists).unwrap_or(upper.len());
            words[start.min(words.len())..]
                .iter()
                .filter(|w| !matches!(w.to_ascii_uppercase().as_str(), "RESTRICT" | "CASCADE"))
                .take_while(|w| !w.starts_with('/'))
                .map(|name| {
                    let (db, table) = qualified(name, default_db);
                    (db, table, TableChangeKind::Drop)
                })
                .collect()
        }
        "RENAME" => {
            let start = after("TABLE").unwrap_or(upper.len());
            let rest = &words[start.min(words.len())..];
            rest.split(|w| w.eq_ignore_ascii_case("TO"))
                .flat_map(|side| side.iter())
                .collect::<Vec<_>>()
                .chunks(2)
                .flat_map(|pair| match pair {
                    [from, to] => {
                        let (db, table) = qualified(from, default_db);
                        let (new_db, new_table) = qualified(to, default_db);
                        vec![
                            (db, table, TableChangeKind::Drop),
                            (new_db, new_table, TableChangeKind::Create),
                        ]
                    }
                    _ => Vec::new(),
                })
                .collect()
        }
        "TRUNCATE" => {
            let i = usize::from(is_keyword(upper.get(1).map_or("", String::as_str), "TABLE")) + 1;
            words
                .get(i)
                .map(|name| {
                    let (db, table) = qualified(name, default_db);
                    vec![(db, table, TableChangeKind::Alter)]
                })
                .unwrap_or_default()
        }
        "CREATE" | "DROP" if upper.iter().any(|w| w == "INDEX") => after("ON")
            .and_then(|i| words.get(i))
            .map(|name| {
                let (db, table) = qualified(name, default_db);
                vec![(db, table, TableChangeKind::Alter)]
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The database a `CREATE/DROP/ALTER DATABASE|SCHEMA` statement names.
pub fn database_of(query: &str) -> Option<String> {
    let words = words(skip_comments(query));
    let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
    let at = upper
        .iter()
        .position(|w| w == "DATABASE" || w == "SCHEMA")?;
    if at > 1 {
        return None;
    }
    let mut i = at + 1;
    while i < upper.len() && matches!(upper[i].as_str(), "IF" | "NOT" | "EXISTS") {
        i += 1;
    }
    words.get(i).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use TableChangeKind::*;

    fn t(db: &str, table: &str, kind: TableChangeKind) -> TouchedTable {
        (db.into(), table.into(), kind)
    }

    #[test]
    fn ddl_is_told_from_other_statements() {
        assert!(is_ddl("ALTER TABLE t ADD COLUMN c INT"));
        assert!(is_ddl("/* comment */ create table x (a int)"));
        assert!(is_ddl("RENAME TABLE a TO b"));
        assert!(!is_ddl("BEGIN"));
        assert!(!is_ddl("INSERT INTO t VALUES (1)"));
        assert!(!is_ddl("CREATE USER 'x'@'%'"));
        assert!(!is_ddl("# Dummy event replacing event type 160"));
        assert!(!is_ddl("GRANT SELECT ON *.* TO x"));
    }

    #[test]
    fn touched_tables_of_common_statements() {
        assert_eq!(
            touched_tables("CREATE TABLE IF NOT EXISTS `shop`.`or``ders` (id INT)", "x"),
            [t("shop", "or`ders", Create)]
        );
        assert_eq!(
            touched_tables("ALTER TABLE items MODIFY COLUMN name VARCHAR(80)", "shop"),
            [t("shop", "items", Alter)]
        );
        assert_eq!(
            touched_tables("ALTER TABLE items RENAME TO goods", "shop"),
            [t("shop", "items", Drop), t("shop", "goods", Create)]
        );
        assert_eq!(
            touched_tables("ALTER TABLE items RENAME COLUMN a TO b", "shop"),
            [t("shop", "items", Alter)]
        );
        assert_eq!(
            touched_tables(
                "DROP TABLE IF EXISTS a, other.b /* generated by server */",
                "shop"
            ),
            [t("shop", "a", Drop), t("other", "b", Drop)]
        );
        assert_eq!(
            touched_tables("RENAME TABLE a TO b, c TO d", "s"),
            [
                t("s", "a", Drop),
                t("s", "b", Create),
                t("s", "c", Drop),
                t("s", "d", Create)
            ]
        );
        assert_eq!(
            touched_tables("TRUNCATE TABLE a", "s"),
            [t("s", "a", Alter)]
        );
        assert_eq!(
            touched_tables("CREATE INDEX i ON a (x)", "s"),
            [t("s", "a", Alter)]
        );
        assert_eq!(
            database_of("CREATE DATABASE IF NOT EXISTS shop"),
            Some("shop".into())
        );
        assert_eq!(database_of("ALTER TABLE t ADD x INT"), None);
    }
}
