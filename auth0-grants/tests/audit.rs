//! The audit beyond least privilege, against the fake tenant: grants whose application or API
//! is gone and scopes the API does not define, each only where the credentials may read them.

use auth0_client_grants::ClientGrant;
use auth0_client_grants::testing::{ALL_SCOPES, FakeTenant};
use auth0_grants::audit::{FindingKind, Skipped, audit_against, read_directory};
use futures_util::TryStreamExt;

const API: &str = "https://api.example.com/";
const GONE_API: &str = "https://gone.example.com/";

/// A tenant with `billing` and an API, and grants: one as it should be, one for an application
/// that is gone, one for an API that is gone, one with a scope the API does not define.
async fn tenant(scopes: impl IntoIterator<Item = &'static str>) -> FakeTenant {
    let tenant = FakeTenant::builder().scopes(scopes).start().await;
    tenant.insert_client("billing", "Billing");
    tenant.add_api(API, ["read:invoices"]);
    // Stored directly: the token may lack the scopes to create them.
    for (client_id, audience, scope) in [
        ("billing", API, "read:invoices"),
        ("deleted-app", API, "read:invoices"),
        ("billing", GONE_API, "read:things"),
    ] {
        let grant = ClientGrant::builder()
            .id(String::new())
            .client_id(Some(client_id.to_owned()))
            .audience(audience)
            .scope(vec![scope.to_owned()]);
        tenant.insert_grant(grant.try_into().unwrap());
    }
    tenant
}

async fn all_grants(tenant: &FakeTenant) -> Vec<ClientGrant> {
    tenant
        .client()
        .client_grants()
        .list()
        .stream()
        .try_collect()
        .await
        .unwrap()
}

#[tokio::test]
async fn gone_applications_and_apis_and_undefined_scopes_are_found_with_the_permissions() {
    let tenant = tenant(ALL_SCOPES).await;
    tenant
        .client()
        .client_grants()
        .update(
            &tenant.grants()[0].id,
            auth0_client_grants::ClientGrantUpdate::new().scope(["read:invoices", "read:old"]),
        )
        .await
        .unwrap();
    let grants = all_grants(&tenant).await;

    let directory = read_directory(&tenant.client(), &grants).await.unwrap();
    let report = audit_against(&grants, &directory);

    let found: Vec<(Option<&str>, &str, FindingKind)> = report
        .findings
        .iter()
        .map(|finding| {
            (
                grants
                    .iter()
                    .find(|g| g.id == finding.id)
                    .unwrap()
                    .client_id
                    .as_deref(),
                finding.key.audience.as_str(),
                finding.kind,
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (Some("billing"), API, FindingKind::ScopeNotDefined),
            (Some("deleted-app"), API, FindingKind::ApplicationGone),
            (Some("billing"), GONE_API, FindingKind::ApiGone),
        ]
    );
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
}

#[tokio::test]
async fn without_the_permissions_the_checks_are_skipped_and_say_so() {
    let tenant = tenant(["read:client_grants"]).await;
    let grants = all_grants(&tenant).await;

    let directory = read_directory(&tenant.client(), &grants).await.unwrap();
    let report = audit_against(&grants, &directory);

    assert_eq!((directory.client_ids, directory.apis), (None, None));
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    assert_eq!(
        report.skipped,
        [Skipped::ApplicationsGone, Skipped::ApisAndScopes]
    );
    assert_eq!(
        report.skipped[0].to_string(),
        "applications that no longer exist were not looked for: the credentials may not read \
         applications (they lack `read:clients`)"
    );
    assert_eq!(
        report.skipped[1].to_string(),
        "APIs that no longer exist, and scopes they do not define, were not looked for: the \
         credentials may not read APIs (they lack `read:resource_servers`)"
    );
}

#[tokio::test]
async fn each_permission_alone_makes_its_own_checks() {
    let tenant = tenant(["read:client_grants", "read:clients"]).await;
    let grants = all_grants(&tenant).await;

    let report = audit_against(&grants, &read_directory(&tenant.client(), &grants).await.unwrap());

    let kinds: Vec<FindingKind> = report.findings.iter().map(|finding| finding.kind).collect();
    assert_eq!(kinds, [FindingKind::ApplicationGone]);
    assert_eq!(report.skipped, [Skipped::ApisAndScopes]);
}
