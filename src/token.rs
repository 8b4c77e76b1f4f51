//! Access tokens: a fixed one, client credentials (cached, refreshed before expiry, one
//! request at a time), or the caller's own [`TokenProvider`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use secrecy::{ExposeSecret, SecretString};

use crate::clock::Clock;
use crate::error::{TokenError, TransportError};

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

    fn is_usable_at(&self, now: SystemTime, margin: Duration) -> bool {
        // A margin too large to add to `now` reaches past any expiry.
        self.expires_at
            .is_none_or(|expires_at| now.checked_add(margin).is_some_and(|limit| limit < expires_at))
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
    ClientCredentials(ClientCredentials),
    Provider(Arc<dyn TokenProvider>),
}

impl Tokens {
    /// A token to send now.
    pub(crate) async fn token(&self) -> Result<AccessToken, TokenError> {
        match self {
            Self::Fixed(token) => Ok(token.clone()),
            Self::ClientCredentials(credentials) => credentials.token().await,
            Self::Provider(provider) => provider.token().await,
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

/// Tokens from `POST /oauth/token` with the client-credentials grant.
pub(crate) struct ClientCredentials {
    pub(crate) http: reqwest::Client,
    pub(crate) token_url: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: SecretString,
    pub(crate) audience: String,
    pub(crate) refresh_margin: Duration,
    pub(crate) timeout: Duration,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) cached: Mutex<Option<AccessToken>>,
    /// Held while a token request is in flight, so that there is only ever one.
    pub(crate) refreshing: tokio::sync::Mutex<()>,
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
        let cached = self
            .cached
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cached
            .as_ref()
            .filter(|token| token.is_usable_at(self.clock.now(), self.refresh_margin))
            .cloned()
    }

    async fn fetch(&self) -> Result<AccessToken, TokenError> {
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
        let response = self
            .http
            .post(&self.token_url)
            .timeout(self.timeout)
            .json(&body)
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(unreachable)?;
        if !status.is_success() {
            return Err(TokenError::from_answer(status.as_u16(), &bytes));
        }
        let token = read_token_answer(status, &bytes, requested_at)?;
        tracing::debug!(expires_at = ?token.expires_at, "fetched a new access token with client credentials");
        Ok(token)
    }
}

/// Reads a success answer of the token endpoint (`{"access_token":"…","expires_in":86400,…}`)
/// to a request sent at `requested_at`. A token that cannot be sent in an `Authorization`
/// header (empty, or with control characters) is refused here, as no answer at all; an
/// `expires_in` too large to represent means no known expiry.
pub(crate) fn read_token_answer(
    status: reqwest::StatusCode,
    body: &[u8],
    requested_at: SystemTime,
) -> Result<AccessToken, TokenError> {
    #[derive(serde::Deserialize)]
    struct Answer {
        access_token: SecretString,
        expires_in: Option<u64>,
    }
    let unusable = |source: Option<Box<dyn std::error::Error + Send + Sync>>| {
        TokenError::other(
            format!("the token endpoint's {status} answer has no usable access_token"),
            source,
        )
    };
    let answer: Answer = serde_json::from_slice(body).map_err(|error| unusable(Some(Box::new(error))))?;
    let expires_at = answer
        .expires_in
        .and_then(|seconds| requested_at.checked_add(Duration::from_secs(seconds)));
    let token = AccessToken::from_secret(answer.access_token, expires_at);
    if token.authorization().is_none() {
        return Err(unusable(None));
    }
    Ok(token)
}

impl ClientCredentials {
    async fn token(&self) -> Result<AccessToken, TokenError> {
        if let Some(token) = self.usable_cached() {
            return Ok(token);
        }
        // The fetch is boxed: it is rare, and inline it would make every call's future larger.
        Box::pin(self.fetch_once()).await
    }

    /// Fetches a token unless a request in flight already did; one request at a time.
    async fn fetch_once(&self) -> Result<AccessToken, TokenError> {
        let _only_one_request = self.refreshing.lock().await;
        // Whoever held the lock before us may have fetched one already.
        if let Some(token) = self.usable_cached() {
            return Ok(token);
        }
        let token = self.fetch().await?;
        *self
            .cached
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(token.clone());
        Ok(token)
    }

    fn invalidate(&self, rejected: &AccessToken) -> bool {
        let mut cached = self
            .cached
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if cached
            .as_ref()
            .is_some_and(|token| token.secret() == rejected.secret())
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

    #[test]
    fn a_refresh_margin_past_the_end_of_time_means_always_refresh() {
        // `now + margin` panicked ("overflow when adding duration to instant").
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let token = AccessToken::new("t").expiring_at(now + Duration::from_secs(3600));
        assert!(token.is_usable_at(now, Duration::from_secs(60)));
        assert!(!token.is_usable_at(now, Duration::from_secs(3600)));
        assert!(!token.is_usable_at(now, Duration::MAX));
        assert!(AccessToken::new("t").is_usable_at(now, Duration::MAX));
    }
}
