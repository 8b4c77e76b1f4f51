//! Auth0's rules about a grant's scopes: the request builders refuse what breaks them before
//! anything is sent, and the fake tenant answers what Auth0 answers when a request breaks them.

use auth0_client_grants::testing::{ALL_SCOPES, FakeTenant};
use auth0_client_grants::{ClientGrant, ClientGrantUpdate, Error, NewClientGrant};
use serde_json::{Value, json};

const API: &str = "https://api.example.com/";

fn refused_parameter(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::InvalidInput(invalid)) => invalid.parameter().to_owned(),
        other => panic!("expected a refusal before sending, got {other:?}"),
    }
}

/// Sends `body` with `method` to `path` as it is, past the client's checks, and returns Auth0's
/// response.
async fn raw(tenant: &FakeTenant, method: &str, path: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .request(method.parse().unwrap(), format!("{}{path}", tenant.base_url()))
        .bearer_auth(tenant.issue_token(ALL_SCOPES))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn writes(tenant: &FakeTenant) -> usize {
    tenant
        .requests()
        .iter()
        .filter(|request| request.path.starts_with("/api/v2/") && request.method != "GET")
        .count()
}

#[tokio::test]
async fn all_scopes_beside_listed_scopes_or_a_scope_twice_is_refused_before_sending() {
    let tenant = FakeTenant::start().await;
    let grants = tenant.client().client_grants();
    let existing = grants.create(NewClientGrant::new("app", API)).await.unwrap();
    let before = writes(&tenant);

    let both = grants
        .create(
            NewClientGrant::new("other", API)
                .scope(["read:x"])
                .allow_all_scopes(true),
        )
        .await;
    assert_eq!(refused_parameter(both), "allow_all_scopes");
    let twice = grants
        .create(NewClientGrant::new("other", API).scope(["read:x", "read:x"]))
        .await;
    assert_eq!(refused_parameter(twice), "scope");
    let both = grants
        .update(
            &existing.id,
            ClientGrantUpdate::new().allow_all_scopes(true).scope(["read:x"]),
        )
        .await;
    assert_eq!(refused_parameter(both), "allow_all_scopes");
    let twice = grants
        .update(&existing.id, ClientGrantUpdate::new().scope(["a", "b", "a"]))
        .await;
    assert_eq!(refused_parameter(twice), "scope");

    assert_eq!(writes(&tenant), before, "nothing was sent");
}

#[tokio::test]
async fn the_fake_tenant_refuses_all_scopes_beside_listed_scopes_and_a_scope_twice_with_400() {
    let tenant = FakeTenant::start().await;
    for body in [
        json!({"client_id": "app", "audience": API, "scope": ["read:x"], "allow_all_scopes": true}),
        json!({"client_id": "app", "audience": API, "scope": ["read:x", "read:x"]}),
    ] {
        let (status, response) = raw(&tenant, "POST", "/client-grants", body.clone()).await;
        assert_eq!(status, 400, "{body}: {response}");
        assert_eq!(response["statusCode"], 400);
        assert_eq!(response["error"], "Bad Request");
    }
    assert!(tenant.grants().is_empty());
}

#[tokio::test]
async fn a_grant_goes_from_every_scope_back_to_listed_scopes_in_two_writes() {
    let tenant = FakeTenant::start().await;
    let grants = tenant.client().client_grants();
    let grant = grants
        .create(NewClientGrant::new("app", API).allow_all_scopes(true))
        .await
        .unwrap();

    let at_once = grants
        .update(
            &grant.id,
            ClientGrantUpdate::new().allow_all_scopes(false).scope(["read:x"]),
        )
        .await
        .unwrap_err();
    assert_eq!(at_once.status(), Some(400), "{at_once}");
    assert_eq!(grants.get(&grant.id).await.unwrap().allow_all_scopes, Some(true));

    grants
        .update(
            &grant.id,
            ClientGrantUpdate::new()
                .allow_all_scopes(false)
                .scope(Vec::<String>::new()),
        )
        .await
        .unwrap();
    let listed = grants
        .update(&grant.id, ClientGrantUpdate::new().scope(["read:x"]))
        .await
        .unwrap();
    assert_eq!(listed.allow_all_scopes, Some(false));
    assert_eq!(listed.scope, ["read:x"]);
}

#[tokio::test]
async fn allow_all_scopes_is_refused_for_a_system_api_even_as_false() {
    let tenant = FakeTenant::start().await;
    let management_api = format!("{}/", tenant.base_url());
    let grants = tenant.client().client_grants();

    let error = grants
        .create(NewClientGrant::new("app", management_api.clone()).allow_all_scopes(false))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "400 Bad Request: allow_all_scopes cannot be provided when audience is a system API"
    );
    let without = grants
        .create(NewClientGrant::new("app", management_api).scope(["read:client_grants"]))
        .await
        .unwrap();
    let error = grants
        .update(&without.id, ClientGrantUpdate::new().allow_all_scopes(false))
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(400), "{error}");

    // An API Auth0 holds a system grant on is a system API too.
    let system = ClientGrant::builder()
        .id(String::new())
        .audience("https://system.example.com/")
        .client_id(Some("auth0".to_owned()))
        .is_system(Some(true));
    tenant.insert_grant(system.try_into().unwrap());
    let (status, response) = raw(
        &tenant,
        "POST",
        "/client-grants",
        json!({"client_id": "app", "audience": "https://system.example.com/", "allow_all_scopes": true}),
    )
    .await;
    assert_eq!(status, 400, "{response}");
    assert_eq!(
        response["message"],
        "allow_all_scopes cannot be provided when audience is a system API"
    );
}
