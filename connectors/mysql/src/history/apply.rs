//! Applying one DDL statement to the [`SchemaModel`]: CREATE TABLE (column definitions,
//! `LIKE`), ALTER TABLE (ADD / DROP / MODIFY / CHANGE / RENAME / ALTER COLUMN, ADD / DROP
//! PRIMARY KEY, RENAME TO, CONVERT TO CHARACTER SET, table charset), DROP TABLE, RENAME
//! TABLE, DROP DATABASE. Statements that change no column (indexes, views, routines,
//! TRUNCATE, CREATE DATABASE) leave the model alone. Anything else is refused with the
//! reason, and the caller re-reads the tables it touched from the catalog.

use crate::flavour::Flavour;

use super::column_def::{ColumnDef, Placement, charset_of_collation, matching_paren, parse_column};
use super::model::{SchemaModel, TableId, TableSchema};
use super::tokens::{Token, tokenize};

/// Why a statement could not be applied.
pub type Refusal = String;

/// Applies `sql` (run with `default_db` as the current database) to `model`. On a refusal
/// the model may be partly changed; the caller re-reads the touched tables.
pub fn apply_ddl(
    model: &mut SchemaModel,
    sql: &str,
    default_db: &str,
    flavour: Flavour,
) -> Result<(), Refusal> {
    let mut tokens = tokenize(sql).ok_or("an unclosed quote or comment")?;
    while tokens.last() == Some(&Token::Punct(';')) {
        tokens.pop();
    }
    let mut at = Cursor {
        tokens: &tokens,
        i: 0,
        default_db,
    };
    let verb = at.word().ok_or("no statement")?;
    match verb.as_str() {
        "CREATE" => {
            at.skip_words(&["OR", "REPLACE"]);
            if at.peek_is("TEMPORARY") {
                return Ok(()); // Temporary tables are not in the binlog's row events' schema.
            }
            match at.word().as_deref() {
                Some("TABLE") => create_table(model, &mut at, flavour),
                Some(
                    "DATABASE" | "SCHEMA" | "INDEX" | "UNIQUE" | "FULLTEXT" | "SPATIAL" | "VIEW"
                    | "TRIGGER" | "PROCEDURE" | "FUNCTION" | "EVENT" | "ALGORITHM" | "DEFINER"
                    | "SQL" | "SEQUENCE",
                ) => Ok(()),
                other => Err(format!(
                    "CREATE {} is not understood",
                    other.unwrap_or_default()
                )),
            }
        }
        "ALTER" => {
            at.skip_words(&["ONLINE", "IGNORE"]);
            match at.word().as_deref() {
                Some("TABLE") => alter_table(model, &mut at, flavour),
                Some(
                    "DATABASE" | "SCHEMA" | "VIEW" | "EVENT" | "FUNCTION" | "PROCEDURE"
                    | "ALGORITHM" | "DEFINER" | "SQL" | "SEQUENCE",
                ) => Ok(()),
                other => Err(format!(
                    "ALTER {} is not understood",
                    other.unwrap_or_default()
                )),
            }
        }
        "DROP" => {
            at.skip_words(&["TEMPORARY"]);
            match at.word().as_deref() {
                Some("TABLE" | "TABLES") => {
                    at.skip_words(&["IF", "EXISTS"]);
                    loop {
                        let id = at.table_name().ok_or("no table name")?;
                        model.tables.remove(&id);
                        if !at.eat_punct(',') {
                            return Ok(());
                        }
                    }
                }
                Some("DATABASE" | "SCHEMA") => {
                    at.skip_words(&["IF", "EXISTS"]);
                    let db = at.name().ok_or("no database name")?;
                    model.tables.retain(|(table_db, _), _| *table_db != db);
                    Ok(())
                }
                Some(
                    "INDEX" | "VIEW" | "TRIGGER" | "PROCEDURE" | "FUNCTION" | "EVENT" | "SEQUENCE",
                ) => Ok(()),
                other => Err(format!(
                    "DROP {} is not understood",
                    other.unwrap_or_default()
                )),
            }
        }
        "RENAME" => {
            if at.word().as_deref() != Some("TABLE") && !at.previous_is("TABLES") {
                return Err("RENAME of something other than tables".into());
            }
            loop {
                let from = at.table_name().ok_or("no table name")?;
                if at.word().as_deref() != Some("TO") {
                    return Err("RENAME TABLE without TO".into());
                }
                let to = at.table_name().ok_or("no new table name")?;
                let schema = model
                    .tables
                    .remove(&from)
                    .ok_or_else(|| format!("{}.{} is not in the model", from.0, from.1))?;
                model.tables.insert(to, schema);
                if !at.eat_punct(',') {
                    return Ok(());
                }
            }
        }
        "TRUNCATE" => Ok(()),
        other => Err(format!("{other} is not understood")),
    }
}

/// A read position over the statement's tokens.
struct Cursor<'a> {
    tokens: &'a [Token],
    i: usize,
    default_db: &'a str,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.i)
    }

    fn peek_is(&self, keyword: &str) -> bool {
        self.peek().is_some_and(|t| t.is(keyword))
    }

    fn previous_is(&self, keyword: &str) -> bool {
        self.i > 0 && self.tokens[self.i - 1].is(keyword)
    }

    /// The next token as an uppercase keyword (consumed), if it is an unquoted word.
    fn word(&mut self) -> Option<String> {
        let word = match self.peek()? {
            Token::Word(w) => w.to_ascii_uppercase(),
            _ => return None,
        };
        self.i += 1;
        Some(word)
    }

    fn skip_words(&mut self, words: &[&str]) {
        while words.iter().any(|w| self.peek_is(w)) {
            self.i += 1;
        }
    }

    fn eat_punct(&mut self, c: char) -> bool {
        let found = self.peek() == Some(&Token::Punct(c));
        self.i += usize::from(found);
        found
    }

    fn name(&mut self) -> Option<String> {
        let name = self.peek()?.name()?.to_owned();
        self.i += 1;
        Some(name)
    }

    /// `table` or `db.table`.
    fn table_name(&mut self) -> Option<TableId> {
        let first = self.name()?;
        if self.eat_punct('.') {
            let table = self.name()?;
            return Some((first, table));
        }
        Some((self.default_db.to_owned(), first))
    }

    fn rest(&self) -> &[Token] {
        &self.tokens[self.i.min(self.tokens.len())..]
    }
}

/// Splits `tokens` at commas outside parentheses.
fn split_top_level(tokens: &[Token]) -> Vec<&[Token]> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (index, token) in tokens.iter().enumerate() {
        match token {
            Token::Punct('(') => depth += 1,
            Token::Punct(')') => depth -= 1,
            Token::Punct(',') if depth == 0 => {
                parts.push(&tokens[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    if start < tokens.len() {
        parts.push(&tokens[start..]);
    }
    parts
}

/// The column names of `(a, b(10), c DESC)` starting at `open`.
fn key_columns(tokens: &[Token], open: usize) -> Option<Vec<String>> {
    if tokens.get(open) != Some(&Token::Punct('(')) {
        return None;
    }
    let close = matching_paren(tokens, open)?;
    Some(
        split_top_level(&tokens[open + 1..close])
            .iter()
            .filter_map(|part| part.first()?.name().map(str::to_owned))
            .collect(),
    )
}

/// The charset a table-option list names (`DEFAULT CHARSET=x`, `COLLATE=y`), if any.
fn charset_option(tokens: &[Token]) -> Option<String> {
    let value_after = |index: usize| {
        tokens[index..]
            .iter()
            .find(|t| **t != Token::Punct('='))
            .and_then(Token::name)
    };
    let mut collation = None;
    for (index, token) in tokens.iter().enumerate() {
        if token.is("charset") {
            return value_after(index + 1).map(str::to_ascii_lowercase);
        }
        if token.is("character") && tokens.get(index + 1).is_some_and(|t| t.is("set")) {
            return value_after(index + 2).map(str::to_ascii_lowercase);
        }
        if token.is("collate") && collation.is_none() {
            collation = value_after(index + 1).and_then(charset_of_collation);
        }
    }
    collation
}

/// Whether a definition item is an index or constraint rather than a column.
fn is_index_item(first: &Token) -> bool {
    [
        "KEY", "INDEX", "UNIQUE", "FULLTEXT", "SPATIAL", "FOREIGN", "CHECK", "PERIOD", "SYSTEM",
    ]
    .iter()
    .any(|k| first.is(k))
}

/// The primary key an item such as `PRIMARY KEY (a, b)` or `CONSTRAINT pk PRIMARY KEY (a)`
/// declares; `None` for other items.
fn primary_key_item(item: &[Token]) -> Option<Option<Vec<String>>> {
    let mut index = 0;
    if item.first()?.is("constraint") {
        index = if item.get(1).is_some_and(|t| t.is("primary")) {
            1
        } else {
            2
        };
    }
    if !(item.get(index)?.is("primary") && item.get(index + 1)?.is("key")) {
        return None;
    }
    let open = item.iter().position(|t| *t == Token::Punct('('));
    Some(open.and_then(|open| key_columns(item, open)))
}

fn create_table(model: &mut SchemaModel, at: &mut Cursor, flavour: Flavour) -> Result<(), Refusal> {
    let if_not_exists = at.peek_is("IF");
    at.skip_words(&["IF", "NOT", "EXISTS"]);
    let id = at.table_name().ok_or("no table name")?;
    if if_not_exists && model.tables.contains_key(&id) {
        return Ok(());
    }
    let rest = at.rest();
    // CREATE TABLE t LIKE s  /  CREATE TABLE t (LIKE s)
    let like = match rest {
        [like, ..] if like.is("like") => Some(1),
        [Token::Punct('('), like, ..] if like.is("like") => Some(2),
        _ => None,
    };
    if let Some(skip) = like {
        at.i += skip;
        let source = at.table_name().ok_or("LIKE without a table")?;
        let schema = model
            .tables
            .get(&source)
            .cloned()
            .ok_or_else(|| format!("{}.{} is not in the model", source.0, source.1))?;
        model.tables.insert(id, schema);
        return Ok(());
    }
    if rest.first() != Some(&Token::Punct('(')) {
        return Err("CREATE TABLE without a column list".into());
    }
    let close = matching_paren(rest, 0).ok_or("unbalanced parentheses")?;
    let options = &rest[close + 1..];
    if options.iter().any(|t| t.is("select")) {
        return Err("CREATE TABLE … SELECT".into());
    }
    let mut schema = TableSchema {
        charset: charset_option(options),
        ..TableSchema::default()
    };
    for item in split_top_level(&rest[1..close]) {
        let first = item.first().ok_or("an empty definition")?;
        if let Some(key) = primary_key_item(item) {
            schema.primary_key = key.ok_or("PRIMARY KEY without columns")?;
            continue;
        }
        if is_index_item(first) || first.is("constraint") {
            continue;
        }
        let def = column(item, &schema, flavour)?;
        if def.primary_key {
            schema.primary_key = vec![def.column.column_name.clone()];
        }
        schema.columns.push(def.column);
    }
    mark_key_not_null(&mut schema);
    schema.renumber();
    model.tables.insert(id, schema);
    Ok(())
}

fn column(item: &[Token], schema: &TableSchema, flavour: Flavour) -> Result<ColumnDef, Refusal> {
    parse_column(item, schema.charset.as_deref(), flavour).ok_or_else(|| {
        let text: Vec<String> = item.iter().map(Token::sql).collect();
        format!(
            "the column definition `{}` is not understood",
            text.join(" ")
        )
    })
}

/// Primary-key columns are NOT NULL, whatever the definition said.
fn mark_key_not_null(schema: &mut TableSchema) {
    for column in &mut schema.columns {
        if schema
            .primary_key
            .iter()
            .any(|k| k.eq_ignore_ascii_case(&column.column_name))
        {
            column.is_nullable = false;
        }
    }
}

/// ALTER TABLE options that change no column.
const IGNORED_ALTER_WORDS: &[&str] = &[
    "ENGINE",
    "AUTO_INCREMENT",
    "COMMENT",
    "ROW_FORMAT",
    "KEY_BLOCK_SIZE",
    "ALGORITHM",
    "LOCK",
    "FORCE",
    "ORDER",
    "AVG_ROW_LENGTH",
    "CHECKSUM",
    "COMPRESSION",
    "CONNECTION",
    "DATA",
    "INDEX",
    "DELAY_KEY_WRITE",
    "ENCRYPTION",
    "INSERT_METHOD",
    "MAX_ROWS",
    "MIN_ROWS",
    "PACK_KEYS",
    "PASSWORD",
    "STATS_AUTO_RECALC",
    "STATS_PERSISTENT",
    "STATS_SAMPLE_PAGES",
    "TABLESPACE",
    "UNION",
    "ENABLE",
    "DISABLE",
    "DISCARD",
    "IMPORT",
    "ANALYZE",
    "CHECK",
    "OPTIMIZE",
    "REBUILD",
    "REPAIR",
    "COALESCE",
    "REORGANIZE",
    "EXCHANGE",
    "TRUNCATE",
    "REMOVE",
    "UPGRADE",
    "PARTITION",
    "PARTITIONS",
    "WAIT",
    "NOWAIT",
    "PAGE_CHECKSUM",
    "TRANSACTIONAL",
    "IETF_QUOTES",
    "SEQUENCE",
    "WITH",
    "WITHOUT",
];

fn alter_table(model: &mut SchemaModel, at: &mut Cursor, flavour: Flavour) -> Result<(), Refusal> {
    at.skip_words(&["IF", "EXISTS"]);
    let old_id = at.table_name().ok_or("no table name")?;
    // Changed on a copy: a refused specification leaves the model as it was.
    let mut schema = model
        .tables
        .get(&old_id)
        .cloned()
        .ok_or_else(|| format!("{}.{} is not in the model", old_id.0, old_id.1))?;
    let mut id = old_id.clone();
    for spec in split_top_level(at.rest()) {
        if let Some(new_id) = alter_spec(&mut schema, spec, at.default_db, flavour)? {
            id = new_id;
        }
    }
    mark_key_not_null(&mut schema);
    schema.renumber();
    model.tables.remove(&old_id);
    model.tables.insert(id, schema);
    Ok(())
}

/// Applies one ALTER TABLE specification; returns the new name after `RENAME TO`.
fn alter_spec(
    schema: &mut TableSchema,
    spec: &[Token],
    default_db: &str,
    flavour: Flavour,
) -> Result<Option<TableId>, Refusal> {
    let mut at = Cursor {
        tokens: spec,
        i: 0,
        default_db,
    };
    let Some(verb) = at.word() else {
        return Err("an ALTER specification is not understood".into());
    };
    match verb.as_str() {
        "ADD" => {
            if primary_key_item(at.rest()).is_some() {
                let key = primary_key_item(at.rest())
                    .flatten()
                    .ok_or("PRIMARY KEY without columns")?;
                schema.primary_key = key;
                return Ok(None);
            }
            if at
                .peek()
                .is_some_and(|t| is_index_item(t) || t.is("constraint"))
            {
                return Ok(None);
            }
            at.skip_words(&["COLUMN"]);
            let if_not_exists = at.peek_is("IF");
            at.skip_words(&["IF", "NOT", "EXISTS"]);
            let items: Vec<&[Token]> = if at.peek() == Some(&Token::Punct('(')) {
                let close = matching_paren(at.rest(), 0).ok_or("unbalanced parentheses")?;
                split_top_level(&at.rest()[1..close])
            } else {
                vec![at.rest()]
            };
            for item in items {
                let def = column(item, schema, flavour)?;
                if schema.column_index(&def.column.column_name).is_some() {
                    if if_not_exists {
                        continue;
                    }
                    return Err(format!("column {} exists already", def.column.column_name));
                }
                place(schema, def, None)?;
            }
            Ok(None)
        }
        "DROP" => {
            if at.peek_is("PRIMARY") {
                schema.primary_key.clear();
                return Ok(None);
            }
            if at.peek().is_some_and(|t| {
                [
                    "INDEX",
                    "KEY",
                    "FOREIGN",
                    "CONSTRAINT",
                    "CHECK",
                    "PARTITION",
                    "SYSTEM",
                    "PERIOD",
                ]
                .iter()
                .any(|k| t.is(k))
            }) {
                return Ok(None);
            }
            at.skip_words(&["COLUMN"]);
            let if_exists = at.peek_is("IF");
            at.skip_words(&["IF", "EXISTS"]);
            let name = at.name().ok_or("DROP without a column")?;
            match schema.column_index(&name) {
                Some(index) => {
                    schema.columns.remove(index);
                    schema
                        .primary_key
                        .retain(|k| !k.eq_ignore_ascii_case(&name));
                }
                None if if_exists => {}
                None => return Err(format!("column {name} is not in the model")),
            }
            Ok(None)
        }
        "MODIFY" | "CHANGE" => {
            at.skip_words(&["COLUMN"]);
            let if_exists = at.peek_is("IF");
            at.skip_words(&["IF", "EXISTS"]);
            let old = if verb == "CHANGE" {
                at.name().ok_or("CHANGE without a column")?
            } else {
                at.peek()
                    .and_then(Token::name)
                    .ok_or("MODIFY without a column")?
                    .to_owned()
            };
            let Some(index) = schema.column_index(&old) else {
                return if if_exists {
                    Ok(None)
                } else {
                    Err(format!("column {old} is not in the model"))
                };
            };
            let def = column(at.rest(), schema, flavour)?;
            let new_name = def.column.column_name.clone();
            for key in &mut schema.primary_key {
                if key.eq_ignore_ascii_case(&old) {
                    *key = new_name.clone();
                }
            }
            schema.columns.remove(index);
            place(schema, def, Some(index))?;
            Ok(None)
        }
        "RENAME" => {
            if at.peek_is("INDEX") || at.peek_is("KEY") {
                return Ok(None);
            }
            if at.peek_is("COLUMN") {
                at.i += 1;
                let old = at.name().ok_or("RENAME COLUMN without a column")?;
                at.skip_words(&["TO"]);
                let new = at.name().ok_or("RENAME COLUMN without a new name")?;
                let index = schema
                    .column_index(&old)
                    .ok_or_else(|| format!("column {old} is not in the model"))?;
                schema.columns[index].column_name = new.clone();
                for key in &mut schema.primary_key {
                    if key.eq_ignore_ascii_case(&old) {
                        *key = new.clone();
                    }
                }
                return Ok(None);
            }
            at.skip_words(&["TO", "AS"]);
            Ok(Some(at.table_name().ok_or("RENAME without a new name")?))
        }
        "ALTER" => {
            at.skip_words(&["COLUMN"]);
            if at.peek_is("INDEX") || at.peek_is("CHECK") || at.peek_is("CONSTRAINT") {
                return Ok(None);
            }
            let name = at.name().ok_or("ALTER without a column")?;
            let index = schema
                .column_index(&name)
                .ok_or_else(|| format!("column {name} is not in the model"))?;
            let rest = at.rest();
            if rest.first().is_some_and(|t| t.is("drop")) {
                schema.columns[index].column_default = None;
            } else if rest.len() >= 3 && rest[0].is("set") && rest[1].is("default") {
                let text = match (&rest[2], flavour) {
                    (Token::Str(s), Flavour::MariaDb) => format!("'{}'", s.replace('\'', "''")),
                    (Token::Str(s), Flavour::MySql) => s.clone(),
                    (other, _) => other.sql(),
                };
                schema.columns[index].column_default = Some(text);
            }
            Ok(None)
        }
        "CONVERT" => {
            let charset = charset_option(spec).ok_or("CONVERT TO without a charset")?;
            for column in &mut schema.columns {
                if column.character_set_name.is_some() {
                    column.character_set_name = Some(charset.clone());
                }
            }
            schema.charset = Some(charset);
            Ok(None)
        }
        "DEFAULT" | "CHARACTER" | "CHARSET" | "COLLATE" => {
            if let Some(charset) = charset_option(spec) {
                schema.charset = Some(charset);
            }
            Ok(None)
        }
        word if IGNORED_ALTER_WORDS.contains(&word) => Ok(None),
        other => Err(format!("ALTER TABLE … {other} is not understood")),
    }
}

/// Inserts a column where its placement says (`was`: its old index, for MODIFY/CHANGE).
fn place(schema: &mut TableSchema, def: ColumnDef, was: Option<usize>) -> Result<(), Refusal> {
    let index = match &def.placement {
        Placement::First => 0,
        Placement::After(name) => {
            schema
                .column_index(name)
                .ok_or_else(|| format!("AFTER names {name}, which is not in the model"))?
                + 1
        }
        Placement::Unchanged => was.unwrap_or(schema.columns.len()),
    };
    if def.primary_key {
        schema.primary_key = vec![def.column.column_name.clone()];
    }
    schema
        .columns
        .insert(index.min(schema.columns.len()), def.column);
    Ok(())
}
