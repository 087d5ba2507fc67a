//! Every file in `configs/` parses: the worker configuration as a [`WorkerConfig`] and each
//! connector JSON as a named connector configuration.

use std::path::PathBuf;

use sluice_connect::config::parse_named;
use sluice_connect::worker_config::WorkerConfig;

fn configs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../configs")
}

#[test]
fn worker_toml_parses_with_no_unknown_keys() {
    let path = configs_dir().join("worker.toml");
    let config = WorkerConfig::load_with_env(Some(&path), &[], Vec::new()).unwrap();
    assert_eq!(config.unknown_keys().count(), 0);
    assert_eq!(config.rest.listen, "127.0.0.1:8083");
    assert_eq!(
        config,
        WorkerConfig::default(),
        "worker.toml documents the defaults"
    );
}

#[test]
fn every_connector_json_parses() {
    for entry in std::fs::read_dir(configs_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "json") {
            let bytes = std::fs::read(&path).unwrap();
            let parsed = parse_named(&bytes)
                .unwrap_or_else(|err| panic!("{} does not parse: {err}", path.display()));
            assert!(
                parsed.props.contains_key("connector.class"),
                "{} has no connector.class",
                path.display()
            );
        }
    }
}
