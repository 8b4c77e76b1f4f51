//! The model's behaviour at fixed times: single responses (what is learned, what is not) and
//! whole runs simulated in virtual time against a token bucket with either meaning of
//! `X-RateLimit-Reset`, with latency and with other clients on the same bucket.

use std::time::UNIX_EPOCH;

use super::*;

mod simulation;

const LONG: Duration = Duration::from_secs(60);

fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn at(millis: u64) -> SystemTime {
    t0() + Duration::from_millis(millis)
}

fn limit(limit: u64, remaining: u64, reset: SystemTime) -> RateLimit {
    RateLimit {
        limit,
        remaining,
        reset,
    }
}

/// What the first request in line may do at `now`, leaving the queue as it was unless it goes.
fn try_send(pacer: &Pacer, now: SystemTime) -> Result<Permit, Duration> {
    let ticket = pacer.join();
    match pacer.turn(&ticket, now, false) {
        Turn::Go(permit) => Ok(permit),
        Turn::Wait(wait) => Err(wait),
        Turn::Queued { .. } => panic!("nothing else is queued"),
        Turn::AwaitResponse => panic!("waits for a response while the rate is unknown"),
    }
}

fn send(pacer: &Pacer, now: SystemTime) -> Permit {
    try_send(pacer, now).unwrap_or_else(|wait| panic!("expected to go at once, must wait {wait:?}"))
}

fn wait(pacer: &Pacer, now: SystemTime) -> Duration {
    match try_send(pacer, now) {
        Ok(_) => Duration::ZERO,
        Err(wait) => wait,
    }
}

/// One request sent at `sent`, whatever the model says, and answered at once with `response`.
fn exchange(pacer: &Pacer, sent: SystemTime, response: RateLimit, status: u16) {
    let permit = pacer.send(&mut pacer.state(), sent);
    pacer.observe(permit, &response, status, sent);
}

/// A client that spent a bucket of 21 and then saw it refill 20 per second: one request a
/// second answered with what such a bucket holds, over `seconds` seconds (reset: `reset(t)`).
fn learn_twenty_per_second(pacer: &Pacer, seconds: u64, reset: impl Fn(SystemTime) -> SystemTime) {
    exchange(pacer, t0(), limit(21, 0, reset(t0())), 200);
    for second in 1..=seconds {
        let now = at(second * 1000);
        // 20 refilled in the second, 1 taken by this request.
        exchange(pacer, now, limit(21, 19, reset(now)), 200);
        // Spent again by requests of ours, answered at the same moment.
        for remaining in (0..19).rev() {
            exchange(pacer, now, limit(21, remaining, reset(now)), 200);
        }
    }
}

#[test]
fn without_rate_limit_headers_nothing_waits() {
    let pacer = Pacer::default();
    drop(send(&pacer, t0()));
    for _ in 0..100 {
        drop(send(&pacer, t0()));
    }
}

#[test]
fn the_rate_is_learned_from_remaining_over_time() {
    let pacer = Pacer::default();
    learn_twenty_per_second(&pacer, 3, |now| now + Duration::from_secs(1));
    // 60 refilled in 3 s, one less for the rounding: 59 / 3 per second; with one request's
    // worth kept in reserve, the next request waits for two.
    let wait = wait(&pacer, at(3000));
    assert_eq!(wait.as_micros(), 101_694, "{wait:?}");
}

#[test]
fn what_the_reset_means_does_not_change_what_is_learned() {
    let full = Pacer::default();
    learn_twenty_per_second(&full, 3, |now| now + Duration::from_secs(1));
    let next = Pacer::default();
    learn_twenty_per_second(&next, 3, |now| now + Duration::from_millis(50));
    let far = Pacer::default();
    learn_twenty_per_second(&far, 3, |now| now + Duration::from_secs(3600));
    let rates = [&full, &next, &far].map(|pacer| pacer.state().bucket.as_ref().unwrap().refill.rate());
    assert_eq!(rates, [Some(59.0 / 3.0); 3]);
}

#[test]
fn other_clients_on_the_tenant_show_as_a_slower_refill() {
    let pacer = Pacer::default();
    exchange(&pacer, t0(), limit(50, 0, at(1000)), 200);
    // Each second 20 refill; this client's one request and another program's 9 take 10.
    for second in 1..=5 {
        exchange(
            &pacer,
            at(second * 1000),
            limit(50, 10, at(second * 1000 + 1000)),
            200,
        );
        for remaining in (0..10).rev() {
            exchange(
                &pacer,
                at(second * 1000),
                limit(50, remaining, at(second * 1000 + 1000)),
                200,
            );
        }
    }
    // 11 of ours a second over 5 s, one less: 54 / 5 a second are left for this client.
    let wait = wait(&pacer, at(5000));
    assert_eq!(wait.as_micros(), 185_185, "{wait:?}");
}

#[test]
fn an_interval_in_which_the_bucket_may_have_been_full_teaches_nothing() {
    let pacer = Pacer::default();
    learn_twenty_per_second(&pacer, 2, |now| now + Duration::from_secs(1));
    let learned = wait(&pacer, at(2000));
    // An hour idle: the bucket is full (20 of 21 left after this request), and then spent.
    exchange(&pacer, at(3_602_000), limit(21, 20, at(3_602_000)), 200);
    for remaining in (0..20).rev() {
        exchange(&pacer, at(3_602_000), limit(21, remaining, at(3_603_000)), 200);
    }
    assert_eq!(
        wait(&pacer, at(3_602_000)),
        learned,
        "the hour did not count as a slow refill"
    );
}

#[test]
fn a_429_is_one_more_answer_and_what_was_learned_stays() {
    let pacer = Pacer::default();
    learn_twenty_per_second(&pacer, 3, |now| now + Duration::from_secs(1));
    let learned = wait(&pacer, at(3000));
    exchange(&pacer, at(3000), limit(21, 0, at(4000)), 429);
    assert_eq!(
        wait(&pacer, at(3000)),
        learned,
        "the refused request was not counted"
    );
    drop(send(&pacer, at(3001) + learned));
}

#[test]
fn until_the_rate_is_known_the_first_in_line_probes_soon_after_the_reset() {
    let pacer = Pacer::default();
    // A burst spent at once proves no rate.
    for remaining in (0..10).rev() {
        exchange(&pacer, t0(), limit(10, remaining, at(1000)), 200);
    }
    assert_eq!(wait(&pacer, t0()), Duration::from_millis(100));
    assert_eq!(
        wait(&pacer, at(40)),
        Duration::from_millis(60),
        "the probe counts from the response"
    );
    // Refused: the probe doubles, to 200 ms after this response.
    exchange(&pacer, at(100), limit(10, 0, at(1000)), 429);
    assert_eq!(wait(&pacer, at(100)), Duration::from_millis(200));
    // The reset bounds it: one more request is allowed by then, whatever the reset means; a
    // random part of 100 ms after it, so that programs sharing the tenant do not all go then.
    exchange(&pacer, at(300), limit(10, 0, at(400)), 429);
    let wait_after_reset = wait(&pacer, at(300));
    assert!(
        (Duration::from_millis(100)..Duration::from_millis(200)).contains(&wait_after_reset),
        "{wait_after_reset:?}"
    );
    // Once a request went after the reset, the next waits for the probe: the reset let one go.
    exchange(&pacer, at(300) + wait_after_reset, limit(10, 0, at(400)), 429);
    assert_eq!(
        wait(&pacer, at(300) + wait_after_reset),
        Duration::from_millis(800)
    );
    // A success while the rate is still unknown says only that this probe got through, not
    // that programs probing with it left room for more: the delay stays where the 429s put it.
    exchange(&pacer, at(2000), limit(10, 0, at(2000)), 200);
    assert_eq!(wait(&pacer, at(2000)), Duration::from_millis(800));
}

#[test]
fn an_answer_with_more_left_than_modelled_lets_requests_go_at_once() {
    let pacer = Pacer::default();
    learn_twenty_per_second(&pacer, 3, |now| now + Duration::from_secs(1));
    assert!(!wait(&pacer, at(3000)).is_zero());
    // Another program stopped: the tenant has ten left.
    exchange(&pacer, at(3000), limit(21, 10, at(4000)), 200);
    // All but the one kept in reserve.
    for _ in 0..9 {
        drop(send(&pacer, at(3000)));
    }
    assert!(!wait(&pacer, at(3000)).is_zero());
}

#[test]
fn a_program_that_sees_others_draw_from_the_bucket_takes_its_part_and_probes_less_often() {
    let pacer = Pacer::default();
    exchange(&pacer, t0(), limit(20, 19, t0()), 200);
    let answered = send(&pacer, t0());
    drop(send(&pacer, t0()));
    // 14 lost since the first response, 2 of them perhaps ours: others took 12, six times
    // what we sent, so five programs draw from the bucket at least.
    pacer.observe(answered, &limit(20, 5, t0()), 200, t0());
    // Alone, the 4 left would let a request go; a fifth of them does not, and the probe waits
    // five times as long.
    assert_eq!(wait(&pacer, t0()), Duration::from_millis(500));
}

#[test]
fn a_program_that_collides_with_others_leaves_the_reset_to_them_for_whole_seconds() {
    let pacer = Pacer::default();
    exchange(&pacer, t0(), limit(20, 19, t0()), 200);
    let answered = send(&pacer, t0());
    drop(send(&pacer, t0()));
    // Five programs draw from the bucket, as above.
    pacer.observe(answered, &limit(20, 5, t0()), 200, t0());
    // Two rounds of 429s: the request each reset allowed went to another program.
    exchange(&pacer, at(100), limit(20, 0, at(1000)), 429);
    exchange(&pacer, at(1100), limit(20, 0, at(2000)), 429);
    // The reset would let one go within a second; this program leaves it to the others for
    // three seconds after the response, and its probe, 400 ms for each of five programs, comes
    // first.
    assert_eq!(wait(&pacer, at(1100)), Duration::from_secs(2));
}

#[test]
fn however_late_the_responses_a_program_alone_never_counts_others() {
    let pacer = Pacer::default();
    exchange(&pacer, t0(), limit(20, 19, t0()), 200);
    let mut in_flight: Vec<Option<Permit>> = (0..4).map(|_| Some(send(&pacer, t0()))).collect();
    // The server counted all four before the first response came back, and the responses
    // return in any order.
    for sent in [1, 0, 3, 2] {
        let permit = in_flight[sent].take().unwrap();
        pacer.observe(permit, &limit(20, 15, t0()), 200, at(100));
    }
    assert_eq!(pacer.state().bucket.as_ref().unwrap().sharers, 1.0);
}

#[test]
fn once_the_rate_is_known_a_program_sharing_the_bucket_takes_its_part_of_a_surplus() {
    let pacer = Pacer::default();
    exchange(&pacer, t0(), limit(21, 20, t0()), 200);
    exchange(&pacer, t0(), limit(21, 10, t0()), 200);
    // The first of these shows none left: others took 18 while we sent 2, seven programs.
    for step in 1..=40 {
        exchange(&pacer, at(step * 50), limit(21, 0, at(step * 50)), 200);
    }
    assert!(pacer.state().bucket.as_ref().unwrap().refill.rate().is_some());
    // The others stopped: 10 left, where the model held less.
    let permit = pacer.send(&mut pacer.state(), at(2000));
    let modelled = pacer.state().bucket.as_ref().unwrap().tokens;
    pacer.observe(permit, &limit(21, 10, at(2000)), 200, at(2000));
    let tokens = pacer.state().bucket.as_ref().unwrap().tokens;
    assert!(modelled < 1.0);
    assert_eq!(tokens, modelled + (10.0 - modelled) / 7.0);
    assert!(!wait(&pacer, at(2000)).is_zero());
}

#[test]
fn requests_still_in_flight_are_taken_as_not_yet_counted() {
    let pacer = Pacer::default();
    exchange(&pacer, t0(), limit(21, 10, at(1000)), 200);
    // Sent whatever the model says: what is counted, not what may go, is under test.
    let _earlier = pacer.send(&mut pacer.state(), t0());
    let answered = pacer.send(&mut pacer.state(), t0());
    let _later = pacer.send(&mut pacer.state(), t0());
    pacer.observe(answered, &limit(21, 5, at(1000)), 200, t0());
    let tokens = pacer.state().bucket.as_ref().unwrap().tokens;
    assert_eq!(
        tokens, 3.0,
        "5 left, 2 of them taken by the requests still in flight"
    );
}

#[test]
fn before_any_response_one_request_goes_at_a_time() {
    let pacer = Pacer::default();
    let scout = send(&pacer, t0());
    let ticket = pacer.join();
    assert!(matches!(pacer.turn(&ticket, t0(), false), Turn::AwaitResponse));
    pacer.observe(scout, &limit(20, 19, at(1000)), 200, t0());
    assert!(matches!(pacer.turn(&ticket, t0(), false), Turn::Go(_)));
}

#[test]
fn a_server_without_rate_limit_headers_is_not_held_to_one_request_at_a_time() {
    let pacer = Pacer::default();
    let first = send(&pacer, t0());
    pacer.unmetered(first);
    let _in_flight: Vec<Permit> = (0..10).map(|_| send(&pacer, t0())).collect();
}

#[test]
fn while_the_rate_is_unknown_each_request_in_flight_holds_a_share_of_the_bucket() {
    let pacer = Pacer::default();
    exchange(&pacer, t0(), limit(20, 20, at(1000)), 200);
    // 20 left: with a share of four each and two kept for the next, five go before a response.
    let in_flight: Vec<Permit> = (0..5).map(|_| send(&pacer, t0())).collect();
    let ticket = pacer.join();
    assert!(matches!(pacer.turn(&ticket, t0(), false), Turn::AwaitResponse));
    drop(in_flight);
    assert!(matches!(pacer.turn(&ticket, t0(), false), Turn::Go(_)));
}

#[test]
fn a_request_whose_budget_is_spent_is_held_only_by_an_empty_bucket() {
    let pacer = Pacer::default();
    let _scout = send(&pacer, t0());
    let first = pacer.join();
    let second = pacer.join();
    assert!(matches!(
        pacer.turn(&second, t0(), false),
        Turn::Queued { held: false }
    ));
    assert!(matches!(pacer.turn(&first, t0(), false), Turn::AwaitResponse));
    // Neither its place in line nor a response that may never come holds it past its budget.
    assert!(matches!(pacer.turn(&second, t0(), true), Turn::Go(_)));
    assert!(matches!(pacer.turn(&first, t0(), true), Turn::Go(_)));

    let emptied = Pacer::default();
    exchange(&emptied, t0(), limit(20, 0, at(1000)), 429);
    let ticket = emptied.join();
    assert!(matches!(emptied.turn(&ticket, t0(), true), Turn::Wait(_)));
}

#[test]
fn a_request_that_fails_before_any_response_ends_the_wait_for_responses() {
    let pacer = Pacer::default();
    let scout = send(&pacer, t0());
    let ticket = pacer.join();
    let Turn::Go(_impatient) = pacer.turn(&ticket, t0(), true) else {
        panic!("a call out of budget goes");
    };
    let ticket = pacer.join();
    assert!(matches!(pacer.turn(&ticket, t0(), false), Turn::AwaitResponse));
    // Cancelled by its caller: that says nothing of the server.
    drop(scout);
    assert!(matches!(pacer.turn(&ticket, t0(), false), Turn::AwaitResponse));
    let scout = pacer.send(&mut pacer.state(), t0());
    // A timeout or a broken connection: no response will say what is left.
    pacer.unanswered(scout);
    assert!(matches!(pacer.turn(&ticket, t0(), false), Turn::Go(_)));
}

#[test]
fn answered_and_failed_requests_leave_the_count_in_flight() {
    let pacer = Pacer::default();
    drop(send(&pacer, t0()));
    exchange(&pacer, t0(), limit(21, 0, at(1000)), 200);
    assert!(pacer.state().in_flight.is_empty());
}

#[test]
fn requests_wait_their_turn_in_order_and_one_that_gives_up_leaves_the_line() {
    let pacer = Pacer::default();
    learn_twenty_per_second(&pacer, 3, |now| now + Duration::from_secs(1));
    let first = pacer.join();
    let second = pacer.join();
    let third = pacer.join();
    assert!(matches!(
        pacer.turn(&second, at(3000), false),
        Turn::Queued { held: true }
    ));
    assert!(matches!(pacer.turn(&first, at(3000), false), Turn::Wait(_)));
    drop(first);
    let Turn::Wait(wait) = pacer.turn(&second, at(3000), false) else {
        panic!("second in line is first now");
    };
    assert!(matches!(pacer.turn(&second, at(3001) + wait, false), Turn::Go(_)));
    assert!(matches!(
        pacer.turn(&third, at(3001) + wait, false),
        Turn::Wait(_)
    ));
}

/// A clock standing at a fixed time, whose sleeps move it on at once and are recorded.
#[derive(Debug)]
struct SteppingClock {
    now: Mutex<SystemTime>,
    slept: Mutex<Vec<Duration>>,
}

impl SteppingClock {
    fn at(now: SystemTime) -> Self {
        Self {
            now: Mutex::new(now),
            slept: Mutex::default(),
        }
    }

    fn slept(&self) -> Vec<Duration> {
        locked(&self.slept).clone()
    }
}

impl Clock for SteppingClock {
    fn now(&self) -> SystemTime {
        *locked(&self.now)
    }

    fn sleep(&self, duration: Duration) -> crate::transport::clock::Sleep {
        locked(&self.slept).push(duration);
        *locked(&self.now) += duration;
        Box::pin(std::future::ready(()))
    }
}

/// A pacer that has learned 20 a second and spent its bucket, so the next request must wait.
fn spent_pacer() -> Pacer {
    let pacer = Pacer::default();
    learn_twenty_per_second(&pacer, 3, |now| now + Duration::from_secs(1));
    pacer
}

#[tokio::test]
async fn a_wait_longer_than_the_longest_single_wait_holds_the_request_back_at_once() {
    let pacer = spent_pacer();
    let clock = SteppingClock::at(at(3000));
    let needed = wait(&pacer, at(3000));
    assert!(!needed.is_zero());

    let admitted = pacer.admit(&clock, needed / 2, LONG).await;

    assert!(admitted.is_none());
    assert!(
        clock.slept().is_empty(),
        "nothing was waited: {:?}",
        clock.slept()
    );
    assert!(pacer.state().queue.is_empty(), "the request left the queue");
}

#[tokio::test]
async fn a_wait_past_the_budget_holds_the_request_back_at_once() {
    let pacer = spent_pacer();
    let clock = SteppingClock::at(at(3000));
    let needed = wait(&pacer, at(3000));

    let admitted = pacer.admit(&clock, LONG, needed / 2).await;

    assert!(admitted.is_none());
    assert!(
        clock.slept().is_empty(),
        "nothing was waited: {:?}",
        clock.slept()
    );
}

#[tokio::test]
async fn a_wait_within_the_budget_is_waited_and_the_request_goes() {
    let pacer = spent_pacer();
    let clock = SteppingClock::at(at(3000));
    let needed = wait(&pacer, at(3000));

    let admitted = pacer.admit(&clock, LONG, needed).await;

    assert!(admitted.is_some());
    assert_eq!(clock.slept(), [needed]);
}

#[tokio::test]
async fn a_request_queued_behind_a_held_one_leaves_when_its_budget_is_spent() {
    let pacer = spent_pacer();
    let clock = SteppingClock::at(at(3000));
    let front = pacer.join();
    assert!(matches!(pacer.turn(&front, at(3000), false), Turn::Wait(_)));

    let budget = Duration::from_millis(30);
    let admitted = pacer.admit(&clock, LONG, budget).await;

    assert!(admitted.is_none());
    assert_eq!(
        clock.slept(),
        [budget],
        "it waited for its turn as long as its budget, no longer"
    );
    assert_eq!(pacer.state().queue.len(), 1, "the first in line is still waiting");
    // With no budget at all it does not wait.
    assert!(pacer.admit(&clock, LONG, Duration::ZERO).await.is_none());
    assert_eq!(clock.slept().len(), 1);
}

#[tokio::test]
async fn with_the_allowance_left_no_budget_is_needed_to_go() {
    let pacer = Pacer::default();
    exchange(&pacer, t0(), limit(21, 15, at(1000)), 200);
    let clock = SteppingClock::at(t0());

    for _ in 0..10 {
        assert!(pacer.admit(&clock, LONG, Duration::ZERO).await.is_some());
    }
    assert!(clock.slept().is_empty());
}

#[test]
fn a_clock_that_went_back_refills_from_where_it_is_now() {
    let pacer = Pacer::default();
    learn_twenty_per_second(&pacer, 3, |now| now + Duration::from_secs(1));
    let learned = wait(&pacer, at(3000));
    let hour_ago = at(3000) - Duration::from_secs(3600);
    assert_eq!(wait(&pacer, hour_ago), learned, "nothing refills going back");
    drop(send(&pacer, hour_ago + learned + Duration::from_millis(1)));
}

#[test]
fn an_answer_that_overtook_none_but_came_late_does_not_raise_the_model() {
    let pacer = Pacer::default();
    learn_twenty_per_second(&pacer, 3, |now| now + Duration::from_secs(1));
    let now = at(3000) + Duration::from_secs(1);
    // A slow request goes first and is counted with 19 left; 15 fast ones after it are
    // answered first, the last with 4 left.
    let slow = send(&pacer, now);
    for remaining in (4..19).rev() {
        exchange(
            &pacer,
            now,
            limit(21, remaining, now + Duration::from_secs(1)),
            200,
        );
    }
    // The slow response reports 19: old news, which must not let 15 more requests go.
    pacer.observe(slow, &limit(21, 19, now + Duration::from_secs(1)), 200, now);
    // The model holds 3 (4 left, less the slow request it could not yet know was counted),
    // and keeps one in reserve.
    for _ in 0..2 {
        drop(send(&pacer, now));
    }
    assert!(!wait(&pacer, now).is_zero());
}

#[test]
fn a_bucket_of_one_still_lets_requests_through() {
    let pacer = Pacer::default();
    exchange(&pacer, t0(), limit(1, 1, at(1000)), 200);
    drop(send(&pacer, t0()));
}

#[test]
fn a_clock_that_went_back_does_not_hold_a_probe_until_it_catches_up() {
    let pacer = Pacer::default();
    for remaining in (0..10).rev() {
        exchange(&pacer, t0(), limit(10, remaining, at(1000)), 200);
    }
    let hour_ago = t0() - Duration::from_secs(3600);
    assert_eq!(wait(&pacer, hour_ago), Duration::from_millis(100));
}
