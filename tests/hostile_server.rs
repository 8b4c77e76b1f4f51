//! A server that misbehaves on purpose, byte for byte: redirects to another origin, bodies
//! larger than the limit or without end, stalls. Nothing (a token, a secret, a request) goes
//! anywhere the caller did not point the client, no response is held in memory past the limit,
//! and every call ends with an error that says what happened.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use auth0_client_grants::{Client, DEFAULT_MAX_RESPONSE_SIZE, Error, RetryPolicy};
use common::raw_server::{RawServer, Reply, head, response};
use common::{FakeClock, RECORDED_GRANT};

const SECRET: &str = "m2m-secret-value-7f3a";
const TOKEN_ANSWER: &str = r#"{"access_token":"issued-token","token_type":"Bearer","expires_in":86400}"#;

/// The other origin a hostile server points to; it records whatever reaches it.
async fn elsewhere() -> RawServer {
    RawServer::start(|request| {
        let body = if request.path() == "/oauth/token" {
            TOKEN_ANSWER
        } else {
            RECORDED_GRANT
        };
        Reply::Bytes(response(
            "200 OK",
            &[("content-type", "application/json")],
            body.as_bytes(),
        ))
    })
    .await
}

/// A server that answers every request, the token request included, with a 307 to `location`.
async fn redirecting_everything_to(location: &str) -> RawServer {
    let location = location.to_owned();
    RawServer::start(move |_| {
        Reply::Bytes(response(
            "307 Temporary Redirect",
            &[("location", &location)],
            b"",
        ))
    })
    .await
}

/// A tenant whose token endpoint works and whose API answers every request with `api`.
async fn tenant(api: impl Fn() -> Reply + Send + Sync + 'static) -> RawServer {
    RawServer::start(move |request| {
        if request.path() == "/oauth/token" {
            Reply::Bytes(response(
                "200 OK",
                &[("content-type", "application/json")],
                TOKEN_ANSWER.as_bytes(),
            ))
        } else {
            api()
        }
    })
    .await
}

fn credentials_client(server: &RawServer) -> Client {
    Client::builder()
        .base_url(server.url("/api/v2"))
        .client_credentials("m2m-client", SECRET)
        .clock(FakeClock::new())
        .build()
        .unwrap()
}

fn api_requests(server: &RawServer) -> usize {
    server
        .requests()
        .iter()
        .filter(|request| request.path() != "/oauth/token")
        .count()
}

#[tokio::test]
async fn an_api_redirect_to_another_origin_is_an_error_naming_status_and_location_and_is_not_followed() {
    for status in [
        "301 Moved Permanently",
        "302 Found",
        "303 See Other",
        "307 Temporary Redirect",
        "308 Permanent Redirect",
    ] {
        let other = elsewhere().await;
        let location = other.url("/api/v2/client-grants/cgr_1");
        let server = tenant({
            let location = location.clone();
            move || Reply::Bytes(response(status, &[("location", &location)], b""))
        })
        .await;
        let client = credentials_client(&server);

        let result = client.client_grants().get("cgr_1").await;

        let Err(Error::Redirect(redirect)) = &result else {
            panic!("{status}: expected a redirect error, got {result:?}");
        };
        let code: u16 = status[..3].parse().unwrap();
        assert_eq!(redirect.status(), code);
        assert_eq!(redirect.location(), Some(location.as_str()));
        let message = result.unwrap_err().to_string();
        assert!(
            message.contains(&location) && message.contains("not followed"),
            "{message}"
        );
        assert_eq!(
            other.requests().len(),
            0,
            "{status}: the other origin was reached"
        );
        assert_eq!(api_requests(&server), 1, "{status}: a redirect is not retried");
    }
}

#[tokio::test]
async fn a_token_endpoint_redirect_sends_the_client_secret_nowhere() {
    let other = elsewhere().await;
    let location = other.url("/oauth/token");
    let server = redirecting_everything_to(&location).await;
    let client = credentials_client(&server);

    let result = client.client_grants().get("cgr_1").await;

    let Err(Error::Token(error)) = &result else {
        panic!("expected a token error, got {result:?}");
    };
    assert_eq!(error.status(), Some(307));
    let message = error.to_string();
    assert!(
        message.contains(&location) && message.contains("not followed"),
        "{message}"
    );
    assert_eq!(
        other.requests().len(),
        0,
        "the client secret went to the other origin"
    );
    assert_eq!(api_requests(&server), 0, "the API was called without a token");
}

/// A tenant whose API answers every request with a 307 to the same path on `other`.
async fn redirecting_to(other: &RawServer) -> RawServer {
    let location = other.url("/api/v2/client-grants/cgr_1");
    tenant(move || {
        Reply::Bytes(response(
            "307 Temporary Redirect",
            &[("location", &location)],
            b"",
        ))
    })
    .await
}

/// An HTTP client of the caller's that follows redirects, as reqwest's default does.
fn following_client(server: &RawServer) -> Client {
    Client::builder()
        .base_url(server.url("/api/v2"))
        .client_credentials("m2m-client", SECRET)
        .http_client(reqwest::Client::new())
        .clock(FakeClock::new())
        .build()
        .unwrap()
}

#[tokio::test]
async fn with_a_callers_client_that_follows_redirects_a_response_from_another_origin_is_refused() {
    let other = elsewhere().await;
    let location = other.url("/api/v2/client-grants/cgr_1");
    let server = tenant({
        let location = location.clone();
        move || Reply::Bytes(response("302 Found", &[("location", &location)], b""))
    })
    .await;
    let client = following_client(&server);

    let result = client.client_grants().get("cgr_1").await;

    let Err(Error::Redirect(redirect)) = &result else {
        panic!("expected the other origin's grant to be refused, got {result:?}");
    };
    assert_eq!(redirect.status(), 200);
    assert_eq!(redirect.location(), Some(other.url("").as_str()));
    let message = result.unwrap_err().to_string();
    assert!(message.contains("redirect::Policy::none()"), "{message}");
    // reqwest drops the bearer token on the way to another host; the README says so.
    let reached = other.requests();
    assert_eq!(reached.len(), 1);
    assert_eq!(reached[0].header("authorization"), None, "{reached:?}");
}

#[tokio::test]
async fn a_refused_success_from_another_origin_is_not_read_however_long_its_body() {
    // progenitor reads a success's body before the attempt loop refuses the response: the
    // refused one must come with nothing to read.
    let other =
        RawServer::start(|_| Reply::EndlessChunks(head("200 OK", &[("transfer-encoding", "chunked")]))).await;
    let server = redirecting_to(&other).await;
    let client = Client::builder()
        .base_url(server.url("/api/v2"))
        .client_credentials("m2m-client", SECRET)
        .http_client(reqwest::Client::new())
        .max_response_size(1024)
        .clock(FakeClock::new())
        .build()
        .unwrap();

    let result = client.client_grants().get("cgr_1").await;

    assert!(matches!(&result, Err(Error::Redirect(_))), "{result:?}");
    let sent = other.endless_bytes_sent();
    assert!(sent < 64 << 20, "the client took {sent} bytes");
}

#[tokio::test]
async fn with_a_callers_client_that_follows_redirects_a_delete_answered_elsewhere_is_not_done() {
    // A delete's response has no body to refuse: another origin's 204 must not read as success.
    let other = RawServer::start(|_| Reply::Bytes(response("204 No Content", &[], b""))).await;
    let server = redirecting_to(&other).await;
    let client = following_client(&server);

    let result = client.client_grants().delete("cgr_1").await;

    let Err(Error::Redirect(redirect)) = &result else {
        panic!("expected the other origin's 204 to be refused, got {result:?}");
    };
    assert_eq!(redirect.status(), 204);
    assert_eq!(client.last_rate_limit(), None);
}

#[tokio::test]
async fn with_a_callers_client_that_follows_redirects_a_token_from_another_origin_is_refused() {
    let other = elsewhere().await;
    let location = other.url("/oauth/token");
    let server = redirecting_everything_to(&location).await;
    let client = following_client(&server);

    let result = client.client_grants().get("cgr_1").await;

    let Err(Error::Token(error)) = &result else {
        panic!("expected a token error, got {result:?}");
    };
    assert!(error.to_string().contains("not from the origin"), "{error}");
    assert_eq!(api_requests(&server), 0);
    assert_eq!(api_requests(&other), 0, "the other origin's token was used");
}

fn limited_client(server: &RawServer, limit: usize, retry: RetryPolicy) -> Client {
    Client::builder()
        .base_url(server.url("/api/v2"))
        .client_credentials("m2m-client", SECRET)
        .max_response_size(limit)
        .retry(retry)
        .clock(FakeClock::new())
        .build()
        .unwrap()
}

fn assert_too_large(result: Result<impl std::fmt::Debug, Error>, limit: usize) {
    match result {
        Err(Error::ResponseTooLarge { limit: named }) => assert_eq!(named, limit),
        other => panic!("expected ResponseTooLarge, got {other:?}"),
    }
}

#[tokio::test]
async fn an_answer_announced_larger_than_the_limit_is_refused_unread_and_not_retried() {
    // 200 MB announced; only the head is ever sent.
    let announced = (200_000_000).to_string();
    let server = tenant(move || {
        Reply::Stall(
            head("200 OK", &[("content-length", &announced)]),
            Duration::from_secs(30),
        )
    })
    .await;
    let client = limited_client(&server, DEFAULT_MAX_RESPONSE_SIZE, RetryPolicy::standard());

    let result = client.client_grants().get("cgr_1").await;

    assert_too_large(result, DEFAULT_MAX_RESPONSE_SIZE);
    assert_eq!(api_requests(&server), 1);
}

#[tokio::test]
async fn endless_bodies_stop_being_read_at_the_limit_for_success_and_error_answers() {
    const LIMIT: usize = 64 * 1024;
    for status in ["200 OK", "500 Internal Server Error", "404 Not Found"] {
        let server =
            tenant(move || Reply::Endless(head(status, &[("content-type", "application/json")]))).await;
        let client = limited_client(&server, LIMIT, RetryPolicy::standard());

        let result = client.client_grants().get("cgr_1").await;

        assert_too_large(result, LIMIT);
        assert_eq!(
            api_requests(&server),
            1,
            "{status}: a body too large is not retried"
        );
        // The client hung up: what the server got out is what fits in socket buffers, far
        // below the 1 GiB it would send to a client that kept reading.
        let sent = server.endless_bytes_sent();
        assert!(sent < 64 << 20, "{status}: the client took {sent} bytes");
    }
}

#[tokio::test]
async fn bytes_past_the_announced_length_are_never_read() {
    // The body announces 10 bytes within the limit, then the server sends without end.
    let server = tenant(|| Reply::Endless(head("200 OK", &[("content-length", "10")]))).await;
    let client = limited_client(&server, DEFAULT_MAX_RESPONSE_SIZE, RetryPolicy::disabled());

    let result = client.client_grants().get("cgr_1").await;

    let Err(Error::Decode(error)) = &result else {
        panic!("expected the 10 bytes to be decoded and refused, got {result:?}");
    };
    assert_eq!(error.body_snippet(), "xxxxxxxxxx");
    let sent = server.endless_bytes_sent();
    assert!(sent < 64 << 20, "the client took {sent} bytes");
}

#[tokio::test]
async fn a_small_content_length_beside_a_chunked_body_does_not_lift_the_limit() {
    // The transfer coding decides how the body is read, whatever Content-Length says.
    const LIMIT: usize = 64 * 1024;
    let server = tenant(|| {
        Reply::EndlessChunks(head(
            "200 OK",
            &[("transfer-encoding", "chunked"), ("content-length", "10")],
        ))
    })
    .await;
    let client = limited_client(&server, LIMIT, RetryPolicy::standard());

    let result = client.client_grants().get("cgr_1").await;

    assert_too_large(result, LIMIT);
    let sent = server.endless_bytes_sent();
    assert!(sent < 64 << 20, "the client took {sent} bytes");
}

#[tokio::test]
async fn an_endless_token_answer_is_a_token_error_naming_the_limit() {
    const LIMIT: usize = 16 * 1024;
    let server = RawServer::start(|_| Reply::Endless(head("200 OK", &[]))).await;
    let client = limited_client(&server, LIMIT, RetryPolicy::standard());

    let result = client.client_grants().get("cgr_1").await;

    let Err(Error::Token(error)) = &result else {
        panic!("expected a token error, got {result:?}");
    };
    assert!(
        error.to_string().contains(&format!("limit of {LIMIT} bytes")),
        "{error}"
    );
    assert_eq!(api_requests(&server), 0);
}

#[tokio::test]
async fn an_answer_of_exactly_the_limit_is_read() {
    let limit = RECORDED_GRANT.len();
    let server = tenant(|| {
        Reply::Bytes(response(
            "200 OK",
            &[("content-type", "application/json")],
            RECORDED_GRANT.as_bytes(),
        ))
    })
    .await;

    let grant = limited_client(&server, limit, RetryPolicy::disabled())
        .client_grants()
        .get("cgr_1")
        .await;
    assert!(grant.is_ok(), "{grant:?}");
    let one_short = limited_client(&server, limit - 1, RetryPolicy::disabled())
        .client_grants()
        .get("cgr_1")
        .await;
    assert_too_large(one_short, limit - 1);
}

#[tokio::test]
async fn a_body_that_stalls_after_the_headers_times_out_and_is_retried_for_a_get() {
    let attempts = Arc::new(AtomicUsize::new(0));
    let server = tenant({
        let attempts = attempts.clone();
        move || {
            attempts.fetch_add(1, Ordering::SeqCst);
            let mut bytes = head("200 OK", &[("content-length", "1000")]);
            bytes.extend_from_slice(b"{\"id\":");
            Reply::Stall(bytes, Duration::from_secs(30))
        }
    })
    .await;
    let client = Client::builder()
        .base_url(server.url("/api/v2"))
        .client_credentials("m2m-client", SECRET)
        .timeout(Duration::from_millis(300))
        .retry(RetryPolicy::standard().max_retries(1))
        .clock(FakeClock::new())
        .build()
        .unwrap();

    let result = client.client_grants().get("cgr_1").await;

    assert!(matches!(result, Err(Error::Timeout(_))), "{result:?}");
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
}
