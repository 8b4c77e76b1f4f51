//! Pacing against the fake tenant's token bucket: clones of one client share one model of the
//! allowance and wait for the refill instead of provoking 429s. (The model's arithmetic is
//! tested with fixed times in src/transport/pacing.rs; here the bucket runs on real time, so the tests
//! assert counts, never durations.)

use auth0_client_grants::Client;
use auth0_client_grants::testing::{FakeTenant, RateLimitSettings};
use futures::{StreamExt, stream};

/// 50 requests per second, 10 at once: 80 gets take about 1.4 s when paced. The burst holds
/// the 8 requests sent before any response (2 clones × 4): a 429 among those no client can avoid.
const RATE: f64 = 50.0;
const BURST: u32 = 10;
const GETS: usize = 80;

struct Run {
    errors: usize,
    refused: usize,
    answered: usize,
}

/// `GETS` gets, half through `client` and half through a clone of it, 4 at a time each.
async fn run(pacing: bool) -> Run {
    let tenant = FakeTenant::builder()
        .rate_limit(RateLimitSettings::new(RATE, BURST))
        .start()
        .await;
    let id = tenant.seed_grants(1).remove(0).id;
    let client = tenant.client_builder().pacing(pacing).build().unwrap();
    let half = |client: Client| {
        let id = id.clone();
        async move {
            let grants = client.client_grants();
            stream::iter(0..GETS / 2)
                .map(|_| grants.get(&id))
                .buffer_unordered(4)
                .filter(|result| std::future::ready(result.is_err()))
                .count()
                .await
        }
    };
    let (first, second) = tokio::join!(half(client.clone()), half(client));
    let statuses: Vec<Option<u16>> = tenant
        .requests()
        .iter()
        .filter(|request| request.path.starts_with("/api/v2/"))
        .map(|request| request.status)
        .collect();
    Run {
        errors: first + second,
        refused: statuses.iter().filter(|status| **status == Some(429)).count(),
        answered: statuses.iter().filter(|status| **status == Some(200)).count(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clones_share_one_pace_and_hardly_meet_a_429() {
    let paced = run(true).await;
    assert_eq!(paced.errors, 0);
    assert_eq!(paced.answered, GETS);
    assert!(
        paced.refused <= 3,
        "pacing should keep 429s to the first moments, got {}",
        paced.refused
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_pacing_the_same_work_runs_into_429s() {
    let reactive = run(false).await;
    assert_eq!(reactive.answered + reactive.errors, GETS);
    assert!(
        reactive.refused > 10,
        "retries alone send requests into the empty bucket, got only {} 429s",
        reactive.refused
    );
}
