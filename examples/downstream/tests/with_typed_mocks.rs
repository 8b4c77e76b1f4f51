//! The reconciler against typed mocks (`auth0_client_grants::mock`): exact requests, in a
//! shape the compiler checks against the API spec.

use std::collections::BTreeMap;

use auth0_client_grants::Client;
use auth0_client_grants::mock::operations::{
    GetClientGrantsThen, GetClientGrantsWhen, PostClientGrantsThen, PostClientGrantsWhen,
};
use auth0_client_grants::mock::types;
use grant_reconciler::reconcile;
use httpmock::MockServer;
use serde_json::json;

const API: &str = "https://api.example.com/";

#[tokio::test]
async fn a_missing_grant_is_created_with_exactly_the_desired_scopes() {
    let server = MockServer::start_async().await;
    let empty_page: types::ListClientGrantResponseContent =
        serde_json::from_value(json!({"client_grants": []})).unwrap();
    let list = server
        .mock_async(|when, then| {
            GetClientGrantsWhen::new(when)
                .audience(API)
                .take(std::num::NonZeroU64::new(50));
            GetClientGrantsThen::new(then).ok(&empty_page);
        })
        .await;
    let wanted: types::CreateClientGrantRequestContent =
        serde_json::from_value(json!({"client_id": "app", "audience": API, "scope": ["read"]})).unwrap();
    let created: types::ClientGrant = serde_json::from_value(
        json!({"id": "cgr_1", "client_id": "app", "audience": API, "scope": ["read"]}),
    )
    .unwrap();
    let create = server
        .mock_async(|when, then| {
            PostClientGrantsWhen::new(when).body(&wanted);
            PostClientGrantsThen::new(then).created(&created);
        })
        .await;

    let client = Client::builder()
        .base_url(server.base_url())
        .token("test")
        .build()
        .unwrap();
    let desired = BTreeMap::from([("app".to_owned(), vec!["read".to_owned()])]);
    let report = reconcile(&client, API, &desired).await.unwrap();

    assert_eq!(report.created, ["app"]);
    list.assert_calls_async(1).await;
    create.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_conflict_on_create_is_not_an_error_and_is_not_retried() {
    let server = MockServer::start_async().await;
    let empty_page: types::ListClientGrantResponseContent =
        serde_json::from_value(json!({"client_grants": []})).unwrap();
    server
        .mock_async(|when, then| {
            GetClientGrantsWhen::new(when).audience(API);
            GetClientGrantsThen::new(then).ok(&empty_page);
        })
        .await;
    let conflict: types::ErrorBody = serde_json::from_value(
        json!({"statusCode": 409, "error": "Conflict", "message": "client_grant already exists"}),
    )
    .unwrap();
    let create = server
        .mock_async(|when, then| {
            PostClientGrantsWhen::new(when);
            PostClientGrantsThen::new(then).conflict(&conflict);
        })
        .await;

    let client = Client::builder()
        .base_url(server.base_url())
        .token("test")
        .build()
        .unwrap();
    let desired = BTreeMap::from([("app".to_owned(), vec!["read".to_owned()])]);
    let report = reconcile(&client, API, &desired).await.unwrap();

    assert!(report.created.is_empty());
    create.assert_calls_async(1).await;
}
