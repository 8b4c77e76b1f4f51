//! Least-privilege findings over a tenant's grants, as Auth0's guidance for client grants asks
//! (audit them regularly, grant the least privilege). A pure function of the grants.

use std::fmt;

use auth0_client_grants::{ClientGrant, OrganizationUsage};
use serde::Serialize;

use crate::reconcile::GrantKey;

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FindingKind {
    /// `allow_all_scopes`: every scope of the API, those added later included.
    AllowAllScopes,
    /// `allow_any_organization`: usable with any organization, not only those associated.
    AllowAnyOrganization,
    /// No scope at all: the grant gives nothing, or someone forgot what it needs.
    NoScope,
    /// `default_for`: applies to every third-party client, including those registered later.
    DefaultFor,
    /// A scope that writes or deletes, on a grant that allows any organization.
    WriteScopeAnyOrganization,
}

/// One least-privilege finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Finding {
    /// The grant's id.
    pub id: String,
    /// Who the grant is for.
    pub key: GrantKey,
    /// What the finding is about.
    pub kind: FindingKind,
    /// The finding in words, naming the setting or the scopes.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(out, "{} {}: {}", self.id, self.key, self.message)
    }
}

/// The findings for `grants`, in their order; `is_system` grants are Auth0's and left out.
pub fn audit(grants: &[ClientGrant]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for grant in grants.iter().filter(|grant| grant.is_system != Some(true)) {
        let mut found = |kind, message: String| {
            findings.push(Finding {
                id: grant.id.clone(),
                key: GrantKey::of(grant),
                kind,
                message,
            });
        };
        let allows_all = grant.allow_all_scopes == Some(true);
        // With organization_usage `deny`, no organization can use the grant at all.
        let any_organization = grant.allow_any_organization == Some(true)
            && grant.organization_usage != Some(OrganizationUsage::Deny);
        if allows_all {
            found(
                FindingKind::AllowAllScopes,
                "allow_all_scopes: every scope of the API, those added later included".into(),
            );
        }
        if any_organization {
            found(
                FindingKind::AllowAnyOrganization,
                "allow_any_organization: usable with any organization, not only those associated".into(),
            );
        }
        if grant.scope.is_empty() && !allows_all {
            found(FindingKind::NoScope, "no scope: the grant gives nothing".into());
        }
        if let Some(group) = &grant.default_for {
            found(
                FindingKind::DefaultFor,
                format!(
                    "default_for {}: applies to every such client, those registered later included",
                    group.as_str()
                ),
            );
        }
        let writes: Vec<&str> = grant
            .scope
            .iter()
            .map(String::as_str)
            .filter(|scope| is_write(scope))
            .collect();
        if any_organization && allows_all {
            found(
                FindingKind::WriteScopeAnyOrganization,
                "every scope, writes included, with any organization".into(),
            );
        } else if any_organization && !writes.is_empty() {
            found(
                FindingKind::WriteScopeAnyOrganization,
                format!("writes ({}) with any organization", writes.join(", ")),
            );
        }
    }
    findings
}

/// Whether a scope changes something: Auth0's scopes are `verb:resource`.
fn is_write(scope: &str) -> bool {
    let verb = scope.split(':').next().unwrap_or_default();
    matches!(
        verb,
        "create" | "update" | "delete" | "write" | "remove" | "manage"
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn kinds(grant: serde_json::Value) -> Vec<FindingKind> {
        let grant: ClientGrant = serde_json::from_value(grant).unwrap();
        audit(&[grant]).into_iter().map(|finding| finding.kind).collect()
    }

    #[test]
    fn each_finding_and_none_for_a_least_privilege_grant() {
        let api = "https://api.example.com/";
        assert_eq!(
            kinds(json!({"id": "cgr_1", "client_id": "a", "audience": api, "scope": ["read:things"]})),
            []
        );
        assert_eq!(
            kinds(json!({"id": "cgr_1", "client_id": "a", "audience": api, "allow_all_scopes": true})),
            [FindingKind::AllowAllScopes]
        );
        assert_eq!(
            kinds(json!({"id": "cgr_1", "client_id": "a", "audience": api})),
            [FindingKind::NoScope]
        );
        assert_eq!(
            kinds(json!({
                "id": "cgr_1", "client_id": "a", "audience": api,
                "scope": ["read:things", "delete:things"], "allow_any_organization": true,
            })),
            [
                FindingKind::AllowAnyOrganization,
                FindingKind::WriteScopeAnyOrganization
            ]
        );
        assert_eq!(
            kinds(json!({
                "id": "cgr_1", "default_for": "third_party_clients", "audience": api, "scope": ["read:things"],
            })),
            [FindingKind::DefaultFor]
        );
        assert_eq!(
            kinds(json!({
                "id": "cgr_1", "client_id": "a", "audience": api,
                "allow_all_scopes": true, "allow_any_organization": true,
            })),
            [
                FindingKind::AllowAllScopes,
                FindingKind::AllowAnyOrganization,
                FindingKind::WriteScopeAnyOrganization
            ],
            "every scope with any organization is the worst"
        );
        assert_eq!(
            kinds(json!({
                "id": "cgr_1", "client_id": "a", "audience": api, "scope": ["delete:things"],
                "allow_any_organization": true, "organization_usage": "deny",
            })),
            [],
            "no organization can use it"
        );
        assert_eq!(
            kinds(json!({"id": "cgr_1", "client_id": "a", "audience": api, "is_system": true})),
            [],
            "Auth0's own grants are not audited"
        );
    }
}
