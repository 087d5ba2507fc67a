//! REST error responses in Kafka Connect's shape: `{"error_code": <http status>,
//! "message": "…"}`, and the mapping from runtime and broker errors to statuses.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::Error;

/// An error answered to a REST client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error_code": self.status.as_u16(), "message": self.message});
        (self.status, Json(body)).into_response()
    }
}

/// The message with every cause appended, so a client sees the root problem.
pub fn full_message(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

impl From<sluice_broker::Error> for ApiError {
    fn from(error: sluice_broker::Error) -> Self {
        use sluice_broker::Error as B;
        let status = match &error {
            B::UnknownTopic(_) | B::UnknownPartition { .. } => StatusCode::NOT_FOUND,
            B::TopicExists(_) => StatusCode::CONFLICT,
            B::InvalidTopicName { .. }
            | B::InvalidConfig { .. }
            | B::EmptyBatch
            | B::BatchTooLarge { .. }
            | B::OffsetOutOfRange { .. } => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self::new(status, full_message(&error))
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        let status = match &error {
            Error::MalformedConfig { .. }
            | Error::MissingConfig { .. }
            | Error::InvalidConfig { .. }
            | Error::UnresolvedReference { .. }
            | Error::UnknownConnectorClass { .. }
            | Error::WrongConnectorState(_) => StatusCode::BAD_REQUEST,
            Error::UnknownConnector(_) | Error::UnknownTask { .. } => StatusCode::NOT_FOUND,
            Error::ConnectorExists(_) => StatusCode::CONFLICT,
            Error::Store { source, .. } => return ApiError::from_broker_ref(source, &error),
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self::new(status, full_message(&error))
    }
}

impl ApiError {
    fn from_broker_ref(source: &sluice_broker::Error, whole: &Error) -> Self {
        let status = match source {
            sluice_broker::Error::UnknownTopic(_) => StatusCode::NOT_FOUND,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self::new(status, full_message(whole))
    }
}
