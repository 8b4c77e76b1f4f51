//! One budget for everything rate-limited: a call's time in the pacing queue, its 429 waits
//! and its waits for the token endpoint all count against `RetryPolicy::rate_limit_budget`,
//! however many calls share the client. Each call runs in virtual time (see
//! common/virtual_clock.rs), so its duration is exactly what it waited.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use auth0_client_grants::{Client, Clock, Error, RetryPolicy};
use common::RECORDED_GRANT;
use common::raw_server::{RawServer, Reply, response};
use common::virtual_clock::VirtualClock;
use futures::future::join_all;

const BUDGET: Duration = Duration::from_secs(2);
const TIMEOUT: Duration = Duration::from_secs(1);

/// What a 429 says in `Retry-After`: Auth0 sends whole seconds; these are what else a proxy
/// or gateway may send.
fn retry_after_oddities(now: SystemTime) -> Vec<Option<String>> {
    vec![
        Some("0".into()),
        Some("-1".into()),
        Some("0.5".into()),
        Some("1e3".into()),
        Some(httpdate::fmt_http_date(now - Duration::from_secs(30))),
        Some("soon".into()),
        None,
    ]
}

fn seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// How a server answers 429 until the storm ends: its `Retry-After`, and whether it sends
/// `X-RateLimit-*` saying nothing is left (with the reset this many seconds on).
#[derive(Clone, Debug)]
struct Storm {
    retry_after: Option<String>,
    reset_in: Option<u64>,
    /// After this, a bucket of 10 refilled 20 a second; `None`: the storm never ends.
    ends: Option<SystemTime>,
}

/// The server's bucket once the storm is over, in virtual time.
struct Bucket {
    tokens: f64,
    updated: SystemTime,
}

const REFILL_RATE: f64 = 20.0;
const REFILL_BURST: f64 = 10.0;

async fn server(clock: &VirtualClock, storm: Storm) -> RawServer {
    let clock = clock.clone();
    let bucket = Arc::new(Mutex::new(Bucket {
        tokens: 0.0,
        updated: clock.now(),
    }));
    RawServer::start(move |_| {
        let now = clock.now();
        if storm.ends.is_none_or(|ends| now < ends) {
            let mut headers = Vec::new();
            if let Some(retry_after) = &storm.retry_after {
                headers.push(("retry-after".to_owned(), retry_after.clone()));
            }
            if let Some(reset_in) = storm.reset_in {
                headers.push(("x-ratelimit-limit".to_owned(), "10".to_owned()));
                headers.push(("x-ratelimit-remaining".to_owned(), "0".to_owned()));
                headers.push(("x-ratelimit-reset".to_owned(), (seconds(now) + reset_in).to_string()));
            }
            let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            let body = br#"{"statusCode":429,"error":"Too Many Requests","message":"Global limit has been reached"}"#;
            return Reply::Bytes(response("429 Too Many Requests", &headers, body));
        }
        let mut bucket = bucket.lock().unwrap();
        let elapsed = now.duration_since(bucket.updated).unwrap_or_default().as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * REFILL_RATE).min(REFILL_BURST);
        bucket.updated = now;
        let allowed = bucket.tokens >= 1.0;
        if allowed {
            bucket.tokens -= 1.0;
        }
        let full_in = ((REFILL_BURST - bucket.tokens) / REFILL_RATE).ceil() as u64;
        let remaining = (bucket.tokens.floor() as u64).to_string();
        let reset = (seconds(now) + full_in).to_string();
        let headers = [
            ("content-type", "application/json"),
            ("x-ratelimit-limit", "10"),
            ("x-ratelimit-remaining", remaining.as_str()),
            ("x-ratelimit-reset", reset.as_str()),
        ];
        if allowed {
            Reply::Bytes(response("200 OK", &headers, RECORDED_GRANT.as_bytes()))
        } else {
            Reply::Bytes(response("429 Too Many Requests", &headers, b""))
        }
    })
    .await
}

struct Outcome {
    /// Each call's result and how long it took in virtual time.
    calls: Vec<(Result<(), Error>, Duration)>,
    requests: usize,
}

/// `callers` gets at once through one client with `budget`, against `storm`.
async fn calls(callers: usize, storm: Storm, budget: Duration) -> Outcome {
    calls_after(0, callers, storm, budget).await
}

/// `callers` gets at once, after `earlier` gets one after another through the same client
/// (whose pacer has then seen the storm).
async fn calls_after(earlier: usize, callers: usize, storm: Storm, budget: Duration) -> Outcome {
    let clock = VirtualClock::default();
    let storm = Storm {
        ends: storm
            .ends
            .map(|after| clock.now() + after.duration_since(UNIX_EPOCH).unwrap()),
        ..storm
    };
    let server = server(&clock, storm).await;
    let client = Client::builder()
        .base_url(server.url("/api/v2"))
        .token("test-token")
        .clock(clock.clone())
        .timeout(TIMEOUT)
        .retry(RetryPolicy::standard().rate_limit_budget(budget))
        .build()
        .unwrap();
    let _driver = clock.drive();
    for _ in 0..earlier {
        let _ = clock.run(client.client_grants().get("cgr_1")).await;
    }
    let all = join_all((0..callers).map(|_| {
        let (client, clock) = (client.clone(), clock.clone());
        tokio::spawn(async move {
            let started = clock.now();
            let result = clock.run(client.client_grants().get("cgr_1")).await;
            (result.map(drop), clock.now().duration_since(started).unwrap())
        })
    }));
    // Virtual time moves on only while every call sleeps on the clock: a call that waits
    // for anything without a deadline on the clock stops it, and never ends.
    let calls = tokio::time::timeout(Duration::from_secs(60), all)
        .await
        .expect("a call waited without a deadline, so virtual time stopped")
        .into_iter()
        .map(Result::unwrap)
        .collect();
    Outcome {
        calls,
        requests: server.requests().len(),
    }
}

/// The storm's `ends` as a time after the start.
fn after(duration: Duration) -> Option<SystemTime> {
    Some(UNIX_EPOCH + duration)
}

/// A call waits out 429s with a backoff that doubles from 500 ms, and pacing probes one
/// request at a time: a 2 s budget leaves room for a handful of attempts per call.
const MOST_ATTEMPTS_PER_CALL: usize = 12;

fn assert_every_call_gave_up_within_its_budget(what: &str, callers: usize, outcome: &Outcome) {
    for (result, took) in &outcome.calls {
        let error = result.as_ref().expect_err(what);
        assert!(error.is_rate_limited(), "{what}: {error}");
        // Virtual time passes only in waits: a request takes none, so the budget alone bounds it.
        assert!(*took <= BUDGET, "{what}: a call took {took:?}");
    }
    assert!(
        outcome.requests <= callers * MOST_ATTEMPTS_PER_CALL,
        "{what}: {} requests for {callers} calls",
        outcome.requests
    );
}

#[tokio::test]
async fn in_a_429_storm_every_call_ends_within_its_budget_whatever_retry_after_says() {
    for callers in [1, 6, 50] {
        for retry_after in retry_after_oddities(UNIX_EPOCH + Duration::from_secs(common::START_SECS)) {
            for reset_in in [None, Some(0)] {
                let storm = Storm {
                    retry_after: retry_after.clone(),
                    reset_in,
                    ends: None,
                };
                let what = format!("{callers} callers, {storm:?}");
                let outcome = calls(callers, storm, BUDGET).await;
                assert_every_call_gave_up_within_its_budget(&what, callers, &outcome);
            }
        }
    }
}

#[tokio::test]
async fn against_a_bucket_that_never_refills_every_call_ends_within_its_budget() {
    for callers in [1, 6, 50] {
        // The reset announced an hour on, and never reached.
        let storm = Storm {
            retry_after: None,
            reset_in: Some(3600),
            ends: None,
        };
        let what = format!("{callers} callers, {storm:?}");
        let outcome = calls(callers, storm, BUDGET).await;
        assert_every_call_gave_up_within_its_budget(&what, callers, &outcome);
    }
}

#[tokio::test]
async fn a_call_held_back_without_ever_being_answered_says_so_and_for_how_long() {
    // A first call meets the 429s and teaches the pacer that nothing is left; of the 50 calls
    // after it, one at a time probes, and the others never get to send within their budget.
    let storm = Storm {
        retry_after: Some("0".into()),
        reset_in: Some(0),
        ends: None,
    };
    let outcome = calls_after(1, 50, storm, BUDGET).await;
    let held_back: Vec<_> = outcome
        .calls
        .iter()
        .filter_map(|(result, took)| match result {
            Err(Error::HeldBack(error)) => Some((error, took)),
            _ => None,
        })
        .collect();
    assert!(
        held_back.len() >= 40,
        "only {} of 50 calls were held back",
        held_back.len()
    );
    for (error, took) in held_back {
        assert!(error.held_for() <= BUDGET, "{error}");
        assert!(error.held_for() <= *took, "{error}");
        assert_eq!(error.rate_limit().map(|limit| limit.remaining), Some(0));
        assert!(error.to_string().starts_with("not sent: "), "{error}");
    }
}

#[tokio::test]
async fn once_the_bucket_refills_every_waiting_call_gets_through() {
    let budget = Duration::from_secs(10);
    for callers in [1, 6, 50] {
        for reset_in in [None, Some(0)] {
            let storm = Storm {
                retry_after: Some("0".into()),
                reset_in,
                ends: after(Duration::from_secs(1)),
            };
            let what = format!("{callers} callers, {storm:?}");
            let outcome = calls(callers, storm, budget).await;
            for (result, took) in &outcome.calls {
                assert!(result.is_ok(), "{what}: {result:?} after {took:?}");
                assert!(*took <= budget, "{what}: a call took {took:?}");
            }
            assert!(
                outcome.requests <= callers * MOST_ATTEMPTS_PER_CALL,
                "{what}: {} requests for {callers} calls",
                outcome.requests
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn against_a_server_that_never_answers_no_caller_waits_for_the_others_timeouts() {
    // Before any response the pacer lets one request go at a time, to learn the bucket; a
    // server that never answers must not make that one at a time, a timeout each. This runs in
    // real time, since the timeouts are the HTTP client's.
    const CALLERS: usize = 10;
    let budget = Duration::from_millis(200);
    let server = RawServer::start(|_| Reply::Stall(Vec::new(), Duration::from_secs(60))).await;
    let client = Client::builder()
        .base_url(server.url("/api/v2"))
        .token("test-token")
        .timeout(TIMEOUT)
        .retry(RetryPolicy::standard().rate_limit_budget(budget).max_retries(0))
        .build()
        .unwrap();
    let calls = join_all((0..CALLERS).map(|_| {
        let client = client.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            let result = client.client_grants().get("cgr_1").await;
            (result, started.elapsed())
        })
    }))
    .await;
    // One at a time, the last would end after CALLERS timeouts; each ends after its budget and
    // one timeout, and the margin is for a busy machine.
    let bound = budget + TIMEOUT + Duration::from_secs(2);
    assert!(bound < TIMEOUT * CALLERS as u32 / 2);
    for call in calls {
        let (result, took) = call.unwrap();
        assert!(matches!(result, Err(Error::Timeout(_))), "{result:?}");
        assert!(took <= bound, "a call took {took:?}");
    }
    assert_eq!(server.requests().len(), CALLERS, "each call sent once");
}
