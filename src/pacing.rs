//! Proactive pacing: one model of the tenant's rate-limit allowance, shared by every clone of a
//! [`Client`](crate::Client), that holds requests back when the allowance is spent instead of
//! sending them into certain 429s.
//!
//! Auth0 limits the Management API with a token bucket and reports it on every answer:
//! `X-RateLimit-Limit` (the bucket's size), `X-RateLimit-Remaining` (whole requests left) and
//! `X-RateLimit-Reset` (the UNIX second by which the bucket is full again). The model keeps a
//! fractional estimate of the bucket, takes one request from it before each send (a
//! reservation: when it is empty, the request waits its turn at the refill rate) and corrects
//! it with every answer. Answers without the headers leave the model untouched, so a server
//! that does not send them is never paced.
//!
//! The refill rate is never sent; it is learned. An answer reporting `remaining` of `limit`
//! with a reset `d` seconds after the request was sent means the bucket refills what it lacks
//! (more than `limit - remaining - 1` requests, since `remaining` is rounded down) in at most
//! `d` seconds (the reset is rounded up to a whole second, and the request was admitted after
//! it was sent), so `(limit - remaining - 1) / d` is a lower bound of the rate. The model uses
//! the largest lower bound seen: never faster than the tenant, and within a few answers nearly
//! as fast; the `remaining` of later answers makes up the difference. A 429 means the model was wrong (another client shares the
//! tenant, or the clocks disagree): it forgets what it learned and starts again from that
//! answer. Reactive retries stay as the safety net.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use crate::client::locked;
use crate::clock::Clock;
use crate::rate_limit::RateLimit;

/// The allowance model of one client and its clones.
#[derive(Debug, Default)]
pub(crate) struct Pacer {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// `None` until an answer has carried the rate-limit headers.
    bucket: Option<Bucket>,
    /// Requests that took their place and have not been answered: waiting for their turn, or
    /// sent.
    in_flight: usize,
}

/// What the model believes about the server's bucket, after every request this client has
/// sent or reserved.
#[derive(Debug)]
struct Bucket {
    limit: f64,
    /// Requests left; negative when requests are waiting for the refill.
    tokens: f64,
    /// When `tokens` was last brought up to date.
    updated: SystemTime,
    /// Requests per second the bucket refills, as learned (a lower bound); until it is known,
    /// nothing is held back.
    refill: Option<f64>,
}

/// One request's place: taken before it waits its turn, given up when it is answered or
/// dropped. A request dropped before it was sent gives its unit of allowance back.
#[derive(Debug)]
pub(crate) struct Permit<'a> {
    pacer: &'a Pacer,
    /// Whether the request took a unit of the modelled allowance.
    took_unit: bool,
    /// Whether the request is still in the count of those in flight.
    counted: bool,
    /// When the request was sent; `None` while it waits.
    sent_at: Option<SystemTime>,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.counted {
            return;
        }
        let mut state = self.pacer.state();
        state.in_flight -= 1;
        if self.took_unit
            && self.sent_at.is_none()
            && let Some(bucket) = state.bucket.as_mut()
        {
            bucket.tokens = (bucket.tokens + 1.0).min(bucket.limit);
        }
    }
}

impl Pacer {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        locked(&self.state)
    }

    /// Waits until the model says the tenant can take one more request, then lets it through.
    /// A wait longer than `max_wait` is not waited: the request goes at once and the server's
    /// answer (a 429 with its reset) decides, as without pacing.
    pub(crate) async fn admit(&self, clock: &dyn Clock, max_wait: Duration) -> Permit<'_> {
        let now = clock.now();
        let (mut permit, wait) = self.reserve(now, max_wait);
        if wait.is_zero() {
            permit.sent_at = Some(now);
            return permit;
        }
        tracing::debug!(
            wait_ms = wait.as_millis() as u64,
            "pacing: waiting for the rate limit to refill"
        );
        // Dropped here (the caller gave up), the permit gives its unit back.
        clock.sleep(wait).await;
        permit.sent_at = Some(clock.now());
        permit
    }

    /// Takes a place among the requests in flight and, when the model knows the refill rate,
    /// one unit of the allowance; says how long the request must wait for it.
    fn reserve(&self, now: SystemTime, max_wait: Duration) -> (Permit<'_>, Duration) {
        let mut state = self.state();
        state.in_flight += 1;
        let mut permit = Permit {
            pacer: self,
            took_unit: false,
            counted: true,
            sent_at: None,
        };
        let Some(bucket) = state.bucket.as_mut() else {
            return (permit, Duration::ZERO);
        };
        bucket.refill_until(now);
        match bucket.wait_for_one() {
            Some(wait) if wait <= max_wait => {
                bucket.tokens -= 1.0;
                permit.took_unit = true;
                (permit, wait)
            }
            _ => (permit, Duration::ZERO),
        }
    }

    /// Corrects the model with what the answer to `permit`'s request reported.
    pub(crate) fn observe(&self, mut permit: Permit<'_>, limit: &RateLimit, status: u16, now: SystemTime) {
        let sent_at = permit.sent_at.unwrap_or(now);
        let mut state = self.state();
        // The answered request leaves the count here, under the lock already held.
        state.in_flight -= 1;
        permit.counted = false;
        // Requests still in flight may not have been counted when the server answered this
        // one (even those sent before it, on another connection), nor those waiting: assume
        // none was. Counting one twice costs one refill interval; missing one costs a 429.
        let lower = limit.remaining as f64 - state.in_flight as f64;
        let rate = learned_rate(limit, sent_at);
        let bucket = state.bucket.get_or_insert(Bucket {
            limit: limit.limit as f64,
            tokens: lower,
            updated: now,
            refill: None,
        });
        bucket.refill_until(now);
        if bucket.limit != limit.limit as f64 || status == 429 {
            bucket.limit = limit.limit as f64;
            bucket.refill = rate;
        } else if let Some(rate) = rate {
            bucket.refill = Some(bucket.refill.map_or(rate, |known| known.max(rate)));
        }
        // `remaining` is rounded down: the server holds between `remaining` and `remaining + 1`.
        // An estimate inside that range keeps its fraction; one outside it was wrong, and
        // starts again from the floor, which is never too many.
        if !(lower..lower + 1.0).contains(&bucket.tokens) {
            bucket.tokens = lower.min(bucket.limit);
        }
    }
}

/// The refill rate an answer proves at least, in requests per second.
fn learned_rate(limit: &RateLimit, sent_at: SystemTime) -> Option<f64> {
    let surely_missing = limit.limit.checked_sub(limit.remaining)?.checked_sub(1)?;
    let until_full = limit.reset.duration_since(sent_at).ok()?.as_secs_f64();
    (surely_missing > 0 && until_full > 0.0).then(|| surely_missing as f64 / until_full)
}

impl Bucket {
    fn refill_until(&mut self, now: SystemTime) {
        // A clock that went back refills nothing, and counts on from where it is now.
        let elapsed = now.duration_since(self.updated).unwrap_or_default();
        self.updated = now;
        if let Some(rate) = self.refill {
            self.tokens = (self.tokens + elapsed.as_secs_f64() * rate).min(self.limit);
        }
    }

    /// How long until the request about to be reserved can go; `None` while the refill rate
    /// is unknown, when holding requests back would be a guess.
    fn wait_for_one(&self) -> Option<Duration> {
        if self.tokens >= 1.0 {
            return Some(Duration::ZERO);
        }
        let rate = self.refill?;
        Some(Duration::try_from_secs_f64((1.0 - self.tokens) / rate).unwrap_or(Duration::MAX))
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    const LONG: Duration = Duration::from_secs(60);

    fn t0() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    fn at(millis: u64) -> SystemTime {
        t0() + Duration::from_millis(millis)
    }

    fn answer(limit: u64, remaining: u64, reset: SystemTime) -> RateLimit {
        RateLimit {
            limit,
            remaining,
            reset,
        }
    }

    /// A request that took its place and was sent at `at`, not yet answered.
    fn send(pacer: &Pacer, at: SystemTime) -> Permit<'_> {
        let (mut permit, _) = pacer.reserve(at, LONG);
        permit.sent_at = Some(at);
        permit
    }

    /// One request sent at `sent` and answered at once with `limit`.
    fn exchange(pacer: &Pacer, sent: SystemTime, limit: RateLimit, status: u16) {
        let permit = send(pacer, sent);
        pacer.observe(permit, &limit, status, sent);
    }

    /// How long each of `count` requests reserved at `now` must wait; each is then sent and
    /// answered without rate-limit headers.
    fn waits(pacer: &Pacer, now: SystemTime, count: usize) -> Vec<u64> {
        (0..count)
            .map(|_| {
                let (mut permit, wait) = pacer.reserve(now, LONG);
                permit.sent_at = Some(now);
                wait.as_millis() as u64
            })
            .collect()
    }

    #[test]
    fn without_rate_limit_headers_nothing_waits() {
        let pacer = Pacer::default();
        drop(send(&pacer, t0()));
        assert_eq!(waits(&pacer, t0(), 100), vec![0; 100]);
    }

    #[test]
    fn a_spent_allowance_makes_requests_wait_their_turn_at_the_learned_rate() {
        let pacer = Pacer::default();
        // 21 of 21 spent and full again 1 s later: more than 20 refill per second.
        exchange(&pacer, t0(), answer(21, 0, at(1000)), 200);
        assert_eq!(waits(&pacer, t0(), 3), [50, 100, 150]);
        // 100 ms later, two have refilled; the three reservations still stand in front.
        assert_eq!(waits(&pacer, at(100), 1), [100]);
    }

    #[test]
    fn the_largest_lower_bound_of_the_rate_wins() {
        let pacer = Pacer::default();
        exchange(&pacer, t0(), answer(21, 0, at(2000)), 200);
        assert_eq!(waits(&pacer, t0(), 1), [100], "10 per second learned");
        let pacer = Pacer::default();
        exchange(&pacer, t0(), answer(21, 0, at(2000)), 200);
        exchange(&pacer, t0(), answer(21, 0, at(1000)), 200);
        exchange(&pacer, t0(), answer(21, 0, at(4000)), 200);
        assert_eq!(waits(&pacer, t0(), 1), [50], "20 per second, the largest bound");
    }

    #[test]
    fn a_429_forgets_what_was_learned() {
        let pacer = Pacer::default();
        exchange(&pacer, t0(), answer(21, 0, at(1000)), 200);
        exchange(&pacer, t0(), answer(21, 0, at(2000)), 429);
        assert_eq!(waits(&pacer, t0(), 1), [100]);
    }

    #[test]
    fn a_wait_longer_than_the_longest_accepted_is_not_waited_or_reserved() {
        let pacer = Pacer::default();
        exchange(&pacer, t0(), answer(3, 0, at(2000)), 200);
        assert_eq!(pacer.reserve(t0(), Duration::from_millis(500)).1, Duration::ZERO);
        assert_eq!(pacer.reserve(t0(), Duration::from_millis(500)).1, Duration::ZERO);
        assert_eq!(
            pacer.reserve(t0(), LONG).1,
            Duration::from_secs(1),
            "nothing was reserved"
        );
    }

    #[test]
    fn the_servers_remaining_corrects_the_model_both_ways() {
        let pacer = Pacer::default();
        exchange(&pacer, t0(), answer(21, 0, at(1000)), 200);
        // Another program stopped: the tenant has ten left although the model had none.
        exchange(&pacer, t0(), answer(21, 10, at(1000)), 200);
        assert_eq!(waits(&pacer, t0(), 5), [0; 5]);
        // Another program took the other five.
        exchange(&pacer, t0(), answer(21, 0, at(1000)), 200);
        assert_eq!(waits(&pacer, t0(), 1), [50]);
    }

    #[test]
    fn requests_still_in_flight_before_or_after_the_answered_one_are_not_yet_counted() {
        let pacer = Pacer::default();
        exchange(&pacer, t0(), answer(21, 0, at(1000)), 200);
        let _earlier = send(&pacer, t0());
        let answered = send(&pacer, t0());
        let _later = send(&pacer, t0());
        pacer.observe(answered, &answer(21, 5, at(1000)), 200, t0());
        assert_eq!(
            waits(&pacer, t0(), 4),
            [0, 0, 0, 50],
            "5 left, 2 of them taken by requests in flight"
        );
    }

    #[test]
    fn answered_and_abandoned_permits_leave_the_in_flight_count() {
        let pacer = Pacer::default();
        drop(send(&pacer, t0()));
        drop(pacer.reserve(t0(), LONG));
        exchange(&pacer, t0(), answer(21, 0, at(1000)), 200);
        assert_eq!(pacer.state().in_flight, 0);
    }

    #[test]
    fn a_request_dropped_while_it_waits_gives_its_unit_back() {
        let pacer = Pacer::default();
        exchange(&pacer, t0(), answer(21, 0, at(1000)), 200);
        let (abandoned, wait) = pacer.reserve(t0(), LONG);
        assert_eq!(wait, Duration::from_millis(50));
        drop(abandoned);
        assert_eq!(waits(&pacer, t0(), 1), [50], "the abandoned turn is free again");
        // A waiting request is one the server has not counted yet.
        let (_waiting, _) = pacer.reserve(t0(), LONG);
        exchange(&pacer, t0(), answer(21, 3, at(1000)), 200);
        assert_eq!(waits(&pacer, t0(), 3), [0, 0, 50]);
    }

    #[test]
    fn until_the_refill_rate_is_known_nothing_is_held_back() {
        let pacer = Pacer::default();
        // One of 21 spent proves no rate (it may have refilled already).
        exchange(&pacer, t0(), answer(21, 20, at(1000)), 200);
        assert_eq!(waits(&pacer, t0(), 25), vec![0; 25]);
    }

    #[test]
    fn a_clock_that_went_back_refills_from_where_it_is_now() {
        let pacer = Pacer::default();
        exchange(&pacer, t0(), answer(21, 0, at(1000)), 200);
        let hour_ago = t0() - Duration::from_secs(3600);
        assert_eq!(waits(&pacer, hour_ago, 1), [50], "nothing refills going back");
        assert_eq!(
            waits(&pacer, hour_ago + Duration::from_secs(1), 1),
            [0],
            "a second later the bucket has refilled"
        );
    }
}
