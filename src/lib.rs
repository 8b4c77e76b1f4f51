#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

mod call;
mod client;
mod client_grants;
mod clock;
mod error;
#[cfg(test)]
mod fuzz_inputs;
mod generated;
mod hooks;
mod list;
mod list_answers;
#[cfg(feature = "mock")]
#[cfg_attr(docsrs, doc(cfg(feature = "mock")))]
pub mod mock;
mod models;
mod operations;
mod organizations;
mod pacing;
mod pagination;
mod path_segment;
mod rate_limit;
mod requests;
mod response_limits;
mod retry;
mod send;
mod telemetry;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
mod token;
mod validate;

pub use client::{
    Client, ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, DEFAULT_TOKEN_REFRESH_MARGIN,
};
pub use client_grants::{
    ClientGrantQuery, ClientGrants, GrantOrganizationQuery, ListClientGrants, ListGrantOrganizations,
};
pub use clock::{Clock, Sleep, SystemClock};
pub use error::{
    ApiError, ConfigError, DecodeError, Error, HeldBackError, InvalidInput, PaginationError,
    PaginationErrorKind, RedirectError, TokenError, TransportError,
};
pub use generated::types::{
    ClientGrant, Organization, OrganizationClientAssociation, OrganizationClientGrant,
};
// Every open enum build.rs makes, so that one made from an enum Auth0 adds later is public too.
pub use list::{DEFAULT_PER_PAGE, DEFAULT_TAKE, List};
pub use models::*;
pub use organizations::{ListOrganizationClientGrants, OrganizationClientGrants, OrganizationHandle};
pub use pagination::{OffsetPage, Page};
pub use rate_limit::RateLimit;
pub use requests::{ClientGrantUpdate, NewClientGrant};
pub use response_limits::DEFAULT_MAX_ANSWER_SIZE;
pub use retry::RetryPolicy;
pub use token::{AccessToken, TokenFuture, TokenProvider};
