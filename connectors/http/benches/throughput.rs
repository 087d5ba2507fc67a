//! End-to-end throughput of the HTTP sink: events already in a topic of a real broker are
//! consumed by a worker running the sink (fetch, JSON conversion, event serialization,
//! batching) and POSTed to a local receiver (axum, in this process), which checks that each
//! body is a JSON array and counts events by their idempotency keys. Prints events/s per
//! scenario, batches of 500, and the ratio to a reference measured in the same run (a bare
//! HTTP client posting prebuilt bodies of the same events).
//!
//! Run: `cargo bench -p sluice-http --bench throughput` (HTTP_BENCH_EVENTS sets the count,
//! default 300,000).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::json;
use sluice_broker::{Broker, BrokerConfig, PartitionChoice, PartitionId, Record, TopicConfig};
use sluice_connect::config::Props;
use sluice_connect::registry::ConnectorRegistry;
use sluice_connect::stores::TargetState;
use sluice_connect::stores::schemas::open_schema_registry;
use sluice_connect::worker::Worker;
use sluice_connect::worker_config::RuntimeSettings;

#[derive(Debug, Default)]
struct Counts {
    events: AtomicU64,
    requests: AtomicU64,
    bytes: AtomicU64,
}

/// Counts `last - first + 1` from `Idempotency-Key: <topic>-<partition>-<first>-<last>`.
async fn ingest(State(counts): State<Arc<Counts>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let well_formed = body.first() == Some(&b'[') && body.last() == Some(&b']');
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut parts = key.rsplit('-');
    let (Some(last), Some(first)) = (parts.next(), parts.next()) else {
        return StatusCode::BAD_REQUEST;
    };
    let (Ok(last), Ok(first)) = (last.parse::<u64>(), first.parse::<u64>()) else {
        return StatusCode::BAD_REQUEST;
    };
    if !well_formed {
        return StatusCode::BAD_REQUEST;
    }
    counts.events.fetch_add(last - first + 1, Ordering::Relaxed);
    counts.requests.fetch_add(1, Ordering::Relaxed);
    counts.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
    StatusCode::OK
}

async fn receiver() -> (String, Arc<Counts>) {
    let counts = Arc::new(Counts::default());
    let app = Router::new()
        .route("/ingest", post(ingest))
        .with_state(counts.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    (format!("http://{address}/ingest"), counts)
}

async fn worker(dir: &std::path::Path) -> Worker {
    let broker = Broker::open(dir, BrokerConfig::default())
        .await
        .expect("broker");
    let mut registry = ConnectorRegistry::new();
    sluice_http::register(&mut registry).expect("register");
    let schema_registry = open_schema_registry(&broker)
        .await
        .expect("schema registry");
    Worker::open(
        broker,
        Arc::new(registry),
        "bench".into(),
        RuntimeSettings::default(),
        schema_registry,
    )
    .await
    .expect("worker")
}

/// A row-like JSON value of about 120 bytes.
fn value(i: u64) -> Vec<u8> {
    json!({"id": i, "name": format!("user-{i}"), "email": format!("user{i}@example.com"),
           "amount": i as f64 * 0.25, "active": i.is_multiple_of(3), "tags": ["a", "b"]})
    .to_string()
    .into_bytes()
}

/// The reference, measured in the same run: a bare reqwest client POSTing prebuilt JSON-array
/// bodies of the same events in the same envelope (500 per request, one request at a time, with
/// idempotency keys) to the same kind of receiver — the cost of the HTTP path alone, without
/// fetching, converting or batching.
async fn reference(events: u64) -> f64 {
    let (url, counts) = receiver().await;
    let client = reqwest::Client::new();
    let bodies: Vec<(String, Vec<u8>)> = (0..events)
        .step_by(500)
        .map(|first| {
            let last = (first + 499).min(events - 1);
            let mut body = b"[".to_vec();
            for offset in first..=last {
                if offset > first {
                    body.push(b',');
                }
                body.extend_from_slice(
                    format!(
                        r#"{{"id":"bench-0-{offset}","topic":"bench","partition":0,"offset":{offset},"timestamp":1700000000000,"key":null,"value":"#
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(&value(offset));
                body.push(b'}');
            }
            body.push(b']');
            (format!("bench-0-{first}-{last}"), body)
        })
        .collect();
    let started = Instant::now();
    for (key, body) in bodies {
        let response = client
            .post(&url)
            .header("idempotency-key", key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("reference request");
        assert!(response.status().is_success(), "reference request refused");
    }
    let elapsed = started.elapsed();
    assert_eq!(counts.events.load(Ordering::Relaxed), events);
    let rate = events as f64 / elapsed.as_secs_f64();
    println!(
        "reference (bare reqwest, prebuilt bodies, 1 in flight) events={events} seconds={:.3} events/s={rate:.0}",
        elapsed.as_secs_f64()
    );
    rate
}

async fn scenario(events: u64, partitions: u32, max_in_flight: u32) -> f64 {
    let dir = tempfile::tempdir().expect("temp dir");
    let worker = worker(dir.path()).await;
    let broker = worker.broker().clone();
    let topic = "bench";
    let config = TopicConfig {
        partitions,
        ..TopicConfig::default()
    };
    broker.create_topic(topic, config).await.expect("topic");
    let per_partition = events / u64::from(partitions);
    for partition in 0..partitions {
        let mut next = 0;
        while next < per_partition {
            let end = (next + 5_000).min(per_partition);
            let records = (next..end)
                .map(|i| Record::new(None, Some(value(i).into())))
                .collect();
            broker
                .produce(
                    topic,
                    PartitionChoice::Explicit(PartitionId(partition as i32)),
                    records,
                )
                .await
                .expect("produce");
            next = end;
        }
    }
    let total = per_partition * u64::from(partitions);
    let (url, counts) = receiver().await;
    let props: Props = [
        ("connector.class", "http"),
        ("topics", topic),
        ("http.url", url.as_str()),
        ("batch.max.size", "500"),
        ("batch.linger.ms", "5"),
        ("max.in.flight", &max_in_flight.to_string()),
        (
            "value.converter",
            "org.apache.kafka.connect.json.JsonConverter",
        ),
        ("value.converter.schemas.enable", "false"),
        (
            "key.converter",
            "org.apache.kafka.connect.storage.StringConverter",
        ),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let started = Instant::now();
    worker
        .create("bench", props, TargetState::Started)
        .await
        .expect("create");
    let deadline = started + Duration::from_secs(300);
    while counts.events.load(Ordering::Relaxed) < total {
        assert!(
            Instant::now() < deadline,
            "the sink did not deliver {total} events in time"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let elapsed = started.elapsed();
    let requests = counts.requests.load(Ordering::Relaxed);
    let bytes = counts.bytes.load(Ordering::Relaxed);
    println!(
        "partitions={partitions} max.in.flight={max_in_flight} events={total} requests={requests} \
         body MB={:.1} seconds={:.3} events/s={:.0}",
        bytes as f64 / 1e6,
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
    worker.shutdown().await;
    total as f64 / elapsed.as_secs_f64()
}

fn main() {
    let events = std::env::var("HTTP_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let reference = reference(events).await;
        for (partitions, in_flight) in [(1, 1), (2, 2)] {
            let sink = scenario(events, partitions, in_flight).await;
            println!(
                "  partitions={partitions} max.in.flight={in_flight}: sink / reference = {:.2}",
                sink / reference
            );
        }
    });
}
