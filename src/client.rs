//! [`Client`] and its [`ClientBuilder`]: where the API is, how to authenticate, how to retry.

use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use reqwest::Url;
use reqwest::header::HeaderValue;
use secrecy::SecretString;

use crate::ClientGrants;
use crate::error::{ConfigError, Error};
use crate::transport::clock::{Clock, SystemClock};
use crate::transport::pacing::Pacer;
use crate::transport::rate_limit::RateLimit;
use crate::transport::response_limits::DEFAULT_MAX_RESPONSE_SIZE;
use crate::transport::retry::RetryPolicy;
use crate::transport::telemetry;
use crate::transport::token::{AccessToken, ClientCredentials, TokenProvider, Tokens};

/// The default timeout of one attempt, from sending the request to the end of the response.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default time allowed to open a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long before expiry a client-credentials token is replaced by default.
pub const DEFAULT_TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// A client for the client-grant operations of one Auth0 tenant's Management API.
///
/// Cloning is cheap and clones share everything: the connection pool, the cached token and
/// the rate-limit bookkeeping. Build one and share it across the whole program. Tokens
/// obtained with client credentials are refreshed before they expire, so a long-running
/// process never needs to rebuild its client.
///
/// ```no_run
/// use auth0_client_grants::{Client, RetryPolicy};
///
/// # async fn example() -> Result<(), auth0_client_grants::Error> {
/// let client = Client::builder()
///     .domain("example.eu.auth0.com")
///     .client_credentials("CLIENT_ID", "CLIENT_SECRET")
///     .retry(RetryPolicy::standard().max_retries(4))
///     .timeout(std::time::Duration::from_secs(30))
///     .build()?;
/// let grant = client.client_grants().get("cgr_123").await?;
/// # let _ = grant;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    state: Arc<ClientState>,
}

/// Everything a client and its clones share, and every request of theirs reads: where the
/// API is, how to get a token, how to retry and pace, what to send and to accept.
#[derive(Debug)]
pub(crate) struct ClientState {
    /// The API root, such as `https://example.eu.auth0.com/api/v2`.
    pub(crate) api_root: String,
    pub(crate) http: reqwest::Client,
    pub(crate) tokens: Tokens,
    pub(crate) retry: RetryPolicy,
    /// The limit of one attempt, from sending to the end of the response.
    pub(crate) timeout: Duration,
    /// The longest response body read, in bytes.
    pub(crate) max_response_size: usize,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) user_agent: HeaderValue,
    /// The `Auth0-Client` header; `None` when telemetry is off.
    pub(crate) telemetry: Option<HeaderValue>,
    pub(crate) last_rate_limit: Mutex<Option<RateLimit>>,
    /// `None` when pacing is off.
    pub(crate) pacer: Option<Pacer>,
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The client-grant operations (`/client-grants`).
    pub fn client_grants(&self) -> ClientGrants {
        ClientGrants::new(self.clone())
    }

    /// The rate-limit headers of the most recent response any clone of this client received,
    /// for callers who pace themselves.
    pub fn last_rate_limit(&self) -> Option<RateLimit> {
        *locked(&self.state.last_rate_limit)
    }

    /// The client id of the credentials this client authenticates with, when it has client
    /// credentials ([`ClientBuilder::client_credentials`]); `None` with a fixed token or a
    /// token provider, whose client this crate does not know. Grants as code uses it to refuse
    /// a plan that would take away the client's own access to the Management API.
    pub fn client_id(&self) -> Option<&str> {
        match &self.state.tokens {
            Tokens::ClientCredentials(credentials) => Some(&credentials.client_id),
            Tokens::Fixed(_) | Tokens::Provider(_) => None,
        }
    }

    pub(crate) fn state(&self) -> &Arc<ClientState> {
        &self.state
    }
}

/// The value behind `mutex`: a panic elsewhere while it was held leaves nothing half-done
/// behind any of this crate's locks (every write is one assignment or one update of a count),
/// so a poisoned lock is used as it is.
pub(crate) fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Configures a [`Client`]. Every setting has a production-ready default except where the
/// API is ([`domain`](Self::domain) or [`base_url`](Self::base_url)) and how to authenticate
/// ([`client_credentials`](Self::client_credentials), [`token`](Self::token) or
/// [`token_provider`](Self::token_provider)).
#[derive(Debug)]
pub struct ClientBuilder {
    domain: Option<String>,
    base_url: Option<String>,
    credentials: Option<(String, SecretString)>,
    token: Option<AccessToken>,
    token_provider: Option<Arc<dyn TokenProvider>>,
    audience: Option<String>,
    token_refresh_margin: Duration,
    retry: RetryPolicy,
    pacing: bool,
    timeout: Duration,
    connect_timeout: Option<Duration>,
    user_agent: Option<String>,
    telemetry: bool,
    client_info: Option<(String, String)>,
    http_client: Option<reqwest::Client>,
    max_response_size: usize,
    clock: Arc<dyn Clock>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            domain: None,
            base_url: None,
            credentials: None,
            token: None,
            token_provider: None,
            audience: None,
            token_refresh_margin: DEFAULT_TOKEN_REFRESH_MARGIN,
            retry: RetryPolicy::standard(),
            pacing: true,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: None,
            user_agent: None,
            telemetry: true,
            client_info: None,
            http_client: None,
            max_response_size: DEFAULT_MAX_RESPONSE_SIZE,
            clock: Arc::new(SystemClock),
        }
    }
}

impl ClientBuilder {
    /// The tenant's domain, such as `example.eu.auth0.com` (or a custom domain). The API is
    /// then `https://{domain}/api/v2` and tokens come from `https://{domain}/oauth/token`.
    #[must_use]
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// The full API root instead of a domain, such as `http://127.0.0.1:8080/api/v2` for tests
    /// or a proxy. Plain `http://` is accepted only for loopback hosts, since it would send
    /// the token in clear text. With client credentials, tokens come from
    /// `<origin of base_url>/oauth/token`.
    #[must_use]
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// Authenticate with the client-credentials grant of a machine-to-machine application.
    /// Tokens are cached and refreshed before they expire; however many tasks ask at once,
    /// only one token request is in flight. A 401 from the API drops the cached token and
    /// retries the call once with a new one.
    #[must_use]
    pub fn client_credentials(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        self.credentials = Some((client_id.into(), SecretString::from(client_secret.into())));
        self
    }

    /// Authenticate with a fixed access token (it is never refreshed).
    #[must_use]
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(AccessToken::new(token));
        self
    }

    /// Authenticate with tokens from your own [`TokenProvider`].
    #[must_use]
    pub fn token_provider(mut self, provider: impl TokenProvider) -> Self {
        self.token_provider = Some(Arc::new(provider));
        self
    }

    /// The audience asked for with client credentials. Default: `https://{domain}/api/v2/`
    /// (or `{base_url}/`).
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// How long before its expiry a client-credentials token is replaced. Default: 60 s.
    #[must_use]
    pub fn token_refresh_margin(mut self, margin: Duration) -> Self {
        self.token_refresh_margin = margin;
        self
    }

    /// How failed requests are retried. Default: [`RetryPolicy::standard()`].
    #[must_use]
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Whether requests are paced by the rate-limit headers of earlier responses. Default: on.
    ///
    /// Every response from Auth0 says how much of the tenant's allowance is left
    /// (`X-RateLimit-Remaining`). With pacing on, this client and all its clones share one
    /// model of that allowance: when it is spent, further requests wait their turn for the
    /// refill instead of being sent into 429s. The refill rate is learned from `remaining` over
    /// time, so it works whatever `X-RateLimit-Reset` means (the bucket full again, or one more
    /// request allowed: it is taken only as a bound) and when other programs share the tenant
    /// (their requests show as a slower refill). Retries on 429 stay as the safety net. The
    /// time a call is held counts against the retry policy's
    /// [`rate_limit_budget`](RetryPolicy::rate_limit_budget), and no single wait is longer than
    /// its [`max_delay`](RetryPolicy::max_delay): a call that would wait longer returns
    /// [`Error::HeldBack`] at once, unsent. While the rate is unknown and the server refuses
    /// requests, one request goes at a time, 100 ms after the latest response, the delay
    /// doubling with each round of 429s up to 10 s. A server that sends no rate-limit headers
    /// is never paced.
    #[must_use]
    pub fn pacing(mut self, enabled: bool) -> Self {
        self.pacing = enabled;
        self
    }

    /// The limit for one attempt, from sending to the end of the response. Default: 30 s.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The limit for opening a connection. Default: 10 s. Cannot be combined with
    /// [`http_client`](Self::http_client), whose own setting applies.
    #[must_use]
    pub fn connect_timeout(mut self, connect_timeout: Duration) -> Self {
        self.connect_timeout = Some(connect_timeout);
        self
    }

    /// The `User-Agent` header. Default: `auth0-client-grants/<version>`.
    #[must_use]
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Whether to send the `Auth0-Client` header (the crate's name and version and the Rust
    /// version, base64-encoded JSON) as Auth0's SDKs do. Default: on.
    #[must_use]
    pub fn telemetry(mut self, enabled: bool) -> Self {
        self.telemetry = enabled;
        self
    }

    /// For crates that wrap this one: name yourself in the `Auth0-Client` header; this crate
    /// is then listed in its `env`.
    #[must_use]
    pub fn client_info(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.client_info = Some((name.into(), version.into()));
        self
    }

    /// The HTTP client to use, for proxies or custom TLS. Its own timeouts, proxy and TLS
    /// settings apply; [`timeout`](Self::timeout) still limits each attempt.
    ///
    /// **Build it with `.redirect(reqwest::redirect::Policy::none())`.** reqwest follows up to
    /// ten redirects by default, and Auth0 never redirects these endpoints. The client built
    /// here follows none; through yours, a response that comes from another origin than the
    /// request went to is refused ([`Error::Redirect`]), but by then the other origin has
    /// received the request: reqwest drops `Authorization` on the way, but a `307` or `308`
    /// from the token endpoint makes it send the token request, client secret included, again.
    ///
    /// ```
    /// let http = reqwest::Client::builder()
    ///     .redirect(reqwest::redirect::Policy::none())
    ///     .build()
    ///     .unwrap();
    /// let client = auth0_client_grants::Client::builder()
    ///     .domain("example.eu.auth0.com")
    ///     .token("TOKEN")
    ///     .http_client(http)
    ///     .build();
    /// assert!(client.is_ok());
    /// ```
    #[must_use]
    pub fn http_client(mut self, http_client: reqwest::Client) -> Self {
        self.http_client = Some(http_client);
        self
    }

    /// The longest response body read, in bytes, from the API and the token endpoint alike.
    /// Default: [`DEFAULT_MAX_RESPONSE_SIZE`] (4 MiB; a page of 100 grants is far below 1 MiB).
    /// A longer response is not read further, and the call fails with
    /// [`Error::ResponseTooLarge`]: memory never holds more than the limit and one chunk, so
    /// a server that sends without end cannot exhaust it.
    #[must_use]
    pub fn max_response_size(mut self, bytes: usize) -> Self {
        self.max_response_size = bytes;
        self
    }

    /// Where the client reads the time and how it waits (the seam for tests that must not
    /// sleep). Default: [`SystemClock`](crate::SystemClock).
    #[must_use]
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Checks the configuration and builds the client. Fails with [`Error::Config`] when
    /// something is missing, contradictory or unsafe.
    pub fn build(self) -> Result<Client, Error> {
        let endpoints = Endpoints::resolve(self.domain.as_deref(), self.base_url.as_deref())?;
        if self.timeout.is_zero() {
            return Err(Error::config("timeout", "timeout must be longer than zero"));
        }
        if self.max_response_size == 0 {
            return Err(Error::config(
                "max_response_size",
                "max_response_size must be at least one byte",
            ));
        }
        let http = match (self.http_client, self.connect_timeout) {
            (Some(_), Some(_)) => {
                return Err(Error::config(
                    "connect_timeout",
                    "connect_timeout cannot be combined with http_client: set it on your reqwest client",
                ));
            }
            (Some(http), None) => http,
            (None, connect_timeout) => reqwest::Client::builder()
                .connect_timeout(connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT))
                // Auth0 never redirects these endpoints; a redirect is an error, and neither
                // the token nor the client secret follows it anywhere.
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|error| {
                    let problem = format!("cannot set up the HTTP client: {error}");
                    Error::Config(ConfigError::new("http_client", problem).caused_by(error))
                })?,
        };

        let tokens = match (self.credentials, self.token, self.token_provider) {
            (Some((client_id, client_secret)), None, None) => {
                Tokens::ClientCredentials(Box::new(ClientCredentials {
                    http: http.clone(),
                    token_url: endpoints.token_url,
                    client_id,
                    client_secret,
                    audience: self.audience.unwrap_or(endpoints.default_audience),
                    refresh_margin: self.token_refresh_margin,
                    retry: self.retry,
                    timeout: self.timeout,
                    max_response_size: self.max_response_size,
                    clock: self.clock.clone(),
                    cached: Mutex::new(None),
                    refreshing: tokio::sync::Mutex::new(()),
                    hold: Mutex::new(None),
                    last_fetch: Mutex::default(),
                }))
            }
            (None, Some(token), None) => {
                if token.authorization().is_none() {
                    return Err(Error::config(
                        "token",
                        "token(..) must be a non-empty access token without control characters",
                    ));
                }
                Tokens::Fixed(token)
            }
            (None, None, Some(provider)) => Tokens::Provider(provider),
            (None, None, None) => {
                return Err(Error::config(
                    "client_credentials",
                    "no credentials: call client_credentials(..), token(..) or token_provider(..)",
                ));
            }
            _ => {
                return Err(Error::config(
                    "client_credentials",
                    "choose one of client_credentials(..), token(..) and token_provider(..)",
                ));
            }
        };

        let user_agent = self
            .user_agent
            .unwrap_or_else(|| concat!("auth0-client-grants/", env!("CARGO_PKG_VERSION")).into());
        let user_agent = HeaderValue::try_from(user_agent)
            .map_err(|_| Error::config("user_agent", "user_agent must be visible ASCII"))?;
        let telemetry = self.telemetry.then(|| {
            let wrapper = self
                .client_info
                .as_ref()
                .map(|(name, version)| (name.as_str(), version.as_str()));
            HeaderValue::try_from(telemetry::auth0_client_header(wrapper)).expect("base64 is header-safe")
        });
        let state = ClientState {
            api_root: endpoints.api_root,
            http,
            tokens,
            retry: self.retry,
            timeout: self.timeout,
            max_response_size: self.max_response_size,
            clock: self.clock,
            user_agent,
            telemetry,
            last_rate_limit: Mutex::new(None),
            pacer: self.pacing.then(Pacer::default),
        };
        Ok(Client {
            state: Arc::new(state),
        })
    }
}

/// Where the API and the token endpoint are.
#[derive(Debug, PartialEq, Eq)]
struct Endpoints {
    api_root: String,
    token_url: String,
    default_audience: String,
}

impl Endpoints {
    fn resolve(domain: Option<&str>, base_url: Option<&str>) -> Result<Self, Error> {
        match (domain, base_url) {
            (Some(domain), None) => Self::for_domain(domain),
            (None, Some(base_url)) => Self::for_base_url(base_url),
            (None, None) => Err(Error::config("domain", "no API: call domain(..) or base_url(..)")),
            (Some(_), Some(_)) => Err(Error::config(
                "domain",
                "choose one of domain(..) and base_url(..)",
            )),
        }
    }

    fn for_domain(domain: &str) -> Result<Self, Error> {
        let refused = || {
            Error::config(
                "domain",
                format!(
                    "domain must be a host name such as example.eu.auth0.com (letters, digits, `-` and `.`), \
                     with an optional :port, not {domain:?}"
                ),
            )
        };
        let (host, port) = match domain.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (domain, None),
        };
        let host_is_a_name = !host.is_empty()
            && host
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'.');
        let port_is_a_port = port.is_none_or(|port| {
            !port.is_empty() && port.bytes().all(|byte| byte.is_ascii_digit()) && port.parse::<u16>().is_ok()
        });
        if !host_is_a_name || !port_is_a_port {
            return Err(refused());
        }
        let url = Url::parse(&format!("https://{domain}")).map_err(|_| refused())?;
        let origin = url.origin().ascii_serialization();
        Ok(Self {
            api_root: format!("{origin}/api/v2"),
            token_url: format!("{origin}/oauth/token"),
            default_audience: format!("{origin}/api/v2/"),
        })
    }

    fn for_base_url(base_url: &str) -> Result<Self, Error> {
        // The URL parser drops tabs and line breaks and trims spaces without a word, so the URL
        // used would differ from the one given: refuse them before parsing.
        if base_url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::config(
                "base_url",
                format!("base_url {base_url:?} must not contain whitespace or control characters"),
            ));
        }
        let url = Url::parse(base_url).map_err(|error| {
            let problem = format!("base_url {base_url:?} is not a URL: {error}");
            Error::Config(ConfigError::new("base_url", problem).caused_by(error))
        })?;
        check_transport_security(&url)?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err(Error::config(
                "base_url",
                format!("base_url {base_url:?} must not carry a query or a fragment"),
            ));
        }
        // A password without a user name counts too: it would go into the token's audience.
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::config(
                "base_url",
                format!(
                    "base_url must not carry credentials (a user name or password): {}",
                    without_credentials(&url)
                ),
            ));
        }
        let api_root = url.as_str().trim_end_matches('/').to_owned();
        Ok(Self {
            token_url: format!("{}/oauth/token", url.origin().ascii_serialization()),
            default_audience: format!("{api_root}/"),
            api_root,
        })
    }
}

/// `url` without its user name and password, to name it in an error.
fn without_credentials(url: &Url) -> String {
    let mut shown = url.clone();
    // Fails only for URLs that cannot have credentials, which then have none to hide.
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

/// HTTPS everywhere; plain HTTP only to this machine (127.0.0.0/8, ::1, localhost), since
/// anywhere else it would expose the token.
fn check_transport_security(url: &Url) -> Result<(), Error> {
    match url.scheme() {
        "https" => Ok(()),
        "http" => {
            let loopback = match url.host() {
                Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
                Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
                None => false,
            };
            if loopback {
                Ok(())
            } else {
                Err(Error::config(
                    "base_url",
                    format!(
                        "base_url {url} uses plain http to a host that is not loopback; use https, or the \
                         token would travel in clear text"
                    ),
                ))
            }
        }
        other => Err(Error::config(
            "base_url",
            format!("base_url scheme {other:?} is not http or https"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_error(result: Result<Endpoints, Error>) -> ConfigError {
        match result {
            Err(Error::Config(error)) => error,
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }

    #[test]
    fn a_domain_means_https_with_the_api_and_token_endpoints_under_it() {
        assert_eq!(
            Endpoints::resolve(Some("example.eu.auth0.com"), None).unwrap(),
            Endpoints {
                api_root: "https://example.eu.auth0.com/api/v2".into(),
                token_url: "https://example.eu.auth0.com/oauth/token".into(),
                default_audience: "https://example.eu.auth0.com/api/v2/".into(),
            }
        );
    }

    #[test]
    fn a_domain_with_a_scheme_or_path_is_refused() {
        for bad in [
            "https://example.auth0.com",
            "example.auth0.com/api/v2",
            "example.auth0.com/",
            "",
            ":443",
            "user@example.auth0.com",
            ":pw@example.auth0.com",
            "exa\r\nmple.eu.auth0.com",
            " example.auth0.com",
            "example.auth0.com#@evil.example",
            "example.auth0.com?@evil.example",
            "example.auth0.com\\@evil.example",
            "example.auth0.com:",
            "example.auth0.com:https",
            "example.auth0.com:65536",
            "example.auth0.com:1:2",
            "[::1]:443",
            "exämple.auth0.com",
        ] {
            let error = config_error(Endpoints::resolve(Some(bad), None));
            assert_eq!(error.setting(), "domain", "{bad}: {error}");
            assert!(
                error.to_string().starts_with("domain must be a host name"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn a_domain_may_name_a_port() {
        assert_eq!(
            Endpoints::resolve(Some("Tenant-1.eu.auth0.com:8443"), None).unwrap(),
            Endpoints {
                api_root: "https://tenant-1.eu.auth0.com:8443/api/v2".into(),
                token_url: "https://tenant-1.eu.auth0.com:8443/oauth/token".into(),
                default_audience: "https://tenant-1.eu.auth0.com:8443/api/v2/".into(),
            }
        );
    }

    #[test]
    fn a_base_url_with_credentials_whitespace_a_query_or_a_fragment_is_refused() {
        for (bad, says) in [
            ("http://:pw@127.0.0.1:8080/api/v2", "must not carry credentials"),
            ("http://user@127.0.0.1:8080/api/v2", "must not carry credentials"),
            (
                "https://user:pw@tenant.example/api/v2",
                "must not carry credentials",
            ),
            (
                "http://127.0.0.1:8080/api\r\n/v2",
                "whitespace or control characters",
            ),
            (
                "http://127.0.0.1:8080/api/v2\n",
                "whitespace or control characters",
            ),
            (
                " http://127.0.0.1:8080/api/v2",
                "whitespace or control characters",
            ),
            (
                "http://127.0.0.1:8080/a\tpi/v2",
                "whitespace or control characters",
            ),
            (
                "http://127.0.0.1:8080/api/v2\u{0}",
                "whitespace or control characters",
            ),
            (
                "http://127.0.0.1:8080/api/v2?x=1",
                "must not carry a query or a fragment",
            ),
            (
                "http://127.0.0.1:8080/api/v2?",
                "must not carry a query or a fragment",
            ),
            (
                "http://127.0.0.1:8080/api/v2#",
                "must not carry a query or a fragment",
            ),
        ] {
            let error = config_error(Endpoints::resolve(None, Some(bad)));
            assert_eq!(error.setting(), "base_url", "{bad:?}: {error}");
            let message = error.to_string();
            assert!(message.contains(says), "{bad:?}: {message}");
            assert!(!message.contains("pw"), "the password is shown: {message}");
        }
    }

    #[test]
    fn a_base_url_gives_the_token_endpoint_at_its_origin() {
        assert_eq!(
            Endpoints::resolve(None, Some("http://127.0.0.1:8080/api/v2/")).unwrap(),
            Endpoints {
                api_root: "http://127.0.0.1:8080/api/v2".into(),
                token_url: "http://127.0.0.1:8080/oauth/token".into(),
                default_audience: "http://127.0.0.1:8080/api/v2/".into(),
            }
        );
    }

    #[test]
    fn plain_http_is_allowed_only_to_loopback() {
        for allowed in [
            "http://127.0.0.1:1/api/v2",
            "http://127.8.9.10/api/v2",
            "http://[::1]:8080/api/v2",
            "http://localhost:3000/api/v2",
            "http://LOCALHOST/api/v2",
            "https://proxy.internal/api/v2",
        ] {
            assert!(Endpoints::resolve(None, Some(allowed)).is_ok(), "{allowed}");
        }
        for refused in [
            "http://example.auth0.com/api/v2",
            "http://10.0.0.1/api/v2",
            "http://[::2]/api/v2",
            "http://localhost.example.com/api/v2",
            "http://127.0.0.1.nip.io/api/v2",
        ] {
            let error = config_error(Endpoints::resolve(None, Some(refused)));
            assert_eq!(error.setting(), "base_url", "{refused}: {error}");
            assert!(
                error
                    .to_string()
                    .contains("plain http to a host that is not loopback"),
                "{refused}: {error}"
            );
        }
        let ftp = config_error(Endpoints::resolve(None, Some("ftp://x/api")));
        assert_eq!(ftp.setting(), "base_url");
        assert!(ftp.to_string().contains("not http or https"), "{ftp}");
    }

    #[test]
    fn exactly_one_place_for_the_api() {
        let neither = config_error(Endpoints::resolve(None, None));
        assert_eq!(neither.setting(), "domain");
        assert_eq!(neither.to_string(), "no API: call domain(..) or base_url(..)");
        let both = config_error(Endpoints::resolve(
            Some("a.auth0.com"),
            Some("https://a.auth0.com/api/v2"),
        ));
        assert_eq!(both.setting(), "domain");
        assert_eq!(both.to_string(), "choose one of domain(..) and base_url(..)");
    }

    #[test]
    fn each_refusal_of_build_names_the_setting_to_fix() {
        let api = || Client::builder().domain("example.eu.auth0.com");
        let authenticated = || api().token("TOKEN");
        #[rustfmt::skip]
        let table = [
            (authenticated().timeout(Duration::ZERO), "timeout", "timeout must be longer than zero"),
            (authenticated().max_response_size(0), "max_response_size", "max_response_size must be at least one byte"),
            (
                authenticated().connect_timeout(Duration::from_secs(1)).http_client(reqwest::Client::new()),
                "connect_timeout",
                "connect_timeout cannot be combined with http_client: set it on your reqwest client",
            ),
            (api().token(""), "token", "token(..) must be a non-empty access token without control characters"),
            (api(), "client_credentials", "no credentials: call client_credentials(..), token(..) or token_provider(..)"),
            (
                authenticated().client_credentials("id", "secret"),
                "client_credentials",
                "choose one of client_credentials(..), token(..) and token_provider(..)",
            ),
            (authenticated().user_agent("line\nbreak"), "user_agent", "user_agent must be visible ASCII"),
            (Client::builder().token("TOKEN"), "domain", "no API: call domain(..) or base_url(..)"),
        ];
        for (builder, setting, problem) in table {
            let error = builder.build().unwrap_err();
            assert_eq!(error.to_string(), format!("invalid configuration: {problem}"));
            let Error::Config(error) = error else {
                panic!("expected a configuration error, got {error:?}")
            };
            assert_eq!((error.setting(), error.problem()), (setting, problem));
            assert!(std::error::Error::source(&error).is_none(), "{error:?}");
        }
    }

    #[test]
    fn a_base_url_that_is_not_a_url_keeps_the_parsers_error_as_its_source() {
        let error = config_error(Endpoints::resolve(None, Some("not-a-url")));
        assert_eq!(error.setting(), "base_url");
        let source = std::error::Error::source(&error).expect("the parser's error");
        assert_eq!(
            error.to_string(),
            format!("base_url \"not-a-url\" is not a URL: {source}")
        );
        assert!(source.is::<url::ParseError>(), "{source:?}");
    }
}
