//! Shared pieces of the contract tests: a clock that never sleeps, a client pointed at a mock
//! server, the recorded grant the server answers with, and a capture of what `tracing` writes.
#![allow(dead_code)] // Each test file uses its own part of this module.

pub mod captured_log;
pub mod contract;
pub mod raw_server;
pub mod virtual_clock;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use auth0_client_grants::{Client, ClientBuilder, Clock, RetryPolicy, Sleep};
use futures::future::BoxFuture;
use httpmock::MockServer;

/// A grant as `GET /api/v2/client-grants/{id}` answered it on a real tenant
/// (tests/fixtures/README.md says where from).
pub const RECORDED_GRANT: &str = include_str!("../fixtures/client_grant.json");

/// The time every test starts at: 2023-11-14T22:13:20Z.
pub const START_SECS: u64 = 1_700_000_000;

type SleepHook = Arc<dyn Fn(Duration) -> BoxFuture<'static, ()> + Send + Sync>;

/// A clock whose `sleep` returns at once, moves "now" forward and records how long it was
/// asked to wait; a hook can change the world (the mock server) while the client "sleeps".
#[derive(Clone)]
pub struct FakeClock {
    now: Arc<Mutex<SystemTime>>,
    sleeps: Arc<Mutex<Vec<Duration>>>,
    on_sleep: Arc<Mutex<Option<SleepHook>>>,
}

impl std::fmt::Debug for FakeClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeClock")
            .field("now", &self.now())
            .finish_non_exhaustive()
    }
}

impl FakeClock {
    pub fn new() -> Self {
        Self {
            now: Arc::new(Mutex::new(UNIX_EPOCH + Duration::from_secs(START_SECS))),
            sleeps: Arc::default(),
            on_sleep: Arc::default(),
        }
    }

    pub fn now_for_test(&self) -> SystemTime {
        *self.now.lock().unwrap()
    }

    pub fn advance(&self, by: Duration) {
        *self.now.lock().unwrap() += by;
    }

    /// Every wait the client asked for, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.sleeps.lock().unwrap().clone()
    }

    /// Runs `hook` each time the client sleeps (before the sleep "ends").
    pub fn on_sleep<F>(&self, hook: impl Fn(Duration) -> F + Send + Sync + 'static)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        *self.on_sleep.lock().unwrap() = Some(Arc::new(move |duration| Box::pin(hook(duration))));
    }
}

impl Clock for FakeClock {
    fn now(&self) -> SystemTime {
        *self.now.lock().unwrap()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        self.sleeps.lock().unwrap().push(duration);
        self.advance(duration);
        let hook = self.on_sleep.lock().unwrap().clone();
        Box::pin(async move {
            if let Some(hook) = hook {
                hook(duration).await;
            }
        })
    }
}

/// A builder pointed at `server`, with a fixed token and the fake clock.
pub fn builder_for(server: &MockServer, clock: &FakeClock) -> ClientBuilder {
    Client::builder()
        .base_url(server.url("/api/v2"))
        .token("test-token")
        .clock(clock.clone())
}

/// A client pointed at `server`, with a fixed token, the fake clock and standard retries.
pub fn client_for(server: &MockServer, clock: &FakeClock) -> Client {
    builder_for(server, clock)
        .retry(RetryPolicy::standard())
        .build()
        .unwrap()
}

/// The rate-limit headers Auth0 sends, with the reset `reset_in` seconds after the start.
pub fn rate_limit_headers(limit: u64, remaining: u64, reset_in: u64) -> [(&'static str, String); 3] {
    [
        ("x-ratelimit-limit", limit.to_string()),
        ("x-ratelimit-remaining", remaining.to_string()),
        ("x-ratelimit-reset", (START_SECS + reset_in).to_string()),
    ]
}
