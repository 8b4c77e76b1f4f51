//! The one seam through which the client reads the time and waits, so that retry and
//! token-expiry behaviour can be tested in milliseconds (see [`ClientBuilder::clock`]).
//!
//! [`ClientBuilder::clock`]: crate::ClientBuilder::clock

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

/// A boxed future returned by [`Clock::sleep`].
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Where the client gets "now" and how it waits.
///
/// The default, [`SystemClock`], is the operating system's clock and tokio's timer. Tests
/// can supply a clock whose `sleep` returns at once and moves its own "now" forward.
pub trait Clock: Debug + Send + Sync + 'static {
    /// The current wall-clock time (Auth0's rate-limit resets are UNIX times).
    fn now(&self) -> SystemTime;

    /// Completes after `duration`. Dropping it cancels the wait.
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// The operating system's clock and tokio's timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}
