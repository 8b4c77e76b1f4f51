//! Access tokens: a fixed one, client credentials (cached, refreshed before expiry, one
//! request at a time), or the caller's own [`TokenProvider`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use secrecy::{ExposeSecret, SecretString};

use crate::client::locked;
use crate::error::{Error, HeldBackError, TokenError, TransportError};
use crate::transport::clock::Clock;
use crate::transport::rate_limit::RateLimit;
use crate::transport::response_limits::too_large;
use crate::transport::retry::{Decision, GiveUp, Outcome, RetryPolicy, Spent, decide};
use crate::transport::send::{Received, send};
use reqwest::Method;

/// A Management API access token. Its value never appears in `Debug` output or logs.
/// Clones share the value, so handing the token to every request costs a reference count.
#[derive(Clone)]
pub struct AccessToken {
    secret: Arc<Secret>,
    expires_at: Option<SystemTime>,
}

struct Secret {
    value: SecretString,
    /// `Authorization: Bearer …`, made once per token instead of once per request; `None`
    /// when the value cannot be sent in a header.
    authorization: Option<reqwest::header::HeaderValue>,
}

impl AccessToken {
    /// A token with no known expiry.
    pub fn new(value: impl Into<String>) -> Self {
        Self::from_secret(SecretString::from(value.into()), None)
    }

    fn from_secret(value: SecretString, expires_at: Option<SystemTime>) -> Self {
        let authorization = bearer_header(value.expose_secret());
        Self {
            secret: Arc::new(Secret { value, authorization }),
            expires_at,
        }
    }

    /// The same token, known to expire at `expires_at`.
    #[must_use]
    pub fn expiring_at(mut self, expires_at: SystemTime) -> Self {
        self.expires_at = Some(expires_at);
        self
    }

    /// `Authorization: Bearer …` for this token; `None` when it is empty or cannot be sent
    /// in a header (control characters).
    pub(crate) fn authorization(&self) -> Option<reqwest::header::HeaderValue> {
        self.secret.authorization.clone()
    }

    /// When the token expires, if known.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }

    /// The token itself, for the `Authorization` header.
    pub(crate) fn secret(&self) -> &str {
        self.secret.value.expose_secret()
    }
}

fn bearer_header(value: &str) -> Option<reqwest::header::HeaderValue> {
    if value.is_empty() {
        return None;
    }
    let mut header = reqwest::header::HeaderValue::try_from(format!("Bearer {value}")).ok()?;
    header.set_sensitive(true);
    Some(header)
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("value", &"[REDACTED]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// The future a [`TokenProvider`] returns.
pub type TokenFuture<'a> = Pin<Box<dyn Future<Output = Result<AccessToken, TokenError>> + Send + 'a>>;

/// A source of access tokens, for programs that get them elsewhere (a vault, another service).
///
/// The client asks for a token before every request, so a provider should cache.
///
/// ```
/// use auth0_client_grants::{AccessToken, TokenFuture, TokenProvider};
///
/// #[derive(Debug)]
/// struct FromEnvironment;
///
/// impl TokenProvider for FromEnvironment {
///     fn token(&self) -> TokenFuture<'_> {
///         Box::pin(async {
///             let value = std::env::var("AUTH0_TOKEN").unwrap_or_default();
///             Ok(AccessToken::new(value))
///         })
///     }
/// }
/// ```
pub trait TokenProvider: fmt::Debug + Send + Sync + 'static {
    /// A token to send now.
    fn token(&self) -> TokenFuture<'_>;

    /// The API refused `rejected` with 401. Forget it if it is still the one you would hand
    /// out, and return `true` if asking again may give a different token (the client then
    /// retries the call once with it). The default returns `false`.
    fn invalidate(&self, rejected: &AccessToken) -> bool {
        let _ = rejected;
        false
    }
}

/// Where a client's tokens come from. The built-in sources are called directly: a boxed
/// future per request is only paid for a caller's own provider.
#[derive(Debug)]
pub(crate) enum Tokens {
    /// A fixed token, as given to [`ClientBuilder::token`](crate::ClientBuilder::token).
    Fixed(AccessToken),
    ClientCredentials(Box<ClientCredentials>),
    Provider(Arc<dyn TokenProvider>),
}

impl Tokens {
    /// A token to send now. The time a call waits for the token endpoint's rate limit is
    /// added to its `spent`, and bounded by the retry policy's budget like the API's.
    pub(crate) async fn token(&self, spent: &mut Spent) -> Result<AccessToken, Error> {
        match self {
            Self::Fixed(token) => Ok(token.clone()),
            Self::ClientCredentials(credentials) => credentials.token(spent).await,
            Self::Provider(provider) => provider.token().await.map_err(Error::Token),
        }
    }

    /// The API refused `rejected` with 401: whether asking again may give another token.
    pub(crate) fn invalidate(&self, rejected: &AccessToken) -> bool {
        match self {
            Self::Fixed(_) => false,
            Self::ClientCredentials(credentials) => credentials.invalidate(rejected),
            Self::Provider(provider) => provider.invalidate(rejected),
        }
    }
}

/// A token from the token endpoint, and when to stop using it.
#[derive(Debug)]
pub(crate) struct Cached {
    token: AccessToken,
    /// `None`: no known expiry; the token is used until the API refuses it.
    refresh_at: Option<SystemTime>,
}

/// Tokens from `POST /oauth/token` with the client-credentials grant.
pub(crate) struct ClientCredentials {
    pub(crate) http: reqwest::Client,
    pub(crate) token_url: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: SecretString,
    pub(crate) audience: String,
    pub(crate) refresh_margin: Duration,
    /// How the token endpoint's 429s are waited out, as the API's are.
    pub(crate) retry: RetryPolicy,
    pub(crate) timeout: Duration,
    /// The longest response body read, in bytes.
    pub(crate) max_response_size: usize,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) cached: Mutex<Option<Cached>>,
    /// Held while a token request is in flight, so that there is only ever one; not while a
    /// 429 is waited out, so that each call waits only as long as its own budget allows.
    pub(crate) refreshing: tokio::sync::Mutex<()>,
    /// After a 429 of the token endpoint: no token request before its end, whichever call
    /// sends it.
    pub(crate) hold: Mutex<Option<Hold>>,
    /// How the latest token request ended, for the calls that waited for it.
    pub(crate) last_fetch: Mutex<LastFetch>,
}

/// No token request before `until`: the token endpoint answered 429, with `rate_limit`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hold {
    until: SystemTime,
    rate_limit: Option<RateLimit>,
}

/// The token requests made so far, and the failure the latest ended in (a 429 is a hold, not
/// a failure).
#[derive(Debug, Default)]
pub(crate) struct LastFetch {
    number: u64,
    failure: Option<TokenError>,
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("audience", &self.audience)
            .field("refresh_margin", &self.refresh_margin)
            .finish_non_exhaustive()
    }
}

impl ClientCredentials {
    fn usable_cached(&self) -> Option<AccessToken> {
        let cached = locked(&self.cached);
        let now = self.clock.now();
        cached
            .as_ref()
            .filter(|cached| cached.refresh_at.is_none_or(|refresh_at| now < refresh_at))
            .map(|cached| cached.token.clone())
    }

    /// One token request. A 429 comes back with its headers, for the retry decision.
    async fn fetch(&self) -> Result<Cached, FetchFailed> {
        let requested_at = self.clock.now();
        let body = serde_json::json!({
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret.expose_secret(),
            "audience": self.audience,
        });
        let unreachable = |error: reqwest::Error| {
            TokenError::other(
                "cannot reach the token endpoint",
                Some(Box::new(TransportError::new(error)) as Box<dyn std::error::Error + Send + Sync>),
            )
        };
        let request = self
            .http
            .post(&self.token_url)
            .json(&body)
            .build()
            .map_err(unreachable)?;
        let received = send(&self.http, request, self.timeout, self.max_response_size)
            .await
            .map_err(unreachable)?;
        let (response, rate_limit) = match received {
            Received::Accepted { response, rate_limit } => (response, rate_limit),
            Received::Refused { response, why } => {
                return Err(TokenError::refused_response(response.status().as_u16(), why.to_string()).into());
            }
        };
        let status = response.status();
        let headers = response.headers().clone();
        let limit = self.max_response_size;
        let bytes = match response.bytes().await {
            Ok(bytes) => bytes,
            Err(error) if too_large(&error) => {
                let too_large = crate::Error::ResponseTooLarge { limit };
                return Err(TokenError::refused_response(status.as_u16(), too_large.to_string()).into());
            }
            Err(error) => return Err(unreachable(error).into()),
        };
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(FetchFailed::RateLimited {
                error: TokenError::from_response(429, &bytes),
                headers,
                rate_limit,
            });
        }
        if !status.is_success() {
            return Err(TokenError::from_response(status.as_u16(), &bytes).into());
        }
        let token = read_token_response(status, &bytes, requested_at)?;
        tracing::debug!(expires_at = ?token.expires_at, "fetched a new access token with client credentials");
        let refresh_at = refresh_time(requested_at, token.expires_at, self.refresh_margin);
        Ok(Cached { token, refresh_at })
    }
}

/// Why a token request failed.
#[derive(Debug)]
enum FetchFailed {
    /// The token endpoint answered 429, with these headers: worth waiting out.
    RateLimited {
        error: TokenError,
        headers: reqwest::header::HeaderMap,
        rate_limit: Option<RateLimit>,
    },
    Other(TokenError),
}

impl From<TokenError> for FetchFailed {
    fn from(error: TokenError) -> Self {
        Self::Other(error)
    }
}

/// The longest `expires_in` taken at its word: a token endpoint that announces more is
/// treated as announcing nothing.
const LONGEST_CREDIBLE_LIFETIME: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// When a token answered at `requested_at` expires, from its `expires_in`: `None` (no known
/// expiry: used until the API refuses it) when that is missing, not a number, or more than a
/// year; `requested_at` itself (used for the call that asked for it, and no other) when it is
/// zero or negative.
fn expiry(requested_at: SystemTime, expires_in: Option<&serde_json::Value>) -> Option<SystemTime> {
    // serde_json holds no NaN or infinity: a number is finite here.
    let seconds = expires_in?.as_f64()?;
    if seconds > LONGEST_CREDIBLE_LIFETIME.as_secs_f64() {
        return None;
    }
    if seconds <= 0.0 {
        return Some(requested_at);
    }
    requested_at.checked_add(Duration::from_secs_f64(seconds))
}

/// When a token answered at `requested_at` and expiring at `expires_at` is replaced: `margin`
/// before it expires, but never more than half its lifetime before, so that a short-lived
/// token is still used for half its life instead of being fetched again for every call.
fn refresh_time(
    requested_at: SystemTime,
    expires_at: Option<SystemTime>,
    margin: Duration,
) -> Option<SystemTime> {
    let expires_at = expires_at?;
    let lifetime = expires_at.duration_since(requested_at).unwrap_or(Duration::ZERO);
    Some(expires_at - margin.min(lifetime / 2))
}

/// Reads a success response of the token endpoint (`{"access_token":"…","expires_in":86400,…}`)
/// to a request sent at `requested_at`. A token that cannot be sent in an `Authorization`
/// header (empty, or with control characters) is refused here, as no response at all; what
/// `expires_in` means is [`expiry`]'s to say.
pub(crate) fn read_token_response(
    status: reqwest::StatusCode,
    body: &[u8],
    requested_at: SystemTime,
) -> Result<AccessToken, TokenError> {
    #[derive(serde::Deserialize)]
    struct TokenResponse {
        access_token: SecretString,
        /// Read as any JSON value: whatever it holds, it does not make the token unusable.
        expires_in: Option<serde_json::Value>,
    }
    /// The same response, its `expires_in` skipped unread: serde_json refuses to read a number
    /// beyond `f64` (`1e400`) as a value, but skips it as an unknown field.
    #[derive(serde::Deserialize)]
    struct WithoutExpiry {
        access_token: SecretString,
    }
    let unusable = |source: Option<Box<dyn std::error::Error + Send + Sync>>| {
        TokenError::other(
            format!("the token endpoint's {status} response has no usable access_token"),
            source,
        )
    };
    let (access_token, expires_in) = match serde_json::from_slice::<TokenResponse>(body) {
        Ok(response) => (response.access_token, response.expires_in),
        Err(error) => match serde_json::from_slice::<WithoutExpiry>(body) {
            Ok(response) => (response.access_token, None),
            Err(_) => return Err(unusable(Some(Box::new(error)))),
        },
    };
    let expires_at = expiry(requested_at, expires_in.as_ref());
    let token = AccessToken::from_secret(access_token, expires_at);
    if token.authorization().is_none() {
        return Err(unusable(None));
    }
    Ok(token)
}

impl ClientCredentials {
    async fn token(&self, spent: &mut Spent) -> Result<AccessToken, Error> {
        if let Some(token) = self.usable_cached() {
            return Ok(token);
        }
        // The fetch is boxed: it is rare, and inline it would make every call's future larger.
        Box::pin(self.fetch_once(spent)).await
    }

    /// Fetches a token unless a request in flight already did; one request at a time. The
    /// token endpoint is rate limited like the API: its 429s are waited out as the retry policy
    /// says for the API's, each call within its own budget.
    async fn fetch_once(&self, spent: &mut Spent) -> Result<AccessToken, Error> {
        // The token endpoint's own 429s set its backoff; the call's count is of API requests.
        let mut refused = 0;
        loop {
            let now = self.clock.now();
            let hold = (*locked(&self.hold)).and_then(|hold| {
                let wait = hold.until.duration_since(now).ok()?;
                Some((wait, hold.rate_limit))
            });
            if let Some((wait, rate_limit)) = hold.filter(|(wait, _)| !wait.is_zero()) {
                if wait > spent.rate_limit_budget_left(&self.retry) {
                    return Err(Error::HeldBack(HeldBackError::new(
                        spent.rate_limit_wait,
                        rate_limit,
                    )));
                }
                tracing::warn!(
                    delay_ms = wait.as_millis() as u64,
                    "the token endpoint answered 429; waiting before asking again"
                );
                self.clock.sleep(wait).await;
                spent.held(wait);
            }
            let waited_for = locked(&self.last_fetch).number;
            let _only_one_request = self.refreshing.lock().await;
            // Whoever held the lock before us may have fetched one already, met a 429, or
            // failed: a request that ended while this call waited for it was this call's too,
            // and asking again at once, once per waiting call, would make the last wait out
            // every timeout before it.
            if let Some(token) = self.usable_cached() {
                return Ok(token);
            }
            {
                let last = locked(&self.last_fetch);
                if last.number != waited_for
                    && let Some(failure) = &last.failure
                {
                    return Err(Error::Token(failure.for_another_call()));
                }
            }
            if locked(&self.hold).is_some_and(|hold| hold.until > self.clock.now()) {
                continue;
            }
            let fetched = self.fetch().await;
            {
                let mut last = locked(&self.last_fetch);
                last.number += 1;
                last.failure = match &fetched {
                    Err(FetchFailed::Other(error)) => Some(error.for_another_call()),
                    _ => None,
                };
            }
            let (error, headers, rate_limit) = match fetched {
                Ok(fetched) => {
                    let token = fetched.token.clone();
                    *locked(&self.cached) = Some(fetched);
                    *locked(&self.hold) = None;
                    return Ok(token);
                }
                Err(FetchFailed::Other(error)) => return Err(Error::Token(error)),
                Err(FetchFailed::RateLimited {
                    error,
                    headers,
                    rate_limit,
                }) => (error, headers, rate_limit),
            };
            let outcome = Outcome::Status {
                status: 429,
                headers: &headers,
                rate_limit,
            };
            let now = self.clock.now();
            let spent_here = Spent {
                rate_limited: refused,
                ..*spent
            };
            let decision = decide(
                &self.retry,
                &Method::POST,
                outcome,
                spent_here,
                now,
                fastrand::f64(),
            );
            let asked = match decision {
                Decision::RetryAfter(wait)
                | Decision::GiveUp(GiveUp::WaitTooLong(wait) | GiveUp::RateLimitBudgetSpent(wait)) => wait,
                Decision::GiveUp(_) => Duration::ZERO,
            };
            // Every 429 holds back the next token request, whichever call sends it: one call
            // giving up must not let the others ask again at once. No longer than `max_delay`,
            // though: a wait of a day asked for once must not stop every token request for a day.
            *locked(&self.hold) = now
                .checked_add(asked.min(self.retry.longest_wait()))
                .map(|until| Hold { until, rate_limit });
            match decision {
                Decision::RetryAfter(_) => refused += 1,
                Decision::GiveUp(_) => return Err(Error::Token(error)),
            }
        }
    }

    fn invalidate(&self, rejected: &AccessToken) -> bool {
        let mut cached = locked(&self.cached);
        if cached
            .as_ref()
            .is_some_and(|cached| cached.token.secret() == rejected.secret())
        {
            *cached = None;
            tracing::debug!("the API refused the cached access token; it will be fetched again");
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    #[test]
    fn expires_in_that_cannot_be_believed_means_no_known_expiry_and_zero_or_less_means_this_call() {
        let requested_at = at(1_700_000_000);
        let expiry_of = |expires_in: serde_json::Value| expiry(requested_at, Some(&expires_in));
        assert_eq!(
            expiry_of(serde_json::json!(86400)),
            Some(requested_at + Duration::from_secs(86400))
        );
        assert_eq!(
            expiry_of(serde_json::json!(1.5)),
            Some(requested_at + Duration::from_millis(1500))
        );
        let year = LONGEST_CREDIBLE_LIFETIME.as_secs();
        assert_eq!(
            expiry_of(serde_json::json!(year)),
            Some(requested_at + LONGEST_CREDIBLE_LIFETIME)
        );
        for unbelievable in [
            serde_json::json!(year + 1),
            serde_json::json!(1e30),
            serde_json::json!(u64::MAX),
            serde_json::json!("3600"),
            serde_json::json!(null),
            serde_json::json!({"seconds": 3600}),
        ] {
            assert_eq!(expiry_of(unbelievable.clone()), None, "{unbelievable}");
        }
        assert_eq!(expiry(requested_at, None), None);
        for body in [
            &br#"{"access_token":"t","expires_in":1e400}"#[..],
            br#"{"access_token":"t","expires_in":-1e400}"#,
            br#"{"access_token":"t","expires_in":[1,{"x":2}]}"#,
        ] {
            let token = read_token_response(reqwest::StatusCode::OK, body, requested_at).unwrap();
            assert_eq!(token.expires_at(), None, "{}", String::from_utf8_lossy(body));
        }
        for this_call_only in [
            serde_json::json!(0),
            serde_json::json!(-1),
            serde_json::json!(-1e30),
        ] {
            assert_eq!(
                expiry_of(this_call_only.clone()),
                Some(requested_at),
                "{this_call_only}"
            );
        }
    }

    #[test]
    fn the_refresh_margin_never_exceeds_half_the_lifetime() {
        let requested_at = at(1_700_000_000);
        let refresh = |lifetime: u64, margin: Duration| {
            refresh_time(
                requested_at,
                Some(requested_at + Duration::from_secs(lifetime)),
                margin,
            )
            .map(|when| when.duration_since(requested_at).unwrap())
        };
        let minute = Duration::from_secs(60);
        assert_eq!(refresh(86400, minute), Some(Duration::from_secs(86340)));
        assert_eq!(refresh(120, minute), Some(minute));
        assert_eq!(refresh(10, minute), Some(Duration::from_secs(5)));
        assert_eq!(refresh(0, minute), Some(Duration::ZERO));
        assert_eq!(refresh(3600, Duration::MAX), Some(Duration::from_secs(1800)));
        assert_eq!(refresh_time(requested_at, None, minute), None);
        // An expiry before the request (a clock that went back) is refreshed at once.
        assert_eq!(refresh_time(requested_at, Some(at(1)), minute), Some(at(1)));
    }
}

/// Responses of the token endpoint that fuzzing found (src/transport/call/decoding_properties.rs fuzzes them).
#[cfg(test)]
mod found {
    use std::time::UNIX_EPOCH;

    use super::*;

    #[test]
    fn found_token_answers_that_panicked_or_could_not_be_sent() {
        let requested_at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        // Panicked ("overflow when adding duration to instant"): now no known expiry.
        let far = read_token_response(
            reqwest::StatusCode::OK,
            br#"{"access_token":"client","expires_in":9223372035879195683}"#,
            requested_at,
        )
        .unwrap();
        assert_eq!(far.expires_at(), None);
        // Accepted, then panicked in the transport building `Authorization: Bearer …`; or sent
        // as an empty bearer token.
        for body in [
            &br#"{"access_token":"\u0000","expires_in":0}"#[..],
            br#"{"access_token":"a\nb"}"#,
            br#"{"access_token":""}"#,
        ] {
            let error = read_token_response(reqwest::StatusCode::OK, body, requested_at).unwrap_err();
            assert_eq!(
                error.to_string(),
                "no access token: the token endpoint's 200 OK response has no usable access_token"
            );
        }
    }
}
