//! `client.resource_servers()`: the APIs of the tenant, read-only, as grants as code needs them
//! to check a grant's scopes against those its API defines.

use crate::Client;
use crate::api::generated::types::ResourceServer;
use crate::api::operations;
use crate::api::path_segment;
use crate::error::Error;

impl Client {
    /// The APIs (resource servers) of the tenant (`/resource-servers`), read-only.
    pub fn resource_servers(&self) -> ResourceServers {
        ResourceServers { client: self.clone() }
    }
}

/// The APIs of the tenant, from [`Client::resource_servers`].
#[derive(Clone, Debug)]
pub struct ResourceServers {
    client: Client,
}

impl ResourceServers {
    /// Gets one API (`GET /resource-servers/{id}`); needs `read:resource_servers`. `id` is
    /// the API's id or its identifier (the audience a grant names, such as
    /// `https://api.example.com/`), sent as one encoded path segment. An unknown one fails with
    /// an error whose [`is_not_found()`](Error::is_not_found) is true.
    ///
    /// ```no_run
    /// # async fn example(client: auth0_client_grants::Client) -> Result<(), auth0_client_grants::Error> {
    /// let api = client.resource_servers().get("https://api.example.com/").await?;
    /// let defined: Vec<&str> = api.scopes.iter().map(|scope| scope.value.as_str()).collect();
    /// println!("{} defines {defined:?}", api.identifier);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get(&self, id: &str) -> Result<ResourceServer, Error> {
        path_segment::check("id", id)?;
        self.client
            .run(&operations::GET_RESOURCE_SERVERS_BY_ID, |api| async move {
                api.get_resource_servers_by_id().id(id).send().await
            })
            .await
    }
}
