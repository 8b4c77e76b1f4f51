//! What grants as code reads of the tenant besides its grants: the applications and the APIs
//! that grants name, through the bindings' read-only lookups.

use std::collections::HashMap;

use auth0_client_grants::{Client, ClientSummary, Error, ResourceServer};
use futures_util::TryStreamExt;

/// Every application of the tenant (`GET /clients`, scope `read:clients`), in one checkpoint
/// walk of 100 a page, so that none is skipped or seen twice while the list changes.
pub(crate) async fn applications(client: &Client) -> Result<Vec<ClientSummary>, Error> {
    client.clients().list().take(100).stream().try_collect().await
}

/// The API whose identifier is `identifier`, or `None` when the tenant has none; needs
/// `read:resource_servers`.
pub(crate) async fn api(client: &Client, identifier: &str) -> Result<Option<ResourceServer>, Error> {
    match client.resource_servers().get(identifier).await {
        Ok(api) => Ok(Some(api)),
        Err(error) if error.is_not_found() => Ok(None),
        Err(error) => Err(error),
    }
}

/// The scopes each API defines, by identifier (`None` for an identifier that names no API), or
/// `None` as a whole when the credentials may not read APIs.
pub(crate) async fn api_scopes<'a>(
    client: &Client,
    identifiers: impl IntoIterator<Item = &'a str>,
) -> Result<Option<HashMap<String, Option<Vec<String>>>>, Error> {
    let mut apis = HashMap::new();
    for identifier in identifiers {
        if apis.contains_key(identifier) {
            continue;
        }
        let scopes = match api(client, identifier).await {
            Ok(api) => api.map(|api| api.scopes.into_iter().map(|scope| scope.value).collect()),
            Err(error) if is_forbidden(&error) => return Ok(None),
            Err(error) => return Err(error),
        };
        apis.insert(identifier.to_owned(), scopes);
    }
    Ok(Some(apis))
}

/// The credentials lack the permission a read needs: Auth0 answers 403 (`insufficient_scope`).
pub(crate) fn is_forbidden(error: &Error) -> bool {
    error.status() == Some(403)
}
