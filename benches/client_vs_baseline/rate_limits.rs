//! The rate-limit scenarios: gets against a fake tenant's token bucket (20 a second, 20 at
//! once), with either meaning of `X-RateLimit-Reset`, with and without `Retry-After`, across
//! latency, and with several programs (separately built clients, each with its own token and
//! pacing) sharing the bucket, the token endpoint's requests included. Each runs through the
//! crate with pacing on (the default, which the goals judge), with pacing off, and through the
//! hand-written baseline.

use std::time::{Duration, Instant};

use auth0_client_grants::testing::{FakeTenant, RateLimitReset, RateLimitSettings};
use futures::future::join_all;

use crate::baseline::Baseline;
use crate::setup::{failures, remote};

const RATE: f64 = 20.0;
const BURST: u32 = 20;
const CONCURRENCY: usize = 8;

#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    name: &'static str,
    reset: RateLimitReset,
    retry_after: bool,
    /// Each way.
    latency: Duration,
    programs: usize,
    calls_per_program: usize,
    token_endpoint_limited: bool,
}

impl Scenario {
    fn calls(&self) -> usize {
        self.programs * self.calls_per_program
    }

    fn shared(&self) -> bool {
        self.programs > 1
    }
}

/// The rate-limit scenarios, each header style and sharing; `quick` shrinks them to a smoke run.
pub fn scenarios(quick: bool) -> Vec<Scenario> {
    let calls = if quick { 30 } else { 200 };
    let alone = Scenario {
        name: "",
        reset: RateLimitReset::WhenFull,
        retry_after: true,
        latency: Duration::ZERO,
        programs: 1,
        calls_per_program: calls,
        token_endpoint_limited: false,
    };
    let next = RateLimitReset::WhenNextRequestAllowed;
    vec![
        Scenario {
            name: "reset = bucket full (FakeTenant's default), Retry-After on 429s",
            ..alone
        },
        Scenario {
            name: "reset = next request allowed, no Retry-After",
            reset: next,
            retry_after: false,
            ..alone
        },
        Scenario {
            name: "reset = next request allowed, Retry-After on 429s",
            reset: next,
            ..alone
        },
        Scenario {
            name: "reset = next request allowed, 60 ms latency each way",
            reset: next,
            latency: Duration::from_millis(60),
            ..alone
        },
        Scenario {
            name: "2 programs share the bucket, reset = next request allowed",
            reset: next,
            programs: 2,
            ..alone
        },
        Scenario {
            name: "2 programs share the bucket, reset = bucket full",
            programs: 2,
            ..alone
        },
        Scenario {
            name: "4 programs share the bucket with the token endpoint",
            programs: 4,
            calls_per_program: calls / 2,
            token_endpoint_limited: true,
            ..alone
        },
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// This crate with pacing on (the default).
    Paced,
    /// This crate with pacing off: retries on 429 alone, as Auth0's SDKs do.
    Reactive,
    /// The hand-written loop that waits out each 429.
    Baseline,
}

impl Variant {
    pub const ALL: [Variant; 3] = [Variant::Paced, Variant::Reactive, Variant::Baseline];

    fn name(self) -> &'static str {
        match self {
            Variant::Paced => "crate, pacing on (default)",
            Variant::Reactive => "crate, pacing off (retries alone)",
            Variant::Baseline => "baseline: reqwest loop that waits out each 429",
        }
    }
}

#[derive(Debug)]
pub struct Run {
    wall: Duration,
    /// 429s the tenant sent, the token endpoint's included.
    refused: usize,
    /// Calls that returned an error to their caller.
    errors: usize,
    /// Requests the bucket let through: the floor of the wall time is theirs.
    admitted: usize,
}

pub async fn run(scenario: Scenario, variant: Variant) -> Run {
    let tenant = remote(
        FakeTenant::builder()
            .rate_limit(RateLimitSettings::new(RATE, BURST))
            .rate_limit_reset(scenario.reset)
            .rate_limit_retry_after(scenario.retry_after)
            .rate_limit_token_endpoint(scenario.token_endpoint_limited)
            .latency(scenario.latency),
    )
    .await;
    let id = tenant.seed_grants(1).remove(0).id;
    let started = Instant::now();
    let program = || async {
        let calls = scenario.calls_per_program;
        match variant {
            Variant::Paced | Variant::Reactive => {
                let client = tenant
                    .client_builder()
                    .pacing(variant == Variant::Paced)
                    .build()
                    .expect("client");
                let grants = client.client_grants();
                failures(calls, CONCURRENCY, || grants.get(&id)).await
            }
            Variant::Baseline => {
                let baseline =
                    Baseline::connect(&tenant.base_url(), tenant.client_id(), tenant.client_secret()).await;
                failures(calls, CONCURRENCY, || baseline.get(&id)).await
            }
        }
    };
    let errors = join_all((0..scenario.programs).map(|_| program()))
        .await
        .into_iter()
        .sum();
    let wall = started.elapsed();
    let requests = tenant.requests();
    let in_bucket = |path: &str| path.starts_with("/api/v2/") || scenario.token_endpoint_limited;
    let refused = requests
        .iter()
        .filter(|request| request.status == Some(429))
        .count();
    let admitted = requests
        .iter()
        .filter(|request| in_bucket(&request.path) && request.status.is_some_and(|status| status != 429))
        .count();
    Run {
        wall,
        refused,
        errors,
        admitted,
    }
}

impl Run {
    /// The bucket's floor for the requests it let through (what it held beyond the burst, at
    /// its rate, plus one round trip for the last response) over the wall time.
    fn efficiency(&self, scenario: &Scenario) -> f64 {
        let beyond_burst = self.admitted.saturating_sub(BURST as usize) as f64;
        let floor = beyond_burst / RATE + 2.0 * scenario.latency.as_secs_f64();
        floor / self.wall.as_secs_f64()
    }
}

/// The goals, for pacing on: no errors; alone, at most 10 429s per 200 calls and
/// 95% efficiency; shared, at most one call in fifty answered 429 (programs that start together
/// included) and 90% efficiency.
fn goals(scenario: &Scenario) -> (usize, f64) {
    if scenario.shared() {
        (scenario.calls() / 50, 0.90)
    } else {
        (scenario.calls() / 20, 0.95)
    }
}

fn meets_goals(scenario: &Scenario, runs: &[Run]) -> bool {
    let (most_refused, least_efficiency) = goals(scenario);
    runs.iter().all(|run| {
        run.errors == 0 && run.refused <= most_refused && run.efficiency(scenario) >= least_efficiency
    })
}

/// Every scenario's runs, by client.
pub type Results = Vec<(Scenario, Vec<(Variant, Vec<Run>)>)>;

pub async fn run_all(quick: bool, paced_rounds: usize) -> Results {
    let mut results = Vec::new();
    for scenario in scenarios(quick) {
        eprintln!("rate limit: {} …", scenario.name);
        let mut variants = Vec::new();
        for variant in Variant::ALL {
            let rounds = if variant == Variant::Paced {
                paced_rounds
            } else {
                1
            };
            let mut runs = Vec::new();
            for _ in 0..rounds {
                runs.push(run(scenario, variant).await);
            }
            variants.push((variant, runs));
        }
        results.push((scenario, variants));
    }
    results
}

pub fn render(results: &Results, quick: bool) -> String {
    let mut out = format!(
        "\nRate limits: gets at concurrency {CONCURRENCY} per program against a bucket of {RATE}/s with a \
         burst of {BURST}, `X-RateLimit-*` on every response. Efficiency = the bucket's floor for the requests \
         it let through (those beyond the burst at {RATE}/s, plus one round trip) / wall time. Goals, for \
         pacing on: 0 errors; alone, ≤ 10 429s per 200 calls and efficiency ≥ 0.95; shared, ≤ 2% of calls \
         answered 429 and efficiency ≥ 0.90. The worst run is shown, all runs in brackets; the other two \
         clients are for comparison (their goal column is in parentheses).\n\n\
         | scenario | client | calls | wall | efficiency | 429s sent | errors | goal met |\n\
         |---|---|---|---|---|---|---|---|\n"
    );
    let mut all_met = true;
    for (scenario, variants) in results {
        for (variant, runs) in variants {
            let met = meets_goals(scenario, runs);
            if *variant == Variant::Paced {
                all_met &= met;
            }
            let list = |value: &dyn Fn(&Run) -> String| runs.iter().map(value).collect::<Vec<_>>().join(", ");
            let worst_wall = runs.iter().map(|run| run.wall).max().unwrap_or_default();
            let worst_efficiency = runs
                .iter()
                .map(|run| run.efficiency(scenario))
                .fold(f64::INFINITY, f64::min);
            let most_refused = runs.iter().map(|run| run.refused).max().unwrap_or(0);
            let most_errors = runs.iter().map(|run| run.errors).max().unwrap_or(0);
            out.push_str(&format!(
                "| {} | {} | {} | {:.2} s [{}] | {worst_efficiency:.3} [{}] | {most_refused} [{}] | {most_errors} [{}] | {} |\n",
                scenario.name,
                variant.name(),
                scenario.calls(),
                worst_wall.as_secs_f64(),
                list(&|run| format!("{:.2}", run.wall.as_secs_f64())),
                list(&|run| format!("{:.3}", run.efficiency(scenario))),
                list(&|run| run.refused.to_string()),
                list(&|run| run.errors.to_string()),
                match (*variant == Variant::Paced, met) {
                    (true, true) => "yes",
                    (true, false) => "**no**",
                    (false, true) => "(yes)",
                    (false, false) => "(no)",
                },
            ));
        }
    }
    out.push_str(&if quick {
        "\nA smoke run (`--quick`): too few calls for the goals to mean anything.\n".to_owned()
    } else {
        format!(
            "\nEvery goal of pacing on met in this run: {}.\n",
            if all_met { "yes" } else { "**no**" }
        )
    });
    out
}
