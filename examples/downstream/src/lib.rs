//! Reconciles the client grants of one API with a desired state: creates what is missing,
//! brings scopes in line and deletes grants nobody asked for. A stand-in for the tenant
//! reconcilers that use `auth0-client-grants`; it uses only the crate's public API.

use std::collections::BTreeMap;

use auth0_client_grants::{Client, ClientGrantUpdate, Error, NewClientGrant};
use futures_util::TryStreamExt;

/// What changed in one reconciliation.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Applications that got a grant.
    pub created: Vec<String>,
    /// Applications whose scopes changed.
    pub updated: Vec<String>,
    /// Applications whose grant was deleted.
    pub deleted: Vec<String>,
}

/// Makes the grants of `audience` exactly `desired` (application id → scopes).
/// System grants are left alone.
pub async fn reconcile(
    client: &Client,
    audience: &str,
    desired: &BTreeMap<String, Vec<String>>,
) -> Result<Report, Error> {
    let grants = client.client_grants();
    // Checkpoint paging: a list that changes while we read it neither skips nor repeats.
    let existing: Vec<_> = grants.list().audience(audience).stream().try_collect().await?;
    let mut report = Report::default();
    for grant in &existing {
        let Some(client_id) = grant.client_id.clone() else {
            continue;
        };
        if grant.is_system == Some(true) {
            continue;
        }
        match desired.get(&client_id) {
            None => {
                grants.delete(&grant.id).await?;
                report.deleted.push(client_id);
            }
            Some(scopes) if sorted(&grant.scope) != sorted(scopes) => {
                grants
                    .update(&grant.id, ClientGrantUpdate::new().scope(scopes.iter().cloned()))
                    .await?;
                report.updated.push(client_id);
            }
            Some(_) => {}
        }
    }
    for (client_id, scopes) in desired {
        if existing
            .iter()
            .any(|grant| grant.client_id.as_ref() == Some(client_id))
        {
            continue;
        }
        let grant = NewClientGrant::new(client_id.clone(), audience).scope(scopes.iter().cloned());
        match grants.create(grant).await {
            Ok(_) => report.created.push(client_id.clone()),
            // Someone else created it since we listed: the next run reconciles its scopes.
            Err(error) if error.is_conflict() => {}
            Err(error) => return Err(error),
        }
    }
    Ok(report)
}

fn sorted(scopes: &[String]) -> Vec<&str> {
    let mut scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
    scopes.sort_unstable();
    scopes
}
