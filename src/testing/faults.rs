//! Fault injection and the rate limit: what every API request of the fake tenant goes through
//! before its operation. A fault injected with [`FakeTenant::inject`](super::FakeTenant::inject)
//! answers in the operation's place (a status, a 429, a closed or reset connection), holds it
//! back (a stall), or spoils its response (a body cut off, truncated or replaced); then the
//! tenant's token bucket admits the request or answers 429, and its `X-RateLimit-*` headers go
//! on every response as Auth0 sends them.

use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;

use super::failure::Failure;
use super::{Fault, Tenant};

/// What every API request goes through before its operation: injected faults, then the
/// tenant's rate limit, whose headers go on every response as Auth0 sends them.
pub(super) async fn gate(State(tenant): State<Arc<Tenant>>, request: Request, next: Next) -> Response {
    let fault = tenant.next_fault();
    match &fault {
        None
        | Some(Fault::CloseMidBody | Fault::TruncateBody | Fault::ReplaceBody { .. })
        | Some(Fault::Hang(_)) => {}
        Some(Fault::Status(status)) => {
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return Failure::status(status).into_response();
        }
        Some(Fault::RetryAfterSeconds(seconds)) => {
            return rate_limited(&[(header::RETRY_AFTER.as_str(), seconds.to_string())]);
        }
        Some(Fault::RetryAfterDate(at)) => {
            return rate_limited(&[(header::RETRY_AFTER.as_str(), httpdate::fmt_http_date(*at))]);
        }
        Some(Fault::RateLimitReset(at)) => {
            let reset = at.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
            return rate_limited(&[
                ("x-ratelimit-limit", "10".to_owned()),
                ("x-ratelimit-remaining", "0".to_owned()),
                ("x-ratelimit-reset", reset.to_string()),
            ]);
        }
        Some(Fault::CloseConnection) => {
            if let Some(connection) = request.extensions().get::<super::server::Connection>() {
                connection.close();
            }
            return std::future::pending().await;
        }
        Some(Fault::ResetConnection) => {
            if let Some(connection) = request.extensions().get::<super::server::Connection>() {
                connection.reset();
            }
            return std::future::pending().await;
        }
    }
    if let Some(Fault::Hang(duration)) = fault {
        // Its own task: a client that gives up and closes the connection does not cancel it.
        let stalled = tokio::spawn(async move {
            tokio::time::sleep(duration).await;
            admit_and_run(&tenant, request, next).await
        });
        return stalled
            .await
            .unwrap_or_else(|_| Failure::status(StatusCode::INTERNAL_SERVER_ERROR).into_response());
    }
    let response = admit_and_run(&tenant, request, next).await;
    match fault {
        Some(Fault::CloseMidBody) => cut_off(response).await,
        Some(Fault::TruncateBody) => truncate(response).await,
        Some(Fault::ReplaceBody { content_type, body }) => replace_body(response, &content_type, body),
        _ => response,
    }
}

/// The tenant's rate limit, then the operation, with the `X-RateLimit-*` headers.
async fn admit_and_run(tenant: &Tenant, request: Request, next: Next) -> Response {
    limit_rate(tenant, request, next, Failure::rate_limited().into_response()).await
}

/// `POST /oauth/token` in the API's bucket, when the tenant is set so; a refusal has the
/// Authentication API's body.
pub(super) async fn token_gate(State(tenant): State<Arc<Tenant>>, request: Request, next: Next) -> Response {
    if !tenant.settings.token_endpoint_limited {
        return next.run(request).await;
    }
    let refused = (
        StatusCode::TOO_MANY_REQUESTS,
        axum::Json(serde_json::json!({
            "error": "too_many_requests",
            "error_description": "Rate limit exceeded.",
        })),
    )
        .into_response();
    limit_rate(&tenant, request, next, refused).await
}

/// The request goes through the bucket: admitted, it is run; refused, `refused` is the response.
/// Either way the `X-RateLimit-*` headers go on it.
async fn limit_rate(tenant: &Tenant, request: Request, next: Next, mut refused: Response) -> Response {
    let admission = tenant.admit(Instant::now());
    let mut response = match admission {
        Some(admission) if !admission.allowed => {
            if tenant.settings.retry_after {
                refused
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(admission.retry_after));
            }
            refused
        }
        _ => next.run(request).await,
    };
    if let Some(admission) = admission {
        let headers = response.headers_mut();
        headers.insert("x-ratelimit-limit", HeaderValue::from(admission.limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(admission.remaining));
        headers.insert("x-ratelimit-reset", HeaderValue::from(admission.reset));
    }
    response
}

/// The network between client and tenant: every request arrives `latency` late, and every
/// response leaves `latency` after it was made.
pub(super) async fn latency(State(tenant): State<Arc<Tenant>>, request: Request, next: Next) -> Response {
    let latency = tenant.settings.latency;
    if latency.is_zero() {
        return next.run(request).await;
    }
    tokio::time::sleep(latency).await;
    let response = next.run(request).await;
    tokio::time::sleep(latency).await;
    response
}

/// An injected 429: Auth0's body with these headers.
fn rate_limited(headers: &[(&'static str, String)]) -> Response {
    let mut response = Failure::rate_limited().into_response();
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(value) {
            response.headers_mut().insert(*name, value);
        }
    }
    response
}

/// `response`'s status and headers, and its body whole, for the body faults.
async fn take_body(response: Response) -> (axum::http::response::Parts, Bytes) {
    let (parts, body) = response.into_parts();
    // The fake's own bodies are in memory: reading them cannot fail.
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    (parts, bytes)
}

/// [`Fault::CloseMidBody`]: the full `Content-Length`, half the body, then a broken connection.
async fn cut_off(response: Response) -> Response {
    let (mut parts, bytes) = take_body(response).await;
    if bytes.is_empty() {
        return Response::from_parts(parts, Body::empty());
    }
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    let half = bytes.slice(..bytes.len() / 2);
    let first = futures_util::stream::once(async move { Ok::<_, std::io::Error>(half) });
    let broken = futures_util::stream::once(async {
        // Long enough for hyper to send the status, headers and first half; the body
        // stream's error then makes hyper drop the connection.
        tokio::time::sleep(CUT_OFF_AFTER).await;
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "the fake tenant cut the body off (Fault::CloseMidBody)",
        ))
    });
    Response::from_parts(parts, Body::from_stream(first.chain(broken)))
}

/// How long [`cut_off`] lets the first half of a body travel before breaking the connection.
const CUT_OFF_AFTER: Duration = Duration::from_millis(20);

/// [`Fault::TruncateBody`]: a complete response carrying the first half of the body.
async fn truncate(response: Response) -> Response {
    let (mut parts, bytes) = take_body(response).await;
    let half = bytes.slice(..bytes.len() / 2);
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(half.len()));
    Response::from_parts(parts, Body::from(half))
}

/// [`Fault::ReplaceBody`]: the response's status with another content type and body; a 204
/// (or 304) stays without a body, as HTTP requires.
fn replace_body(response: Response, content_type: &str, body: Vec<u8>) -> Response {
    let (mut parts, _) = response.into_parts();
    if matches!(parts.status, StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED) {
        return Response::from_parts(parts, Body::empty());
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    match HeaderValue::from_str(content_type) {
        Ok(value) => parts.headers.insert(header::CONTENT_TYPE, value),
        Err(_) => parts.headers.remove(header::CONTENT_TYPE),
    };
    Response::from_parts(parts, Body::from(body))
}
