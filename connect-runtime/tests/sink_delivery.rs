//! Sink tasks over a real broker and real HTTP: ordered delivery per partition, offsets
//! committed to the group `connect-<name>` after `flush`, a restarted worker resuming after
//! the committed offsets, pause and resume, `topics.regex` picking up a new topic, and the
//! KIP-875 offsets endpoint.

mod sink_support;
mod support;

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use sink_support::{
    Shared, create_sink, create_topic, offsets_of, produce, registry, string, task_state,
    wait_for_sink,
};
use support::TestWorker;

async fn start(shared: &Shared) -> TestWorker {
    TestWorker::start_with(Arc::new(tempfile::tempdir().unwrap()), registry(shared)).await
}

#[tokio::test]
async fn records_arrive_in_order_per_partition_and_flushed_offsets_are_committed() {
    let shared = Shared::default();
    let worker = start(&shared).await;
    create_topic(&worker, "orders", 3).await;
    for partition in 0..3 {
        let values: Vec<String> = (0..10).map(|i| format!("p{partition}-{i}")).collect();
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        produce(&worker, "orders", partition, &values).await;
    }
    create_sink(&worker, "s", json!({"topics": "orders"})).await;
    wait_for_sink(&shared, "30 records", |s| s.received.len() == 30).await;
    let received = shared.lock().received.clone();
    for partition in 0..3 {
        let mine: Vec<_> = received
            .iter()
            .filter(|r| r.partition == partition)
            .collect();
        let offsets: Vec<i64> = mine.iter().map(|r| r.offset).collect();
        assert_eq!(
            offsets,
            (0..10).collect::<Vec<_>>(),
            "partition {partition}"
        );
        for (i, record) in mine.iter().enumerate() {
            assert_eq!(record.value, string(&format!("p{partition}-{i}")));
            assert_eq!(record.topic, "orders");
        }
    }
    let body = worker
        .wait_for("/connectors/s/offsets", sink_support::WAIT, |body| {
            offsets_of(body).len() == 3
        })
        .await;
    assert_eq!(
        offsets_of(&body),
        (0..3)
            .map(|p| ("orders".to_string(), p, 10))
            .collect::<Vec<_>>(),
        "next offsets to read, Kafka's convention: {body}"
    );
    let committed = worker
        .worker
        .broker()
        .groups()
        .committed_offsets("connect-s");
    assert_eq!(committed.len(), 3, "the group is connect-<name>");
    let (_, status) = worker.get("/connectors/s/status").await;
    assert_eq!(task_state(&status), "RUNNING", "{status}");
    assert_eq!(status["type"], "sink");
}

#[tokio::test]
async fn a_restarted_worker_resumes_after_the_committed_offset() {
    let shared = Shared::default();
    let worker = start(&shared).await;
    create_topic(&worker, "t", 1).await;
    produce(&worker, "t", 0, &["a", "b", "c", "d", "e"]).await;
    create_sink(&worker, "s", json!({"topics": "t"})).await;
    wait_for_sink(&shared, "5 records", |s| s.received.len() == 5).await;
    worker
        .wait_for("/connectors/s/offsets", sink_support::WAIT, |body| {
            offsets_of(body) == [("t".to_string(), 0, 5)]
        })
        .await;

    // From now on the sink keeps what it gets unflushed: nothing more is committed.
    shared.lock().hold_flush = true;
    produce(&worker, "t", 0, &["f", "g", "h"]).await;
    wait_for_sink(&shared, "8 records", |s| s.received.len() == 8).await;
    let flushes_before = shared.lock().flushes.len();
    wait_for_sink(&shared, "a held-back flush", |s| {
        s.flushes.len() > flushes_before
    })
    .await;
    let (_, body) = worker.get("/connectors/s/offsets").await;
    assert_eq!(
        offsets_of(&body),
        [("t".to_string(), 0, 5)],
        "unflushed records are not committed"
    );
    let dir = worker.shutdown().await;

    let restarted = Shared::default();
    let worker = TestWorker::start_with(dir, registry(&restarted)).await;
    wait_for_sink(&restarted, "the unflushed records again", |s| {
        s.received.len() == 3
    })
    .await;
    let offsets: Vec<i64> = restarted.lock().received.iter().map(|r| r.offset).collect();
    assert_eq!(
        offsets,
        [5, 6, 7],
        "flushed records are not delivered again"
    );
    worker
        .wait_for("/connectors/s/offsets", sink_support::WAIT, |body| {
            offsets_of(body) == [("t".to_string(), 0, 8)]
        })
        .await;
    worker.shutdown().await;
}

#[tokio::test]
async fn a_paused_sink_receives_nothing_until_resumed() {
    let shared = Shared::default();
    let worker = start(&shared).await;
    create_topic(&worker, "t", 1).await;
    produce(&worker, "t", 0, &["a"]).await;
    create_sink(&worker, "s", json!({"topics": "t"})).await;
    wait_for_sink(&shared, "the first record", |s| s.received.len() == 1).await;

    let paused = worker
        .http
        .put(worker.url("/connectors/s/pause"))
        .send()
        .await
        .unwrap();
    assert_eq!(paused.status().as_u16(), 202);
    worker
        .wait_for("/connectors/s/status", sink_support::WAIT, |s| {
            task_state(s) == "PAUSED"
        })
        .await;
    produce(&worker, "t", 0, &["b", "c"]).await;
    let early = tokio::time::timeout(
        Duration::from_millis(700),
        wait_for_sink(&shared, "nothing", |s| s.received.len() > 1),
    )
    .await;
    assert!(
        early.is_err(),
        "a paused task received records: {:?}",
        shared.lock().received
    );

    worker
        .http
        .put(worker.url("/connectors/s/resume"))
        .send()
        .await
        .unwrap();
    wait_for_sink(&shared, "the records produced while paused", |s| {
        s.received.len() == 3
    })
    .await;
    let values: Vec<_> = shared
        .lock()
        .received
        .iter()
        .map(|r| r.value.clone())
        .collect();
    assert_eq!(values, [string("a"), string("b"), string("c")]);
    worker.shutdown().await;
}

#[tokio::test]
async fn a_regex_subscription_picks_up_a_topic_created_later() {
    let shared = Shared::default();
    let worker = start(&shared).await;
    create_topic(&worker, "events.a", 1).await;
    create_topic(&worker, "other", 1).await;
    produce(&worker, "events.a", 0, &["a0"]).await;
    produce(&worker, "other", 0, &["x"]).await;
    create_sink(&worker, "s", json!({"topics.regex": "events\\..*"})).await;
    wait_for_sink(&shared, "the record of events.a", |s| s.received.len() == 1).await;

    create_topic(&worker, "events.b", 2).await;
    produce(&worker, "events.b", 1, &["b1"]).await;
    wait_for_sink(&shared, "the record of the new topic", |s| {
        s.received.iter().any(|r| r.topic == "events.b")
    })
    .await;
    let received = shared.lock().received.clone();
    assert!(
        received.iter().all(|r| r.topic != "other"),
        "{:?}",
        received
    );
    let from_b: Vec<_> = received.iter().filter(|r| r.topic == "events.b").collect();
    assert_eq!(from_b.len(), 1);
    assert_eq!(
        (from_b[0].partition, from_b[0].value.clone()),
        (1, string("b1"))
    );
    assert_eq!(
        received.iter().filter(|r| r.topic == "events.a").count(),
        1,
        "events.a was committed before resubscribing, so not delivered again"
    );
    worker.shutdown().await;
}

#[tokio::test]
async fn a_sink_needs_exactly_one_of_topics_and_a_regex() {
    let shared = Shared::default();
    let worker = start(&shared).await;
    let create = |extra: serde_json::Value| {
        let mut config = json!({"connector.class": sink_support::SINK_CLASS});
        for (key, value) in extra.as_object().unwrap() {
            config[key] = value.clone();
        }
        worker
            .http
            .post(worker.url("/connectors"))
            .json(&json!({"name": "s", "config": config}))
            .send()
    };
    for (extra, key, problem) in [
        (
            json!({"topics": "a", "topics.regex": "b.*"}),
            "\"topics.regex\"",
            "not both",
        ),
        (json!({}), "\"topics\"", "topics.regex"),
        (
            json!({"topics.regex": "("}),
            "\"topics.regex\"",
            "regular expression",
        ),
    ] {
        let response = create(extra.clone()).await.unwrap();
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(status, 400, "{extra}: {body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains(key), "{extra}: {body}");
        assert!(message.contains(problem), "{extra}: {body}");
    }
    worker.shutdown().await;
}

#[tokio::test]
async fn a_sink_that_keeps_its_own_progress_moves_the_consumer_in_open() {
    let shared = Shared::default();
    shared.lock().start_at_on_open = Some(3);
    let worker = start(&shared).await;
    create_topic(&worker, "t", 1).await;
    produce(&worker, "t", 0, &["a", "b", "c", "d", "e"]).await;
    create_sink(&worker, "s", json!({"topics": "t"})).await;
    wait_for_sink(&shared, "the records from offset 3", |s| {
        s.received.len() == 2
    })
    .await;
    let offsets: Vec<i64> = shared.lock().received.iter().map(|r| r.offset).collect();
    assert_eq!(offsets, [3, 4]);
    worker
        .wait_for("/connectors/s/offsets", sink_support::WAIT, |body| {
            offsets_of(body) == [("t".to_string(), 0, 5)]
        })
        .await;
    worker.shutdown().await;
}

#[tokio::test]
async fn two_tasks_share_the_partitions_of_their_group() {
    let shared = Shared::default();
    let worker = start(&shared).await;
    create_topic(&worker, "t", 4).await;
    for partition in 0..4 {
        produce(&worker, "t", partition, &["a", "b", "c"]).await;
    }
    create_sink(&worker, "s", json!({"topics": "t", "tasks.max": "2"})).await;
    let groups = worker.worker.broker().groups().clone();
    let deadline = std::time::Instant::now() + sink_support::WAIT;
    while groups.describe_group("connect-s").members.len() != 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "both tasks never joined"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    wait_for_sink(&shared, "every record of every partition", |s| {
        (0..4).all(|p| {
            let mut offsets: Vec<i64> = s
                .received
                .iter()
                .filter(|r| r.partition == p)
                .map(|r| r.offset)
                .collect();
            offsets.sort();
            offsets.dedup();
            offsets == [0, 1, 2]
        })
    })
    .await;
    // Once stable, each task owns two partitions and new records reach the sink once.
    let before = shared.lock().received.len();
    for partition in 0..4 {
        produce(&worker, "t", partition, &["d"]).await;
    }
    wait_for_sink(&shared, "the four new records", |s| {
        s.received.len() >= before + 4
            && (0..4).all(|p| s.received.iter().any(|r| r.partition == p && r.offset == 3))
    })
    .await;
    let received = shared.lock().received.clone();
    for partition in 0..4 {
        let copies = received
            .iter()
            .filter(|r| r.partition == partition && r.offset == 3)
            .count();
        assert_eq!(copies, 1, "partition {partition}: {received:?}");
    }
    let described = groups.describe_group("connect-s");
    assert_eq!(described.members.len(), 2, "{described:?}");
    let (_, status) = worker.get("/connectors/s/status").await;
    let tasks = status["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 2);
    assert!(tasks.iter().all(|t| t["state"] == "RUNNING"), "{status}");
    worker
        .wait_for("/connectors/s/offsets", sink_support::WAIT, |body| {
            offsets_of(body) == (0..4).map(|p| ("t".to_string(), p, 4)).collect::<Vec<_>>()
        })
        .await;
    worker.shutdown().await;
}

#[tokio::test]
async fn a_partition_the_task_pauses_is_not_read_until_it_resumes_it() {
    let shared = Shared::default();
    shared.lock().pause_in_next_put = true;
    let worker = start(&shared).await;
    create_topic(&worker, "t", 1).await;
    produce(&worker, "t", 0, &["a"]).await;
    create_sink(&worker, "s", json!({"topics": "t"})).await;
    wait_for_sink(&shared, "the first record", |s| s.received.len() == 1).await;
    produce(&worker, "t", 0, &["b"]).await;
    let early = tokio::time::timeout(
        Duration::from_millis(700),
        wait_for_sink(&shared, "nothing", |s| s.received.len() > 1),
    )
    .await;
    assert!(early.is_err(), "a paused partition was read");

    // Resumed from outside any call of the runtime: the context wakes the task's loop.
    let context = shared.lock().context.clone().unwrap();
    assert_eq!(
        context.assignment(),
        [sluice_connect::api::TopicPartition::new("t", 0)]
    );
    context.resume(&context.assignment());
    wait_for_sink(&shared, "the record after resuming", |s| {
        s.received.len() == 2
    })
    .await;
    assert_eq!(shared.lock().received[1].value, string("b"));
    worker.shutdown().await;
}

#[tokio::test]
async fn a_listed_topic_created_after_the_sink_is_consumed_once_it_exists() {
    let shared = Shared::default();
    let worker = start(&shared).await;
    create_sink(&worker, "s", json!({"topics": "later"})).await;
    worker
        .wait_for("/connectors/s/status", sink_support::WAIT, |s| {
            task_state(s) == "RUNNING"
        })
        .await;
    create_topic(&worker, "later", 1).await;
    produce(&worker, "later", 0, &["x"]).await;
    wait_for_sink(&shared, "the record of the new topic", |s| {
        s.received.len() == 1
    })
    .await;
    assert_eq!(shared.lock().received[0].value, string("x"));
    worker.shutdown().await;
}

#[tokio::test]
async fn transforms_apply_to_sink_records_and_offsets_stay_with_the_consumed_topic() {
    let shared = Shared::default();
    let worker = start(&shared).await;
    create_topic(&worker, "t", 1).await;
    produce(&worker, "t", 0, &["a", "b"]).await;
    let config = json!({
        "topics": "t",
        "transforms": "route",
        "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
        "transforms.route.regex": "t",
        "transforms.route.replacement": "renamed",
    });
    create_sink(&worker, "s", config).await;
    wait_for_sink(&shared, "two records", |s| s.received.len() == 2).await;
    assert!(
        shared.lock().received.iter().all(|r| r.topic == "renamed"),
        "{:?}",
        shared.lock().received
    );
    worker
        .wait_for("/connectors/s/offsets", sink_support::WAIT, |body| {
            offsets_of(body) == [("t".to_string(), 0, 2)]
        })
        .await;
    worker.shutdown().await;
}
