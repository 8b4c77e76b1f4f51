//! Auth0's rules about a grant's scopes, checked in the grants file or, where they need the
//! tenant, when planning: a file the API would refuse fails before anything is written.

mod common;

use auth0_client_grants::testing::FakeTenant;
use auth0_client_grants::{ClientGrant, NewClientGrant};
use auth0_grants::reconcile::{DesiredState, ReconcileError, ReconcileExt};

use common::writes;

const API: &str = "https://api.example.com/";

/// The field, line and problem of the error `text` is refused with.
fn invalid(text: &str) -> (String, Option<usize>, String) {
    match DesiredState::from_toml(text) {
        Err(error) => (error.field().to_owned(), error.line(), error.problem().to_owned()),
        Ok(state) => panic!("expected a DesiredError, got {state:?}"),
    }
}

fn grant(audience: &str, rest: &str) -> String {
    format!("[[grant]]\nclient_id = \"app\"\naudience = \"{audience}\"\n{rest}")
}

#[test]
fn a_file_with_scopes_the_api_refuses_names_the_field_and_its_line() {
    let (field, line, problem) = invalid(&grant(API, "scope = [\"read:a\"]\nallow_all_scopes = true\n"));
    assert_eq!(field, "grant[0].allow_all_scopes");
    assert_eq!(line, Some(5));
    assert!(
        problem.starts_with("grant[0] (line 5): allow_all_scopes = true with scopes listed"),
        "{problem}"
    );

    let (field, line, problem) = invalid(&grant(API, "scope = [\"read:a\", \"write:a\", \"read:a\"]\n"));
    assert_eq!((field.as_str(), line), ("grant[0].scope", Some(4)));
    assert!(problem.contains("`read:a` is listed twice"), "{problem}");

    let (field, _, problem) = invalid(&grant(API, "scope = [\"\"]\n"));
    assert_eq!(field, "grant[0].scope");
    assert!(
        problem.contains("0 characters long; a scope is 1 to 280"),
        "{problem}"
    );
    let long = "s".repeat(281);
    let (field, _, problem) = invalid(&grant(API, &format!("scope = [\"{long}\"]\n")));
    assert_eq!(field, "grant[0].scope");
    assert!(problem.contains("281 characters long"), "{problem}");

    let ok = DesiredState::from_toml(&grant(API, &format!("scope = [\"{}\"]\n", "é".repeat(280))));
    assert!(ok.is_ok(), "{ok:?}");
    let all = DesiredState::from_toml(&grant(API, "allow_all_scopes = true\n"));
    assert!(all.is_ok(), "{all:?}");
}

#[tokio::test]
async fn allow_all_scopes_on_a_system_api_fails_the_plan_and_writes_nothing() {
    let tenant = FakeTenant::start().await;
    let client = tenant.client();
    let management_api = format!("{}/", tenant.base_url());
    let system = ClientGrant::builder()
        .id(String::new())
        .audience("https://system.example.com/")
        .client_id(Some("auth0".to_owned()))
        .is_system(Some(true));
    tenant.insert_grant(system.try_into().unwrap());

    for audience in [
        management_api.as_str(),
        "https://system.example.com/",
        "https://acme.eu.auth0.com/api/v2/",
    ] {
        let desired = DesiredState::from_toml(&grant(audience, "allow_all_scopes = true\n")).unwrap();
        let error = client
            .reconcile(&desired)
            .management_api(&management_api)
            .plan()
            .await
            .unwrap_err();
        let ReconcileError::Desired(error) = &error else {
            panic!("expected a DesiredError, got {error:?}");
        };
        assert_eq!(error.field(), "grant[0].allow_all_scopes", "{audience}");
        assert_eq!(error.line(), Some(4));
        assert!(
            error.problem().contains(&format!("`{audience}` is a system API")),
            "{error}"
        );
    }
    // Without the setting, the shape of every tenant's Management API identifier is known.
    let desired = DesiredState::from_toml(&grant(
        "https://acme.auth0.com/api/v2/",
        "allow_all_scopes = true\n",
    ))
    .unwrap();
    assert!(client.reconcile(&desired).plan().await.is_err());
    assert!(writes(&tenant).is_empty());
}

#[tokio::test]
async fn a_grant_on_the_management_api_is_created_without_allow_all_scopes() {
    let tenant = FakeTenant::start().await;
    let client = tenant.client();
    let management_api = format!("{}/", tenant.base_url());
    let desired = DesiredState::from_toml(&grant(
        &management_api,
        "scope = [\"read:client_grants\"]\nallow_all_scopes = false\n",
    ))
    .unwrap();
    let reconcile = client.reconcile(&desired).management_api(&management_api);

    let plan = reconcile.plan().await.unwrap();
    reconcile.apply(&plan).await.unwrap();

    let written = writes(&tenant);
    assert_eq!(written.len(), 1, "{written:?}");
    assert!(!written[0].contains("allow_all_scopes"), "{written:?}");
    assert!(reconcile.plan().await.unwrap().is_empty());
}

#[tokio::test]
async fn listed_scopes_for_a_grant_that_allows_every_scope_need_allow_all_scopes_false() {
    let tenant = FakeTenant::start().await;
    tenant.add_api(API, ["read:a", "write:a"]);
    let client = tenant.client();
    client
        .client_grants()
        .create(NewClientGrant::new("app", API).allow_all_scopes(true))
        .await
        .unwrap();

    let left_as_it_is = DesiredState::from_toml(&grant(API, "scope = [\"read:a\"]\n")).unwrap();
    let error = client.reconcile(&left_as_it_is).plan().await.unwrap_err();
    let ReconcileError::Desired(error) = &error else {
        panic!("expected a DesiredError, got {error:?}");
    };
    assert_eq!((error.field(), error.line()), ("grant[0].scope", Some(4)));
    assert!(
        error.problem().contains("add `allow_all_scopes = false`"),
        "{error}"
    );

    let listed = DesiredState::from_toml(&grant(
        API,
        "scope = [\"read:a\", \"write:a\"]\nallow_all_scopes = false\n",
    ))
    .unwrap();
    let reconcile = client.reconcile(&listed);
    let plan = reconcile.plan().await.unwrap();
    reconcile.apply(&plan).await.unwrap();

    let patches: Vec<serde_json::Value> = tenant
        .requests()
        .iter()
        .filter(|request| request.method == "PATCH")
        .map(|request| request.body.clone().unwrap())
        .collect();
    assert_eq!(
        patches,
        [
            serde_json::json!({"allow_all_scopes": false, "scope": []}),
            serde_json::json!({"scope": ["read:a", "write:a"]}),
        ]
    );
    let grants = tenant.grants();
    assert_eq!(grants[0].allow_all_scopes, Some(false));
    assert_eq!(grants[0].scope, ["read:a", "write:a"]);
    assert!(reconcile.plan().await.unwrap().is_empty());
}
