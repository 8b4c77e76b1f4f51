//! Auth0's rate-limit headers, as sent on successes and on 429s alike.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;

/// The allowance Auth0 reported in `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
/// `X-RateLimit-Reset` on one answer.
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
    /// Reads the three headers; `None` unless all three are present and numeric.
    pub(crate) fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let number = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok();
        Some(Self {
            limit: number("x-ratelimit-limit")?,
            remaining: number("x-ratelimit-remaining")?,
            reset: UNIX_EPOCH + Duration::from_secs(number("x-ratelimit-reset")?),
        })
    }

    /// How long from `now` until the allowance refills (zero if it already has).
    pub fn reset_after(&self, now: SystemTime) -> Duration {
        self.reset.duration_since(now).unwrap_or(Duration::ZERO)
    }
}

/// How long a `Retry-After` header asks to wait: delay-seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    HeaderValue::from_str(value).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn all_three_headers_make_a_rate_limit() {
        let limit = RateLimit::from_headers(&headers(&[
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
            RateLimit::from_headers(&headers(&[("X-RateLimit-Limit", "50")])),
            None
        );
        assert_eq!(
            RateLimit::from_headers(&headers(&[
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
            retry_after(&headers(&[("Retry-After", "7")]), now),
            Some(Duration::from_secs(7))
        );
        let in_twelve = httpdate::fmt_http_date(now + Duration::from_secs(12));
        assert_eq!(
            retry_after(&headers(&[("Retry-After", &in_twelve)]), now),
            Some(Duration::from_secs(12))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(12));
        assert_eq!(
            retry_after(&headers(&[("Retry-After", &past)]), now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers(&[("Retry-After", "soon")]), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }
}
