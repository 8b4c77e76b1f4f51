//! The tenant's applications and APIs, read-only, as grants as code needs them.

use auth0_client_grants::{Client, ClientSummary, Error};
use futures_util::TryStreamExt;

/// Every application of the tenant (`GET /clients`, scope `read:clients`), in one checkpoint
/// walk of 100 a page, so that none is skipped or seen twice while the list changes.
pub(crate) async fn applications(client: &Client) -> Result<Vec<ClientSummary>, Error> {
    client.clients().list().take(100).stream().try_collect().await
}
