//! Least-privilege findings over a tenant's grants, as Auth0's guidance for client grants asks
//! (audit them regularly, grant the least privilege), and what the grants name that is gone:
//! [`audit`] is a pure function of the grants, [`audit_against`] of the grants and what was
//! read of the tenant's applications and APIs ([`read_directory`]).

use std::collections::{HashMap, HashSet};
use std::fmt;

use auth0_client_grants::{Client, ClientGrant, Error, OrganizationUsage};
use serde::Serialize;

use crate::lookups;
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
    /// The application the grant is for no longer exists.
    ApplicationGone,
    /// The API the grant is for no longer exists.
    ApiGone,
    /// A scope the API no longer defines (or never did): it still goes into tokens.
    ScopeNotDefined,
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

/// The least-privilege findings for `grants`, in their order; `is_system` grants are Auth0's
/// and left out.
pub fn audit(grants: &[ClientGrant]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for grant in audited(grants) {
        least_privilege(grant, &mut finder(grant, &mut findings));
    }
    findings
}

fn audited(grants: &[ClientGrant]) -> impl Iterator<Item = &ClientGrant> {
    grants.iter().filter(|grant| grant.is_system != Some(true))
}

/// What records a finding about `grant` in `findings`.
fn finder<'a>(
    grant: &'a ClientGrant,
    findings: &'a mut Vec<Finding>,
) -> impl FnMut(FindingKind, String) + 'a {
    move |kind, message| {
        findings.push(Finding {
            id: grant.id.clone(),
            key: GrantKey::of(grant),
            kind,
            message,
        });
    }
}

fn least_privilege(grant: &ClientGrant, found: &mut impl FnMut(FindingKind, String)) {
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

/// What was read of the tenant besides its grants, for [`audit_against`]: each part `None`
/// when the credentials may not read it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Directory {
    /// The client ids of the tenant's applications; `None` without `read:clients`.
    pub client_ids: Option<HashSet<String>>,
    /// The scopes of each API the grants name, by identifier (`None` for one that names no
    /// API); the whole map `None` without `read:resource_servers`.
    pub apis: Option<HashMap<String, Option<Vec<String>>>>,
}

impl Directory {
    /// What was read: the applications' client ids and the APIs' scopes, each `None` when it
    /// could not be read.
    pub fn new(
        client_ids: Option<HashSet<String>>,
        apis: Option<HashMap<String, Option<Vec<String>>>>,
    ) -> Self {
        Self { client_ids, apis }
    }
}

/// Reads the tenant's applications (`read:clients`) and the APIs `grants` name
/// (`read:resource_servers`), for [`audit_against`]. A part the credentials may not read (403)
/// is `None`; any other failure is an error.
pub async fn read_directory(client: &Client, grants: &[ClientGrant]) -> Result<Directory, Error> {
    let client_ids = match lookups::applications(client).await {
        Ok(applications) => Some(
            applications
                .into_iter()
                .map(|application| application.client_id)
                .collect(),
        ),
        Err(error) if lookups::is_forbidden(&error) => None,
        Err(error) => return Err(error),
    };
    let audiences = audited(grants).map(|grant| grant.audience.as_str());
    let apis = lookups::api_scopes(client, audiences).await?;
    Ok(Directory { client_ids, apis })
}

/// The findings of an audit, and the checks it could not make.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AuditReport {
    /// Every finding, grant by grant in their order.
    pub findings: Vec<Finding>,
    /// The checks skipped for want of a permission.
    pub skipped: Vec<Skipped>,
}

/// A check an audit could not make for want of a permission; its `Display` is a sentence a
/// person can act on. Serialized as `{"kind": "applications_gone", "message": "<the sentence>"}`,
/// the kind for programs and the sentence for people, as `audit --json` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Skipped {
    /// Grants whose application no longer exists: the credentials lack `read:clients`.
    ApplicationsGone,
    /// Grants whose API no longer exists, and scopes the API does not define: the credentials
    /// lack `read:resource_servers`.
    ApisAndScopes,
}

impl Skipped {
    /// The check's name in `snake_case`, as serialized: `applications_gone`, `apis_and_scopes`.
    pub fn kind(self) -> &'static str {
        match self {
            Self::ApplicationsGone => "applications_gone",
            Self::ApisAndScopes => "apis_and_scopes",
        }
    }
}

impl Serialize for Skipped {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut check = serializer.serialize_struct("Skipped", 2)?;
        check.serialize_field("kind", self.kind())?;
        check.serialize_field("message", &self.to_string())?;
        check.end()
    }
}

impl fmt::Display for Skipped {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        out.write_str(match self {
            Self::ApplicationsGone => {
                "applications that no longer exist were not looked for: the credentials may not \
                 read applications (they lack `read:clients`)"
            }
            Self::ApisAndScopes => {
                "APIs that no longer exist, and scopes they do not define, were not looked for: \
                 the credentials may not read APIs (they lack `read:resource_servers`)"
            }
        })
    }
}

/// The findings of [`audit`] and, where `directory` has what they need, grants whose
/// application or API is gone and scopes their API does not define; `is_system` grants are
/// left out.
pub fn audit_against(grants: &[ClientGrant], directory: &Directory) -> AuditReport {
    let mut findings = Vec::new();
    for grant in audited(grants) {
        let mut found = finder(grant, &mut findings);
        least_privilege(grant, &mut found);
        if let (Some(client_ids), Some(client_id)) = (&directory.client_ids, &grant.client_id)
            && !client_ids.contains(client_id)
        {
            found(
                FindingKind::ApplicationGone,
                format!("the application {client_id} no longer exists"),
            );
        }
        match directory.apis.as_ref().and_then(|apis| apis.get(&grant.audience)) {
            Some(None) => found(
                FindingKind::ApiGone,
                format!("the API {} no longer exists", grant.audience),
            ),
            Some(Some(defined)) => {
                let undefined: Vec<&str> = grant
                    .scope
                    .iter()
                    .filter(|scope| !defined.contains(scope))
                    .map(String::as_str)
                    .collect();
                if !undefined.is_empty() {
                    found(
                        FindingKind::ScopeNotDefined,
                        format!("scopes the API does not define: {}", undefined.join(", ")),
                    );
                }
            }
            None => {}
        }
    }
    let mut skipped = Vec::new();
    if directory.client_ids.is_none() {
        skipped.push(Skipped::ApplicationsGone);
    }
    if directory.apis.is_none() {
        skipped.push(Skipped::ApisAndScopes);
    }
    AuditReport { findings, skipped }
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

    fn grants(values: serde_json::Value) -> Vec<ClientGrant> {
        serde_json::from_value(values).unwrap()
    }

    #[test]
    fn grants_whose_application_or_api_is_gone_or_whose_scopes_are_undefined() {
        let grants = grants(json!([
            {"id": "cgr_1", "client_id": "billing", "audience": "https://api.example.com/", "scope": ["read:invoices"]},
            {"id": "cgr_2", "client_id": "gone-app", "audience": "https://api.example.com/", "scope": ["read:invoices", "read:old"]},
            {"id": "cgr_3", "client_id": "billing", "audience": "https://gone.example.com/", "scope": ["read:x"]},
            {"id": "cgr_4", "default_for": "third_party_clients", "audience": "https://api.example.com/", "scope": ["read:invoices"]},
            {"id": "cgr_5", "client_id": "gone-app", "audience": "https://gone.example.com/", "is_system": true},
        ]));
        let directory = Directory::new(
            Some(["billing".to_owned()].into()),
            Some(
                [
                    (
                        "https://api.example.com/".to_owned(),
                        Some(vec!["read:invoices".to_owned()]),
                    ),
                    ("https://gone.example.com/".to_owned(), None),
                ]
                .into(),
            ),
        );

        let report = audit_against(&grants, &directory);

        let found: Vec<(&str, FindingKind)> = report
            .findings
            .iter()
            .map(|finding| (finding.id.as_str(), finding.kind))
            .collect();
        assert_eq!(
            found,
            [
                ("cgr_2", FindingKind::ApplicationGone),
                ("cgr_2", FindingKind::ScopeNotDefined),
                ("cgr_3", FindingKind::ApiGone),
                ("cgr_4", FindingKind::DefaultFor),
            ]
        );
        assert_eq!(
            report.findings[1].message,
            "scopes the API does not define: read:old"
        );
        assert!(report.skipped.is_empty());
    }

    #[test]
    fn without_the_directory_only_least_privilege_is_audited_and_the_skipped_checks_are_named() {
        let grants = grants(json!([
            {"id": "cgr_1", "client_id": "gone-app", "audience": "https://gone.example.com/", "allow_all_scopes": true},
        ]));

        let report = audit_against(&grants, &Directory::default());

        assert_eq!(report.findings, audit(&grants));
        assert_eq!(
            report.skipped,
            [Skipped::ApplicationsGone, Skipped::ApisAndScopes]
        );
        assert!(report.skipped[0].to_string().contains("read:clients"));
        assert!(report.skipped[1].to_string().contains("read:resource_servers"));
    }

    #[test]
    fn a_report_serializes_with_both_keys_and_each_skipped_check_by_kind_with_its_sentence() {
        assert_eq!(
            serde_json::to_value(AuditReport::default()).unwrap(),
            json!({"findings": [], "skipped": []})
        );
        let report = audit_against(&[], &Directory::default());
        assert_eq!(
            serde_json::to_value(&report).unwrap()["skipped"],
            json!([
                {"kind": "applications_gone", "message": Skipped::ApplicationsGone.to_string()},
                {"kind": "apis_and_scopes", "message": Skipped::ApisAndScopes.to_string()},
            ])
        );
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
