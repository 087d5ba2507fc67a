//! One column definition of a DDL statement (`name TYPE[(args)] [UNSIGNED] [CHARACTER SET x]
//! [NOT NULL] [DEFAULT v] … [FIRST | AFTER c]`) into the catalog row the server would show
//! for it ([`InformationSchemaColumn`]), so DDL-built and catalog-read definitions are alike.

use crate::flavour::Flavour;
use crate::types::InformationSchemaColumn;

use super::tokens::Token;

/// Where ADD / MODIFY / CHANGE put the column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// Where it was (MODIFY, CHANGE) or last (ADD).
    Unchanged,
    First,
    After(String),
}

/// A parsed column definition.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDef {
    pub column: InformationSchemaColumn,
    /// `PRIMARY KEY` written on the column itself.
    pub primary_key: bool,
    pub placement: Placement,
}

/// Parses `tokens` (one definition, no trailing comma). `table_charset` is the charset of
/// character columns that name none. `None` when the type is not recognised.
pub fn parse_column(
    tokens: &[Token],
    table_charset: Option<&str>,
    flavour: Flavour,
) -> Option<ColumnDef> {
    let name = tokens.first()?.name()?.to_owned();
    let type_word = tokens.get(1).and_then(|t| match t {
        Token::Word(w) => Some(w.to_ascii_lowercase()),
        _ => None,
    })?;
    let mut i = 2;
    // Two-word type names.
    let mut data_type = match type_word.as_str() {
        "double" if tokens.get(i).is_some_and(|t| t.is("precision")) => {
            i += 1;
            "double".to_owned()
        }
        "character" | "char" if tokens.get(i).is_some_and(|t| t.is("varying")) => {
            i += 1;
            "varchar".to_owned()
        }
        other => other.to_owned(),
    };
    let mut args: Vec<String> = Vec::new();
    let mut arg_sql = String::new();
    if tokens.get(i) == Some(&Token::Punct('(')) {
        let close = matching_paren(tokens, i)?;
        let mut current = String::new();
        for token in &tokens[i + 1..close] {
            if *token == Token::Punct(',') {
                args.push(std::mem::take(&mut current));
            } else {
                current.push_str(&token.sql());
            }
        }
        args.push(current);
        arg_sql = format!("({})", args.join(","));
        i = close + 1;
    }
    let number = |index: usize| args.get(index).and_then(|a| a.trim().parse::<u64>().ok());
    let mut column = InformationSchemaColumn {
        column_name: name,
        is_nullable: true,
        ..Default::default()
    };
    let mut unsigned = false;
    let mut primary_key = false;
    let mut placement = Placement::Unchanged;
    let mut charset: Option<String> = None;
    let mut column_default: Option<String> = None;
    while i < tokens.len() {
        let token = &tokens[i];
        if token.is("unsigned") {
            unsigned = true;
        } else if token.is("not") && tokens.get(i + 1).is_some_and(|t| t.is("null")) {
            column.is_nullable = false;
            i += 1;
        } else if token.is("primary") {
            primary_key = true;
            column.is_nullable = false;
            i += usize::from(tokens.get(i + 1).is_some_and(|t| t.is("key")));
        } else if token.is("charset")
            || (token.is("character") && tokens.get(i + 1).is_some_and(|t| t.is("set")))
        {
            i += if token.is("charset") { 1 } else { 2 };
            charset = tokens
                .get(i)
                .and_then(Token::name)
                .map(str::to_ascii_lowercase);
        } else if token.is("collate") {
            let collation = tokens.get(i + 1).and_then(Token::name);
            if charset.is_none() {
                charset = collation.and_then(charset_of_collation);
            }
            i += 1;
        } else if token.is("default") {
            column_default = tokens.get(i + 1).map(|t| default_text(t, flavour));
            if column_default
                .as_deref()
                .is_some_and(|d| d.eq_ignore_ascii_case("null"))
            {
                column_default = None;
            }
            i += 1;
        } else if token.is("first") {
            placement = Placement::First;
        } else if token.is("after") {
            placement = Placement::After(tokens.get(i + 1)?.name()?.to_owned());
            i += 1;
        } else if *token == Token::Punct('(') {
            // A parenthesised expression (DEFAULT (…), AS (…), CHECK (…)): skip it whole.
            i = matching_paren(tokens, i)?;
        }
        i += 1;
    }
    // Aliases, as the catalog reports them.
    let mut column_type_base = data_type.clone();
    match data_type.as_str() {
        "integer" => data_type = "int".into(),
        "bool" | "boolean" => {
            data_type = "tinyint".into();
            arg_sql = "(1)".into();
        }
        "dec" | "fixed" | "numeric" => data_type = "decimal".into(),
        "real" => data_type = "double".into(),
        "character" => data_type = "char".into(),
        "json" if flavour == Flavour::MariaDb => {
            data_type = "longtext".into();
            charset.get_or_insert_with(|| "utf8mb4".into());
        }
        _ => {}
    }
    if column_type_base != data_type {
        column_type_base = data_type.clone();
    }
    match data_type.as_str() {
        "decimal" => {
            column.numeric_precision = Some(number(0).unwrap_or(10));
            column.numeric_scale = Some(number(1).unwrap_or(0));
            arg_sql = format!(
                "({},{})",
                column.numeric_precision.unwrap_or(10),
                column.numeric_scale.unwrap_or(0)
            );
        }
        "bit" => column.numeric_precision = Some(number(0).unwrap_or(1)),
        "char" | "binary" => column.character_maximum_length = Some(number(0).unwrap_or(1)),
        "varchar" | "varbinary" => column.character_maximum_length = Some(number(0)?),
        "time" | "datetime" | "timestamp" => {
            column.datetime_precision = Some(number(0).unwrap_or(0))
        }
        "float" if number(0).is_some_and(|p| p > 24) && args.len() == 1 => {
            data_type = "double".into();
            column_type_base = "double".into();
            arg_sql.clear();
        }
        _ => {}
    }
    let textual = matches!(
        data_type.as_str(),
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "enum" | "set"
    );
    if textual {
        column.character_set_name = charset.or_else(|| table_charset.map(str::to_owned));
    }
    let mut column_type = format!("{column_type_base}{arg_sql}");
    if unsigned {
        column_type.push_str(" unsigned");
    }
    column.data_type = data_type;
    column.column_type = column_type;
    column.column_default = column_default;
    // Refuse types the catalog mapping does not know, so the caller falls back to the catalog.
    crate::types::ColumnType::from_information_schema(&column).ok()?;
    Some(ColumnDef {
        column,
        primary_key,
        placement,
    })
}

/// The index of the `)` closing the `(` at `open`.
pub fn matching_paren(tokens: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (index, token) in tokens.iter().enumerate().skip(open) {
        match token {
            Token::Punct('(') => depth += 1,
            Token::Punct(')') => {
                depth -= 1;
                if depth == 0 {
                    return Some(index);
                }
            }
            _ => {}
        }
    }
    None
}

/// A default value as the catalog writes it: MariaDB quotes string defaults, MySQL does not.
fn default_text(token: &Token, flavour: Flavour) -> String {
    match (token, flavour) {
        (Token::Str(text), Flavour::MariaDb) => format!("'{}'", text.replace('\'', "''")),
        (Token::Str(text), Flavour::MySql) => text.clone(),
        (other, _) => other.sql(),
    }
}

/// The charset a collation belongs to (`latin1_swedish_ci` → `latin1`).
pub fn charset_of_collation(collation: &str) -> Option<String> {
    let lower = collation.to_ascii_lowercase();
    let charset = lower.split('_').next()?;
    (!charset.is_empty()).then(|| charset.to_owned())
}

#[cfg(test)]
mod tests {
    use super::super::tokens::tokenize;
    use super::*;

    fn parse(sql: &str) -> ColumnDef {
        parse_column(&tokenize(sql).unwrap(), Some("latin1"), Flavour::MariaDb)
            .unwrap_or_else(|| panic!("{sql} should parse"))
    }

    #[test]
    fn definitions_become_catalog_rows() {
        let c = parse("`id` INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY");
        assert_eq!(
            (c.column.data_type.as_str(), c.column.column_type.as_str()),
            ("int", "int unsigned")
        );
        assert!(c.primary_key && !c.column.is_nullable);

        let c = parse("name varchar(40) CHARACTER SET utf8mb4 DEFAULT 'x' AFTER id");
        assert_eq!(c.column.character_maximum_length, Some(40));
        assert_eq!(c.column.character_set_name.as_deref(), Some("utf8mb4"));
        assert_eq!(c.column.column_default.as_deref(), Some("'x'"));
        assert!(c.column.is_nullable);
        assert_eq!(c.placement, Placement::After("id".into()));

        let c = parse("note TEXT FIRST");
        assert_eq!(c.column.character_set_name.as_deref(), Some("latin1"));
        assert_eq!(c.placement, Placement::First);

        let c = parse("price NUMERIC(12, 3) DEFAULT NULL");
        assert_eq!(c.column.data_type, "decimal");
        assert_eq!(
            (c.column.numeric_precision, c.column.numeric_scale),
            (Some(12), Some(3))
        );
        assert_eq!(c.column.column_default, None);

        let c = parse(
            "at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)",
        );
        assert_eq!(c.column.datetime_precision, Some(3));
        assert!(!c.column.is_nullable);

        let c = parse("mood ENUM('a','b''c') COLLATE utf8mb4_bin");
        assert_eq!(c.column.column_type, "enum('a','b''c')");
        assert_eq!(c.column.character_set_name.as_deref(), Some("utf8mb4"));

        let c = parse("doc JSON");
        assert_eq!(c.column.data_type, "longtext");
        let c = parse("flag BOOLEAN");
        assert_eq!(c.column.column_type, "tinyint(1)");

        assert!(parse_column(&tokenize("v VECTOR(3)").unwrap(), None, Flavour::MariaDb).is_none());
    }
}
