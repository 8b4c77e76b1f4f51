//! The fault matrix: GET, POST, PATCH and DELETE of a client grant, each against
//! every fault the fake tenant injects, with the outcome each cell must have, through the
//! public client. Every cell runs on a fresh tenant and checks the call's result, how many
//! requests reached the tenant, and what the tenant holds afterwards: a create is never
//! applied twice, and never applied when the client was refused before it took effect.
//!
//! The client runs on a [`FakeClock`] (backoff and rate-limit waits return at once and move
//! its "now", which starts at 2023-11-14T22:13:20Z), so the 429 faults carry the time to send,
//! taken from that clock. Only the stall uses real time: a 300 ms timeout against an 800 ms
//! stall. The 64 cells run at once, on one shared HTTP client; the file takes about a second.
//!
//! The last tests check on the wire that the faults are what they claim: a body cut off
//! midway really arrives broken, a reset is a TCP reset, a 204 never carries a body.

mod common;

use std::time::{Duration, Instant, UNIX_EPOCH};

use auth0_client_grants::testing::{ALL_SCOPES, FakeTenant, Fault};
use auth0_client_grants::{Client, ClientGrant, ClientGrantUpdate, Error, NewClientGrant, RetryPolicy};
use common::{FakeClock, START_SECS};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use Effect::{Applied, NotApplied, ReadOnly};
use Expect::{Fails, Retried, Unaffected};
use Failure::{Api, Decode, Timeout, Transport};
use Injected::*;

/// The four methods of the matrix, each a call of the public client on one grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
    Patch,
    Delete,
}

const METHODS: [Method; 4] = [Method::Get, Method::Post, Method::Patch, Method::Delete];

/// What the tenant is told to do to the first API request of a cell (see [`Injected::fault`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Injected {
    /// 429 with `Retry-After: 2`.
    RetryAfterSeconds,
    /// 429 with `Retry-After` as the HTTP date 3 s after the client's "now".
    RetryAfterDate,
    /// 429 with only `X-RateLimit-*`, resetting 4 s after the client's "now".
    ResetOnly,
    /// This status with Auth0's error body, not carried out.
    Status(u16),
    /// The connection closes (FIN) before any response; not carried out.
    CloseBeforeAnswer,
    /// The connection is reset (RST) before any response; not carried out.
    ResetBeforeAnswer,
    /// Carried out; the body breaks off after half of it.
    CloseMidBody,
    /// Carried out after 800 ms, long after the client's 300 ms timeout.
    Stall,
    /// Carried out; the 2xx body is `{"id": "cgr_` (JSON that stops).
    MalformedJson,
    /// Carried out; the 2xx body is the first half of the real one.
    Truncated,
    /// Carried out; the 2xx body is an HTML page.
    Html,
    /// Carried out; the 2xx body is empty.
    Empty,
}

/// What one cell must end with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Retried past the fault, then succeeded: two requests, the call's effect happened once.
    Retried,
    /// The fault changes nothing for this call: one request, success.
    Unaffected,
    /// One request (never retried) and this error; the tenant carried the request out or not.
    Fails(Failure, Effect),
}

/// The error a failing cell returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// `Error::Api` with this status.
    Api(u16),
    /// `Error::Transport`: the connection broke.
    Transport,
    /// `Error::Timeout`.
    Timeout,
    /// `Error::Decode` of a response with this status.
    Decode(u16),
}

/// Whether a failed call took effect on the tenant anyway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    /// The grant was created (exactly once), changed or deleted.
    Applied,
    /// The tenant holds what it held before.
    NotApplied,
    /// A GET: there is nothing to apply; the grant is left as it was.
    ReadOnly,
}

/// The matrix. Rules (src/transport/retry.rs): a 429 is retried for every method (the request was
/// refused); 408, 5xx, a broken connection and a timeout are retried for GET, PATCH and
/// DELETE but never for POST, which may have been applied; a 2xx whose body cannot be
/// read is an `Error::Decode`, not retried (the request was carried out). A DELETE responses
/// 204 without a body, so the body faults leave it nothing to break.
#[rustfmt::skip]
const MATRIX: &[(Injected, [Expect; 4])] = &[
    // fault              GET                            POST                           PATCH                          DELETE
    (RetryAfterSeconds,  [Retried,                       Retried,                       Retried,                       Retried]),
    (RetryAfterDate,     [Retried,                       Retried,                       Retried,                       Retried]),
    (ResetOnly,          [Retried,                       Retried,                       Retried,                       Retried]),
    (Status(408),        [Retried,                       Fails(Api(408), NotApplied),   Retried,                       Retried]),
    (Status(500),        [Retried,                       Fails(Api(500), NotApplied),   Retried,                       Retried]),
    (Status(502),        [Retried,                       Fails(Api(502), NotApplied),   Retried,                       Retried]),
    (Status(503),        [Retried,                       Fails(Api(503), NotApplied),   Retried,                       Retried]),
    (Status(504),        [Retried,                       Fails(Api(504), NotApplied),   Retried,                       Retried]),
    (CloseBeforeAnswer,  [Retried,                       Fails(Transport, NotApplied),  Retried,                       Retried]),
    (ResetBeforeAnswer,  [Retried,                       Fails(Transport, NotApplied),  Retried,                       Retried]),
    (CloseMidBody,       [Retried,                       Fails(Transport, Applied),     Retried,                       Unaffected]),
    (Stall,              [Retried,                       Fails(Timeout, Applied),       Retried,                       Retried]),
    (MalformedJson,      [Fails(Decode(200), ReadOnly),  Fails(Decode(201), Applied),   Fails(Decode(200), Applied),   Unaffected]),
    (Truncated,          [Fails(Decode(200), ReadOnly),  Fails(Decode(201), Applied),   Fails(Decode(200), Applied),   Unaffected]),
    (Html,               [Fails(Decode(200), ReadOnly),  Fails(Decode(201), Applied),   Fails(Decode(200), Applied),   Unaffected]),
    (Empty,              [Fails(Decode(200), ReadOnly),  Fails(Decode(201), Applied),   Fails(Decode(200), Applied),   Unaffected]),
];

const API: &str = "https://api.example.com/";
/// The client's timeout in the stall cells; the others use the default 30 s.
const STALL_TIMEOUT: Duration = Duration::from_millis(300);
/// How long the tenant stalls before carrying the request out.
const STALL: Duration = Duration::from_millis(800);

impl Injected {
    /// The fault to inject, with times taken from the client's clock, which starts at
    /// `START_SECS` and has not moved when the fault is met.
    fn fault(self) -> Fault {
        let start = UNIX_EPOCH + Duration::from_secs(START_SECS);
        let html =
            "<html><head><title>502 Bad Gateway</title></head>\n<body><h1>Bad Gateway</h1></body></html>\n";
        let body = |content_type: &str, body: &[u8]| Fault::ReplaceBody {
            content_type: content_type.to_owned(),
            body: body.to_vec(),
        };
        match self {
            RetryAfterSeconds => Fault::RetryAfterSeconds(2),
            RetryAfterDate => Fault::RetryAfterDate(start + Duration::from_secs(3)),
            ResetOnly => Fault::RateLimitReset(start + Duration::from_secs(4)),
            Status(status) => Fault::Status(status),
            CloseBeforeAnswer => Fault::CloseConnection,
            ResetBeforeAnswer => Fault::ResetConnection,
            CloseMidBody => Fault::CloseMidBody,
            Stall => Fault::Hang(STALL),
            MalformedJson => body("application/json; charset=utf-8", br#"{"id": "cgr_"#),
            Truncated => Fault::TruncateBody,
            Html => body("text/html", html.as_bytes()),
            Empty => body("application/json; charset=utf-8", b""),
        }
    }

    /// What a 429 asks the client to wait, to check the client's first sleep against.
    fn asked_wait(self) -> Option<Duration> {
        match self {
            RetryAfterSeconds => Some(Duration::from_secs(2)),
            RetryAfterDate => Some(Duration::from_secs(3)),
            ResetOnly => Some(Duration::from_secs(4)),
            _ => None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_method_meets_every_fault_with_the_outcome_in_the_table() {
    let started = Instant::now();
    // One HTTP client for every cell, set up as the crate sets up its own: building one
    // costs tens of milliseconds of CPU in a debug build (TLS roots), sixty-four of them a
    // few seconds.
    let http = reqwest::Client::builder()
        .connect_timeout(auth0_client_grants::DEFAULT_CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cells: Vec<(Method, Injected, Expect)> = MATRIX
        .iter()
        .flat_map(|(injected, expected)| {
            METHODS
                .iter()
                .zip(expected)
                .map(move |(method, expected)| (*method, *injected, *expected))
        })
        .collect();
    assert_eq!(cells.len(), 64, "16 faults × 4 methods");
    // The stalls run on their own afterwards, so that the busy start of the other sixty
    // cells cannot push their retries past the short timeout.
    let (stalls, others): (Vec<_>, Vec<_>) = cells.into_iter().partition(|cell| cell.1 == Stall);
    let mut failures = run_cells(&http, others).await;
    failures.extend(run_cells(&http, stalls).await);
    assert!(
        failures.is_empty(),
        "{} of 64 cells failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the matrix took {:?}",
        started.elapsed()
    );
}

/// Runs `cells` at once, each in its own task; returns how each failing one failed.
async fn run_cells(http: &reqwest::Client, cells: Vec<(Method, Injected, Expect)>) -> Vec<String> {
    let running: Vec<_> = cells
        .into_iter()
        .map(|(method, injected, expected)| {
            let cell = tokio::spawn(run_cell(http.clone(), method, injected, expected));
            (format!("{method:?} × {injected:?} → {expected:?}"), cell)
        })
        .collect();
    let mut failures = Vec::new();
    for (name, cell) in running {
        if let Err(failure) = cell.await {
            let message = failure
                .try_into_panic()
                .ok()
                .and_then(|payload| {
                    payload
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| payload.downcast_ref::<&str>().map(|text| (*text).to_owned()))
                })
                .unwrap_or_else(|| "cancelled".to_owned());
            failures.push(format!("{name}: {message}"));
        }
    }
    failures
}

/// Runs one cell on a fresh tenant and panics (with the cell's name, added by the caller)
/// where it differs from `expected`.
async fn run_cell(http: reqwest::Client, method: Method, injected: Injected, expected: Expect) {
    let tenant = FakeTenant::start().await;
    let seeded = tenant.seed_grants(1).remove(0);
    let clock = FakeClock::new();
    let builder = if injected == Stall {
        // A token of its own: a token request would have to beat the short timeout too.
        Client::builder()
            .base_url(tenant.base_url())
            .token(tenant.issue_token(ALL_SCOPES))
            .timeout(STALL_TIMEOUT)
    } else {
        tenant.client_builder()
    };
    let client = builder
        .http_client(http)
        .clock(clock.clone())
        .retry(RetryPolicy::standard())
        .build()
        .unwrap();
    tenant.inject(1, injected.fault());

    // The call runs in its own task so that a panic in the client shows as one.
    let grants = client.client_grants();
    let id = seeded.id.clone();
    let call = tokio::spawn(async move {
        match method {
            Method::Get => grants.get(&id).await.map(Some),
            Method::Post => grants
                .create(NewClientGrant::new("app", API).scope(["read:things"]))
                .await
                .map(Some),
            Method::Patch => grants
                .update(&id, ClientGrantUpdate::new().scope(["write:things"]))
                .await
                .map(Some),
            Method::Delete => grants.delete(&id).await.map(|()| None),
        }
    });
    let result = match call.await {
        Ok(result) => result,
        Err(failure) => panic!("the client panicked: {failure:?}"),
    };

    let effect = match expected {
        Retried | Unaffected => {
            let response = match result {
                Ok(response) => response,
                Err(error) => panic!("expected success, got {error:?}"),
            };
            match (method, response) {
                (Method::Get, Some(grant)) => assert_eq!(json(&grant), json(&seeded)),
                (Method::Post, Some(grant)) => assert_eq!(grant.client_id.as_deref(), Some("app")),
                (Method::Patch, Some(grant)) => assert_eq!(grant.scope, ["write:things"]),
                (Method::Delete, None) => {}
                (method, response) => panic!("{method:?} answered {response:?}"),
            }
            if method == Method::Get { ReadOnly } else { Applied }
        }
        Fails(failure, effect) => {
            match (failure, &result) {
                (Api(status), Err(Error::Api(error))) => assert_eq!(error.status(), status, "{error}"),
                (Transport, Err(Error::Transport(_))) | (Timeout, Err(Error::Timeout(_))) => {}
                (Decode(status), Err(error @ Error::Decode(_))) => {
                    assert_eq!(error.status(), Some(status), "{error}");
                }
                (failure, result) => panic!("expected {failure:?}, got {result:?}"),
            }
            effect
        }
    };

    // A stalled request is carried out once its stall is over, after the client gave up.
    if injected == Stall && effect == Applied {
        let deadline = Instant::now() + STALL + Duration::from_secs(2);
        while !has_effect(&tenant, method, &seeded) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    let api_requests: Vec<_> = tenant
        .requests()
        .into_iter()
        .filter(|request| request.path.starts_with("/api/v2/"))
        .collect();
    let requests = if expected == Retried { 2 } else { 1 };
    assert_eq!(
        api_requests.len(),
        requests,
        "requests the tenant received: {api_requests:?}"
    );
    if expected == Retried {
        let last = api_requests.last().unwrap().status;
        assert!(
            last.is_some_and(|status| (200..300).contains(&status)),
            "the retry was answered {last:?}"
        );
    }

    let grants = tenant.grants();
    match method {
        Method::Post => {
            let created = grants
                .iter()
                .filter(|grant| grant.client_id.as_deref() == Some("app"))
                .count();
            assert_eq!(
                created,
                usize::from(effect == Applied),
                "grants created for `app`: {grants:?}"
            );
            assert_eq!(grants.len(), 1 + created, "{grants:?}");
        }
        Method::Get | Method::Patch | Method::Delete => {
            assert_eq!(
                has_effect(&tenant, method, &seeded),
                effect == Applied,
                "{grants:?}"
            );
            if method == Method::Get {
                assert_eq!(json(&grants), json(&[&seeded]), "the grant as it was");
            }
        }
    }

    if let Some(asked) = injected.asked_wait() {
        // Never before what the server asked, plus 50 ms and at most 10% jitter, in all.
        let sleeps = clock.sleeps();
        let waited: Duration = sleeps.iter().sum();
        let least = asked + Duration::from_millis(50);
        assert!(
            waited >= least && waited <= least + asked / 10,
            "waited {sleeps:?} for a 429 asking {asked:?}"
        );
    }
}

fn json(value: &impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(value).unwrap()
}

/// Whether the tenant shows the effect of `method` on `seeded` (a GET has none).
fn has_effect(tenant: &FakeTenant, method: Method, seeded: &ClientGrant) -> bool {
    let grants = tenant.grants();
    let target = grants.iter().find(|grant| grant.id == seeded.id);
    match method {
        Method::Get => false,
        Method::Post => grants
            .iter()
            .any(|grant| grant.client_id.as_deref() == Some("app")),
        Method::Patch => target.is_some_and(|grant| grant.scope == ["write:things"]),
        Method::Delete => target.is_none(),
    }
}

/// Sends one raw HTTP/1.1 request with the tenant's token and returns every byte that came
/// back before the connection ended, and the error it ended with (`None`: a clean close).
async fn raw_exchange_ending(
    tenant: &FakeTenant,
    method: &str,
    path: &str,
) -> (Vec<u8>, Option<std::io::ErrorKind>) {
    let token = tenant.issue_token(ALL_SCOPES);
    let mut stream = tokio::net::TcpStream::connect(tenant.address()).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n",
        tenant.address()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let mut buffer = [0; 4096];
    loop {
        match stream.read(&mut buffer).await {
            Ok(0) => return (received, None),
            Ok(read) => received.extend_from_slice(&buffer[..read]),
            Err(error) => return (received, Some(error.kind())),
        }
    }
}

/// Every byte of a raw exchange (see [`raw_exchange_ending`]).
async fn raw_exchange(tenant: &FakeTenant, method: &str, path: &str) -> Vec<u8> {
    raw_exchange_ending(tenant, method, path).await.0
}

/// The status line, headers (lower-cased names) and body bytes of a raw response.
fn split_answer(received: &[u8]) -> (String, Vec<(String, String)>, Vec<u8>) {
    let end = received
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .expect("a complete status line and headers");
    let head = String::from_utf8(received[..end].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap().to_owned();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    (status_line, headers, received[end + 4..].to_vec())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

#[tokio::test]
async fn a_body_closed_midway_arrives_with_its_full_length_announced_and_half_of_it_sent() {
    let tenant = FakeTenant::start().await;
    let grant = tenant.seed_grants(1).remove(0);
    let whole = serde_json::to_vec(&grant).unwrap();
    tenant.inject(1, Fault::CloseMidBody);

    let received = raw_exchange(&tenant, "GET", &format!("/api/v2/client-grants/{}", grant.id)).await;

    let (status_line, headers, body) = split_answer(&received);
    assert_eq!(status_line, "HTTP/1.1 200 OK");
    let announced: usize = header(&headers, "content-length").unwrap().parse().unwrap();
    assert_eq!(header(&headers, "transfer-encoding"), None);
    assert!(
        !body.is_empty() && body.len() < announced,
        "{} of {announced} bytes",
        body.len()
    );
    assert_eq!(announced, whole.len(), "the real body's length");
    assert!(whole.starts_with(&body), "the first part of the real body");
}

#[tokio::test]
async fn a_closed_connection_ends_cleanly_and_a_reset_one_with_a_reset_both_without_a_byte() {
    let tenant = FakeTenant::start().await;
    let grant = tenant.seed_grants(1).remove(0);
    let path = format!("/api/v2/client-grants/{}", grant.id);

    tenant.inject(1, Fault::CloseConnection);
    assert_eq!(
        raw_exchange_ending(&tenant, "DELETE", &path).await,
        (vec![], None)
    );
    tenant.inject(1, Fault::ResetConnection);
    assert_eq!(
        raw_exchange_ending(&tenant, "DELETE", &path).await,
        (vec![], Some(std::io::ErrorKind::ConnectionReset))
    );
    assert_eq!(tenant.grants().len(), 1, "neither delete was carried out");
}

#[tokio::test]
async fn a_truncated_body_is_a_complete_answer_with_half_the_json() {
    let tenant = FakeTenant::start().await;
    let grant = tenant.seed_grants(1).remove(0);
    let whole = serde_json::to_vec(&grant).unwrap();
    tenant.inject(1, Fault::TruncateBody);

    let received = raw_exchange(&tenant, "GET", &format!("/api/v2/client-grants/{}", grant.id)).await;

    let (status_line, headers, body) = split_answer(&received);
    assert_eq!(status_line, "HTTP/1.1 200 OK");
    assert_eq!(
        header(&headers, "content-length"),
        Some(body.len().to_string().as_str())
    );
    assert_eq!(body, whole[..whole.len() / 2]);
}

#[tokio::test]
async fn a_replaced_body_goes_out_on_a_2xx_but_a_204_keeps_no_body() {
    let tenant = FakeTenant::start().await;
    let grant = tenant.seed_grants(1).remove(0);
    let path = format!("/api/v2/client-grants/{}", grant.id);
    let html = Fault::ReplaceBody {
        content_type: "text/html".into(),
        body: b"<h1>oops</h1>".to_vec(),
    };

    tenant.inject(1, html.clone());
    let (status_line, headers, body) = split_answer(&raw_exchange(&tenant, "GET", &path).await);
    assert_eq!(status_line, "HTTP/1.1 200 OK");
    assert_eq!(header(&headers, "content-type"), Some("text/html"));
    assert_eq!(body, b"<h1>oops</h1>");

    tenant.inject(1, html);
    let raw = raw_exchange(&tenant, "DELETE", &path).await;
    let (status_line, headers, body) = split_answer(&raw);
    assert_eq!(status_line, "HTTP/1.1 204 No Content");
    assert_eq!(header(&headers, "content-length"), None);
    assert!(body.is_empty(), "{}", String::from_utf8_lossy(&body));
    assert!(tenant.grants().is_empty(), "the delete was carried out");
}

#[tokio::test]
async fn a_stalled_create_is_applied_after_the_client_has_gone() {
    let tenant = FakeTenant::start().await;
    // A token of its own: no token request to meet the short timeout.
    let client = Client::builder()
        .base_url(tenant.base_url())
        .token(tenant.issue_token(ALL_SCOPES))
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    tenant.inject(1, Fault::Hang(Duration::from_millis(500)));

    let error = client
        .client_grants()
        .create(NewClientGrant::new("app", API))
        .await
        .unwrap_err();

    assert!(matches!(error, Error::Timeout(_)), "{error:?}");
    assert!(
        tenant.grants().is_empty(),
        "not yet: the tenant is still stalling"
    );
    let deadline = Instant::now() + Duration::from_secs(3);
    while tenant.grants().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(tenant.grants().len(), 1, "carried out once the stall is over");
    assert_eq!(tenant.requests().len(), 1, "one request, never retried");
}

#[tokio::test]
async fn a_broken_connection_error_says_what_broke() {
    let tenant = FakeTenant::start().await;
    let client = tenant
        .client_builder()
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap();
    for (fault, mentions) in [
        (Fault::ResetConnection, "reset"),
        (Fault::CloseConnection, "closed"),
        (Fault::CloseMidBody, "body"),
    ] {
        tenant.inject(1, fault.clone());
        let error = client
            .client_grants()
            .create(NewClientGrant::new(format!("app-{mentions}"), API))
            .await
            .unwrap_err();
        assert!(matches!(error, Error::Transport(_)), "{fault:?}: {error:?}");
        let message = error.to_string().to_lowercase();
        assert!(message.contains(mentions), "{fault:?}: {message}");
    }
}
