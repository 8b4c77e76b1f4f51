//! A typed client for the client-grant operations of Auth0's Management API.
//!
//! See the README for the whole story; in short:
//!
//! ```no_run
//! use auth0_client_grants::Client;
//!
//! # async fn example() -> Result<(), auth0_client_grants::Error> {
//! let client = Client::builder()
//!     .domain("example.eu.auth0.com")
//!     .client_credentials("CLIENT_ID", "CLIENT_SECRET")
//!     .build()?;
//! let grant = client.client_grants().get("cgr_123").await?;
//! println!("{grant:?}");
//! # Ok(())
//! # }
//! ```

mod client;
mod client_grants;
mod clock;
mod error;
mod generated;
mod rate_limit;
mod retry;
mod telemetry;
mod token;
mod transport;
mod validate;

pub use client::{
    Client, ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, DEFAULT_TOKEN_REFRESH_MARGIN,
};
pub use client_grants::ClientGrants;
pub use clock::{Clock, Sleep, SystemClock};
pub use error::{ApiError, DecodeError, Error, InvalidInput, TokenError, TransportError};
pub use generated::types::ClientGrant;
pub use rate_limit::RateLimit;
pub use retry::RetryPolicy;
pub use token::{AccessToken, TokenFuture, TokenProvider};
