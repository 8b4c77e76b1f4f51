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

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

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
    next_sequence: u64,
    /// Requests sent and not yet answered.
    in_flight: HashSet<u64>,
    /// Requests that took their reservation and are waiting for their turn.
    waiting: u32,
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
    /// Requests per second the bucket refills, as learned (a lower bound).
    refill: Option<f64>,
    /// The latest reported reset, used until a refill rate is known.
    reset: SystemTime,
}

/// A request that has been let through: the slot it holds among the requests in flight.
#[derive(Debug)]
pub(crate) struct Permit<'a> {
    pacer: &'a Pacer,
    sequence: u64,
    sent_at: SystemTime,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.pacer.state().in_flight.remove(&self.sequence);
    }
}

/// Gives back a reservation whose wait was abandoned (the caller dropped the call).
struct Reservation<'a>(&'a Pacer);

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        let mut state = self.0.state();
        state.waiting = state.waiting.saturating_sub(1);
    }
}

impl Pacer {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits until the model says the tenant can take one more request, then lets it through.
    /// A wait longer than `max_wait` is not waited: the request goes at once and the server's
    /// answer (a 429 with its reset) decides, as without pacing.
    pub(crate) async fn admit(&self, clock: &dyn Clock, max_wait: Duration) -> Permit<'_> {
        let wait = self.reserve(clock.now(), max_wait);
        if !wait.is_zero() {
            let reservation = Reservation(self);
            tracing::debug!(
                wait_ms = wait.as_millis() as u64,
                "pacing: waiting for the rate limit to refill"
            );
            clock.sleep(wait).await;
            drop(reservation);
        }
        self.let_through(clock.now())
    }

    /// Counts a request as sent at `now`.
    fn let_through(&self, now: SystemTime) -> Permit<'_> {
        let mut state = self.state();
        let sequence = state.next_sequence;
        state.next_sequence += 1;
        state.in_flight.insert(sequence);
        Permit {
            pacer: self,
            sequence,
            sent_at: now,
        }
    }

    /// Takes one request from the allowance and says how long it must wait for it.
    fn reserve(&self, now: SystemTime, max_wait: Duration) -> Duration {
        let mut state = self.state();
        let Some(bucket) = state.bucket.as_mut() else {
            return Duration::ZERO;
        };
        bucket.refill_until(now);
        let wait = bucket.wait_for_one(now);
        if wait > max_wait {
            return Duration::ZERO;
        }
        bucket.tokens -= 1.0;
        if !wait.is_zero() {
            state.waiting += 1;
        }
        wait
    }

    /// Corrects the model with what the answer to `permit`'s request reported.
    pub(crate) fn observe(&self, permit: Permit<'_>, limit: &RateLimit, status: u16, now: SystemTime) {
        let mut state = self.state();
        state.in_flight.remove(&permit.sequence);
        // Requests still in flight may not have been counted when the server answered this
        // one (even those sent before it, on another connection), nor those waiting: assume
        // none was. Counting one twice costs one refill interval; missing one costs a 429.
        let not_yet_counted = state.in_flight.len() as f64 + f64::from(state.waiting);
        let lower = limit.remaining as f64 - not_yet_counted;
        let rate = learned_rate(limit, permit.sent_at);
        let bucket = state.bucket.get_or_insert(Bucket {
            limit: limit.limit as f64,
            tokens: lower,
            updated: now,
            refill: None,
            reset: limit.reset,
        });
        bucket.refill_until(now);
        if bucket.limit != limit.limit as f64 || status == 429 {
            bucket.limit = limit.limit as f64;
            bucket.refill = rate;
        } else if let Some(rate) = rate {
            bucket.refill = Some(bucket.refill.map_or(rate, |known| known.max(rate)));
        }
        bucket.reset = limit.reset;
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
        let elapsed = now.duration_since(self.updated).unwrap_or_default();
        self.updated = self.updated.max(now);
        match self.refill {
            Some(rate) => self.tokens = (self.tokens + elapsed.as_secs_f64() * rate).min(self.limit),
            // Without a known rate, all that is sure is that the bucket is full at the reset.
            None if now >= self.reset => self.tokens = self.limit,
            None => {}
        }
    }

    /// How long until the request about to be reserved can go.
    fn wait_for_one(&self, now: SystemTime) -> Duration {
        if self.tokens >= 1.0 {
            return Duration::ZERO;
        }
        let deficit = 1.0 - self.tokens;
        match self.refill {
            Some(rate) => Duration::try_from_secs_f64(deficit / rate).unwrap_or(Duration::MAX),
            None => self.reset.duration_since(now).unwrap_or_default(),
        }
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

    /// One request sent at `sent` and answered at once with `limit`.
    fn exchange(pacer: &Pacer, sent: SystemTime, limit: RateLimit, status: u16) {
        let permit = pacer.let_through(sent);
        pacer.observe(permit, &limit, status, sent);
    }

    fn waits(pacer: &Pacer, now: SystemTime, count: usize) -> Vec<u64> {
        (0..count)
            .map(|_| pacer.reserve(now, LONG).as_millis() as u64)
            .collect()
    }

    #[test]
    fn without_rate_limit_headers_nothing_waits() {
        let pacer = Pacer::default();
        let permit = pacer.let_through(t0());
        drop(permit);
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
        assert_eq!(pacer.reserve(t0(), Duration::from_millis(500)), Duration::ZERO);
        assert_eq!(pacer.reserve(t0(), Duration::from_millis(500)), Duration::ZERO);
        assert_eq!(
            pacer.reserve(t0(), LONG),
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
        let _earlier = pacer.let_through(t0());
        let answered = pacer.let_through(t0());
        let _later = pacer.let_through(t0());
        pacer.observe(answered, &answer(21, 5, at(1000)), 200, t0());
        assert_eq!(
            waits(&pacer, t0(), 4),
            [0, 0, 0, 50],
            "5 left, 2 of them taken by requests in flight"
        );
    }

    #[test]
    fn abandoned_permits_leave_the_in_flight_set() {
        let pacer = Pacer::default();
        drop(pacer.let_through(t0()));
        drop(pacer.let_through(t0()));
        assert!(pacer.state().in_flight.is_empty());
    }
}
