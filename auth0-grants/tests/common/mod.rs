//! What several test files ask of the fake tenant. Each file uses only some of it.
#![allow(dead_code)]

use std::time::Duration;

use auth0_client_grants::ClientGrant;
use auth0_client_grants::testing::FakeTenant;

/// Every request that writes (not a read, not a token request), as `METHOD path body`.
pub fn writes(tenant: &FakeTenant) -> Vec<String> {
    tenant
        .requests()
        .iter()
        .filter(|request| request.method != "GET" && request.path != "/oauth/token")
        .map(|request| format!("{} {} {:?}", request.method, request.path, request.body))
        .collect()
}

/// A tenant 2 ms away with three pages of grants (250) on one API. Those that `with_organizations`
/// picks by number allow organizations and are each associated with one (of three: an
/// organization holds at most 100 grants); their ids are returned with the tenant.
pub async fn three_pages_of_grants(with_organizations: impl Fn(usize) -> bool) -> (FakeTenant, Vec<String>) {
    let tenant = FakeTenant::builder()
        .latency(Duration::from_millis(2))
        .start()
        .await;
    tenant.add_api("https://api.example.com/", ["read:things"]);
    let organizations: Vec<String> = (0..3)
        .map(|n| tenant.add_organization(&format!("organization-{n}")).id)
        .collect();
    let mut associated = Vec::new();
    for n in 0..250 {
        let mut grant = serde_json::json!({
            "id": "",
            "client_id": format!("client-{n}"),
            "audience": "https://api.example.com/",
            "scope": ["read:things"],
            "subject_type": "client",
        });
        if with_organizations(n) {
            grant["organization_usage"] = "allow".into();
        }
        let grant: ClientGrant = tenant.insert_grant(serde_json::from_value(grant).unwrap());
        if with_organizations(n) {
            tenant.associate(&organizations[n % 3], &grant.id);
            associated.push(grant.id);
        }
    }
    (tenant, associated)
}
