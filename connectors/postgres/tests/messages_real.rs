//! Logical decoding messages end to end on a real PostgreSQL: `pg_logical_emit_message` inside
//! a transaction (in the transaction's order, with its txId and transaction block) and outside
//! one (txId null, no transaction block) become Debezium's op `m` records on
//! `<prefix>.message`; excluded prefixes are dropped; a worker killed and restarted emits no
//! message twice. With `xmin.fetch.interval.ms` set, streamed events carry `source.xmin`.

mod common;

use std::time::Duration;

use common::{connector, create, payload, read_all, wait_records, wait_task_state};
use serde_json::Value;
use sluice_tests::{PostgresServer, SluiceProcess};

const WAIT: Duration = Duration::from_secs(60);
const MESSAGES: &str = "dbserver1.message";

fn prefixes(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| {
            payload(r)["message"]["prefix"]
                .as_str()
                .unwrap_or("?")
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn logical_messages_become_debezium_message_events() -> anyhow::Result<()> {
    let pg = PostgresServer::start().await?;
    let db = pg.client().await?;
    db.batch_execute("CREATE TABLE public.items (id int PRIMARY KEY, v int NOT NULL)")
        .await?;
    let mut worker = SluiceProcess::start().await?;
    create(
        &worker,
        &connector(
            "messages",
            &pg,
            &[
                ("provide.transaction.metadata", "true"),
                ("logical.decoding.message.prefix.exclude.list", "ignored.*"),
                ("xmin.fetch.interval.ms", "100"),
            ],
        ),
    )
    .await?;
    wait_task_state(&worker, "messages", "RUNNING", WAIT).await?;

    db.batch_execute(
        "BEGIN;
         INSERT INTO public.items VALUES (1, 0);
         SELECT pg_logical_emit_message(true, 'audit', 'inside');
         SELECT pg_logical_emit_message(true, 'ignored-too', 'dropped');
         INSERT INTO public.items VALUES (2, 0);
         COMMIT;",
    )
    .await?;
    db.batch_execute("SELECT pg_logical_emit_message(false, 'signal', '\\x00ff'::bytea)")
        .await?;
    db.batch_execute("SELECT pg_logical_emit_message(true, 'ignored', 'dropped')")
        .await?;

    let records = wait_records(&worker, MESSAGES, 2, WAIT).await?;
    assert_eq!(prefixes(&records), ["audit", "signal"]);
    let items = wait_records(&worker, "dbserver1.public.items", 2, WAIT).await?;

    // The transactional message: Debezium's schemas, the transaction's txId and its place
    // between the two inserts.
    let inside = &records[0];
    assert_eq!(
        inside["value"]["schema"]["name"],
        "io.debezium.connector.postgresql.MessageValue"
    );
    assert_eq!(
        inside["key"]["schema"]["name"],
        "io.debezium.connector.postgresql.MessageKey"
    );
    assert_eq!(inside["key"]["payload"]["prefix"], "audit");
    let value = payload(inside);
    assert_eq!(value["op"], "m");
    assert_eq!(
        value["message"]["content"], "aW5zaWRl",
        "base64 of 'inside'"
    );
    let source = &value["source"];
    let item_source = &payload(&items[0])["source"];
    assert_eq!(source["txId"], item_source["txId"]);
    assert!(source["txId"].as_i64().is_some(), "{source}");
    assert_eq!(
        (source["schema"].as_str(), source["table"].as_str()),
        (Some(""), Some(""))
    );
    let lsn = |record: &Value| payload(record)["source"]["lsn"].as_i64().unwrap_or(-1);
    assert!(lsn(&items[0]) < lsn(inside) && lsn(inside) < lsn(&items[1]));
    assert_eq!(value["transaction"]["total_order"], 2);
    assert_eq!(value["transaction"]["data_collection_order"], 1);
    assert_eq!(
        value["transaction"]["id"],
        payload(&items[0])["transaction"]["id"]
    );

    // The non-transactional one: no transaction, no txId.
    let signal = payload(&records[1]);
    assert_eq!(signal["message"]["content"], "AP8=", "base64 of 00 ff");
    assert!(signal["source"]["txId"].is_null(), "{signal}");
    assert!(signal["transaction"].is_null(), "{signal}");

    // The transaction's END counts the message under Debezium's collection name.
    let transactions = wait_records(&worker, "dbserver1.transaction", 2, WAIT).await?;
    let end = payload(&transactions[1]);
    assert_eq!(end["status"], "END");
    assert_eq!(end["event_count"], 3);
    let collections = end["data_collections"].to_string();
    assert!(
        collections.contains("LOGICAL_DECODING_MESSAGE") && collections.contains("public.items"),
        "{collections}"
    );

    // A crash and restart re-reads from the stored position without repeating a message.
    worker.kill9()?;
    db.batch_execute("SELECT pg_logical_emit_message(false, 'after', 'restart')")
        .await?;
    worker.restart().await?;
    wait_records(&worker, MESSAGES, 3, WAIT).await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    while tokio::time::Instant::now() < deadline {
        let all = read_all(&worker, MESSAGES).await?;
        assert_eq!(prefixes(&all), ["audit", "signal", "after"]);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(())
}
