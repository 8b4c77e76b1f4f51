//! When a request is sent again, and after how long: [`RetryPolicy`] and the pure decision
//! function [`Client::run`](crate::Client) calls after every attempt that did not succeed.

use std::time::{Duration, SystemTime};

use reqwest::Method;
use reqwest::header::HeaderMap;

use crate::transport::rate_limit::{RateLimit, retry_after};

/// How the client retries requests that failed for reasons a retry can fix.
///
/// - **429 Too Many Requests** is retried for every method (the request was refused, so
///   nothing happened): the client waits what the server asks (`Retry-After`, else until
///   `X-RateLimit-Reset`) plus a small positive jitter, never less. If that wait is longer
///   than [`max_delay`](Self::max_delay), the call fails at once with the 429 and its
///   [`RateLimit`](crate::RateLimit), so the caller can schedule instead of sleeping.
/// - **408, 500, 502, 503, 504, timeouts and broken connections** are retried with exponential
///   backoff and full jitter for GET, PATCH and DELETE, which are idempotent here. POST is
///   retried only when the connection could not be made (the request never left): a create
///   must never happen twice.
///
/// ```
/// use std::time::Duration;
/// use auth0_client_grants::RetryPolicy;
///
/// let patient = RetryPolicy::standard().max_retries(5).max_delay(Duration::from_secs(120));
/// let never = RetryPolicy::disabled();
/// # let _ = (patient, never);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: u32,
    initial_backoff: Duration,
    max_delay: Duration,
    rate_limit_budget: Duration,
}

impl RetryPolicy {
    /// The default: up to 3 retries of failures, backoff starting at 500 ms, no single wait
    /// longer than 60 s (Auth0's rate-limit windows refill well within that), and 429s waited
    /// out for up to 60 s in all per call.
    pub const fn standard() -> Self {
        Self {
            max_retries: 3,
            initial_backoff: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
            rate_limit_budget: Duration::from_secs(60),
        }
    }

    /// No retries: every failure and every 429 is returned to the caller as it happens, and
    /// a request that pacing would hold back returns [`Error::HeldBack`](crate::Error::HeldBack)
    /// at once (a budget of zero).
    pub const fn disabled() -> Self {
        Self {
            max_retries: 0,
            rate_limit_budget: Duration::ZERO,
            ..Self::standard()
        }
    }

    /// How long one call may wait for the tenant's rate limit in all: 429s waited out, time
    /// held in the pacing queue however many calls wait ahead of it, and waits for the token
    /// endpoint's 429s. When the next wait would pass it, the call returns at once: the last
    /// 429 with its [`RateLimit`](crate::RateLimit), or
    /// [`Error::HeldBack`](crate::Error::HeldBack) if it was never sent. A call so ends no
    /// later than this budget plus one attempt's timeout, beyond its requests' own time and
    /// other retries' backoff. Default: 60 s, which suits batch jobs sharing a tenant with
    /// other clients; a service with a deadline sets less. 429s do not count against
    /// [`max_retries`](Self::max_retries).
    #[must_use]
    pub const fn rate_limit_budget(mut self, budget: Duration) -> Self {
        self.rate_limit_budget = budget;
        self
    }

    /// How many times one call may be sent again (not counting the first attempt).
    #[must_use]
    pub const fn max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// The backoff ceiling before the first retry; it doubles with each retry, and the actual
    /// wait is drawn uniformly below it ("full jitter").
    #[must_use]
    pub const fn initial_backoff(mut self, initial_backoff: Duration) -> Self {
        self.initial_backoff = initial_backoff;
        self
    }

    /// The longest the client waits before one retry, and the longest single wait pacing
    /// holds a request (however generous the budget). A rate limit that resets later than
    /// this is returned to the caller instead of slept through.
    #[must_use]
    pub const fn max_delay(mut self, max_delay: Duration) -> Self {
        self.max_delay = max_delay;
        self
    }

    /// The longest single wait this policy accepts; pacing holds to it too.
    pub(crate) const fn longest_wait(&self) -> Duration {
        self.max_delay
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::standard()
    }
}

/// What happened to one attempt.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Outcome<'a> {
    /// The server answered with a status that is not a success, with these headers (and the
    /// rate-limit ones among them, read once when the response came).
    Status {
        status: u16,
        headers: &'a HeaderMap,
        rate_limit: Option<RateLimit>,
    },
    /// No connection could be made: the request never reached the server.
    ConnectFailed,
    /// The request may have reached the server, but no complete response came back (timeout,
    /// connection reset, body cut off).
    NoResponse,
}

/// What to do after an attempt that did not succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    RetryAfter(Duration),
    GiveUp(GiveUp),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GiveUp {
    /// The failure is not one a retry can fix.
    NotRetryable,
    /// The request may already have taken effect, and sending it again could repeat it.
    NotIdempotent,
    /// The retries allowed by the policy are used up.
    RetriesExhausted,
    /// The server asks for a longer wait than the policy's `max_delay`.
    WaitTooLong(Duration),
    /// Waiting out this 429 too (this long) would take the call past the policy's
    /// `rate_limit_budget`.
    RateLimitBudgetSpent(Duration),
}

/// What one call has spent on retries and on waiting for the rate limit so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Spent {
    /// Retries after anything but a 429.
    pub(crate) retries: u32,
    /// The API's 429s waited out.
    pub(crate) rate_limited: u32,
    /// How long the call waited for the rate limit in all: 429s waited out, time held back by
    /// pacing, and waits for the token endpoint's rate limit.
    pub(crate) rate_limit_wait: Duration,
}

impl Spent {
    /// Counts a retry waited `delay`, after a 429 if `rate_limited`.
    pub(crate) fn add(&mut self, rate_limited: bool, delay: Duration) {
        if rate_limited {
            self.rate_limited += 1;
            self.held(delay);
        } else {
            self.retries += 1;
        }
    }

    /// Counts `waited` against the rate-limit budget.
    pub(crate) fn held(&mut self, waited: Duration) {
        self.rate_limit_wait = self.rate_limit_wait.saturating_add(waited);
    }

    /// How much longer the call may wait for the rate limit under `policy`.
    pub(crate) fn rate_limit_budget_left(&self, policy: &RetryPolicy) -> Duration {
        policy.rate_limit_budget.saturating_sub(self.rate_limit_wait)
    }

    /// How many requests were sent again.
    pub(crate) fn resent(&self) -> u32 {
        self.retries.saturating_add(self.rate_limited)
    }
}

/// Padding added to every rate-limit wait, so that the retry lands after the reset, not on it.
const RATE_LIMIT_PADDING: Duration = Duration::from_millis(50);

/// Decides whether to retry after `outcome`, given what the call has `spent` on retries.
/// `jitter` is a number drawn uniformly from `[0, 1)`.
pub(crate) fn decide(
    policy: &RetryPolicy,
    method: &Method,
    outcome: Outcome<'_>,
    spent: Spent,
    now: SystemTime,
    jitter: f64,
) -> Decision {
    let jitter = jitter.clamp(0.0, 1.0);
    let retries_done = spent.retries;
    let wait = match outcome {
        Outcome::Status {
            status: 429,
            headers,
            rate_limit,
        } => {
            // A reset already past, or none said, is no reason to come back at once: back off
            // from the number of 429s this call has met.
            let floor = backoff(policy, spent.rate_limited, jitter);
            let wait = match rate_limit_wait(headers, rate_limit, now) {
                // Never before the reset: pad it, and spread clients up to 10% beyond it.
                Some(wait) => wait
                    .saturating_add(RATE_LIMIT_PADDING)
                    .saturating_add(wait.mul_f64(0.1 * jitter))
                    .max(floor),
                None => floor,
            };
            return if wait > policy.max_delay {
                Decision::GiveUp(GiveUp::WaitTooLong(wait))
            } else if spent.rate_limit_wait.saturating_add(wait) > policy.rate_limit_budget {
                Decision::GiveUp(GiveUp::RateLimitBudgetSpent(wait))
            } else {
                Decision::RetryAfter(wait)
            };
        }
        Outcome::Status {
            status: 408 | 500 | 502 | 503 | 504,
            headers,
            ..
        } => {
            if *method == Method::POST {
                return Decision::GiveUp(GiveUp::NotIdempotent);
            }
            let asked = retry_after(headers, now).unwrap_or(Duration::ZERO);
            backoff(policy, retries_done, jitter).max(asked)
        }
        Outcome::Status { .. } => return Decision::GiveUp(GiveUp::NotRetryable),
        Outcome::ConnectFailed => backoff(policy, retries_done, jitter),
        Outcome::NoResponse => {
            if *method == Method::POST {
                return Decision::GiveUp(GiveUp::NotIdempotent);
            }
            backoff(policy, retries_done, jitter)
        }
    };
    if retries_done >= policy.max_retries {
        Decision::GiveUp(GiveUp::RetriesExhausted)
    } else if wait > policy.max_delay {
        Decision::GiveUp(GiveUp::WaitTooLong(wait))
    } else {
        Decision::RetryAfter(wait)
    }
}

/// What a 429 asks: `Retry-After` if present, else the time until `X-RateLimit-Reset`.
fn rate_limit_wait(headers: &HeaderMap, rate_limit: Option<RateLimit>, now: SystemTime) -> Option<Duration> {
    retry_after(headers, now).or_else(|| rate_limit.map(|limit| limit.reset_after(now)))
}

/// Full jitter: uniformly below `initial_backoff * 2^retries_done`, capped by `max_delay`.
fn backoff(policy: &RetryPolicy, retries_done: u32, jitter: f64) -> Duration {
    let ceiling = policy
        .initial_backoff
        .saturating_mul(1u32.checked_shl(retries_done).unwrap_or(u32::MAX));
    ceiling.min(policy.max_delay).mul_f64(jitter)
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;
    use crate::transport::rate_limit::header_map;

    const NOW_SECS: u64 = 1_700_000_000;

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(NOW_SECS)
    }

    fn reset_in(seconds: u64) -> HeaderMap {
        header_map(&[
            ("x-ratelimit-limit", "10".into()),
            ("x-ratelimit-remaining", "0".into()),
            ("x-ratelimit-reset", (NOW_SECS + seconds).to_string()),
        ])
    }

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    /// A call that retried `count` failures other than 429s.
    fn tries(count: u32) -> Spent {
        Spent {
            retries: count,
            ..Spent::default()
        }
    }

    /// A call that waited out `count` 429s for `seconds` in all.
    fn limited(count: u32, seconds: u64) -> Spent {
        Spent {
            rate_limited: count,
            rate_limit_wait: Duration::from_secs(seconds),
            ..Spent::default()
        }
    }

    #[test]
    fn the_decision_table() {
        let standard = RetryPolicy::standard();
        let none = HeaderMap::new();
        let retry_after_7 = header_map(&[("retry-after", "7")]);
        let retry_after_date = header_map(&[(
            "retry-after",
            httpdate::fmt_http_date(now() + Duration::from_secs(4)),
        )]);
        let reset_in_0 = reset_in(0);
        let reset_in_3 = reset_in(3);
        let reset_in_600 = reset_in(600);
        let status = |status, headers| Outcome::Status {
            status,
            headers,
            rate_limit: RateLimit::from_headers(headers),
        };
        use Decision::{GiveUp as Stop, RetryAfter as Retry};
        use GiveUp::*;

        #[rustfmt::skip]
        let table: Vec<(&str, Method, Outcome<'_>, Spent, f64, Decision)> = vec![
            // 429: every method, waits what the server asks, never less.
            ("429 Retry-After seconds",     Method::GET,    status(429, &retry_after_7), limited(0, 0), 0.0, Retry(ms(7_050))),
            ("429 Retry-After date",        Method::POST,   status(429, &retry_after_date), limited(0, 0), 0.0, Retry(ms(4_050))),
            ("429 reset header only",       Method::PATCH,  status(429, &reset_in_3), limited(0, 0), 0.0, Retry(ms(3_050))),
            ("429 jitter only adds",        Method::DELETE, status(429, &reset_in_3), limited(0, 0), 0.5, Retry(ms(3_200))),
            ("429 without any header",      Method::GET,    status(429, &none), limited(1, 0), 0.5, Retry(ms(500))),
            ("429 reset beyond max_delay",  Method::GET,    status(429, &reset_in_600), limited(0, 0), 0.0, Stop(WaitTooLong(ms(600_050)))),
            ("429 after failures' retries", Method::GET,    status(429, &reset_in_3), tries(3), 0.0, Retry(ms(3_050))),
            ("429 within the budget",       Method::GET,    status(429, &reset_in_3), limited(9, 56), 0.0, Retry(ms(3_050))),
            ("429 past the budget",         Method::GET,    status(429, &reset_in_3), limited(9, 57), 0.0, Stop(RateLimitBudgetSpent(ms(3_050)))),
            ("429 reset already past",      Method::GET,    status(429, &reset_in_0), limited(2, 0), 1.0, Retry(ms(2_000))),
            // 408 and 5xx: idempotent methods back off; POST never repeats.
            ("500 GET first retry",         Method::GET,    status(500, &none), tries(0), 0.5, Retry(ms(250))),
            ("503 PATCH third retry",       Method::PATCH,  status(503, &none), tries(2), 1.0, Retry(ms(2_000))),
            ("503 honours Retry-After",     Method::GET,    status(503, &retry_after_7), tries(0), 0.5, Retry(ms(7_000))),
            ("502 DELETE",                  Method::DELETE, status(502, &none), tries(0), 0.0, Retry(ms(0))),
            ("504 GET",                     Method::GET,    status(504, &none), tries(1), 1.0, Retry(ms(1_000))),
            ("408 GET",                     Method::GET,    status(408, &none), tries(0), 1.0, Retry(ms(500))),
            ("500 POST",                    Method::POST,   status(500, &none), tries(0), 0.5, Stop(NotIdempotent)),
            ("408 POST",                    Method::POST,   status(408, &none), tries(0), 0.5, Stop(NotIdempotent)),
            ("500 retries used up",         Method::GET,    status(500, &none), tries(3), 0.5, Stop(RetriesExhausted)),
            // Responses a retry cannot fix.
            ("400",                         Method::GET,    status(400, &none), tries(0), 0.5, Stop(NotRetryable)),
            ("401",                         Method::GET,    status(401, &none), tries(0), 0.5, Stop(NotRetryable)),
            ("404",                         Method::DELETE, status(404, &none), tries(0), 0.5, Stop(NotRetryable)),
            ("409",                         Method::POST,   status(409, &none), tries(0), 0.5, Stop(NotRetryable)),
            ("501",                         Method::GET,    status(501, &none), tries(0), 0.5, Stop(NotRetryable)),
            // Connections: a POST that never left may go again; one that may have arrived may not.
            ("connect failed POST",         Method::POST,   Outcome::ConnectFailed, tries(0), 1.0, Retry(ms(500))),
            ("no response GET",               Method::GET,    Outcome::NoResponse, tries(1), 1.0, Retry(ms(1_000))),
            ("no response POST",              Method::POST,   Outcome::NoResponse, tries(0), 1.0, Stop(NotIdempotent)),
        ];
        for (name, method, outcome, spent, jitter, expected) in table {
            assert_eq!(
                decide(&standard, &method, outcome, spent, now(), jitter),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn disabled_never_retries() {
        let decision = decide(
            &RetryPolicy::disabled(),
            &Method::GET,
            Outcome::ConnectFailed,
            Spent::default(),
            now(),
            0.5,
        );
        assert_eq!(decision, Decision::GiveUp(GiveUp::RetriesExhausted));
    }

    #[test]
    fn backoff_is_capped_by_max_delay_and_survives_huge_attempt_counts() {
        let policy = RetryPolicy::standard()
            .max_retries(u32::MAX)
            .max_delay(Duration::from_secs(5));
        let decision = decide(&policy, &Method::GET, Outcome::NoResponse, tries(200), now(), 1.0);
        assert_eq!(decision, Decision::RetryAfter(Duration::from_secs(5)));
    }
}

/// Fuzzing the retry decision with any rate-limit headers (inputs in src/tests/fuzz_inputs.rs), and
/// what it found.
#[cfg(test)]
mod fuzzed {
    use std::time::UNIX_EPOCH;

    use proptest::option::weighted;
    use proptest::prelude::*;
    use reqwest::header::{HeaderName, HeaderValue};

    use super::*;
    use crate::tests::fuzz_inputs::{HEADER_NAMES, fuzz, header_value, shown};

    /// A call that met `count` failures and as many 429s, each waited one second.
    fn spent(count: u32) -> Spent {
        Spent {
            retries: count,
            rate_limited: count,
            rate_limit_wait: Duration::from_secs(count.into()),
        }
    }
    use crate::transport::rate_limit::{LATEST_RESET_SECS, MAX_RETRY_AFTER, RateLimit, header_map};

    #[test]
    fn fuzz_rate_limit_headers_never_panic_the_retry_decision() {
        let headers = [
            weighted(0.8, shown(header_value())),
            weighted(0.8, shown(header_value())),
            weighted(0.8, shown(header_value())),
            weighted(0.5, shown(header_value())),
        ];
        let now = (0u64..4_102_444_800).prop_map(|seconds| UNIX_EPOCH + Duration::from_secs(seconds));
        let input = (headers, now, 0u32..6, any::<f64>(), any::<bool>());
        fuzz(
            "rate-limit headers",
            4096,
            input,
            |(values, now, retries_done, jitter, patient)| {
                let mut headers = HeaderMap::new();
                for (name, value) in HEADER_NAMES.iter().zip(values) {
                    if let Some(value) = value.and_then(|value| HeaderValue::from_bytes(&value.0).ok()) {
                        headers.insert(HeaderName::from_static(name), value);
                    }
                }
                if let Some(limit) = RateLimit::from_headers(&headers) {
                    let number = |name: &str| headers[name].to_str().unwrap().trim().parse::<u64>().unwrap();
                    assert_eq!(limit.limit, number("x-ratelimit-limit"));
                    assert_eq!(limit.remaining, number("x-ratelimit-remaining"));
                    assert!(limit.reset <= UNIX_EPOCH + Duration::from_secs(LATEST_RESET_SECS));
                    let _ = limit.reset_after(now);
                }
                if let Some(wait) = retry_after(&headers, now) {
                    assert!(wait <= MAX_RETRY_AFTER);
                }
                let policy = if patient {
                    RetryPolicy::standard().max_delay(Duration::MAX)
                } else {
                    RetryPolicy::standard()
                };
                for status in [429, 503] {
                    for method in [Method::GET, Method::POST] {
                        let outcome = Outcome::Status {
                            status,
                            headers: &headers,
                            rate_limit: RateLimit::from_headers(&headers),
                        };
                        if let Decision::RetryAfter(wait) =
                            decide(&policy, &method, outcome, spent(retries_done), now, jitter)
                            && !patient
                        {
                            assert!(wait <= Duration::from_secs(60), "{wait:?}");
                        }
                    }
                }
                7
            },
        );
    }

    /// The decision after a GET's first 429 with `headers`, at the UNIX epoch.
    fn first_429(policy: &RetryPolicy, headers: &HeaderMap, jitter: f64) -> Decision {
        let outcome = Outcome::Status {
            status: 429,
            headers,
            rate_limit: RateLimit::from_headers(headers),
        };
        decide(
            policy,
            &Method::GET,
            outcome,
            Spent::default(),
            UNIX_EPOCH,
            jitter,
        )
    }

    #[test]
    fn found_a_rate_limit_reset_past_what_system_time_holds() {
        // Panicked in `RateLimit::from_headers` ("overflow when adding duration to instant"), on
        // every response that carried it, before any retry decision.
        let headers = header_map(&[
            ("x-ratelimit-limit", "0"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "9223372036854775808"),
        ]);
        assert_eq!(RateLimit::from_headers(&headers), None);
        // Fits in a `SystemTime`, but panicked in the pacer's arithmetic ("cannot convert float
        // seconds to Duration") with three requests in flight: no reset past the year 9999 is
        // taken as meant.
        let far = header_map(&[
            ("x-ratelimit-limit", "2"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "9223372036854775807"),
        ]);
        assert_eq!(RateLimit::from_headers(&far), None);
        let latest = header_map(&[
            ("x-ratelimit-limit", "2"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "253402300799"),
        ]);
        assert!(RateLimit::from_headers(&latest).is_some());
        let decision = first_429(&RetryPolicy::standard(), &headers, 0.0);
        assert!(matches!(decision, Decision::RetryAfter(_)), "{decision:?}");
    }

    #[test]
    fn found_a_retry_after_too_long_to_pad() {
        // Panicked in the retry decision of a 429 ("overflow when adding durations"): the wait
        // plus its padding and jitter did not fit in a `Duration`.
        let headers = header_map(&[("retry-after", "16769767339735955968")]);
        assert_eq!(retry_after(&headers, UNIX_EPOCH), Some(MAX_RETRY_AFTER));
        let decision = first_429(&RetryPolicy::standard(), &headers, 0.9);
        assert!(
            matches!(
                decision,
                Decision::GiveUp(crate::transport::retry::GiveUp::WaitTooLong(_))
            ),
            "{decision:?}"
        );
        let patient = RetryPolicy::standard()
            .max_delay(Duration::MAX)
            .rate_limit_budget(Duration::MAX);
        let decision = first_429(&patient, &headers, 0.9);
        assert!(matches!(decision, Decision::RetryAfter(_)), "{decision:?}");
    }
}
