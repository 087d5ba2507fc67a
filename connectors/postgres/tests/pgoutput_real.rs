//! The pgoutput decoder against a real PostgreSQL 15: every change a `pgoutput` slot emits for
//! inserts, updates (unchanged TOAST included), deletes under FULL and DEFAULT replica
//! identity, TRUNCATE and a logical decoding message decodes to the expected messages, in
//! order, with LSNs that only move forward.

use anyhow::{Context, Result, bail, ensure};
use sluice_postgres::Lsn;
use sluice_postgres::pgoutput::{
    ColumnValue, KeyMembership, Message, Oid, OldTuple, RelationCache, ReplicaIdentity,
    Transactionality, TupleData, decode,
};
use sluice_tests::PostgresServer;

const SCHEMA: &str = "
    CREATE TABLE t_full (
        id int PRIMARY KEY, name text, amount numeric(10,2), flag bool,
        at timestamptz, doc jsonb, blob bytea, missing text);
    ALTER TABLE t_full REPLICA IDENTITY FULL;
    CREATE TABLE t_default (id int PRIMARY KEY, big text, note text);
    ALTER TABLE t_default REPLICA IDENTITY DEFAULT;
    -- Out-of-line without compression, so the big value is TOASTed whatever its content.
    ALTER TABLE t_default ALTER COLUMN big SET STORAGE EXTERNAL;
    CREATE PUBLICATION p FOR TABLE t_full, t_default;
";

/// Every change of the test, each its own transaction (a multi-statement simple query would
/// run as one implicit transaction, so they are sent one by one).
const CHANGES: &[&str] = &[
    "INSERT INTO t_full VALUES
        (1, 'alice', 12.34, true, '2024-01-02 03:04:05+00', '{\"a\": 1}', '\\x00ff', NULL)",
    "INSERT INTO t_default VALUES (1, $big$BIG$big$, 'first')",
    "UPDATE t_default SET note = 'second' WHERE id = 1",
    "UPDATE t_full SET name = 'bob' WHERE id = 1",
    "DELETE FROM t_full WHERE id = 1",
    "DELETE FROM t_default WHERE id = 1",
    "BEGIN;
     INSERT INTO t_full (id, name) VALUES (2, 'carol');
     SELECT pg_logical_emit_message(true, 'prefix', 'content');
     COMMIT",
    "TRUNCATE t_full, t_default",
];

/// One row of `pg_logical_slot_peek_binary_changes`.
struct SlotRow {
    lsn: Lsn,
    data: Vec<u8>,
}

/// A large value of varied text, far above the 2 kB TOAST threshold.
fn big_value() -> String {
    (0..3000_u32)
        .map(|i| format!("{:x}", i.wrapping_mul(2_654_435_761)))
        .collect()
}

fn texts<'a>(tuple: &TupleData<'a>) -> Vec<Option<&'a str>> {
    tuple
        .columns
        .iter()
        .map(|value| match value {
            ColumnValue::Null => None,
            ColumnValue::Text(bytes) => Some(std::str::from_utf8(bytes).expect("UTF-8 text")),
            other => panic!("expected text or null, got {other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn decodes_every_message_a_real_pgoutput_slot_emits() -> Result<()> {
    let pg = PostgresServer::start().await?;
    let client = pg.client().await?;
    client
        .batch_execute(SCHEMA)
        .await
        .context("create schema")?;
    client
        .query(
            "SELECT pg_create_logical_replication_slot('s', 'pgoutput')",
            &[],
        )
        .await
        .context("create slot")?;
    let big = big_value();
    for change in CHANGES {
        client
            .batch_execute(&change.replace("BIG", &big))
            .await
            .with_context(|| format!("run {change}"))?;
    }
    let oid_of = async |table: &str| -> Result<Oid> {
        let row = client
            .query_one(&format!("SELECT '{table}'::regclass::oid"), &[])
            .await?;
        Ok(Oid(row.get::<_, u32>(0)))
    };
    let (full_oid, default_oid) = (oid_of("t_full").await?, oid_of("t_default").await?);
    let toasted: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_class c JOIN pg_class t ON t.oid = c.reltoastrelid \
             WHERE c.relname = 't_default'",
            &[],
        )
        .await?
        .get(0);
    ensure!(toasted == 1, "t_default has no TOAST table");

    // Text output of timestamptz follows the reading session's time zone.
    client.batch_execute("SET TimeZone = 'UTC'").await?;
    let rows: Vec<SlotRow> = client
        .query(
            "SELECT lsn::text, data FROM pg_logical_slot_peek_binary_changes('s', NULL, NULL, \
             'proto_version', '1', 'publication_names', 'p', 'messages', 'true')",
            &[],
        )
        .await
        .context("peek slot")?
        .iter()
        .map(|row| -> Result<SlotRow> {
            Ok(SlotRow {
                lsn: row.get::<_, String>(0).parse()?,
                data: row.get(1),
            })
        })
        .collect::<Result<_>>()?;
    let messages = rows
        .iter()
        .map(|row| decode(&row.data))
        .collect::<Result<Vec<_>, _>>()
        .context("decode slot rows")?;

    let kinds: Vec<&str> = messages.iter().map(kind).collect();
    #[rustfmt::skip]
    let expected = [
        "B", "R", "I", "C",
        "B", "R", "I", "C",
        "B", "U", "C",
        "B", "U", "C",
        "B", "D", "C",
        "B", "D", "C",
        "B", "I", "M", "C",
        // TRUNCATE gives both tables new relfilenodes, which invalidates pgoutput's
        // "already described" state, so both Relation messages come again.
        "B", "R", "R", "T", "C",
    ];
    assert_eq!(kinds, expected);

    let mut cache = RelationCache::new();
    for message in &messages {
        cache.observe(message);
    }
    check_relations(&cache, full_oid, default_oid)?;
    check_changes(&messages, full_oid, default_oid, &big)?;
    check_transactions_and_lsns(&rows, &messages)?;

    let current: String = client
        .query_one("SELECT pg_current_wal_lsn()::text", &[])
        .await?
        .get(0);
    let Some(Message::Commit(last)) = messages.last() else {
        bail!("the last message is not a Commit");
    };
    ensure!(
        current.parse::<Lsn>()? >= last.end_lsn,
        "WAL is behind the last commit"
    );
    Ok(())
}

fn kind(message: &Message<'_>) -> &'static str {
    match message {
        Message::Begin(_) => "B",
        Message::Commit(_) => "C",
        Message::Origin(_) => "O",
        Message::Relation(_) => "R",
        Message::Type(_) => "Y",
        Message::Insert(_) => "I",
        Message::Update(_) => "U",
        Message::Delete(_) => "D",
        Message::Truncate(_) => "T",
        Message::Message(_) => "M",
    }
}

fn check_relations(cache: &RelationCache, full_oid: Oid, default_oid: Oid) -> Result<()> {
    let full = cache.require(full_oid)?;
    assert_eq!(full.qualified_name(), "public.t_full");
    assert_eq!(full.replica_identity, ReplicaIdentity::Full);
    let described: Vec<(&str, u32, i32)> = full
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.type_oid.0, c.type_modifier))
        .collect();
    assert_eq!(
        described,
        [
            ("id", 23, -1),
            ("name", 25, -1),
            ("amount", 1700, ((10 << 16) | 2) + 4),
            ("flag", 16, -1),
            ("at", 1184, -1),
            ("doc", 3802, -1),
            ("blob", 17, -1),
            ("missing", 25, -1),
        ]
    );
    // Under FULL every column identifies the row.
    assert!(full.columns.iter().all(|c| c.key == KeyMembership::Key));

    let default = cache.require(default_oid)?;
    assert_eq!(default.replica_identity, ReplicaIdentity::Default);
    let keys: Vec<&str> = default.key_columns().map(|c| c.name.as_str()).collect();
    assert_eq!(keys, ["id"]);
    Ok(())
}

fn check_changes(
    messages: &[Message<'_>],
    full_oid: Oid,
    default_oid: Oid,
    big: &str,
) -> Result<()> {
    let alice = [
        Some("1"),
        Some("alice"),
        Some("12.34"),
        Some("t"),
        Some("2024-01-02 03:04:05+00"),
        Some("{\"a\": 1}"),
        Some("\\x00ff"),
        None,
    ];
    let mut bob = alice;
    bob[1] = Some("bob");

    let Message::Insert(insert) = &messages[2] else {
        bail!("message 2 is not an Insert")
    };
    assert_eq!(insert.relation, full_oid);
    assert_eq!(texts(&insert.new), alice);

    let Message::Insert(insert) = &messages[6] else {
        bail!("message 6 is not an Insert")
    };
    assert_eq!(insert.relation, default_oid);
    assert_eq!(texts(&insert.new), [Some("1"), Some(big), Some("first")]);

    // DEFAULT identity, key unchanged: no old tuple, and the TOASTed value is not resent.
    let Message::Update(update) = &messages[9] else {
        bail!("message 9 is not an Update")
    };
    assert_eq!(update.relation, default_oid);
    assert!(update.old.is_none());
    assert_eq!(
        update.new.columns,
        [
            ColumnValue::Text(b"1"),
            ColumnValue::UnchangedToast,
            ColumnValue::Text(b"second")
        ]
    );

    // FULL identity: the whole old row comes along.
    let Message::Update(update) = &messages[12] else {
        bail!("message 12 is not an Update")
    };
    assert_eq!(update.relation, full_oid);
    let Some(OldTuple::Full(old)) = &update.old else {
        bail!("no full old row: {update:?}")
    };
    assert_eq!(texts(old), alice);
    assert_eq!(texts(&update.new), bob);

    let Message::Delete(delete) = &messages[15] else {
        bail!("message 15 is not a Delete")
    };
    assert_eq!(delete.relation, full_oid);
    let OldTuple::Full(old) = &delete.old else {
        bail!("no full old row: {delete:?}")
    };
    assert_eq!(texts(old), bob);

    // DEFAULT identity: only the key, the other columns null.
    let Message::Delete(delete) = &messages[18] else {
        bail!("message 18 is not a Delete")
    };
    assert_eq!(delete.relation, default_oid);
    let OldTuple::Key(old) = &delete.old else {
        bail!("no key tuple: {delete:?}")
    };
    assert_eq!(texts(old), [Some("1"), None, None]);

    let Message::Message(logical) = &messages[22] else {
        bail!("message 22 is not a Message")
    };
    assert_eq!(logical.transactionality, Transactionality::Transactional);
    assert_eq!(
        (logical.prefix, logical.content),
        ("prefix", b"content".as_slice())
    );

    let Message::Truncate(truncate) = &messages[27] else {
        bail!("message 27 is not a Truncate")
    };
    let mut truncated = truncate.relations.clone();
    truncated.sort();
    let mut tables = vec![full_oid, default_oid];
    tables.sort();
    assert_eq!(truncated, tables);
    assert!(!truncate.options.cascade() && !truncate.options.restart_identity());
    Ok(())
}

/// Begin and Commit agree, commits move forward, and slot row LSNs never go back.
fn check_transactions_and_lsns(rows: &[SlotRow], messages: &[Message<'_>]) -> Result<()> {
    ensure!(
        rows.windows(2).all(|pair| pair[0].lsn <= pair[1].lsn),
        "slot row LSNs go backwards"
    );
    let mut open = None;
    let mut previous_end = Lsn::INVALID;
    for message in messages {
        match message {
            Message::Begin(begin) => {
                ensure!(open.is_none(), "Begin inside a transaction");
                open = Some(*begin);
            }
            Message::Commit(commit) => {
                let begin = open.take().context("Commit without Begin")?;
                assert_eq!(begin.final_lsn, commit.commit_lsn);
                assert_eq!(begin.commit_time, commit.commit_time);
                ensure!(
                    commit.end_lsn > commit.commit_lsn,
                    "end LSN not after commit"
                );
                ensure!(commit.commit_lsn >= previous_end, "commits out of order");
                previous_end = commit.end_lsn;
            }
            Message::Message(logical) => {
                let begin = open.context("transactional message outside a transaction")?;
                // The message's LSN is where its WAL record ends, so at most its commit's.
                ensure!(
                    logical.lsn <= begin.final_lsn,
                    "message at {} after its commit at {}",
                    logical.lsn,
                    begin.final_lsn
                );
            }
            _ => ensure!(open.is_some(), "change outside a transaction"),
        }
    }
    ensure!(open.is_none(), "unterminated transaction");
    Ok(())
}
