//! Auth0's rate-limit headers, as sent on successes and on 429s alike.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderMap, HeaderName};

/// The latest `X-RateLimit-Reset` taken as meant: the end of the year 9999, the last second an
/// HTTP date can name. A later one (up to `u64::MAX`, past what `SystemTime` holds) would only
/// feed overflows to the arithmetic of waits and pacing.
pub(crate) const LATEST_RESET_SECS: u64 = 253_402_300_799;

// Looked up with a `&str`, a name is parsed and lower-cased on every response.
const LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
const REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
const RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// The allowance Auth0 reported in `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
/// `X-RateLimit-Reset` on one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct RateLimit {
    /// Requests allowed in the current window (`X-RateLimit-Limit`).
    pub limit: u64,
    /// Requests left in the current window (`X-RateLimit-Remaining`).
    pub remaining: u64,
    /// When the allowance refills (`X-RateLimit-Reset`, a UNIX time in seconds).
    pub reset: SystemTime,
}

impl RateLimit {
    /// Reads the three headers; `None` unless all three are present and numeric, with a reset
    /// no later than [`LATEST_RESET_SECS`].
    pub(crate) fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let number = |name: &HeaderName| headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok();
        let reset = number(&RESET).filter(|&reset| reset <= LATEST_RESET_SECS)?;
        Some(Self {
            limit: number(&LIMIT)?,
            remaining: number(&REMAINING)?,
            reset: UNIX_EPOCH + Duration::from_secs(reset),
        })
    }

    /// How long from `now` until the allowance refills (zero if it already has).
    pub fn reset_after(&self, now: SystemTime) -> Duration {
        self.reset.duration_since(now).unwrap_or(Duration::ZERO)
    }
}

/// The longest wait a `Retry-After` is taken to ask for. No server means more; the cap keeps
/// the retry arithmetic (padding and jitter added to the wait) far from overflowing.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// How long a `Retry-After` header asks to wait: delay-seconds or an HTTP date, at most
/// [`MAX_RETRY_AFTER`].
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(
        date.duration_since(now)
            .unwrap_or(Duration::ZERO)
            .min(MAX_RETRY_AFTER),
    )
}

/// The headers `pairs` name, for tests.
#[cfg(test)]
pub(crate) fn header_map<V: AsRef<str>>(pairs: &[(&str, V)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(name, value)| {
            let name = HeaderName::from_bytes(name.as_bytes()).expect("a header name");
            let value = reqwest::header::HeaderValue::from_str(value.as_ref()).expect("a header value");
            (name, value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_three_headers_make_a_rate_limit() {
        let limit = RateLimit::from_headers(&header_map(&[
            ("X-RateLimit-Limit", "50"),
            ("X-RateLimit-Remaining", "0"),
            ("X-RateLimit-Reset", "1700000010"),
        ]))
        .unwrap();
        assert_eq!(limit.limit, 50);
        assert_eq!(limit.remaining, 0);
        assert_eq!(limit.reset, UNIX_EPOCH + Duration::from_secs(1_700_000_010));
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_004);
        assert_eq!(limit.reset_after(now), Duration::from_secs(6));
        assert_eq!(limit.reset_after(now + Duration::from_secs(60)), Duration::ZERO);
    }

    #[test]
    fn a_missing_or_malformed_header_gives_none() {
        assert_eq!(
            RateLimit::from_headers(&header_map(&[("X-RateLimit-Limit", "50")])),
            None
        );
        assert_eq!(
            RateLimit::from_headers(&header_map(&[
                ("X-RateLimit-Limit", "50"),
                ("X-RateLimit-Remaining", "many"),
                ("X-RateLimit-Reset", "1700000010"),
            ])),
            None
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            retry_after(&header_map(&[("Retry-After", "7")]), now),
            Some(Duration::from_secs(7))
        );
        let in_twelve = httpdate::fmt_http_date(now + Duration::from_secs(12));
        assert_eq!(
            retry_after(&header_map(&[("Retry-After", &in_twelve)]), now),
            Some(Duration::from_secs(12))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(12));
        assert_eq!(
            retry_after(&header_map(&[("Retry-After", &past)]), now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&header_map(&[("Retry-After", "soon")]), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }
}
