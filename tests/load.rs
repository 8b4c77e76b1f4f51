//! Load: 10,000 requests at concurrency 256 through one `Client` (and its clones, which share
//! its connection pool and token cache) against the fake tenant: no errors, no deadlock, one
//! token request. Each request runs as its own task on a multi-thread runtime, so the client's
//! shared state (token cache, rate-limit bookkeeping, pacing) is used from several threads at
//! once.
//!
//! The run is bounded: it goes on a thread of its own and the test waits for it at most
//! `BOUND`, so a deadlock fails the test instead of hanging CI, even one that blocks every
//! worker thread (which would also stop the runtime's own timers).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use auth0_client_grants::testing::{FakeTenant, RecordedRequest};
use auth0_client_grants::{Client, Error};
use futures::{StreamExt, stream};

const REQUESTS: usize = 10_000;
const CONCURRENCY: usize = 256;
/// One request in this many is a list page instead of a get.
const LIST_EVERY: usize = 50;
const GRANTS: usize = 200;
const PAGE: u64 = 20;
/// About 5 s in a debug build on two cores; this is reached only by a deadlock.
const BOUND: Duration = Duration::from_secs(120);

/// What one request got back, checked against what it asked for.
#[derive(Debug)]
enum Response {
    Correct,
    Wrong(String),
    Failed(Error),
}

/// How far the run got, readable from the test's thread while it goes on.
#[derive(Default)]
struct Progress {
    in_flight: AtomicUsize,
    peak: AtomicUsize,
    answered: AtomicUsize,
}

/// Request `n`: a list page every `LIST_EVERY`, else a get of one of the seeded grants.
async fn request(client: Client, n: usize, ids: Arc<[String]>, progress: Arc<Progress>) -> Response {
    let now = progress.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    progress.peak.fetch_max(now, Ordering::SeqCst);
    let response = if n.is_multiple_of(LIST_EVERY) {
        // The first page of `PAGE`: the first `PAGE` grants, in order.
        match client.client_grants().list().take(PAGE).send().await {
            Ok(page) => {
                let got: Vec<_> = page.items.iter().map(|grant| grant.id.as_str()).collect();
                let expected: Vec<_> = ids[..PAGE as usize].iter().map(String::as_str).collect();
                if got == expected && page.next.is_some() {
                    Response::Correct
                } else {
                    Response::Wrong(format!("request {n}: page {got:?}, next {:?}", page.next))
                }
            }
            Err(error) => Response::Failed(error),
        }
    } else {
        let id = &ids[n % ids.len()];
        match client.client_grants().get(id).await {
            Ok(grant) if &grant.id == id && grant.client_id.is_some() => Response::Correct,
            Ok(grant) => Response::Wrong(format!("request {n}: asked for {id}, got {grant:?}")),
            Err(error) => Response::Failed(error),
        }
    };
    progress.in_flight.fetch_sub(1, Ordering::SeqCst);
    progress.answered.fetch_add(1, Ordering::SeqCst);
    response
}

/// What the run leaves for the assertions.
struct Outcome {
    responses: Vec<Response>,
    elapsed: Duration,
    requests: Vec<RecordedRequest>,
    token_requests: usize,
}

async fn run(progress: Arc<Progress>) -> Outcome {
    let tenant = FakeTenant::start().await;
    let ids: Arc<[String]> = tenant
        .seed_grants(GRANTS)
        .into_iter()
        .map(|grant| grant.id)
        .collect();
    let client = tenant.client();

    let started = Instant::now();
    let responses = stream::iter(0..REQUESTS)
        .map(|n| tokio::spawn(request(client.clone(), n, ids.clone(), progress.clone())))
        .buffer_unordered(CONCURRENCY)
        .map(|joined| joined.expect("a request task does not panic"))
        .collect()
        .await;
    Outcome {
        responses,
        elapsed: started.elapsed(),
        requests: tenant.requests(),
        token_requests: tenant.token_requests(),
    }
}

#[test]
fn ten_thousand_requests_at_concurrency_256_through_one_client() {
    let progress = Arc::new(Progress::default());
    let (done, finished) = mpsc::channel();
    let worker = std::thread::spawn({
        let progress = progress.clone();
        move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(4)
                .enable_all()
                .build()
                .expect("a runtime");
            let _ = done.send(runtime.block_on(run(progress)));
        }
    });
    // Not joined once it has answered: shutting the runtime down is not part of the bound.
    let outcome = match finished.recv_timeout(BOUND) {
        Ok(outcome) => outcome,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!(
            "not done after {BOUND:?}, a deadlock? {} of {REQUESTS} answered, {} in flight",
            progress.answered.load(Ordering::SeqCst),
            progress.in_flight.load(Ordering::SeqCst)
        ),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(worker.join().expect_err("the run ended without an outcome"))
        }
    };

    let peak = progress.peak.load(Ordering::SeqCst);
    eprintln!(
        "{REQUESTS} requests at concurrency {CONCURRENCY} (peak {peak}): {:.2?}, {:.0} requests/s",
        outcome.elapsed,
        REQUESTS as f64 / outcome.elapsed.as_secs_f64()
    );
    let mut wrong = Vec::new();
    let mut errors: HashMap<String, usize> = HashMap::new();
    for response in outcome.responses {
        match response {
            Response::Correct => {}
            Response::Wrong(what) => wrong.push(what),
            Response::Failed(error) => *errors.entry(error.to_string()).or_default() += 1,
        }
    }
    assert!(errors.is_empty(), "errors: {errors:#?}");
    assert!(
        wrong.is_empty(),
        "{} wrong responses, first: {:?}",
        wrong.len(),
        wrong.first()
    );
    assert_eq!(
        outcome.token_requests, 1,
        "one token, fetched once, shared by every request"
    );
    let api: Vec<_> = outcome
        .requests
        .iter()
        .filter(|request| request.path.starts_with("/api/v2/"))
        .collect();
    assert_eq!(
        api.len(),
        REQUESTS,
        "the tenant received exactly one API request per call"
    );
    assert!(
        api.iter().all(|request| request.status == Some(200)),
        "every API request answered 200"
    );
    assert_eq!(
        api.iter()
            .filter(|request| request.path == "/api/v2/client-grants")
            .count(),
        REQUESTS / LIST_EVERY
    );
    assert_eq!(outcome.requests.len(), REQUESTS + 1, "nothing else was sent");
    assert!(
        (CONCURRENCY / 2..=CONCURRENCY).contains(&peak),
        "{peak} requests in flight at most: the run did not reach its concurrency"
    );
}
