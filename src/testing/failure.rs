//! Error answers in Auth0's shape: `{"statusCode","error","message","errorCode"}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// One non-2xx response of the fake tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
    pub(crate) error_code: Option<&'static str>,
}

impl Failure {
    fn new(status: StatusCode, message: impl Into<String>, error_code: Option<&'static str>) -> Self {
        Self {
            status,
            message: message.into(),
            error_code,
        }
    }

    /// A request body Auth0 refuses (`invalid_body`).
    pub(crate) fn invalid_body(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            format!("Payload validation error: {}", message.into()),
            Some("invalid_body"),
        )
    }

    /// A query string Auth0 refuses (`invalid_query_string`).
    pub(crate) fn invalid_query(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            format!("Query validation error: {}", message.into()),
            Some("invalid_query_string"),
        )
    }

    /// A path parameter Auth0 refuses (`invalid_uri`).
    pub(crate) fn invalid_path(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            format!("Path validation error: {}", message.into()),
            Some("invalid_uri"),
        )
    }

    pub(crate) fn grant_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "The grant does not exist.",
            Some("inexistent_client_grant"),
        )
    }

    pub(crate) fn resource_server_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "The resource server does not exist",
            Some("inexistent_resource_server"),
        )
    }

    pub(crate) fn organization_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "No organization found by that id.",
            Some("inexistent_organization"),
        )
    }

    pub(crate) fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message, None)
    }

    pub(crate) fn system_grant() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "System client grants cannot be modified or deleted.",
            Some("operation_not_supported"),
        )
    }

    pub(crate) fn unauthorized(message: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message, None)
    }

    pub(crate) fn insufficient_scope(scope: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            format!("Insufficient scope, expected any of: {scope}"),
            Some("insufficient_scope"),
        )
    }

    pub(crate) fn not_found_route() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not Found", None)
    }

    /// A response with `status` and nothing else to say, for injected faults.
    pub(crate) fn status(status: StatusCode) -> Self {
        let message = status.canonical_reason().unwrap_or("Error");
        Self::new(status, message, None)
    }

    pub(crate) fn rate_limited() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Global limit has been reached",
            Some("too_many_requests"),
        )
    }

    /// The JSON body Auth0 sends with this response.
    pub(crate) fn body(&self) -> serde_json::Value {
        let mut body = json!({
            "statusCode": self.status.as_u16(),
            "error": self.status.canonical_reason().unwrap_or("Error"),
            "message": self.message,
        });
        if let Some(code) = self.error_code {
            body["errorCode"] = json!(code);
        }
        body
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}
