//! Applying a plan: concurrently through one client, whose pacer holds the requests to the
//! tenant's rate limit, in the order that matters (see `schedule`: a grant is created before its
//! organizations are associated, dissociated before it is deleted), idempotent and convergent.
//! A create that meets a 409 (someone created the grant meanwhile) brings that grant in line; a
//! delete or dissociation of what is gone, and an association that exists, are done; an update
//! reads the grant first and writes what differs now, so a change made since the plan is never
//! overwritten blindly. A failure stops the apply cleanly: no change starts after it, those
//! running finish, and the error says what was done, what failed and what did not start;
//! running it again converges.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use auth0_client_grants::{Client, ClientGrant, ClientGrantUpdate, Error};
use serde::Serialize;

use super::desired::{DesiredGrant, DesiredState, GrantKey};
use super::plan::{Change, FieldChange, Plan, field_changes};
use super::schedule::{self, Ended};
use super::{Progress, ReconcileError};

/// How many changes an apply writes at once, and how many grants' organizations a plan or an
/// export reads at once, unless told otherwise (terraform's `-parallelism` has the same
/// default). The client's pacer holds the requests to the tenant's rate limit whatever this
/// is; it only needs to be enough to keep the allowance busy while each request crosses the
/// network (about the rate times the round trip: 15 a second at 200 ms is 3).
pub const DEFAULT_PARALLELISM: usize = 10;

/// What an apply did. Each list is in the plan's order.
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
    /// The changes that did not start, because a change failed or the apply was told to stop
    /// ([`Reconcile::stop_when`](super::Reconcile::stop_when)); empty when the apply went
    /// through. Running the apply again (or planning again) takes them up.
    pub not_started: Vec<Change>,
}

/// An apply that stopped: what it did, the change that failed and why, and what did not start.
/// No change starts after the first failure; those already running finish, and are in `done`
/// or, if they failed too, in `also_failed`.
#[derive(Debug, thiserror::Error)]
#[error(
    "apply stopped at {} after {} changes written: {source}{}",
    describe(.failed),
    .done.applied.len(),
    stopped_also(.also_failed.len(), .done.not_started.len())
)]
#[non_exhaustive]
pub struct ApplyError {
    /// What was done, and in `not_started` what did not start.
    pub done: ApplyReport,
    /// The change that failed first; it may or may not have taken effect (a create that timed
    /// out).
    pub failed: Change,
    /// Why: the bindings' error for a read or write that failed, or a plan that does not fit
    /// the desired state it was applied with.
    #[source]
    pub source: ReconcileError,
    /// Changes that were running when `failed` failed, and failed too, in the plan's order.
    pub also_failed: Vec<FailedChange>,
}

impl ApplyError {
    /// An apply refused at `change` before anything was written: every other change did not
    /// start.
    pub(super) fn refused(plan: &Plan, change: &Change, source: ReconcileError) -> Self {
        let not_started = plan
            .changes()
            .iter()
            .filter(|other| *other != change)
            .cloned()
            .collect();
        Self {
            done: ApplyReport {
                not_started,
                ..ApplyReport::default()
            },
            failed: change.clone(),
            source,
            also_failed: Vec::new(),
        }
    }
}

/// A change that failed, and why.
#[derive(Debug)]
#[non_exhaustive]
pub struct FailedChange {
    /// The change; it may or may not have taken effect.
    pub change: Change,
    /// Why it failed.
    pub error: ReconcileError,
}

impl std::fmt::Display for FailedChange {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(out, "{}: {}", describe(&self.change), self.error)
    }
}

fn stopped_also(also_failed: usize, not_started: usize) -> String {
    let mut also = Vec::new();
    if also_failed > 0 {
        also.push(format!("{also_failed} more failed"));
    }
    if not_started > 0 {
        also.push(format!("{not_started} not started"));
    }
    if also.is_empty() {
        String::new()
    } else {
        format!(" ({})", also.join(", "))
    }
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

/// What one change learned besides its outcome, kept whether it succeeded or not.
#[derive(Default)]
struct Learned {
    /// The id of the grant it created (or created again), for the grant's associations.
    created: Option<String>,
    /// Grants it found changed since the plan.
    replanned: Vec<GrantKey>,
}

/// How an apply runs: at most `parallelism` changes at a time, stopping once `stop` is true.
pub(super) struct Settings<'a> {
    pub(super) parallelism: usize,
    pub(super) progress: Option<&'a (dyn Fn(Progress) + Sync)>,
    pub(super) stop: Option<&'a AtomicBool>,
}

pub(super) async fn apply(
    client: &Client,
    desired: &DesiredState,
    plan: &Plan,
    settings: &Settings<'_>,
) -> Result<ApplyReport, ApplyError> {
    let changes = plan.changes();
    let total = changes.len();
    let report_progress = |done: usize| {
        if let Some(progress) = settings.progress {
            progress(Progress::Applied { done, total });
        }
    };
    report_progress(0);
    // The ids of the grants this apply created, by grant: a grant's associations start only
    // once its create succeeded, so the id is here when they need it. A mutex, not a cell, so
    // that the apply can run on any thread; it is never held across an await.
    let created: Mutex<HashMap<GrantKey, String>> = Mutex::new(HashMap::new());
    let created_ids = || created.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let stop = || settings.stop.is_some_and(|stop| stop.load(Ordering::Relaxed));
    let mut finished = 0;
    let ran = schedule::run(
        changes,
        settings.parallelism,
        &stop,
        |index| {
            let change = &changes[index];
            let created_id = created_ids().get(change.key()).cloned();
            async move {
                let mut learned = Learned::default();
                let outcome = apply_one(client, desired, change, created_id, &mut learned).await;
                (outcome, learned)
            }
        },
        |index, (outcome, learned)| {
            finished += 1;
            report_progress(finished);
            if let Some(id) = &learned.created {
                created_ids().insert(changes[index].key().clone(), id.clone());
            }
            match outcome {
                Ok(_) => Ended::Succeeded,
                Err(_) => Ended::Failed,
            }
        },
    )
    .await;

    let mut report = ApplyReport {
        not_started: ran
            .not_started
            .iter()
            .map(|&index| changes[index].clone())
            .collect(),
        ..ApplyReport::default()
    };
    let mut finished = ran.finished;
    finished.sort_by_key(|(index, _)| *index);
    let mut failures = Vec::new();
    for (index, (outcome, learned)) in finished {
        let change = changes[index].clone();
        report.replanned.extend(learned.replanned);
        match outcome {
            Ok(Outcome::Written) => report.applied.push(change),
            Ok(Outcome::AlreadyDone) => report.already_done.push(change),
            Err(error) => failures.push((index, FailedChange { change, error })),
        }
    }
    // The first to fail is the one that stopped the apply.
    let Some(first) = ran
        .first_failure
        .and_then(|first| failures.iter().position(|(index, _)| *index == first))
    else {
        return Ok(report);
    };
    let failed = failures.remove(first).1;
    Err(ApplyError {
        done: report,
        failed: failed.change,
        source: failed.error,
        also_failed: failures.into_iter().map(|(_, failed)| failed).collect(),
    })
}

async fn apply_one(
    client: &Client,
    desired: &DesiredState,
    change: &Change,
    created_id: Option<String>,
    learned: &mut Learned,
) -> Result<Outcome, ReconcileError> {
    let grants = client.client_grants();
    match change {
        Change::Create { grant, .. } => {
            let (id, outcome) = create_or_adopt(client, grant, learned).await?;
            learned.created = Some(id);
            Ok(outcome)
        }
        Change::Recreate { id, grant, .. } => {
            let (new_id, _) = create_or_adopt(client, grant, learned).await?;
            learned.created = Some(new_id);
            grants.delete(id).await.or_else(gone)?;
            Ok(Outcome::Written)
        }
        Change::Update { id, key, fields } => {
            let grant = wanted(desired, key)?;
            let current = match grants.get(id).await {
                Ok(current) => current,
                // Deleted since the plan: it is wanted, so it is created again.
                Err(error) if error.is_not_found() => {
                    learned.replanned.push(key.clone());
                    let (new_id, _) = create_or_adopt(client, grant, learned).await?;
                    learned.created = Some(new_id.clone());
                    // The plan associates only what the old grant lacked; the new one lacks all.
                    for organization_id in &grant.organizations {
                        associate(client, organization_id, &new_id).await?;
                    }
                    return Ok(Outcome::Written);
                }
                Err(error) => return Err(error.into()),
            };
            let now = field_changes(&current, grant);
            if &now != fields {
                learned.replanned.push(key.clone());
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
            let Some(id) = created_id.or_else(|| id.clone()) else {
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
    learned: &mut Learned,
) -> Result<(String, Outcome), Error> {
    let grants = client.client_grants();
    let conflict = match grants.create(grant.to_new()).await {
        Ok(created) => return Ok((created.id, Outcome::Written)),
        Err(error) if error.is_conflict() => error,
        Err(error) => return Err(error),
    };
    let existing = find(client, grant).await?.ok_or(conflict)?;
    learned.replanned.push(grant.key());
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
