//! Auth0's rate limiting as the fake tenant applies it: one token bucket per tenant.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How fast the fake tenant lets requests through: `burst` at once, refilled at
/// `per_second`. Off by default ([`FakeTenantBuilder::rate_limit`](super::FakeTenantBuilder::rate_limit)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimitSettings {
    /// Requests added to the allowance each second.
    pub per_second: f64,
    /// The most requests the allowance holds (`X-RateLimit-Limit`).
    pub burst: u32,
}

impl RateLimitSettings {
    /// `burst` requests at once, refilled at `per_second`.
    pub fn new(per_second: f64, burst: u32) -> Self {
        Self { per_second, burst }
    }
}

/// What the fake tenant's `X-RateLimit-Reset` announces. Auth0's documentation says "when the
/// rate limit will reset", which reads as the first; gateways and proxies in front of an API
/// often mean the second. A client has to work with either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RateLimitReset {
    /// The UNIX second by which the bucket is full again.
    #[default]
    WhenFull,
    /// The UNIX second by which one more request is allowed (now, while any is left).
    WhenNextRequestAllowed,
}

/// What the bucket says about one request, with the headers to send either way.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Admission {
    pub(crate) allowed: bool,
    pub(crate) limit: u32,
    pub(crate) remaining: u32,
    /// `X-RateLimit-Reset`, a UNIX second (see [`RateLimitReset`]).
    pub(crate) reset: u64,
    /// `Retry-After` in whole seconds, when refused: until one request is allowed again.
    pub(crate) retry_after: u64,
}

#[derive(Debug)]
pub(crate) struct Bucket {
    settings: RateLimitSettings,
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    pub(crate) fn new(settings: RateLimitSettings, now: Instant) -> Self {
        Self {
            settings,
            tokens: f64::from(settings.burst),
            updated: now,
        }
    }

    /// Takes one request from the allowance at `now` (`wall` is the same instant on the wall
    /// clock), announcing the reset as `meaning` says.
    pub(crate) fn admit(&mut self, now: Instant, wall: SystemTime, meaning: RateLimitReset) -> Admission {
        let burst = f64::from(self.settings.burst);
        let rate = self.settings.per_second.max(f64::MIN_POSITIVE);
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(burst);
        self.updated = now;
        let allowed = self.tokens >= 1.0;
        if allowed {
            self.tokens -= 1.0;
        }
        let until_full = Duration::from_secs_f64((burst - self.tokens).max(0.0) / rate);
        let until_one = Duration::from_secs_f64((1.0 - self.tokens).max(0.0) / rate);
        let unix = |at: SystemTime| at.duration_since(UNIX_EPOCH).unwrap_or_default();
        Admission {
            allowed,
            limit: self.settings.burst,
            remaining: self.tokens.floor() as u32,
            reset: unix(
                wall + match meaning {
                    RateLimitReset::WhenFull => until_full,
                    RateLimitReset::WhenNextRequestAllowed => until_one,
                },
            )
            .as_secs_f64()
            .ceil() as u64,
            retry_after: until_one.as_secs_f64().ceil() as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: RateLimitReset = RateLimitReset::WhenFull;

    #[test]
    fn a_burst_goes_through_then_requests_wait_for_the_refill() {
        let start = Instant::now();
        let wall = UNIX_EPOCH + Duration::from_secs(1_000);
        let mut bucket = Bucket::new(RateLimitSettings::new(2.0, 3), start);
        let remaining: Vec<u32> = (0..3)
            .map(|_| bucket.admit(start, wall, FULL).remaining)
            .collect();
        assert_eq!(remaining, [2, 1, 0]);
        let refused = bucket.admit(start, wall, FULL);
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after, 1);
        assert_eq!(
            refused.reset, 1_002,
            "3 requests at 2/s refill in 1.5 s, rounded up"
        );
        let later = start + Duration::from_millis(500);
        assert!(
            bucket.admit(later, wall, FULL).allowed,
            "one request refilled after 0.5 s"
        );
        assert!(!bucket.admit(later, wall, FULL).allowed);
    }

    #[test]
    fn the_reset_announces_the_full_bucket_or_the_next_request() {
        let start = Instant::now();
        let wall = UNIX_EPOCH + Duration::from_millis(1_000_300);
        let next = RateLimitReset::WhenNextRequestAllowed;
        let mut bucket = Bucket::new(RateLimitSettings::new(2.0, 4), start);
        assert_eq!(
            bucket.admit(start, wall, FULL).reset,
            1_001,
            "3 left, full in 0.5 s"
        );
        assert_eq!(
            bucket.admit(start, wall, next).reset,
            1_001,
            "2 left: now, rounded up"
        );
        bucket.admit(start, wall, next);
        bucket.admit(start, wall, next);
        let empty = bucket.admit(start, wall, next);
        assert!(!empty.allowed);
        assert_eq!(empty.reset, 1_001, "one more in 0.5 s");
        assert_eq!(bucket.admit(start, wall, FULL).reset, 1_003, "4 more in 2 s");
    }
}
