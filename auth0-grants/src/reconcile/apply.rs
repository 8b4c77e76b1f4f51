//! Applying a plan: in its order (creates before associations, dissociations before deletes),
//! idempotent and convergent. A create that meets a 409 (someone created the grant meanwhile)
//! brings that grant in line; a delete or dissociation of what is gone, and an association that
//! exists, are done; an update reads the grant first and writes what differs now, so a change
//! made since the plan is never overwritten blindly. A failure stops the apply and says what
//! was done; running it again converges.

use std::collections::HashMap;

use auth0_client_grants::{Client, ClientGrant, ClientGrantUpdate, Error};
use serde::Serialize;

use super::desired::{DesiredGrant, DesiredState, GrantKey};
use super::plan::{Change, FieldChange, Plan, field_changes};
use super::{Progress, ReconcileError};

/// What an apply did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ApplyReport {
    /// The changes written.
    pub applied: Vec<Change>,
    /// The changes found already made: a grant created meanwhile (then brought in line), a
    /// grant or association already gone, an association that existed.
    pub already_done: Vec<Change>,
    /// Grants that had changed since the plan: planned again, and what differed then written.
    pub replanned: Vec<GrantKey>,
}

/// An apply that stopped: what it did before, the change that failed, and why.
#[derive(Debug, thiserror::Error)]
#[error("apply stopped at {} after {} changes written: {source}", describe(.failed), .done.applied.len())]
#[non_exhaustive]
pub struct ApplyError {
    /// What was done before the failure.
    pub done: ApplyReport,
    /// The change that failed; it may or may not have taken effect (a create that timed out).
    pub failed: Change,
    /// Why: the bindings' error for a read or write that failed, or a plan that does not fit
    /// the desired state it was applied with.
    #[source]
    pub source: ReconcileError,
}

fn describe(change: &Change) -> String {
    match change {
        Change::Create { key, .. } => format!("create {key}"),
        Change::Update { id, .. } => format!("update {id}"),
        Change::Recreate { id, .. } => format!("recreate {id}"),
        Change::Delete { id, .. } => format!("delete {id}"),
        Change::Associate {
            key, organization_id, ..
        } => format!("associate {organization_id} with {key}"),
        Change::Dissociate {
            id, organization_id, ..
        } => format!("dissociate {organization_id} from {id}"),
    }
}

/// Whether a change was written or found done.
enum Outcome {
    Written,
    AlreadyDone,
}

pub(super) async fn apply(
    client: &Client,
    desired: &DesiredState,
    plan: &Plan,
    progress: Option<&(dyn Fn(Progress) + Sync)>,
) -> Result<ApplyReport, ApplyError> {
    let mut report = ApplyReport::default();
    // The ids of the grants this apply created, for their associations.
    let mut created: HashMap<GrantKey, String> = HashMap::new();
    let total = plan.changes().len();
    for (done, change) in plan.changes().iter().enumerate() {
        if let Some(progress) = progress {
            progress(Progress::Applied { done, total });
        }
        match apply_one(client, desired, change, &mut created, &mut report).await {
            Ok(Outcome::Written) => report.applied.push(change.clone()),
            Ok(Outcome::AlreadyDone) => report.already_done.push(change.clone()),
            Err(source) => {
                return Err(ApplyError {
                    done: report,
                    failed: change.clone(),
                    source,
                });
            }
        }
    }
    if let Some(progress) = progress {
        progress(Progress::Applied { done: total, total });
    }
    Ok(report)
}

async fn apply_one(
    client: &Client,
    desired: &DesiredState,
    change: &Change,
    created: &mut HashMap<GrantKey, String>,
    report: &mut ApplyReport,
) -> Result<Outcome, ReconcileError> {
    let grants = client.client_grants();
    match change {
        Change::Create { key, grant } => {
            let (id, outcome) = create_or_adopt(client, grant, report).await?;
            created.insert(key.clone(), id);
            Ok(outcome)
        }
        Change::Recreate { id, key, grant, .. } => {
            let (new_id, _) = create_or_adopt(client, grant, report).await?;
            created.insert(key.clone(), new_id);
            grants.delete(id).await.or_else(gone)?;
            Ok(Outcome::Written)
        }
        Change::Update { id, key, fields } => {
            let grant = wanted(desired, key)?;
            let current = match grants.get(id).await {
                Ok(current) => current,
                // Deleted since the plan: it is wanted, so it is created again.
                Err(error) if error.is_not_found() => {
                    report.replanned.push(key.clone());
                    let (new_id, _) = create_or_adopt(client, grant, report).await?;
                    // The plan associates only what the old grant lacked; the new one lacks all.
                    for organization_id in &grant.organizations {
                        associate(client, organization_id, &new_id).await?;
                    }
                    created.insert(key.clone(), new_id);
                    return Ok(Outcome::Written);
                }
                Err(error) => return Err(error.into()),
            };
            let now = field_changes(&current, grant);
            if &now != fields {
                report.replanned.push(key.clone());
            }
            if now.is_empty() {
                return Ok(Outcome::AlreadyDone);
            }
            update(client, &current, &now, grant).await?;
            Ok(Outcome::Written)
        }
        Change::Associate {
            id,
            key,
            organization_id,
        } => {
            // A grant this apply created (or created again) wins over the plan's id.
            let Some(id) = created.get(key).cloned().or_else(|| id.clone()) else {
                return Err(ReconcileError::Mismatch(format!(
                    "the association of {organization_id} names {key}, which this apply did not create"
                )));
            };
            Ok(associate(client, organization_id, &id).await?)
        }
        Change::Dissociate {
            id, organization_id, ..
        } => {
            let removed = client
                .organization(organization_id.clone())
                .client_grants()
                .remove(id)
                .await;
            Ok(removed.map(|()| Outcome::Written).or_else(gone_outcome)?)
        }
        Change::Delete { id, .. } => Ok(grants
            .delete(id)
            .await
            .map(|()| Outcome::Written)
            .or_else(gone_outcome)?),
    }
}

/// Associates; one already associated (a 409) is done.
async fn associate(client: &Client, organization_id: &str, grant_id: &str) -> Result<Outcome, Error> {
    let grants = client.organization(organization_id.to_owned()).client_grants();
    match grants.associate(grant_id).await {
        Ok(_) => Ok(Outcome::Written),
        Err(error) if error.is_conflict() => Ok(Outcome::AlreadyDone),
        Err(error) => Err(error),
    }
}

fn gone(error: Error) -> Result<(), Error> {
    if error.is_not_found() { Ok(()) } else { Err(error) }
}

fn gone_outcome(error: Error) -> Result<Outcome, Error> {
    gone(error).map(|()| Outcome::AlreadyDone)
}

fn wanted<'a>(desired: &'a DesiredState, key: &GrantKey) -> Result<&'a DesiredGrant, ReconcileError> {
    desired
        .grants
        .iter()
        .find(|grant| grant.key() == *key)
        .ok_or_else(|| {
            ReconcileError::Mismatch(format!(
                "{key} is not in the desired state this plan is applied with"
            ))
        })
}

/// Creates `grant`; if it exists already (a 409: someone created it since the plan), finds it
/// and brings it in line.
async fn create_or_adopt(
    client: &Client,
    grant: &DesiredGrant,
    report: &mut ApplyReport,
) -> Result<(String, Outcome), Error> {
    let grants = client.client_grants();
    let conflict = match grants.create(grant.to_new()).await {
        Ok(created) => return Ok((created.id, Outcome::Written)),
        Err(error) if error.is_conflict() => error,
        Err(error) => return Err(error),
    };
    let existing = find(client, grant).await?.ok_or(conflict)?;
    report.replanned.push(grant.key());
    let fields = field_changes(&existing, grant);
    if !fields.is_empty() {
        update(client, &existing, &fields, grant).await?;
    }
    Ok((existing.id, Outcome::AlreadyDone))
}

async fn find(client: &Client, grant: &DesiredGrant) -> Result<Option<ClientGrant>, Error> {
    use futures_util::TryStreamExt;
    let mut list = client
        .client_grants()
        .list()
        .audience(grant.audience.clone())
        .subject_type(grant.subject_type.clone());
    if let Some(client_id) = &grant.client_id {
        list = list.client_id(client_id.clone());
    }
    if let Some(group) = &grant.default_for {
        list = list.default_for(group.clone());
    }
    let key = grant.key();
    let found: Vec<ClientGrant> = list.stream().try_collect().await?;
    Ok(found.into_iter().find(|candidate| GrantKey::of(candidate) == key))
}

/// Sets `fields` of `current` to what `grant` says. A grant that goes from every scope back to
/// listed ones takes the two writes Auth0 accepts: `{"allow_all_scopes": false, "scope": []}`,
/// then the scopes with the rest.
async fn update(
    client: &Client,
    current: &ClientGrant,
    fields: &[FieldChange],
    grant: &DesiredGrant,
) -> Result<(), Error> {
    let grants = client.client_grants();
    let leaves_all_scopes = current.allow_all_scopes == Some(true)
        && grant.allow_all_scopes == Some(false)
        && !grant.scope.is_empty();
    if !leaves_all_scopes {
        grants.update(&current.id, update_for(fields, grant)).await?;
        return Ok(());
    }
    let first = ClientGrantUpdate::new()
        .allow_all_scopes(false)
        .scope(Vec::<String>::new());
    grants.update(&current.id, first).await?;
    let rest: Vec<FieldChange> = fields
        .iter()
        .filter(|field| field.field != "allow_all_scopes")
        .cloned()
        .collect();
    grants.update(&current.id, update_for(&rest, grant)).await?;
    Ok(())
}

/// The update that sets `fields` to what `grant` says.
fn update_for(fields: &[FieldChange], grant: &DesiredGrant) -> ClientGrantUpdate {
    let mut update = ClientGrantUpdate::new();
    for field in fields {
        update = match field.field {
            "scope" => update.scope(grant.scope.clone()),
            "organization_usage" => match &grant.organization_usage {
                Some(usage) => update.organization_usage(usage.clone()),
                None => update,
            },
            "allow_any_organization" => match grant.allow_any_organization {
                Some(allow) => update.allow_any_organization(allow),
                None => update,
            },
            "allow_all_scopes" => match grant.allow_all_scopes {
                Some(allow) => update.allow_all_scopes(allow),
                None => update,
            },
            "authorization_details_types" => match &grant.authorization_details_types {
                Some(types) => update.authorization_details_types(types.clone()),
                None => update,
            },
            _ => update,
        };
    }
    update
}
