//! The registry's Confluent REST subset over real HTTP (axum on 127.0.0.1:0, reqwest client),
//! and the remote registry client against that server.

use std::sync::Arc;

use axum::Router;
use serde_json::{Value, json};
use sluice_schemas::registry::{
    self, FileRegistryStore, RemoteRegistryClient, SchemaId, SchemaRegistry, SchemaRegistryClient,
};

const V1: &str = r#"{"type":"record","name":"Value","namespace":"db.inventory.customers","fields":[{"name":"id","type":"int"},{"name":"name","type":"string"}]}"#;
const V2: &str = r#"{"type":"record","name":"Value","namespace":"db.inventory.customers","fields":[{"name":"id","type":"int"},{"name":"name","type":"string"},{"name":"email","type":["null","string"],"default":null}]}"#;
const TYPE_CHANGE: &str = r#"{"type":"record","name":"Value","namespace":"db.inventory.customers","fields":[{"name":"id","type":"string"},{"name":"name","type":"string"}]}"#;
const SR: &str = "application/vnd.schemaregistry.v1+json";

struct Server {
    base: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = FileRegistryStore::open(dir.path().join("schemas.jsonl")).unwrap();
    let registry = Arc::new(SchemaRegistry::open(Arc::new(store)).unwrap());
    let app = Router::new().nest("/schema-registry", registry::router(registry));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server {
        base: format!("http://{address}/schema-registry"),
        http: reqwest::Client::new(),
        _dir: dir,
    }
}

impl Server {
    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let request = match method {
            "POST" => self.http.post(&url),
            "PUT" => self.http.put(&url),
            "DELETE" => self.http.delete(&url),
            _ => self.http.get(&url),
        };
        let request = match body {
            Some(body) => request.header("content-type", SR).body(body.to_string()),
            None => request,
        };
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(content_type, SR, "{method} {path}");
        (status, response.json().await.unwrap())
    }
}

#[tokio::test]
async fn register_read_and_look_up_schemas_over_http() {
    let server = start().await;
    let (status, body) = server
        .send(
            "POST",
            "/subjects/customers-value/versions",
            Some(json!({"schema": V1})),
        )
        .await;
    assert_eq!((status, body), (200, json!({"id": 1})));
    // Same schema under another subject keeps its global id; same subject is idempotent.
    let (_, body) = server
        .send(
            "POST",
            "/subjects/orders-value/versions",
            Some(json!({"schema": V1, "schemaType": "AVRO"})),
        )
        .await;
    assert_eq!(body, json!({"id": 1}));
    let (_, body) = server
        .send(
            "POST",
            "/subjects/customers-value/versions",
            Some(json!({"schema": V1})),
        )
        .await;
    assert_eq!(body, json!({"id": 1}));
    let (_, body) = server
        .send(
            "POST",
            "/subjects/customers-value/versions",
            Some(json!({"schema": V2})),
        )
        .await;
    assert_eq!(body, json!({"id": 2}));

    assert_eq!(
        server.send("GET", "/subjects", None).await,
        (200, json!(["customers-value", "orders-value"]))
    );
    assert_eq!(
        server
            .send("GET", "/subjects/customers-value/versions", None)
            .await,
        (200, json!([1, 2]))
    );
    let (status, latest) = server
        .send("GET", "/subjects/customers-value/versions/latest", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(latest["version"], 2);
    assert_eq!(latest["id"], 2);
    assert_eq!(latest["subject"], "customers-value");
    let stored: Value = serde_json::from_str(latest["schema"].as_str().unwrap()).unwrap();
    assert_eq!(stored, serde_json::from_str::<Value>(V2).unwrap());
    let (_, first) = server
        .send("GET", "/subjects/customers-value/versions/1", None)
        .await;
    assert_eq!(first["id"], 1);

    let (status, by_id) = server.send("GET", "/schemas/ids/2", None).await;
    assert_eq!(status, 200);
    assert_eq!(by_id["schema"], latest["schema"]);

    let (status, found) = server
        .send(
            "POST",
            "/subjects/customers-value",
            Some(json!({"schema": V1})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (found["version"].clone(), found["id"].clone()),
        (json!(1), json!(1))
    );
}

#[tokio::test]
async fn errors_use_confluent_codes() {
    let server = start().await;
    server
        .send(
            "POST",
            "/subjects/t-value/versions",
            Some(json!({"schema": V1})),
        )
        .await;
    let cases = [
        ("GET", "/subjects/missing-value/versions", None, 404, 40401),
        ("GET", "/subjects/t-value/versions/9", None, 404, 40402),
        ("GET", "/subjects/t-value/versions/zero", None, 422, 42202),
        ("GET", "/schemas/ids/99", None, 404, 40403),
        (
            "POST",
            "/subjects/t-value",
            Some(json!({"schema": V2})),
            404,
            40403,
        ),
        (
            "POST",
            "/subjects/missing-value",
            Some(json!({"schema": V2})),
            404,
            40401,
        ),
        (
            "POST",
            "/subjects/t-value/versions",
            Some(json!({"schema": "{\"type\":\"nope\"}"})),
            422,
            42201,
        ),
        (
            "POST",
            "/subjects/t-value/versions",
            Some(json!({"schema": V1, "schemaType": "PROTOBUF"})),
            422,
            42201,
        ),
        (
            "PUT",
            "/config",
            Some(json!({"compatibility": "SIDEWAYS"})),
            422,
            42203,
        ),
        ("GET", "/config/t-value", None, 404, 40408),
    ];
    for (method, path, body, status, code) in cases {
        let (got_status, answer) = server.send(method, path, body).await;
        assert_eq!(
            (got_status, answer["error_code"].as_i64()),
            (status, Some(code)),
            "{method} {path}: {answer}"
        );
        assert!(answer["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

#[tokio::test]
async fn compatibility_is_checked_and_configurable() {
    let server = start().await;
    server
        .send(
            "POST",
            "/subjects/t-value/versions",
            Some(json!({"schema": V1})),
        )
        .await;

    let check = "/compatibility/subjects/t-value/versions/latest";
    assert_eq!(
        server
            .send("POST", check, Some(json!({"schema": V2})))
            .await,
        (200, json!({"is_compatible": true}))
    );
    let (_, verbose) = server
        .send(
            "POST",
            &format!("{check}?verbose=true"),
            Some(json!({"schema": TYPE_CHANGE})),
        )
        .await;
    assert_eq!(verbose["is_compatible"], false);
    let message = verbose["messages"][0].as_str().unwrap();
    assert!(
        message.contains("`id`") && message.contains("`string`") && message.contains("`int`"),
        "{message}"
    );
    // No versions yet: anything is compatible, as in Confluent.
    let (_, fresh) = server
        .send(
            "POST",
            "/compatibility/subjects/new-value/versions/latest",
            Some(json!({"schema": V1})),
        )
        .await;
    assert_eq!(fresh, json!({"is_compatible": true}));

    let (status, rejected) = server
        .send(
            "POST",
            "/subjects/t-value/versions",
            Some(json!({"schema": TYPE_CHANGE})),
        )
        .await;
    assert_eq!((status, rejected["error_code"].clone()), (409, json!(409)));
    assert!(
        rejected["message"].as_str().unwrap().contains("`id`"),
        "{rejected}"
    );

    assert_eq!(
        server.send("GET", "/config", None).await,
        (200, json!({"compatibilityLevel": "BACKWARD"}))
    );
    assert_eq!(
        server
            .send(
                "PUT",
                "/config/t-value",
                Some(json!({"compatibility": "NONE"}))
            )
            .await,
        (200, json!({"compatibility": "NONE"}))
    );
    assert_eq!(
        server.send("GET", "/config/t-value", None).await,
        (200, json!({"compatibilityLevel": "NONE"}))
    );
    assert_eq!(
        server
            .send("GET", "/config/other-value?defaultToGlobal=true", None)
            .await,
        (200, json!({"compatibilityLevel": "BACKWARD"}))
    );
    let (status, body) = server
        .send(
            "POST",
            "/subjects/t-value/versions",
            Some(json!({"schema": TYPE_CHANGE})),
        )
        .await;
    assert_eq!((status, body), (200, json!({"id": 2})));

    assert_eq!(
        server
            .send(
                "PUT",
                "/config",
                Some(json!({"compatibility": "FULL_TRANSITIVE"}))
            )
            .await,
        (200, json!({"compatibility": "FULL_TRANSITIVE"}))
    );
    assert_eq!(
        server.send("GET", "/config", None).await,
        (200, json!({"compatibilityLevel": "FULL_TRANSITIVE"}))
    );
}

#[tokio::test]
async fn plain_json_content_type_is_accepted() {
    let server = start().await;
    let response = server
        .http
        .post(format!("{}/subjects/j-value/versions", server.base))
        .header("content-type", "application/json")
        .body(json!({"schema": V1}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn remote_client_talks_to_the_real_server() {
    let server = start().await;
    let client = RemoteRegistryClient::new(&format!("{}/", server.base)).unwrap();
    let id = client.register("r-value", V1).await.unwrap();
    assert_eq!(id, SchemaId(1));
    assert_eq!(client.register("r-value", V1).await.unwrap(), id);
    let text = client.schema_by_id(id).await.unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        serde_json::from_str::<Value>(V1).unwrap()
    );
    let found = client.lookup("r-value", V1).await.unwrap();
    assert_eq!((found.id, found.version.0), (id, 1));

    // Errors carry the registry's code and message.
    let error = client.register("r-value", TYPE_CHANGE).await.unwrap_err();
    match &error {
        sluice_schemas::Error::RegistryResponse {
            status,
            error_code,
            message,
            ..
        } => {
            assert_eq!((*status, *error_code), (409, 409));
            assert!(message.contains("`id`"), "{message}");
        }
        other => panic!("unexpected error {other}"),
    }
    let missing = client.schema_by_id(SchemaId(77)).await.unwrap_err();
    assert!(
        matches!(
            missing,
            sluice_schemas::Error::RegistryResponse {
                error_code: 40403,
                ..
            }
        ),
        "{missing}"
    );
    assert!(RemoteRegistryClient::new("localhost:8081").is_err());
}

#[tokio::test]
async fn registry_contents_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("schemas.jsonl");
    {
        let registry =
            SchemaRegistry::open(Arc::new(FileRegistryStore::open(&path).unwrap())).unwrap();
        registry
            .register("t-value", V1, registry::SchemaFormat::Avro)
            .unwrap();
        registry
            .register("t-value", V2, registry::SchemaFormat::Avro)
            .unwrap();
        registry
            .set_level(Some("t-value"), registry::CompatibilityLevel::Forward)
            .unwrap();
    }
    let registry = SchemaRegistry::open(Arc::new(FileRegistryStore::open(&path).unwrap())).unwrap();
    assert_eq!(registry.versions("t-value").unwrap().len(), 2);
    assert_eq!(
        registry.subject_level("t-value"),
        Some(registry::CompatibilityLevel::Forward)
    );
    assert_eq!(
        registry.schema_by_id(SchemaId(2)).unwrap(),
        serde_json::from_str::<Value>(V2).unwrap().to_string()
    );
    // The log holds Confluent `_schemas`-shaped records.
    let first_line = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_owned();
    let record: Value = serde_json::from_str(&first_line).unwrap();
    assert_eq!(
        record["key"],
        json!({"keytype": "SCHEMA", "subject": "t-value", "version": 1, "magic": 1})
    );
    assert_eq!(record["value"]["id"], 1);
}

#[tokio::test]
async fn remote_client_sends_basic_auth_credentials() {
    use axum::extract::Request;
    use axum::middleware::{self, Next};
    use axum::response::IntoResponse;
    use base64::Engine;
    use sluice_schemas::avro::AvroConverterConfig;
    use sluice_schemas::registry::BasicAuth;

    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("svc:s3cret")
    );
    let guard = move |request: Request, next: Next| {
        let expected = expected.clone();
        async move {
            let given = request
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok());
            if given == Some(expected.as_str()) {
                next.run(request).await
            } else {
                let body = r#"{"error_code":401,"message":"Unauthorized"}"#;
                (axum::http::StatusCode::UNAUTHORIZED, body).into_response()
            }
        }
    };
    let registry = Arc::new(SchemaRegistry::in_memory());
    let app = Router::new()
        .nest("/schema-registry", registry::router(registry.clone()))
        .layer(middleware::from_fn(guard));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let base = format!("http://{address}/schema-registry");

    let anonymous = RemoteRegistryClient::new(&base).unwrap();
    let error = anonymous.register("a-value", V1).await.unwrap_err();
    assert!(
        matches!(
            error,
            sluice_schemas::Error::RegistryResponse {
                status: 401,
                error_code: 401,
                ..
            }
        ),
        "{error}"
    );

    let credentials = BasicAuth::parse_user_info("basic.auth.user.info", "svc:s3cret").unwrap();
    assert!(!format!("{credentials:?}").contains("s3cret"));
    let client = RemoteRegistryClient::new(&base)
        .unwrap()
        .with_basic_auth(credentials.clone());
    assert_eq!(client.register("a-value", V1).await.unwrap(), SchemaId(1));

    // Credentials in the URL (Confluent's basic.auth.credentials.source=URL) leave the URL.
    let with_user_info = format!("http://svc:s3cret@{address}/schema-registry");
    let config = AvroConverterConfig::from_properties([
        ("schema.registry.url", with_user_info.as_str()),
        ("basic.auth.credentials.source", "URL"),
    ])
    .unwrap();
    assert_eq!(config.registry_url.as_deref(), Some(base.as_str()));
    assert_eq!(config.registry_credentials, Some(credentials));
    assert!(!format!("{config:?}").contains("s3cret"));
    let config = AvroConverterConfig::from_properties([
        ("schema.registry.url", base.as_str()),
        ("basic.auth.credentials.source", "USER_INFO"),
        ("basic.auth.user.info", "svc:s3cret"),
    ])
    .unwrap();
    let converter = sluice_schemas::avro::AvroConverter::from_config(
        &config,
        registry::RecordPart::Value,
        &Arc::new(SchemaRegistry::in_memory()),
    )
    .unwrap();
    let schema = sluice_schemas::SchemaBuilder::string().build();
    let bytes = converter
        .from_connect("b", &schema, &"hi".into())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&bytes[..5], &[0, 0, 0, 0, 2]);
    assert_eq!(
        registry.subjects(),
        vec!["a-value".to_owned(), "b-value".to_owned()]
    );
    assert!(BasicAuth::parse_user_info("basic.auth.user.info", "no-colon").is_err());
}

#[tokio::test]
async fn subjects_and_versions_are_deleted_softly_then_permanently() {
    let server = start().await;
    server
        .send(
            "POST",
            "/subjects/d-value/versions",
            Some(json!({"schema": V1})),
        )
        .await;
    server
        .send(
            "POST",
            "/subjects/d-value/versions",
            Some(json!({"schema": V2})),
        )
        .await;

    let (status, body) = server
        .send("DELETE", "/subjects/d-value?permanent=true", None)
        .await;
    assert_eq!((status, body["error_code"].clone()), (404, json!(40405)));
    let (status, body) = server
        .send(
            "DELETE",
            "/subjects/d-value/versions/2?permanent=true",
            None,
        )
        .await;
    assert_eq!((status, body["error_code"].clone()), (404, json!(40407)));

    assert_eq!(
        server
            .send("DELETE", "/subjects/d-value/versions/latest", None)
            .await,
        (200, json!(2))
    );
    assert_eq!(
        server.send("GET", "/subjects/d-value/versions", None).await,
        (200, json!([1]))
    );
    // A soft-deleted schema stays readable by id.
    assert_eq!(server.send("GET", "/schemas/ids/2", None).await.0, 200);
    assert_eq!(
        server
            .send(
                "DELETE",
                "/subjects/d-value/versions/2?permanent=true",
                None
            )
            .await,
        (200, json!(2))
    );

    assert_eq!(
        server.send("DELETE", "/subjects/d-value", None).await,
        (200, json!([1]))
    );
    assert_eq!(
        server.send("GET", "/subjects", None).await,
        (200, json!([]))
    );
    let (status, body) = server.send("DELETE", "/subjects/d-value", None).await;
    assert_eq!((status, body["error_code"].clone()), (404, json!(40404)));
    assert_eq!(
        server
            .send("DELETE", "/subjects/d-value?permanent=true", None)
            .await,
        (200, json!([1]))
    );
    let (status, body) = server.send("DELETE", "/subjects/d-value", None).await;
    assert_eq!((status, body["error_code"].clone()), (404, json!(40401)));

    // Registering again continues the numbering and keeps the global id.
    server
        .send(
            "POST",
            "/subjects/d-value/versions",
            Some(json!({"schema": V1})),
        )
        .await;
    let (_, latest) = server
        .send("GET", "/subjects/d-value/versions/latest", None)
        .await;
    assert_eq!(
        (latest["version"].clone(), latest["id"].clone()),
        (json!(3), json!(1))
    );
}
