//! `client.client_grants()`: the operations on `/client-grants`.

use crate::Client;
use crate::error::Error;
use crate::generated::types::ClientGrant;
use crate::transport::Transport;
use crate::validate::path_segment;

/// The client-grant operations, from [`Client::client_grants`].
#[derive(Clone, Debug)]
pub struct ClientGrants {
    client: Client,
}

impl ClientGrants {
    pub(crate) fn new(client: Client) -> Self {
        Self { client }
    }

    /// Gets one client grant by its id (`GET /client-grants/{id}`).
    ///
    /// Needs the `read:client_grants` scope. An unknown id fails with an error whose
    /// [`is_not_found()`](Error::is_not_found) is true.
    ///
    /// ```no_run
    /// # async fn example(client: auth0_client_grants::Client) -> Result<(), auth0_client_grants::Error> {
    /// match client.client_grants().get("cgr_123").await {
    ///     Ok(grant) => println!("{:?} may call {}", grant.client_id, grant.audience),
    ///     Err(error) if error.is_not_found() => println!("no such grant"),
    ///     Err(error) => return Err(error),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get(&self, id: &str) -> Result<ClientGrant, Error> {
        path_segment("id", id)?;
        Transport::run("get_client_grant", self.client.api().get_client_grant(id)).await
    }
}
