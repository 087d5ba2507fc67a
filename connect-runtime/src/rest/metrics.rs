//! `GET /metrics`: Prometheus text exposition of connector, task, snapshot, consumer-group
//! and topic figures, every name prefixed `sluice_`.

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use super::RestState;
use crate::api::SnapshotPhase;

/// Escapes a label value per the exposition format.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

struct Exposition {
    text: String,
}

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.text, "# HELP sluice_{name} {help}");
        let _ = writeln!(self.text, "# TYPE sluice_{name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        let rendered: Vec<String> = labels
            .iter()
            .map(|(key, value)| format!("{key}=\"{}\"", label(value)))
            .collect();
        let _ = if rendered.is_empty() {
            writeln!(self.text, "sluice_{name} {value}")
        } else {
            writeln!(self.text, "sluice_{name}{{{}}} {value}", rendered.join(","))
        };
    }
}

pub async fn metrics(State(state): State<Arc<RestState>>) -> impl IntoResponse {
    let mut out = Exposition {
        text: String::with_capacity(4096),
    };
    let connectors = state.worker.metrics().await;

    out.family("connector_up", "gauge", "1 when the connector is RUNNING.");
    for c in &connectors {
        let up = u8::from(c.state == crate::stores::State::Running);
        out.sample(
            "connector_up",
            &[("connector", &c.name), ("type", c.kind.as_str())],
            up,
        );
    }
    let task_families: [(&str, &str, &str); 5] = [
        (
            "connector_events_total",
            "counter",
            "Records a task delivered (source: appended; sink: put).",
        ),
        (
            "connector_event_bytes_total",
            "counter",
            "Key and value bytes of delivered records.",
        ),
        (
            "connector_events_per_second",
            "gauge",
            "Recent delivery rate, smoothed over batches.",
        ),
        (
            "connector_errors_total",
            "counter",
            "Task failures and records routed to the dead-letter topic.",
        ),
        (
            "connector_millis_behind_source",
            "gauge",
            "Source event time to delivery of the newest record.",
        ),
    ];
    for (name, kind, help) in task_families {
        out.family(name, kind, help);
        for c in &connectors {
            for (task, metrics) in &c.tasks {
                let task = task.to_string();
                let labels = [("connector", c.name.as_str()), ("task", task.as_str())];
                match name {
                    "connector_events_total" => out.sample(name, &labels, metrics.records()),
                    "connector_event_bytes_total" => out.sample(name, &labels, metrics.bytes()),
                    "connector_events_per_second" => {
                        out.sample(name, &labels, format!("{:.1}", metrics.rate()))
                    }
                    "connector_errors_total" => out.sample(name, &labels, metrics.errors()),
                    _ => {
                        if let Some(behind) = metrics.millis_behind_source() {
                            out.sample(name, &labels, behind)
                        }
                    }
                }
            }
        }
    }
    out.family(
        "connector_queue_bytes",
        "gauge",
        "Bytes of converted records waiting to be appended.",
    );
    for c in &connectors {
        for (task, metrics) in &c.tasks {
            let task = task.to_string();
            let labels = [("connector", c.name.as_str()), ("task", task.as_str())];
            out.sample("connector_queue_bytes", &labels, metrics.queue_bytes());
        }
    }
    out.family(
        "snapshot_rows_done",
        "gauge",
        "Rows read so far by a table's snapshot.",
    );
    out.family(
        "snapshot_rows_estimated",
        "gauge",
        "The database's row estimate for a snapshotted table.",
    );
    out.family(
        "snapshot_completed",
        "gauge",
        "1 once a table's snapshot finished.",
    );
    for c in &connectors {
        for table in &c.snapshot {
            let labels = [
                ("connector", c.name.as_str()),
                ("table", table.table.as_str()),
            ];
            out.sample("snapshot_rows_done", &labels, table.rows_done);
            if let Some(estimate) = table.rows_estimated {
                out.sample("snapshot_rows_estimated", &labels, estimate);
            }
            out.sample(
                "snapshot_completed",
                &labels,
                u8::from(table.phase == SnapshotPhase::Done),
            );
        }
    }

    let broker = &state.broker;
    out.family(
        "consumer_group_lag",
        "gauge",
        "Records between a group's committed offset and the log end.",
    );
    for group in broker.groups().list_groups() {
        for lag in broker
            .groups()
            .lag(&group.group, broker)
            .unwrap_or_default()
        {
            if let Some(records) = lag.lag {
                let partition = lag.partition.partition.0.to_string();
                out.sample(
                    "consumer_group_lag",
                    &[
                        ("group", group.group.as_str()),
                        ("topic", lag.partition.topic.as_str()),
                        ("partition", partition.as_str()),
                    ],
                    records,
                );
            }
        }
    }
    let traffic = broker.traffic();
    out.family(
        "broker_bytes_in_total",
        "counter",
        "Record bytes appended to the broker since start.",
    );
    out.sample("broker_bytes_in_total", &[], traffic.bytes_in);
    out.family(
        "broker_bytes_out_total",
        "counter",
        "Stored batch bytes served to readers since start.",
    );
    out.sample("broker_bytes_out_total", &[], traffic.bytes_out);
    out.family(
        "topic_size_bytes",
        "gauge",
        "Bytes on disk per topic partition.",
    );
    out.family(
        "topic_end_offset",
        "gauge",
        "Next offset per topic partition (records ever appended).",
    );
    let mut topics = broker.list_topics();
    topics.sort();
    for topic in topics {
        let Ok(description) = broker.describe_topic(&topic) else {
            continue;
        };
        for partition in description.partitions {
            let id = partition.partition.0.to_string();
            let labels = [("topic", topic.as_str()), ("partition", id.as_str())];
            out.sample("topic_size_bytes", &labels, partition.size_bytes);
            out.sample("topic_end_offset", &labels, partition.high_watermark.0);
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out.text,
    )
}
