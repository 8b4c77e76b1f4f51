//! The read-only lookups grants as code needs: the applications (`client.clients().list()`),
//! paged as Auth0 pages them, with names that repeat, and an API by its identifier
//! (`client.resource_servers().get(..)`), against the fake tenant, recorded responses and the
//! typed mocks.

use auth0_client_grants::mock::operations::{
    GetClientsThen, GetClientsWhen, GetResourceServersByIdThen, GetResourceServersByIdWhen,
};
use auth0_client_grants::mock::types;
use auth0_client_grants::testing::FakeTenant;
use auth0_client_grants::{AppType, Client, ClientSummary, Error, ResourceServer};
use futures::TryStreamExt;
use serde_json::Value;

const API: &str = "https://api.example.com/";

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn names(clients: &[ClientSummary]) -> Vec<&str> {
    clients.iter().map(|client| client.name.as_str()).collect()
}

#[tokio::test]
async fn every_application_is_listed_across_pages_and_names_may_repeat() {
    let tenant = FakeTenant::start().await;
    let mut added = Vec::new();
    for n in 0..5 {
        added.push(tenant.add_client(&format!("app-{n}")));
    }
    let twin = tenant.add_client("app-1");
    let client = tenant.client();

    let all: Vec<ClientSummary> = client
        .clients()
        .list()
        .take(2)
        .stream()
        .try_collect()
        .await
        .unwrap();

    // The tenant's own application first, then those added, each once, in creation order.
    assert_eq!(
        names(&all),
        [
            "Fake tenant application",
            "app-0",
            "app-1",
            "app-2",
            "app-3",
            "app-4",
            "app-1"
        ]
    );
    assert_eq!(all[0].client_id, tenant.client_id());
    assert_eq!(all[1..6], added[..]);
    let named_app_1: Vec<&str> = all
        .iter()
        .filter(|app| app.name == "app-1")
        .map(|app| app.client_id.as_str())
        .collect();
    assert_eq!(
        named_app_1,
        [added[1].client_id.as_str(), twin.client_id.as_str()]
    );
    assert_ne!(added[1].client_id, twin.client_id);
    assert_eq!(all[1].app_type, Some(AppType::NonInteractive));
    assert_eq!(all, tenant.clients());

    // Four checkpoint pages of at most two, each asking for the fields of ClientSummary only.
    let lists: Vec<_> = tenant
        .requests()
        .into_iter()
        .filter(|request| request.path == "/api/v2/clients")
        .collect();
    assert_eq!(lists.len(), 4);
    for request in &lists {
        let query = request.query.as_deref().unwrap();
        assert!(
            query.contains("fields=client_id%2Cname%2Capp_type%2Cis_first_party")
                && query.contains("include_fields=true")
                && query.contains("take=2"),
            "{query}"
        );
    }
}

#[tokio::test]
async fn offset_pages_of_applications_carry_totals() {
    let tenant = FakeTenant::start().await;
    for n in 0..4 {
        tenant.add_client(&format!("app-{n}"));
    }
    let list = tenant.client().clients().list().per_page(2);

    let first = list.clone().page(0).send_offset().await.unwrap();
    let last = list.page(2).send_offset().await.unwrap();

    assert_eq!((first.start, first.limit, first.total), (0, 2, 5));
    assert_eq!(names(&first.items), ["Fake tenant application", "app-0"]);
    assert_eq!(names(&last.items), ["app-3"]);
}

#[tokio::test]
async fn an_api_is_found_by_its_identifier_or_its_id_with_its_scopes() {
    let tenant = FakeTenant::start().await;
    let added = tenant.add_api(API, ["read:things", "write:things"]);
    let apis = tenant.client().resource_servers();

    let by_identifier = apis.get(API).await.unwrap();
    let by_id = apis.get(&added.id).await.unwrap();

    assert_eq!(by_identifier, added);
    assert_eq!(by_id, added);
    let scopes: Vec<&str> = by_identifier
        .scopes
        .iter()
        .map(|scope| scope.value.as_str())
        .collect();
    assert_eq!(scopes, ["read:things", "write:things"]);
    assert_eq!(by_identifier.is_system, Some(false));
    // The identifier travels as one encoded path segment.
    let request = tenant.requests().into_iter().rev().nth(1).unwrap();
    assert_eq!(
        request.path,
        "/api/v2/resource-servers/https%3A%2F%2Fapi.example.com%2F"
    );
}

#[tokio::test]
async fn the_management_api_is_a_system_api_with_the_tenants_scopes() {
    let tenant = FakeTenant::start().await;

    let management = tenant
        .client()
        .resource_servers()
        .get(&format!("{}/", tenant.base_url()))
        .await
        .unwrap();

    assert_eq!(management.is_system, Some(true));
    assert_eq!(management.name.as_deref(), Some("Auth0 Management API"));
    assert!(
        management
            .scopes
            .iter()
            .any(|scope| scope.value == "read:clients")
    );
}

#[tokio::test]
async fn an_unknown_api_is_not_found() {
    let tenant = FakeTenant::start().await;

    let error = tenant
        .client()
        .resource_servers()
        .get("https://nowhere.example.com/")
        .await
        .unwrap_err();

    assert!(error.is_not_found(), "{error}");
    assert_eq!(error.error_code(), Some("inexistent_resource_server"));
}

#[tokio::test]
async fn an_empty_or_dot_identifier_is_refused_before_sending() {
    let tenant = FakeTenant::start().await;
    let apis = tenant.client().resource_servers();

    for refused in ["", ".", "..", "%2e%2E"] {
        let error = apis.get(refused).await.unwrap_err();
        assert!(matches!(error, Error::InvalidInput(_)), "{refused:?}: {error}");
    }
    assert!(tenant.requests().is_empty());
}

#[tokio::test]
async fn an_application_inserted_with_its_own_id_is_listed_with_it() {
    let tenant = FakeTenant::start().await;

    let inserted = tenant.insert_client("billing-service", "Billing Service");

    assert_eq!(inserted.client_id, "billing-service");
    let all: Vec<ClientSummary> = tenant
        .client()
        .clients()
        .list()
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.last(), Some(&inserted));
    assert_eq!(tenant.clients().last(), Some(&inserted));
}

#[tokio::test]
#[should_panic(expected = "already has an application with the client id")]
async fn a_client_id_cannot_be_inserted_twice() {
    let tenant = FakeTenant::start().await;
    tenant.insert_client("billing-service", "Billing Service");
    tenant.insert_client("billing-service", "Billing again");
}

#[tokio::test]
async fn each_lookup_needs_its_scope() {
    let tenant = FakeTenant::builder().scopes(["read:client_grants"]).start().await;
    let client = tenant.client();

    let list = client.clients().list().send().await.unwrap_err();
    let get = client.resource_servers().get(API).await.unwrap_err();

    assert_eq!((list.status(), get.status()), (Some(403), Some(403)));
}

#[tokio::test]
async fn the_typed_mocks_serve_the_lookups_and_recorded_responses_decode() {
    let server = httpmock::MockServer::start_async().await;
    let page: types::ListClientsResponseContent =
        serde_json::from_value(fixture("clients_offset_page.json")).unwrap();
    let api: types::ResourceServer = serde_json::from_value(fixture("resource_server.json")).unwrap();
    let not_found: types::ErrorBody = serde_json::from_value(serde_json::json!({
        "statusCode": 404, "error": "Not Found", "message": "The resource server does not exist",
        "errorCode": "inexistent_resource_server"
    }))
    .unwrap();
    let list = server
        .mock_async(|when, then| {
            GetClientsWhen::new(when)
                .fields("client_id,name,app_type,is_first_party")
                .include_fields(true)
                .include_totals(true)
                .page(0)
                .per_page(50);
            GetClientsThen::new(then).ok(&page);
        })
        .await;
    // A mock matches the path as sent (a regular expression over it), so an identifier is
    // given to it percent-encoded, as the client sends it.
    let known = server
        .mock_async(|when, then| {
            GetResourceServersByIdWhen::new(when).id("https%3A%2F%2Fapi.example.com%2F");
            GetResourceServersByIdThen::new(then).ok(&api);
        })
        .await;
    let unknown = server
        .mock_async(|when, then| {
            GetResourceServersByIdWhen::new(when).id("https%3A%2F%2Fnowhere.example.com%2F");
            GetResourceServersByIdThen::new(then).not_found(&not_found);
        })
        .await;
    let client = Client::builder()
        .base_url(server.base_url())
        .token("test")
        .build()
        .unwrap();

    let clients = client.clients().list().send_offset().await.unwrap();
    let found: ResourceServer = client.resource_servers().get(API).await.unwrap();
    let missing = client
        .resource_servers()
        .get("https://nowhere.example.com/")
        .await
        .unwrap_err();

    assert_eq!(clients.total, 3);
    assert_eq!(clients.items[1].app_type, Some(AppType::ExpressConfiguration));
    assert_eq!(clients.items[0].app_type, None);
    assert_eq!(found.identifier, API);
    assert_eq!(found.scopes[0].value, "create:resource");
    assert!(missing.is_not_found());
    list.assert_async().await;
    known.assert_async().await;
    unknown.assert_async().await;
}
