//! Virtual time for many calls at once. [`FakeClock`](super::FakeClock) moves time on as
//! soon as anyone sleeps, so concurrent sleeps add up; here a sleep ends only when virtual
//! time reaches its end, and time moves on (to the earliest end) only while every running
//! call sleeps. No call is on the network then, so a request takes no virtual time and each
//! call's virtual duration is exactly what it waited.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use auth0_client_grants::{Clock, Sleep};

use super::START_SECS;

#[derive(Clone, Debug, Default)]
pub struct VirtualClock {
    state: Arc<Mutex<State>>,
}

#[derive(Debug)]
struct Pending {
    end: SystemTime,
    waker: Waker,
    /// The round of wake-ups in which it was last polled.
    polled_in: u64,
}

#[derive(Debug)]
struct State {
    now: SystemTime,
    /// The pending sleeps, by number.
    sleeps: BTreeMap<u64, Pending>,
    next_sleep: u64,
    /// The driver's latest round of wake-ups (see [`VirtualClock::drive`]).
    round: u64,
    /// Calls started with [`VirtualClock::run`] and not finished.
    running: usize,
}

impl Default for State {
    fn default() -> Self {
        Self {
            now: UNIX_EPOCH + Duration::from_secs(START_SECS),
            sleeps: BTreeMap::new(),
            next_sleep: 0,
            round: 0,
            running: 0,
        }
    }
}

impl VirtualClock {
    /// Runs `call`, counted as running until it returns or is dropped: virtual time moves on
    /// only while every running call sleeps. The driver must be running (see
    /// [`drive`](Self::drive)).
    pub async fn run<T>(&self, call: impl Future<Output = T>) -> T {
        self.state.lock().unwrap().running += 1;
        let _running = Running(self.state.clone());
        call.await
    }

    /// Moves virtual time on whenever every running call sleeps, until the returned task is
    /// aborted (dropping the guard aborts it).
    ///
    /// A call whose sleep is registered may have been woken by something else (a pacer's
    /// notification) and not have run yet: its sleep is still registered, and moving time
    /// then would let it see a later time than it was woken at. So before moving time the
    /// driver wakes every sleeper, and moves it only once each has been polled again with no
    /// sleep ended or begun in between: then every call is still waiting for its sleep alone.
    /// That holds on a current-thread runtime only, where no call is halfway through a poll
    /// while the driver looks: run these tests with `#[tokio::test]`.
    pub fn drive(&self) -> Driver {
        let state = self.state.clone();
        Driver(tokio::spawn(async move {
            // The round of wake-ups under way: its number, and `next_sleep` when it began.
            let mut round = None;
            loop {
                // Real time for the network and the runtime to make progress in between.
                tokio::time::sleep(Duration::from_millis(1)).await;
                let mut state = state.lock().unwrap();
                if state.running == 0 || state.sleeps.len() < state.running {
                    round = None;
                    continue;
                }
                let Some((number, next_sleep)) = round else {
                    state.round += 1;
                    round = Some((state.round, state.next_sleep));
                    for sleep in state.sleeps.values() {
                        sleep.waker.wake_by_ref();
                    }
                    continue;
                };
                if state.next_sleep != next_sleep {
                    round = None;
                    continue;
                }
                if state.sleeps.values().any(|sleep| sleep.polled_in < number) {
                    continue;
                }
                round = None;
                let Some(next) = state.sleeps.values().map(|sleep| sleep.end).min() else {
                    continue;
                };
                state.now = state.now.max(next);
                let now = state.now;
                for sleep in state.sleeps.values() {
                    if sleep.end <= now {
                        sleep.waker.wake_by_ref();
                    }
                }
            }
        }))
    }
}

/// Counts a call as running until it is dropped, however it ends.
struct Running(Arc<Mutex<State>>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.lock().unwrap().running -= 1;
    }
}

/// Aborts the driver when dropped.
pub struct Driver(tokio::task::JoinHandle<()>);

impl Drop for Driver {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> SystemTime {
        self.state.lock().unwrap().now
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        let mut state = self.state.lock().unwrap();
        let number = state.next_sleep;
        state.next_sleep += 1;
        let end = state.now + duration;
        Box::pin(VirtualSleep {
            state: self.state.clone(),
            number,
            end,
        })
    }
}

struct VirtualSleep {
    state: Arc<Mutex<State>>,
    number: u64,
    end: SystemTime,
}

impl Future for VirtualSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        let mut state = self.state.lock().unwrap();
        if state.now >= self.end {
            state.sleeps.remove(&self.number);
            return Poll::Ready(());
        }
        let pending = Pending {
            end: self.end,
            waker: context.waker().clone(),
            polled_in: state.round,
        };
        state.sleeps.insert(self.number, pending);
        Poll::Pending
    }
}

impl Drop for VirtualSleep {
    fn drop(&mut self) {
        self.state.lock().unwrap().sleeps.remove(&self.number);
    }
}
