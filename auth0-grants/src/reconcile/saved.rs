//! Saved plans: a plan written to a file with what it was computed from, applied later exactly
//! as it was reviewed, or not at all when the tenant changed in between (as `terraform plan
//! -out` and `terraform apply PLANFILE` do).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;

use auth0_client_grants::{Client, ClientGrant};
use serde::{Deserialize, Serialize};

use super::desired::{DesiredState, GrantKey};
use super::plan::{Change, Plan, TenantState};
use super::{ApplyError, ApplyReport, Reconcile, ReconcileError, ReconcileExt};

/// What a saved plan file says it is; a file without it is not read as one.
const FORMAT: &str = "auth0-grants plan 1";

/// A plan with the desired state and mode it was made from, and what it read of every grant it
/// touches. [`to_json`](Self::to_json) writes it; [`Reconcile::apply_saved`] applies it only if
/// the tenant still has what the plan read.
///
/// ```no_run
/// use auth0_grants::reconcile::{DesiredState, ReconcileExt, SavedPlan};
///
/// # async fn example(client: auth0_client_grants::Client) -> Result<(), Box<dyn std::error::Error>> {
/// let desired = DesiredState::from_toml(&std::fs::read_to_string("grants.toml")?)?;
/// let saved = client.reconcile(&desired).save_plan().await?;
/// std::fs::write("grants.plan.json", saved.to_json())?;
/// // Later, after review:
/// let saved = SavedPlan::from_json(&std::fs::read_to_string("grants.plan.json")?)?;
/// let report = saved.reconcile(&client).apply_saved(&saved).await?;
/// # let _ = report;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SavedPlan {
    format: String,
    /// The desired state the plan was made from.
    pub desired: DesiredState,
    /// The plan, as reviewed.
    pub plan: Plan,
    /// What the plan read of every grant it touches, one entry per grant.
    pub read: Vec<ReadGrant>,
}

/// What a plan read of one grant it touches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ReadGrant {
    /// Who the grant is for.
    pub key: GrantKey,
    /// The grant as read; `None` when the tenant had no grant for the key (the plan creates it).
    pub grant: Option<GrantSeen>,
}

/// The settings of a grant a plan depends on, as the API spells them (lists sorted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct GrantSeen {
    /// The grant's id.
    pub id: String,
    /// Its scopes.
    pub scope: Vec<String>,
    /// Its `organization_usage`, if set.
    pub organization_usage: Option<String>,
    /// Its `allow_any_organization`, if set.
    pub allow_any_organization: Option<bool>,
    /// Its `allow_all_scopes`, if set.
    pub allow_all_scopes: Option<bool>,
    /// Its `authorization_details_types`.
    pub authorization_details_types: Vec<String>,
    /// The organizations it is associated with, when the plan read them.
    pub organizations: Option<Vec<String>>,
}

impl GrantSeen {
    fn of(grant: &ClientGrant, organizations: Option<&Vec<String>>) -> Self {
        let sorted = |values: &[String]| {
            let mut values = values.to_vec();
            values.sort();
            values
        };
        Self {
            id: grant.id.clone(),
            scope: sorted(&grant.scope),
            organization_usage: grant
                .organization_usage
                .as_ref()
                .map(|usage| usage.as_str().to_owned()),
            allow_any_organization: grant.allow_any_organization,
            allow_all_scopes: grant.allow_all_scopes,
            authorization_details_types: sorted(&grant.authorization_details_types),
            organizations: organizations.map(|ids| sorted(ids)),
        }
    }

    /// What differs from `now`, one `field: before → after` each.
    fn differences(&self, now: &GrantSeen) -> Vec<String> {
        let show = |value: &dyn fmt::Debug| format!("{value:?}");
        let mut fields = vec![
            ("scope", show(&self.scope), show(&now.scope)),
            (
                "organization_usage",
                show(&self.organization_usage),
                show(&now.organization_usage),
            ),
            (
                "allow_any_organization",
                show(&self.allow_any_organization),
                show(&now.allow_any_organization),
            ),
            (
                "allow_all_scopes",
                show(&self.allow_all_scopes),
                show(&now.allow_all_scopes),
            ),
            (
                "authorization_details_types",
                show(&self.authorization_details_types),
                show(&now.authorization_details_types),
            ),
        ];
        if self.organizations.is_some() {
            fields.push((
                "organizations",
                show(&self.organizations),
                show(&now.organizations),
            ));
        }
        fields
            .into_iter()
            .filter(|(_, before, after)| before != after)
            .map(|(field, before, after)| format!("{field}: {before} → {after}"))
            .collect()
    }
}

/// One way the tenant differs from what a saved plan read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Drift {
    /// Who the grant is for.
    pub key: GrantKey,
    /// The id the plan read, if the plan read a grant.
    pub id: Option<String>,
    /// What changed, as a sentence.
    pub change: String,
}

impl fmt::Display for Drift {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.id {
            Some(id) => write!(out, "{} ({id}): {}", self.key, self.change),
            None => write!(out, "{}: {}", self.key, self.change),
        }
    }
}

/// Why a saved plan was not applied, or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SavedPlanError {
    /// The file is not a saved plan this version can read.
    #[error("not a saved plan: {0}")]
    Unreadable(String),
    /// Checking the plan against the tenant failed: nothing was written.
    #[error("cannot check the saved plan against the tenant, nothing was written: {0}")]
    Check(#[source] ReconcileError),
    /// The tenant changed since the plan was saved: nothing was written.
    #[error(
        "the tenant changed since the plan was saved, nothing was written; plan again:{}",
        .0.iter().map(|drift| format!("\n  {drift}")).collect::<String>()
    )]
    Stale(Vec<Drift>),
    /// Applying stopped midway; the error says what was done. Boxed: it carries the report.
    #[error(transparent)]
    Apply(Box<ApplyError>),
}

impl From<ApplyError> for SavedPlanError {
    fn from(error: ApplyError) -> Self {
        Self::Apply(Box::new(error))
    }
}

impl SavedPlan {
    /// `plan`, made from `desired` and `tenant`, with what it read of the grants it touches.
    pub fn new(desired: DesiredState, plan: Plan, tenant: &TenantState) -> Self {
        let read = touched(&plan)
            .into_iter()
            .map(|(key, id)| {
                let grant = match &id {
                    Some(id) => tenant.grants.iter().find(|grant| grant.id == *id),
                    None => tenant.grants.iter().find(|grant| GrantKey::of(grant) == key),
                };
                ReadGrant {
                    key,
                    grant: grant.map(|grant| GrantSeen::of(grant, tenant.organizations.get(&grant.id))),
                }
            })
            .collect();
        Self {
            format: FORMAT.to_owned(),
            desired,
            plan,
            read,
        }
    }

    /// The saved plan as pretty JSON, for a file.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a saved plan is plain data")
    }

    /// Reads a saved plan written by [`to_json`](Self::to_json).
    pub fn from_json(text: &str) -> Result<Self, SavedPlanError> {
        let saved: Self =
            serde_json::from_str(text).map_err(|error| SavedPlanError::Unreadable(error.to_string()))?;
        if saved.format != FORMAT {
            return Err(SavedPlanError::Unreadable(format!(
                "its format is `{}`, this version reads `{FORMAT}`",
                saved.format
            )));
        }
        Ok(saved)
    }

    /// The reconcile this plan was made by: its desired state and mode, against `client`'s tenant.
    pub fn reconcile<'a>(&'a self, client: &'a Client) -> Reconcile<'a> {
        client.reconcile(&self.desired).mode(self.plan.mode)
    }

    /// The grants this plan depends on whose state differs in `tenant` from what the plan read
    /// (empty when the plan still holds): a grant changed, deleted, recreated with a new id, or
    /// created meanwhile, or an organization associated or dissociated.
    pub fn drift(&self, tenant: &TenantState) -> Vec<Drift> {
        let by_id: HashMap<&str, &ClientGrant> = tenant
            .grants
            .iter()
            .map(|grant| (grant.id.as_str(), grant))
            .collect();
        let by_key: HashMap<GrantKey, &ClientGrant> = tenant
            .grants
            .iter()
            .map(|grant| (GrantKey::of(grant), grant))
            .collect();
        let mut drifts = Vec::new();
        for read in &self.read {
            let drift = |id: Option<&str>, change: String| Drift {
                key: read.key.clone(),
                id: id.map(str::to_owned),
                change,
            };
            match &read.grant {
                None => {
                    if let Some(now) = by_key.get(&read.key) {
                        drifts.push(drift(None, format!("created since the plan, as {}", now.id)));
                    }
                }
                Some(seen) => match by_id.get(seen.id.as_str()) {
                    None => {
                        let change = match by_key.get(&read.key) {
                            Some(now) => {
                                format!("deleted since the plan; the tenant has {} for it now", now.id)
                            }
                            None => "deleted since the plan".to_owned(),
                        };
                        drifts.push(drift(Some(&seen.id), change));
                    }
                    Some(now) => {
                        let now = GrantSeen::of(now, tenant.organizations.get(&seen.id));
                        let differences = seen.differences(&now);
                        if !differences.is_empty() {
                            drifts.push(drift(
                                Some(&seen.id),
                                format!("changed since the plan: {}", differences.join("; ")),
                            ));
                        }
                    }
                },
            }
        }
        drifts
    }

    /// The ids of the grants whose organizations the plan read, to read them again.
    fn organizations_read(&self) -> impl Iterator<Item = &str> {
        self.read
            .iter()
            .filter_map(|read| read.grant.as_ref())
            .filter(|seen| seen.organizations.is_some())
            .map(|seen| seen.id.as_str())
    }
}

/// Every grant `plan` touches, once, with the id it names (`None` for a grant it creates).
fn touched(plan: &Plan) -> Vec<(GrantKey, Option<String>)> {
    let mut seen = BTreeSet::new();
    let mut grants = Vec::new();
    let mut add = |key: &GrantKey, id: Option<&String>| {
        if seen.insert((key.clone(), id.cloned())) {
            grants.push((key.clone(), id.cloned()));
        }
    };
    for change in plan.changes() {
        match change {
            Change::Create { key, .. } => add(key, None),
            Change::Recreate { id, from, key, .. } => {
                add(from, Some(id));
                add(key, None);
            }
            Change::Update { id, key, .. }
            | Change::Delete { id, key }
            | Change::Dissociate { id, key, .. } => {
                add(key, Some(id));
            }
            Change::Associate { id, key, .. } => add(key, id.as_ref()),
        }
    }
    grants
}

impl Reconcile<'_> {
    /// Plans as [`plan`](Self::plan) does, and keeps with the plan its desired state, its mode
    /// and what it read of every grant it touches, for [`apply_saved`](Self::apply_saved).
    pub async fn save_plan(&self) -> Result<SavedPlan, ReconcileError> {
        let (tenant, plan) = self.read_and_plan().await?;
        Ok(SavedPlan::new(self.desired.clone(), plan, &tenant))
    }

    /// Applies `saved` exactly: first reads again every grant and association it touches, and
    /// if any differs from what the plan read, writes nothing ([`SavedPlanError::Stale`], one
    /// [`Drift`] per grant). This reconcile must be the plan's own ([`SavedPlan::reconcile`]).
    /// A plan that would take away the credentials' own access to the Management API is
    /// refused before anything is read, unless this reconcile allows it
    /// ([`allow_self_lockout`](Self::allow_self_lockout)), whatever it allowed when saved.
    pub async fn apply_saved(&self, saved: &SavedPlan) -> Result<ApplyReport, SavedPlanError> {
        if *self.desired != saved.desired || self.mode != saved.plan.mode {
            return Err(SavedPlanError::Check(ReconcileError::Mismatch(
                "the saved plan is applied with another desired state or mode: use SavedPlan::reconcile"
                    .into(),
            )));
        }
        if let Some(refusal) = self.refuse_lockout(&saved.plan) {
            return Err(refusal.into());
        }
        // The organizations the plan read, of the grants still there.
        let read_by_the_plan: HashSet<&str> = saved.organizations_read().collect();
        let needs_organizations = |grant: &ClientGrant| read_by_the_plan.contains(grant.id.as_str());
        let tenant = super::read_tenant(self.client, needs_organizations, self.parallelism, self.progress)
            .await
            .map_err(|error| SavedPlanError::Check(error.into()))?;
        let drift = saved.drift(&tenant);
        if !drift.is_empty() {
            return Err(SavedPlanError::Stale(drift));
        }
        // Apply writes what the desired state asks of the grant it finds, so the plan must be
        // what that desired state makes of the tenant as read; one whose desired state was
        // edited after review would write what nobody reviewed, past the lock-out check.
        let made = Plan::compute(&tenant, &saved.desired, saved.plan.mode);
        if let Some(change) = saved
            .plan
            .changes()
            .iter()
            .find(|change| !made.changes().contains(change))
        {
            return Err(SavedPlanError::Check(ReconcileError::Mismatch(format!(
                "the saved plan does not follow from the desired state saved with it (at {}): \
                 plan again",
                change.key()
            ))));
        }
        Ok(self.apply(&saved.plan).await?)
    }
}
