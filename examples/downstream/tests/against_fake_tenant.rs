//! The reconciler against `auth0_client_grants::testing::FakeTenant`: real Auth0 behaviour,
//! checked through the tenant's state afterwards.

use std::collections::BTreeMap;

use auth0_client_grants::NewClientGrant;
use auth0_client_grants::testing::FakeTenant;
use grant_reconciler::{Report, reconcile};

const API: &str = "https://api.example.com/";

fn desired(entries: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
    entries
        .iter()
        .map(|(client, scopes)| (client.to_string(), scopes.iter().map(|s| s.to_string()).collect()))
        .collect()
}

#[tokio::test]
async fn reconciling_creates_updates_and_deletes_until_the_tenant_matches() {
    let tenant = FakeTenant::start().await;
    let client = tenant.client();
    let grants = client.client_grants();
    grants
        .create(NewClientGrant::new("stale", API).scope(["read"]))
        .await
        .unwrap();
    grants
        .create(NewClientGrant::new("narrow", API).scope(["read"]))
        .await
        .unwrap();
    grants
        .create(NewClientGrant::new("other-api", "https://other/"))
        .await
        .unwrap();

    let want = desired(&[("narrow", &["read", "write"]), ("new", &["read"])]);
    let report = reconcile(&client, API, &want).await.unwrap();
    assert_eq!(
        report,
        Report {
            created: vec!["new".into()],
            updated: vec!["narrow".into()],
            deleted: vec!["stale".into()],
        }
    );
    let mut state: Vec<(String, String, Vec<String>)> = tenant
        .grants()
        .into_iter()
        .map(|grant| (grant.client_id.unwrap(), grant.audience, grant.scope))
        .collect();
    state.sort();
    assert_eq!(
        state,
        [
            ("narrow".into(), API.into(), vec!["read".into(), "write".into()]),
            ("new".into(), API.into(), vec!["read".into()]),
            ("other-api".into(), "https://other/".into(), vec![]),
        ]
    );

    let again = reconcile(&client, API, &want).await.unwrap();
    assert_eq!(again, Report::default(), "a second run changes nothing");
}
