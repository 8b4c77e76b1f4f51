//! A typed client for the client grants of Auth0's Management API: which machine-to-machine
//! applications may call which API, with which scopes, for which organizations.
//!
//! The client is generated at build time from a committed fragment of Auth0's OpenAPI
//! document; this crate adds configuration, tokens that refresh themselves, retries, pacing
//! within the tenant's rate limit, paged streams, validation and typed errors.
//!
//! ```no_run
//! use auth0_client_grants::{Client, Error, NewClientGrant};
//! use futures_util::TryStreamExt;
//!
//! # async fn example() -> Result<(), Error> {
//! let client = Client::builder()
//!     .domain("example.eu.auth0.com")
//!     .client_credentials("CLIENT_ID", "CLIENT_SECRET")
//!     .build()?;
//! let grants = client.client_grants();
//!
//! let created = grants
//!     .create(NewClientGrant::new("CLIENT_ID", "https://api.example.com/").scope(["read:things"]))
//!     .await?;
//! let all: Vec<_> = grants.list().audience("https://api.example.com/").stream().try_collect().await?;
//! match grants.get(&created.id).await {
//!     Ok(grant) => println!("{} of {} grants: {:?}", grant.id, all.len(), grant.scope),
//!     Err(error) if error.is_not_found() => println!("deleted meanwhile"),
//!     Err(error) => return Err(error),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Where to go next:
//!
//! - [`ClientBuilder`]: where the API is, how the client gets its tokens, timeouts, your own
//!   `reqwest::Client`.
//! - [`ClientGrants`] and [`OrganizationHandle`]: the operations; [`Clients`] and
//!   [`ResourceServers`]: the read-only lookups of applications and APIs; [`List`]: paging.
//! - [`Error`]: every failure, classified by what a caller can do about it.
//! - [`RetryPolicy`]: retries, and the one budget a call has for waiting on the rate limit.
//! - `testing::FakeTenant` (feature `testing`) and `mock` (feature `mock`): testing your own
//!   code without an Auth0 account.
//!
//! The crate's README is the guide: configuration, retries and rate limits, security, testing,
//! the spec pipeline, versioning. Grants as code (plan, apply, export, audit, and the
//! `auth0-grants` command) is the `auth0-grants` crate, built on this one.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

mod api;
mod client;
mod error;
#[cfg(feature = "mock")]
#[cfg_attr(docsrs, doc(cfg(feature = "mock")))]
pub mod mock;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
#[cfg(test)]
mod tests;
mod transport;

pub use api::client_grants::{
    ClientGrantQuery, ClientGrants, GrantOrganizationQuery, ListClientGrants, ListGrantOrganizations,
};
pub use api::clients::{ClientQuery, Clients, ListClients};
pub use api::generated::types::{
    ClientGrant, ClientSummary, Organization, OrganizationClientAssociation, OrganizationClientGrant,
    ResourceServer, ResourceServerScope,
};
pub use api::list::{DEFAULT_PER_PAGE, DEFAULT_TAKE, List};
// Every open enum build.rs makes, so that one made from an enum Auth0 adds later is public too.
pub use api::models::*;
pub use api::organizations::{ListOrganizationClientGrants, OrganizationClientGrants, OrganizationHandle};
pub use api::pagination::{OffsetPage, Page};
pub use api::requests::{ClientGrantUpdate, NewClientGrant};
pub use api::resource_servers::ResourceServers;
pub use client::{
    Client, ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, DEFAULT_TOKEN_REFRESH_MARGIN,
};
pub use error::{
    ApiError, ConfigError, DecodeError, Error, HeldBackError, InvalidInput, PaginationError,
    PaginationErrorKind, RedirectError, TokenError, TransportError,
};
pub use transport::clock::{Clock, Sleep, SystemClock};
pub use transport::rate_limit::RateLimit;
pub use transport::response_limits::DEFAULT_MAX_RESPONSE_SIZE;
pub use transport::retry::RetryPolicy;
pub use transport::token::{AccessToken, TokenFuture, TokenProvider};

/// The README's examples, compiled and run as doctests: the guide lives there, not in these docs.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
