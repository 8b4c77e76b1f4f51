//! `update` sends absent, null or a value per field and really sends `[]`; `delete` accepts
//! every success Auth0 answers with.

mod common;

use auth0_client_grants::{ClientGrantUpdate, Error};
use common::{FakeClock, client_for};
use httpmock::Method::{DELETE, PATCH};
use httpmock::MockServer;
use serde_json::json;

const UPDATED_GRANT: &str = include_str!("fixtures/client_grant_updated.json");

#[tokio::test]
async fn the_recorded_update_clears_authorization_details_types_with_an_empty_list() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(PATCH)
                .path("/api/v2/client-grants/cgr_APv42q7tDmHElhmO")
                .json_body(json!({"scope": ["create:resource", "update:resource"], "authorization_details_types": []}));
            then.status(200).body(UPDATED_GRANT);
        })
        .await;
    let client = client_for(&server, &FakeClock::new());

    let updated = client
        .client_grants()
        .update(
            "cgr_APv42q7tDmHElhmO",
            ClientGrantUpdate::new()
                .scope(["create:resource", "update:resource"])
                .authorization_details_types(Vec::<String>::new()),
        )
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(updated.scope, ["create:resource", "update:resource"]);
    assert!(updated.authorization_details_types.is_empty());
}

#[tokio::test]
async fn resets_are_sent_as_nulls_and_nothing_else_is_sent() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(PATCH).path("/api/v2/client-grants/cgr_1").json_body(json!({
                "scope": null, "organization_usage": null, "allow_any_organization": null, "allow_all_scopes": null
            }));
            then.status(200).body(UPDATED_GRANT);
        })
        .await;
    let client = client_for(&server, &FakeClock::new());

    let update = ClientGrantUpdate::new()
        .reset_scope()
        .reset_organization_usage()
        .reset_allow_any_organization()
        .reset_allow_all_scopes();
    client.client_grants().update("cgr_1", update).await.unwrap();

    mock.assert_async().await;
}

#[tokio::test]
async fn an_empty_update_is_refused_before_sending() {
    let server = MockServer::start_async().await;
    let anything = server.mock_async(|_, then| {
        then.status(200).body(UPDATED_GRANT);
    });
    let anything = anything.await;
    let client = client_for(&server, &FakeClock::new());

    let error = client
        .client_grants()
        .update("cgr_1", ClientGrantUpdate::new())
        .await
        .unwrap_err();

    assert!(
        matches!(&error, Error::InvalidInput(invalid) if invalid.parameter() == "body"),
        "{error:?}"
    );
    anything.assert_calls_async(0).await;
}

#[tokio::test]
async fn delete_accepts_204_and_200_with_an_empty_or_quoted_empty_body() {
    for (status, body) in [(204, ""), (200, ""), (200, "\"\"")] {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.method(DELETE).path("/api/v2/client-grants/cgr_1");
                then.status(status).body(body);
            })
            .await;
        let client = client_for(&server, &FakeClock::new());

        client
            .client_grants()
            .delete("cgr_1")
            .await
            .unwrap_or_else(|error| panic!("{status} {body:?}: {error}"));

        mock.assert_async().await;
    }
}

#[tokio::test]
async fn deleting_a_system_grant_is_an_api_error() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(DELETE).path("/api/v2/client-grants/cgr_system");
            then.status(400).json_body(json!({
                "statusCode": 400, "error": "Bad Request", "message": "System grants cannot be deleted.",
                "errorCode": "operation_not_supported"
            }));
        })
        .await;
    let client = client_for(&server, &FakeClock::new());

    let error = client.client_grants().delete("cgr_system").await.unwrap_err();

    assert_eq!(error.status(), Some(400));
    assert_eq!(
        error.to_string(),
        "400 Bad Request: System grants cannot be deleted. (operation_not_supported)"
    );
}
