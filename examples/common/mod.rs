#![allow(dead_code)] // Each example uses its own part of this module.
//! How the examples connect: to the real tenant named by `AUTH0_DOMAIN`, `AUTH0_CLIENT_ID` and
//! `AUTH0_CLIENT_SECRET` when they are set, else to a fake tenant started in-process.

use auth0_client_grants::testing::FakeTenant;
use auth0_client_grants::{Client, ClientBuilder};

/// Where an example runs.
pub enum Tenant {
    /// A real Auth0 tenant, from the environment.
    Real { domain: String, client_id: String },
    /// A fake tenant in this process; it stops when dropped.
    Fake(FakeTenant),
}

impl Tenant {
    pub async fn from_environment() -> Self {
        match (
            std::env::var("AUTH0_DOMAIN"),
            std::env::var("AUTH0_CLIENT_ID"),
            std::env::var("AUTH0_CLIENT_SECRET"),
        ) {
            (Ok(domain), Ok(client_id), Ok(_)) => Self::Real { domain, client_id },
            _ => Self::Fake(FakeTenant::start().await),
        }
    }

    /// A client builder for this tenant, with its credentials.
    pub fn client_builder(&self) -> ClientBuilder {
        match self {
            Self::Real { domain, client_id } => Client::builder().domain(domain).client_credentials(
                client_id,
                std::env::var("AUTH0_CLIENT_SECRET").unwrap_or_default(),
            ),
            Self::Fake(tenant) => tenant.client_builder(),
        }
    }

    /// The machine-to-machine application the client authenticates as.
    pub fn client_id(&self) -> &str {
        match self {
            Self::Real { client_id, .. } => client_id,
            Self::Fake(tenant) => tenant.client_id(),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Self::Real { domain, .. } => format!("the Auth0 tenant {domain}"),
            Self::Fake(tenant) => format!(
                "a fake Auth0 tenant at {} (set AUTH0_DOMAIN, AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET to use a real one)",
                tenant.base_url()
            ),
        }
    }
}
