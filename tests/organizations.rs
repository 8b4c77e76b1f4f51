//! Organizations and client grants: associate, list (offset paging, repeated `grant_ids`),
//! remove, and the organizations of a grant.

mod common;

use auth0_client_grants::Error;
use common::{FakeClock, client_for};
use futures::TryStreamExt;
use httpmock::Method::{DELETE, GET, POST};
use httpmock::MockServer;
use serde_json::{Value, json};

const ASSOCIATION: &str = include_str!("fixtures/live/organization_association.json");
const ORGANIZATION_GRANTS: &str = include_str!("fixtures/live/organization_client_grants_page.json");
const GRANT_ORGANIZATIONS: &str = include_str!("fixtures/client_grant_organizations_page.json");
const ORG: &str = "org_JC81qAq0i8CjdaxY";

#[tokio::test]
async fn associate_reads_the_grant_id_the_live_api_sends() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("/api/v2/organizations/{ORG}/client-grants"))
                .json_body(json!({"grant_id": "cgr_rjwWj5cdN8YMLe7y"}));
            then.status(201).body(ASSOCIATION);
        })
        .await;
    let client = client_for(&server, &FakeClock::new());

    let association = client
        .organization(ORG)
        .client_grants()
        .associate("cgr_rjwWj5cdN8YMLe7y")
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(association.id, "cgr_rjwWj5cdN8YMLe7y");
    assert_eq!(association.audience, "https://api.example.com/");
}

#[tokio::test]
async fn associate_also_reads_the_spec_spelling_id() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("/api/v2/organizations/{ORG}/client-grants"));
            then.status(201)
                .json_body(json!({"id": "cgr_1", "audience": "https://a/"}));
        })
        .await;
    let client = client_for(&server, &FakeClock::new());

    let association = client
        .organization(ORG)
        .client_grants()
        .associate("cgr_1")
        .await
        .unwrap();

    assert_eq!(association.id, "cgr_1");
}

#[tokio::test]
async fn associating_twice_is_a_conflict() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("/api/v2/organizations/{ORG}/client-grants"));
            then.status(409).json_body(json!({
                "statusCode": 409, "error": "Conflict",
                "message": "The client grant has already been added to this organization."
            }));
        })
        .await;
    let client = client_for(&server, &FakeClock::new());

    let error = client
        .organization(ORG)
        .client_grants()
        .associate("cgr_1")
        .await
        .unwrap_err();

    assert!(error.is_conflict());
}

#[tokio::test]
async fn the_recorded_list_sends_grant_ids_repeated_and_reads_subject_type() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("/api/v2/organizations/{ORG}/client-grants"))
                .query_param("grant_ids", "cgr_rjwWj5cdN8YMLe7y")
                .query_param("grant_ids", "cgr_other")
                .query_param("include_totals", "true")
                .query_param("per_page", "50")
                .query_param("page", "0");
            then.status(200).body(ORGANIZATION_GRANTS);
        })
        .await;
    let client = client_for(&server, &FakeClock::new());

    let page = client
        .organization(ORG)
        .client_grants()
        .list()
        .grant_ids(["cgr_rjwWj5cdN8YMLe7y", "cgr_other"])
        .send_offset()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(page.total, 1);
    assert_eq!(
        page.items[0].subject_type,
        Some(auth0_client_grants::SubjectType::Client)
    );
}

fn org_grant(id: usize) -> Value {
    json!({"id": format!("cgr_{id}"), "audience": "https://api.example.com/", "client_id": "c"})
}

#[tokio::test]
async fn stream_walks_offset_pages_until_the_total_is_reached() {
    let server = MockServer::start_async().await;
    let mut mocks = Vec::new();
    for (page, ids) in [(0, 0..2), (1, 2..4), (2, 4..5)] {
        let items: Vec<Value> = ids.map(org_grant).collect();
        mocks.push(
            server
                .mock_async(|when, then| {
                    when.method(GET)
                        .path(format!("/api/v2/organizations/{ORG}/client-grants"))
                        .query_param("page", page.to_string())
                        .query_param("per_page", "2")
                        .query_param("client_id", "c");
                    then.status(200).json_body(
                        json!({"start": page * 2, "limit": 2, "total": 5, "client_grants": items}),
                    );
                })
                .await,
        );
    }
    let client = client_for(&server, &FakeClock::new());

    let grants: Vec<_> = client
        .organization(ORG)
        .client_grants()
        .list()
        .client_id("c")
        .per_page(2)
        .stream()
        .try_collect()
        .await
        .unwrap();

    let ids: Vec<&str> = grants.iter().map(|grant| grant.id.as_str()).collect();
    assert_eq!(ids, ["cgr_0", "cgr_1", "cgr_2", "cgr_3", "cgr_4"]);
    for mock in mocks {
        mock.assert_calls_async(1).await;
    }
}

#[tokio::test]
async fn remove_deletes_the_association() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(DELETE)
                .path(format!("/api/v2/organizations/{ORG}/client-grants/cgr_1"));
            then.status(204);
        })
        .await;
    let client = client_for(&server, &FakeClock::new());

    client
        .organization(ORG)
        .client_grants()
        .remove("cgr_1")
        .await
        .unwrap();

    mock.assert_async().await;
}

#[tokio::test]
async fn the_organizations_of_a_grant_come_in_offset_or_checkpoint_pages() {
    let server = MockServer::start_async().await;
    let offset = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/client-grants/cgr_1/organizations")
                .query_param("include_totals", "true")
                .query_param("per_page", "50");
            then.status(200).body(GRANT_ORGANIZATIONS);
        })
        .await;
    let checkpoint = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/client-grants/cgr_1/organizations")
                .query_param("take", "50");
            then.status(200)
                .json_body(json!({"organizations": [{"id": "org_2", "name": "two"}]}));
        })
        .await;
    let client = client_for(&server, &FakeClock::new());

    let page = client
        .client_grants()
        .organizations("cgr_1")
        .send_offset()
        .await
        .unwrap();
    assert_eq!(page.items[0].id, "org_miH9iEibV6bvK8gu");
    assert_eq!(page.items[0].display_name.as_deref(), Some("Test Organization"));
    let all: Vec<_> = client
        .client_grants()
        .organizations("cgr_1")
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all[0].id, "org_2");
    assert_eq!(all[0].display_name, None, "no invented default");

    offset.assert_calls_async(1).await;
    checkpoint.assert_calls_async(1).await;
}

#[tokio::test]
async fn the_organization_limits_are_enforced_before_sending() {
    let server = MockServer::start_async().await;
    let anything = server.mock_async(|_, then| {
        then.status(200).json_body(json!([]));
    });
    let anything = anything.await;
    let client = client_for(&server, &FakeClock::new());
    let long_org = "o".repeat(51);
    let eleven: Vec<String> = (0..11).map(|i| format!("cgr_{i}")).collect();

    let refusals = [
        client
            .organization(&long_org)
            .client_grants()
            .list()
            .send_offset()
            .await
            .unwrap_err(),
        client
            .organization(&long_org)
            .client_grants()
            .associate("cgr_1")
            .await
            .unwrap_err(),
        client
            .organization(ORG)
            .client_grants()
            .list()
            .grant_ids(eleven)
            .send_offset()
            .await
            .unwrap_err(),
        client
            .organization(ORG)
            .client_grants()
            .list()
            .audience("a".repeat(601))
            .send_offset()
            .await
            .unwrap_err(),
        client
            .organization(ORG)
            .client_grants()
            .list()
            .per_page(101)
            .send_offset()
            .await
            .unwrap_err(),
        client
            .organization(ORG)
            .client_grants()
            .remove("")
            .await
            .unwrap_err(),
    ];

    let refused: Vec<String> = refusals
        .iter()
        .map(|error| match error {
            Error::InvalidInput(invalid) => invalid.to_string(),
            other => panic!("expected InvalidInput, got {other:?}"),
        })
        .collect();
    assert_eq!(
        refused,
        [
            "invalid `id`: must be at most 50 characters, got 51",
            "invalid `id`: must be at most 50 characters, got 51",
            "invalid `grant_ids`: at most 10 ids per request, got 11",
            "invalid `audience`: must be at most 600 characters, got 601",
            "invalid `per_page`: must be between 1 and 100, got 101",
            "invalid `grant_id`: must not be empty",
        ]
    );
    anything.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_typed_mock_answers_the_organization_fields_auth0_added_in_august_2026() {
    use auth0_client_grants::ThirdPartyClientAccess;
    use auth0_client_grants::mock::operations::{
        GetClientGrantOrganizationsThen, GetClientGrantOrganizationsWhen,
    };
    use auth0_client_grants::mock::types;

    let server = MockServer::start_async().await;
    let organization: types::Organization = serde_json::from_value(json!({
        "id": "org_1", "third_party_client_access": "allow", "is_app_entitlement_active": true,
        "client": {"use_for_member_access": true}
    }))
    .unwrap();
    let response = types::ListClientGrantOrganizationsResponseContent::from(vec![organization.clone()]);
    let mock = server
        .mock_async(|when, then| {
            GetClientGrantOrganizationsWhen::new(when).id("cgr_1");
            GetClientGrantOrganizationsThen::new(then).ok(&response);
        })
        .await;
    let client = auth0_client_grants::Client::builder()
        .base_url(server.base_url())
        .token("test")
        .build()
        .unwrap();

    let listed: Vec<_> = client
        .client_grants()
        .organizations("cgr_1")
        .stream()
        .try_collect()
        .await
        .unwrap();

    assert_eq!(listed, [organization]);
    assert_eq!(
        listed[0].third_party_client_access,
        Some(ThirdPartyClientAccess::Allow)
    );
    assert_eq!(listed[0].is_app_entitlement_active, Some(true));
    mock.assert_async().await;
}
