//! Tests of [`super::apply`]: each supported statement's effect on the model.

use super::apply::apply_ddl;
use super::model::{SchemaModel, TableSchema};
use crate::flavour::Flavour;

fn run(model: &mut SchemaModel, sql: &str) {
    apply_ddl(model, sql, "shop", Flavour::MariaDb).unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn table<'a>(model: &'a SchemaModel, db: &str, name: &str) -> &'a TableSchema {
    model
        .tables
        .get(&(db.to_owned(), name.to_owned()))
        .unwrap_or_else(|| panic!("{db}.{name} missing from {model:?}"))
}

fn names(schema: &TableSchema) -> Vec<String> {
    schema
        .columns
        .iter()
        .map(|c| format!("{}:{}:{}", c.ordinal_position, c.column_name, c.column_type))
        .collect()
}

fn created() -> SchemaModel {
    let mut model = SchemaModel::default();
    run(
        &mut model,
        "CREATE TABLE IF NOT EXISTS `items` (\n  id INT NOT NULL AUTO_INCREMENT,\n  name VARCHAR(20) DEFAULT 'n, o',\n  qty SMALLINT UNSIGNED,\n  PRIMARY KEY (`id`),\n  KEY by_name (name(5)),\n  CONSTRAINT fk FOREIGN KEY (qty) REFERENCES other (id)\n) ENGINE=InnoDB DEFAULT CHARSET=latin1;",
    );
    model
}

#[test]
fn create_table_reads_columns_key_and_charset() {
    let model = created();
    let items = table(&model, "shop", "items");
    assert_eq!(
        names(items),
        ["1:id:int", "2:name:varchar(20)", "3:qty:smallint unsigned"]
    );
    assert_eq!(items.primary_key, ["id"]);
    assert_eq!(items.charset.as_deref(), Some("latin1"));
    assert_eq!(
        items.columns[1].character_set_name.as_deref(),
        Some("latin1")
    );
    assert_eq!(items.columns[1].column_default.as_deref(), Some("'n, o'"));
    assert!(!items.columns[0].is_nullable);
}

#[test]
fn alter_table_column_changes_in_order() {
    let mut model = created();
    run(
        &mut model,
        "ALTER TABLE items ADD COLUMN note TEXT AFTER id, ADD flag BOOL FIRST",
    );
    assert_eq!(
        names(table(&model, "shop", "items")),
        [
            "1:flag:tinyint(1)",
            "2:id:int",
            "3:note:text",
            "4:name:varchar(20)",
            "5:qty:smallint unsigned"
        ]
    );
    run(
        &mut model,
        "alter table shop.items drop column flag, drop note",
    );
    run(
        &mut model,
        "ALTER TABLE items MODIFY name VARCHAR(80) NOT NULL",
    );
    run(
        &mut model,
        "ALTER TABLE items CHANGE COLUMN qty quantity INT",
    );
    run(&mut model, "ALTER TABLE items RENAME COLUMN name TO title");
    run(
        &mut model,
        "ALTER TABLE items ALTER COLUMN title SET DEFAULT 'x', ALGORITHM=INPLACE, LOCK=NONE",
    );
    let items = table(&model, "shop", "items");
    assert_eq!(
        names(items),
        ["1:id:int", "2:title:varchar(80)", "3:quantity:int"]
    );
    assert!(!items.columns[1].is_nullable);
    assert_eq!(items.columns[1].column_default.as_deref(), Some("'x'"));
    run(&mut model, "ALTER TABLE items ADD COLUMN (a INT, b DATE)");
    assert_eq!(table(&model, "shop", "items").columns.len(), 5);
}

#[test]
fn primary_keys_follow_add_drop_change_and_drop_column() {
    let mut model = created();
    run(&mut model, "ALTER TABLE items DROP PRIMARY KEY");
    assert!(table(&model, "shop", "items").primary_key.is_empty());
    run(
        &mut model,
        "ALTER TABLE items ADD CONSTRAINT pk PRIMARY KEY (id, qty)",
    );
    assert_eq!(table(&model, "shop", "items").primary_key, ["id", "qty"]);
    assert!(!table(&model, "shop", "items").columns[2].is_nullable);
    run(&mut model, "ALTER TABLE items CHANGE qty q INT NOT NULL");
    assert_eq!(table(&model, "shop", "items").primary_key, ["id", "q"]);
    run(&mut model, "ALTER TABLE items DROP COLUMN q");
    assert_eq!(table(&model, "shop", "items").primary_key, ["id"]);
    run(
        &mut model,
        "ALTER TABLE items ADD INDEX i (name), DROP INDEX by_name",
    );
    assert_eq!(table(&model, "shop", "items").columns.len(), 2);
}

#[test]
fn tables_are_renamed_copied_and_dropped() {
    let mut model = created();
    run(&mut model, "RENAME TABLE items TO archive.old_items");
    assert!(!model.tables.contains_key(&("shop".into(), "items".into())));
    assert_eq!(table(&model, "archive", "old_items").primary_key, ["id"]);
    run(
        &mut model,
        "ALTER TABLE archive.old_items RENAME TO shop.items",
    );
    run(&mut model, "CREATE TABLE copy LIKE items");
    assert_eq!(
        table(&model, "shop", "copy"),
        table(&model, "shop", "items")
    );
    run(&mut model, "DROP TABLE IF EXISTS copy, `shop`.`nothing`");
    assert_eq!(model.tables.len(), 1);
    run(&mut model, "CREATE TABLE other.t (id INT PRIMARY KEY)");
    assert_eq!(table(&model, "other", "t").primary_key, ["id"]);
    run(&mut model, "DROP DATABASE shop");
    assert_eq!(model.tables.len(), 1);
    for harmless in [
        "CREATE INDEX i ON t (id)",
        "CREATE DATABASE x",
        "TRUNCATE TABLE other.t",
        "CREATE OR REPLACE VIEW v AS SELECT 1",
        "ALTER TABLE other.t ENGINE=InnoDB, COMMENT 'x'",
    ] {
        run(&mut model, harmless);
    }
    assert_eq!(names(table(&model, "other", "t")), ["1:id:int"]);
}

#[test]
fn what_is_not_understood_is_refused_with_the_reason() {
    let mut model = created();
    for (sql, reason) in [
        ("ALTER TABLE missing ADD c INT", "not in the model"),
        ("ALTER TABLE items ADD c VECTOR(3)", "VECTOR"),
        ("ALTER TABLE items DROP COLUMN nope", "nope"),
        ("CREATE TABLE t2 AS SELECT * FROM items", "column list"),
        ("CREATE TABLE t3 (a INT) SELECT 1", "SELECT"),
        ("ALTER TABLE items FROBNICATE", "FROBNICATE"),
        ("ALTER TABLE `items", "unclosed"),
    ] {
        let error = apply_ddl(&mut model, sql, "shop", Flavour::MariaDb).unwrap_err();
        assert!(error.contains(reason), "{sql}: {error}");
    }
}
