//! HTTPS with rustls against a receiver whose certificate comes from a private CA made for
//! the test: trusted through http.ssl.ca.file, refused without it.

mod support;

use serde_json::json;
use support::{Receiver, TestWorker, delivered_offsets};

#[tokio::test]
async fn https_with_a_private_ca() -> anyhow::Result<()> {
    let receiver = Receiver::start_tls()?;
    let ca = receiver.ca_file();
    assert!(ca.exists(), "receiver.py wrote no CA file");
    let worker = TestWorker::start().await;
    worker.create_topic("secure", 1).await;
    worker.produce("secure", 0, (0..20).map(|i| json!(i))).await;
    let url = receiver.url();
    assert!(url.starts_with("https://"));
    let ca_path = ca.to_str().unwrap_or_default();
    worker
        .create_sink(
            "trusting",
            "secure",
            &url,
            &[("http.ssl.ca.file", ca_path), ("batch.max.size", "10")],
        )
        .await;
    let requests = receiver
        .wait_for("20 events over TLS", |r| {
            delivered_offsets(r, "secure", 0).len() >= 20
        })
        .await;
    assert_eq!(
        delivered_offsets(&requests, "secure", 0),
        (0..20).collect::<Vec<_>>()
    );
    worker.wait_committed("trusting", "secure", 0, 20).await;

    // Without the CA the certificate is not trusted: the attempt fails, the task with it.
    worker
        .create_sink(
            "distrusting",
            "secure",
            &url,
            &[("retry.max.attempts", "1")],
        )
        .await;
    let trace = worker.wait_task_state("distrusting", "Failed").await;
    assert!(
        trace.to_lowercase().contains("certificate"),
        "the failure should name the certificate: {trace}"
    );
    let committed = worker.committed("distrusting", "secure", 0);
    assert!(
        committed.unwrap_or(0) == 0,
        "nothing may be committed: {committed:?}"
    );
    worker.shutdown().await;
    Ok(())
}
