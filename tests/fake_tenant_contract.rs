//! The fake tenant answers every operation with bodies that match the contract the client is
//! generated from (`spec/client-grants.json`, checked strictly), so the fake and the client
//! cannot drift apart.

mod common;

use auth0_client_grants::testing::{ALL_SCOPES, FakeTenant};
use auth0_client_grants::{Organization, OrganizationClientAssociation, ThirdPartyClientAccess};
use common::contract::assert_matches;
use serde_json::{Value, json};

struct Caller {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Caller {
    /// Sends one request and checks its response against `operation`'s documented schema.
    async fn call(&self, operation: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        if text.is_empty() {
            assert!(status == 204, "{operation}: an empty {status} response");
            return (status, Value::Null);
        }
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_matches(operation, status, &body);
        (status, body)
    }
}

#[tokio::test]
async fn every_answer_of_every_operation_matches_its_schema() {
    let tenant = FakeTenant::start().await;
    tenant.seed_grants(3);
    // With every field an organization has, those of Auth0's August 2026 release included.
    let organization = tenant.insert_organization(
        Organization::builder()
            .id("org_acme")
            .name(Some("acme".to_owned()))
            .display_name(Some("Acme".to_owned()))
            .third_party_client_access(Some(ThirdPartyClientAccess::Block))
            .is_app_entitlement_active(Some(true))
            .client(Some(
                OrganizationClientAssociation::builder()
                    .use_for_member_access(Some(false))
                    .try_into()
                    .unwrap(),
            ))
            .try_into()
            .unwrap(),
    );
    let caller = Caller {
        http: reqwest::Client::new(),
        base: tenant.base_url(),
        token: tenant.issue_token(ALL_SCOPES),
    };
    let grant_body = json!({
        "client_id": "app", "audience": "https://api.example.com/", "scope": ["read:x"],
        "organization_usage": "allow", "allow_any_organization": true,
        "authorization_details_types": ["payment"], "allow_all_scopes": false,
    });

    let (status, created) = caller
        .call(
            "post_client-grants",
            "POST",
            "/client-grants",
            Some(grant_body.clone()),
        )
        .await;
    assert_eq!(status, 201);
    let id = created["id"].as_str().unwrap().to_owned();
    let responses = [
        caller
            .call("post_client-grants", "POST", "/client-grants", Some(grant_body))
            .await,
        caller
            .call(
                "post_client-grants",
                "POST",
                "/client-grants",
                Some(json!({"audience": 1})),
            )
            .await,
        caller
            .call("get_client-grant", "GET", &format!("/client-grants/{id}"), None)
            .await,
        caller
            .call("get_client-grant", "GET", "/client-grants/cgr_missing", None)
            .await,
        caller
            .call(
                "patch_client-grants_by_id",
                "PATCH",
                &format!("/client-grants/{id}"),
                Some(json!({"scope": null, "organization_usage": null})),
            )
            .await,
        caller
            .call(
                "patch_client-grants_by_id",
                "PATCH",
                &format!("/client-grants/{id}"),
                Some(json!({})),
            )
            .await,
        caller
            .call("get_client-grants", "GET", "/client-grants", None)
            .await,
        caller
            .call(
                "get_client-grants",
                "GET",
                "/client-grants?include_totals=true&per_page=2",
                None,
            )
            .await,
        caller
            .call("get_client-grants", "GET", "/client-grants?take=2", None)
            .await,
        caller
            .call(
                "create_organization-client-grants",
                "POST",
                &format!("/organizations/{}/client-grants", organization.id),
                Some(json!({"grant_id": id})),
            )
            .await,
        caller
            .call(
                "create_organization-client-grants",
                "POST",
                &format!("/organizations/{}/client-grants", organization.id),
                Some(json!({"grant_id": id})),
            )
            .await,
        caller
            .call(
                "get_organization-client-grants",
                "GET",
                &format!(
                    "/organizations/{}/client-grants?include_totals=true",
                    organization.id
                ),
                None,
            )
            .await,
        caller
            .call(
                "get_organization-client-grants",
                "GET",
                &format!("/organizations/{}/client-grants?grant_ids={id}", organization.id),
                None,
            )
            .await,
        caller
            .call(
                "get_client-grant-organizations",
                "GET",
                &format!("/client-grants/{id}/organizations?take=1"),
                None,
            )
            .await,
        caller
            .call(
                "get_client-grant-organizations",
                "GET",
                &format!("/client-grants/{id}/organizations?include_totals=true"),
                None,
            )
            .await,
        caller
            .call(
                "delete_client-grants_by_grant_id",
                "DELETE",
                &format!("/organizations/{}/client-grants/{id}", organization.id),
                None,
            )
            .await,
        caller
            .call(
                "delete_client-grants_by_id",
                "DELETE",
                &format!("/client-grants/{id}"),
                None,
            )
            .await,
        caller
            .call(
                "delete_client-grants_by_id",
                "DELETE",
                &format!("/client-grants/{id}"),
                None,
            )
            .await,
    ];
    let statuses: Vec<u16> = responses.iter().map(|(status, _)| *status).collect();
    assert_eq!(
        statuses,
        [
            409, 400, 200, 404, 200, 400, 200, 200, 200, 201, 409, 200, 200, 200, 200, 204, 204, 204
        ]
    );
}

#[tokio::test]
async fn refusals_for_missing_tokens_and_scopes_match_the_error_schema() {
    let tenant = FakeTenant::start().await;
    let anonymous = Caller {
        http: reqwest::Client::new(),
        base: tenant.base_url(),
        token: "unknown".into(),
    };
    let (status, _) = anonymous
        .call("get_client-grants", "GET", "/client-grants", None)
        .await;
    assert_eq!(status, 401);
    let reader = Caller {
        token: tenant.issue_token(["read:client_grants"]),
        ..anonymous
    };
    let (status, body) = reader
        .call(
            "post_client-grants",
            "POST",
            "/client-grants",
            Some(json!({"client_id": "a", "audience": "b"})),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(body["errorCode"], "insufficient_scope");
}

#[tokio::test]
async fn the_lookups_respond_with_their_schemas_in_every_shape() {
    let tenant = FakeTenant::start().await;
    tenant.add_client("billing");
    tenant.add_api("https://api.example.com/", ["read:things"]);
    let caller = Caller {
        http: reqwest::Client::new(),
        base: tenant.base_url(),
        token: tenant.issue_token(ALL_SCOPES),
    };
    let fields = "fields=client_id,name,app_type,is_first_party&include_fields=true";
    for paging in ["", "&include_totals=true&per_page=1", "&take=1"] {
        let (status, _) = caller
            .call("get_clients", "GET", &format!("/clients?{fields}{paging}"), None)
            .await;
        assert_eq!(status, 200, "{paging}");
    }
    let (status, api) = caller
        .call(
            "get_resource-servers_by_id",
            "GET",
            "/resource-servers/https%3A%2F%2Fapi.example.com%2F",
            None,
        )
        .await;
    assert_eq!((status, &api["scopes"][0]["value"]), (200, &json!("read:things")));
    let (status, _) = caller
        .call(
            "get_resource-servers_by_id",
            "GET",
            "/resource-servers/https%3A%2F%2Fnowhere.example.com%2F",
            None,
        )
        .await;
    assert_eq!(status, 404);
}
