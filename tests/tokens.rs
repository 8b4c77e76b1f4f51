//! Client credentials: one token request however many callers, refresh before expiry,
//! refresh-and-retry on 401, and the token endpoint's errors.

mod common;

use std::time::Duration;

use auth0_client_grants::Clock;
use auth0_client_grants::{AccessToken, Client, Error, RetryPolicy, TokenFuture, TokenProvider};
use common::virtual_clock::VirtualClock;
use common::{FakeClock, RECORDED_GRANT};
use httpmock::Method::{GET, POST};
use httpmock::{Mock, MockServer};
use serde_json::json;

fn credentials_client(server: &MockServer, clock: &FakeClock) -> Client {
    Client::builder()
        .base_url(server.url("/api/v2"))
        .client_credentials("m2m-client", "m2m-secret")
        .clock(clock.clone())
        .build()
        .unwrap()
}

async fn token_endpoint(server: &MockServer, expires_in: u64) -> Mock<'_> {
    token_endpoint_answering(server, json!(expires_in)).await
}

/// A token endpoint whose responses say `"expires_in": expires_in`.
async fn token_endpoint_answering(server: &MockServer, expires_in: serde_json::Value) -> Mock<'_> {
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/token")
                .header("content-type", "application/json")
                .json_body(json!({
                    "grant_type": "client_credentials",
                    "client_id": "m2m-client",
                    "client_secret": "m2m-secret",
                    "audience": server.url("/api/v2/"),
                }));
            then.status(200).json_body(json!({
                "access_token": "issued-token",
                "token_type": "Bearer",
                "expires_in": expires_in,
                "scope": "read:client_grants",
            }));
        })
        .await
}

async fn grant_endpoint(server: &MockServer) -> Mock<'_> {
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/client-grants/cgr_1")
                .header("authorization", "Bearer issued-token");
            then.status(200).body(RECORDED_GRANT);
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_first_calls_make_exactly_one_token_request() {
    let server = MockServer::start_async().await;
    let token = token_endpoint(&server, 86_400).await;
    let grant = grant_endpoint(&server).await;
    let client = credentials_client(&server, &FakeClock::new());

    let calls = (0..100).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.client_grants().get("cgr_1").await })
    });
    for result in futures::future::join_all(calls).await {
        result.unwrap().unwrap();
    }

    token.assert_calls_async(1).await;
    grant.assert_calls_async(100).await;
}

#[tokio::test]
async fn the_token_is_reused_until_the_refresh_margin_before_expiry() {
    let server = MockServer::start_async().await;
    let token = token_endpoint(&server, 3_600).await;
    let grant = grant_endpoint(&server).await;
    let clock = FakeClock::new();
    let client = credentials_client(&server, &clock);

    client.client_grants().get("cgr_1").await.unwrap();
    clock.advance(Duration::from_secs(3_600 - 61));
    client.client_grants().get("cgr_1").await.unwrap();
    token.assert_calls_async(1).await;

    // 59 s before expiry is inside the default 60 s margin: a new token is fetched first.
    clock.advance(Duration::from_secs(2));
    client.client_grants().get("cgr_1").await.unwrap();
    token.assert_calls_async(2).await;
    grant.assert_calls_async(3).await;
}

#[tokio::test]
async fn expires_in_that_cannot_be_believed_means_the_token_is_used_until_a_401() {
    for expires_in in [
        json!(1e30),
        json!(u64::MAX),
        json!(400 * 86_400),
        json!("3600"),
        json!(null),
    ] {
        let server = MockServer::start_async().await;
        let token = token_endpoint_answering(&server, expires_in.clone()).await;
        let grant = grant_endpoint(&server).await;
        let clock = FakeClock::new();
        let client = credentials_client(&server, &clock);

        for _ in 0..3 {
            let result = client.client_grants().get("cgr_1").await;
            assert!(result.is_ok(), "expires_in {expires_in}: {result:?}");
            clock.advance(Duration::from_secs(30 * 86_400));
        }

        token.assert_calls_async(1).await;
        grant.assert_calls_async(3).await;
    }
}

#[tokio::test]
async fn expires_in_of_zero_or_less_means_one_token_request_per_call_and_never_an_error() {
    for expires_in in [json!(0), json!(-1), json!(-1e30)] {
        let server = MockServer::start_async().await;
        let token = token_endpoint_answering(&server, expires_in.clone()).await;
        let grant = grant_endpoint(&server).await;
        let client = credentials_client(&server, &FakeClock::new());

        for _ in 0..3 {
            let result = client.client_grants().get("cgr_1").await;
            assert!(result.is_ok(), "expires_in {expires_in}: {result:?}");
        }

        token.assert_calls_async(3).await;
        grant.assert_calls_async(3).await;
    }
}

#[tokio::test]
async fn a_token_shorter_lived_than_twice_the_refresh_margin_is_used_for_half_its_life() {
    let server = MockServer::start_async().await;
    let token = token_endpoint(&server, 10).await;
    let grant = grant_endpoint(&server).await;
    let clock = FakeClock::new();
    let client = credentials_client(&server, &clock);

    // The default margin is 60 s: without the cap at half of 10 s, every call would fetch.
    client.client_grants().get("cgr_1").await.unwrap();
    clock.advance(Duration::from_secs(4));
    client.client_grants().get("cgr_1").await.unwrap();
    token.assert_calls_async(1).await;

    clock.advance(Duration::from_secs(1));
    client.client_grants().get("cgr_1").await.unwrap();
    token.assert_calls_async(2).await;
    grant.assert_calls_async(3).await;
}

#[tokio::test]
async fn a_401_drops_the_token_fetches_a_new_one_and_retries_the_call_once() {
    let server = MockServer::start_async().await;
    let token = token_endpoint(&server, 86_400).await;
    let refused = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v2/client-grants/cgr_1");
            then.status(401)
                .json_body(json!({"statusCode": 401, "error": "Unauthorized", "message": "Invalid token"}));
        })
        .await;
    let client = credentials_client(&server, &FakeClock::new());

    let error = client.client_grants().get("cgr_1").await.unwrap_err();

    assert_eq!(error.status(), Some(401));
    assert_eq!(error.to_string(), "401 Unauthorized: Invalid token");
    token.assert_calls_async(2).await;
    refused.assert_calls_async(2).await;
}

#[tokio::test]
async fn a_401_with_a_fixed_token_is_returned_at_once() {
    let server = MockServer::start_async().await;
    let refused = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v2/client-grants/cgr_1");
            then.status(401).body("");
        })
        .await;
    let client = Client::builder()
        .base_url(server.url("/api/v2"))
        .token("expired")
        .clock(FakeClock::new())
        .build()
        .unwrap();

    let error = client.client_grants().get("cgr_1").await.unwrap_err();

    assert_eq!(error.status(), Some(401));
    refused.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_token_endpoint_refusal_is_a_token_error_and_the_api_is_not_called() {
    let server = MockServer::start_async().await;
    let token = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(401)
                .json_body(json!({"error": "access_denied", "error_description": "Unauthorized"}));
        })
        .await;
    let api = server
        .mock_async(|when, then| {
            when.path_prefix("/api/v2");
            then.status(200).body(RECORDED_GRANT);
        })
        .await;
    let client = credentials_client(&server, &FakeClock::new());

    let error = client.client_grants().get("cgr_1").await.unwrap_err();

    let Error::Token(token_error) = &error else {
        panic!("expected a token error, got {error:?}")
    };
    assert_eq!(token_error.status(), Some(401));
    assert_eq!(token_error.error(), Some("access_denied"));
    assert_eq!(token_error.error_description(), Some("Unauthorized"));
    assert_eq!(
        error.to_string(),
        "no access token: the token endpoint answered 401: access_denied: Unauthorized"
    );
    token.assert_calls_async(1).await;
    api.assert_calls_async(0).await;
}

#[tokio::test]
async fn an_unreachable_token_endpoint_is_a_token_error() {
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = Client::builder()
        .base_url(format!("http://127.0.0.1:{closed_port}/api/v2"))
        .client_credentials("id", "secret")
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap();

    let error = client.client_grants().get("cgr_1").await.unwrap_err();

    let Error::Token(token_error) = &error else {
        panic!("expected a token error, got {error:?}")
    };
    assert_eq!(token_error.status(), None);
    assert_eq!(
        error.to_string(),
        "no access token: cannot reach the token endpoint"
    );
}

#[test]
fn a_fixed_token_that_cannot_be_sent_in_a_header_is_refused_when_building() {
    for unusable in ["", "line\nbreak"] {
        let refused = Client::builder()
            .domain("example.auth0.com")
            .token(unusable)
            .build()
            .unwrap_err();
        assert!(
            matches!(&refused, Error::Config(error) if error.setting() == "token"),
            "{unusable:?}: {refused:?}"
        );
    }
}

/// A provider that hands out whatever it was given.
#[derive(Debug)]
struct Handing(&'static str);

impl TokenProvider for Handing {
    fn token(&self) -> TokenFuture<'_> {
        Box::pin(async { Ok(AccessToken::new(self.0)) })
    }
}

#[tokio::test]
async fn a_provided_token_that_cannot_be_sent_is_a_token_error_and_nothing_is_sent() {
    let server = MockServer::start_async().await;
    let api = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).body(RECORDED_GRANT);
        })
        .await;
    for unusable in ["", "line\nbreak"] {
        let client = Client::builder()
            .base_url(server.url("/api/v2"))
            .token_provider(Handing(unusable))
            .build()
            .unwrap();
        let error = client.client_grants().get("cgr_1").await.unwrap_err();
        assert!(matches!(error, Error::Token(_)), "{unusable:?}: {error:?}");
        assert!(error.to_string().contains("Authorization header"), "{error}");
    }
    assert_eq!(api.calls_async().await, 0);
}

#[tokio::test]
async fn a_429_from_the_token_endpoint_is_waited_out_with_one_token_request_in_flight() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use common::raw_server::{RawServer, Reply, response};

    let token_requests = Arc::new(AtomicUsize::new(0));
    let server = RawServer::start({
        let token_requests = token_requests.clone();
        move |request| {
            let json = [("content-type", "application/json")];
            if request.path() != "/oauth/token" {
                return Reply::Bytes(response("200 OK", &json, RECORDED_GRANT.as_bytes()));
            }
            if token_requests.fetch_add(1, Ordering::SeqCst) == 0 {
                let body = br#"{"error":"too_many_requests","error_description":"Rate limit exceeded."}"#;
                let headers = [("content-type", "application/json"), ("retry-after", "2")];
                return Reply::Bytes(response("429 Too Many Requests", &headers, body));
            }
            let body = br#"{"access_token":"issued-token","token_type":"Bearer","expires_in":86400}"#;
            Reply::Bytes(response("200 OK", &json, body))
        }
    })
    .await;
    // Virtual time, since the calls wait together: a clock that moved on at each sleep would
    // add up their waits.
    let clock = VirtualClock::default();
    let client = Client::builder()
        .base_url(server.url("/api/v2"))
        .client_credentials("m2m-client", "m2m-secret")
        .clock(clock.clone())
        .build()
        .unwrap();
    let _driver = clock.drive();

    let started = clock.now();
    let calls = (0..8).map(|_| {
        let (client, clock) = (client.clone(), clock.clone());
        tokio::spawn(async move { clock.run(client.client_grants().get("cgr_1")).await })
    });
    for result in futures::future::join_all(calls).await {
        result.unwrap().unwrap();
    }

    assert_eq!(
        token_requests.load(Ordering::SeqCst),
        2,
        "one 429, then one token for all"
    );
    // Retry-After: 2, and the padding and spread a 429's wait gets.
    let waited = clock.now().duration_since(started).unwrap();
    assert!(
        (Duration::from_secs(2)..Duration::from_secs(3)).contains(&waited),
        "{waited:?}"
    );
    let api_requests = server
        .requests()
        .iter()
        .filter(|request| request.path() != "/oauth/token")
        .count();
    assert_eq!(api_requests, 8);
}

#[tokio::test]
async fn a_token_endpoint_that_keeps_answering_429_ends_in_a_token_error_once_the_budget_is_spent() {
    use common::raw_server::{RawServer, Reply, response};

    // Each wait is 10 to 11 s: two fit in the 25 s budget, a third would not.
    let server =
        RawServer::start(|_| Reply::Bytes(response("429 Too Many Requests", &[("retry-after", "10")], b"")))
            .await;
    let clock = FakeClock::new();
    let client = Client::builder()
        .base_url(server.url("/api/v2"))
        .client_credentials("m2m-client", "m2m-secret")
        .retry(RetryPolicy::standard().rate_limit_budget(Duration::from_secs(25)))
        .clock(clock.clone())
        .build()
        .unwrap();

    let result = client.client_grants().get("cgr_1").await;

    let Err(Error::Token(error)) = &result else {
        panic!("expected a token error, got {result:?}");
    };
    assert_eq!(error.status(), Some(429));
    assert!(result.as_ref().unwrap_err().is_rate_limited());
    assert_eq!(server.requests().len(), 3, "the first request and two retries");
    assert_eq!(clock.sleeps().len(), 2);

    // The 429 the first call gave up on holds for the next call too: it first waits that out,
    // so its budget leaves room for two token requests, not three.
    let next = client.client_grants().get("cgr_1").await;
    assert!(next.as_ref().is_err_and(Error::is_rate_limited), "{next:?}");
    assert_eq!(server.requests().len(), 5, "two more token requests");
    assert_eq!(
        clock.sleeps().len(),
        4,
        "the refused one's wait, then one retry's"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_waiting_for_a_token_request_that_fails_share_its_failure() {
    use common::raw_server::{RawServer, Reply};

    // A token endpoint that never answers: the first call's request times out. The calls that
    // waited for it get its failure, rather than each sending one more and waiting out one
    // more timeout behind the others. Real time, since the timeout is the HTTP client's.
    const CALLERS: usize = 10;
    let timeout = Duration::from_millis(500);
    let server = RawServer::start(|_| Reply::Stall(Vec::new(), Duration::from_secs(60))).await;
    let client = Client::builder()
        .base_url(server.url("/api/v2"))
        .client_credentials("m2m-client", "m2m-secret")
        .timeout(timeout)
        .build()
        .unwrap();
    let calls = futures::future::join_all((0..CALLERS).map(|_| {
        let client = client.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            (client.client_grants().get("cgr_1").await, started.elapsed())
        })
    }))
    .await;

    // One after another, the last would end after CALLERS timeouts.
    let bound = timeout + Duration::from_millis(1500);
    assert!(bound < timeout * CALLERS as u32 / 2);
    for call in calls {
        let (result, took) = call.unwrap();
        let Err(Error::Token(error)) = &result else {
            panic!("expected a token error, got {result:?}");
        };
        assert_eq!(error.status(), None, "{error}");
        assert!(took <= bound, "a call took {took:?}");
    }
    assert_eq!(server.requests().len(), 1, "one token request for all");
}

#[tokio::test]
async fn a_long_wait_asked_by_the_token_endpoint_holds_token_requests_back_for_max_delay_at_most() {
    use common::raw_server::{RawServer, Reply, response};

    let reset = (common::START_SECS + 86_400).to_string();
    let server = RawServer::start(move |_| {
        let headers = [
            ("retry-after", "86400"),
            ("x-ratelimit-limit", "30"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", reset.as_str()),
        ];
        Reply::Bytes(response("429 Too Many Requests", &headers, b""))
    })
    .await;
    let clock = FakeClock::new();
    let client = Client::builder()
        .base_url(server.url("/api/v2"))
        .client_credentials("m2m-client", "m2m-secret")
        .retry(RetryPolicy::standard().rate_limit_budget(Duration::from_secs(30)))
        .clock(clock.clone())
        .build()
        .unwrap();

    // A day is past max_delay (60 s): the call gives up at once with the 429.
    let first = client.client_grants().get("cgr_1").await.unwrap_err();
    assert!(
        first.is_rate_limited() && matches!(first, Error::Token(_)),
        "{first:?}"
    );
    // The next call is held back without a request: the hold (60 s) is past its budget (30 s),
    // and the error carries what the token endpoint said of its limit.
    let held = client.client_grants().get("cgr_1").await.unwrap_err();
    let Error::HeldBack(error) = &held else {
        panic!("expected HeldBack, got {held:?}");
    };
    assert_eq!(error.rate_limit().map(|limit| limit.limit), Some(30));
    assert_eq!(server.requests().len(), 1);
    // After max_delay, not a day, token requests go again.
    clock.advance(Duration::from_secs(61));
    let _ = client.client_grants().get("cgr_1").await;
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn the_client_id_is_known_with_client_credentials_only() {
    let build = |builder: auth0_client_grants::ClientBuilder| {
        builder
            .base_url("https://tenant.example.com/api/v2")
            .build()
            .unwrap()
    };
    let credentials = build(Client::builder().client_credentials("m2m-client", "m2m-secret"));
    let fixed = build(Client::builder().token("a-token"));

    assert_eq!(credentials.client_id(), Some("m2m-client"));
    assert_eq!(
        credentials.clone().client_id(),
        Some("m2m-client"),
        "clones share it"
    );
    assert_eq!(fixed.client_id(), None);
}
