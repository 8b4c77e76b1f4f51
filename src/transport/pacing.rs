//! Proactive pacing: one model of the tenant's rate-limit allowance, shared by every clone of a
//! [`Client`](crate::Client), that holds requests back when the allowance is spent instead of
//! sending them into certain 429s.
//!
//! Auth0 limits the Management API with a token bucket and reports it on every response:
//! `X-RateLimit-Limit` (the bucket's size), `X-RateLimit-Remaining` (whole requests left) and
//! `X-RateLimit-Reset` (a UNIX second). The model keeps an estimate of the bucket, takes one
//! request from it as each request goes, and sets it to what every response reports, less the
//! requests still in flight (the server may not have counted them). Responses without the
//! headers leave the model untouched, so a server that does not send them is never paced.
//! Requests that must wait queue up, first come first served; only the first in line waits
//! for the clock, and every response makes it look again. Each waits at most what its call's
//! rate-limit budget has left: one that would wait longer for the bucket (its own turn, or
//! behind a queue held by the empty bucket) leaves the queue at once, unsent, and the next one
//! looks; one held only by its place in line, or by a response while the rate is unknown, goes
//! when its budget runs out. One request's worth is left in the bucket: programs sharing the
//! tenant send at moments no one of them sees, and the reserve
//! absorbs that; alone, it costs one request's wait once.
//!
//! Programs that start together each see the whole bucket, and each would spend it. What shows
//! one of them that others draw from it is the bucket losing more than it sent: from its first
//! response on, the requests lost beyond every one of its own (all it sent may have been
//! counted, so latency never makes a program alone look shared), over its own, plus one, is
//! how many programs draw from the bucket at least. Until the rate is learned, it takes only
//! its part of what is left and probes that many times less often; once learned, a response
//! that shows more left than the model holds raises the model by only its part of the
//! difference, since every program sharing the bucket sees the same surplus.
//!
//! What the model assumes of the headers, and what it does not:
//!
//! - **The refill rate is learned from `remaining` over time**, never from the reset: between
//!   two responses the bucket refilled by the change in `remaining` plus the requests of ours the
//!   server counted in between. Other programs' requests on the same tenant count against the
//!   same bucket, so they show as a slower refill, and what is learned is the rate left for
//!   this client: what it can use without draining the bucket. An interval in which the bucket
//!   may have been full refilled less than the rate and is left out, unless it proves a faster
//!   rate than the one learned (the others stopped): then learning starts again from it. The
//!   estimate is the refill of the last few seconds of such intervals (on a slow refill, of as
//!   many as refilled twenty requests, within a minute), less one request for the rounding of
//!   `remaining`, so it errs low, and the responses make up for that: one that shows more left
//!   than the model thought lets the waiting requests go at once.
//! - **`X-RateLimit-Reset` is only a bound.** Auth0 documents it as "when the rate limit will
//!   reset"; some servers mean the second the bucket is full, others the second one more
//!   request is allowed. Either way, by then one more request is allowed, and that is all the
//!   model takes from it: the first request in line goes soon after the reset at the latest
//!   (a random part of one refill interval after it, so that programs sharing the tenant, who
//!   read the same whole second, do not all go at that instant). Until the rate is learned,
//!   it goes sooner, after a probe delay that starts at 100 ms and doubles with every 429.
//!   The one request is the tenant's, not each program's: where others share the bucket, every
//!   round of 429s doubles how many whole seconds after a response this program leaves the
//!   reset's request to them (up to the most programs it counts), and every success eases it.
//! - **A 429 is one more response**: `remaining` was zero then, and the request was not counted.
//!   It does not make the model forget what it learned.
//!
//! Reactive retries stay as the safety net.

use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use futures_util::future::{Either, select};
use tokio::sync::watch;

use crate::client::locked;
use crate::transport::clock::Clock;
use crate::transport::rate_limit::RateLimit;

/// How much refill time (in intervals where the bucket was not full) the rate is learned
/// over: long enough that the rounding of `remaining` costs about one percent at tens of
/// requests per second, short enough to follow other programs' use of the tenant.
const LEARNING_SPAN: Duration = Duration::from_secs(5);
/// How many requests' refill the rate is learned over at least, when that takes longer than
/// [`LEARNING_SPAN`]: the rounding costs one request per estimate, which would be half of what a
/// program's part of a slow bucket refills in the span, and often all of it.
const LEARNING_REFILL: f64 = 20.0;
/// How long a slow refill may stretch the learning: a rate learned over more is too old to
/// follow other programs' use of the tenant.
const LONGEST_LEARNING_SPAN: Duration = Duration::from_secs(60);
/// The least refill time before a learned rate is used.
const SHORTEST_SPAN: Duration = Duration::from_millis(250);
/// How long after a response that left nothing the first request in line waits while the
/// rate is unknown; doubled after every round of 429s, halved after every success once the
/// rate is known.
const FIRST_PROBE: Duration = Duration::from_millis(100);
const LONGEST_PROBE: Duration = Duration::from_secs(10);
const RESERVE: f64 = 1.0;
/// While the refill rate is unknown, how many requests' worth of the bucket each request in
/// flight is taken to hold. Programs that start together each see the whole bucket and would
/// each spend it; sending a quarter of what is left per round trip keeps up to four of them
/// within it, and costs a program alone nothing, since a bucket that is not full refills.
const STARTING_SHARE: f64 = 4.0;
/// The most programs the model counts on the bucket: enough for the shares to be small, and a
/// bound on how far headers with absurd values can stretch a probe.
const MOST_SHARERS: f64 = 8.0;
/// How much of a round of 429s one success undoes (see `Bucket::contention`): programs sharing
/// a bucket collide rarely once they have backed off, and a success is most of what they see.
const CONTENTION_EASING: f64 = 0.25;
/// The most the first in line waits past a reset, so that programs sharing a tenant do not all
/// go at that instant.
const LONGEST_SPREAD: Duration = Duration::from_millis(250);
/// The longest wait the model computes: a rate learned while others took nearly everything
/// is a small number, and the reset bounds the wait anyway.
const LONGEST_WAIT: Duration = Duration::from_secs(3600);

/// The allowance model of one client and its clones; a handle, so that a request's
/// [`Permit`] can hold it until the response comes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pacer {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    /// Bumped whenever the model or the queue changes, so that waiting requests look again.
    changed: watch::Sender<u64>,
}

impl Default for Shared {
    fn default() -> Self {
        Self {
            state: Mutex::default(),
            changed: watch::Sender::new(0),
        }
    }
}

#[derive(Debug, Default)]
struct State {
    /// `None` until a response has carried the rate-limit headers.
    bucket: Option<Bucket>,
    /// The send numbers of the requests sent and not answered yet: the server may not have
    /// counted them.
    in_flight: BTreeSet<u64>,
    /// The number the next request sent gets: requests are numbered in the order they go.
    next_send: u64,
    /// Before any response with the rate-limit headers, one came without them (the server
    /// does not report its limit, and nothing is paced), or a request got no usable response:
    /// start-up no longer waits for responses that may never come.
    unmetered: bool,
    /// The tickets of the requests waiting for their turn, first in line first.
    queue: VecDeque<u64>,
    next_ticket: u64,
    random: fastrand::Rng,
}

/// What the model believes about the server's bucket, after every request this client has
/// sent.
#[derive(Debug)]
struct Bucket {
    limit: f64,
    /// Requests left; negative while requests sent have not been answered.
    tokens: f64,
    /// When `tokens` was last brought up to date.
    updated: SystemTime,
    /// When the latest response came, or the latest request went if that was later.
    latest: SystemTime,
    /// The send number of the latest-sent request whose response corrected the model: a response
    /// to a request sent before it is older news (it came late, on a slower connection).
    newest_response: u64,
    /// The latest `X-RateLimit-Reset`: by then one more request is allowed, whatever it means.
    reset: SystemTime,
    /// When the response that reported it came.
    reset_read: SystemTime,
    /// How many programs the reset's one request is contended by, as far as this one can tell:
    /// doubled by every round of 429s while others draw from the bucket, eased by every success.
    /// Each program takes the request a reset allows at most once in as many whole seconds.
    contention: f64,
    /// A random fraction of a refill interval, drawn with every reset.
    reset_spread: f64,
    /// How long to wait for a probe while the rate is unknown.
    probe: Duration,
    /// The send number from which a 429 starts a new round of probes: the requests sent
    /// before the latest doubling were of its round. Send order, not time, since requests sent
    /// at the instant of the response that doubled it were sent after it.
    next_round: u64,
    refill: RefillEstimate,
    /// How many programs draw from the bucket, at least, as far as this one has seen: the most
    /// that any response has shown since the first.
    sharers: f64,
    /// What the first response showed was left, less every request of ours it may not have
    /// counted, and the send number then: what the bucket lost since, beyond what we sent,
    /// others took.
    first_lower: f64,
    first_send: u64,
    /// At the latest response, how many times what we sent the bucket has lost in all. Before a
    /// second response can show others, the first shows their first requests; but a bucket may
    /// also not have been full, so it only holds back the start (see `State::starting_up`).
    lost_per_sent: f64,
}

/// What the responses' `remaining` say about the refill rate.
#[derive(Debug, Default)]
struct RefillEstimate {
    last: Option<Observation>,
    /// Requests of this client the server counted so far: answered, and not with a 429.
    counted: u64,
    /// The latest intervals between responses in which the bucket was never full, newest last.
    intervals: VecDeque<Interval>,
    /// Their sums.
    seconds: f64,
    refilled: f64,
}

#[derive(Debug, Clone, Copy)]
struct Observation {
    /// When the server answered, as far as this side can tell: halfway between sending and
    /// receiving.
    at: SystemTime,
    remaining: u64,
    counted: u64,
}

#[derive(Debug, Clone, Copy)]
struct Interval {
    seconds: f64,
    refilled: f64,
}

/// A request in the queue; leaving it (served or abandoned) lets the next one look.
struct Ticket<'a> {
    pacer: &'a Pacer,
    number: u64,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        let mut state = self.pacer.state();
        let Some(at) = state.queue.iter().position(|&number| number == self.number) else {
            return;
        };
        state.queue.remove(at);
        drop(state);
        if at == 0 {
            self.pacer.notify();
        }
    }
}

/// A request that went: given back when it is answered (with the rate-limit headers, to
/// [`Pacer::observe`]) or when it fails.
#[derive(Debug)]
pub(crate) struct Permit {
    pacer: Pacer,
    /// Its place in the order requests went.
    number: u64,
    sent_at: SystemTime,
    answered: bool,
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.answered {
            self.pacer.state().in_flight.remove(&self.number);
            // Requests that wait for a response to come look again.
            self.pacer.notify();
        }
    }
}

/// What a request in line may do now.
#[derive(Debug)]
enum Turn {
    Go(Permit),
    /// First in line: wait this long, or until the model changes.
    Wait(Duration),
    /// First in line, while the rate is unknown: wait until a request in flight is answered,
    /// which tells what is left (no longer than the call's budget allows).
    AwaitResponse,
    /// Not first in line: wait until the queue moves. `held`: the first in line waits for the
    /// bucket to refill, so this request is held by the rate limit too; otherwise the queue is
    /// only passing requests along.
    Queued {
        held: bool,
    },
}

impl Pacer {
    /// A pacer whose random choices repeat, for simulations.
    #[cfg(test)]
    fn seeded(seed: u64) -> Self {
        let pacer = Self::default();
        pacer.state().random = fastrand::Rng::with_seed(seed);
        pacer
    }

    fn state(&self) -> MutexGuard<'_, State> {
        locked(&self.shared.state)
    }

    fn notify(&self) {
        self.shared
            .changed
            .send_modify(|version| *version = version.wrapping_add(1));
    }

    /// Waits until the model says the tenant can take one more request, then lets it through;
    /// `None` when that would take longer than `budget` in all, or one wait longer than
    /// `longest_wait`: the request is held back, not sent, and leaves the queue at once.
    pub(crate) async fn admit(
        &self,
        clock: &dyn Clock,
        longest_wait: Duration,
        budget: Duration,
    ) -> Option<Permit> {
        let mut changes = self.shared.changed.subscribe();
        let ticket = self.join();
        let deadline = clock.now().checked_add(budget);
        loop {
            changes.borrow_and_update();
            let now = clock.now();
            let left = deadline.map_or(Duration::MAX, |deadline| {
                deadline.duration_since(now).unwrap_or_default()
            });
            let wait = match self.turn(&ticket, now, left.is_zero()) {
                Turn::Go(permit) => return Some(permit),
                // Returned at once rather than slept to the end of the budget: no request would go.
                Turn::Wait(wait) if wait > left.min(longest_wait) => return None,
                Turn::Wait(wait) => wait,
                Turn::Queued { held: true } if left.is_zero() => return None,
                // Until the queue moves or a response comes, or, at the latest, the end of the
                // budget: then it goes (see `turn`).
                Turn::Queued { .. } | Turn::AwaitResponse => left,
            };
            // A budget without end still wakes now and then; nothing is lost by looking.
            let wait = wait.min(LONGEST_WAIT);
            tracing::debug!(
                wait_ms = wait.as_millis() as u64,
                "pacing: waiting for the rate limit to refill"
            );
            let changed = std::pin::pin!(changes.changed());
            // Dropped here (the caller gave up), the ticket leaves the queue.
            if let Either::Right((Err(_), _)) = select(clock.sleep(wait), changed).await {
                unreachable!("the pacer outlives its waiters");
            }
        }
    }

    fn join(&self) -> Ticket<'_> {
        let mut state = self.state();
        let number = state.next_ticket;
        state.next_ticket += 1;
        state.queue.push_back(number);
        Ticket { pacer: self, number }
    }

    /// Whether `ticket`'s request may go at `now`; if it may, it leaves the queue and takes
    /// one request from the modelled allowance, under the same lock, so that no other request
    /// goes in between. `budget_spent`: the call may wait no longer. It is still held while
    /// the model says the bucket is empty, but no longer for its place in line or for a
    /// response while the rate is unknown: a server that never responds would otherwise hold
    /// every caller for one timeout per caller ahead of it.
    fn turn(&self, ticket: &Ticket<'_>, now: SystemTime, budget_spent: bool) -> Turn {
        let mut state = self.state();
        let wait = match state.bucket.as_mut() {
            Some(bucket) => {
                bucket.refill_until(now);
                bucket.wait_for_one(now)
            }
            None => Duration::ZERO,
        };
        let first = state.queue.front() == Some(&ticket.number);
        if !wait.is_zero() {
            return if first {
                Turn::Wait(wait)
            } else {
                Turn::Queued { held: true }
            };
        }
        if !budget_spent {
            if !first {
                return Turn::Queued { held: false };
            }
            if state.starting_up() {
                return Turn::AwaitResponse;
            }
        }
        state.queue.retain(|&number| number != ticket.number);
        let permit = self.send(&mut state, now);
        drop(state);
        self.notify();
        Turn::Go(permit)
    }

    /// Takes one request from the modelled allowance for a request that goes at `now`.
    fn send(&self, state: &mut State, now: SystemTime) -> Permit {
        if let Some(bucket) = state.bucket.as_mut() {
            bucket.tokens -= 1.0;
            bucket.latest = bucket.latest.max(now);
        }
        let number = state.next_send;
        state.next_send += 1;
        state.in_flight.insert(number);
        Permit {
            pacer: self.clone(),
            number,
            sent_at: now,
            answered: false,
        }
    }

    /// The response to `permit`'s request carried no rate-limit headers: unless an earlier one
    /// did, the server does not report its limit, and nothing is paced.
    pub(crate) fn unmetered(&self, permit: Permit) {
        let mut state = self.state();
        state.unmetered |= state.bucket.is_none();
        drop(state);
        drop(permit);
    }

    /// `permit`'s request got no response it may use (a timeout, a broken connection, a
    /// refused redirect): unless a response with the rate-limit headers came before, none may
    /// ever come, and start-up no longer waits for one. A request dropped unsent, or a call
    /// cancelled by its caller, says nothing of the server and does not count.
    pub(crate) fn unanswered(&self, permit: Permit) {
        let mut state = self.state();
        state.unmetered |= state.bucket.is_none();
        drop(state);
        drop(permit);
    }

    /// Corrects the model with what the response to `permit`'s request reported.
    pub(crate) fn observe(&self, mut permit: Permit, limit: &RateLimit, status: u16, now: SystemTime) {
        let answered_at = permit.sent_at + now.duration_since(permit.sent_at).unwrap_or_default() / 2;
        let mut state = self.state();
        state.in_flight.remove(&permit.number);
        permit.answered = true;
        // The server may have counted after this response every request sent after this one,
        // answered or not (responses can overtake each other on separate connections), and every
        // request sent before it still unanswered: assume it counted them all. One sent before it
        // and answered first is taken as counted first, although two requests can swap on
        // their way to the server; the reserve absorbs a swap of one. Assuming instead that
        // every request in flight at the send was counted after it leaves a concurrency's
        // worth of the bucket unused.
        let sent_after = state.next_send - permit.number - 1;
        let unanswered_before = state.in_flight.range(..permit.number).count();
        let lower = limit.remaining as f64 - sent_after as f64 - unanswered_before as f64;
        let State {
            bucket,
            random,
            next_send,
            ..
        } = &mut *state;
        let bucket = bucket.get_or_insert_with(|| Bucket {
            limit: limit.limit as f64,
            tokens: lower,
            updated: now,
            latest: now,
            newest_response: permit.number,
            reset: limit.reset,
            reset_read: now,
            contention: 1.0,
            reset_spread: 0.0,
            probe: FIRST_PROBE,
            next_round: *next_send,
            refill: RefillEstimate::default(),
            sharers: 1.0,
            first_lower: lower,
            first_send: *next_send,
            lost_per_sent: 1.0,
        });
        bucket.refill_until(now);
        bucket.limit = limit.limit as f64;
        bucket.latest = bucket.latest.max(now);
        // Any response's reset, even a late one's: the server set it when it counted that
        // request, perhaps after a newer one.
        bucket.reset = limit.reset;
        bucket.reset_read = now;
        bucket.reset_spread = random.f64();
        let refused = status == 429;
        let newest = permit.number >= bucket.newest_response;
        if newest {
            bucket.newest_response = permit.number;
            bucket.refill.observe(answered_at, limit, !refused);
        } else {
            // Older news: what it says of the tokens is out of date, but its request was counted.
            bucket.refill.counted += u64::from(!refused);
        }
        if !refused {
            // Until the rate is learned, a success says only that this probe got through, not
            // that others sharing the tenant left room for more: the delay stays where 429s
            // put it, so that programs probing together stop colliding and the rate shows.
            if bucket.refill.rate().is_some() {
                bucket.probe = (bucket.probe / 2).max(FIRST_PROBE);
            }
            bucket.contention = (bucket.contention - CONTENTION_EASING).max(1.0);
        } else if permit.number >= bucket.next_round {
            // Once for the requests that went together, not for each of their 429s.
            bucket.probe = (bucket.probe * 2).min(LONGEST_PROBE);
            bucket.next_round = *next_send;
            // Alone, a 429 says the model was wrong, not that another program took the request
            // the reset allowed.
            if bucket.sharers > 1.0 {
                bucket.contention = (bucket.contention * 2.0).min(MOST_SHARERS);
            }
        }
        // `remaining` is rounded down: the model starts again from the floor, and drops the
        // fraction it had, since other programs take requests at moments it cannot see. Once
        // the rate is known, more left than modelled is news every program sharing the bucket
        // reads: this one takes its part of it, and the next responses show what is left.
        if newest {
            let told = lower.min(bucket.limit);
            bucket.tokens = if bucket.refill.rate().is_some() && told > bucket.tokens {
                bucket.tokens + (told - bucket.tokens) / bucket.sharers
            } else {
                told
            };
            bucket.see_others(limit.remaining, *next_send);
        }
        drop(state);
        self.notify();
    }
}

impl State {
    /// Whether the next request must wait for a response while the rate is unknown: before
    /// any response, one request goes at a time; then each request in flight holds
    /// [`STARTING_SHARE`] requests' worth of this program's part of what the model holds.
    fn starting_up(&self) -> bool {
        let in_flight = self.in_flight.len() as f64;
        if in_flight == 0.0 {
            return false;
        }
        match &self.bucket {
            None => !self.unmetered,
            Some(bucket) if bucket.refill.rate().is_none() => {
                let sharers = bucket.sharers.max(bucket.lost_per_sent);
                bucket.tokens / sharers - (STARTING_SHARE - 1.0) * in_flight < bucket.needed()
            }
            Some(_) => false,
        }
    }
}

impl Bucket {
    /// What the model must hold for one more request to go: one, and the reserve, unless the
    /// bucket is too small for it.
    fn needed(&self) -> f64 {
        (1.0 + RESERVE).min(self.limit).max(1.0)
    }

    /// Counts the programs drawing from the bucket with what a response says is `remaining`,
    /// `sent` requests of ours after the first.
    fn see_others(&mut self, remaining: u64, sent: u64) {
        let remaining = remaining as f64;
        let ours = sent.saturating_sub(self.first_send) as f64;
        let others = (self.first_lower - remaining - ours).max(0.0);
        self.sharers = self.sharers.max(1.0 + others / (ours + 1.0)).min(MOST_SHARERS);
        self.lost_per_sent = ((self.limit - remaining) / sent.max(1) as f64).clamp(1.0, STARTING_SHARE);
    }

    fn refill_until(&mut self, now: SystemTime) {
        // A clock that went back refills nothing, and counts on from where it is now; what
        // happened "later" than now happened now.
        if now < self.updated {
            self.latest = self.latest.min(now);
        }
        let elapsed = now.duration_since(self.updated).unwrap_or_default();
        self.updated = now;
        if let Some(rate) = self.refill.rate() {
            self.tokens = (self.tokens + elapsed.as_secs_f64() * rate).min(self.limit);
        }
    }

    /// How long from `now` until one more request can go: at the learned rate, or while it is
    /// unknown, a probe after the latest response or request, no later than the reset.
    fn wait_for_one(&self, now: SystemTime) -> Duration {
        let needed = match self.refill.rate() {
            Some(_) => self.needed(),
            None => (self.needed() * self.sharers).min(self.limit).max(1.0),
        };
        if self.tokens >= needed {
            return Duration::ZERO;
        }
        let deadline = match self.refill.rate() {
            Some(rate) => {
                let wait = Duration::try_from_secs_f64((needed - self.tokens) / rate).unwrap_or(LONGEST_WAIT);
                now + wait.min(LONGEST_WAIT)
            }
            // Each program sharing the bucket probes too.
            None => self.latest + self.probe.mul_f64(self.sharers),
        };
        // By the reset one more request is allowed, whatever the reset means: one request,
        // not every request waiting, so only while none went since the latest response. Other
        // programs on the tenant read the same reset, a whole second: a random part of one
        // refill interval keeps them from all going at that instant. That one request is the
        // tenant's, though, not each program's: where a bucket refills about one request a
        // second, programs that each take it at every reset send several times what it
        // refills, and only 429s show it. Contended, a program takes it no sooner than as many
        // whole seconds after the response, less one, so that the programs go at different
        // resets.
        let contended = Duration::try_from_secs_f64(self.contention - 1.0).unwrap_or(LONGEST_WAIT);
        let reset = self.reset.max(self.reset_read + contended);
        let deadline = if reset > self.latest {
            let interval = self
                .refill
                .rate()
                .map_or(FIRST_PROBE.as_secs_f64(), |rate| 1.0 / rate)
                .min(LONGEST_SPREAD.as_secs_f64());
            let spread = Duration::try_from_secs_f64(interval * self.reset_spread).unwrap_or(LONGEST_WAIT);
            deadline.min(reset + spread.min(LONGEST_WAIT))
        } else {
            deadline
        };
        deadline.duration_since(now).unwrap_or_default()
    }
}

impl RefillEstimate {
    fn observe(&mut self, at: SystemTime, limit: &RateLimit, counted: bool) {
        self.counted += u64::from(counted);
        let now = Observation {
            at,
            remaining: limit.remaining,
            counted: self.counted,
        };
        let Some(last) = self.last.replace(now) else {
            return;
        };
        let ours = now.counted - last.counted;
        let interval = Interval {
            seconds: at.duration_since(last.at).unwrap_or_default().as_secs_f64(),
            refilled: now.remaining as f64 - last.remaining as f64 + ours as f64,
        };
        // Had the bucket been full at any moment in between, it would hold at least `limit`
        // now, less what was taken since. Such an interval refilled less than the rate: it
        // only says the rate is at least that. That is news when the estimate is lower (it
        // was learned while others took most of the refill, and they stopped): what was
        // learned before is stale, and learning starts again from this bound.
        if now.remaining.saturating_add(ours) >= limit.limit {
            let known = self.rate();
            if known.is_none_or(|known| interval.refilled <= known * interval.seconds) {
                return;
            }
            self.intervals.clear();
            self.seconds = 0.0;
            self.refilled = 0.0;
        }
        self.intervals.push_back(interval);
        self.seconds += interval.seconds;
        self.refilled += interval.refilled;
        while let Some(oldest) = self.intervals.front().copied()
            && self.seconds - oldest.seconds >= LEARNING_SPAN.as_secs_f64()
            && (self.refilled - oldest.refilled >= LEARNING_REFILL
                || self.seconds - oldest.seconds >= LONGEST_LEARNING_SPAN.as_secs_f64())
        {
            self.intervals.pop_front();
            self.seconds -= oldest.seconds;
            self.refilled -= oldest.refilled;
        }
    }

    /// Requests per second the bucket refills for this client, erring low: `None` until
    /// enough has been seen, or while other clients take all of it.
    fn rate(&self) -> Option<f64> {
        // `remaining` is rounded down at both ends: one request less is never more than refilled.
        let surely_refilled = self.refilled - 1.0;
        (self.seconds >= SHORTEST_SPAN.as_secs_f64() && surely_refilled > 0.0)
            .then(|| surely_refilled / self.seconds)
    }
}

#[cfg(test)]
mod tests;
