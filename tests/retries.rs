//! Retries: 429s wait for what the server asks and never less, for as long as the policy's
//! budget for them lasts; transient failures back off as many times as the policy allows; rate
//! limits longer than the policy allows come back at once; and cancelling stops a wait.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use auth0_client_grants::{Client, Error, RetryPolicy};
use common::{FakeClock, RECORDED_GRANT, START_SECS, builder_for, client_for, rate_limit_headers};
use httpmock::Method::GET;
use httpmock::{Mock, MockServer};

const GRANT_PATH: &str = "/api/v2/client-grants/cgr_1";

async fn failing<'a>(server: &'a MockServer, status: u16, headers: &[(&'static str, String)]) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method(GET).path(GRANT_PATH);
            headers.iter().fold(then.status(status), |then, (name, value)| {
                then.header(*name, value.as_str())
            });
        })
        .await
}

/// Makes the server answer with the grant once the client has slept `recover_after` times;
/// returns how many failing answers the server had given by then.
fn recover_after(
    server: &Arc<MockServer>,
    clock: &FakeClock,
    failing_mock_id: usize,
    recover_after: usize,
) -> Arc<AtomicUsize> {
    let server = server.clone();
    let sleeps = Arc::new(AtomicUsize::new(0));
    let failures_served = Arc::new(AtomicUsize::new(0));
    let served = failures_served.clone();
    clock.on_sleep(move |_| {
        let server = server.clone();
        let sleeps = sleeps.clone();
        let served = served.clone();
        async move {
            if sleeps.fetch_add(1, Ordering::SeqCst) + 1 == recover_after {
                // httpmock's builders are not Send, so the swap runs on a blocking thread.
                tokio::task::spawn_blocking(move || {
                    let mut failing = Mock::new(failing_mock_id, &server);
                    served.store(failing.calls(), Ordering::SeqCst);
                    failing.delete();
                    server.mock(|when, then| {
                        when.method(GET).path(GRANT_PATH);
                        then.status(200).body(RECORDED_GRANT);
                    });
                })
                .await
                .unwrap();
            }
        }
    });
    failures_served
}

#[tokio::test]
async fn a_429_waits_until_the_rate_limit_resets_and_then_succeeds() {
    let server = Arc::new(MockServer::start_async().await);
    let limited = failing(&server, 429, &rate_limit_headers(10, 0, 3)).await;
    let clock = FakeClock::new();
    recover_after(&server, &clock, limited.id, 1);
    let client = client_for(&server, &clock);

    client.client_grants().get("cgr_1").await.unwrap();

    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 1);
    // Never before the reset; the jitter adds at most 10% plus 50 ms.
    assert!(
        sleeps[0] >= Duration::from_millis(3_050) && sleeps[0] <= Duration::from_millis(3_350),
        "{sleeps:?}"
    );
}

#[tokio::test]
async fn a_429_waits_what_retry_after_says_in_seconds_or_as_a_date() {
    let clock = FakeClock::new();
    let at = clock.now_for_test() + Duration::from_secs(8);
    for (retry_after, expected) in [("5".to_owned(), 5_000), (httpdate::fmt_http_date(at), 8_000)] {
        let server = Arc::new(MockServer::start_async().await);
        let clock = FakeClock::new();
        let limited = failing(&server, 429, &[("retry-after", retry_after.clone())]).await;
        recover_after(&server, &clock, limited.id, 1);
        let client = client_for(&server, &clock);

        client.client_grants().get("cgr_1").await.unwrap();

        let waited = clock.sleeps()[0];
        let expected = Duration::from_millis(expected);
        assert!(
            waited >= expected + Duration::from_millis(50),
            "{retry_after}: {waited:?}"
        );
        assert!(
            waited <= expected.mul_f64(1.1) + Duration::from_millis(50),
            "{retry_after}: {waited:?}"
        );
    }
}

#[tokio::test]
async fn a_rate_limit_that_resets_after_max_delay_is_returned_at_once_with_its_headers() {
    let server = Arc::new(MockServer::start_async().await);
    let limited = failing(&server, 429, &rate_limit_headers(50, 0, 600)).await;
    let clock = FakeClock::new();
    let client = client_for(&server, &clock);

    let error = client.client_grants().get("cgr_1").await.unwrap_err();

    assert!(error.is_rate_limited(), "{error:?}");
    let limit = error.rate_limit().expect("the 429's rate-limit headers");
    assert_eq!((limit.limit, limit.remaining), (50, 0));
    assert_eq!(
        limit.reset,
        std::time::UNIX_EPOCH + Duration::from_secs(START_SECS + 600)
    );
    assert_eq!(clock.sleeps(), []);
    limited.assert_calls_async(1).await;
}

#[tokio::test]
async fn when_retries_run_out_the_last_answer_is_the_error() {
    let server = Arc::new(MockServer::start_async().await);
    let unavailable = failing(&server, 503, &rate_limit_headers(10, 7, 1)).await;
    let clock = FakeClock::new();
    let client = builder_for(&server, &clock)
        .retry(RetryPolicy::standard().max_retries(2))
        .build()
        .unwrap();

    let error = client.client_grants().get("cgr_1").await.unwrap_err();

    assert_eq!(error.status(), Some(503));
    assert_eq!(clock.sleeps().len(), 2);
    unavailable.assert_calls_async(3).await;
    assert_eq!(client.last_rate_limit().map(|limit| limit.remaining), Some(7));
}

#[tokio::test]
async fn rate_limits_are_waited_out_while_the_budget_lasts_then_the_last_429_is_the_error() {
    // A reset in 10 s that never comes, as when other clients keep the bucket drained: each
    // wait is at least 10 s, and the fourth would take the call past 35 s.
    let server = Arc::new(MockServer::start_async().await);
    let limited = failing(&server, 429, &[("retry-after", "10".into())]).await;
    let clock = FakeClock::new();
    let client = builder_for(&server, &clock)
        .retry(
            RetryPolicy::standard()
                .max_retries(1)
                .rate_limit_budget(Duration::from_secs(35)),
        )
        .build()
        .unwrap();

    let error = client.client_grants().get("cgr_1").await.unwrap_err();

    assert!(error.is_rate_limited(), "{error:?}");
    let sleeps = clock.sleeps();
    assert_eq!(
        sleeps.len(),
        3,
        "{sleeps:?}: 429s do not count against max_retries"
    );
    assert!(
        sleeps.iter().all(|wait| *wait >= Duration::from_secs(10)),
        "{sleeps:?}"
    );
    assert!(
        sleeps.iter().sum::<Duration>() <= Duration::from_secs(35),
        "{sleeps:?}"
    );
    limited.assert_calls_async(4).await;
}

#[tokio::test]
async fn transient_server_errors_on_a_get_back_off_and_succeed() {
    for status in [408, 500, 502, 503, 504] {
        let server = Arc::new(MockServer::start_async().await);
        let broken = failing(&server, status, &[]).await;
        let clock = FakeClock::new();
        let failures_served = recover_after(&server, &clock, broken.id, 2);
        let client = client_for(&server, &clock);

        client
            .client_grants()
            .get("cgr_1")
            .await
            .unwrap_or_else(|error| panic!("{status}: {error}"));

        assert_eq!(failures_served.load(Ordering::SeqCst), 2, "{status}");
        let sleeps = clock.sleeps();
        assert_eq!(sleeps.len(), 2, "{status}");
        // Full jitter below 500 ms, then below 1 s.
        assert!(
            sleeps[0] <= Duration::from_millis(500) && sleeps[1] <= Duration::from_secs(1),
            "{sleeps:?}"
        );
    }
}

#[tokio::test]
async fn errors_a_retry_cannot_fix_are_returned_at_once() {
    for status in [400, 403, 404, 409] {
        let server = Arc::new(MockServer::start_async().await);
        let response = failing(&server, status, &[]).await;
        let clock = FakeClock::new();

        let error = client_for(&server, &clock)
            .client_grants()
            .get("cgr_1")
            .await
            .unwrap_err();

        assert_eq!(error.status(), Some(status));
        response.assert_calls_async(1).await;
        assert_eq!(clock.sleeps(), []);
    }
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_reported() {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let clock = FakeClock::new();
    let client = Client::builder()
        .base_url(format!("http://127.0.0.1:{closed_port}/api/v2"))
        .token("t")
        .clock(clock.clone())
        .build()
        .unwrap();

    let error = client.client_grants().get("cgr_1").await.unwrap_err();

    assert!(matches!(error, Error::Transport(_)), "{error:?}");
    assert_eq!(clock.sleeps().len(), 3);
}

#[tokio::test]
async fn an_answer_slower_than_the_timeout_is_a_timeout_error() {
    let server = Arc::new(MockServer::start_async().await);
    server
        .mock_async(|when, then| {
            when.method(GET).path(GRANT_PATH);
            then.status(200)
                .body(RECORDED_GRANT)
                .delay(Duration::from_secs(5));
        })
        .await;
    let client = builder_for(&server, &FakeClock::new())
        .timeout(Duration::from_millis(100))
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap();

    let error = client.client_grants().get("cgr_1").await.unwrap_err();

    assert!(matches!(error, Error::Timeout(_)), "{error:?}");
}

#[tokio::test]
async fn dropping_the_call_during_a_backoff_cancels_it() {
    let server = Arc::new(MockServer::start_async().await);
    let limited = failing(&server, 429, &[("retry-after", "30".into())]).await;
    // The real clock: the client would really sleep 30 s.
    let client = Client::builder()
        .base_url(server.url("/api/v2"))
        .token("t")
        .build()
        .unwrap();

    let outcome = tokio::time::timeout(Duration::from_millis(300), client.client_grants().get("cgr_1")).await;

    assert!(
        outcome.is_err(),
        "the call should still have been waiting: {outcome:?}"
    );
    limited.assert_calls_async(1).await;
}
