//! No self lock-out: the credentials in use reach the Management API through a grant of their
//! own client on it, and a plan that deletes that grant, takes scopes from it or makes it
//! require an organization would leave the tool unable to read or write grants again
//! (deploy-cli always skips its own client for that reason). Such a plan is refused unless the
//! caller allows it explicitly.
//!
//! Requiring an organization locks out as surely as deleting: the credentials request their
//! tokens without one (client credentials, as the bindings' token client asks for them), and
//! Auth0 refuses such a token for a grant whose `organization_usage` is `require`.

use std::collections::BTreeSet;
use std::fmt;

use auth0_client_grants::OrganizationUsage;

use super::apply::ApplyError;
use super::desired::GrantKey;
use super::plan::{Change, FieldChange, Plan, PlanWarning};
use super::{Reconcile, ReconcileError, looks_like_a_management_api};

/// A plan refused for taking away the credentials' own access to the Management API: it
/// deletes the grant of their client on it, takes scopes from it, or makes it require an
/// organization.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SelfLockout {
    /// The grant's id.
    pub id: String,
    /// Who the grant is for: the credentials' client, on the Management API.
    pub key: GrantKey,
    /// The scopes the plan takes from it; empty when the plan deletes it, or only makes it
    /// require an organization.
    pub removed_scopes: Vec<String>,
    /// Whether the plan sets its `organization_usage` to `require`: Auth0 then refuses a token
    /// requested without an organization, as the credentials request theirs.
    pub requires_organization: bool,
}

impl fmt::Display for SelfLockout {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            id,
            key,
            removed_scopes,
            requires_organization,
        } = self;
        const REQUIRE: &str = "require an organization (`organization_usage` → `require`)";
        match (removed_scopes.as_slice(), requires_organization) {
            ([], false) => write!(out, "the plan deletes {id} ({key})")?,
            ([], true) => write!(out, "the plan makes {id} ({key}) {REQUIRE}")?,
            (removed, _) => {
                let scopes: Vec<String> = removed.iter().map(|scope| format!("`{scope}`")).collect();
                write!(out, "the plan takes {} from {id} ({key})", scopes.join(", "))?;
                if *requires_organization {
                    write!(out, " and makes it {REQUIRE}")?;
                }
            }
        }
        write!(
            out,
            ", the grant by which the credentials in use reach the Management API: \
             they would lock themselves out"
        )?;
        if *requires_organization {
            write!(
                out,
                " (they request tokens without an organization, which Auth0 then refuses)"
            )?;
        }
        Ok(())
    }
}

/// The change of `plan` that deletes the grant of `own_client_id` on a Management API, takes
/// scopes from it or makes it require an organization, with what it takes.
fn find<'p>(
    plan: &'p Plan,
    own_client_id: &str,
    is_management_api: impl Fn(&str) -> bool,
) -> Option<(SelfLockout, &'p Change)> {
    let is_own = |key: &GrantKey| {
        key.subject == own_client_id && key.subject_type == "client" && is_management_api(&key.audience)
    };
    plan.changes().iter().find_map(|change| {
        let lockout = match change {
            Change::Delete { id, key } if is_own(key) => SelfLockout {
                id: id.clone(),
                key: key.clone(),
                removed_scopes: Vec::new(),
                requires_organization: false,
            },
            Change::Recreate { id, from, .. } if is_own(from) => SelfLockout {
                id: id.clone(),
                key: from.clone(),
                removed_scopes: Vec::new(),
                requires_organization: false,
            },
            Change::Update { id, key, fields } if is_own(key) => {
                let scopes = |value: &serde_json::Value| -> BTreeSet<String> {
                    value
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|scope| scope.as_str().map(str::to_owned))
                        .collect()
                };
                let removed: Vec<String> = fields
                    .iter()
                    .filter(|field| field.field == "scope")
                    .flat_map(|field| &scopes(&field.before) - &scopes(&field.after))
                    .collect();
                let requires_organization = fields.iter().any(requires_an_organization);
                if removed.is_empty() && !requires_organization {
                    return None;
                }
                SelfLockout {
                    id: id.clone(),
                    key: key.clone(),
                    removed_scopes: removed,
                    requires_organization,
                }
            }
            _ => return None,
        };
        Some((lockout, change))
    })
}

/// Whether a field change sets `organization_usage` to `require`.
fn requires_an_organization(field: &FieldChange) -> bool {
    field.field == "organization_usage" && field.after == OrganizationUsage::Require.as_str()
}

/// Whether `change` deletes a grant on a Management API, changes its scopes or makes it
/// require an organization, whoever it is for.
fn narrows_a_management_api_grant(change: &Change, is_management_api: &impl Fn(&str) -> bool) -> bool {
    match change {
        Change::Delete { key, .. } => is_management_api(&key.audience),
        Change::Recreate { from, .. } => is_management_api(&from.audience),
        Change::Update { key, fields, .. } => {
            is_management_api(&key.audience)
                && fields
                    .iter()
                    .any(|field| field.field == "scope" || requires_an_organization(field))
        }
        _ => false,
    }
}

impl Reconcile<'_> {
    /// The client id of the credentials in use, where the bindings' client does not know it
    /// (it was built with a token or a token provider): a plan that deletes this client's grant
    /// on the Management API, takes scopes from it or makes it require an organization, is then
    /// refused. With client
    /// credentials it is [`Client::client_id`](auth0_client_grants::Client::client_id) unless
    /// set here.
    #[must_use]
    pub fn own_client_id(mut self, client_id: impl Into<String>) -> Self {
        self.own_client_id = Some(client_id.into());
        self
    }

    /// Whether a plan may delete, take scopes from, or make require an organization
    /// (`organization_usage = "require"`: the credentials request their tokens without one,
    /// which Auth0 then refuses) the grant by which the credentials in use reach the
    /// Management API (default: no, [`ReconcileError::SelfLockout`]). Planning,
    /// [`apply`](Self::apply) and [`apply_saved`](Self::apply_saved) all refuse such a plan,
    /// before anything is written, unless this allows it.
    #[must_use]
    pub fn allow_self_lockout(mut self, allow: bool) -> Self {
        self.allow_self_lockout = allow;
        self
    }

    pub(super) fn is_management_api(&self, audience: &str) -> bool {
        self.management_api.as_deref() == Some(audience) || looks_like_a_management_api(audience)
    }

    fn own(&self) -> Option<&str> {
        self.own_client_id.as_deref().or_else(|| self.client.client_id())
    }

    /// `plan`'s lock-out, if it has one and it is not allowed.
    fn lockout<'p>(&self, plan: &'p Plan) -> Option<(SelfLockout, &'p Change)> {
        if self.allow_self_lockout {
            return None;
        }
        find(plan, self.own()?, |audience| self.is_management_api(audience))
    }

    /// Refuses a plan that locks the credentials out; otherwise the warning, if any, that the
    /// plan narrows a grant on the Management API while the credentials' client is unknown.
    pub(super) fn check_lockout(&self, plan: &Plan) -> Result<Option<PlanWarning>, ReconcileError> {
        if let Some((lockout, _)) = self.lockout(plan) {
            return Err(ReconcileError::SelfLockout(Box::new(lockout)));
        }
        let is_management_api = |audience: &str| self.is_management_api(audience);
        let unknown = self.own().is_none()
            && !self.allow_self_lockout
            && plan
                .changes()
                .iter()
                .any(|change| narrows_a_management_api_grant(change, &is_management_api));
        Ok(unknown.then_some(PlanWarning::LockoutNotChecked))
    }

    /// [`check_lockout`](Self::check_lockout) for an apply: the refusal, naming the change.
    pub(super) fn refuse_lockout(&self, plan: &Plan) -> Option<ApplyError> {
        self.lockout(plan).map(|(lockout, change)| {
            ApplyError::refused(plan, change, ReconcileError::SelfLockout(Box::new(lockout)))
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use auth0_client_grants::{ClientGrant, OrganizationUsage};
    use serde_json::json;

    use super::*;
    use crate::reconcile::{DesiredGrant, DesiredState, Mode, TenantState};

    const MANAGEMENT_API: &str = "https://tenant.example.com/api/v2/";

    fn grant(id: &str, client: &str, audience: &str, scope: &[&str]) -> ClientGrant {
        serde_json::from_value(json!({"id": id, "client_id": client, "audience": audience, "scope": scope}))
            .unwrap()
    }

    fn plan(tenant: Vec<ClientGrant>, desired: Vec<DesiredGrant>, mode: Mode) -> Plan {
        Plan::compute(
            &TenantState::new(tenant, HashMap::new()),
            &DesiredState::new(desired).unwrap(),
            mode,
        )
    }

    fn lockout(plan: &Plan) -> Option<SelfLockout> {
        find(plan, "deployer", |audience| audience == MANAGEMENT_API).map(|(lockout, _)| lockout)
    }

    fn tenant() -> Vec<ClientGrant> {
        vec![
            grant(
                "cgr_own",
                "deployer",
                MANAGEMENT_API,
                &["read:client_grants", "delete:client_grants"],
            ),
            grant("cgr_other", "reports", MANAGEMENT_API, &["read:client_grants"]),
        ]
    }

    #[test]
    fn deleting_the_credentials_own_grant_is_a_lockout_naming_it() {
        let keeps_only_reports =
            vec![DesiredGrant::new("reports", MANAGEMENT_API).scope(["read:client_grants"])];

        let found = lockout(&plan(tenant(), keeps_only_reports, Mode::Authoritative)).unwrap();

        assert_eq!(found.id, "cgr_own");
        assert_eq!(found.key.subject, "deployer");
        assert!(found.removed_scopes.is_empty());
        assert_eq!(
            found.to_string(),
            "the plan deletes cgr_own (deployer → https://tenant.example.com/api/v2/ (client)), the grant \
             by which the credentials in use reach the Management API: they would lock themselves out"
        );
    }

    #[test]
    fn taking_scopes_from_it_is_a_lockout_naming_the_scopes_in_either_mode() {
        for mode in [Mode::Additive, Mode::Authoritative] {
            let narrower = vec![
                DesiredGrant::new("deployer", MANAGEMENT_API).scope(["read:client_grants"]),
                DesiredGrant::new("reports", MANAGEMENT_API).scope(["read:client_grants"]),
            ];

            let found = lockout(&plan(tenant(), narrower, mode)).unwrap();

            assert_eq!(found.removed_scopes, ["delete:client_grants"], "{mode:?}");
            assert!(
                found
                    .to_string()
                    .starts_with("the plan takes `delete:client_grants` from cgr_own"),
                "{found}"
            );
        }
    }

    #[test]
    fn recreating_it_with_another_subject_type_is_a_lockout() {
        let as_user = vec![
            DesiredGrant::new("deployer", MANAGEMENT_API)
                .subject_type(auth0_client_grants::SubjectType::User)
                .scope(["read:client_grants", "delete:client_grants"]),
        ];

        let found = lockout(&plan(tenant(), as_user, Mode::Authoritative)).unwrap();

        assert_eq!(
            (found.id.as_str(), found.key.subject_type.as_str()),
            ("cgr_own", "client")
        );
    }

    #[test]
    fn requiring_an_organization_of_it_is_a_lockout_in_either_mode() {
        for mode in [Mode::Additive, Mode::Authoritative] {
            let requires = vec![
                DesiredGrant::new("deployer", MANAGEMENT_API)
                    .scope(["read:client_grants", "delete:client_grants"])
                    .organization_usage(OrganizationUsage::Require),
                DesiredGrant::new("reports", MANAGEMENT_API).scope(["read:client_grants"]),
            ];

            let found = lockout(&plan(tenant(), requires, mode)).unwrap();

            assert_eq!(found.id, "cgr_own", "{mode:?}");
            assert!(found.removed_scopes.is_empty());
            assert!(found.requires_organization);
            assert_eq!(
                found.to_string(),
                "the plan makes cgr_own (deployer → https://tenant.example.com/api/v2/ (client)) \
                 require an organization (`organization_usage` → `require`), the grant by which the \
                 credentials in use reach the Management API: they would lock themselves out (they \
                 request tokens without an organization, which Auth0 then refuses)"
            );
        }
    }

    #[test]
    fn requiring_an_organization_and_taking_scopes_names_both() {
        let both = vec![
            DesiredGrant::new("deployer", MANAGEMENT_API)
                .scope(["read:client_grants"])
                .organization_usage(OrganizationUsage::Require),
        ];

        let found = lockout(&plan(tenant(), both, Mode::Additive)).unwrap();

        assert_eq!(found.removed_scopes, ["delete:client_grants"]);
        assert!(found.requires_organization);
        assert!(
            found.to_string().starts_with(
                "the plan takes `delete:client_grants` from cgr_own (deployer → \
                 https://tenant.example.com/api/v2/ (client)) and makes it require an organization \
                 (`organization_usage` → `require`), the grant by which"
            ),
            "{found}"
        );
    }

    #[test]
    fn allowing_organizations_or_requiring_one_on_other_grants_is_not_a_lockout() {
        let allows = vec![
            DesiredGrant::new("deployer", MANAGEMENT_API)
                .scope(["read:client_grants", "delete:client_grants"])
                .organization_usage(OrganizationUsage::Allow),
            DesiredGrant::new("reports", MANAGEMENT_API)
                .scope(["read:client_grants"])
                .organization_usage(OrganizationUsage::Require),
        ];
        assert_eq!(lockout(&plan(tenant(), allows, Mode::Authoritative)), None);

        let mut already = tenant();
        already[0].organization_usage = Some(OrganizationUsage::Require);
        let kept = vec![
            DesiredGrant::new("deployer", MANAGEMENT_API)
                .scope(["read:client_grants", "delete:client_grants"])
                .organization_usage(OrganizationUsage::Require),
        ];
        assert_eq!(
            lockout(&plan(already, kept, Mode::Additive)),
            None,
            "the plan does not change what the tenant has"
        );
    }

    #[test]
    fn widening_it_or_narrowing_other_grants_is_not_a_lockout() {
        let wider = vec![DesiredGrant::new("deployer", MANAGEMENT_API).scope([
            "read:client_grants",
            "delete:client_grants",
            "create:client_grants",
        ])];
        assert_eq!(
            lockout(&plan(tenant(), wider, Mode::Authoritative)),
            None,
            "reports is deleted"
        );

        let other_api = vec![
            grant("cgr_own", "deployer", MANAGEMENT_API, &["read:client_grants"]),
            grant(
                "cgr_api",
                "deployer",
                "https://api.example.com/",
                &["read:invoices"],
            ),
        ];
        let nothing_on_the_api = vec![DesiredGrant::new("someone", "https://api.example.com/")];
        assert_eq!(
            lockout(&plan(other_api, nothing_on_the_api, Mode::Authoritative)),
            None,
            "the credentials' grant on another API"
        );
    }
}
