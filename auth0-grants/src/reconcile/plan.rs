//! The plan: what would make the tenant match the desired state, as a pure function of what the
//! tenant has, the desired state and the mode. Nothing here reads or writes.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;

use auth0_client_grants::{ClientGrant, OrganizationUsage};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::desired::{DesiredGrant, DesiredState, GrantKey};

/// How far the desired state speaks for the tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Mode {
    /// Create and update what is named; never delete or dissociate.
    #[default]
    Additive,
    /// Also delete grants, and dissociate organizations, that are not named, but only among
    /// the audiences the desired state names: a file about one API never touches another.
    Authoritative,
}

/// What the tenant has, as far as a plan needs it: its grants, and the organizations of those
/// grants whose associations matter (see [`TenantState::needs_organizations`]).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct TenantState {
    /// Every grant of the tenant.
    pub grants: Vec<ClientGrant>,
    /// Organization ids by grant id; a grant missing here was not read.
    pub organizations: HashMap<String, Vec<String>>,
}

impl TenantState {
    /// The tenant's grants and, by grant id, the organizations read for them.
    pub fn new(grants: Vec<ClientGrant>, organizations: HashMap<String, Vec<String>>) -> Self {
        Self {
            grants,
            organizations,
        }
    }

    /// The ids of the grants whose organizations a plan must know: those the desired state
    /// names with organizations, and in authoritative mode those whose `organization_usage`
    /// lets them have any. Every other grant's associations are left alone, so they are never
    /// read.
    pub fn needs_organizations(grants: &[ClientGrant], desired: &DesiredState, mode: Mode) -> Vec<String> {
        let needed = Self::organizations_needed(desired, mode);
        grants
            .iter()
            .filter(|grant| needed(grant))
            .map(|grant| grant.id.clone())
            .collect()
    }

    /// [`needs_organizations`](Self::needs_organizations) one grant at a time, so that the
    /// organizations can be read while the walk of the grants goes on.
    pub(super) fn organizations_needed(
        desired: &DesiredState,
        mode: Mode,
    ) -> impl Fn(&ClientGrant) -> bool + '_ {
        let wanted: HashMap<GrantKey, &DesiredGrant> =
            desired.grants.iter().map(|grant| (grant.key(), grant)).collect();
        move |grant| {
            if is_system(grant) {
                return false;
            }
            let Some(desired) = wanted.get(&GrantKey::of(grant)) else {
                return false;
            };
            !desired.organizations.is_empty()
                || (mode == Mode::Authoritative && allows_organizations(grant.organization_usage.as_ref()))
        }
    }
}

fn is_system(grant: &ClientGrant) -> bool {
    grant.is_system == Some(true)
}

pub(super) fn allows_organizations(usage: Option<&OrganizationUsage>) -> bool {
    matches!(usage, Some(OrganizationUsage::Allow | OrganizationUsage::Require))
}

/// The settings a plan compares, as the API names them.
const FIELDS: [&str; 5] = [
    "scope",
    "organization_usage",
    "allow_any_organization",
    "allow_all_scopes",
    "authorization_details_types",
];

/// Why a plan leaves a grant alone.
const SYSTEM_GRANT: &str = "is_system: Auth0 manages it";
const SYSTEM_GRANT_KEPT: &str = "is_system: Auth0 manages it, it is not deleted";

/// One of `known`, read back from a saved plan: a name this version does not write is refused.
fn one_of(value: &str, known: &[&'static str]) -> Result<&'static str, String> {
    known
        .iter()
        .find(|known| **known == value)
        .copied()
        .ok_or_else(|| format!("unknown value `{value}`"))
}

/// A [`FieldChange`] as a saved plan holds it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldChangeRead {
    field: String,
    before: Value,
    after: Value,
}

// By hand: a derive would ask the whole file to be borrowed for `'static`, for `field`.
impl<'de> Deserialize<'de> for FieldChange {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let read = FieldChangeRead::deserialize(deserializer)?;
        Ok(Self {
            field: one_of(&read.field, &FIELDS).map_err(serde::de::Error::custom)?,
            before: read.before,
            after: read.after,
        })
    }
}

/// An [`Untouched`] as a saved plan holds it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UntouchedRead {
    id: String,
    key: GrantKey,
    reason: String,
}

// By hand, as `FieldChange`'s, for `reason`.
impl<'de> Deserialize<'de> for Untouched {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let read = UntouchedRead::deserialize(deserializer)?;
        Ok(Self {
            id: read.id,
            key: read.key,
            reason: one_of(&read.reason, &[SYSTEM_GRANT, SYSTEM_GRANT_KEPT])
                .map_err(serde::de::Error::custom)?,
        })
    }
}

/// One setting of a grant that changes, before and after, as the API spells them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct FieldChange {
    /// The field, as the API names it.
    pub field: &'static str,
    /// What the tenant has (scopes sorted).
    pub before: Value,
    /// What the desired state says.
    pub after: Value,
}

/// One write a plan makes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Change {
    /// A grant the tenant lacks.
    Create {
        /// Who the grant is for.
        key: GrantKey,
        /// The grant as desired.
        grant: DesiredGrant,
    },
    /// A grant whose settings differ, each field's before and after.
    Update {
        /// The grant's id.
        id: String,
        /// Who the grant is for.
        key: GrantKey,
        /// Each setting that changes.
        fields: Vec<FieldChange>,
    },
    /// A grant whose subject type must change, which Auth0 does not allow in place: the new
    /// grant is created, then the old one deleted (authoritative mode only).
    Recreate {
        /// The id of the grant to replace.
        id: String,
        /// Who the grant to replace is for.
        from: GrantKey,
        /// Who the new grant is for.
        key: GrantKey,
        /// The new grant as desired.
        grant: DesiredGrant,
    },
    /// A grant the desired state does not name, on an audience it does (authoritative mode).
    Delete {
        /// The grant's id.
        id: String,
        /// Who the grant is for.
        key: GrantKey,
    },
    /// An organization the grant must be associated with; `id` is `None` for a grant this plan
    /// creates.
    Associate {
        /// The grant's id; `None` when this plan creates it.
        id: Option<String>,
        /// Who the grant is for.
        key: GrantKey,
        /// The organization.
        organization_id: String,
    },
    /// An organization the grant is associated with and must not be (authoritative mode).
    Dissociate {
        /// The grant's id.
        id: String,
        /// Who the grant is for.
        key: GrantKey,
        /// The organization.
        organization_id: String,
    },
}

impl Change {
    /// The order changes are applied in: creates before associations, dissociations before
    /// deletes.
    pub(super) fn stage(&self) -> u8 {
        match self {
            Change::Create { .. } | Change::Recreate { .. } => 0,
            Change::Update { .. } => 1,
            Change::Associate { .. } => 2,
            Change::Dissociate { .. } => 3,
            Change::Delete { .. } => 4,
        }
    }

    /// The grant the change is about.
    pub fn key(&self) -> &GrantKey {
        match self {
            Change::Create { key, .. }
            | Change::Update { key, .. }
            | Change::Recreate { key, .. }
            | Change::Delete { key, .. }
            | Change::Associate { key, .. }
            | Change::Dissociate { key, .. } => key,
        }
    }
}

/// A grant the plan leaves alone although the desired state speaks of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Untouched {
    /// The grant's id.
    pub id: String,
    /// Who the grant is for.
    pub key: GrantKey,
    /// Why it is left alone.
    pub reason: &'static str,
}

/// What would make the tenant match the desired state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Plan {
    /// The mode it was planned in.
    pub mode: Mode,
    changes: Vec<Change>,
    untouched: Vec<Untouched>,
    /// What the planning could not check; absent from saved plans without any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<PlanWarning>,
}

/// A check planning could not make and went on without; its `Display` is a sentence a person
/// can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PlanWarning {
    /// The desired scopes were not checked against the APIs that define them: the credentials
    /// may not read APIs (`read:resource_servers`).
    ScopesNotChecked,
    /// The plan deletes or narrows a grant on the Management API (changes its scopes, or makes
    /// it require an organization), and whether it is the credentials' own was not checked:
    /// their client id is unknown (a token was given).
    LockoutNotChecked,
}

impl fmt::Display for PlanWarning {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        out.write_str(match self {
            Self::ScopesNotChecked => {
                "the scopes were not checked against the APIs that define them: the credentials \
                 may not read APIs (they lack `read:resource_servers`)"
            }
            Self::LockoutNotChecked => {
                "the plan deletes or narrows a grant on the Management API, and whether it is the \
                 one the credentials in use reach it by was not checked: their client id is \
                 unknown (a token was given, not client credentials)"
            }
        })
    }
}

impl Plan {
    /// The plan for `tenant` to match `desired` in `mode`. `desired` names its applications by
    /// id: resolve its names first ([`DesiredState::resolve`]); a grant still named by `client`
    /// would be planned as a create for no application (and `apply` refuses such a state).
    pub fn compute(tenant: &TenantState, desired: &DesiredState, mode: Mode) -> Self {
        let mut changes = Vec::new();
        let mut untouched = Vec::new();
        let current: HashMap<GrantKey, &ClientGrant> = tenant
            .grants
            .iter()
            .map(|grant| (GrantKey::of(grant), grant))
            .collect();
        let wanted: HashSet<GrantKey> = desired.grants.iter().map(DesiredGrant::key).collect();
        let audiences: HashSet<&str> = desired
            .grants
            .iter()
            .map(|grant| grant.audience.as_str())
            .collect();
        let mut accounted: HashSet<&str> = HashSet::new();

        for grant in &desired.grants {
            let key = grant.key();
            let Some(existing) = current.get(&key) else {
                let replaced = (mode == Mode::Authoritative)
                    .then(|| same_subject_other_type(tenant, grant, &wanted, &accounted))
                    .flatten();
                match replaced {
                    Some(old) => {
                        accounted.insert(old.id.as_str());
                        changes.push(Change::Recreate {
                            id: old.id.clone(),
                            from: GrantKey::of(old),
                            key: key.clone(),
                            grant: keeping_what_is_left_out(grant, old),
                        });
                    }
                    None => changes.push(Change::Create {
                        key: key.clone(),
                        grant: grant.clone(),
                    }),
                }
                changes.extend(
                    grant
                        .organizations
                        .iter()
                        .map(|organization_id| Change::Associate {
                            id: None,
                            key: key.clone(),
                            organization_id: organization_id.clone(),
                        }),
                );
                continue;
            };
            accounted.insert(existing.id.as_str());
            if is_system(existing) {
                untouched.push(Untouched {
                    id: existing.id.clone(),
                    key,
                    reason: SYSTEM_GRANT,
                });
                continue;
            }
            let fields = field_changes(existing, grant);
            if !fields.is_empty() {
                changes.push(Change::Update {
                    id: existing.id.clone(),
                    key: key.clone(),
                    fields,
                });
            }
            let has: BTreeSet<&str> = tenant
                .organizations
                .get(&existing.id)
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect();
            let wants: BTreeSet<&str> = grant.organizations.iter().map(String::as_str).collect();
            changes.extend(wants.difference(&has).map(|organization_id| Change::Associate {
                id: Some(existing.id.clone()),
                key: key.clone(),
                organization_id: (*organization_id).to_owned(),
            }));
            if mode == Mode::Authoritative {
                changes.extend(has.difference(&wants).map(|organization_id| Change::Dissociate {
                    id: existing.id.clone(),
                    key: key.clone(),
                    organization_id: (*organization_id).to_owned(),
                }));
            }
        }

        if mode == Mode::Authoritative {
            for grant in &tenant.grants {
                if accounted.contains(grant.id.as_str()) || !audiences.contains(grant.audience.as_str()) {
                    continue;
                }
                let key = GrantKey::of(grant);
                if is_system(grant) {
                    untouched.push(Untouched {
                        id: grant.id.clone(),
                        key,
                        reason: SYSTEM_GRANT_KEPT,
                    });
                } else {
                    changes.push(Change::Delete {
                        id: grant.id.clone(),
                        key,
                    });
                }
            }
        }
        changes.sort_by(|a, b| (a.stage(), a.key()).cmp(&(b.stage(), b.key())));
        Self {
            mode,
            changes,
            untouched,
            warnings: Vec::new(),
        }
    }

    /// The writes, in the order they are applied.
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// The grants left alone although the desired state speaks of them (`is_system` ones).
    pub fn untouched(&self) -> &[Untouched] {
        &self.untouched
    }

    /// What planning could not check and went on without (see [`PlanWarning`]).
    /// [`Plan::compute`] makes none; [`Reconcile::plan`](super::Reconcile::plan) adds them.
    pub fn warnings(&self) -> &[PlanWarning] {
        &self.warnings
    }

    pub(crate) fn warn(&mut self, warning: PlanWarning) {
        self.warnings.push(warning);
    }

    /// Whether the tenant already matches.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// `desired`, with the settings it leaves out taken from `old`: a recreate must not reset what
/// the file leaves as the tenant has it.
fn keeping_what_is_left_out(desired: &DesiredGrant, old: &ClientGrant) -> DesiredGrant {
    let mut grant = desired.clone();
    grant.organization_usage = grant
        .organization_usage
        .or_else(|| old.organization_usage.clone());
    grant.allow_any_organization = grant.allow_any_organization.or(old.allow_any_organization);
    // Every scope allowed beside listed ones is a grant Auth0 refuses.
    grant.allow_all_scopes = grant
        .allow_all_scopes
        .or(old.allow_all_scopes.filter(|_| grant.scope.is_empty()));
    if grant.authorization_details_types.is_none() && !old.authorization_details_types.is_empty() {
        grant.authorization_details_types = Some(old.authorization_details_types.clone());
    }
    grant
}

/// In authoritative mode, a grant of the same client and audience with another subject type
/// that no desired grant names: changing its subject type means recreating it.
fn same_subject_other_type<'a>(
    tenant: &'a TenantState,
    desired: &DesiredGrant,
    wanted: &HashSet<GrantKey>,
    accounted: &HashSet<&str>,
) -> Option<&'a ClientGrant> {
    let key = desired.key();
    tenant.grants.iter().find(|grant| {
        let other = GrantKey::of(grant);
        other.subject == key.subject
            && other.audience == key.audience
            && !is_system(grant)
            && !wanted.contains(&other)
            && !accounted.contains(grant.id.as_str())
    })
}

/// The settings of `existing` that differ from `desired`. Scopes and authorization details
/// types compare as sets; a setting the desired grant leaves out is not compared.
pub(crate) fn field_changes(existing: &ClientGrant, desired: &DesiredGrant) -> Vec<FieldChange> {
    let mut fields = Vec::new();
    let mut compare = |field: &'static str, before: Value, after: Value| {
        if before != after {
            fields.push(FieldChange { field, before, after });
        }
    };
    compare("scope", sorted(&existing.scope), sorted(&desired.scope));
    if let Some(usage) = &desired.organization_usage {
        let before = existing
            .organization_usage
            .as_ref()
            .map_or(Value::Null, |usage| usage.as_str().into());
        compare("organization_usage", before, usage.as_str().into());
    }
    if let Some(allow) = desired.allow_any_organization {
        compare(
            "allow_any_organization",
            existing.allow_any_organization.unwrap_or(false).into(),
            allow.into(),
        );
    }
    if let Some(allow) = desired.allow_all_scopes {
        compare(
            "allow_all_scopes",
            existing.allow_all_scopes.unwrap_or(false).into(),
            allow.into(),
        );
    }
    if let Some(types) = &desired.authorization_details_types {
        compare(
            "authorization_details_types",
            sorted(&existing.authorization_details_types),
            sorted(types),
        );
    }
    fields
}

fn sorted(values: &[String]) -> Value {
    let set: BTreeSet<&str> = values.iter().map(String::as_str).collect();
    set.into_iter().collect::<Vec<_>>().into()
}

impl fmt::Display for Plan {
    /// One line per change, in the style of `terraform plan`, and a summary.
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        for change in &self.changes {
            match change {
                Change::Create { key, grant } => {
                    writeln!(out, "+ create      {key}")?;
                    writeln!(out, "      scope: {}", sorted(&grant.scope))?;
                }
                Change::Update { id, key, fields } => {
                    writeln!(out, "~ update      {id} {key}")?;
                    for field in fields {
                        writeln!(out, "      {}: {} → {}", field.field, field.before, field.after)?;
                    }
                }
                Change::Recreate { id, from, key, .. } => {
                    writeln!(
                        out,
                        "± recreate    {id} {key} (subject_type {} → {}: created anew, then {id} deleted)",
                        from.subject_type, key.subject_type
                    )?;
                }
                Change::Delete { id, key } => writeln!(out, "- delete      {id} {key}")?,
                Change::Associate {
                    id,
                    key,
                    organization_id,
                } => {
                    let grant = id.as_deref().unwrap_or("(new)");
                    writeln!(out, "+ associate   {organization_id} with {grant} {key}")?;
                }
                Change::Dissociate {
                    id,
                    key,
                    organization_id,
                } => writeln!(out, "- dissociate  {organization_id} from {id} {key}")?,
            }
        }
        for grant in &self.untouched {
            writeln!(out, "! untouched   {} {} ({})", grant.id, grant.key, grant.reason)?;
        }
        if self.changes.is_empty() {
            return writeln!(out, "No changes: the tenant matches the desired state.");
        }
        let count = |stage: u8| {
            self.changes
                .iter()
                .filter(|change| change.stage() == stage)
                .count()
        };
        writeln!(
            out,
            "Plan: {} to create, {} to update, {} to associate, {} to dissociate, {} to delete.",
            count(0),
            count(1),
            count(2),
            count(3),
            count(4)
        )
    }
}

#[cfg(test)]
mod tests;
