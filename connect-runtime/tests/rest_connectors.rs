//! Kafka Connect's connector endpoints over real HTTP: the whole lifecycle, the error
//! contract, secrets masking, KIP-875 offsets, and a worker restart that resumes connectors
//! in their states with their offsets.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::TestWorker;

const WAIT: Duration = Duration::from_secs(20);

fn sequence(name: &str, topic: &str, count: i64) -> Value {
    json!({"name": name, "config": {
        "connector.class": "io.sluice.connect.SequenceSourceConnector",
        "topic": topic,
        "sequence.count": count.to_string(),
        "sequence.batch.size": "50",
        "database.password": "hunter2",
    }})
}

fn state_of(status: &Value) -> &str {
    status["connector"]["state"].as_str().unwrap_or_default()
}

fn end_offset(topic: &Value) -> i64 {
    topic["partitions"][0]["end_offset"].as_i64().unwrap_or(-1)
}

/// Every record of the sequence topic, checked to be 0..n exactly once in order.
async fn assert_exact_sequence(worker: &TestWorker, topic: &str, n: i64) {
    let mut offset = 0;
    let mut expected = 0;
    while expected < n {
        let (_, page) = worker
            .get(&format!(
                "/topics/{topic}/records?offset={offset}&limit=1000"
            ))
            .await;
        let records = page["records"].as_array().unwrap();
        assert!(
            !records.is_empty(),
            "topic ends at {expected}, expected {n} records"
        );
        for record in records {
            assert_eq!(record["value"]["payload"]["n"], expected, "record {record}");
            expected += 1;
        }
        offset = page["next_offset"].as_i64().unwrap();
    }
    let (_, described) = worker.get(&format!("/topics/{topic}")).await;
    assert_eq!(
        end_offset(&described),
        n,
        "no duplicates after the last number"
    );
}

#[tokio::test]
async fn lifecycle_create_pause_resume_stop_reset_delete() {
    let worker = TestWorker::start().await;
    let http = &worker.http;

    let created = http
        .post(worker.url("/connectors"))
        .json(&sequence("seq", "numbers", 500))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let info: Value = created.json().await.unwrap();
    assert_eq!(info["type"], "source");
    assert_eq!(info["tasks"], json!([{"connector": "seq", "task": 0}]));
    assert_eq!(
        info["config"]["database.password"], "[hidden]",
        "secrets are masked"
    );

    worker
        .wait_for("/connectors/seq/status", WAIT, |s| state_of(s) == "RUNNING")
        .await;
    worker
        .wait_for("/topics/numbers", WAIT, |t| end_offset(t) == 500)
        .await;
    let (_, tasks) = worker.get("/connectors/seq/tasks").await;
    assert_eq!(tasks[0]["id"], json!({"connector": "seq", "task": 0}));
    assert_eq!(tasks[0]["config"]["database.password"], "[hidden]");
    let (_, task) = worker.get("/connectors/seq/tasks/0/status").await;
    assert_eq!(task["id"], 0);
    assert!(task["state"].is_string(), "{task}");
    let (_, config) = worker.get("/connectors/seq/config").await;
    assert_eq!(config["topic"], "numbers");
    assert_eq!(config["database.password"], "[hidden]");
    let (status, root) = worker.get("/").await;
    assert_eq!(status, 200);
    assert!(
        root["version"].is_string() && root["commit"].is_string(),
        "{root}"
    );
    // The topic can reach 500 records before the task's offset commit lands, so wait for it.
    let offsets = worker
        .wait_for("/connectors/seq/offsets", WAIT, |o| {
            o["offsets"][0]["offset"]["next"] == 500
        })
        .await;
    assert_eq!(
        offsets["offsets"][0]["partition"],
        json!({"sequence": "numbers"})
    );

    assert_eq!(
        http.put(worker.url("/connectors/seq/pause"))
            .send()
            .await
            .unwrap()
            .status(),
        202
    );
    let paused = worker
        .wait_for("/connectors/seq/status", WAIT, |s| {
            state_of(s) == "PAUSED" && s["tasks"][0]["state"] == "PAUSED"
        })
        .await;
    assert_eq!(paused["tasks"].as_array().unwrap().len(), 1);
    assert_eq!(
        http.put(worker.url("/connectors/seq/resume"))
            .send()
            .await
            .unwrap()
            .status(),
        202
    );
    worker
        .wait_for("/connectors/seq/status", WAIT, |s| {
            s["tasks"][0]["state"] == "RUNNING"
        })
        .await;

    // Offsets change only when STOPPED.
    let refused = http
        .delete(worker.url("/connectors/seq/offsets"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("STOPPED"),
        "{body}"
    );

    assert_eq!(
        http.put(worker.url("/connectors/seq/stop"))
            .send()
            .await
            .unwrap()
            .status(),
        202
    );
    let stopped = worker
        .wait_for("/connectors/seq/status", WAIT, |s| state_of(s) == "STOPPED")
        .await;
    assert_eq!(stopped["tasks"], json!([]));

    // Rewind to 400: numbers 400..499 are written again (a deliberate replay, new epoch).
    let patched = http
        .patch(worker.url("/connectors/seq/offsets"))
        .json(
            &json!({"offsets": [{"partition": {"sequence": "numbers"}, "offset": {"next": 400}}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    assert_eq!(
        http.put(worker.url("/connectors/seq/resume"))
            .send()
            .await
            .unwrap()
            .status(),
        202
    );
    worker
        .wait_for("/topics/numbers", WAIT, |t| end_offset(t) == 600)
        .await;

    assert_eq!(
        http.put(worker.url("/connectors/seq/stop"))
            .send()
            .await
            .unwrap()
            .status(),
        202
    );
    worker
        .wait_for("/connectors/seq/status", WAIT, |s| state_of(s) == "STOPPED")
        .await;
    let reset = http
        .delete(worker.url("/connectors/seq/offsets"))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 200);
    let (_, offsets) = worker.get("/connectors/seq/offsets").await;
    assert_eq!(offsets["offsets"], json!([]));

    assert_eq!(
        http.delete(worker.url("/connectors/seq"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let (status, body) = worker.get("/connectors/seq").await;
    assert_eq!(status, 404);
    assert_eq!(body["error_code"], 404);
    let (_, names) = worker.get("/connectors").await;
    assert_eq!(names, json!([]));
}

#[tokio::test]
async fn errors_follow_the_kafka_connect_contract() {
    let worker = TestWorker::start().await;
    let http = &worker.http;
    let post = |body: String| {
        http.post(worker.url("/connectors"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    let malformed = post("{\"name\": ".into()).await.unwrap();
    assert_eq!(malformed.status(), 400);
    let body: Value = malformed.json().await.unwrap();
    assert_eq!(body["error_code"], 400);

    let unknown_class =
        post(json!({"name": "x", "config": {"connector.class": "com.example.Nope"}}).to_string())
            .await
            .unwrap();
    assert_eq!(unknown_class.status(), 400);
    let body: Value = unknown_class.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("com.example.Nope"),
        "{body}"
    );

    let invalid = post(json!({"name": "x", "config": {"connector.class": "sequence", "topic": "t", "sequence.batch.size": "zero"}}).to_string())
        .await
        .unwrap();
    assert_eq!(invalid.status(), 400);
    let body: Value = invalid.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("sequence.batch.size"),
        "{body}"
    );

    assert_eq!(
        post(sequence("dup", "d", 1).to_string())
            .await
            .unwrap()
            .status(),
        201
    );
    assert_eq!(
        post(sequence("dup", "d", 1).to_string())
            .await
            .unwrap()
            .status(),
        409
    );

    for path in [
        "/connectors/none",
        "/connectors/none/status",
        "/connectors/none/config",
        "/connectors/none/offsets",
    ] {
        let (status, body) = worker.get(path).await;
        assert_eq!(status, 404, "{path}");
        assert!(
            body["message"].as_str().unwrap().contains("none"),
            "{path}: {body}"
        );
    }
    let (status, _) = worker.get("/connectors/dup/tasks/7/status").await;
    assert_eq!(status, 404);

    // PUT config: creating answers 201, updating 200; an echoed mask keeps the secret.
    let mut config = sequence("put", "p", 10)["config"].clone();
    let created = http
        .put(worker.url("/connectors/put/config"))
        .json(&config)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    config["database.password"] = json!("[hidden]");
    config["sequence.count"] = json!("20");
    let updated = http
        .put(worker.url("/connectors/put/config"))
        .json(&config)
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), 200);
    let stored = worker.worker.config("put").await.unwrap();
    assert_eq!(stored["sequence.count"], "20");
    assert_eq!(stored["database.password"], "[hidden]", "shown masked");

    // Validation reports every problem.
    let validated: Value = http
        .put(worker.url("/connector-plugins/sequence/config/validate"))
        .json(&json!({"sequence.count": "many"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(validated["error_count"], 2, "{validated}");
    let (_, plugins) = worker.get("/connector-plugins").await;
    assert_eq!(
        plugins[0]["class"],
        "io.sluice.connect.SequenceSourceConnector"
    );
    assert_eq!(plugins[0]["type"], "source");

    let (_, expanded) = worker.get("/connectors?expand=status&expand=info").await;
    assert_eq!(expanded["dup"]["info"]["name"], "dup");
    assert!(expanded["dup"]["status"]["connector"]["state"].is_string());

    let restarted = http
        .post(worker.url("/connectors/dup/restart?includeTasks=true"))
        .send()
        .await
        .unwrap();
    assert_eq!(restarted.status(), 202);
    let plain = http
        .post(worker.url("/connectors/dup/restart"))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 204);
    let task = http
        .post(worker.url("/connectors/dup/tasks/0/restart"))
        .send()
        .await
        .unwrap();
    assert_eq!(task.status(), 204);
}

#[tokio::test]
async fn a_restarted_worker_resumes_connectors_states_and_offsets() {
    let worker = TestWorker::start().await;
    let http = worker.http.clone();
    for (name, topic) in [("running", "r"), ("paused", "p"), ("stopped", "s")] {
        let created = http
            .post(worker.url("/connectors"))
            .json(&sequence(name, topic, 300))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
    }
    worker
        .wait_for("/topics/r", WAIT, |t| end_offset(t) > 0)
        .await;
    http.put(worker.url("/connectors/paused/pause"))
        .send()
        .await
        .unwrap();
    http.put(worker.url("/connectors/stopped/stop"))
        .send()
        .await
        .unwrap();
    worker
        .wait_for("/connectors/stopped/status", WAIT, |s| {
            state_of(s) == "STOPPED"
        })
        .await;
    let dir = worker.shutdown().await;

    let worker = TestWorker::start_in(dir).await;
    worker
        .wait_for("/connectors/running/status", WAIT, |s| {
            state_of(s) == "RUNNING"
        })
        .await;
    worker
        .wait_for("/connectors/paused/status", WAIT, |s| {
            state_of(s) == "PAUSED"
        })
        .await;
    worker
        .wait_for("/connectors/stopped/status", WAIT, |s| {
            state_of(s) == "STOPPED"
        })
        .await;
    worker
        .wait_for("/topics/r", WAIT, |t| end_offset(t) == 300)
        .await;
    assert_exact_sequence(&worker, "r", 300).await;
}

#[tokio::test]
async fn transforms_and_converters_apply_on_the_way_to_the_broker() {
    let worker = TestWorker::start().await;
    let routed = json!({"name": "routed", "config": {
        "connector.class": "sequence", "topic": "numbers", "sequence.count": "5",
        "transforms": "rename",
        "transforms.rename.type": "org.apache.kafka.connect.transforms.RegexRouter",
        "transforms.rename.regex": "num(.*)",
        "transforms.rename.replacement": "renamed-$1",
        "value.converter.schemas.enable": "false",
    }});
    let created = worker
        .http
        .post(worker.url("/connectors"))
        .json(&routed)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    worker
        .wait_for("/topics/renamed-bers", WAIT, |t| end_offset(t) == 5)
        .await;
    let (_, page) = worker
        .get("/topics/renamed-bers/records?offset=0&limit=1")
        .await;
    assert_eq!(
        page["records"][0]["value"],
        json!({"n": 0, "payload": "xxxxxxxxxxxxxxxx"})
    );

    let avro = json!({"name": "avro", "config": {
        "connector.class": "sequence", "topic": "avro-numbers", "sequence.count": "3",
        "value.converter": "io.confluent.connect.avro.AvroConverter",
    }});
    let created = worker
        .http
        .post(worker.url("/connectors"))
        .json(&avro)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    worker
        .wait_for("/topics/avro-numbers", WAIT, |t| end_offset(t) == 3)
        .await;
    let (_, raw) = worker
        .get("/topics/avro-numbers/records?offset=0&limit=1&format=raw")
        .await;
    let value = raw["records"][0]["value"].as_str().unwrap();
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value)
        .unwrap();
    assert_eq!(
        bytes[0], 0,
        "Confluent wire format starts with magic byte 0"
    );
    let id = u32::from_be_bytes(bytes[1..5].try_into().unwrap());
    let (status, subjects) = worker.get("/schema-registry/subjects").await;
    assert_eq!(status, 200);
    assert!(
        subjects
            .as_array()
            .unwrap()
            .contains(&json!("avro-numbers-value")),
        "{subjects}"
    );
    let (status, schema) = worker
        .get(&format!("/schema-registry/schemas/ids/{id}"))
        .await;
    assert_eq!(status, 200, "{schema}");
    assert!(
        schema["schema"]
            .as_str()
            .unwrap()
            .contains("sluice.sequence.Value"),
        "{schema}"
    );
}

/// `PUT /connector-plugins/{class}/config/validate` with `config`.
async fn validate(worker: &TestWorker, config: Value) -> Value {
    reqwest::Client::new()
        .put(worker.url("/connector-plugins/sequence/config/validate"))
        .json(&config)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The `value` block of one key in a validation response.
fn validated_key<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["configs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|config| &config["value"])
        .find(|value| value["name"] == name)
        .unwrap_or_else(|| panic!("no `{name}` in {report}"))
}

#[tokio::test]
async fn validation_checks_what_config_references_resolve_to() {
    let worker = TestWorker::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("settings.properties");
    std::fs::write(&file, "count=5\nbad=many\n").unwrap();
    let reference = |key: &str| format!("${{file:{}:{key}}}", file.display());
    let config = |count: String| json!({"connector.class": "sequence", "topic": "t", "sequence.count": count});

    // A number given through a reference validates as the number it resolves to.
    let report = validate(&worker, config(reference("count"))).await;
    assert_eq!(report["error_count"], 0, "{report}");
    let count = validated_key(&report, "sequence.count");
    assert_eq!(count["value"], reference("count"), "shown as typed");

    // A reference resolving to a non-number is the same error as typing it.
    let report = validate(&worker, config(reference("bad"))).await;
    assert_eq!(report["error_count"], 1, "{report}");
    let errors = validated_key(&report, "sequence.count")["errors"].to_string();
    assert!(errors.contains("many"), "{errors}");

    // A reference that cannot resolve names what is missing.
    let report = validate(&worker, config("${env:SLUICE_TEST_NEVER_SET}".into())).await;
    assert_eq!(report["error_count"], 1, "{report}");
    let errors = validated_key(&report, "sequence.count")["errors"].to_string();
    assert!(errors.contains("SLUICE_TEST_NEVER_SET"), "{errors}");
    worker.shutdown().await;
}
