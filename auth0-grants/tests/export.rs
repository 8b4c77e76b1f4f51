//! An export reads the organizations of many grants at once while it walks the grants, each
//! grant's once, and what it writes plans to no change.

use std::time::Duration;

use auth0_client_grants::ClientGrant;
use auth0_client_grants::testing::FakeTenant;
use auth0_grants::reconcile::{self, Mode, ReconcileExt};

#[tokio::test]
async fn an_export_of_several_pages_reads_each_grants_organizations_once_and_plans_to_nothing() {
    let tenant = FakeTenant::builder()
        .latency(Duration::from_millis(2))
        .start()
        .await;
    tenant.add_api("https://api.example.com/", ["read:things"]);
    let organizations: Vec<String> = (0..3)
        .map(|n| tenant.add_organization(&format!("organization-{n}")).id)
        .collect();
    let mut with_organizations = Vec::new();
    for n in 0..250 {
        let mut grant = serde_json::json!({
            "id": "",
            "client_id": format!("client-{n}"),
            "audience": "https://api.example.com/",
            "scope": ["read:things"],
            "subject_type": "client",
        });
        if n % 5 == 0 {
            grant["organization_usage"] = "allow".into();
        }
        let grant: ClientGrant = tenant.insert_grant(serde_json::from_value(grant).unwrap());
        if n % 5 == 0 {
            tenant.associate(&organizations[n % 3], &grant.id);
            with_organizations.push(grant.id);
        }
    }
    let client = tenant.client();

    let desired = reconcile::export(&client).parallelism(4).run().await.unwrap();

    assert_eq!(desired.grants.len(), 250);
    let exported_with_organizations = desired
        .grants
        .iter()
        .filter(|grant| grant.organizations.len() == 1)
        .count();
    assert_eq!(exported_with_organizations, 50);
    let mut read: Vec<String> = tenant
        .requests()
        .iter()
        .filter_map(|request| {
            request
                .path
                .strip_prefix("/api/v2/client-grants/")?
                .strip_suffix("/organizations")
                .map(str::to_owned)
        })
        .collect();
    read.sort();
    with_organizations.sort();
    assert_eq!(
        read, with_organizations,
        "each grant that may have organizations, once"
    );
    let plan = client
        .reconcile(&desired)
        .mode(Mode::Authoritative)
        .plan()
        .await
        .unwrap();
    assert!(plan.is_empty(), "{plan}");
}
