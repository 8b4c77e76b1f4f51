//! A fake Auth0 tenant for tests (feature `testing`): an in-process Management API on a
//! loopback port that behaves like Auth0 for everything this crate covers.
//!
//! ```no_run
//! use auth0_client_grants::NewClientGrant;
//! use auth0_client_grants::testing::FakeTenant;
//!
//! # async fn example() -> Result<(), auth0_client_grants::Error> {
//! let tenant = FakeTenant::start().await;
//! let client = tenant.client();
//! let grant = client
//!     .client_grants()
//!     .create(NewClientGrant::new("my-app", "https://api.example.com/"))
//!     .await?;
//! assert_eq!(tenant.grants().len(), 1);
//! assert!(client.client_grants().create(NewClientGrant::new("my-app", "https://api.example.com/")).await.unwrap_err().is_conflict());
//! # let _ = grant;
//! # Ok(())
//! # }
//! ```

mod bucket;
mod directory;
mod failure;
mod faults;
mod routes;
mod server;
mod store;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

pub use bucket::{RateLimitReset, RateLimitSettings};
use failure::Failure;
use store::Store;
use tokio::sync::watch;

use crate::client::locked;
use crate::{Client, ClientBuilder, ClientGrant, ClientSummary, Organization, ResourceServer};

/// Every scope the operations need, the lookups' included; the fake tenant's application has
/// them all by default, and they are the scopes of its Management API.
pub const ALL_SCOPES: [&str; 10] = [
    "read:client_grants",
    "create:client_grants",
    "update:client_grants",
    "delete:client_grants",
    "read:organization_client_grants",
    "create:organization_client_grants",
    "delete:organization_client_grants",
    "read:organizations",
    "read:clients",
    "read:resource_servers",
];

/// A fault the fake tenant injects into the next API requests (`/api/v2/…`, not
/// `/oauth/token`), for testing retries and error handling.
///
/// Each variant says whether the request is *carried out* (the grant is created, changed or
/// deleted as without the fault) or refused before it takes effect.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer with this status and Auth0's error body; the request is not carried out.
    Status(u16),
    /// Answer 429 with Auth0's rate-limit body and `Retry-After: {seconds}`; the request is
    /// not carried out.
    RetryAfterSeconds(u64),
    /// Answer 429 with Auth0's rate-limit body and `Retry-After` as the HTTP date of this
    /// time (in whole seconds); the request is not carried out. The fault carries the time
    /// so that a test whose client runs on its own clock can pick it.
    RetryAfterDate(SystemTime),
    /// Answer 429 with Auth0's rate-limit body and, instead of `Retry-After`, only
    /// `X-RateLimit-Limit: 10`, `X-RateLimit-Remaining: 0` and `X-RateLimit-Reset` at this
    /// time (UNIX seconds); the request is not carried out.
    RateLimitReset(SystemTime),
    /// Wait this long, then carry out the request and answer. The request is carried out
    /// even if the client has given up and closed the connection by then (as a server
    /// does): a create that stalls past the client's timeout is applied, its response lost.
    Hang(Duration),
    /// Close the connection without a response; the request is not carried out.
    CloseConnection,
    /// Reset the connection (a TCP RST) without a response; the request is not carried out.
    ResetConnection,
    /// Carry out the request, send the status and headers with the full `Content-Length`
    /// and the first half of the body, then drop the connection: the client sees the body
    /// break off. A response without a body (a 204) has nothing to cut and is sent whole.
    CloseMidBody,
    /// Carry out the request and answer its status with the first half of its body and a
    /// matching `Content-Length`: a complete HTTP response whose JSON is cut off.
    TruncateBody,
    /// Carry out the request and answer its status with this `Content-Type` and body
    /// instead of its own: malformed JSON, an HTML error page, nothing. A 204 still goes
    /// out without a body (HTTP allows none), so a delete meets no fault.
    ReplaceBody {
        /// The `Content-Type` header sent.
        content_type: String,
        /// The body sent, with a matching `Content-Length`.
        body: Vec<u8>,
    },
}

/// One request the fake tenant received, for assertions. Tokens and secrets are never kept.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path as sent, percent-encoding included (`/api/v2/client-grants/cgr_1`).
    pub path: String,
    /// The query string as sent, if any.
    pub query: Option<String>,
    /// The JSON body, if the request had one (never for `/oauth/token`).
    pub body: Option<serde_json::Value>,
    /// The status answered; `None` while in progress or when the connection was closed.
    pub status: Option<u16>,
}

/// Configures a [`FakeTenant`]. The defaults: the application `fake-client-id` with secret
/// `fake-client-secret` and every scope in [`ALL_SCOPES`], tokens valid for 24 hours, no
/// rate limit.
#[derive(Debug, Clone)]
pub struct FakeTenantBuilder {
    settings: Settings,
    rate_limit: Option<RateLimitSettings>,
}

#[derive(Debug, Clone)]
struct Settings {
    client_id: String,
    client_secret: String,
    scopes: Vec<String>,
    token_lifetime: Duration,
    reset_means: RateLimitReset,
    retry_after: bool,
    token_endpoint_limited: bool,
    latency: Duration,
}

impl FakeTenantBuilder {
    /// The machine-to-machine application allowed to get tokens.
    #[must_use]
    pub fn application(mut self, client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        self.settings.client_id = client_id.into();
        self.settings.client_secret = client_secret.into();
        self
    }

    /// The scopes the application's tokens carry; an operation whose scope is missing
    /// answers 403 as Auth0 does.
    #[must_use]
    pub fn scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.settings.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// How long issued tokens are valid (`expires_in`). Default: 24 hours, as Auth0's.
    #[must_use]
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.settings.token_lifetime = lifetime;
        self
    }

    /// Limit API requests with a token bucket, as Auth0 does; every response then carries
    /// `X-RateLimit-*` and a refused one is a 429 with `Retry-After`. Default: no limit.
    ///
    /// Several [`Client`]s built separately ([`client_builder`](FakeTenant::client_builder)
    /// twice) share this one bucket as separate programs share a tenant's: each has its own
    /// token and its own pacing, and each sees the others' requests only in the headers.
    #[must_use]
    pub fn rate_limit(mut self, settings: RateLimitSettings) -> Self {
        self.rate_limit = Some(settings);
        self
    }

    /// What `X-RateLimit-Reset` announces (see [`RateLimitReset`]). Default:
    /// [`RateLimitReset::WhenFull`], as Auth0 documents it.
    #[must_use]
    pub fn rate_limit_reset(mut self, meaning: RateLimitReset) -> Self {
        self.settings.reset_means = meaning;
        self
    }

    /// Whether a 429 of the rate limit carries `Retry-After` (whole seconds until one more
    /// request is allowed). Default: yes. Auth0 does not promise it; without it a client has
    /// only the `X-RateLimit-*` headers to go by.
    #[must_use]
    pub fn rate_limit_retry_after(mut self, sent: bool) -> Self {
        self.settings.retry_after = sent;
        self
    }

    /// Whether `POST /oauth/token` counts against the same bucket as the API, answering 429
    /// (with the Authentication API's body) when it is empty. Default: no.
    #[must_use]
    pub fn rate_limit_token_endpoint(mut self, limited: bool) -> Self {
        self.settings.token_endpoint_limited = limited;
        self
    }

    /// Network latency each way: every request reaches the tenant `latency` after it is sent,
    /// and its response leaves `latency` after the tenant made it. Default: none.
    #[must_use]
    pub fn latency(mut self, latency: Duration) -> Self {
        self.settings.latency = latency;
        self
    }

    /// Starts the tenant on a free loopback port.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound, or outside a tokio runtime.
    pub async fn start(self) -> FakeTenant {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("the fake tenant needs a free port on 127.0.0.1");
        let address = listener.local_addr().expect("a bound socket has an address");
        let now = Instant::now();
        let origin = format!("http://{address}");
        let directory = directory::Directory::new(
            &self.settings.client_id,
            &format!("{origin}/api/v2/"),
            &ALL_SCOPES,
        );
        let tenant = Arc::new(Tenant {
            origin,
            settings: self.settings,
            state: Mutex::new(State {
                store: Store::default(),
                directory,
                tokens: HashMap::new(),
                faults: VecDeque::new(),
                bucket: self.rate_limit.map(|settings| bucket::Bucket::new(settings, now)),
                requests: Vec::new(),
            }),
        });
        let (shutdown, stop) = watch::channel(false);
        tokio::spawn(server::serve(listener, routes::router(tenant.clone()), stop));
        FakeTenant {
            tenant,
            address,
            _shutdown: shutdown,
        }
    }
}

/// An in-process fake of one Auth0 tenant's client-grant API, for tests. It stops when dropped.
///
/// It serves `POST /oauth/token` (client credentials; tokens expire; a wrong secret is a 401
/// with Auth0's token error body), the two read-only lookups (the applications, paged and
/// with `fields`, and the APIs by id or identifier: see [`add_client`](Self::add_client) and
/// [`add_api`](Self::add_api)) and the nine client-grant operations with Auth0's rules: `cgr_`
/// ids, 201 on create, 409 for a second grant of the same client, audience and subject type, 404
/// for an unknown grant, 204 on delete (also when already gone), `is_system` grants that
/// cannot be changed, organization associations (409 when repeated, at most 100), every
/// filter, the three list shapes, checkpoint cursors, offset totals and the validation
/// limits, with Auth0's error bodies. Every API call checks its bearer token (missing or
/// unknown: 401) and scope (403). Rate limiting and injected faults are opt-in.
#[derive(Debug)]
pub struct FakeTenant {
    tenant: Arc<Tenant>,
    address: SocketAddr,
    _shutdown: watch::Sender<bool>,
}

impl FakeTenant {
    /// Starts a tenant with the default settings (see [`FakeTenantBuilder`]).
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound, or outside a tokio runtime.
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    /// Configures a tenant before starting it.
    pub fn builder() -> FakeTenantBuilder {
        FakeTenantBuilder {
            settings: Settings {
                client_id: "fake-client-id".into(),
                client_secret: "fake-client-secret".into(),
                scopes: ALL_SCOPES.iter().map(|scope| (*scope).to_owned()).collect(),
                token_lifetime: Duration::from_secs(86_400),
                reset_means: RateLimitReset::WhenFull,
                retry_after: true,
                token_endpoint_limited: false,
                latency: Duration::ZERO,
            },
            rate_limit: None,
        }
    }

    /// The address the tenant listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The API root, `http://127.0.0.1:{port}/api/v2`, for [`ClientBuilder::base_url`].
    pub fn base_url(&self) -> String {
        format!("{}/api/v2", self.tenant.origin)
    }

    /// The application id that may get tokens.
    pub fn client_id(&self) -> &str {
        &self.tenant.settings.client_id
    }

    /// The application secret that may get tokens.
    pub fn client_secret(&self) -> &str {
        &self.tenant.settings.client_secret
    }

    /// A builder already pointed at this tenant with its client credentials, for adding
    /// retry, timeout or clock settings.
    pub fn client_builder(&self) -> ClientBuilder {
        Client::builder()
            .base_url(self.base_url())
            .client_credentials(self.client_id(), self.client_secret())
    }

    /// A client pointed at this tenant with its client credentials and default settings.
    ///
    /// # Panics
    ///
    /// Never in practice: the configuration is always valid.
    pub fn client(&self) -> Client {
        self.client_builder()
            .build()
            .expect("a loopback base URL and client credentials make a valid client")
    }

    /// Issues an access token with exactly `scopes`, without a token request: for testing
    /// what a token lacking a scope gets (403).
    pub fn issue_token<S: Into<String>>(&self, scopes: impl IntoIterator<Item = S>) -> String {
        self.tenant
            .issue_token(scopes.into_iter().map(Into::into).collect())
            .0
    }

    /// Creates `count` grants for the clients `seed-client-0`, `seed-client-1`, … and the
    /// audience `https://seed.example.com/`, and returns them.
    pub fn seed_grants(&self, count: usize) -> Vec<ClientGrant> {
        let mut state = self.tenant.state();
        (0..count)
            .map(|n| {
                let grant = ClientGrant::builder()
                    .id(String::new())
                    .audience("https://seed.example.com/")
                    .client_id(Some(format!("seed-client-{n}")))
                    .scope(vec!["read:things".to_owned()])
                    .subject_type(Some(crate::SubjectType::Client));
                state
                    .store
                    .insert(grant.try_into().expect("id and audience are set"))
            })
            .collect()
    }

    /// Stores `grant` as it is (an `is_system` grant, say); an empty `id` gets a new one.
    pub fn insert_grant(&self, grant: ClientGrant) -> ClientGrant {
        self.tenant.state().store.insert(grant)
    }

    /// Creates an organization that grants can be associated with.
    pub fn add_organization(&self, name: &str) -> Organization {
        self.tenant.state().store.add_organization(name, None)
    }

    /// Stores `organization` as it is (with an id of your choosing, say); an empty `id` gets
    /// a new one.
    pub fn insert_organization(&self, organization: Organization) -> Organization {
        self.tenant.state().store.insert_organization(organization)
    }

    /// Associates the grant `grant_id` with the organization `organization_id` as
    /// `POST /organizations/{id}/client-grants` does, without a request (no token, no rate
    /// limit): for seeding a tenant with many associations.
    ///
    /// # Panics
    ///
    /// If the grant or the organization does not exist, they are associated already, or the
    /// organization holds 100 grants: the API refuses each of these.
    pub fn associate(&self, organization_id: &str, grant_id: &str) {
        let associated = self
            .tenant
            .state()
            .store
            .associate(organization_id, serde_json::json!({ "grant_id": grant_id }));
        if let Err(refused) = associated {
            panic!("cannot associate {grant_id} with {organization_id}: {refused:?}");
        }
    }

    /// Adds a machine-to-machine application named `name` with a new client id, and returns
    /// it as `GET /clients` lists it. Names need not be unique, as in Auth0. The tenant starts
    /// with one application: its own, whose credentials [`client`](Self::client) uses.
    pub fn add_client(&self, name: &str) -> ClientSummary {
        self.tenant.state().directory.add_client(name)
    }

    /// Adds an API (a resource server) with this identifier (the audience grants name) and
    /// these scopes, and returns it as `GET /resource-servers/{id}` sends it. The tenant
    /// starts with one API: the Management API itself, `{base_url}/`, a system API whose
    /// scopes are [`ALL_SCOPES`].
    ///
    /// # Panics
    ///
    /// If an API already has this identifier: Auth0 refuses a second one.
    pub fn add_api<S: Into<String>>(
        &self,
        identifier: &str,
        scopes: impl IntoIterator<Item = S>,
    ) -> ResourceServer {
        let scopes: Vec<String> = scopes.into_iter().map(Into::into).collect();
        self.tenant.state().directory.add_api(identifier, &scopes)
    }

    /// Adds an application with a client id of your choosing (`billing-service`, say) and
    /// `name`, and returns it as `GET /clients` lists it.
    ///
    /// # Panics
    ///
    /// If an application already has this client id: Auth0 never gives out one twice.
    pub fn insert_client(&self, client_id: &str, name: &str) -> ClientSummary {
        self.tenant
            .state()
            .directory
            .insert_client_with_id(client_id, name)
    }

    /// The applications the tenant holds now, oldest first.
    pub fn clients(&self) -> Vec<ClientSummary> {
        self.tenant.state().directory.clients()
    }

    /// The grants the tenant holds now, oldest first.
    pub fn grants(&self) -> Vec<ClientGrant> {
        self.tenant.state().store.grants()
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.tenant.state().requests.clone()
    }

    /// How many token requests (`POST /oauth/token`) were received.
    pub fn token_requests(&self) -> usize {
        self.tenant
            .state()
            .requests
            .iter()
            .filter(|request| request.path == "/oauth/token")
            .count()
    }

    /// Makes the next `times` API requests meet `fault` instead of their normal response.
    pub fn inject(&self, times: usize, fault: Fault) {
        self.tenant
            .state()
            .faults
            .extend(std::iter::repeat_n(fault, times));
    }
}

/// What the server tasks and the [`FakeTenant`] handle share.
#[derive(Debug)]
pub(crate) struct Tenant {
    origin: String,
    settings: Settings,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    store: Store,
    directory: directory::Directory,
    tokens: HashMap<String, IssuedToken>,
    faults: VecDeque<Fault>,
    bucket: Option<bucket::Bucket>,
    requests: Vec<RecordedRequest>,
}

#[derive(Debug)]
struct IssuedToken {
    scopes: Vec<String>,
    expires_at: Instant,
}

impl Tenant {
    fn state(&self) -> MutexGuard<'_, State> {
        locked(&self.state)
    }

    /// The applications and APIs, locked for one operation.
    pub(crate) fn directory(&self) -> DirectoryGuard<'_> {
        DirectoryGuard(self.state())
    }

    /// The store, locked for one operation.
    pub(crate) fn store(&self) -> StoreGuard<'_> {
        StoreGuard(self.state())
    }

    /// The audience tokens must be asked for: the API root with a trailing slash.
    fn audience(&self) -> String {
        format!("{}/api/v2/", self.origin)
    }

    /// A new opaque token and its lifetime in seconds.
    fn issue_token(&self, scopes: Vec<String>) -> (String, u64) {
        let token = store::new_id("fake_at_");
        let lifetime = self.settings.token_lifetime;
        self.state().tokens.insert(
            token.clone(),
            IssuedToken {
                scopes,
                expires_at: Instant::now() + lifetime,
            },
        );
        (token, lifetime.as_secs())
    }

    fn check_token(&self, token: &str, scope: &str) -> Result<(), Failure> {
        let state = self.state();
        let issued = state
            .tokens
            .get(token)
            .ok_or_else(|| Failure::unauthorized("Invalid token"))?;
        if issued.expires_at <= Instant::now() {
            return Err(Failure::unauthorized(
                "Expired token received for JSON Web Token validation",
            ));
        }
        if !issued.scopes.iter().any(|granted| granted == scope) {
            return Err(Failure::insufficient_scope(scope));
        }
        Ok(())
    }

    fn next_fault(&self) -> Option<Fault> {
        self.state().faults.pop_front()
    }

    fn admit(&self, now: Instant) -> Option<bucket::Admission> {
        let wall = SystemTime::now();
        let meaning = self.settings.reset_means;
        self.state()
            .bucket
            .as_mut()
            .map(|bucket| bucket.admit(now, wall, meaning))
    }

    fn log(&self, request: RecordedRequest) -> usize {
        let mut state = self.state();
        state.requests.push(request);
        state.requests.len() - 1
    }

    fn log_status(&self, index: usize, status: u16) {
        if let Some(request) = self.state().requests.get_mut(index) {
            request.status = Some(status);
        }
    }
}

/// The store while one operation holds the tenant's lock.
pub(crate) struct StoreGuard<'a>(MutexGuard<'a, State>);

impl std::ops::Deref for StoreGuard<'_> {
    type Target = Store;

    fn deref(&self) -> &Store {
        &self.0.store
    }
}

impl std::ops::DerefMut for StoreGuard<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        &mut self.0.store
    }
}

/// The applications and APIs while one operation holds the tenant's lock.
pub(crate) struct DirectoryGuard<'a>(MutexGuard<'a, State>);

impl std::ops::Deref for DirectoryGuard<'_> {
    type Target = directory::Directory;

    fn deref(&self) -> &directory::Directory {
        &self.0.directory
    }
}
